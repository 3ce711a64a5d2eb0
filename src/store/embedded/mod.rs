//! The embedded store: one redb file under `LOKET_DATA_DIR`. Changes are written by
//! one writer thread (`commit.rs`), which puts every change waiting at that moment
//! into one redb write transaction: group commit, one fsync for many. A change is
//! acknowledged only after the transaction holding it is durable (redb's immediate
//! durability), so an acknowledged write survives a crash; a change that fails its
//! conditions writes nothing, and the others in its group go on. One writer makes
//! every condition check and counter here race-free without further locking.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use redb::{Database, ReadableTableMetadata, TableDefinition};

use super::{
    Change, Collection, Document, DocumentStore, Filter, IdempotencyRecord, Index, ListQuery, Page,
    Position, StoreError, StoreResult,
};

const DOCS: TableDefinition<&str, &[u8]> = TableDefinition::new("docs");
/// `{index}\x01{partition}\x01{sort}\x01{id}` → document key.
const INDEX: TableDefinition<&str, &str> = TableDefinition::new("index");
const SEQUENCES: TableDefinition<&str, u64> = TableDefinition::new("sequences");
/// `{group}\x01{key}` → JSON map of field sums.
const AGGREGATES: TableDefinition<&str, &[u8]> = TableDefinition::new("aggregates");
const UNIQUE: TableDefinition<&str, u8> = TableDefinition::new("unique");
/// `{scope}\x01{key}` → JSON record.
const IDEMPOTENCY: TableDefinition<&str, &[u8]> = TableDefinition::new("idempotency");

const SEP: char = '\u{1}';

mod commit;

#[derive(Clone)]
pub struct EmbeddedStore {
    db: Arc<Database>,
    writer: Arc<commit::Writer>,
}

impl std::fmt::Debug for EmbeddedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EmbeddedStore")
    }
}

fn internal(e: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(e.to_string())
}

fn doc_key(collection: Collection, id: &str) -> String {
    format!("{}/{id}", collection.as_str())
}

fn index_name(index: Index) -> &'static str {
    match index {
        Index::Gsi1 => "gsi1",
        Index::Gsi2 => "gsi2",
    }
}

fn index_prefix(index: Index, partition: &str) -> String {
    format!("{}{SEP}{partition}{SEP}", index_name(index))
}

fn index_key(index: Index, partition: &str, sort: &str, id: &str) -> String {
    format!("{}{sort}{SEP}{id}", index_prefix(index, partition))
}

/// The data folder (0700) and the database file (0600) belong to the service's user
/// alone: the file holds personal data. Created so, and tightened if found looser.
fn private_files(dir: &Path, file: &Path) -> StoreResult<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(internal)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(internal)?;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(file)
        .map_err(internal)?;
    std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600)).map_err(internal)
}

impl EmbeddedStore {
    /// Opens (or creates) `loket.redb` in `dir`.
    pub fn open(dir: &Path) -> StoreResult<EmbeddedStore> {
        let file = dir.join("loket.redb");
        private_files(dir, &file)?;
        let db = Database::create(&file).map_err(internal)?;
        // Create every table once, so that readers never meet a missing one; a file
        // that has them all needs no write (and no fsync) to open.
        let complete = {
            let tx = db.begin_read().map_err(internal)?;
            tx.open_table(DOCS).is_ok()
                && tx.open_table(INDEX).is_ok()
                && tx.open_table(SEQUENCES).is_ok()
                && tx.open_table(AGGREGATES).is_ok()
                && tx.open_table(UNIQUE).is_ok()
                && tx.open_table(IDEMPOTENCY).is_ok()
        };
        if !complete {
            let tx = db.begin_write().map_err(internal)?;
            tx.open_table(DOCS).map_err(internal)?;
            tx.open_table(INDEX).map_err(internal)?;
            tx.open_table(SEQUENCES).map_err(internal)?;
            tx.open_table(AGGREGATES).map_err(internal)?;
            tx.open_table(UNIQUE).map_err(internal)?;
            tx.open_table(IDEMPOTENCY).map_err(internal)?;
            tx.commit().map_err(internal)?;
        }
        let db = Arc::new(db);
        Ok(EmbeddedStore {
            writer: Arc::new(commit::Writer::start(db.clone())),
            db,
        })
    }

    /// Runs blocking redb work off the async runtime.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Database) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || work(&db))
            .await
            .map_err(internal)?
    }
}

