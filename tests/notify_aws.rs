//! The `notify` function's way on AWS, with real parts: an application filed through
//! the API on DynamoDB Local puts a message in the outbox; the record of it is read
//! from DynamoDB Local's stream (keys only) as Lambda's poller would and handed to the
//! function's handler, which sends it through SES v2 to moto's server (PyPI, in
//! `.venv`); moto shows the raw message. The same handler under the Lambda runtime
//! emulator, with IAM enforced, is in infra/lambda-smoke.sh.
//!
//! Needs DynamoDB Local (`AWS_ENDPOINT_URL_DYNAMODB`) and `.venv/bin/moto_server`;
//! without them the test prints a notice and passes, unless `LOKET_TEST_DYNAMODB` or
//! `LOKET_TEST_SES` is `required` (the test command).

#[path = "common/dynamo.rs"]
mod common_dynamo;
#[path = "common/process.rs"]
mod process;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sesv2::config::{Credentials, Region};
use axum::body::Body;
use loket::api::AppState;
use loket::clock::{ManualClock, SharedClock};
use loket::domain::outbox::Delivery;
use loket::notify::ses::Ses;
use loket::store::Store;
use loket::store::dynamo::DynamoStore;
use process::{Launch, Process, free_port};
use serde_json::{Value, json};
use tower::ServiceExt;

/// moto's server on a port of its own, stopped on drop; `None` after a notice when it
/// is not installed and not required.
fn moto() -> Option<Process> {
    let program = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/moto_server");
    if !program.exists() {
        if std::env::var("LOKET_TEST_SES").as_deref() == Ok("required") {
            panic!(
                "LOKET_TEST_SES=required but {} is missing (infra/tools.sh install)",
                program.display()
            );
        }
        eprintln!("skipping SES test: run infra/tools.sh install for moto");
        return None;
    }
    let port = free_port();
    let moto = Launch::new("moto_server", program, port)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .timeout(Duration::from_secs(30))
        .start();
    Some(moto)
}

/// A client of the service loket builds (its HTTP client and time limits), at `url`.
async fn sdk_config(url: &str) -> aws_config::SdkConfig {
    loket::store::dynamo::config_loader()
        .region(Region::new("eu-west-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "tests"))
        .endpoint_url(url)
        .load()
        .await
}

/// Every record on the table's stream so far, as the Lambda event's `Records`.
async fn stream_records(store: &DynamoStore) -> Vec<Value> {
    let table = store
        .client()
        .describe_table()
        .table_name(store.table())
        .send()
        .await
        .unwrap();
    let arn = table
        .table()
        .unwrap()
        .latest_stream_arn()
        .expect("the table has a stream")
        .to_string();
    let endpoint = std::env::var(common_dynamo::ENDPOINT_VAR).unwrap();
    let streams = aws_sdk_dynamodbstreams::Client::new(&sdk_config(&endpoint).await);
    let described = streams
        .describe_stream()
        .stream_arn(&arn)
        .send()
        .await
        .unwrap();
    let mut records = Vec::new();
    for shard in described.stream_description().unwrap().shards() {
        let iterator = streams
            .get_shard_iterator()
            .stream_arn(&arn)
            .shard_id(shard.shard_id().unwrap())
            .shard_iterator_type(aws_sdk_dynamodbstreams::types::ShardIteratorType::TrimHorizon)
            .send()
            .await
            .unwrap();
        let got = streams
            .get_records()
            .shard_iterator(iterator.shard_iterator().unwrap())
            .send()
            .await
            .unwrap();
        for record in got.records() {
            let change = record.dynamodb().unwrap();
            let keys = change.keys().unwrap();
            let key = |name: &str| keys.get(name).unwrap().as_s().unwrap().clone();
            assert!(
                change.new_image().is_none(),
                "keys only: no personal data in the stream"
            );
            records.push(json!({
                "eventName": record.event_name().unwrap().as_str(),
                "eventSource": "aws:dynamodb",
                "dynamodb": {"Keys": {"pk": {"S": key("pk")}, "sk": {"S": key("sk")}},
                             "StreamViewType": "KEYS_ONLY"},
            }));
        }
    }
    records
}

#[tokio::test]
async fn a_message_written_with_an_application_goes_out_through_ses_from_the_stream() {
    let Some(moto) = moto() else {
        return;
    };
    let Some(store) = common_dynamo::fresh_store().await else {
        return;
    };
    let store = Arc::new(store);
    let now: chrono::DateTime<chrono::Utc> = "2017-03-01T09:00:00Z".parse().unwrap();
    let state = AppState::builder(Store::new(store.clone()))
        .clock(ManualClock::new(now))
        .build();
    let filed = loket::routes::permits_app(state.clone())
        .oneshot(
            axum::http::Request::post("/permits")
                .header("content-type", "application/json")
                .body(Body::from(include_str!("fixtures/zomerfestival.json")))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(filed.status(), 201);

    let records = stream_records(&store).await;
    let outbox: Vec<&Value> = records
        .iter()
        .filter(|r| {
            r["dynamodb"]["Keys"]["pk"]["S"]
                .as_str()
                .unwrap()
                .starts_with("outbox#")
        })
        .collect();
    assert_eq!(outbox.len(), 1, "{records:#?}");
    let id = outbox[0]["dynamodb"]["Keys"]["pk"]["S"]
        .as_str()
        .unwrap()
        .trim_start_matches("outbox#")
        .to_string();

    // SES knows the sender (on AWS: a verified identity).
    let ses = aws_sdk_sesv2::Client::new(&sdk_config(&moto.url()).await);
    ses.create_email_identity()
        .email_identity("evenementen@dronten.nl")
        .send()
        .await
        .unwrap();
    let transport = Ses::new(ses, None);
    let clock: SharedClock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let event = json!({ "Records": records });
    let report =
        loket::notify::lambda::handle(&event, &state.store, &transport, &state.mail.from, &clock)
            .await
            .unwrap();
    assert_eq!(report, json!({"sent": 1}));

    let sent = state.store.outbox().get(&id).await.unwrap().unwrap();
    assert_eq!(sent.delivery, Delivery::Sent);
    let data: Value = reqwest::get(format!("{}/moto-api/data.json", moto.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let raw = &data["ses"]["RawMessage"];
    assert_eq!(raw.as_array().unwrap().len(), 1, "{raw}");
    assert_eq!(raw[0]["destinations"], json!(["info@zomerfest.nl"]));
    let text = raw[0]["raw_data"].as_str().unwrap();
    assert!(
        text.contains(&format!("Message-ID: {}", sent.message_id)),
        "{text}"
    );
    assert!(text.contains("Subject: Ontvangstbevestiging EV-2017-0001: Zomerfestival"));

    // The same event again (Lambda delivers at least once): nothing is sent twice.
    let again =
        loket::notify::lambda::handle(&event, &state.store, &transport, &state.mail.from, &clock)
            .await
            .unwrap();
    assert_eq!(again, json!({"sent": 0}));
    // The schedule's pass finds nothing due either.
    let swept = loket::notify::lambda::handle(
        &json!({"source": "aws.scheduler"}),
        &state.store,
        &transport,
        &state.mail.from,
        &clock,
    )
    .await
    .unwrap();
    assert_eq!(swept, json!({"sent": 0}));
}
