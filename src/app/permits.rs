//! The organiser's use cases: a quote, filing an application, reading it with the
//! private link's token, answering a question and withdrawing.

use crate::domain::permit::{self, Actor, Application, Event, Organiser, PermitAction, Quote};
use crate::domain::time::local_year;
use crate::secrets::{new_access_token, new_id, token_opens};
use crate::store::retry_on_conflict;

use super::App;
use super::error::{AppError, AppResult};
use super::idempotency::{Answer, Idempotent, StoredAnswer};

/// What filing now would give: melding or vergunning, the category, the leges and
/// the deadline. Nothing is stored.
pub fn quote(app: &App, event: &Event) -> AppResult<Quote> {
    Ok(permit::quote(
        event,
        app.clocks.business(),
        &app.catalogue.tariffs,
    )?)
}

/// A filed application and, this once, the token of its private link.
#[derive(Debug, Clone)]
pub struct Filed {
    pub application: Application,
    pub access_token: String,
}

/// Files an application (the API's `POST /permits` and the permit form): the rules,
/// the next reference, the creation with its coverage and its receipt e-mail, and
/// under `once`'s key the answer `answer` renders for repeats.
pub async fn file(
    app: &App,
    once: &Idempotent,
    checked: AppResult<(Organiser, Event)>,
    answer: impl Fn(&Filed) -> AppResult<StoredAnswer>,
) -> AppResult<Answer<Filed>> {
    once.run(app, checked, |(organiser, event)| {
        let answer = &answer;
        async move {
            let now = app.clocks.now();
            let q = permit::quote(&event, now.business, &app.catalogue.tariffs)?;
            let permits = app.store.permits();
            let reference = permits.next_reference(local_year(now.business)).await?;
            let (token, token_hash) = new_access_token();
            let application = Application::submit(
                new_id(),
                reference,
                token_hash,
                organiser,
                event,
                q,
                now.business,
            );
            let messages = app
                .mail
                .about_permit(None, &application, Some(&token), now.real);
            let creation = permits.create(&application)?.notify(&messages)?;
            tracing::info!(reference = %application.reference, category = application.category.as_str(), "permit submitted");
            let filed = Filed {
                application,
                access_token: token,
            };
            let stored = answer(&filed)?;
            Ok((creation, filed, stored))
        }
    })
    .await
}

/// The application behind `id` if `token` opens it; otherwise not found, whether
/// the id exists or not.
pub async fn load_for_organiser(
    app: &App,
    id: &str,
    token: Option<&str>,
) -> AppResult<Application> {
    let application = app
        .store
        .permits()
        .get(id)
        .await?
        .ok_or(AppError::NotFound)?;
    if token_opens(token, &application.token_hash) {
        Ok(application)
    } else {
        Err(AppError::NotFound)
    }
}

/// An organiser's action (answer, withdraw) on the application `token` opens. The
/// organiser sends no version, so a concurrent staff change is absorbed by reading
/// again and deciding again (a few times at most). Answers the new state.
pub async fn act_as_organiser(
    app: &App,
    id: &str,
    token: Option<&str>,
    action: PermitAction,
) -> AppResult<Application> {
    retry_on_conflict(|| async {
        let before = load_for_organiser(app, id, token).await?;
        let now = app.clocks.now();
        let after = before.apply(
            &action,
            Actor::Organiser,
            now.business,
            &app.catalogue.tariffs,
        )?;
        let messages = app.mail.about_permit(Some(&before), &after, None, now.real);
        app.store
            .permits()
            .transition(&before, &after, &messages)
            .await?;
        Ok::<_, AppError>(after)
    })
    .await
}

/// What `action` would do now, computed by the rules themselves and not stored: the
/// refund the organiser is shown before confirming a withdrawal.
pub fn preview(
    app: &App,
    application: &Application,
    actor: Actor,
    action: &PermitAction,
) -> AppResult<Application> {
    Ok(application.apply(action, actor, app.clocks.business(), &app.catalogue.tariffs)?)
}
