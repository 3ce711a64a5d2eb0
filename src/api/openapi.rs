//! `GET /openapi.json`: the OpenAPI 3.1 document, generated from the handlers and
//! types themselves so it cannot drift from the code.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::response::Response;
use utoipa::openapi::schema::{AdditionalProperties, SchemaType, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Header, Ref, RefOr, Schema};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::domain::text::{self, Lines};

use super::error;

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

/// What every operation can answer besides its own documented outcomes, added in
/// one place from what the operation is: every error is `application/problem+json`;
/// a JSON body can be malformed (400: not JSON, or a key twice), too large (413),
/// of another media type (415) or invalid (422); a query can be malformed (400); a
/// staff route can be unauthenticated (401) or forbidden (403); an `If-Match` route
/// can be stale (412) or missing it (428); every route that reads the store can find
/// it throttled or unreachable (503, with `Retry-After`). Request objects refuse
/// unknown fields, and free text carries the pattern of [`text::pattern`].
struct Contract;

/// Public documents, cached by their `ETag` (`headers::public`).
const PUBLIC: &[(&str, &str)] = &[
    ("get", "/openapi.json"),
    ("get", "/respect-week/{year}/activities"),
    ("get", "/respect-week/{year}/program.ics"),
];

/// The conditional GET of a public document: `If-None-Match` in, 304 or `ETag` and
/// `Cache-Control` out.
fn conditional(op: &mut Operation) {
    let header = |description: &str| {
        let mut h =
            Header::new(utoipa::openapi::schema::ObjectBuilder::new().schema_type(Type::String));
        h.description = Some(description.into());
        h
    };
    let param: utoipa::openapi::path::Parameter = serde_json::from_value(serde_json::json!({
        "name": "If-None-Match", "in": "header", "required": false,
        "description": "The ETag of the copy the client has: 304 when it is still current",
        "schema": {"type": "string"}
    }))
    .expect("a valid parameter");
    op.parameters.get_or_insert_with(Vec::new).push(param);
    if let Some(RefOr::T(ok)) = op.responses.responses.get_mut("200") {
        ok.headers
            .insert("ETag".into(), header("A digest of the document's bytes"));
        ok.headers
            .insert("Cache-Control".into(), header("public, max-age=60"));
    }
    let mut not_modified = Response::new("The client's copy (If-None-Match) is current");
    not_modified
        .headers
        .insert("ETag".into(), header("A digest of the document's bytes"));
    op.responses
        .responses
        .insert("304".into(), RefOr::T(not_modified));
}

/// Routes that never touch the store.
const STORELESS: &[&str] = &["/health", "/openapi.json", "/respect-week/editions"];

fn problem(description: &str) -> RefOr<Response> {
    let mut response = Response::new(description);
    response.content.insert(
        "application/problem+json".into(),
        Content::new(Some(Ref::from_schema_name("Problem"))),
    );
    RefOr::T(response)
}

fn add(op: &mut Operation, status: &str, description: &str) {
    op.responses
        .responses
        .entry(status.to_string())
        .or_insert_with(|| problem(description));
}

fn complete(path: &str, op: &mut Operation) {
    let params = op.parameters.as_deref().unwrap_or_default();
    let has_query = params.iter().any(|p| p.parameter_in == ParameterIn::Query);
    let has_if_match = params.iter().any(|p| p.name == "If-Match");
    let staff = op
        .security
        .as_ref()
        .is_some_and(|s| serde_json::to_string(s).is_ok_and(|text| text.contains("staff_jwt")));
    if op.request_body.is_some() {
        add(
            op,
            "400",
            "Not JSON, or a key sent twice (`malformed_json`, `duplicate_key`)",
        );
        add(
            op,
            "408",
            "The body did not arrive in time (local server only)",
        );
        add(op, "413", "Body over 64 KiB");
        add(op, "415", "Not application/json");
        add(
            op,
            "422",
            "Every invalid, missing or unknown field, each with a code and a message",
        );
    }
    if has_query {
        add(
            op,
            "400",
            "An unknown, repeated or malformed parameter (`invalid_query`)",
        );
    }
    if op.request_body.is_some() && !staff {
        add(
            op,
            "429",
            "Too many anonymous writes from this client; try again after Retry-After seconds",
        );
        if let Some(RefOr::T(r)) = op.responses.responses.get_mut("429") {
            r.headers.insert(
                "Retry-After".into(),
                Header::new(
                    utoipa::openapi::schema::ObjectBuilder::new().schema_type(Type::Integer),
                ),
            );
        }
    }
    if staff {
        add(op, "401", "No valid staff token");
        add(op, "403", "Not a staff member");
    }
    if has_if_match {
        add(
            op,
            "412",
            "If-Match names an older version (someone else changed it)",
        );
        add(op, "428", "No If-Match");
    }
    if !STORELESS.contains(&path) {
        add(
            op,
            "503",
            "The store is throttled or unreachable; try again after Retry-After seconds",
        );
        if let Some(RefOr::T(r)) = op.responses.responses.get_mut("503") {
            r.headers.insert(
                "Retry-After".into(),
                Header::new(
                    utoipa::openapi::schema::ObjectBuilder::new().schema_type(Type::Integer),
                ),
            );
        }
    }
    // An empty query value counts as absent (`?status=&year=`): the document says so.
    for param in op.parameters.iter_mut().flatten() {
        if param.parameter_in == ParameterIn::Query
            && let Some(schema) = param.schema.take()
        {
            let empty = serde_json::json!({"type": "string", "maxLength": 0});
            param.schema =
                serde_json::from_value(serde_json::json!({"anyOf": [schema, empty]})).ok();
        }
    }
    // Every error, documented here or at the handler, is problem+json.
    for (status, response) in op.responses.responses.iter_mut() {
        if status.as_str() >= "400"
            && let RefOr::T(r) = response
        {
            r.content.clear();
            r.content.insert(
                "application/problem+json".into(),
                Content::new(Some(Ref::from_schema_name("Problem"))),
            );
        }
    }
}

