//! Signing in to the staff pages.
//!
//! The session is the staff token itself, in an HttpOnly, SameSite=Strict cookie for
//! `/medewerkers`, ending when the token does. Every request checks it as the API
//! checks a bearer token: the signature, the lifetime and the `staff` group.
//!
//! **On AWS** (and wherever `LOKET_STAFF_SIGNIN_URL` is set) the sign-in is Cognito's
//! hosted page, by the authorization code flow with PKCE (`api::auth::HostedSignIn`):
//! `state` and the code verifier wait in a ten-minute cookie for the way back to
//! `/medewerkers/inloggen/terug`, where the code becomes an access token that must
//! pass the same check. Signing out also ends Cognito's session (its `/logout`).
//!
//! **Locally** the sign-in asks for the staff id and `LOKET_JWT_SECRET`: whoever
//! holds the secret can mint tokens anyway (`loket token`), so it proves nothing less
//! and nothing more. It says plainly that it is the local mode, and its post exists
//! only on the local server: no Lambda function mounts it ([`super::lambda_router`]).

use askama::Template;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use cookie::{Cookie, SameSite};

use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::api::auth::{AuthError, HostedSignIn, Staff, StaffAuth, is_safe_id};
use crate::api::state::AppState;
use crate::web::cookies::{self, CheckedForm};
use crate::web::{Page, html, message};

pub const SESSION_COOKIE: &str = "loket_sessie";
/// `state` and the PKCE code verifier of a hosted sign-in under way.
pub const SIGN_IN_COOKIE: &str = "loket_inloggen";
/// How long a hosted sign-in may take, from leaving for Cognito to coming back.
const SIGN_IN_SECONDS: i64 = 600;
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
                let now = state.clocks.real().timestamp();
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

/// `GET /medewerkers/inloggen` on the local server: Cognito when configured, else the
/// local form.
pub async fn hosted_or_local(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match &state.hosted_sign_in {
        Some(hosted) => begin_hosted(hosted, &headers),
        None => sign_in_page(&headers, "", None),
    }
}

/// `GET /medewerkers/inloggen` in a Lambda function: Cognito, or nothing.
pub async fn hosted_only(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match &state.hosted_sign_in {
        Some(hosted) => begin_hosted(hosted, &headers),
        None => not_configured(),
    }
}

fn not_configured() -> Response {
    message(
        StatusCode::SERVICE_UNAVAILABLE,
        "Inloggen is niet ingesteld",
        "Deze omgeving heeft geen inlogdienst voor medewerkers. Neem contact op met de beheerder."
            .into(),
        None,
    )
}

/// Off to Cognito, with `state` and the verifier kept for the way back.
fn begin_hosted(hosted: &HostedSignIn, headers: &HeaderMap) -> Response {
    let attempt = hosted.begin();
    let mut response = Redirect::to(&attempt.authorize_url).into_response();
    // Lax, not Strict: the way back is a navigation that Cognito's page starts.
    let cookie = Cookie::build((
        SIGN_IN_COOKIE,
        format!("{}.{}", attempt.state, attempt.verifier),
    ))
    .path("/medewerkers/inloggen")
    .http_only(true)
    .secure(cookies::over_https(headers))
    .same_site(SameSite::Lax)
    .max_age(cookie::time::Duration::seconds(SIGN_IN_SECONDS))
    .build();
    cookies::set(&mut response, cookie);
    response
}

#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

fn sign_in_failed(status: StatusCode, text: &str) -> Response {
    message(
        status,
        "Inloggen is niet gelukt",
        text.into(),
        Some(("/medewerkers/inloggen", "Opnieuw inloggen")),
    )
}

