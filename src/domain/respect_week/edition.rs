//! Editions of the week: their days, the closing day of registration and the moment
//! contact data must be erased, from the municipality's profile or `LOKET_CONFIG`.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use crate::domain::time::{local_date, start_of_day, to_utc};

/// One edition of the week: its days and the last day on which registration is open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "EditionSpec")]
pub struct Edition {
    pub year: i32,
    /// First day of the week (local).
    pub starts_on: NaiveDate,
    /// Last day of the week (local).
    pub ends_on: NaiveDate,
    /// The last local day on which one may register: open until 23:59:59 of this day,
    /// inclusive.
    pub registration_closes_on: NaiveDate,
    /// Contact data is erased this many days after the last day has ended: the
    /// profile's `terms.respect_week_erasure_days`, set by [`Editions`].
    #[serde(skip_serializing)]
    pub erasure_after_days: u32,
}

/// The erasure term of an edition that belongs to no profile yet (Dronten's); an
/// edition in [`Editions`] has its profile's.
pub const DEFAULT_ERASURE_AFTER_DAYS: u32 = 365;

/// The longest edition this service accepts from configuration.
pub const MAX_EDITION_DAYS: u64 = 31;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditionError {
    #[error("edition {year}: starts_on {starts_on} is not in {year}")]
    YearMismatch { year: i32, starts_on: NaiveDate },
    #[error("edition {0}: ends_on lies before starts_on")]
    EndsBeforeStart(i32),
    #[error("edition {0}: longer than {MAX_EDITION_DAYS} days")]
    TooLong(i32),
    #[error("edition {0}: registration closes after the edition's last day")]
    ClosesAfterEnd(i32),
}

impl Edition {
    /// An edition, checked: `starts_on` in `year`, `ends_on` not before it, at most
    /// [`MAX_EDITION_DAYS`] long, registration closing no later than the last day.
    pub fn new(
        year: i32,
        starts_on: NaiveDate,
        ends_on: NaiveDate,
        registration_closes_on: NaiveDate,
    ) -> Result<Edition, EditionError> {
        if starts_on.year() != year {
            return Err(EditionError::YearMismatch { year, starts_on });
        }
        if ends_on < starts_on {
            return Err(EditionError::EndsBeforeStart(year));
        }
        if (ends_on - starts_on).num_days() >= MAX_EDITION_DAYS as i64 {
            return Err(EditionError::TooLong(year));
        }
        if registration_closes_on > ends_on {
            return Err(EditionError::ClosesAfterEnd(year));
        }
        Ok(Edition {
            year,
            starts_on,
            ends_on,
            registration_closes_on,
            erasure_after_days: DEFAULT_ERASURE_AFTER_DAYS,
        })
    }

    /// Dronten's: 2017 (6–12 November, open until Sunday 5 November) and 2027
    /// (8–14 November, open until Sunday 7 November), from its profile.
    pub fn built_in() -> Vec<Edition> {
        Editions::built_in().iter().cloned().collect()
    }

    /// Whether a local date is one of the week's days.
    pub fn contains(&self, date: NaiveDate) -> bool {
        (self.starts_on..=self.ends_on).contains(&date)
    }

    /// The last moment registration is open: 23:59:59 local of the closing day.
    pub fn registration_closes_at(&self) -> DateTime<Utc> {
        to_utc(
            self.registration_closes_on,
            NaiveTime::from_hms_opt(23, 59, 59).expect("a valid time"),
        )
    }

    /// Open through the whole closing day (its 23:59:59 included), closed from the
    /// next local midnight on.
    pub fn accepts_registrations_at(&self, now: DateTime<Utc>) -> bool {
        local_date(now) <= self.registration_closes_on
    }

    /// 00:00 local of the first day.
    pub fn starts_at(&self) -> DateTime<Utc> {
        start_of_day(self.starts_on)
    }

    pub fn has_started(&self, now: DateTime<Utc>) -> bool {
        now >= self.starts_at()
    }

