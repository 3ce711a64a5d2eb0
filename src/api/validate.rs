//! Request bodies: one type per request, read leniently by serde and checked by
//! `validator`, so that a 422 names *every* failing field at once (API.md), wrong
//! JSON types and unknown fields included, in the order the fields are declared.
//!
//! - [`Field`] and [`Nested`] are the lenient wrappers: a field that is missing, null
//!   or of the wrong JSON type does not stop serde; the `custom` checks below turn it
//!   into `required` or `type` (or the field's own code).
//! - Unknown fields are collected by `serde_ignored` (serde's `deny_unknown_fields`
//!   would stop at the first one); a key sent twice is serde's `duplicate field`, a
//!   400.
//! - [`JsonBody`] reads the body (415, 413, 400); [`JsonBody::validate`] and
//!   [`ValidatedJson`] turn `validator`'s errors into one 422, with the messages of
//!   [`super::messages`].

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde::de::{self, DeserializeOwned, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::openapi::{RefOr, Schema};
use validator::{
    Validate, ValidateArgs, ValidateLength, ValidateRange, ValidationError, ValidationErrors,
    ValidationErrorsKind,
};

use super::error::{ApiError, FieldError};
use super::messages;
use crate::domain::formats::{Email, KvkNumber, Phone};
use crate::domain::text::{self, Lines, TextError};
use crate::domain::time;

/// Request bodies above this are refused with 413 (API.md).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

// ---------------------------------------------------------------------------------
// Lenient wrappers

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

// ---------------------------------------------------------------------------------
// The `custom` checks, named by the rule they enforce

fn error(code: &'static str) -> ValidationError {
    ValidationError::new(code)
}

/// The value of a field that must be there; `wrong` is the code for a bad type.
fn present<'f, T>(field: &'f Field<T>, wrong: &'static str) -> Result<&'f T, ValidationError> {
    match field {
        Field::Given(v) => Ok(v),
        Field::Missing => Err(error("required")),
        Field::WrongType => Err(error(wrong)),
    }
}

/// An optional field: absent, null, or of the right JSON type.
pub fn optional<T>(field: &Field<T>) -> Result<(), ValidationError> {
    match field {
        Field::WrongType => Err(error("type")),
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

// ---------------------------------------------------------------------------------
// Reading a body

/// A request type: checked by `validator`, then turned into the domain's values.
pub trait RequestBody: for<'de> Deserialize<'de> + utoipa::ToSchema {
    /// The domain value of a request that passed validation.
    type Valid;
    /// `None` only if a check let something through: a bug, answered as a 500.
    fn into_valid(self) -> Option<Self::Valid>;
}

/// A JSON body of type `T`, read but not yet validated (some rules need context from
/// the path or the clock). The raw bytes stay for the idempotency hash.
pub struct JsonBody<T> {
    pub raw: Bytes,
    body: Nested<T>,
    unknown: Vec<String>,
}

fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Reads `raw` as a `T`, leniently; unknown fields are returned, not refused.
fn read_json<T: for<'de> Deserialize<'de>>(
    raw: &[u8],
) -> Result<(Nested<T>, Vec<String>), ApiError> {
    let mut unknown = Vec::new();
    let mut json = serde_json::Deserializer::from_slice(raw);
    let body = serde_ignored::deserialize(&mut json, |path| unknown.push(path.to_string()))
        .and_then(|body| json.end().map(|()| body))
        .map_err(|e| {
            if e.is_syntax() || e.is_eof() {
                ApiError::MalformedJson(e.to_string())
            } else {
                // Every field reads leniently, so what is left is a key sent twice.
                ApiError::BadRequest {
                    code: "duplicate_key",
                    detail: messages::DUPLICATE_KEY.into(),
                }
            }
        })?;
    Ok((body, unknown))
}

impl<S: Send + Sync, T: for<'de> Deserialize<'de>> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !is_json(content_type) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let raw = axum::body::to_bytes(req.into_body(), MAX_BODY_BYTES)
            .await
            .map_err(|e| {
                let over_limit = std::error::Error::source(&e)
                    .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
                if over_limit {
                    ApiError::PayloadTooLarge
                } else {
                    // Cut off, or too slow (the local server's body timeout).
                    ApiError::RequestTimeout
                }
            })?;
        JsonBody::read(raw)
    }
}

impl<T: for<'de> Deserialize<'de>> JsonBody<T> {
    /// Reads `raw` (400 when it is not JSON or holds a key twice).
    pub fn read(raw: Bytes) -> Result<JsonBody<T>, ApiError> {
        let (body, unknown) = read_json(&raw)?;
        Ok(JsonBody { raw, body, unknown })
    }
}

impl<T: RequestBody> JsonBody<T> {
    /// Checks a request type that needs nothing but itself.
    pub fn validate(self) -> Result<T::Valid, ApiError>
    where
        T: Validate,
    {
        self.check(|body| body.validate())
    }

    /// Checks a request type whose rules need `args` (an edition, the clock).
    pub fn validate_with<'a>(self, args: T::Args) -> Result<T::Valid, ApiError>
    where
        T: ValidateArgs<'a>,
    {
        self.check(|body| body.validate_with_args(args))
    }

    fn check(
        self,
        run: impl FnOnce(&T) -> Result<(), ValidationErrors>,
    ) -> Result<T::Valid, ApiError> {
        let (body, failure) = match self.body {
            Nested::Given(body) => {
                let failure = run(&body).err();
                (Some(body), failure)
            }
            Nested::Missing | Nested::WrongType => (None, None),
        };
        if body.is_some() && failure.is_none() && self.unknown.is_empty() {
            return body
                .and_then(T::into_valid)
                .ok_or_else(|| ApiError::Internal("validated request incomplete".into()));
        }
        // Only a refused request pays for reading the declaration order.
        let order = FieldOrder::of::<T>();
        let mut errors = Vec::new();
        if body.is_none() {
            // Not an object at all: that is the one thing to say.
            return Err(ApiError::Validation(vec![FieldError::new(
                "",
                "type",
                messages::field("type", None),
            )]));
        }
        if let Some(failure) = &failure {
            flatten(failure, "", &order, &mut errors);
        }
        for path in &self.unknown {
            errors.push(Found {
                rank: order.rank_of_unknown(path),
                cross_field: false,
                error: FieldError::new(
                    path,
                    "unknown_field",
                    messages::field("unknown_field", None),
                ),
            });
        }
        // Field errors in declaration order (unknown fields last in their object),
        // then the cross-field rules in the order they are declared.
        errors.sort_by(|a, b| (a.cross_field, &a.rank).cmp(&(b.cross_field, &b.rank)));
        Err(ApiError::Validation(
            errors.into_iter().map(|f| f.error).collect(),
        ))
    }
}

/// Reads and checks a JSON value as a request body (unit tests of request types).
pub fn check_json<T: RequestBody + Validate>(value: &Value) -> Result<T::Valid, ApiError> {
    let raw = serde_json::to_vec(value).map_err(|e| ApiError::Internal(e.to_string()))?;
    JsonBody::<T>::read(Bytes::from(raw))?.validate()
}

/// A JSON body of type `T`, validated (for request types that need no context).
pub struct ValidatedJson<T: RequestBody> {
    pub value: T::Valid,
    pub raw: Bytes,
}

impl<S, T> FromRequest<S> for ValidatedJson<T>
where
    S: Send + Sync,
    T: RequestBody + Validate,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let body = JsonBody::<T>::from_request(req, state).await?;
        let raw = body.raw.clone();
        Ok(ValidatedJson {
            value: body.validate()?,
            raw,
        })
    }
}

