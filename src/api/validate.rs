//! Reading a JSON body field by field, collecting *every* problem at once (API.md:
//! a 422 lists every failing field), and rejecting unknown fields.
//!
//! A plain `serde` derive stops at the first error; this reader is the constructor of
//! the request types instead, and their `ToSchema` derive documents the same shape.

use std::cell::RefCell;
use std::collections::BTreeSet;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, Utc};
use serde_json::{Map, Value};

use super::error::{ApiError, FieldError};

/// The failures found so far.
#[derive(Debug, Default)]
pub struct Errors(RefCell<Vec<FieldError>>);

impl Errors {
    pub fn push(&self, field: &str, code: &str, message: impl Into<String>) {
        self.0
            .borrow_mut()
            .push(FieldError::new(field, code, message));
    }

    pub fn is_empty(&self) -> bool {
        self.0.borrow().is_empty()
    }

    /// `Ok(value)` when nothing failed, else a 422 naming every failure.
    pub fn finish<T>(self, value: impl FnOnce() -> Option<T>) -> Result<T, ApiError> {
        let errors = self.0.into_inner();
        if errors.is_empty() {
            value().ok_or_else(|| ApiError::Internal("validated value incomplete".into()))
        } else {
            Err(ApiError::Validation(errors))
        }
    }
}

/// One JSON object at a dotted path.
pub struct Obj<'v, 'e> {
    map: Option<&'v Map<String, Value>>,
    path: String,
    errors: &'e Errors,
    read: RefCell<BTreeSet<String>>,
}

impl<'v, 'e> Obj<'v, 'e> {
    /// The body itself; a non-object body is one error at field `""`.
    pub fn root(value: &'v Value, errors: &'e Errors) -> Obj<'v, 'e> {
        Obj::at(value, String::new(), errors)
    }

    fn at(value: &'v Value, path: String, errors: &'e Errors) -> Obj<'v, 'e> {
        let map = value.as_object();
        if map.is_none() {
            errors.push(&path, "type", "Verwacht een object.");
        }
        Obj {
            map,
            path,
            errors,
            read: RefCell::new(BTreeSet::new()),
        }
    }

