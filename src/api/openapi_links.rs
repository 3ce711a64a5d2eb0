//! The OpenAPI links of the document: which answer hands which value to which
//! operation. A client reads them to walk from a submission to its reading, review
//! and withdrawal without guessing ids; schemathesis's stateful phase walks them, so
//! that generated requests hold real ids, tokens and versions instead of random ones.
//!
//! One table, checked by a unit test against the document itself: every operation
//! and status named exists, every parameter is one the target takes (or its bearer
//! token), and every body pointer is a field of the source's answer.

use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::{OpenApi, RefOr};

/// One link: from the answer `status` of operation `from` to operation `to`, with
/// the target's parameters as OpenAPI runtime expressions.
pub struct Link {
    pub from: &'static str,
    pub status: &'static str,
    pub to: &'static str,
    pub parameters: &'static [(&'static str, &'static str)],
    pub description: &'static str,
}

/// The organiser's or registrant's access token, handed out once in a 201.
const TOKEN_FROM_CREATED: (&str, &str) = (
    "header.Authorization",
    "Bearer {$response.body#/access_token}",
);
/// The version in the answer, as the `If-Match` a decision needs.
const VERSION: (&str, &str) = ("header.If-Match", "\"{$response.body#/version}\"");
const PERMIT_ID: (&str, &str) = ("path.id", "$response.body#/id");
const REGISTRATION_YEAR: (&str, &str) = ("path.year", "$response.body#/year");
const REGISTRATION_ID: (&str, &str) = ("path.id", "$response.body#/id");
/// The oldest edition of `GET /respect-week/editions`.
const EDITION_YEAR: (&str, &str) = ("path.year", "$response.body#/0/year");

pub const LINKS: &[Link] = &[
    // An application, from its submission.
    Link {
        from: "submit",
        status: "201",
        to: "read_permit",
        parameters: &[PERMIT_ID, TOKEN_FROM_CREATED],
        description: "The organiser reads the application with the token just handed out",
    },
    Link {
        from: "submit",
        status: "201",
        to: "withdraw",
        parameters: &[PERMIT_ID, TOKEN_FROM_CREATED],
        description: "The organiser withdraws the application",
    },
    Link {
        from: "submit",
        status: "201",
        to: "answer_info",
        parameters: &[PERMIT_ID, TOKEN_FROM_CREATED],
        description: "The organiser answers a question (409 until staff ask one)",
    },
    Link {
        from: "submit",
        status: "201",
        to: "staff_read_permit",
        parameters: &[PERMIT_ID],
        description: "Staff open the new application",
    },
    Link {
        from: "submit",
        status: "201",
        to: "review_permit",
        parameters: &[PERMIT_ID, VERSION],
        description: "Staff decide on the version just submitted",
    },
    // Staff, from an application to a decision. (A list may be empty: no link
    // starts at its first item.)
    Link {
        from: "staff_read_permit",
        status: "200",
        to: "review_permit",
        parameters: &[PERMIT_ID, VERSION],
        description: "A decision on the version just read",
    },
    Link {
        from: "review_permit",
        status: "200",
        to: "review_permit",
        parameters: &[PERMIT_ID, VERSION],
        description: "The next decision, on the version the last one made",
    },
    Link {
        from: "review_permit",
        status: "200",
        to: "staff_read_permit",
        parameters: &[PERMIT_ID],
        description: "The application with the decision in its history",
    },
    // A registration, from its registration.
    Link {
        from: "register",
        status: "201",
        to: "read_registration",
        parameters: &[REGISTRATION_YEAR, REGISTRATION_ID, TOKEN_FROM_CREATED],
        description: "The registrant reads the registration with the token just handed out",
    },
    Link {
        from: "register",
        status: "201",
        to: "cancel",
        parameters: &[REGISTRATION_YEAR, REGISTRATION_ID, TOKEN_FROM_CREATED],
        description: "The registrant cancels the registration",
    },
    Link {
        from: "register",
        status: "201",
        to: "staff_read_registration",
        parameters: &[REGISTRATION_YEAR, REGISTRATION_ID],
        description: "Staff open the new registration",
    },
    Link {
        from: "register",
        status: "201",
        to: "review_registration",
        parameters: &[REGISTRATION_YEAR, REGISTRATION_ID, VERSION],
        description: "Staff decide on the version just registered",
    },
    Link {
        from: "staff_read_registration",
        status: "200",
        to: "review_registration",
        parameters: &[REGISTRATION_YEAR, REGISTRATION_ID, VERSION],
        description: "A decision on the version just read",
    },
    Link {
        from: "review_registration",
        status: "200",
        to: "staff_read_registration",
        parameters: &[REGISTRATION_YEAR, REGISTRATION_ID],
        description: "The registration with the decision in its history",
    },
    // An edition's year, to everything under it.
    Link {
        from: "editions",
        status: "200",
        to: "programme",
        parameters: &[EDITION_YEAR],
        description: "The public programme of the oldest edition",
    },
    Link {
        from: "editions",
        status: "200",
        to: "programme_ics",
        parameters: &[EDITION_YEAR],
        description: "The programme of the oldest edition as iCalendar",
    },
    Link {
        from: "editions",
        status: "200",
        to: "register",
        parameters: &[EDITION_YEAR],
        description: "A registration for the oldest edition",
    },
    Link {
        from: "editions",
        status: "200",
        to: "staff_list_registrations",
        parameters: &[EDITION_YEAR],
        description: "Staff's list of the oldest edition",
    },
    Link {
        from: "editions",
        status: "200",
        to: "summary",
        parameters: &[EDITION_YEAR],
        description: "Staff's summary of the oldest edition",
    },
];

