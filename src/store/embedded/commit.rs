//! Group commit: one thread writes every change, and puts all the changes waiting
//! when it starts a transaction into that one transaction (at most [`MAX_GROUP`]).
//! Each change is first checked against the transaction as it stands (so against
//! the changes before it in the group), then written; a change whose check fails
//! gets its error and writes nothing. After the commit (one fsync) every written
//! change is acknowledged. Nothing is acknowledged before it is durable.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

use redb::{Database, ReadableTable, WriteTransaction};

use super::{
    AGGREGATES, DOCS, IDEMPOTENCY, INDEX, SEP, SEQUENCES, UNIQUE, doc_key, index_key, internal,
};
use crate::store::{Change, Document, IdempotencyRecord, Index, StoreError, StoreResult};

/// The most changes one transaction takes.
const MAX_GROUP: usize = 256;

struct Pending {
    change: Change,
    reply: tokio::sync::oneshot::Sender<StoreResult<()>>,
}

/// The writer thread and the way to it. Dropping it (with the last store) lets
/// the thread finish and waits for it, so the file can be opened again at once.
pub(super) struct Writer {
    queue: Option<Sender<Pending>>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    pub(super) fn start(db: Arc<Database>) -> Writer {
        let (queue, waiting) = channel();
        let thread = std::thread::Builder::new()
            .name("loket-writer".into())
            .spawn(move || write_groups(&db, &waiting))
            .expect("a writer thread");
        Writer {
            queue: Some(queue),
            thread: Some(thread),
        }
    }

