//! Local calendar: every date the rules use is a Europe/Amsterdam date (DOMAIN.md).

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::{Europe::Amsterdam, Tz};

pub const ZONE: Tz = Amsterdam;

pub fn local(at: DateTime<Utc>) -> NaiveDateTime {
    at.with_timezone(&ZONE).naive_local()
}

pub fn local_date(at: DateTime<Utc>) -> NaiveDate {
    local(at).date()
}

/// Local year of a moment: the year in a reference and in the coverage report.
pub fn local_year(at: DateTime<Utc>) -> i32 {
    local_date(at).year()
}

/// `YYYY-MM` of the local month: the coverage report's month buckets.
pub fn local_month(at: DateTime<Utc>) -> String {
    local_date(at).format("%Y-%m").to_string()
}

/// The UTC moment of a local wall-clock time. In the autumn overlap the earlier
/// moment is taken; a time that does not exist (spring gap) moves on an hour.
pub fn to_utc(date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let naive = date.and_time(time);
    match ZONE.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) => t.with_timezone(&Utc),
        chrono::LocalResult::Ambiguous(earlier, _) => earlier.with_timezone(&Utc),
        chrono::LocalResult::None => {
            let later = naive + chrono::Duration::hours(1);
            ZONE.from_local_datetime(&later)
                .earliest()
                .expect("one hour past a DST gap exists")
                .with_timezone(&Utc)
        }
    }
}

/// Local midnight at the start of `date`, in UTC.
pub fn start_of_day(date: NaiveDate) -> DateTime<Utc> {
    to_utc(date, NaiveTime::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_dates_follow_amsterdam_time() {
        // 23:30 UTC on 31 Dec is already New Year in Amsterdam.
        let at = Utc.with_ymd_and_hms(2016, 12, 31, 23, 30, 0).unwrap();
        assert_eq!(local_year(at), 2017);
        assert_eq!(local_month(at), "2017-01");
    }

    #[test]
    fn midnight_in_summer_is_22_utc() {
        let d = NaiveDate::from_ymd_opt(2017, 6, 17).unwrap();
        assert_eq!(
            start_of_day(d),
            Utc.with_ymd_and_hms(2017, 6, 16, 22, 0, 0).unwrap()
        );
    }
}

/// Serialises a moment as RFC 3339 in local Amsterdam time (`+01:00`/`+02:00`),
/// which is what a Dutch reader expects to see; parses any offset.
pub mod local_rfc3339 {
    use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn format(at: &DateTime<Utc>) -> String {
        at.with_timezone(&super::ZONE)
            .to_rfc3339_opts(SecondsFormat::AutoSi, false)
    }

    pub fn serialize<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(at))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(d)?;
        DateTime::<FixedOffset>::parse_from_rfc3339(&text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}
