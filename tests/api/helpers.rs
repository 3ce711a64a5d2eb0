//! `spawn_app`: the whole service on port 0, on a store of its own, with a clock the
//! test controls. `LOKET_TEST_STORE=dynamodb` runs the same suite on DynamoDB Local.

use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Utc};
use loket::api::AppState;
use loket::api::auth::StaffAuth;
use loket::api::state::AppStateBuilder;
use loket::clock::ManualClock;
use loket::domain::Catalogue;
use loket::store::SharedStore;
use loket::store::embedded::EmbeddedStore;
use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;
use tempfile::TempDir;

pub fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::<FixedOffset>::parse_from_rfc3339(rfc3339)
        .expect("valid timestamp")
        .with_timezone(&Utc)
}

/// docs/domain.md "Worked examples": "submitted 2017-03-01 10:00 local".
pub const SUBMISSION_MOMENT: &str = "2017-03-01T10:00:00+01:00";

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    /// The business clock.
    pub clock: ManualClock,
    /// Real time as the idempotency records see it.
    pub real_clock: ManualClock,
    pub state: AppState,
    /// Where the embedded store lives, kept for restarts.
    pub data_dir: Option<Arc<TempDir>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

pub fn store_under_test() -> String {
    std::env::var("LOKET_TEST_STORE").unwrap_or_else(|_| "embedded".into())
}

pub async fn new_store(dir: Option<&TempDir>) -> SharedStore {
    match store_under_test().as_str() {
        "embedded" => {
            Arc::new(EmbeddedStore::open(dir.expect("a data dir").path()).expect("open redb"))
        }
        // A table of its own on DynamoDB Local; this suite never skips silently.
        "dynamodb" => {
            Arc::new(crate::dynamo::fresh_store().await.expect(
                "LOKET_TEST_STORE=dynamodb needs DynamoDB Local (AWS_ENDPOINT_URL_DYNAMODB)",
            ))
        }
        other => panic!("unknown LOKET_TEST_STORE '{other}'"),
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_at(SUBMISSION_MOMENT).await
}

pub async fn spawn_app_at(now: &str) -> TestApp {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let store = new_store(Some(&dir)).await;
    // A "restart" reopens the embedded file; a DynamoDB table simply stays.
    let dir = (store_under_test() == "embedded").then_some(dir);
    serve(store, ManualClock::new(at(now)), dir, Catalogue::default()).await
}

/// Staff tokens in the tests: HS256 with this secret, this issuer and audience.
pub const TEST_JWT_SECRET: &str = "test staff secret, 32 bytes or more";
pub const TEST_JWT_ISSUER: &str = "https://login.dronten.test";
pub const TEST_JWT_AUDIENCE: &str = "loket-staff";

pub fn test_staff_auth() -> StaffAuth {
    StaffAuth::hs256(
        TEST_JWT_SECRET,
        Some(TEST_JWT_ISSUER.into()),
        Some(TEST_JWT_AUDIENCE.into()),
    )
    .expect("test secret is long enough")
}

pub async fn serve(
    store: SharedStore,
    clock: ManualClock,
    data_dir: Option<Arc<TempDir>>,
    catalogue: Catalogue,
) -> TestApp {
    serve_with_auth(store, clock, data_dir, catalogue, test_staff_auth()).await
}

/// As [`serve`], with staff tokens verified by `auth` (an RS256/JWKS test).
pub async fn serve_with_auth(
    store: SharedStore,
    clock: ManualClock,
    data_dir: Option<Arc<TempDir>>,
    catalogue: Catalogue,
    auth: StaffAuth,
) -> TestApp {
    serve_configured(store, clock, data_dir, catalogue, auth, |state, _| state).await
}

/// As [`serve_with_auth`], with the state finished by `configure`, which also gets the
/// app's base URL (the hosted sign-in's callback is an absolute address).
pub async fn serve_configured(
    store: SharedStore,
    clock: ManualClock,
    data_dir: Option<Arc<TempDir>>,
    catalogue: Catalogue,
    auth: StaffAuth,
    configure: impl FnOnce(AppStateBuilder, &str) -> AppStateBuilder,
) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind port 0");
    let base = format!("http://{}", listener.local_addr().unwrap());
    let real_clock = ManualClock::new(Utc::now());
    let builder = AppState::builder(loket::store::Store::new(store))
        .clock(clock.clone())
        .real_clock(real_clock.clone())
        .catalogue(catalogue)
        .cursor_key(b"test cursor key")
        .auth(auth);
    let state = configure(builder, &base).build();
    let router = loket::routes::app(state.clone());
    // The same server as `loket serve`, with its limits.
    let server = tokio::spawn(async move {
        loket::server::run(
            listener,
            router,
            // No rate limit: the suite sends many writes from one address.
            loket::server::Limits {
                rate_per_minute: 0,
                ..loket::server::Limits::default()
            },
            std::future::pending(),
        )
        .await
        .expect("server runs");
    });
    TestApp {
        base,
        client: reqwest::Client::new(),
        clock,
        real_clock,
        state,
        data_dir,
        server,
    }
}

