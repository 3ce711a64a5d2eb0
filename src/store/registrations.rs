//! How a Week van Respect registration is stored: its document, its index entries,
//! the unique claim that refuses a duplicate, the summary aggregates its changes
//! move, and the erasure of contact data.
//!
//! | what | key |
//! |---|---|
//! | every registration of an edition (gsi1) | `wvr#{year}`, sorted `{date}#{HH:MM}#{id}` |
//! | per status (gsi2) | `wvr#{year}#{status}`, same sort: the programme is `…#published` |
//! | duplicate claim | `wvr-dup#{year}#{date}#{HH:MM}#{sha256(org, title)}`, held while registered or published |
//! | reference sequence | `WVR-{year}` → `WVR-2027-0001` |
//! | summary | group `wvr-summary#{year}`, one item per organisation type |

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::domain::formats::{Reference, Register};
use crate::domain::outbox::OutboxMessage;
use crate::domain::place::Kern;
use crate::domain::respect_week::{
    self, DuplicateKey, Edition, Editions, OrganisationType, Registration, RegistrationStatus,
    TypeSums,
};

use super::outbox::outbox_documents;
use super::permits::number_claim;
use super::repository::{Creation, Listing, every_page, retry_on_conflict};
use super::repository::{find_by_reference, lookup_document};
use super::schema::{self, registration::SCHEMA};
use super::{
    AggregateDelta, Change, Collection, Document, DocumentStore, Index, IndexEntry, ListQuery,
    Position, StoreResult,
};

/// Every registration of an edition, by date and start (gsi1).
pub fn edition_partition(year: i32) -> String {
    format!("wvr#{year}")
}

/// The registrations of an edition in one status, by date and start (gsi2).
pub fn status_partition(year: i32, status: RegistrationStatus) -> String {
    format!("wvr#{year}#{}", status.as_str())
}

/// `{date}#{HH:MM}#{id}`: string order is programme order.
pub fn programme_sort(reg: &Registration) -> String {
    format!(
        "{}#{}#{}",
        reg.activity.date.format("%Y-%m-%d"),
        reg.activity.starts_at.format("%H:%M"),
        reg.id
    )
}

/// The inclusive sort-key bounds of one day of the programme.
pub fn day_range(date: NaiveDate) -> (String, String) {
    let day = date.format("%Y-%m-%d");
    // `~` sorts after every character of a time and an id.
    (format!("{day}#"), format!("{day}#~"))
}

/// The name of an edition's reference sequence.
pub fn sequence_name(year: i32) -> String {
    format!("WVR-{year}")
}

/// `WVR-2027-0001`.
pub fn reference(year: i32, number: u64) -> Reference {
    Reference::new(Register::RespectWeek, year, number)
}

/// The unique claim of "this organisation, this title, this day, this start time" in
/// an edition: it is taken in the same atomic write as the registration, on either
/// store, so two concurrent registrations of one activity cannot both succeed. The
/// normalised name and title are hashed: a separator inside a name cannot make two
/// different pairs collide, and the key stays short whatever the names' length.
pub fn duplicate_claim(key: &DuplicateKey) -> String {
    let mut hash = Sha256::new();
    hash.update(key.organisation.as_bytes());
    hash.update([0u8]);
    hash.update(key.title.as_bytes());
    format!(
        "wvr-dup#{}#{}#{}#{}",
        key.year,
        key.date.format("%Y-%m-%d"),
        key.starts_at.format("%H:%M"),
        hex::encode(hash.finalize())
    )
}

pub fn registration_document(reg: &Registration) -> StoreResult<Document> {
    let sort = programme_sort(reg);
    Ok(Document {
        collection: Collection::Registration,
        id: reg.id.clone(),
        version: reg.version,
        body: SCHEMA.write(reg).map_err(|e| schema::stored(&reg.id, e))?,
        gsi1: Some(IndexEntry {
            partition: edition_partition(reg.year),
            sort: sort.clone(),
        }),
        gsi2: Some(IndexEntry {
            partition: status_partition(reg.year, reg.status),
            sort,
        }),
    })
}

/// A stored registration of any schema version, upgraded (`schema/registration.rs`).
pub fn registration_from(doc: &Document) -> StoreResult<Registration> {
    SCHEMA
        .read(&doc.body)
        .map_err(|e| schema::stored(&doc.id, e))
}

/// The aggregate group of an edition's summary.
pub fn summary_group(year: i32) -> String {
    format!("wvr-summary#{year}")
}

pub fn summary_aggregates(
    before: Option<&Registration>,
    after: &Registration,
) -> Vec<AggregateDelta> {
    respect_week::summary_deltas(before, after)
        .into_iter()
        .map(|(kind, sums)| AggregateDelta {
            group: summary_group(after.year),
            key: kind.as_str().to_string(),
            add: sums
                .fields()
                .into_iter()
                .filter(|(_, v)| *v != 0)
                .map(|(f, v)| (f.to_string(), v))
                .collect(),
        })
        .collect()
}

