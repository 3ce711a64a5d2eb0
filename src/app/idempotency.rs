//! `Idempotency-Key` for every creating request (docs/api.md), one mechanism for the
//! API and the pages.
//!
//! The record is written in the same atomic change as what the request creates, so a
//! success costs no extra request and no "in progress" record can be left behind by
//! a crash. A repeat finds the record (the change fails on it) and gets the stored
//! first answer back, byte for byte; a repeat with another body is refused.
//!
//! What is stored is the adapter's own first answer ([`StoredAnswer`]): the API's
//! 201 body, or the page's receipt. The use case hands the adapter its typed result
//! to render that from.

use crate::secrets::body_hash;
use crate::store::{Creation, IdempotencyRecord, StoreError};

use super::App;
use super::error::{AppError, AppResult};

/// How often a creation reads its register again when another process's creation
/// took the number it read.
const SEQUENCE_ATTEMPTS: u32 = 20;

/// How long a creation waits for its turn before it races for its number.
const TURN_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// One creation at a time in this process (see [`Idempotent::run`]).
static CREATIONS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// How long a first answer is kept and replayed (real time).
pub const RETENTION_SECONDS: i64 = 24 * 60 * 60;

/// The first answer to a creating request, as it is replayed: a status, where the
/// new thing is, and the exact body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

impl StoredAnswer {
    /// A 201 at `location` with `body`.
    pub fn created(location: String, body: String) -> StoredAnswer {
        StoredAnswer {
            status: 201,
            location: Some(location),
            body,
        }
    }
}

/// What a creating request got: the new thing, with the answer that was stored for
/// its repeats; or, for a repeat, that stored answer.
#[derive(Debug)]
pub enum Answer<T> {
    First(T, StoredAnswer),
    Repeat(StoredAnswer),
}

/// A creating request under an idempotency key (or none).
pub struct Idempotent {
    scope: &'static str,
    key: Option<String>,
    body_hash: String,
}

impl Idempotent {
    /// `scope` names the route (`POST /permits`): keys are scoped per route. `raw`
    /// is what identifies the request: its body (and anything else that must match).
    pub fn new(scope: &'static str, key: Option<String>, raw: &[u8]) -> Idempotent {
        Idempotent {
            scope,
            key,
            body_hash: body_hash(raw),
        }
    }

    /// The stored first answer for a repeat, a field error for a reuse with another
    /// body, or `None` when the key is new (or none was sent).
    async fn replay(&self, app: &App) -> AppResult<Option<StoredAnswer>> {
        let Some(key) = &self.key else {
            return Ok(None);
        };
        let now = app.clocks.real().timestamp();
        let Some(record) = app.store.remembered(self.scope, key, now).await? else {
            return Ok(None);
        };
        if record.body_hash != self.body_hash {
            return Err(AppError::field(
                "Idempotency-Key",
                "idempotency_key_reused",
                "Deze Idempotency-Key is al gebruikt voor een ander verzoek.",
            ));
        }
        Ok(Some(StoredAnswer {
            status: record.status,
            location: record.location,
            body: record.response_body,
        }))
    }

    /// Runs a creation. `checked` is the validated request; `prepare` turns it into
    /// the creation, its typed result and the answer to store, with the next number
    /// of the register claimed in the same change. The idempotency record rides
    /// along. When another creation took that number first, `prepare` runs again on
    /// a fresh read, so numbers are used only by what was created: a replay or a
    /// refusal takes none.
    pub async fn run<In: Clone, Out, Prepared>(
        &self,
        app: &App,
        checked: AppResult<In>,
        mut prepare: impl FnMut(In) -> Prepared,
    ) -> AppResult<Answer<Out>>
    where
        Prepared: Future<Output = AppResult<(Creation, Out, StoredAnswer)>>,
    {
        let input = match checked {
            Ok(input) => input,
            Err(refusal) => return self.refused(app, refusal).await,
        };
        // Creations in this process take their turn, so that they do not race each
        // other for the same number; other processes (Lambda instances) can still
        // claim it first, and then `prepare` runs again. The turn is waited for
        // briefly: when the store hangs (an outage), a creation goes on without it
        // and gets its 503 from the store, instead of queueing behind the others.
        let _turn = tokio::time::timeout(TURN_WAIT, CREATIONS.lock()).await.ok();
        for _ in 0..SEQUENCE_ATTEMPTS {
            let (mut creation, created, answer) = match prepare(input.clone()).await {
                Ok(prepared) => prepared,
                Err(refusal) => return self.refused(app, refusal).await,
            };
            if let Some(key) = &self.key {
                let now = app.clocks.real().timestamp();
                creation = creation.remember(IdempotencyRecord {
                    scope: self.scope.into(),
                    key: key.clone(),
                    body_hash: self.body_hash.clone(),
                    status: answer.status,
                    location: answer.location.clone(),
                    response_body: answer.body.clone(),
                    created_at: now,
                    expires_at: now + RETENTION_SECONDS,
                });
            }
            return match app.store.commit(creation).await {
                Ok(()) => Ok(Answer::First(created, answer)),
                Err(StoreError::SequenceTaken) => continue,
                Err(StoreError::IdempotencyKeyUsed) => match self.replay(app).await? {
                    Some(replay) => Ok(Answer::Repeat(replay)),
                    // The record expired between the two reads: let the client retry.
                    None => Err(StoreError::IdempotencyInProgress.into()),
                },
                // A repeat of a creation that holds a unique claim (a Week van Respect
                // registration) collides with its own first success on the claim: the
                // store may report either failure. Replay when the key was used.
                Err(e @ StoreError::UniqueTaken(_)) if self.key.is_some() => {
                    match self.replay(app).await? {
                        Some(replay) => Ok(Answer::Repeat(replay)),
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
    async fn refused<Out>(&self, app: &App, refusal: AppError) -> AppResult<Answer<Out>> {
        match self.replay(app).await? {
            Some(replay) => Ok(Answer::Repeat(replay)),
            None => Err(refusal),
        }
    }
}
