//! Leges from tariff tables (docs/domain.md "Leges"). Tables are data: 2017 is built in, 2026
//! and 2027 derive from it by a factor, and more come from `LOKET_CONFIG`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::event::Event;
use super::money::{Cents, format_euro, half_up, scale_half_up};
use super::risk::{Alcohol, Category};

/// One year's tariffs (titel 3, hoofdstuk 2 "Evenementen") and the coordination
/// cost the leges are set against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TariffTable {
    pub year: i32,
    pub coordination_cost_cents: Cents,
    pub melding_cents: Cents,
    pub category_a_cents: Cents,
    pub category_b_cents: Cents,
    pub category_c_cents: Cents,
    pub extra_day_cents: Cents,
    pub road_closure_cents: Cents,
    pub alcohol_exemption_cents: Cents,
}

impl TariffTable {
    pub fn table_2017() -> TariffTable {
        TariffTable {
            year: 2017,
            coordination_cost_cents: 3_200_000,
            melding_cents: 3_000,
            category_a_cents: 15_000,
            category_b_cents: 45_000,
            category_c_cents: 120_000,
            extra_day_cents: 5_000,
            road_closure_cents: 9_500,
            alcohol_exemption_cents: 11_800,
        }
    }

    /// Every tariff × `percent` / 100, rounded half up to the cent; the coordination
    /// cost is set, not scaled.
    pub fn scaled(&self, year: i32, percent: i64, coordination_cost_cents: Cents) -> TariffTable {
        let s = |c: Cents| scale_half_up(c, percent, 100);
        TariffTable {
            year,
            coordination_cost_cents,
            melding_cents: s(self.melding_cents),
            category_a_cents: s(self.category_a_cents),
            category_b_cents: s(self.category_b_cents),
            category_c_cents: s(self.category_c_cents),
            extra_day_cents: s(self.extra_day_cents),
            road_closure_cents: s(self.road_closure_cents),
            alcohol_exemption_cents: s(self.alcohol_exemption_cents),
        }
    }

    fn base_fee(&self, category: Category) -> (&'static str, &'static str, Cents) {
        match category {
            Category::Melding => ("3.2.1", "Melding evenement", self.melding_cents),
            Category::A => (
                "3.2.2.1",
                "Evenementenvergunning categorie A",
                self.category_a_cents,
            ),
            Category::B => (
                "3.2.2.2",
                "Evenementenvergunning categorie B",
                self.category_b_cents,
            ),
            Category::C => (
                "3.2.2.3",
                "Evenementenvergunning categorie C",
                self.category_c_cents,
            ),
        }
    }
}

/// All known tables; a year uses the most recent table whose year is not later.
#[derive(Debug, Clone)]
pub struct Tariffs(BTreeMap<i32, TariffTable>);

impl Default for Tariffs {
    fn default() -> Self {
        Self::built_in()
    }
}

impl Tariffs {
    pub fn built_in() -> Tariffs {
        let t2017 = TariffTable::table_2017();
        let t2026 = t2017.scaled(2026, 120, 3_840_000);
        let t2027 = t2017.scaled(2027, 125, 4_000_000);
        Tariffs(
            [t2017, t2026, t2027]
                .into_iter()
                .map(|t| (t.year, t))
                .collect(),
        )
    }

    /// Adds or replaces tables (from configuration).
    pub fn with(mut self, tables: impl IntoIterator<Item = TariffTable>) -> Tariffs {
        for t in tables {
            self.0.insert(t.year, t);
        }
        self
    }

