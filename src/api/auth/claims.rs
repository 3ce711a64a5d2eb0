//! What a token's claims must be, beyond its signature (hardening F7, F12).

use serde_json::{Map, Value};

use super::{AuthError, invalid};

/// `aud` (a string or an array) names the audience, or, without `aud`, Cognito's
/// `client_id` does.
pub(super) fn has_audience(claims: &Map<String, Value>, audience: &str) -> bool {
    match claims.get("aud") {
        Some(Value::String(aud)) => aud == audience,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(audience)),
        Some(_) => false,
        None => claims.get("client_id").and_then(Value::as_str) == Some(audience),
    }
}

/// Tokens above this are refused unread (Cognito's are about 1 KiB).
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// The longest a staff token may still be valid (Cognito allows at most 24 h).
pub const MAX_LIFETIME_SECONDS: i64 = 24 * 3600;
/// Clocks differ a little: `nbf` and `iat` may lie this far in the future.
pub const CLOCK_SKEW_SECONDS: i64 = 30;

/// A staff id that is safe in a log line and a history: 1–128 of `[A-Za-z0-9._@+-]`
/// (Cognito's `sub` is a UUID; usernames are often e-mail addresses).
pub fn is_safe_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'@' | b'+' | b'-'))
}

/// The groups from `groups` and `cognito:groups`, each an array of strings when
/// present; anything else makes the token invalid (a string `"users staff"` is not a
/// list that contains `staff`).
pub(super) fn groups(claims: &Map<String, Value>) -> Result<Vec<String>, AuthError> {
    let mut out = Vec::new();
    for name in ["groups", "cognito:groups"] {
        match claims.get(name) {
            None => {}
            Some(Value::Array(items)) => {
                for item in items {
                    let group = item
                        .as_str()
                        .ok_or_else(|| invalid(format!("{name}: not an array of strings")))?;
                    out.push(group.to_string());
                }
            }
            Some(_) => return Err(invalid(format!("{name}: not an array of strings"))),
        }
    }
    Ok(out)
}
