//! Fault tests of the DynamoDB store (issue 3). Each runs a DynamoDB Local instance of
//! its own, on disk (`-dbPath`), and takes it down in the middle of a burst of
//! submissions: stopped (SIGTERM, the fixture's `stop`) or crashed (`kill -9`). While
//! it is down the API answers 503 problem+json with `Retry-After`, never a 500 or a
//! hang. Restarted on the same folder and port: no item is half written, the coverage
//! aggregate equals the one recomputed from the applications, every acknowledged
//! submission is there, and retrying each refused request with its Idempotency-Key
//! gives exactly one application per key.
//!
//! One caveat, measured, about the emulator rather than loket: DynamoDB Local answers a
//! `TransactWriteItems` a few milliseconds before the transaction is on disk, so a
//! `kill -9` right after an answer can lose that whole transaction (atomically: the
//! document, its aggregate moves and its idempotency record together). The crash test
//! therefore tolerates losing an acknowledgement answered within [`LOSS_WINDOW`] of
//! the kill, and checks that such a loss is complete; the stop test tolerates none.
//!
//! The instances are processes of the test (`tests/common/dynamodb_local.rs`); without
//! DynamoDB Local installed (`infra/dynamodb-local.sh install`) or without java the
//! tests skip with a notice, unless `LOKET_TEST_DYNAMODB=required`.

#[path = "common/dynamo.rs"]
mod dynamo;
#[path = "common/dynamodb_local.rs"]
mod dynamodb_local;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{Credentials, Region};
use chrono::{DateTime, Utc};
use dynamodb_local::{DynamoDbLocal, Options};
use loket::api::AppState;
use loket::api::auth::StaffAuth;
use loket::clock::ManualClock;
use loket::domain::coverage;
use loket::domain::permit::Application;
use loket::store::dynamo::{DynamoStore, config_loader};
use loket::store::permits::{self as records, ALL_PERMITS};
use loket::store::{Collection, DocumentStore, Index, ListQuery};
use serde_json::Value;
use tokio::sync::{Notify, Semaphore};

/// Submissions in the burst, each with its own Idempotency-Key.
const BURST: usize = 60;
/// Submissions in flight at once.
const CONCURRENCY: usize = 6;
/// Acknowledged (201) submissions after which DynamoDB Local is taken down.
const FAULT_AFTER: usize = 15;
/// Above the SDK's 12 s operation timeout: a client-side timeout means the API hung.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(20);
/// After `kill -9`, an acknowledgement answered at most this long before the kill may
/// be lost (DynamoDB Local's own durability lag, measured at a few milliseconds).
const LOSS_WINDOW: Duration = Duration::from_millis(250);
const STAFF_SECRET: &str = "dynamo-fault-test-secret-of-32-bytes!";

/// How DynamoDB Local is taken down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// SIGTERM (the fixture's `stop`): the JVM shuts down in order.
    Stop,
    /// `kill -9` (the fixture's `crash`): the process dies on the spot.
    Crash,
}

/// A client for the instance on `port`, with a fixed local configuration whatever
/// AWS_* says.
async fn client_on(port: u16) -> Client {
    let config = config_loader()
        .endpoint_url(format!("http://127.0.0.1:{port}"))
        .region(Region::new("eu-west-1"))
        .credentials_provider(Credentials::new(
            "local",
            "local",
            None,
            None,
            "loket-fault-test",
        ))
        .load()
        .await;
    Client::new(&config)
}

fn state(store: Arc<DynamoStore>) -> AppState {
    let now: DateTime<Utc> = "2017-03-01T10:00:00+01:00".parse().unwrap();
    AppState::builder(loket::store::Store::new(store))
        .clock(ManualClock::new(now))
        .real_clock(ManualClock::new(Utc::now()))
        .cursor_key(b"dynamo fault test")
        .auth(StaffAuth::hs256(STAFF_SECRET, None, None).expect("an HS256 key"))
        .build()
}

/// Serves the whole API on a free local port; returns its base URL.
async fn serve(state: AppState) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, loket::routes::app(state))
            .await
            .unwrap();
    });
    format!("http://{addr}")
}

const BODY: &str = include_str!("fixtures/zomerfestival.json");