    pub fn for_year(&self, year: i32) -> Option<&TariffTable> {
        self.0.range(..=year).next_back().map(|(_, t)| t)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LegesLine {
    pub code: String,
    pub description: String,
    pub amount_cents: Cents,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Leges {
    pub tariff_year: i32,
    pub total_cents: Cents,
    pub refunded_cents: Cents,
    pub lines: Vec<LegesLine>,
}

impl Leges {
    /// The leges that stay with the municipality.
    pub fn net_cents(&self) -> Cents {
        self.total_cents - self.refunded_cents
    }

    /// A withdrawal before a decision refunds half of everything imposed.
    pub fn with_withdrawal_refund(&self) -> Leges {
        Leges {
            refunded_cents: half_up(self.total_cents),
            ..self.clone()
        }
    }
}

/// Whether the 50% reduction applies to this application's base fee.
fn reduced(category: Category, facts: &Event) -> bool {
    facts.non_profit && !facts.commercial && category != Category::C
}

/// The leges for a category and event under one table, a line per tariff code.
pub fn compute(table: &TariffTable, category: Category, facts: &Event, event_days: u32) -> Leges {
    let mut lines = Vec::new();
    let (code, description, base) = table.base_fee(category);
    if reduced(category, facts) {
        lines.push(LegesLine {
            code: code.into(),
            description: format!(
                "{description} (50% reductie non-profit, van EUR {})",
                format_euro(base)
            ),
            amount_cents: half_up(base),
        });
    } else {
        lines.push(LegesLine {
            code: code.into(),
            description: description.into(),
            amount_cents: base,
        });
    }
    let extra_days = event_days.saturating_sub(1);
    if category != Category::Melding && extra_days > 0 {
        lines.push(LegesLine {
            code: "3.2.3".into(),
            description: format!(
                "Extra evenementdag: {extra_days} × EUR {}",
                format_euro(table.extra_day_cents)
            ),
            amount_cents: table.extra_day_cents * i64::from(extra_days),
        });
    }
    if facts.road_closure {
        lines.push(LegesLine {
            code: "3.2.4".into(),
            description: "Verkeersbesluit voor een wegafsluiting".into(),
            amount_cents: table.road_closure_cents,
        });
    }
    if facts.alcohol == Alcohol::Sale {
        lines.push(LegesLine {
            code: "3.2.5".into(),
            description: "Ontheffing art. 35 Drank- en Horecawet".into(),
            amount_cents: table.alcohol_exemption_cents,
        });
    }
    Leges {
        tariff_year: table.year,
        total_cents: lines.iter().map(|l| l.amount_cents).sum(),
        refunded_cents: 0,
        lines,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::risk::{assess, tests::*};

    fn leges_for(year: i32, facts: &Event) -> Leges {
        let tariffs = Tariffs::built_in();
        let a = assess(facts);
        compute(
            tariffs.for_year(year).unwrap(),
            a.category,
            facts,
            a.event_days,
        )
    }

    #[test]
    fn worked_examples_to_the_cent() {
        let cases = [
            ("1 buurtbarbecue", 2017, quiet_event(), 3_000),
            ("2 zomerfestival", 2017, zomerfestival(), 146_300),
            ("3 jeugdtoernooi", 2017, jeugdtoernooi(), 7_500),
        ];
        for (name, year, facts, total) in cases {
            assert_eq!(leges_for(year, &facts).total_cents, total, "example {name}");
        }
    }

    #[test]
    fn example_2_has_a_line_per_tariff_code() {
        let leges = leges_for(2017, &zomerfestival());
        let lines: Vec<(&str, Cents)> = leges
            .lines
            .iter()
            .map(|l| (l.code.as_str(), l.amount_cents))
            .collect();
        assert_eq!(
            lines,
            [
                ("3.2.2.3", 120_000),
                ("3.2.3", 5_000),
                ("3.2.4", 9_500),
                ("3.2.5", 11_800)
            ]
        );
        assert_eq!(leges.tariff_year, 2017);
    }

    #[test]
    fn example_5_withdrawal_refunds_half() {
        let leges = leges_for(2017, &jeugdtoernooi()).with_withdrawal_refund();
        assert_eq!(leges.refunded_cents, 3_750);
        assert_eq!(leges.net_cents(), 3_750);
        assert_eq!(leges.total_cents, 7_500, "the imposed total stays");
    }

    #[test]
    fn example_7_in_2027_rounds_the_refund_half_up() {
        let mut facts = jeugdtoernooi();
        facts.starts_at = at("2027-05-16T13:00:00+02:00");
        facts.ends_at = at("2027-05-16T20:00:00+02:00");
        let leges = leges_for(2027, &facts);
        assert_eq!(leges.total_cents, 9_375);
        assert_eq!(leges.with_withdrawal_refund().refunded_cents, 4_688);
    }

    #[test]
    fn the_most_recent_table_not_after_the_year_applies() {
        let tariffs = Tariffs::built_in();
        for (year, table) in [
            (2017, Some(2017)),
            (2020, Some(2017)),
            (2026, Some(2026)),
            (2027, Some(2027)),
            (2040, Some(2027)),
            (2016, None),
        ] {
            assert_eq!(tariffs.for_year(year).map(|t| t.year), table, "year {year}");
        }
        let t2026 = tariffs.for_year(2026).unwrap();
        assert_eq!(t2026.category_c_cents, 144_000);
        assert_eq!(t2026.coordination_cost_cents, 3_840_000);
        assert_eq!(
            tariffs.for_year(2027).unwrap().coordination_cost_cents,
            4_000_000
        );
    }

    #[test]
    fn configured_tables_are_added() {
        let mut t = TariffTable::table_2017().scaled(2028, 130, 4_100_000);
        t.melding_cents = 4_000;
        let tariffs = Tariffs::built_in().with([t]);
        assert_eq!(tariffs.for_year(2029).unwrap().melding_cents, 4_000);
    }

    #[test]
    fn no_reduction_for_category_c_or_commercial_events() {
        let mut facts = zomerfestival();
        facts.non_profit = true;
        facts.commercial = false;
        assert_eq!(leges_for(2017, &facts).lines[0].amount_cents, 120_000);
        let mut facts = jeugdtoernooi();
        facts.commercial = true;
        let l = leges_for(2017, &facts);
        assert_eq!(l.lines[0].amount_cents, 15_000);
    }

    #[test]
    fn a_reduced_melding_costs_half() {
        let mut facts = quiet_event();
        facts.non_profit = true;
        assert_eq!(leges_for(2017, &facts).total_cents, 1_500);
    }
}
