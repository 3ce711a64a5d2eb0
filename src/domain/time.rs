//! Local calendar: every date the rules use is a Europe/Amsterdam date (docs/domain.md).
//! Also the serde helpers that write moments and times of day the way they are kept:
//! `local_rfc3339`, `opt_local_rfc3339` and `hhmm`.

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

/// An RFC 3339 moment with an offset, as sent by a client. A leap second (`:60`) is
/// refused: chrono keeps it as a 61st second that no calendar or log shows.
pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let t = DateTime::<chrono::FixedOffset>::parse_from_rfc3339(text).ok()?;
    (t.timestamp_subsec_nanos() < 1_000_000_000).then(|| t.with_timezone(&Utc))
}

/// A `YYYY-MM-DD` day, exactly ten characters (RFC 3339 `full-date`).
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    (text.len() == 10)
        .then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
        .flatten()
}

/// An `HH:MM` time of day, exactly five characters.
pub fn parse_time_of_day(text: &str) -> Option<NaiveTime> {
    (text.len() == 5)
        .then(|| NaiveTime::parse_from_str(text, "%H:%M").ok())
        .flatten()
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
    fn client_moments_days_and_times() {
        for (text, ok) in [
            ("2017-08-18T12:00:00+02:00", true),
            ("2017-08-18T12:00:00Z", true),
            ("2017-08-18T12:00:00", false),
            ("2016-12-31T23:59:60Z", false),
            ("18-08-2017 12:00", false),
        ] {
            assert_eq!(parse_timestamp(text).is_some(), ok, "{text}");
        }
        for (text, ok) in [
            ("2017-11-08", true),
            ("2017-1-8", false),
            ("2017-02-30", false),
        ] {
            assert_eq!(parse_date(text).is_some(), ok, "{text}");
        }
        for (text, ok) in [
            ("09:30", true),
            ("9:30", false),
            ("24:00", false),
            ("9 uur", false),
        ] {
            assert_eq!(parse_time_of_day(text).is_some(), ok, "{text}");
        }
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

/// `Option<DateTime>` as local RFC 3339.
pub mod opt_local_rfc3339 {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(at: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => s.serialize_some(&super::local_rfc3339::format(at)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| {
                DateTime::parse_from_rfc3339(&text)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(serde::de::Error::custom)
            })
            .transpose()
    }
}

/// `HH:MM` on the wire and in storage.
pub mod hhmm {
    use chrono::NaiveTime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &NaiveTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.format("%H:%M").to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveTime, D::Error> {
        let text = String::deserialize(d)?;
        NaiveTime::parse_from_str(&text, "%H:%M").map_err(serde::de::Error::custom)
    }
}
