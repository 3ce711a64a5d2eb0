//! Signing in to the staff pages.
//!
//! The session is the staff token itself, in an HttpOnly, SameSite=Strict cookie for
//! `/medewerkers`, ending when the token does. Every request checks it as the API
//! checks a bearer token: the signature, the lifetime and the `staff` group.
//!
//! **Locally** the sign-in asks for the staff id and `LOKET_JWT_SECRET`: whoever
//! holds the secret can mint tokens anyway (`loket token`), so it proves nothing less
//! and nothing more. It says plainly that it is the local mode, and it exists only on
//! the local server: no Lambda function mounts these routes. Cognito's hosted sign-in
//! for AWS is not built yet.

use askama::Template;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use cookie::{Cookie, SameSite};

use crate::api::auth::{Staff, StaffAuth, is_safe_id};
use crate::api::state::AppState;
use crate::web::cookies::{self, CheckedForm};
use crate::web::{Page, html};

pub const SESSION_COOKIE: &str = "loket_sessie";
/// How long a local session lasts (a working day).
const SESSION_SECONDS: i64 = 8 * 3600;

/// A signed-in staff member; without a valid session, the sign-in page.
pub struct StaffSession(pub Staff);

impl FromRequestParts<AppState> for StaffSession {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<StaffSession, Response> {
        let signed_in = match cookies::read(&parts.headers, SESSION_COOKIE) {
            Some(token) => {
                let now = state.real_clock.now().timestamp();
                state.auth.verify(&token, now).await.ok()
            }
            None => None,
        };
        signed_in
            .map(StaffSession)
            .ok_or_else(|| Redirect::to("/medewerkers/inloggen").into_response())
    }
}

#[derive(Template)]
#[template(path = "staff_signin.html")]
struct SignInPage {
    page: Page,
    csrf: String,
    error: Option<&'static str>,
    staff_id: String,
}

fn sign_in_page(headers: &HeaderMap, staff_id: &str, error: Option<&'static str>) -> Response {
    let (csrf, fresh) = cookies::csrf_token(headers);
    let page = SignInPage {
        page: Page::new("Inloggen voor medewerkers (lokaal)"),
        csrf: csrf.clone(),
        error,
        staff_id: staff_id.to_string(),
    };
    let status = if error.is_some() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    let mut response = (status, html(page.render())).into_response();
    if fresh {
        cookies::remember_csrf(&mut response, headers, &csrf);
    }
    response
}

pub async fn form(headers: HeaderMap) -> Response {
    sign_in_page(&headers, "", None)
}

pub async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    CheckedForm(values): CheckedForm,
) -> Response {
    let staff_id = values.get("staff_id").trim().to_string();
    if !is_safe_id(&staff_id) {
        return sign_in_page(
            &headers,
            &staff_id,
            Some("Vul uw medewerkerscode in: 1 tot 128 letters, cijfers of . _ @ + -."),
        );
    }
    let now = state.real_clock.now().timestamp();
    // The secret is right when a token it signs passes this server's check.
    let token = StaffAuth::hs256(values.get("secret"), None, None)
        .ok()
        .and_then(|auth| auth.mint(&staff_id, now, SESSION_SECONDS));
    let verified = match &token {
        Some(token) => state.auth.verify(token, now).await.is_ok(),
        None => false,
    };
    let (Some(token), true) = (token, verified) else {
        return sign_in_page(
            &headers,
            &staff_id,
            Some("Deze combinatie klopt niet. Gebruik de LOKET_JWT_SECRET van deze server."),
        );
    };
    tracing::info!(staff = %staff_id, "staff signed in (local)");
    let mut response = Redirect::to("/medewerkers/").into_response();
    set_session(&mut response, &headers, &token, SESSION_SECONDS);
    response
}

pub async fn sign_out(headers: HeaderMap, CheckedForm(_): CheckedForm) -> Response {
    let mut response = Redirect::to("/medewerkers/inloggen").into_response();
    set_session(&mut response, &headers, "", 0);
    response
}

fn set_session(response: &mut Response, headers: &HeaderMap, token: &str, seconds: i64) {
    let secure = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| p.eq_ignore_ascii_case("https"));
    let cookie = Cookie::build((SESSION_COOKIE, token.to_string()))
        .path("/medewerkers")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .max_age(cookie::time::Duration::seconds(seconds))
        .build();
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}
