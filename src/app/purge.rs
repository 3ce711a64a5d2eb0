//! Housekeeping that follows the service's own clock, on either store:
//!
//! - contact data of Week van Respect registrations is erased at the moment docs/domain.md
//!   §7 gives (00:00 local, 365 days after the edition's last day) — by the business
//!   clock, so `LOKET_NOW` and the tests govern it, not DynamoDB TTL;
//! - idempotency records older than their 24 hours (real time) are removed (the
//!   embedded store has no TTL; on DynamoDB this is a backstop to it).
//!
//! It runs at `loket serve` start-up and then daily, on `loket purge`, and in AWS from
//! a scheduled function that calls [`run`]. Running it again is harmless.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::App;
use crate::domain::Catalogue;
use crate::store::{DocumentStore, Store, StoreResult};

/// What one purge did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PurgeReport {
    /// Registrations whose contact data was erased now.
    pub contacts_erased: u64,
    /// Expired idempotency records removed.
    pub idempotency_records_removed: u64,
}

/// Erases the contact data that is due at `now` (business time) in every edition of
/// the catalogue; returns how many registrations were erased.
pub async fn erase_contact_data(
    store: &Store,
    catalogue: &Catalogue,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    store
        .registrations()
        .erase_due_contacts(&catalogue.editions, now)
        .await
}

/// Removes idempotency records that expired before `real_now` (real time).
pub async fn purge_idempotency(
    store: &dyn DocumentStore,
    real_now: DateTime<Utc>,
) -> StoreResult<u64> {
    store.purge_idempotency(real_now.timestamp()).await
}

/// One full purge: the entry point for the CLI, the local server and the scheduled
/// AWS function. `now` is the business clock, `real_now` real time.
pub async fn run(
    store: &Store,
    catalogue: &Catalogue,
    now: DateTime<Utc>,
    real_now: DateTime<Utc>,
) -> StoreResult<PurgeReport> {
    let report = PurgeReport {
        contacts_erased: erase_contact_data(store, catalogue, now).await?,
        idempotency_records_removed: purge_idempotency(store.engine(), real_now).await?,
    };
    tracing::info!(
        contacts_erased = report.contacts_erased,
        idempotency_records_removed = report.idempotency_records_removed,
        "purge done"
    );
    Ok(report)
}

/// [`run`] with the app's store, catalogue and clocks.
pub async fn run_for(app: &App) -> StoreResult<PurgeReport> {
    let now = app.clocks.now();
    run(&app.store, &app.catalogue, now.business, now.real).await
}

/// How often the local server purges.
pub const INTERVAL: Duration = Duration::from_secs(24 * 60 * 60);

/// Purges now and then every [`INTERVAL`] in the background (the local server). A
/// failed run is logged and tried again at the next tick.
pub fn spawn_daily(app: App) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(INTERVAL);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            // The first tick completes at once: the start-up purge.
            ticks.tick().await;
            if let Err(e) = run_for(&app).await {
                tracing::error!(error = %e, "purge failed; trying again at the next tick");
            }
        }
    })
}
