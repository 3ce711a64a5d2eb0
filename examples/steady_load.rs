//! A load at a steady rate, for `infra/bench.sh`: wrk sends as fast as it can, but
//! the question "what is p99 at 500 requests per second" needs the requests to come
//! at that rate whatever the answers do (no coordinated omission: each request is
//! timed from when it was due, not from when it was sent).
//!
//!     steady_load URL BODY_FILE RATE SECONDS    # POSTs BODY_FILE as JSON
//!
//! Prints `p50 … ms  p99 … ms  max … ms  rate … req/s  non-2xx N`.

use std::time::{Duration, Instant};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, body_file, rate, seconds] = &args[..] else {
        eprintln!("usage: steady_load URL BODY_FILE RATE SECONDS");
        std::process::exit(2);
    };
    let body = std::fs::read(body_file).expect("the body file");
    let rate: u64 = rate.parse().expect("a rate");
    let seconds: u64 = seconds.parse().expect("seconds");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .unwrap();
    let interval = Duration::from_nanos(1_000_000_000 / rate);
    let start = Instant::now();
    let total = rate * seconds;
    let mut tasks = Vec::with_capacity(total as usize);
    for i in 0..total {
        let due = start + interval * i as u32;
        tokio::time::sleep_until(due.into()).await;
        let (client, url, body) = (client.clone(), url.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let ok = client
                .post(&url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            (due.elapsed(), ok)
        }));
    }
    let mut latencies = Vec::with_capacity(tasks.len());
    let mut failed = 0;
    for task in tasks {
        let (latency, ok) = task.await.unwrap();
        latencies.push(latency);
        failed += usize::from(!ok);
    }
    let elapsed = start.elapsed().as_secs_f64();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms  rate {:.0} req/s  non-2xx {failed}",
        ms(at(0.50)),
        ms(at(0.99)),
        ms(*latencies.last().unwrap()),
        latencies.len() as f64 / elapsed
    );
}
