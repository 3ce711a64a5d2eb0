//! Storage. The rest of loket sees [`Store`] and its repositories, one per aggregate
//! ([`permits`], [`registrations`], [`audit`]), in domain types. Underneath is one
//! narrow engine trait, [`DocumentStore`], with two implementations: [`embedded`] (a
//! redb file, the local default) and [`dynamo`] (one DynamoDB table).
//!
//! Every aggregate (a permit application, a Week van Respect registration, an export
//! audit entry) is a versioned JSON *document* with up to two index entries for
//! listing. A change is one [`Change`]: the new document, conditional on its version,
//! plus whatever must move with it atomically: aggregate counters (leges coverage),
//! unique claims (no duplicate registration) and the idempotency record of the POST
//! that created it. Both stores apply a change all-or-nothing, so a crash never leaves
//! half of it. The repositories on top do the serde and the key layout; a permit's
//! or registration's JSON carries its schema version and is upgraded on read
//! ([`schema`]).
//!
//! The key layout, the same for both stores and declared by `template.yaml`:
//!
//! | item | key |
//! |---|---|
//! | document | `pk = {collection}#{id}`, `sk = doc`; `gsi1pk/gsi1sk`, `gsi2pk/gsi2sk` |
//! | sequence | `pk = seq#{name}`, `sk = seq` |
//! | aggregate | `pk = agg#{group}`, `sk = {key}` |
//! | unique claim | `pk = uniq#{key}`, `sk = uniq` |
//! | idempotency | `pk = idem#{scope}#{key}`, `sk = idem`, TTL attribute `expires_at` |
//! | outbox message | a document: `pk = outbox#{id}`, `sk = doc`; gsi1 while due or parked |
//! | reference lookup | a document: `pk = lookup#{reference}`, `sk = doc`, body `{"id"}` |

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub mod audit;
pub mod dynamo;
pub mod embedded;
pub mod outbox;
pub mod permits;
pub mod registrations;
pub mod repository;
pub mod schema;

pub use repository::{Conflict, Creation, Listing, Store, retry_on_conflict};

/// What kind of document: its id space and its key prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Collection {
    Permit,
    Registration,
    Audit,
    /// A message waiting to be sent, or a record that one was (`store/outbox.rs`).
    Outbox,
    /// A reference (`EV-2017-0001`) pointing to its record's id.
    Lookup,
}

impl Collection {
    pub fn as_str(self) -> &'static str {
        match self {
            Collection::Permit => "permit",
            Collection::Registration => "registration",
            Collection::Audit => "audit",
            Collection::Outbox => "outbox",
            Collection::Lookup => "lookup",
        }
    }
}

/// Which of the two secondary indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Index {
    Gsi1,
    Gsi2,
}

/// A document's place in one index: listed under `partition`, ordered by `sort`.
/// `sort` must be unique within its partition (end it with the id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEntry {
    pub partition: String,
    pub sort: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    pub collection: Collection,
    pub id: String,
    /// 1 on creation, +1 on every change.
    pub version: u64,
    /// The aggregate as JSON.
    pub body: String,
    pub gsi1: Option<IndexEntry>,
    pub gsi2: Option<IndexEntry>,
}

impl Document {
    pub fn index(&self, index: Index) -> Option<&IndexEntry> {
        match index {
            Index::Gsi1 => self.gsi1.as_ref(),
            Index::Gsi2 => self.gsi2.as_ref(),
        }
    }
}

/// Adds signed amounts to named fields of one aggregate item (missing fields and
/// items count as zero).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AggregateDelta {
    pub group: String,
    pub key: String,
    pub add: BTreeMap<String, i64>,
}

/// The stored first response of a creating POST, replayed for a repeat with the same
/// `Idempotency-Key` and body within 24 hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    /// Route scope and key: `POST /permits` + the client's key.
    pub scope: String,
    pub key: String,
    /// SHA-256 of the request body, to tell a repeat from a reuse.
    pub body_hash: String,
    pub status: u16,
    pub location: Option<String>,
    pub response_body: String,
    /// Unix seconds (real time) of the first request.
    pub created_at: i64,
    /// Unix seconds (real time) after which the record no longer counts.
    pub expires_at: i64,
}

