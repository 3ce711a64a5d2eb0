//! How a permit application is stored: its document, its index entries and the
//! coverage aggregates its changes move.

use chrono::{DateTime, Utc};

use crate::domain::coverage::{self, CoverageDelta};
use crate::domain::permit::Application;

use super::{
    AggregateDelta, Change, Collection, Document, DocumentStore, Index, IndexEntry, ListQuery,
    StoreError, StoreResult,
};

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
    serde_json::from_str(&doc.body)
        .map_err(|e| StoreError::Internal(format!("permit {}: {e}", doc.id)))
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
                ("voided", d.sums.voided),
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
pub async fn save_transition(
    store: &dyn DocumentStore,
    before: &Application,
    after: &Application,
) -> StoreResult<()> {
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
                voided: get("voided"),
            };
            (!sums.is_zero()).then_some((bucket, sums))
        })
        .collect())
}

/// The sort-key range (inclusive bounds) of the applications submitted in a local
/// year: from local midnight on 1 January up to, not including, the next year's.
/// `None` for a year chrono cannot represent.
pub fn year_range(year: i32) -> Option<(String, String)> {
    let start = chrono::NaiveDate::from_ymd_opt(year, 1, 1)?;
    let end = chrono::NaiveDate::from_ymd_opt(year.checked_add(1)?, 1, 1)?;
    // Sort keys are `{time}#{id}`: every key of the next year's first moment sorts
    // after the bare time, so the inclusive upper bound excludes it.
    Some((
        sortable_time(crate::domain::time::start_of_day(start)),
        sortable_time(crate::domain::time::start_of_day(end)),
    ))
}

/// Every application submitted in a local year, oldest first: a Query on the
/// submission index, page by page (no Scan).
pub async fn submitted_in(store: &dyn DocumentStore, year: i32) -> StoreResult<Vec<Application>> {
    let Some((from, to)) = year_range(year) else {
        return Ok(Vec::new());
    };
    let mut query = ListQuery {
        collection: Collection::Permit,
        index: Index::Gsi1,
        partition: ALL_PERMITS.into(),
        sort_from: Some(from),
        sort_to: Some(to),
        after: None,
        limit: 100,
    };
    let mut apps = Vec::new();
    loop {
        let page = store.list(&query, &|_| true).await?;
        for doc in &page.items {
            apps.push(permit_from(doc)?);
        }
        match page.next {
            Some(next) => query.after = Some(next),
            None => return Ok(apps),
        }
    }
}
