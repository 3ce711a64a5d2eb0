//! Event permits for organisers: quote, apply, follow, answer, withdraw.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::domain::coverage;
use crate::domain::leges::Leges;
use crate::domain::permit::{
    self, Actor, Application, Event, Kern, Organiser, PermitAction, PermitStatus, SubmitError,
    TransitionError,
};
use crate::domain::risk::{Alcohol, Category, Deadline, Kind};
use crate::domain::time::{local_rfc3339, local_year};
use crate::store::{Change, Collection};

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::{BearerToken, IdempotencyKey, JsonBody, with_etag};
use super::idempotency::{Created, IdempotentPost};
use super::secrets::{new_access_token, new_id, token_opens};
use super::validate::{Errors, Obj};
use crate::store::permits as records;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/permits/quote", post(quote))
        .route("/permits", post(submit))
        .route("/permits/{id}", get(read))
        .route("/permits/{id}/withdraw", post(withdraw))
        .route("/permits/{id}/info", post(answer_info))
}

/// The body of `POST /permits` and `POST /permits/quote`.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // documents the request shape; `parse_request` builds the values
pub struct PermitRequest {
    organiser: Organiser,
    event: Event,
}

/// The longest event a permit application may span.
const MAX_EVENT_DAYS: i64 = 366;

pub fn parse_request(body: &Value) -> ApiResult<(Organiser, Event)> {
    let errors = Errors::default();
    let root = Obj::root(body, &errors);

    let o = root.object("organiser");
    let name = o.string("name", 200);
    let organisation = o.opt_string("organisation", 200);
    let kvk_number = o.opt_string("kvk_number", 8);
    if let Some(Some(kvk)) = &kvk_number
        && !(kvk.len() == 8 && kvk.bytes().all(|b| b.is_ascii_digit()))
    {
        o.fail(
            "kvk_number",
            "kvk_number",
            "Een KvK-nummer heeft 8 cijfers.",
        );
    }
    let email = o.email("email");
    let phone = o.phone("phone");
    o.deny_unknown();

    let e = root.object("event");
    let event_name = e.string("name", 200);
    let description = e.string("description", 5_000);
    let kern = e.one_of("kern", &Kern::ALL.map(Kern::as_str), Kern::parse);
    let address = e.string("address", 200);
    let starts_at = e.timestamp("starts_at");
    let ends_at = e.timestamp("ends_at");
    if let (Some(start), Some(end)) = (starts_at, ends_at) {
        if end <= start {
            e.fail("ends_at", "order", "Het einde moet na het begin liggen.");
        } else if end - start > Duration::days(MAX_EVENT_DAYS) {
            e.fail(
                "ends_at",
                "range",
                "Een evenement duurt hoogstens een jaar.",
            );
        }
    }
    let expected_visitors = e.int("expected_visitors", 1, 1_000_000);
    let amplified_music = e.boolean("amplified_music");
    let max_sound_dba = e.opt_int("max_sound_dba", 0, 200);
    let road_closure = e.boolean("road_closure");
    let alcohol = e.one_of("alcohol", &["none", "free", "sale"], |s| match s {
        "none" => Some(Alcohol::None),
        "free" => Some(Alcohol::Free),
        "sale" => Some(Alcohol::Sale),
        _ => None,
    });
    let largest_structure_m2 = e.int("largest_structure_m2", 0, 1_000_000);
    let on_water = e.boolean("on_water");
    let fireworks = e.boolean("fireworks");
    let commercial = e.boolean("commercial");
    let non_profit = e.boolean("non_profit");
    e.deny_unknown();
    root.deny_unknown();

    errors.finish(|| {
        Some((
            Organiser {
                name: name?,
                organisation: organisation?,
                kvk_number: kvk_number?,
                email: email?,
                phone: phone?,
            },
            Event {
                name: event_name?,
                description: description?,
                kern: kern?,
                address: address?,
                starts_at: starts_at?,
                ends_at: ends_at?,
                expected_visitors: u32::try_from(expected_visitors?).ok()?,
                amplified_music: amplified_music?,
                max_sound_dba: max_sound_dba?.and_then(|d| u32::try_from(d).ok()),
                road_closure: road_closure?,
                alcohol: alcohol?,
                largest_structure_m2: u32::try_from(largest_structure_m2?).ok()?,
                on_water: on_water?,
                fireworks: fireworks?,
                commercial: commercial?,
                non_profit: non_profit?,
            },
        ))
    })
}

fn submit_error(e: SubmitError) -> ApiError {
    match e {
        SubmitError::StartsInThePast => ApiError::field(
            "event.starts_at",
            "in_past",
            "Het evenement begint vóór het moment van aanvragen.",
        ),
        SubmitError::NoTariff(year) => ApiError::field(
            "event",
            "no_tariff",
            format!("Voor {year} is geen tarieventabel vastgesteld."),
        ),
    }
}

