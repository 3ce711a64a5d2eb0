//! Leges coverage (dekkingsgraad, docs/domain.md "Coverage").
//!
//! Every application contributes to three buckets of its submission year: the year
//! itself, its category and its month. A change moves the buckets by
//! `contribution(after) − contribution(before)`, in the same write as the change, so
//! the report is one read of a year's buckets and always exact. Recomputing from the
//! applications (`loket coverage --verify`) sums the same contributions.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::money::Cents;
use super::permit::{Application, PermitStatus};
use super::risk::Category;
use super::time::local_month;

/// Which aggregate of a year a delta belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Bucket {
    Year,
    Category(Category),
    /// `YYYY-MM`, local.
    Month(String),
}

impl Bucket {
    /// A stable key for storage: `year`, `cat#A`, `month#2017-03`.
    pub fn key(&self) -> String {
        match self {
            Bucket::Year => "year".into(),
            Bucket::Category(c) => format!("cat#{}", c.as_str()),
            Bucket::Month(m) => format!("month#{m}"),
        }
    }

    pub fn parse(key: &str) -> Option<Bucket> {
        if key == "year" {
            return Some(Bucket::Year);
        }
        if let Some(c) = key.strip_prefix("cat#") {
            return Category::parse(c).map(Bucket::Category);
        }
        key.strip_prefix("month#").map(|m| Bucket::Month(m.into()))
    }
}

/// The running sums of one bucket. Also used as a delta (fields may be negative).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sums {
    pub count: i64,
    pub imposed_cents: Cents,
    pub refunded_cents: Cents,
    pub open_cents: Cents,
    /// Applications voided as junk: counted here, and nowhere else.
    pub voided: i64,
}

impl Sums {
    pub fn is_zero(&self) -> bool {
        *self == Sums::default()
    }

    pub fn add(&mut self, other: &Sums) {
        self.count += other.count;
        self.imposed_cents += other.imposed_cents;
        self.refunded_cents += other.refunded_cents;
        self.open_cents += other.open_cents;
        self.voided += other.voided;
    }

    fn minus(&self, other: &Sums) -> Sums {
        Sums {
            count: self.count - other.count,
            imposed_cents: self.imposed_cents - other.imposed_cents,
            refunded_cents: self.refunded_cents - other.refunded_cents,
            open_cents: self.open_cents - other.open_cents,
            voided: self.voided - other.voided,
        }
    }

