//! `Idempotency-Key` for every creating POST (docs/api.md), one mechanism for all routes.
//!
//! The record is written in the same atomic change as what the POST creates, so a
//! success costs no extra request and no "in progress" record can be left behind by
//! a crash. A repeat finds the record (the change fails on it) and replays the stored
//! first response byte for byte; a repeat with another body is refused.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::store::{Creation, IdempotencyRecord, StoreError};

use super::error::{ApiError, ApiResult};
use super::extract::IdempotencyKey;
use super::secrets::body_hash;
use super::state::AppState;

/// How often a creation reads its register again when another process's creation
/// took the number it read.
const SEQUENCE_ATTEMPTS: u32 = 20;

/// How long a creation waits for its turn before it races for its number.
const TURN_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// One creation at a time in this process (see [`IdempotentPost::run`]).
static CREATIONS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// How long a first response is kept and replayed (real time).
pub const RETENTION_SECONDS: i64 = 24 * 60 * 60;

/// A 201 with its `Location` and the exact JSON body.
pub struct Created {
    pub location: String,
    pub body: String,
}

fn respond(status: u16, location: Option<&str>, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(loc) = location.and_then(|l| HeaderValue::from_str(l).ok()) {
        headers.insert(header::LOCATION, loc);
    }
    response
}

pub struct IdempotentPost {
    scope: &'static str,
    key: Option<String>,
    body_hash: String,
}

impl IdempotentPost {
    /// `scope` names the route (`POST /permits`): keys are scoped per route.
    pub fn new(scope: &'static str, key: IdempotencyKey, raw_body: &[u8]) -> IdempotentPost {
        IdempotentPost {
            scope,
            key: key.0,
            body_hash: body_hash(raw_body),
        }
    }

    /// The stored first response for a repeat, a 422 for a reuse with another body,
    /// or `None` when the key is new (or none was sent).
    async fn replay(&self, state: &AppState) -> ApiResult<Option<Response>> {
        let Some(key) = &self.key else {
            return Ok(None);
        };
        let now = state.real_clock.now().timestamp();
        let Some(record) = state.store.remembered(self.scope, key, now).await? else {
            return Ok(None);
        };
        if record.body_hash != self.body_hash {
            return Err(ApiError::field(
                "Idempotency-Key",
                "idempotency_key_reused",
                "Deze Idempotency-Key is al gebruikt voor een ander verzoek.",
            ));
        }
        Ok(Some(respond(
            record.status,
            record.location.as_deref(),
            record.response_body,
        )))
    }

    /// Runs a creating POST. `checked` is the validated request; `prepare` turns it
    /// into the creation and its 201, with the next number of the register claimed in
    /// the same change. The idempotency record rides along. When another creation took
    /// that number first, `prepare` runs again on a fresh read, so numbers are used
    /// only by what was created: a replay or a refusal takes none.
    pub async fn run<T: Clone, Prepared>(
        &self,
        state: &AppState,
        checked: ApiResult<T>,
        mut prepare: impl FnMut(T) -> Prepared,
    ) -> ApiResult<Response>
    where
        Prepared: Future<Output = ApiResult<(Creation, Created)>>,
    {
        let input = match checked {
            Ok(input) => input,
            Err(refusal) => return self.refused(state, refusal).await,
        };
        // Creations in this process take their turn, so that they do not race each
        // other for the same number; other processes (Lambda instances) can still
        // claim it first, and then `prepare` runs again. The turn is waited for
        // briefly: when the store hangs (an outage), a creation goes on without it
        // and gets its 503 from the store, instead of queueing behind the others.
        let _turn = tokio::time::timeout(TURN_WAIT, CREATIONS.lock()).await.ok();
        for _ in 0..SEQUENCE_ATTEMPTS {
            let (mut creation, created) = match prepare(input.clone()).await {
                Ok(prepared) => prepared,
                Err(refusal) => return self.refused(state, refusal).await,
            };
            if let Some(key) = &self.key {
                let now = state.real_clock.now().timestamp();
                creation = creation.remember(IdempotencyRecord {
                    scope: self.scope.into(),
                    key: key.clone(),
                    body_hash: self.body_hash.clone(),
                    status: 201,
                    location: Some(created.location.clone()),
                    response_body: created.body.clone(),
                    created_at: now,
                    expires_at: now + RETENTION_SECONDS,
                });
            }
            return match state.store.commit(creation).await {
                Ok(()) => Ok(respond(201, Some(&created.location), created.body)),
                Err(StoreError::SequenceTaken) => continue,
                Err(StoreError::IdempotencyKeyUsed) => match self.replay(state).await? {
                    Some(replay) => Ok(replay),
                    // The record expired between the two reads: let the client retry.
                    None => Err(StoreError::IdempotencyInProgress.into()),
                },
                // A repeat of a creation that holds a unique claim (a Week van Respect
                // registration) collides with its own first success on the claim: the
                // store may report either failure. Replay when the key was used.
                Err(e @ StoreError::UniqueTaken(_)) if self.key.is_some() => {
                    match self.replay(state).await? {
                        Some(replay) => Ok(replay),
                        None => Err(e.into()),
                    }
                }
                Err(e) => Err(e.into()),
            };
        }
        Err(StoreError::Unavailable("the register's sequence stayed contended".into()).into())
    }

    /// A refused request: a repeat must still get the first answer, even when it would
    /// now be refused (time moved on, a duplicate of itself).
    async fn refused(&self, state: &AppState, refusal: ApiError) -> ApiResult<Response> {
        match self.replay(state).await? {
            Some(replay) => Ok(replay),
            None => Err(refusal),
        }
    }
}
