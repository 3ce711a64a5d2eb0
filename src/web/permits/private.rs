//! The private page behind the link: status and history, answering a question, and
//! withdrawing (the refund shown before confirming).

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
use crate::domain::permit::{Actor, Application, PermitAction, PermitStatus};
use crate::domain::time::local;

use super::summary::*;
use crate::dutch::{dutch_date, euro, status_text};
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
    status: &'static str,
    event_name: String,
    starts: String,
    ends: String,
    summary: Summary,
    refunded: Option<String>,
    net: String,
    history: Vec<(String, String, String)>,
    question: Option<String>,
    can_answer: bool,
    can_withdraw: bool,
}

fn moment_text(at: chrono::DateTime<chrono::Utc>) -> String {
    let local = local(at);
    format!("{} {}", dutch_date(local.date()), local.format("%H:%M"))
}

fn app_view(app: &Application) -> AppView {
    let question = app
        .history
        .iter()
        .rev()
        .find(|h| h.to == PermitStatus::InfoRequested)
        .and_then(|h| h.reason.clone());
    AppView {
        id: app.id.clone(),
        reference: app.reference.to_string(),
        status: status_text(app.status),
        event_name: app.event.name.clone(),
        starts: moment_text(app.event.starts_at),
        ends: moment_text(app.event.ends_at),
        summary: Summary::new(
            app.kind,
            app.category,
            &app.leges,
            &app.deadline,
            Vec::new(),
        ),
        refunded: (app.leges.refunded_cents > 0).then(|| euro(app.leges.refunded_cents)),
        net: euro(app.leges.net_cents()),
        history: app
            .history
            .iter()
            .map(|h| {
                (
                    moment_text(h.at),
                    status_text(h.to).to_string(),
                    h.reason.clone().unwrap_or_default(),
                )
            })
            .collect(),
        question: (app.status == PermitStatus::InfoRequested)
            .then_some(question)
            .flatten(),
        can_answer: app.status == PermitStatus::InfoRequested,
        can_withdraw: app.status.is_open(),
    }
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
    refund: String,
    keep: String,
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
        page: Page::new("Aanvraag intrekken"),
        csrf: csrf.clone(),
        id: app.id.clone(),
        reference: app.reference.to_string(),
        refund: euro(after.leges.refunded_cents - app.leges.refunded_cents),
        keep: euro(after.leges.net_cents()),
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
