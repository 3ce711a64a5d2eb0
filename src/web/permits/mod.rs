//! The organiser's pages: the permit form with its summary, the confirmation, and the
//! private page behind the link (status, history, answering a question,
//! withdrawing).
//!
//! The summary is computed by the same domain code as `POST /permits/quote`, and a
//! submission goes through the same `file` as `POST /permits`, under an
//! `Idempotency-Key` that rides in the form: a double click or a refresh replays the
//! first answer instead of filing twice.

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{NaiveDate, NaiveTime};

use crate::domain::time::local;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::api::error::ApiError;
use crate::api::permits::PermitRequest;
use crate::api::state::AppState;
use crate::api::validate::JsonBody;
use crate::app::{Answer, AppError, AppResult, Idempotent, StoredAnswer, permits};
use crate::domain::risk::Alcohol;
use crate::dutch;
use crate::secrets::new_id;

use crate::web::cookies::CheckedForm;
use crate::web::form::{Errors, FieldSpec, FormScaffold, Section, Values};
use crate::web::{Page, html};

mod private;
pub mod summary;

use private::{answer, private_page, withdraw, withdraw_page};
pub use summary::*;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/evenementen/aanvragen", get(form).post(submit))
        .route("/evenementen/aanvraag/{id}", get(private_page))
        .route(
            "/evenementen/aanvraag/{id}/intrekken",
            get(withdraw_page).post(withdraw),
        )
        .route("/evenementen/aanvraag/{id}/antwoord", post(answer))
}

const SCOPE: &str = "POST /evenementen/aanvragen";

fn fields() -> Vec<(&'static str, Vec<FieldSpec>)> {
    vec![
        (
            "Over u",
            vec![
                FieldSpec::text("organiser.name", "Uw naam").autocomplete("name"),
                FieldSpec::text("organiser.organisation", "Organisatie")
                    .hint("Als u aanvraagt namens een vereniging, stichting of bedrijf.")
                    .autocomplete("organization")
                    .optional(),
                FieldSpec::text("organiser.kvk_number", "KvK-nummer")
                    .hint("8 cijfers.")
                    .number()
                    .optional(),
                FieldSpec::text("organiser.email", "E-mailadres")
                    .kind("email")
                    .autocomplete("email"),
                FieldSpec::text("organiser.phone", "Telefoonnummer")
                    .kind("tel")
                    .autocomplete("tel"),
            ],
        ),
        (
            "Het evenement",
            vec![
                FieldSpec::text("event.name", "Naam van het evenement"),
                FieldSpec::text("event.description", "Wat gaat er gebeuren?").textarea(),
                FieldSpec::text("event.kern", "Kern").select(super::kern_options("Kies een kern")),
                FieldSpec::text("event.address", "Adres of plek"),
                FieldSpec::text("event.start_date", "Begindatum").kind("date"),
                FieldSpec::text("event.start_time", "Begintijd").kind("time"),
                FieldSpec::text("event.end_date", "Einddatum").kind("date"),
                FieldSpec::text("event.end_time", "Eindtijd").kind("time"),
            ],
        ),
        (
            "Details",
            vec![
                FieldSpec::text("event.expected_visitors", "Hoeveel bezoekers verwacht u?")
                    .number(),
                FieldSpec::text(
                    "event.largest_structure_m2",
                    "Grootste tent of bouwwerk (m²)",
                )
                .hint("Vul 0 in als er geen tent of bouwwerk is.")
                .number(),
                FieldSpec::text("event.alcohol", "Alcohol").select(vec![
                    ("none", dutch::alcohol_text(Alcohol::None)),
                    ("free", dutch::alcohol_text(Alcohol::Free)),
                    ("sale", dutch::alcohol_text(Alcohol::Sale)),
                ]),
                FieldSpec::checkbox("event.amplified_music", "Er is versterkte muziek"),
                FieldSpec::text("event.max_sound_dba", "Hoogste geluidsniveau in dB(A)")
                    .hint("Alleen bij versterkte muziek.")
                    .number()
                    .optional(),
                FieldSpec::checkbox("event.road_closure", "Er gaat een weg dicht"),
                FieldSpec::checkbox("event.on_water", "Het evenement is (deels) op het water"),
                FieldSpec::checkbox("event.fireworks", "Er is vuurwerk"),
                FieldSpec::checkbox("event.commercial", "Het evenement is commercieel"),
                FieldSpec::checkbox(
                    "event.non_profit",
                    "U organiseert als vereniging of stichting zonder winstoogmerk",
                ),
            ],
        ),
    ]
}

