//! chromedriver as a process the test owns, a Chromium session on it, loket on a port
//! of its own, and the checks every page gets in every state: axe-core, no sideways
//! scrolling at 320, 768 and 1280 px, no code where the glossary gives Dutch, and a
//! screenshot.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use fantoccini::{Client, ClientBuilder, Locator};
use loket::api::AppState;
use loket::api::auth::StaffAuth;
use loket::clock::ManualClock;
use loket::store::Store;
use loket::store::embedded::EmbeddedStore;
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::cognito::CognitoStandIn;
use crate::glossary;
use crate::process::{Launch, Process, free_port};

/// WCAG 1.4.10 Reflow: a small phone (and a 1280 px screen at 400 %), a tablet, a
/// laptop.
pub const REFLOW_WIDTHS: [u32; 4] = [320, PHONE_WIDTH, 768, 1280];

/// A common phone, for the screenshots.
const PHONE_WIDTH: u32 = 375;

pub const STAFF_SECRET: &str = "browser-test-secret-of-at-least-32-bytes";

pub fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::<FixedOffset>::parse_from_rfc3339(rfc3339)
        .expect("valid timestamp")
        .with_timezone(&Utc)
}

/// loket on a free port, on an embedded store of its own, its clock at `now`.
pub struct Loket {
    pub base: String,
    _dir: Arc<TempDir>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Loket {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Loket {
    pub async fn start(now: &str) -> Loket {
        Loket::start_with(now, None).await
    }

    /// With the staff pages signing in at `cognito` (the hosted sign-in), else locally.
    pub async fn start_with(now: &str, cognito: Option<&CognitoStandIn>) -> Loket {
        let dir = Arc::new(tempfile::tempdir().unwrap());
        let engine = Arc::new(EmbeddedStore::open(dir.path()).unwrap());
        let clock = ManualClock::new(at(now));
        let listener = loket::server::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let builder = AppState::builder(Store::new(engine)).clock(clock);
        let state = match cognito {
            Some(cognito) => builder
                .auth(cognito.staff_auth())
                .hosted_sign_in(cognito.hosted_sign_in(&base)),
            None => builder.auth(StaffAuth::hs256(STAFF_SECRET, None, None).unwrap()),
        }
        .build();
        let app = loket::routes::app(state);
        let server = tokio::spawn(async move {
            let limits = loket::server::Limits {
                rate_per_minute: 0,
                ..loket::server::Limits::default()
            };
            let _ = loket::server::run(listener, app, limits, std::future::pending()).await;
        });
        Loket {
            base,
            _dir: dir,
            server,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A staff token for the API.
    /// Staff's review of application `id` through the API, on its current version.
    pub async fn review(&self, id: &str, body: Value) {
        let http = reqwest::Client::new();
        let staff = format!("Bearer {}", self.staff_token());
        let detail = http
            .get(self.url(&format!("/admin/permits/{id}")))
            .header("authorization", &staff)
            .send()
            .await
            .unwrap();
        let etag = detail.headers()["etag"].to_str().unwrap().to_string();
        let review = http
            .post(self.url(&format!("/admin/permits/{id}/review")))
            .header("authorization", &staff)
            .header("if-match", etag)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(review.status(), 200, "{body}");
    }

    pub fn staff_token(&self) -> String {
        StaffAuth::hs256(STAFF_SECRET, None, None)
            .unwrap()
            .mint("browser-test", Utc::now().timestamp(), 3600)
            .unwrap()
    }
}

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A chromedriver process, stopped on drop.
pub struct Driver {
    process: Process,
}

impl Driver {
    /// `None` (after a notice) when Chromium is not installed and not required.
    pub fn start() -> Option<Driver> {
        let installed = Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists();
        if !installed {
            if std::env::var("LOKET_TEST_BROWSER").as_deref() == Ok("required") {
                panic!("LOKET_TEST_BROWSER=required but {CHROMIUM} or {CHROMEDRIVER} is missing");
            }
            eprintln!("skipping browser test: install chromium and chromium-driver");
            return None;
        }
        let port = free_port();
        let process = Launch::new("chromedriver", CHROMEDRIVER, port)
            .arg(format!("--port={port}"))
            .start();
        Some(Driver { process })
    }

    /// A headless Chromium session, with or without JavaScript, in Dutch.
    pub async fn session(&self, javascript: bool) -> Browser {
        let mut args = vec![
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--lang=nl-NL",
            "--window-size=1280,1600",
        ];
        if !javascript {
            args.push("--blink-settings=scriptEnabled=false");
        }
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": args,
                "prefs": {"intl.accept_languages": "nl-NL,nl"},
            }),
        );
        // Two TLS back-ends are linked (the AWS SDK's and this one's): name one.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let client = ClientBuilder::rustls()
            .expect("a TLS connector")
            .capabilities(caps)
            .connect(&self.process.url())
            .await
            .expect("a Chromium session");
        Browser { client, javascript }
    }
}

pub struct Browser {
    pub client: Client,
    javascript: bool,
}

/// axe-core as pinned in web/package-lock.json.
fn axe_source() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("web/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run `npm ci` in web/; cargo build does it too)",
            path.display()
        )
    })
}

pub fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

