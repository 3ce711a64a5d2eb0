//! Pure rules: no I/O, no HTTP, no storage types. Everything here is unit-tested
//! against docs/domain.md.

pub mod audit;
pub mod coverage;
pub mod deadline;
pub mod event;
pub mod formats;
pub mod history;
pub mod leges;
pub mod link;
pub mod money;
pub mod outbox;
pub mod permit;
pub mod place;
pub mod respect_week;
pub mod risk;
pub mod text;
pub mod time;

/// The data the rules run on: tariff tables and Week van Respect editions. Built in, plus
/// whatever `LOKET_CONFIG` adds.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    pub tariffs: leges::Tariffs,
    pub editions: respect_week::Editions,
}
