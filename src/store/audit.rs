//! The audit repository: export records, newest last, every one in gsi1 partition
//! `audit` and per staff member in gsi2 `audit#{staff}`. Written once, never changed.

use crate::domain::audit::ExportAudit;

use super::permits::sortable_time;
use super::repository::{Listing, every_page};
use super::{
    Change, Collection, Document, DocumentStore, Index, IndexEntry, ListQuery, Position,
    StoreError, StoreResult,
};

/// The partition of every audit record.
pub const AUDIT_PARTITION: &str = "audit";

fn audit_document(id: String, audit: &ExportAudit) -> StoreResult<Document> {
    let sort = format!("{}#{id}", sortable_time(audit.at));
    Ok(Document {
        collection: Collection::Audit,
        id,
        version: 1,
        body: serde_json::to_string(audit).map_err(|e| StoreError::Internal(e.to_string()))?,
        gsi1: Some(IndexEntry {
            partition: AUDIT_PARTITION.into(),
            sort: sort.clone(),
        }),
        gsi2: Some(IndexEntry {
            partition: format!("{AUDIT_PARTITION}#{}", audit.staff),
            sort,
        }),
    })
}

/// Export records, in domain types.
pub struct Audit<'a> {
    engine: &'a dyn DocumentStore,
}

impl<'a> Audit<'a> {
    pub fn new(engine: &'a dyn DocumentStore) -> Audit<'a> {
        Audit { engine }
    }

    /// Records an export under a fresh `id`.
    pub async fn create(&self, id: String, audit: &ExportAudit) -> StoreResult<()> {
        self.engine
            .commit(Change::create(audit_document(id, audit)?))
            .await
    }

    pub async fn get(&self, id: &str) -> StoreResult<Option<ExportAudit>> {
        match self.engine.get(Collection::Audit, id).await? {
            Some(doc) => audit_from(&doc).map(Some),
            None => Ok(None),
        }
    }

    /// One page of the records, oldest first.
    pub async fn list(
        &self,
        after: Option<Position>,
        limit: usize,
    ) -> StoreResult<Listing<ExportAudit>> {
        let query = ListQuery {
            collection: Collection::Audit,
            index: Index::Gsi1,
            partition: AUDIT_PARTITION.into(),
            sort_from: None,
            sort_to: None,
            after,
            limit,
        };
        let page = self.engine.list(&query, &|_| true).await?;
        Ok(Listing {
            items: page
                .items
                .iter()
                .map(audit_from)
                .collect::<Result<_, _>>()?,
            next: page.next,
        })
    }

    /// Every record, oldest first.
    pub async fn list_all(&self) -> StoreResult<Vec<ExportAudit>> {
        every_page(|after| self.list(after, 100)).await
    }
}

fn audit_from(doc: &Document) -> StoreResult<ExportAudit> {
    serde_json::from_str(&doc.body)
        .map_err(|e| StoreError::Internal(format!("audit {}: {e}", doc.id)))
}
