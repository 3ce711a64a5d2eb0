//! Terms set by law, counted as the Algemene termijnenwet (Atw) says: a term that
//! ends on a Saturday, a Sunday or a generally recognised holiday ends on the next
//! day that is none of these (Atw art. 1). The first such term loket names is the
//! objection term of a decision (Awb 6:7 and 6:8).

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// The generally recognised holidays of Atw art. 3 lid 1: New Year's Day, Easter
/// Monday, Ascension Day, Whit Monday, both Christmas days, the day the King's (or
/// before 2014 the Queen's) birthday is celebrated and the fifth of May. Good Friday
/// is not one of them; Easter and Whit Sunday are Sundays anyway.
pub fn is_holiday(date: NaiveDate) -> bool {
    let year = date.year();
    let Ok(easter) = computus::gregorian_naive(year) else {
        return false;
    };
    let after_easter = |days: u64| easter.checked_add_days(Days::new(days));
    let fixed = [(1, 1), (5, 5), (12, 25), (12, 26), royal_day(year)];
    fixed
        .iter()
        .any(|&(month, day)| (date.month(), date.day()) == (month, day))
        || [1, 39, 50]
            .into_iter()
            .any(|days| after_easter(days) == Some(date))
}

/// Koningsdag, 27 April, on the 26th when the 27th is a Sunday (from 2014);
/// before, Koninginnedag, 30 April, on the 29th when the 30th is a Sunday.
fn royal_day(year: i32) -> (u32, u32) {
    let (day, sunday_moves_to) = if year >= 2014 { (27, 26) } else { (30, 29) };
    let sunday = NaiveDate::from_ymd_opt(year, 4, day).map(|d| d.weekday()) == Some(Weekday::Sun);
    (4, if sunday { sunday_moves_to } else { day })
}

/// A Saturday, a Sunday or a holiday of Atw art. 3.
pub fn is_rest_day(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun) || is_holiday(date)
}

/// The last day of a term that would end on `last_day`, moved on to the next day
/// that is no rest day (Atw art. 1 lid 1).
pub fn extended(last_day: NaiveDate) -> NaiveDate {
    let mut day = last_day;
    while is_rest_day(day) {
        day = day
            .succ_opt()
            .expect("a date far from the end of the calendar");
    }
    day
}

/// The last day to object to a decision sent on `sent`: six weeks (Awb 6:7),
/// starting the day after the sending (Awb 6:8 lid 1), so 42 days after it,
/// extended under Atw art. 1.
pub fn objection_last_day(sent: NaiveDate) -> NaiveDate {
    extended(sent + Days::new(42))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    /// Awb 6:7/6:8 with Atw art. 1 and 3: (sent, the last day to object, why).
    #[test]
    fn the_objection_term_is_six_weeks_from_the_day_after_sending_moved_past_rest_days() {
        for (sent, last_day, why) in [
            (
                "2017-03-01",
                "2017-04-12",
                "a Wednesday six weeks on: no move",
            ),
            (
                "2017-03-06",
                "2017-04-18",
                "Easter Monday 17 April 2017 (Atw art. 3)",
            ),
            ("2017-03-03", "2017-04-14", "Good Friday is no Atw holiday"),
            (
                "2017-03-16",
                "2017-04-28",
                "Koningsdag, Thursday 27 April 2017",
            ),
            (
                "2017-03-24",
                "2017-05-08",
                "5 May 2017 a Friday, then the weekend",
            ),
            ("2017-04-13", "2017-05-26", "Ascension Day, 25 May 2017"),
            ("2017-04-24", "2017-06-06", "Whit Monday, 5 June 2017"),
            (
                "2017-11-13",
                "2017-12-27",
                "Christmas, Monday 25 and Tuesday 26 December 2017",
            ),
            (
                "2017-11-18",
                "2018-01-02",
                "Saturday 30 December, Sunday, New Year's Day 2018",
            ),
            (
                "2016-11-14",
                "2016-12-27",
                "Christmas 2016: Sunday 25, Monday 26 December",
            ),
            (
                "2025-03-15",
                "2025-04-28",
                "Koningsdag 2025 on Saturday 26 April (27th a Sunday)",
            ),
            (
                "2013-03-19",
                "2013-05-01",
                "Koninginnedag, Tuesday 30 April 2013",
            ),
            ("2024-02-20", "2024-04-02", "Easter Monday 1 April 2024"),
        ] {
            assert_eq!(
                objection_last_day(day(sent)),
                day(last_day),
                "sent {sent}: {why}"
            );
        }
    }

    #[test]
    fn the_holidays_of_atw_article_3() {
        let holidays_2017 = [
            "2017-01-01",
            "2017-04-17",
            "2017-04-27",
            "2017-05-05",
            "2017-05-25",
            "2017-06-05",
            "2017-12-25",
            "2017-12-26",
        ];
        let all_2017: Vec<NaiveDate> = day("2017-01-01")
            .iter_days()
            .take_while(|d| d.year() == 2017)
            .filter(|d| is_holiday(*d))
            .collect();
        assert_eq!(all_2017, holidays_2017.map(day));
    }
}
