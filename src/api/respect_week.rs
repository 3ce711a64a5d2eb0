//! Week van Respect for schools, sport clubs and the public (API.md "Week van
//! Respect"): the editions, registering an activity, the registrant's own
//! registration (read, cancel) and the public programme as JSON and as an RFC 5545
//! calendar.
//!
//! Choices the contract leaves open:
//! - A `{year}` without an edition (or not a number) is 404, like an unknown id.
//! - `registration_closed` is reported on the field `edition`, `outside_edition` on
//!   `activity.date`; both come in the same 422 as every other failing field.
//! - Query parameters of the programme: an unknown, repeated or malformed one is a 400
//!   (`invalid_query`) naming every bad one, as on the staff lists; an empty value
//!   counts as absent.
//! - `Idempotency-Key` is scoped to `POST /respect-week/activities` and the edition
//!   year is hashed with the body, so one key sent to two editions is a reuse (422),
//!   never a replay of the other edition's registration.
//! - The calendar gives DTSTART/DTEND in UTC (`…Z`): RFC 5545 demands a VTIMEZONE for
//!   every TZID and the icalendar crate cannot write one; UTC is exact and every
//!   client shows it in local time. `X-WR-TIMEZONE: Europe/Amsterdam` names the zone.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use icalendar::{Calendar, Component, EventLike, Property};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

use crate::domain::permit::Kern;
use crate::domain::respect_week::{
    self, AGES, Activity, Contact, Edition, NewRegistration, Organisation, OrganisationType,
    PARTICIPANTS, Registration, RegistrationAction, RegistrationStatus, TransitionError, Violation,
};
use crate::domain::time::local_rfc3339;
use crate::store::retry_on_conflict;

use super::error::{ApiError, ApiResult};
use super::extract::{BearerToken, IdempotencyKey, with_etag};
use super::headers;
use super::idempotency::{Created, IdempotentPost};
use super::messages;
use super::query::{ProgrammeQuery, ValidatedQuery};
use super::secrets::{new_access_token, new_id, token_opens};
use super::state::AppState;
use super::validate::{
    Field, JsonBody, Nested, RequestBody, Text, broken, choice, date, email, line, object,
    paragraph, parse_given, phone, required, time_of_day,
};
use crate::domain::formats::{Email, Phone, Reference};
use crate::domain::text::{self, Lines};
use crate::domain::time::{parse_date, parse_time_of_day};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/respect-week/editions", get(editions))
        .route(
            "/respect-week/{year}/activities",
            get(programme).post(register),
        )
        .route("/respect-week/{year}/program.ics", get(programme_ics))
        .route("/respect-week/{year}/activities/{id}", get(read))
        .route("/respect-week/{year}/activities/{id}/cancel", post(cancel))
}

/// The idempotency scope of registrations (the edition year is part of the hash).
pub const REGISTER_SCOPE: &str = "POST /respect-week/activities";

/// The edition of a `{year}` path segment; 404 when there is none.
pub fn edition_of(state: &AppState, year: &str) -> ApiResult<Edition> {
    year.parse::<i32>()
        .ok()
        .and_then(|y| state.catalogue.editions.get(y))
        .cloned()
        .ok_or(ApiError::NotFound)
}

fn dutch_date(d: NaiveDate) -> String {
    d.format("%-d-%-m-%Y").to_string()
}

/// The Dutch message of a rule the domain refused.
pub fn violation_message(v: Violation, edition: &Edition) -> String {
    let rule = match v {
        Violation::EndNotAfterStart => "end_time_after_start_time",
        Violation::AgesInverted => "ages_in_order",
        _ => "",
    };
    messages::filled(
        v.code(),
        &[
            ("rule", rule.to_string()),
            ("year", edition.year.to_string()),
            ("closes_on", dutch_date(edition.registration_closes_on)),
            ("starts_on", dutch_date(edition.starts_on)),
            ("ends_on", dutch_date(edition.ends_on)),
            ("min", "0".to_string()),
            (
                "max",
                if v == Violation::ParticipantsOutOfRange {
                    PARTICIPANTS.1
                } else {
                    AGES.1
                }
                .to_string(),
            ),
        ],
    )
}

fn violations_error(violations: Vec<Violation>, edition: &Edition) -> ApiError {
    ApiError::Validation(
        violations
            .into_iter()
            .map(|v| {
                super::error::FieldError::new(v.field(), v.code(), violation_message(v, edition))
            })
            .collect(),
    )
}

