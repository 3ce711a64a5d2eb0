//! The Week van Respect pages: the registration form for schools and sport clubs,
//! its confirmation, the private page behind the link (see or cancel), and the
//! public programme of an edition by day, with filters and a calendar link. The
//! programme shows published activities only, and never any contact data.

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::api::error::ApiError;
use crate::api::extract::IdempotencyKey;
use crate::api::idempotency::IdempotentPost;
use crate::api::respect_week::{
    RegistrationContext, RegistrationRequest, cancel_as_registrant, edition_of, file, kern_name,
    load_for_registrant, type_name,
};
use crate::api::secrets::new_id;
use crate::api::state::AppState;
use crate::api::validate::JsonBody;
use crate::domain::place::Kern;
use crate::domain::respect_week::{Edition, OrganisationType, Registration, RegistrationStatus};
use crate::store::registrations::ProgrammeSelection;

use super::cookies::{self, ACCESS_COOKIE, CheckedForm};
use super::form::{Errors, FieldSpec, Section, Values, dutch_date, label_errors, sections};
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

fn type_options() -> Vec<(&'static str, &'static str)> {
    let mut options = vec![("", "Kies het soort organisatie")];
    options.extend(OrganisationType::ALL.map(|t| (t.as_str(), type_label(t))));
    options
}

fn type_label(t: OrganisationType) -> &'static str {
    match t {
        OrganisationType::PrimarySchool => "Basisschool",
        OrganisationType::SecondarySchool => "Middelbare school",
        OrganisationType::VocationalSchool => "Mbo",
        OrganisationType::SportClub => "Sportclub",
        OrganisationType::Other => "Anders",
    }
}

fn kern_options(first: &'static str) -> Vec<(&'static str, &'static str)> {
    let mut options = vec![("", first)];
    options.extend(Kern::ALL.map(|k| (k.as_str(), kern_name(k))));
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
                FieldSpec::text("activity.kern", "Kern").select(kern_options("Kies een kern")),
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

/// The edition taking registrations now: the first whose closing moment is still
/// ahead.
fn open_edition(state: &AppState) -> Option<Edition> {
    let now = state.clock.now();
    state
        .catalogue
        .editions
        .iter()
        .find(|e| e.accepts_registrations_at(now))
        .cloned()
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

fn render_form(
    state: &AppState,
    headers: &HeaderMap,
    values: &Values,
    mut errors: Errors,
    key: String,
) -> Response {
    let specs = fields();
    label_errors(&mut errors, &specs);
    let (csrf, fresh) = cookies::csrf_token(headers);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = FormPage {
        page: Page::new(if errors.is_empty() {
            "Activiteit aanmelden voor de Week van Respect"
        } else {
            "Fout: activiteit aanmelden voor de Week van Respect"
        }),
        csrf: csrf.clone(),
        idempotency_key: key,
        edition: open_edition(state).as_ref().map(edition_text),
        sections: sections(&specs, values, &errors),
        errors,
    };
    let mut response = (status, html(page.render())).into_response();
    if fresh {
        cookies::remember_csrf(&mut response, headers, &csrf);
    }
    response
}

async fn form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    render_form(
        &state,
        &headers,
        &Values::default(),
        Errors::default(),
        new_id(),
    )
}

async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    CheckedForm(values): CheckedForm,
) -> Response {
    let key = values.idempotency_key();
    let Some(edition) = open_edition(&state) else {
        return render_form(&state, &headers, &values, Errors::default(), key);
    };
    let raw = serde_json::to_vec(&request_json(&values)).unwrap_or_default();
    let identity = [edition.year.to_string().as_bytes(), b"\n", &raw].concat();
    let checked = JsonBody::<RegistrationRequest>::read(Bytes::from(raw)).and_then(|b| {
        b.validate_with(&RegistrationContext {
            edition: &edition,
            now: state.clock.now(),
        })
    });
    let post = IdempotentPost::new(SCOPE, IdempotencyKey(Some(key.clone())), &identity);
    match file(&state, &edition, &post, checked).await {
        Ok(created) => confirmation(&headers, created).await,
        Err(e) => match Errors::of(&e, place) {
            Some(errors) => render_form(&state, &headers, &values, errors, key),
            None => super::error_page(&e),
        },
    }
}

