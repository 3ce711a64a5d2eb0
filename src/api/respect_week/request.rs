//! The body of a registration, read and checked field by field.

use crate::dutch::short_date;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

use crate::domain::place::Kern;
use crate::domain::respect_week::{
    Activity, Contact, Edition, NewRegistration, Organisation, OrganisationType,
};

use crate::api::validate::{
    Field, Nested, RequestBody, Text, broken, choice, date, email, kern_choice, line, object,
    paragraph, parse_given, phone, required, time_of_day,
};
use crate::domain::formats::{Email, Phone};
use crate::domain::time::{parse_date, parse_time_of_day};

/// The body of `POST /respect-week/{year}/activities`. The edition accepts
/// registrations until 23:59:59 local of its closing day (`registration_closed`, on
/// the field `edition`) and the date is one of its days (`outside_edition`).
// One `schema` attribute per cross-field rule, so that each reports its own error.
#[allow(clippy::duplicated_attributes)]
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(default)]
#[validate(context = "RegistrationContext<'v_a>")]
#[validate(schema(
    function = "registration_open",
    use_context,
    skip_on_field_errors = false
))]
#[validate(schema(
    function = "date_in_edition",
    use_context,
    skip_on_field_errors = false
))]
pub struct RegistrationRequest {
    #[validate(custom(function = "object"), nested)]
    #[schema(value_type = OrganisationInput, required = true)]
    pub organisation: Nested<OrganisationInput>,
    #[validate(custom(function = "object"), nested)]
    #[schema(value_type = ContactInput, required = true)]
    pub contact: Nested<ContactInput>,
    #[validate(custom(function = "object"), nested)]
    #[schema(value_type = ActivityInput, required = true)]
    pub activity: Nested<ActivityInput>,
}

/// What the rules of a registration need besides the body.
pub struct RegistrationContext<'a> {
    pub edition: &'a Edition,
    pub now: DateTime<Utc>,
}

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(default)]
pub struct OrganisationInput {
    #[validate(custom(function = "line"), length(max = 200))]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200)]
    pub name: Field<Text>,
    #[validate(custom(function = "choice"))]
    #[schema(value_type = OrganisationType, required = true)]
    pub r#type: Field<OrganisationType>,
}

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(default)]
pub struct ContactInput {
    #[validate(custom(function = "line"), length(max = 200))]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200)]
    pub name: Field<Text>,
    #[validate(custom(function = "email"))]
    #[schema(value_type = String, required = true, format = Email, max_length = 254)]
    pub email: Field<String>,
    /// 10 to 15 digits; spaces, dashes, parentheses and `+` may stand between them.
    #[validate(custom(function = "phone"))]
    #[schema(value_type = String, required = true, max_length = 30, pattern = r"^[ ()+\-]*([0-9][ ()+\-]*){10,15}$")]
    pub phone: Field<String>,
}

/// The activity as sent: `ends_at` after `starts_at` on the same day; `age_max` not
/// below `age_min`.
// One `schema` attribute per cross-field rule, so that each reports its own error.
#[allow(clippy::duplicated_attributes)]
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(default)]
#[validate(schema(function = "end_time_after_start_time", skip_on_field_errors = false))]
#[validate(schema(function = "ages_in_order", skip_on_field_errors = false))]
pub struct ActivityInput {
    #[validate(custom(function = "line"), length(max = 200))]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200)]
    pub title: Field<Text>,
    /// Line breaks allowed.
    #[validate(custom(function = "paragraph"), length(max = 5000))]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 5000)]
    pub description: Field<Text>,
    /// A day of the edition, `YYYY-MM-DD`.
    #[validate(custom(function = "date"))]
    #[schema(value_type = String, format = Date, required = true)]
    pub date: Field<String>,
    /// `HH:MM`, local.
    #[validate(custom(function = "time_of_day"))]
    #[schema(value_type = String, required = true, pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "09:00")]
    pub starts_at: Field<String>,
    /// `HH:MM`, local, after `starts_at`.
    #[validate(custom(function = "time_of_day"))]
    #[schema(value_type = String, required = true, pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "11:30")]
    pub ends_at: Field<String>,
    #[validate(custom(function = "line"), length(max = 200))]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200)]
    pub location: Field<Text>,
    #[validate(custom(function = "kern_choice"))]
    #[schema(value_type = Kern, required = true)]
    pub kern: Field<Kern>,
    /// 1–5,000 (`PARTICIPANTS`).
    #[validate(custom(function = "required"), range(min = 1, max = 5_000))]
    #[schema(value_type = i64, required = true, minimum = 1, maximum = 5_000)]
    pub expected_participants: Field<i64>,
    /// 0–120 (`AGES`).
    #[validate(custom(function = "required"), range(min = 0, max = 120))]
    #[schema(value_type = i64, required = true, minimum = 0, maximum = 120)]
    pub age_min: Field<i64>,
    /// 0–120, not below `age_min`.
    #[validate(custom(function = "required"), range(min = 0, max = 120))]
    #[schema(value_type = i64, required = true, minimum = 0, maximum = 120)]
    pub age_max: Field<i64>,
    #[validate(custom(function = "required"))]
    #[schema(value_type = bool, required = true)]
    pub open_to_public: Field<bool>,
    #[validate(custom(function = "required"))]
    #[schema(value_type = bool, required = true)]
    pub guest_lesson_wanted: Field<bool>,
}

