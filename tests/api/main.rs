//! The API test suite: one binary, one server per test on port 0.

#[path = "../common/dynamo.rs"]
mod dynamo;
mod admin;
mod helpers;
mod permits;
mod respect_week;