    /// When contact data must be gone: 00:00 local, the erasure term (Dronten: 365
    /// days) after the edition's last day has ended (2017: last day 2017-11-12, ended
    /// 2017-11-13 00:00, erased from 2018-11-13 00:00 local).
    pub fn erasure_at(&self) -> DateTime<Utc> {
        let end_of_last_day = self.ends_on + Days::new(1);
        start_of_day(end_of_last_day + Days::new(u64::from(self.erasure_after_days)))
    }

    pub fn erasure_due(&self, now: DateTime<Utc>) -> bool {
        now >= self.erasure_at()
    }
}

/// How an edition is written in `LOKET_CONFIG`: dates as TOML dates
/// (`starts_on = 2028-11-06`) or strings (`"2028-11-06"`); the closing day defaults
/// to the day before the week.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EditionSpec {
    year: i32,
    #[serde(deserialize_with = "config_date")]
    starts_on: NaiveDate,
    #[serde(deserialize_with = "config_date")]
    ends_on: NaiveDate,
    #[serde(default, deserialize_with = "opt_config_date")]
    registration_closes_on: Option<NaiveDate>,
}

impl TryFrom<EditionSpec> for Edition {
    type Error = EditionError;

    fn try_from(spec: EditionSpec) -> Result<Edition, EditionError> {
        let closes = spec
            .registration_closes_on
            .unwrap_or_else(|| spec.starts_on - Days::new(1));
        Edition::new(spec.year, spec.starts_on, spec.ends_on, closes)
    }
}

/// A date as text, or as a TOML date literal (which the TOML deserializer hands over
/// as a one-entry map holding its text).
#[derive(Deserialize)]
#[serde(untagged)]
enum DateInput {
    Text(String),
    TomlDate {
        #[serde(rename = "$__toml_private_datetime")]
        text: String,
    },
}

fn config_date<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    let text = match DateInput::deserialize(d)? {
        DateInput::Text(t) | DateInput::TomlDate { text: t } => t,
    };
    NaiveDate::parse_from_str(&text, "%Y-%m-%d")
        .map_err(|e| serde::de::Error::custom(format!("'{text}' is not a date YYYY-MM-DD: {e}")))
}

fn opt_config_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    config_date(d).map(Some)
}

/// Every known edition, by year, each with the profile's erasure term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Editions {
    by_year: BTreeMap<i32, Edition>,
    erasure_after_days: u32,
}

impl Default for Editions {
    fn default() -> Self {
        Editions::built_in()
    }
}

impl Editions {
    /// Dronten's, as its profile in the repository has them.
    pub fn built_in() -> Editions {
        crate::domain::municipality::Municipality::dronten().editions()
    }

    /// None yet; those added get `erasure_after_days`.
    pub fn new(erasure_after_days: u32) -> Editions {
        Editions {
            by_year: BTreeMap::new(),
            erasure_after_days,
        }
    }

    /// None yet, with the default erasure term.
    pub fn empty() -> Editions {
        Editions::new(DEFAULT_ERASURE_AFTER_DAYS)
    }

    /// Adds editions, or replaces those of the same year (from configuration); each
    /// takes this collection's erasure term.
    pub fn with(mut self, editions: impl IntoIterator<Item = Edition>) -> Editions {
        for mut e in editions {
            e.erasure_after_days = self.erasure_after_days;
            self.by_year.insert(e.year, e);
        }
        self
    }

    pub fn get(&self, year: i32) -> Option<&Edition> {
        self.by_year.get(&year)
    }

    /// The year of this year's edition, or else the next one's; `year` itself when
    /// there is none ahead (the pages then say so).
    pub fn current_or_next(&self, year: i32) -> i32 {
        self.by_year
            .range(year..)
            .next()
            .map(|(y, _)| *y)
            .unwrap_or(year)
    }

    /// Oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &Edition> {
        self.by_year.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::respect_week::fixtures::{date, e2017};
    use crate::domain::risk::tests::at;

    #[test]
    fn the_current_or_next_edition_is_found_by_year() {
        let editions = Editions::built_in();
        assert_eq!(editions.current_or_next(2017), 2017);
        assert_eq!(editions.current_or_next(2016), 2017);
        let after_all = editions.iter().map(|e| e.year).max().unwrap() + 1;
        assert_eq!(editions.current_or_next(after_all), after_all, "none ahead");
    }

