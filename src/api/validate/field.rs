//! The lenient wrappers: a field that is missing, null or of the wrong JSON type does
//! not stop serde.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeOwned, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use validator::{Validate, ValidateLength, ValidateRange, ValidationErrors};

use crate::domain::text::{self};

/// A field as sent: absent (or null), of the wrong JSON type, or a value.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Field<T> {
    #[default]
    Missing,
    WrongType,
    Given(T),
}

impl<T> Field<T> {
    pub fn given(&self) -> Option<&T> {
        match self {
            Field::Given(v) => Some(v),
            _ => None,
        }
    }

    pub fn into_given(self) -> Option<T> {
        match self {
            Field::Given(v) => Some(v),
            _ => None,
        }
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // A leaf is buffered: whatever it holds, only its type can be wrong.
        Ok(match Value::deserialize(deserializer)? {
            Value::Null => Field::Missing,
            value => T::deserialize(whole_number(value)).map_or(Field::WrongType, Field::Given),
        })
    }
}

/// JSON Schema's `integer` includes `627.0`: a number without a fraction is whole.
fn whole_number(value: Value) -> Value {
    match value.as_f64() {
        Some(f) if value.is_f64() && f.fract() == 0.0 && f.abs() < 9.0e15 => Value::from(f as i64),
        _ => value,
    }
}

/// `validator` puts a checked value into its error's parameters; ours stay unused.
impl<T: Serialize> Serialize for Field<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.given().serialize(serializer)
    }
}

impl<T> Serialize for Nested<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_unit()
    }
}

impl<T: ValidateLength<u64>> ValidateLength<u64> for Field<T> {
    fn length(&self) -> Option<u64> {
        self.given().and_then(ValidateLength::length)
    }
}

impl ValidateRange<i64> for Field<i64> {
    fn greater_than(&self, max: i64) -> Option<bool> {
        self.given().map(|v| *v > max)
    }

    fn less_than(&self, min: i64) -> Option<bool> {
        self.given().map(|v| *v < min)
    }
}

/// An object field (or the body itself) as sent. Unlike [`Field`] it is read as a
/// stream, so unknown and duplicate keys inside it are still seen.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Nested<T> {
    #[default]
    Missing,
    WrongType,
    Given(T),
}

impl<T> Nested<T> {
    pub fn into_given(self) -> Option<T> {
        match self {
            Nested::Given(v) => Some(v),
            _ => None,
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Nested<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NestedVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for NestedVisitor<T> {
            type Value = Nested<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Nested<T>, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Nested::Given)
            }
            fn visit_unit<E>(self) -> Result<Nested<T>, E> {
                Ok(Nested::Missing)
            }
            fn visit_none<E>(self) -> Result<Nested<T>, E> {
                Ok(Nested::Missing)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Nested<T>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Nested::WrongType)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Nested<T>, E> {
                Ok(Nested::WrongType)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Nested<T>, E> {
                Ok(Nested::WrongType)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Nested<T>, E> {
                Ok(Nested::WrongType)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Nested<T>, E> {
                Ok(Nested::WrongType)
            }
            fn visit_str<E>(self, _: &str) -> Result<Nested<T>, E> {
                Ok(Nested::WrongType)
            }
        }
        deserializer.deserialize_any(NestedVisitor(PhantomData))
    }
}

impl<T: Validate> Validate for Nested<T> {
    fn validate(&self) -> Result<(), ValidationErrors> {
        match self {
            Nested::Given(v) => v.validate(),
            _ => Ok(()),
        }
    }
}

/// Free text as sent; checked as sent ([`text::check`]), stored normalised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Text(pub String);

impl Text {
    /// The stored form: trimmed, NFC.
    pub fn normalised(&self) -> String {
        text::normalise(&self.0)
    }
}

impl ValidateLength<u64> for Text {
    fn length(&self) -> Option<u64> {
        self.0.length()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_number_may_be_written_with_a_zero_fraction() {
        for (sent, expected) in [
            (serde_json::json!(627.0), Field::Given(627)),
            (serde_json::json!(627), Field::Given(627)),
            (serde_json::json!(627.5), Field::WrongType),
            (serde_json::json!("627"), Field::WrongType),
            (serde_json::json!(null), Field::Missing),
        ] {
            assert_eq!(
                Field::<i64>::deserialize(sent.clone()).unwrap(),
                expected,
                "{sent}"
            );
        }
    }
}
