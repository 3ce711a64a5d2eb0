//! The outbox's repository: messages written with the change that causes them
//! ([`outbox_documents`], used by the other repositories), and what delivery needs:
//! the messages due now, recording an attempt, the parked ones.
//!
//! | what | key |
//! |---|---|
//! | due messages (gsi1) | `outbox#pending`, sorted `{next_attempt_at}#{id}` |
//! | parked messages (gsi1) | `outbox#parked`, sorted `{created_at}#{id}` |
//! | sent messages | no index entry (a record that it went out, without its text) |

use chrono::{DateTime, Utc};

use crate::domain::outbox::{Delivery, OutboxMessage};

use super::permits::sortable_time;
use super::repository::{Listing, every_page};
use super::{
    Change, Collection, Document, DocumentStore, Index, IndexEntry, ListQuery, StoreError,
    StoreResult,
};

pub const PENDING: &str = "outbox#pending";
pub const PARKED: &str = "outbox#parked";

pub fn outbox_document(message: &OutboxMessage) -> StoreResult<Document> {
    let gsi1 = match message.delivery {
        Delivery::Pending => Some(IndexEntry {
            partition: PENDING.into(),
            sort: format!("{}#{}", sortable_time(message.next_attempt_at), message.id),
        }),
        Delivery::Parked => Some(IndexEntry {
            partition: PARKED.into(),
            sort: format!("{}#{}", sortable_time(message.created_at), message.id),
        }),
        Delivery::Sent => None,
    };
    Ok(Document {
        collection: Collection::Outbox,
        id: message.id.clone(),
        version: message.version,
        body: serde_json::to_string(message).map_err(|e| StoreError::Internal(e.to_string()))?,
        gsi1,
        gsi2: None,
    })
}

/// The documents of new messages, for a change's `outbox`.
pub fn outbox_documents(messages: &[OutboxMessage]) -> StoreResult<Vec<Document>> {
    messages.iter().map(outbox_document).collect()
}

fn message_from(doc: &Document) -> StoreResult<OutboxMessage> {
    serde_json::from_str(&doc.body)
        .map_err(|e| StoreError::Internal(format!("outbox {}: {e}", doc.id)))
}

/// The outbox, in domain types.
pub struct Outbox<'a> {
    engine: &'a dyn DocumentStore,
}

impl<'a> Outbox<'a> {
    pub fn new(engine: &'a dyn DocumentStore) -> Outbox<'a> {
        Outbox { engine }
    }

    pub async fn get(&self, id: &str) -> StoreResult<Option<OutboxMessage>> {
        match self.engine.get(Collection::Outbox, id).await? {
            Some(doc) => message_from(&doc).map(Some),
            None => Ok(None),
        }
    }

    /// Up to `limit` messages whose next attempt is due at `now`, the longest
    /// waiting first.
    pub async fn due(&self, now: DateTime<Utc>, limit: usize) -> StoreResult<Vec<OutboxMessage>> {
        let query = ListQuery {
            collection: Collection::Outbox,
            index: Index::Gsi1,
            partition: PENDING.into(),
            sort_from: None,
            // Every `{time}#{id}` of this moment sorts before `{time}$`.
            sort_to: Some(format!("{}$", sortable_time(now))),
            after: None,
            limit,
        };
        let page = self.engine.list(&query, &|_| true).await?;
        page.items.iter().map(message_from).collect()
    }

    /// Records an attempt (`after` is `before` sent, failed or retried), conditional
    /// on `before`'s version: two senders never both record one.
    pub async fn record(&self, before: &OutboxMessage, after: &OutboxMessage) -> StoreResult<()> {
        self.engine
            .commit(Change::update(outbox_document(after)?, before.version))
            .await
    }

    /// Every parked message, oldest first.
    pub async fn parked(&self) -> StoreResult<Vec<OutboxMessage>> {
        every_page(|after| async move {
            let query = ListQuery {
                collection: Collection::Outbox,
                index: Index::Gsi1,
                partition: PARKED.into(),
                sort_from: None,
                sort_to: None,
                after,
                limit: 100,
            };
            let page = self.engine.list(&query, &|_| true).await?;
            Ok(Listing {
                items: page
                    .items
                    .iter()
                    .map(message_from)
                    .collect::<Result<Vec<_>, _>>()?,
                next: page.next,
            })
        })
        .await
    }
}
