//! A registration and its lifecycle: registering, publishing, declining,
//! cancelling, the duplicate rule and the erasure of contact data.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::activity::{Activity, Contact, Organisation, Violation, check};
use super::edition::Edition;
use crate::domain::formats::Reference;
pub use crate::domain::history::{Actor, TransitionError};
use crate::domain::time::{local_rfc3339, opt_local_rfc3339};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationStatus {
    Registered,
    Published,
    Declined,
    Cancelled,
}

impl RegistrationStatus {
    pub const ALL: [RegistrationStatus; 4] = [
        RegistrationStatus::Registered,
        RegistrationStatus::Published,
        RegistrationStatus::Declined,
        RegistrationStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RegistrationStatus::Registered => "registered",
            RegistrationStatus::Published => "published",
            RegistrationStatus::Declined => "declined",
            RegistrationStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<RegistrationStatus> {
        RegistrationStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
    }

    /// A registration in this status keeps others from registering the same
    /// activity; a cancelled or declined one does not.
    pub fn blocks_duplicates(self) -> bool {
        matches!(
            self,
            RegistrationStatus::Registered | RegistrationStatus::Published
        )
    }
}

/// One change of a registration.
pub type HistoryEntry = crate::domain::history::HistoryEntry<RegistrationStatus>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub id: String,
    /// `WVR-{edition year}-NNNN`.
    pub reference: Reference,
    /// SHA-256 of the registrant's access token; the token itself is never stored.
    pub token_hash: String,
    /// The edition's year.
    pub year: i32,
    pub status: RegistrationStatus,
    pub organisation: Organisation,
    /// `None` once erased.
    pub contact: Option<Contact>,
    pub activity: Activity,
    #[serde(with = "local_rfc3339")]
    pub registered_at: DateTime<Utc>,
    /// When the contact data was erased.
    #[serde(
        default,
        with = "opt_local_rfc3339",
        skip_serializing_if = "Option::is_none"
    )]
    pub erased_at: Option<DateTime<Utc>>,
    /// When a new private link was last sent ("Ik ben mijn link kwijt").
    #[serde(
        default,
        with = "opt_local_rfc3339",
        skip_serializing_if = "Option::is_none"
    )]
    pub link_sent_at: Option<DateTime<Utc>>,
    pub version: u64,
    pub history: Vec<HistoryEntry>,
}

/// What a registrant sends, validated field by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRegistration {
    pub organisation: Organisation,
    pub contact: Contact,
    pub activity: Activity,
}

/// Compares names and titles as people mean them: case and white space do not count
/// (`"OBS  de Regenboog"` = `"obs deregenboog"`).
pub fn normalise(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// What makes two registrations "the same activity": the edition, the organisation
/// name and the title (both [`normalise`]d), the date and the start time. The start
/// time counts because colleagues of one school give the same lesson to several
/// classes on one day, one after the other.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DuplicateKey {
    pub year: i32,
    pub organisation: String,
    pub title: String,
    pub date: NaiveDate,
    pub starts_at: NaiveTime,
}

/// Something a person asks of a registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistrationAction {
    Publish { reason: Option<String> },
    Decline { reason: String },
    Cancel,
}

impl RegistrationAction {
    pub fn name(&self) -> &'static str {
        match self {
            RegistrationAction::Publish { .. } => "publish",
            RegistrationAction::Decline { .. } => "decline",
            RegistrationAction::Cancel => "cancel",
        }
    }
}

impl Registration {
    /// A new registration, or every rule it breaks.
    pub fn register(
        id: String,
        reference: Reference,
        token_hash: String,
        form: NewRegistration,
        edition: &Edition,
        now: DateTime<Utc>,
    ) -> Result<Registration, Vec<Violation>> {
        let violations = check(edition, now, &form.activity);
        if !violations.is_empty() {
            return Err(violations);
        }
        Ok(Registration {
            id,
            reference,
            token_hash,
            year: edition.year,
            status: RegistrationStatus::Registered,
            organisation: form.organisation,
            contact: Some(form.contact),
            activity: form.activity,
            registered_at: now,
            erased_at: None,
            link_sent_at: None,
            version: 1,
            history: vec![HistoryEntry {
                at: now,
                actor: Actor::Registrant,
                action: "register".into(),
                from: None,
                to: RegistrationStatus::Registered,
                reason: None,
                reclassification: None,
            }],
        })
    }

