//! "Ik ben mijn link kwijt": a new private link for whoever knows a record's
//! reference and the e-mail address stored with it. The answer is the same whether
//! they match or not (nothing to enumerate); a match sends the link to the stored
//! address only, and at most once per [`PAUSE_MINUTES`] per record (no mail-bombing
//! someone else's inbox). The new token replaces the old one: the old link stops
//! working.

use chrono::{DateTime, Duration, Utc};

use super::formats::Email;
use super::permit::Application;
use super::respect_week::Registration;

/// A record's link is sent again at most this often.
pub const PAUSE_MINUTES: i64 = 10;

/// Whether a given address is the stored one (e-mail addresses are compared without
/// case: nobody types them the same way twice).
pub fn same_address(stored: &Email, given: &Email) -> bool {
    stored.as_str().eq_ignore_ascii_case(given.as_str())
}

/// Whether a new link may go out now, after one went out at `last`.
pub fn may_send_again(last: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    last.is_none_or(|last| now - last >= Duration::minutes(PAUSE_MINUTES))
}

impl Application {
    /// The application opened by a new token (`token_hash`), sent at `now`.
    pub fn with_new_token(&self, token_hash: String, now: DateTime<Utc>) -> Application {
        Application {
            token_hash,
            link_sent_at: Some(now),
            version: self.version + 1,
            ..self.clone()
        }
    }
}

impl Registration {
    /// The registration opened by a new token (`token_hash`), sent at `now`.
    pub fn with_new_token(&self, token_hash: String, now: DateTime<Utc>) -> Registration {
        Registration {
            token_hash,
            link_sent_at: Some(now),
            version: self.version + 1,
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_match_without_case_and_links_go_out_at_most_every_ten_minutes() {
        let stored = Email::parse("Info@Zomerfest.nl").unwrap();
        assert!(same_address(
            &stored,
            &Email::parse("info@zomerfest.NL").unwrap()
        ));
        assert!(!same_address(
            &stored,
            &Email::parse("info@zomerfest.com").unwrap()
        ));
        let t0: DateTime<Utc> = "2026-12-01T10:00:00Z".parse().unwrap();
        assert!(may_send_again(None, t0));
        for (minutes, may) in [(0, false), (9, false), (10, true), (60, true)] {
            assert_eq!(
                may_send_again(Some(t0), t0 + Duration::minutes(minutes)),
                may,
                "{minutes} minutes later"
            );
        }
    }
}
