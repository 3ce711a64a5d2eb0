//! Forms as data: the fields of a page, the values a visitor typed, and the errors
//! the API's request types found, placed at the field they belong to.
//!
//! A form post is turned into the JSON of the matching API request and checked by the
//! same request type (`validate`), so a page and the API refuse exactly the same
//! things with the same messages.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveTime, TimeZone};
use serde_json::{Map, Value};

use crate::api::error::{ApiError, FieldError};
use crate::domain::time::ZONE;

/// What was posted, by field name (the last value of a name wins).
#[derive(Debug, Clone, Default)]
pub struct Values(BTreeMap<String, String>);

impl Values {
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Values {
        Values(pairs.into_iter().collect())
    }

    pub fn get(&self, name: &str) -> &str {
        self.0.get(name).map(String::as_str).unwrap_or("")
    }

    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.0.insert(name.to_string(), value.into());
    }

    /// The form's idempotency key when it is one (1–64 letters and digits), else a
    /// new one: a post without it can still be filed, once.
    pub fn idempotency_key(&self) -> String {
        Some(self.get("idempotency_key").to_string())
            .filter(|k| {
                !k.is_empty() && k.len() <= 64 && k.bytes().all(|b| b.is_ascii_alphanumeric())
            })
            .unwrap_or_else(crate::secrets::new_id)
    }

    pub fn checked(&self, name: &str) -> bool {
        !self.get(name).is_empty()
    }

    /// A text value as the API takes it; a blank one is left out (`required` or
    /// "not given", as the request type decides).
    pub fn text(&self, name: &str, into: &mut Map<String, Value>, key: &str) {
        let value = self.get(name);
        if !value.trim().is_empty() {
            into.insert(key.into(), Value::String(value.to_string()));
        }
    }

    /// A whole number; what is not one is passed on as text, for the request type to
    /// refuse with its own message.
    pub fn number(&self, name: &str, into: &mut Map<String, Value>, key: &str) {
        let value = self.get(name).trim();
        if value.is_empty() {
            return;
        }
        let number = value
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(value.to_string()));
        into.insert(key.into(), number);
    }

    pub fn flag(&self, name: &str, into: &mut Map<String, Value>, key: &str) {
        into.insert(key.into(), Value::Bool(self.checked(name)));
    }

    /// A date and a time of day, local to Dronten, as one RFC 3339 moment; what is not
    /// a date and a time is passed on as typed, for the request type to refuse.
    pub fn moment(&self, date: &str, time: &str, into: &mut Map<String, Value>, key: &str) {
        let (d, t) = (self.get(date).trim(), self.get(time).trim());
        if d.is_empty() || t.is_empty() {
            return;
        }
        let parsed = NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .ok()
            .zip(NaiveTime::parse_from_str(t, "%H:%M").ok())
            .and_then(|(d, t)| ZONE.from_local_datetime(&d.and_time(t)).earliest());
        let value = match parsed {
            Some(at) => at.to_rfc3339(),
            None => format!("{d} {t}"),
        };
        into.insert(key.into(), Value::String(value));
    }
}

/// The errors of a refused post, each at its field.
#[derive(Debug, Clone, Default)]
pub struct Errors {
    /// In the order the request type reported them (the order of the form).
    pub items: Vec<ErrorItem>,
}

#[derive(Debug, Clone)]
pub struct ErrorItem {
    /// The form field (its `name`) the message belongs to.
    pub field: String,
    /// That field's label, for the error summary.
    pub label: String,
    pub message: String,
}

impl ErrorItem {
    /// The label as it leads the message in the error summary: `Uw naam: …`, but a
    /// question as itself (`Wat gaat er gebeuren? …`, not `gebeuren?: …`).
    pub fn lead(&self) -> String {
        match self.label.trim_end() {
            "" => String::new(),
            label if label.ends_with(['?', '.', ':']) => format!("{label} "),
            label => format!("{label}: "),
        }
    }
}