    pub fn duplicate_key(&self) -> DuplicateKey {
        DuplicateKey {
            year: self.year,
            organisation: normalise(&self.organisation.name),
            title: normalise(&self.activity.title),
            date: self.activity.date,
            starts_at: self.activity.starts_at,
        }
    }

    /// When this registration last changed.
    pub fn last_changed_at(&self) -> DateTime<Utc> {
        self.history.last().map_or(self.registered_at, |h| h.at)
    }

    /// The registration after `action`, with one more history entry and the next
    /// version; `self` is left as it was.
    pub fn apply(
        &self,
        action: &RegistrationAction,
        actor: Actor,
        edition: &Edition,
        now: DateTime<Utc>,
    ) -> Result<Registration, TransitionError> {
        use RegistrationStatus::*;
        let refuse = || TransitionError::NotAllowed {
            action: action.name(),
            status: self.status.as_str(),
        };
        let (to, reason) = match action {
            RegistrationAction::Publish { reason } => match self.status {
                Registered => (Published, reason.clone().filter(|r| !r.trim().is_empty())),
                _ => return Err(refuse()),
            },
            RegistrationAction::Decline { reason } => match self.status {
                Registered if reason.trim().is_empty() => {
                    return Err(TransitionError::ReasonRequired(action.name()));
                }
                Registered => (Declined, Some(reason.clone())),
                _ => return Err(refuse()),
            },
            RegistrationAction::Cancel => match self.status {
                Registered | Published if edition.has_started(now) => {
                    return Err(TransitionError::EditionStarted);
                }
                Registered | Published => (Cancelled, None),
                _ => return Err(refuse()),
            },
        };
        Ok(self.next(now, actor, action.name(), to, reason))
    }

    fn next(
        &self,
        at: DateTime<Utc>,
        actor: Actor,
        action: &str,
        to: RegistrationStatus,
        reason: Option<String>,
    ) -> Registration {
        let mut next = self.clone();
        next.status = to;
        next.version = self.version + 1;
        next.history.push(HistoryEntry {
            at,
            actor,
            action: action.into(),
            from: Some(self.status),
            to,
            reason,
            reclassification: None,
        });
        next
    }

