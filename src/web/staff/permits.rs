//! The staff's permit pages: the work queue and an application with its decisions.
//!
//! Every decision carries the version it was made on. When someone else changed the
//! application in between, nothing is written: the page says so, shows what changed
//! since that version, and offers the decision again on the fresh one.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Duration, NaiveDate, NaiveTime};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::api::admin::ReviewRequest;
use crate::api::error::{ApiError, ApiResult};
use crate::api::state::AppState;
use crate::api::validate::JsonBody;
use crate::app::AppError;
use crate::app::profile;
use crate::app::staff_permits::{self, PermitSelection};
use crate::domain::permit::{Application, PermitStatus};
use crate::domain::risk::{Category, EventSpan, melding_blockers, risk_factors};
use crate::domain::time::local;
use crate::dutch::{
    action_text, actor_text, alcohol_text, category_text, dutch_date, euro, short_date,
    status_for_staff,
};
use crate::web::cookies::{self, CheckedForm};
use crate::web::form::Errors;
use crate::web::permits::{blocker_text, factor_text, leges_lines};
use crate::web::{Page, html, not_found_page};

use super::session::StaffSession;

/// An application due this close is marked as soon due.
const SOON_DAYS: i64 = 14;

#[derive(Deserialize, Default)]
pub struct QueueFilter {
    status: Option<String>,
    categorie: Option<String>,
    te_laat: Option<String>,
    sorteer: Option<String>,
    /// Events starting on or after this date (`YYYY-MM-DD`).
    van: Option<String>,
    /// Events starting on or before this date.
    tot: Option<String>,
}

struct Row {
    id: String,
    reference: String,
    /// When it came in, `1-3-2017`.
    received: String,
    organiser: String,
    event: String,
    event_date: String,
    category: &'static str,
    status: &'static str,
    required_by: String,
    late: bool,
    soon: bool,
    /// The organiser answered a question and nobody acted since.
    answered: bool,
}

#[derive(Template)]
#[template(path = "staff_queue.html")]
struct QueuePage {
    page: Page,
    csrf: String,
    staff: String,
    rows: Vec<Row>,
    status: String,
    categorie: String,
    te_laat: String,
    sorteer: String,
    van: String,
    tot: String,
    statuses: Vec<(&'static str, &'static str)>,
    categories: Vec<(&'static str, &'static str)>,
    /// E-mails that failed again and again: (what, to, since, last error).
    parked: Vec<(String, String, String, String)>,
}

/// The queue's default: applications still waiting for a decision.
const OPEN: &str = "open";