impl Errors {
    /// The field errors of a refusal, placed by `place` (an API field → a form field).
    pub fn of(error: &ApiError, place: impl Fn(&str) -> String) -> Option<Errors> {
        let ApiError::Validation(fields) = error else {
            return None;
        };
        let mut items: Vec<ErrorItem> = Vec::new();
        for FieldError { field, message, .. } in fields {
            let field = place(field);
            // One message per field: the first is the one to fix first.
            if !items.iter().any(|i| i.field == field) {
                items.push(ErrorItem {
                    label: String::new(),
                    field,
                    message: message.clone(),
                });
            }
        }
        Some(Errors { items })
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn at(&self, field: &str) -> Option<&str> {
        self.items
            .iter()
            .find(|i| i.field == field)
            .map(|i| i.message.as_str())
    }
}

/// The id of a field's control: its name with `-` for `.` (a valid fragment).
pub fn control_id(name: &str) -> String {
    name.replace(['.', '_'], "-")
}

/// How a field is entered.
#[derive(Debug, Clone)]
pub enum Control {
    /// `<input type=…>` with an `inputmode` when numbers are wanted.
    Input {
        kind: &'static str,
        numeric: bool,
    },
    Textarea,
    /// Value and label of each option.
    Select(Vec<(String, String)>),
    Checkbox,
}

/// One field as a page shows it.
#[derive(Debug, Clone)]
pub struct FieldView {
    pub name: &'static str,
    pub id: String,
    pub label: &'static str,
    pub hint: &'static str,
    pub control: Control,
    pub value: String,
    pub checked: bool,
    pub autocomplete: &'static str,
    pub optional: bool,
    pub error: Option<String>,
}

impl FieldView {
    /// `aria-describedby`: the hint and the error, when there are.
    pub fn described_by(&self) -> String {
        let mut ids = Vec::new();
        if !self.hint.is_empty() {
            ids.push(format!("{}-hint", self.id));
        }
        if self.error.is_some() {
            ids.push(format!("{}-error", self.id));
        }
        ids.join(" ")
    }

    pub fn is_input(&self) -> bool {
        matches!(self.control, Control::Input { .. })
    }

    pub fn input_type(&self) -> &'static str {
        match self.control {
            Control::Input { kind, .. } => kind,
            _ => "text",
        }
    }

    pub fn numeric(&self) -> bool {
        matches!(self.control, Control::Input { numeric: true, .. })
    }

    pub fn is_textarea(&self) -> bool {
        matches!(self.control, Control::Textarea)
    }

    pub fn is_checkbox(&self) -> bool {
        matches!(self.control, Control::Checkbox)
    }

    pub fn options(&self) -> &[(String, String)] {
        match &self.control {
            Control::Select(options) => options,
            _ => &[],
        }
    }

    pub fn is_select(&self) -> bool {
        matches!(self.control, Control::Select(_))
    }
}

/// A field's definition: what it is, before values and errors are filled in.
#[derive(Debug, Clone)]
pub struct FieldSpec {
    pub name: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub control: Control,
    pub autocomplete: &'static str,
    pub optional: bool,
}

impl FieldSpec {
    pub fn text(name: &'static str, label: &'static str) -> FieldSpec {
        FieldSpec {
            name,
            label,
            hint: "",
            control: Control::Input {
                kind: "text",
                numeric: false,
            },
            autocomplete: "",
            optional: false,
        }
    }

    pub fn kind(mut self, kind: &'static str) -> FieldSpec {
        self.control = Control::Input {
            kind,
            numeric: false,
        };
        self
    }

    pub fn number(mut self) -> FieldSpec {
        self.control = Control::Input {
            kind: "text",
            numeric: true,
        };
        self
    }

    pub fn textarea(mut self) -> FieldSpec {
        self.control = Control::Textarea;
        self
    }

    pub fn select<V: Into<String>, L: Into<String>>(
        mut self,
        options: impl IntoIterator<Item = (V, L)>,
    ) -> FieldSpec {
        let options = options
            .into_iter()
            .map(|(value, label)| (value.into(), label.into()))
            .collect();
        self.control = Control::Select(options);
        self
    }

    pub fn checkbox(name: &'static str, label: &'static str) -> FieldSpec {
        FieldSpec {
            control: Control::Checkbox,
            optional: true,
            ..FieldSpec::text(name, label)
        }
    }

    pub fn hint(mut self, hint: &'static str) -> FieldSpec {
        self.hint = hint;
        self
    }

    pub fn autocomplete(mut self, token: &'static str) -> FieldSpec {
        self.autocomplete = token;
        self
    }

    pub fn optional(mut self) -> FieldSpec {
        self.optional = true;
        self
    }