/// Request objects: no unknown fields, no `default: null` (the lenient reading
/// shows through `#[serde(default)]`, the contract has none), nested objects as plain
/// references; free text (a string without format, pattern or enum) gets the text
/// pattern, multi-line when it may be longer than 200 characters. Returns the
/// schemas it refers to.
fn tighten(schema: &mut Schema) -> Vec<String> {
    let mut nested = Vec::new();
    let Schema::Object(object) = schema else {
        return nested;
    };
    if object.schema_type != SchemaType::Type(Type::Object) {
        return nested; // an enum of strings
    }
    object.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
    let required = object.required.clone();
    for (name, property) in object.properties.iter_mut() {
        if let RefOr::T(Schema::OneOf(one)) = property
            && let [RefOr::Ref(r)] = one.items.as_slice()
        {
            *property = RefOr::Ref(r.clone());
        }
        match property {
            RefOr::Ref(r) => nested.push(r.ref_location.clone()),
            RefOr::T(Schema::Object(p)) => {
                p.default = None;
                let is_string = match &p.schema_type {
                    SchemaType::Type(Type::String) => true,
                    SchemaType::Array(types) => types.contains(&Type::String),
                    _ => false,
                };
                if is_string && p.format.is_none() && p.pattern.is_none() && p.enum_values.is_none()
                {
                    let lines = if p.max_length.unwrap_or(0) > 200 {
                        Lines::Many
                    } else {
                        Lines::One
                    };
                    p.pattern = Some(text::pattern(lines, required.contains(name)));
                }
            }
            _ => {}
        }
    }
    nested
}

impl Modify for Contract {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let mut request_schemas = Vec::new();
        for (path, item) in openapi.paths.paths.iter_mut() {
            if let Some(get) = &mut item.get
                && PUBLIC.contains(&("get", path.as_str()))
            {
                conditional(get);
            }
            for op in [&mut item.get, &mut item.post].into_iter().flatten() {
                complete(path, op);
                if let Some(body) = &op.request_body {
                    for content in body.content.values() {
                        if let Some(RefOr::Ref(r)) = &content.schema {
                            request_schemas.push(r.ref_location.clone());
                        }
                    }
                }
            }
        }
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        // utoipa drops the `null` of an `Option<S>` whose `S` is a generic parameter
        // (`StaffChange<S>::from`); the first change of a history has no `from`.
        for (name, schema) in components.schemas.iter_mut() {
            if name.starts_with("StaffChange_")
                && let RefOr::T(Schema::Object(change)) = schema
                && let Some(RefOr::T(Schema::Object(from))) = change.properties.get_mut("from")
            {
                from.schema_type = SchemaType::Array(vec![Type::String, Type::Null]);
                if let Some(values) = from.enum_values.as_mut() {
                    values.push(serde_json::Value::Null);
                }
            }
        }
        // The request types and the objects they nest, each once.
        let mut done = std::collections::BTreeSet::new();
        while let Some(location) = request_schemas.pop() {
            let name = location.rsplit('/').next().unwrap_or_default().to_string();
            if !done.insert(name.clone()) {
                continue;
            }
            if let Some(RefOr::T(schema)) = components.schemas.get_mut(&name) {
                request_schemas.extend(tighten(schema));
            }
        }
    }
}

/// The links between operations (`openapi_links.rs`).
struct Links;

impl Modify for Links {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        super::openapi_links::add_links(openapi);
    }
}

/// What the routes do not say: the info, the shared schemas and the tags. The paths
/// come from the routers (`super::every_route`), each declared once by its
/// `#[utoipa::path]`.
#[derive(OpenApi)]
#[openapi(
    // The served document names the profile in use (`document_for`).
    info(title = "loket", description = "Online counter of a municipality for events"),
    // Parameter types are not collected from `IntoParams`: named here.
    components(schemas(error::Problem, error::FieldError, super::query::CsvDialect)),
    tags((name = "permits", description = "Event permits and meldingen, for organisers"),
         (name = "respect_week", description = "Week van Respect: registrations by schools and sport clubs, and the public programme"),
         (name = "admin", description = "Staff: review, export and leges coverage (JWT with group `staff`)"))
)]
pub struct ApiDoc;

