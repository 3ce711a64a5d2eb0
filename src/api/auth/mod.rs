//! Staff authentication, verified inside the service in every mode (docs/api.md
//! "Conventions"): a JWT in `Authorization: Bearer`, with a valid signature, `exp` in
//! the future (real time), issuer and audience as configured, and the group `staff` in
//! `groups` or `cognito:groups`.
//!
//! Two key sources:
//! - **HS256** with `LOKET_JWT_SECRET` (local; `loket serve` generates one when none is
//!   set, `loket token` mints tokens with it);
//! - **RS256** with a JWKS (Cognito) from `LOKET_JWT_JWKS`: inline JSON, a file, or an
//!   `https://` URL (`http://` only for localhost) that is fetched on first use and
//!   cached, never during init; an unknown `kid` refetches it, at most once a minute.
//!   Issuer and audience are then required.
//!
//! None or an invalid token → 401 with `WWW-Authenticate: Bearer`; valid but not staff
//! → 403.
//!
//! Strict about what a token may be (hardening F7, F12): at most 8 KiB; `exp` a whole
//! number at most 24 hours ahead; `nbf` and `iat` whole numbers when present, not in
//! the future beyond 30 s of clock skew; `groups`/`cognito:groups` arrays of strings;
//! the staff id (`sub`, else `cognito:username` or `username`) 1–128 of
//! `[A-Za-z0-9._@+-]`, so that it can be written to a log line or a history as is.

use std::sync::Arc;

use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde_json::{Map, Value, json};

use crate::api::error::ApiError;
use crate::api::extract::bearer;
use crate::api::state::AppState;

mod claims;
mod hosted;
mod jwks;
pub(crate) mod outbound;

pub use claims::{CLOCK_SKEW_SECONDS, MAX_LIFETIME_SECONDS, MAX_TOKEN_BYTES, is_safe_id};
use claims::{groups, has_audience};
pub use hosted::{Attempt, HostedSignIn, code_challenge};
use jwks::{KeySet, RemoteJwks};
pub(crate) use outbound::is_loopback_http;

/// The group a staff member's token must carry.
pub const STAFF_GROUP: &str = "staff";

/// An HS256 key shorter than its hash output is refused (RFC 7518 §3.2).
pub const MIN_SECRET_BYTES: usize = 32;

/// A signed-in staff member: the handler's proof that the request is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staff {
    /// `sub`, else `cognito:username` or `username`: recorded as the actor.
    pub id: String,
    /// The token's `exp` (unix seconds): a staff page session ends then.
    pub expires_at: i64,
}

/// Why a token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No token, a bad signature, expired, wrong issuer or audience, …: 401.
    #[error("invalid token: {0}")]
    Invalid(String),
    /// A valid token without the group `staff`: 403.
    #[error("not a staff member")]
    NotStaff,
    /// The JWKS could not be fetched: 503, try again.
    #[error("key set unavailable: {0}")]
    KeysUnavailable(String),
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> ApiError {
        match e {
            AuthError::Invalid(reason) => ApiError::Unauthorized(reason),
            AuthError::NotStaff => ApiError::Forbidden,
            AuthError::KeysUnavailable(reason) => ApiError::Unavailable(reason),
        }
    }
}

pub(super) fn invalid(reason: impl Into<String>) -> AuthError {
    AuthError::Invalid(reason.into())
}

/// RSA verification keys by `kid`.
enum Keys {
    Hs256 {
        decoding: Arc<DecodingKey>,
        encoding: EncodingKey,
    },
    Jwks(KeySet),
    RemoteJwks(RemoteJwks),
}

/// Verifies staff tokens; built once per process from the settings.
pub struct StaffAuth {
    keys: Keys,
    issuer: Option<String>,
    audience: Option<String>,
}

impl std::fmt::Debug for StaffAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mode = match &self.keys {
            Keys::Hs256 { .. } => "HS256".to_string(),
            Keys::Jwks(k) => format!("RS256, {} keys", k.by_kid.len()),
            Keys::RemoteJwks(r) => format!("RS256, JWKS from {}", r.url),
        };
        f.debug_struct("StaffAuth")
            .field("mode", &mode)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish()
    }
}

