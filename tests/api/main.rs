//! The API test suite: one binary, one server per test on port 0.

mod helpers;
mod permits;