/// One atomic change: all of it is written, or nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub document: Document,
    /// `None`: the document must not exist yet. `Some(v)`: the stored version must be
    /// `v` (and `document.version` is the next one).
    pub expected_version: Option<u64>,
    pub aggregates: Vec<AggregateDelta>,
    /// Keys that must be free and are taken by this change.
    pub claim_unique: Vec<String>,
    /// Keys given back by this change.
    pub release_unique: Vec<String>,
    /// Written with a creation; fails the change when a record with the key is still
    /// live at this record's `created_at`.
    pub idempotency: Option<IdempotencyRecord>,
    /// The number this creation takes from a named sequence, in the same change, so
    /// that a number is used only by what was created (no gaps in the register).
    pub sequence: Option<SequenceClaim>,
    /// Documents created with this change, each of which must not exist yet: the
    /// messages it causes (the transactional outbox, so that a crash can never lose
    /// one) and a new record's lookup by its reference.
    pub also_create: Vec<Document>,
}

/// A sequence that must stand at `number - 1` (else [`StoreError::SequenceTaken`])
/// and stands at `number` after the change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceClaim {
    pub name: String,
    pub number: u64,
}

impl Change {
    pub fn create(document: Document) -> Change {
        Change {
            document,
            expected_version: None,
            aggregates: Vec::new(),
            claim_unique: Vec::new(),
            release_unique: Vec::new(),
            idempotency: None,
            sequence: None,
            also_create: Vec::new(),
        }
    }

    pub fn update(document: Document, expected_version: u64) -> Change {
        Change {
            expected_version: Some(expected_version),
            ..Change::create(document)
        }
    }
}

/// Where a listing goes on from: the last item returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub sort: String,
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub collection: Collection,
    pub index: Index,
    pub partition: String,
    /// Inclusive bounds on the sort key.
    pub sort_from: Option<String>,
    pub sort_to: Option<String>,
    pub after: Option<Position>,
    /// 1–100 matching documents per page.
    pub limit: usize,
}

/// A filter the caller applies on top of the key conditions (status, kern, …).
pub type Filter<'a> = &'a (dyn Fn(&Document) -> bool + Send + Sync);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub items: Vec<Document>,
    /// Set when more may follow.
    pub next: Option<Position>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The document exists already (create) or its version moved (update).
    #[error("version conflict")]
    VersionConflict,
    #[error("unique key already taken: {0}")]
    UniqueTaken(String),
    /// Another creation took the sequence number first: read the sequence again.
    #[error("sequence number taken")]
    SequenceTaken,
    /// A live idempotency record holds the key: read it and replay or refuse.
    #[error("idempotency key already used")]
    IdempotencyKeyUsed,
    /// Another request with the same idempotency key is being written right now.
    #[error("idempotency key in use by a running request")]
    IdempotencyInProgress,
    /// Throttled, unreachable, or timed out: worth retrying later (503).
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error("store failure: {0}")]
    Internal(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

#[async_trait]
pub trait DocumentStore: Send + Sync + std::fmt::Debug {
    /// Applies a change atomically (see [`Change`]).
    async fn commit(&self, change: Change) -> StoreResult<()>;

    async fn get(&self, collection: Collection, id: &str) -> StoreResult<Option<Document>>;

    /// Documents in one index partition in sort order, after `query.after`, that pass
    /// `filter`; at most `query.limit`.
    async fn list(&self, query: &ListQuery, filter: Filter<'_>) -> StoreResult<Page>;

    /// The last number a named sequence gave out (0 before the first). A creation
    /// claims the next one in its own change ([`SequenceClaim`]).
    async fn last_sequence(&self, name: &str) -> StoreResult<u64>;

    /// Every aggregate item of a group with its fields (one read).
    async fn aggregates(&self, group: &str)
    -> StoreResult<BTreeMap<String, BTreeMap<String, i64>>>;

    /// The idempotency record of a scope and key, if one is stored and live at `now`
    /// (unix seconds).
    async fn idempotency(
        &self,
        scope: &str,
        key: &str,
        now: i64,
    ) -> StoreResult<Option<IdempotencyRecord>>;

    /// Erases idempotency records that expired before `now` (the embedded store has
    /// no TTL; DynamoDB's TTL does it there, and this may be a no-op).
    async fn purge_idempotency(&self, now: i64) -> StoreResult<u64>;
}

pub type SharedStore = Arc<dyn DocumentStore>;
