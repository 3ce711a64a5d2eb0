//! Item mapping: how a document, an idempotency record and the key of any item are
//! written as DynamoDB attribute maps, and read back.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::table::{GSI1, GSI2, IndexDefinition, PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE};
use crate::store::{Collection, Document, IdempotencyRecord, IndexEntry, StoreError, StoreResult};

// Non-key attributes.
pub(super) const VERSION: &str = "version";
const BODY: &str = "body";
const COLLECTION: &str = "collection";
const ID: &str = "id";
pub(super) const SEQUENCE_VALUE: &str = "value";
pub(super) const CLAIM_OWNER: &str = "owner";

// Sort key values of single-item partitions.
pub(super) const DOC_SK: &str = "doc";
pub(super) const SEQ_SK: &str = "seq";
pub(super) const UNIQ_SK: &str = "uniq";
pub(super) const IDEM_SK: &str = "idem";

pub(super) type Item = HashMap<String, AttributeValue>;

pub(super) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(super) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(super) fn item_key(pk: String, sk: &str) -> Item {
    HashMap::from([
        (PARTITION_KEY.to_string(), s(pk)),
        (SORT_KEY.to_string(), s(sk)),
    ])
}

pub(super) fn doc_pk(collection: Collection, id: &str) -> String {
    format!("{}#{id}", collection.as_str())
}

pub(super) fn document_item(doc: &Document) -> Item {
    let mut item = item_key(doc_pk(doc.collection, &doc.id), DOC_SK);
    item.insert(COLLECTION.into(), s(doc.collection.as_str()));
    item.insert(ID.into(), s(&doc.id));
    item.insert(VERSION.into(), n(doc.version));
    item.insert(BODY.into(), s(&doc.body));
    for (def, entry) in [(GSI1, &doc.gsi1), (GSI2, &doc.gsi2)] {
        // A missing entry leaves the attributes out, so the item is not in that index.
        if let Some(entry) = entry {
            item.insert(def.partition_key.into(), s(&entry.partition));
            item.insert(def.sort_key.into(), s(&entry.sort));
        }
    }
    item
}

pub(super) fn idempotency_item(record: &IdempotencyRecord) -> Item {
    let mut item = item_key(format!("idem#{}#{}", record.scope, record.key), IDEM_SK);
    item.insert("scope".into(), s(&record.scope));
    item.insert("key".into(), s(&record.key));
    item.insert("body_hash".into(), s(&record.body_hash));
    item.insert("status".into(), n(record.status));
    if let Some(location) = &record.location {
        item.insert("location".into(), s(location));
    }
    item.insert("response_body".into(), s(&record.response_body));
    item.insert("created_at".into(), n(record.created_at));
    item.insert(TTL_ATTRIBUTE.into(), n(record.expires_at));
    item
}

pub(super) fn get_s<'a>(item: &'a Item, name: &str) -> StoreResult<&'a str> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Ok(v),
        _ => Err(StoreError::Internal(format!(
            "stored item lacks string attribute {name}"
        ))),
    }
}

pub(super) fn get_n<T: std::str::FromStr>(item: &Item, name: &str) -> StoreResult<T> {
    match item.get(name) {
        Some(AttributeValue::N(v)) => v
            .parse()
            .map_err(|_| StoreError::Internal(format!("stored attribute {name} is out of range"))),
        _ => Err(StoreError::Internal(format!(
            "stored item lacks numeric attribute {name}"
        ))),
    }
}

fn parse_collection(value: &str) -> StoreResult<Collection> {
    // Collection's serde names are its `as_str` names; serde keeps this exhaustive.
    serde_json::from_value(serde_json::Value::String(value.to_string()))
        .map_err(|_| StoreError::Internal(format!("unknown collection {value:?}")))
}

pub(super) fn parse_document(item: &Item) -> StoreResult<Document> {
    let entry = |def: IndexDefinition| -> StoreResult<Option<IndexEntry>> {
        if !item.contains_key(def.partition_key) {
            return Ok(None);
        }
        Ok(Some(IndexEntry {
            partition: get_s(item, def.partition_key)?.to_string(),
            sort: get_s(item, def.sort_key)?.to_string(),
        }))
    };
    Ok(Document {
        collection: parse_collection(get_s(item, COLLECTION)?)?,
        id: get_s(item, ID)?.to_string(),
        version: get_n(item, VERSION)?,
        body: get_s(item, BODY)?.to_string(),
        gsi1: entry(GSI1)?,
        gsi2: entry(GSI2)?,
    })
}

pub(super) fn parse_idempotency(item: &Item) -> StoreResult<IdempotencyRecord> {
    Ok(IdempotencyRecord {
        scope: get_s(item, "scope")?.to_string(),
        key: get_s(item, "key")?.to_string(),
        body_hash: get_s(item, "body_hash")?.to_string(),
        status: get_n(item, "status")?,
        location: match item.get("location") {
            Some(_) => Some(get_s(item, "location")?.to_string()),
            None => None,
        },
        response_body: get_s(item, "response_body")?.to_string(),
        created_at: get_n(item, "created_at")?,
        expires_at: get_n(item, TTL_ATTRIBUTE)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_round_trip_through_items() {
        let doc = Document {
            collection: Collection::Registration,
            id: "r1".into(),
            version: 3,
            body: "{\"a\":1}".into(),
            gsi1: None,
            gsi2: Some(IndexEntry {
                partition: "p".into(),
                sort: "s#r1".into(),
            }),
        };
        let item = document_item(&doc);
        assert!(!item.contains_key(GSI1.partition_key));
        assert_eq!(parse_document(&item).unwrap(), doc);
    }
}
