//! Cognito's hosted sign-in for the staff pages on AWS: the OAuth 2.0 authorization
//! code flow with PKCE (RFC 7636, `S256`), the client side of it.
//!
//! [`HostedSignIn::begin`] makes a fresh `state` and code verifier and the address of
//! Cognito's authorize endpoint; the pages keep the two in a short-lived cookie.
//! [`HostedSignIn::exchange`] trades the code that comes back for tokens at the token
//! endpoint, proving with the verifier that it is the same browser. The access token
//! it returns is then checked by [`super::StaffAuth::verify`] like any bearer token:
//! signature, issuer, audience (Cognito's `client_id`) and the `staff` group.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::outbound::{Outbound, is_loopback_http};

/// A code longer than this is not Cognito's (they are UUIDs) and is not sent on.
const MAX_CODE_BYTES: usize = 512;

/// The OAuth client of the staff pages.
pub struct HostedSignIn {
    /// Cognito's domain, e.g. `https://loket-dronten.auth.eu-west-1.amazoncognito.com`.
    domain: String,
    client_id: String,
    callback_url: String,
    signed_out_url: String,
    outbound: Outbound,
}

impl std::fmt::Debug for HostedSignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostedSignIn")
            .field("domain", &self.domain)
            .field("client_id", &self.client_id)
            .field("callback_url", &self.callback_url)
            .finish_non_exhaustive()
    }
}

/// One sign-in under way: what the browser keeps, and where it goes.
pub struct Attempt {
    pub state: String,
    pub verifier: String,
    pub authorize_url: String,
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `S256`: the challenge is the unpadded base64url SHA-256 of the verifier.
pub fn code_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn check_url(name: &str, url: &str) -> Result<(), String> {
    if url.starts_with("https://") || is_loopback_http(url) {
        Ok(())
    } else {
        Err(format!(
            "{name} must be an https:// URL (http:// only for localhost): '{url}'"
        ))
    }
}

impl HostedSignIn {
    pub fn new(
        domain: &str,
        client_id: &str,
        callback_url: &str,
        signed_out_url: &str,
    ) -> Result<HostedSignIn, String> {
        check_url("LOKET_STAFF_SIGNIN_URL", domain)?;
        check_url("LOKET_STAFF_CALLBACK_URL", callback_url)?;
        check_url("LOKET_STAFF_SIGNED_OUT_URL", signed_out_url)?;
        if client_id.is_empty() {
            return Err("the hosted sign-in needs LOKET_JWT_AUDIENCE (the app client id)".into());
        }
        Ok(HostedSignIn {
            domain: domain.trim_end_matches('/').to_string(),
            client_id: client_id.to_string(),
            callback_url: callback_url.to_string(),
            signed_out_url: signed_out_url.to_string(),
            outbound: Outbound::default(),
        })
    }

    /// A new attempt: a fresh `state` and verifier, and the authorize address.
    pub fn begin(&self) -> Attempt {
        let state = random_token();
        let verifier = random_token();
        let query = serde_urlencoded::to_string([
            ("response_type", "code"),
            ("client_id", &self.client_id),
            ("redirect_uri", &self.callback_url),
            ("scope", "openid email"),
            ("state", &state),
            ("code_challenge", &code_challenge(&verifier)),
            ("code_challenge_method", "S256"),
        ])
        .expect("strings encode");
        Attempt {
            authorize_url: format!("{}/oauth2/authorize?{query}", self.domain),
            state,
            verifier,
        }
    }

    /// Trades the code for tokens; the access token.
    pub async fn exchange(&self, code: &str, verifier: &str) -> Result<String, String> {
        if code.is_empty() || code.len() > MAX_CODE_BYTES {
            return Err("no usable code".into());
        }
        let form = serde_urlencoded::to_string([
            ("grant_type", "authorization_code"),
            ("client_id", &self.client_id),
            ("code", code),
            ("redirect_uri", &self.callback_url),
            ("code_verifier", verifier),
        ])
        .expect("strings encode");
        let url = format!("{}/oauth2/token", self.domain);
        let (status, body) = self.outbound.post_form(&url, form).await?;
        if status != 200 {
            // The body names the OAuth error (`invalid_grant`, …), never a secret.
            let reason = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
            return Err(format!("token endpoint answered {status}: {reason}"));
        }
        #[derive(serde::Deserialize)]
        struct Tokens {
            access_token: String,
        }
        serde_json::from_slice::<Tokens>(&body)
            .map(|tokens| tokens.access_token)
            .map_err(|e| format!("token endpoint: {e}"))
    }

    /// Cognito's logout endpoint, which ends its own session too and then sends the
    /// browser to the signed-out page.
    pub fn sign_out_url(&self) -> String {
        let query = serde_urlencoded::to_string([
            ("client_id", self.client_id.as_str()),
            ("logout_uri", self.signed_out_url.as_str()),
        ])
        .expect("strings encode");
        format!("{}/logout?{query}", self.domain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_is_rfc_7636s_s256() {
        // RFC 7636, Appendix B.
        assert_eq!(
            code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn an_attempt_carries_state_and_challenge_and_never_the_verifier() {
        let sign_in = HostedSignIn::new(
            "https://loket.auth.eu-west-1.amazoncognito.com/",
            "client-1",
            "https://loket.example/medewerkers/inloggen/terug",
            "https://loket.example/medewerkers/uitgelogd",
        )
        .unwrap();
        let a = sign_in.begin();
        let b = sign_in.begin();
        assert_ne!(a.state, b.state);
        assert_ne!(a.verifier, b.verifier);
        assert_eq!(a.verifier.len(), 43, "32 random bytes");
        assert!(a.authorize_url.starts_with(
            "https://loket.auth.eu-west-1.amazoncognito.com/oauth2/authorize?response_type=code&client_id=client-1&redirect_uri=https%3A%2F%2Floket.example%2Fmedewerkers%2Finloggen%2Fterug&scope=openid+email&state="
        ));
        assert!(
            a.authorize_url
                .contains(&format!("code_challenge={}", code_challenge(&a.verifier)))
        );
        assert!(a.authorize_url.ends_with("code_challenge_method=S256"));
        assert!(!a.authorize_url.contains(&a.verifier));
    }

    #[test]
    fn plain_http_is_refused_except_on_this_machine() {
        let make = |domain: &str| {
            HostedSignIn::new(domain, "c", "http://localhost:1/t", "http://127.0.0.1:1/u")
        };
        assert!(make("http://loket.auth.example").is_err());
        assert!(make("http://localhost:9000").is_ok());
        assert!(HostedSignIn::new("https://a", "", "https://b", "https://c").is_err());
    }
}
