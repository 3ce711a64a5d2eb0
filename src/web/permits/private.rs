//! The private page behind the link: the status as a banner (with the decision and
//! what staff wrote with it), everything the organiser sent, the history saying who
//! did what, answering a question, and withdrawing (what it means for the leges
//! shown before confirming).

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;

use crate::api::error::ApiError;
use crate::api::permits::InfoRequest;
use crate::api::state::AppState;
use crate::api::validate::JsonBody;
use crate::app::permits;
use crate::app::profile;
use crate::domain::permit::{Actor, Application, HistoryEntry, PermitAction, PermitStatus};
use crate::domain::risk::Kind;
use crate::domain::time::local;

use super::summary::*;
use crate::dutch::{self, alcohol_text, category_text, dutch_date, grouped, status_text};
use crate::web::cookies::{self, ACCESS_COOKIE, CheckedForm};
use crate::web::form::Errors;
use crate::web::{Page, html, not_found_page};

fn private_path(id: &str) -> String {
    format!("/evenementen/aanvraag/{id}")
}

/// The application the access cookie opens, or the page that says the link does
/// not work.
async fn opened(state: &AppState, headers: &HeaderMap, id: &str) -> Result<Application, Response> {
    let token = cookies::read(headers, ACCESS_COOKIE);
    permits::load_for_organiser(state, id, token.as_deref())
        .await
        .map_err(|e| match ApiError::from(e) {
            ApiError::NotFound => not_found_page(),
            other => crate::web::error_page(&other),
        })
}

#[derive(Template)]
#[template(path = "permit_private.html")]
struct PrivatePage {
    page: Page,
    csrf: String,
    app: AppView,
    answer_error: Option<String>,
    answer: String,
}

/// An application as its private page shows it.
struct AppView {
    id: String,
    reference: String,
    /// `aanvraag` or `melding`.
    noun: &'static str,
    status: &'static str,
    banner: Banner,
    event_name: String,
    summary: Summary,
    /// What the organiser sent, under the form's own headings and labels.
    sent: Vec<(&'static str, Vec<(&'static str, String)>)>,
    /// What the organiser pays in leges, and when (`dutch::leges_story`).
    leges: String,
    history: Vec<Step>,
    question: Option<String>,
    can_answer: bool,
    can_withdraw: bool,
}

/// The status at the top of the page, in the NL Design System's alert.
struct Banner {
    /// `info`, `ok`, `warning` or `error`: the alert's modifier.
    tone: &'static str,
    text: String,
    /// What staff wrote with a decision: the conditions of an approval, the reason
    /// of a refusal or a void.
    decision_heading: &'static str,
    decision_text: Option<String>,
}

/// One row of "Wat er is gebeurd": who did what, and what they wrote.
struct Step {
    at: String,
    who: &'static str,
    what: String,
    text: String,
}

fn moment_text(at: chrono::DateTime<chrono::Utc>) -> String {
    let local = local(at);
    format!("{} {}", dutch_date(local.date()), local.format("%H:%M"))
}

/// The reason written with the last `action`, if any.
fn written_with(app: &Application, action: &str) -> Option<String> {
    app.history
        .iter()
        .rev()
        .find(|h| h.action == action)
        .and_then(|h| h.reason.clone())
        .filter(|r| !r.trim().is_empty())
}

fn banner(app: &Application) -> Banner {
    let noun = dutch::noun(app.kind);
    let (tone, text, decision_heading, decision_action) = match app.status {
        PermitStatus::Submitted => (
            "info",
            format!("Wij hebben uw {noun} ontvangen. Een medewerker gaat haar bekijken."),
            "",
            "",
        ),
        PermitStatus::InReview => (
            "info",
            format!("Een medewerker behandelt uw {noun}."),
            "",
            "",
        ),
        PermitStatus::InfoRequested => (
            "warning",
            "Wij hebben een vraag aan u. U leest en beantwoordt haar hieronder.".to_string(),
            "",
            "",
        ),
        PermitStatus::Approved => (
            "ok",
            match app.kind {
                Kind::Melding => {
                    "Wij hebben uw melding afgehandeld. Uw evenement mag doorgaan.".to_string()
                }
                Kind::Vergunning => "U krijgt de vergunning: wij hebben haar verleend.".to_string(),
            },
            "Voorwaarden",
            "approve",
        ),
        PermitStatus::Rejected => (
            "error",
            format!("Wij hebben uw {noun} geweigerd."),
            "Waarom",
            "reject",
        ),
        PermitStatus::Withdrawn => (
            "info",
            format!("U heeft uw {noun} ingetrokken. Wij behandelen haar niet verder."),
            "",
            "",
        ),
        PermitStatus::Voided => (
            "info",
            format!("Wij behandelen uw {noun} niet."),
            "Waarom",
            "void",
        ),
    };
    Banner {
        tone,
        text,
        decision_heading,
        decision_text: (!decision_action.is_empty())
            .then(|| written_with(app, decision_action))
            .flatten(),
    }
}

