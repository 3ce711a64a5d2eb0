//! loket: a municipality's online counter for events (built for Dronten, whose
//! profile is `municipalities/dronten.toml`).
//!
//! `domain` holds the rules (pure), `store` the two storage back-ends behind one
//! trait, `app` the use cases on them; `api` (JSON) and `web` (pages) are the two
//! HTTP adapters side by side, assembled by `routes`; `notify` sends the e-mail the
//! use cases write. `config` and `clock` wire them from the environment;
//! docs/architecture.md draws the house.

pub mod api;
pub mod app;
pub mod clock;
pub mod config;
pub mod domain;
pub mod dutch;
pub mod notify;
pub mod routes;
pub mod secrets;
pub mod server;
pub mod store;
pub mod web;
