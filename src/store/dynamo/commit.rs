//! A change as one `TransactWriteItems`: the document with its version condition,
//! aggregate deltas, unique claims and releases, the idempotency record and the
//! sequence number, the outbox messages, retried on write conflicts; a cancelled transaction's reasons
//! become the embedded store's errors.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{CancellationReason, Delete, Put, TransactWriteItem, Update};
use rand::Rng;

use super::DynamoStore;
use super::error::{internal, map_sdk_error};
use super::item::{
    CLAIM_OWNER, SEQ_SK, SEQUENCE_VALUE, UNIQ_SK, VERSION, doc_pk, document_item, idempotency_item,
    item_key, n, s,
};
use super::table::{PARTITION_KEY, TTL_ATTRIBUTE};
use crate::store::{Change, StoreError, StoreResult};

/// Attempts at a change that keeps meeting `TransactionConflict` on hot items.
const MAX_ATTEMPTS: u32 = 8;
const BACKOFF_BASE: Duration = Duration::from_millis(20);
const BACKOFF_CAP: Duration = Duration::from_millis(1000);

/// What each item of a transaction is, by position, to read cancellation reasons.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Role {
    Document,
    Aggregate,
    Claim(String),
    Release,
    Idempotency,
    Sequence,
    AlsoCreate,
}

/// How one attempt at a change ended, short of success.
#[derive(Debug)]
enum AttemptError {
    /// Another transaction touched one of our items: try again.
    Conflict,
    Final(StoreError),
}

/// Reads the per-item reasons of a cancelled transaction. Failed conditions decide
/// first, in the embedded store's order (version, claims, idempotency); then
/// conflicts; then throttling.
fn cancellation_outcome(reasons: &[CancellationReason], roles: &[Role]) -> AttemptError {
    let code = |i: usize| reasons.get(i).and_then(|r| r.code()).unwrap_or("None");
    let mut first_failed: Option<(u8, StoreError)> = None;
    for (i, role) in roles.iter().enumerate() {
        if code(i) != "ConditionalCheckFailed" {
            continue;
        }
        let (rank, error) = match role {
            Role::Document => (0, StoreError::VersionConflict),
            Role::Claim(key) => (1, StoreError::UniqueTaken(key.clone())),
            Role::Idempotency => (2, StoreError::IdempotencyKeyUsed),
            Role::Sequence => (3, StoreError::SequenceTaken),
            // These items carry no condition.
            Role::Aggregate | Role::Release | Role::AlsoCreate => (
                4,
                StoreError::Internal("unexpected condition failure".into()),
            ),
        };
        if first_failed.as_ref().is_none_or(|(r, _)| rank < *r) {
            first_failed = Some((rank, error));
        }
    }
    if let Some((_, error)) = first_failed {
        return AttemptError::Final(error);
    }
    let conflicted = |role: &Role| {
        roles
            .iter()
            .enumerate()
            .any(|(i, r)| r == role && code(i) == "TransactionConflict")
    };
    if conflicted(&Role::Idempotency) {
        // The same idempotency key is being written by another request right now.
        return AttemptError::Final(StoreError::IdempotencyInProgress);
    }
    if (0..roles.len()).any(|i| code(i) == "TransactionConflict") {
        return AttemptError::Conflict;
    }
    let codes: Vec<&str> = (0..roles.len().max(reasons.len())).map(code).collect();
    if codes.iter().any(|c| {
        matches!(
            *c,
            "ThrottlingError" | "ProvisionedThroughputExceeded" | "RequestLimitExceeded"
        )
    }) {
        return AttemptError::Final(StoreError::Unavailable(format!(
            "TransactWriteItems throttled: {codes:?}"
        )));
    }
    AttemptError::Final(StoreError::Internal(format!(
        "TransactWriteItems cancelled: {codes:?}"
    )))
}

/// The change as transaction items, with the role of each by position.
struct Plan {
    items: Vec<TransactWriteItem>,
    roles: Vec<Role>,
}