pub fn transition_error(e: TransitionError) -> ApiError {
    match e {
        TransitionError::NotAllowed { action, status } => ApiError::Conflict {
            code: "not_allowed",
            detail: format!("'{action}' kan niet in status '{status}'."),
        },
        TransitionError::ReasonRequired(_) => {
            ApiError::field("reason", "required", "Geef een reden op.")
        }
        TransitionError::EditionStarted => ApiError::Conflict {
            code: "edition_started",
            detail: "De Week van Respect is al begonnen; afmelden kan niet meer.".into(),
        },
    }
}

// ---------------------------------------------------------------------------------
// Request

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
    #[validate(custom(function = "choice"))]
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
        &dutch_date(ctx.edition.registration_closes_on),
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
            e.add_param("starts_on".into(), &dutch_date(ctx.edition.starts_on));
            e.add_param("ends_on".into(), &dutch_date(ctx.edition.ends_on));
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

// ---------------------------------------------------------------------------------
// Views

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

#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrationHistoryEntry {
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "local_rfc3339")]
    pub at: DateTime<Utc>,
    pub action: String,
    pub status: RegistrationStatus,
    pub reason: Option<String>,
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
    pub history: Vec<RegistrationHistoryEntry>,
}

impl RegistrationView {
    pub fn of(reg: &Registration) -> RegistrationView {
        RegistrationView {
            registration: RegistrationRecord::of(reg),
            history: reg
                .history
                .iter()
                .map(|h| RegistrationHistoryEntry {
                    at: h.at,
                    action: h.action.clone(),
                    status: h.to,
                    reason: h.reason.clone(),
                })
                .collect(),
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

/// One activity of the public programme: never any contact data.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgrammeItem {
    pub id: String,
    pub reference: Reference,
    pub organisation: Organisation,
    pub activity: Activity,
}

impl ProgrammeItem {
    pub fn of(reg: &Registration) -> ProgrammeItem {
        ProgrammeItem {
            id: reg.id.clone(),
            reference: reg.reference.clone(),
            organisation: reg.organisation.clone(),
            activity: reg.activity.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProgrammePage {
    pub items: Vec<ProgrammeItem>,
    /// Pass as `?cursor=` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

// ---------------------------------------------------------------------------------
// Handlers

#[utoipa::path(get, path = "/respect-week/editions", tag = "respect_week",
    responses((status = 200, description = "Every edition, oldest first", body = [EditionView])))]
pub async fn editions(State(state): State<AppState>) -> Json<Vec<EditionView>> {
    Json(
        state
            .catalogue
            .editions
            .iter()
            .map(EditionView::of)
            .collect(),
    )
}

#[utoipa::path(post, path = "/respect-week/{year}/activities", tag = "respect_week",
    params(
        ("year" = i32, Path, description = "The edition's year"),
        ("Idempotency-Key" = Option<String>, Header, pattern = "^[A-Za-z0-9_-]{1,64}$", description = "1–64 of [A-Za-z0-9_-]; a repeat within 24 h replays the first response"),
    ),
    request_body = RegistrationRequest,
    responses(
        (status = 201, description = "Registered; the access token is shown only here", body = RegistrationCreated,
         headers(("Location" = String, description = "/respect-week/{year}/activities/{id}"))),
        (status = 400, description = "Malformed JSON", body = super::error::Problem),
        (status = 404, description = "No edition in that year", body = super::error::Problem),
        (status = 409, description = "The same organisation already registered this title on this date (`duplicate`), or the same Idempotency-Key is still being processed", body = super::error::Problem),
        (status = 413, description = "Body over 64 KiB", body = super::error::Problem),
        (status = 415, description = "Not application/json", body = super::error::Problem),
        (status = 422, description = "Invalid fields, `registration_closed`, `outside_edition`, or an Idempotency-Key reused for another body", body = super::error::Problem),
    ))]
pub async fn register(
    State(state): State<AppState>,
    Path(year): Path<String>,
    key: IdempotencyKey,
    body: JsonBody<RegistrationRequest>,
) -> ApiResult<Response> {
    let edition = edition_of(&state, &year)?;
    let request_identity = [
        edition.year.to_string().as_bytes(),
        b"\n",
        body.raw.as_ref(),
    ]
    .concat();
    let post = IdempotentPost::new(REGISTER_SCOPE, key, &request_identity);
    let now = state.clock.now();
    let checked = body.validate_with(&RegistrationContext {
        edition: &edition,
        now,
    });
    let (state, edition) = (&state, &edition);
    post.run(state, checked, |form| async move {
        let registrations = state.store.registrations();
        let reference = registrations.next_reference(edition.year).await?;
        let (token, token_hash) = new_access_token();
        let reg = Registration::register(new_id(), reference, token_hash, form, edition, now)
            .map_err(|v| violations_error(v, edition))?;
        let creation = registrations.create(&reg)?;
        let created = RegistrationCreated {
            access_token: token,
            registration: RegistrationView::of(&reg),
        };
        tracing::info!(reference = %reg.reference, "Week van Respect activity registered");
        Ok((
            creation,
            Created {
                location: format!("/respect-week/{}/activities/{}", reg.year, reg.id),
                body: serde_json::to_string(&created)
                    .map_err(|e| ApiError::Internal(e.to_string()))?,
            },
        ))
    })
    .await
}

/// The registration behind `id` in this edition if `token` opens it; otherwise 404,
/// whether it exists or not.
async fn load_for_registrant(
    state: &AppState,
    year: &str,
    id: &str,
    token: Option<&str>,
) -> ApiResult<(Edition, Registration)> {
    let edition = edition_of(state, year)?;
    let reg = state
        .store
        .registrations()
        .get(id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if reg.year == edition.year && token_opens(token, &reg.token_hash) {
        Ok((edition, reg))
    } else {
        Err(ApiError::NotFound)
    }
}

#[utoipa::path(get, path = "/respect-week/{year}/activities/{id}", tag = "respect_week", operation_id = "read_registration",
    params(
        ("year" = i32, Path, description = "The edition's year"),
        ("id" = String, Path, description = "The registration's id"),
    ),
    security(("access_token" = [])),
    responses(
        (status = 200, description = "The registration with its status and history", body = RegistrationView,
         headers(("ETag" = String, description = "The version, quoted"))),
        (status = 404, description = "Unknown edition or id, or a token that does not open it", body = super::error::Problem),
    ))]
pub async fn read(
    State(state): State<AppState>,
    Path((year, id)): Path<(String, String)>,
    BearerToken(token): BearerToken,
) -> ApiResult<Response> {
    let (_, reg) = load_for_registrant(&state, &year, &id, token.as_deref()).await?;
    Ok(with_etag(reg.version, Json(RegistrationView::of(&reg))))
}

#[utoipa::path(post, path = "/respect-week/{year}/activities/{id}/cancel", tag = "respect_week",
    params(
        ("year" = i32, Path, description = "The edition's year"),
        ("id" = String, Path, description = "The registration's id"),
    ),
    security(("access_token" = [])),
    responses(
        (status = 200, description = "Cancelled", body = RegistrationView,
         headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 404, description = "Unknown edition or id, or a token that does not open it", body = super::error::Problem),
        (status = 409, description = "The edition has started (`edition_started`), or the registration is already cancelled or declined (`not_allowed`)", body = super::error::Problem),
    ))]
