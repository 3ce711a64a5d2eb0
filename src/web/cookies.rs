//! The two cookies of the pages.
//!
//! - **CSRF** (`loket_csrf`): a random value in an HttpOnly, SameSite=Strict cookie
//!   and in a hidden field of every form; a post is taken only when they match (the
//!   double-submit pattern), so another site cannot post in a visitor's name.
//! - **Access** (`loket_toegang`): the private link's token. The link carries it once
//!   (`?sleutel=`); the page puts it in an HttpOnly cookie for that one application's
//!   path and sends the browser on to the address without it, so the token is not in
//!   the address bar, the history, a log line or a `Referer`. The link keeps working
//!   when it is bookmarked: it sets the cookie again.
//!
//! `Secure` is set when the request came over HTTPS (API Gateway says so in
//! `X-Forwarded-Proto`); the local server speaks plain HTTP.

use axum::Form;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use cookie::{Cookie, SameSite};
use subtle::ConstantTimeEq;

use crate::secrets::new_id;

use super::form::Values;

pub const CSRF_COOKIE: &str = "loket_csrf";
pub const CSRF_FIELD: &str = "csrf";
pub const ACCESS_COOKIE: &str = "loket_toegang";

/// The value of a cookie the request carries.
pub fn read(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

pub(crate) fn over_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

pub(crate) fn set(response: &mut Response, cookie: Cookie<'_>) {
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// The form's CSRF value: the visitor's, or a new one that `remember_csrf` sets.
pub fn csrf_token(headers: &HeaderMap) -> (String, bool) {
    match read(headers, CSRF_COOKIE).filter(|v| v.len() == 32) {
        Some(token) => (token, false),
        None => (new_id(), true),
    }
}

pub fn remember_csrf(response: &mut Response, headers: &HeaderMap, token: &str) {
    let cookie = Cookie::build((CSRF_COOKIE, token.to_string()))
        .path("/")
        .http_only(true)
        .secure(over_https(headers))
        .same_site(SameSite::Strict)
        .build();
    set(response, cookie);
}

/// Whether a post carries the visitor's CSRF value (in constant time).
pub fn csrf_ok(headers: &HeaderMap, posted: &str) -> bool {
    match read(headers, CSRF_COOKIE) {
        Some(cookie) if !posted.is_empty() => cookie.as_bytes().ct_eq(posted.as_bytes()).into(),
        _ => false,
    }
}

/// The query of a private link: `?sleutel=` carries the token once.
#[derive(serde::Deserialize)]
pub struct PrivateLink {
    pub sleutel: Option<String>,
}

/// The answer to a private link that carries its token: the token goes into the
/// access cookie for `path` and the browser is sent on to `path` without it. `None`
/// when the link carries none (the cookie then opens the page).
pub fn trade_link_token(headers: &HeaderMap, path: &str, link: PrivateLink) -> Option<Response> {
    let token = link.sleutel.filter(|t| !t.is_empty() && t.len() <= 128)?;
    let mut response = axum::response::Redirect::to(path).into_response();
    remember_access(&mut response, headers, path, &token);
    Some(response)
}

/// Keeps the private link's token for the pages under `path` (this browser session).
pub fn remember_access(response: &mut Response, headers: &HeaderMap, path: &str, token: &str) {
    // Lax, not Strict: the link is opened from an e-mail or a bookmark, and the
    // redirect that follows must still carry the cookie.
    let cookie = Cookie::build((ACCESS_COOKIE, token.to_string()))
        .path(path.to_string())
        .http_only(true)
        .secure(over_https(headers))
        .same_site(SameSite::Lax)
        .build();
    set(response, cookie);
}

/// A form post whose CSRF value matches the visitor's cookie; any other post is
/// answered with the page that says the form expired, and nothing is done.
pub struct CheckedForm(pub Values);

impl<S: Send + Sync> FromRequest<S> for CheckedForm {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<CheckedForm, Response> {
        let headers = request.headers().clone();
        let Form(pairs) = Form::<Vec<(String, String)>>::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let values = Values::from_pairs(pairs);
        if csrf_ok(&headers, values.get(CSRF_FIELD)) {
            Ok(CheckedForm(values))
        } else {
            Err(super::csrf_refused())
        }
    }
}
