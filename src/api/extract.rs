//! Extractors: every request part is checked here and turned into a typed value or a
//! problem+json answer, so handlers only see valid input.

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};

use super::error::ApiError;

/// The optional `Idempotency-Key` header: 1–64 of `[A-Za-z0-9_-]`.
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get("idempotency-key") else {
            return Ok(IdempotencyKey(None));
        };
        let key = value.to_str().unwrap_or("");
        let valid = (1..=64).contains(&key.len())
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if valid {
            Ok(IdempotencyKey(Some(key.to_string())))
        } else {
            Err(ApiError::field(
                "Idempotency-Key",
                "idempotency_key_invalid",
                "Gebruik 1 tot 64 tekens: letters, cijfers, _ of -.",
            ))
        }
    }
}

/// The bearer token in `Authorization`, if any. Whether it opens anything is for the
/// handler to decide (a wrong one answers exactly like an unknown id).
pub struct BearerToken(pub Option<String>);

pub fn bearer(parts: &Parts) -> Option<String> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
        .filter(|t| !t.is_empty())
}

impl<S: Send + Sync> FromRequestParts<S> for BearerToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(BearerToken(bearer(parts)))
    }
}

/// `If-Match: "<version>"` for staff changes. Read here, judged by [`IfMatch::version`]
/// once the body has been checked, so that a bad or missing body is named first (a
/// body is part of what the client sent wrong; a stale version is not).
pub struct IfMatch(Option<String>);

impl IfMatch {
    /// The version named: missing → 428; not a version → 412.
    pub fn version(&self) -> Result<u64, ApiError> {
        let text = self
            .0
            .as_deref()
            .ok_or(ApiError::PreconditionRequired)?
            .trim();
        let text = text.strip_prefix("W/").unwrap_or(text);
        text.trim_matches('"')
            .parse()
            .map_err(|_| ApiError::PreconditionFailed)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(IfMatch(
            parts
                .headers
                .get(header::IF_MATCH)
                .map(|v| v.to_str().unwrap_or("").to_string()),
        ))
    }
}

/// The `ETag` for a version.
pub fn etag(version: u64) -> String {
    format!("\"{version}\"")
}

/// A response with the `ETag` of `version`.
pub fn with_etag(
    version: u64,
    body: impl axum::response::IntoResponse,
) -> axum::response::Response {
    let mut response = body.into_response();
    if let Ok(v) = axum::http::HeaderValue::from_str(&etag(version)) {
        response.headers_mut().insert(header::ETAG, v);
    }
    response
}

/// Turns any body into a `Body` (used by replays).
pub fn body_from(text: String) -> Body {
    Body::from(text)
}

/// The stored first answer of a creating POST, as it was first sent (a repeat gets
/// the same bytes).
pub fn stored_answer(answer: crate::app::StoredAnswer) -> axum::response::Response {
    use axum::http::{HeaderValue, StatusCode};
    use axum::response::IntoResponse;
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut response = (status, answer.body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(loc) = answer
        .location
        .as_deref()
        .and_then(|l| HeaderValue::from_str(l).ok())
    {
        headers.insert(header::LOCATION, loc);
    }
    response
}

/// An answer of a creating POST: the first or a repeat, sent the same way.
pub fn created<T>(answer: crate::app::Answer<T>) -> axum::response::Response {
    match answer {
        crate::app::Answer::First(_, stored) | crate::app::Answer::Repeat(stored) => {
            stored_answer(stored)
        }
    }
}
