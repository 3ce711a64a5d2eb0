//! The API test suite: one binary, one server per test on port 0.

mod admin_auth;
mod admin_commands;
mod admin_coverage;
mod admin_export;
mod admin_helpers;
mod admin_list;
mod admin_respect_week;
mod admin_review;
#[path = "../common/cognito.rs"]
mod cognito;
#[path = "../common/dynamo.rs"]
mod dynamo;
#[path = "../common/glossary.rs"]
mod glossary;
mod hardening;
mod helpers;
mod lost_link;
mod municipality_profile;
mod outbox;
mod permits;
mod respect_week;
mod staff_sign_in;
