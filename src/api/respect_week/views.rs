//! What a registration looks like to whom: the registrant, staff, the public.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::respect_week::{
    self, Activity, Contact, Edition, Organisation, Registration, RegistrationStatus,
};
use crate::domain::time::local_rfc3339;

use crate::api::history::PublicChange;
use crate::domain::formats::Reference;

#[derive(Debug, Serialize, ToSchema)]
pub struct EditionView {
    pub year: i32,
    #[schema(value_type = String, format = Date)]
    pub starts_on: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub ends_on: NaiveDate,
    /// The last moment to register (inclusive): 23:59:59 local of the closing day.
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "local_rfc3339")]
    pub registration_closes_at: DateTime<Utc>,
}

impl EditionView {
    pub fn of(e: &Edition) -> EditionView {
        EditionView {
            year: e.year,
            starts_on: e.starts_on,
            ends_on: e.ends_on,
            registration_closes_at: e.registration_closes_at(),
        }
    }
}

/// A registration's own fields: everything sent (contact data until it is erased),
/// its status and version. Staff list these; the registrant's view adds a history.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrationRecord {
    pub id: String,
    pub reference: Reference,
    pub year: i32,
    pub status: RegistrationStatus,
    pub organisation: Organisation,
    /// `null` once erased (a year after the edition).
    pub contact: Option<Contact>,
    pub activity: Activity,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "local_rfc3339")]
    pub registered_at: DateTime<Utc>,
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(
        with = "respect_week::opt_local_rfc3339",
        skip_serializing_if = "Option::is_none"
    )]
    pub erased_at: Option<DateTime<Utc>>,
    pub version: u64,
}

impl RegistrationRecord {
    pub fn of(reg: &Registration) -> RegistrationRecord {
        RegistrationRecord {
            id: reg.id.clone(),
            reference: reg.reference.clone(),
            year: reg.year,
            status: reg.status,
            organisation: reg.organisation.clone(),
            contact: reg.contact.clone(),
            activity: reg.activity.clone(),
            registered_at: reg.registered_at,
            erased_at: reg.erased_at,
            version: reg.version,
        }
    }
}

/// The registration as its registrant sees it: everything sent, no staff identities.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrationView {
    #[serde(flatten)]
    pub registration: RegistrationRecord,
    pub history: Vec<PublicChange<RegistrationStatus>>,
}

impl RegistrationView {
    pub fn of(reg: &Registration) -> RegistrationView {
        RegistrationView {
            registration: RegistrationRecord::of(reg),
            history: PublicChange::list(&reg.history),
        }
    }
}

/// The 201 of a registration: the registration and, this once, its access token.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrationCreated {
    pub access_token: String,
    #[serde(flatten)]
    pub registration: RegistrationView,
}

/// One activity of the public programme: never any contact data, nor what the
/// school asked of the municipality (a guest lesson).
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgrammeItem {
    pub id: String,
    pub reference: Reference,
    pub organisation: Organisation,
    pub activity: PublicActivity,
}

/// The activity as the public sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicActivity {
    pub title: String,
    pub description: String,
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    /// `HH:MM`, local.
    #[schema(value_type = String, example = "09:00")]
    pub starts_at: String,
    /// `HH:MM`, local.
    #[schema(value_type = String, example = "11:30")]
    pub ends_at: String,
    pub location: String,
    pub kern: crate::domain::place::Kern,
    pub expected_participants: u32,
    pub age_min: u32,
    pub age_max: u32,
    /// `false`: a lesson for the school's own pupils or the club's own members;
    /// visitors are not expected.
    pub open_to_public: bool,
}

impl ProgrammeItem {
    pub fn of(reg: &Registration) -> ProgrammeItem {
        let a = &reg.activity;
        ProgrammeItem {
            id: reg.id.clone(),
            reference: reg.reference.clone(),
            organisation: reg.organisation.clone(),
            activity: PublicActivity {
                title: a.title.clone(),
                description: a.description.clone(),
                date: a.date,
                starts_at: a.starts_at.format("%H:%M").to_string(),
                ends_at: a.ends_at.format("%H:%M").to_string(),
                location: a.location.clone(),
                kern: a.kern.clone(),
                expected_participants: a.expected_participants,
                age_min: a.age_min,
                age_max: a.age_max,
                open_to_public: a.open_to_public,
            },
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProgrammePage {
    pub items: Vec<ProgrammeItem>,
    /// Pass as `?cursor=` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}
