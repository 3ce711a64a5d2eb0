//! The embedded store's group commit under `kill -9`: `loket serve` (a process of
//! its own) takes a burst of concurrent applications and is killed in the middle of
//! it. After the restart every application that was acknowledged (201) is there
//! with its token, the register has no gap, and the coverage counts exactly what is
//! stored: nothing acknowledged is lost and nothing half-written appears.

#[path = "common/process.rs"]
mod process;

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use process::{Launch, Process, free_port};
use serde_json::Value;
use tokio::sync::Mutex;

const SECRET: &str = "crash-test-secret-of-at-least-32-bytes";

fn start(port: u16, data: &std::path::Path) -> Process {
    Launch::new("loket", env!("CARGO_BIN_EXE_loket"), port)
        .arg("serve")
        .env("LOKET_BIND", format!("127.0.0.1:{port}"))
        .env("LOKET_DATA_DIR", data)
        .env("LOKET_NOW", "2017-03-01T10:00:00+01:00")
        .env("LOKET_JWT_SECRET", SECRET)
        .env("LOKET_RATE_LIMIT", "0")
        .env("LOKET_STORE", "embedded")
        .env("RUST_LOG", "error")
        .start()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_applications_survive_kill_9_in_the_middle_of_a_burst() {
    let port = free_port();
    let data = tempfile::tempdir().unwrap();
    let loket = start(port, data.path());
    let base = format!("http://127.0.0.1:{port}");
    let body: Value = serde_json::from_str(include_str!("fixtures/zomerfestival.json")).unwrap();
    let acknowledged = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
    let client = reqwest::Client::new();

    // 32 senders, each posting until the server is gone.
    let mut senders = Vec::new();
    for _ in 0..32 {
        let (client, base, body, acknowledged) = (
            client.clone(),
            base.clone(),
            body.clone(),
            acknowledged.clone(),
        );
        senders.push(tokio::spawn(async move {
            loop {
                let Ok(response) = client
                    .post(format!("{base}/permits"))
                    .json(&body)
                    .send()
                    .await
                else {
                    return;
                };
                if response.status() != 201 {
                    return;
                }
                let Ok(created) = response.json::<Value>().await else {
                    return;
                };
                acknowledged.lock().await.push((
                    created["id"].as_str().unwrap().to_string(),
                    created["access_token"].as_str().unwrap().to_string(),
                ));
            }
        }));
    }
    // Kill it while the burst is going on.
    let deadline = Instant::now() + Duration::from_secs(30);
    while acknowledged.lock().await.len() < 150 {
        assert!(Instant::now() < deadline, "the burst did not get going");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    loket.kill(); // SIGKILL
    for sender in senders {
        sender.await.unwrap();
    }
    let acknowledged = acknowledged.lock().await.clone();

    let loket = start(port, data.path());
    for (id, token) in &acknowledged {
        let read = client
            .get(format!("{base}/permits/{id}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(read.status(), 200, "acknowledged application {id} lost");
    }
    let staff = loket::api::auth::StaffAuth::hs256(SECRET, None, None)
        .unwrap()
        .mint("crash-test", chrono::Utc::now().timestamp(), 600)
        .unwrap();
    let coverage: Value = client
        .get(format!("{base}/admin/leges/coverage?year=2017"))
        .bearer_auth(&staff)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let stored = coverage["by_category"]["C"]["count"].as_u64().unwrap() as usize;
    assert!(
        stored >= acknowledged.len(),
        "{stored} stored, {} acknowledged",
        acknowledged.len()
    );
    assert_eq!(
        coverage["imposed_cents"].as_u64().unwrap(),
        146_300 * stored as u64,
        "the coverage counts exactly what is stored"
    );
    // The register has no gap: the next application gets the next number.
    let next: Value = client
        .post(format!("{base}/permits"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(next["reference"], format!("EV-2017-{:04}", stored + 1));
    loket.kill();
}

/// SIGTERM (what a service manager sends) stops `loket serve` cleanly: it exits 0,
/// having closed the store, and what it acknowledged is there on the next start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_server_cleanly() {
    let port = free_port();
    let data = tempfile::tempdir().unwrap();
    let mut loket = start(port, data.path());
    let base = format!("http://127.0.0.1:{port}");
    let body: Value = serde_json::from_str(include_str!("fixtures/zomerfestival.json")).unwrap();
    let created: Value = reqwest::Client::new()
        .post(format!("{base}/permits"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let terminated = Command::new("kill")
        .args(["-TERM", &loket.id().to_string()])
        .status()
        .unwrap();
    assert!(terminated.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = loket.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "still running 10 s after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "{status:?}");

    let loket = start(port, data.path());
    let read = reqwest::Client::new()
        .get(format!(
            "{base}/permits/{}",
            created["id"].as_str().unwrap()
        ))
        .bearer_auth(created["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    loket.kill();
}
