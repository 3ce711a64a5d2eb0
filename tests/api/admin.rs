//! Staff routes: authentication (HS256 and RS256/JWKS), the list, the detail, review
//! under If-Match, the CSV export and the live leges coverage, plus a model-based
//! property test that the coverage aggregates always equal the recomputation.

use std::sync::Arc;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, Header};
use loket::api::auth::StaffAuth;
use loket::clock::{Clock, ManualClock};
use loket::domain::Catalogue;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::cognito::RsaKey;
use crate::helpers::*;
use crate::permits::{buurtbarbecue, jeugdtoernooi, submit, zomerfestival};

// ---------------------------------------------------------------------------------
// Helpers

impl TestApp {
    /// A staff request with a bearer token.
    fn admin_request(&self, method: Method, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.request(method, path).bearer_auth(token)
    }

    async fn admin_get(&self, path: &str, token: &str) -> reqwest::Response {
        self.admin_request(Method::GET, path, token)
            .send()
            .await
            .expect("request")
    }

    async fn permit_review(
        &self,
        id: &str,
        token: &str,
        if_match: Option<&str>,
        body: &Value,
    ) -> reqwest::Response {
        let mut request = self
            .admin_request(Method::POST, &format!("/admin/permits/{id}/review"), token)
            .json(body);
        if let Some(v) = if_match {
            request = request.header("If-Match", v);
        }
        request.send().await.expect("request")
    }

    /// Reviews with the current ETag and expects 200.
    async fn permit_decide(&self, id: &str, token: &str, body: Value) -> Value {
        let version = self.permit_etag(id, token).await;
        expect_status(
            self.permit_review(id, token, Some(&version), &body).await,
            200,
        )
        .await
    }

    async fn permit_etag(&self, id: &str, token: &str) -> String {
        let response = self.admin_get(&format!("/admin/permits/{id}"), token).await;
        assert_eq!(response.status(), 200);
        response.headers()["etag"].to_str().unwrap().to_string()
    }

    async fn coverage_report(&self, year: i32) -> Value {
        let token = staff_token(self, "controller");
        expect_status(
            self.admin_get(&format!("/admin/leges/coverage?year={year}"), &token)
                .await,
            200,
        )
        .await
    }
}

fn id_of(created: &Value) -> String {
    created["id"].as_str().unwrap().to_string()
}

/// An event body with other dates (same facts as the example).
fn moved(mut body: Value, starts_at: &str, ends_at: &str) -> Value {
    body["event"]["starts_at"] = json!(starts_at);
    body["event"]["ends_at"] = json!(ends_at);
    body
}

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
// Review

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_approvals_with_the_same_if_match_let_exactly_one_through() {
    let app = spawn_app().await;
    let id = id_of(&submit(&app, &zomerfestival()).await);
    let token = staff_token(&app, "marieke");
    app.permit_decide(&id, &token, json!({"action": "start_review"}))
        .await;
    let version = app.permit_etag(&id, &token).await;
    assert_eq!(version, "\"2\"");

    let mut attempts = tokio::task::JoinSet::new();
    for i in 0..20 {
        let request = app
            .admin_request(
                Method::POST,
                &format!("/admin/permits/{id}/review"),
                &staff_token(&app, &format!("staff-{i}")),
            )
            .header("If-Match", version.clone())
            .json(&json!({"action": "approve"}));
        attempts.spawn(async move { request.send().await.expect("request").status() });
    }
    let statuses = attempts.join_all().await;
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::PRECONDITION_FAILED || **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((ok, refused), (1, 19), "{statuses:?}");

    let detail = expect_status(
        app.admin_get(&format!("/admin/permits/{id}"), &token).await,
        200,
    )
    .await;
    let approvals = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["action"] == "approve")
        .count();
    assert_eq!(approvals, 1);
    assert_eq!(detail["version"], 3);
    assert_eq!(detail["status"], "approved");
}

#[tokio::test]
async fn a_review_needs_if_match_and_a_current_version() {
    let app = spawn_app().await;
    let id = id_of(&submit(&app, &zomerfestival()).await);
    let token = staff_token(&app, "marieke");
    let start = json!({"action": "start_review"});

    let missing = expect_status(app.permit_review(&id, &token, None, &start).await, 428).await;
    assert_eq!(missing["type"], "/problems/if_match_required");
    for stale in ["\"0\"", "\"2\"", "W/\"7\"", "nonsense"] {
        let problem = expect_status(
            app.permit_review(&id, &token, Some(stale), &start).await,
            412,
        )
        .await;
        assert_eq!(
            problem["type"], "/problems/version_mismatch",
            "If-Match {stale}"
        );
    }
    let response = app.permit_review(&id, &token, Some("\"1\""), &start).await;
    assert_eq!(response.headers()["etag"], "\"2\"");
    let reviewing = expect_status(response, 200).await;
    assert_eq!(reviewing["status"], "in_review");
    // The old ETag is stale now.
    expect_status(
        app.permit_review(&id, &token, Some("\"1\""), &json!({"action": "approve"}))
            .await,
        412,
    )
    .await;
    expect_status(
        app.permit_review("unknown-id", &token, Some("\"1\""), &start)
            .await,
        404,
    )
    .await;
}

