//! The staff's Week van Respect pages: an edition's registrations with publish and
//! decline (each on the version seen), and the summary per organisation type as a
//! chart with the figures as a table; one registration in full (description, place,
//! contact, guest lesson, history) with the same decisions.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::api::admin::csv_download;
use crate::api::admin_respect_week::RegistrationReviewRequest;
use crate::api::error::ApiError;
use crate::api::state::AppState;
use crate::api::validate::JsonBody;
use crate::app::export::CsvDialect;
use crate::app::respect_week::edition_of;
use crate::app::{AppError, staff_respect_week};
use crate::domain::respect_week::{self, OrganisationType, RegistrationStatus};
use crate::dutch::dutch_date;
use crate::dutch::{actor_text, registration_status_for_staff, type_name};
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
            status: registration_status_for_staff(r.status),
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
    with_csrf(headers, &csrf, fresh, page.render())
}

/// A rendered page that keeps the CSRF token its forms carry.
fn with_csrf(
    headers: &HeaderMap,
    csrf: &str,
    fresh: bool,
    rendered: askama::Result<String>,
) -> Response {
    let mut response = html(rendered).into_response();
    if fresh {
        cookies::remember_csrf(&mut response, headers, csrf);
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

#[derive(Template)]
#[template(path = "staff_wvr_detail.html")]
struct DetailPage {
    page: Page,
    csrf: String,
    staff: String,
    year: i32,
    id: String,
    version: u64,
    reference: String,
    title: String,
    status: &'static str,
    /// Label and value, in the order staff read them before deciding.
    fields: Vec<(&'static str, String)>,
    /// `None` once the contact data is erased; then `erased` says when.
    contact: Option<ContactView>,
    erased: String,
    guest_lesson: &'static str,
    history: Vec<(String, String, String, String)>,
    can_decide: bool,
    error: Option<String>,
}

struct ContactView {
    name: String,
    email: String,
    phone: String,
}

fn moment(at: chrono::DateTime<chrono::Utc>) -> String {
    let local = crate::domain::time::local(at);
    format!("{} {}", dutch_date(local.date()), local.format("%H:%M"))
}

async fn render_detail(
    state: &AppState,
    headers: &HeaderMap,
    staff: &str,
    year: &str,
    id: &str,
    error: Option<String>,
) -> Response {
    let reg = match staff_respect_week::load(state, year, id)
        .await
        .map_err(ApiError::from)
    {
        Ok((_, reg)) => reg,
        Err(ApiError::NotFound) => return not_found_page(),
        Err(e) => return crate::web::error_page(&e),
    };
    let a = &reg.activity;
    let kern = state.catalogue.municipality.kern_place(&a.kern);
    let fields = vec![
        (
            "Organisatie",
            format!(
                "{} ({})",
                reg.organisation.name,
                type_name(reg.organisation.kind)
            ),
        ),
        (
            "Wanneer",
            format!(
                "{}, {} tot {}",
                dutch_date(a.date),
                a.starts_at.format("%H:%M"),
                a.ends_at.format("%H:%M")
            ),
        ),
        ("Plek", format!("{}, {kern}", a.location)),
        ("Wat gaan de deelnemers doen?", a.description.clone()),
        (
            "Verwacht aantal deelnemers",
            a.expected_participants.to_string(),
        ),
        (
            "Leeftijd",
            format!("{} tot en met {} jaar", a.age_min, a.age_max),
        ),
        (
            "Voor wie",
            if a.open_to_public {
                "Iedereen mag meedoen"
            } else {
                "Niet openbaar: alleen voor de eigen leerlingen of leden"
            }
            .to_string(),
        ),
        ("Aangemeld op", moment(reg.registered_at)),
    ];
    let (csrf, fresh) = cookies::csrf_token(headers);
    let page = DetailPage {
        page: Page::new(&format!("{} ({})", a.title, reg.reference)),
        csrf: csrf.clone(),
        staff: staff.to_string(),
        year: reg.year,
        id: reg.id.clone(),
        version: reg.version,
        reference: reg.reference.to_string(),
        title: a.title.clone(),
        status: registration_status_for_staff(reg.status),
        fields,
        contact: reg.contact.as_ref().map(|c| ContactView {
            name: c.name.clone(),
            email: c.email.as_str().to_string(),
            phone: c.phone.as_str().to_string(),
        }),
        erased: reg.erased_at.map(moment).unwrap_or_default(),
        guest_lesson: if a.guest_lesson_wanted {
            "Gevraagd: de coördinator neemt contact op"
        } else {
            "Niet gevraagd"
        },
        history: reg
            .history
            .iter()
            .map(|h| {
                (
                    moment(h.at),
                    actor_text(&h.actor).to_string(),
                    registration_status_for_staff(h.to).to_string(),
                    h.reason.clone().unwrap_or_default(),
                )
            })
            .collect(),
        can_decide: reg.status == RegistrationStatus::Registered,
        error,
    };
    with_csrf(headers, &csrf, fresh, page.render())
}

/// One registration with everything staff need to publish or decline it.
pub async fn detail(
    StaffSession(staff): StaffSession,
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((year, id)): Path<(String, String)>,
) -> Response {
    render_detail(&state, &headers, &staff.id, &year, &id, None).await
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
    // A decision taken on the detail page returns there; one from the list to the list.
    let from_detail = values.get("terug") == "detail";
    let error = match outcome {
        Ok(_) if from_detail => {
            return Redirect::to(&format!("/medewerkers/week-van-respect/{year}/{id}"))
                .into_response();
        }
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
    if from_detail {
        return render_detail(&state, &headers, &staff.id, &year, &id, Some(error)).await;
    }
    render(&state, &headers, &staff.id, &year, Some(error)).await
}

#[derive(Deserialize, Default)]
pub struct DialectFilter {
    dialect: Option<String>,
}

/// The coordinator's CSV of the edition's contacts and guest-lesson requests.
pub async fn contacts_csv(
    StaffSession(staff): StaffSession,
    State(state): State<AppState>,
    Path(year): Path<String>,
    Query(filter): Query<DialectFilter>,
) -> Response {
    let Ok(edition) = edition_of(&state, &year) else {
        return not_found_page();
    };
    let dialect = match filter.dialect.as_deref() {
        Some("excel_nl") => CsvDialect::ExcelNl,
        _ => CsvDialect::Rfc4180,
    };
    match staff_respect_week::export_contacts(&state, &staff.id, &edition, dialect).await {
        Ok(export) => csv_download(export),
        Err(e) => crate::web::error_page(&e.into()),
    }
}