impl Browser {
    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("the page loads");
    }

    pub async fn text(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .text()
            .await
            .unwrap()
    }

    pub async fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .attr(name)
            .await
            .unwrap()
    }

    pub async fn body(&self) -> String {
        self.text("body").await
    }

    pub async fn exists(&self, css: &str) -> bool {
        !self
            .client
            .find_all(Locator::Css(css))
            .await
            .unwrap()
            .is_empty()
    }

    /// Types into the field with this id. A date (DD-MM-YYYY) or a time (HH:MM) is set
    /// as the control's value instead: how its parts are typed depends on the
    /// browser's locale, and Debian's Chromium ships only en-US.
    pub async fn fill(&self, id: &str, value: &str) {
        let field = self
            .client
            .find(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("#{id}: {e}"));
        let kind = field.attr("type").await.unwrap().unwrap_or_default();
        if kind == "date" || kind == "time" {
            let value = match value.split('-').collect::<Vec<_>>()[..] {
                [d, m, y] => format!("{y}-{m}-{d}"),
                _ => value.to_string(),
            };
            self.client
                .execute(
                    "document.getElementById(arguments[0]).value = arguments[1];",
                    vec![json!(id), json!(value)],
                )
                .await
                .expect("WebDriver sets the value");
            return;
        }
        field.clear().await.ok();
        field.send_keys(value).await.unwrap();
    }

    pub async fn choose(&self, id: &str, value: &str) {
        self.client
            .find(Locator::Css(&format!("#{id} option[value='{value}']")))
            .await
            .unwrap_or_else(|e| panic!("#{id} {value}: {e}"))
            .click()
            .await
            .unwrap();
    }

    pub async fn tick(&self, id: &str) {
        self.client
            .find(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("#{id}: {e}"))
            .click()
            .await
            .unwrap();
    }

    pub async fn press(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .click()
            .await
            .unwrap();
        // The next page (or the script's update) settles.
        tokio::time::sleep(Duration::from_millis(150)).await;
    }

    pub async fn current_url(&self) -> String {
        self.client.current_url().await.unwrap().to_string()
    }

    /// axe-core's WCAG 2.1 A and AA rules on the page as it is: every violation, with
    /// the elements it names.
    pub async fn axe(&self) -> Vec<String> {
        assert!(self.javascript, "axe needs a session with JavaScript");
        self.client
            .execute(&axe_source(), vec![])
            .await
            .expect("axe-core loads");
        let result = self
            .client
            .execute_async(
                r#"const done = arguments[arguments.length - 1];
                   axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
                      .then(r => done(r.violations.map(v => v.id + ': ' + v.help + ' ' + v.nodes.map(n => n.target.join(' ')).join(', '))))
                      .catch(e => done(['axe failed: ' + e]));"#,
                vec![],
            )
            .await
            .expect("axe-core runs");
        result
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|v| v.as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Asserts that axe finds nothing, that the page does not scroll sideways at any
    /// of [`REFLOW_WIDTHS`], and that it shows no code the glossary translates; saves a
    /// screenshot as `name`.
    pub async fn check(&self, name: &str) {
        self.screenshot(name).await;
        let violations = self.axe().await;
        assert!(
            violations.is_empty(),
            "{name}: axe-core found {} violation(s):\n{}",
            violations.len(),
            violations.join("\n")
        );
        let (width, height) = self.client.get_window_size().await.expect("a window size");
        for reflow_width in REFLOW_WIDTHS {
            self.client
                .set_window_size(reflow_width, 900)
                .await
                .expect("a window size");
            let sticking_out = self.overflow().await;
            if !sticking_out.is_empty() {
                self.screenshot(&format!("{name}-{reflow_width}px")).await;
            }
            if reflow_width == PHONE_WIDTH {
                // What a visitor on a phone sees, two screens tall (the README shows
                // some).
                self.client
                    .set_window_size(PHONE_WIDTH, 1500)
                    .await
                    .expect("a window size");
                self.screenshot(&format!("{name}-phone")).await;
            }
            assert!(
                sticking_out.is_empty(),
                "{name}: scrolls sideways at {reflow_width} px (WCAG 1.4.10): {sticking_out:#?}"
            );
        }
        self.client
            .set_window_size(width as u32, height as u32)
            .await
            .expect("a window size");
        glossary::assert_no_raw_codes(name, &self.body().await);
        println!("{name}: axe-core 0 violations, no sideways scrolling at {REFLOW_WIDTHS:?} px");
    }

    /// Whether the page is wider than the window, and what sticks out.
    pub async fn overflow(&self) -> Vec<String> {
        let found: Value = self
            .client
            .execute(
                "const width = document.documentElement.clientWidth;
                 const out = [];
                 if (document.documentElement.scrollWidth > width) {
                   out.push('page ' + document.documentElement.scrollWidth + 'px in ' + width + 'px');
                   for (const el of document.querySelectorAll('body *')) {
                     const right = el.getBoundingClientRect().right;
                     if (right > width + 0.5) out.push(el.tagName + '.' + el.className + ' ends at ' + Math.round(right) + 'px');
                   }
                 }
                 return out.slice(0, 10);",
                vec![],
            )
            .await
            .unwrap();
        serde_json::from_value(found).unwrap()
    }

    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("a screenshot");
        let path = screenshot_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
    }

    /// The element that has the focus: its id.
    pub async fn focused_id(&self) -> String {
        let id: Value = self
            .client
            .execute(
                "return document.activeElement && document.activeElement.id;",
                vec![],
            )
            .await
            .unwrap();
        id.as_str().unwrap_or_default().to_string()
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}
