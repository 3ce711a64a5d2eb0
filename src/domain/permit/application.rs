//! What an organiser applies with and what is kept of it: the organiser, the event,
//! the quote a submission rests on and the submitted application.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::lifecycle::{Actor, HistoryEntry, PermitStatus};
pub use crate::domain::event::Event;
use crate::domain::formats::{Email, KvkNumber, Phone, Reference};
use crate::domain::leges::{self, Leges, Tariffs};
use crate::domain::risk::{self, Assessment, Category, Deadline, Kind};
use crate::domain::time::{local_rfc3339, local_year};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Organiser {
    pub name: String,
    pub organisation: Option<String>,
    pub kvk_number: Option<KvkNumber>,
    pub email: Email,
    pub phone: Phone,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Application {
    pub id: String,
    pub reference: Reference,
    /// SHA-256 of the organiser's access token; the token itself is never stored.
    pub token_hash: String,
    pub status: PermitStatus,
    pub organiser: Organiser,
    pub event: Event,
    pub kind: Kind,
    pub category: Category,
    pub risk_score: u32,
    pub leges: Leges,
    pub deadline: Deadline,
    #[serde(with = "local_rfc3339")]
    pub submitted_at: DateTime<Utc>,
    /// When a new private link was last sent ("Ik ben mijn link kwijt").
    #[serde(
        default,
        with = "crate::domain::time::opt_local_rfc3339",
        skip_serializing_if = "Option::is_none"
    )]
    pub link_sent_at: Option<DateTime<Utc>>,
    pub version: u64,
    pub history: Vec<HistoryEntry>,
}

/// What a submission now would give: `POST /permits/quote`, and the heart of a
/// submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    pub assessment: Assessment,
    pub leges: Leges,
    pub deadline: Deadline,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    #[error("the event starts before the moment of submission")]
    StartsInThePast,
    #[error("no tariff table is in force for {0}")]
    NoTariff(i32),
    /// Starts after the last year an application may be made for now.
    #[error("the event starts after {last_year}")]
    BeyondHorizon { last_year: i32 },
}

/// How many calendar years ahead an event may be applied for: plans further out
/// change anyway, and the tariff tables and time-zone rules are not known that far.
pub const HORIZON_YEARS: i32 = 3;

pub fn quote(event: &Event, now: DateTime<Utc>, tariffs: &Tariffs) -> Result<Quote, SubmitError> {
    if event.starts_at < now {
        return Err(SubmitError::StartsInThePast);
    }
    let year = local_year(now);
    let last_year = year + HORIZON_YEARS;
    if local_year(event.starts_at) > last_year {
        return Err(SubmitError::BeyondHorizon { last_year });
    }
    let table = tariffs.for_year(year).ok_or(SubmitError::NoTariff(year))?;
    let assessment = risk::assess(event);
    Ok(Quote {
        leges: leges::compute(table, assessment.category, event, assessment.event_days),
        deadline: risk::deadline(assessment.category, event, now, tariffs.terms()),
        assessment,
    })
}

impl Application {
    #[allow(clippy::too_many_arguments)]
    pub fn submit(
        id: String,
        reference: Reference,
        token_hash: String,
        organiser: Organiser,
        event: Event,
        quote: Quote,
        now: DateTime<Utc>,
    ) -> Application {
        Application {
            id,
            reference,
            token_hash,
            status: PermitStatus::Submitted,
            organiser,
            event,
            kind: quote.assessment.kind,
            category: quote.assessment.category,
            risk_score: quote.assessment.risk_score,
            leges: quote.leges,
            deadline: quote.deadline,
            submitted_at: now,
            link_sent_at: None,
            version: 1,
            history: vec![HistoryEntry {
                at: now,
                actor: Actor::Organiser,
                action: "submit".into(),
                from: None,
                to: PermitStatus::Submitted,
                reason: None,
                reclassification: None,
            }],
        }
    }

    /// The organiser answered staff's question and no staff member has acted since:
    /// the queue flags it, so an answer does not wait unseen.
    pub fn answered_unseen(&self) -> bool {
        self.status.is_open()
            && self
                .history
                .last()
                .is_some_and(|entry| entry.action == "answer_info")
    }

    /// Local year of submission: the reference's year, the tariff year, the
    /// coverage year.
    pub fn submission_year(&self) -> i32 {
        local_year(self.submitted_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::permit::tests::event_from;
    use crate::domain::risk::tests::{at, jeugdtoernooi};

    #[test]
    fn an_answer_is_flagged_until_staff_act_on_it() {
        let facts = jeugdtoernooi();
        let event = event_from(&facts);
        let now = at("2017-03-01T10:00:00+01:00");
        let quote = quote(&event, now, &Tariffs::built_in()).unwrap();
        let organiser = Organiser {
            name: "J. Jansen".into(),
            organisation: None,
            kvk_number: None,
            email: Email::parse("j@example.nl").unwrap(),
            phone: Phone::parse("0321 123456").unwrap(),
        };
        let mut app = Application::submit(
            "id".into(),
            Reference::parse("EV-2017-0001").unwrap(),
            "hash".into(),
            organiser,
            event,
            quote,
            now,
        );
        let staff = Actor::Staff("medewerker".into());
        let steps: [(Actor, &str, PermitStatus, bool); 4] = [
            (staff.clone(), "start_review", PermitStatus::InReview, false),
            (
                staff.clone(),
                "request_info",
                PermitStatus::InfoRequested,
                false,
            ),
            (
                Actor::Organiser,
                "answer_info",
                PermitStatus::InReview,
                true,
            ),
            (staff, "approve", PermitStatus::Approved, false),
        ];
        assert!(!app.answered_unseen());
        for (actor, action, to, flagged) in steps {
            app.history.push(HistoryEntry {
                at: now,
                actor,
                action: action.into(),
                from: Some(app.status),
                to,
                reason: None,
                reclassification: None,
            });
            app.status = to;
            assert_eq!(app.answered_unseen(), flagged, "after {action}");
        }
    }

    #[test]
    fn an_event_that_already_started_cannot_be_submitted() {
        let facts = jeugdtoernooi();
        let event = event_from(&facts);
        assert_eq!(
            quote(
                &event,
                at("2017-05-14T13:00:01+02:00"),
                &Tariffs::built_in()
            ),
            Err(SubmitError::StartsInThePast)
        );
        assert!(
            quote(
                &event,
                at("2017-05-14T13:00:00+02:00"),
                &Tariffs::built_in()
            )
            .is_ok()
        );
    }
}
