//! Pure rules: no I/O, no HTTP, no storage types. Everything here is unit-tested
//! against DOMAIN.md.

pub mod coverage;
pub mod leges;
pub mod money;
pub mod permit;
pub mod risk;
pub mod time;
