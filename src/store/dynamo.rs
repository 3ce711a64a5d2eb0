//! The DynamoDB store: one on-demand table with generic keys, laid out as documented in
//! [`super`]. A change with anything besides the document (aggregates, claims, an
//! idempotency record) is one `TransactWriteItems`, and so is a bare document change
//! (see `commit` for why). Reads of one item are strongly consistent; listings read a
//! GSI, which is eventually consistent (DynamoDB offers nothing else there).
//!
//! Build the store once per process ([`DynamoStore::from_env`]): the SDK client holds
//! the connection pool and TLS setup that dominate a cold start.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::{BoxError, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, CancellationReason, Delete,
    GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType, Put,
    ScalarAttributeType, TimeToLiveSpecification, TimeToLiveStatus, TransactWriteItem, Update,
};
use aws_smithy_http_client::tls;
use rand::Rng;

use super::{
    Change, Collection, Document, DocumentStore, Filter, IdempotencyRecord, Index, IndexEntry,
    ListQuery, Page, Position, StoreError, StoreResult,
};

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
}

pub const fn table_definition() -> TableDefinition {
    TableDefinition {
        partition_key: PARTITION_KEY,
        sort_key: SORT_KEY,
        indexes: [GSI1, GSI2],
        ttl_attribute: TTL_ATTRIBUTE,
        billing_mode: "PAY_PER_REQUEST",
        projection: "ALL",
    }
}

// Non-key attributes.
const VERSION: &str = "version";
const BODY: &str = "body";
const COLLECTION: &str = "collection";
const ID: &str = "id";
const SEQUENCE_VALUE: &str = "value";
const CLAIM_OWNER: &str = "owner";

// Sort key values of single-item partitions.
const DOC_SK: &str = "doc";
const SEQ_SK: &str = "seq";
const UNIQ_SK: &str = "uniq";
const IDEM_SK: &str = "idem";

/// Attempts at a change that keeps meeting `TransactionConflict` on hot items.
const MAX_ATTEMPTS: u32 = 8;
const BACKOFF_BASE: Duration = Duration::from_millis(20);
const BACKOFF_CAP: Duration = Duration::from_millis(1000);

/// Pages of a listing grow up to this many evaluated items per request.
const MAX_QUERY_PAGE: usize = 1000;

type Item = HashMap<String, AttributeValue>;

/// Counts the HTTP requests a client sends (attempts, so retries count too).
#[derive(Debug)]
struct RequestCounter(Arc<AtomicU64>);

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "loket::RequestCounter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    requests: Arc<AtomicU64>,
}

impl std::fmt::Debug for DynamoStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamoStore")
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

/// The SDK configuration loader with this crate's HTTPS client (rustls + ring, no
/// aws-lc build). Region, credentials and `AWS_ENDPOINT_URL_DYNAMODB` come from the
/// environment as usual; callers may override them before `load()`.
pub fn config_loader() -> ConfigLoader {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    // Bounded waits: an unreachable DynamoDB must become a 503 well within API
    // Gateway's 30 s, not a hung request.
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(2))
        .operation_attempt_timeout(Duration::from_secs(5))
        .operation_timeout(Duration::from_secs(12))
        .build();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .timeout_config(timeouts)
}

impl DynamoStore {
    /// The store on `table`, configured from the environment. Sends no request:
    /// credentials and connections are set up lazily on first use.
    pub async fn from_env(table: String) -> DynamoStore {
        let config = config_loader().load().await;
        DynamoStore::new(Client::new(&config), table)
    }

