//! "Ik ben mijn link kwijt" as pages: `/evenementen/link-kwijt` and
//! `/week-van-respect/link-kwijt`. The form's fields are checked by the API's own
//! request type, and the link is sent by the API's own `send_new_link`; the answer
//! is the same whether the reference and the address match or not.

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;

use crate::api::error::ApiError;
use crate::api::lost_link::{ANSWER, LostLinkRequest, Register};
use crate::api::state::AppState;
use crate::api::validate::JsonBody;
use crate::app::lost_link::send_new_link;

use super::cookies::CheckedForm;
use super::form::{Errors, FieldSpec, FormScaffold, Section, Values};
use super::{Page, error_page, message};

pub fn permit_router() -> Router<AppState> {
    Router::new().route(
        "/evenementen/link-kwijt",
        get(
            |headers: HeaderMap, Query(filled): Query<Prefill>| async move {
                form_page(
                    &headers,
                    Register::Permits,
                    &filled.values(),
                    Errors::default(),
                )
            },
        )
        .post(
            |state: State<AppState>, headers: HeaderMap, form: CheckedForm| {
                submit(state, headers, form, Register::Permits)
            },
        ),
    )
}

pub fn respect_week_router() -> Router<AppState> {
    Router::new().route(
        "/week-van-respect/link-kwijt",
        get(
            |headers: HeaderMap, Query(filled): Query<Prefill>| async move {
                form_page(
                    &headers,
                    Register::RespectWeek,
                    &filled.values(),
                    Errors::default(),
                )
            },
        )
        .post(
            |state: State<AppState>, headers: HeaderMap, form: CheckedForm| {
                submit(state, headers, form, Register::RespectWeek)
            },
        ),
    )
}

/// `?kenmerk=`: the reference a later e-mail's "Ik ben mijn link kwijt" fills in,
/// so that one click and the e-mail address lead to a new link.
#[derive(Deserialize)]
struct Prefill {
    kenmerk: Option<String>,
}

impl Prefill {
    fn values(&self) -> Values {
        let mut values = Values::default();
        if let Some(reference) = &self.kenmerk {
            values.set("reference", reference.trim());
        }
        values
    }
}

fn fields() -> Vec<(&'static str, Vec<FieldSpec>)> {
    vec![(
        "Uw gegevens",
        vec![
            FieldSpec::text("reference", "Kenmerk")
                .hint("Het staat in uw bevestiging, bijvoorbeeld EV-2017-0001.")
                .autocomplete("off"),
            FieldSpec::text("email", "E-mailadres")
                .kind("email")
                .hint("Het adres dat u bij de aanvraag of aanmelding gaf.")
                .autocomplete("email"),
        ],
    )]
}

#[derive(Template)]
#[template(path = "lost_link.html")]
struct LostLinkPage {
    page: Page,
    csrf: String,
    intro: &'static str,
    action: &'static str,
    errors: Errors,
    sections: Vec<Section>,
}

fn form_page(headers: &HeaderMap, register: Register, values: &Values, errors: Errors) -> Response {
    let (intro, action) = match register {
        Register::Permits => (
            "Met de persoonlijke link uit uw ontvangstbevestiging volgt u uw aanvraag voor een evenement.",
            "/evenementen/link-kwijt",
        ),
        Register::RespectWeek => (
            "Met de persoonlijke link uit uw bevestiging bekijkt u uw aanmelding voor de Week van Respect.",
            "/week-van-respect/link-kwijt",
        ),
    };
    let (form, reply) = FormScaffold::new(headers, &fields(), values, errors);
    let page = LostLinkPage {
        page: Page::new("Ik ben mijn link kwijt"),
        csrf: form.csrf,
        intro,
        action,
        sections: form.sections,
        errors: form.errors,
    };
    reply.respond(headers, page.render())
}

async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    CheckedForm(values): CheckedForm,
    register: Register,
) -> Response {
    let body = json!({
        "reference": values.get("reference").trim(),
        "email": values.get("email").trim(),
    });
    let raw = Bytes::from(serde_json::to_vec(&body).unwrap_or_default());
    let checked = JsonBody::<LostLinkRequest>::read(raw).and_then(|b| b.validate());
    let outcome = match checked {
        Ok((reference, email)) => send_new_link(&state, register, &reference, &email)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) => message(
            StatusCode::OK,
            "Kijk in uw e-mail",
            ANSWER.into(),
            Some(("/", "Naar de startpagina")),
        ),
        Err(e @ ApiError::Validation(_)) => {
            let errors = Errors::of(&e, str::to_string).unwrap_or_default();
            form_page(&headers, register, &values, errors)
        }
        Err(e) => error_page(&e),
    }
}
