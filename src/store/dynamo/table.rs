//! The table this store needs: its keys, its two indexes and its TTL attribute
//! ([`table_definition`], which `template.yaml` must match), and [`create_table`].

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
    TimeToLiveSpecification, TimeToLiveStatus,
};

use super::error::{error_chain, internal, map_sdk_error};
use crate::store::{Index, StoreError, StoreResult};

/// Table partition key attribute.
pub const PARTITION_KEY: &str = "pk";
/// Table sort key attribute.
pub const SORT_KEY: &str = "sk";
/// The TTL attribute of idempotency records (unix seconds).
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// One global secondary index: string keys, projecting ALL attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexDefinition {
    pub name: &'static str,
    pub partition_key: &'static str,
    pub sort_key: &'static str,
}

pub const GSI1: IndexDefinition = IndexDefinition {
    name: "gsi1",
    partition_key: "gsi1pk",
    sort_key: "gsi1sk",
};

pub const GSI2: IndexDefinition = IndexDefinition {
    name: "gsi2",
    partition_key: "gsi2pk",
    sort_key: "gsi2sk",
};

/// The table as this store needs it; `template.yaml` must declare the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableDefinition {
    /// Both table keys are strings (`S`).
    pub partition_key: &'static str,
    pub sort_key: &'static str,
    /// Every index key is a string (`S`) and every index projects `ALL`.
    pub indexes: [IndexDefinition; 2],
    pub ttl_attribute: &'static str,
    /// `PAY_PER_REQUEST`.
    pub billing_mode: &'static str,
    pub projection: &'static str,
    /// The table's stream carries keys only: the `notify` function reads an outbox
    /// message itself, so no personal data sits in the stream.
    pub stream_view_type: &'static str,
}

pub const fn table_definition() -> TableDefinition {
    TableDefinition {
        partition_key: PARTITION_KEY,
        sort_key: SORT_KEY,
        indexes: [GSI1, GSI2],
        ttl_attribute: TTL_ATTRIBUTE,
        billing_mode: "PAY_PER_REQUEST",
        projection: "ALL",
        stream_view_type: "KEYS_ONLY",
    }
}

/// Creates the table ([`table_definition`]) with its stream, waits until it is ACTIVE
/// and enables TTL on [`TTL_ATTRIBUTE`]. A table that exists already is waited for and
/// given TTL and its stream when it lacks them.
pub async fn create_table(client: &Client, table: &str) -> StoreResult<()> {
    let def = table_definition();
    let key = |name: &str, key_type: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(key_type)
            .build()
            .map_err(internal)
    };
    let string_attr = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(internal)
    };
    let stream = StreamSpecification::builder()
        .stream_enabled(true)
        .stream_view_type(StreamViewType::KeysOnly)
        .build()
        .map_err(internal)?;
    let mut request = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .stream_specification(stream.clone())
        .key_schema(key(def.partition_key, KeyType::Hash)?)
        .key_schema(key(def.sort_key, KeyType::Range)?)
        .attribute_definitions(string_attr(def.partition_key)?)
        .attribute_definitions(string_attr(def.sort_key)?);
    for index in def.indexes {
        request = request
            .attribute_definitions(string_attr(index.partition_key)?)
            .attribute_definitions(string_attr(index.sort_key)?)
            .global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(index.name)
                    .key_schema(key(index.partition_key, KeyType::Hash)?)
                    .key_schema(key(index.sort_key, KeyType::Range)?)
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::All)
                            .build(),
                    )
                    .build()
                    .map_err(internal)?,
            );
    }
    match request.send().await {
        Ok(_) => {}
        Err(SdkError::ServiceError(e)) if e.err().is_resource_in_use_exception() => {}
        Err(e) => return Err(map_sdk_error("CreateTable", e)),
    }

    client
        .wait_until_table_exists()
        .table_name(table)
        .wait(Duration::from_secs(120))
        .await
        .map_err(|e| {
            StoreError::Unavailable(format!(
                "table {table} did not become active: {}",
                error_chain(&e)
            ))
        })?;

    let described = client
        .describe_table()
        .table_name(table)
        .send()
        .await
        .map_err(|e| map_sdk_error("DescribeTable", e))?;
    let streaming = described
        .table()
        .and_then(|t| t.stream_specification())
        .is_some_and(|s| s.stream_enabled());
    if !streaming {
        client
            .update_table()
            .table_name(table)
            .stream_specification(stream)
            .send()
            .await
            .map_err(|e| map_sdk_error("UpdateTable", e))?;
        client
            .wait_until_table_exists()
            .table_name(table)
            .wait(Duration::from_secs(120))
            .await
            .map_err(|e| StoreError::Unavailable(error_chain(&e)))?;
    }

    let ttl = client
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
        .map_err(|e| map_sdk_error("DescribeTimeToLive", e))?;
    let enabled = ttl.time_to_live_description().is_some_and(|d| {
        d.attribute_name() == Some(def.ttl_attribute)
            && matches!(
                d.time_to_live_status(),
                Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
            )
    });
    if !enabled {
        client
            .update_time_to_live()
            .table_name(table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(def.ttl_attribute)
                    .enabled(true)
                    .build()
                    .map_err(internal)?,
            )
            .send()
            .await
            .map_err(|e| map_sdk_error("UpdateTimeToLive", e))?;
    }
    Ok(())
}

pub(super) fn index_definition(index: Index) -> IndexDefinition {
    match index {
        Index::Gsi1 => GSI1,
        Index::Gsi2 => GSI2,
    }
}
