//! A history as each audience sees it, the same for permits and registrations: the
//! organiser or registrant sees what happened and why, staff also see who did it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::history::HistoryEntry;
use crate::domain::permit::Reclassification;
use crate::domain::time::local_rfc3339;

/// One change as the organiser or registrant sees it: no staff identities.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicChange<S: ToSchema> {
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "local_rfc3339")]
    pub at: DateTime<Utc>,
    pub action: String,
    pub status: S,
    pub reason: Option<String>,
}

impl<S: ToSchema + Copy> PublicChange<S> {
    pub fn list(history: &[HistoryEntry<S>]) -> Vec<PublicChange<S>> {
        history
            .iter()
            .map(|h| PublicChange {
                at: h.at,
                action: h.action.clone(),
                status: h.to,
                reason: h.reason.clone(),
            })
            .collect()
    }
}

/// One change as staff see it, with who made it.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffChange<S: ToSchema> {
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "local_rfc3339")]
    pub at: DateTime<Utc>,
    /// `organiser`, `registrant`, `system` (an erasure), or the staff member's id.
    pub actor: String,
    pub action: String,
    pub from: Option<S>,
    pub to: S,
    pub reason: Option<String>,
    /// Only for a permit's `reclassify`: old and new category and the leges
    /// difference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reclassification: Option<Reclassification>,
}

impl<S: ToSchema + Copy> StaffChange<S> {
    pub fn list(history: &[HistoryEntry<S>]) -> Vec<StaffChange<S>> {
        history
            .iter()
            .map(|h| StaffChange {
                at: h.at,
                actor: h.actor.label().to_string(),
                action: h.action.clone(),
                from: h.from,
                to: h.to,
                reason: h.reason.clone(),
                reclassification: h.reclassification.clone(),
            })
            .collect()
    }
}
