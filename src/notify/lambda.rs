//! The `notify` function on AWS. Two things wake it:
//!
//! - the table's stream (keys only, filtered in `template.yaml` to new `outbox#`
//!   items): each new message is read, sent through SES and recorded, at once;
//! - a schedule every five minutes: every message that is due (a retry after a
//!   failure, or one whose stream event was lost) is sent.
//!
//! A failure to send is recorded on the message (it waits and is retried, and is
//! parked after ten attempts); only a failure to read or write the store fails the
//! invocation, which Lambda retries and then hands to the dead-letter queue.

use serde_json::{Value, json};

use crate::clock::SharedClock;
use crate::store::{Store, StoreResult};

use super::delivery::{Transport, deliver_due, deliver_one};

/// Handles one invocation (`event`: a DynamoDB stream batch or the schedule's event);
/// how many messages went out.
pub async fn handle(
    event: &Value,
    store: &Store,
    transport: &dyn Transport,
    from: &str,
    clock: &SharedClock,
) -> StoreResult<Value> {
    let sent = match event.get("Records").and_then(Value::as_array) {
        Some(records) => {
            let mut sent = 0;
            for record in records {
                if record.get("eventName").and_then(Value::as_str) != Some("INSERT") {
                    continue;
                }
                let Some(id) = record
                    .pointer("/dynamodb/Keys/pk/S")
                    .and_then(Value::as_str)
                    .and_then(|pk| pk.strip_prefix("outbox#"))
                else {
                    continue;
                };
                sent += usize::from(deliver_one(store, transport, from, clock, id).await?);
            }
            sent
        }
        None => deliver_due(store, transport, from, clock).await?,
    };
    Ok(json!({ "sent": sent }))
}