impl DynamoStore {
    fn document_put(&self, change: &Change) -> StoreResult<Put> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(document_item(&change.document)));
        let put = match change.expected_version {
            None => put
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", PARTITION_KEY),
            Some(expected) => put
                .condition_expression("#v = :expected")
                .expression_attribute_names("#v", VERSION)
                .expression_attribute_values(":expected", n(expected)),
        };
        put.build().map_err(internal)
    }

    fn plan(&self, change: &Change) -> StoreResult<Plan> {
        let mut items = Vec::new();
        let mut roles = Vec::new();
        items.push(
            TransactWriteItem::builder()
                .put(self.document_put(change)?)
                .build(),
        );
        roles.push(Role::Document);

        // A transaction may touch an item once: merge deltas to the same item.
        let mut merged: BTreeMap<(&str, &str), BTreeMap<&str, i64>> = BTreeMap::new();
        for delta in &change.aggregates {
            let fields = merged
                .entry((delta.group.as_str(), delta.key.as_str()))
                .or_default();
            for (field, amount) in &delta.add {
                *fields.entry(field.as_str()).or_default() += amount;
            }
        }
        for ((group, agg_key), fields) in merged {
            // Nothing to add leaves nothing to write (DynamoDB needs an expression).
            if fields.is_empty() {
                continue;
            }
            let mut update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(item_key(format!("agg#{group}"), agg_key)));
            let mut actions = Vec::new();
            for (i, (field, amount)) in fields.into_iter().enumerate() {
                actions.push(format!("#f{i} :a{i}"));
                update = update
                    .expression_attribute_names(format!("#f{i}"), field)
                    .expression_attribute_values(format!(":a{i}"), n(amount));
            }
            // ADD treats a missing item or attribute as zero.
            let update = update
                .update_expression(format!("ADD {}", actions.join(", ")))
                .build()
                .map_err(internal)?;
            items.push(TransactWriteItem::builder().update(update).build());
            roles.push(Role::Aggregate);
        }

        let owner = doc_pk(change.document.collection, &change.document.id);
        for claim in &change.claim_unique {
            let mut item = item_key(format!("uniq#{claim}"), UNIQ_SK);
            item.insert(CLAIM_OWNER.into(), s(&owner));
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", PARTITION_KEY)
                .build()
                .map_err(internal)?;
            items.push(TransactWriteItem::builder().put(put).build());
            roles.push(Role::Claim(claim.clone()));
        }
        for release in &change.release_unique {
            let delete = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(item_key(format!("uniq#{release}"), UNIQ_SK)))
                .build()
                .map_err(internal)?;
            items.push(TransactWriteItem::builder().delete(delete).build());
            roles.push(Role::Release);
        }

        if let Some(record) = &change.idempotency {
            // A record still live at this request's time holds the key; an expired
            // one that TTL has not yet deleted may be overwritten.
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(idempotency_item(record)))
                .condition_expression("attribute_not_exists(#pk) OR #exp <= :created_at")
                .expression_attribute_names("#pk", PARTITION_KEY)
                .expression_attribute_names("#exp", TTL_ATTRIBUTE)
                .expression_attribute_values(":created_at", n(record.created_at))
                .build()
                .map_err(internal)?;
            items.push(TransactWriteItem::builder().put(put).build());
            roles.push(Role::Idempotency);
        }

        if let Some(claim) = &change.sequence {
            // The number is taken only if nobody took it since it was read.
            let update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(item_key(format!("seq#{}", claim.name), SEQ_SK)))
                .update_expression("SET #v = :number")
                .condition_expression(if claim.number == 1 {
                    "attribute_not_exists(#v)"
                } else {
                    "#v = :last"
                })
                .expression_attribute_names("#v", SEQUENCE_VALUE)
                .expression_attribute_values(":number", n(claim.number));
            let update = if claim.number == 1 {
                update
            } else {
                update.expression_attribute_values(":last", n(claim.number - 1))
            };
            items.push(
                TransactWriteItem::builder()
                    .update(update.build().map_err(internal)?)
                    .build(),
            );
            roles.push(Role::Sequence);
        }
        for message in &change.also_create {
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(document_item(message)))
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", PARTITION_KEY)
                .build()
                .map_err(internal)?;
            items.push(TransactWriteItem::builder().put(put).build());
            roles.push(Role::AlsoCreate);
        }
        Ok(Plan { items, roles })
    }

    async fn transact_once(&self, plan: &Plan) -> Result<(), AttemptError> {
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(plan.items.clone()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) => match e.err() {
                TransactWriteItemsError::TransactionCanceledException(cancelled) => Err(
                    cancellation_outcome(cancelled.cancellation_reasons(), &plan.roles),
                ),
                _ => Err(AttemptError::Final(map_sdk_error(
                    "TransactWriteItems",
                    SdkError::ServiceError(e),
                ))),
            },
            Err(e) => Err(AttemptError::Final(map_sdk_error("TransactWriteItems", e))),
        }
    }

    /// [`DocumentStore::commit`](crate::store::DocumentStore::commit): the change as
    /// one transaction, retried with backoff while it meets write conflicts.
    pub(super) async fn commit_change(&self, change: Change) -> StoreResult<()> {
        // Always a transaction, even for a lone document: the SDK gives every
        // TransactWriteItems a client request token, so its own retry of a write
        // whose answer was lost is recognised as the same write, where a retried
        // conditional PutItem would fail on its own success.
        let plan = self.plan(&change)?;
        let mut attempt = 1;
        loop {
            match self.transact_once(&plan).await {
                Ok(()) => return Ok(()),
                Err(AttemptError::Final(error)) => return Err(error),
                Err(AttemptError::Conflict) if attempt < MAX_ATTEMPTS => {
                    tracing::debug!(attempt, "write conflict on a hot item; retrying");
                    tokio::time::sleep(backoff(attempt)).await;
                    attempt += 1;
                }
                Err(AttemptError::Conflict) => {
                    return Err(StoreError::Unavailable(format!(
                        "write conflicts persisted after {MAX_ATTEMPTS} attempts"
                    )));
                }
            }
        }
    }
}

