//! Event permits for organisers: quote, apply, follow, answer, withdraw.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use validator::{Validate, ValidationError};

use crate::app::{AppError, AppResult, Idempotent, StoredAnswer, permits};
use crate::domain::formats::{Email, KvkNumber, Phone, Reference};
use crate::domain::leges::Leges;
use crate::domain::permit::{Application, Event, Kern, Organiser, PermitAction, PermitStatus};
use crate::domain::risk::{Alcohol, Category, Deadline, Kind};
use crate::domain::time::{local_rfc3339, parse_timestamp};

use super::error::ApiResult;
use super::extract::{BearerToken, IdempotencyKey, created, with_etag};
use super::history::PublicChange;
use super::state::AppState;
use super::validate::{
    Field, Nested, RequestBody, Text, ValidatedJson, broken, choice, email, kern_choice, line,
    object, optional, optional_kvk_number, optional_line, optional_text, paragraph, parse_given,
    parse_optional, phone, required, timestamp,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(quote))
        .routes(routes!(submit))
        .routes(routes!(read))
        .routes(routes!(withdraw))
        .routes(routes!(answer_info))
        .routes(routes!(super::lost_link::permit_link))
}

/// The body of `POST /permits` and `POST /permits/quote`.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(default)]
pub struct PermitRequest {
    #[validate(custom(function = "object"), nested)]
    #[schema(value_type = OrganiserInput, required = true)]
    pub organiser: Nested<OrganiserInput>,
    #[validate(custom(function = "object"), nested)]
    #[schema(value_type = EventInput, required = true)]
    pub event: Nested<EventInput>,
}

/// The organiser as sent.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(default)]
pub struct OrganiserInput {
    /// Letters, digits, punctuation, symbols and spaces; stored trimmed and NFC.
    #[validate(custom(function = "line"), length(max = 200))]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200)]
    pub name: Field<Text>,
    /// Empty or blank counts as not given.
    #[validate(custom(function = "optional_line"), length(max = 200))]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub organisation: Field<Text>,
    /// Eight digits; empty counts as not given.
    #[validate(custom(function = "optional_kvk_number"))]
    #[schema(value_type = Option<String>, pattern = "^$|^[0-9]{8}$")]
    pub kvk_number: Field<String>,
    #[validate(custom(function = "email"))]
    #[schema(value_type = String, required = true, format = Email, max_length = 254)]
    pub email: Field<String>,
    /// 10 to 15 digits; spaces, dashes, parentheses and `+` may stand between them.
    #[validate(custom(function = "phone"))]
    #[schema(value_type = String, required = true, max_length = 30, pattern = r"^[ ()+\-]*([0-9][ ()+\-]*){10,15}$")]
    pub phone: Field<String>,
}

