//! The pages in a real browser: headless Chromium over WebDriver (chromedriver), with
//! axe-core (pinned in web/package-lock.json) injected into every page in every state.
//!
//! Needs Debian's `chromium` and `chromium-driver` (the test command installs them).
//! Without them the tests print a notice and pass, unless `LOKET_TEST_BROWSER=required`
//! (CI), which makes them fail. Screenshots go to `target/screenshots/`.

// The browser tests use only part of the stand-in (the API suite uses the rest).
#[allow(dead_code)]
#[path = "../common/cognito.rs"]
mod cognito;
mod driver;
#[path = "../common/glossary.rs"]
mod glossary;
mod permits;
#[path = "../common/process.rs"]
mod process;
mod reflow;
mod respect_week;
mod staff;