    pub fn view(&self, values: &Values, errors: &Errors) -> FieldView {
        FieldView {
            name: self.name,
            id: control_id(self.name),
            label: self.label,
            hint: self.hint,
            control: self.control.clone(),
            value: values.get(self.name).to_string(),
            checked: values.checked(self.name),
            autocomplete: self.autocomplete,
            optional: self.optional,
            error: errors.at(self.name).map(str::to_string),
        }
    }
}

/// A group of fields with its legend.
#[derive(Debug, Clone)]
pub struct Section {
    pub legend: &'static str,
    pub fields: Vec<FieldView>,
}

/// Names each error's field by its label, for the error summary.
pub fn label_errors(errors: &mut Errors, specs: &[(&'static str, Vec<FieldSpec>)]) {
    for item in &mut errors.items {
        item.label = specs
            .iter()
            .flat_map(|(_, fields)| fields)
            .find(|f| f.name == item.field)
            .map(|f| f.label.to_string())
            .unwrap_or_default();
    }
}

pub fn sections(
    specs: &[(&'static str, Vec<FieldSpec>)],
    values: &Values,
    errors: &Errors,
) -> Vec<Section> {
    specs
        .iter()
        .map(|(legend, fields)| Section {
            legend,
            fields: fields.iter().map(|f| f.view(values, errors)).collect(),
        })
        .collect()
}

/// What every form page shares: its errors named by their fields' labels, the
/// sections to show, the CSRF value (a new one is set as a cookie), and 422 when
/// there are errors. The page's template takes `csrf`, `sections` and `errors`; the
/// rendered page goes back through [`FormReply::respond`].
pub struct FormScaffold {
    pub csrf: String,
    pub sections: Vec<Section>,
    pub errors: Errors,
}

/// How a form page is answered, once rendered.
pub struct FormReply {
    status: axum::http::StatusCode,
    csrf: String,
    fresh: bool,
}

impl FormScaffold {
    pub fn new(
        headers: &axum::http::HeaderMap,
        specs: &[(&'static str, Vec<FieldSpec>)],
        values: &Values,
        mut errors: Errors,
    ) -> (FormScaffold, FormReply) {
        label_errors(&mut errors, specs);
        let (csrf, fresh) = crate::web::cookies::csrf_token(headers);
        let status = if errors.is_empty() {
            axum::http::StatusCode::OK
        } else {
            axum::http::StatusCode::UNPROCESSABLE_ENTITY
        };
        let scaffold = FormScaffold {
            csrf: csrf.clone(),
            sections: sections(specs, values, &errors),
            errors,
        };
        (
            scaffold,
            FormReply {
                status,
                csrf,
                fresh,
            },
        )
    }

    /// The page's title, marked "Fout:" while it shows errors, so that a screen
    /// reader hears at once that the form came back.
    pub fn title(&self, title: &str) -> String {
        if self.errors.is_empty() {
            return title.to_string();
        }
        let mut chars = title.chars();
        let first = chars.next().map(|c| c.to_lowercase().to_string());
        format!("Fout: {}{}", first.unwrap_or_default(), chars.as_str())
    }
}

impl FormReply {
    /// Another status for a form that came back: 409 for a refused duplicate.
    pub fn with_status(mut self, status: axum::http::StatusCode) -> FormReply {
        self.status = status;
        self
    }

    pub fn respond(
        self,
        headers: &axum::http::HeaderMap,
        rendered: askama::Result<String>,
    ) -> axum::response::Response {
        use axum::response::IntoResponse;
        let mut response = (self.status, crate::web::html(rendered)).into_response();
        if self.fresh {
            crate::web::cookies::remember_csrf(&mut response, headers, &self.csrf);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_local_date_and_time_become_one_moment_and_the_rest_stays_as_typed() {
        let mut values = Values::default();
        values.set("d", "2017-08-18");
        values.set("t", "12:00");
        values.set("bad", "18-08-2017");
        let mut json = Map::new();
        values.moment("d", "t", &mut json, "summer");
        values.moment("bad", "t", &mut json, "typed");
        values.moment("missing", "t", &mut json, "absent");
        values.set("n", " 4000 ");
        values.set("x", "veel");
        values.number("n", &mut json, "n");
        values.number("x", &mut json, "x");
        assert_eq!(json["summer"], "2017-08-18T12:00:00+02:00");
        assert_eq!(json["typed"], "18-08-2017 12:00");
        assert!(!json.contains_key("absent"));
        assert_eq!(json["n"], 4000);
        assert_eq!(json["x"], "veel");
    }
}