// ---------------------------------------------------------------------------------
// validator's errors as our field errors, in a stable order

struct Found {
    rank: Vec<usize>,
    cross_field: bool,
    error: FieldError,
}

impl Found {
    fn field(
        rank: Vec<usize>,
        path: &str,
        code: &'static str,
        error: Option<&ValidationError>,
    ) -> Found {
        Found {
            rank,
            cross_field: false,
            error: FieldError::new(path, code, messages::field(code, error)),
        }
    }
}

fn join(prefix: &str, name: &str) -> String {
    // A field named like a keyword (`r#type`) is `type` on the wire.
    let name = name.trim_start_matches("r#");
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

/// `validator`'s code `length` is our `too_long` (a minimum is always `required`).
fn our_code(e: &ValidationError) -> &'static str {
    match e.code.as_ref() {
        "length" => "too_long",
        "range" => "range",
        other => messages::known_code(other),
    }
}

fn flatten(errors: &ValidationErrors, prefix: &str, order: &FieldOrder, out: &mut Vec<Found>) {
    for (name, kind) in errors.errors() {
        match (name.as_ref(), kind) {
            ("__all__", ValidationErrorsKind::Field(list)) => {
                for (i, e) in list.iter().enumerate() {
                    let field = e
                        .params
                        .get("field")
                        .and_then(|v| v.as_str())
                        .unwrap_or_default();
                    let path = if field.starts_with('/') {
                        field.trim_start_matches('/').to_string()
                    } else {
                        join(prefix, field)
                    };
                    let code = our_code(e);
                    let mut rank = order.rank(prefix);
                    rank.push(i);
                    out.push(Found {
                        rank,
                        cross_field: true,
                        error: FieldError::new(&path, code, messages::field(code, Some(e))),
                    });
                }
            }
            (_, ValidationErrorsKind::Field(list)) => {
                let path = join(prefix, name);
                for e in list {
                    out.push(Found::field(order.rank(&path), &path, our_code(e), Some(e)));
                }
            }
            (_, ValidationErrorsKind::Struct(inner)) => {
                flatten(inner, &join(prefix, name), order, out);
            }
            (_, ValidationErrorsKind::List(items)) => {
                for (i, inner) in items {
                    flatten(
                        inner,
                        &join(&join(prefix, name), &i.to_string()),
                        order,
                        out,
                    );
                }
            }
        }
    }
}