    /// The store on `table` through an existing client (its configuration is kept;
    /// a request counter is added).
    pub fn new(client: Client, table: impl Into<String>) -> DynamoStore {
        let requests = Arc::new(AtomicU64::new(0));
        let config = client
            .config()
            .to_builder()
            .interceptor(RequestCounter(requests.clone()))
            .build();
        DynamoStore {
            client: Client::from_conf(config),
            table: table.into(),
            requests,
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// HTTP requests sent to DynamoDB through this store so far.
    pub fn request_count(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
}

/// Creates the table ([`table_definition`]), waits until it is ACTIVE and enables TTL
/// on [`TTL_ATTRIBUTE`]. A table that exists already is only waited for and given TTL.
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
    let mut request = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
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

/// An error and its sources, by `Display` only: `Debug` of SDK errors dumps whole
/// requests and responses.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn internal(e: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(e.to_string())
}

/// Maps a failed SDK call: throttled, unreachable, timed out or a DynamoDB-side
/// failure → `Unavailable` (a later retry may succeed); anything else → `Internal`.
/// Messages carry the operation, DynamoDB's error code and message, never the
/// request or its credentials.
pub(crate) fn map_sdk_error<E, R>(operation: &str, err: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
    aws_sdk_dynamodb::Error: From<SdkError<E, R>>,
{
    match &err {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
            return StoreError::Unavailable(format!("{operation}: {}", error_chain(&err)));
        }
        SdkError::ConstructionFailure(_) => {
            return StoreError::Internal(format!("{operation}: {}", error_chain(&err)));
        }
        _ => {}
    }
    use aws_sdk_dynamodb::Error as E;
    let service = E::from(err);
    // Display gives the code and DynamoDB's message; an unmodelled error keeps its
    // message in the metadata only.
    let mut message = format!("{operation}: {service}");
    if let Some(detail) = service.message()
        && !message.contains(detail)
    {
        message = format!("{message}: {detail}");
    }
    let code = service.code().unwrap_or_default();
    let transient = matches!(
        service,
        E::ProvisionedThroughputExceededException(_)
            | E::ThrottlingException(_)
            | E::RequestLimitExceeded(_)
            | E::InternalServerError(_)
    ) || matches!(
        code,
        "ThrottlingException"
            | "ProvisionedThroughputExceededException"
            | "RequestLimitExceeded"
            | "InternalServerError"
            | "ServiceUnavailable"
    );
    if transient {
        StoreError::Unavailable(message)
    } else {
        StoreError::Internal(message)
    }
}

/// What each item of a transaction is, by position, to read cancellation reasons.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Role {
    Document,
    Aggregate,
    Claim(String),
    Release,
    Idempotency,
    Sequence,
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
            Role::Aggregate | Role::Release => (
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

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn item_key(pk: String, sk: &str) -> Item {
    HashMap::from([
        (PARTITION_KEY.to_string(), s(pk)),
        (SORT_KEY.to_string(), s(sk)),
    ])
}

fn doc_pk(collection: Collection, id: &str) -> String {
    format!("{}#{id}", collection.as_str())
}

fn index_definition(index: Index) -> IndexDefinition {
    match index {
        Index::Gsi1 => GSI1,
        Index::Gsi2 => GSI2,
    }
}

fn document_item(doc: &Document) -> Item {
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

fn idempotency_item(record: &IdempotencyRecord) -> Item {
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

fn get_s<'a>(item: &'a Item, name: &str) -> StoreResult<&'a str> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Ok(v),
        _ => Err(StoreError::Internal(format!(
            "stored item lacks string attribute {name}"
        ))),
    }
}

fn get_n<T: std::str::FromStr>(item: &Item, name: &str) -> StoreResult<T> {
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

fn parse_document(item: &Item) -> StoreResult<Document> {
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

fn parse_idempotency(item: &Item) -> StoreResult<IdempotencyRecord> {
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
}

/// Full-jitter exponential backoff before attempt `attempt + 1`.
fn backoff(attempt: u32) -> Duration {
    let ceiling = BACKOFF_BASE
        .saturating_mul(1 << attempt.min(16))
        .min(BACKOFF_CAP);
    let millis = ceiling.as_millis() as u64;
    Duration::from_millis(rand::thread_rng().gen_range(0..=millis))
}

#[async_trait]
impl DocumentStore for DynamoStore {
    async fn commit(&self, change: Change) -> StoreResult<()> {
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

    async fn get(&self, collection: Collection, id: &str) -> StoreResult<Option<Document>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(item_key(doc_pk(collection, id), DOC_SK)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| map_sdk_error("GetItem", e))?;
        out.item().map(parse_document).transpose()
    }

    async fn list(&self, query: &ListQuery, filter: Filter<'_>) -> StoreResult<Page> {
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

    async fn last_sequence(&self, name: &str) -> StoreResult<u64> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(item_key(format!("seq#{name}"), SEQ_SK)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| map_sdk_error("GetItem", e))?;
        match out.item() {
            Some(item) => get_n(item, SEQUENCE_VALUE),
            None => Ok(0),
        }
    }

    async fn aggregates(
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

    async fn idempotency(
        &self,
        scope: &str,
        key: &str,
        now: i64,
    ) -> StoreResult<Option<IdempotencyRecord>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(item_key(format!("idem#{scope}#{key}"), IDEM_SK)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| map_sdk_error("GetItem", e))?;
        let Some(item) = out.item() else {
            return Ok(None);
        };
        // TTL deletes late (up to days): an expired record may still be there.
        let record = parse_idempotency(item)?;
        Ok((record.expires_at > now).then_some(record))
    }

    async fn purge_idempotency(&self, _now: i64) -> StoreResult<u64> {
        // DynamoDB's TTL on `expires_at` erases them; reads ignore expired ones.
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::error::ConnectorError;
    use aws_sdk_dynamodb::operation::get_item::GetItemError;
    use aws_sdk_dynamodb::operation::put_item::PutItemError;
    use aws_sdk_dynamodb::types::error::{
        ConditionalCheckFailedException, InternalServerError,
        ProvisionedThroughputExceededException, RequestLimitExceeded, ResourceNotFoundException,
        ThrottlingException,
    };

    fn service<E>(err: E) -> SdkError<E, ()> {
        SdkError::service_error(err, ())
    }

    #[test]
    fn throttling_and_transport_failures_are_unavailable() {
        let cases: Vec<(&str, StoreError)> = vec![
            (
                "provisioned throughput exceeded",
                map_sdk_error(
                    "PutItem",
                    service(PutItemError::ProvisionedThroughputExceededException(
                        ProvisionedThroughputExceededException::builder()
                            .message("slow down")
                            .build(),
                    )),
                ),
            ),
            (
                "throttling exception",
                map_sdk_error(
                    "GetItem",
                    service(GetItemError::ThrottlingException(
                        ThrottlingException::builder().message("slow down").build(),
                    )),
                ),
            ),
            (
                "request limit exceeded",
                map_sdk_error(
                    "PutItem",
                    service(PutItemError::RequestLimitExceeded(
                        RequestLimitExceeded::builder().message("limit").build(),
                    )),
                ),
            ),
            (
                "internal server error",
                map_sdk_error(
                    "PutItem",
                    service(PutItemError::InternalServerError(
                        InternalServerError::builder().message("oops").build(),
                    )),
                ),
            ),
            (
                "connection refused",
                map_sdk_error(
                    "GetItem",
                    SdkError::<GetItemError, ()>::dispatch_failure(ConnectorError::io(
                        "connection refused".into(),
                    )),
                ),
            ),
            (
                "timeout",
                map_sdk_error(
                    "GetItem",
                    SdkError::<GetItemError, ()>::timeout_error("took too long"),
                ),
            ),
        ];
        for (case, error) in cases {
            assert!(
                matches!(error, StoreError::Unavailable(_)),
                "{case}: {error:?}"
            );
        }
    }

    #[test]
    fn other_service_errors_are_internal_and_name_the_code() {
        let error = map_sdk_error(
            "GetItem",
            service(GetItemError::ResourceNotFoundException(
                ResourceNotFoundException::builder()
                    .message("no such table")
                    .build(),
            )),
        );
        let StoreError::Internal(message) = error else {
            panic!("expected Internal, got {error:?}");
        };
        assert!(message.contains("GetItem"), "{message}");
        assert!(message.contains("no such table"), "{message}");

        let error = map_sdk_error(
            "PutItem",
            service(PutItemError::ConditionalCheckFailedException(
                ConditionalCheckFailedException::builder().build(),
            )),
        );
        assert!(matches!(error, StoreError::Internal(_)), "{error:?}");
    }

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

    #[test]
    fn backoff_stays_under_its_cap() {
        for attempt in 1..20 {
            assert!(backoff(attempt) <= BACKOFF_CAP);
        }
    }
}
