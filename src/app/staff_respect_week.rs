//! Staff's use cases for the Week van Respect: an edition's registrations, one
//! registration, a decision (publish or decline) on the version seen, the summary
//! per organisation type, and the coordinator's export of contacts and guest-lesson
//! requests.

use crate::domain::respect_week::{
    self, Actor, Edition, Registration, RegistrationAction, RegistrationStatus, RespectWeekSummary,
};
use crate::store::{Listing, Position};

use super::App;
use super::error::{AppError, AppResult, stale_on_conflict};
use super::export::{CsvDialect, contacts_csv, contacts_file_name};
use super::respect_week::in_edition;
use super::staff_permits::Export;
use crate::domain::audit::ExportAudit;
use crate::secrets::new_id;

/// One page of an edition's registrations in programme order, contact data included.
pub async fn list(
    app: &App,
    edition: &Edition,
    status: Option<RegistrationStatus>,
    after: Option<Position>,
    limit: usize,
) -> AppResult<Listing<Registration>> {
    Ok(app
        .store
        .registrations()
        .list(edition.year, status, after, limit)
        .await?)
}

/// Every registration of an edition, in programme order.
pub async fn list_all(app: &App, edition: &Edition) -> AppResult<Vec<Registration>> {
    Ok(app.store.registrations().list_all(edition.year).await?)
}

/// The registration `id` of the edition `year`; not found for an unknown edition or
/// id, or a registration of another edition.
pub async fn load(app: &App, year: &str, id: &str) -> AppResult<(Edition, Registration)> {
    in_edition(app, year, id).await
}

/// A staff decision on the version seen (the API's review and the staff pages): a
/// stale version when the registration moved on since; an unknown one stays not
/// found.
pub async fn decide(
    app: &App,
    staff_id: &str,
    year: &str,
    id: &str,
    seen: AppResult<u64>,
    action: RegistrationAction,
) -> AppResult<Registration> {
    let (edition, before) = load(app, year, id).await?;
    if before.version != seen? {
        return Err(AppError::StaleVersion);
    }
    let now = app.clocks.now();
    let after = before.apply(
        &action,
        Actor::Staff(staff_id.to_string()),
        &edition,
        now.business,
    )?;
    let messages = app
        .mail
        .about_registration(Some(&before), &after, None, now.real);
    let written = app
        .store
        .registrations()
        .transition(&before, &after, &messages)
        .await;
    stale_on_conflict(written)?;
    tracing::info!(reference = %after.reference, action = action.name(), staff = %staff_id, "Week van Respect registration reviewed");
    Ok(after)
}

/// Counts per organisation type and status, and the participants of the published
/// activities, from one read of the edition's aggregates.
pub async fn summary(app: &App, edition: &Edition) -> AppResult<RespectWeekSummary> {
    let buckets = app.store.registrations().summary(edition.year).await?;
    Ok(respect_week::summary(edition.year, &buckets))
}

/// The coordinator's CSV of an edition: every registration with its contact and
/// whether a guest lesson was asked for, recorded before it is handed out, as the
/// permits' export is (contact data leaves the system).
pub async fn export_contacts(
    app: &App,
    staff_id: &str,
    edition: &Edition,
    dialect: CsvDialect,
) -> AppResult<Export> {
    let registrations = list_all(app, edition).await?;
    let csv = contacts_csv(&registrations, dialect, &app.catalogue.municipality)
        .map_err(|e| AppError::Internal(format!("csv: {e}")))?;
    let audit = ExportAudit {
        export: "respect_week_contacts_csv".into(),
        staff: staff_id.to_string(),
        year: edition.year,
        at: app.clocks.business(),
        rows: registrations.len(),
    };
    app.store.audit().create(new_id(), &audit).await?;
    tracing::info!(staff = %audit.staff, year = edition.year, rows = audit.rows, "Week van Respect contacts exported");
    Ok(Export {
        year: edition.year,
        csv,
        file_name: contacts_file_name(edition.year, dialect),
    })
}
