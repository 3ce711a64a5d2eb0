//! What a registration is about: the organisation, its contact person and the
//! activity, and the rules of §7 an activity must keep.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::edition::Edition;
use crate::domain::formats::{Email, Phone};
use crate::domain::place::Kern;
use crate::domain::time::{hhmm, to_utc};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum OrganisationType {
    PrimarySchool,
    SecondarySchool,
    VocationalSchool,
    SportClub,
    Other,
}

impl OrganisationType {
    pub const ALL: [OrganisationType; 5] = [
        OrganisationType::PrimarySchool,
        OrganisationType::SecondarySchool,
        OrganisationType::VocationalSchool,
        OrganisationType::SportClub,
        OrganisationType::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrganisationType::PrimarySchool => "primary_school",
            OrganisationType::SecondarySchool => "secondary_school",
            OrganisationType::VocationalSchool => "vocational_school",
            OrganisationType::SportClub => "sport_club",
            OrganisationType::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<OrganisationType> {
        OrganisationType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Organisation {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: OrganisationType,
}

/// The contact person: personal data, erased a year after the edition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Contact {
    pub name: String,
    pub email: Email,
    pub phone: Phone,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Activity {
    pub title: String,
    pub description: String,
    /// A day of the edition.
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    /// `HH:MM`, local.
    #[schema(value_type = String, example = "09:00")]
    #[serde(with = "hhmm")]
    pub starts_at: NaiveTime,
    /// `HH:MM`, local, after `starts_at` on the same day.
    #[schema(value_type = String, example = "11:30")]
    #[serde(with = "hhmm")]
    pub ends_at: NaiveTime,
    pub location: String,
    pub kern: Kern,
    pub expected_participants: u32,
    pub age_min: u32,
    pub age_max: u32,
    pub open_to_public: bool,
    pub guest_lesson_wanted: bool,
}

impl Activity {
    /// The activity's start and end as moments.
    pub fn span(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        (
            to_utc(self.date, self.starts_at),
            to_utc(self.date, self.ends_at),
        )
    }
}

/// Expected participants: 1–5,000.
pub const PARTICIPANTS: (u32, u32) = (1, 5_000);
/// A sane age range for participants (years).
pub const AGES: (u32, u32) = (0, 120);

/// A rule a registration breaks. [`Violation::field`] names the request field,
/// [`Violation::code`] is the stable API code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Violation {
    /// After 23:59:59 local of the closing day.
    RegistrationClosed,
    /// The date is not one of the week's days.
    OutsideEdition,
    /// `ends_at` is not after `starts_at`.
    EndNotAfterStart,
    ParticipantsOutOfRange,
    AgeMinOutOfRange,
    AgeMaxOutOfRange,
    /// `age_min` > `age_max`.
    AgesInverted,
}

impl Violation {
    pub fn field(self) -> &'static str {
        match self {
            Violation::RegistrationClosed => "edition",
            Violation::OutsideEdition => "activity.date",
            Violation::EndNotAfterStart => "activity.ends_at",
            Violation::ParticipantsOutOfRange => "activity.expected_participants",
            Violation::AgeMinOutOfRange => "activity.age_min",
            Violation::AgeMaxOutOfRange | Violation::AgesInverted => "activity.age_max",
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Violation::RegistrationClosed => "registration_closed",
            Violation::OutsideEdition => "outside_edition",
            Violation::EndNotAfterStart => "order",
            Violation::ParticipantsOutOfRange
            | Violation::AgeMinOutOfRange
            | Violation::AgeMaxOutOfRange => "range",
            Violation::AgesInverted => "order",
        }
    }
}

fn within(value: u32, (min, max): (u32, u32)) -> bool {
    (min..=max).contains(&value)
}

/// Every rule of §7 that an activity breaks, in field order. The HTTP edge checks the
/// same rules field by field (with these predicates) before an activity exists;
/// this is the domain's own guard.
pub fn check(edition: &Edition, now: DateTime<Utc>, a: &Activity) -> Vec<Violation> {
    let mut found = Vec::new();
    if !edition.accepts_registrations_at(now) {
        found.push(Violation::RegistrationClosed);
    }
    if !edition.contains(a.date) {
        found.push(Violation::OutsideEdition);
    }
    if a.ends_at <= a.starts_at {
        found.push(Violation::EndNotAfterStart);
    }
    if !within(a.expected_participants, PARTICIPANTS) {
        found.push(Violation::ParticipantsOutOfRange);
    }
    let min_ok = within(a.age_min, AGES);
    let max_ok = within(a.age_max, AGES);
    if !min_ok {
        found.push(Violation::AgeMinOutOfRange);
    }
    if !max_ok {
        found.push(Violation::AgeMaxOutOfRange);
    }
    if min_ok && max_ok && a.age_min > a.age_max {
        found.push(Violation::AgesInverted);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::respect_week::fixtures::{date, e2017, form, time};
    use crate::domain::risk::tests::at;

    /// (field, code) pairs.
    type FieldCodes<'a> = Vec<(&'a str, &'a str)>;

    #[test]
    fn every_broken_rule_is_reported_with_its_field_and_code() {
        let e = e2017();
        let open = at("2017-10-01T10:00:00+02:00");
        let valid = form().activity;
        let cases: Vec<(&str, DateTime<Utc>, Activity, FieldCodes)> = vec![
            ("a valid activity", open, valid.clone(), vec![]),
            (
                "after the closing moment",
                at("2017-11-06T00:00:00+01:00"),
                valid.clone(),
                vec![("edition", "registration_closed")],
            ),
            (
                "the Sunday before the week",
                open,
                Activity {
                    date: date("2017-11-05"),
                    ..valid.clone()
                },
                vec![("activity.date", "outside_edition")],
            ),
            (
                "the Monday after the week",
                open,
                Activity {
                    date: date("2017-11-13"),
                    ..valid.clone()
                },
                vec![("activity.date", "outside_edition")],
            ),
            (
                "the last day of the week",
                open,
                Activity {
                    date: date("2017-11-12"),
                    ..valid.clone()
                },
                vec![],
            ),
            (
                "an end equal to the start",
                open,
                Activity {
                    ends_at: time("09:00"),
                    ..valid.clone()
                },
                vec![("activity.ends_at", "order")],
            ),
            (
                "an end before the start",
                open,
                Activity {
                    ends_at: time("08:59"),
                    ..valid.clone()
                },
                vec![("activity.ends_at", "order")],
            ),
            (
                "no participants",
                open,
                Activity {
                    expected_participants: 0,
                    ..valid.clone()
                },
                vec![("activity.expected_participants", "range")],
            ),
            (
                "one participant",
                open,
                Activity {
                    expected_participants: 1,
                    ..valid.clone()
                },
                vec![],
            ),
            (
                "5,000 participants",
                open,
                Activity {
                    expected_participants: 5_000,
                    ..valid.clone()
                },
                vec![],
            ),
            (
                "5,001 participants",
                open,
                Activity {
                    expected_participants: 5_001,
                    ..valid.clone()
                },
                vec![("activity.expected_participants", "range")],
            ),
            (
                "an age of 121",
                open,
                Activity {
                    age_max: 121,
                    ..valid.clone()
                },
                vec![("activity.age_max", "range")],
            ),
            (
                "one age for all",
                open,
                Activity {
                    age_min: 12,
                    age_max: 12,
                    ..valid.clone()
                },
                vec![],
            ),
            (
                "a minimum above the maximum",
                open,
                Activity {
                    age_min: 13,
                    age_max: 12,
                    ..valid.clone()
                },
                vec![("activity.age_max", "order")],
            ),
            (
                "everything wrong at once",
                at("2017-12-01T10:00:00+01:00"),
                Activity {
                    date: date("2017-12-01"),
                    starts_at: time("12:00"),
                    ends_at: time("11:00"),
                    expected_participants: 9_999,
                    age_min: 15,
                    age_max: 10,
                    ..valid.clone()
                },
                vec![
                    ("edition", "registration_closed"),
                    ("activity.date", "outside_edition"),
                    ("activity.ends_at", "order"),
                    ("activity.expected_participants", "range"),
                    ("activity.age_max", "order"),
                ],
            ),
        ];
        for (case, now, activity, expected) in cases {
            let got: Vec<(&str, &str)> = check(&e, now, &activity)
                .into_iter()
                .map(|v| (v.field(), v.code()))
                .collect();
            assert_eq!(got, expected, "{case}");
        }
    }
}