/// The creation of a registration: the document, its duplicate claim and its
/// summary counts, all or nothing. (The caller adds the idempotency record.)
pub fn registration_created(reg: &Registration) -> StoreResult<Change> {
    let mut change = Change::create(registration_document(reg)?);
    change.aggregates = summary_aggregates(None, reg);
    if reg.status.blocks_duplicates() {
        change
            .claim_unique
            .push(duplicate_claim(&reg.duplicate_key()));
    }
    Ok(change)
}

/// `after` over `before`, conditional on `before`'s version, with the summary it
/// moves; a registration that stops (or starts) blocking duplicates gives back (or
/// takes) its claim in the same change.
pub fn registration_changed(before: &Registration, after: &Registration) -> StoreResult<Change> {
    let mut change = Change::update(registration_document(after)?, before.version);
    change.aggregates = summary_aggregates(Some(before), after);
    match (
        before.status.blocks_duplicates(),
        after.status.blocks_duplicates(),
    ) {
        (true, false) => change
            .release_unique
            .push(duplicate_claim(&before.duplicate_key())),
        (false, true) => change
            .claim_unique
            .push(duplicate_claim(&after.duplicate_key())),
        _ => {}
    }
    Ok(change)
}

/// Which published activities the programme shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProgrammeSelection {
    pub date: Option<NaiveDate>,
    pub organisation_type: Option<OrganisationType>,
    pub kern: Option<Kern>,
}

/// The organisation type and kern of a stored registration, read without the rest.
fn type_and_kern(doc: &Document) -> Option<(OrganisationType, Kern)> {
    #[derive(Deserialize)]
    struct Partial {
        organisation: PartialOrganisation,
        activity: PartialActivity,
    }
    #[derive(Deserialize)]
    struct PartialOrganisation {
        #[serde(rename = "type")]
        kind: OrganisationType,
    }
    #[derive(Deserialize)]
    struct PartialActivity {
        kern: Kern,
    }
    SCHEMA
        .read::<Partial>(&doc.body)
        .ok()
        .map(|p| (p.organisation.kind, p.activity.kern))
}

/// Whether a stored registration still holds contact data, read without the rest.
fn has_contact(doc: &Document) -> bool {
    #[derive(Deserialize)]
    struct Partial {
        contact: Option<serde::de::IgnoredAny>,
    }
    SCHEMA
        .read::<Partial>(&doc.body)
        .is_ok_and(|p| p.contact.is_some())
}

/// Page size of the listings that read a whole edition.
const WHOLE_EDITION_PAGE: usize = 100;

/// Week van Respect registrations, in domain types.
pub struct Registrations<'a> {
    engine: &'a dyn DocumentStore,
    writes: &'a AtomicU64,
}

