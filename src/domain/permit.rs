//! An event application and its lifecycle (DOMAIN.md §5): a state machine that
//! refuses what is not allowed and appends every change to the history.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::formats::{Email, KvkNumber, Phone, Reference};
use super::leges::{self, Leges, Tariffs};
use super::money::Cents;
use super::risk::{self, Alcohol, Assessment, Category, Deadline, EventFacts, Kind};
use super::time::{local_rfc3339, local_year};

// Moved to `place.rs`; re-exported so `permit::Kern` keeps working.
pub use super::place::Kern;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Organiser {
    pub name: String,
    pub organisation: Option<String>,
    pub kvk_number: Option<KvkNumber>,
    pub email: Email,
    pub phone: Phone,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Event {
    pub name: String,
    pub description: String,
    pub kern: Kern,
    pub address: String,
    #[serde(with = "local_rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: DateTime<Utc>,
    #[serde(with = "local_rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: DateTime<Utc>,
    pub expected_visitors: u32,
    pub amplified_music: bool,
    pub max_sound_dba: Option<u32>,
    pub road_closure: bool,
    pub alcohol: Alcohol,
    pub largest_structure_m2: u32,
    pub on_water: bool,
    pub fireworks: bool,
    pub commercial: bool,
    pub non_profit: bool,
}

impl Event {
    pub fn facts(&self) -> EventFacts {
        EventFacts {
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            expected_visitors: self.expected_visitors,
            amplified_music: self.amplified_music,
            max_sound_dba: self.max_sound_dba,
            road_closure: self.road_closure,
            alcohol: self.alcohol,
            largest_structure_m2: self.largest_structure_m2,
            on_water: self.on_water,
            fireworks: self.fireworks,
            commercial: self.commercial,
            non_profit: self.non_profit,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PermitStatus {
    Submitted,
    InReview,
    InfoRequested,
    Approved,
    Rejected,
    Withdrawn,
    /// Junk (a flood, a test, nonsense) set aside by staff with a reason: kept for
    /// the record, out of the coverage (hardening F5).
    Voided,
}

impl PermitStatus {
    pub const ALL: [PermitStatus; 7] = [
        PermitStatus::Submitted,
        PermitStatus::InReview,
        PermitStatus::InfoRequested,
        PermitStatus::Approved,
        PermitStatus::Rejected,
        PermitStatus::Withdrawn,
        PermitStatus::Voided,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PermitStatus::Submitted => "submitted",
            PermitStatus::InReview => "in_review",
            PermitStatus::InfoRequested => "info_requested",
            PermitStatus::Approved => "approved",
            PermitStatus::Rejected => "rejected",
            PermitStatus::Withdrawn => "withdrawn",
            PermitStatus::Voided => "voided",
        }
    }

    pub fn parse(s: &str) -> Option<PermitStatus> {
        PermitStatus::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Not yet decided: the leges may still be partly refunded.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            PermitStatus::Submitted | PermitStatus::InReview | PermitStatus::InfoRequested
        )
    }
}

/// Who made a change: the organiser (holder of the access token) or a staff member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "role", content = "id", rename_all = "lowercase")]
pub enum Actor {
    Organiser,
    Staff(String),
}

impl Actor {
    /// `organiser`, or the staff member's id (the JWT subject).
    pub fn label(&self) -> &str {
        match self {
            Actor::Organiser => "organiser",
            Actor::Staff(id) => id,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    #[serde(with = "local_rfc3339")]
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub action: String,
    pub from: Option<PermitStatus>,
    pub to: PermitStatus,
    pub reason: Option<String>,
    /// Reclassification: the category before and after, and what it did to the leges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reclassification: Option<Reclassification>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Reclassification {
    pub from_category: Category,
    pub to_category: Category,
    pub leges_difference_cents: Cents,
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
    let facts = event.facts();
    if facts.starts_at < now {
        return Err(SubmitError::StartsInThePast);
    }
    let year = local_year(now);
    let last_year = year + HORIZON_YEARS;
    if local_year(facts.starts_at) > last_year {
        return Err(SubmitError::BeyondHorizon { last_year });
    }
    let table = tariffs.for_year(year).ok_or(SubmitError::NoTariff(year))?;
    let assessment = risk::assess(&facts);
    Ok(Quote {
        leges: leges::compute(table, assessment.category, &facts, assessment.event_days),
        deadline: risk::deadline(assessment.category, &facts, now),
        assessment,
    })
}

/// Something a person asks of an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PermitAction {
    StartReview,
    RequestInfo {
        reason: String,
    },
    AnswerInfo {
        message: String,
    },
    Approve {
        reason: Option<String>,
    },
    Reject {
        reason: String,
    },
    Reclassify {
        category: Category,
        reason: Option<String>,
    },
    Withdraw,
    /// Staff set junk aside (with a reason); its leges leave the coverage.
    Void {
        reason: String,
    },
}

impl PermitAction {
    pub fn name(&self) -> &'static str {
        match self {
            PermitAction::StartReview => "start_review",
            PermitAction::RequestInfo { .. } => "request_info",
            PermitAction::AnswerInfo { .. } => "answer_info",
            PermitAction::Approve { .. } => "approve",
            PermitAction::Reject { .. } => "reject",
            PermitAction::Reclassify { .. } => "reclassify",
            PermitAction::Withdraw => "withdraw",
            PermitAction::Void { .. } => "void",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("'{action}' is not allowed while the application is {status}")]
    NotAllowed {
        action: &'static str,
        status: &'static str,
    },
    #[error("'{0}' needs a reason")]
    ReasonRequired(&'static str),
    #[error("no tariff table is in force for {0}")]
    NoTariff(i32),
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

    /// Local year of submission: the reference's year, the tariff year, the
    /// coverage year.
    pub fn submission_year(&self) -> i32 {
        local_year(self.submitted_at)
    }

    /// The application after `action`, with one more history entry and the next
    /// version; `self` is left as it was.
    pub fn apply(
        &self,
        action: &PermitAction,
        actor: Actor,
        now: DateTime<Utc>,
        tariffs: &Tariffs,
    ) -> Result<Application, TransitionError> {
        use PermitStatus::*;
        let refuse = || TransitionError::NotAllowed {
            action: action.name(),
            status: self.status.as_str(),
        };
        let mut next = self.clone();
        let mut reclassification = None;
        let reason = match action {
            PermitAction::StartReview => {
                next.status = match self.status {
                    Submitted => InReview,
                    _ => return Err(refuse()),
                };
                None
            }
            PermitAction::RequestInfo { reason } => {
                next.status = match self.status {
                    InReview => InfoRequested,
                    _ => return Err(refuse()),
                };
                Some(required_reason(action, reason)?)
            }
            PermitAction::AnswerInfo { message } => {
                next.status = match self.status {
                    InfoRequested => InReview,
                    _ => return Err(refuse()),
                };
                Some(message.clone())
            }
            PermitAction::Approve { reason } => {
                next.status = match self.status {
                    InReview => Approved,
                    _ => return Err(refuse()),
                };
                reason.clone()
            }
            PermitAction::Reject { reason } => {
                next.status = match self.status {
                    InReview | InfoRequested => Rejected,
                    _ => return Err(refuse()),
                };
                Some(required_reason(action, reason)?)
            }
            PermitAction::Withdraw => {
                if !self.status.is_open() {
                    return Err(refuse());
                }
                next.status = Withdrawn;
                next.leges = self.leges.with_withdrawal_refund();
                None
            }
            PermitAction::Void { reason } => {
                if !self.status.is_open() {
                    return Err(refuse());
                }
                next.status = Voided;
                Some(required_reason(action, reason)?)
            }
            PermitAction::Reclassify { category, reason } => {
                if !self.status.is_open() {
                    return Err(refuse());
                }
                // Same table as at submission (the submission's year), deadline from
                // the original submission moment.
                let year = self.submission_year();
                let table = tariffs
                    .for_year(year)
                    .ok_or(TransitionError::NoTariff(year))?;
                let facts = self.event.facts();
                let days = risk::EventSpan::of(&facts).days();
                next.category = *category;
                next.kind = category.kind();
                next.leges = leges::compute(table, *category, &facts, days);
                next.deadline = risk::deadline(*category, &facts, self.submitted_at);
                reclassification = Some(Reclassification {
                    from_category: self.category,
                    to_category: *category,
                    leges_difference_cents: next.leges.total_cents - self.leges.total_cents,
                });
                reason.clone()
            }
        };
        next.version = self.version + 1;
        next.history.push(HistoryEntry {
            at: now,
            actor,
            action: action.name().into(),
            from: Some(self.status),
            to: next.status,
            reason,
            reclassification,
        });
        Ok(next)
    }
}

fn required_reason(action: &PermitAction, reason: &str) -> Result<String, TransitionError> {
    let trimmed = reason.trim();
    if trimmed.is_empty() {
        Err(TransitionError::ReasonRequired(action.name()))
    } else {
        Ok(trimmed.to_string())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::risk::tests::{at, jeugdtoernooi};

    pub fn event_from(facts: &EventFacts) -> Event {
        Event {
            name: "Jeugdtoernooi".into(),
            description: "Voetbaltoernooi voor de jeugd".into(),
            kern: Kern::Dronten,
            address: "Sportlaan 1".into(),
            starts_at: facts.starts_at,
            ends_at: facts.ends_at,
            expected_visitors: facts.expected_visitors,
            amplified_music: facts.amplified_music,
            max_sound_dba: facts.max_sound_dba,
            road_closure: facts.road_closure,
            alcohol: facts.alcohol,
            largest_structure_m2: facts.largest_structure_m2,
            on_water: facts.on_water,
            fireworks: facts.fireworks,
            commercial: facts.commercial,
            non_profit: facts.non_profit,
        }
    }

    pub fn submitted(facts: &EventFacts, now: DateTime<Utc>) -> Application {
        let event = event_from(facts);
        let q = quote(&event, now, &Tariffs::built_in()).expect("quotable");
        let organiser = Organiser {
            name: "A. de Vries".into(),
            organisation: None,
            kvk_number: None,
            email: crate::domain::formats::Email::parse("a@example.nl").unwrap(),
            phone: crate::domain::formats::Phone::parse("0321 123456").unwrap(),
        };
        Application::submit(
            "id".into(),
            Reference::parse("EV-2017-0001").unwrap(),
            "hash".into(),
            organiser,
            event,
            q,
            now,
        )
    }

    fn staff() -> Actor {
        Actor::Staff("staff-1".into())
    }

    fn in_status(status: PermitStatus) -> Application {
        let mut app = submitted(&jeugdtoernooi(), at("2017-03-01T10:00:00+01:00"));
        app.status = status;
        app
    }

    fn actions() -> Vec<PermitAction> {
        vec![
            PermitAction::StartReview,
            PermitAction::RequestInfo {
                reason: "Plattegrond ontbreekt".into(),
            },
            PermitAction::AnswerInfo {
                message: "Bijgevoegd".into(),
            },
            PermitAction::Approve { reason: None },
            PermitAction::Reject {
                reason: "Te laat".into(),
            },
            PermitAction::Reclassify {
                category: Category::B,
                reason: None,
            },
            PermitAction::Withdraw,
            PermitAction::Void {
                reason: "Spam".into(),
            },
        ]
    }

    /// (from, action) → the status after, or None when refused: every pair.
    fn expected(from: PermitStatus, action: &str) -> Option<PermitStatus> {
        use PermitStatus::*;
        match (from, action) {
            (Submitted, "start_review") => Some(InReview),
            (InReview, "request_info") => Some(InfoRequested),
            (InfoRequested, "answer_info") => Some(InReview),
            (InReview, "approve") => Some(Approved),
            (InReview | InfoRequested, "reject") => Some(Rejected),
            (s @ (Submitted | InReview | InfoRequested), "reclassify") => Some(s),
            (Submitted | InReview | InfoRequested, "withdraw") => Some(Withdrawn),
            (Submitted | InReview | InfoRequested, "void") => Some(Voided),
            _ => None,
        }
    }

    #[test]
    fn every_transition_is_allowed_or_refused_as_the_lifecycle_says() {
        let now = at("2017-03-02T09:00:00+01:00");
        for from in PermitStatus::ALL {
            for action in actions() {
                let app = in_status(from);
                let result = app.apply(&action, staff(), now, &Tariffs::built_in());
                match expected(from, action.name()) {
                    Some(to) => {
                        let next =
                            result.unwrap_or_else(|e| panic!("{from:?} + {}: {e}", action.name()));
                        assert_eq!(next.status, to, "{from:?} + {}", action.name());
                        assert_eq!(next.version, app.version + 1);
                        assert_eq!(next.history.len(), app.history.len() + 1, "history grows");
                        let entry = next.history.last().unwrap();
                        assert_eq!((entry.from, entry.to), (Some(from), to));
                        assert_eq!(entry.action, action.name());
                        assert_eq!(entry.at, now);
                    }
                    None => assert!(
                        matches!(result, Err(TransitionError::NotAllowed { .. })),
                        "{from:?} + {} must be refused",
                        action.name()
                    ),
                }
            }
        }
    }

    #[test]
    fn request_info_and_reject_need_a_reason() {
        let now = at("2017-03-02T09:00:00+01:00");
        let app = in_status(PermitStatus::InReview);
        for action in [
            PermitAction::RequestInfo {
                reason: "  ".into(),
            },
            PermitAction::Reject {
                reason: String::new(),
            },
        ] {
            assert!(matches!(
                app.apply(&action, staff(), now, &Tariffs::built_in()),
                Err(TransitionError::ReasonRequired(_))
            ));
        }
    }

    #[test]
    fn withdrawal_refunds_half_and_keeps_the_imposed_total() {
        let app = in_status(PermitStatus::Submitted);
        let next = app
            .apply(
                &PermitAction::Withdraw,
                Actor::Organiser,
                at("2017-03-05T09:00:00+01:00"),
                &Tariffs::built_in(),
            )
            .unwrap();
        assert_eq!(next.leges.total_cents, 7_500);
        assert_eq!(next.leges.refunded_cents, 3_750);
        assert_eq!(next.history.last().unwrap().actor, Actor::Organiser);
    }

    #[test]
    fn reclassification_recomputes_leges_and_deadline_from_the_original_submission() {
        let app = in_status(PermitStatus::InReview);
        // Reclassified months later: the 2017 table and the 1 March submission count.
        let next = app
            .apply(
                &PermitAction::Reclassify {
                    category: Category::B,
                    reason: Some("Meer bezoekers".into()),
                },
                staff(),
                at("2017-04-20T09:00:00+02:00"),
                &Tariffs::built_in(),
            )
            .unwrap();
        assert_eq!(next.category, Category::B);
        assert_eq!(next.kind, Kind::Vergunning);
        assert_eq!(
            next.leges.total_cents, 22_500,
            "B 450.00 with 50% reduction"
        );
        assert_eq!(next.deadline.required_by.to_string(), "2017-02-19");
        assert!(
            next.deadline.late,
            "B needs 12 weeks: late from the original moment"
        );
        let r = next
            .history
            .last()
            .unwrap()
            .reclassification
            .clone()
            .unwrap();
        assert_eq!(
            (r.from_category, r.to_category, r.leges_difference_cents),
            (Category::A, Category::B, 15_000)
        );

        let melding = next
            .apply(
                &PermitAction::Reclassify {
                    category: Category::Melding,
                    reason: None,
                },
                staff(),
                at("2017-04-21T09:00:00+02:00"),
                &Tariffs::built_in(),
            )
            .unwrap();
        assert_eq!(melding.kind, Kind::Melding);
        assert_eq!(melding.leges.total_cents, 1_500);
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
