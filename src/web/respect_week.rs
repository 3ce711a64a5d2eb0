//! The Week van Respect pages: the registration form for schools and sport clubs,
//! its confirmation, the private page behind the link (see or cancel), and the
//! public programme of an edition by day, with filters and a calendar link. The
//! programme shows published activities only, and never any contact data.

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::api::error::ApiError;
use crate::api::respect_week::{RegistrationContext, RegistrationRequest};
use crate::api::state::AppState;
use crate::api::validate::JsonBody;
use crate::app::profile;
use crate::app::respect_week::{self, ProgrammeSelection, Registered};
use crate::app::{Answer, AppError, AppResult, Idempotent, StoredAnswer};
use crate::domain::place::Kern;
use crate::domain::respect_week::{Edition, OrganisationType, Registration, RegistrationStatus};
use crate::dutch::{capitalised, dutch_date, registration_status_text, type_name};
use crate::secrets::new_id;

use super::cookies::{self, ACCESS_COOKIE, CheckedForm};
use super::form::{ErrorItem, Errors, FieldSpec, FormScaffold, Section, Values};
use super::{Page, html, not_found_page};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/week-van-respect/aanmelden", get(form).post(submit))
        .route("/week-van-respect/{year}", get(programme))
        .route(
            "/week-van-respect/{year}/activiteit/{id}",
            get(private_page),
        )
        .route(
            "/week-van-respect/{year}/activiteit/{id}/afmelden",
            post(cancel),
        )
}

const SCOPE: &str = "POST /week-van-respect/aanmelden";

fn type_options() -> Vec<(&'static str, String)> {
    let mut options = vec![("", "Kies het soort organisatie".to_string())];
    // The glossary's words (docs/glossary.md), as on the programme and staff pages.
    options.extend(OrganisationType::ALL.map(|t| (t.as_str(), capitalised(type_name(t)))));
    options
}

fn fields() -> Vec<(&'static str, Vec<FieldSpec>)> {
    vec![
        (
            "Uw organisatie",
            vec![
                FieldSpec::text("organisation.name", "Naam van de school of club")
                    .autocomplete("organization"),
                FieldSpec::text("organisation.type", "Soort organisatie").select(type_options()),
            ],
        ),
        (
            "Contactpersoon",
            vec![
                FieldSpec::text("contact.name", "Naam").autocomplete("name"),
                FieldSpec::text("contact.email", "E-mailadres")
                    .kind("email")
                    .autocomplete("email"),
                FieldSpec::text("contact.phone", "Telefoonnummer")
                    .kind("tel")
                    .autocomplete("tel"),
            ],
        ),
        (
            "De activiteit",
            vec![
                FieldSpec::text("activity.title", "Titel"),
                FieldSpec::text("activity.description", "Wat gaan de deelnemers doen?").textarea(),
                FieldSpec::text("activity.date", "Datum")
                    .kind("date")
                    .hint("Een dag van de Week van Respect."),
                FieldSpec::text("activity.starts_at", "Begintijd").kind("time"),
                FieldSpec::text("activity.ends_at", "Eindtijd").kind("time"),
                FieldSpec::text("activity.location", "Plek"),
                FieldSpec::text("activity.kern", "Kern")
                    .select(super::kern_options("Kies een kern")),
                FieldSpec::text(
                    "activity.expected_participants",
                    "Verwacht aantal deelnemers",
                )
                .number(),
                FieldSpec::text("activity.age_min", "Leeftijd van").number(),
                FieldSpec::text("activity.age_max", "Leeftijd tot en met").number(),
                FieldSpec::checkbox("activity.open_to_public", "Iedereen mag meedoen"),
                FieldSpec::checkbox(
                    "activity.guest_lesson_wanted",
                    "Wij willen graag een gastles",
                ),
            ],
        ),
    ]
}

fn place(field: &str) -> String {
    match field {
        "edition" => "activity.date".into(),
        other => other.to_string(),
    }
}

fn request_json(v: &Values) -> Value {
    let mut organisation = Map::new();
    v.text("organisation.name", &mut organisation, "name");
    v.text("organisation.type", &mut organisation, "type");
    let mut contact = Map::new();
    v.text("contact.name", &mut contact, "name");
    v.text("contact.email", &mut contact, "email");
    v.text("contact.phone", &mut contact, "phone");
    let mut activity = Map::new();
    for name in [
        "title",
        "description",
        "date",
        "starts_at",
        "ends_at",
        "location",
        "kern",
    ] {
        v.text(&format!("activity.{name}"), &mut activity, name);
    }
    for name in ["expected_participants", "age_min", "age_max"] {
        v.number(&format!("activity.{name}"), &mut activity, name);
    }
    for name in ["open_to_public", "guest_lesson_wanted"] {
        v.flag(&format!("activity.{name}"), &mut activity, name);
    }
    json!({ "organisation": organisation, "contact": contact, "activity": activity })
}

