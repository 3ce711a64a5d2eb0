//! What a use case answers when it cannot do what was asked. No HTTP here: the API
//! turns an [`AppError`] into problem+json (`api::error`), a page into an error
//! summary or an error page (`web`).

use serde::Serialize;
use utoipa::ToSchema;

use super::messages;
use crate::domain::history::TransitionError;
use crate::domain::permit::SubmitError;
use crate::store::StoreError;

/// One failing field: a dotted path, a stable English code, a Dutch message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub code: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &str, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Fields that are wrong, or a rule that refuses the request on a field
    /// (`in_past`, `registration_closed`): every one at once.
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    /// Unknown, or a token that does not open it (indistinguishable on purpose).
    #[error("not found")]
    NotFound,
    /// A staff decision that names no version to decide on.
    #[error("version missing")]
    VersionMissing,
    /// A staff decision on a version that is no longer the current one.
    #[error("stale version")]
    StaleVersion,
    /// Not possible in this state, a duplicate, a request still running.
    #[error("conflict: {detail}")]
    Conflict { code: &'static str, detail: String },
    /// A question the rules cannot answer (a year without a tariff table).
    #[error("refused: {detail}")]
    Refused { code: &'static str, detail: String },
    /// The store is throttled or unreachable: try again shortly.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A bug or a broken invariant: logged, never shown.
    #[error("internal: {0}")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn field(field: impl Into<String>, code: &str, message: impl Into<String>) -> AppError {
        AppError::Invalid(vec![FieldError::new(field, code, message)])
    }
}

/// A refused change: a conflict when the status does not allow it, a field error
/// for a missing reason.
impl From<TransitionError> for AppError {
    fn from(e: TransitionError) -> AppError {
        match e {
            TransitionError::NotAllowed { action, status } => AppError::Conflict {
                code: "not_allowed",
                detail: format!("'{action}' kan niet in status '{status}'."),
            },
            TransitionError::ReasonRequired(_) => {
                AppError::field("reason", "required", "Geef een reden op.")
            }
            TransitionError::EditionStarted => AppError::Conflict {
                code: "edition_started",
                detail: "De Week van Respect is al begonnen; afmelden kan niet meer.".into(),
            },
            // The table of a stored application's year went missing: a bug.
            TransitionError::NoTariff(year) => {
                AppError::Internal(format!("no tariff table for {year}"))
            }
        }
    }
}

/// A submission the rules refuse, on the field that makes it so.
impl From<SubmitError> for AppError {
    fn from(e: SubmitError) -> AppError {
        match e {
            SubmitError::StartsInThePast => AppError::field(
                "event.starts_at",
                "in_past",
                messages::field("in_past", None),
            ),
            SubmitError::NoTariff(year) => AppError::field(
                "event",
                "no_tariff",
                messages::filled("no_tariff", &[("year", year.to_string())]),
            ),
            SubmitError::BeyondHorizon { last_year } => AppError::field(
                "event.starts_at",
                "horizon",
                messages::filled("horizon", &[("last_year", last_year.to_string())]),
            ),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> AppError {
        match e {
            StoreError::Unavailable(msg) => AppError::Unavailable(msg),
            StoreError::IdempotencyInProgress => AppError::Conflict {
                code: "idempotency_in_progress",
                detail: "Een verzoek met dezelfde Idempotency-Key wordt nog verwerkt.".into(),
            },
            StoreError::VersionConflict => AppError::Conflict {
                code: "concurrent_change",
                detail: "Dit is intussen gewijzigd; probeer het opnieuw.".into(),
            },
            StoreError::UniqueTaken(_) => AppError::Conflict {
                code: "duplicate",
                detail: "Dit is al eerder aangemeld.".into(),
            },
            other => AppError::Internal(other.to_string()),
        }
    }
}

/// A staff member's write, conditional on the version they saw: when someone else
/// changed it between the read and the write, that version is stale now.
pub(super) fn stale_on_conflict(written: Result<(), StoreError>) -> AppResult<()> {
    match written {
        Ok(()) => Ok(()),
        Err(StoreError::VersionConflict) => Err(AppError::StaleVersion),
        Err(e) => Err(e.into()),
    }
}

/// A concurrent change reported as an `AppError` is still one to read again after.
impl crate::store::Conflict for AppError {
    fn is_conflict(&self) -> bool {
        matches!(
            self,
            AppError::Conflict {
                code: "concurrent_change",
                ..
            }
        )
    }
}