/// The event as sent. `ends_at` lies after `starts_at`, at most 366 days later; the
/// event starts after the moment of submission (`in_past`) and at most three
/// calendar years after the current one (`horizon`).
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(default)]
#[validate(schema(function = "ends_after_start", skip_on_field_errors = false))]
pub struct EventInput {
    #[validate(custom(function = "line"), length(max = 200))]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200)]
    pub name: Field<Text>,
    /// Line breaks allowed.
    #[validate(custom(function = "paragraph"), length(max = 5000))]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 5000)]
    pub description: Field<Text>,
    #[validate(custom(function = "kern_choice"))]
    #[schema(value_type = Kern, required = true)]
    pub kern: Field<Kern>,
    #[validate(custom(function = "line"), length(max = 200))]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200)]
    pub address: Field<Text>,
    /// RFC 3339 with an offset, e.g. `2017-08-18T12:00:00+02:00`.
    #[validate(custom(function = "timestamp"))]
    #[schema(value_type = String, format = DateTime, required = true)]
    pub starts_at: Field<String>,
    /// RFC 3339 with an offset; after `starts_at`.
    #[validate(custom(function = "timestamp"))]
    #[schema(value_type = String, format = DateTime, required = true)]
    pub ends_at: Field<String>,
    #[validate(custom(function = "required"), range(min = 1, max = 1_000_000))]
    #[schema(value_type = i64, required = true, minimum = 1, maximum = 1_000_000)]
    pub expected_visitors: Field<i64>,
    #[validate(custom(function = "required"))]
    #[schema(value_type = bool, required = true)]
    pub amplified_music: Field<bool>,
    /// At most 140 dB(A): louder is the threshold of pain, not an event (a typo).
    #[validate(custom(function = "optional"), range(min = 0, max = 140))]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 140)]
    pub max_sound_dba: Field<i64>,
    #[validate(custom(function = "required"))]
    #[schema(value_type = bool, required = true)]
    pub road_closure: Field<bool>,
    #[validate(custom(function = "choice"))]
    #[schema(value_type = Alcohol, required = true)]
    pub alcohol: Field<Alcohol>,
    #[validate(custom(function = "required"), range(min = 0, max = 1_000_000))]
    #[schema(value_type = i64, required = true, minimum = 0, maximum = 1_000_000)]
    pub largest_structure_m2: Field<i64>,
    #[validate(custom(function = "required"))]
    #[schema(value_type = bool, required = true)]
    pub on_water: Field<bool>,
    #[validate(custom(function = "required"))]
    #[schema(value_type = bool, required = true)]
    pub fireworks: Field<bool>,
    #[validate(custom(function = "required"))]
    #[schema(value_type = bool, required = true)]
    pub commercial: Field<bool>,
    #[validate(custom(function = "required"))]
    #[schema(value_type = bool, required = true)]
    pub non_profit: Field<bool>,
}

/// The longest event a permit application may span.
const MAX_EVENT_DAYS: i64 = 366;

fn ends_after_start(event: &EventInput) -> Result<(), ValidationError> {
    let moment = |f: &Field<String>| f.given().and_then(|t| parse_timestamp(t));
    if let (Some(start), Some(end)) = (moment(&event.starts_at), moment(&event.ends_at)) {
        if end <= start {
            return Err(broken("ends_at", "order", "ends_after_start"));
        } else if end - start > Duration::days(MAX_EVENT_DAYS) {
            return Err(broken("ends_at", "range", "at_most_a_year"));
        }
    }
    Ok(())
}

/// A whole number that passed its range check, as the domain's count.
fn count(field: Field<i64>) -> Option<u32> {
    field.into_given().and_then(|n| u32::try_from(n).ok())
}

impl RequestBody for PermitRequest {
    type Valid = (Organiser, Event);

    fn into_valid(self) -> Option<(Organiser, Event)> {
        let o = self.organiser.into_given()?;
        let e = self.event.into_given()?;
        let organiser = Organiser {
            name: o.name.into_given()?.normalised(),
            organisation: optional_text(o.organisation),
            kvk_number: parse_optional(o.kvk_number, KvkNumber::parse)?,
            email: parse_given(o.email, Email::parse)?,
            phone: parse_given(o.phone, Phone::parse)?,
        };
        let event = Event {
            name: e.name.into_given()?.normalised(),
            description: e.description.into_given()?.normalised(),
            kern: e.kern.into_given()?,
            address: e.address.into_given()?.normalised(),
            starts_at: parse_given(e.starts_at, parse_timestamp)?,
            ends_at: parse_given(e.ends_at, parse_timestamp)?,
            expected_visitors: count(e.expected_visitors)?,
            amplified_music: e.amplified_music.into_given()?,
            max_sound_dba: match e.max_sound_dba {
                Field::Missing => None,
                given => Some(count(given)?),
            },
            road_closure: e.road_closure.into_given()?,
            alcohol: e.alcohol.into_given()?,
            largest_structure_m2: count(e.largest_structure_m2)?,
            on_water: e.on_water.into_given()?,
            fireworks: e.fireworks.into_given()?,
            commercial: e.commercial.into_given()?,
            non_profit: e.non_profit.into_given()?,
        };
        Some((organiser, event))
    }
}

