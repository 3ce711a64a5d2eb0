//! `GET /openapi.json`: the OpenAPI 3.1 document, generated from the handlers and
//! types themselves so it cannot drift from the code.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{admin, admin_respect_week, error, permits, respect_week};

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "access_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The access token returned once when the item was created",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "staff_jwt",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("A staff member's JWT (group `staff`)"))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "loket", description = "Online counter of the municipality of Dronten for events"),
    paths(
        super::health,
        serve,
        permits::quote,
        permits::submit,
        permits::read,
        permits::withdraw,
        permits::answer_info,
        respect_week::editions,
        respect_week::register,
        respect_week::programme,
        respect_week::programme_ics,
        respect_week::read,
        respect_week::cancel,
        admin::list,
        admin::read,
        admin::review,
        admin::export_csv,
        admin::leges_coverage,
        admin_respect_week::list,
        admin_respect_week::read,
        admin_respect_week::review,
        admin_respect_week::summary,
    ),
    components(schemas(error::Problem, error::FieldError)),
    modifiers(&Security),
    tags((name = "permits", description = "Event permits and meldingen, for organisers"),
         (name = "respect_week", description = "Week van Respect: registrations by schools and sport clubs, and the public programme"),
         (name = "admin", description = "Staff: review, export and leges coverage (JWT with group `staff`)"))
)]
pub struct ApiDoc;

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

#[utoipa::path(get, path = "/openapi.json", tag = "operational",
    responses((status = 200, description = "This document")))]
pub async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(document())
}