pub fn transition_error(e: TransitionError) -> ApiError {
    match e {
        TransitionError::NotAllowed { action, status } => ApiError::Conflict {
            code: "not_allowed",
            detail: format!("'{action}' kan niet in status '{status}'."),
        },
        TransitionError::ReasonRequired(_) => {
            ApiError::field("reason", "required", "Geef een reden op.")
        }
        TransitionError::NoTariff(year) => {
            ApiError::Internal(format!("no tariff table for {year}"))
        }
    }
}

/// What a submission now would give.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuoteView {
    pub kind: Kind,
    pub category: Category,
    pub risk_score: u32,
    pub event_days: u32,
    pub leges: Leges,
    pub deadline: Deadline,
}

#[utoipa::path(post, path = "/permits/quote", tag = "permits",
    request_body = PermitRequest,
    responses(
        (status = 200, description = "What a submission now would give; nothing is stored", body = QuoteView),
        (status = 422, description = "Invalid fields, or the event already started", body = super::error::Problem),
    ))]
pub async fn quote(State(state): State<AppState>, body: JsonBody) -> ApiResult<Json<QuoteView>> {
    let (_, event) = parse_request(&body.value)?;
    let q =
        permit::quote(&event, state.clock.now(), &state.catalogue.tariffs).map_err(submit_error)?;
    Ok(Json(QuoteView {
        kind: q.assessment.kind,
        category: q.assessment.category,
        risk_score: q.assessment.risk_score,
        event_days: q.assessment.event_days,
        leges: q.leges,
        deadline: q.deadline,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicHistoryEntry {
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "local_rfc3339")]
    pub at: DateTime<Utc>,
    pub action: String,
    pub status: PermitStatus,
    pub reason: Option<String>,
}

/// The application as its organiser sees it: everything submitted, no staff
/// identities.
#[derive(Debug, Serialize, ToSchema)]
pub struct PermitView {
    pub id: String,
    pub reference: String,
    pub status: PermitStatus,
    pub kind: Kind,
    pub category: Category,
    pub risk_score: u32,
    pub leges: Leges,
    pub deadline: Deadline,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "local_rfc3339")]
    pub submitted_at: DateTime<Utc>,
    pub version: u64,
    pub organiser: Organiser,
    pub event: Event,
    pub history: Vec<PublicHistoryEntry>,
}

impl PermitView {
    pub fn of(app: &Application) -> PermitView {
        PermitView {
            id: app.id.clone(),
            reference: app.reference.clone(),
            status: app.status,
            kind: app.kind,
            category: app.category,
            risk_score: app.risk_score,
            leges: app.leges.clone(),
            deadline: app.deadline,
            submitted_at: app.submitted_at,
            version: app.version,
            organiser: app.organiser.clone(),
            event: app.event.clone(),
            history: app
                .history
                .iter()
                .map(|h| PublicHistoryEntry {
                    at: h.at,
                    action: h.action.clone(),
                    status: h.to,
                    reason: h.reason.clone(),
                })
                .collect(),
        }
    }
}

/// The 201 of a submission: the application and, this once, its access token.
#[derive(Debug, Serialize, ToSchema)]
pub struct PermitCreated {
    pub access_token: String,
    #[serde(flatten)]
    pub application: PermitView,
}

#[utoipa::path(post, path = "/permits", tag = "permits",
    request_body = PermitRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "1–64 of [A-Za-z0-9_-]; a repeat within 24 h replays the first response")),
    responses(
        (status = 201, description = "Submitted; the access token is shown only here", body = PermitCreated,
         headers(("Location" = String, description = "/permits/{id}"))),
        (status = 400, description = "Malformed JSON", body = super::error::Problem),
        (status = 409, description = "The same Idempotency-Key is still being processed", body = super::error::Problem),
        (status = 413, description = "Body over 64 KiB", body = super::error::Problem),
        (status = 415, description = "Not application/json", body = super::error::Problem),
        (status = 422, description = "Invalid fields, event already started, or an Idempotency-Key reused for another body", body = super::error::Problem),
    ))]