#[derive(Deserialize)]
struct Created {
    id: String,
    year: i32,
    reference: String,
    access_token: String,
}

#[derive(Template)]
#[template(path = "wvr_confirmation.html")]
struct ConfirmationPage {
    page: Page,
    reference: String,
    link: String,
    year: i32,
}

async fn confirmation(headers: &HeaderMap, created: Response) -> Response {
    let body = axum::body::to_bytes(created.into_body(), 1 << 20).await;
    let Some(created) = body
        .ok()
        .and_then(|b| serde_json::from_slice::<Created>(&b).ok())
    else {
        return super::error_page(&ApiError::Internal("unexpected 201".into()));
    };
    let page = ConfirmationPage {
        page: Page::new("Aanmelding ontvangen"),
        reference: created.reference,
        link: super::absolute(
            headers,
            &format!(
                "/week-van-respect/{}/activiteit/{}?sleutel={}",
                created.year, created.id, created.access_token
            ),
        ),
        year: created.year,
    };
    html(page.render()).into_response()
}

fn status_text(status: RegistrationStatus) -> &'static str {
    match status {
        RegistrationStatus::Registered => "Aangemeld, nog niet gepubliceerd",
        RegistrationStatus::Published => "Staat in het programma",
        RegistrationStatus::Declined => "Niet opgenomen in het programma",
        RegistrationStatus::Cancelled => "Afgemeld",
    }
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
    let (edition, reg) = match load_for_registrant(&state, &year, &id, token.as_deref()).await {
        Ok(found) => found,
        Err(ApiError::NotFound) => return not_found_page(),
        Err(e) => return super::error_page(&e),
    };
    let (csrf, fresh) = cookies::csrf_token(&headers);
    let can_cancel = reg.status != RegistrationStatus::Cancelled
        && reg.status != RegistrationStatus::Declined
        && state.clock.now() < crate::domain::time::start_of_day(edition.starts_on);
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
        status: status_text(reg.status),
        title: a.title.clone(),
        when: format!(
            "{}, {} tot {}",
            dutch_date(a.date),
            a.starts_at.format("%H:%M"),
            a.ends_at.format("%H:%M")
        ),
        place: format!("{}, {}", a.location, kern_name(a.kern)),
        organisation: reg.organisation.name.clone(),
        can_cancel,
        history: reg
            .history
            .iter()
            .map(|h| {
                let local = crate::domain::time::local(h.at);
                (
                    format!("{} {}", dutch_date(local.date()), local.format("%H:%M")),
                    status_text(h.to).to_string(),
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
    match cancel_as_registrant(&state, &year, &id, token.as_deref()).await {
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
    kern_options: Vec<(&'static str, &'static str)>,
    type_options: Vec<(&'static str, &'static str)>,
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
    let Ok(edition) = edition_of(&state, &year) else {
        return not_found_page();
    };
    let kern = filter
        .kern
        .as_deref()
        .and_then(|k| Kern::ALL.into_iter().find(|x| x.as_str() == k));
    let kind = filter.soort.as_deref().and_then(OrganisationType::parse);
    let selection = ProgrammeSelection {
        date: None,
        organisation_type: kind,
        kern,
    };
    let all = match state
        .store
        .registrations()
        .programme_selected(edition.year, selection)
        .await
    {
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
                place: format!("{}, {}", a.location, kern_name(a.kern)),
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
        kern_options: kern_options("Alle kernen"),
        type_options: {
            let mut o = type_options();
            o[0] = ("", "Alle organisaties");
            o
        },
        count: all.len(),
        days,
        webcal,
        ics,
    };
    html(page.render()).into_response()
}
