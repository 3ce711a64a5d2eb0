//! One error type for the HTTP edge. Every variant knows its status and renders as
//! RFC 9457 `application/problem+json`; a 5xx never shows what went wrong inside
//! (that goes to the log, without personal data).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppError;
pub use crate::app::FieldError;
use crate::domain::history::TransitionError;
use crate::domain::permit::SubmitError;
use crate::store::StoreError;

/// The problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 422: well-formed JSON with wrong types, missing, unknown or bad fields; or a
    /// rule that refuses the request (`registration_closed`, `in_past`).
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// 400: not JSON at all.
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    /// 400: unknown, repeated or malformed query parameters, each named.
    #[error("invalid query")]
    InvalidQuery(Vec<FieldError>),
    /// 400: a bad cursor, a key sent twice, a year without tariffs.
    #[error("bad request: {detail}")]
    BadRequest { code: &'static str, detail: String },
    /// 415
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// 413
    #[error("payload too large")]
    PayloadTooLarge,
    /// 408: the body did not arrive (in time).
    #[error("request body incomplete")]
    RequestTimeout,
    /// 404: unknown, or a token that does not open it (indistinguishable on purpose).
    #[error("not found")]
    NotFound,
    /// 405
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 409: not allowed in this state, a duplicate, a request still running.
    #[error("conflict: {detail}")]
    Conflict { code: &'static str, detail: String },
    /// 428: a staff change without `If-Match`.
    #[error("precondition required")]
    PreconditionRequired,
    /// 412: `If-Match` names an old version.
    #[error("precondition failed")]
    PreconditionFailed,
    /// 401 with `WWW-Authenticate: Bearer`.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// 403
    #[error("forbidden")]
    Forbidden,
    /// 429 with `Retry-After` (set by the rate limiter): too many anonymous writes.
    #[error("too many requests")]
    TooManyRequests,
    /// 503 with `Retry-After`: the store is throttled or unreachable.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// 500: logged in full, shown as a bare apology.
    #[error("internal: {0}")]
    Internal(String),
    /// 400, 414 or 431 found by the HTTP layer itself (hyper), before any route: a
    /// request head that is not HTTP, a target that is too long, headers too large.
    /// Written on the wire by `server::protocol` (hardening #10).
    #[error("HTTP protocol error {0}")]
    Protocol(StatusCode),
}

impl ApiError {
    pub fn field(field: impl Into<String>, code: &str, message: impl Into<String>) -> ApiError {
        ApiError::Validation(vec![FieldError::new(field, code, message)])
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::MalformedJson(_)
            | ApiError::BadRequest { .. }
            | ApiError::InvalidQuery(_) => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            ApiError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Protocol(status) => *status,
        }
    }

    fn code_and_detail(&self) -> (&'static str, String) {
        match self {
            ApiError::Validation(errors) => (
                "validation",
                format!(
                    "De aanvraag bevat {} onjuiste of ontbrekende gegevens.",
                    errors.len()
                ),
            ),
            ApiError::MalformedJson(_) => (
                "malformed_json",
                "De inhoud is geen geldige JSON.".into(),
            ),
            ApiError::BadRequest { code, detail } => (code, detail.clone()),
            ApiError::InvalidQuery(errors) if errors.is_empty() => (
                "invalid_query",
                "De zoekparameters zijn onleesbaar.".into(),
            ),
            ApiError::InvalidQuery(errors) => (
                "invalid_query",
                format!(
                    "Onjuiste zoekparameters: {}.",
                    errors
                        .iter()
                        .map(|e| format!("{}: {}", e.field, e.message.trim_end_matches('.')))
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            ),
            ApiError::UnsupportedMediaType => (
                "unsupported_media_type",
                "Stuur de gegevens als application/json.".into(),
            ),
            ApiError::PayloadTooLarge => (
                "payload_too_large",
                "De inhoud is groter dan 64 KiB.".into(),
            ),
            ApiError::RequestTimeout => (
                "request_timeout",
                "De gegevens kwamen niet (op tijd) binnen. Probeer het opnieuw.".into(),
            ),
            ApiError::NotFound => ("not_found", "Niet gevonden.".into()),
            ApiError::MethodNotAllowed => (
                "method_not_allowed",
                "Deze methode is hier niet toegestaan.".into(),
            ),
            ApiError::Conflict { code, detail } => (code, detail.clone()),
            ApiError::PreconditionRequired => (
                "if_match_required",
                "Stuur de versie die u wijzigt mee in If-Match.".into(),
            ),
            ApiError::PreconditionFailed => (
                "version_mismatch",
                "Iemand anders heeft dit intussen gewijzigd; haal de nieuwe versie op.".into(),
            ),
            ApiError::Unauthorized(_) => (
                "unauthorized",
                "Log in als medewerker om dit te zien.".into(),
            ),
            ApiError::Forbidden => (
                "forbidden",
                "U heeft geen toegang tot dit onderdeel.".into(),
            ),
            ApiError::TooManyRequests => (
                "too_many_requests",
                "U heeft kort na elkaar veel aanvragen gedaan. Wacht even en probeer het opnieuw."
                    .into(),
            ),
            ApiError::Unavailable(_) => (
                "unavailable",
                "De dienst is tijdelijk niet beschikbaar; probeer het over enkele seconden opnieuw."
                    .into(),
            ),
            ApiError::Internal(_) => (
                "internal",
                "Er ging iets mis aan onze kant. Probeer het later opnieuw.".into(),
            ),
            ApiError::Protocol(StatusCode::URI_TOO_LONG) => (
                "uri_too_long",
                "Het adres van het verzoek is te lang.".into(),
            ),
            ApiError::Protocol(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE) => (
                "headers_too_large",
                "De headers van het verzoek zijn te groot of te talrijk.".into(),
            ),
            ApiError::Protocol(_) => (
                "malformed_request",
                "Dit verzoek is geen geldig HTTP.".into(),
            ),
        }
    }
}

fn title(status: StatusCode) -> String {
    status.canonical_reason().unwrap_or("Error").to_string()
}

impl ApiError {
    /// The problem document this error is answered with.
    pub fn into_problem(self) -> Problem {
        let status = self.status();
        let (code, detail) = self.code_and_detail();
        Problem {
            kind: format!("/problems/{code}"),
            title: title(status),
            status: status.as_u16(),
            detail,
            errors: match self {
                ApiError::Validation(errors) | ApiError::InvalidQuery(errors) => errors,
                _ => Vec::new(),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        match &self {
            ApiError::Internal(e) => tracing::error!(error = %e, "internal error"),
            ApiError::Unavailable(e) => tracing::warn!(error = %e, "store unavailable"),
            _ => {}
        }
        let body = serde_json::to_vec(&self.into_problem()).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        match status {
            // Answered before (all of) the body was read: what is left of it would be
            // read as the next request, so the connection ends here, and says so
            // (hardening F10).
            StatusCode::PAYLOAD_TOO_LARGE
            | StatusCode::UNSUPPORTED_MEDIA_TYPE
            | StatusCode::REQUEST_TIMEOUT => {
                headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            StatusCode::UNAUTHORIZED => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
            }
            _ => {}
        }
        response
    }
}

/// A use case's refusal, answered with its HTTP status.
impl From<AppError> for ApiError {
    fn from(e: AppError) -> ApiError {
        match e {
            AppError::Invalid(errors) => ApiError::Validation(errors),
            AppError::NotFound => ApiError::NotFound,
            AppError::VersionMissing => ApiError::PreconditionRequired,
            AppError::StaleVersion => ApiError::PreconditionFailed,
            AppError::Conflict { code, detail } => ApiError::Conflict { code, detail },
            AppError::Refused { code, detail } => ApiError::BadRequest { code, detail },
            AppError::Unavailable(msg) => ApiError::Unavailable(msg),
            AppError::Internal(msg) => ApiError::Internal(msg),
        }
    }
}

/// A refusal found while reading a request (a page's form or the API's body), handed
/// to a use case as its input's refusal: a repeated request must still get its
/// first answer, so the use case decides what is answered.
impl From<ApiError> for AppError {
    fn from(e: ApiError) -> AppError {
        match e {
            ApiError::Validation(errors) => AppError::Invalid(errors),
            ApiError::NotFound => AppError::NotFound,
            ApiError::PreconditionRequired => AppError::VersionMissing,
            ApiError::PreconditionFailed => AppError::StaleVersion,
            ApiError::Conflict { code, detail } => AppError::Conflict { code, detail },
            ApiError::Unavailable(msg) => AppError::Unavailable(msg),
            ApiError::Internal(msg) => AppError::Internal(msg),
            other if other.status() == StatusCode::BAD_REQUEST => {
                let (code, detail) = other.code_and_detail();
                AppError::Refused { code, detail }
            }
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<TransitionError> for ApiError {
    fn from(e: TransitionError) -> ApiError {
        AppError::from(e).into()
    }
}

impl From<SubmitError> for ApiError {
    fn from(e: SubmitError) -> ApiError {
        AppError::from(e).into()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        AppError::from(e).into()
    }
}

/// A concurrent change reported as an `ApiError` is still one to read again after.
impl crate::store::Conflict for ApiError {
    fn is_conflict(&self) -> bool {
        matches!(
            self,
            ApiError::Conflict {
                code: "concurrent_change",
                ..
            }
        )
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
