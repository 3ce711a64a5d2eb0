//! Query strings of the list routes, read one way everywhere: only the route's names,
//! each at most once, an empty value counting as absent, and every problem reported
//! at once in one 400 (`invalid_query`).

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::Query;
use axum::extract::rejection::QueryRejection;

use crate::domain::formats::Year;
use crate::store::Position;

use super::AppState;
use super::error::{ApiError, ApiResult};

/// The raw pairs; taken as a `Result` so a malformed query string is our 400.
pub type RawQuery = Result<Query<Vec<(String, String)>>, QueryRejection>;

/// Lists: `limit` 1–100, default 25 (API.md).
pub const DEFAULT_LIMIT: usize = 25;
pub const MAX_LIMIT: usize = 100;

pub struct QueryParams {
    values: BTreeMap<String, String>,
    problems: Vec<String>,
}

impl QueryParams {
    pub fn parse(raw: RawQuery, allowed: &[&str]) -> ApiResult<QueryParams> {
        let Query(pairs) = raw.map_err(|_| ApiError::BadRequest {
            code: "invalid_query",
            detail: "De zoekparameters zijn onleesbaar.".into(),
        })?;
        let mut params = QueryParams {
            values: BTreeMap::new(),
            problems: Vec::new(),
        };
        let mut seen = BTreeSet::new();
        for (name, value) in pairs {
            if !allowed.contains(&name.as_str()) {
                params.problems.push(format!("{name}: onbekende parameter"));
            } else if !seen.insert(name.clone()) {
                params
                    .problems
                    .push(format!("{name}: meer dan één keer opgegeven"));
            } else if !value.is_empty() {
                // Exactly as sent: " 2017" is not a year (the OpenAPI document says so).
                params.values.insert(name, value);
            }
        }
        Ok(params)
    }

    /// The parsed value of `name`, if sent; a value `parse` refuses is a problem.
    pub fn get<T>(
        &mut self,
        name: &str,
        expected: &str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Option<T> {
        let value = self.values.get(name)?;
        let parsed = parse(value);
        if parsed.is_none() {
            self.problems.push(format!("{name}: verwacht {expected}"));
        }
        parsed
    }

    pub fn year(&mut self) -> Option<i32> {
        self.get("year", "een jaartal (1970–2099)", |v| {
            Year::parse(v).map(Year::get)
        })
    }

    /// `limit`: 1–100, default 25.
    pub fn limit(&mut self) -> usize {
        self.get("limit", "een getal van 1 tot 100", |v| {
            v.bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| v.parse::<usize>().ok())
                .flatten()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
        })
        .unwrap_or(DEFAULT_LIMIT)
    }

    pub fn fail(&mut self, problem: String) {
        self.problems.push(problem);
    }

    /// Ends the reading: 400 naming every problem.
    pub fn finish(self) -> ApiResult<()> {
        self.finish_with_cursor(None).map(|_| ())
    }

    /// Ends the reading of a list: 400 naming every problem, else the opened
    /// `cursor` (a tampered one is a 400 `invalid_cursor`).
    pub fn finish_list(self, state: &AppState) -> ApiResult<Option<Position>> {
        self.finish_with_cursor(Some(state))
    }

    fn finish_with_cursor(self, state: Option<&AppState>) -> ApiResult<Option<Position>> {
        if !self.problems.is_empty() {
            return Err(ApiError::BadRequest {
                code: "invalid_query",
                detail: format!("Onjuiste zoekparameters: {}.", self.problems.join("; ")),
            });
        }
        match (state, self.values.get("cursor")) {
            (Some(state), Some(cursor)) => state.cursors.open(cursor).map(Some),
            _ => Ok(None),
        }
    }
}
