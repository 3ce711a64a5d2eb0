//! The audit trail of what staff take out of loket: every export is recorded before
//! it is handed out.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::time::local_rfc3339;

/// The record of one export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportAudit {
    /// `permits_csv` or `respect_week_contacts_csv`.
    pub export: String,
    /// The staff member's id.
    pub staff: String,
    pub year: i32,
    #[serde(with = "local_rfc3339")]
    pub at: DateTime<Utc>,
    pub rows: usize,
}
