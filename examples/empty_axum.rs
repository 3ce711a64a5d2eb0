//! The baseline for `infra/bench.sh`: an axum server that does nothing but answer
//! `GET /health`, built with the same release profile as `loket`, so that the
//! start-up figure of `loket serve` can be read against what axum + tokio alone cost.
//!
//! `cargo build --release --example empty_axum`; listens on `LOKET_BIND`
//! (default `127.0.0.1:3000`).

use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let bind = std::env::var("LOKET_BIND").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    let app = Router::new().route("/health", get(health));
    axum::serve(listener, app).await
}