    pub fn net_cents(&self) -> Cents {
        self.imposed_cents - self.refunded_cents
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageDelta {
    pub year: i32,
    pub bucket: Bucket,
    pub sums: Sums,
}

/// What one application adds to its year's buckets. A voided one adds nothing but
/// its place in the count of voided applications.
pub fn contribution(app: &Application) -> Vec<(i32, Bucket, Sums)> {
    let sums = if app.status == PermitStatus::Voided {
        Sums {
            voided: 1,
            ..Sums::default()
        }
    } else {
        Sums {
            count: 1,
            imposed_cents: app.leges.total_cents,
            refunded_cents: app.leges.refunded_cents,
            open_cents: if app.status.is_open() {
                app.leges.total_cents
            } else {
                0
            },
            voided: 0,
        }
    };
    let year = app.submission_year();
    vec![
        (year, Bucket::Year, sums),
        (year, Bucket::Category(app.category), sums),
        (year, Bucket::Month(local_month(app.submitted_at)), sums),
    ]
}

/// The deltas that take the aggregates from `before` to `after` (`None`: a new
/// application). Zero deltas are left out, so a status change that moves no money
/// touches no aggregate.
pub fn deltas(before: Option<&Application>, after: &Application) -> Vec<CoverageDelta> {
    let mut by_key: BTreeMap<(i32, Bucket), Sums> = BTreeMap::new();
    for (year, bucket, sums) in contribution(after) {
        by_key.entry((year, bucket)).or_default().add(&sums);
    }
    if let Some(before) = before {
        for (year, bucket, sums) in contribution(before) {
            let entry = by_key.entry((year, bucket)).or_default();
            *entry = entry.minus(&sums);
        }
    }
    by_key
        .into_iter()
        .filter(|(_, sums)| !sums.is_zero())
        .map(|((year, bucket), sums)| CoverageDelta { year, bucket, sums })
        .collect()
}

/// Sums every application's contribution to `year`: the slow, obviously right answer
/// that the aggregates must always equal.
pub fn recompute<'a>(
    year: i32,
    apps: impl IntoIterator<Item = &'a Application>,
) -> BTreeMap<Bucket, Sums> {
    let mut buckets: BTreeMap<Bucket, Sums> = BTreeMap::new();
    for app in apps {
        for (y, bucket, sums) in contribution(app) {
            if y == year {
                buckets.entry(bucket).or_default().add(&sums);
            }
        }
    }
    buckets.retain(|_, s| !s.is_zero());
    buckets
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CountAndNet {
    pub count: i64,
    pub net_cents: Cents,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CoverageReport {
    pub year: i32,
    pub cost_cents: Cents,
    pub imposed_cents: Cents,
    pub refunded_cents: Cents,
    pub net_cents: Cents,
    /// floor(net × 10,000 / cost): 5000 is 50.00%.
    pub coverage_bp: i64,
    pub open_cents: Cents,
    /// Net leges above the cost: the ordinance would breach Gemeentewet art. 229b.
    pub over_recovery: bool,
    pub by_category: BTreeMap<String, CountAndNet>,
    pub by_month: BTreeMap<String, CountAndNet>,
    /// Applications of the year voided as junk, in none of the figures above; left
    /// out while there are none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub voided_count: i64,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

pub fn report(year: i32, cost_cents: Cents, buckets: &BTreeMap<Bucket, Sums>) -> CoverageReport {
    let total = buckets.get(&Bucket::Year).copied().unwrap_or_default();
    let net = total.net_cents();
    let count_and_net = |s: &Sums| CountAndNet {
        count: s.count,
        net_cents: s.net_cents(),
    };
    let by_category = Category::ALL
        .into_iter()
        .map(|c| {
            let sums = buckets
                .get(&Bucket::Category(c))
                .copied()
                .unwrap_or_default();
            (c.as_str().to_string(), count_and_net(&sums))
        })
        .collect();
    let by_month = buckets
        .iter()
        .filter_map(|(bucket, sums)| match bucket {
            Bucket::Month(m) if sums.count > 0 => Some((m.clone(), count_and_net(sums))),
            _ => None,
        })
        .collect();
    CoverageReport {
        year,
        cost_cents,
        imposed_cents: total.imposed_cents,
        refunded_cents: total.refunded_cents,
        net_cents: net,
        coverage_bp: if cost_cents > 0 {
            (net as i128 * 10_000).div_euclid(cost_cents as i128) as i64
        } else {
            0
        },
        open_cents: total.open_cents,
        over_recovery: net > cost_cents,
        by_category,
        by_month,
        voided_count: total.voided,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::leges::Tariffs;
    use crate::domain::permit::tests::submitted;
    use crate::domain::permit::{Actor, PermitAction};
    use crate::domain::risk::tests::{at, jeugdtoernooi, quiet_event, zomerfestival};

    fn apply_all(buckets: &mut BTreeMap<Bucket, Sums>, deltas: &[CoverageDelta]) {
        for d in deltas {
            buckets.entry(d.bucket.clone()).or_default().add(&d.sums);
        }
    }

    #[test]
    fn example_6_coverage_of_examples_1_2_and_5() {
        let now = at("2017-03-01T10:00:00+01:00");
        let barbecue = submitted(&quiet_event(), now);
        let festival = submitted(&zomerfestival(), now);
        let toernooi = submitted(&jeugdtoernooi(), now);
        let withdrawn = toernooi
            .apply(
                &PermitAction::Withdraw,
                Actor::Organiser,
                now,
                &Tariffs::built_in(),
            )
            .unwrap();

        let mut buckets = BTreeMap::new();
        for app in [&barbecue, &festival, &toernooi] {
            apply_all(&mut buckets, &deltas(None, app));
        }
        apply_all(&mut buckets, &deltas(Some(&toernooi), &withdrawn));
        buckets.retain(|_, s| !s.is_zero());
        assert_eq!(buckets, recompute(2017, [&barbecue, &festival, &withdrawn]));

        let r = report(2017, 3_200_000, &buckets);
        assert_eq!(r.imposed_cents, 156_800);
        assert_eq!(r.refunded_cents, 3_750);
        assert_eq!(r.net_cents, 153_050);
        assert_eq!(r.open_cents, 149_300);
        assert_eq!(r.coverage_bp, 478);
        assert!(!r.over_recovery);
        assert_eq!(
            r.by_category["0"],
            CountAndNet {
                count: 1,
                net_cents: 3_000
            }
        );
        assert_eq!(
            r.by_category["A"],
            CountAndNet {
                count: 1,
                net_cents: 3_750
            }
        );
        assert_eq!(
            r.by_category["B"],
            CountAndNet {
                count: 0,
                net_cents: 0
            }
        );
        assert_eq!(
            r.by_category["C"],
            CountAndNet {
                count: 1,
                net_cents: 146_300
            }
        );
        assert_eq!(r.by_month.len(), 1);
        assert_eq!(
            r.by_month["2017-03"],
            CountAndNet {
                count: 3,
                net_cents: 153_050
            }
        );
    }

    #[test]
    fn a_status_change_without_money_moves_nothing_but_open_leges() {
        let now = at("2017-03-01T10:00:00+01:00");
        let app = submitted(&jeugdtoernooi(), now);
        let reviewing = app
            .apply(
                &PermitAction::StartReview,
                Actor::Staff("s".into()),
                now,
                &Tariffs::built_in(),
            )
            .unwrap();
        assert!(deltas(Some(&app), &reviewing).is_empty());
        let approved = reviewing
            .apply(
                &PermitAction::Approve { reason: None },
                Actor::Staff("s".into()),
                now,
                &Tariffs::built_in(),
            )
            .unwrap();
        let d = deltas(Some(&reviewing), &approved);
        assert!(d.iter().all(|d| d.sums
            == Sums {
                open_cents: -7_500,
                ..Sums::default()
            }));
        assert_eq!(d.len(), 3);
    }

    #[test]
    fn over_recovery_is_flagged_not_capped() {
        let mut buckets = BTreeMap::new();
        buckets.insert(
            Bucket::Year,
            Sums {
                count: 1,
                imposed_cents: 3_200_001,
                refunded_cents: 0,
                open_cents: 0,
                voided: 0,
            },
        );
        let r = report(2017, 3_200_000, &buckets);
        assert!(r.over_recovery);
        assert_eq!(r.coverage_bp, 10_000);
        buckets.insert(
            Bucket::Year,
            Sums {
                count: 1,
                imposed_cents: 3_200_000,
                refunded_cents: 0,
                open_cents: 0,
                voided: 0,
            },
        );
        assert!(
            !report(2017, 3_200_000, &buckets).over_recovery,
            "exactly 100% is allowed"
        );
    }

    #[test]
    fn bucket_keys_round_trip() {
        for b in [
            Bucket::Year,
            Bucket::Category(Category::Melding),
            Bucket::Category(Category::C),
            Bucket::Month("2017-03".into()),
        ] {
            assert_eq!(Bucket::parse(&b.key()), Some(b.clone()));
        }
    }
}
