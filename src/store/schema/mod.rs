//! Schema versions of stored JSON. The body of a stored permit application or
//! registration declares the version of its shape in its first field,
//! `{"schema":1,"id":…}`; a body without one is version 0 (what loket stored before
//! bodies carried a version). The engines never look inside a body: this is the
//! repositories' concern, so the [`Change`](super::Change) and the key layout are the
//! same for every version.
//!
//! - **Writing** always writes the current version ([`Schema::write`]).
//! - **Reading** upgrades an older body in code, step by step, to the current shape
//!   before serde turns it into the domain type ([`Schema::read`]). A body of a newer
//!   version than this build knows (written by a newer release) is an error, never a
//!   guess.
//!
//! Each aggregate's steps live in one file: [`permit`] and [`registration`]. A new
//! version is one more step there (`fn(Value) -> Result<Value, String>`, from the
//! previous shape to the new one, without the `schema` field), plus its fixtures in
//! `tests/fixtures/stored/` (how: the README there).

pub mod permit;
pub mod registration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::StoreError;

/// The field of a stored body that holds its schema version.
pub const FIELD: &str = "schema";

/// One upgrade: a body of version `n` (without its `schema` field) in, the same
/// aggregate in the shape of version `n + 1` out, or why it cannot be upgraded.
pub type Step = fn(Value) -> Result<Value, String>;

/// How one aggregate is stored: `steps[n]` upgrades version `n` to `n + 1`, so the
/// current version is the number of steps.
#[derive(Debug)]
pub struct Schema {
    /// What is stored, for errors: `permit`, `registration`.
    pub aggregate: &'static str,
    pub steps: &'static [Step],
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    #[error(
        "{aggregate} schema version {found} is newer than this build knows ({current}): \
         written by a newer release of loket?"
    )]
    Newer {
        aggregate: &'static str,
        found: u64,
        current: u32,
    },
    #[error("{aggregate} schema version is not a whole number: {found}")]
    NotAVersion {
        aggregate: &'static str,
        found: String,
    },
    #[error("upgrading {aggregate} from schema version {from}: {why}")]
    Step {
        aggregate: &'static str,
        from: u32,
        why: String,
    },
    #[error("{aggregate}: {why}")]
    Json {
        aggregate: &'static str,
        why: String,
    },
}

/// What [`Schema::write`] serialises: the version first, then the aggregate's fields.
#[derive(Serialize)]
struct Versioned<'a, T> {
    schema: u32,
    #[serde(flatten)]
    body: &'a T,
}

impl Schema {
    /// The version every write writes.
    pub const fn current(&self) -> u32 {
        self.steps.len() as u32
    }

    /// `value` as the stored JSON of the current version.
    pub fn write<T: Serialize>(&self, value: &T) -> Result<String, SchemaError> {
        serde_json::to_string(&Versioned {
            schema: self.current(),
            body: value,
        })
        .map_err(|e| self.json(e))
    }

    /// A body of `version` (without its `schema` field) in the current shape.
    pub fn upgrade(&self, version: u32, mut body: Value) -> Result<Value, SchemaError> {
        let current = self.current();
        if version > current {
            return Err(SchemaError::Newer {
                aggregate: self.aggregate,
                found: version.into(),
                current,
            });
        }
        for (from, step) in (version..).zip(&self.steps[version as usize..]) {
            body = step(body).map_err(|why| SchemaError::Step {
                aggregate: self.aggregate,
                from,
                why,
            })?;
        }
        Ok(body)
    }

    /// A stored body of any known version, as `T` in the current shape. `T` is the
    /// domain type, or a part of it (a listing's filter reads just a field or two).
    pub fn read<T: DeserializeOwned>(&self, body: &str) -> Result<T, SchemaError> {
        // What this build writes is read as it is, without a detour through `Value`.
        if version_up_front(body) == Some(self.current()) {
            return serde_json::from_str(body).map_err(|e| self.json(e));
        }
        let Value::Object(mut fields) = serde_json::from_str(body).map_err(|e| self.json(e))?
        else {
            return Err(SchemaError::Json {
                aggregate: self.aggregate,
                why: "the stored body is not a JSON object".into(),
            });
        };
        let version = match fields.remove(FIELD) {
            None => 0,
            Some(found) => found
                .as_u64()
                .ok_or_else(|| SchemaError::NotAVersion {
                    aggregate: self.aggregate,
                    found: found.to_string(),
                })
                .and_then(|v| {
                    u32::try_from(v).map_err(|_| SchemaError::Newer {
                        aggregate: self.aggregate,
                        found: v,
                        current: self.current(),
                    })
                })?,
        };
        let body = self.upgrade(version, Value::Object(fields))?;
        serde_json::from_value(body).map_err(|e| self.json(e))
    }

    fn json(&self, e: serde_json::Error) -> SchemaError {
        SchemaError::Json {
            aggregate: self.aggregate,
            why: e.to_string(),
        }
    }
}