/// What a submission now would give.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuoteView {
    pub kind: Kind,
    pub category: Category,
    pub risk_score: u32,
    pub event_days: u32,
    pub leges: Leges,
    pub deadline: Deadline,
}

#[utoipa::path(post, path = "/permits/quote", tag = "permits",
    request_body = PermitRequest,
    responses(
        (status = 200, description = "What a submission now would give; nothing is stored", body = QuoteView),
        (status = 422, description = "Invalid fields, or the event already started", body = super::error::Problem),
    ))]
pub async fn quote(
    State(state): State<AppState>,
    body: ValidatedJson<PermitRequest>,
) -> ApiResult<Json<QuoteView>> {
    let (_, event) = body.value;
    let q = permits::quote(&state, &event)?;
    Ok(Json(QuoteView {
        kind: q.assessment.kind,
        category: q.assessment.category,
        risk_score: q.assessment.risk_score,
        event_days: q.assessment.event_days,
        leges: q.leges,
        deadline: q.deadline,
    }))
}

/// An application as everybody who may see it sees it: everything submitted and
/// everything decided so far. The organiser's view adds the public history, the
/// staff's detail the full one.
#[derive(Debug, Serialize, ToSchema)]
pub struct PermitRecord {
    pub id: String,
    pub reference: Reference,
    pub status: PermitStatus,
    pub kind: Kind,
    pub category: Category,
    pub risk_score: u32,
    pub leges: Leges,
    pub deadline: Deadline,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "local_rfc3339")]
    pub submitted_at: DateTime<Utc>,
    pub version: u64,
    pub organiser: Organiser,
    pub event: Event,
}

impl PermitRecord {
    pub fn of(app: &Application) -> PermitRecord {
        PermitRecord {
            id: app.id.clone(),
            reference: app.reference.clone(),
            status: app.status,
            kind: app.kind,
            category: app.category,
            risk_score: app.risk_score,
            leges: app.leges.clone(),
            deadline: app.deadline,
            submitted_at: app.submitted_at,
            version: app.version,
            organiser: app.organiser.clone(),
            event: app.event.clone(),
        }
    }
}

/// The application as its organiser sees it: no staff identities in the history.
#[derive(Debug, Serialize, ToSchema)]
pub struct PermitView {
    #[serde(flatten)]
    pub permit: PermitRecord,
    pub history: Vec<PublicChange<PermitStatus>>,
}

impl PermitView {
    pub fn of(app: &Application) -> PermitView {
        PermitView {
            permit: PermitRecord::of(app),
            history: PublicChange::list(&app.history),
        }
    }
}

/// The 201 of a submission: the application and, this once, its access token.
#[derive(Debug, Serialize, ToSchema)]
pub struct PermitCreated {
    pub access_token: String,
    #[serde(flatten)]
    pub application: PermitView,
}

#[utoipa::path(post, path = "/permits", tag = "permits",
    request_body = PermitRequest,
    params(("Idempotency-Key" = Option<String>, Header, pattern = "^[A-Za-z0-9_-]{1,64}$", description = "1–64 of [A-Za-z0-9_-]; a repeat within 24 h replays the first response")),
    responses(
        (status = 201, description = "Submitted; the access token is shown only here", body = PermitCreated,
         headers(("Location" = String, description = "/permits/{id}"))),
        (status = 400, description = "Malformed JSON", body = super::error::Problem),
        (status = 409, description = "The same Idempotency-Key is still being processed", body = super::error::Problem),
        (status = 413, description = "Body over 64 KiB", body = super::error::Problem),
        (status = 415, description = "Not application/json", body = super::error::Problem),
        (status = 422, description = "Invalid fields, event already started, or an Idempotency-Key reused for another body", body = super::error::Problem),
    ))]
