//! The staff summary of an edition: counts per organisation type and status, kept
//! up to date by signed deltas and checked against a recount.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::activity::OrganisationType;
use super::registration::{Registration, RegistrationStatus};

/// Counts per status for one organisation type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StatusCounts {
    pub registered: i64,
    pub published: i64,
    pub declined: i64,
    pub cancelled: i64,
}

impl StatusCounts {
    pub fn get_mut(&mut self, status: RegistrationStatus) -> &mut i64 {
        match status {
            RegistrationStatus::Registered => &mut self.registered,
            RegistrationStatus::Published => &mut self.published,
            RegistrationStatus::Declined => &mut self.declined,
            RegistrationStatus::Cancelled => &mut self.cancelled,
        }
    }
}

/// The field a summary bucket keeps the participants of published activities in.
pub const PUBLISHED_PARTICIPANTS: &str = "published_participants";

/// What one registration adds to its edition's bucket of its organisation type:
/// one in its status, and its participants while it is published.
fn contribution(reg: &Registration) -> (OrganisationType, BTreeMap<&'static str, i64>) {
    let mut fields = BTreeMap::from([(reg.status.as_str(), 1)]);
    if reg.status == RegistrationStatus::Published {
        fields.insert(
            PUBLISHED_PARTICIPANTS,
            reg.activity.expected_participants.into(),
        );
    }
    (reg.organisation.kind, fields)
}

/// The signed changes that take an edition's summary from `before` to `after`
/// (`None`: a new registration), per organisation type; zero fields left out.
pub fn summary_deltas(
    before: Option<&Registration>,
    after: &Registration,
) -> Vec<(OrganisationType, BTreeMap<&'static str, i64>)> {
    let mut by_type: BTreeMap<OrganisationType, BTreeMap<&'static str, i64>> = BTreeMap::new();
    let (kind, fields) = contribution(after);
    for (f, v) in fields {
        *by_type.entry(kind).or_default().entry(f).or_default() += v;
    }
    if let Some(before) = before {
        let (kind, fields) = contribution(before);
        for (f, v) in fields {
            *by_type.entry(kind).or_default().entry(f).or_default() -= v;
        }
    }
    by_type
        .into_iter()
        .map(|(kind, mut fields)| {
            fields.retain(|_, v| *v != 0);
            (kind, fields)
        })
        .filter(|(_, fields)| !fields.is_empty())
        .collect()
}

/// `GET /admin/respect-week/{year}/summary`: every type and status, zeros included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RespectWeekSummary {
    pub year: i32,
    pub by_type: BTreeMap<OrganisationType, StatusCounts>,
    /// Expected participants of the published activities.
    pub published_participants: i64,
}

/// The summary from the stored buckets (type → field → sum).
pub fn summary(
    year: i32,
    buckets: &BTreeMap<OrganisationType, BTreeMap<String, i64>>,
) -> RespectWeekSummary {
    let mut by_type: BTreeMap<OrganisationType, StatusCounts> = OrganisationType::ALL
        .into_iter()
        .map(|t| (t, StatusCounts::default()))
        .collect();
    let mut published_participants = 0;
    for (kind, fields) in buckets {
        let counts = by_type.entry(*kind).or_default();
        for status in RegistrationStatus::ALL {
            *counts.get_mut(status) += fields.get(status.as_str()).copied().unwrap_or(0);
        }
        published_participants += fields.get(PUBLISHED_PARTICIPANTS).copied().unwrap_or(0);
    }
    RespectWeekSummary {
        year,
        by_type,
        published_participants,
    }
}