/// The version of a body that starts as [`Schema::write`] writes it,
/// `{"schema":N,…`; `None` for any other body (read the slow way).
fn version_up_front(body: &str) -> Option<u32> {
    let rest = body.strip_prefix(r#"{"schema":"#)?;
    let digits = &rest[..rest.find(',')?];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// A stored body that cannot be read is the store's failure, named by its id.
pub(super) fn stored(id: &str, e: SchemaError) -> StoreError {
    StoreError::Internal(format!("stored document {id}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    /// A made-up aggregate with three versions: `name` became `title` in version 1,
    /// and version 2 added `seats` (0 for what was stored before).
    const TALK: Schema = Schema {
        aggregate: "talk",
        steps: &[rename_name_to_title, seats_default_to_zero],
    };

    fn rename_name_to_title(mut body: Value) -> Result<Value, String> {
        let name = body
            .as_object_mut()
            .and_then(|fields| fields.remove("name"))
            .ok_or("no name")?;
        body["title"] = name;
        Ok(body)
    }

    fn seats_default_to_zero(mut body: Value) -> Result<Value, String> {
        body["seats"] = json!(0);
        Ok(body)
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Talk {
        title: String,
        seats: u32,
    }

    #[test]
    fn the_current_version_is_the_number_of_steps_and_writing_writes_it_first() {
        assert_eq!(TALK.current(), 2);
        let talk = Talk {
            title: "Respect".into(),
            seats: 30,
        };
        let body = TALK.write(&talk).unwrap();
        assert_eq!(body, r#"{"schema":2,"title":"Respect","seats":30}"#);
        assert_eq!(version_up_front(&body), Some(2));
        assert_eq!(TALK.read::<Talk>(&body).unwrap(), talk);
    }

    #[test]
    fn every_older_version_runs_the_steps_after_it_in_order() {
        let expected = |seats| Talk {
            title: "Respect".into(),
            seats,
        };
        assert_eq!(
            TALK.read::<Talk>(r#"{"name":"Respect"}"#).unwrap(),
            expected(0),
            "no version: 0, both steps"
        );
        assert_eq!(
            TALK.read::<Talk>(r#"{"schema":1,"title":"Respect"}"#)
                .unwrap(),
            expected(0),
            "only the second step"
        );
        assert_eq!(
            TALK.read::<Talk>(r#"{"title":"Respect","schema":2,"seats":5}"#)
                .unwrap(),
            expected(5),
            "the version need not come first"
        );
        assert_eq!(
            TALK.upgrade(0, json!({"name": "Respect"})).unwrap(),
            json!({"title": "Respect", "seats": 0})
        );
    }

    #[test]
    fn a_newer_or_malformed_version_is_an_error_not_a_guess() {
        let newer = TALK
            .read::<Talk>(r#"{"schema":3,"title":"Respect","seats":5}"#)
            .unwrap_err();
        assert_eq!(
            newer,
            SchemaError::Newer {
                aggregate: "talk",
                found: 3,
                current: 2
            }
        );
        assert!(newer.to_string().contains("newer than this build knows"));
        assert!(matches!(
            TALK.read::<Talk>(r#"{"schema":99999999999,"title":"R","seats":5}"#),
            Err(SchemaError::Newer {
                found: 99_999_999_999,
                ..
            })
        ));
        assert!(matches!(
            TALK.upgrade(7, json!({})),
            Err(SchemaError::Newer { found: 7, .. })
        ));
        for body in [
            r#"{"schema":"2","title":"R","seats":5}"#,
            r#"{"schema":-1,"title":"R","seats":5}"#,
            r#"{"schema":1.5,"title":"R","seats":5}"#,
        ] {
            assert!(
                matches!(
                    TALK.read::<Talk>(body),
                    Err(SchemaError::NotAVersion { .. })
                ),
                "{body}"
            );
        }
        assert!(matches!(
            TALK.read::<Talk>("[1]"),
            Err(SchemaError::Json { .. })
        ));
        assert_eq!(
            TALK.read::<Talk>(r#"{"title":"R"}"#).unwrap_err(),
            SchemaError::Step {
                aggregate: "talk",
                from: 0,
                why: "no name".into()
            }
        );
    }

    #[test]
    fn only_a_plain_leading_version_takes_the_short_way() {
        assert_eq!(version_up_front(r#"{"schema":12,"a":1}"#), Some(12));
        for body in [
            r#"{"a":1,"schema":1}"#,
            r#"{"schema":1}"#,
            r#"{"schema":+1,"a":1}"#,
            r#"{"schema":1.0,"a":1}"#,
            r#"{"schema":"1","a":1}"#,
            r#"{ "schema":1,"a":1}"#,
        ] {
            assert_eq!(version_up_front(body), None, "{body}");
        }
    }
}
