//! "Ik ben mijn link kwijt" (docs/api.md): `POST /permits/lost-link` and
//! `POST /respect-week/lost-link` take a reference and an e-mail address and always
//! answer the same 202, whether they match or not. A match gets a new private link
//! at the stored address (the old one stops working), through the outbox, at most
//! once per ten minutes per record (`domain::link`). The pages use [`send_new_link`]
//! too.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

pub use crate::domain::formats::Register;
use crate::domain::formats::{Email, Reference};
use crate::domain::link::{may_send_again, same_address};
use crate::store::retry_on_conflict;

use super::error::{ApiError, ApiResult};
use super::secrets::new_access_token;
use super::state::AppState;
use super::validate::{Field, RequestBody, ValidatedJson, email, reference};

/// A reference and the e-mail address given with it.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(default)]
pub struct LostLinkRequest {
    #[validate(custom(function = "reference"))]
    #[schema(value_type = String, required = true, pattern = "^(EV|WVR)-[0-9]{4}-[0-9]{4,}$", example = "EV-2017-0001")]
    pub reference: Field<String>,
    #[validate(custom(function = "email"))]
    #[schema(value_type = String, required = true, format = Email, max_length = 254)]
    pub email: Field<String>,
}

impl RequestBody for LostLinkRequest {
    type Valid = (Reference, Email);

    fn into_valid(self) -> Option<(Reference, Email)> {
        Some((
            Reference::parse(&self.reference.into_given()?)?,
            Email::parse(&self.email.into_given()?)?,
        ))
    }
}

/// The one answer, match or not.
#[derive(Debug, Serialize, ToSchema)]
pub struct LostLinkAnswer {
    pub message: String,
}

pub const ANSWER: &str = "Als het kenmerk en het e-mailadres bij elkaar horen, sturen wij binnen enkele minuten een nieuwe persoonlijke link naar dat adres. De oude link werkt dan niet meer.";

fn answer() -> Response {
    (
        StatusCode::ACCEPTED,
        Json(LostLinkAnswer {
            message: ANSWER.into(),
        }),
    )
        .into_response()
}

/// Sends a new link when `reference` and `email` belong together, the reference is
/// of `register` and no link went out in the last minutes; otherwise nothing. The
/// caller answers the same either way.
pub async fn send_new_link(
    state: &AppState,
    register: Register,
    reference: &Reference,
    email: &Email,
) -> ApiResult<()> {
    // Each function looks only in its own register (and may read only that).
    if reference.register() != register {
        return Ok(());
    }
    retry_on_conflict(|| async {
        let now = state.real_clock.now();
        match register {
            Register::Permits => {
                let permits = state.store.permits();
                let Some(app) = permits.by_reference(reference).await? else {
                    return Ok(());
                };
                if !same_address(&app.organiser.email, email)
                    || !may_send_again(app.link_sent_at, now)
                {
                    return Ok(());
                }
                let (token, token_hash) = new_access_token();
                let next = app.with_new_token(token_hash, now);
                let messages = state.mail.new_permit_link(&next, &token, now);
                permits.renew_token(&app, &next, &messages).await?;
                tracing::info!(reference = %app.reference, "new private link sent");
            }
            Register::RespectWeek => {
                let registrations = state.store.registrations();
                let Some(reg) = registrations.by_reference(reference).await? else {
                    return Ok(());
                };
                let matches = reg
                    .contact
                    .as_ref()
                    .is_some_and(|c| same_address(&c.email, email));
                if !matches || !may_send_again(reg.link_sent_at, now) {
                    return Ok(());
                }
                let (token, token_hash) = new_access_token();
                let next = reg.with_new_token(token_hash, now);
                let messages = state.mail.new_registration_link(&next, &token, now);
                registrations.renew_token(&reg, &next, &messages).await?;
                tracing::info!(reference = %reg.reference, "new private link sent");
            }
        }
        Ok::<_, ApiError>(())
    })
    .await
}

#[utoipa::path(post, path = "/permits/lost-link", tag = "permits",
    request_body = LostLinkRequest,
    responses(
        (status = 202, description = "The same answer whether or not the reference and address match; a match gets a new private link by e-mail", body = LostLinkAnswer),
        (status = 422, description = "Not a reference or not an e-mail address", body = super::error::Problem),
    ))]
pub async fn permit_link(
    State(state): State<AppState>,
    body: ValidatedJson<LostLinkRequest>,
) -> ApiResult<Response> {
    let (reference, email) = body.value;
    send_new_link(&state, Register::Permits, &reference, &email).await?;
    Ok(answer())
}

#[utoipa::path(post, path = "/respect-week/lost-link", tag = "respect_week",
    request_body = LostLinkRequest,
    responses(
        (status = 202, description = "The same answer whether or not the reference and address match; a match gets a new private link by e-mail", body = LostLinkAnswer),
        (status = 422, description = "Not a reference or not an e-mail address", body = super::error::Problem),
    ))]
pub async fn registration_link(
    State(state): State<AppState>,
    body: ValidatedJson<LostLinkRequest>,
) -> ApiResult<Response> {
    let (reference, email) = body.value;
    send_new_link(&state, Register::RespectWeek, &reference, &email).await?;
    Ok(answer())
}
