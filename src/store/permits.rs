//! How a permit application is stored: its document, its index entries and the
//! coverage aggregates its changes move.

use chrono::{DateTime, Utc};

use crate::domain::coverage::{self, CoverageDelta};
use crate::domain::permit::Application;

use super::{AggregateDelta, Change, Collection, Document, DocumentStore, IndexEntry, StoreError, StoreResult};

/// Every application, oldest submission first (gsi1); per status (gsi2).
pub const ALL_PERMITS: &str = "permits";

pub fn status_partition(status: &str) -> String {
    format!("permits#{status}")
}

/// A fixed-width UTC timestamp, so that string order is time order.
pub fn sortable_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

pub fn permit_document(app: &Application) -> StoreResult<Document> {
    let sort = format!("{}#{}", sortable_time(app.submitted_at), app.id);
    Ok(Document {
        collection: Collection::Permit,
        id: app.id.clone(),
        version: app.version,
        body: serde_json::to_string(app).map_err(|e| StoreError::Internal(e.to_string()))?,
        gsi1: Some(IndexEntry {
            partition: ALL_PERMITS.into(),
            sort: sort.clone(),
        }),
        gsi2: Some(IndexEntry {
            partition: status_partition(app.status.as_str()),
            sort,
        }),
    })
}

pub fn permit_from(doc: &Document) -> StoreResult<Application> {
    serde_json::from_str(&doc.body).map_err(|e| StoreError::Internal(format!("permit {}: {e}", doc.id)))
}

/// The aggregate group of a year's coverage buckets.
pub fn coverage_group(year: i32) -> String {
    format!("coverage#{year}")
}

pub fn coverage_aggregates(deltas: &[CoverageDelta]) -> Vec<AggregateDelta> {
    deltas
        .iter()
        .map(|d| AggregateDelta {
            group: coverage_group(d.year),
            key: d.bucket.key(),
            add: [
                ("count", d.sums.count),
                ("imposed_cents", d.sums.imposed_cents),
                ("refunded_cents", d.sums.refunded_cents),
                ("open_cents", d.sums.open_cents),
            ]
            .into_iter()
            .filter(|(_, v)| *v != 0)
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        })
        .collect()
}

/// Writes `after` over `before` (conditional on `before`'s version) with the
/// coverage it moves, in one atomic change.
pub async fn save_transition(store: &dyn DocumentStore, before: &Application, after: &Application) -> StoreResult<()> {
    let mut change = Change::update(permit_document(after)?, before.version);
    change.aggregates = coverage_aggregates(&coverage::deltas(Some(before), after));
    store.commit(change).await
}

/// A year's coverage buckets, read in one request.
pub async fn coverage_buckets(
    store: &dyn DocumentStore,
    year: i32,
) -> StoreResult<std::collections::BTreeMap<coverage::Bucket, coverage::Sums>> {
    let items = store.aggregates(&coverage_group(year)).await?;
    Ok(items
        .into_iter()
        .filter_map(|(key, fields)| {
            let bucket = coverage::Bucket::parse(&key)?;
            let get = |f: &str| fields.get(f).copied().unwrap_or(0);
            let sums = coverage::Sums {
                count: get("count"),
                imposed_cents: get("imposed_cents"),
                refunded_cents: get("refunded_cents"),
                open_cents: get("open_cents"),
            };
            (!sums.is_zero()).then_some((bucket, sums))
        })
        .collect())
}
