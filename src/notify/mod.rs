//! E-mail to organisers and Week van Respect contacts (Awb art. 4:3a: a confirmation
//! of receipt, then every step). A change that causes a message writes it to the
//! outbox in the same commit (`letters` decides which, `Mail::messages` makes them);
//! `delivery` sends what is due, at least once, with a stable `Message-ID`.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::domain::municipality::Municipality;
use crate::domain::outbox::{Letter, OutboxMessage};
use crate::domain::permit::Application;
use crate::domain::respect_week::Registration;
use crate::secrets::new_id;

pub mod delivery;
pub mod lambda;
pub mod letters;
pub mod ses;

/// Where messages come from and where their links point.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The address the public reaches loket at, for links (`https://…`, no slash at
    /// the end). Configured, never taken from a request: a forged `Host` must not put
    /// someone else's address in a municipal e-mail.
    pub public_url: String,
    /// `From:` of every message.
    pub from: String,
    /// The right-hand side of every `Message-ID`.
    pub domain: String,
    /// Who signs: the municipality's office, its name above every HTML message and
    /// its colours there (the profile's `office` and `theme`).
    pub signer: Signer,
    /// The profile's share of the leges a withdrawal before the decision saves, for
    /// the leges sentence (`dutch::leges_story`).
    pub withdrawal_refund_percent: u32,
}

/// The municipality as its e-mail shows it.
#[derive(Debug, Clone)]
pub struct Signer {
    /// The profile's office name, e.g. `Gemeente Dronten`.
    pub organisation: String,
    /// The two lines under the greeting.
    pub signature: [String; 2],
    /// The banner's colours and the links' (`#rrggbb`).
    pub primary: String,
    pub on_primary: String,
}

impl Signer {
    pub fn of(municipality: &Municipality) -> Signer {
        Signer {
            organisation: municipality.office.organisation.clone(),
            signature: municipality.signature(),
            primary: municipality.theme.primary.clone(),
            on_primary: municipality.theme.on_primary.clone(),
        }
    }
}

/// The built-in profile's sender and signature, on the local server's address.
impl Default for Mail {
    fn default() -> Mail {
        let profile = Municipality::dronten();
        Mail::new("http://127.0.0.1:3000", &profile.mail.from, &profile)
    }
}

impl Mail {
    /// Mail from `from` (the profile's own sender, or `LOKET_MAIL_FROM`), signed by
    /// `municipality`, with links to `public_url`.
    pub fn new(public_url: &str, from: &str, municipality: &Municipality) -> Mail {
        let public_url = public_url.trim_end_matches('/').to_string();
        let domain = public_url
            .split("://")
            .nth(1)
            .unwrap_or("loket.local")
            .split(['/', ':'])
            .next()
            .unwrap_or("loket.local")
            .to_string();
        Mail {
            public_url,
            from: from.to_string(),
            domain,
            signer: Signer::of(municipality),
            withdrawal_refund_percent: municipality.terms.withdrawal_refund_percent,
        }
    }

    /// The outbox messages of these letters, due now (`now`: real time).
    pub fn messages(&self, letters: Vec<Letter>, now: DateTime<Utc>) -> Vec<OutboxMessage> {
        letters
            .into_iter()
            .map(|letter| OutboxMessage::new(new_id(), &self.domain, letter, now))
            .collect()
    }
}

impl Mail {
    /// The messages a permit application's change causes (`token` at submission).
    pub fn about_permit(
        &self,
        before: Option<&Application>,
        after: &Application,
        token: Option<&str>,
        now: DateTime<Utc>,
    ) -> Vec<OutboxMessage> {
        self.messages(letters::permit_letters(self, before, after, token), now)
    }

    /// The messages a registration's change causes (`token` at registration).
    pub fn about_registration(
        &self,
        before: Option<&Registration>,
        after: &Registration,
        token: Option<&str>,
        now: DateTime<Utc>,
    ) -> Vec<OutboxMessage> {
        self.messages(
            letters::registration_letters(self, before, after, token),
            now,
        )
    }
}

impl Mail {
    /// The message with an application's new private link.
    pub fn new_permit_link(
        &self,
        app: &Application,
        token: &str,
        now: DateTime<Utc>,
    ) -> Vec<OutboxMessage> {
        self.messages(vec![letters::permit_new_link(self, app, token)], now)
    }

    /// The message with a registration's new private link (none without contact data).
    pub fn new_registration_link(
        &self,
        reg: &Registration,
        token: &str,
        now: DateTime<Utc>,
    ) -> Vec<OutboxMessage> {
        self.messages(
            letters::registration_new_link(self, reg, token)
                .into_iter()
                .collect(),
            now,
        )
    }
}

pub type SharedMail = Arc<Mail>;
