//! The staff pages under `/medewerkers/`: signing in, the work queue of permit
//! applications, and an application with its decisions. Mounted on the local server
//! only (see `session.rs`); the Week van Respect and coverage pages are not built yet.

use axum::Router;
use axum::routing::{get, post};

use crate::api::state::AppState;

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
}
