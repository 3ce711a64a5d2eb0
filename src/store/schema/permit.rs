//! The stored shapes of a permit application ([`Application`]), and the steps from
//! each to the next. Every version still stored somewhere stays readable:
//! `tests/fixtures/stored/permit.v*.json` holds one of each, as each store wrote it.
//!
//! | version | shape |
//! |---|---|
//! | 0 | `Application` as serde writes it, with no `schema` field |
//! | 1 | the same fields, after `"schema": 1` |
//!
//! [`Application`]: crate::domain::permit::Application

use serde_json::Value;

use super::{Schema, SchemaError};

/// How a permit application is stored.
pub const SCHEMA: Schema = Schema {
    aggregate: "permit",
    steps: &[v0_to_v1],
};

/// A stored application's body of `version` (without its `schema` field) in the
/// current shape.
pub fn upgrade(version: u32, body: Value) -> Result<Value, SchemaError> {
    SCHEMA.upgrade(version, body)
}

/// 0 → 1: only the version is new; the fields are the same.
fn v0_to_v1(body: Value) -> Result<Value, String> {
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::permit::{Application, PermitStatus};

    /// The body of the version-0 fixture, as the embedded store wrote it.
    fn v0_body() -> String {
        let doc: Value = serde_json::from_str(include_str!(
            "../../../tests/fixtures/stored/permit.v0.embedded.json"
        ))
        .unwrap();
        doc["body"].as_str().unwrap().to_string()
    }

    #[test]
    fn a_version_0_body_is_read_and_written_back_as_the_current_version() {
        let app: Application = SCHEMA.read(&v0_body()).unwrap();
        assert_eq!(app.reference.as_str(), "EV-2017-0001");
        assert_eq!(app.status, PermitStatus::Approved);
        assert_eq!(app.leges.total_cents, 146_300);

        let written = SCHEMA.write(&app).unwrap();
        let start = format!(r#"{{"schema":{},"id":"fixture-permit","#, SCHEMA.current());
        assert!(written.starts_with(&start), "{written}");
        assert_eq!(SCHEMA.read::<Application>(&written).unwrap(), app);
        // What is written is the upgraded body: nothing was lost on the way.
        let mut fields: Value = serde_json::from_str(&written).unwrap();
        fields.as_object_mut().unwrap().remove("schema");
        let v0: Value = serde_json::from_str(&v0_body()).unwrap();
        assert_eq!(fields, upgrade(0, v0.clone()).unwrap());
        // 0 → 1 changed nothing but the version.
        assert_eq!(v0_to_v1(v0.clone()), Ok(v0));
    }

    #[test]
    fn a_newer_version_than_this_build_knows_is_refused() {
        let next = SCHEMA.current() + 1;
        let newer = v0_body().replacen('{', &format!(r#"{{"schema":{next},"#), 1);
        assert_eq!(
            SCHEMA.read::<Application>(&newer).unwrap_err(),
            SchemaError::Newer {
                aggregate: "permit",
                found: next.into(),
                current: SCHEMA.current(),
            }
        );
        assert!(upgrade(next, Value::Null).is_err());
    }

    #[test]
    fn the_domain_type_has_no_field_of_the_same_name_as_the_version() {
        let app: Application = SCHEMA.read(&v0_body()).unwrap();
        let fields = serde_json::to_value(&app).unwrap();
        assert!(fields.get(super::super::FIELD).is_none());
    }
}
