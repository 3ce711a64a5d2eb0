//! DynamoDB Local for integration tests, shared by the test binaries:
//! `#[path = "../common/dynamo.rs"] mod dynamo;` (or `"common/dynamo.rs"` from `tests/`).
//!
//! The endpoint comes from `AWS_ENDPOINT_URL_DYNAMODB` (infra/test.sh starts one shared
//! instance with `infra/dynamodb-local.sh start`). Without it the DynamoDB tests skip
//! with a notice, unless `LOKET_TEST_DYNAMODB=required` (CI), which makes them fail
//! instead. A test that needs an instance of its own uses `dynamodb_local.rs`.
#![allow(dead_code)] // each test binary uses a different part

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{Credentials, Region};
use loket::store::dynamo::{self, DynamoStore};
use rand::Rng;

pub const ENDPOINT_VAR: &str = "AWS_ENDPOINT_URL_DYNAMODB";

/// A client for DynamoDB Local, or `None` after printing why the test skips.
pub async fn local_client() -> Option<Client> {
    if std::env::var_os(ENDPOINT_VAR).is_none() {
        if std::env::var("LOKET_TEST_DYNAMODB").as_deref() == Ok("required") {
            panic!("LOKET_TEST_DYNAMODB=required but {ENDPOINT_VAR} is unset");
        }
        eprintln!("skipping DynamoDB test: {ENDPOINT_VAR} unset");
        return None;
    }
    let mut loader = dynamo::config_loader();
    // DynamoDB Local accepts any credentials and region; fill in what is missing so
    // the SDK does not go looking for them (profiles, instance metadata).
    if std::env::var_os("AWS_REGION").is_none() && std::env::var_os("AWS_DEFAULT_REGION").is_none()
    {
        loader = loader.region(Region::new("eu-west-1"));
    }
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
        loader = loader.credentials_provider(Credentials::new(
            "local",
            "local",
            None,
            None,
            "loket-tests",
        ));
    }
    Some(Client::new(&loader.load().await))
}

/// A fresh table with a unique name, so tests never see each other's items.
pub async fn fresh_table(client: &Client) -> String {
    let table = format!("loket-test-{:016x}", rand::thread_rng().r#gen::<u64>());
    dynamo::create_table(client, &table)
        .await
        .unwrap_or_else(|e| panic!("creating table {table} on DynamoDB Local: {e}"));
    table
}

/// A store on its own fresh table, or `None` when DynamoDB tests skip.
pub async fn fresh_store() -> Option<DynamoStore> {
    let client = local_client().await?;
    let table = fresh_table(&client).await;
    Some(DynamoStore::new(client, table))
}