impl TestApp {
    /// A new process on the same data: the embedded store reopened from its folder.
    pub async fn restart(self) -> TestApp {
        let dir = self.data_dir.clone();
        let clock = self.clock.clone();
        let catalogue = (*self.state.catalogue).clone();
        let store = match &dir {
            Some(d) => {
                // Drop the old process (and its open database) first.
                drop(self);
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                let mut attempts = 0;
                loop {
                    match EmbeddedStore::open(d.path()) {
                        Ok(s) => break Arc::new(s) as SharedStore,
                        Err(e) if attempts < 50 => {
                            attempts += 1;
                            let _ = e;
                            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        }
                        Err(e) => panic!("reopen redb: {e}"),
                    }
                }
            }
            None => {
                let store = self.state.store.clone().into_engine();
                drop(self);
                store
            }
        };
        serve(store, clock, dir, catalogue).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.request(Method::POST, path)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn post_json_with_token(&self, path: &str, token: &str, body: &Value) -> Response {
        self.request(Method::POST, path)
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn get_with_token(&self, path: &str, token: &str) -> Response {
        self.request(Method::GET, path)
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path)
            .send()
            .await
            .expect("request")
    }
}

/// The status and JSON body; panics with the body when the status differs, and on
/// any 5xx (no response of this service may ever be one).
pub async fn expect_status(response: Response, status: u16) -> Value {
    let got = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let text = response.text().await.expect("body");
    assert!(got < 500, "a 5xx ({got}) must never happen: {text}");
    assert_eq!(got, status, "unexpected status; body: {text}");
    if status >= 400 {
        assert_eq!(
            content_type, "application/problem+json",
            "errors are problem+json"
        );
    }
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// The `(field, code)` pairs of a problem document.
pub fn field_errors(problem: &Value) -> Vec<(String, String)> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    (
                        e["field"].as_str().unwrap_or("").into(),
                        e["code"].as_str().unwrap_or("").into(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A valid staff token (1 hour, real time) for `sub`.
pub fn staff_token(app: &TestApp, sub: &str) -> String {
    use loket::clock::Clock;
    app.state
        .auth
        .mint(sub, app.real_clock.now().timestamp(), 3600)
        .expect("HS256 test auth mints tokens")
}

/// The claims of a valid staff token for `sub`, to change one at a time.
pub fn staff_claims(app: &TestApp, sub: &str) -> Value {
    use loket::clock::Clock;
    let now = app.real_clock.now().timestamp();
    serde_json::json!({
        "sub": sub,
        "groups": ["staff"],
        "iss": TEST_JWT_ISSUER,
        "aud": TEST_JWT_AUDIENCE,
        "iat": now,
        "exp": now + 3600,
    })
}

/// Any claims, signed with any key and header (rejection tests, RS256).
pub fn sign_token(
    claims: &Value,
    header: &jsonwebtoken::Header,
    key: &jsonwebtoken::EncodingKey,
) -> String {
    jsonwebtoken::encode(header, claims, key).expect("encode JWT")
}

/// Claims signed with the test secret (HS256).
pub fn sign_hs256(claims: &Value, secret: &str) -> String {
    sign_token(
        claims,
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()).expect("HMAC key"),
    )
}