impl StaffAuth {
    /// HS256 with a shared secret (at least 32 bytes).
    pub fn hs256(
        secret: &str,
        issuer: Option<String>,
        audience: Option<String>,
    ) -> Result<StaffAuth, String> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(format!(
                "LOKET_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes"
            ));
        }
        let decoding = DecodingKey::from_secret(secret.as_bytes()).map_err(|e| e.to_string())?;
        let encoding = EncodingKey::from_secret(secret.as_bytes()).map_err(|e| e.to_string())?;
        Ok(StaffAuth {
            keys: Keys::Hs256 {
                decoding: Arc::new(decoding),
                encoding,
            },
            issuer,
            audience,
        })
    }

    /// HS256 with a random secret nobody knows: every token is refused until
    /// another verifier is configured.
    pub fn random() -> StaffAuth {
        StaffAuth::hs256(&generate_secret(), None, None).expect("a generated secret is long enough")
    }

    /// RS256 with a JWKS given as JSON, a file path or a URL. A URL is not fetched
    /// here, only remembered: the first staff request fetches it.
    pub fn jwks(
        source: &str,
        issuer: Option<String>,
        audience: Option<String>,
    ) -> Result<StaffAuth, String> {
        if issuer.is_none() || audience.is_none() {
            return Err("LOKET_JWT_JWKS needs LOKET_JWT_ISSUER and LOKET_JWT_AUDIENCE".into());
        }
        let source = source.trim();
        let keys = if source.starts_with('{') {
            Keys::Jwks(KeySet::from_jwks(source).map_err(|e| format!("LOKET_JWT_JWKS: {e}"))?)
        } else if source.starts_with("https://") || is_loopback_http(source) {
            HttpRequest::get(source).map_err(|e| format!("LOKET_JWT_JWKS '{source}': {e}"))?;
            Keys::RemoteJwks(RemoteJwks {
                url: source.to_string(),
                outbound: Default::default(),
                cache: tokio::sync::Mutex::new(Default::default()),
            })
        } else if source.starts_with("http://") {
            return Err(
                "LOKET_JWT_JWKS: plain http:// is allowed only for localhost; use https://".into(),
            );
        } else {
            let text = std::fs::read_to_string(source)
                .map_err(|e| format!("LOKET_JWT_JWKS file '{source}': {e}"))?;
            Keys::Jwks(
                KeySet::from_jwks(&text)
                    .map_err(|e| format!("LOKET_JWT_JWKS file '{source}': {e}"))?,
            )
        };
        Ok(StaffAuth {
            keys,
            issuer,
            audience,
        })
    }

    /// From the settings: a JWKS when one is configured, else the HS256 secret. With
    /// neither, a random secret nobody knows: every token is refused (`loket serve`
    /// generates and prints one before it gets here).
    pub fn configure(
        secret: Option<&str>,
        jwks: Option<&str>,
        issuer: Option<String>,
        audience: Option<String>,
    ) -> Result<StaffAuth, String> {
        match (jwks, secret) {
            (Some(jwks), _) => StaffAuth::jwks(jwks, issuer, audience),
            (None, Some(secret)) => StaffAuth::hs256(secret, issuer, audience),
            (None, None) => {
                tracing::warn!(
                    "no LOKET_JWT_SECRET or LOKET_JWT_JWKS: the admin routes accept no token"
                );
                StaffAuth::hs256(&generate_secret(), issuer, audience)
            }
        }
    }

    /// A staff token signed with the HS256 secret, valid for `valid_seconds` from
    /// `now` (unix seconds, real time). `None` in JWKS mode: Cognito issues those.
    pub fn mint(&self, sub: &str, now: i64, valid_seconds: i64) -> Option<String> {
        let Keys::Hs256 { encoding, .. } = &self.keys else {
            return None;
        };
        let mut claims = json!({
            "sub": sub,
            "groups": [STAFF_GROUP],
            "iat": now,
            "exp": now + valid_seconds,
        });
        if let Some(iss) = &self.issuer {
            claims["iss"] = json!(iss);
        }
        if let Some(aud) = &self.audience {
            claims["aud"] = json!(aud);
        }
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, encoding).ok()
    }

    /// Checks a token; `now` is real time in unix seconds.
    pub async fn verify(&self, token: &str, now: i64) -> Result<Staff, AuthError> {
        if token.len() > MAX_TOKEN_BYTES {
            // Refused before any decoding: a huge token costs nothing.
            return Err(invalid("token too large"));
        }
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| invalid(format!("header: {e}")))?;
        let (algorithm, key) = match &self.keys {
            Keys::Hs256 { decoding, .. } => (Algorithm::HS256, decoding.clone()),
            Keys::Jwks(set) => (
                Algorithm::RS256,
                set.find(header.kid.as_deref())
                    .ok_or_else(|| invalid("unknown kid"))?,
            ),
            Keys::RemoteJwks(remote) => {
                if header.alg != Algorithm::RS256 {
                    // Refused before any fetch: a stranger's token costs no request.
                    return Err(invalid("algorithm"));
                }
                (
                    Algorithm::RS256,
                    remote.key(header.kid.as_deref(), now).await?,
                )
            }
        };
        // The crate checks the signature, the algorithm and the issuer; expiry is
        // checked below against the injected real clock, the audience also against
        // Cognito's `client_id` (its access tokens carry no `aud`).
        let mut validation = Validation::new(algorithm);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp"]);
        if let Some(iss) = &self.issuer {
            validation.set_issuer(&[iss]);
            validation.set_required_spec_claims(&["exp", "iss"]);
        }
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
            .map_err(|e| invalid(format!("{e}")))?;
        let claims = data.claims;

        let moment = |name: &str| match claims.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| invalid(format!("{name}: not a whole number"))),
        };
        let exp = moment("exp")?.ok_or_else(|| invalid("exp"))?;
        if exp <= now {
            return Err(invalid("expired"));
        }
        if exp - now > MAX_LIFETIME_SECONDS {
            return Err(invalid("exp too far ahead"));
        }
        if moment("nbf")?.is_some_and(|nbf| nbf > now + CLOCK_SKEW_SECONDS) {
            return Err(invalid("not yet valid"));
        }
        if moment("iat")?.is_some_and(|iat| iat > now + CLOCK_SKEW_SECONDS) {
            return Err(invalid("issued in the future"));
        }
        if let Some(audience) = &self.audience
            && !has_audience(&claims, audience)
        {
            return Err(invalid("audience"));
        }
        let id = ["sub", "cognito:username", "username"]
            .into_iter()
            .find_map(|name| claims.get(name).and_then(Value::as_str))
            .ok_or_else(|| invalid("no subject"))?;
        if !is_safe_id(id) {
            return Err(invalid("subject: not 1-128 of [A-Za-z0-9._@+-]"));
        }
        if !groups(&claims)?.iter().any(|g| g == STAFF_GROUP) {
            return Err(AuthError::NotStaff);
        }
        Ok(Staff {
            id: id.to_string(),
            expires_at: exp,
        })
    }
}

