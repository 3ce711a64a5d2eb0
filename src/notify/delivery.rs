//! Sending what the outbox holds, on the local server: to SMTP when
//! `LOKET_SMTP_URL` is set, otherwise as `.eml` files in the data folder, which any
//! mail program opens. One pass ([`deliver_due`]) sends every due message and
//! records each attempt on the version it read; [`run`] repeats it twice a second.
//!
//! At least once: a message is recorded as sent only after the transport accepted
//! it, so a crash in between sends it again on restart, with the same `Message-ID`.

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::clock::SharedClock;
use crate::domain::outbox::{Delivery, OutboxMessage};
use crate::store::{Store, StoreResult};

/// How often the outbox is looked at.
const POLL: Duration = Duration::from_millis(500);
/// Messages sent per pass at most.
const BATCH: usize = 50;

#[async_trait]
pub trait Transport: Send + Sync {
    /// Hands one message over; `Err` with why not.
    async fn send(&self, message: lettre::Message) -> Result<(), String>;
}

/// An SMTP server (`smtp://host:port`, `smtps://…`, `?tls=required` for STARTTLS).
pub struct Smtp(AsyncSmtpTransport<Tokio1Executor>);

impl Smtp {
    pub fn new(url: &str) -> Result<Smtp, String> {
        AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map(|builder| Smtp(builder.timeout(Some(Duration::from_secs(10))).build()))
            .map_err(|e| format!("LOKET_SMTP_URL: {e}"))
    }
}

