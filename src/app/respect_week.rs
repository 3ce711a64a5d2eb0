//! The registrant's use cases for the Week van Respect: registering an activity,
//! reading it with the private link's token, and cancelling it.

use crate::domain::respect_week::{
    self, AGES, Edition, NewRegistration, PARTICIPANTS, Registration, RegistrationAction, Violation,
};
use crate::dutch::{dutch_date, short_date};
use crate::secrets::{new_access_token, new_id, token_opens};
use crate::store::retry_on_conflict;

use super::error::{AppError, AppResult, FieldError};
use super::idempotency::{Answer, Idempotent, StoredAnswer};
use super::{App, messages};

/// The idempotency scope of registrations (the edition year is part of the hash).
pub const REGISTER_SCOPE: &str = "POST /respect-week/activities";

/// The edition of a `{year}` path segment; not found when there is none.
pub fn edition_of(app: &App, year: &str) -> AppResult<Edition> {
    year.parse::<i32>()
        .ok()
        .and_then(|y| app.catalogue.editions.get(y))
        .cloned()
        .ok_or(AppError::NotFound)
}

/// The edition taking registrations now: the first whose closing moment is still
/// ahead.
pub fn open_edition(app: &App) -> Option<Edition> {
    let now = app.clocks.business();
    app.catalogue
        .editions
        .iter()
        .find(|e| e.accepts_registrations_at(now))
        .cloned()
}

/// The Dutch message of a rule the domain refused.
pub fn violation_message(v: Violation, edition: &Edition) -> String {
    let rule = match v {
        Violation::EndNotAfterStart => "end_time_after_start_time",
        Violation::AgesInverted => "ages_in_order",
        _ => "",
    };
    messages::filled(
        v.code(),
        &[
            ("rule", rule.to_string()),
            ("year", edition.year.to_string()),
            ("closes_on", short_date(edition.registration_closes_on)),
            ("starts_on", short_date(edition.starts_on)),
            ("ends_on", short_date(edition.ends_on)),
            ("min", "0".to_string()),
            (
                "max",
                if v == Violation::ParticipantsOutOfRange {
                    PARTICIPANTS.1
                } else {
                    AGES.1
                }
                .to_string(),
            ),
        ],
    )
}

fn violations_error(violations: Vec<Violation>, edition: &Edition) -> AppError {
    AppError::Invalid(
        violations
            .into_iter()
            .map(|v| FieldError::new(v.field(), v.code(), violation_message(v, edition)))
            .collect(),
    )
}

/// A registered activity and, this once, the token of its private link.
#[derive(Debug, Clone)]
pub struct Registered {
    pub registration: Registration,
    pub access_token: String,
}

/// Registers an activity (the API's `POST` and the registration form): the next
/// reference of the edition, the creation with its duplicate claim, summary and
/// receipt e-mail, and under `once`'s key the answer `answer` renders for repeats.
pub async fn register(
    app: &App,
    edition: &Edition,
    once: &Idempotent,
    checked: AppResult<NewRegistration>,
    answer: impl Fn(&Registered) -> AppResult<StoredAnswer>,
) -> AppResult<Answer<Registered>> {
    let now = app.clocks.now();
    let clash = checked.as_ref().ok().map(duplicate_detail);
    let answer_of = once.run(app, checked, |form| {
        let answer = &answer;
        async move {
            let registrations = app.store.registrations();
            let reference = registrations.next_reference(edition.year).await?;
            let (token, token_hash) = new_access_token();
            let registration = Registration::register(
                new_id(),
                reference,
                token_hash,
                form,
                edition,
                now.business,
            )
            .map_err(|v| violations_error(v, edition))?;
            let messages =
                app.mail
                    .about_registration(None, &registration, Some(&token), now.real);
            let creation = registrations.create(&registration)?.notify(&messages)?;
            tracing::info!(reference = %registration.reference, "Week van Respect activity registered");
            let registered = Registered {
                registration,
                access_token: token,
            };
            let stored = answer(&registered)?;
            Ok((creation, registered, stored))
        }
    })
    .await;
    answer_of.map_err(|e| match (e, clash) {
        (
            AppError::Conflict {
                code: "duplicate", ..
            },
            Some(detail),
        ) => AppError::Conflict {
            code: "duplicate",
            detail,
        },
        (e, _) => e,
    })
}

/// What a refused duplicate says: what clashes, and what the registrant can do.
fn duplicate_detail(form: &NewRegistration) -> String {
    format!(
        "{} heeft ‘{}’ op {} om {} al aangemeld. Is dit een andere activiteit? \
         Kies dan een andere begintijd of titel. Wilt u de eerdere aanmelding bekijken \
         of afmelden? Gebruik dan de link uit de e-mail die u toen kreeg.",
        form.organisation.name,
        form.activity.title,
        dutch_date(form.activity.date),
        form.activity.starts_at.format("%H:%M"),
    )
}

/// The registration behind `id` in this edition if `token` opens it; otherwise not
/// found, whether it exists or not.
pub async fn load_for_registrant(
    app: &App,
    year: &str,
    id: &str,
    token: Option<&str>,
) -> AppResult<(Edition, Registration)> {
    let (edition, registration) = in_edition(app, year, id).await?;
    if token_opens(token, &registration.token_hash) {
        Ok((edition, registration))
    } else {
        Err(AppError::NotFound)
    }
}

/// The registration `id` of the edition `year`; not found for an unknown edition or
/// id, or a registration of another edition.
pub(super) async fn in_edition(
    app: &App,
    year: &str,
    id: &str,
) -> AppResult<(Edition, Registration)> {
    let edition = edition_of(app, year)?;
    let registration = app
        .store
        .registrations()
        .get(id)
        .await?
        .ok_or(AppError::NotFound)?;
    if registration.year != edition.year {
        return Err(AppError::NotFound);
    }
    Ok((edition, registration))
}

/// Whether the registrant may still cancel: not cancelled or declined, and the
/// edition has not started.
pub fn may_cancel(app: &App, edition: &Edition, registration: &Registration) -> bool {
    use respect_week::RegistrationStatus::{Cancelled, Declined};
    !matches!(registration.status, Cancelled | Declined)
        && app.clocks.business() < crate::domain::time::start_of_day(edition.starts_on)
}

/// The registrant cancels (the API and the private page). They send no version: a
/// concurrent staff change is absorbed by reading again and deciding again.
pub async fn cancel_as_registrant(
    app: &App,
    year: &str,
    id: &str,
    token: Option<&str>,
) -> AppResult<Registration> {
    let next = retry_on_conflict(|| async {
        let (edition, before) = load_for_registrant(app, year, id, token).await?;
        let now = app.clocks.now();
        let after = before.apply(
            &RegistrationAction::Cancel,
            respect_week::Actor::Registrant,
            &edition,
            now.business,
        )?;
        let messages = app
            .mail
            .about_registration(Some(&before), &after, None, now.real);
        app.store
            .registrations()
            .transition(&before, &after, &messages)
            .await?;
        Ok::<_, AppError>(after)
    })
    .await?;
    tracing::info!(reference = %next.reference, "Week van Respect activity cancelled");
    Ok(next)
}

pub use crate::store::registrations::ProgrammeSelection;

/// The published activities of an edition that `selection` picks, in programme
/// order: what the public sees.
pub async fn programme(
    app: &App,
    edition: &Edition,
    selection: ProgrammeSelection,
) -> AppResult<Vec<Registration>> {
    Ok(app
        .store
        .registrations()
        .programme_selected(edition.year, selection)
        .await?)
}
