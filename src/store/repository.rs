//! The typed face of the store: what the rest of loket uses.
//!
//! [`Store`] hands out one repository per aggregate ([`Permits`], [`Registrations`],
//! [`Audit`]); each speaks in domain types and keeps its key layout, its index
//! entries, its aggregates and its stored JSON to itself. Below them sits the
//! [`DocumentStore`] engine, which knows only documents and atomic changes.
//!
//! A creation is two steps, because a creating POST adds its idempotency record to the
//! same atomic change: the repository prepares a [`Creation`], the caller may
//! [`remember`](Creation::remember) the first response in it, and [`Store::commit`]
//! writes all of it or nothing.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::domain::outbox::OutboxMessage;

use super::audit::Audit;
use super::outbox::{Outbox, outbox_documents};
use super::permits::Permits;
use super::registrations::Registrations;
use super::{
    Change, Collection, Document, DocumentStore, IdempotencyRecord, Position, SharedStore,
    StoreError, StoreResult,
};
use crate::domain::formats::Reference;

/// The store, with a repository per aggregate. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    engine: SharedStore,
    /// Moves on every registration written through this store: what the public
    /// programme's snapshots are checked against (`api/respect_week/programme.rs`).
    registration_writes: Arc<AtomicU64>,
}

impl Store {
    pub fn new(engine: SharedStore) -> Store {
        Store {
            engine,
            registration_writes: Arc::new(AtomicU64::new(0)),
        }
    }

    /// How many registration writes this store has made (this process only).
    pub fn registration_writes(&self) -> u64 {
        self.registration_writes.load(Ordering::Acquire)
    }

    /// The document engine underneath, for the store's own tests and tools.
    pub fn engine(&self) -> &dyn DocumentStore {
        self.engine.as_ref()
    }

    /// The engine itself, to open another [`Store`] on it (a restarted test server).
    pub fn into_engine(self) -> SharedStore {
        self.engine
    }

    pub fn permits(&self) -> Permits<'_> {
        Permits::new(self.engine())
    }

    pub fn registrations(&self) -> Registrations<'_> {
        Registrations::new(self.engine(), &self.registration_writes)
    }

    pub fn audit(&self) -> Audit<'_> {
        Audit::new(self.engine())
    }

    pub fn outbox(&self) -> Outbox<'_> {
        Outbox::new(self.engine())
    }

    /// Writes a prepared creation, all of it or nothing.
    pub async fn commit(&self, creation: Creation) -> StoreResult<()> {
        let registration = creation.change.document.collection == Collection::Registration;
        self.engine.commit(creation.change).await?;
        if registration {
            self.registration_writes.fetch_add(1, Ordering::AcqRel);
        }
        Ok(())
    }

    /// The first response stored under a scope and key, if it is live at `now` (unix
    /// seconds, real time).
    pub async fn remembered(
        &self,
        scope: &str,
        key: &str,
        now: i64,
    ) -> StoreResult<Option<IdempotencyRecord>> {
        self.engine.idempotency(scope, key, now).await
    }

    /// Forgets first responses that expired before `now` (unix seconds, real time).
    pub async fn forget_expired(&self, now: i64) -> StoreResult<u64> {
        self.engine.purge_idempotency(now).await
    }
}

/// A creation prepared by a repository, not yet written: the new record with its
/// index entries, its aggregates, its unique claims and its reference number.
#[derive(Debug)]
#[must_use = "a creation is written only by Store::commit"]
pub struct Creation {
    change: Change,
}

impl Creation {
    pub(super) fn new(change: Change) -> Creation {
        Creation { change }
    }

    /// Stores the creating request's first response in the same change, so that a
    /// repeat is answered with it.
    pub fn remember(mut self, record: IdempotencyRecord) -> Creation {
        self.change.idempotency = Some(record);
        self
    }

    /// Sends these messages because of this creation: written in the same change.
    pub fn notify(mut self, messages: &[OutboxMessage]) -> StoreResult<Creation> {
        self.change.also_create.extend(outbox_documents(messages)?);
        Ok(self)
    }
}

