//! The operator's commands: `loket token` and `loket coverage --verify`.

use std::sync::Arc;

use loket::clock::ManualClock;
use loket::domain::Catalogue;

use crate::admin_helpers::withdraw;
use crate::helpers::*;
use crate::permits::{jeugdtoernooi, submit, zomerfestival};

/// Runs the `loket` binary with the given environment.
fn loket(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_loket"));
    command
        .args(args)
        .env_remove("LOKET_JWT_SECRET")
        .env_remove("LOKET_JWT_JWKS")
        .env("RUST_LOG", "warn");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("run loket")
}

#[tokio::test]
async fn loket_token_mints_a_staff_token_the_server_accepts() {
    let out = loket(
        &["token", "--sub", "marieke", "--hours", "2"],
        &[
            ("LOKET_JWT_SECRET", TEST_JWT_SECRET),
            ("LOKET_JWT_ISSUER", TEST_JWT_ISSUER),
            ("LOKET_JWT_AUDIENCE", TEST_JWT_AUDIENCE),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let app = spawn_app().await;
    let response = app.admin_get("/admin/permits", &token).await;
    assert_eq!(response.status(), 200);

    let without_secret = loket(&["token", "--sub", "marieke"], &[]);
    assert!(!without_secret.status.success());
    assert!(String::from_utf8_lossy(&without_secret.stderr).contains("LOKET_JWT_SECRET"));
}

#[tokio::test]
async fn loket_coverage_verify_compares_the_aggregates_with_the_applications() {
    if store_under_test() != "embedded" {
        return; // the command opens the embedded file; DynamoDB is covered by the property test
    }
    use loket::store::embedded::EmbeddedStore;
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap().to_string();
    {
        let store: loket::store::SharedStore = Arc::new(EmbeddedStore::open(dir.path()).unwrap());
        let app = serve(
            store,
            ManualClock::new(at(SUBMISSION_MOMENT)),
            None,
            Catalogue::default(),
        )
        .await;
        submit(&app, &zomerfestival()).await;
        let toernooi = submit(&app, &jeugdtoernooi()).await;
        withdraw(&app, &toernooi).await;
    }
    let env = [
        ("LOKET_DATA_DIR", data_dir.as_str()),
        ("LOKET_STORE", "embedded"),
    ];
    let ok = run_until_unlocked(&["coverage", "--year", "2017", "--verify"], &env).await;
    let stdout = String::from_utf8_lossy(&ok.stdout).to_string();
    assert!(
        ok.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(stdout.contains("\"net_cents\": 150050"), "{stdout}");
    assert!(
        stdout.contains("OK: the aggregates of 2017 equal the recomputation"),
        "{stdout}"
    );

    // Knock the year's aggregate off by one cent, the way a lost update would.
    {
        let store = EmbeddedStore::open(dir.path()).unwrap();
        let mut change = loket::store::Change::create(loket::store::Document {
            collection: loket::store::Collection::Audit,
            id: "corruption".into(),
            version: 1,
            body: "{}".into(),
            gsi1: None,
            gsi2: None,
        });
        change.aggregates = vec![loket::store::AggregateDelta {
            group: loket::store::permits::coverage_group(2017),
            key: "year".into(),
            add: [("imposed_cents".to_string(), 1)].into(),
        }];
        loket::store::DocumentStore::commit(&store, change)
            .await
            .unwrap();
    }
    let bad = run_until_unlocked(&["coverage", "--year", "2017", "--verify"], &env).await;
    let stdout = String::from_utf8_lossy(&bad.stdout).to_string();
    assert!(!bad.status.success(), "a difference fails the command");
    assert!(stdout.contains("DIFFERENCE year"), "{stdout}");
    assert!(String::from_utf8_lossy(&bad.stderr).contains("1 coverage bucket(s) differ for 2017"));
}

/// The embedded file stays locked for a moment after its last user is dropped.
async fn run_until_unlocked(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    for _ in 0..50 {
        let out = loket(args, env);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.success() || !(stderr.contains("lock") || stderr.contains("already open")) {
            return out;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the embedded store stayed locked");
}