/// `GET /medewerkers/inloggen/terug?code=…&state=…`: Cognito sends the browser here.
pub async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(callback): Query<Callback>,
) -> Response {
    let Some(hosted) = &state.hosted_sign_in else {
        return not_configured();
    };
    let pending = cookies::read(&headers, SIGN_IN_COOKIE);
    let expected = pending.as_deref().and_then(|v| v.split_once('.'));
    let (Some((expected_state, verifier)), Some(returned_state)) = (expected, &callback.state)
    else {
        return sign_in_failed(
            StatusCode::BAD_REQUEST,
            "Deze inlogpoging is verlopen of niet in deze browser begonnen. Log opnieuw in.",
        );
    };
    // `state` ties the answer to this browser's attempt (no login CSRF).
    if !bool::from(expected_state.as_bytes().ct_eq(returned_state.as_bytes())) {
        return sign_in_failed(
            StatusCode::BAD_REQUEST,
            "Deze inlogpoging is verlopen of niet in deze browser begonnen. Log opnieuw in.",
        );
    }
    if callback.error.is_some() {
        return sign_in_failed(
            StatusCode::UNAUTHORIZED,
            "De inlogdienst van de gemeente heeft u niet ingelogd.",
        );
    }
    let code = callback.code.as_deref().unwrap_or("");
    let token = match hosted.exchange(code, verifier).await {
        Ok(token) => token,
        Err(e) => {
            tracing::warn!(error = %e, "hosted sign-in: code exchange failed");
            return sign_in_failed(
                StatusCode::UNAUTHORIZED,
                "De inlogdienst van de gemeente heeft de aanmelding niet bevestigd. Log opnieuw in.",
            );
        }
    };
    let now = state.clocks.real().timestamp();
    let staff = match state.auth.verify(&token, now).await {
        Ok(staff) => staff,
        Err(AuthError::NotStaff) => {
            return sign_in_failed(
                StatusCode::FORBIDDEN,
                "Uw account hoort niet bij de medewerkers die aanvragen beoordelen. Vraag de beheerder om u toe te voegen aan de groep staff.",
            );
        }
        Err(e) => {
            tracing::warn!(error = %e, "hosted sign-in: token refused");
            return sign_in_failed(
                StatusCode::UNAUTHORIZED,
                "Het bewijs van de inlogdienst klopt niet. Log opnieuw in.",
            );
        }
    };
    tracing::info!(staff = %staff.id, "staff signed in (hosted)");
    // A 200 page that moves on by itself, not a redirect: the session cookie is
    // SameSite=Strict, and a redirect in a navigation that Cognito's page started
    // would arrive without it.
    let mut response = moving_on(
        "U bent ingelogd",
        "/medewerkers",
        "Verder naar de aanvragen",
    );
    set_session(&mut response, &headers, &token, staff.expires_at - now);
    clear_sign_in_attempt(&mut response, &headers);
    response
}

/// A page that moves on to `next` by itself (a meta refresh, no script), with a link.
#[derive(Template)]
#[template(path = "staff_moving_on.html")]
struct MovingOnPage<'a> {
    page: Page,
    heading: &'a str,
    next: &'a str,
    label: &'a str,
}

fn moving_on(heading: &str, next: &str, label: &str) -> Response {
    html(
        MovingOnPage {
            page: Page::new(heading),
            heading,
            next,
            label,
        }
        .render(),
    )
}

fn clear_sign_in_attempt(response: &mut Response, headers: &HeaderMap) {
    let cookie = Cookie::build((SIGN_IN_COOKIE, ""))
        .path("/medewerkers/inloggen")
        .http_only(true)
        .secure(cookies::over_https(headers))
        .same_site(SameSite::Lax)
        .max_age(cookie::time::Duration::ZERO)
        .build();
    cookies::set(response, cookie);
}

/// `GET /medewerkers/uitgelogd`: where Cognito's logout lands.
pub async fn signed_out() -> Response {
    message(
        StatusCode::OK,
        "U bent uitgelogd",
        "U bent uitgelogd bij het loket en bij de inlogdienst van de gemeente.".into(),
        Some(("/medewerkers/inloggen", "Opnieuw inloggen")),
    )
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
    let now = state.clocks.real().timestamp();
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
    let mut response = Redirect::to("/medewerkers").into_response();
    set_session(&mut response, &headers, &token, SESSION_SECONDS);
    response
}

/// Ends the session here and, with the hosted sign-in, at Cognito too.
pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    CheckedForm(_): CheckedForm,
) -> Response {
    let mut response = match &state.hosted_sign_in {
        // A page, not a redirect: the pages' CSP (`form-action 'self'`) stops a form
        // post that is redirected to another site.
        Some(hosted) => moving_on(
            "U wordt uitgelogd",
            &hosted.sign_out_url(),
            "Verder naar de inlogdienst van de gemeente",
        ),
        None => Redirect::to("/medewerkers/inloggen").into_response(),
    };
    set_session(&mut response, &headers, "", 0);
    response
}

fn set_session(response: &mut Response, headers: &HeaderMap, token: &str, seconds: i64) {
    let cookie = Cookie::build((SESSION_COOKIE, token.to_string()))
        .path("/medewerkers")
        .http_only(true)
        .secure(cookies::over_https(headers))
        .same_site(SameSite::Strict)
        .max_age(cookie::time::Duration::seconds(seconds.max(0)))
        .build();
    cookies::set(response, cookie);
}