/// The lookup of a new record by its reference, created with it.
pub(super) fn lookup_document(reference: &Reference, id: &str) -> StoreResult<Document> {
    Ok(Document {
        collection: Collection::Lookup,
        id: reference.to_string(),
        version: 1,
        body: serde_json::json!({ "id": id }).to_string(),
        gsi1: None,
        gsi2: None,
    })
}

/// The id of the record with this reference, if there is one.
pub(super) async fn find_by_reference(
    engine: &dyn DocumentStore,
    reference: &Reference,
) -> StoreResult<Option<String>> {
    let Some(doc) = engine
        .get(Collection::Lookup, &reference.to_string())
        .await?
    else {
        return Ok(None);
    };
    #[derive(serde::Deserialize)]
    struct Lookup {
        id: String,
    }
    serde_json::from_str::<Lookup>(&doc.body)
        .map(|l| Some(l.id))
        .map_err(|e| StoreError::Internal(format!("lookup {}: {e}", doc.id)))
}

/// One page of a listing: the items, and where the next page starts (`None` on the
/// last).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing<T> {
    pub items: Vec<T>,
    pub next: Option<Position>,
}

/// Every item of a listing, page after page (`page` reads the one after a position).
pub(super) async fn every_page<T, F>(
    mut page: impl FnMut(Option<Position>) -> F,
) -> StoreResult<Vec<T>>
where
    F: Future<Output = StoreResult<Listing<T>>>,
{
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let listing = page(after).await?;
        all.extend(listing.items);
        match listing.next {
            Some(next) => after = Some(next),
            None => return Ok(all),
        }
    }
}

/// Whether an error means "another change came first: read again and decide again".
pub trait Conflict {
    fn is_conflict(&self) -> bool;
}

impl Conflict for StoreError {
    fn is_conflict(&self) -> bool {
        matches!(self, StoreError::VersionConflict)
    }
}

/// How often a read-decide-write is tried when other writers keep coming first.
pub const CONFLICT_ATTEMPTS: usize = 5;

/// Runs `attempt` (read, decide, write conditionally on the version read) again
/// while it fails on a concurrent change, at most [`CONFLICT_ATTEMPTS`] times; the
/// last failure is returned. For writers who send no version of their own: an
/// organiser, a registrant, the purge. Staff send `If-Match` and are never retried.
pub async fn retry_on_conflict<T, E, F>(mut attempt: impl FnMut() -> F) -> Result<T, E>
where
    E: Conflict,
    F: Future<Output = Result<T, E>>,
{
    let mut outcome = attempt().await;
    for _ in 1..CONFLICT_ATTEMPTS {
        match &outcome {
            Err(e) if e.is_conflict() => outcome = attempt().await,
            _ => break,
        }
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn conflicts_are_retried_a_few_times_and_other_errors_not_at_all() {
        let mut calls = 0;
        let outcome: Result<(), StoreError> = retry_on_conflict(|| {
            calls += 1;
            async { Err(StoreError::VersionConflict) }
        })
        .await;
        assert!(matches!(outcome, Err(StoreError::VersionConflict)));
        assert_eq!(calls, CONFLICT_ATTEMPTS);

        let mut calls = 0;
        let outcome: Result<u8, StoreError> = retry_on_conflict(|| {
            calls += 1;
            let n = calls;
            async move {
                match n {
                    1 => Err(StoreError::VersionConflict),
                    _ => Ok(7),
                }
            }
        })
        .await;
        assert_eq!(outcome.unwrap(), 7);
        assert_eq!(calls, 2);

        let mut calls = 0;
        let outcome: Result<(), StoreError> = retry_on_conflict(|| {
            calls += 1;
            async { Err(StoreError::Unavailable("down".into())) }
        })
        .await;
        assert!(matches!(outcome, Err(StoreError::Unavailable(_))));
        assert_eq!(calls, 1);
    }
}
