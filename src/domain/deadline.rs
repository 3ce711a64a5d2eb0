//! The deadline of an application: the date by which it should have been in, per
//! category (and 12 weeks whenever alcohol is sold), and whether it was late.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::event::Event;
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

/// The date an application for this category should have been in by; the earliest
/// of the category's term and, for alcohol sale, the art. 35 exemption's 12 weeks.
pub fn required_by(category: Category, facts: &Event) -> NaiveDate {
    let start = local(facts.starts_at).date();
    let by_category = match category {
        Category::Melding => working_days_before(start, 15),
        Category::A => start - Duration::days(56),
        Category::B | Category::C => start - Duration::days(84),
    };
    if facts.alcohol == Alcohol::Sale {
        by_category.min(start - Duration::days(84))
    } else {
        by_category
    }
}

pub fn deadline(category: Category, facts: &Event, submitted_at: DateTime<Utc>) -> Deadline {
    let required_by = required_by(category, facts);
    Deadline {
        required_by,
        late: local(submitted_at).date() > required_by,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::risk::tests::{at, jeugdtoernooi, quiet_event, zomerfestival};

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
}