pub async fn queue(
    StaffSession(staff): StaffSession,
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(filter): Query<QueueFilter>,
) -> Response {
    // Open applications unless staff ask for others: closed ones are history.
    let wanted = filter.status.as_deref().unwrap_or(OPEN);
    let status = PermitStatus::ALL.into_iter().find(|p| p.as_str() == wanted);
    let only_open = wanted == OPEN;
    let category = filter.categorie.as_deref().and_then(Category::parse);
    let late = match filter.te_laat.as_deref() {
        Some("ja") => Some(true),
        Some("nee") => Some(false),
        _ => None,
    };
    let selection = PermitSelection {
        status,
        year: None,
        late,
    };
    let mut apps = match staff_permits::select_all(&state, selection).await {
        Ok(apps) => apps,
        Err(e) => return crate::web::error_page(&e.into()),
    };
    let day = |text: &Option<String>| {
        text.as_deref()
            .and_then(|t| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok())
    };
    let (from, until) = (day(&filter.van), day(&filter.tot));
    apps.retain(|a| {
        let starts = local(a.event.starts_at).date();
        category.is_none_or(|c| a.category == c)
            && (!only_open || a.status.is_open())
            && from.is_none_or(|f| starts >= f)
            && until.is_none_or(|u| starts <= u)
    });
    // Oldest received first unless staff choose otherwise: first come, first served.
    apps.sort_by_key(|a| match filter.sorteer.as_deref() {
        Some("datum") => (a.event.starts_at, a.reference.to_string()),
        Some("uiterlijk") => (
            a.deadline.required_by.and_time(NaiveTime::MIN).and_utc(),
            a.reference.to_string(),
        ),
        _ => (a.submitted_at, a.reference.to_string()),
    });
    let today = local(state.clocks.business()).date();
    let rows = apps
        .iter()
        .map(|a| Row {
            id: a.id.clone(),
            reference: a.reference.to_string(),
            received: short_date(local(a.submitted_at).date()),
            organiser: a
                .organiser
                .organisation
                .clone()
                .unwrap_or_else(|| a.organiser.name.clone()),
            event: a.event.name.clone(),
            event_date: dutch_date(local(a.event.starts_at).date()),
            category: category_text(a.category),
            status: status_for_staff(a.status),
            required_by: dutch_date(a.deadline.required_by),
            late: a.deadline.late,
            soon: a.status.is_open() && soon_due(a.deadline.required_by, today),
            answered: a.answered_unseen(),
        })
        .collect();
    // Staff must know when an organiser was not told something.
    let parked = match staff_permits::parked_messages(&state).await {
        Ok(parked) => parked
            .into_iter()
            .map(|m| {
                let since = local(m.created_at);
                (
                    m.subject,
                    m.to,
                    format!("{} {}", dutch_date(since.date()), since.format("%H:%M")),
                    m.last_error.unwrap_or_default(),
                )
            })
            .collect(),
        Err(e) => return crate::web::error_page(&e.into()),
    };
    let (csrf, fresh) = cookies::csrf_token(&headers);
    let page = QueuePage {
        parked,
        page: Page::new("Aanvragen"),
        csrf: csrf.clone(),
        staff: staff.id,
        rows,
        status: if only_open {
            OPEN.to_string()
        } else {
            status.map(|s| s.as_str().to_string()).unwrap_or_default()
        },
        categorie: category.map(|c| c.as_str().to_string()).unwrap_or_default(),
        te_laat: filter.te_laat.unwrap_or_default(),
        sorteer: filter.sorteer.unwrap_or_default(),
        van: from.map(|d| d.to_string()).unwrap_or_default(),
        tot: until.map(|d| d.to_string()).unwrap_or_default(),
        statuses: [
            (OPEN, "Openstaand (nog geen besluit)"),
            ("", "Alle statussen"),
        ]
        .into_iter()
        .chain(PermitStatus::ALL.map(|s| (s.as_str(), status_for_staff(s))))
        .collect(),
        categories: std::iter::once(("", "Alle soorten"))
            .chain(Category::ALL.map(|c| (c.as_str(), category_text(c))))
            .collect(),
    };
    let mut response = html(page.render()).into_response();
    if fresh {
        cookies::remember_csrf(&mut response, &headers, &csrf);
    }
    response
}

fn soon_due(required_by: NaiveDate, today: NaiveDate) -> bool {
    required_by >= today && required_by - today <= Duration::days(SOON_DAYS)
}

#[derive(Template)]
#[template(path = "staff_permit.html")]
struct DetailPage {
    page: Page,
    csrf: String,
    staff: String,
    app: Detail,
    /// Set when a decision met a newer version: what changed since.
    conflict: Option<Vec<(String, String, String, String)>>,
    errors: Errors,
    action: String,
    reason: String,
    /// The categories to reclassify into, in words.
    categories: Vec<(&'static str, &'static str)>,
    /// Right after a decision was saved: the status it led to, in staff's words.
    saved: Option<&'static str>,
}

/// `?opgeslagen=1`: where a saved decision leads (post, redirect, get), so that the
/// page can say it was saved.
#[derive(Deserialize)]
pub struct Saved {
    opgeslagen: Option<String>,
}