/// Full-jitter exponential backoff before attempt `attempt + 1`.
fn backoff(attempt: u32) -> Duration {
    let ceiling = BACKOFF_BASE
        .saturating_mul(1 << attempt.min(16))
        .min(BACKOFF_CAP);
    let millis = ceiling.as_millis() as u64;
    Duration::from_millis(rand::thread_rng().gen_range(0..=millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reasons(codes: &[&str]) -> Vec<CancellationReason> {
        codes
            .iter()
            .map(|c| CancellationReason::builder().code(*c).build())
            .collect()
    }

    #[test]
    fn cancellation_reasons_map_by_item_role() {
        let roles = vec![
            Role::Document,
            Role::Aggregate,
            Role::Claim("reg#a".into()),
            Role::Release,
            Role::Idempotency,
        ];
        let outcome = |codes: &[&str]| cancellation_outcome(&reasons(codes), &roles);
        let none = "None";
        let ccf = "ConditionalCheckFailed";
        let conflict = "TransactionConflict";

        assert!(matches!(
            outcome(&[ccf, none, none, none, none]),
            AttemptError::Final(StoreError::VersionConflict)
        ));
        assert!(matches!(
            outcome(&[none, none, ccf, none, none]),
            AttemptError::Final(StoreError::UniqueTaken(k)) if k == "reg#a"
        ));
        assert!(matches!(
            outcome(&[none, none, none, none, ccf]),
            AttemptError::Final(StoreError::IdempotencyKeyUsed)
        ));
        // Version first, as in the embedded store.
        assert!(matches!(
            outcome(&[ccf, none, ccf, none, ccf]),
            AttemptError::Final(StoreError::VersionConflict)
        ));
        assert!(matches!(
            outcome(&[none, conflict, none, none, none]),
            AttemptError::Conflict
        ));
        assert!(matches!(
            outcome(&[none, conflict, none, none, conflict]),
            AttemptError::Final(StoreError::IdempotencyInProgress)
        ));
        assert!(matches!(
            outcome(&[none, "ThrottlingError", none, none, none]),
            AttemptError::Final(StoreError::Unavailable(_))
        ));
        assert!(matches!(
            outcome(&[none, "ValidationError", none, none, none]),
            AttemptError::Final(StoreError::Internal(_))
        ));
    }

    #[test]
    fn backoff_stays_under_its_cap() {
        for attempt in 1..20 {
            assert!(backoff(attempt) <= BACKOFF_CAP);
        }
    }
}
