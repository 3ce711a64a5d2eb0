//! Hardening against hostile clients (F1, F10): the local server's limits.

use std::time::{Duration, Instant};

use loket::server::{Limits, run};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;
use crate::permits::zomerfestival;

/// How a slow client misbehaves.
#[derive(Clone, Copy, Debug)]
enum Stall {
    /// Connects and sends nothing.
    Silent,
    /// Half a request line.
    HalfLine,
    /// Headers that announce a body that never comes in full.
    UnfinishedBody,
    /// One complete request, then an idle keep-alive connection.
    IdleKeepAlive,
}

async fn stall(addr: std::net::SocketAddr, how: Stall) -> Option<TcpStream> {
    let mut stream = TcpStream::connect(addr).await.ok()?;
    match how {
        Stall::Silent => {}
        Stall::HalfLine => stream.write_all(b"GET /hea").await.ok()?,
        Stall::UnfinishedBody => stream
            .write_all(
                b"POST /permits HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"organiser\":",
            )
            .await
            .ok()?,
        Stall::IdleKeepAlive => {
            stream
                .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                .await
                .ok()?;
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf).await.ok()?;
        }
    }
    Some(stream)
}

/// Whether the server has closed `stream` (EOF or a reset), reading whatever it sent.
async fn closed_by_server(mut stream: TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue, // a 408 before the close
            Err(_) => return false,
        }
    }
}

/// F1: 2,000 connections that never finish their request neither stop the server
/// nor stay open past the timeouts. Loopback only, bounded in count and time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_stalled_connections_neither_block_the_server_nor_stay_open() {
    let app = spawn_app().await;
    let listener = loket::server::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let limits = Limits {
        head_timeout: Duration::from_secs(2),
        body_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
        max_connections: 4096,
        rate_per_minute: 0,
    };
    let router = loket::routes::app(app.state.clone());
    tokio::spawn(run(listener, router, limits, std::future::pending()));

    let kinds = [
        Stall::Silent,
        Stall::HalfLine,
        Stall::UnfinishedBody,
        Stall::IdleKeepAlive,
    ];
    let mut opening = Vec::new();
    for i in 0..2000 {
        let kind = kinds[i % kinds.len()];
        opening.push(tokio::spawn(async move {
            stall(addr, kind).await.map(|s| (kind, s))
        }));
    }
    let mut stalled = Vec::new();
    for handle in opening {
        if let Some(stream) = handle.await.unwrap() {
            stalled.push(stream);
        }
    }
    assert_eq!(stalled.len(), 2000, "every slow connection was accepted");

    // Real clients are still served, promptly.
    let base = format!("http://{addr}");
    let client = reqwest::Client::new();
    let started = Instant::now();
    let health = client.get(format!("{base}/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let submitted = client
        .post(format!("{base}/permits"))
        .json(&zomerfestival())
        .send()
        .await
        .unwrap();
    assert_eq!(submitted.status(), 201);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(1), "served in {took:?}");

    // Every slow connection is closed by the server within its timeout (plus slack).
    let mut closing = Vec::new();
    for (kind, stream) in stalled {
        closing.push(tokio::spawn(async move {
            (kind, closed_by_server(stream, Duration::from_secs(6)).await)
        }));
    }
    let mut still_open = Vec::new();
    for handle in closing {
        let (kind, closed) = handle.await.unwrap();
        if !closed {
            still_open.push(kind);
        }
    }
    assert!(
        still_open.is_empty(),
        "left open past the timeouts: {still_open:?}"
    );
}