pub async fn submit(
    State(state): State<AppState>,
    key: IdempotencyKey,
    body: JsonBody,
) -> ApiResult<Response> {
    let post = IdempotentPost::new("POST /permits", key, &body.raw);
    post.run(&state, async {
        let (organiser, event) = parse_request(&body.value)?;
        let now = state.clock.now();
        let q = permit::quote(&event, now, &state.catalogue.tariffs).map_err(submit_error)?;
        let year = local_year(now);
        let number = state.store.next_sequence(&format!("EV-{year}")).await?;
        let (token, token_hash) = new_access_token();
        let app = Application::submit(
            new_id(),
            format!("EV-{year}-{number:04}"),
            token_hash,
            organiser,
            event,
            q,
            now,
        );
        let mut change = Change::create(records::permit_document(&app)?);
        change.aggregates = records::coverage_aggregates(&coverage::deltas(None, &app));
        let created = PermitCreated {
            access_token: token,
            application: PermitView::of(&app),
        };
        tracing::info!(reference = %app.reference, category = app.category.as_str(), "permit submitted");
        Ok((
            change,
            Created {
                location: format!("/permits/{}", app.id),
                body: serde_json::to_string(&created).map_err(|e| ApiError::Internal(e.to_string()))?,
            },
        ))
    })
    .await
}

/// The application behind `id` if `token` opens it; otherwise 404, whether the id
/// exists or not.
async fn load_for_organiser(
    state: &AppState,
    id: &str,
    token: Option<&str>,
) -> ApiResult<Application> {
    let doc = state
        .store
        .get(Collection::Permit, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let app = records::permit_from(&doc)?;
    if token_opens(token, &app.token_hash) {
        Ok(app)
    } else {
        Err(ApiError::NotFound)
    }
}

#[utoipa::path(get, path = "/permits/{id}", tag = "permits",
    params(("id" = String, Path, description = "The application's id")),
    security(("access_token" = [])),
    responses(
        (status = 200, description = "The application with its history", body = PermitView,
         headers(("ETag" = String, description = "The version, quoted"))),
        (status = 404, description = "Unknown id, or a token that does not open it", body = super::error::Problem),
    ))]
pub async fn read(
    State(state): State<AppState>,
    Path(id): Path<String>,
    BearerToken(token): BearerToken,
) -> ApiResult<Response> {
    let app = load_for_organiser(&state, &id, token.as_deref()).await?;
    Ok(with_etag(app.version, Json(PermitView::of(&app))))
}

/// Applies an organiser's action. The organiser sends no version, so a concurrent
/// staff change is absorbed by re-reading and re-deciding (a few times at most).
async fn organiser_action(
    state: &AppState,
    id: &str,
    token: Option<&str>,
    action: PermitAction,
) -> ApiResult<Response> {
    for _ in 0..5 {
        let app = load_for_organiser(state, id, token).await?;
        let next = app
            .apply(
                &action,
                Actor::Organiser,
                state.clock.now(),
                &state.catalogue.tariffs,
            )
            .map_err(transition_error)?;
        match records::save_transition(state.store.as_ref(), &app, &next).await {
            Ok(()) => return Ok(with_etag(next.version, Json(PermitView::of(&next)))),
            Err(crate::store::StoreError::VersionConflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(crate::store::StoreError::VersionConflict.into())
}

#[utoipa::path(post, path = "/permits/{id}/withdraw", tag = "permits",
    params(("id" = String, Path, description = "The application's id")),
    security(("access_token" = [])),
    responses(
        (status = 200, description = "Withdrawn; half of the leges refunded", body = PermitView),
        (status = 404, description = "Unknown id or wrong token", body = super::error::Problem),
        (status = 409, description = "Already decided or withdrawn", body = super::error::Problem),
    ))]
pub async fn withdraw(
    State(state): State<AppState>,
    Path(id): Path<String>,
    BearerToken(token): BearerToken,
) -> ApiResult<Response> {
    organiser_action(&state, &id, token.as_deref(), PermitAction::Withdraw).await
}

/// The organiser's answer to a request for information.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // documents the request shape
pub struct InfoRequest {
    message: String,
}

fn parse_message(body: &Value) -> ApiResult<String> {
    let errors = Errors::default();
    let root = Obj::root(body, &errors);
    let message = root.string("message", 5_000);
    root.deny_unknown();
    errors.finish(|| message)
}

#[utoipa::path(post, path = "/permits/{id}/info", tag = "permits",
    params(("id" = String, Path, description = "The application's id")),
    request_body = InfoRequest,
    security(("access_token" = [])),
    responses(
        (status = 200, description = "Answered; back in review", body = PermitView),
        (status = 404, description = "Unknown id or wrong token", body = super::error::Problem),
        (status = 409, description = "No information was requested", body = super::error::Problem),
        (status = 422, description = "No message", body = super::error::Problem),
    ))]
pub async fn answer_info(
    State(state): State<AppState>,
    Path(id): Path<String>,
    BearerToken(token): BearerToken,
    body: JsonBody,
) -> ApiResult<Response> {
    let message = parse_message(&body.value)?;
    organiser_action(
        &state,
        &id,
        token.as_deref(),
        PermitAction::AnswerInfo { message },
    )
    .await
}
