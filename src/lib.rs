//! loket: the online counter of the municipality of Dronten for events.

pub mod clock;
pub mod domain;
pub mod store;