impl<'a> Registrations<'a> {
    pub fn new(engine: &'a dyn DocumentStore, writes: &'a AtomicU64) -> Registrations<'a> {
        Registrations { engine, writes }
    }

    /// Commits a change to a registration, and counts it.
    async fn write(&self, change: Change) -> StoreResult<()> {
        self.engine.commit(change).await?;
        self.writes.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    pub async fn get(&self, id: &str) -> StoreResult<Option<Registration>> {
        match self.engine.get(Collection::Registration, id).await? {
            Some(doc) => registration_from(&doc).map(Some),
            None => Ok(None),
        }
    }

    /// The reference the next registration of an edition gets, unless another
    /// creation claims it first (then [`super::StoreError::SequenceTaken`] on commit).
    pub async fn next_reference(&self, year: i32) -> StoreResult<Reference> {
        let last = self.engine.last_sequence(&sequence_name(year)).await?;
        Ok(reference(year, last + 1))
    }

    /// A new registration with its duplicate claim, its summary counts and its
    /// reference number.
    pub fn create(&self, reg: &Registration) -> StoreResult<Creation> {
        let mut change = registration_created(reg)?;
        change.sequence = Some(number_claim(&reg.reference)?);
        change
            .also_create
            .push(lookup_document(&reg.reference, &reg.id)?);
        Ok(Creation::new(change))
    }

    /// The registration with this reference (`WVR-2017-0001`), if there is one.
    pub async fn by_reference(&self, reference: &Reference) -> StoreResult<Option<Registration>> {
        match find_by_reference(self.engine, reference).await? {
            Some(id) => self.get(&id).await,
            None => Ok(None),
        }
    }

    /// Gives the registration a new private token (`after` carries its hash), and
    /// sends the link in the same change.
    pub async fn renew_token(
        &self,
        before: &Registration,
        after: &Registration,
        messages: &[OutboxMessage],
    ) -> StoreResult<()> {
        let mut change = Change::update(registration_document(after)?, before.version);
        change.also_create = outbox_documents(messages)?;
        self.write(change).await
    }

    /// Writes `after` over `before` (conditional on its version) with the summary it
    /// moves and the messages it causes, in one atomic change.
    pub async fn transition(
        &self,
        before: &Registration,
        after: &Registration,
        messages: &[OutboxMessage],
    ) -> StoreResult<()> {
        let mut change = registration_changed(before, after)?;
        change.also_create = outbox_documents(messages)?;
        self.write(change).await
    }

    /// One page of an edition's registrations (all, or one status), by date and start.
    pub async fn list(
        &self,
        year: i32,
        status: Option<RegistrationStatus>,
        after: Option<Position>,
        limit: usize,
    ) -> StoreResult<Listing<Registration>> {
        let (index, partition) = match status {
            Some(s) => (Index::Gsi2, status_partition(year, s)),
            None => (Index::Gsi1, edition_partition(year)),
        };
        let query = ListQuery {
            collection: Collection::Registration,
            index,
            partition,
            sort_from: None,
            sort_to: None,
            after,
            limit,
        };
        self.page(&query, &|_| true).await
    }

    /// Every registration of an edition (for checks and tools, not for requests).
    pub async fn list_all(&self, year: i32) -> StoreResult<Vec<Registration>> {
        every_page(|after| self.list(year, None, after, WHOLE_EDITION_PAGE)).await
    }

    /// One page of an edition's published activities that `selection` picks, by date
    /// and start time: a day is a range on the key, type and kern are filters.
    pub async fn programme(
        &self,
        year: i32,
        selection: ProgrammeSelection,
        after: Option<Position>,
        limit: usize,
    ) -> StoreResult<Listing<Registration>> {
        let (sort_from, sort_to) = selection.date.map(day_range).unzip();
        let query = ListQuery {
            collection: Collection::Registration,
            index: Index::Gsi2,
            partition: status_partition(year, RegistrationStatus::Published),
            sort_from,
            sort_to,
            after,
            limit,
        };
        let ProgrammeSelection {
            organisation_type: want_type,
            kern: want_kern,
            ..
        } = selection;
        let filter = move |doc: &Document| {
            if want_type.is_none() && want_kern.is_none() {
                return true;
            }
            type_and_kern(doc).is_some_and(|(t, k)| {
                want_type.is_none_or(|w| w == t) && want_kern.as_ref().is_none_or(|w| *w == k)
            })
        };
        self.page(&query, &filter).await
    }

    /// Every published activity of an edition, by date and start time.
    pub async fn programme_all(&self, year: i32) -> StoreResult<Vec<Registration>> {
        self.programme_selected(year, ProgrammeSelection::default())
            .await
    }

    /// Every published activity of an edition that `selection` picks.
    pub async fn programme_selected(
        &self,
        year: i32,
        selection: ProgrammeSelection,
    ) -> StoreResult<Vec<Registration>> {
        every_page(|after| self.programme(year, selection.clone(), after, WHOLE_EDITION_PAGE)).await
    }

    /// An edition's summary buckets (organisation type → field → sum), in one read.
    pub async fn summary(&self, year: i32) -> StoreResult<BTreeMap<OrganisationType, TypeSums>> {
        Ok(self
            .engine
            .aggregates(&summary_group(year))
            .await?
            .into_iter()
            .filter_map(|(key, fields)| {
                let kind = OrganisationType::parse(&key)?;
                let sums = TypeSums::from_fields(|f| fields.get(f).copied().unwrap_or(0));
                Some((kind, sums))
            })
            .collect())
    }

    /// Erases the contact data of every registration whose edition's erasure moment
    /// (docs/domain.md "Week van Respect") lies at or before `now`, one conditional write per registration;
    /// returns how many were erased. Safe to run at any time and as often as wanted.
    pub async fn erase_due_contacts(
        &self,
        editions: &Editions,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let mut erased = 0;
        for edition in editions.iter().filter(|e| e.erasure_due(now)) {
            let mut after: Option<Position> = None;
            loop {
                let query = ListQuery {
                    collection: Collection::Registration,
                    index: Index::Gsi1,
                    partition: edition_partition(edition.year),
                    sort_from: None,
                    sort_to: None,
                    after: after.take(),
                    limit: WHOLE_EDITION_PAGE,
                };
                let page = self.page(&query, &has_contact).await?;
                for reg in &page.items {
                    if self.erase_one(edition, &reg.id, now).await? {
                        erased += 1;
                    }
                }
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
        }
        Ok(erased)
    }

    /// Erases one registration's contact data, reading it again after a concurrent
    /// change; `false` when there was nothing (left) to erase.
    async fn erase_one(
        &self,
        edition: &Edition,
        id: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        retry_on_conflict(|| async {
            let Some(reg) = self.get(id).await? else {
                return Ok(false);
            };
            let Some(next) = reg.erase_contact(edition, now) else {
                return Ok(false);
            };
            self.transition(&reg, &next, &[]).await?;
            tracing::info!(reference = %next.reference, "contact data erased");
            Ok(true)
        })
        .await
    }

    async fn page(
        &self,
        query: &ListQuery,
        filter: super::Filter<'_>,
    ) -> StoreResult<Listing<Registration>> {
        let page = self.engine.list(query, filter).await?;
        Ok(Listing {
            items: page
                .items
                .iter()
                .map(registration_from)
                .collect::<Result<_, _>>()?,
            next: page.next,
        })
    }
}

#[cfg(test)]
mod tests;
