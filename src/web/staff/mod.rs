//! The staff pages under `/medewerkers/`: signing in, the work queue of permit
//! applications, an application with its decisions, and the coverage with its chart
//! and the CSV export, and a Week van Respect edition with publish, decline and its
//! summary. Mounted on the local server only (see `session.rs`).

use axum::Router;
use axum::routing::{get, post};

use crate::api::state::AppState;

pub mod coverage;
pub mod permits;
pub mod respect_week;
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
        .route("/medewerkers/week-van-respect", get(respect_week::current))
        .route(
            "/medewerkers/week-van-respect/{year}",
            get(respect_week::edition),
        )
        .route(
            "/medewerkers/week-van-respect/{year}/{id}",
            post(respect_week::review),
        )
}
