//! Reading a body: media type, size, JSON, unknown fields; then one 422 for every
//! failing field.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde::Deserialize;
use serde_json::Value;
use validator::{Validate, ValidateArgs, ValidationErrors};

use super::MAX_BODY_BYTES;
use super::errors::field_errors;
use super::field::Nested;
use crate::api::error::{ApiError, FieldError};
use crate::app::messages;

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
        if body.is_none() {
            // Not an object at all: that is the one thing to say.
            return Err(ApiError::Validation(vec![FieldError::new(
                "",
                "type",
                messages::field("type", None),
            )]));
        }
        Err(ApiError::Validation(field_errors::<T>(
            failure.as_ref(),
            &self.unknown,
        )))
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

#[cfg(test)]
mod tests {
    use super::*;

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
                      "amplified_music": "ja", "max_sound_dba": 185, "alcohol": "lots",
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
