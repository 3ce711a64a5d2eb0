//! Staff authentication on the staff routes: HS256 tokens (every way a token can be
//! wrong, the staff member as the actor), RS256 against a JWKS (inline, a file, a URL
//! fetched on first use), and the security the OpenAPI document describes.

use std::sync::Arc;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, Header};
use loket::api::auth::StaffAuth;
use loket::clock::{Clock, ManualClock};
use loket::domain::Catalogue;
use reqwest::Method;
use serde_json::{Value, json};

use crate::admin_helpers::id_of;
use crate::cognito::RsaKey;
use crate::helpers::*;
use crate::permits::{submit, zomerfestival};

// ---------------------------------------------------------------------------------
// Authentication

/// Every staff route with a body that would succeed for a valid staff token.
fn admin_routes(id: &str) -> Vec<(Method, String, Option<Value>)> {
    vec![
        (Method::GET, "/admin/permits".into(), None),
        (
            Method::GET,
            "/admin/permits?status=submitted&year=2017".into(),
            None,
        ),
        (Method::GET, format!("/admin/permits/{id}"), None),
        (
            Method::POST,
            format!("/admin/permits/{id}/review"),
            Some(json!({"action": "start_review"})),
        ),
        (Method::GET, "/admin/permits.csv?year=2017".into(), None),
        (Method::GET, "/admin/leges/coverage?year=2017".into(), None),
    ]
}

/// A token with no signature at all (`alg: none`).
fn unsigned(claims: &Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{header}.{payload}.")
}

#[tokio::test]
async fn every_admin_route_refuses_missing_invalid_expired_foreign_and_non_staff_tokens() {
    let app = spawn_app().await;
    let id = id_of(&submit(&app, &zomerfestival()).await);
    let now = app.real_clock.now().timestamp();
    let valid = staff_claims(&app, "marieke");
    let with = |field: &str, value: Value| {
        let mut claims = valid.clone();
        claims[field] = value;
        claims
    };

    let cases: Vec<(&str, Option<String>, u16)> = vec![
        ("no token", None, 401),
        ("not a JWT", Some("not-a-jwt".into()), 401),
        (
            "bad signature",
            Some(sign_hs256(&valid, "another secret of at least 32 bytes")),
            401,
        ),
        ("unsigned (alg none)", Some(unsigned(&valid)), 401),
        (
            "expired",
            Some(sign_hs256(&with("exp", json!(now - 60)), TEST_JWT_SECRET)),
            401,
        ),
        (
            "expiring this second",
            Some(sign_hs256(&with("exp", json!(now)), TEST_JWT_SECRET)),
            401,
        ),
        (
            "no exp",
            Some(sign_hs256(
                &{
                    let mut c = valid.clone();
                    c.as_object_mut().unwrap().remove("exp");
                    c
                },
                TEST_JWT_SECRET,
            )),
            401,
        ),
        (
            "wrong issuer",
            Some(sign_hs256(
                &with("iss", json!("https://evil.example")),
                TEST_JWT_SECRET,
            )),
            401,
        ),
        (
            "wrong audience",
            Some(sign_hs256(
                &with("aud", json!("someone-else")),
                TEST_JWT_SECRET,
            )),
            401,
        ),
        (
            "not staff",
            Some(sign_hs256(
                &with("groups", json!(["citizens"])),
                TEST_JWT_SECRET,
            )),
            403,
        ),
        (
            "groups as a string (Cognito sends an array)",
            Some(sign_hs256(
                &with("groups", json!("users staff")),
                TEST_JWT_SECRET,
            )),
            401,
        ),
        (
            "a forged log line as the subject",
            Some(sign_hs256(
                &with("sub", json!("marieke\n\u{1b}[31mERROR forged")),
                TEST_JWT_SECRET,
            )),
            401,
        ),
        (
            "no groups",
            Some(sign_hs256(
                &{
                    let mut c = valid.clone();
                    c.as_object_mut().unwrap().remove("groups");
                    c
                },
                TEST_JWT_SECRET,
            )),
            403,
        ),
    ];
    for (method, path, body) in admin_routes(&id) {
        for (case, token, status) in &cases {
            let mut request = app
                .request(method.clone(), &path)
                .header("If-Match", "\"1\"");
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            if let Some(body) = &body {
                request = request.json(body);
            }
            let response = request.send().await.unwrap();
            let got = response.status().as_u16();
            let challenge = response
                .headers()
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap().to_string());
            let problem = expect_status(response, got).await;
            assert_eq!(got, *status, "{method} {path} with {case}");
            match status {
                401 => {
                    assert_eq!(
                        challenge.as_deref(),
                        Some("Bearer"),
                        "{method} {path} with {case}"
                    );
                    assert_eq!(problem["type"], "/problems/unauthorized");
                }
                _ => assert_eq!(
                    problem["type"], "/problems/forbidden",
                    "{method} {path} with {case}"
                ),
            }
        }
    }
    // Nothing was changed by any refused review.
    let token = staff_token(&app, "marieke");
    assert_eq!(app.permit_etag(&id, &token).await, "\"1\"");

    // The same routes let a valid staff token through (so the refusals above are the
    // token's doing), with the token's variants the contract allows.
    let cognito_style = sign_hs256(
        &json!({"cognito:username": "piet", "cognito:groups": ["users", "staff"], "iss": TEST_JWT_ISSUER,
                "client_id": TEST_JWT_AUDIENCE, "exp": now + 600}),
        TEST_JWT_SECRET,
    );
    for token in [token, cognito_style] {
        let id = id_of(&submit(&app, &zomerfestival()).await);
        for (method, path, body) in admin_routes(&id) {
            let mut request = app
                .request(method.clone(), &path)
                .bearer_auth(&token)
                .header("If-Match", "\"1\"");
            if let Some(body) = &body {
                request = request.json(body);
            }
            let response = request.send().await.unwrap();
            assert_eq!(
                response.status(),
                200,
                "{method} {path} with a valid staff token"
            );
        }
    }
}

