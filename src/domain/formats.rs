//! Values with a format of their own: an e-mail address, a phone number, a KvK
//! number and a year. Each is made only by `parse`, so the domain never holds an
//! unchecked string; each is stored as the plain string (or number) it was sent as.

use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

/// A string schema, for the formats below (stored and shown as plain strings).
fn string_schema(
    format: Option<SchemaFormat>,
    max_length: Option<usize>,
    pattern: Option<&str>,
    example: &str,
) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(format)
        .max_length(max_length)
        .pattern(pattern)
        .examples([example])
        .into()
}

impl PartialSchema for Email {
    fn schema() -> RefOr<Schema> {
        string_schema(
            Some(SchemaFormat::KnownFormat(KnownFormat::Email)),
            Some(Email::MAX_CHARS as usize),
            None,
            "info@zomerfest.nl",
        )
    }
}
impl ToSchema for Email {}

impl PartialSchema for Phone {
    fn schema() -> RefOr<Schema> {
        string_schema(
            None,
            Some(Phone::MAX_CHARS),
            Some(Phone::PATTERN),
            "0321 123456",
        )
    }
}
impl ToSchema for Phone {}

impl PartialSchema for KvkNumber {
    fn schema() -> RefOr<Schema> {
        string_schema(None, None, Some(KvkNumber::PATTERN), "12345678")
    }
}
impl ToSchema for KvkNumber {}

