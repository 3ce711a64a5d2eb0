//! Staff's use cases on permit applications: the lists, one application, a decision
//! on the version seen, the audited export and the coverage of the leges.

use crate::domain::audit::ExportAudit;
use crate::domain::coverage::{self, CoverageReport};
use crate::domain::outbox::OutboxMessage;
use crate::domain::permit::{Actor, Application, PermitAction};
use crate::domain::time::local_year;
use crate::secrets::new_id;
use crate::store::{Listing, Position};

use super::App;
use super::error::{AppError, AppResult, stale_on_conflict};
use super::export::{CsvDialect, permits_csv};

pub use crate::store::permits::PermitSelection;

/// One page of the applications `selection` picks, oldest submission first.
pub async fn list(
    app: &App,
    selection: PermitSelection,
    after: Option<Position>,
    limit: usize,
) -> AppResult<Listing<Application>> {
    Ok(app.store.permits().list(selection, after, limit).await?)
}

/// Every application `selection` picks (the staff work queue).
pub async fn select_all(app: &App, selection: PermitSelection) -> AppResult<Vec<Application>> {
    Ok(app.store.permits().select_all(selection).await?)
}

/// The messages that could not be delivered after every attempt: staff must know
/// when someone was not told something.
pub async fn parked_messages(app: &App) -> AppResult<Vec<OutboxMessage>> {
    Ok(app.store.outbox().parked().await?)
}

/// The application `id`; not found when there is none.
pub async fn load(app: &App, id: &str) -> AppResult<Application> {
    app.store.permits().get(id).await?.ok_or(AppError::NotFound)
}

/// A staff decision on the version the staff member saw (the API's review and the
/// staff pages): a stale version when the application moved on since. `seen` is
/// judged after the application is found, so an unknown id stays not found.
pub async fn decide(
    app: &App,
    staff_id: &str,
    id: &str,
    seen: AppResult<u64>,
    action: PermitAction,
) -> AppResult<Application> {
    let before = load(app, id).await?;
    if before.version != seen? {
        return Err(AppError::StaleVersion);
    }
    let now = app.clocks.now();
    let after = before.apply(
        &action,
        Actor::Staff(staff_id.to_string()),
        now.business,
        &app.catalogue.tariffs,
    )?;
    let messages = app.mail.about_permit(Some(&before), &after, None, now.real);
    let written = app
        .store
        .permits()
        .transition(&before, &after, &messages)
        .await;
    stale_on_conflict(written)?;
    tracing::info!(reference = %after.reference, action = action.name(), staff = %staff_id, "permit reviewed");
    Ok(after)
}

/// A year's export: the file and its year.
pub struct Export {
    pub year: i32,
    pub csv: Vec<u8>,
    /// The download's name, one per dialect.
    pub file_name: String,
}

/// The CSV of a year's applications (the current year by default), recorded before
/// it is handed out: no export without its audit entry.
pub async fn export(
    app: &App,
    staff_id: &str,
    year: Option<i32>,
    dialect: CsvDialect,
) -> AppResult<Export> {
    let now = app.clocks.business();
    let year = year.unwrap_or_else(|| local_year(now));
    let applications = app.store.permits().list_all(year).await?;
    let csv = permits_csv(&applications, dialect, &app.catalogue.municipality)
        .map_err(|e| AppError::Internal(format!("csv: {e}")))?;
    let audit = ExportAudit {
        export: "permits_csv".into(),
        staff: staff_id.to_string(),
        year,
        at: now,
        rows: applications.len(),
    };
    app.store.audit().create(new_id(), &audit).await?;
    tracing::info!(staff = %audit.staff, year, rows = audit.rows, "permits exported");
    Ok(Export {
        year,
        csv,
        file_name: super::export::file_name(year, dialect),
    })
}

/// A year's coverage (the current year by default), from one read of its aggregates.
pub async fn coverage_report(app: &App, year: Option<i32>) -> AppResult<CoverageReport> {
    let year = year.unwrap_or_else(|| local_year(app.clocks.business()));
    let table = app
        .catalogue
        .tariffs
        .for_year(year)
        .ok_or_else(|| AppError::Refused {
            code: "no_tariff",
            detail: format!(
                "Voor {year} is geen tarieventabel en dus geen kostenpost vastgesteld."
            ),
        })?;
    let buckets = app.store.permits().coverage(year).await?;
    Ok(coverage::report(
        year,
        table.coordination_cost_cents,
        &buckets,
    ))
}
