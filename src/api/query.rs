//! Query strings, read the way bodies are ([`super::validate`]): one type per query,
//! read leniently and checked by `validator`, so that one 400 (`invalid_query`) names
//! every unknown, repeated or malformed parameter. A parameter sent empty counts as
//! absent (the OpenAPI document allows `""` for each).

use std::collections::BTreeSet;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use validator::{Validate, ValidationError};

use crate::domain::formats::Year;
use crate::domain::permit::PermitStatus;
use crate::domain::place::Kern;
use crate::domain::respect_week::{OrganisationType, RegistrationStatus};
use crate::domain::time::parse_date;
use crate::store::Position;
use crate::store::permits::PermitSelection;
use crate::store::registrations::ProgrammeSelection;

use super::error::{ApiError, ApiResult, FieldError};
use super::state::AppState;
use super::validate::{
    Field, JsonBody, RequestBody, formatted, optional_choice, optional_kern_choice,
};
use crate::app::messages;

/// Lists: `limit` 1–100, default 25 (docs/api.md).
pub const DEFAULT_LIMIT: usize = 25;
pub const MAX_LIMIT: usize = 100;

/// A query string of type `T`, checked.
pub struct ValidatedQuery<T: RequestBody>(pub T::Valid);

impl<S, T> FromRequestParts<S> for ValidatedQuery<T>
where
    S: Send + Sync,
    T: RequestBody + Validate,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(pairs) = Query::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::InvalidQuery(Vec::new()))?;
        let mut repeated = Vec::new();
        let mut seen = BTreeSet::new();
        let mut object = Map::new();
        for (name, value) in pairs {
            if !seen.insert(name.clone()) {
                if !repeated.iter().any(|e: &FieldError| e.field == name) {
                    let message = messages::field("repeated", None);
                    repeated.push(FieldError::new(&name, "repeated", message));
                }
            } else if !value.is_empty() {
                object.insert(name, Value::String(value));
            }
        }
        let raw = serde_json::to_vec(&object).map_err(|e| ApiError::Internal(e.to_string()))?;
        let checked = JsonBody::<T>::read(raw.into())?.validate();
        match (checked, repeated.is_empty()) {
            (Ok(valid), true) => Ok(ValidatedQuery(valid)),
            (Ok(_), false) => Err(ApiError::InvalidQuery(repeated)),
            (Err(ApiError::Validation(mut errors)), _) => {
                errors.extend(repeated);
                Err(ApiError::InvalidQuery(errors))
            }
            (Err(other), _) => Err(other),
        }
    }
}

// ---------------------------------------------------------------------------------
// The checks of query values (always strings)

fn optional(
    field: &Field<String>,
    code: &'static str,
    parse: impl Fn(&str) -> bool,
) -> Result<(), ValidationError> {
    match field {
        Field::Missing => Ok(()),
        _ => formatted(field, code, |v| parse(v).then_some(())),
    }
}

/// A year 1970–2099, digits only.
pub fn optional_year(field: &Field<String>) -> Result<(), ValidationError> {
    optional(field, "year", |v| Year::parse(v).is_some())
}

/// `limit`: 1–100, digits only.
pub fn optional_limit(field: &Field<String>) -> Result<(), ValidationError> {
    optional(field, "limit", |v| parse_limit(v).is_some())
}

/// `true` or `false`.
pub fn optional_flag(field: &Field<String>) -> Result<(), ValidationError> {
    optional(field, "flag", |v| parse_flag(v).is_some())
}

/// A `YYYY-MM-DD` day.
pub fn optional_date(field: &Field<String>) -> Result<(), ValidationError> {
    optional(field, "date", |v| parse_date(v).is_some())
}

fn parse_limit(v: &str) -> Option<usize> {
    v.bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| v.parse::<usize>().ok())
        .flatten()
        .filter(|n| (1..=MAX_LIMIT).contains(n))
}