/// Puts every link of [`LINKS`] on its source's response. A link whose source is
/// not in the document is left out; the unit test says so first.
pub fn add_links(openapi: &mut OpenApi) {
    for item in openapi.paths.paths.values_mut() {
        for op in [&mut item.get, &mut item.post].into_iter().flatten() {
            let Some(id) = op.operation_id.clone() else {
                continue;
            };
            for link in LINKS.iter().filter(|l| l.from == id) {
                let Some(RefOr::T(response)) = op.responses.responses.get_mut(link.status) else {
                    continue;
                };
                // utoipa 5.5 writes its `operation_id` field as `operation_id`, not
                // the `operationId` OpenAPI names: the key goes in as an extension,
                // which is written as given.
                let mut builder = LinkBuilder::new()
                    .extensions(Some(Extensions::from_iter([("operationId", link.to)])))
                    .description(link.description);
                for (name, expression) in link.parameters {
                    builder = builder.parameter(*name, *expression);
                }
                response
                    .links
                    .insert(link_name(link), RefOr::T(builder.build()));
            }
        }
    }
}

/// The link's key on its response: the target, unique per response by the table's
/// test.
fn link_name(link: &Link) -> String {
    link.to.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
        match schema["$ref"].as_str() {
            Some(r) => {
                let name = r.rsplit('/').next().unwrap();
                resolve(doc, &doc["components"]["schemas"][name])
            }
            None => schema,
        }
    }

    /// Whether `pointer` (`/items/0/id`) names a field the schema can hold.
    fn holds(doc: &Value, schema: &Value, pointer: &[&str]) -> bool {
        let schema = resolve(doc, schema);
        let Some((first, rest)) = pointer.split_first() else {
            return true;
        };
        if let Some(parts) = schema["allOf"].as_array() {
            return parts.iter().any(|part| holds(doc, part, pointer));
        }
        if first.parse::<usize>().is_ok() {
            return schema["type"] == "array" && holds(doc, &schema["items"], rest);
        }
        schema["properties"]
            .get(*first)
            .is_some_and(|field| holds(doc, field, rest))
    }

    #[test]
    fn every_link_joins_operations_that_exist_with_values_they_take() {
        let doc = serde_json::to_value(super::super::openapi::document()).unwrap();
        let mut operations = std::collections::BTreeMap::new();
        for item in doc["paths"].as_object().unwrap().values() {
            for op in item.as_object().unwrap().values() {
                operations.insert(op["operationId"].as_str().unwrap().to_string(), op);
            }
        }
        let mut keys = std::collections::BTreeSet::new();
        for link in LINKS {
            let what = format!("{} {} -> {}", link.from, link.status, link.to);
            assert!(
                keys.insert((link.from, link.status, link_name(link))),
                "{what} twice"
            );
            let source = operations.get(link.from).expect(&what);
            let target = operations.get(link.to).expect(&what);
            let response = &source["responses"][link.status];
            assert!(response.is_object(), "{what}: no such answer");
            assert!(
                response["links"][link_name(link)].is_object(),
                "{what}: not in the document"
            );
            let body = &response["content"]["application/json"]["schema"];
            let taken: Vec<(String, String)> = target["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| {
                    let place = p["in"].as_str().unwrap().to_string();
                    (place, p["name"].as_str().unwrap().to_string())
                })
                .collect();
            for (name, expression) in link.parameters {
                let (place, name) = name.split_once('.').unwrap();
                let bearer = place == "header" && name == "Authorization";
                assert!(
                    bearer && target["security"].is_array()
                        || taken.contains(&(place.to_string(), name.to_string())),
                    "{what}: {place} parameter {name} not taken"
                );
                for part in expression.split("$response.body#").skip(1) {
                    let pointer: Vec<&str> = part
                        .trim_end_matches(['}', '"'])
                        .split('/')
                        .skip(1)
                        .collect();
                    assert!(
                        holds(&doc, body, &pointer),
                        "{what}: the answer has no {pointer:?}"
                    );
                }
                for part in expression.split("$request.").skip(1) {
                    let (place, name) = part.split_once('.').unwrap();
                    let in_source = source["parameters"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|p| p["in"] == place && p["name"] == name);
                    // schemathesis takes only the source's declared parameters here.
                    assert!(in_source, "{what}: the request has no {place} {name}");
                }
            }
        }
    }
}