/// A change as its organiser reads it: "U" for their own steps, "De gemeente" for
/// staff's, so that an answer is never taken for the municipality's words.
fn step(app: &Application, h: &HistoryEntry) -> Step {
    let who = match h.actor {
        Actor::Organiser | Actor::Registrant => "U",
        Actor::Staff(_) | Actor::System => "De gemeente",
    };
    let noun = dutch::noun(app.kind);
    let what = match h.action.as_str() {
        "submit" => format!("{} ingediend", capitalised(noun)),
        "start_review" => "In behandeling genomen".into(),
        "request_info" => "Vraag aan u gesteld".into(),
        "answer_info" => "Vraag beantwoord".into(),
        "approve" if app.kind == Kind::Melding => "Melding afgehandeld".into(),
        "approve" => "Vergunning verleend".into(),
        "reject" => format!("{} geweigerd", capitalised(noun)),
        "reclassify" => match &h.reclassification {
            Some(r) => format!("Soort veranderd in: {}", category_text(r.to_category)),
            None => "Soort veranderd".into(),
        },
        "withdraw" => format!("{} ingetrokken", capitalised(noun)),
        "void" => "Niet in behandeling genomen".into(),
        _ => status_text(h.to).into(),
    };
    Step {
        at: moment_text(h.at),
        who,
        what,
        text: h.reason.clone().unwrap_or_default(),
    }
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A form field's value as the organiser sent it, in words; `None` for a name the
/// page does not know (the unit test below keeps every field of the form known).
fn sent_value(app: &Application, name: &str) -> Option<String> {
    let (o, e) = (&app.organiser, &app.event);
    let yes_no = |flag: bool| if flag { "Ja" } else { "Nee" }.to_string();
    let or_blank = |v: Option<String>| v.unwrap_or_else(|| "Niet ingevuld".into());
    let (starts, ends) = (local(e.starts_at), local(e.ends_at));
    Some(match name {
        "organiser.name" => o.name.clone(),
        "organiser.organisation" => or_blank(o.organisation.clone()),
        "organiser.kvk_number" => or_blank(o.kvk_number.as_ref().map(|k| k.as_str().into())),
        "organiser.email" => o.email.as_str().into(),
        "organiser.phone" => o.phone.as_str().into(),
        "event.name" => e.name.clone(),
        "event.description" => e.description.clone(),
        "event.kern" => profile::with(|m| m.kern_name(&e.kern)),
        "event.address" => e.address.clone(),
        "event.start_date" => dutch_date(starts.date()),
        "event.start_time" => starts.format("%H:%M").to_string(),
        "event.end_date" => dutch_date(ends.date()),
        "event.end_time" => ends.format("%H:%M").to_string(),
        "event.expected_visitors" => grouped(i64::from(e.expected_visitors)),
        "event.largest_structure_m2" => grouped(i64::from(e.largest_structure_m2)),
        "event.alcohol" => alcohol_text(e.alcohol).into(),
        "event.amplified_music" => yes_no(e.amplified_music),
        "event.max_sound_dba" => or_blank(e.max_sound_dba.map(|d| grouped(i64::from(d)))),
        "event.road_closure" => yes_no(e.road_closure),
        "event.on_water" => yes_no(e.on_water),
        "event.fireworks" => yes_no(e.fireworks),
        "event.commercial" => yes_no(e.commercial),
        "event.non_profit" => yes_no(e.non_profit),
        _ => return None,
    })
}

/// What the organiser sent, under the headings and labels of the form they filled
/// in, so that the page reads as their own answers.
fn sent(app: &Application) -> Vec<(&'static str, Vec<(&'static str, String)>)> {
    super::fields()
        .into_iter()
        .map(|(heading, specs)| {
            let rows = specs
                .iter()
                .filter_map(|spec| Some((spec.label, sent_value(app, spec.name)?)))
                .collect();
            (heading, rows)
        })
        .collect()
}

fn app_view(app: &Application) -> AppView {
    AppView {
        id: app.id.clone(),
        reference: app.reference.to_string(),
        noun: dutch::noun(app.kind),
        status: status_text(app.status),
        banner: banner(app),
        event_name: app.event.name.clone(),
        summary: Summary::new(
            app.kind,
            app.category,
            &app.leges,
            &app.deadline,
            Vec::new(),
        )
        .filed(),
        sent: sent(app),
        leges: dutch::leges_story(app, refund_percent()),
        history: app.history.iter().map(|h| step(app, h)).collect(),
        question: (app.status == PermitStatus::InfoRequested)
            .then(|| written_with(app, "request_info"))
            .flatten(),
        can_answer: app.status == PermitStatus::InfoRequested,
        can_withdraw: app.status.is_open(),
    }
}

/// The share of the leges a withdrawal before the decision saves, in the profile in
/// use.
fn refund_percent() -> u32 {
    profile::with(|m| m.terms.withdrawal_refund_percent)
}

