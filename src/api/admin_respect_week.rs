//! Staff routes for the Week van Respect (docs/api.md "Staff"): the registrations of an
//! edition with contact data, one registration with its full history, the review
//! (`publish` or `decline`) under `If-Match`, the summary per organisation type, and
//! the coordinator's CSV of contacts and guest-lesson requests.
//! Every handler takes [`Staff`] first, so a request without a valid staff token is
//! refused before anything else is read.
//!
//! The list is in programme order (date, then start time); `?status=` narrows it.
//! The summary is one read of the aggregates kept by every change.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::app::{AppError, staff_respect_week};
use crate::domain::respect_week::{
    Registration, RegistrationAction, RegistrationStatus, RespectWeekSummary,
};

use super::admin::csv_download;
use super::auth::Staff;
use super::error::ApiResult;
use super::extract::{IfMatch, with_etag};
use super::history::StaffChange;
use super::query::{DialectQuery, RegistrationListQuery, ValidatedQuery};
use super::respect_week::{RegistrationRecord, edition_of};
use super::state::AppState;
use super::validate::{
    Field, RequestBody, Text, ValidatedJson, choice, optional_paragraph, optional_text,
};
use validator::Validate;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(read))
        .routes(routes!(review))
        .routes(routes!(summary))
        .routes(routes!(contacts_csv))
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
    let page =
        staff_respect_week::list(&state, &edition, status, page.after(&state)?, page.limit).await?;
    Ok(Json(StaffRegistrationPage {
        items: page.items.iter().map(RegistrationRecord::of).collect(),
        next_cursor: page.next.map(|p| state.cursors.seal(&p)),
    }))
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
    let (_, reg) = staff_respect_week::load(&state, &year, &id).await?;
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
    let seen = if_match.version().map_err(AppError::from);
    let next = staff_respect_week::decide(&state, &staff.id, &year, &id, seen, body.value).await?;
    Ok(with_etag(
        next.version,
        Json(StaffRegistrationDetail::of(&next)),
    ))
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
    Ok(Json(staff_respect_week::summary(&state, &edition).await?))
}

#[utoipa::path(get, path = "/admin/respect-week/{year}/contacts.csv", tag = "admin", operation_id = "export_respect_week_contacts",
    params(
        ("year" = i32, Path, description = "The edition's year"),
        DialectQuery,
    ),
    security(("staff_jwt" = [])),
    responses(
        (status = 200, description = "One row per registration of the edition in programme order: status, whether a guest lesson was asked for, organisation, contact (empty once erased) and activity; formula-like cells are prefixed with '. The export is recorded (who, which year, when, how many rows).",
         content_type = "text/csv", body = String),
        (status = 400, description = "A bad or unknown parameter", body = super::error::Problem),
        (status = 401, description = "No valid staff token", body = super::error::Problem),
        (status = 403, description = "Not a staff member", body = super::error::Problem),
        (status = 404, description = "No edition in that year", body = super::error::Problem),
    ))]
pub async fn contacts_csv(
    staff: Staff,
    State(state): State<AppState>,
    Path(year): Path<String>,
    ValidatedQuery(dialect): ValidatedQuery<DialectQuery>,
) -> ApiResult<Response> {
    let edition = edition_of(&state, &year)?;
    let export = staff_respect_week::export_contacts(&state, &staff.id, &edition, dialect).await?;
    Ok(csv_download(export))
}