#[async_trait]
impl Transport for Smtp {
    async fn send(&self, message: lettre::Message) -> Result<(), String> {
        self.0
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// `.eml` files in a folder, one per message, named by its id (a resend overwrites).
pub struct Files(pub PathBuf);

#[async_trait]
impl Transport for Files {
    async fn send(&self, message: lettre::Message) -> Result<(), String> {
        let id = message
            .headers()
            .get_raw("Message-ID")
            .unwrap_or("message")
            .trim_matches(['<', '>'])
            .replace(['/', '\\'], "_");
        let dir = self.0.clone();
        let bytes = message.formatted();
        tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&dir)?;
            // Written whole, then renamed: a reader never sees half a message.
            let partial = dir.join(format!("{id}.eml.part"));
            std::fs::write(&partial, bytes)?;
            std::fs::rename(&partial, dir.join(format!("{id}.eml")))
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
    }
}

/// The MIME message: plain text and HTML as alternatives, the stable `Message-ID`.
pub fn mime(message: &OutboxMessage, from: &str) -> Result<lettre::Message, String> {
    let from: Mailbox = from.parse().map_err(|e| format!("LOKET_MAIL_FROM: {e}"))?;
    let to: Mailbox = message.to.parse().map_err(|e| format!("recipient: {e}"))?;
    lettre::Message::builder()
        .from(from)
        .to(to)
        .subject(message.subject.clone())
        .message_id(Some(message.message_id.clone()))
        .date(message.created_at.into())
        .multipart(MultiPart::alternative_plain_html(
            message.text.clone(),
            message.html.clone(),
        ))
        .map_err(|e| e.to_string())
}

/// One pass: up to [`BATCH`] messages due at `clock`'s now are sent, and each
/// attempt recorded. The number sent.
pub async fn deliver_due(
    store: &Store,
    transport: &dyn Transport,
    from: &str,
    clock: &SharedClock,
) -> StoreResult<usize> {
    Ok(pass(store, transport, from, clock).await?.0)
}

/// One pass: (sent, attempted).
async fn pass(
    store: &Store,
    transport: &dyn Transport,
    from: &str,
    clock: &SharedClock,
) -> StoreResult<(usize, usize)> {
    let due = store.outbox().due(clock.now(), BATCH).await?;
    let mut sent = 0;
    for message in &due {
        sent += usize::from(attempt(store, transport, from, clock, message).await);
    }
    Ok((sent, due.len()))
}

/// The message `id`, if it is waiting and due: sent, and the attempt recorded (the
/// notify function, woken by the table's stream). Whether it went out.
pub async fn deliver_one(
    store: &Store,
    transport: &dyn Transport,
    from: &str,
    clock: &SharedClock,
    id: &str,
) -> StoreResult<bool> {
    match store.outbox().get(id).await? {
        Some(message)
            if message.delivery == Delivery::Pending && message.next_attempt_at <= clock.now() =>
        {
            Ok(attempt(store, transport, from, clock, &message).await)
        }
        _ => Ok(false),
    }
}

/// One attempt at one message, recorded on the version read. Whether it went out.
async fn attempt(
    store: &Store,
    transport: &dyn Transport,
    from: &str,
    clock: &SharedClock,
    message: &OutboxMessage,
) -> bool {
    let outcome = match mime(message, from) {
        Ok(mime) => transport.send(mime).await,
        Err(e) => Err(e),
    };
    let now = clock.now();
    let after = match &outcome {
        Ok(()) => message.sent(now),
        Err(e) => message.failed(now, e),
    };
    match &outcome {
        Ok(()) => {
            tracing::info!(id = %message.id, kind = %message.kind, "message sent");
        }
        Err(e) if after.delivery == Delivery::Parked => {
            tracing::error!(id = %message.id, kind = %message.kind, error = %e, "message parked after repeated failures");
        }
        Err(e) => {
            tracing::warn!(id = %message.id, kind = %message.kind, attempts = after.attempts, error = %e, "message not sent; will retry");
        }
    }
    // A conflict means another sender recorded it first: theirs stands.
    if let Err(e) = store.outbox().record(message, &after).await {
        tracing::warn!(id = %message.id, error = %e, "attempt not recorded");
    }
    outcome.is_ok()
}

/// Delivers, pass after pass, until the process ends: at once again after a full
/// pass (a backlog), else after [`POLL`].
pub async fn run(store: Store, transport: Box<dyn Transport>, from: String, clock: SharedClock) {
    loop {
        match pass(&store, transport.as_ref(), &from, &clock).await {
            Ok((_, attempted)) if attempted == BATCH => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "outbox not read"),
        }
        tokio::time::sleep(POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::outbox::Letter;

    #[tokio::test]
    async fn without_smtp_a_message_is_an_eml_file_named_by_its_message_id() {
        let dir = tempfile::tempdir().unwrap();
        let now: chrono::DateTime<chrono::Utc> = "2017-03-01T09:00:00Z".parse().unwrap();
        let message = OutboxMessage::new(
            "m1".into(),
            "loket.test",
            Letter {
                kind: "permit_received",
                regarding: "permit#p1".into(),
                to: "info@zomerfest.nl".into(),
                subject: "Ontvangstbevestiging EV-2017-0001: Zomerfestival".into(),
                text: "Wij hebben uw aanvraag ontvangen: € 1.463,00.".into(),
                html: "<p>Wij hebben uw aanvraag ontvangen.</p>".into(),
            },
            now,
        );
        let mime = mime(&message, "Gemeente Dronten <evenementen@dronten.nl>").unwrap();
        Files(dir.path().join("mail")).send(mime).await.unwrap();
        let eml = std::fs::read_to_string(dir.path().join("mail/m1@loket.test.eml")).unwrap();
        for header in [
            "Message-ID: <m1@loket.test>",
            "To: info@zomerfest.nl",
            "From: \"Gemeente Dronten\" <evenementen@dronten.nl>",
            "Subject: Ontvangstbevestiging EV-2017-0001: Zomerfestival",
            "Content-Type: multipart/alternative",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Type: text/html; charset=utf-8",
        ] {
            assert!(eml.contains(header), "{header} in\n{eml}");
        }
        assert!(
            !dir.path().join("mail/m1@loket.test.eml.part").exists(),
            "written whole, then renamed"
        );
    }
}
