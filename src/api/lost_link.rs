//! "Ik ben mijn link kwijt" (docs/api.md): `POST /permits/lost-link` and
//! `POST /respect-week/lost-link` take a reference and an e-mail address and always
//! answer the same 202, whether they match or not. A match gets a new private link
//! at the stored address (the old one stops working), through the outbox, at most
//! once per ten minutes per record (`domain::link`); the use case is
//! `app::lost_link::send_new_link`, which the pages use too.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::app::lost_link::send_new_link;
pub use crate::domain::formats::Register;
use crate::domain::formats::{Email, Reference};

use super::error::ApiResult;
use super::state::AppState;
use super::validate::{Field, RequestBody, ValidatedJson, email, reference};

/// A reference and the e-mail address given with it.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(default)]
pub struct LostLinkRequest {
    #[validate(custom(function = "reference"))]
    #[schema(value_type = String, required = true, pattern = "^([Ee][Vv]|[Ww][Vv][Rr])-[0-9]{4}-[0-9]{4,}$", example = "EV-2017-0001")]
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
