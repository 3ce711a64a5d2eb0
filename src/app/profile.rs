//! The municipality in use, for the code that reads a request or renders a page
//! without the app at hand: the kern check of a request body (a `validator` check
//! sees only its field) and every page's header and footer (error pages included).
//!
//! The router runs each request inside [`scope`] with the state's catalogue
//! (`src/routes.rs`); outside a request (unit tests, tools) it is Dronten's built-in
//! profile. The catalogue itself stays in [`super::App`]: use cases take it from there.

use std::future::Future;
use std::sync::{Arc, LazyLock};

use crate::domain::Catalogue;
use crate::domain::municipality::Municipality;

tokio::task_local! {
    static IN_USE: Arc<Catalogue>;
}

static BUILT_IN: LazyLock<Arc<Catalogue>> = LazyLock::new(|| Arc::new(Catalogue::default()));

/// Runs `work` (one request) with `catalogue` as the municipality in use.
pub async fn scope<F: Future>(catalogue: Arc<Catalogue>, work: F) -> F::Output {
    IN_USE.scope(catalogue, work).await
}

/// The catalogue in use: the request's, else the built-in one.
pub fn catalogue() -> Arc<Catalogue> {
    IN_USE
        .try_with(Arc::clone)
        .unwrap_or_else(|_| Arc::clone(&BUILT_IN))
}

/// The municipality in use, for a moment.
pub fn with<R>(f: impl FnOnce(&Municipality) -> R) -> R {
    f(&catalogue().municipality)
}
