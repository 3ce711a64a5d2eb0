//! Where RS256 keys come from: a JWKS given inline or in a file, or fetched from an
//! `https://` URL on first use, cached, and fetched again for an unknown `kid` at
//! most once a minute.

use std::collections::HashMap;
use std::sync::Arc;

use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet, KeyAlgorithm, PublicKeyUse};

use super::outbound::Outbound;
use super::{AuthError, invalid};

/// A remote JWKS is fetched again for an unknown `kid` at most this often (seconds).
const REFETCH_AFTER_SECONDS: i64 = 60;

/// After a failed JWKS fetch, the next attempt waits this long (seconds).
const RETRY_FAILED_AFTER_SECONDS: i64 = 5;

#[derive(Clone, Default)]
pub(super) struct KeySet {
    pub(super) by_kid: HashMap<String, Arc<DecodingKey>>,
    /// The only key, for a token without `kid` against a one-key set.
    sole: Option<Arc<DecodingKey>>,
}

impl KeySet {
    /// The RSA signing keys of a JWKS (other key types, and keys meant for other
    /// algorithms or for encryption, are left out: no algorithm confusion).
    pub(super) fn from_jwks(text: &str) -> Result<KeySet, String> {
        let set: JwkSet = serde_json::from_str(text).map_err(|e| format!("not a JWKS: {e}"))?;
        let mut keys = Vec::new();
        for jwk in &set.keys {
            let AlgorithmParameters::RSA(rsa) = &jwk.algorithm else {
                continue;
            };
            if jwk
                .common
                .key_algorithm
                .is_some_and(|a| a != KeyAlgorithm::RS256)
                || jwk
                    .common
                    .public_key_use
                    .as_ref()
                    .is_some_and(|u| *u != PublicKeyUse::Signature)
            {
                continue;
            }
            let key = DecodingKey::from_rsa_components(&rsa.n, &rsa.e)
                .map_err(|e| format!("RSA key {:?}: {e}", jwk.common.key_id))?;
            keys.push((jwk.common.key_id.clone(), Arc::new(key)));
        }
        if keys.is_empty() {
            return Err("the JWKS has no RSA signing key".into());
        }
        Ok(KeySet {
            sole: (keys.len() == 1).then(|| keys[0].1.clone()),
            by_kid: keys
                .into_iter()
                .filter_map(|(kid, key)| Some((kid?, key)))
                .collect(),
        })
    }

    pub(super) fn find(&self, kid: Option<&str>) -> Option<Arc<DecodingKey>> {
        match kid {
            Some(kid) => self.by_kid.get(kid).cloned(),
            None => self.sole.clone(),
        }
    }
}

/// A JWKS behind a URL: fetched on first use, then cached.
pub(super) struct RemoteJwks {
    pub(super) url: String,
    pub(super) outbound: Outbound,
    pub(super) cache: tokio::sync::Mutex<Cached>,
}

#[derive(Default)]
pub(super) struct Cached {
    keys: Option<KeySet>,
    fetched_at: i64,
    /// When the last fetch failed: requests in the next few seconds fail fast
    /// instead of queueing behind another timeout.
    failed_at: Option<i64>,
}

impl RemoteJwks {
    async fn fetch(&self) -> Result<KeySet, AuthError> {
        let unavailable = |e: String| AuthError::KeysUnavailable(format!("{}: {e}", self.url));
        let (status, body) = self.outbound.get(&self.url).await.map_err(unavailable)?;
        if status != 200 {
            return Err(unavailable(format!("status {status}")));
        }
        let text = std::str::from_utf8(&body).map_err(|e| unavailable(e.to_string()))?;
        KeySet::from_jwks(text).map_err(unavailable)
    }

    /// The key for `kid`: from the cache, or after a (re)fetch. `now` is real time.
    pub(super) async fn key(
        &self,
        kid: Option<&str>,
        now: i64,
    ) -> Result<Arc<DecodingKey>, AuthError> {
        let mut cached = self.cache.lock().await;
        if let Some(key) = cached.keys.as_ref().and_then(|k| k.find(kid)) {
            return Ok(key);
        }
        if cached.keys.is_some() && now - cached.fetched_at < REFETCH_AFTER_SECONDS {
            return Err(invalid("unknown kid"));
        }
        if cached
            .failed_at
            .is_some_and(|at| now - at < RETRY_FAILED_AFTER_SECONDS)
        {
            return Err(AuthError::KeysUnavailable(format!(
                "{}: failed moments ago",
                self.url
            )));
        }
        let keys = match self.fetch().await {
            Ok(keys) => keys,
            Err(e) => {
                tracing::warn!(error = %e, "staff JWKS fetch failed");
                cached.failed_at = Some(now);
                return Err(e);
            }
        };
        tracing::info!(url = %self.url, keys = keys.by_kid.len(), "staff JWKS fetched");
        cached.failed_at = None;
        let key = keys.find(kid);
        cached.keys = Some(keys);
        cached.fetched_at = now;
        key.ok_or_else(|| invalid("unknown kid"))
    }
}
