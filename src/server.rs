//! The local HTTP server (`loket serve`): axum's router on hyper, with the limits a
//! server facing the internet needs and `axum::serve` does not set (hardening F1).
//!
//! - **Head**: a request line and headers must arrive within `head_timeout`; the same
//!   timer closes a keep-alive connection that stays idle (hyper's header-read timeout,
//!   which needs a timer to run), and a connection that never sends a byte is closed
//!   after as long.
//! - **Body**: an announced body must arrive within `body_timeout` (tower-http).
//! - **Request**: the whole answer is due within `request_timeout` (tower-http: 408).
//! - **Connections**: at most `max_connections` at once; beyond that the server stops
//!   accepting until one closes, and waiting clients stay in the kernel's backlog.
//! - **Rate** (hardening F5): a client (by IP address) may send `rate_per_minute`
//!   anonymous writes and quotes (every `POST` outside `/admin/`) a minute, with a
//!   burst of as many; then 429 with `Retry-After`. Staff routes and reads are not
//!   limited here. `0` turns the limit off.
//!
//! - **Protocol errors**: hyper's own 400, 414 and 431 leave as problem+json too
//!   ([`protocol`]).
//!
//! On Lambda none of this applies: API Gateway holds the connections.

mod protocol;

use std::future::Future;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};

/// The limits of the local server.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub head_timeout: Duration,
    pub body_timeout: Duration,
    pub request_timeout: Duration,
    pub max_connections: usize,
    pub rate_per_minute: u32,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            head_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            // Well under the usual 20,000 file descriptors, far above real use.
            max_connections: 4096,
            rate_per_minute: crate::config::DEFAULT_RATE_LIMIT_PER_MINUTE,
        }
    }
}

/// A listening socket with a backlog as deep as the connection limit, so that a burst
/// of connections waits in the kernel instead of being dropped half-open.
pub async fn bind(address: &str) -> std::io::Result<TcpListener> {
    let address = tokio::net::lookup_host(address)
        .await?
        .next()
        .ok_or_else(|| std::io::Error::other(format!("no address for {address}")))?;
    let socket = if address.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(4096)
}

/// Serves `app` on `listener` until `shutdown` completes.
pub async fn run(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let app = app
        .layer(RequestBodyTimeoutLayer::new(limits.body_timeout))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ));
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let limiter = limiter(limits.rate_per_minute);
    tokio::pin!(shutdown);
    loop {
        // A free slot first: when all are taken, stop accepting.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.map_err(std::io::Error::other)?,
            () = &mut shutdown => return Ok(()),
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors or a connection reset before accept: the
                // server goes on; a moment's pause keeps it from spinning.
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => return Ok(()),
        };
        let app = match &limiter {
            Some(limiter) => app.clone().layer(axum::middleware::from_fn_with_state(
                (limiter.clone(), peer.ip()),
                rate_limit,
            )),
            None => app.clone(),
        };
        let service = TowerToHyperService::new(app);
        tokio::spawn(async move {
            // hyper's head timer starts with the first byte: a client that sends none
            // is given the same time, and no more.
            let mut first = [0u8; 1];
            match tokio::time::timeout(limits.head_timeout, stream.peek(&mut first)).await {
                Ok(Ok(n)) if n > 0 => {}
                _ => return, // silent, closed or failed: the slot frees with `slot`
            }
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.head_timeout)
                .serve_connection(TokioIo::new(protocol::ProblemIo::new(stream)), service);
            // Errors here are the client's (a reset, a timeout): nothing to report.
            let _ = connection.await;
            drop(slot);
        });
    }
}

/// Per-client budgets of anonymous writes (governor's GCRA, keyed by IP address).
type Limiter = Arc<DefaultKeyedRateLimiter<IpAddr>>;

fn limiter(per_minute: u32) -> Option<Limiter> {
    let per_minute = NonZeroU32::new(per_minute)?;
    let limiter: Limiter = Arc::new(RateLimiter::keyed(Quota::per_minute(per_minute)));
    // Clients that have been quiet for a while are forgotten: memory stays bounded.
    let sweeper = Arc::downgrade(&limiter);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(60));
        loop {
            every.tick().await;
            match sweeper.upgrade() {
                Some(limiter) => limiter.retain_recent(),
                None => return,
            }
        }
    });
    Some(limiter)
}

async fn rate_limit(
    State((limiter, client)): State<(Limiter, IpAddr)>,
    request: Request,
    next: Next,
) -> Response {
    let anonymous_write =
        request.method() == Method::POST && !request.uri().path().starts_with("/admin/");
    if anonymous_write && let Err(not_until) = limiter.check_key(&client) {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        let mut response = crate::api::error::ApiError::TooManyRequests.into_response();
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        if let Ok(v) = HeaderValue::from_str(&seconds.max(1).to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return response;
    }
    next.run(request).await
}
