//! The pages' stylesheet and script, embedded in the binary (a Lambda function has no
//! file system to serve from). Their paths carry a digest of their bytes, so they can
//! be cached for a year: a new build is a new path.

use std::sync::LazyLock;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

use crate::api::state::AppState;

/// The NL Design System's example theme and components, and the Dronten theme
/// (built by build.rs from web/).
pub const CSS: &str = include_str!(concat!(env!("OUT_DIR"), "/loket.css"));

/// Progressive enhancement only.
pub const JS: &str = include_str!("../../web/loket.js");

fn versioned(stem: &str, ext: &str, body: &str) -> String {
    let digest = Sha256::digest(body.as_bytes());
    format!("/static/{stem}-{}.{ext}", hex::encode(&digest[..8]))
}

pub static CSS_PATH: LazyLock<String> = LazyLock::new(|| versioned("loket", "css", CSS));
pub static JS_PATH: LazyLock<String> = LazyLock::new(|| versioned("loket", "js", JS));

pub fn router() -> Router<AppState> {
    Router::new().route("/static/{file}", get(serve))
}

async fn serve(Path(file): Path<String>) -> Response {
    let path = format!("/static/{file}");
    let (body, content_type) = if path == *CSS_PATH {
        (CSS, "text/css; charset=utf-8")
    } else if path == *JS_PATH {
        (JS, "text/javascript; charset=utf-8")
    } else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    response
}