pub async fn submit(
    State(state): State<AppState>,
    key: IdempotencyKey,
    body: ValidatedJson<PermitRequest>,
) -> ApiResult<Response> {
    let once = Idempotent::new("POST /permits", key.0, &body.raw);
    let answer = permits::file(&state, &once, Ok(body.value), created_answer).await?;
    Ok(created(answer))
}

/// The 201 of a submission, as it is stored for repeats.
fn created_answer(filed: &permits::Filed) -> AppResult<StoredAnswer> {
    let app = &filed.application;
    let body = PermitCreated {
        access_token: filed.access_token.clone(),
        application: PermitView::of(app),
    };
    let body = serde_json::to_string(&body).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(StoredAnswer::created(format!("/permits/{}", app.id), body))
}

#[utoipa::path(get, path = "/permits/{id}", tag = "permits", operation_id = "read_permit",
    params(("id" = String, Path, description = "The application's id")),
    security(("access_token" = [])),
    responses(
        (status = 200, description = "The application with its history", body = PermitView,
         headers(("ETag" = String, description = "The version, quoted"))),
        (status = 404, description = "Unknown id, or a token that does not open it", body = super::error::Problem),
    ))]
pub async fn read(
    State(state): State<AppState>,
    Path(id): Path<String>,
    BearerToken(token): BearerToken,
) -> ApiResult<Response> {
    let app = permits::load_for_organiser(&state, &id, token.as_deref()).await?;
    Ok(with_etag(app.version, Json(PermitView::of(&app))))
}

/// Applies an organiser's action and answers the new state.
async fn organiser_action(
    state: &AppState,
    id: &str,
    token: Option<&str>,
    action: PermitAction,
) -> ApiResult<Response> {
    let next = permits::act_as_organiser(state, id, token, action).await?;
    Ok(with_etag(next.version, Json(PermitView::of(&next))))
}

#[utoipa::path(post, path = "/permits/{id}/withdraw", tag = "permits",
    params(("id" = String, Path, description = "The application's id")),
    security(("access_token" = [])),
    responses(
        (status = 200, description = "Withdrawn; half of the leges refunded", body = PermitView),
        (status = 404, description = "Unknown id or wrong token", body = super::error::Problem),
        (status = 409, description = "Already decided or withdrawn", body = super::error::Problem),
    ))]
pub async fn withdraw(
    State(state): State<AppState>,
    Path(id): Path<String>,
    BearerToken(token): BearerToken,
) -> ApiResult<Response> {
    organiser_action(&state, &id, token.as_deref(), PermitAction::Withdraw).await
}

/// The organiser's answer to a request for information.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(default)]
pub struct InfoRequest {
    /// Line breaks allowed.
    #[validate(custom(function = "paragraph"), length(max = 5000))]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 5000)]
    pub message: Field<Text>,
}

impl RequestBody for InfoRequest {
    type Valid = String;

    fn into_valid(self) -> Option<String> {
        Some(self.message.into_given()?.normalised())
    }
}

#[utoipa::path(post, path = "/permits/{id}/info", tag = "permits",
    params(("id" = String, Path, description = "The application's id")),
    request_body = InfoRequest,
    security(("access_token" = [])),
    responses(
        (status = 200, description = "Answered; back in review", body = PermitView),
        (status = 404, description = "Unknown id or wrong token", body = super::error::Problem),
        (status = 409, description = "No information was requested", body = super::error::Problem),
        (status = 422, description = "No message", body = super::error::Problem),
    ))]
pub async fn answer_info(
    State(state): State<AppState>,
    Path(id): Path<String>,
    BearerToken(token): BearerToken,
    body: ValidatedJson<InfoRequest>,
) -> ApiResult<Response> {
    let message = body.value;
    organiser_action(
        &state,
        &id,
        token.as_deref(),
        PermitAction::AnswerInfo { message },
    )
    .await
}
