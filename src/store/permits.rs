//! The permit applications' repository: how an application is stored (its document,
//! its index entries, its reference number) and the coverage aggregates its changes
//! move.
//!
//! | what | key |
//! |---|---|
//! | every application, by submission (gsi1) | `permits`, sorted `{submitted_at}#{id}` |
//! | per status (gsi2) | `permits#{status}`, same sort |
//! | reference sequence | `EV-{year}` → `EV-2017-0001` |
//! | coverage | group `coverage#{year}`, one item per bucket (category × year) |

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::domain::coverage::{self, CoverageDelta};
use crate::domain::formats::{Reference, Register};
use crate::domain::outbox::OutboxMessage;
use crate::domain::permit::{Application, PermitStatus};

use super::outbox::outbox_documents;
use super::repository::{Creation, Listing, every_page, find_by_reference, lookup_document};
use super::schema::{self, permit::SCHEMA};
use super::{
    AggregateDelta, Change, Collection, Document, DocumentStore, Index, IndexEntry, ListQuery,
    Position, SequenceClaim, StoreError, StoreResult,
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
        body: SCHEMA.write(app).map_err(|e| schema::stored(&app.id, e))?,
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

/// A stored application of any schema version, upgraded (`schema/permit.rs`).
pub fn permit_from(doc: &Document) -> StoreResult<Application> {
    SCHEMA
        .read(&doc.body)
        .map_err(|e| schema::stored(&doc.id, e))
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

/// Which applications a staff listing shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PermitSelection {
    pub status: Option<PermitStatus>,
    /// Submitted in this local year.
    pub year: Option<i32>,
    pub late: Option<bool>,
}

/// `deadline.late` of a stored application, read without the rest of it.
fn is_late(doc: &Document) -> Option<bool> {
    #[derive(Deserialize)]
    struct Partial {
        deadline: PartialDeadline,
    }
    #[derive(Deserialize)]
    struct PartialDeadline {
        late: bool,
    }
    SCHEMA
        .read::<Partial>(&doc.body)
        .ok()
        .map(|p| p.deadline.late)
}

/// The name of a year's reference sequence.
pub fn sequence_name(year: i32) -> String {
    format!("EV-{year}")
}

/// The claim of `reference`'s number in its series, made by the change that creates
/// what carries it.
pub(super) fn number_claim(reference: &Reference) -> StoreResult<SequenceClaim> {
    let (series, number) = reference
        .series_and_number()
        .ok_or_else(|| StoreError::Internal(format!("not a numbered reference: {reference}")))?;
    Ok(SequenceClaim {
        name: series.to_string(),
        number,
    })
}

/// Permit applications, in domain types.
pub struct Permits<'a> {
    engine: &'a dyn DocumentStore,
}

impl<'a> Permits<'a> {
    pub fn new(engine: &'a dyn DocumentStore) -> Permits<'a> {
        Permits { engine }
    }

    pub async fn get(&self, id: &str) -> StoreResult<Option<Application>> {
        match self.engine.get(Collection::Permit, id).await? {
            Some(doc) => permit_from(&doc).map(Some),
            None => Ok(None),
        }
    }

    /// The reference the next application submitted in `year` gets, unless another
    /// creation claims it first (then [`StoreError::SequenceTaken`] on commit).
    pub async fn next_reference(&self, year: i32) -> StoreResult<Reference> {
        let last = self.engine.last_sequence(&sequence_name(year)).await?;
        Ok(Reference::new(Register::Permits, year, last + 1))
    }

    /// A new application with the coverage it adds and its reference number claimed.
    pub fn create(&self, app: &Application) -> StoreResult<Creation> {
        let mut change = Change::create(permit_document(app)?);
        change.aggregates = coverage_aggregates(&coverage::deltas(None, app));
        change.sequence = Some(number_claim(&app.reference)?);
        change
            .also_create
            .push(lookup_document(&app.reference, &app.id)?);
        Ok(Creation::new(change))
    }

    /// The application with this reference (`EV-2017-0001`), if there is one.
    pub async fn by_reference(&self, reference: &Reference) -> StoreResult<Option<Application>> {
        match find_by_reference(self.engine, reference).await? {
            Some(id) => self.get(&id).await,
            None => Ok(None),
        }
    }

    /// Gives the application a new private token (`after` carries its hash), and
    /// sends the link in the same change. Nothing else moves.
    pub async fn renew_token(
        &self,
        before: &Application,
        after: &Application,
        messages: &[OutboxMessage],
    ) -> StoreResult<()> {
        let mut change = Change::update(permit_document(after)?, before.version);
        change.also_create = outbox_documents(messages)?;
        self.engine.commit(change).await
    }

    /// Writes `after` over `before` (conditional on `before`'s version) with the
    /// coverage it moves and the messages it causes, in one atomic change.
    pub async fn transition(
        &self,
        before: &Application,
        after: &Application,
        messages: &[OutboxMessage],
    ) -> StoreResult<()> {
        let mut change = Change::update(permit_document(after)?, before.version);
        change.aggregates = coverage_aggregates(&coverage::deltas(Some(before), after));
        change.also_create = outbox_documents(messages)?;
        self.engine.commit(change).await
    }

    /// One page of the applications `selection` picks, oldest submission first: all
    /// of them (gsi1) or one status (gsi2); the year is a range on the key, `late` a
    /// filter.
    pub async fn list(
        &self,
        selection: PermitSelection,
        after: Option<Position>,
        limit: usize,
    ) -> StoreResult<Listing<Application>> {
        let range = match selection.year {
            // Every year 1970–2099 has a range; this is a bug, not the caller's.
            Some(y) => Some(
                year_range(y)
                    .ok_or_else(|| StoreError::Internal(format!("no key range for {y}")))?,
            ),
            None => None,
        };
        let (index, partition) = match selection.status {
            Some(s) => (Index::Gsi2, status_partition(s.as_str())),
            None => (Index::Gsi1, ALL_PERMITS.to_string()),
        };
        let (sort_from, sort_to) = range.unzip();
        let query = ListQuery {
            collection: Collection::Permit,
            index,
            partition,
            sort_from,
            sort_to,
            after,
            limit,
        };
        let late = selection.late;
        let filter = move |doc: &Document| late.is_none_or(|late| is_late(doc) == Some(late));
        let page = self.engine.list(&query, &filter).await?;
        Ok(Listing {
            items: page
                .items
                .iter()
                .map(permit_from)
                .collect::<Result<_, _>>()?,
            next: page.next,
        })
    }

    /// Every application submitted in a local year, oldest first: a Query on the
    /// submission index, page by page (no Scan).
    pub async fn list_all(&self, year: i32) -> StoreResult<Vec<Application>> {
        let selection = PermitSelection {
            year: Some(year),
            ..PermitSelection::default()
        };
        self.select_all(selection).await
    }

    /// Every application `selection` picks, oldest submission first, page by page.
    pub async fn select_all(&self, selection: PermitSelection) -> StoreResult<Vec<Application>> {
        every_page(|after| self.list(selection, after, 100)).await
    }

    /// A year's coverage buckets, read in one request.
    pub async fn coverage(
        &self,
        year: i32,
    ) -> StoreResult<BTreeMap<coverage::Bucket, coverage::Sums>> {
        let items = self.engine.aggregates(&coverage_group(year)).await?;
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
}
