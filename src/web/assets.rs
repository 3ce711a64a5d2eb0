//! The pages' stylesheet and script, embedded in the binary (a Lambda function has no
//! file system to serve from), and the municipality's colours, written from the
//! profile in use. Their paths carry a digest of their bytes, so they can be cached
//! for a year: a new build, or another profile, is a new path.

use std::borrow::Cow;
use std::sync::LazyLock;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

use crate::api::state::AppState;
use crate::app::profile;
use crate::domain::municipality::Theme;

/// The NL Design System's example theme and components, and our tokens and layout
/// (built by build.rs from web/); the colours come from [`theme_css`].
pub const CSS: &str = include_str!(concat!(env!("OUT_DIR"), "/loket.css"));

/// Progressive enhancement only.
pub const JS: &str = include_str!("../../web/loket.js");

fn versioned(stem: &str, ext: &str, body: &str) -> String {
    let digest = Sha256::digest(body.as_bytes());
    format!("/static/{stem}-{}.{ext}", hex::encode(&digest[..8]))
}

pub static CSS_PATH: LazyLock<String> = LazyLock::new(|| versioned("loket", "css", CSS));
pub static JS_PATH: LazyLock<String> = LazyLock::new(|| versioned("loket", "js", JS));

/// The `[theme]` of a profile as the `--loket-*` properties web/loket.css draws in.
/// A colour that is not `#rrggbb` is left out rather than copied (a loaded profile
/// has none: its theme is checked), so the profile can put nothing else in the CSS.
pub fn theme_css(theme: &Theme) -> String {
    let mut css = String::from("/* The colours of the municipality in use. */\n.loket-theme {\n");
    for (name, colour) in theme.colours() {
        if let Some(colour) = colour {
            css.push_str(&format!(
                "  --loket-{}: {colour};\n",
                name.replace('_', "-")
            ));
        }
    }
    css.push_str("}\n");
    css
}

/// The path of the profile in use's colours, and the stylesheet itself.
pub fn theme() -> (String, String) {
    let css = profile::with(|m| theme_css(&m.theme));
    (versioned("theme", "css", &css), css)
}

pub fn router() -> Router<AppState> {
    Router::new().route("/static/{file}", get(serve))
}

async fn serve(Path(file): Path<String>) -> Response {
    let path = format!("/static/{file}");
    let (theme_path, theme_css) = theme();
    let (body, content_type): (Cow<'static, str>, _) = if path == *CSS_PATH {
        (CSS.into(), "text/css; charset=utf-8")
    } else if path == *JS_PATH {
        (JS.into(), "text/javascript; charset=utf-8")
    } else if path == theme_path {
        (theme_css.into(), "text/css; charset=utf-8")
    } else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::municipality::Municipality;

    #[test]
    fn the_theme_stylesheet_holds_the_profiles_colours_and_nothing_else() {
        let mut theme = Municipality::dronten().theme;
        assert_eq!(
            theme_css(&theme),
            "/* The colours of the municipality in use. */\n.loket-theme {\n  \
             --loket-primary: #00467f;\n  --loket-on-primary: #ffffff;\n  \
             --loket-primary-light: #e6eef5;\n  --loket-focus: #ffdd00;\n  \
             --loket-focus-outline: #000000;\n}\n"
        );
        // Outside a request the profile in use is Dronten's built-in one.
        let (path, css) = super::theme();
        assert!(path.starts_with("/static/theme-") && path.ends_with(".css"));
        assert_eq!(css, theme_css(&theme));

        theme.primary = "#000; } * { background: url(https://evil.example/x)".into();
        let css = theme_css(&theme);
        assert!(
            !css.contains("evil") && !css.contains("--loket-primary:"),
            "{css}"
        );
        assert_eq!(css.matches('}').count(), 1, "{css}");
    }
}
