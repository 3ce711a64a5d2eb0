//! Staff routes for event permits (docs/api.md "Staff"): the list with filters, the detail
//! with its full history, review actions under `If-Match`, the CSV export (itself
//! recorded) and the live leges coverage report. Every handler takes [`Staff`] first,
//! so a request without a valid staff token is refused before anything else is read.
//!
//! Query parameters: an unknown, repeated or malformed parameter is a 400
//! (`invalid_query`) naming every bad one; an empty value (`?status=`) counts as
//! absent.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::audit::ExportAudit;
use crate::domain::coverage::{self, CoverageReport};
use crate::domain::permit::{Actor, Application, PermitAction, PermitStatus};
use crate::domain::risk::{Category, Kind};
use crate::domain::time::{local_rfc3339, local_year};
use crate::store::StoreError;

use super::auth::Staff;
use super::error::{ApiError, ApiResult};
use super::extract::{IfMatch, with_etag};
use super::history::StaffChange;
use super::permits::PermitRecord;
use super::query::{CsvDialect, ExportQuery, PermitListQuery, ValidatedQuery, YearQuery};
use super::secrets::new_id;
use super::state::AppState;
use super::validate::{
    Field, RequestBody, Text, ValidatedJson, broken, choice, optional_choice, optional_paragraph,
    optional_text,
};
use crate::domain::text::{self, Lines};
use validator::{Validate, ValidationError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/permits", get(list))
        .route("/admin/permits.csv", get(export_csv))
        .route("/admin/permits/{id}", get(read))
        .route("/admin/permits/{id}/review", post(review))
        .route("/admin/leges/coverage", get(leges_coverage))
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
    let page = state
        .store
        .permits()
        .list(selection, page.after(&state)?, page.limit)
        .await?;
    Ok(Json(StaffPermitPage {
        items: page.items.iter().map(PermitRecord::of).collect(),
        next_cursor: page.next.map(|p| state.cursors.seal(&p)),
    }))
}

pub async fn load(state: &AppState, id: &str) -> ApiResult<Application> {
    state
        .store
        .permits()
        .get(id)
        .await?
        .ok_or(ApiError::NotFound)
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
    let app = load(&state, &id).await?;
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
    let next = decide(&state, &staff, &id, if_match.version(), action).await?;
    Ok(with_etag(next.version, Json(StaffPermitDetail::of(&next))))
}

/// A staff decision on the version the staff member saw (the API's review and the
/// staff pages): 412 when the application moved on since. `seen` is judged after the
/// application is found, so an unknown id stays a 404.
pub async fn decide(
    state: &AppState,
    staff: &Staff,
    id: &str,
    seen: ApiResult<u64>,
    action: PermitAction,
) -> ApiResult<Application> {
    let app = load(state, id).await?;
    if app.version != seen? {
        return Err(ApiError::PreconditionFailed);
    }
    let next = app.apply(
        &action,
        Actor::Staff(staff.id.clone()),
        state.clock.now(),
        &state.catalogue.tariffs,
    )?;
    let messages = state
        .mail
        .about_permit(Some(&app), &next, None, state.real_clock.now());
    match state
        .store
        .permits()
        .transition(&app, &next, &messages)
        .await
    {
        Ok(()) => {}
        // Someone else changed it between our read and our write: the version the
        // client sent is stale now.
        Err(StoreError::VersionConflict) => return Err(ApiError::PreconditionFailed),
        Err(e) => return Err(e.into()),
    }
    tracing::info!(reference = %next.reference, action = action.name(), staff = %staff.id, "permit reviewed");
    Ok(next)
}

// ---------------------------------------------------------------------------------
// CSV export

/// The columns of the export, in order.
pub const CSV_COLUMNS: [&str; 25] = [
    "reference",
    "id",
    "status",
    "kind",
    "category",
    "risk_score",
    "submitted_at",
    "required_by",
    "late",
    "event_name",
    "kern",
    "address",
    "starts_at",
    "ends_at",
    "expected_visitors",
    "organiser_name",
    "organisation",
    "kvk_number",
    "email",
    "phone",
    "tariff_year",
    "total_cents",
    "refunded_cents",
    "net_cents",
    "version",
];

/// A cell as a spreadsheet may safely read it. Control and invisible characters
/// (NUL, a tab, CR, a zero-width space, a BOM, …) are dropped, whatever the store
/// holds; then a cell that a spreadsheet would run as a formula (its first character
/// that is not a space is `=`, `+`, `-` or `@`) gets a leading `'`, so it is shown
/// as text.
pub fn neutralise(cell: &str) -> String {
    let cell = text::printable(cell, Lines::Many);
    let first = cell.chars().find(|c| !c.is_whitespace());
    if matches!(first, Some('=' | '+' | '-' | '@')) {
        format!("'{cell}")
    } else {
        cell
    }
}