async fn post_permit(
    http: &reqwest::Client,
    base: &str,
    key: &str,
) -> reqwest::Result<reqwest::Response> {
    http.post(format!("{base}/permits"))
        .header("content-type", "application/json")
        .header("idempotency-key", key)
        .body(BODY)
        .send()
        .await
}

/// Reads an application back as its organiser, with the token of its 201.
async fn read_back(http: &reqwest::Client, base: &str, created: &Value) -> Value {
    let id = created["id"].as_str().expect("an id");
    let token = created["access_token"].as_str().expect("an access token");
    let response = http
        .get(format!("{base}/permits/{id}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("reading back");
    assert_eq!(response.status(), 200, "reading back {id}");
    response.json().await.expect("a JSON application")
}

/// One answered request of the burst.
#[derive(Debug)]
struct Answer {
    key: String,
    status: u16,
    content_type: Option<String>,
    retry_after: Option<String>,
    body: Value,
    /// When it was sent and answered, from the start of the burst.
    sent: Duration,
    answered: Duration,
}

impl Answer {
    async fn of(
        key: String,
        response: reqwest::Response,
        sent: Duration,
        answered: Duration,
    ) -> Answer {
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap_or("<not text>").to_string())
        };
        let status = response.status().as_u16();
        let content_type = header("content-type");
        let retry_after = header("retry-after");
        let text = response.text().await.expect("a readable body");
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("a JSON body ({e}) from a {status}: {text}"));
        Answer {
            key,
            status,
            content_type,
            retry_after,
            body,
            sent,
            answered,
        }
    }

    fn id(&self) -> &str {
        self.body["id"].as_str().expect("an id")
    }
}

/// Every stored application listed from the submission index (gsi1), each parsed;
/// panics on a document that does not parse or whose keys do not match its body (a
/// half-written item).
async fn stored_applications(store: &DynamoStore) -> Vec<Application> {
    let mut query = ListQuery {
        collection: Collection::Permit,
        index: Index::Gsi1,
        partition: ALL_PERMITS.into(),
        sort_from: None,
        sort_to: None,
        after: None,
        limit: 100,
    };
    let mut apps = Vec::new();
    loop {
        let page = store
            .list(&query, &|_| true)
            .await
            .expect("listing the stored applications");
        for doc in &page.items {
            let app = records::permit_from(doc)
                .unwrap_or_else(|e| panic!("a half-written application: {e}"));
            let rebuilt = records::permit_document(&app).unwrap();
            assert_eq!(
                (&doc.id, doc.version, &doc.gsi1, &doc.gsi2),
                (&rebuilt.id, rebuilt.version, &rebuilt.gsi1, &rebuilt.gsi2),
                "a stored document whose keys do not match its body"
            );
            apps.push(app);
        }
        match page.next {
            Some(next) => query.after = Some(next),
            None => return apps,
        }
    }
}

/// The stored coverage of 2017 equals the one recomputed from the applications: no
/// aggregate moved without its application, none stored without its moves.
async fn assert_coverage_matches(store: &DynamoStore, apps: &[Application]) {
    let stored = records::Permits::new(store)
        .coverage(2017)
        .await
        .expect("reading the coverage aggregate");
    assert_eq!(
        stored,
        coverage::recompute(2017, apps),
        "coverage aggregate of 2017 vs the stored applications"
    );
    let year_count = stored.get(&coverage::Bucket::Year).map_or(0, |s| s.count);
    assert_eq!(
        year_count,
        apps.len() as i64,
        "applications in the coverage"
    );
}

