//! Where in the municipality an event or activity takes place: one of its kernen
//! (the villages) or the countryside around them. The kernen are data (the profile's
//! `[[kernen]]`): a `Kern` is the code of one, stored as that code (`"dronten"`,
//! `"biddinghuizen"`, …); whether a code is one of the profile in use is checked
//! where a request is read (`crate::app::profile`).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// A kern's code: 1–40 of a-z, 0-9 and '-', a letter first.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Kern(String);

impl Kern {
    /// The code if it is one in form; whether the profile has it is not checked here.
    pub fn parse(s: &str) -> Option<Kern> {
        let ok = !s.is_empty()
            && s.len() <= 40
            && s.starts_with(|c: char| c.is_ascii_lowercase())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        ok.then(|| Kern(s.to_string()))
    }

    /// A code known to be in form (tests, a profile's own kernen).
    pub fn new(s: &str) -> Kern {
        Kern::parse(s).unwrap_or_else(|| panic!("'{s}' is not a kern code"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Kern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A string that is no code in form is refused like a value outside an enum.
impl<'de> Deserialize<'de> for Kern {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Kern, D::Error> {
        let s = String::deserialize(deserializer)?;
        Kern::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("'{s}' is not a kern")))
    }
}

/// In the OpenAPI document: a code; the document served lists the profile's kernen
/// as its `enum` (`src/api/openapi.rs`).
impl utoipa::PartialSchema for Kern {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^[a-z][a-z0-9-]{0,39}$"))
            .description(Some(
                "A kern (village) of the municipality, or its countryside: one of the codes of its profile's `[[kernen]]`.",
            ))
            .into()
    }
}

impl utoipa::ToSchema for Kern {
    fn name() -> std::borrow::Cow<'static, str> {
        "Kern".into()
    }
}