#[derive(Template)]
#[template(path = "wvr_form.html")]
struct FormPage {
    page: Page,
    csrf: String,
    idempotency_key: String,
    edition: Option<EditionText>,
    sections: Vec<Section>,
    errors: Errors,
    /// The form came back because this activity is already registered.
    duplicate: bool,
}

struct EditionText {
    year: i32,
    days: String,
    closes: String,
}

fn edition_text(e: &Edition) -> EditionText {
    let closes = crate::domain::time::local(e.registration_closes_at()).date();
    EditionText {
        year: e.year,
        days: format!(
            "{} tot en met {}",
            dutch_date(e.starts_on),
            dutch_date(e.ends_on)
        ),
        closes: dutch_date(closes),
    }
}

/// Why the form comes back: fields to correct, or an activity already registered.
enum Refusal {
    Fields(Errors),
    Duplicate(String),
}

fn render_form(
    state: &AppState,
    headers: &HeaderMap,
    values: &Values,
    refusal: Refusal,
    key: String,
) -> Response {
    let (errors, duplicate) = match refusal {
        Refusal::Fields(errors) => (errors, false),
        // The start time is what a colleague most often changes to register the
        // same lesson for another class; the summary's link leads there.
        Refusal::Duplicate(detail) => (
            Errors {
                items: vec![ErrorItem {
                    field: "activity.starts_at".into(),
                    label: String::new(),
                    message: detail,
                }],
            },
            true,
        ),
    };
    let (form, mut reply) = FormScaffold::new(headers, &fields(), values, errors);
    if duplicate {
        reply = reply.with_status(axum::http::StatusCode::CONFLICT);
    }
    let page = FormPage {
        page: Page::new(&form.title("Activiteit aanmelden voor de Week van Respect")),
        csrf: form.csrf,
        idempotency_key: key,
        edition: respect_week::open_edition(state).as_ref().map(edition_text),
        sections: form.sections,
        errors: form.errors,
        duplicate,
    };
    reply.respond(headers, page.render())
}

async fn form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    render_form(
        &state,
        &headers,
        &Values::default(),
        Refusal::Fields(Errors::default()),
        new_id(),
    )
}

async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    CheckedForm(values): CheckedForm,
) -> Response {
    let key = values.idempotency_key();
    let Some(edition) = respect_week::open_edition(&state) else {
        return render_form(
            &state,
            &headers,
            &values,
            Refusal::Fields(Errors::default()),
            key,
        );
    };
    let raw = serde_json::to_vec(&request_json(&values)).unwrap_or_default();
    let identity = [edition.year.to_string().as_bytes(), b"\n", &raw].concat();
    let checked = JsonBody::<RegistrationRequest>::read(Bytes::from(raw)).and_then(|b| {
        b.validate_with(&RegistrationContext {
            edition: &edition,
            now: state.clocks.business(),
        })
    });
    let once = Idempotent::new(SCOPE, Some(key.clone()), &identity);
    let registered = respect_week::register(
        &state,
        &edition,
        &once,
        checked.map_err(AppError::from),
        receipt,
    )
    .await;
    let registered = match registered {
        Ok(Answer::First(registered, _)) => Ok(registered),
        Ok(Answer::Repeat(stored)) => first_registered(&state, &edition, &stored).await,
        Err(e) => Err(e),
    };
    match registered.map_err(ApiError::from) {
        Ok(registered) => confirmation(&headers, &registered),
        Err(ApiError::Conflict {
            code: "duplicate",
            detail,
        }) => render_form(&state, &headers, &values, Refusal::Duplicate(detail), key),
        Err(e) => match Errors::of(&e, place) {
            Some(errors) => render_form(&state, &headers, &values, Refusal::Fields(errors), key),
            None => super::error_page(&e),
        },
    }
}

/// What the form stores for a repeated post: the registration and the token that
/// opens it, so that a double click shows the same confirmation.
#[derive(Serialize, Deserialize)]
struct Receipt {
    id: String,
    access_token: String,
}