/// Runs the burst, takes DynamoDB Local down after [`FAULT_AFTER`] acknowledgements,
/// restarts it on the same folder and checks what survived.
async fn burst_with(fault: Fault) {
    let started = Instant::now();
    let db_dir = tempfile::tempdir().unwrap();

    let options = Options::on_disk(db_dir.path());
    let Some(mut local) = tokio::task::block_in_place(|| DynamoDbLocal::start(options)) else {
        return;
    };
    let port = local.port();
    let client = client_on(port).await;
    let table = dynamo::fresh_table(&client).await;
    let store = Arc::new(DynamoStore::new(client, table));
    let base = serve(state(store.clone())).await;
    eprintln!(
        "{fault:?}: DynamoDB Local on port {port}, {:.1?} to start and create the table",
        started.elapsed()
    );
    let http = reqwest::Client::builder()
        .timeout(CLIENT_TIMEOUT)
        .build()
        .unwrap();

    // The burst; after FAULT_AFTER acknowledgements, DynamoDB Local goes down.
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let enough = Arc::new(Notify::new());
    let burst_start = Instant::now();
    let saboteur = {
        let (enough, acknowledged) = (enough.clone(), acknowledged.clone());
        async move {
            enough.notified().await;
            let acked = acknowledged.load(Ordering::SeqCst);
            let down_from = burst_start.elapsed();
            // The instance comes back for the restart (and is stopped if a panic drops it).
            let local = tokio::task::spawn_blocking(move || {
                match fault {
                    Fault::Stop => local.stop(),
                    Fault::Crash => local.crash(),
                }
                local
            })
            .await
            .expect("taking DynamoDB Local down");
            (local, down_from, burst_start.elapsed(), acked)
        }
    };
    let burst = async {
        let slots = Arc::new(Semaphore::new(CONCURRENCY));
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..BURST {
            let slot = slots.clone().acquire_owned().await.unwrap();
            let (http, base) = (http.clone(), base.clone());
            let (acknowledged, enough) = (acknowledged.clone(), enough.clone());
            tasks.spawn(async move {
                let key = format!("fault-{i:03}");
                let sent = burst_start.elapsed();
                let result = post_permit(&http, &base, &key).await;
                let answered = burst_start.elapsed();
                drop(slot);
                let response = result.unwrap_or_else(|e| {
                    panic!(
                        "{key} failed client-side after {:.1?}: {e}",
                        answered - sent
                    )
                });
                if response.status() == 201
                    && acknowledged.fetch_add(1, Ordering::SeqCst) + 1 == FAULT_AFTER
                {
                    enough.notify_one();
                }
                Answer::of(key, response, sent, answered).await
            });
        }
        let mut answers = Vec::new();
        while let Some(done) = tasks.join_next().await {
            answers.push(done.expect("a request task"));
        }
        // Too few acknowledgements to set off the fault: set it off now, so that the
        // assertions below say what went wrong instead of the test hanging.
        enough.notify_one();
        answers
    };
    let ((mut local, down_from, down_at, acked_before_fault), mut answers) =
        tokio::join!(saboteur, burst);
    let burst_time = burst_start.elapsed();
    answers.sort_by(|a, b| a.key.cmp(&b.key));

    // Every answer is a 201, or a 503 problem+json with Retry-After.
    for a in &answers {
        match a.status {
            201 => assert_eq!(a.content_type.as_deref(), Some("application/json"), "{a:?}"),
            503 => {
                assert_eq!(
                    a.content_type.as_deref(),
                    Some("application/problem+json"),
                    "{a:?}"
                );
                let retry_after = a.retry_after.as_deref().and_then(|s| s.parse::<u32>().ok());
                assert!(retry_after.is_some_and(|s| s > 0), "{a:?}");
                assert_eq!(a.body["status"], 503, "{a:?}");
                assert_eq!(a.body["type"], "/problems/unavailable", "{a:?}");
            }
            other => panic!("{} answered {other}, not 201 or 503: {}", a.key, a.body),
        }
    }
    let created: Vec<&Answer> = answers.iter().filter(|a| a.status == 201).collect();
    let refused: Vec<&Answer> = answers.iter().filter(|a| a.status == 503).collect();
    let slowest_503 = refused
        .iter()
        .map(|a| a.answered - a.sent)
        .max()
        .unwrap_or_default();
    eprintln!(
        "{fault:?}: burst of {BURST} in {burst_time:.1?}: {} × 201, {} × 503; down from {down_from:.2?} \
         (after {acked_before_fault} acknowledgements) to {down_at:.2?}; slowest 503 took {slowest_503:.1?}",
        created.len(),
        refused.len()
    );
    assert!(
        created.len() >= FAULT_AFTER,
        "only {} acknowledged",
        created.len()
    );
    assert!(
        refused.iter().all(|a| a.answered >= down_from),
        "503s while DynamoDB Local was still up"
    );
    assert!(
        refused.iter().any(|a| a.sent >= down_at),
        "no request sent while DynamoDB Local was down was refused with 503"
    );

    // Restart on the same folder and port: the same client and server reach it.
    let restart = Instant::now();
    tokio::task::block_in_place(|| local.restart());
    eprintln!(
        "{fault:?}: restarted on the same folder in {:.1?}",
        restart.elapsed()
    );

    // Nothing half written, and the aggregate agrees with the applications.
    let before_retries = stored_applications(&store).await;
    let stored_ids: BTreeSet<&str> = before_retries.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(
        stored_ids.len(),
        before_retries.len(),
        "an application listed twice"
    );
    assert_coverage_matches(&store, &before_retries).await;

    // Every acknowledged submission is there, except (after a crash only) one answered
    // within DynamoDB Local's durability lag, which must then be wholly gone.
    let mut lost = Vec::new();
    for a in &created {
        if stored_ids.contains(a.id()) {
            let read = read_back(&http, &base, &a.body).await;
            assert_eq!(read["reference"], a.body["reference"], "{}", a.key);
            assert_eq!(read["leges"], a.body["leges"], "{}", a.key);
            assert_eq!(read["version"], 1, "{}", a.key);
            continue;
        }
        let document = store.get(Collection::Permit, a.id()).await.expect("a read");
        assert!(document.is_none(), "{} is stored but not listed", a.key);
        let before_down = down_from.saturating_sub(a.answered);
        assert!(
            fault == Fault::Crash && a.answered + LOSS_WINDOW >= down_from,
            "{fault:?}: acknowledged {} ({}) was lost; answered {before_down:.2?} before DynamoDB Local went down",
            a.key,
            a.id()
        );
        lost.push((*a, before_down));
    }
    assert!(before_retries.len() >= created.len() - lost.len());

    // Each refused or lost request, retried with its key, now succeeds: with the first
    // response when its first attempt committed after all, else with a new application.
    let mut final_201s: BTreeMap<String, Value> = created
        .iter()
        .map(|a| (a.key.clone(), a.body.clone()))
        .collect();
    let mut committed_despite_503 = 0;
    let retried = refused.iter().copied().chain(lost.iter().map(|(a, _)| *a));
    for a in retried {
        let response = post_permit(&http, &base, &a.key).await.expect("a retry");
        assert_eq!(response.status(), 201, "retrying {}", a.key);
        let retry: Value = response.json().await.unwrap();
        let id = retry["id"].as_str().expect("an id");
        if a.status == 201 {
            assert_ne!(id, a.id(), "{}: a replay of a lost application", a.key);
        } else if stored_ids.contains(id) {
            committed_despite_503 += 1;
        }
        let again: Value = post_permit(&http, &base, &a.key)
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(again, retry, "replaying {}", a.key);
        final_201s.insert(a.key.clone(), retry);
    }
    eprintln!(
        "{fault:?}: {committed_despite_503} of {} refused submissions had committed after all; \
         {} acknowledged submissions lost {:?}",
        refused.len(),
        lost.len(),
        lost.iter()
            .map(|(a, before)| format!("{} answered {before:.2?} before", a.key))
            .collect::<Vec<_>>()
    );

    // Exactly one application per key, each readable with its token, and no
    // application that no key owns.
    let after_retries = stored_applications(&store).await;
    let stored: BTreeSet<&str> = after_retries.iter().map(|a| a.id.as_str()).collect();
    let owned: BTreeSet<&str> = final_201s
        .values()
        .map(|b| b["id"].as_str().unwrap())
        .collect();
    assert_eq!(owned.len(), BURST, "two keys answered with one application");
    assert_eq!(
        stored, owned,
        "stored applications vs one per Idempotency-Key"
    );
    for body in final_201s.values() {
        assert_eq!(
            read_back(&http, &base, body).await["reference"],
            body["reference"]
        );
    }
    let references: BTreeSet<&str> = after_retries.iter().map(|a| a.reference.as_str()).collect();
    assert_eq!(references.len(), BURST, "a reference given twice");
    assert_coverage_matches(&store, &after_retries).await;
    eprintln!("{fault:?}: done in {:.1?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamodb_stopped_mid_burst_gives_503s_and_keeps_every_acknowledged_submission() {
    burst_with(Fault::Stop).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamodb_killed_mid_burst_gives_503s_and_leaves_no_half_written_submission() {
    burst_with(Fault::Crash).await;
}