/// The API field an error names → the form field it is shown at. A moment is typed
/// as a date and a time: its error belongs to the time when the date is a date and
/// the time is empty or not a time, else to the date.
fn place(field: &str, v: &Values) -> String {
    let moment = |date: &str, time: &str| {
        let date_ok = NaiveDate::parse_from_str(v.get(date).trim(), "%Y-%m-%d").is_ok();
        let time_ok = NaiveTime::parse_from_str(v.get(time).trim(), "%H:%M").is_ok();
        if date_ok && !time_ok { time } else { date }.to_string()
    };
    match field {
        "event.starts_at" => moment("event.start_date", "event.start_time"),
        "event.ends_at" => moment("event.end_date", "event.end_time"),
        "event" => "event.start_date".into(),
        "organiser" => "organiser.name".into(),
        other => other.to_string(),
    }
}

/// The form's values as the body of `POST /permits`.
fn request_json(v: &Values) -> Value {
    let mut organiser = Map::new();
    v.text("organiser.name", &mut organiser, "name");
    v.text("organiser.organisation", &mut organiser, "organisation");
    v.text("organiser.kvk_number", &mut organiser, "kvk_number");
    v.text("organiser.email", &mut organiser, "email");
    v.text("organiser.phone", &mut organiser, "phone");
    let mut event = Map::new();
    v.text("event.name", &mut event, "name");
    v.text("event.description", &mut event, "description");
    v.text("event.kern", &mut event, "kern");
    v.text("event.address", &mut event, "address");
    v.moment(
        "event.start_date",
        "event.start_time",
        &mut event,
        "starts_at",
    );
    v.moment("event.end_date", "event.end_time", &mut event, "ends_at");
    v.number("event.expected_visitors", &mut event, "expected_visitors");
    v.number(
        "event.largest_structure_m2",
        &mut event,
        "largest_structure_m2",
    );
    v.text("event.alcohol", &mut event, "alcohol");
    v.flag("event.amplified_music", &mut event, "amplified_music");
    v.number("event.max_sound_dba", &mut event, "max_sound_dba");
    for flag in [
        "road_closure",
        "on_water",
        "fireworks",
        "commercial",
        "non_profit",
    ] {
        v.flag(&format!("event.{flag}"), &mut event, flag);
    }
    json!({ "organiser": organiser, "event": event })
}
#[derive(Template)]
#[template(path = "permit_form.html")]
struct FormPage {
    page: Page,
    csrf: String,
    idempotency_key: String,
    sections: Vec<Section>,
    errors: Errors,
    summary: Option<Summary>,
    /// Why no summary can be shown yet.
    summary_note: &'static str,
}

fn render_form(
    headers: &HeaderMap,
    values: &Values,
    errors: Errors,
    summary: Option<Summary>,
    key: String,
) -> Response {
    let (form, reply) = FormScaffold::new(headers, &fields(), values, errors);
    let page = FormPage {
        page: Page::new(&form.title("Evenement aanvragen")),
        csrf: form.csrf,
        idempotency_key: key,
        sections: form.sections,
        errors: form.errors,
        summary_note: if summary.is_none() {
            "Vul het formulier in en kies ‘Bereken’ om te zien of u een melding doet of een vergunning nodig hebt, wat het kost en wanneer u uiterlijk moet aanvragen."
        } else {
            ""
        },
        summary,
    };
    reply.respond(headers, page.render())
}

async fn form(headers: HeaderMap) -> Response {
    let mut values = Values::default();
    values.set("event.alcohol", "none");
    render_form(&headers, &values, Errors::default(), None, new_id())
}

