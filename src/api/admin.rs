//! Staff routes for event permits (docs/api.md "Staff"): the list with filters, the detail
//! with its full history, review actions under `If-Match`, the CSV export (itself
//! recorded) and the live leges coverage report. Every handler takes [`Staff`] first,
//! so a request without a valid staff token is refused before anything else is read.
//!
//! Query parameters: an unknown, repeated or malformed parameter is a 400
//! (`invalid_query`) naming every bad one; an empty value (`?status=`) counts as
//! absent.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::app::{AppError, staff_permits};
use crate::domain::coverage::CoverageReport;
use crate::domain::permit::{Application, PermitAction, PermitStatus};
use crate::domain::risk::Category;

use super::auth::Staff;
use super::error::ApiResult;
use super::extract::{IfMatch, with_etag};
use super::history::StaffChange;
use super::permits::PermitRecord;
use super::query::{ExportQuery, PermitListQuery, ValidatedQuery, YearQuery};
use super::state::AppState;
use super::validate::{
    Field, RequestBody, Text, ValidatedJson, broken, choice, optional_choice, optional_paragraph,
    optional_text,
};
use validator::{Validate, ValidationError};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(export_csv))
        .routes(routes!(read))
        .routes(routes!(review))
        .routes(routes!(leges_coverage))
}

// ---------------------------------------------------------------------------------
// Views

/// The detail: the application and its full history.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffPermitDetail {
    #[serde(flatten)]
    pub permit: PermitRecord,
    pub history: Vec<StaffChange<PermitStatus>>,
}

impl StaffPermitDetail {
    pub fn of(app: &Application) -> StaffPermitDetail {
        StaffPermitDetail {
            permit: PermitRecord::of(app),
            history: StaffChange::list(&app.history),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StaffPermitPage {
    /// Contact data included.
    pub items: Vec<PermitRecord>,
    /// Pass as `?cursor=` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

// ---------------------------------------------------------------------------------
// Handlers

#[utoipa::path(get, path = "/admin/permits", tag = "admin", operation_id = "staff_list_permits",
    params(PermitListQuery),
    security(("staff_jwt" = [])),
    responses(
        (status = 200, description = "Oldest submission first, contact data included", body = StaffPermitPage),
        (status = 400, description = "An unknown, repeated or malformed parameter, or a tampered cursor", body = super::error::Problem),
        (status = 401, description = "No valid staff token", body = super::error::Problem),
        (status = 403, description = "Not a staff member", body = super::error::Problem),
    ))]
pub async fn list(
    _staff: Staff,
    State(state): State<AppState>,
    ValidatedQuery((selection, page)): ValidatedQuery<PermitListQuery>,
) -> ApiResult<Json<StaffPermitPage>> {
    let page = staff_permits::list(&state, selection, page.after(&state)?, page.limit).await?;
    Ok(Json(StaffPermitPage {
        items: page.items.iter().map(PermitRecord::of).collect(),
        next_cursor: page.next.map(|p| state.cursors.seal(&p)),
    }))
}

#[utoipa::path(get, path = "/admin/permits/{id}", tag = "admin", operation_id = "staff_read_permit",
    params(("id" = String, Path, description = "The application's id")),
    security(("staff_jwt" = [])),
    responses(
        (status = 200, description = "The application with its full history, actors included", body = StaffPermitDetail,
         headers(("ETag" = String, description = "The version, quoted: send it back in If-Match"))),
        (status = 401, description = "No valid staff token", body = super::error::Problem),
        (status = 403, description = "Not a staff member", body = super::error::Problem),
        (status = 404, description = "Unknown id", body = super::error::Problem),
    ))]
pub async fn read(
    _staff: Staff,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let app = staff_permits::load(&state, &id).await?;
    Ok(with_etag(app.version, Json(StaffPermitDetail::of(&app))))
}

/// What a staff member decides on an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewAction {
    StartReview,
    RequestInfo,
    Approve,
    Reject,
    Reclassify,
    /// Set junk aside, with a reason: its leges leave the coverage.
    Void,
}