pub async fn cancel(
    State(state): State<AppState>,
    Path((year, id)): Path<(String, String)>,
    BearerToken(token): BearerToken,
) -> ApiResult<Response> {
    // The registrant sends no version: a concurrent staff change is absorbed by
    // reading again and deciding again (a few times at most).
    let next = retry_on_conflict(|| async {
        let (edition, reg) = load_for_registrant(&state, &year, &id, token.as_deref()).await?;
        let next = reg
            .apply(
                &RegistrationAction::Cancel,
                respect_week::Actor::Registrant,
                &edition,
                state.clock.now(),
            )
            .map_err(transition_error)?;
        state.store.registrations().transition(&reg, &next).await?;
        Ok::<_, ApiError>(next)
    })
    .await?;
    tracing::info!(reference = %next.reference, "Week van Respect activity cancelled");
    Ok(with_etag(next.version, Json(RegistrationView::of(&next))))
}

// ---------------------------------------------------------------------------------
// The public programme

#[utoipa::path(get, path = "/respect-week/{year}/activities", tag = "respect_week",
    params(
        ("year" = i32, Path, description = "The edition's year"),
        ProgrammeQuery,
    ),
    responses(
        (status = 200, description = "Published activities only, by date and start time; no contact data", body = ProgrammePage),
        (status = 400, description = "An unknown, repeated or malformed parameter, or a tampered cursor", body = super::error::Problem),
        (status = 404, description = "No edition in that year", body = super::error::Problem),
    ))]
