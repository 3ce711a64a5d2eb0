//! The HTTP edge: one axum router per audience, merged here. The same router serves
//! locally (`axum::serve`) and inside Lambda (`lambda_http::run`); each Lambda
//! function mounts only its own audience's routes.

use axum::Json;
use axum::Router;
use axum::routing::get;
use serde::Serialize;
use utoipa::ToSchema;

pub mod admin;
pub mod admin_respect_week;
pub mod auth;
pub mod error;
pub mod extract;
pub mod headers;
pub mod history;
pub mod idempotency;
pub mod lost_link;
pub mod messages;
pub mod openapi;
pub mod permits;
pub mod query;
pub mod respect_week;
pub mod secrets;
pub mod state;
pub mod validate;

use error::ApiError;
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

async fn not_found() -> ApiError {
    ApiError::NotFound
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// Health, the OpenAPI document and problem+json for unknown paths and methods:
/// part of every function's router.
fn operational(routes: Router<AppState>, state: AppState) -> Router {
    routes
        .route("/health", get(health))
        .route("/openapi.json", get(openapi::serve))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::map_response(headers::secure))
        .with_state(state)
}

/// The organisers' routes: the `permits` Lambda function.
pub fn permits_app(state: AppState) -> Router {
    operational(permits::router().merge(crate::web::permit_pages()), state)
}

/// Week van Respect for schools, sport clubs and the public: the `respect_week`
/// Lambda function.
pub fn respect_week_app(state: AppState) -> Router {
    operational(
        respect_week::router().merge(crate::web::respect_week_pages()),
        state,
    )
}

/// The staff routes and the staff pages: the `admin` Lambda function. The Week van Respect staff routes
/// (`admin_respect_week::router()`) are merged here and in [`app`] as well.
pub fn admin_app(state: AppState) -> Router {
    operational(
        admin::router()
            .merge(admin_respect_week::router())
            .merge(crate::web::staff_pages()),
        state,
    )
}

/// Every route: the local server.
pub fn app(state: AppState) -> Router {
    operational(
        Router::new()
            .merge(permits::router())
            .merge(respect_week::router())
            .merge(admin::router())
            .merge(admin_respect_week::router())
            .merge(crate::web::pages()),
        state,
    )
}