/// The summary counted from the registrations themselves: what the buckets must
/// always equal.
pub fn recompute<'a>(
    year: i32,
    regs: impl IntoIterator<Item = &'a Registration>,
) -> RespectWeekSummary {
    let mut buckets: BTreeMap<OrganisationType, BTreeMap<String, i64>> = BTreeMap::new();
    for reg in regs.into_iter().filter(|r| r.year == year) {
        let (kind, fields) = contribution(reg);
        for (f, v) in fields {
            *buckets
                .entry(kind)
                .or_default()
                .entry(f.to_string())
                .or_default() += v;
        }
    }
    summary(year, &buckets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::respect_week::fixtures::{e2017, registered};
    use crate::domain::respect_week::{Actor, RegistrationAction};
    use crate::domain::risk::tests::at;

    /// (organisation type, [(field, amount)]) per type.
    type TypeDeltas<'a> = Vec<(OrganisationType, Vec<(&'a str, i64)>)>;

    #[test]
    fn summary_deltas_move_counts_and_published_participants() {
        let new = registered();
        let published = new
            .apply(
                &RegistrationAction::Publish { reason: None },
                Actor::Staff("s".into()),
                &e2017(),
                at("2017-10-02T10:00:00+02:00"),
            )
            .unwrap();
        let cancelled = published
            .apply(
                &RegistrationAction::Cancel,
                Actor::Registrant,
                &e2017(),
                at("2017-10-03T10:00:00+02:00"),
            )
            .unwrap();
        let erased = cancelled
            .erase_contact(&e2017(), at("2019-01-01T00:00:00+01:00"))
            .unwrap();
        let t = OrganisationType::PrimarySchool;
        let cases: Vec<(&str, Option<&Registration>, &Registration, TypeDeltas)> = vec![
            (
                "a new registration",
                None,
                &new,
                vec![(t, vec![("registered", 1)])],
            ),
            (
                "publishing",
                Some(&new),
                &published,
                vec![(
                    t,
                    vec![
                        ("published", 1),
                        ("published_participants", 54),
                        ("registered", -1),
                    ],
                )],
            ),
            (
                "cancelling a published one",
                Some(&published),
                &cancelled,
                vec![(
                    t,
                    vec![
                        ("cancelled", 1),
                        ("published", -1),
                        ("published_participants", -54),
                    ],
                )],
            ),
            ("erasing contact data", Some(&cancelled), &erased, vec![]),
        ];
        for (case, before, after, expected) in cases {
            let got: Vec<(OrganisationType, Vec<(&str, i64)>)> = summary_deltas(before, after)
                .into_iter()
                .map(|(k, f)| (k, f.into_iter().collect()))
                .collect();
            assert_eq!(got, expected, "{case}");
        }
    }

    #[test]
    fn the_summary_names_every_type_and_status_and_equals_a_recount() {
        let a = registered();
        let mut b = registered();
        b.organisation.kind = OrganisationType::SportClub;
        b.status = RegistrationStatus::Published;
        b.activity.expected_participants = 108;
        let mut c = b.clone();
        c.status = RegistrationStatus::Published;
        c.activity.expected_participants = 54;
        let mut other_year = b.clone();
        other_year.year = 2027;

        let mut buckets: BTreeMap<OrganisationType, BTreeMap<String, i64>> = BTreeMap::new();
        for reg in [&a, &b, &c] {
            for (kind, fields) in summary_deltas(None, reg) {
                for (f, v) in fields {
                    *buckets
                        .entry(kind)
                        .or_default()
                        .entry(f.to_string())
                        .or_default() += v;
                }
            }
        }
        let s = summary(2017, &buckets);
        assert_eq!(s, recompute(2017, [&a, &b, &c, &other_year]));
        assert_eq!(s.by_type.len(), 5, "every type, zeros included");
        assert_eq!(
            s.by_type[&OrganisationType::PrimarySchool],
            StatusCounts {
                registered: 1,
                ..Default::default()
            }
        );
        assert_eq!(
            s.by_type[&OrganisationType::SportClub],
            StatusCounts {
                published: 2,
                ..Default::default()
            }
        );
        assert_eq!(s.by_type[&OrganisationType::Other], StatusCounts::default());
        assert_eq!(s.published_participants, 162);
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["by_type"]["vocational_school"]["cancelled"], 0);
        assert_eq!(json["by_type"]["sport_club"]["published"], 2);
    }
}