pub async fn programme(
    State(state): State<AppState>,
    Path(year): Path<String>,
    request: HeaderMap,
    ValidatedQuery((selection, page)): ValidatedQuery<ProgrammeQuery>,
) -> ApiResult<Response> {
    let edition = edition_of(&state, &year)?;
    let page = state
        .store
        .registrations()
        .programme(edition.year, selection, page.after(&state)?, page.limit)
        .await?;
    let items = page.items.iter().map(ProgrammeItem::of).collect();
    let body = serde_json::to_vec(&ProgrammePage {
        items,
        next_cursor: page.next.map(|p| state.cursors.seal(&p)),
    })
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(headers::public(&request, "application/json", body))
}

fn kern_name(kern: Kern) -> &'static str {
    match kern {
        Kern::Dronten => "Dronten",
        Kern::Biddinghuizen => "Biddinghuizen",
        Kern::Swifterbant => "Swifterbant",
        Kern::Buitengebied => "buitengebied Dronten",
    }
}

fn type_name(kind: OrganisationType) -> &'static str {
    match kind {
        OrganisationType::PrimarySchool => "basisschool",
        OrganisationType::SecondarySchool => "voortgezet onderwijs",
        OrganisationType::VocationalSchool => "beroepsonderwijs",
        OrganisationType::SportClub => "sportvereniging",
        OrganisationType::Other => "overig",
    }
}

/// Host part of the calendar UIDs: stable, so a subscribed calendar updates an
/// activity instead of adding it again.
pub const UID_DOMAIN: &str = "loket.dronten.nl";

/// The programme as an RFC 5545 calendar: one VEVENT per published activity, no
/// contact data. DTSTAMP is the activity's last change, so the feed is the same
/// bytes until something changes.
pub fn programme_calendar(edition: &Edition, published: &[Registration]) -> String {
    let mut calendar = Calendar::empty();
    calendar
        .append_property(Property::new("VERSION", "2.0"))
        .append_property(Property::new("PRODID", "-//Gemeente Dronten//loket//NL"))
        .append_property(Property::new("CALSCALE", "GREGORIAN"))
        .append_property(Property::new("METHOD", "PUBLISH"))
        .name(&format!("Week van Respect {} in Dronten", edition.year))
        .timezone("Europe/Amsterdam");
    for reg in published {
        let a = &reg.activity;
        let (starts, ends) = a.span();
        // Whatever the store holds, no control character reaches the calendar: a lone
        // CR could end a line for a lenient parser and inject an event.
        let line = |t: &str| text::printable(t, Lines::One);
        let description = format!(
            "{}\n\nOrganisatie: {} ({})\nLeeftijd: {} tot en met {} jaar\nVerwachte deelnemers: {}\nOpen voor publiek: {}",
            text::printable(&a.description, Lines::Many),
            line(&reg.organisation.name),
            type_name(reg.organisation.kind),
            a.age_min,
            a.age_max,
            a.expected_participants,
            if a.open_to_public { "ja" } else { "nee" },
        );
        let event = icalendar::Event::new()
            .uid(&format!("{}@{UID_DOMAIN}", reg.id))
            .timestamp(reg.last_changed_at())
            .summary(&line(&a.title))
            .description(&description)
            .location(&format!("{}, {}", line(&a.location), kern_name(a.kern)))
            .categories([type_name(reg.organisation.kind)])
            .starts(starts)
            .ends(ends)
            .done();
        calendar.push(event);
    }
    calendar.done().to_string()
}

#[utoipa::path(get, path = "/respect-week/{year}/program.ics", tag = "respect_week",
    params(("year" = i32, Path, description = "The edition's year")),
    responses(
        (status = 200, description = "RFC 5545 calendar: one VEVENT per published activity, no contact data",
         content_type = "text/calendar", body = String),
        (status = 404, description = "No edition in that year", body = super::error::Problem),
    ))]
