//! The HTTP API: one axum router per audience, JSON in and out, on the use cases of
//! `app`. `crate::routes` assembles these routers with the pages' for the local
//! server and for each Lambda function.

use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub mod admin;
pub mod admin_respect_week;
pub mod auth;
pub mod cursors;
pub mod error;
pub mod extract;
pub mod headers;
pub mod history;
pub mod lost_link;
pub mod openapi;
mod openapi_links;
pub mod permits;
pub mod query;
pub mod respect_week;
pub mod state;
pub mod validate;

pub use state::AppState;

#[derive(Serialize, ToSchema)]
pub struct Health {
    status: &'static str,
}

#[utoipa::path(get, path = "/health", tag = "operational",
    responses((status = 200, description = "The process is up (the store is not touched)", body = Health)))]
pub async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Health and the OpenAPI document: part of every Lambda function's routes.
pub fn operational_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(openapi::serve))
}

/// Every route of the API, each declared once by its `#[utoipa::path]`: the
/// OpenAPI document is read from this router (`openapi::document`).
pub fn every_route() -> OpenApiRouter<AppState> {
    operational_router()
        .merge(permits::router())
        .merge(respect_week::router())
        .merge(admin::router())
        .merge(admin_respect_week::router())
}

/// Unknown paths: problem+json 404.
pub async fn not_found() -> error::ApiError {
    error::ApiError::NotFound
}

/// Known paths with another method: problem+json 405.
pub async fn method_not_allowed() -> error::ApiError {
    error::ApiError::MethodNotAllowed
}