struct Detail {
    id: String,
    version: u64,
    /// The decisions the status allows: the form offers only these.
    /// The decisions allowed now: code and the glossary's words.
    actions: Vec<(&'static str, &'static str)>,
    reference: String,
    status: &'static str,
    open: bool,
    fields: Vec<(&'static str, String)>,
    category: &'static str,
    risk_score: u32,
    reasons: Vec<String>,
    lines: Vec<(String, String)>,
    total: String,
    refunded: String,
    /// Withdrawn: part of the leges is not charged.
    has_discount: bool,
    required_by: String,
    late: bool,
    history: Vec<(String, String, String, String)>,
}

fn yes_no(flag: bool) -> String {
    if flag { "ja" } else { "nee" }.to_string()
}

fn history_rows(app: &Application, since: u64) -> Vec<(String, String, String, String)> {
    // Entry n (1-based) made version n.
    app.history
        .iter()
        .skip(since as usize)
        .map(|h| {
            let at = local(h.at);
            (
                format!("{} {}", dutch_date(at.date()), at.format("%H:%M")),
                actor_text(&h.actor).to_string(),
                status_for_staff(h.to).to_string(),
                h.reason.clone().unwrap_or_default(),
            )
        })
        .collect()
}

fn detail(app: &Application) -> Detail {
    let o = &app.organiser;
    let e = &app.event;
    let span = EventSpan::of(e);
    let mut reasons: Vec<String> = melding_blockers(e, &span)
        .into_iter()
        .map(|b| format!("Geen melding: {}.", blocker_text(b)))
        .collect();
    reasons.extend(risk_factors(e, &span).into_iter().map(factor_text));
    Detail {
        id: app.id.clone(),
        version: app.version,
        actions: app
            .status
            .staff_actions()
            .iter()
            .map(|a| (*a, action_text(a)))
            .collect(),
        reference: app.reference.to_string(),
        status: status_for_staff(app.status),
        open: app.status.is_open(),
        fields: vec![
            ("Naam organisator", o.name.clone()),
            ("Organisatie", o.organisation.clone().unwrap_or_default()),
            (
                "KvK-nummer",
                o.kvk_number
                    .as_ref()
                    .map(|k| k.as_str().to_string())
                    .unwrap_or_default(),
            ),
            ("E-mailadres", o.email.as_str().to_string()),
            ("Telefoonnummer", o.phone.as_str().to_string()),
            ("Evenement", e.name.clone()),
            ("Beschrijving", e.description.clone()),
            ("Kern", profile::with(|m| m.kern_name(&e.kern))),
            ("Adres", e.address.clone()),
            (
                "Begin",
                format!("{}", local(e.starts_at).format("%d-%m-%Y %H:%M")),
            ),
            (
                "Einde",
                format!("{}", local(e.ends_at).format("%d-%m-%Y %H:%M")),
            ),
            ("Bezoekers", e.expected_visitors.to_string()),
            ("Versterkte muziek", yes_no(e.amplified_music)),
            (
                "Geluid (dB(A))",
                e.max_sound_dba.map(|d| d.to_string()).unwrap_or_default(),
            ),
            ("Weg dicht", yes_no(e.road_closure)),
            ("Alcohol", alcohol_text(e.alcohol).to_string()),
            ("Grootste bouwwerk (m²)", e.largest_structure_m2.to_string()),
            ("Op het water", yes_no(e.on_water)),
            ("Vuurwerk", yes_no(e.fireworks)),
            ("Commercieel", yes_no(e.commercial)),
            ("Zonder winstoogmerk", yes_no(e.non_profit)),
        ],
        category: category_text(app.category),
        risk_score: app.risk_score,
        reasons,
        lines: leges_lines(&app.leges),
        total: euro(app.leges.total_cents),
        refunded: euro(app.leges.refunded_cents),
        has_discount: app.leges.refunded_cents > 0,
        required_by: dutch_date(app.deadline.required_by),
        late: app.deadline.late,
        history: history_rows(app, 0),
    }
}

#[allow(clippy::too_many_arguments)]
fn render_detail(
    headers: &HeaderMap,
    staff: &str,
    app: &Application,
    conflict: Option<Vec<(String, String, String, String)>>,
    errors: Errors,
    action: &str,
    reason: &str,
    status: StatusCode,
    saved: bool,
) -> Response {
    let (csrf, fresh) = cookies::csrf_token(headers);
    let page = DetailPage {
        page: Page::new(&format!("Aanvraag {}", app.reference)),
        csrf: csrf.clone(),
        staff: staff.to_string(),
        app: detail(app),
        conflict,
        errors,
        action: action.to_string(),
        reason: reason.to_string(),
        categories: Category::ALL
            .map(|c| (c.as_str(), category_text(c)))
            .to_vec(),
        saved: saved.then(|| status_for_staff(app.status)),
    };
    let mut response = (status, html(page.render())).into_response();
    if fresh {
        cookies::remember_csrf(&mut response, headers, &csrf);
    }
    response
}

pub async fn show(
    StaffSession(staff): StaffSession,
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(saved): Query<Saved>,
) -> Response {
    match load(&state, &id).await {
        Ok(app) => render_detail(
            &headers,
            &staff.id,
            &app,
            None,
            Errors::default(),
            "",
            "",
            StatusCode::OK,
            saved.opgeslagen.as_deref() == Some("1"),
        ),
        Err(ApiError::NotFound) => not_found_page(),
        Err(e) => crate::web::error_page(&e),
    }
}

/// The decision form as the body of the API's review.
fn review_json(values: &crate::web::form::Values) -> Value {
    let mut body = Map::new();
    values.text("action", &mut body, "action");
    values.text("reason", &mut body, "reason");
    if values.get("action") == "reclassify" {
        values.text("category", &mut body, "category");
    }
    Value::Object(body)
}

pub async fn decision(
    StaffSession(staff): StaffSession,
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    CheckedForm(values): CheckedForm,
) -> Response {
    let seen: Option<u64> = values.get("version").parse().ok();
    let raw = serde_json::to_vec(&review_json(&values)).unwrap_or_default();
    let checked = JsonBody::<ReviewRequest>::read(Bytes::from(raw)).and_then(|b| b.validate());
    let outcome = match checked {
        Ok(action) => {
            let seen = seen.ok_or(ApiError::PreconditionFailed);
            let seen = seen.map_err(AppError::from);
            staff_permits::decide(&state, &staff.id, &id, seen, action)
                .await
                .map_err(ApiError::from)
        }
        Err(e) => Err(e),
    };
    let (action, reason) = (values.get("action"), values.get("reason"));
    match outcome {
        Ok(_) => Redirect::to(&format!("/medewerkers/aanvragen/{id}?opgeslagen=1")).into_response(),
        Err(ApiError::PreconditionFailed) => match load(&state, &id).await {
            // Someone else was first: show what changed since the version seen, and
            // the decision again on the fresh one. Nothing was written.
            Ok(app) => {
                let since = seen.unwrap_or(0);
                render_detail(
                    &headers,
                    &staff.id,
                    &app,
                    Some(history_rows(&app, since)),
                    Errors::default(),
                    action,
                    reason,
                    StatusCode::CONFLICT,
                    false,
                )
            }
            Err(e) => crate::web::error_page(&e),
        },
        Err(e @ ApiError::Validation(_)) | Err(e @ ApiError::Conflict { .. }) => {
            match load(&state, &id).await {
                Ok(app) => {
                    let errors = match &e {
                        ApiError::Conflict { detail, .. } => Errors {
                            items: vec![crate::web::form::ErrorItem {
                                field: "action".into(),
                                label: "Besluit".into(),
                                message: detail.clone(),
                            }],
                        },
                        _ => Errors::of(&e, |f| match f {
                            "reason" | "category" => f.to_string(),
                            _ => "action".into(),
                        })
                        .unwrap_or_default(),
                    };
                    render_detail(
                        &headers,
                        &staff.id,
                        &app,
                        None,
                        errors,
                        action,
                        reason,
                        StatusCode::UNPROCESSABLE_ENTITY,
                        false,
                    )
                }
                Err(e) => crate::web::error_page(&e),
            }
        }
        Err(ApiError::NotFound) => not_found_page(),
        Err(e) => crate::web::error_page(&e),
    }
}

/// The application `id`, for a page.
async fn load(state: &AppState, id: &str) -> ApiResult<Application> {
    Ok(staff_permits::load(state, id).await?)
}
