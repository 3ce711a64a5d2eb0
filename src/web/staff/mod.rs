//! The staff pages under `/medewerkers/`: signing in, the work queue of permit
//! applications, an application with its decisions, and the coverage with its chart
//! and the CSV export. Mounted on the local server only (see `session.rs`). The Week
//! van Respect staff pages are not built yet.

use axum::Router;
use axum::routing::{get, post};

use crate::api::state::AppState;

pub mod coverage;
pub mod permits;
pub mod session;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/medewerkers/inloggen",
            get(session::form).post(session::sign_in),
        )
        .route("/medewerkers/uitloggen", post(session::sign_out))
        .route("/medewerkers/", get(permits::queue))
        .route("/medewerkers/aanvragen/{id}", get(permits::show))
        .route(
            "/medewerkers/aanvragen/{id}/besluit",
            post(permits::decision),
        )
        .route("/medewerkers/dekkingsgraad", get(coverage::page))
        .route("/medewerkers/export.csv", get(coverage::csv))
}
