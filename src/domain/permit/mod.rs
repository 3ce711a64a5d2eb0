//! An event application and its lifecycle (docs/domain.md "Application lifecycle"): a state machine that
//! refuses what is not allowed and appends every change to the history.
//!
//! One concept per file: `application.rs` (the organiser, the event, the quote and
//! the submitted application) and `lifecycle.rs` (statuses, actions, transitions and
//! the history). Every public name is re-exported here, so `permit::Application` and
//! the like keep their paths.

mod application;
mod lifecycle;

pub use application::{Application, Event, HORIZON_YEARS, Organiser, Quote, SubmitError, quote};
pub use lifecycle::{
    Actor, HistoryEntry, PermitAction, PermitStatus, Reclassification, TransitionError,
};

// Kern lives in `src/domain/place.rs`; re-exported so `permit::Kern` keeps working.
pub use super::place::Kern;

/// An application as submitted, for the tests here and in `coverage.rs`.
#[cfg(test)]
pub(crate) mod tests {
    use chrono::{DateTime, Utc};

    use super::*;
    use crate::domain::formats::Reference;
    use crate::domain::leges::Tariffs;

    /// `facts` as the jeugdtoernooi's organiser would name and place it.
    pub fn event_from(facts: &Event) -> Event {
        Event {
            name: "Jeugdtoernooi".into(),
            description: "Voetbaltoernooi voor de jeugd".into(),
            kern: Kern::new("dronten"),
            address: "Sportlaan 1".into(),
            ..facts.clone()
        }
    }

    pub fn submitted(facts: &Event, now: DateTime<Utc>) -> Application {
        let event = event_from(facts);
        let q = quote(&event, now, &Tariffs::built_in()).expect("quotable");
        let organiser = Organiser {
            name: "A. de Vries".into(),
            organisation: None,
            kvk_number: None,
            email: crate::domain::formats::Email::parse("a@example.nl").unwrap(),
            phone: crate::domain::formats::Phone::parse("0321 123456").unwrap(),
        };
        Application::submit(
            "id".into(),
            Reference::parse("EV-2017-0001").unwrap(),
            "hash".into(),
            organiser,
            event,
            q,
            now,
        )
    }
}
