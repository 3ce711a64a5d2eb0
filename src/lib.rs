//! loket: the online counter of the municipality of Dronten for events.
//!
//! `domain` holds the rules (pure), `store` the two storage back-ends behind one
//! trait, `api` the HTTP edge, `web` the pages on top of it; `config` and `clock` wire them from the environment;
//! `purge` erases what the clock says must go.

pub mod api;
pub mod clock;
pub mod config;
pub mod domain;
pub mod notify;
pub mod purge;
pub mod server;
pub mod store;
pub mod web;
