//! The staff pages' hosted sign-in (Cognito, authorization code with PKCE), against
//! the stand-in in `tests/common/cognito.rs`: the whole way round, and each way it
//! must fail. The same flow in Chromium is in `tests/browser/staff.rs`.

use std::sync::Arc;

use loket::clock::ManualClock;
use loket::domain::Catalogue;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

use crate::cognito::CognitoStandIn;
use crate::helpers::*;

async fn spawn_app_with_cognito() -> (TestApp, CognitoStandIn) {
    let cognito = CognitoStandIn::start().await;
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let store = new_store(Some(&dir)).await;
    let for_app = cognito.clone();
    let app = serve_configured(
        store,
        ManualClock::new(at(SUBMISSION_MOMENT)),
        Some(dir),
        Catalogue::default(),
        cognito.staff_auth(),
        move |state, base| state.hosted_sign_in(for_app.hosted_sign_in(base)),
    )
    .await;
    (app, cognito)
}

/// A client that shows every redirect instead of following it.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The `Set-Cookie` of `name`, whole (with its attributes).
fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

/// `name=value` of a `Set-Cookie`, for sending back.
fn pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_string()
}

fn location(response: &reqwest::Response) -> String {
    response.headers()[LOCATION].to_str().unwrap().to_string()
}

fn query_param(url: &str, name: &str) -> String {
    let query = url.split_once('?').unwrap().1;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
    pairs
        .into_iter()
        .find(|(k, _)| k == name)
        .unwrap_or_else(|| panic!("{name} in {url}"))
        .1
}

/// One sign-in up to Cognito's answer: the attempt cookie and the callback address.
struct AtCallback {
    attempt_cookie: String,
    callback: String,
}