/// A new random HS256 secret (256 bits, URL-safe base64).
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token =
            bearer(parts).ok_or_else(|| ApiError::Unauthorized("no bearer token".into()))?;
        let now = state.clocks.real().timestamp();
        match state.auth.verify(&token, now).await {
            Ok(staff) => Ok(staff),
            Err(e) => {
                tracing::info!(reason = %e, "staff token refused");
                Err(e.into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn sign(claims: Value) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(SECRET.as_bytes()).unwrap(),
        )
        .unwrap()
    }

    const NOW: i64 = 1_700_000_000;

    #[tokio::test]
    async fn groups_come_from_either_claim_as_a_list_of_strings_only() {
        let auth = StaffAuth::hs256(SECRET, None, None).unwrap();
        for (groups, staff) in [
            (json!({"groups": ["staff"]}), Some(true)),
            (json!({"cognito:groups": ["admin", "staff"]}), Some(true)),
            (json!({"groups": "users staff"}), None),
            (json!({"groups": " staff"}), None),
            (json!({"cognito:groups": "users,staff"}), None),
            (json!({"groups": ["staff", 7]}), None),
            (json!({"groups": ["staffing"]}), Some(false)),
            (json!({"groups": ["users"]}), Some(false)),
            (json!({}), Some(false)),
        ] {
            let mut claims = json!({"sub": "s1", "exp": NOW + 60});
            claims
                .as_object_mut()
                .unwrap()
                .extend(groups.as_object().unwrap().clone());
            let result = auth.verify(&sign(claims.clone()), NOW).await;
            match staff {
                Some(true) => assert_eq!(
                    result,
                    Ok(Staff {
                        id: "s1".into(),
                        expires_at: NOW + 60
                    }),
                    "{claims}"
                ),
                Some(false) => assert_eq!(result, Err(AuthError::NotStaff), "{claims}"),
                None => assert!(matches!(result, Err(AuthError::Invalid(_))), "{claims}"),
            }
        }
    }

    /// Hardening F7 and F12: every claim's type, the lifetime, the clock, the size and
    /// the staff id are checked; a valid signature alone is not enough.
    #[tokio::test]
    async fn lenient_claims_are_refused() {
        let auth = StaffAuth::hs256(SECRET, None, None).unwrap();
        let base = json!({"sub": "j.visser", "groups": ["staff"], "exp": NOW + 3600});
        let with = |name: &str, value: Value| {
            let mut claims = base.clone();
            claims[name] = value;
            claims
        };
        let cases: Vec<(&str, Value, bool)> = vec![
            ("a valid token", base.clone(), true),
            (
                "exp 100 years ahead",
                with("exp", json!(NOW + 100 * 365 * 86_400)),
                false,
            ),
            (
                "exp just within 24 h",
                with("exp", json!(NOW + 24 * 3600)),
                true,
            ),
            ("exp as a string", with("exp", json!("2099-01-01")), false),
            (
                "exp with a fraction",
                with("exp", json!(NOW as f64 + 60.5)),
                false,
            ),
            ("nbf \"x\"", with("nbf", json!("x")), false),
            ("nbf within the skew", with("nbf", json!(NOW + 30)), true),
            ("iat a day ahead", with("iat", json!(NOW + 86_400)), false),
            ("iat as text", with("iat", json!("now")), false),
            (
                "sub with a newline and ANSI codes",
                with("sub", json!("j\n\u{1b}[31mINFO forged")),
                false,
            ),
            ("sub with a space", with("sub", json!("j visser")), false),
            (
                "sub of 129 characters",
                with("sub", json!("a".repeat(129))),
                false,
            ),
            (
                "sub as an e-mail address",
                with("sub", json!("j.visser+loket@dronten.nl")),
                true,
            ),
            ("sub empty", with("sub", json!("")), false),
            (
                "a 100 KB token",
                with("pad", json!("x".repeat(100_000))),
                false,
            ),
        ];
        for (case, claims, ok) in cases {
            let result = auth.verify(&sign(claims), NOW).await;
            assert_eq!(result.is_ok(), ok, "{case}: {result:?}");
            if !ok {
                assert!(matches!(result, Err(AuthError::Invalid(_))), "{case}: 401");
            }
        }
    }

    #[tokio::test]
    async fn the_id_is_the_subject_or_else_the_username() {
        let auth = StaffAuth::hs256(SECRET, None, None).unwrap();
        for (claims, id) in [
            (json!({"sub": "abc", "username": "jan"}), Some("abc")),
            (json!({"cognito:username": "piet"}), Some("piet")),
            (json!({"username": "jan"}), Some("jan")),
            (json!({"sub": " "}), None),
            (json!({"sub": " abc"}), None),
        ] {
            let mut claims = claims;
            claims["exp"] = json!(NOW + 60);
            claims["groups"] = json!(["staff"]);
            let result = auth.verify(&sign(claims.clone()), NOW).await.map(|s| s.id);
            match id {
                Some(id) => assert_eq!(result.as_deref(), Ok(id), "{claims}"),
                None => assert!(matches!(result, Err(AuthError::Invalid(_))), "{claims}"),
            }
        }
    }

    #[tokio::test]
    async fn expiry_is_judged_by_the_given_real_time() {
        let auth = StaffAuth::hs256(SECRET, None, None).unwrap();
        let token = sign(json!({"sub": "s", "groups": ["staff"], "exp": NOW}));
        assert!(auth.verify(&token, NOW - 1).await.is_ok());
        assert!(
            matches!(auth.verify(&token, NOW).await, Err(AuthError::Invalid(_))),
            "exp must be in the future"
        );
        let no_exp = sign(json!({"sub": "s", "groups": ["staff"]}));
        assert!(matches!(
            auth.verify(&no_exp, NOW).await,
            Err(AuthError::Invalid(_))
        ));
    }

    #[tokio::test]
    async fn the_audience_may_be_a_list_or_cognitos_client_id() {
        let auth = StaffAuth::hs256(SECRET, None, Some("app".into())).unwrap();
        for (aud, ok) in [
            (json!({"aud": "app"}), true),
            (json!({"aud": ["other", "app"]}), true),
            (json!({"client_id": "app"}), true),
            (json!({"aud": "other", "client_id": "app"}), false),
            (json!({"aud": "other"}), false),
            (json!({}), false),
        ] {
            let mut claims = json!({"sub": "s", "groups": ["staff"], "exp": NOW + 60});
            claims
                .as_object_mut()
                .unwrap()
                .extend(aud.as_object().unwrap().clone());
            assert_eq!(
                auth.verify(&sign(claims.clone()), NOW).await.is_ok(),
                ok,
                "{claims}"
            );
        }
    }

    #[test]
    fn weak_secrets_and_a_jwks_without_issuer_or_audience_are_refused() {
        assert!(StaffAuth::hs256("short", None, None).is_err());
        assert!(StaffAuth::jwks("https://example.org/jwks.json", None, Some("a".into())).is_err());
        assert!(StaffAuth::jwks("https://example.org/jwks.json", Some("i".into()), None).is_err());
        assert!(
            StaffAuth::jwks(
                "http://example.org/jwks.json",
                Some("i".into()),
                Some("a".into())
            )
            .is_err()
        );
        assert!(
            StaffAuth::jwks(
                "http://127.0.0.1:9/jwks.json",
                Some("i".into()),
                Some("a".into())
            )
            .is_ok()
        );
        assert!(
            StaffAuth::jwks(
                "https://example.org/jwks.json",
                Some("i".into()),
                Some("a".into())
            )
            .is_ok()
        );
        assert!(StaffAuth::jwks(r#"{"keys": []}"#, Some("i".into()), Some("a".into())).is_err());
    }

    #[tokio::test]
    async fn minted_tokens_pass_verification() {
        let auth = StaffAuth::hs256(SECRET, Some("loket".into()), Some("staff-ui".into())).unwrap();
        let token = auth.mint("marieke", NOW, 3600).unwrap();
        assert_eq!(
            auth.verify(&token, NOW + 10).await,
            Ok(Staff {
                id: "marieke".into(),
                expires_at: NOW + 3600
            })
        );
        assert!(
            auth.verify(&token, NOW + 3600).await.is_err(),
            "expired after the hour"
        );
    }

    #[test]
    fn only_loopback_may_use_plain_http() {
        for (url, ok) in [
            ("http://localhost/jwks", true),
            ("http://127.0.0.1:8080/jwks", true),
            ("http://[::1]:8080/jwks", true),
            ("http://localhost.evil.org/jwks", false),
            ("http://10.0.0.1/jwks", false),
            ("https://localhost/jwks", false),
        ] {
            assert_eq!(is_loopback_http(url), ok, "{url}");
        }
    }
}