fn parse_flag(v: &str) -> Option<bool> {
    match v {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// A checked optional value, parsed (`None` inside `Some` when absent).
fn parsed<T>(field: Field<String>, parse: impl Fn(&str) -> Option<T>) -> Option<Option<T>> {
    match field {
        Field::Missing => Some(None),
        Field::Given(v) => parse(&v).map(Some),
        Field::WrongType => None,
    }
}

/// `limit` and `cursor` of a list page.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub limit: usize,
    pub cursor: Option<String>,
}

impl Page {
    fn of(limit: Field<String>, cursor: Field<String>) -> Option<Page> {
        Some(Page {
            limit: parsed(limit, parse_limit)?.unwrap_or(DEFAULT_LIMIT),
            cursor: cursor.into_given(),
        })
    }

    /// Where the page starts: a tampered cursor is a 400 `invalid_cursor`.
    pub fn after(&self, state: &AppState) -> ApiResult<Option<Position>> {
        self.cursor
            .as_deref()
            .map(|c| state.cursors.open(c))
            .transpose()
    }
}

// ---------------------------------------------------------------------------------
// The query types

/// `GET /admin/permits`.
#[derive(Debug, Default, Deserialize, Validate, ToSchema, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct PermitListQuery {
    /// Only applications in this status.
    #[validate(custom(function = "optional_choice"))]
    #[param(value_type = Option<PermitStatus>)]
    #[schema(value_type = Option<PermitStatus>)]
    pub status: Field<PermitStatus>,
    /// Only applications submitted in this local year (1970–2099).
    #[validate(custom(function = "optional_year"))]
    #[param(value_type = Option<i32>, minimum = 1970, maximum = 2099)]
    #[schema(value_type = Option<i32>)]
    pub year: Field<String>,
    /// Only late (`true`) or on-time (`false`) applications.
    #[validate(custom(function = "optional_flag"))]
    #[param(value_type = Option<bool>)]
    #[schema(value_type = Option<bool>)]
    pub late: Field<String>,
    /// 1–100, default 25.
    #[validate(custom(function = "optional_limit"))]
    #[param(value_type = Option<usize>, minimum = 1, maximum = 100)]
    #[schema(value_type = Option<usize>)]
    pub limit: Field<String>,
    /// `next_cursor` of the previous page.
    #[param(value_type = Option<String>)]
    #[schema(value_type = Option<String>)]
    pub cursor: Field<String>,
}

impl RequestBody for PermitListQuery {
    type Valid = (PermitSelection, Page);

    fn into_valid(self) -> Option<(PermitSelection, Page)> {
        let selection = PermitSelection {
            status: self.status.into_given(),
            year: parsed(self.year, |v| Year::parse(v).map(Year::get))?,
            late: parsed(self.late, parse_flag)?,
        };
        Some((selection, Page::of(self.limit, self.cursor)?))
    }
}

/// `?year=` alone: the coverage report.
#[derive(Debug, Default, Deserialize, Validate, ToSchema, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct YearQuery {
    /// A local year (1970–2099); default the current one.
    #[validate(custom(function = "optional_year"))]
    #[param(value_type = Option<i32>, minimum = 1970, maximum = 2099)]
    #[schema(value_type = Option<i32>)]
    pub year: Field<String>,
}

impl RequestBody for YearQuery {
    type Valid = Option<i32>;

    fn into_valid(self) -> Option<Option<i32>> {
        parsed(self.year, |v| Year::parse(v).map(Year::get))
    }
}

pub use crate::app::export::CsvDialect;

/// `GET /admin/permits.csv`.
#[derive(Debug, Default, Deserialize, Validate, ToSchema, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// A local year of submission (1970–2099); default the current one.
    #[validate(custom(function = "optional_year"))]
    #[param(value_type = Option<i32>, minimum = 1970, maximum = 2099)]
    #[schema(value_type = Option<i32>)]
    pub year: Field<String>,
    /// `rfc4180` (default) or `excel_nl`.
    #[validate(custom(function = "optional_choice"))]
    #[param(value_type = Option<CsvDialect>)]
    #[schema(value_type = Option<CsvDialect>)]
    pub dialect: Field<CsvDialect>,
}