fn list_page(db: &Database, query: &ListQuery, filter: Filter<'_>) -> StoreResult<Page> {
    let tx = db.begin_read().map_err(internal)?;
    let index = tx.open_table(INDEX).map_err(internal)?;
    let docs = tx.open_table(DOCS).map_err(internal)?;
    let prefix = index_prefix(query.index, &query.partition);
    let mut start = match &query.sort_from {
        Some(from) => format!("{prefix}{from}"),
        None => prefix.clone(),
    };
    if let Some(after) = &query.after {
        // Strictly after the last item: its key followed by the smallest suffix.
        let after_key = format!(
            "{}\u{0}",
            index_key(query.index, &query.partition, &after.sort, &after.id)
        );
        if after_key > start {
            start = after_key;
        }
    }
    let mut items: Vec<Document> = Vec::new();
    let mut next = None;
    for entry in index.range(start.as_str()..).map_err(internal)? {
        let (k, v) = entry.map_err(internal)?;
        let Some(rest) = k.value().strip_prefix(prefix.as_str()) else {
            break;
        };
        let sort = rest.rsplit_once(SEP).map(|(s, _)| s).unwrap_or(rest);
        if let Some(to) = &query.sort_to
            && sort > to.as_str()
        {
            break;
        }
        let Some(bytes) = docs.get(v.value()).map_err(internal)? else {
            continue;
        };
        let doc: Document = serde_json::from_slice(bytes.value()).map_err(internal)?;
        if doc.collection != query.collection || !filter(&doc) {
            continue;
        }
        if items.len() >= query.limit {
            // A limit of 0 asks for nothing: no page, no cursor.
            let Some(last) = items.last() else { break };
            let sort = last
                .index(query.index)
                .map(|e| e.sort.clone())
                .unwrap_or_default();
            next = Some(Position {
                sort,
                id: last.id.clone(),
            });
            break;
        }
        items.push(doc);
    }
    Ok(Page { items, next })
}

#[async_trait]
impl DocumentStore for EmbeddedStore {
    async fn commit(&self, change: Change) -> StoreResult<()> {
        self.writer.commit(change).await
    }

    async fn get(&self, collection: Collection, id: &str) -> StoreResult<Option<Document>> {
        let key = doc_key(collection, id);
        self.blocking(move |db| {
            let tx = db.begin_read().map_err(internal)?;
            let docs = tx.open_table(DOCS).map_err(internal)?;
            match docs.get(key.as_str()).map_err(internal)? {
                Some(bytes) => Ok(Some(
                    serde_json::from_slice(bytes.value()).map_err(internal)?,
                )),
                None => Ok(None),
            }
        })
        .await
    }

    async fn list(&self, query: &ListQuery, filter: Filter<'_>) -> StoreResult<Page> {
        // The filter borrows from the caller, so this read runs in place: redb reads
        // are short and never wait for a writer (MVCC).
        list_page(&self.db, query, filter)
    }

    async fn last_sequence(&self, name: &str) -> StoreResult<u64> {
        let name = name.to_string();
        self.blocking(move |db| {
            let tx = db.begin_read().map_err(internal)?;
            let seq = tx.open_table(SEQUENCES).map_err(internal)?;
            Ok(seq
                .get(name.as_str())
                .map_err(internal)?
                .map(|v| v.value())
                .unwrap_or(0))
        })
        .await
    }

    async fn aggregates(
        &self,
        group: &str,
    ) -> StoreResult<BTreeMap<String, BTreeMap<String, i64>>> {
        let prefix = format!("{group}{SEP}");
        self.blocking(move |db| {
            let tx = db.begin_read().map_err(internal)?;
            let table = tx.open_table(AGGREGATES).map_err(internal)?;
            let mut out = BTreeMap::new();
            for entry in table.range(prefix.as_str()..).map_err(internal)? {
                let (k, v) = entry.map_err(internal)?;
                let Some(key) = k.value().strip_prefix(prefix.as_str()) else {
                    break;
                };
                let fields: BTreeMap<String, i64> =
                    serde_json::from_slice(v.value()).map_err(internal)?;
                out.insert(key.to_string(), fields);
            }
            Ok(out)
        })
        .await
    }

    async fn idempotency(
        &self,
        scope: &str,
        key: &str,
        now: i64,
    ) -> StoreResult<Option<IdempotencyRecord>> {
        let idem_key = format!("{scope}{SEP}{key}");
        self.blocking(move |db| {
            let tx = db.begin_read().map_err(internal)?;
            let table = tx.open_table(IDEMPOTENCY).map_err(internal)?;
            let Some(bytes) = table.get(idem_key.as_str()).map_err(internal)? else {
                return Ok(None);
            };
            let record: IdempotencyRecord =
                serde_json::from_slice(bytes.value()).map_err(internal)?;
            Ok((record.expires_at > now).then_some(record))
        })
        .await
    }

    async fn purge_idempotency(&self, now: i64) -> StoreResult<u64> {
        self.blocking(move |db| {
            let tx = db.begin_write().map_err(internal)?;
            let removed = {
                let mut table = tx.open_table(IDEMPOTENCY).map_err(internal)?;
                let before = table.len().map_err(internal)?;
                table
                    .retain(|_, v| {
                        serde_json::from_slice::<IdempotencyRecord>(v)
                            .map(|r| r.expires_at > now)
                            .unwrap_or(false)
                    })
                    .map_err(internal)?;
                before - table.len().map_err(internal)?
            };
            if removed == 0 {
                // Nothing changed: no commit, no fsync (the start-up purge, mostly).
                tx.abort().map_err(internal)?;
            } else {
                tx.commit().map_err(internal)?;
            }
            Ok(removed)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_folder_and_file_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("data");
        // A folder left readable by an older version is tightened too.
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let _store = EmbeddedStore::open(&dir).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("loket.redb")), 0o600);
    }
}
