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

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;

use crate::domain::respect_week::{
    self, AGES, Edition, PARTICIPANTS, Registration, RegistrationAction, Violation,
};
use crate::store::retry_on_conflict;

use crate::api::error::{ApiError, ApiResult};
use crate::api::extract::{BearerToken, IdempotencyKey, with_etag};
use crate::api::idempotency::{Created, IdempotentPost};
use crate::api::messages;
use crate::api::secrets::{new_access_token, new_id, token_opens};
use crate::api::state::AppState;
use crate::api::validate::JsonBody;

mod programme;
mod request;
pub mod snapshot;
mod views;

pub use programme::*;
pub use request::*;
pub use views::*;

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
        .route(
            "/respect-week/lost-link",
            post(super::lost_link::registration_link),
        )
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
        (status = 409, description = "The same organisation already registered this title on this date (`duplicate`), or the same Idempotency-Key is still being processed", body = crate::api::error::Problem),
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
    let post = IdempotentPost::new(REGISTER_SCOPE, key, &request_identity);
    let checked = body.validate_with(&RegistrationContext {
        edition: &edition,
        now: state.clock.now(),
    });
    file(&state, &edition, &post, checked).await
}

/// Registers an activity (the API's `POST` and the registration form): the next
/// reference of the edition, the creation with its duplicate claim and summary, and
/// under `post`'s key the first response. Answers the 201 with
/// [`RegistrationCreated`], or a replay of it.
pub async fn file(
    state: &AppState,
    edition: &Edition,
    post: &IdempotentPost,
    checked: ApiResult<respect_week::NewRegistration>,
) -> ApiResult<Response> {
    let now = state.clock.now();
    post.run(state, checked, |form| async move {
        let registrations = state.store.registrations();
        let reference = registrations.next_reference(edition.year).await?;
        let (token, token_hash) = new_access_token();
        let reg = Registration::register(new_id(), reference, token_hash, form, edition, now)
            .map_err(|v| violations_error(v, edition))?;
        let messages =
            state
                .mail
                .about_registration(None, &reg, Some(&token), state.real_clock.now());
        let creation = registrations.create(&reg)?.notify(&messages)?;
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
pub async fn load_for_registrant(
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
        (status = 404, description = "Unknown edition or id, or a token that does not open it", body = crate::api::error::Problem),
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
        (status = 404, description = "Unknown edition or id, or a token that does not open it", body = crate::api::error::Problem),
        (status = 409, description = "The edition has started (`edition_started`), or the registration is already cancelled or declined (`not_allowed`)", body = crate::api::error::Problem),
    ))]
pub async fn cancel(
    State(state): State<AppState>,
    Path((year, id)): Path<(String, String)>,
    BearerToken(token): BearerToken,
) -> ApiResult<Response> {
    let next = cancel_as_registrant(&state, &year, &id, token.as_deref()).await?;
    Ok(with_etag(next.version, Json(RegistrationView::of(&next))))
}

/// The registrant cancels (the API and the private page). They send no version: a
/// concurrent staff change is absorbed by reading again and deciding again.
pub async fn cancel_as_registrant(
    state: &AppState,
    year: &str,
    id: &str,
    token: Option<&str>,
) -> ApiResult<Registration> {
    let next = retry_on_conflict(|| async {
        let (edition, reg) = load_for_registrant(state, year, id, token).await?;
        let next = reg.apply(
            &RegistrationAction::Cancel,
            respect_week::Actor::Registrant,
            &edition,
            state.clock.now(),
        )?;
        let messages =
            state
                .mail
                .about_registration(Some(&reg), &next, None, state.real_clock.now());
        state
            .store
            .registrations()
            .transition(&reg, &next, &messages)
            .await?;
        Ok::<_, ApiError>(next)
    })
    .await?;
    tracing::info!(reference = %next.reference, "Week van Respect activity cancelled");
    Ok(next)
}