/// A staff decision on an application. `reason` is needed for `request_info`,
/// `reject` and `void`, optional for `approve` and `reclassify`, and not taken with
/// `start_review` (`not_applicable`). `category` goes only with `reclassify`, and is
/// required there.
// One `schema` attribute per cross-field rule, so that each reports its own error.
#[allow(clippy::duplicated_attributes)]
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(default)]
#[validate(schema(
    function = "category_only_with_reclassify",
    skip_on_field_errors = false
))]
#[validate(schema(function = "no_reason_with_start_review", skip_on_field_errors = false))]
pub struct ReviewRequest {
    #[validate(custom(function = "choice"))]
    #[schema(value_type = ReviewAction, required = true)]
    pub action: Field<ReviewAction>,
    /// Line breaks allowed; blank counts as not given.
    #[validate(custom(function = "optional_paragraph"), length(max = 2000))]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub reason: Field<Text>,
    #[validate(custom(function = "optional_choice"))]
    #[schema(value_type = Option<Category>)]
    pub category: Field<Category>,
}

fn category_only_with_reclassify(r: &ReviewRequest) -> Result<(), ValidationError> {
    match (r.action.given(), &r.category) {
        (Some(ReviewAction::Reclassify), Field::Missing) => Err(broken("category", "required", "")),
        (Some(action), Field::Given(_)) if *action != ReviewAction::Reclassify => {
            Err(broken("category", "not_applicable", ""))
        }
        _ => Ok(()),
    }
}

fn no_reason_with_start_review(r: &ReviewRequest) -> Result<(), ValidationError> {
    let has_reason = r.reason.given().is_some_and(|t| !t.normalised().is_empty());
    if r.action.given() == Some(&ReviewAction::StartReview) && has_reason {
        return Err(broken("reason", "not_applicable", ""));
    }
    Ok(())
}

impl RequestBody for ReviewRequest {
    type Valid = PermitAction;

    fn into_valid(self) -> Option<PermitAction> {
        let reason = optional_text(self.reason);
        Some(match self.action.into_given()? {
            ReviewAction::StartReview => PermitAction::StartReview,
            // An empty reason is refused by the domain (422 `reason`).
            ReviewAction::RequestInfo => PermitAction::RequestInfo {
                reason: reason.unwrap_or_default(),
            },
            ReviewAction::Approve => PermitAction::Approve { reason },
            ReviewAction::Reject => PermitAction::Reject {
                reason: reason.unwrap_or_default(),
            },
            ReviewAction::Void => PermitAction::Void {
                reason: reason.unwrap_or_default(),
            },
            ReviewAction::Reclassify => PermitAction::Reclassify {
                category: self.category.into_given()?,
                reason,
            },
        })
    }
}

#[utoipa::path(post, path = "/admin/permits/{id}/review", tag = "admin", operation_id = "review_permit",
    params(
        ("id" = String, Path, description = "The application's id"),
        ("If-Match" = String, Header, description = "The ETag of the version being decided on"),
    ),
    request_body = ReviewRequest,
    security(("staff_jwt" = [])),
    responses(
        (status = 200, description = "The new state, with the decision in the history", body = StaffPermitDetail,
         headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 401, description = "No valid staff token", body = super::error::Problem),
        (status = 403, description = "Not a staff member", body = super::error::Problem),
        (status = 404, description = "Unknown id", body = super::error::Problem),
        (status = 409, description = "Not allowed in the application's status", body = super::error::Problem),
        (status = 412, description = "If-Match names an older version (someone else changed it)", body = super::error::Problem),
        (status = 422, description = "Unknown action, missing reason, category without reclassify, …", body = super::error::Problem),
        (status = 428, description = "No If-Match", body = super::error::Problem),
    ))]
pub async fn review(
    staff: Staff,
    State(state): State<AppState>,
    Path(id): Path<String>,
    if_match: IfMatch,
    body: ValidatedJson<ReviewRequest>,
) -> ApiResult<Response> {
    let action = body.value;
    let seen = if_match.version().map_err(AppError::from);
    let next = staff_permits::decide(&state, &staff.id, &id, seen, action).await?;
    Ok(with_etag(next.version, Json(StaffPermitDetail::of(&next))))
}