#[tokio::test]
async fn review_actions_follow_the_lifecycle_and_validate_their_body() {
    let app = spawn_app().await;
    let id = id_of(&submit(&app, &zomerfestival()).await);
    let token = staff_token(&app, "marieke");
    let pair = |f: &str, c: &str| (f.to_string(), c.to_string());

    // Not allowed while submitted: 409, and nothing changes.
    for action in ["approve", "request_info", "reject"] {
        let body = json!({"action": action, "reason": "Reden"});
        let problem = expect_status(
            app.permit_review(&id, &token, Some("\"1\""), &body).await,
            409,
        )
        .await;
        assert_eq!(
            problem["type"], "/problems/not_allowed",
            "{action} while submitted"
        );
    }
    app.permit_decide(&id, &token, json!({"action": "start_review"}))
        .await;
    let v = app.permit_etag(&id, &token).await;
    for (body, errors) in [
        (
            json!({"action": "reject"}),
            vec![pair("reason", "required")],
        ),
        (
            json!({"action": "request_info", "reason": "  "}),
            vec![pair("reason", "required")],
        ),
        (
            json!({"action": "approve", "category": "B"}),
            vec![pair("category", "not_applicable")],
        ),
        (
            json!({"action": "reclassify"}),
            vec![pair("category", "required")],
        ),
        (
            json!({"action": "reclassify", "category": "X"}),
            vec![pair("category", "one_of")],
        ),
        (json!({"action": "publish"}), vec![pair("action", "one_of")]),
        (
            json!({"reason": "x", "note": 1}),
            vec![pair("action", "required"), pair("note", "unknown_field")],
        ),
    ] {
        let problem =
            expect_status(app.permit_review(&id, &token, Some(&v), &body).await, 422).await;
        assert_eq!(field_errors(&problem), errors, "{body}");
    }
    assert_eq!(
        app.permit_etag(&id, &token).await,
        v,
        "refused reviews change nothing"
    );

    let rejected = app
        .permit_decide(
            &id,
            &token,
            json!({"action": "reject", "reason": "Geen veiligheidsplan"}),
        )
        .await;
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(
        rejected["leges"]["refunded_cents"], 0,
        "a rejection refunds nothing"
    );
    let problem = expect_status(
        app.permit_review(
            &id,
            &token,
            Some(&app.permit_etag(&id, &token).await),
            &json!({"action": "reclassify", "category": "A"}),
        )
        .await,
        409,
    )
    .await;
    assert_eq!(
        problem["type"], "/problems/not_allowed",
        "no reclassification after a decision"
    );
}

