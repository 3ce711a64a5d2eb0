//! The use cases: what an organiser, a registrant, a staff member or the schedule
//! can do, each as one function of typed input, the actor and the clocks, answering
//! a domain result or one [`AppError`]. No HTTP here: `api/` renders a result as
//! JSON and `web/` as HTML, side by side.
//!
//! A use case decides with the domain's rules, writes through the store's
//! repositories in one change (with the e-mail it causes, through `notify::Mail`),
//! and reads the clocks once.

use std::sync::Arc;

use crate::clock::Clocks;
use crate::domain::Catalogue;
use crate::notify::Mail;
use crate::store::Store;

pub mod error;
pub mod export;
pub mod idempotency;
pub mod lost_link;
pub mod messages;
pub mod permits;
pub mod profile;
pub mod purge;
pub mod respect_week;
pub mod staff_permits;
pub mod staff_respect_week;

pub use error::{AppError, AppResult, FieldError};
pub use idempotency::{Answer, Idempotent, StoredAnswer};

/// What every use case runs on: the store, the clocks, the municipality's data and
/// where e-mail comes from.
#[derive(Clone, Debug)]
pub struct App {
    pub store: Store,
    pub clocks: Clocks,
    pub catalogue: Arc<Catalogue>,
    pub mail: Arc<Mail>,
}

impl App {
    /// The app on `store` with the system clocks, the built-in catalogue and the
    /// default sender.
    pub fn new(store: Store) -> App {
        App {
            store,
            clocks: Clocks::default(),
            catalogue: Arc::new(Catalogue::default()),
            mail: Arc::new(Mail::default()),
        }
    }
}
