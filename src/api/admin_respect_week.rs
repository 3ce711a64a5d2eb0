//! Staff routes for the Week van Respect (docs/api.md "Staff"): the registrations of an
//! edition with contact data, one registration with its full history, the review
//! (`publish` or `decline`) under `If-Match`, and the summary per organisation type.
//! Every handler takes [`Staff`] first, so a request without a valid staff token is
//! refused before anything else is read.
//!
//! The list is in programme order (date, then start time); `?status=` narrows it.
//! The summary is one read of the aggregates kept by every change.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::respect_week::{
    self, Actor, Registration, RegistrationAction, RegistrationStatus, RespectWeekSummary,
};
use crate::store::StoreError;

use super::auth::Staff;
use super::error::{ApiError, ApiResult};
use super::extract::{IfMatch, with_etag};
use super::history::StaffChange;
use super::query::{RegistrationListQuery, ValidatedQuery};
use super::respect_week::{RegistrationRecord, edition_of};
use super::state::AppState;
use super::validate::{
    Field, RequestBody, Text, ValidatedJson, choice, optional_paragraph, optional_text,
};
use validator::Validate;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/respect-week/{year}/activities", get(list))
        .route("/admin/respect-week/{year}/activities/{id}", get(read))
        .route(
            "/admin/respect-week/{year}/activities/{id}/review",
            post(review),
        )
        .route("/admin/respect-week/{year}/summary", get(summary))
}

// ---------------------------------------------------------------------------------
// Views

/// The detail: the registration and its full history.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffRegistrationDetail {
    #[serde(flatten)]
    pub registration: RegistrationRecord,
    pub history: Vec<StaffChange<RegistrationStatus>>,
}

impl StaffRegistrationDetail {
    pub fn of(reg: &Registration) -> StaffRegistrationDetail {
        StaffRegistrationDetail {
            registration: RegistrationRecord::of(reg),
            history: StaffChange::list(&reg.history),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StaffRegistrationPage {
    pub items: Vec<RegistrationRecord>,
    /// Pass as `?cursor=` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

// ---------------------------------------------------------------------------------
// Handlers

#[utoipa::path(get, path = "/admin/respect-week/{year}/activities", tag = "admin", operation_id = "staff_list_registrations",
    params(
        ("year" = i32, Path, description = "The edition's year"),
        RegistrationListQuery,
    ),
    security(("staff_jwt" = [])),
    responses(
        (status = 200, description = "By date and start time, contact data included", body = StaffRegistrationPage),
        (status = 400, description = "An unknown, repeated or malformed parameter, or a tampered cursor", body = super::error::Problem),
        (status = 401, description = "No valid staff token", body = super::error::Problem),
        (status = 403, description = "Not a staff member", body = super::error::Problem),
        (status = 404, description = "No edition in that year", body = super::error::Problem),
    ))]
pub async fn list(
    _staff: Staff,
    State(state): State<AppState>,
    Path(year): Path<String>,
    ValidatedQuery((status, page)): ValidatedQuery<RegistrationListQuery>,
) -> ApiResult<Json<StaffRegistrationPage>> {
    let edition = edition_of(&state, &year)?;
    let page = state
        .store
        .registrations()
        .list(edition.year, status, page.after(&state)?, page.limit)
        .await?;
    Ok(Json(StaffRegistrationPage {
        items: page.items.iter().map(RegistrationRecord::of).collect(),
        next_cursor: page.next.map(|p| state.cursors.seal(&p)),
    }))
}

/// The registration `id` of the edition `year`; 404 for an unknown edition or id, or
/// a registration of another edition.
pub async fn load(
    state: &AppState,
    year: &str,
    id: &str,
) -> ApiResult<(respect_week::Edition, Registration)> {
    let edition = edition_of(state, year)?;
    let reg = state
        .store
        .registrations()
        .get(id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if reg.year != edition.year {
        return Err(ApiError::NotFound);
    }
    Ok((edition, reg))
}

#[utoipa::path(get, path = "/admin/respect-week/{year}/activities/{id}", tag = "admin", operation_id = "staff_read_registration",
    params(
        ("year" = i32, Path, description = "The edition's year"),
        ("id" = String, Path, description = "The registration's id"),
    ),
    security(("staff_jwt" = [])),
    responses(
        (status = 200, description = "The registration with its full history, actors included", body = StaffRegistrationDetail,
         headers(("ETag" = String, description = "The version, quoted: send it back in If-Match"))),
        (status = 401, description = "No valid staff token", body = super::error::Problem),
        (status = 403, description = "Not a staff member", body = super::error::Problem),
        (status = 404, description = "Unknown edition or id", body = super::error::Problem),
    ))]
pub async fn read(
    _staff: Staff,
    State(state): State<AppState>,
    Path((year, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let (_, reg) = load(&state, &year, &id).await?;
    Ok(with_etag(
        reg.version,
        Json(StaffRegistrationDetail::of(&reg)),
    ))
}

/// What a staff member decides on a registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationReviewAction {
    Publish,
    Decline,
}

/// A staff decision on a registration: `reason` is needed for `decline`, optional
/// for `publish`.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(default)]
pub struct RegistrationReviewRequest {
    #[validate(custom(function = "choice"))]
    #[schema(value_type = RegistrationReviewAction, required = true)]
    pub action: Field<RegistrationReviewAction>,
    /// Line breaks allowed; blank counts as not given.
    #[validate(custom(function = "optional_paragraph"), length(max = 2000))]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub reason: Field<Text>,
}

impl RequestBody for RegistrationReviewRequest {
    type Valid = RegistrationAction;

    fn into_valid(self) -> Option<RegistrationAction> {
        let reason = optional_text(self.reason);
        Some(match self.action.into_given()? {
            RegistrationReviewAction::Publish => RegistrationAction::Publish { reason },
            // An empty reason is refused by the domain (422 `reason`).
            RegistrationReviewAction::Decline => RegistrationAction::Decline {
                reason: reason.unwrap_or_default(),
            },
        })
    }
}

#[utoipa::path(post, path = "/admin/respect-week/{year}/activities/{id}/review", tag = "admin", operation_id = "review_registration",
    params(
        ("year" = i32, Path, description = "The edition's year"),
        ("id" = String, Path, description = "The registration's id"),
        ("If-Match" = String, Header, description = "The ETag of the version being decided on"),
    ),
    request_body = RegistrationReviewRequest,
    security(("staff_jwt" = [])),
    responses(
        (status = 200, description = "The new state, with the decision in the history", body = StaffRegistrationDetail,
         headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 401, description = "No valid staff token", body = super::error::Problem),
        (status = 403, description = "Not a staff member", body = super::error::Problem),
        (status = 404, description = "Unknown edition or id", body = super::error::Problem),
        (status = 409, description = "Not allowed in the registration's status (only `registered` can be decided on)", body = super::error::Problem),
        (status = 412, description = "If-Match names an older version (someone else changed it)", body = super::error::Problem),
        (status = 422, description = "Unknown action, or a decline without a reason", body = super::error::Problem),
        (status = 428, description = "No If-Match", body = super::error::Problem),
    ))]
