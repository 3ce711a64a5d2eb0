//! "Ik ben mijn link kwijt": a new private link for whoever holds the reference and
//! the e-mail address it was filed with, sent to that stored address. The caller
//! answers the same whether or not anything was sent.

use crate::domain::formats::{Email, Reference, Register};
use crate::domain::link::{may_send_again, same_address};
use crate::secrets::new_access_token;
use crate::store::retry_on_conflict;

use super::App;
use super::error::{AppError, AppResult};

/// Sends a new link when `reference` and `email` belong together, the reference is
/// of `register` and no link went out in the last minutes; otherwise nothing. The
/// caller answers the same either way.
pub async fn send_new_link(
    app: &App,
    register: Register,
    reference: &Reference,
    email: &Email,
) -> AppResult<()> {
    // Each function looks only in its own register (and may read only that).
    if reference.register() != register {
        return Ok(());
    }
    retry_on_conflict(|| async {
        let now = app.clocks.real();
        match register {
            Register::Permits => {
                let permits = app.store.permits();
                let Some(application) = permits.by_reference(reference).await? else {
                    return Ok(());
                };
                if !same_address(&application.organiser.email, email)
                    || !may_send_again(application.link_sent_at, now)
                {
                    return Ok(());
                }
                let (token, token_hash) = new_access_token();
                let next = application.with_new_token(token_hash, now);
                let messages = app.mail.new_permit_link(&next, &token, now);
                permits.renew_token(&application, &next, &messages).await?;
                tracing::info!(reference = %application.reference, "new private link sent");
            }
            Register::RespectWeek => {
                let registrations = app.store.registrations();
                let Some(reg) = registrations.by_reference(reference).await? else {
                    return Ok(());
                };
                let matches = reg
                    .contact
                    .as_ref()
                    .is_some_and(|c| same_address(&c.email, email));
                if !matches || !may_send_again(reg.link_sent_at, now) {
                    return Ok(());
                }
                let (token, token_hash) = new_access_token();
                let next = reg.with_new_token(token_hash, now);
                let messages = app.mail.new_registration_link(&next, &token, now);
                registrations.renew_token(&reg, &next, &messages).await?;
                tracing::info!(reference = %reg.reference, "new private link sent");
            }
        }
        Ok::<_, AppError>(())
    })
    .await
}
