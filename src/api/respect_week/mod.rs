//! Week van Respect for schools, sport clubs and the public (docs/api.md "Week van
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

use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::app::respect_week::{self, REGISTER_SCOPE};
use crate::app::{AppError, AppResult, Idempotent, StoredAnswer};
use crate::domain::respect_week::Edition;

use crate::api::error::ApiResult;
use crate::api::extract::{BearerToken, IdempotencyKey, created, with_etag};
use crate::api::state::AppState;
use crate::api::validate::JsonBody;

mod programme;
mod request;
pub mod snapshot;
mod views;

pub use programme::*;
pub use request::*;
pub use views::*;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(editions))
        .routes(routes!(programme, register))
        .routes(routes!(programme_ics))
        .routes(routes!(read))
        .routes(routes!(cancel))
        .routes(routes!(super::lost_link::registration_link))
}

/// The edition of a `{year}` path segment; 404 when there is none.
pub fn edition_of(state: &AppState, year: &str) -> ApiResult<Edition> {
    Ok(respect_week::edition_of(state, year)?)
}

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
        (status = 400, description = "Malformed JSON", body = crate::api::error::Problem),
        (status = 404, description = "No edition in that year", body = crate::api::error::Problem),
        (status = 409, description = "The same organisation already registered this title on this date at this start time (`duplicate`), or the same Idempotency-Key is still being processed", body = crate::api::error::Problem),
        (status = 413, description = "Body over 64 KiB", body = crate::api::error::Problem),
        (status = 415, description = "Not application/json", body = crate::api::error::Problem),
        (status = 422, description = "Invalid fields, `registration_closed`, `outside_edition`, or an Idempotency-Key reused for another body", body = crate::api::error::Problem),
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
    let once = Idempotent::new(REGISTER_SCOPE, key.0, &request_identity);
    let checked = body
        .validate_with(&RegistrationContext {
            edition: &edition,
            now: state.clocks.business(),
        })
        .map_err(AppError::from);
    let answer = respect_week::register(&state, &edition, &once, checked, created_answer).await?;
    Ok(created(answer))
}

/// The 201 of a registration, as it is stored for repeats.
fn created_answer(registered: &respect_week::Registered) -> AppResult<StoredAnswer> {
    let reg = &registered.registration;
    let body = RegistrationCreated {
        access_token: registered.access_token.clone(),
        registration: RegistrationView::of(reg),
    };
    let body = serde_json::to_string(&body).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(StoredAnswer::created(
        format!("/respect-week/{}/activities/{}", reg.year, reg.id),
        body,
    ))
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
        (status = 404, description = "Unknown edition or id, or a token that does not open it", body = crate::api::error::Problem),
    ))]
pub async fn read(
    State(state): State<AppState>,
    Path((year, id)): Path<(String, String)>,
    BearerToken(token): BearerToken,
) -> ApiResult<Response> {
    let (_, reg) = respect_week::load_for_registrant(&state, &year, &id, token.as_deref()).await?;
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
        (status = 404, description = "Unknown edition or id, or a token that does not open it", body = crate::api::error::Problem),
        (status = 409, description = "The edition has started (`edition_started`), or the registration is already cancelled or declined (`not_allowed`)", body = crate::api::error::Problem),
    ))]
pub async fn cancel(
    State(state): State<AppState>,
    Path((year, id)): Path<(String, String)>,
    BearerToken(token): BearerToken,
) -> ApiResult<Response> {
    let next = respect_week::cancel_as_registrant(&state, &year, &id, token.as_deref()).await?;
    Ok(with_etag(next.version, Json(RegistrationView::of(&next))))
}