#[tokio::test]
async fn the_staff_members_id_from_the_token_is_the_actor_in_the_history() {
    let app = spawn_app().await;
    let created = submit(&app, &zomerfestival()).await;
    let id = id_of(&created);
    let organiser_token = created["access_token"].as_str().unwrap();
    let marieke = staff_token(&app, "marieke");
    let joost = staff_token(&app, "joost");

    app.permit_decide(&id, &marieke, json!({"action": "start_review"}))
        .await;
    app.permit_decide(
        &id,
        &marieke,
        json!({"action": "request_info", "reason": "Stuur een plattegrond"}),
    )
    .await;
    expect_status(
        app.post_json_with_token(
            &format!("/permits/{id}/info"),
            organiser_token,
            &json!({"message": "Bijgevoegd"}),
        )
        .await,
        200,
    )
    .await;
    let approved = app
        .permit_decide(
            &id,
            &joost,
            json!({"action": "approve", "reason": "In orde"}),
        )
        .await;
    assert_eq!(approved["status"], "approved");

    let response = app
        .admin_get(&format!("/admin/permits/{id}"), &marieke)
        .await;
    assert_eq!(response.headers()["etag"], "\"5\"");
    let detail = expect_status(response, 200).await;
    let history: Vec<(&str, &str, &str, Value)> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["actor"].as_str().unwrap(),
                h["action"].as_str().unwrap(),
                h["to"].as_str().unwrap(),
                h["reason"].clone(),
            )
        })
        .collect();
    assert_eq!(
        history,
        [
            ("organiser", "submit", "submitted", Value::Null),
            ("marieke", "start_review", "in_review", Value::Null),
            (
                "marieke",
                "request_info",
                "info_requested",
                json!("Stuur een plattegrond")
            ),
            ("organiser", "answer_info", "in_review", json!("Bijgevoegd")),
            ("joost", "approve", "approved", json!("In orde")),
        ]
    );
    assert_eq!(detail["history"][1]["from"], "submitted");
    assert_eq!(detail["history"][0]["from"], Value::Null);
    assert_eq!(
        detail["organiser"]["email"], "info@zomerfest.nl",
        "staff see contact data"
    );
    assert_eq!(detail["version"], 5);

    // The organiser's own view still shows no staff identities.
    let own = expect_status(
        app.get_with_token(&format!("/permits/{id}"), organiser_token)
            .await,
        200,
    )
    .await;
    assert!(!own.to_string().contains("marieke") && !own.to_string().contains("joost"));

    expect_status(
        app.admin_get("/admin/permits/unknown-id", &marieke).await,
        404,
    )
    .await;
}

// ---------------------------------------------------------------------------------
// RS256 with a JWKS

/// Generated once per test run (key generation is slow in a debug build).
static RSA_KEY: LazyLock<RsaKey> = LazyLock::new(|| RsaKey::generate("key-1"));

