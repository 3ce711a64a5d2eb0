//! A message waiting in the outbox: written in the same commit as the change that
//! causes it, then delivered at least once, with a `Message-ID` that never changes so
//! that a repeat is recognisable. A failed attempt waits longer each time; after
//! [`MAX_ATTEMPTS`] the message is parked for staff to see.
//!
//! Once sent, the recipient and the text are erased: what stays is that a message of
//! this kind about this record went out, and when (no personal data kept longer than
//! the record's own).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// Attempts before a message is parked.
pub const MAX_ATTEMPTS: u32 = 10;
/// The wait after the first failure; it doubles with each next one.
pub const FIRST_RETRY_SECONDS: i64 = 1;
/// The longest wait between two attempts.
pub const MAX_RETRY_SECONDS: i64 = 15 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// Waiting for its next attempt at `next_attempt_at`.
    Pending,
    Sent,
    /// Failed [`MAX_ATTEMPTS`] times: shown to staff, no longer tried.
    Parked,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxMessage {
    pub id: String,
    /// `<{id}@{domain}>`: the same on every attempt.
    pub message_id: String,
    /// What it is about: `permit#{id}` or `registration#{id}`.
    pub regarding: String,
    /// What kind of message (`permit_received`, …), for staff and logs.
    pub kind: String,
    /// Erased once sent.
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub created_at: DateTime<Utc>,
    pub delivery: Delivery,
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub version: u64,
}

/// What a new message needs; the rest is bookkeeping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    pub kind: &'static str,
    pub regarding: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl OutboxMessage {
    /// A message due at once.
    pub fn new(id: String, domain: &str, letter: Letter, now: DateTime<Utc>) -> OutboxMessage {
        OutboxMessage {
            message_id: format!("<{id}@{domain}>"),
            id,
            regarding: letter.regarding,
            kind: letter.kind.to_string(),
            to: letter.to,
            subject: letter.subject,
            text: letter.text,
            html: letter.html,
            created_at: now,
            delivery: Delivery::Pending,
            attempts: 0,
            next_attempt_at: now,
            last_error: None,
            sent_at: None,
            version: 1,
        }
    }

    /// Delivered: the recipient and the text are erased.
    pub fn sent(&self, now: DateTime<Utc>) -> OutboxMessage {
        OutboxMessage {
            delivery: Delivery::Sent,
            attempts: self.attempts + 1,
            sent_at: Some(now),
            last_error: None,
            to: String::new(),
            text: String::new(),
            html: String::new(),
            version: self.version + 1,
            ..self.clone()
        }
    }

    /// An attempt failed: wait 1, 2, 4, … seconds (at most 15 minutes), or park.
    pub fn failed(&self, now: DateTime<Utc>, error: &str) -> OutboxMessage {
        let attempts = self.attempts + 1;
        let wait = FIRST_RETRY_SECONDS
            .saturating_mul(1i64 << (attempts - 1).min(30))
            .min(MAX_RETRY_SECONDS);
        OutboxMessage {
            delivery: if attempts >= MAX_ATTEMPTS {
                Delivery::Parked
            } else {
                Delivery::Pending
            },
            attempts,
            next_attempt_at: now + Duration::seconds(wait),
            last_error: Some(error.chars().take(500).collect()),
            version: self.version + 1,
            ..self.clone()
        }
    }

    /// Tried again from now, by staff (a parked message whose cause is mended).
    pub fn retried(&self, now: DateTime<Utc>) -> OutboxMessage {
        OutboxMessage {
            delivery: Delivery::Pending,
            attempts: 0,
            next_attempt_at: now,
            version: self.version + 1,
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letter() -> Letter {
        Letter {
            kind: "permit_received",
            regarding: "permit#p1".into(),
            to: "info@zomerfest.nl".into(),
            subject: "Ontvangen".into(),
            text: "tekst".into(),
            html: "<p>tekst</p>".into(),
        }
    }

    #[test]
    fn failures_wait_twice_as_long_each_time_up_to_a_cap_and_then_park() {
        let t0: DateTime<Utc> = "2026-12-01T10:00:00Z".parse().unwrap();
        let mut message = OutboxMessage::new("m1".into(), "loket.test", letter(), t0);
        assert_eq!(message.message_id, "<m1@loket.test>");
        let mut waits = Vec::new();
        for _ in 0..MAX_ATTEMPTS {
            assert_eq!(message.delivery, Delivery::Pending);
            message = message.failed(t0, "connection refused");
            waits.push((message.next_attempt_at - t0).num_seconds());
        }
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]);
        assert_eq!(message.delivery, Delivery::Parked);
        assert_eq!(message.version, 1 + u64::from(MAX_ATTEMPTS));
        let again = message.retried(t0);
        assert_eq!((again.delivery, again.attempts), (Delivery::Pending, 0));
        let capped = OutboxMessage {
            attempts: 20,
            ..again
        }
        .failed(t0, "x");
        assert_eq!(
            (capped.next_attempt_at - t0).num_seconds(),
            MAX_RETRY_SECONDS
        );
    }

    #[test]
    fn a_sent_message_keeps_no_personal_data_and_its_message_id() {
        let t0: DateTime<Utc> = "2026-12-01T10:00:00Z".parse().unwrap();
        let sent = OutboxMessage::new("m1".into(), "loket.test", letter(), t0).sent(t0);
        assert_eq!(sent.delivery, Delivery::Sent);
        assert!(sent.to.is_empty() && sent.text.is_empty() && sent.html.is_empty());
        assert_eq!(sent.message_id, "<m1@loket.test>");
        assert_eq!(sent.sent_at, Some(t0));
    }
}