fn registration_open(
    _: &RegistrationRequest,
    ctx: &RegistrationContext,
) -> Result<(), ValidationError> {
    if ctx.edition.accepts_registrations_at(ctx.now) {
        return Ok(());
    }
    let mut e = broken("edition", "registration_closed", "");
    e.add_param("year".into(), &ctx.edition.year);
    e.add_param(
        "closes_on".into(),
        &short_date(ctx.edition.registration_closes_on),
    );
    Err(e)
}

fn date_in_edition(
    request: &RegistrationRequest,
    ctx: &RegistrationContext,
) -> Result<(), ValidationError> {
    let date = match &request.activity {
        Nested::Given(a) => a.date.given().and_then(|d| parse_date(d)),
        _ => None,
    };
    match date {
        Some(d) if !ctx.edition.contains(d) => {
            let mut e = broken("activity.date", "outside_edition", "");
            e.add_param("starts_on".into(), &short_date(ctx.edition.starts_on));
            e.add_param("ends_on".into(), &short_date(ctx.edition.ends_on));
            Err(e)
        }
        _ => Ok(()),
    }
}

fn end_time_after_start_time(a: &ActivityInput) -> Result<(), ValidationError> {
    let time = |f: &Field<String>| f.given().and_then(|t| parse_time_of_day(t));
    match (time(&a.starts_at), time(&a.ends_at)) {
        (Some(start), Some(end)) if end <= start => {
            Err(broken("ends_at", "order", "end_time_after_start_time"))
        }
        _ => Ok(()),
    }
}

fn ages_in_order(a: &ActivityInput) -> Result<(), ValidationError> {
    let age = |f: &Field<i64>| f.given().copied().filter(|n| (0..=120).contains(n));
    match (age(&a.age_min), age(&a.age_max)) {
        (Some(min), Some(max)) if min > max => Err(broken("age_max", "order", "ages_in_order")),
        _ => Ok(()),
    }
}

impl RequestBody for RegistrationRequest {
    type Valid = NewRegistration;

    fn into_valid(self) -> Option<NewRegistration> {
        let o = self.organisation.into_given()?;
        let c = self.contact.into_given()?;
        let a = self.activity.into_given()?;
        let count = |f: Field<i64>| f.into_given().and_then(|n| u32::try_from(n).ok());
        Some(NewRegistration {
            organisation: Organisation {
                name: o.name.into_given()?.normalised(),
                kind: o.r#type.into_given()?,
            },
            contact: Contact {
                name: c.name.into_given()?.normalised(),
                email: parse_given(c.email, Email::parse)?,
                phone: parse_given(c.phone, Phone::parse)?,
            },
            activity: Activity {
                title: a.title.into_given()?.normalised(),
                description: a.description.into_given()?.normalised(),
                date: parse_given(a.date, parse_date)?,
                starts_at: parse_given(a.starts_at, parse_time_of_day)?,
                ends_at: parse_given(a.ends_at, parse_time_of_day)?,
                location: a.location.into_given()?.normalised(),
                kern: a.kern.into_given()?,
                expected_participants: count(a.expected_participants)?,
                age_min: count(a.age_min)?,
                age_max: count(a.age_max)?,
                open_to_public: a.open_to_public.into_given()?,
                guest_lesson_wanted: a.guest_lesson_wanted.into_given()?,
            },
        })
    }
}
