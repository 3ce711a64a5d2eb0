//! Every route in one place: which routers each Lambda function mounts, and the
//! local server, which mounts them all. The API (`api`) and the pages (`web`) are
//! siblings: neither mounts the other.

use axum::Router;

use crate::api::{self, AppState, admin, admin_respect_week, headers, permits};
use crate::web;

/// Health, the OpenAPI document and problem+json for unknown paths and methods:
/// part of every function's router.
fn operational(routes: Router<AppState>, state: AppState) -> Router {
    routes
        .merge(Router::from(api::operational_router()))
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::method_not_allowed)
        .layer(axum::middleware::map_response(headers::secure))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            in_profile,
        ))
        .with_state(state)
}

/// Every request runs with the state's municipality as the one in use
/// (`app::profile`): the kern check of a body and the pages' header and footer.
async fn in_profile(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    crate::app::profile::scope(std::sync::Arc::clone(&state.catalogue), next.run(request)).await
}

/// The organisers' routes and pages: the `permits` Lambda function.
pub fn permits_app(state: AppState) -> Router {
    operational(
        Router::from(permits::router()).merge(web::permit_pages()),
        state,
    )
}

/// Week van Respect for schools, sport clubs and the public: the `respect_week`
/// Lambda function.
pub fn respect_week_app(state: AppState) -> Router {
    operational(
        Router::from(api::respect_week::router()).merge(web::respect_week_pages()),
        state,
    )
}

/// The staff routes and the staff pages: the `admin` Lambda function.
pub fn admin_app(state: AppState) -> Router {
    operational(
        Router::from(admin::router().merge(admin_respect_week::router())).merge(web::staff_pages()),
        state,
    )
}

/// Every route: the local server.
pub fn app(state: AppState) -> Router {
    operational(
        Router::from(
            permits::router()
                .merge(api::respect_week::router())
                .merge(admin::router())
                .merge(admin_respect_week::router()),
        )
        .merge(web::pages()),
        state,
    )
}