pub async fn programme_ics(
    State(state): State<AppState>,
    Path(year): Path<String>,
    request: HeaderMap,
) -> ApiResult<Response> {
    let edition = edition_of(&state, &year)?;
    let published = state
        .store
        .registrations()
        .programme_all(edition.year)
        .await?;
    Ok(headers::public(
        &request,
        "text/calendar; charset=utf-8",
        programme_calendar(&edition, &published).into_bytes(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::respect_week::{Actor, Editions};
    use crate::domain::risk::tests::at;

    fn published(id: &str, title: &str, date: &str, start: &str, end: &str) -> Registration {
        let edition = Editions::built_in().get(2017).cloned().unwrap();
        let time = |t: &str| chrono::NaiveTime::parse_from_str(t, "%H:%M").unwrap();
        let form = NewRegistration {
            organisation: Organisation {
                name: "OBS De Regenboog".into(),
                kind: OrganisationType::PrimarySchool,
            },
            contact: Contact {
                name: "J. Bakker".into(),
                email: crate::domain::formats::Email::parse("j.bakker@regenboog.nl").unwrap(),
                phone: crate::domain::formats::Phone::parse("0321 654321").unwrap(),
            },
            activity: Activity {
                title: title.into(),
                description: "Over polarisatie".into(),
                date: date.parse().unwrap(),
                starts_at: time(start),
                ends_at: time(end),
                location: "Lijsterbeslaan 2".into(),
                kern: Kern::Dronten,
                expected_participants: 54,
                age_min: 10,
                age_max: 12,
                open_to_public: false,
                guest_lesson_wanted: true,
            },
        };
        let reg = Registration::register(
            id.into(),
            crate::domain::formats::Reference::parse("WVR-2017-0001").unwrap(),
            "h".into(),
            form,
            &edition,
            at("2017-10-02T10:00:00+02:00"),
        )
        .unwrap();
        reg.apply(
            &RegistrationAction::Publish { reason: None },
            Actor::Staff("s".into()),
            &edition,
            at("2017-10-03T09:30:00+02:00"),
        )
        .unwrap()
    }

    /// Hardening F2: ICS-injection payloads stored before the input rules (or by
    /// hand) cannot end a line, add a property or inject an event.
    #[test]
    fn stored_control_characters_never_reach_the_calendar() {
        let edition = Editions::built_in().get(2017).cloned().unwrap();
        let payloads = [
            "Les\rEND:VEVENT\rBEGIN:VEVENT\rSUMMARY:NEP",
            "Les\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nSUMMARY:NEP",
            "Les\nEND:VEVENT\nBEGIN:VEVENT",
            "Les\u{0}\u{1b}[31m\u{7}\u{7f}",
            "Les\u{2028}ATTACH:http://x\u{2029}",
            "Les\u{85}END:VCALENDAR",
            "Les;X-INJECT=1:waarde,meer\\",
        ];
        for payload in payloads {
            let mut reg = published("abc", payload, "2017-11-08", "09:00", "11:30");
            reg.activity.description = payload.into();
            reg.activity.location = payload.into();
            let ics = programme_calendar(&edition, &[reg]);
            let body = ics.strip_suffix("\r\n").unwrap_or(&ics);
            for line in body.split("\r\n") {
                assert!(
                    !line.chars().any(|c| c.is_control() && c != '\t'),
                    "{payload:?}: a control character in {line:?}"
                );
                assert!(
                    line.len() <= 75,
                    "{payload:?}: {} octets in {line:?}",
                    line.len()
                );
            }
            let events = body.split("\r\n").filter(|l| *l == "BEGIN:VEVENT").count();
            assert_eq!(events, 1, "{payload:?}:\n{ics}");
            assert!(
                !body.split("\r\n").any(|l| l.starts_with("SUMMARY:NEP")),
                "{payload:?}"
            );
        }
    }

    #[test]
    fn the_calendar_gives_utc_times_stable_uids_and_escaped_text() {
        let edition = Editions::built_in().get(2017).cloned().unwrap();
        let ics = programme_calendar(
            &edition,
            &[
                published(
                    "abc",
                    "Respect; samen, niet tegen elkaar",
                    "2017-11-08",
                    "09:00",
                    "11:30",
                ),
                // After the switch to winter time: still +01:00 in November.
                published("def", "Avondles", "2017-11-12", "19:00", "21:00"),
            ],
        );
        let lines: Vec<&str> = ics.split("\r\n").collect();
        for expected in [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//Gemeente Dronten//loket//NL",
            "X-WR-TIMEZONE:Europe/Amsterdam",
            "UID:abc@loket.dronten.nl",
            "DTSTART:20171108T080000Z",
            "DTEND:20171108T103000Z",
            "DTSTAMP:20171003T073000Z",
            "SUMMARY:Respect\\; samen\\, niet tegen elkaar",
            "LOCATION:Lijsterbeslaan 2\\, Dronten",
            "UID:def@loket.dronten.nl",
            "DTSTART:20171112T180000Z",
            "END:VCALENDAR",
        ] {
            assert!(lines.contains(&expected), "missing {expected:?} in\n{ics}");
        }
        assert_eq!(lines.iter().filter(|l| **l == "BEGIN:VEVENT").count(), 2);
        for secret in ["J. Bakker", "j.bakker@regenboog.nl", "0321 654321"] {
            assert!(!ics.contains(secret), "{secret}");
        }
    }
}