    #[test]
    fn the_built_in_editions_are_those_of_domain_md() {
        let editions = Editions::built_in();
        let years: Vec<i32> = editions.iter().map(|e| e.year).collect();
        assert_eq!(years, [2017, 2027]);
        for (year, starts, ends, closes_at) in [
            (
                2017,
                "2017-11-06",
                "2017-11-12",
                "2017-11-05T23:59:59+01:00",
            ),
            (
                2027,
                "2027-11-08",
                "2027-11-14",
                "2027-11-07T23:59:59+01:00",
            ),
        ] {
            let e = editions.get(year).unwrap();
            assert_eq!(
                (e.starts_on, e.ends_on),
                (date(starts), date(ends)),
                "{year}"
            );
            assert_eq!(e.registration_closes_at(), at(closes_at), "{year}");
        }
        assert!(editions.get(2018).is_none());
    }

    #[test]
    fn registration_is_open_until_the_closing_second_inclusive() {
        let e = e2017();
        for (now, open) in [
            ("2017-01-01T00:00:00+01:00", true),
            ("2017-11-05T23:59:59+01:00", true),
            ("2017-11-05T23:59:59.999+01:00", true),
            ("2017-11-06T00:00:00+01:00", false),
            ("2017-11-05T23:30:00Z", false), // 00:30 local on the 6th
            ("2017-11-05T22:59:59Z", true),  // 23:59:59 local
            ("2018-01-01T12:00:00+01:00", false),
        ] {
            assert_eq!(e.accepts_registrations_at(at(now)), open, "{now}");
        }
    }

    #[test]
    fn only_the_days_of_the_week_are_inside_the_edition() {
        let e = e2017();
        for (d, inside) in [
            ("2017-11-05", false),
            ("2017-11-06", true),
            ("2017-11-09", true),
            ("2017-11-12", true),
            ("2017-11-13", false),
            ("2027-11-08", false),
        ] {
            assert_eq!(e.contains(date(d)), inside, "{d}");
        }
    }

    #[test]
    fn editions_from_configuration_are_checked() {
        #[derive(Deserialize)]
        struct Wrapper {
            respect_week_editions: Vec<Edition>,
        }
        let ok: Wrapper = toml::from_str(
            r#"
            [[respect_week_editions]]
            year = 2028
            starts_on = 2028-11-06
            ends_on = "2028-11-12"

            [[respect_week_editions]]
            year = 2029
            starts_on = "2029-11-05"
            ends_on = 2029-11-11
            registration_closes_on = 2029-10-31
            "#,
        )
        .expect("TOML dates and strings both work");
        let editions = Editions::built_in().with(ok.respect_week_editions);
        let e2028 = editions.get(2028).unwrap();
        assert_eq!(
            e2028.registration_closes_on,
            date("2028-11-05"),
            "defaults to the day before"
        );
        assert_eq!(
            editions.get(2029).unwrap().registration_closes_on,
            date("2029-10-31")
        );
        assert!(editions.get(2017).is_some(), "built-in editions stay");

        for (case, text) in [
            (
                "starts in another year",
                "year = 2030\nstarts_on = 2031-01-01\nends_on = 2031-01-02",
            ),
            (
                "ends before it starts",
                "year = 2030\nstarts_on = 2030-11-10\nends_on = 2030-11-09",
            ),
            (
                "far too long",
                "year = 2030\nstarts_on = 2030-01-01\nends_on = 2030-12-31",
            ),
            (
                "closes after the end",
                "year = 2030\nstarts_on = 2030-11-04\nends_on = 2030-11-10\nregistration_closes_on = 2030-11-11",
            ),
            (
                "not a date",
                "year = 2030\nstarts_on = \"4 november\"\nends_on = 2030-11-10",
            ),
            (
                "an unknown field",
                "year = 2030\nstarts_on = 2030-11-04\nends_on = 2030-11-10\ntheme = \"x\"",
            ),
        ] {
            let text = format!("[[respect_week_editions]]\n{text}\n");
            assert!(toml::from_str::<Wrapper>(&text).is_err(), "{case}");
        }
    }
}