    /// Writes `change`; returns once it is durable, or with why it was not written.
    pub(super) async fn commit(&self, change: Change) -> StoreResult<()> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.queue
            .as_ref()
            .ok_or_else(|| internal("the writer has stopped"))?
            .send(Pending { change, reply })
            .map_err(|_| internal("the writer has stopped"))?;
        answer
            .await
            .map_err(|_| internal("the writer stopped before answering"))?
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        drop(self.queue.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn write_groups(db: &Database, waiting: &Receiver<Pending>) {
    while let Ok(first) = waiting.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match waiting.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        write_group(db, group);
    }
}

fn write_group(db: &Database, group: Vec<Pending>) {
    let tx = match db.begin_write() {
        Ok(tx) => tx,
        Err(e) => {
            for pending in group {
                let _ = pending.reply.send(Err(internal(&e)));
            }
            return;
        }
    };
    let mut written = Vec::new();
    for pending in group {
        if let Err(e) = check(&tx, &pending.change) {
            let _ = pending.reply.send(Err(e));
            continue;
        }
        if let Err(e) = write(&tx, &pending.change) {
            // Half a change may be in the transaction: none of the group is written.
            let why = e.to_string();
            let _ = pending.reply.send(Err(e));
            for reply in written {
                let _ = send_err(reply, &why);
            }
            return; // dropping `tx` aborts it
        }
        written.push(pending.reply);
    }
    match tx.commit() {
        Ok(()) => {
            for reply in written {
                let _ = reply.send(Ok(()));
            }
        }
        Err(e) => {
            let why = e.to_string();
            for reply in written {
                let _ = send_err(reply, &why);
            }
        }
    }
}

fn send_err(reply: tokio::sync::oneshot::Sender<StoreResult<()>>, why: &str) -> Result<(), ()> {
    reply
        .send(Err(StoreError::Internal(why.to_string())))
        .map_err(|_| ())
}

fn stored(tx: &WriteTransaction, key: &str) -> StoreResult<Option<Document>> {
    let docs = tx.open_table(DOCS).map_err(internal)?;
    let found = match docs.get(key).map_err(internal)? {
        Some(bytes) => Some(serde_json::from_slice(bytes.value()).map_err(internal)?),
        None => None,
    };
    Ok(found)
}

/// Whether `change` may be written on the transaction as it stands; reads only.
/// The order of the checks decides which error a change that breaks several gets.
fn check(tx: &WriteTransaction, change: &Change) -> StoreResult<()> {
    let doc = &change.document;
    let existing = stored(tx, &doc_key(doc.collection, &doc.id))?;
    match (&existing, change.expected_version) {
        (None, None) => {}
        (Some(stored), Some(expected)) if stored.version == expected => {}
        _ => return Err(StoreError::VersionConflict),
    }
    {
        let unique = tx.open_table(UNIQUE).map_err(internal)?;
        for claim in &change.claim_unique {
            if unique.get(claim.as_str()).map_err(internal)?.is_some() {
                return Err(StoreError::UniqueTaken(claim.clone()));
            }
        }
    }
    if let Some(record) = &change.idempotency {
        let idem = tx.open_table(IDEMPOTENCY).map_err(internal)?;
        let key = format!("{}{SEP}{}", record.scope, record.key);
        if let Some(bytes) = idem.get(key.as_str()).map_err(internal)? {
            let live: IdempotencyRecord =
                serde_json::from_slice(bytes.value()).map_err(internal)?;
            if live.expires_at > record.created_at {
                return Err(StoreError::IdempotencyKeyUsed);
            }
        }
    }
    if let Some(claim) = &change.sequence {
        let seq = tx.open_table(SEQUENCES).map_err(internal)?;
        let last = seq
            .get(claim.name.as_str())
            .map_err(internal)?
            .map(|v| v.value())
            .unwrap_or(0);
        if last + 1 != claim.number {
            return Err(StoreError::SequenceTaken);
        }
    }
    for extra in &change.also_create {
        if stored(tx, &doc_key(extra.collection, &extra.id))?.is_some() {
            return Err(StoreError::Internal(format!(
                "document {} exists",
                extra.id
            )));
        }
    }
    Ok(())
}

fn index_document(
    index: &mut redb::Table<&str, &str>,
    doc: &Document,
    key: &str,
    insert: bool,
) -> StoreResult<()> {
    for i in [Index::Gsi1, Index::Gsi2] {
        if let Some(e) = doc.index(i) {
            let entry = index_key(i, &e.partition, &e.sort, &doc.id);
            if insert {
                index.insert(entry.as_str(), key).map_err(internal)?;
            } else {
                index.remove(entry.as_str()).map_err(internal)?;
            }
        }
    }
    Ok(())
}

/// Writes a checked `change` into the transaction.
fn write(tx: &WriteTransaction, change: &Change) -> StoreResult<()> {
    let doc = &change.document;
    let key = doc_key(doc.collection, &doc.id);
    let existing = stored(tx, &key)?;
    {
        let mut unique = tx.open_table(UNIQUE).map_err(internal)?;
        for claim in &change.claim_unique {
            unique.insert(claim.as_str(), 1).map_err(internal)?;
        }
        for release in &change.release_unique {
            unique.remove(release.as_str()).map_err(internal)?;
        }
    }
    if let Some(record) = &change.idempotency {
        let mut idem = tx.open_table(IDEMPOTENCY).map_err(internal)?;
        let idem_key = format!("{}{SEP}{}", record.scope, record.key);
        let bytes = serde_json::to_vec(record).map_err(internal)?;
        idem.insert(idem_key.as_str(), bytes.as_slice())
            .map_err(internal)?;
    }
    if let Some(claim) = &change.sequence {
        let mut seq = tx.open_table(SEQUENCES).map_err(internal)?;
        seq.insert(claim.name.as_str(), claim.number)
            .map_err(internal)?;
    }
    {
        let mut aggregates = tx.open_table(AGGREGATES).map_err(internal)?;
        for delta in &change.aggregates {
            let agg_key = format!("{}{SEP}{}", delta.group, delta.key);
            let mut fields: BTreeMap<String, i64> =
                match aggregates.get(agg_key.as_str()).map_err(internal)? {
                    Some(bytes) => serde_json::from_slice(bytes.value()).map_err(internal)?,
                    None => BTreeMap::new(),
                };
            for (field, amount) in &delta.add {
                *fields.entry(field.clone()).or_default() += amount;
            }
            let bytes = serde_json::to_vec(&fields).map_err(internal)?;
            aggregates
                .insert(agg_key.as_str(), bytes.as_slice())
                .map_err(internal)?;
        }
    }
    let mut index = tx.open_table(INDEX).map_err(internal)?;
    let mut docs = tx.open_table(DOCS).map_err(internal)?;
    if let Some(stored) = &existing {
        index_document(&mut index, stored, &key, false)?;
    }
    index_document(&mut index, doc, &key, true)?;
    let bytes = serde_json::to_vec(doc).map_err(internal)?;
    docs.insert(key.as_str(), bytes.as_slice())
        .map_err(internal)?;
    for extra in &change.also_create {
        let extra_key = doc_key(extra.collection, &extra.id);
        index_document(&mut index, extra, &extra_key, true)?;
        let bytes = serde_json::to_vec(extra).map_err(internal)?;
        docs.insert(extra_key.as_str(), bytes.as_slice())
            .map_err(internal)?;
    }
    Ok(())
}