    fn path_of(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.path)
        }
    }

    /// The raw value, `None` when absent or null (and records that `name` is known).
    fn raw(&self, name: &str) -> Option<&'v Value> {
        self.read.borrow_mut().insert(name.to_string());
        self.map?.get(name).filter(|v| !v.is_null())
    }

    fn required(&self, name: &str) -> Option<&'v Value> {
        let v = self.raw(name);
        if v.is_none() && self.map.is_some() {
            self.errors
                .push(&self.path_of(name), "required", "Dit veld is verplicht.");
        }
        v
    }

    fn wrong_type(&self, name: &str, expected: &str) {
        self.errors
            .push(&self.path_of(name), "type", format!("Verwacht {expected}."));
    }

    /// A nested object (required). When it is missing, its own fields are not
    /// reported again: one `required` on the object says it.
    pub fn object(&self, name: &str) -> Obj<'v, 'e> {
        match self.required(name) {
            Some(v) => Obj::at(v, self.path_of(name), self.errors),
            None => Obj {
                map: None,
                path: self.path_of(name),
                errors: self.errors,
                read: RefCell::new(BTreeSet::new()),
            },
        }
    }

    fn string_value(&self, name: &str, v: &Value, max_chars: usize) -> Option<String> {
        let Some(s) = v.as_str() else {
            self.wrong_type(name, "tekst");
            return None;
        };
        let s = s.trim();
        if s.is_empty() {
            self.errors.push(
                &self.path_of(name),
                "required",
                "Dit veld mag niet leeg zijn.",
            );
            None
        } else if s.chars().count() > max_chars {
            self.errors.push(
                &self.path_of(name),
                "too_long",
                format!("Maximaal {max_chars} tekens."),
            );
            None
        } else {
            Some(s.to_string())
        }
    }

    /// A required, non-empty string (trimmed) of at most `max_chars`.
    pub fn string(&self, name: &str, max_chars: usize) -> Option<String> {
        let v = self.required(name)?;
        self.string_value(name, v, max_chars)
    }

    /// A required e-mail address (see [`looks_like_email`]).
    pub fn email(&self, name: &str) -> Option<String> {
        let email = self.string(name, 254);
        if let Some(e) = &email
            && !looks_like_email(e)
        {
            self.fail(name, "email", "Vul een geldig e-mailadres in.");
        }
        email
    }

    /// A required phone number (see [`looks_like_phone`]).
    pub fn phone(&self, name: &str) -> Option<String> {
        let phone = self.string(name, 30);
        if let Some(p) = &phone
            && !looks_like_phone(p)
        {
            self.fail(name, "phone", "Vul een geldig telefoonnummer in.");
        }
        phone
    }

    /// An optional string; absent, null or empty is `None`. The outer `Option` is
    /// `None` when it was present but bad.
    pub fn opt_string(&self, name: &str, max_chars: usize) -> Option<Option<String>> {
        match self.raw(name) {
            None => Some(None),
            Some(Value::String(s)) if s.trim().is_empty() => Some(None),
            Some(v) => self.string_value(name, v, max_chars).map(Some),
        }
    }

    pub fn boolean(&self, name: &str) -> Option<bool> {
        let v = self.required(name)?;
        let b = v.as_bool();
        if b.is_none() {
            self.wrong_type(name, "true of false");
        }
        b
    }

    fn int_value(&self, name: &str, v: &Value, min: i64, max: i64) -> Option<i64> {
        let Some(n) = v.as_i64() else {
            self.wrong_type(name, "een geheel getal");
            return None;
        };
        if n < min || n > max {
            self.errors.push(
                &self.path_of(name),
                "range",
                format!("Moet tussen {min} en {max} liggen."),
            );
            return None;
        }
        Some(n)
    }

    /// A required whole number within `min..=max`.
    pub fn int(&self, name: &str, min: i64, max: i64) -> Option<i64> {
        let v = self.required(name)?;
        self.int_value(name, v, min, max)
    }

    pub fn opt_int(&self, name: &str, min: i64, max: i64) -> Option<Option<i64>> {
        match self.raw(name) {
            None => Some(None),
            Some(v) => self.int_value(name, v, min, max).map(Some),
        }
    }

    /// One of a fixed set of strings, parsed by `parse`.
    pub fn one_of<T>(
        &self,
        name: &str,
        allowed: &[&str],
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        let v = self.required(name)?;
        let parsed = v.as_str().and_then(&parse);
        if parsed.is_none() {
            self.errors.push(
                &self.path_of(name),
                "one_of",
                format!("Kies een van: {}.", allowed.join(", ")),
            );
        }
        parsed
    }

    /// An RFC 3339 timestamp with offset.
    pub fn timestamp(&self, name: &str) -> Option<DateTime<Utc>> {
        let v = self.required(name)?;
        let parsed = v
            .as_str()
            .and_then(|s| DateTime::<FixedOffset>::parse_from_rfc3339(s).ok())
            .map(|t| t.with_timezone(&Utc));
        if parsed.is_none() {
            self.errors.push(
                &self.path_of(name),
                "timestamp",
                "Verwacht een tijdstip als 2017-08-18T12:00:00+02:00.",
            );
        }
        parsed
    }

    /// A `YYYY-MM-DD` date.
    pub fn date(&self, name: &str) -> Option<NaiveDate> {
        let v = self.required(name)?;
        let parsed = v
            .as_str()
            .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok());
        if parsed.is_none() {
            self.errors.push(
                &self.path_of(name),
                "date",
                "Verwacht een datum als 2017-11-08.",
            );
        }
        parsed
    }

    /// An `HH:MM` time of day.
    pub fn time_of_day(&self, name: &str) -> Option<NaiveTime> {
        let v = self.required(name)?;
        let parsed = v
            .as_str()
            .filter(|s| s.len() == 5)
            .and_then(|s| NaiveTime::parse_from_str(s, "%H:%M").ok());
        if parsed.is_none() {
            self.errors
                .push(&self.path_of(name), "time", "Verwacht een tijd als 09:30.");
        }
        parsed
    }

    /// Records an error on a field of this object (cross-field rules).
    pub fn fail(&self, name: &str, code: &str, message: impl Into<String>) {
        self.errors.push(&self.path_of(name), code, message);
    }

    /// Reports every field that was sent but is not part of the contract.
    pub fn deny_unknown(self) {
        let Some(map) = self.map else { return };
        let read = self.read.borrow();
        for key in map.keys() {
            if !read.contains(key) {
                self.errors.push(
                    &self.path_of(key),
                    "unknown_field",
                    "Dit veld kennen we niet.",
                );
            }
        }
    }
}

/// A plausible e-mail address: one `@`, something before it, a dotted domain after,
/// no spaces. Deliverability is the mail server's business.
pub fn looks_like_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace)
}

/// A Dutch phone number as people type it: digits with spaces, dashes, parentheses
/// or a leading +; 10 to 15 digits.
pub fn looks_like_phone(s: &str) -> bool {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    s.chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '+' | '(' | ')'))
        && (10..=15).contains(&digits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn collects_every_failing_field_with_its_path() {
        let body = json!({"a": {"n": "x", "extra": 1}, "b": "", "c": 5000, "zz": true});
        let errors = Errors::default();
        let root = Obj::root(&body, &errors);
        let a = root.object("a");
        a.int("n", 0, 10);
        a.deny_unknown();
        root.string("b", 10);
        root.int("c", 1, 100);
        root.boolean("d");
        root.deny_unknown();
        let err = errors.finish(|| Some(())).unwrap_err();
        let ApiError::Validation(list) = err else {
            panic!("422 expected")
        };
        let got: Vec<(&str, &str)> = list
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("a.n", "type"),
                ("a.extra", "unknown_field"),
                ("b", "required"),
                ("c", "range"),
                ("d", "required"),
                ("zz", "unknown_field"),
            ]
        );
    }

    #[test]
    fn email_and_phone_shapes() {
        for (s, ok) in [
            ("info@zomerfest.nl", true),
            ("a@b", false),
            ("a b@c.nl", false),
            ("@c.nl", false),
            ("x@y.nl.", false),
        ] {
            assert_eq!(looks_like_email(s), ok, "{s}");
        }
        for (s, ok) in [
            ("0321 123456", true),
            ("+31 321 123456", true),
            ("123", false),
            ("0321-12345a", false),
        ] {
            assert_eq!(looks_like_phone(s), ok, "{s}");
        }
    }
}