pub async fn review(
    staff: Staff,
    State(state): State<AppState>,
    Path((year, id)): Path<(String, String)>,
    if_match: IfMatch,
    body: ValidatedJson<RegistrationReviewRequest>,
) -> ApiResult<Response> {
    let next = decide(&state, &staff, &year, &id, if_match.version(), body.value).await?;
    Ok(with_etag(
        next.version,
        Json(StaffRegistrationDetail::of(&next)),
    ))
}

/// A staff decision on the version seen (the API's review and the staff pages): 412
/// when the registration moved on since; an unknown one stays a 404.
pub async fn decide(
    state: &AppState,
    staff: &Staff,
    year: &str,
    id: &str,
    seen: ApiResult<u64>,
    action: RegistrationAction,
) -> ApiResult<Registration> {
    let (edition, reg) = load(state, year, id).await?;
    if reg.version != seen? {
        return Err(ApiError::PreconditionFailed);
    }
    let next = reg.apply(
        &action,
        Actor::Staff(staff.id.clone()),
        &edition,
        state.clock.now(),
    )?;
    let messages = state
        .mail
        .about_registration(Some(&reg), &next, None, state.real_clock.now());
    match state
        .store
        .registrations()
        .transition(&reg, &next, &messages)
        .await
    {
        Ok(()) => {}
        // Changed between our read and our write: the client's version is stale now.
        Err(StoreError::VersionConflict) => return Err(ApiError::PreconditionFailed),
        Err(e) => return Err(e.into()),
    }
    tracing::info!(reference = %next.reference, action = action.name(), staff = %staff.id, "Week van Respect registration reviewed");
    Ok(next)
}

#[utoipa::path(get, path = "/admin/respect-week/{year}/summary", tag = "admin",
    params(("year" = i32, Path, description = "The edition's year")),
    security(("staff_jwt" = [])),
    responses(
        (status = 200, description = "Counts per organisation type and status (every one, zeros included) and the participants of the published activities", body = RespectWeekSummary),
        (status = 401, description = "No valid staff token", body = super::error::Problem),
        (status = 403, description = "Not a staff member", body = super::error::Problem),
        (status = 404, description = "No edition in that year", body = super::error::Problem),
    ))]
pub async fn summary(
    _staff: Staff,
    State(state): State<AppState>,
    Path(year): Path<String>,
) -> ApiResult<Json<RespectWeekSummary>> {
    let edition = edition_of(&state, &year)?;
    let buckets = state.store.registrations().summary(edition.year).await?;
    Ok(Json(respect_week::summary(edition.year, &buckets)))
}