    /// The registration without its contact data when the erasure moment of its
    /// edition has come and the data is still there; `None` when there is nothing to
    /// do. The activity, the organisation and the status stay (statistics); the
    /// history records the erasure.
    pub fn erase_contact(&self, edition: &Edition, now: DateTime<Utc>) -> Option<Registration> {
        if self.contact.is_none() || !edition.erasure_due(now) {
            return None;
        }
        let mut next = self.next(now, Actor::System, "erase_contact", self.status, None);
        next.contact = None;
        next.erased_at = Some(now);
        Some(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::respect_week::Editions;
    use crate::domain::respect_week::fixtures::{date, e2017, form, in_status, registered};
    use crate::domain::risk::tests::at;

    #[test]
    fn contact_data_is_erased_at_midnight_365_days_after_the_last_day() {
        assert_eq!(e2017().erasure_at(), at("2018-11-13T00:00:00+01:00"));
        // 2028 is a leap year: 365 days, not "the same date a year later".
        assert_eq!(
            Editions::built_in().get(2027).unwrap().erasure_at(),
            at("2028-11-14T00:00:00+01:00")
        );
        let reg = registered();
        for (now, erased) in [
            ("2018-11-12T23:59:59+01:00", false),
            ("2018-11-13T00:00:00+01:00", true),
            ("2019-06-01T12:00:00+02:00", true),
        ] {
            let result = reg.erase_contact(&e2017(), at(now));
            assert_eq!(result.is_some(), erased, "{now}");
            if let Some(next) = result {
                assert_eq!(next.contact, None);
                assert_eq!(next.erased_at, Some(at(now)));
                assert_eq!(next.activity, reg.activity, "the activity stays");
                assert_eq!(next.organisation, reg.organisation);
                assert_eq!(next.status, reg.status);
                assert_eq!(next.version, reg.version + 1);
                let entry = next.history.last().unwrap();
                assert_eq!(
                    (entry.action.as_str(), &entry.actor),
                    ("erase_contact", &Actor::System)
                );
                assert!(
                    next.erase_contact(&e2017(), at(now)).is_none(),
                    "erasing twice does nothing"
                );
            }
        }
    }

    #[test]
    fn a_registration_starts_registered_with_one_history_entry() {
        let reg = registered();
        assert_eq!(reg.status, RegistrationStatus::Registered);
        assert_eq!((reg.year, reg.version), (2017, 1));
        assert_eq!(reg.contact.as_ref().unwrap().name, "J. Bakker");
        let entry = &reg.history[0];
        assert_eq!(
            (entry.action.as_str(), entry.from, entry.to),
            ("register", None, RegistrationStatus::Registered)
        );
        assert_eq!(entry.actor, Actor::Registrant);
    }

    #[test]
    fn a_form_that_breaks_a_rule_is_not_registered() {
        let mut f = form();
        f.activity.date = date("2017-11-20");
        let result = Registration::register(
            "x".into(),
            Reference::parse("WVR-2017-0009").unwrap(),
            "h".into(),
            f,
            &e2017(),
            at("2017-10-01T10:00:00+02:00"),
        );
        assert_eq!(result, Err(vec![Violation::OutsideEdition]));
    }

    #[test]
    fn every_transition_is_allowed_or_refused_as_the_lifecycle_says() {
        use RegistrationStatus::*;
        let before_start = at("2017-11-05T23:59:59+01:00");
        let actions = [
            RegistrationAction::Publish { reason: None },
            RegistrationAction::Decline {
                reason: "Geen activiteit voor de doelgroep".into(),
            },
            RegistrationAction::Cancel,
        ];
        for from in RegistrationStatus::ALL {
            for action in &actions {
                let expected = match (from, action.name()) {
                    (Registered, "publish") => Some(Published),
                    (Registered, "decline") => Some(Declined),
                    (Registered | Published, "cancel") => Some(Cancelled),
                    _ => None,
                };
                let reg = in_status(from);
                let actor = if action.name() == "cancel" {
                    Actor::Registrant
                } else {
                    Actor::Staff("s-1".into())
                };
                let result = reg.apply(action, actor.clone(), &e2017(), before_start);
                match expected {
                    Some(to) => {
                        let next =
                            result.unwrap_or_else(|e| panic!("{from:?} + {}: {e}", action.name()));
                        assert_eq!(next.status, to, "{from:?} + {}", action.name());
                        assert_eq!(next.version, reg.version + 1);
                        let entry = next.history.last().unwrap();
                        assert_eq!((entry.from, entry.to), (Some(from), to));
                        assert_eq!(
                            (entry.action.as_str(), &entry.actor, entry.at),
                            (action.name(), &actor, before_start)
                        );
                        assert_eq!(next.history.len(), reg.history.len() + 1);
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
    fn declining_needs_a_reason_and_records_it() {
        let reg = registered();
        let staff = Actor::Staff("s-1".into());
        let now = at("2017-11-01T10:00:00+01:00");
        for reason in ["", "   "] {
            assert_eq!(
                reg.apply(
                    &RegistrationAction::Decline {
                        reason: reason.into()
                    },
                    staff.clone(),
                    &e2017(),
                    now
                ),
                Err(TransitionError::ReasonRequired("decline"))
            );
        }
        let next = reg
            .apply(
                &RegistrationAction::Decline {
                    reason: "Dubbel".into(),
                },
                staff,
                &e2017(),
                now,
            )
            .unwrap();
        assert_eq!(
            next.history.last().unwrap().reason.as_deref(),
            Some("Dubbel")
        );
    }

    #[test]
    fn a_registrant_can_cancel_until_the_edition_starts() {
        for status in [
            RegistrationStatus::Registered,
            RegistrationStatus::Published,
        ] {
            let reg = in_status(status);
            for (now, allowed) in [
                ("2017-11-05T23:59:59+01:00", true),
                ("2017-11-06T00:00:00+01:00", false),
                ("2017-11-10T12:00:00+01:00", false),
            ] {
                let result = reg.apply(
                    &RegistrationAction::Cancel,
                    Actor::Registrant,
                    &e2017(),
                    at(now),
                );
                if allowed {
                    assert_eq!(
                        result.unwrap().status,
                        RegistrationStatus::Cancelled,
                        "{status:?} at {now}"
                    );
                } else {
                    assert_eq!(
                        result,
                        Err(TransitionError::EditionStarted),
                        "{status:?} at {now}"
                    );
                }
            }
        }
    }

    #[test]
    fn names_and_titles_compare_without_case_or_white_space() {
        for (a, b, same) in [
            ("OBS De Regenboog", "obs de regenboog", true),
            ("OBS De Regenboog", "OBS  De   Regenboog ", true),
            ("OBS De Regenboog", "OBSDeRegenboog", true),
            ("OBS De Regenboog", "\tobs\u{a0}de regenboog\n", true),
            ("VV Dronten", "V.V. Dronten", false),
            ("Café Één", "CAFÉ ÉÉN", true),
        ] {
            assert_eq!(normalise(a) == normalise(b), same, "{a:?} vs {b:?}");
        }
        let mut other = form();
        other.organisation.name = "obs  DE regenboog".into();
        other.activity.title = "RESPECTLES groep 7/8".into();
        let twin = Registration::register(
            "id-2".into(),
            Reference::parse("WVR-2017-0009").unwrap(),
            "h".into(),
            other,
            &e2017(),
            at("2017-10-01T10:00:00+02:00"),
        )
        .unwrap();
        assert_eq!(twin.duplicate_key(), registered().duplicate_key());
    }

    #[test]
    fn the_same_activity_means_the_same_organisation_title_day_and_start_time() {
        let base = registered();
        let twin = |change: fn(&mut Registration)| {
            let mut other = base.clone();
            change(&mut other);
            other.duplicate_key() == base.duplicate_key()
        };
        for (case, change, same) in [
            (
                "another end time and contact",
                (|r: &mut Registration| {
                    r.activity.ends_at = r
                        .activity
                        .ends_at
                        .overflowing_add_signed(chrono::Duration::minutes(30))
                        .0;
                    r.contact = None;
                }) as fn(&mut Registration),
                true,
            ),
            (
                "another place",
                |r| r.activity.location = "Gymzaal".into(),
                true,
            ),
            (
                "another start time",
                |r| r.activity.starts_at = NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
                false,
            ),
            (
                "another day",
                |r| r.activity.date = date("2017-11-09"),
                false,
            ),
            (
                "another title",
                |r| r.activity.title = "Respectles groep 5/6".into(),
                false,
            ),
            (
                "another organisation",
                |r| r.organisation.name = "CBS De Wegwijzer".into(),
                false,
            ),
            ("another edition", |r| r.year = 2018, false),
        ] {
            assert_eq!(twin(change), same, "{case}");
        }
    }

    #[test]
    fn only_registered_and_published_block_duplicates() {
        use RegistrationStatus::*;
        for (status, blocks) in [
            (Registered, true),
            (Published, true),
            (Declined, false),
            (Cancelled, false),
        ] {
            assert_eq!(status.blocks_duplicates(), blocks, "{status:?}");
        }
    }
}