#[utoipa::path(get, path = "/admin/permits.csv", tag = "admin",
    params(ExportQuery),
    security(("staff_jwt" = [])),
    responses(
        (status = 200, description = "One row per application submitted in the year; formula-like cells are prefixed with '. The export is recorded (who, which year, when, how many rows).",
         content_type = "text/csv", body = String),
        (status = 400, description = "A bad or unknown parameter", body = super::error::Problem),
        (status = 401, description = "No valid staff token", body = super::error::Problem),
        (status = 403, description = "Not a staff member", body = super::error::Problem),
    ))]
pub async fn export_csv(
    staff: Staff,
    State(state): State<AppState>,
    ValidatedQuery((year, dialect)): ValidatedQuery<ExportQuery>,
) -> ApiResult<Response> {
    let export = staff_permits::export(&state, &staff.id, year, dialect).await?;
    Ok(csv_download(export))
}

/// The export as a download, never cached.
pub fn csv_download(export: staff_permits::Export) -> Response {
    let mut response = export.csv.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let name = format!("attachment; filename=\"{}\"", export.file_name);
    if let Ok(v) = HeaderValue::from_str(&name) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

// ---------------------------------------------------------------------------------
// Coverage

#[utoipa::path(get, path = "/admin/leges/coverage", tag = "admin",
    params(YearQuery),
    security(("staff_jwt" = [])),
    responses(
        (status = 200, description = "The coverage of docs/domain.md, exact at this moment, from one read of the year's aggregates", body = CoverageReport),
        (status = 400, description = "A bad or unknown parameter, or a year without a tariff table", body = super::error::Problem),
        (status = 401, description = "No valid staff token", body = super::error::Problem),
        (status = 403, description = "Not a staff member", body = super::error::Problem),
    ))]
pub async fn leges_coverage(
    _staff: Staff,
    State(state): State<AppState>,
    ValidatedQuery(year): ValidatedQuery<YearQuery>,
) -> ApiResult<Json<CoverageReport>> {
    Ok(Json(staff_permits::coverage_report(&state, year).await?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::error::ApiError;
    use crate::api::validate::check_json;
    use serde_json::{Value, json};

    fn parse_review(body: &Value) -> ApiResult<PermitAction> {
        check_json::<ReviewRequest>(body)
    }

    fn codes(body: Value) -> Vec<(String, String)> {
        match parse_review(&body) {
            Ok(_) => Vec::new(),
            Err(ApiError::Validation(errors)) => {
                errors.into_iter().map(|e| (e.field, e.code)).collect()
            }
            Err(other) => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn review_bodies_are_checked_field_by_field() {
        let pair = |f: &str, c: &str| (f.to_string(), c.to_string());
        for (body, expected) in [
            (json!({"action": "approve"}), vec![]),
            (json!({"action": "reclassify", "category": "B"}), vec![]),
            (json!({"action": "reject", "reason": "Te laat"}), vec![]),
            (json!({}), vec![pair("action", "required")]),
            (json!({"action": "publish"}), vec![pair("action", "one_of")]),
            (
                json!({"action": "approve", "category": "A"}),
                vec![pair("category", "not_applicable")],
            ),
            (
                json!({"action": "reclassify"}),
                vec![pair("category", "required")],
            ),
            (
                json!({"action": "reclassify", "category": "D"}),
                vec![pair("category", "one_of")],
            ),
            (
                json!({"action": "start_review", "reason": "x"}),
                vec![pair("reason", "not_applicable")],
            ),
            (
                json!({"action": "approve", "extra": 1}),
                vec![pair("extra", "unknown_field")],
            ),
            (
                json!({"action": 3, "reason": 4}),
                vec![pair("action", "one_of"), pair("reason", "type")],
            ),
        ] {
            assert_eq!(codes(body.clone()), expected, "{body}");
        }
    }

    #[test]
    fn review_actions_map_onto_the_domain() {
        assert_eq!(
            parse_review(&json!({"action": "start_review"})).unwrap(),
            PermitAction::StartReview
        );
        assert_eq!(
            parse_review(&json!({"action": "reclassify", "category": "0", "reason": "Klein"}))
                .unwrap(),
            PermitAction::Reclassify {
                category: Category::Melding,
                reason: Some("Klein".into())
            }
        );
        assert_eq!(
            parse_review(&json!({"action": "reject"})).unwrap(),
            PermitAction::Reject {
                reason: String::new()
            },
            "the domain refuses the empty reason"
        );
    }
}
