//! The DynamoDB store: one on-demand table with generic keys, laid out as documented in
//! [`super`]. A change with anything besides the document (aggregates, claims, an
//! idempotency record) is one `TransactWriteItems`, and so is a bare document change
//! (see `commit.rs` for why). Reads of one item are strongly consistent; listings read a
//! GSI, which is eventually consistent (DynamoDB offers nothing else there).
//!
//! Build the store once per process ([`DynamoStore::from_env`]): the SDK client holds
//! the connection pool and TLS setup that dominate a cold start.
//!
//! One concern per file: `table.rs` (the table definition and `create_table`),
//! `item.rs` (documents and records as attribute maps), `error.rs` (SDK errors as
//! store errors), `commit.rs` (a change as one `TransactWriteItems`) and `list.rs`
//! (queries and paging). This file holds the store itself and its
//! [`DocumentStore`] implementation, which delegates to them; the public names of
//! `table.rs` are re-exported here under their old paths.

mod commit;
mod error;
mod item;
mod list;
mod table;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_smithy_http_client::tls;

use super::{
    Change, Collection, Document, DocumentStore, Filter, IdempotencyRecord, ListQuery, Page,
    StoreResult,
};
use item::{
    DOC_SK, IDEM_SK, SEQ_SK, SEQUENCE_VALUE, doc_pk, get_n, item_key, parse_document,
    parse_idempotency,
};

pub(crate) use error::map_sdk_error;
pub use table::{
    GSI1, GSI2, IndexDefinition, PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE, TableDefinition,
    create_table, table_definition,
};

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
/// Amazon Root CA 1–4 and Starfield Services Root CA G2 (as Debian's ca-certificates
/// ships them).
const AWS_ROOTS: &[u8] = include_bytes!("aws-roots.pem");

pub fn config_loader() -> ConfigLoader {
    // Trust the roots AWS's endpoints chain to (Amazon Trust Services, and Starfield
    // Services G2, which cross-signs them), compiled in: loading the system's store
    // reads every file in /etc/ssl/certs, the largest cost of a cold start.
    let roots = tls::TrustStore::empty()
        .with_native_roots(false)
        .with_pem_certificate(AWS_ROOTS);
    let context = tls::TlsContext::builder()
        .with_trust_store(roots)
        .build()
        .expect("a TLS context from compiled-in roots");
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .tls_context(context)
        .build_https();
    // Bounded waits: an unreachable DynamoDB must become a 503 well within API
    // Gateway's 30 s, not a hung request.
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(2))
        .operation_attempt_timeout(Duration::from_secs(5))
        .operation_timeout(Duration::from_secs(12))
        .build();
    let loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .timeout_config(timeouts);
    // Lambda gives credentials and region as environment variables: read them there
    // alone, instead of building the default chains (profile files, an STS client
    // for web identity, instance metadata), a third of a cold start's work.
    let env = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    let loader = if env("AWS_ACCESS_KEY_ID") && env("AWS_SECRET_ACCESS_KEY") {
        loader.credentials_provider(
            aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
        )
    } else {
        loader
    };
    if env("AWS_REGION") {
        loader.region(aws_config::environment::EnvironmentVariableRegionProvider::new())
    } else {
        loader
    }
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

#[async_trait]
impl DocumentStore for DynamoStore {
    async fn commit(&self, change: Change) -> StoreResult<()> {
        self.commit_change(change).await
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
        self.list_page(query, filter).await
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
        self.read_aggregates(group).await
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