/// The declaration order of a request type's fields, read from its schema (utoipa
/// keeps it with `preserve_order`): `event.kern` ranks as `[1, 2]`.
struct FieldOrder(BTreeMap<String, Vec<usize>>);

impl FieldOrder {
    fn of<T: utoipa::ToSchema>() -> FieldOrder {
        let mut components = Vec::new();
        T::schemas(&mut components);
        let components: BTreeMap<String, RefOr<Schema>> = components.into_iter().collect();
        let mut ranks = BTreeMap::new();
        walk(&T::schema(), "", &[], &components, &mut ranks, 0);
        FieldOrder(ranks)
    }

    fn rank(&self, path: &str) -> Vec<usize> {
        self.0.get(path).cloned().unwrap_or_default()
    }

    /// After every declared field of its object.
    fn rank_of_unknown(&self, path: &str) -> Vec<usize> {
        let parent = path.rsplit_once('.').map_or("", |(p, _)| p);
        let mut rank = self.rank(parent);
        rank.push(usize::MAX);
        rank
    }
}

fn walk(
    schema: &RefOr<Schema>,
    path: &str,
    rank: &[usize],
    components: &BTreeMap<String, RefOr<Schema>>,
    out: &mut BTreeMap<String, Vec<usize>>,
    depth: usize,
) {
    if depth > 8 {
        return;
    }
    let schema = match schema {
        RefOr::Ref(r) => {
            let name = r.ref_location.rsplit('/').next().unwrap_or_default();
            match components.get(name) {
                Some(found) => found,
                None => return,
            }
        }
        other => other,
    };
    match schema {
        RefOr::T(Schema::Object(object)) => {
            for (i, (name, property)) in object.properties.iter().enumerate() {
                let child_path = join(path, name);
                let mut child_rank = rank.to_vec();
                child_rank.push(i);
                out.insert(child_path.clone(), child_rank.clone());
                walk(
                    property,
                    &child_path,
                    &child_rank,
                    components,
                    out,
                    depth + 1,
                );
            }
        }
        RefOr::T(Schema::OneOf(one)) => {
            for item in &one.items {
                walk(item, path, rank, components, out, depth + 1);
            }
        }
        RefOr::T(Schema::AllOf(all)) => {
            for item in &all.items {
                walk(item, path, rank, components, out, depth + 1);
            }
        }
        _ => {}
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

    #[test]
    fn json_media_types() {
        for (ct, ok) in [
            ("application/json", true),
            ("application/json; charset=utf-8", true),
            ("Application/JSON", true),
            ("application/merge-patch+json", true),
            ("text/plain", false),
            ("", false),
            ("application/x-www-form-urlencoded", false),
        ] {
            assert_eq!(is_json(ct), ok, "{ct}");
        }
    }
}

/// One body per request type that breaks every rule at once: the 422 lists each
/// failure, in declaration order, cross-field rules last.
#[cfg(test)]
mod every_rule_at_once {
    use super::*;
    use crate::api::admin::ReviewRequest;
    use crate::api::admin_respect_week::RegistrationReviewRequest;
    use crate::api::permits::{InfoRequest, PermitRequest};
    use crate::api::respect_week::{RegistrationContext, RegistrationRequest};
    use crate::domain::respect_week::Editions;
    use crate::domain::risk::tests::at;
    use serde_json::json;

    fn codes(result: Result<impl std::fmt::Debug, ApiError>) -> Vec<(String, String)> {
        match result {
            Err(ApiError::Validation(errors)) => {
                errors.into_iter().map(|e| (e.field, e.code)).collect()
            }
            other => panic!("a 422 expected, got {other:?}"),
        }
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(f, c)| (f.to_string(), c.to_string()))
            .collect()
    }

    #[test]
    fn a_permit_request() {
        let body = json!({
            "organiser": {"name": " ", "organisation": 7, "kvk_number": "1234",
                          "email": "geen-adres", "phone": "12", "fax": "x"},
            "event": {"name": "a".repeat(201), "description": "Les\r", "kern": "lelystad",
                      "address": "\u{200b}", "starts_at": "2017-08-18T12:00:00+02:00",
                      "ends_at": "2017-08-18T11:00:00+02:00", "expected_visitors": 0,
                      "amplified_music": "ja", "max_sound_dba": 500, "alcohol": "lots",
                      "largest_structure_m2": -1, "on_water": null, "fireworks": 1,
                      "commercial": true},
            "extra": true
        });
        assert_eq!(
            codes(check_json::<PermitRequest>(&body)),
            pairs(&[
                ("organiser.name", "required"),
                ("organiser.organisation", "type"),
                ("organiser.kvk_number", "kvk_number"),
                ("organiser.email", "email"),
                ("organiser.phone", "phone"),
                ("organiser.fax", "unknown_field"),
                ("event.name", "too_long"),
                ("event.description", "character"),
                ("event.kern", "one_of"),
                ("event.address", "character"),
                ("event.expected_visitors", "range"),
                ("event.amplified_music", "type"),
                ("event.max_sound_dba", "range"),
                ("event.road_closure", "required"),
                ("event.alcohol", "one_of"),
                ("event.largest_structure_m2", "range"),
                ("event.on_water", "required"),
                ("event.fireworks", "type"),
                ("event.non_profit", "required"),
                ("extra", "unknown_field"),
                ("event.ends_at", "order"),
            ])
        );
    }

    #[test]
    fn an_answer_to_a_request_for_information() {
        assert_eq!(
            codes(check_json::<InfoRequest>(
                &json!({"message": "\u{0}", "x": 1})
            )),
            pairs(&[("message", "character"), ("x", "unknown_field")])
        );
        assert_eq!(
            codes(check_json::<InfoRequest>(&json!([]))),
            pairs(&[("", "type")])
        );
    }

    #[test]
    fn a_registration() {
        let editions = Editions::built_in();
        let edition = editions.get(2017).unwrap();
        let body = json!({
            "organisation": {"name": "", "type": "school"},
            "contact": {"name": "J.\u{7}", "email": "geen-adres", "phone": "12"},
            "activity": {"title": "x".repeat(201), "description": "\n", "date": "2017-11-20",
                         "starts_at": "12:00", "ends_at": "11:00", "location": "School",
                         "kern": "dronten", "expected_participants": "veel",
                         "age_min": 12, "age_max": 10, "open_to_public": "ja"},
            "extra": true
        });
        let raw = Bytes::from(serde_json::to_vec(&body).unwrap());
        let closed = at("2017-11-06T00:00:00+01:00");
        let result = JsonBody::<RegistrationRequest>::read(raw)
            .unwrap()
            .validate_with(&RegistrationContext {
                edition,
                now: closed,
            });
        assert_eq!(
            codes(result),
            pairs(&[
                ("organisation.name", "required"),
                ("organisation.type", "one_of"),
                ("contact.name", "character"),
                ("contact.email", "email"),
                ("contact.phone", "phone"),
                ("activity.title", "too_long"),
                ("activity.description", "required"),
                ("activity.expected_participants", "type"),
                ("activity.open_to_public", "type"),
                ("activity.guest_lesson_wanted", "required"),
                ("extra", "unknown_field"),
                ("edition", "registration_closed"),
                ("activity.date", "outside_edition"),
                ("activity.ends_at", "order"),
                ("activity.age_max", "order"),
            ])
        );
    }

    #[test]
    fn staff_reviews() {
        assert_eq!(
            codes(check_json::<ReviewRequest>(
                &json!({"action": "start_review", "reason": "Nu\u{1b}", "category": "A", "x": 1})
            )),
            pairs(&[
                ("reason", "character"),
                ("x", "unknown_field"),
                ("category", "not_applicable"),
                ("reason", "not_applicable"),
            ])
        );
        assert_eq!(
            codes(check_json::<RegistrationReviewRequest>(
                &json!({"action": "publish!", "reason": 3, "x": 1})
            )),
            pairs(&[
                ("action", "one_of"),
                ("reason", "type"),
                ("x", "unknown_field"),
            ])
        );
    }
}