fn render_private(
    headers: &HeaderMap,
    app: &Application,
    answer: &str,
    answer_error: Option<String>,
) -> Response {
    let (csrf, fresh) = cookies::csrf_token(headers);
    let status = if answer_error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = PrivatePage {
        page: Page::new(&format!("Uw aanvraag {}", app.reference)),
        csrf: csrf.clone(),
        app: app_view(app),
        answer_error,
        answer: answer.to_string(),
    };
    let mut response = (status, html(page.render())).into_response();
    if fresh {
        cookies::remember_csrf(&mut response, headers, &csrf);
    }
    response
}

/// The private link: `?sleutel=` is taken into the access cookie and the browser is
/// sent on to the address without it; without it, the cookie opens the page.
pub(super) async fn private_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(link): Query<cookies::PrivateLink>,
) -> Response {
    let path = private_path(&id);
    if let Some(response) = cookies::trade_link_token(&headers, &path, link) {
        return response;
    }
    match opened(&state, &headers, &id).await {
        Ok(app) => render_private(&headers, &app, "", None),
        Err(page) => page,
    }
}

#[derive(Template)]
#[template(path = "permit_withdraw.html")]
struct WithdrawPage {
    page: Page,
    csrf: String,
    id: String,
    reference: String,
    noun: &'static str,
    /// What withdrawing now means for the leges: the sentence its e-mail repeats.
    leges: String,
}

pub(super) async fn withdraw_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let app = match opened(&state, &headers, &id).await {
        Ok(app) => app,
        Err(page) => return page,
    };
    // What withdrawing now would do, computed by the rules themselves.
    let preview = permits::preview(&state, &app, Actor::Organiser, &PermitAction::Withdraw);
    let Ok(after) = preview else {
        return render_private(&headers, &app, "", None);
    };
    let (csrf, fresh) = cookies::csrf_token(&headers);
    let page = WithdrawPage {
        page: Page::new(&format!("{} intrekken", capitalised(dutch::noun(app.kind)))),
        csrf: csrf.clone(),
        id: app.id.clone(),
        reference: app.reference.to_string(),
        noun: dutch::noun(app.kind),
        leges: dutch::leges_story(&after, refund_percent()),
    };
    let mut response = html(page.render()).into_response();
    if fresh {
        cookies::remember_csrf(&mut response, &headers, &csrf);
    }
    response
}

pub(super) async fn withdraw(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    CheckedForm(_): CheckedForm,
) -> Response {
    let token = cookies::read(&headers, ACCESS_COOKIE);
    let withdrawn =
        permits::act_as_organiser(&state, &id, token.as_deref(), PermitAction::Withdraw).await;
    match withdrawn.map_err(ApiError::from) {
        Ok(_) => Redirect::to(&private_path(&id)).into_response(),
        Err(ApiError::NotFound) => not_found_page(),
        Err(e) => crate::web::error_page(&e),
    }
}

pub(super) async fn answer(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    CheckedForm(values): CheckedForm,
) -> Response {
    let message = values.get("message");
    let raw = serde_json::to_vec(&json!({ "message": message })).unwrap_or_default();
    let checked = JsonBody::<InfoRequest>::read(Bytes::from(raw)).and_then(|b| b.validate());
    let token = cookies::read(&headers, ACCESS_COOKIE);
    let outcome = match checked {
        Ok(message) => permits::act_as_organiser(
            &state,
            &id,
            token.as_deref(),
            PermitAction::AnswerInfo { message },
        )
        .await
        .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match outcome {
        Ok(_) => Redirect::to(&private_path(&id)).into_response(),
        Err(ApiError::NotFound) => not_found_page(),
        Err(e @ ApiError::Validation(_)) => match opened(&state, &headers, &id).await {
            Ok(app) => {
                let error = Errors::of(&e, |_| "message".into())
                    .and_then(|errs| errs.at("message").map(str::to_string));
                render_private(&headers, &app, message, error)
            }
            Err(page) => page,
        },
        Err(e) => crate::web::error_page(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::permit::tests::submitted;
    use crate::domain::risk::tests::{at, zomerfestival};

    #[test]
    fn every_field_of_the_form_is_shown_in_words() {
        let app = submitted(&zomerfestival(), at("2017-03-01T10:00:00+01:00"));
        for (_, specs) in super::super::fields() {
            for spec in specs {
                let value = sent_value(&app, spec.name);
                assert!(value.is_some(), "{} is not shown", spec.name);
            }
        }
        let shown: Vec<String> = sent(&app)
            .into_iter()
            .flat_map(|(_, rows)| rows.into_iter().map(|(_, v)| v))
            .collect();
        for raw in ["dronten", "sale", "true", "false"] {
            assert!(!shown.iter().any(|v| v == raw), "{raw} in {shown:?}");
        }
        assert!(shown.contains(&"Dronten".to_string()), "{shown:?}");
        assert!(shown.contains(&"4.000".to_string()), "{shown:?}");
    }
}
