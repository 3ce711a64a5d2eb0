//! Response headers every answer carries, and the caching of public documents.
//!
//! - Every response: `X-Content-Type-Options: nosniff` (a browser never guesses a
//!   JSON answer to be HTML) and `Referrer-Policy: no-referrer` (a private link never
//!   leaks through a referrer).
//! - Caching is refused by default (`Cache-Control: no-store`): most answers carry
//!   personal data or a token. Public documents (the programme as JSON and iCalendar,
//!   the OpenAPI document) opt in with [`public`]: a short public `Cache-Control`, an
//!   `ETag` of their bytes, and 304 for a matching `If-None-Match`.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// How long a public document may be reused without asking again.
pub const PUBLIC_MAX_AGE_SECONDS: u32 = 60;

/// The headers of every response (an axum `map_response` layer).
pub async fn secure(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// The strong `ETag` of a public document: a digest of its bytes.
pub(crate) fn etag_of(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    format!("\"{}\"", hex::encode(&digest[..16]))
}

/// Whether `If-None-Match` names `etag` (or is `*`).
fn matches(request: &HeaderMap, etag: &str) -> bool {
    request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*")
}

/// A public document: 200 with its `ETag` and a short public `Cache-Control`, or 304
/// when the client already has these bytes.
pub fn public(request: &HeaderMap, content_type: &'static str, body: Vec<u8>) -> Response {
    let etag = etag_of(&body);
    public_bytes(request, content_type, Bytes::from(body), &etag)
}

/// [`public`] for a body whose `ETag` is already known (a snapshot).
pub fn public_bytes(
    request: &HeaderMap,
    content_type: &'static str,
    body: Bytes,
    etag: &str,
) -> Response {
    let etag = etag.to_string();
    let cache = format!("public, max-age={PUBLIC_MAX_AGE_SECONDS}");
    let mut response = if matches(request, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = Response::new(Body::from(body));
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        r
    };
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&cache) {
        headers.insert(header::CACHE_CONTROL, v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_matching_if_none_match_is_304_and_anything_else_200() {
        let body = b"BEGIN:VCALENDAR".to_vec();
        let etag = etag_of(&body);
        let cases: Vec<(&str, Option<String>, StatusCode)> = vec![
            ("no header", None, StatusCode::OK),
            (
                "the same bytes",
                Some(etag.clone()),
                StatusCode::NOT_MODIFIED,
            ),
            (
                "weak form",
                Some(format!("W/{etag}")),
                StatusCode::NOT_MODIFIED,
            ),
            (
                "in a list",
                Some(format!("\"x\", {etag}")),
                StatusCode::NOT_MODIFIED,
            ),
            ("any", Some("*".into()), StatusCode::NOT_MODIFIED),
            ("other bytes", Some("\"abc\"".into()), StatusCode::OK),
        ];
        for (case, header_value, status) in cases {
            let mut request = HeaderMap::new();
            if let Some(v) = header_value {
                request.insert(header::IF_NONE_MATCH, v.parse().unwrap());
            }
            let response = public(&request, "text/calendar", body.clone());
            assert_eq!(response.status(), status, "{case}");
            assert_eq!(response.headers()[header::ETAG], etag.as_str(), "{case}");
            assert_eq!(
                response.headers()[header::CACHE_CONTROL],
                "public, max-age=60",
                "{case}"
            );
        }
    }
}
