//! The staff pages under `/medewerkers` (the work queue) and below it: signing in, the work queue of permit
//! applications, an application with its decisions, and the coverage with its chart
//! and the CSV export, and a Week van Respect edition with publish, decline, its
//! summary, one registration in full and the coordinator's CSV of contacts. The local server mounts [`router`], the `admin` Lambda function
//! [`lambda_router`]: the same pages without the local sign-in (see `session.rs`).

use axum::Router;
use axum::routing::{get, post};

use crate::api::state::AppState;

pub mod coverage;
pub mod permits;
pub mod respect_week;
pub mod session;

/// The staff pages with the local sign-in beside the hosted one.
pub fn router() -> Router<AppState> {
    pages()
        .route(
            "/medewerkers/inloggen",
            get(session::hosted_or_local).post(session::sign_in),
        )
        // What people type; every link says `/medewerkers`.
        .route(
            "/medewerkers/",
            get(|| async { axum::response::Redirect::permanent("/medewerkers") }),
        )
}

/// The staff pages as the `admin` Lambda function serves them: Cognito's hosted
/// sign-in only. The local sign-in's post does not exist here.
pub fn lambda_router() -> Router<AppState> {
    pages().route("/medewerkers/inloggen", get(session::hosted_only))
}

fn pages() -> Router<AppState> {
    Router::new()
        .route("/medewerkers/inloggen/terug", get(session::callback))
        .route("/medewerkers/uitgelogd", get(session::signed_out))
        .route("/medewerkers/uitloggen", post(session::sign_out))
        .route("/medewerkers", get(permits::queue))
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
            "/medewerkers/week-van-respect/{year}/contacten.csv",
            get(respect_week::contacts_csv),
        )
        .route(
            "/medewerkers/week-van-respect/{year}/{id}",
            get(respect_week::detail).post(respect_week::review),
        )
}
