//! What both lifecycles share: who made a change, the history entry each change
//! appends, and why a change is refused. A permit application and a Week van Respect
//! registration each have their own statuses and actions; the history and the
//! refusals read the same.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::permit::Reclassification;
use super::time::local_rfc3339;

/// Who made a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "role", content = "id", rename_all = "lowercase")]
pub enum Actor {
    /// The holder of a permit application's access token.
    Organiser,
    /// The holder of a registration's access token.
    Registrant,
    /// A staff member, by id (the JWT subject).
    Staff(String),
    /// The service itself (the erasure of contact data).
    System,
}

impl Actor {
    /// `organiser`, `registrant`, `system`, or the staff member's id.
    pub fn label(&self) -> &str {
        match self {
            Actor::Organiser => "organiser",
            Actor::Registrant => "registrant",
            Actor::Staff(id) => id,
            Actor::System => "system",
        }
    }
}

/// One change of an aggregate whose statuses are `S`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry<S> {
    #[serde(with = "local_rfc3339")]
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub action: String,
    pub from: Option<S>,
    pub to: S,
    pub reason: Option<String>,
    /// Only a permit's `reclassify`: the category before and after, and what it did
    /// to the leges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reclassification: Option<Reclassification>,
}

/// Why a change is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("'{action}' is not allowed in status {status}")]
    NotAllowed {
        action: &'static str,
        status: &'static str,
    },
    #[error("'{0}' needs a reason")]
    ReasonRequired(&'static str),
    /// A permit's reclassification needs its submission year's tariff table.
    #[error("no tariff table is in force for {0}")]
    NoTariff(i32),
    /// A registrant cannot cancel once the week has begun.
    #[error("the edition has started")]
    EditionStarted,
}