async fn sign_in_at_cognito(app: &TestApp, username: &str) -> AtCallback {
    let client = browser();
    let queue = client.get(app.url("/medewerkers")).send().await.unwrap();
    assert_eq!(queue.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&queue), "/medewerkers/inloggen");

    let start = client
        .get(app.url("/medewerkers/inloggen"))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), StatusCode::SEE_OTHER);
    let authorize = location(&start);
    let attempt = set_cookie(&start, "loket_inloggen").expect("the attempt is kept");
    for attribute in [
        "HttpOnly",
        "SameSite=Lax",
        "Path=/medewerkers/inloggen",
        "Max-Age=600",
    ] {
        assert!(attempt.contains(attribute), "{attribute} in {attempt}");
    }
    let verifier = pair(&attempt).split_once('.').unwrap().1.to_string();
    assert!(
        !authorize.contains(&verifier),
        "the verifier never leaves the browser's cookie"
    );
    assert_eq!(
        query_param(&authorize, "code_challenge_method"),
        "S256",
        "{authorize}"
    );

    // Cognito's page (the stand-in rejects a wrong client, callback or challenge).
    let page = client.get(&authorize).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK, "{authorize}");
    let form = [
        ("username", username.to_string()),
        ("redirect_uri", query_param(&authorize, "redirect_uri")),
        ("state", query_param(&authorize, "state")),
        ("code_challenge", query_param(&authorize, "code_challenge")),
    ];
    let authorize_base = authorize.split("/oauth2/").next().unwrap();
    let back = client
        .post(format!("{authorize_base}/login"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    AtCallback {
        attempt_cookie: pair(&attempt),
        callback: location(&back),
    }
}

async fn open_callback(url: &str, cookie: Option<&str>) -> reqwest::Response {
    let mut request = browser().get(url);
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn hosted_sign_in_with_pkce_gives_a_strict_session_that_opens_the_queue_and_signs_out_at_cognito()
 {
    let (app, cognito) = spawn_app_with_cognito().await;
    let at = sign_in_at_cognito(&app, "j.visser").await;
    assert!(
        at.callback
            .starts_with(&app.url("/medewerkers/inloggen/terug?code="))
    );

    let signed_in = open_callback(&at.callback, Some(&at.attempt_cookie)).await;
    assert_eq!(signed_in.status(), StatusCode::OK);
    let session = set_cookie(&signed_in, "loket_sessie").expect("a session");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/medewerkers"] {
        assert!(session.contains(attribute), "{attribute} in {session}");
    }
    let max_age: i64 = session
        .split("Max-Age=")
        .nth(1)
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (3590..=3600).contains(&max_age),
        "the session ends with the token (an hour): {max_age}"
    );
    let used = set_cookie(&signed_in, "loket_inloggen").expect("the attempt is cleared");
    assert!(used.contains("Max-Age=0"), "{used}");
    let page = signed_in.text().await.unwrap();
    assert!(
        page.contains(r#"http-equiv="refresh" content="0;url=/medewerkers""#),
        "moves on by a page of our own, so the Strict cookie goes along"
    );

    let queue = browser()
        .get(app.url("/medewerkers"))
        .header(COOKIE, pair(&session))
        .send()
        .await
        .unwrap();
    assert_eq!(queue.status(), StatusCode::OK);
    let (csrf_cookie, csrf) = {
        let cookie = set_cookie(&queue, "loket_csrf").expect("a CSRF value");
        let value = pair(&cookie).split_once('=').unwrap().1.to_string();
        (pair(&cookie), value)
    };
    let body = queue.text().await.unwrap();
    assert!(
        body.contains("Ingelogd als <strong>j.visser</strong>"),
        "{body}"
    );

    // Signing out ends the session here and sends the browser to Cognito's logout.
    let out = browser()
        .post(app.url("/medewerkers/uitloggen"))
        .header(COOKIE, format!("{}; {csrf_cookie}", pair(&session)))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::OK);
    let cleared = set_cookie(&out, "loket_sessie").unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let page = out.text().await.unwrap();
    let logout = page
        .split(r#"http-equiv="refresh" content="0;url="#)
        .nth(1)
        .expect("moves on to Cognito's logout")
        .split('"')
        .next()
        .unwrap()
        .replace("&#38;", "&");
    assert!(
        logout.starts_with(&format!("{}/logout?", cognito.domain)),
        "{logout}"
    );
    let landed = browser().get(&logout).send().await.unwrap();
    assert_eq!(landed.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&landed), app.url("/medewerkers/uitgelogd"));
    assert_eq!(cognito.logouts(), 1);
    let page = browser()
        .get(app.url("/medewerkers/uitgelogd"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("U bent uitgelogd"));
}

#[tokio::test]
async fn a_sign_in_that_is_not_this_browsers_or_not_staff_gives_no_session() {
    let (app, cognito) = spawn_app_with_cognito().await;

    // Another browser's answer (login CSRF): no attempt cookie, or another state.
    let at = sign_in_at_cognito(&app, "j.visser").await;
    let without = open_callback(&at.callback, None).await;
    assert_eq!(without.status(), StatusCode::BAD_REQUEST);
    assert!(set_cookie(&without, "loket_sessie").is_none());
    let other = sign_in_at_cognito(&app, "j.visser").await;
    let crossed = open_callback(&at.callback, Some(&other.attempt_cookie)).await;
    assert_eq!(crossed.status(), StatusCode::BAD_REQUEST);
    assert!(set_cookie(&crossed, "loket_sessie").is_none());

    // The right state but a verifier that is not the one challenged: Cognito refuses.
    let at = sign_in_at_cognito(&app, "j.visser").await;
    let (state, _) = at.attempt_cookie.split_once('.').unwrap();
    let forged = format!("{state}.{}", "x".repeat(43));
    let refused = open_callback(&at.callback, Some(&forged)).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(set_cookie(&refused, "loket_sessie").is_none());
    assert_eq!(
        cognito.refusals().last().map(String::as_str),
        Some("invalid_grant: code_verifier")
    );

    // A code works once: the same answer again is refused.
    let at = sign_in_at_cognito(&app, "j.visser").await;
    let first = open_callback(&at.callback, Some(&at.attempt_cookie)).await;
    assert_eq!(first.status(), StatusCode::OK);
    let again = open_callback(&at.callback, Some(&at.attempt_cookie)).await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    assert!(set_cookie(&again, "loket_sessie").is_none());

    // A user of the pool who is not in the group `staff`.
    let at = sign_in_at_cognito(&app, "p.bakker").await;
    let not_staff = open_callback(&at.callback, Some(&at.attempt_cookie)).await;
    assert_eq!(not_staff.status(), StatusCode::FORBIDDEN);
    assert!(set_cookie(&not_staff, "loket_sessie").is_none());
    assert!(
        not_staff
            .text()
            .await
            .unwrap()
            .contains("hoort niet bij de medewerkers")
    );

    // Cognito reporting an error (the user cancelled) with the right state.
    let at = sign_in_at_cognito(&app, "j.visser").await;
    let state = query_param(&at.callback, "state");
    let cancelled = open_callback(
        &app.url(&format!(
            "/medewerkers/inloggen/terug?error=access_denied&state={state}"
        )),
        Some(&at.attempt_cookie),
    )
    .await;
    assert_eq!(cancelled.status(), StatusCode::UNAUTHORIZED);
    assert!(set_cookie(&cancelled, "loket_sessie").is_none());
}

/// The `admin` Lambda function's router: the hosted sign-in or none, never the local
/// one (its post is not there at all).
#[tokio::test]
async fn the_lambda_staff_pages_have_no_local_sign_in() {
    use axum::body::Body;
    use tower::ServiceExt;

    let dir = tempfile::tempdir().unwrap();
    let store = loket::store::Store::new(new_store(Some(&dir)).await);
    let request = |method: &str| {
        axum::http::Request::builder()
            .method(method)
            .uri("/medewerkers/inloggen")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from("staff_id=a&secret=b&csrf=c"))
            .unwrap()
    };
    let bare = loket::routes::admin_app(loket::api::AppState::builder(store.clone()).build());
    let get = bare.clone().oneshot(request("GET")).await.unwrap();
    assert_eq!(get.status(), 503, "no sign-in configured: says so");
    let post = bare.oneshot(request("POST")).await.unwrap();
    assert_eq!(post.status(), 405, "the local sign-in does not exist here");

    let cognito = CognitoStandIn::start().await;
    let hosted = loket::routes::admin_app(
        loket::api::AppState::builder(store)
            .auth(cognito.staff_auth())
            .hosted_sign_in(cognito.hosted_sign_in("https://loket.dronten.test"))
            .build(),
    );
    let get = hosted.oneshot(request("GET")).await.unwrap();
    assert_eq!(get.status(), 303);
    let to = get.headers()["location"].to_str().unwrap();
    assert!(
        to.starts_with(&format!("{}/oauth2/authorize?", cognito.domain)),
        "{to}"
    );
}