/// An e-mail address as a mail program would take it (the HTML form rule, as the
/// `validator` crate implements it), at most 254 characters. Deliverability is the
/// mail server's business.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub const MAX_CHARS: u64 = 254;

    pub fn parse(text: &str) -> Option<Email> {
        use validator::ValidateEmail;
        // The domain needs a dot: `validator` accepts `info@zomerfest`, which no
        // resident means.
        let dotted = text
            .rsplit_once('@')
            .is_some_and(|(_, domain)| domain.contains('.') && !domain.ends_with('.'));
        (text.chars().count() as u64 <= Email::MAX_CHARS && text.validate_email() && dotted)
            .then(|| Email(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A phone number as people type it: 10 to 15 digits, with spaces, dashes,
/// parentheses or a leading `+` between them; at most 30 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Phone(String);

impl Phone {
    pub const MAX_CHARS: usize = 30;
    /// The same rule as [`Phone::parse`], for the OpenAPI document.
    pub const PATTERN: &str = r"^[ ()+\-]*([0-9][ ()+\-]*){10,15}$";

    pub fn parse(text: &str) -> Option<Phone> {
        let digits = text.chars().filter(char::is_ascii_digit).count();
        let shape = text
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '+' | '(' | ')'));
        (shape && (10..=15).contains(&digits) && text.len() <= Phone::MAX_CHARS)
            .then(|| Phone(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A Chamber of Commerce (KvK) number: exactly eight digits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KvkNumber(String);

impl KvkNumber {
    pub const PATTERN: &str = "^[0-9]{8}$";

    pub fn parse(text: &str) -> Option<KvkNumber> {
        (text.len() == 8 && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| KvkNumber(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The two registers that hand out references.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Register {
    /// Event permits and meldingen: `EV-2017-0001`, by year of submission.
    Permits,
    /// Week van Respect registrations: `WVR-2017-0001`, by edition year.
    RespectWeek,
}

impl Register {
    fn prefix(self) -> &'static str {
        match self {
            Register::Permits => "EV",
            Register::RespectWeek => "WVR",
        }
    }
}

/// A human reference: register, year and a number of at least four digits that
/// increases within the year.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Reference(String);

impl Reference {
    /// In any case: people type a reference from a letter as `ev-2017-0001`.
    pub const PATTERN: &str = "^([Ee][Vv]|[Ww][Vv][Rr])-[0-9]{4}-[0-9]{4,}$";

    pub fn new(register: Register, year: i32, number: u64) -> Reference {
        Reference(format!("{}-{year}-{number:04}", register.prefix()))
    }

    /// A reference as typed, in any case; kept in capitals.
    pub fn parse(text: &str) -> Option<Reference> {
        let text = text.to_ascii_uppercase();
        let mut parts = text.splitn(3, '-');
        let (prefix, year, number) = (parts.next()?, parts.next()?, parts.next()?);
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        (matches!(prefix, "EV" | "WVR")
            && year.len() == 4
            && digits(year)
            && number.len() >= 4
            && digits(number))
        .then(|| Reference(text.clone()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Which register the reference is of.
    pub fn register(&self) -> Register {
        if self.0.starts_with("WVR-") {
            Register::RespectWeek
        } else {
            Register::Permits
        }
    }

    /// The numbered series this reference belongs to (`EV-2017`) and its number in
    /// it (1): what a creation claims, so that the register has no gaps.
    pub fn series_and_number(&self) -> Option<(&str, u64)> {
        let (series, number) = self.0.rsplit_once('-')?;
        Some((series, number.parse().ok()?))
    }
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialSchema for Reference {
    fn schema() -> RefOr<Schema> {
        string_schema(None, None, Some(Reference::PATTERN), "EV-2017-0001")
    }
}
impl ToSchema for Reference {}

/// A calendar year the service can speak about (in a path or a query): from 1970 (a
/// year without a tariff table is the caller's `no_tariff`) to 2099, before the
/// time-zone rules of `chrono-tz` end and Dutch summer time would silently stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Year(i32);

impl Year {
    pub const MIN: i32 = 1970;
    pub const MAX: i32 = 2099;

    pub fn new(year: i32) -> Option<Year> {
        (Year::MIN..=Year::MAX)
            .contains(&year)
            .then_some(Year(year))
    }

    /// A year as written in a path or a query: digits only.
    pub fn parse(text: &str) -> Option<Year> {
        if text.is_empty() || text.len() > 4 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        text.parse().ok().and_then(Year::new)
    }

    pub fn get(self) -> i32 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_accept_what_people_type_and_nothing_else() {
        for (text, ok) in [
            ("info@zomerfest.nl", true),
            ("j.bakker+wvr@regenboog.nl", true),
            // A domain without a dot is a typo for a resident (info@zomerfest).
            ("a@b", false),
            ("info@zomerfest", false),
            ("a@b.nl", true),
            ("a b@c.nl", false),
            ("@c.nl", false),
            ("geen-adres", false),
            ("info@zomerfest.nl\n", false),
        ] {
            assert_eq!(Email::parse(text).is_some(), ok, "email {text:?}");
        }
        let long = format!("{}@zomerfest.nl", "a".repeat(250));
        assert!(Email::parse(&long).is_none(), "over 254 characters");

        for (text, ok) in [
            ("0321 123456", true),
            ("+31 (0)321-123456", true),
            ("123", false),
            ("0321-12345a", false),
            ("0321 123456\u{0}", false),
            ("1234567890123456", false),
        ] {
            assert_eq!(Phone::parse(text).is_some(), ok, "phone {text:?}");
        }

        for (text, ok) in [("12345678", true), ("1234", false), ("1234567a", false)] {
            assert_eq!(KvkNumber::parse(text).is_some(), ok, "kvk {text:?}");
        }

        for (text, year) in [
            ("2017", Some(2017)),
            ("2099", Some(2099)),
            ("2100", None),
            ("1969", None),
            ("0", None),
            ("+2017", None),
            ("02017", None),
            ("9999", None),
        ] {
            assert_eq!(Year::parse(text).map(Year::get), year, "year {text:?}");
        }
    }

    #[test]
    fn references_are_made_and_read_back() {
        let ev = Reference::new(Register::Permits, 2017, 1);
        assert_eq!(ev.as_str(), "EV-2017-0001");
        assert_eq!(
            Reference::new(Register::RespectWeek, 2027, 12_345).as_str(),
            "WVR-2027-12345"
        );
        assert_eq!(ev.series_and_number(), Some(("EV-2017", 1)));
        assert_eq!(
            Reference::new(Register::RespectWeek, 2027, 12_345).series_and_number(),
            Some(("WVR-2027", 12_345))
        );
        let pattern = regex::Regex::new(Reference::PATTERN).unwrap();
        for (text, ok) in [
            ("EV-2017-0001", true),
            ("WVR-2027-12345", true),
            ("EV-17-0001", false),
            ("EV-2017-001", false),
            ("XX-2017-0001", false),
            ("EV-2017-0001-x", false),
            ("ev-2017-0001", true),
            ("Wvr-2027-12345", true),
        ] {
            assert_eq!(Reference::parse(text).is_some(), ok, "{text}");
            assert_eq!(pattern.is_match(text), ok, "pattern {text}");
        }
        assert_eq!(
            Reference::parse("ev-2017-0001").unwrap().as_str(),
            "EV-2017-0001"
        );
    }

    #[test]
    fn the_published_phone_pattern_is_the_rule() {
        let pattern = regex::Regex::new(Phone::PATTERN).unwrap();
        for text in [
            "0321 123456",
            "+31 (0)321-123456",
            "123",
            "0321-12345a",
            "1234567890123456",
        ] {
            assert_eq!(
                pattern.is_match(text),
                Phone::parse(text).is_some(),
                "{text}"
            );
        }
        let kvk = regex::Regex::new(KvkNumber::PATTERN).unwrap();
        for text in ["12345678", "1234", "123456789"] {
            assert_eq!(
                kvk.is_match(text),
                KvkNumber::parse(text).is_some(),
                "{text}"
            );
        }
    }
}
