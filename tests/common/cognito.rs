//! A stand-in for Cognito's hosted sign-in, on this machine: the authorize page (a
//! username form), the token endpoint that checks PKCE (`S256`) and hands out RS256
//! access tokens shaped like Cognito's, the JWKS, and the logout endpoint. It is
//! reached as `http://localhost:…` while loket runs on `127.0.0.1`, so that a
//! browser treats the two as different sites, as it does on AWS.
//!
//! It is written from the OAuth 2.0 and PKCE specifications, not from loket's code:
//! the challenge is recomputed here with `sha2`, a code works once, and the
//! `redirect_uri` must be the one registered.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// rand 0.8's OS generator for rsa 0.10 (which speaks rand_core 0.10).
pub struct OsRng;

impl rsa::rand_core::TryRng for OsRng {
    type Error = std::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(rand::RngCore::next_u32(&mut rand::rngs::OsRng))
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(rand::RngCore::next_u64(&mut rand::rngs::OsRng))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, dst);
        Ok(())
    }
}

impl rsa::rand_core::TryCryptoRng for OsRng {}

/// An RSA key pair generated here, as Cognito would hold it: the private half signs,
/// the public half is published as a JWKS.
pub struct RsaKey {
    pub kid: String,
    pub encoding: EncodingKey,
    pub jwk: Value,
}

impl RsaKey {
    pub fn generate(kid: &str) -> RsaKey {
        use rsa::pkcs1::EncodeRsaPrivateKey;
        use rsa::traits::PublicKeyParts;
        let private = rsa::PrivateKey::new(&mut OsRng, 2048).expect("RSA key generation");
        let public = private.to_public_key();
        let b64 = |bytes: Box<[u8]>| URL_SAFE_NO_PAD.encode(bytes);
        RsaKey {
            kid: kid.into(),
            encoding: EncodingKey::from_rsa_der(private.to_pkcs1_der().expect("PKCS#1").as_bytes()),
            jwk: json!({
                "kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
                "n": b64(public.n().to_be_bytes_trimmed_vartime()),
                "e": b64(public.e().to_be_bytes_trimmed_vartime()),
            }),
        }
    }

    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("encode JWT")
    }
}

/// The stand-in's signing key, generated once per test binary (slow in debug).
static COGNITO_KEY: LazyLock<RsaKey> = LazyLock::new(|| RsaKey::generate("cognito-1"));

pub const CLIENT_ID: &str = "loket-staff-client";

/// The accounts of the stand-in's user pool: username and groups.
const USERS: &[(&str, &[&str])] = &[("j.visser", &["staff"]), ("p.bakker", &["users"])];

struct Issued {
    challenge: String,
    redirect_uri: String,
    username: String,
}

#[derive(Default)]
struct Pool {
    callback: Option<String>,
    signed_out: Option<String>,
    codes: HashMap<String, Issued>,
    /// What the token endpoint refused, and why (for the tests to read).
    refusals: Vec<String>,
    logouts: usize,
}

#[derive(Clone)]
pub struct CognitoStandIn {
    /// `http://localhost:<port>`: the domain loket is configured with.
    pub domain: String,
    pool: Arc<Mutex<Pool>>,
    server: Arc<tokio::task::JoinHandle<()>>,
}

impl Drop for CognitoStandIn {
    fn drop(&mut self) {
        if Arc::strong_count(&self.server) == 1 {
            self.server.abort();
        }
    }
}

