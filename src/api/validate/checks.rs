//! The `custom` checks, named by the rule they enforce.

use std::borrow::Cow;

use validator::ValidationError;

use super::field::{Field, Nested, Text};
use crate::app::profile;
use crate::domain::formats::{Email, KvkNumber, Phone};
use crate::domain::place::Kern;
use crate::domain::text::{self, Lines, TextError};
use crate::domain::time;

fn error(code: &'static str) -> ValidationError {
    ValidationError::new(code)
}

/// `type` for a value of the wrong JSON type, saying what was expected where that
/// helps a person (`rule`: a number, yes or no), e.g. "vierduizend" for a number.
fn wrong_type<T>() -> ValidationError {
    let mut wrong = error("type");
    let rule = match std::any::type_name::<T>() {
        "i64" | "i32" | "u64" | "u32" => Some("a_number"),
        "bool" => Some("yes_or_no"),
        _ => None,
    };
    if let Some(rule) = rule {
        wrong.add_param(Cow::from("rule"), &rule);
    }
    wrong
}

/// The value of a field that must be there; `wrong` is the code for a bad type.
fn present<'f, T>(field: &'f Field<T>, wrong: &'static str) -> Result<&'f T, ValidationError> {
    match field {
        Field::Given(v) => Ok(v),
        Field::Missing => Err(error("required")),
        Field::WrongType if wrong == "type" => Err(wrong_type::<T>()),
        Field::WrongType => Err(error(wrong)),
    }
}

/// An optional field: absent, null, or of the right JSON type.
pub fn optional<T>(field: &Field<T>) -> Result<(), ValidationError> {
    match field {
        Field::WrongType => Err(wrong_type::<T>()),
        _ => Ok(()),
    }
}

/// Any required field: present and of the right JSON type.
pub fn required<T>(field: &Field<T>) -> Result<(), ValidationError> {
    present(field, "type").map(|_| ())
}

/// A required choice among fixed values (an enum).
pub fn choice<T>(field: &Field<T>) -> Result<(), ValidationError> {
    present(field, "one_of").map(|_| ())
}

/// An optional choice: absent or null is "not given".
pub fn optional_choice<T>(field: &Field<T>) -> Result<(), ValidationError> {
    match field {
        Field::WrongType => Err(error("one_of")),
        _ => Ok(()),
    }
}

/// A required kern: one of the municipality in use's (`crate::app::profile`).
pub fn kern_choice(field: &Field<Kern>) -> Result<(), ValidationError> {
    let kern = present(field, "one_of")?;
    known_kern(kern)
}

/// An optional kern: absent or null is "not given".
pub fn optional_kern_choice(field: &Field<Kern>) -> Result<(), ValidationError> {
    match field {
        Field::Given(kern) => known_kern(kern),
        Field::Missing => Ok(()),
        Field::WrongType => Err(error("one_of")),
    }
}

fn known_kern(kern: &Kern) -> Result<(), ValidationError> {
    if profile::with(|m| m.has_kern(kern)) {
        Ok(())
    } else {
        Err(error("one_of"))
    }
}

/// A required object.
pub fn object<T>(field: &Nested<T>) -> Result<(), ValidationError> {
    match field {
        Nested::Given(_) => Ok(()),
        Nested::Missing => Err(error("required")),
        Nested::WrongType => Err(error("type")),
    }
}

fn text_rule(field: &Field<Text>, lines: Lines, optional: bool) -> Result<(), ValidationError> {
    if optional && matches!(field, Field::Missing) {
        return Ok(());
    }
    match text::check(&present(field, "type")?.0, lines) {
        Ok(()) => Ok(()),
        Err(TextError::Blank) if optional => Ok(()),
        Err(TextError::Blank) => Err(error("required")),
        Err(TextError::Character) => Err(error("character")),
    }
}

/// Required single-line text (a name, a title, an address).
pub fn line(field: &Field<Text>) -> Result<(), ValidationError> {
    text_rule(field, Lines::One, false)
}

/// Required multi-line text (a description, a message, a reason).
pub fn paragraph(field: &Field<Text>) -> Result<(), ValidationError> {
    text_rule(field, Lines::Many, false)
}

/// Optional single-line text: absent, null and blank all mean "not given".
pub fn optional_line(field: &Field<Text>) -> Result<(), ValidationError> {
    text_rule(field, Lines::One, true)
}

/// Optional multi-line text.
pub fn optional_paragraph(field: &Field<Text>) -> Result<(), ValidationError> {
    text_rule(field, Lines::Many, true)
}

/// A required string in a format: `parse` decides, `code` names the format.
pub fn formatted<T>(
    field: &Field<String>,
    code: &'static str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<(), ValidationError> {
    let value = present(field, code)?;
    parse(value).map(|_| ()).ok_or_else(|| error(code))
}

/// Optional text in a format; `""` is "not given".
pub fn optional_formatted<T>(
    field: &Field<String>,
    code: &'static str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<(), ValidationError> {
    match field {
        Field::Missing => Ok(()),
        Field::Given(v) if v.is_empty() => Ok(()),
        _ => formatted(field, code, parse),
    }
}

pub fn email(field: &Field<String>) -> Result<(), ValidationError> {
    formatted(field, "email", Email::parse)
}

/// A reference such as `EV-2017-0001` or `WVR-2017-0001`.
pub fn reference(field: &Field<String>) -> Result<(), ValidationError> {
    formatted(field, "reference", crate::domain::formats::Reference::parse)
}

pub fn phone(field: &Field<String>) -> Result<(), ValidationError> {
    formatted(field, "phone", Phone::parse)
}

pub fn optional_kvk_number(field: &Field<String>) -> Result<(), ValidationError> {
    optional_formatted(field, "kvk_number", KvkNumber::parse)
}

/// An RFC 3339 moment with an offset (no leap second).
pub fn timestamp(field: &Field<String>) -> Result<(), ValidationError> {
    formatted(field, "timestamp", time::parse_timestamp)
}

/// A `YYYY-MM-DD` day.
pub fn date(field: &Field<String>) -> Result<(), ValidationError> {
    formatted(field, "date", time::parse_date)
}

/// An `HH:MM` time of day.
pub fn time_of_day(field: &Field<String>) -> Result<(), ValidationError> {
    formatted(field, "time", time::parse_time_of_day)
}

/// An optional value that passed [`optional_formatted`], parsed.
pub fn parse_optional<T>(
    field: Field<String>,
    parse: impl Fn(&str) -> Option<T>,
) -> Option<Option<T>> {
    match field {
        Field::Missing => Some(None),
        Field::Given(v) if v.is_empty() => Some(None),
        Field::Given(v) => parse(&v).map(Some),
        Field::WrongType => None,
    }
}

/// A required value that passed [`formatted`], parsed.
pub fn parse_given<T>(field: Field<String>, parse: impl Fn(&str) -> Option<T>) -> Option<T> {
    field.into_given().and_then(|v| parse(&v))
}

/// A cross-field rule broken at `field` (relative to the struct it is declared on);
/// `rule` picks the message in the catalogue.
pub fn broken(field: &'static str, code: &'static str, rule: &'static str) -> ValidationError {
    let mut e = error(code);
    e.add_param(Cow::Borrowed("field"), &field);
    e.add_param(Cow::Borrowed("rule"), &rule);
    e
}

/// An optional text, normalised; blank is `None`.
pub fn optional_text(field: Field<Text>) -> Option<String> {
    field
        .into_given()
        .map(|t| t.normalised())
        .filter(|t| !t.is_empty())
}
