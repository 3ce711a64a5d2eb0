//! The pages: HTML for organisers, schools and sport clubs, served by loket itself
//! next to the API, in Dutch, with the NL Design System's components.
//!
//! - Server-rendered with askama (templates checked at compile time, escaping by
//!   construction); everything works without JavaScript, and `/static/loket.js` only
//!   enhances (the live summary, focus on an error's field).
//! - Forms are read into the API's own request types (`form.rs`), so a page and the
//!   API refuse the same things with the same messages.
//! - Every post carries a CSRF value; the private link's token lives in a cookie,
//!   never in the address bar after the first visit (`cookies.rs`).
//! - A Content-Security-Policy without inline script or style, on every page.

use askama::Template;
use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use crate::api::error::ApiError;
use crate::api::state::AppState;
use crate::app::profile;

pub mod assets;
pub mod cookies;
pub mod form;
pub mod lost_link;
pub mod permits;
pub mod respect_week;
pub mod staff;

/// No script or style but our own files; no framing; forms post only here.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// What every page's layout needs: its title, and the municipality in use
/// (`app::profile`) in the title, header and footer.
pub struct Page {
    pub title: String,
    pub css: &'static str,
    /// The profile's colours (`assets::theme`), linked after `css`.
    pub theme_css: String,
    pub js: &'static str,
    /// The profile's office, e.g. `Gemeente Dronten`.
    pub organisation: String,
    /// The profile's footer line, e.g. `Gemeente Dronten · De Rede 1, 8251 ER Dronten ·
    /// 14 0321`.
    pub footer: String,
}

impl Page {
    pub fn new(title: &str) -> Page {
        let (organisation, footer) =
            profile::with(|m| (m.office.organisation.clone(), m.footer_line()));
        Page {
            title: title.to_string(),
            css: assets::CSS_PATH.as_str(),
            theme_css: assets::theme().0,
            js: assets::JS_PATH.as_str(),
            organisation,
            footer,
        }
    }
}

/// The kernen of the municipality in use as a select's options, after `first`.
pub fn kern_options(first: &str) -> Vec<(String, String)> {
    let mut options = vec![(String::new(), first.to_string())];
    profile::with(|m| {
        options.extend(m.kernen.iter().map(|k| (k.code.clone(), k.name.clone())));
    });
    options
}

/// A rendered page with its headers; a template that fails to render is a 500.
pub fn html(rendered: askama::Result<String>) -> Response {
    match rendered {
        Ok(body) => {
            let mut response = Html(body).into_response();
            page_headers(response.headers_mut());
            response
        }
        Err(e) => ApiError::Internal(format!("template: {e}")).into_response(),
    }
}

fn page_headers(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

/// `https://host/path` (`http` on the local server), for links that leave the page.
pub fn absolute(headers: &HeaderMap, path: &str) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1:3000");
    let scheme = match headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
    {
        Some(p) if p.eq_ignore_ascii_case("https") => "https",
        _ => "http",
    };
    format!("{scheme}://{host}{path}")
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    page: Page,
    heading: &'static str,
    text: String,
    link: Option<(&'static str, &'static str)>,
}

pub(crate) fn message(
    status: StatusCode,
    heading: &'static str,
    text: String,
    link: Option<(&'static str, &'static str)>,
) -> Response {
    let page = MessagePage {
        page: Page::new(heading),
        heading,
        text,
        link,
    };
    (status, html(page.render())).into_response()
}

/// A private link that opens nothing: unknown, or not (any longer) this browser's.
pub fn not_found_page() -> Response {
    message(
        StatusCode::NOT_FOUND,
        "Deze pagina bestaat niet",
        "Misschien is de link niet volledig, of is hij al een keer gebruikt in een andere browser, of is er intussen een nieuwe link verstuurd. Open de link uit uw bevestiging opnieuw, of vraag op de startpagina een nieuwe link aan.".into(),
        Some(("/", "Naar de startpagina")),
    )
}

/// A post without the form's CSRF value: sent from elsewhere, or the page was old.
pub fn csrf_refused() -> Response {
    message(
        StatusCode::FORBIDDEN,
        "Het formulier is verlopen",
        "Uw gegevens zijn niet verstuurd. Ga terug, laad de pagina opnieuw en verstuur het formulier nog een keer.".into(),
        Some(("/", "Naar de startpagina")),
    )
}

/// Any other refusal or failure, in words.
pub fn error_page(error: &ApiError) -> Response {
    let status = error.status();
    let heading = if status.is_server_error() {
        "Er ging iets mis"
    } else {
        "Dit kan niet"
    };
    let text = match error {
        ApiError::Conflict { detail, .. } => detail.clone(),
        _ if status.is_server_error() => {
            "Er ging iets mis aan onze kant. Probeer het over een paar minuten opnieuw.".into()
        }
        _ => "Uw verzoek kon niet worden verwerkt.".into(),
    };
    if let ApiError::Internal(e) = error {
        tracing::error!(error = %e, "page failed");
    }
    message(status, heading, text, Some(("/", "Naar de startpagina")))
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    page: Page,
    year: i32,
    name: String,
    kernen: String,
}

async fn home(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    let year = crate::domain::time::local_year(state.clocks.business());
    let edition_year = state.catalogue.editions.current_or_next(year);
    html(
        HomePage {
            page: Page::new("Evenementen en Week van Respect"),
            year: edition_year,
            name: state.catalogue.municipality.name.clone(),
            kernen: state.catalogue.municipality.kernen_text("of"),
        }
        .render(),
    )
}

/// The home page and the assets: part of every function that serves pages.
fn common() -> Router<AppState> {
    Router::new().route("/", get(home)).merge(assets::router())
}

/// Pages, stylesheet and script go out gzipped to a browser that asks (every one):
/// a page with its stylesheet and script is about 12 KB on the wire.
fn compressed(routes: Router<AppState>) -> Router<AppState> {
    routes.layer(tower_http::compression::CompressionLayer::new())
}

/// The organisers' pages (the `permits` function).
pub fn permit_pages() -> Router<AppState> {
    compressed(
        common()
            .merge(permits::router())
            .merge(lost_link::permit_router()),
    )
}

/// The Week van Respect pages (the `respect_week` function).
pub fn respect_week_pages() -> Router<AppState> {
    compressed(
        common()
            .merge(respect_week::router())
            .merge(lost_link::respect_week_router()),
    )
}

/// The staff pages (the `admin` function): Cognito's sign-in only.
pub fn staff_pages() -> Router<AppState> {
    compressed(staff::lambda_router())
}

/// Every page (the local server), the staff pages included: their local sign-in
/// never exists in a Lambda function.
pub fn pages() -> Router<AppState> {
    compressed(
        common()
            .merge(permits::router())
            .merge(respect_week::router())
            .merge(lost_link::permit_router())
            .merge(lost_link::respect_week_router())
            .merge(staff::router()),
    )
}
