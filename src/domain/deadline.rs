//! The deadline of an application: the date by which it should have been in, per
//! category (and, whenever alcohol is sold, the exemption's term), and whether it was
//! late. The terms are the municipality's (Dronten: 15 working days, 8 and 12 weeks).

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::event::Event;
use super::municipality::Terms;
use super::risk::{Alcohol, Category};
use super::time::local;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Deadline {
    #[schema(value_type = String, format = Date)]
    pub required_by: NaiveDate,
    pub late: bool,
}

/// `count` working days (Mon–Fri) before `date`, the date itself not counted.
fn working_days_before(date: NaiveDate, count: u32) -> NaiveDate {
    let mut day = date;
    let mut left = count;
    while left > 0 {
        day = day.pred_opt().expect("dates in range");
        if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            left -= 1;
        }
    }
    day
}

fn weeks_before(date: NaiveDate, weeks: u32) -> NaiveDate {
    date - Duration::weeks(i64::from(weeks))
}

/// The date an application for this category should have been in by; the earliest
/// of the category's term and, for alcohol sale, the art. 35 exemption's term.
pub fn required_by(category: Category, facts: &Event, terms: &Terms) -> NaiveDate {
    let start = local(facts.starts_at).date();
    let by_category = match category {
        Category::Melding => working_days_before(start, terms.melding_working_days),
        Category::A => weeks_before(start, terms.category_a_weeks),
        Category::B => weeks_before(start, terms.category_b_weeks),
        Category::C => weeks_before(start, terms.category_c_weeks),
    };
    if facts.alcohol == Alcohol::Sale {
        by_category.min(weeks_before(start, terms.alcohol_sale_weeks))
    } else {
        by_category
    }
}

pub fn deadline(
    category: Category,
    facts: &Event,
    submitted_at: DateTime<Utc>,
    terms: &Terms,
) -> Deadline {
    let required_by = required_by(category, facts, terms);
    Deadline {
        required_by,
        late: local(submitted_at).date() > required_by,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::municipality::Municipality;
    use crate::domain::risk::tests::{at, jeugdtoernooi, quiet_event, zomerfestival};

    /// Dronten's terms.
    fn terms() -> Terms {
        Municipality::dronten().terms
    }

    fn required_by(category: Category, facts: &Event) -> NaiveDate {
        super::required_by(category, facts, &terms())
    }

    fn deadline(category: Category, facts: &Event, submitted_at: DateTime<Utc>) -> Deadline {
        super::deadline(category, facts, submitted_at, &terms())
    }

    #[test]
    fn example_4_late_submission_of_the_zomerfestival() {
        let d = deadline(
            Category::C,
            &zomerfestival(),
            at("2017-07-01T10:00:00+02:00"),
        );
        assert_eq!(d.required_by.to_string(), "2017-05-26");
        assert!(d.late);
    }

    #[test]
    fn submission_on_the_required_date_is_on_time_and_the_next_day_is_late() {
        let facts = quiet_event();
        let on_time = deadline(Category::Melding, &facts, at("2017-05-29T23:59:00+02:00"));
        let late = deadline(Category::Melding, &facts, at("2017-05-30T00:00:00+02:00"));
        assert!(!on_time.late);
        assert!(late.late);
    }

    #[test]
    fn alcohol_sale_needs_twelve_weeks_whatever_the_category() {
        let mut facts = jeugdtoernooi();
        facts.alcohol = Alcohol::Sale;
        // 2017-05-14 − 84 days.
        assert_eq!(required_by(Category::A, &facts).to_string(), "2017-02-19");
        assert_eq!(
            required_by(Category::Melding, &facts).to_string(),
            "2017-02-19"
        );
    }

    #[test]
    fn deadlines_per_category() {
        let facts = quiet_event(); // Sat 2017-06-17
        assert_eq!(
            required_by(Category::Melding, &facts).to_string(),
            "2017-05-29"
        );
        assert_eq!(required_by(Category::A, &facts).to_string(), "2017-04-22");
        assert_eq!(required_by(Category::B, &facts).to_string(), "2017-03-25");
        assert_eq!(required_by(Category::C, &facts).to_string(), "2017-03-25");
    }

    #[test]
    fn the_terms_are_the_municipalitys() {
        let facts = quiet_event(); // Sat 2017-06-17
        let shorter = Terms {
            melding_working_days: 5,
            category_a_weeks: 4,
            category_b_weeks: 6,
            category_c_weeks: 10,
            alcohol_sale_weeks: 8,
            ..terms()
        };
        let by = |category| super::required_by(category, &facts, &shorter).to_string();
        assert_eq!(by(Category::Melding), "2017-06-12");
        assert_eq!(by(Category::A), "2017-05-20");
        assert_eq!(by(Category::B), "2017-05-06");
        assert_eq!(by(Category::C), "2017-04-08");
        let mut selling = quiet_event();
        selling.alcohol = Alcohol::Sale;
        assert_eq!(
            super::required_by(Category::A, &selling, &shorter).to_string(),
            "2017-04-22",
            "8 weeks for the exemption, earlier than A's 4"
        );
    }
}
