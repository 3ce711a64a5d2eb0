//! The staff's Week van Respect page: an edition's registrations with publish and
//! decline (each on the version seen), and the summary per organisation type as a
//! chart with the figures as a table.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};

use crate::api::admin_respect_week::RegistrationReviewRequest;
use crate::api::error::ApiError;
use crate::api::state::AppState;
use crate::api::validate::JsonBody;
use crate::app::respect_week::edition_of;
use crate::app::{AppError, staff_respect_week};
use crate::domain::respect_week::{self, OrganisationType, RegistrationStatus};
use crate::dutch::dutch_date;
use crate::dutch::type_name;
use crate::web::cookies::{self, CheckedForm};
use crate::web::{Page, html, not_found_page};

use super::session::StaffSession;

struct Row {
    id: String,
    version: u64,
    reference: String,
    title: String,
    organisation: String,
    kind: &'static str,
    when: String,
    status: &'static str,
    can_publish: bool,
    can_decline: bool,
}

/// One bar of the chart: an organisation type and its registrations per status.
struct Bar {
    kind: &'static str,
    registered: i64,
    published: i64,
    declined: i64,
    cancelled: i64,
    /// The bars' widths in the chart's units (the largest total is 200).
    widths: [i64; 4],
    offsets: [i64; 4],
    y: i64,
}

#[derive(Template)]
#[template(path = "staff_respect_week.html")]
struct EditionPage {
    page: Page,
    csrf: String,
    staff: String,
    year: i32,
    rows: Vec<Row>,
    bars: Vec<Bar>,
    chart_height: i64,
    published_participants: i64,
    error: Option<String>,
}

fn status_text(status: RegistrationStatus) -> &'static str {
    match status {
        RegistrationStatus::Registered => "Aangemeld",
        RegistrationStatus::Published => "Gepubliceerd",
        RegistrationStatus::Declined => "Afgewezen",
        RegistrationStatus::Cancelled => "Afgemeld",
    }
}

fn bars(summary: &respect_week::RespectWeekSummary) -> Vec<Bar> {
    let largest = summary
        .by_type
        .values()
        .map(|c| c.registered + c.published + c.declined + c.cancelled)
        .max()
        .unwrap_or(0)
        .max(1);
    OrganisationType::ALL
        .iter()
        .enumerate()
        .map(|(i, kind)| {
            let c = summary.by_type.get(kind).copied().unwrap_or_default();
            let counts = [c.published, c.registered, c.declined, c.cancelled];
            let widths = counts.map(|n| n * 200 / largest);
            let mut offsets = [0; 4];
            for j in 1..4 {
                offsets[j] = offsets[j - 1] + widths[j - 1];
            }
            Bar {
                kind: type_name(*kind),
                registered: c.registered,
                published: c.published,
                declined: c.declined,
                cancelled: c.cancelled,
                widths,
                offsets,
                y: 10 + 30 * i as i64,
            }
        })
        .collect()
}

async fn render(
    state: &AppState,
    headers: &HeaderMap,
    staff: &str,
    year: &str,
    error: Option<String>,
) -> Response {
    let Ok(edition) = edition_of(state, year) else {
        return not_found_page();
    };
    let (all, summary) = match (
        staff_respect_week::list_all(state, &edition).await,
        staff_respect_week::summary(state, &edition).await,
    ) {
        (Ok(all), Ok(summary)) => (all, summary),
        (Err(e), _) | (_, Err(e)) => return crate::web::error_page(&e.into()),
    };
    let rows = all
        .iter()
        .map(|r| Row {
            id: r.id.clone(),
            version: r.version,
            reference: r.reference.to_string(),
            title: r.activity.title.clone(),
            organisation: r.organisation.name.clone(),
            kind: type_name(r.organisation.kind),
            when: format!(
                "{} {}",
                dutch_date(r.activity.date),
                r.activity.starts_at.format("%H:%M")
            ),
            status: status_text(r.status),
            can_publish: r.status == RegistrationStatus::Registered,
            can_decline: r.status == RegistrationStatus::Registered,
        })
        .collect();
    let bars = bars(&summary);
    let (csrf, fresh) = cookies::csrf_token(headers);
    let page = EditionPage {
        page: Page::new(&format!("Week van Respect {}", edition.year)),
        csrf: csrf.clone(),
        staff: staff.to_string(),
        year: edition.year,
        rows,
        chart_height: 20 + 30 * bars.len() as i64,
        bars,
        published_participants: summary.published_participants,
        error,
    };
    let mut response = html(page.render()).into_response();
    if fresh {
        cookies::remember_csrf(&mut response, headers, &csrf);
    }
    response
}

/// The edition of this year, or the next one.
pub async fn current(StaffSession(_): StaffSession, State(state): State<AppState>) -> Response {
    let year = crate::domain::time::local_year(state.clocks.business());
    let edition = state.catalogue.editions.current_or_next(year);
    Redirect::to(&format!("/medewerkers/week-van-respect/{edition}")).into_response()
}

pub async fn edition(
    StaffSession(staff): StaffSession,
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(year): Path<String>,
) -> Response {
    render(&state, &headers, &staff.id, &year, None).await
}

pub async fn review(
    StaffSession(staff): StaffSession,
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((year, id)): Path<(String, String)>,
    CheckedForm(values): CheckedForm,
) -> Response {
    let mut body = serde_json::Map::new();
    values.text("action", &mut body, "action");
    values.text("reason", &mut body, "reason");
    let raw = serde_json::to_vec(&body).unwrap_or_default();
    let checked =
        JsonBody::<RegistrationReviewRequest>::read(Bytes::from(raw)).and_then(|b| b.validate());
    let seen = values
        .get("version")
        .parse::<u64>()
        .map_err(|_| AppError::StaleVersion);
    let outcome = match checked {
        Ok(action) => staff_respect_week::decide(&state, &staff.id, &year, &id, seen, action)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    let error = match outcome {
        Ok(_) => return Redirect::to(&format!("/medewerkers/week-van-respect/{year}")).into_response(),
        Err(ApiError::NotFound) => return not_found_page(),
        Err(ApiError::PreconditionFailed) => {
            "Iemand anders heeft deze aanmelding intussen gewijzigd; hieronder staat de nieuwe stand. Er is niets opgeslagen.".to_string()
        }
        Err(ApiError::Validation(fields)) => fields
            .iter()
            .map(|f| match f.field.as_str() {
                "reason" => format!("Reden: {}", f.message),
                _ => f.message.clone(),
            })
            .collect::<Vec<_>>()
            .join(" "),
        Err(ApiError::Conflict { detail, .. }) => detail,
        Err(e) => return crate::web::error_page(&e),
    };
    render(&state, &headers, &staff.id, &year, Some(error)).await
}