impl CognitoStandIn {
    pub async fn start() -> CognitoStandIn {
        let pool = Arc::new(Mutex::new(Pool::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let domain = format!("http://localhost:{}", listener.local_addr().unwrap().port());
        let issuer = domain.clone();
        let router = axum::Router::new()
            .route("/oauth2/authorize", get(authorize))
            .route("/login", post(login))
            .route("/oauth2/token", post(token))
            .route(
                "/.well-known/jwks.json",
                get(|| async { axum::Json(json!({"keys": [COGNITO_KEY.jwk.clone()]})) }),
            )
            .route("/logout", get(logout))
            .with_state((pool.clone(), issuer));
        let server = tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        CognitoStandIn {
            domain,
            pool,
            server: Arc::new(server),
        }
    }

    /// Registers the app client's callback and logout addresses (as the template's
    /// `CallbackURLs` and `LogoutURLs` do).
    pub fn register(&self, callback: &str, signed_out: &str) {
        let mut pool = self.pool.lock().unwrap();
        pool.callback = Some(callback.into());
        pool.signed_out = Some(signed_out.into());
    }

    pub fn issuer(&self) -> String {
        self.domain.clone()
    }

    pub fn jwks_url(&self) -> String {
        format!("{}/.well-known/jwks.json", self.domain)
    }

    pub fn refusals(&self) -> Vec<String> {
        self.pool.lock().unwrap().refusals.clone()
    }

    pub fn logouts(&self) -> usize {
        self.pool.lock().unwrap().logouts
    }

    /// loket's verifier for this pool's tokens (RS256, the JWKS fetched on first use).
    pub fn staff_auth(&self) -> loket::api::auth::StaffAuth {
        loket::api::auth::StaffAuth::jwks(
            &self.jwks_url(),
            Some(self.issuer()),
            Some(CLIENT_ID.into()),
        )
        .unwrap()
    }

    /// loket's OAuth client for this pool, for an app served at `app_base`.
    pub fn hosted_sign_in(&self, app_base: &str) -> loket::api::auth::HostedSignIn {
        let callback = format!("{app_base}/medewerkers/inloggen/terug");
        let signed_out = format!("{app_base}/medewerkers/uitgelogd");
        self.register(&callback, &signed_out);
        loket::api::auth::HostedSignIn::new(&self.domain, CLIENT_ID, &callback, &signed_out)
            .unwrap()
    }
}

type Shared = State<(Arc<Mutex<Pool>>, String)>;

fn bad_request(why: &str) -> Response {
    (StatusCode::BAD_REQUEST, why.to_string()).into_response()
}

async fn authorize(State((pool, _)): Shared, Query(q): Query<HashMap<String, String>>) -> Response {
    let registered = pool.lock().unwrap().callback.clone();
    let param = |name: &str| q.get(name).map(String::as_str).unwrap_or("");
    if param("response_type") != "code"
        || param("client_id") != CLIENT_ID
        || Some(param("redirect_uri")) != registered.as_deref()
        || param("code_challenge_method") != "S256"
        || param("code_challenge").len() != 43
        || param("state").is_empty()
        || !param("scope").split(' ').any(|s| s == "openid")
    {
        return bad_request("invalid_request");
    }
    let hidden = |name: &str| {
        format!(
            r#"<input type="hidden" name="{name}" value="{}">"#,
            param(name)
        )
    };
    Html(format!(
        r#"<!DOCTYPE html><html lang="nl"><head><title>Inloggen (Cognito stand-in)</title></head>
<body><main><h1>Inloggen bij de gemeente</h1>
<form method="post" action="/login">{}{}{}
<label for="username">Gebruikersnaam</label> <input id="username" name="username">
<button type="submit" id="signin">Inloggen</button></form></main></body></html>"#,
        hidden("redirect_uri"),
        hidden("state"),
        hidden("code_challenge"),
    ))
    .into_response()
}

async fn login(State((pool, _)): Shared, Form(f): Form<HashMap<String, String>>) -> Response {
    let field = |name: &str| f.get(name).cloned().unwrap_or_default();
    if !USERS.iter().any(|(name, _)| *name == field("username")) {
        return (StatusCode::UNAUTHORIZED, "Onbekende gebruiker").into_response();
    }
    let code = format!("code-{}", rand::random::<u64>());
    pool.lock().unwrap().codes.insert(
        code.clone(),
        Issued {
            challenge: field("code_challenge"),
            redirect_uri: field("redirect_uri"),
            username: field("username"),
        },
    );
    let back = format!(
        "{}?{}",
        field("redirect_uri"),
        serde_urlencoded::to_string([("code", code.as_str()), ("state", &field("state"))]).unwrap()
    );
    Redirect::to(&back).into_response()
}

async fn token(State((pool, issuer)): Shared, Form(f): Form<HashMap<String, String>>) -> Response {
    let field = |name: &str| f.get(name).cloned().unwrap_or_default();
    let mut pool = pool.lock().unwrap();
    // A code works once, whatever happens next.
    let issued = pool.codes.remove(&field("code"));
    let refusal = match &issued {
        _ if field("grant_type") != "authorization_code" => Some("unsupported_grant_type"),
        _ if field("client_id") != CLIENT_ID => Some("invalid_client"),
        None => Some("invalid_grant: unknown or used code"),
        Some(i) if i.redirect_uri != field("redirect_uri") => Some("invalid_grant: redirect_uri"),
        Some(i)
            if URL_SAFE_NO_PAD.encode(Sha256::digest(field("code_verifier"))) != i.challenge =>
        {
            Some("invalid_grant: code_verifier")
        }
        Some(_) => None,
    };
    if let Some(why) = refusal {
        pool.refusals.push(why.to_string());
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": why.split(':').next().unwrap()})),
        )
            .into_response();
    }
    let issued = issued.unwrap();
    let groups = USERS
        .iter()
        .find(|(name, _)| *name == issued.username)
        .map(|(_, groups)| groups.to_vec())
        .unwrap_or_default();
    let now = chrono::Utc::now().timestamp();
    // Cognito's access token: `client_id`, not `aud`; `sub` is the user's id.
    let access = COGNITO_KEY.sign(&json!({
        "sub": issued.username,
        "cognito:groups": groups,
        "iss": issuer,
        "client_id": CLIENT_ID,
        "token_use": "access",
        "scope": "openid email",
        "auth_time": now,
        "iat": now,
        "exp": now + 3600,
        "username": issued.username,
    }));
    let id = COGNITO_KEY.sign(&json!({
        "sub": issued.username, "aud": CLIENT_ID, "iss": issuer, "token_use": "id",
        "iat": now, "exp": now + 3600,
    }));
    axum::Json(json!({
        "access_token": access,
        "id_token": id,
        "token_type": "Bearer",
        "expires_in": 3600,
    }))
    .into_response()
}

async fn logout(State((pool, _)): Shared, Query(q): Query<HashMap<String, String>>) -> Response {
    let mut pool = pool.lock().unwrap();
    let param = |name: &str| q.get(name).map(String::as_str).unwrap_or("");
    if param("client_id") != CLIENT_ID || Some(param("logout_uri")) != pool.signed_out.as_deref() {
        return bad_request("invalid logout_uri");
    }
    pool.logouts += 1;
    Redirect::to(param("logout_uri")).into_response()
}
