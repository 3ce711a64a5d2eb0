//! Pure rules: no I/O, no HTTP, no storage types. Everything here is unit-tested
//! against docs/domain.md.

pub mod audit;
pub mod coverage;
pub mod deadline;
pub mod documents;
pub mod event;
pub mod formats;
pub mod history;
pub mod leges;
pub mod link;
pub mod money;
pub mod municipality;
pub mod outbox;
pub mod permit;
pub mod place;
pub mod respect_week;
pub mod risk;
pub mod termijnenwet;
pub mod text;
pub mod time;

/// The data the rules run on: the municipality's profile, and from it the tariff
/// tables (with the terms the permit rules apply) and the Week van Respect editions
/// (with their erasure term). Dronten's built-in profile, unless `LOKET_CONFIG`
/// replaces it or `LOKET_MUNICIPALITY` picks another.
#[derive(Debug, Clone)]
pub struct Catalogue {
    pub tariffs: leges::Tariffs,
    pub editions: respect_week::Editions,
    pub municipality: municipality::Municipality,
}

impl Catalogue {
    /// The rules' data from one profile.
    pub fn of(municipality: municipality::Municipality) -> Catalogue {
        Catalogue {
            tariffs: municipality.tariffs(),
            editions: municipality.editions(),
            municipality,
        }
    }
}

impl Default for Catalogue {
    fn default() -> Self {
        Catalogue::of(municipality::Municipality::dronten())
    }
}
