//! The terms the rules apply that a municipality chooses itself: the application
//! deadlines of its APV, the refund of its legesverordening and the retention of
//! Week van Respect contact data (AVG).

use serde::{Deserialize, Serialize};

/// `[terms]` of a profile (docs/domain.md "Deadlines", "Imposed, refunded",
/// "Personal data: retention and purge").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Terms {
    /// A melding is due this many working days (Mon–Fri) before the first event day,
    /// that day itself not counted.
    pub melding_working_days: u32,
    /// A vergunning of category A, B or C is due this many weeks before the first day.
    pub category_a_weeks: u32,
    pub category_b_weeks: u32,
    pub category_c_weeks: u32,
    /// Selling alcohol needs the art. 35 exemption, due this many weeks before the
    /// first day whatever the category; the earlier of the two dates wins.
    pub alcohol_sale_weeks: u32,
    /// A withdrawal before a decision refunds this share of the imposed total, half up.
    pub withdrawal_refund_percent: u32,
    /// Week van Respect contact data is erased at 00:00 local, this many days after the
    /// edition's last day has ended.
    pub respect_week_erasure_days: u32,
}

impl Terms {
    /// Every term outside what a rule can sensibly mean, named by its field.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut within = |name: &str, value: u32, low: u32, high: u32, unit: &str| {
            if !(low..=high).contains(&value) {
                problems.push(format!(
                    "terms.{name}: {value} is outside {low}–{high} {unit}"
                ));
            }
        };
        within(
            "melding_working_days",
            self.melding_working_days,
            1,
            130,
            "working days",
        );
        for (name, weeks) in [
            ("category_a_weeks", self.category_a_weeks),
            ("category_b_weeks", self.category_b_weeks),
            ("category_c_weeks", self.category_c_weeks),
            ("alcohol_sale_weeks", self.alcohol_sale_weeks),
        ] {
            within(name, weeks, 1, 52, "weeks");
        }
        within(
            "withdrawal_refund_percent",
            self.withdrawal_refund_percent,
            0,
            100,
            "percent",
        );
        within(
            "respect_week_erasure_days",
            self.respect_week_erasure_days,
            1,
            3_660,
            "days",
        );
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dronten() -> Terms {
        Terms {
            melding_working_days: 15,
            category_a_weeks: 8,
            category_b_weeks: 12,
            category_c_weeks: 12,
            alcohol_sale_weeks: 12,
            withdrawal_refund_percent: 50,
            respect_week_erasure_days: 365,
        }
    }

    #[test]
    fn terms_outside_their_range_are_named() {
        assert!(dronten().problems().is_empty());
        let bad = Terms {
            melding_working_days: 0,
            category_b_weeks: 53,
            withdrawal_refund_percent: 101,
            respect_week_erasure_days: 0,
            ..dronten()
        };
        let problems = bad.problems();
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems[0].starts_with("terms.melding_working_days: 0"));
        assert!(problems[1].starts_with("terms.category_b_weeks: 53"));
        assert!(problems[2].starts_with("terms.withdrawal_refund_percent: 101"));
        assert!(problems[3].starts_with("terms.respect_week_erasure_days: 0"));
        let full_refund = Terms {
            withdrawal_refund_percent: 100,
            ..dronten()
        };
        assert!(full_refund.problems().is_empty(), "0–100 % inclusive");
    }
}