impl RequestBody for ExportQuery {
    type Valid = (Option<i32>, CsvDialect);

    fn into_valid(self) -> Option<Self::Valid> {
        Some((
            parsed(self.year, |v| Year::parse(v).map(Year::get))?,
            self.dialect.into_given().unwrap_or_default(),
        ))
    }
}

/// `GET /admin/respect-week/{year}/contacts.csv`.
#[derive(Debug, Default, Deserialize, Validate, ToSchema, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct DialectQuery {
    /// `rfc4180` (default) or `excel_nl`.
    #[validate(custom(function = "optional_choice"))]
    #[param(value_type = Option<CsvDialect>)]
    #[schema(value_type = Option<CsvDialect>)]
    pub dialect: Field<CsvDialect>,
}

impl RequestBody for DialectQuery {
    type Valid = CsvDialect;

    fn into_valid(self) -> Option<Self::Valid> {
        Some(self.dialect.into_given().unwrap_or_default())
    }
}

/// `GET /admin/respect-week/{year}/activities`.
#[derive(Debug, Default, Deserialize, Validate, ToSchema, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct RegistrationListQuery {
    /// Only registrations in this status.
    #[validate(custom(function = "optional_choice"))]
    #[param(value_type = Option<RegistrationStatus>)]
    #[schema(value_type = Option<RegistrationStatus>)]
    pub status: Field<RegistrationStatus>,
    /// 1–100, default 25.
    #[validate(custom(function = "optional_limit"))]
    #[param(value_type = Option<usize>, minimum = 1, maximum = 100)]
    #[schema(value_type = Option<usize>)]
    pub limit: Field<String>,
    /// `next_cursor` of the previous page.
    #[param(value_type = Option<String>)]
    #[schema(value_type = Option<String>)]
    pub cursor: Field<String>,
}

impl RequestBody for RegistrationListQuery {
    type Valid = (Option<RegistrationStatus>, Page);

    fn into_valid(self) -> Option<Self::Valid> {
        Some((self.status.into_given(), Page::of(self.limit, self.cursor)?))
    }
}

/// `GET /respect-week/{year}/activities`: the public programme.
#[derive(Debug, Default, Deserialize, Validate, ToSchema, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct ProgrammeQuery {
    /// Only this day (`YYYY-MM-DD`).
    #[validate(custom(function = "optional_date"))]
    #[param(value_type = Option<String>, format = Date)]
    #[schema(value_type = Option<String>)]
    pub date: Field<String>,
    /// Only activities of this type of organisation.
    #[validate(custom(function = "optional_choice"))]
    #[param(value_type = Option<OrganisationType>)]
    #[schema(value_type = Option<OrganisationType>)]
    pub organisation_type: Field<OrganisationType>,
    /// Only activities in this kern.
    #[validate(custom(function = "optional_kern_choice"))]
    #[param(value_type = Option<Kern>)]
    #[schema(value_type = Option<Kern>)]
    pub kern: Field<Kern>,
    /// 1–100, default 25.
    #[validate(custom(function = "optional_limit"))]
    #[param(value_type = Option<usize>, minimum = 1, maximum = 100)]
    #[schema(value_type = Option<usize>)]
    pub limit: Field<String>,
    /// `next_cursor` of the previous page.
    #[param(value_type = Option<String>)]
    #[schema(value_type = Option<String>)]
    pub cursor: Field<String>,
}

impl RequestBody for ProgrammeQuery {
    type Valid = (ProgrammeSelection, Page);

    fn into_valid(self) -> Option<(ProgrammeSelection, Page)> {
        let selection = ProgrammeSelection {
            date: parsed(self.date, parse_date)?,
            organisation_type: self.organisation_type.into_given(),
            kern: self.kern.into_given(),
        };
        Some((selection, Page::of(self.limit, self.cursor)?))
    }
}
