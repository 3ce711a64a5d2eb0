//! The API test suite: one binary, one server per test on port 0.

mod admin;
mod admin_respect_week;
#[path = "../common/cognito.rs"]
mod cognito;
#[path = "../common/dynamo.rs"]
mod dynamo;
mod hardening;
mod helpers;
mod lost_link;
mod outbox;
mod permits;
mod respect_week;
mod staff_sign_in;