fn csv_row(app: &Application) -> Vec<String> {
    let e = &app.event;
    let o = &app.organiser;
    [
        app.reference.to_string(),
        app.id.clone(),
        app.status.as_str().to_string(),
        match app.kind {
            Kind::Melding => "melding",
            Kind::Vergunning => "vergunning",
        }
        .to_string(),
        app.category.as_str().to_string(),
        app.risk_score.to_string(),
        local_rfc3339::format(&app.submitted_at),
        app.deadline.required_by.to_string(),
        app.deadline.late.to_string(),
        e.name.clone(),
        e.kern.as_str().to_string(),
        e.address.clone(),
        local_rfc3339::format(&e.starts_at),
        local_rfc3339::format(&e.ends_at),
        e.expected_visitors.to_string(),
        o.name.clone(),
        o.organisation.clone().unwrap_or_default(),
        o.kvk_number
            .as_ref()
            .map(|k| k.as_str().to_string())
            .unwrap_or_default(),
        o.email.as_str().to_string(),
        o.phone.as_str().to_string(),
        app.leges.tariff_year.to_string(),
        app.leges.total_cents.to_string(),
        app.leges.refunded_cents.to_string(),
        app.leges.net_cents().to_string(),
        app.version.to_string(),
    ]
    .iter()
    .map(|cell| neutralise(cell))
    .collect()
}

/// The CSV of a year's applications, one row each, with a header row.
///
/// Every cell that is not a number is quoted, so a separator inside a cell never
/// splits it, whichever separator the spreadsheet assumes.
pub fn permits_csv(apps: &[Application], dialect: CsvDialect) -> Result<Vec<u8>, csv::Error> {
    let (delimiter, start): (u8, &[u8]) = match dialect {
        CsvDialect::Rfc4180 => (b',', b""),
        // The BOM tells Excel the file is UTF-8.
        CsvDialect::ExcelNl => (b';', "\u{feff}".as_bytes()),
    };
    let mut writer = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .quote_style(csv::QuoteStyle::NonNumeric)
        .from_writer(start.to_vec());
    writer.write_record(CSV_COLUMNS)?;
    for app in apps {
        writer.write_record(csv_row(app))?;
    }
    writer
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))
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
    export(&state, &staff, year, dialect).await
}

/// The CSV of a year's applications, recorded before it is handed out (the API and
/// the staff pages).
pub async fn export(
    state: &AppState,
    staff: &Staff,
    year: Option<i32>,
    dialect: CsvDialect,
) -> ApiResult<Response> {
    let now = state.clock.now();
    let year = year.unwrap_or_else(|| local_year(now));

    let apps = state.store.permits().list_all(year).await?;
    let body = permits_csv(&apps, dialect).map_err(|e| ApiError::Internal(format!("csv: {e}")))?;
    // Recorded before anything is handed out: no export without its audit entry.
    let audit = ExportAudit {
        export: "permits_csv".into(),
        staff: staff.id.clone(),
        year,
        at: now,
        rows: apps.len(),
    };
    state.store.audit().create(new_id(), &audit).await?;
    tracing::info!(staff = %audit.staff, year, rows = audit.rows, "permits exported");

    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) =
        HeaderValue::from_str(&format!("attachment; filename=\"vergunningen-{year}.csv\""))
    {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
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
    Ok(Json(coverage_report(&state, year).await?))
}

/// A year's coverage (the current year by default), from one read of its aggregates.
pub async fn coverage_report(state: &AppState, year: Option<i32>) -> ApiResult<CoverageReport> {
    let year = year.unwrap_or_else(|| local_year(state.clock.now()));
    let table = state
        .catalogue
        .tariffs
        .for_year(year)
        .ok_or_else(|| ApiError::BadRequest {
            code: "no_tariff",
            detail: format!(
                "Voor {year} is geen tarieventabel en dus geen kostenpost vastgesteld."
            ),
        })?;
    let buckets = state.store.permits().coverage(year).await?;
    Ok(coverage::report(
        year,
        table.coordination_cost_cents,
        &buckets,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::validate::check_json;
    use serde_json::{Value, json};

    #[test]
    fn formula_like_cells_are_neutralised_and_others_left_alone() {
        for (cell, out) in [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("+31 321", "'+31 321"),
            ("-1", "'-1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "x"),
            ("\rx", "x"),
            ("\t=1+1", "'=1+1"),
            ("\u{0}=1+1", "'=1+1"),
            ("\u{200b}=1+1", "'=1+1"),
            ("\u{feff}=1+1", "'=1+1"),
            ("\u{202e}@SUM(1)", "'@SUM(1)"),
            ("  =1+1", "'  =1+1"),
            ("\u{a0}-2", "'\u{a0}-2"),
            ("Zomer\u{0}fest", "Zomerfest"),
            ("regel 1\nregel 2", "regel 1\nregel 2"),
            ("A. de Vries", "A. de Vries"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(neutralise(cell), out, "{cell:?}");
        }
    }

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