fn receipt(registered: &Registered) -> AppResult<StoredAnswer> {
    let reg = &registered.registration;
    let receipt = Receipt {
        id: reg.id.clone(),
        access_token: registered.access_token.clone(),
    };
    let body = serde_json::to_string(&receipt).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(StoredAnswer::created(
        format!("/week-van-respect/{}/activiteit/{}", reg.year, reg.id),
        body,
    ))
}

/// The registration a repeated post made the first time, with its token.
async fn first_registered(
    state: &AppState,
    edition: &Edition,
    stored: &StoredAnswer,
) -> AppResult<Registered> {
    let receipt: Receipt = serde_json::from_str(&stored.body)
        .map_err(|e| AppError::Internal(format!("stored receipt: {e}")))?;
    let year = edition.year.to_string();
    let (_, registration) =
        respect_week::load_for_registrant(state, &year, &receipt.id, Some(&receipt.access_token))
            .await?;
    Ok(Registered {
        registration,
        access_token: receipt.access_token,
    })
}

#[derive(Template)]
#[template(path = "wvr_confirmation.html")]
struct ConfirmationPage {
    page: Page,
    reference: String,
    link: String,
    year: i32,
    /// Where the receipt goes.
    email: String,
    guest_lesson_wanted: bool,
}

fn confirmation(headers: &HeaderMap, registered: &Registered) -> Response {
    let reg = &registered.registration;
    let page = ConfirmationPage {
        page: Page::new("Aanmelding ontvangen"),
        reference: reg.reference.to_string(),
        link: super::absolute(
            headers,
            &format!(
                "/week-van-respect/{}/activiteit/{}?sleutel={}",
                reg.year, reg.id, registered.access_token
            ),
        ),
        year: reg.year,
        // Just registered: the contact is there (it is erased a year later).
        email: reg
            .contact
            .as_ref()
            .map(|c| c.email.as_str().to_string())
            .unwrap_or_default(),
        guest_lesson_wanted: reg.activity.guest_lesson_wanted,
    };
    html(page.render()).into_response()
}

#[derive(Template)]
#[template(path = "wvr_private.html")]
struct PrivatePage {
    page: Page,
    csrf: String,
    year: i32,
    id: String,
    reference: String,
    status: &'static str,
    title: String,
    when: String,
    place: String,
    organisation: String,
    /// A guest lesson was asked for and the activity still goes on: the coordinator
    /// will get in touch.
    guest_lesson: bool,
    can_cancel: bool,
    history: Vec<(String, String, String)>,
}

async fn private_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((year, id)): Path<(String, String)>,
    Query(link): Query<cookies::PrivateLink>,
) -> Response {
    let path = format!("/week-van-respect/{year}/activiteit/{id}");
    if let Some(response) = cookies::trade_link_token(&headers, &path, link) {
        return response;
    }
    let token = cookies::read(&headers, ACCESS_COOKIE);
    let found = respect_week::load_for_registrant(&state, &year, &id, token.as_deref()).await;
    let (edition, reg) = match found.map_err(ApiError::from) {
        Ok(found) => found,
        Err(ApiError::NotFound) => return not_found_page(),
        Err(e) => return super::error_page(&e),
    };
    let (csrf, fresh) = cookies::csrf_token(&headers);
    let can_cancel = respect_week::may_cancel(&state, &edition, &reg);
    let page = private_view(&reg, csrf.clone(), can_cancel);
    let mut response = html(page.render()).into_response();
    if fresh {
        cookies::remember_csrf(&mut response, &headers, &csrf);
    }
    response
}

fn private_view(reg: &Registration, csrf: String, can_cancel: bool) -> PrivatePage {
    let a = &reg.activity;
    PrivatePage {
        page: Page::new(&format!("Uw aanmelding {}", reg.reference)),
        csrf,
        year: reg.year,
        id: reg.id.clone(),
        reference: reg.reference.to_string(),
        status: registration_status_text(reg.status),
        title: a.title.clone(),
        when: format!(
            "{}, {} tot {}",
            dutch_date(a.date),
            a.starts_at.format("%H:%M"),
            a.ends_at.format("%H:%M")
        ),
        place: format!(
            "{}, {}",
            a.location,
            profile::with(|m| m.kern_place(&a.kern))
        ),
        organisation: reg.organisation.name.clone(),
        guest_lesson: a.guest_lesson_wanted
            && matches!(
                reg.status,
                RegistrationStatus::Registered | RegistrationStatus::Published
            ),
        can_cancel,
        history: reg
            .history
            .iter()
            .map(|h| {
                let local = crate::domain::time::local(h.at);
                (
                    format!("{} {}", dutch_date(local.date()), local.format("%H:%M")),
                    registration_status_text(h.to).to_string(),
                    h.reason.clone().unwrap_or_default(),
                )
            })
            .collect(),
    }
}

