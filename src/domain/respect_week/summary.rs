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
    pub fn get(&self, status: RegistrationStatus) -> i64 {
        match status {
            RegistrationStatus::Registered => self.registered,
            RegistrationStatus::Published => self.published,
            RegistrationStatus::Declined => self.declined,
            RegistrationStatus::Cancelled => self.cancelled,
        }
    }

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

/// What one organisation type's bucket of an edition holds: its registrations per
/// status, and the expected participants of its published activities. Signed, so
/// that a change is the difference of two of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TypeSums {
    pub counts: StatusCounts,
    pub published_participants: i64,
}

impl TypeSums {
    /// What one registration adds: one in its status, and its participants while it
    /// is published.
    fn of(reg: &Registration) -> TypeSums {
        let mut sums = TypeSums::default();
        *sums.counts.get_mut(reg.status) += 1;
        if reg.status == RegistrationStatus::Published {
            sums.published_participants = reg.activity.expected_participants.into();
        }
        sums
    }

    fn add(&mut self, other: TypeSums, sign: i64) {
        for status in RegistrationStatus::ALL {
            *self.counts.get_mut(status) += sign * other.counts.get(status);
        }
        self.published_participants += sign * other.published_participants;
    }

    pub fn is_zero(&self) -> bool {
        *self == TypeSums::default()
    }

    /// The sums by the names they are stored under (a status, or
    /// [`PUBLISHED_PARTICIPANTS`]).
    pub fn fields(&self) -> [(&'static str, i64); 5] {
        let [registered, published, declined, cancelled] =
            RegistrationStatus::ALL.map(|s| (s.as_str(), self.counts.get(s)));
        [
            registered,
            published,
            declined,
            cancelled,
            (PUBLISHED_PARTICIPANTS, self.published_participants),
        ]
    }

    /// The sums from their stored names (a missing one counts as zero).
    pub fn from_fields(get: impl Fn(&str) -> i64) -> TypeSums {
        let mut sums = TypeSums {
            published_participants: get(PUBLISHED_PARTICIPANTS),
            ..TypeSums::default()
        };
        for status in RegistrationStatus::ALL {
            *sums.counts.get_mut(status) = get(status.as_str());
        }
        sums
    }
}

/// The signed changes that take an edition's summary from `before` to `after`
/// (`None`: a new registration), per organisation type; types without a change left
/// out.
pub fn summary_deltas(
    before: Option<&Registration>,
    after: &Registration,
) -> Vec<(OrganisationType, TypeSums)> {
    let mut by_type: BTreeMap<OrganisationType, TypeSums> = BTreeMap::new();
    by_type
        .entry(after.organisation.kind)
        .or_default()
        .add(TypeSums::of(after), 1);
    if let Some(before) = before {
        by_type
            .entry(before.organisation.kind)
            .or_default()
            .add(TypeSums::of(before), -1);
    }
    by_type.into_iter().filter(|(_, d)| !d.is_zero()).collect()
}

/// `GET /admin/respect-week/{year}/summary`: every type and status, zeros included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RespectWeekSummary {
    pub year: i32,
    pub by_type: BTreeMap<OrganisationType, StatusCounts>,
    /// Expected participants of the published activities.
    pub published_participants: i64,
}

/// The summary from the stored buckets, one per organisation type.
pub fn summary(year: i32, buckets: &BTreeMap<OrganisationType, TypeSums>) -> RespectWeekSummary {
    let mut by_type: BTreeMap<OrganisationType, StatusCounts> = OrganisationType::ALL
        .into_iter()
        .map(|t| (t, StatusCounts::default()))
        .collect();
    let mut published_participants = 0;
    for (kind, sums) in buckets {
        by_type.insert(*kind, sums.counts);
        published_participants += sums.published_participants;
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
    let mut buckets: BTreeMap<OrganisationType, TypeSums> = BTreeMap::new();
    for reg in regs.into_iter().filter(|r| r.year == year) {
        buckets
            .entry(reg.organisation.kind)
            .or_default()
            .add(TypeSums::of(reg), 1);
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
            // The non-zero sums by name, in name order.
            let got: Vec<(OrganisationType, Vec<(&str, i64)>)> = summary_deltas(before, after)
                .into_iter()
                .map(|(k, sums)| {
                    let mut fields: Vec<_> =
                        sums.fields().into_iter().filter(|(_, v)| *v != 0).collect();
                    fields.sort();
                    (k, fields)
                })
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

        let mut buckets: BTreeMap<OrganisationType, TypeSums> = BTreeMap::new();
        for reg in [&a, &b, &c] {
            for (kind, sums) in summary_deltas(None, reg) {
                buckets.entry(kind).or_default().add(sums, 1);
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