pub fn document() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(super::every_route())
        .split_for_parts();
    // After the paths are in: each of these completes every operation.
    for modifier in [&Security as &dyn Modify, &Contract, &Links] {
        modifier.modify(&mut doc);
    }
    doc
}

#[utoipa::path(get, path = "/openapi.json", tag = "operational",
    responses((status = 200, description = "This document")))]
pub async fn serve(
    axum::extract::State(state): axum::extract::State<super::AppState>,
    request: axum::http::HeaderMap,
) -> axum::response::Response {
    // The document never changes while the process runs: built on first use, once per
    // profile (a test process serves more than one).
    type Documents = std::collections::HashMap<String, Vec<u8>>;
    static DOCUMENTS: std::sync::LazyLock<std::sync::Mutex<Documents>> =
        std::sync::LazyLock::new(Default::default);
    let profile = &state.catalogue.municipality;
    let key = format!("{}{:?}", profile.name, profile.kernen);
    let body = {
        let mut documents = DOCUMENTS.lock().unwrap_or_else(|e| e.into_inner());
        documents
            .entry(key)
            .or_insert_with(|| serde_json::to_vec(&document_for(profile)).unwrap_or_default())
            .clone()
    };
    super::headers::public(&request, "application/json", body)
}

/// The document as the service of `profile` serves it: its name in the description,
/// its kernen as the `enum` of `Kern`.
pub fn document_for(
    profile: &crate::domain::municipality::Municipality,
) -> utoipa::openapi::OpenApi {
    let mut doc = document();
    doc.info.description = Some(format!(
        "Online counter of the municipality of {} for events",
        profile.name
    ));
    if let Some(components) = doc.components.as_mut()
        && let Some(RefOr::T(Schema::Object(kern))) = components.schemas.get_mut("Kern")
    {
        kern.enum_values = Some(
            profile
                .kernen
                .iter()
                .map(|k| k.code.clone().into())
                .collect(),
        );
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn doc() -> Value {
        serde_json::to_value(document()).unwrap()
    }

    #[test]
    fn every_error_is_problem_json_and_every_operation_id_is_unique() {
        let doc = doc();
        let mut ids = std::collections::BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let id = op["operationId"].as_str().unwrap();
                assert!(ids.insert(id.to_string()), "{method} {path}: id {id} twice");
                for (status, response) in op["responses"].as_object().unwrap() {
                    if status.as_str() >= "400" {
                        let content = response["content"].as_object().unwrap();
                        assert_eq!(
                            content.keys().collect::<Vec<_>>(),
                            ["application/problem+json"],
                            "{method} {path} {status}"
                        );
                    }
                }
                if op.get("requestBody").is_some() {
                    for status in ["400", "413", "415", "422"] {
                        assert!(op["responses"].get(status).is_some(), "{path} {status}");
                    }
                }
            }
        }
    }

    #[test]
    fn every_reference_resolves() {
        let doc = doc();
        let text = doc.to_string();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for part in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = part.split('"').next().unwrap();
            assert!(
                schemas.contains_key(name),
                "$ref to {name}, which is not there"
            );
        }
    }

    #[test]
    fn request_objects_refuse_unknown_fields_and_carry_their_rules() {
        let doc = doc();
        let schemas = &doc["components"]["schemas"];
        for name in [
            "PermitRequest",
            "OrganiserInput",
            "EventInput",
            "InfoRequest",
            "RegistrationRequest",
            "OrganisationInput",
            "ContactInput",
            "ActivityInput",
            "ReviewRequest",
            "RegistrationReviewRequest",
        ] {
            assert_eq!(schemas[name]["additionalProperties"], false, "{name}");
        }
        let name = &schemas["OrganiserInput"]["properties"]["name"];
        assert_eq!(name["pattern"], text::pattern(Lines::One, true));
        assert_eq!(
            (name["minLength"].as_u64(), name["maxLength"].as_u64()),
            (Some(1), Some(200))
        );
        let description = &schemas["EventInput"]["properties"]["description"];
        assert_eq!(description["pattern"], text::pattern(Lines::Many, true));
        assert_eq!(
            schemas["EventInput"]["properties"]["expected_visitors"]["minimum"],
            1
        );
        assert!(
            schemas["OrganiserInput"]["properties"]["name"]
                .get("default")
                .is_none()
        );
    }

    #[test]
    fn the_first_change_of_a_history_may_come_from_nothing() {
        let doc = doc();
        for name in ["StaffChange_PermitStatus", "StaffChange_RegistrationStatus"] {
            let from = &doc["components"]["schemas"][name]["properties"]["from"];
            assert_eq!(
                from["type"],
                serde_json::json!(["string", "null"]),
                "{name}"
            );
            assert!(
                from["enum"].as_array().unwrap().contains(&Value::Null),
                "{name}"
            );
        }
    }
}