async fn cancel(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((year, id)): Path<(String, String)>,
    CheckedForm(_values): CheckedForm,
) -> Response {
    let token = cookies::read(&headers, ACCESS_COOKIE);
    let cancelled = respect_week::cancel_as_registrant(&state, &year, &id, token.as_deref()).await;
    match cancelled.map_err(ApiError::from) {
        Ok(_) => Redirect::to(&format!("/week-van-respect/{year}/activiteit/{id}")).into_response(),
        Err(ApiError::NotFound) => not_found_page(),
        Err(e) => super::error_page(&e),
    }
}

#[derive(Deserialize, Default)]
struct ProgrammeFilter {
    kern: Option<String>,
    soort: Option<String>,
}

#[derive(Template)]
#[template(path = "programme.html")]
struct ProgrammePage {
    page: Page,
    year: i32,
    days_text: String,
    kern: String,
    soort: String,
    kern_options: Vec<(String, String)>,
    kernen: String,
    type_options: Vec<(&'static str, String)>,
    days: Vec<Day>,
    count: usize,
    webcal: String,
    ics: String,
}

struct Day {
    heading: String,
    items: Vec<Item>,
}

struct Item {
    title: String,
    time: String,
    organisation: String,
    kind: &'static str,
    place: String,
    description: String,
    ages: String,
    open: bool,
}

async fn programme(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(year): Path<String>,
    Query(filter): Query<ProgrammeFilter>,
) -> Response {
    let Ok(edition) = respect_week::edition_of(&state, &year) else {
        return not_found_page();
    };
    let municipality = &state.catalogue.municipality;
    let kern = filter
        .kern
        .as_deref()
        .and_then(Kern::parse)
        .filter(|k| municipality.has_kern(k));
    let kind = filter.soort.as_deref().and_then(OrganisationType::parse);
    let selection = ProgrammeSelection {
        date: None,
        organisation_type: kind,
        kern: kern.clone(),
    };
    let all = match respect_week::programme(&state, &edition, selection).await {
        Ok(all) => all,
        Err(e) => return super::error_page(&e.into()),
    };
    let mut days: Vec<Day> = Vec::new();
    for reg in &all {
        let a = &reg.activity;
        let heading = dutch_date(a.date);
        if days.last().is_none_or(|d| d.heading != heading) {
            days.push(Day {
                heading: heading.clone(),
                items: Vec::new(),
            });
        }
        if let Some(day) = days.last_mut() {
            day.items.push(Item {
                title: a.title.clone(),
                time: format!(
                    "{} – {}",
                    a.starts_at.format("%H:%M"),
                    a.ends_at.format("%H:%M")
                ),
                organisation: reg.organisation.name.clone(),
                kind: type_name(reg.organisation.kind),
                place: format!("{}, {}", a.location, municipality.kern_place(&a.kern)),
                description: a.description.clone(),
                ages: format!("{} tot en met {} jaar", a.age_min, a.age_max),
                open: a.open_to_public,
            });
        }
    }
    let ics_path = format!("/respect-week/{}/program.ics", edition.year);
    let ics = super::absolute(&headers, &ics_path);
    let webcal = ics
        .replacen("https://", "webcal://", 1)
        .replacen("http://", "webcal://", 1);
    let page = ProgrammePage {
        page: Page::new(&format!("Programma Week van Respect {}", edition.year)),
        year: edition.year,
        days_text: format!(
            "{} tot en met {}",
            dutch_date(edition.starts_on),
            dutch_date(edition.ends_on)
        ),
        kern: kern.map(|k| k.as_str().to_string()).unwrap_or_default(),
        soort: kind.map(|k| k.as_str().to_string()).unwrap_or_default(),
        kern_options: super::kern_options("Alle kernen"),
        kernen: municipality.kernen_text("en"),
        type_options: {
            let mut o = type_options();
            o[0] = ("", "Alle organisaties".to_string());
            o
        },
        count: all.len(),
        days,
        webcal,
        ics,
    };
    html(page.render()).into_response()
}