#[tokio::test]
async fn reclassification_recomputes_the_leges_records_the_difference_and_moves_the_report() {
    let app = spawn_app().await;
    let id = id_of(&submit(&app, &jeugdtoernooi()).await);
    let token = staff_token(&app, "marieke");
    // Months later: the 2017 table and the 1 March submission still count.
    app.clock.set(at("2017-04-20T09:00:00+02:00"));
    app.permit_decide(&id, &token, json!({"action": "start_review"}))
        .await;

    let b = app
        .permit_decide(
            &id,
            &token,
            json!({"action": "reclassify", "category": "B", "reason": "Meer bezoekers"}),
        )
        .await;
    assert_eq!(
        (b["category"].as_str(), b["kind"].as_str()),
        (Some("B"), Some("vergunning"))
    );
    assert_eq!(
        b["leges"]["total_cents"], 22_500,
        "B 450.00 with the 50% reduction"
    );
    assert_eq!(
        b["deadline"],
        json!({"required_by": "2017-02-19", "late": true})
    );
    assert_eq!(
        b["status"], "in_review",
        "a reclassification keeps the status"
    );
    let last = b["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "reclassify");
    assert_eq!(last["actor"], "marieke");
    assert_eq!(last["reason"], "Meer bezoekers");
    assert_eq!(
        last["reclassification"],
        json!({"from_category": "A", "to_category": "B", "leges_difference_cents": 15_000})
    );

    let report = app.coverage_report(2017).await;
    assert_eq!(report["imposed_cents"], 22_500);
    assert_eq!(report["open_cents"], 22_500);
    assert_eq!(
        report["by_category"]["A"],
        json!({"count": 0, "net_cents": 0})
    );
    assert_eq!(
        report["by_category"]["B"],
        json!({"count": 1, "net_cents": 22_500})
    );

    let melding = app
        .permit_decide(
            &id,
            &token,
            json!({"action": "reclassify", "category": "0"}),
        )
        .await;
    assert_eq!(melding["kind"], "melding");
    assert_eq!(melding["leges"]["total_cents"], 1_500);
    assert_eq!(
        melding["history"].as_array().unwrap().last().unwrap()["reclassification"]["leges_difference_cents"],
        -21_000
    );
    let report = app.coverage_report(2017).await;
    assert_eq!(report["imposed_cents"], 1_500);
    assert_eq!(
        report["by_category"]["0"],
        json!({"count": 1, "net_cents": 1_500})
    );
    assert_eq!(
        report["by_category"]["B"],
        json!({"count": 0, "net_cents": 0})
    );
    assert_eq!(
        report["by_month"],
        json!({"2017-03": {"count": 1, "net_cents": 1_500}}),
        "the submission month counts"
    );
}

// ---------------------------------------------------------------------------------
// Coverage

#[tokio::test]
async fn example_6_through_the_api_covers_478_basis_points() {
    let app = spawn_app().await;
    submit(&app, &buurtbarbecue()).await;
    submit(&app, &zomerfestival()).await;
    let toernooi = submit(&app, &jeugdtoernooi()).await;
    let path = format!("/permits/{}/withdraw", id_of(&toernooi));
    let withdrawn = expect_status(
        app.post_json_with_token(
            &path,
            toernooi["access_token"].as_str().unwrap(),
            &json!({}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(withdrawn["leges"]["refunded_cents"], 3_750);

    let report = app.coverage_report(2017).await;
    assert_eq!(
        report,
        json!({
            "year": 2017, "cost_cents": 3_200_000,
            "imposed_cents": 156_800, "refunded_cents": 3_750, "net_cents": 153_050,
            "coverage_bp": 478, "open_cents": 149_300, "over_recovery": false,
            "by_category": {
                "0": {"count": 1, "net_cents": 3_000},
                "A": {"count": 1, "net_cents": 3_750},
                "B": {"count": 0, "net_cents": 0},
                "C": {"count": 1, "net_cents": 146_300},
            },
            "by_month": {"2017-03": {"count": 3, "net_cents": 153_050}},
        })
    );
    // Without ?year= the current local year of the business clock.
    let token = staff_token(&app, "controller");
    let default = expect_status(app.admin_get("/admin/leges/coverage", &token).await, 200).await;
    assert_eq!(default, report);
    // Decisions move only the open leges.
    let festival_id = {
        let list = expect_status(
            app.admin_get("/admin/permits?status=submitted", &token)
                .await,
            200,
        )
        .await;
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["category"] == "C")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    app.permit_decide(&festival_id, &token, json!({"action": "start_review"}))
        .await;
    app.permit_decide(&festival_id, &token, json!({"action": "approve"}))
        .await;
    let after = app.coverage_report(2017).await;
    assert_eq!(
        (after["net_cents"].clone(), after["open_cents"].clone()),
        (json!(153_050), json!(3_000))
    );
}

#[tokio::test]
async fn the_coverage_of_another_year_is_its_own_and_bad_years_are_refused() {
    let app = spawn_app().await;
    submit(&app, &zomerfestival()).await;
    let token = staff_token(&app, "controller");
    let empty = expect_status(
        app.admin_get("/admin/leges/coverage?year=2026", &token)
            .await,
        200,
    )
    .await;
    assert_eq!(
        empty["cost_cents"], 3_840_000,
        "the 2026 table's coordination cost"
    );
    assert_eq!(
        (empty["net_cents"].clone(), empty["coverage_bp"].clone()),
        (json!(0), json!(0))
    );
    assert_eq!(empty["by_month"], json!({}));
    let later = expect_status(
        app.admin_get("/admin/leges/coverage?year=2030", &token)
            .await,
        200,
    )
    .await;
    assert_eq!(
        later["cost_cents"], 4_000_000,
        "a table stays in force until a later one exists"
    );
    for (query, code) in [
        ("year=1999", "no_tariff"),
        ("year=twenty", "invalid_query"),
        ("year=2017&year=2018", "invalid_query"),
        ("yaer=2017", "invalid_query"),
    ] {
        let problem = expect_status(
            app.admin_get(&format!("/admin/leges/coverage?{query}"), &token)
                .await,
            400,
        )
        .await;
        assert_eq!(problem["type"], format!("/problems/{code}"), "{query}");
    }
}

// ---------------------------------------------------------------------------------
// List

#[tokio::test]
async fn the_list_pages_oldest_first_with_a_sealed_cursor_and_filters_on_status_year_and_late() {
    let app = spawn_app_at("2017-02-01T09:00:00+01:00").await;
    let token = staff_token(&app, "marieke");
    let autumn = |body: Value| {
        moved(
            body,
            "2018-09-08T14:00:00+02:00",
            "2018-09-08T20:00:00+02:00",
        )
    };
    let mut expected = Vec::new();
    // Five 2017 applications, a day apart; the zomerfestival of July is late.
    for (moment, body) in [
        ("2017-02-01T09:00:00+01:00", buurtbarbecue()),
        ("2017-02-02T09:00:00+01:00", jeugdtoernooi()),
        ("2017-03-03T09:00:00+01:00", autumn(buurtbarbecue())),
        ("2017-07-01T10:00:00+02:00", zomerfestival()),
        ("2017-12-31T23:30:00+01:00", autumn(jeugdtoernooi())),
        // 23:30 UTC on New Year's Eve is 2018 in Dronten.
        ("2017-12-31T23:30:00Z", autumn(zomerfestival())),
    ] {
        app.clock.set(at(moment));
        expected.push(submit(&app, &body).await);
    }
    let refs = |items: &[Value]| {
        items
            .iter()
            .map(|i| i["reference"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let all_refs = refs(&expected);
    assert_eq!(all_refs.last().unwrap(), "EV-2018-0001");

    // Pages of two, oldest first, until next_cursor is null.
    let mut seen = Vec::new();
    let mut path = "/admin/permits?limit=2".to_string();
    loop {
        let page = expect_status(app.admin_get(&path, &token).await, 200).await;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/admin/permits?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(refs(&seen), all_refs);
    assert_eq!(
        seen[0]["organiser"]["email"], "p.jansen@example.nl",
        "contact data included"
    );
    assert_eq!(seen[3]["deadline"]["late"], true);

    let festival_id = id_of(&expected[3]);
    app.permit_decide(&festival_id, &token, json!({"action": "start_review"}))
        .await;
    let list = |query: &str| {
        let app = &app;
        let token = token.clone();
        let query = query.to_string();
        async move {
            let page = expect_status(
                app.admin_get(&format!("/admin/permits?{query}"), &token)
                    .await,
                200,
            )
            .await;
            refs(page["items"].as_array().unwrap())
        }
    };
    let r = |i: usize| all_refs[i].clone();
    for (query, wanted) in [
        ("year=2017", vec![r(0), r(1), r(2), r(3), r(4)]),
        ("year=2018", vec![r(5)]),
        ("year=2016", vec![]),
        ("late=true", vec![r(3)]),
        ("late=false", vec![r(0), r(1), r(2), r(4), r(5)]),
        ("status=in_review", vec![r(3)]),
        ("status=submitted&year=2017", vec![r(0), r(1), r(2), r(4)]),
        ("status=submitted&late=true", vec![]),
        ("status=in_review&late=true&year=2017", vec![r(3)]),
        ("status=&year=&late=", all_refs.clone()),
        ("late=false&limit=100", vec![r(0), r(1), r(2), r(4), r(5)]),
    ] {
        assert_eq!(list(query).await, wanted, "?{query}");
    }

    // A filtered list pages too.
    let first = expect_status(
        app.admin_get("/admin/permits?late=false&limit=3", &token)
            .await,
        200,
    )
    .await;
    let cursor = first["next_cursor"]
        .as_str()
        .expect("more follow")
        .to_string();
    let second = expect_status(
        app.admin_get(
            &format!("/admin/permits?late=false&limit=3&cursor={cursor}"),
            &token,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(refs(second["items"].as_array().unwrap()), [r(4), r(5)]);
    assert_eq!(second["next_cursor"], Value::Null);

    // A tampered cursor is refused.
    let mut tampered = cursor.into_bytes();
    tampered[2] = if tampered[2] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let problem = expect_status(
        app.admin_get(&format!("/admin/permits?cursor={tampered}"), &token)
            .await,
        400,
    )
    .await;
    assert_eq!(problem["type"], "/problems/invalid_cursor");
}

#[tokio::test]
async fn bad_list_parameters_are_400_naming_each_one() {
    let app = spawn_app().await;
    let token = staff_token(&app, "marieke");
    for (query, names) in [
        ("limit=0", vec!["limit"]),
        ("limit=101", vec!["limit"]),
        ("limit=ten", vec!["limit"]),
        ("year=17x", vec!["year"]),
        ("status=open", vec!["status"]),
        ("late=yes", vec!["late"]),
        ("sort=desc", vec!["sort"]),
        ("status=submitted&status=approved", vec!["status"]),
        (
            "status=open&late=maybe&limit=-1",
            vec!["status", "late", "limit"],
        ),
    ] {
        let problem = expect_status(
            app.admin_get(&format!("/admin/permits?{query}"), &token)
                .await,
            400,
        )
        .await;
        assert_eq!(problem["type"], "/problems/invalid_query", "{query}");
        let detail = problem["detail"].as_str().unwrap();
        for name in names {
            assert!(detail.contains(&format!("{name}:")), "?{query}: {detail}");
        }
    }
}

// ---------------------------------------------------------------------------------
// CSV

#[tokio::test]
async fn the_csv_export_has_one_row_per_application_of_the_year_neutralises_formulas_and_is_recorded()
 {
    let app = spawn_app().await;
    let mut evil = zomerfestival();
    evil["organiser"]["name"] = json!("=HYPERLINK(\"http://evil.example\",\"Klik hier\")");
    evil["organiser"]["organisation"] = json!("@SUM(1+1)");
    evil["organiser"]["phone"] = json!("+31 321 123456");
    evil["event"]["name"] = json!("-Festival, met \"quotes\"; en een puntkomma");
    let evil_created = submit(&app, &evil).await;
    submit(&app, &buurtbarbecue()).await;
    // Next year's application is not in 2017's export.
    app.clock.set(at("2018-01-02T09:00:00+01:00"));
    submit(
        &app,
        &moved(
            jeugdtoernooi(),
            "2018-06-10T13:00:00+02:00",
            "2018-06-10T20:00:00+02:00",
        ),
    )
    .await;

    let token = staff_token(&app, "exporteur");
    let response = app.admin_get("/admin/permits.csv?year=2017", &token).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("vergunningen-2017.csv")
    );
    let text = response.text().await.unwrap();

    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(headers, loket::app::export::CSV_COLUMNS);
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 2, "one row per 2017 application");
    let col = |row: &csv::StringRecord, name: &str| {
        row[headers.iter().position(|h| h == name).unwrap()].to_string()
    };
    let evil_row = rows
        .iter()
        .find(|r| col(r, "id") == id_of(&evil_created))
        .unwrap();
    assert_eq!(
        col(evil_row, "organiser_name"),
        "'=HYPERLINK(\"http://evil.example\",\"Klik hier\")"
    );
    assert_eq!(col(evil_row, "organisation"), "'@SUM(1+1)");
    assert_eq!(col(evil_row, "phone"), "'+31 321 123456");
    assert_eq!(
        col(evil_row, "event_name"),
        "'-Festival, met \"quotes\"; en een puntkomma",
        "quoting survives"
    );
    for (column, value) in [
        ("reference", "EV-2017-0001"),
        ("status", "submitted"),
        ("kind", "vergunning"),
        ("category", "C"),
        ("risk_score", "7"),
        ("submitted_at", "2017-03-01T10:00:00+01:00"),
        ("required_by", "2017-05-26"),
        ("late", "false"),
        ("kern", "biddinghuizen"),
        ("email", "info@zomerfest.nl"),
        ("total_cents", "146300"),
        ("refunded_cents", "0"),
        ("net_cents", "146300"),
    ] {
        assert_eq!(col(evil_row, column), value, "{column}");
    }
    for row in &rows {
        for cell in row.iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "unneutralised cell {cell:?}"
            );
        }
    }

    // Each export is itself recorded: who, which year, when, how many rows.
    let other = staff_token(&app, "controller");
    app.clock.set(at("2018-01-02T09:05:00+01:00"));
    let next_year = app
        .admin_get("/admin/permits.csv?year=2018", &other)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        csv::Reader::from_reader(next_year.as_bytes())
            .records()
            .count(),
        1
    );
    let audits = audit_records(&app).await;
    assert_eq!(
        audits,
        [
            json!({"export": "permits_csv", "staff": "exporteur", "year": 2017, "at": "2018-01-02T09:00:00+01:00", "rows": 2}),
            json!({"export": "permits_csv", "staff": "controller", "year": 2018, "at": "2018-01-02T09:05:00+01:00", "rows": 1}),
        ]
    );
    // Without ?year=: the current year.
    let current = app
        .admin_get("/admin/permits.csv", &other)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        csv::Reader::from_reader(current.as_bytes())
            .records()
            .count(),
        1
    );
}

async fn audit_records(app: &TestApp) -> Vec<Value> {
    let records = app.state.store.audit().list_all().await.unwrap();
    records
        .iter()
        .map(|r| serde_json::to_value(r).unwrap())
        .collect()
}

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

// ---------------------------------------------------------------------------------
// The operator's commands

/// Runs the `loket` binary with the given environment.
fn loket(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_loket"));
    command
        .args(args)
        .env_remove("LOKET_JWT_SECRET")
        .env_remove("LOKET_JWT_JWKS")
        .env("RUST_LOG", "warn");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("run loket")
}

#[tokio::test]
async fn loket_token_mints_a_staff_token_the_server_accepts() {
    let out = loket(
        &["token", "--sub", "marieke", "--hours", "2"],
        &[
            ("LOKET_JWT_SECRET", TEST_JWT_SECRET),
            ("LOKET_JWT_ISSUER", TEST_JWT_ISSUER),
            ("LOKET_JWT_AUDIENCE", TEST_JWT_AUDIENCE),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let app = spawn_app().await;
    let response = app.admin_get("/admin/permits", &token).await;
    assert_eq!(response.status(), 200);

    let without_secret = loket(&["token", "--sub", "marieke"], &[]);
    assert!(!without_secret.status.success());
    assert!(String::from_utf8_lossy(&without_secret.stderr).contains("LOKET_JWT_SECRET"));
}

#[tokio::test]
async fn loket_coverage_verify_compares_the_aggregates_with_the_applications() {
    if store_under_test() != "embedded" {
        return; // the command opens the embedded file; DynamoDB is covered by the property test
    }
    use loket::store::embedded::EmbeddedStore;
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap().to_string();
    {
        let store: loket::store::SharedStore = Arc::new(EmbeddedStore::open(dir.path()).unwrap());
        let app = serve(
            store,
            ManualClock::new(at(SUBMISSION_MOMENT)),
            None,
            Catalogue::default(),
        )
        .await;
        submit(&app, &zomerfestival()).await;
        let toernooi = submit(&app, &jeugdtoernooi()).await;
        let path = format!("/permits/{}/withdraw", id_of(&toernooi));
        expect_status(
            app.post_json_with_token(
                &path,
                toernooi["access_token"].as_str().unwrap(),
                &json!({}),
            )
            .await,
            200,
        )
        .await;
    }
    let env = [
        ("LOKET_DATA_DIR", data_dir.as_str()),
        ("LOKET_STORE", "embedded"),
    ];
    let ok = run_until_unlocked(&["coverage", "--year", "2017", "--verify"], &env).await;
    let stdout = String::from_utf8_lossy(&ok.stdout).to_string();
    assert!(
        ok.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(stdout.contains("\"net_cents\": 150050"), "{stdout}");
    assert!(
        stdout.contains("OK: the aggregates of 2017 equal the recomputation"),
        "{stdout}"
    );

    // Knock the year's aggregate off by one cent, the way a lost update would.
    {
        let store = EmbeddedStore::open(dir.path()).unwrap();
        let mut change = loket::store::Change::create(loket::store::Document {
            collection: loket::store::Collection::Audit,
            id: "corruption".into(),
            version: 1,
            body: "{}".into(),
            gsi1: None,
            gsi2: None,
        });
        change.aggregates = vec![loket::store::AggregateDelta {
            group: loket::store::permits::coverage_group(2017),
            key: "year".into(),
            add: [("imposed_cents".to_string(), 1)].into(),
        }];
        loket::store::DocumentStore::commit(&store, change)
            .await
            .unwrap();
    }
    let bad = run_until_unlocked(&["coverage", "--year", "2017", "--verify"], &env).await;
    let stdout = String::from_utf8_lossy(&bad.stdout).to_string();
    assert!(!bad.status.success(), "a difference fails the command");
    assert!(stdout.contains("DIFFERENCE year"), "{stdout}");
    assert!(String::from_utf8_lossy(&bad.stderr).contains("1 coverage bucket(s) differ for 2017"));
}

/// The embedded file stays locked for a moment after its last user is dropped.
async fn run_until_unlocked(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    for _ in 0..50 {
        let out = loket(args, env);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.success() || !(stderr.contains("lock") || stderr.contains("already open")) {
            return out;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the embedded store stayed locked");
}

// ---------------------------------------------------------------------------------
// Property: the aggregates always equal the recomputation

mod model {
    use std::collections::BTreeMap;

    use chrono::{DateTime, Utc};
    use loket::domain::coverage::{self, Bucket, Sums};
    use loket::domain::leges::Tariffs;
    use loket::domain::permit::{self, Actor, Application, Event, Kern, Organiser, PermitAction};
    use loket::domain::risk::{Alcohol, Category};
    use loket::store::permits as records;
    use loket::store::{Change, DocumentStore};
    use proptest::prelude::*;

    use crate::helpers::{at, new_store};

    /// Submission moments around the turn of the year (local 2017 and 2018).
    const MOMENTS: [&str; 4] = [
        "2017-03-01T10:00:00+01:00",
        "2017-12-31T23:30:00+01:00",
        "2017-12-31T23:30:00Z",
        "2018-02-10T09:00:00+01:00",
    ];
    const YEARS: [i32; 2] = [2017, 2018];

    #[derive(Debug, Clone)]
    pub enum Op {
        Submit { template: usize, moment: usize },
        Reclassify { app: usize, category: Category },
        Withdraw(usize),
        StartReview(usize),
        RequestInfo(usize),
        AnswerInfo(usize),
        Approve(usize),
        Reject(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        let app = 0usize..4;
        prop_oneof![
            3 => (0usize..3, 0usize..MOMENTS.len()).prop_map(|(template, moment)| Op::Submit { template, moment }),
            2 => (app.clone(), prop::sample::select(Category::ALL.to_vec()))
                .prop_map(|(app, category)| Op::Reclassify { app, category }),
            1 => app.clone().prop_map(Op::Withdraw),
            2 => app.clone().prop_map(Op::StartReview),
            1 => app.clone().prop_map(Op::RequestInfo),
            1 => app.clone().prop_map(Op::AnswerInfo),
            1 => app.clone().prop_map(Op::Approve),
            1 => app.prop_map(Op::Reject),
        ]
    }

    /// Three events in September 2018 (after every submission moment): a melding, a
    /// reduced category A and a category C with every extra line.
    fn event(template: usize) -> Event {
        let big = template == 2;
        Event {
            name: format!("Evenement {template}"),
            description: "Eigenschapstest".into(),
            kern: Kern::Dronten,
            address: "Markt 1".into(),
            starts_at: at("2018-09-08T14:00:00+02:00"),
            ends_at: at(if big {
                "2018-09-09T20:00:00+02:00"
            } else {
                "2018-09-08T20:00:00+02:00"
            }),
            expected_visitors: [80, 600, 6000][template],
            amplified_music: template > 0,
            max_sound_dba: Some(65),
            road_closure: big,
            alcohol: if big { Alcohol::Sale } else { Alcohol::None },
            largest_structure_m2: if big { 200 } else { 0 },
            on_water: false,
            fireworks: big,
            commercial: big,
            non_profit: template == 1,
        }
    }

    fn organiser() -> Organiser {
        Organiser {
            name: "Eigenschap".into(),
            organisation: None,
            kvk_number: None,
            email: loket::domain::formats::Email::parse("e@example.nl").unwrap(),
            phone: loket::domain::formats::Phone::parse("0321 123456").unwrap(),
        }
    }

    async fn check(
        store: &dyn DocumentStore,
        apps: &[Application],
        step: usize,
    ) -> Result<(), TestCaseError> {
        for year in YEARS {
            let stored = records::Permits::new(store)
                .coverage(year)
                .await
                .expect("read aggregates");
            let recomputed: BTreeMap<Bucket, Sums> = coverage::recompute(year, apps);
            prop_assert_eq!(&stored, &recomputed, "year {} after step {}", year, step);
        }
        Ok(())
    }

    async fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = new_store(Some(&dir)).await;
        let store = store.as_ref();
        let tariffs = Tariffs::built_in();
        let mut apps: Vec<Application> = Vec::new();
        let mut now: DateTime<Utc> = at(MOMENTS[0]);
        let staff = || Actor::Staff("prop".into());
        for (step, op) in ops.into_iter().enumerate() {
            let action = match op {
                Op::Submit { template, moment } => {
                    now = now.max(at(MOMENTS[moment]));
                    let quote = permit::quote(&event(template), now, &tariffs).expect("quotable");
                    let app = Application::submit(
                        format!("app-{step}"),
                        loket::domain::formats::Reference::new(
                            loket::domain::formats::Register::Permits,
                            2017,
                            step as u64,
                        ),
                        "hash".into(),
                        organiser(),
                        event(template),
                        quote,
                        now,
                    );
                    let mut change =
                        Change::create(records::permit_document(&app).expect("document"));
                    change.aggregates = records::coverage_aggregates(&coverage::deltas(None, &app));
                    store.commit(change).await.expect("submit");
                    apps.push(app);
                    check(store, &apps, step).await?;
                    continue;
                }
                Op::Reclassify { app, category } => (
                    app,
                    PermitAction::Reclassify {
                        category,
                        reason: None,
                    },
                    staff(),
                ),
                Op::Withdraw(app) => (app, PermitAction::Withdraw, Actor::Organiser),
                Op::StartReview(app) => (app, PermitAction::StartReview, staff()),
                Op::RequestInfo(app) => (
                    app,
                    PermitAction::RequestInfo {
                        reason: "Waarom?".into(),
                    },
                    staff(),
                ),
                Op::AnswerInfo(app) => (
                    app,
                    PermitAction::AnswerInfo {
                        message: "Daarom.".into(),
                    },
                    Actor::Organiser,
                ),
                Op::Approve(app) => (app, PermitAction::Approve { reason: None }, staff()),
                Op::Reject(app) => (
                    app,
                    PermitAction::Reject {
                        reason: "Nee".into(),
                    },
                    staff(),
                ),
            };
            let (index, action, actor) = action;
            if apps.is_empty() {
                continue;
            }
            let index = index % apps.len();
            let before = apps[index].clone();
            // Refused transitions change nothing (the domain decides; not our concern).
            if let Ok(after) = before.apply(&action, actor, now, &tariffs) {
                records::Permits::new(store)
                    .transition(&before, &after, &[])
                    .await
                    .expect("save");
                apps[index] = after;
            }
            check(store, &apps, step).await?;
        }
        // What the store lists per year is exactly the model's applications.
        for year in YEARS {
            let listed = records::Permits::new(store)
                .list_all(year)
                .await
                .expect("list");
            let mut wanted: Vec<&Application> = apps
                .iter()
                .filter(|a| a.submission_year() == year)
                .collect();
            wanted.sort_by_key(|a| (a.submitted_at, a.id.clone()));
            prop_assert_eq!(listed.iter().collect::<Vec<_>>(), wanted, "year {}", year);
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

        #[test]
        fn random_submissions_reclassifications_withdrawals_and_decisions_keep_the_aggregates_exact(
            ops in prop::collection::vec(op(), 1..25)
        ) {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(run(ops))?;
        }
    }
}

/// Hardening F3: the Dutch-Excel dialect (`;`, UTF-8 BOM), every text cell quoted, so
/// a `;` inside a cell never splits it and never leaves a formula cell behind.
#[tokio::test]
async fn the_csv_export_for_dutch_excel_keeps_every_cell_whole() {
    let app = spawn_app().await;
    let mut evil = zomerfestival();
    evil["organiser"]["name"] = json!("Zomerfest;=cmd|' /C calc'!A0;x");
    evil["organiser"]["organisation"] = json!("=1+1");
    evil["event"]["name"] = json!("@SUM(1;2)");
    let created = submit(&app, &evil).await;
    let token = staff_token(&app, "exporteur");
    let response = app
        .admin_get("/admin/permits.csv?year=2017&dialect=excel_nl", &token)
        .await;
    assert_eq!(response.status(), 200);
    let bytes = response.bytes().await.unwrap();
    assert!(bytes.starts_with("\u{feff}".as_bytes()), "a UTF-8 BOM");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(headers, loket::app::export::CSV_COLUMNS);
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 1);
    let col = |name: &str| rows[0][headers.iter().position(|h| h == name).unwrap()].to_string();
    assert_eq!(col("id"), id_of(&created));
    assert_eq!(col("organiser_name"), "Zomerfest;=cmd|' /C calc'!A0;x");
    assert_eq!(col("organisation"), "'=1+1");
    assert_eq!(col("event_name"), "'@SUM(1;2)");
    assert!(
        text.contains("\"Zomerfest;=cmd|' /C calc'!A0;x\""),
        "the cell is quoted: {text}"
    );
    let bad = app
        .admin_get("/admin/permits.csv?dialect=excel", &token)
        .await;
    assert_eq!(bad.status(), 400);
}

/// Hardening F5: junk that got through (a flood before the rate limit) is voided by
/// staff with a reason; its leges leave the coverage and the report counts it.
#[tokio::test]
async fn staff_void_junk_and_the_coverage_forgets_it() {
    let app = spawn_app().await;
    let token = staff_token(&app, "marieke");
    submit(&app, &buurtbarbecue()).await;
    let honest = app.coverage_report(2017).await;
    let mut junk = Vec::new();
    for _ in 0..3 {
        junk.push(id_of(&submit(&app, &zomerfestival()).await));
    }
    let flooded = app.coverage_report(2017).await;
    assert!(flooded["net_cents"].as_i64() > honest["net_cents"].as_i64());

    // A reason is required.
    let bare = app
        .permit_review(&junk[0], &token, Some("\"1\""), &json!({"action": "void"}))
        .await;
    let problem = expect_status(bare, 422).await;
    assert_eq!(
        field_errors(&problem),
        [("reason".to_string(), "required".to_string())]
    );
    for id in &junk {
        let voided = expect_status(
            app.permit_review(
                id,
                &token,
                Some("\"1\""),
                &json!({"action": "void", "reason": "Spam uit één bron"}),
            )
            .await,
            200,
        )
        .await;
        assert_eq!(voided["status"], "voided");
        let last = voided["history"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .clone();
        assert_eq!(
            (last["action"].as_str(), last["actor"].as_str()),
            (Some("void"), Some("marieke"))
        );
    }
    let after = app.coverage_report(2017).await;
    for field in [
        "imposed_cents",
        "refunded_cents",
        "net_cents",
        "coverage_bp",
        "open_cents",
        "by_category",
        "by_month",
    ] {
        assert_eq!(after[field], honest[field], "{field}");
    }
    assert_eq!(after["voided_count"], 3);
    // A decided application cannot be voided; a voided one cannot be reopened.
    let again = app
        .permit_review(
            &junk[0],
            &token,
            Some("\"2\""),
            &json!({"action": "start_review"}),
        )
        .await;
    expect_status(again, 409).await;
}