async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    CheckedForm(values): CheckedForm,
) -> Response {
    let key = values.idempotency_key();
    let raw = serde_json::to_vec(&request_json(&values)).unwrap_or_default();
    let checked =
        JsonBody::<PermitRequest>::read(Bytes::from(raw.clone())).and_then(|b| b.validate());
    if values.get("actie") != "indienen" {
        // "Bereken": the summary, or what is missing for it.
        let summary = checked
            .map_err(AppError::from)
            .and_then(|(_, event)| Ok(summary_of(&event, &permits::quote(&state, &event)?)));
        return match summary {
            Ok(summary) => render_form(&headers, &values, Errors::default(), Some(summary), key),
            Err(e) => render_form(
                &headers,
                &values,
                Errors::of(&e.into(), |f| place(f, &values)).unwrap_or_default(),
                None,
                key,
            ),
        };
    }
    let once = Idempotent::new(SCOPE, Some(key.clone()), &raw);
    let filed = permits::file(&state, &once, checked.map_err(AppError::from), receipt).await;
    let application = match filed {
        Ok(Answer::First(filed, _)) => Ok((filed.application, filed.access_token)),
        Ok(Answer::Repeat(stored)) => first_filed(&state, &stored).await,
        Err(e) => Err(e),
    };
    match application {
        Ok((application, token)) => confirmation(&headers, &application, &token),
        Err(e) => {
            let e = ApiError::from(e);
            match Errors::of(&e, |f| place(f, &values)) {
                Some(errors) => render_form(&headers, &values, errors, None, key),
                None => super::error_page(&e),
            }
        }
    }
}

/// What the form stores for a repeated post: where the application is and the
/// token that opens it, so that a double click shows the same confirmation.
#[derive(Serialize, Deserialize)]
struct Receipt {
    id: String,
    access_token: String,
}

fn receipt(filed: &permits::Filed) -> AppResult<StoredAnswer> {
    let receipt = Receipt {
        id: filed.application.id.clone(),
        access_token: filed.access_token.clone(),
    };
    let body = serde_json::to_string(&receipt).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(StoredAnswer::created(
        format!("/evenementen/aanvraag/{}", receipt.id),
        body,
    ))
}

/// The application a repeated post filed the first time, with its token.
async fn first_filed(
    state: &AppState,
    stored: &StoredAnswer,
) -> AppResult<(crate::domain::permit::Application, String)> {
    let receipt: Receipt = serde_json::from_str(&stored.body)
        .map_err(|e| AppError::Internal(format!("stored receipt: {e}")))?;
    let application =
        permits::load_for_organiser(state, &receipt.id, Some(&receipt.access_token)).await?;
    Ok((application, receipt.access_token))
}

#[derive(Template)]
#[template(path = "permit_confirmation.html")]
struct ConfirmationPage {
    page: Page,
    /// `aanvraag`, or `melding` for a melding.
    noun: &'static str,
    reference: String,
    /// Where the receipt goes.
    email: String,
    /// What, where and when, in one line.
    what: String,
    link: String,
    summary: Summary,
    /// What the organiser pays in leges, and when (`dutch::leges_story`).
    leges: String,
}

/// The confirmation of a filed application (the first post, or its repeat).
fn confirmation(
    headers: &HeaderMap,
    application: &crate::domain::permit::Application,
    token: &str,
) -> Response {
    let e = &application.event;
    let (starts, ends) = (local(e.starts_at), local(e.ends_at));
    let noun = dutch::noun(application.kind);
    let page = ConfirmationPage {
        page: Page::new(if noun == "melding" {
            "Melding ontvangen"
        } else {
            "Aanvraag ontvangen"
        }),
        noun,
        email: application.organiser.email.as_str().to_string(),
        what: format!(
            "{}, {}, {}, van {} {} tot {} {}",
            e.name,
            e.address,
            crate::app::profile::with(|m| m.kern_name(&e.kern)),
            dutch::dutch_date(starts.date()),
            starts.format("%H:%M"),
            dutch::dutch_date(ends.date()),
            ends.format("%H:%M"),
        ),
        reference: application.reference.to_string(),
        link: super::absolute(
            headers,
            &format!("/evenementen/aanvraag/{}?sleutel={token}", application.id),
        ),
        summary: Summary::new(
            application.kind,
            application.category,
            &application.leges,
            &application.deadline,
            Vec::new(),
        )
        .filed(),
        leges: dutch::leges_story(
            application,
            crate::app::profile::with(|m| m.terms.withdrawal_refund_percent),
        ),
    };
    html(page.render()).into_response()
}
