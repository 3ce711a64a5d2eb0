//! Ids and access tokens: unguessable, stored only as hashes, compared in constant
//! time. Used by the use cases (records, tokens), the e-mail outbox (message ids) and
//! the pages (CSRF values).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// `N` random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}

/// An opaque, unguessable id: 128 random bits, lowercase hex.
pub fn new_id() -> String {
    hex::encode(random_bytes::<16>())
}

/// A new access token (256 random bits) and the hash that is stored instead of it.
pub fn new_access_token() -> (String, String) {
    let token = URL_SAFE_NO_PAD.encode(random_bytes::<32>());
    let hash = hash_token(&token);
    (token, hash)
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether `presented` is the token whose hash is `stored_hash`, in constant time.
pub fn token_opens(presented: Option<&str>, stored_hash: &str) -> bool {
    let Some(token) = presented else {
        return false;
    };
    let presented_hash = hash_token(token);
    presented_hash
        .as_bytes()
        .ct_eq(stored_hash.as_bytes())
        .into()
}

/// SHA-256 of a request body, to tell a repeated POST from a reused key.
pub fn body_hash(raw: &[u8]) -> String {
    hex::encode(Sha256::digest(raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_opens_only_its_own_hash() {
        let (token, hash) = new_access_token();
        let (other, _) = new_access_token();
        assert!(token_opens(Some(&token), &hash));
        assert!(!token_opens(Some(&other), &hash));
        assert!(!token_opens(None, &hash));
        assert_ne!(token, hash, "the stored form is not the token");
    }

    #[test]
    fn ids_are_random_and_opaque() {
        let a = new_id();
        assert_eq!(a.len(), 32);
        assert_ne!(a, new_id());
    }
}