fn jwks_of(keys: &[&RsaKey]) -> String {
    json!({"keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>()}).to_string()
}

async fn spawn_app_with_auth(auth: StaffAuth) -> TestApp {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let store = new_store(Some(&dir)).await;
    serve_with_auth(
        store,
        ManualClock::new(at(SUBMISSION_MOMENT)),
        Some(dir),
        Catalogue::default(),
        auth,
    )
    .await
}

fn cognito_auth(jwks: &str) -> StaffAuth {
    StaffAuth::jwks(
        jwks,
        Some(TEST_JWT_ISSUER.into()),
        Some(TEST_JWT_AUDIENCE.into()),
    )
    .expect("a JWKS")
}

/// What an RS256 app must answer for tokens signed in various ways.
async fn assert_rs256_tokens_are_judged_correctly(app: &TestApp) {
    let key = &*RSA_KEY;
    let claims = staff_claims(app, "cognito-user-1");
    let path = "/admin/leges/coverage?year=2017";
    let other_kid = {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("key-unknown".into());
        sign_token(&claims, &header, &key.encoding)
    };
    let mut tampered = key.sign(&claims);
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let mut foreign_issuer = claims.clone();
    foreign_issuer["iss"] = json!("https://cognito-idp.eu-west-1.amazonaws.com/other-pool");
    let mut not_staff = claims.clone();
    not_staff["groups"] = json!(["organisers"]);

    for (case, token, status) in [
        ("signed with the JWKS key", key.sign(&claims), 200),
        (
            "an HS256 token with the test secret",
            sign_hs256(&claims, TEST_JWT_SECRET),
            401,
        ),
        ("an unknown kid", other_kid, 401),
        ("a tampered signature", tampered, 401),
        ("another issuer", key.sign(&foreign_issuer), 401),
        ("not staff", key.sign(&not_staff), 403),
    ] {
        let response = app.admin_get(path, &token).await;
        assert_eq!(response.status().as_u16(), status, "RS256 app, {case}");
    }
}

#[tokio::test]
async fn rs256_tokens_are_verified_against_an_inline_jwks() {
    let app = spawn_app_with_auth(cognito_auth(&jwks_of(&[&RSA_KEY]))).await;
    assert_rs256_tokens_are_judged_correctly(&app).await;
}

#[tokio::test]
async fn rs256_tokens_are_verified_against_a_jwks_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("jwks.json");
    std::fs::write(&file, jwks_of(&[&RSA_KEY])).unwrap();
    let app = spawn_app_with_auth(cognito_auth(file.to_str().unwrap())).await;
    assert_rs256_tokens_are_judged_correctly(&app).await;
}

/// A JWKS endpoint on this machine that counts how often it is asked.
async fn jwks_server(jwks: String, addr: &str) -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let router = axum::Router::new().route(
        "/.well-known/jwks.json",
        axum::routing::get(move || {
            let jwks = jwks.clone();
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                ([("content-type", "application/json")], jwks)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let url = format!(
        "http://{}/.well-known/jwks.json",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, hits)
}

#[tokio::test]
async fn a_jwks_url_is_fetched_on_first_use_not_at_start_and_then_cached() {
    let (url, hits) = jwks_server(jwks_of(&[&RSA_KEY]), "127.0.0.1:0").await;
    let app = spawn_app_with_auth(cognito_auth(&url)).await;
    expect_status(app.get("/health").await, 200).await;
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "nothing is fetched during init"
    );

    assert_rs256_tokens_are_judged_correctly(&app).await;
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "fetched once, then served from the cache"
    );

    // An unknown kid may mean the keys rotated: fetched again, but at most once a minute.
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("rotated".into());
    let rotated = sign_token(&staff_claims(&app, "u"), &header, &RSA_KEY.encoding);
    app.real_clock.advance(chrono::Duration::seconds(61));
    assert_eq!(
        app.admin_get("/admin/permits", &rotated).await.status(),
        401
    );
    assert_eq!(
        app.admin_get("/admin/permits", &rotated).await.status(),
        401
    );
    assert_eq!(
        hits.load(Ordering::SeqCst),
        2,
        "one refetch for the unknown kid"
    );
}

#[tokio::test]
async fn an_unreachable_jwks_url_is_503_and_is_tried_again_a_few_seconds_later() {
    // A port that was just free: nothing listens there (yet).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    drop(listener);
    let url = format!("http://{addr}/.well-known/jwks.json");
    let app = spawn_app_with_auth(cognito_auth(&url)).await;
    let token = RSA_KEY.sign(&staff_claims(&app, "u"));
    let response = app.admin_get("/admin/permits", &token).await;
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));
    // A token that is not even RS256 is refused without asking the key server.
    let hs = sign_hs256(&staff_claims(&app, "u"), TEST_JWT_SECRET);
    assert_eq!(app.admin_get("/admin/permits", &hs).await.status(), 401);

    // The key server comes up: within 5 seconds of the failure the service does not
    // ask again (requests fail fast instead of queueing); after that it does.
    let (_, hits) = jwks_server(jwks_of(&[&RSA_KEY]), &addr).await;
    assert_eq!(app.admin_get("/admin/permits", &token).await.status(), 503);
    assert_eq!(hits.load(Ordering::SeqCst), 0);
    app.real_clock.advance(chrono::Duration::seconds(6));
    assert_eq!(app.admin_get("/admin/permits", &token).await.status(), 200);
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

// ---------------------------------------------------------------------------------
// The OpenAPI document

#[tokio::test]
async fn the_openapi_document_describes_the_staff_routes_with_their_security() {
    let app = spawn_app().await;
    let doc = expect_status(app.get("/openapi.json").await, 200).await;
    for (path, method) in [
        ("/admin/permits", "get"),
        ("/admin/permits/{id}", "get"),
        ("/admin/permits/{id}/review", "post"),
        ("/admin/permits.csv", "get"),
        ("/admin/leges/coverage", "get"),
    ] {
        let op = &doc["paths"][path][method];
        assert_eq!(
            op["security"],
            json!([{"staff_jwt": []}]),
            "{method} {path}"
        );
        for status in ["401", "403"] {
            assert!(
                op["responses"][status].is_object(),
                "{method} {path} documents {status}"
            );
        }
    }
    assert!(doc["paths"]["/admin/permits/{id}/review"]["post"]["responses"]["428"].is_object());
}
