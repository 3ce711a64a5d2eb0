//! Week van Respect (docs/domain.md "Week van Respect"): editions as data, the rules of a registration,
//! its lifecycle, the duplicate rule, the staff summary and the erasure of contact
//! data (AVG) a year after the edition.
//!
//! Everything here is pure: "now" is a parameter, nothing is read or written.
//!
//! One concept per file: `edition.rs` (the editions and their dates),
//! `activity.rs` (organisation, contact, activity and its rules), `registration.rs`
//! (a registration and its lifecycle) and `summary.rs` (the staff summary). Every
//! public name is re-exported here, so `respect_week::Edition` and the like keep
//! their paths.

mod activity;
mod edition;
mod registration;
mod summary;

pub use activity::{
    AGES, Activity, Contact, Organisation, OrganisationType, PARTICIPANTS, Violation, check,
};
pub use edition::{DEFAULT_ERASURE_AFTER_DAYS, Edition, EditionError, Editions, MAX_EDITION_DAYS};
pub use registration::{
    Actor, DuplicateKey, HistoryEntry, NewRegistration, Registration, RegistrationAction,
    RegistrationStatus, TransitionError, normalise,
};
pub use summary::{
    PUBLISHED_PARTICIPANTS, RespectWeekSummary, StatusCounts, TypeSums, recompute, summary,
    summary_deltas,
};

// The serde helpers moved to `crate::domain::time`; re-exported so
// `respect_week::hhmm` and `respect_week::opt_local_rfc3339` keep working.
pub use crate::domain::time::{hhmm, opt_local_rfc3339};

/// What the tests of every file here start from: the 2017 edition and one valid
/// registration of OBS De Regenboog.
#[cfg(test)]
mod fixtures {
    use chrono::{NaiveDate, NaiveTime};

    use super::*;
    use crate::domain::formats::{Email, Phone, Reference};
    use crate::domain::place::Kern;
    use crate::domain::risk::tests::at;

    pub(super) fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    pub(super) fn time(s: &str) -> NaiveTime {
        NaiveTime::parse_from_str(s, "%H:%M").unwrap()
    }

    pub(super) fn e2017() -> Edition {
        Editions::built_in().get(2017).cloned().unwrap()
    }

    pub(super) fn form() -> NewRegistration {
        NewRegistration {
            organisation: Organisation {
                name: "OBS De Regenboog".into(),
                kind: OrganisationType::PrimarySchool,
            },
            contact: Contact {
                name: "J. Bakker".into(),
                email: Email::parse("j.bakker@regenboog.nl").unwrap(),
                phone: Phone::parse("0321 654321").unwrap(),
            },
            activity: Activity {
                title: "Respectles groep 7/8".into(),
                description: "Over polarisatie".into(),
                date: date("2017-11-08"),
                starts_at: time("09:00"),
                ends_at: time("11:30"),
                location: "Lijsterbeslaan 2".into(),
                kern: Kern::new("dronten"),
                expected_participants: 54,
                age_min: 10,
                age_max: 12,
                open_to_public: false,
                guest_lesson_wanted: true,
            },
        }
    }

    pub(super) fn registered() -> Registration {
        Registration::register(
            "id-1".into(),
            Reference::parse("WVR-2017-0001").unwrap(),
            "hash".into(),
            form(),
            &e2017(),
            at("2017-10-01T10:00:00+02:00"),
        )
        .expect("a valid registration")
    }

    pub(super) fn in_status(status: RegistrationStatus) -> Registration {
        let mut reg = registered();
        reg.status = status;
        reg
    }
}