/// F10: an answer given before the body was read ends the connection and says so, so
/// a pooled client never sends its next request into the remains of this one.
#[tokio::test]
async fn an_early_415_or_413_closes_the_connection_properly() {
    let app = spawn_app().await;
    let unsupported = app
        .request(reqwest::Method::POST, "/permits")
        .header("content-type", "text/plain")
        .body("x".repeat(1000))
        .send()
        .await
        .unwrap();
    assert_eq!(unsupported.status(), 415);
    assert_eq!(unsupported.headers()["connection"], "close");
    let too_large = app
        .request(reqwest::Method::POST, "/permits")
        .header("content-type", "application/json")
        .body("x".repeat(70 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(too_large.status(), 413);
    assert_eq!(too_large.headers()["connection"], "close");
    // The same client goes on with a fresh connection.
    let next = app.get("/health").await;
    assert_eq!(next.status(), 200);
}

/// F5: anonymous writes and quotes are limited per client; others go on.
#[tokio::test]
async fn anonymous_writes_are_limited_per_client_with_429_and_retry_after() {
    let app = spawn_app().await;
    let listener = loket::server::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let limits = Limits {
        rate_per_minute: 3,
        ..Limits::default()
    };
    tokio::spawn(run(
        listener,
        loket::routes::app(app.state.clone()),
        limits,
        std::future::pending(),
    ));
    let base = format!("http://{addr}");
    let client_at = |ip: [u8; 4]| {
        reqwest::Client::builder()
            .local_address(std::net::IpAddr::from(ip))
            .build()
            .unwrap()
    };
    let first = client_at([127, 0, 0, 1]);
    let quote = || {
        first
            .post(format!("{base}/permits/quote"))
            .json(&zomerfestival())
            .send()
    };
    for _ in 0..3 {
        assert_eq!(quote().await.unwrap().status(), 200);
    }
    let refused = quote().await.unwrap();
    assert_eq!(refused.status(), 429);
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
    assert_eq!(
        refused.headers()["content-type"],
        "application/problem+json"
    );
    let problem: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(problem["type"], "/problems/too_many_requests");
    // Reads are not limited; nor is another client.
    let health = first.get(format!("{base}/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let other = client_at([127, 0, 0, 2])
        .post(format!("{base}/permits/quote"))
        .json(&zomerfestival())
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200);
}

/// Sends `request` raw on a fresh connection and reads until the server closes it.
async fn raw_exchange(addr: &str, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer))
        .await
        .expect("the server closes the connection")
        .unwrap();
    String::from_utf8(answer).unwrap()
}

/// #10: what hyper refuses before any route runs (not HTTP, a target too long, too
/// many or too large headers) is answered as problem+json too, and the connection
/// ends; so is a broken request that follows a good one on a kept-alive connection.
#[tokio::test]
async fn http_layer_errors_are_problem_json() {
    let app = spawn_app().await;
    let addr = app.base.trim_start_matches("http://").to_string();
    let many_headers: String = (0..150).map(|i| format!("X-Header-{i}: y\r\n")).collect();
    let cases = [
        ("GARBAGE\r\n\r\n".to_string(), 400, "malformed_request"),
        (
            "GET /health HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n".to_string(),
            400,
            "malformed_request",
        ),
        (
            format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(70_000)),
            414,
            "uri_too_long",
        ),
        (
            format!("GET /health HTTP/1.1\r\nHost: x\r\n{many_headers}\r\n"),
            431,
            "headers_too_large",
        ),
        (
            "GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost x\r\n\r\n".to_string(),
            400,
            "malformed_request",
        ),
    ];
    for (request, status, code) in cases {
        let answer = raw_exchange(&addr, request.as_bytes()).await;
        // The last answer on the connection is the refusal.
        let last = answer.rfind("HTTP/1.1 ").unwrap();
        let (head, body) = answer[last..].split_once("\r\n\r\n").unwrap();
        let head = head.to_ascii_lowercase();
        assert!(head.starts_with(&format!("http/1.1 {status} ")), "{head}");
        assert!(
            head.contains("content-type: application/problem+json"),
            "{head}"
        );
        assert!(head.contains("connection: close"), "{head}");
        assert!(head.contains("x-content-type-options: nosniff"), "{head}");
        let problem: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(problem["type"], format!("/problems/{code}"), "{body}");
        assert_eq!(problem["status"], status);
        assert!(!problem["detail"].as_str().unwrap().is_empty());
    }
    // The router's own answers pass through untouched.
    let health = app.get("/health").await;
    assert_eq!(health.status(), 200);
}
