//! Queries: a listing page by page through a GSI, and the aggregates of a group
//! from their partition.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;

use super::DynamoStore;
use super::error::map_sdk_error;
use super::item::{DOC_SK, doc_pk, get_n, get_s, item_key, parse_document, s};
use super::table::{PARTITION_KEY, SORT_KEY, index_definition};
use crate::store::{Filter, ListQuery, Page, Position, StoreResult};

/// Pages of a listing grow up to this many evaluated items per request.
const MAX_QUERY_PAGE: usize = 1000;

impl DynamoStore {
    /// [`DocumentStore::list`](crate::store::DocumentStore::list): one page of a
    /// GSI query, filtered here, read in growing requests.
    pub(super) async fn list_page(
        &self,
        query: &ListQuery,
        filter: Filter<'_>,
    ) -> StoreResult<Page> {
        let empty = Page {
            items: Vec::new(),
            next: None,
        };
        if query.limit == 0 {
            return Ok(empty);
        }
        if let (Some(from), Some(to)) = (&query.sort_from, &query.sort_to)
            && from > to
        {
            return Ok(empty);
        }
        let def = index_definition(query.index);
        let mut names = HashMap::from([("#p".to_string(), def.partition_key.to_string())]);
        let mut values = HashMap::from([(":p".to_string(), s(&query.partition))]);
        let mut condition = "#p = :p".to_string();
        if query.sort_from.is_some() || query.sort_to.is_some() {
            names.insert("#s".into(), def.sort_key.into());
        }
        match (&query.sort_from, &query.sort_to) {
            (Some(from), Some(to)) => {
                condition.push_str(" AND #s BETWEEN :from AND :to");
                values.insert(":from".into(), s(from));
                values.insert(":to".into(), s(to));
            }
            (Some(from), None) => {
                condition.push_str(" AND #s >= :from");
                values.insert(":from".into(), s(from));
            }
            (None, Some(to)) => {
                condition.push_str(" AND #s <= :to");
                values.insert(":to".into(), s(to));
            }
            (None, None) => {}
        }

        // DynamoDB refuses a start key outside the key condition: a position before
        // the range changes nothing, one past it leaves nothing.
        let mut start_key = None;
        if let Some(after) = &query.after {
            if query.sort_to.as_ref().is_some_and(|to| after.sort > *to) {
                return Ok(empty);
            }
            if query
                .sort_from
                .as_ref()
                .is_none_or(|from| after.sort >= *from)
            {
                let mut start = item_key(doc_pk(query.collection, &after.id), DOC_SK);
                start.insert(def.partition_key.into(), s(&query.partition));
                start.insert(def.sort_key.into(), s(&after.sort));
                start_key = Some(start);
            }
        }

        // Read one item past the page, so `next` is set only when more follow; the
        // filter runs here, so later pages grow to find matches in fewer requests.
        let wanted = query.limit + 1;
        let mut page_size = wanted.min(MAX_QUERY_PAGE);
        let mut items = Vec::new();
        'pages: loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(def.name)
                .key_condition_expression(&condition)
                .set_expression_attribute_names(Some(names.clone()))
                .set_expression_attribute_values(Some(values.clone()))
                .set_exclusive_start_key(start_key.take())
                .limit(page_size as i32)
                .send()
                .await
                .map_err(|e| map_sdk_error("Query", e))?;
            for item in out.items() {
                let doc = parse_document(item)?;
                if doc.collection != query.collection || !filter(&doc) {
                    continue;
                }
                items.push(doc);
                if items.len() == wanted {
                    break 'pages;
                }
            }
            match out.last_evaluated_key {
                Some(last) => start_key = Some(last),
                None => break,
            }
            page_size = (page_size * 2).min(MAX_QUERY_PAGE);
        }

        let next = if items.len() > query.limit {
            items.truncate(query.limit);
            items.last().map(|last| Position {
                sort: last
                    .index(query.index)
                    .map(|e| e.sort.clone())
                    .unwrap_or_default(),
                id: last.id.clone(),
            })
        } else {
            None
        };
        Ok(Page { items, next })
    }

    /// [`DocumentStore::aggregates`](crate::store::DocumentStore::aggregates): every
    /// item of the group's partition, its numeric attributes as fields.
    pub(super) async fn read_aggregates(
        &self,
        group: &str,
    ) -> StoreResult<BTreeMap<String, BTreeMap<String, i64>>> {
        let mut out = BTreeMap::new();
        let mut start_key = None;
        // One request unless the group outgrows 1 MB.
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", PARTITION_KEY)
                .expression_attribute_values(":pk", s(format!("agg#{group}")))
                .consistent_read(true)
                .set_exclusive_start_key(start_key.take())
                .send()
                .await
                .map_err(|e| map_sdk_error("Query", e))?;
            for item in page.items() {
                let agg_key = get_s(item, SORT_KEY)?.to_string();
                let mut fields = BTreeMap::new();
                for (name, value) in item {
                    if name == PARTITION_KEY || name == SORT_KEY {
                        continue;
                    }
                    if let AttributeValue::N(_) = value {
                        fields.insert(name.clone(), get_n(item, name)?);
                    }
                }
                out.insert(agg_key, fields);
            }
            match page.last_evaluated_key {
                Some(last) => start_key = Some(last),
                None => return Ok(out),
            }
        }
    }
}
