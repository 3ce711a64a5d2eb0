//! The lifecycle of an application (docs/domain.md "Application lifecycle"): its statuses, what a person may
//! ask of it, and the state machine that refuses what is not allowed and appends
//! every change to the history.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::application::Application;
pub use crate::domain::history::{Actor, TransitionError};
use crate::domain::leges::{self, Tariffs};
use crate::domain::money::Cents;
use crate::domain::risk::{self, Category};

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

    /// The decisions staff may take in this status (`PermitAction::name`), so that a
    /// page offers only these.
    pub fn staff_actions(self) -> &'static [&'static str] {
        match self {
            PermitStatus::Submitted => &["start_review", "reclassify", "void"],
            PermitStatus::InReview => &["request_info", "approve", "reject", "reclassify", "void"],
            PermitStatus::InfoRequested => &["reject", "reclassify", "void"],
            _ => &[],
        }
    }

    /// Not yet decided: the leges may still be partly refunded.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            PermitStatus::Submitted | PermitStatus::InReview | PermitStatus::InfoRequested
        )
    }
}

/// One change of an application.
pub type HistoryEntry = crate::domain::history::HistoryEntry<PermitStatus>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Reclassification {
    pub from_category: Category,
    pub to_category: Category,
    pub leges_difference_cents: Cents,
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

impl Application {
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
                next.leges = self
                    .leges
                    .with_withdrawal_refund(tariffs.terms().withdrawal_refund_percent);
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
                let days = risk::EventSpan::of(&self.event).days();
                next.category = *category;
                next.kind = category.kind();
                next.leges = leges::compute(table, *category, &self.event, days);
                next.deadline =
                    risk::deadline(*category, &self.event, self.submitted_at, tariffs.terms());
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
mod tests {
    use super::*;
    use crate::domain::permit::tests::submitted;
    use crate::domain::risk::Kind;
    use crate::domain::risk::tests::{at, jeugdtoernooi};

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
                // A page offers a staff decision exactly when the lifecycle takes it.
                if !matches!(action.name(), "answer_info" | "withdraw") {
                    assert_eq!(
                        from.staff_actions().contains(&action.name()),
                        expected(from, action.name()).is_some(),
                        "{from:?} offers {}",
                        action.name()
                    );
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
}
