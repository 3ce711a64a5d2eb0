//! Leges from tariff tables (docs/domain.md "Leges"). Tables are data: lists of lines,
//! from the municipality's profile (Dronten's: `municipalities/dronten.toml`) and
//! `LOKET_CONFIG`.

mod legacy;
mod table;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use legacy::{LEGACY_CODES, LegacyTariffTable};
pub use table::{Applies, TariffLine, TariffTable};

use super::event::Event;
use super::money::{Cents, format_euro, scale_half_up};
use super::municipality::{Municipality, Terms};
use super::risk::{Alcohol, Category};

/// What the permit rules take from the municipality's profile: every tariff table
/// (a year uses the most recent table whose year is not later) and the terms they
/// apply (deadlines, the refund on withdrawal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tariffs {
    tables: BTreeMap<i32, TariffTable>,
    terms: Terms,
}

impl Default for Tariffs {
    fn default() -> Self {
        Self::built_in()
    }
}

impl Tariffs {
    /// Dronten's, as its profile in the repository has them.
    pub fn built_in() -> Tariffs {
        Municipality::dronten().tariffs()
    }

    pub fn new(tables: impl IntoIterator<Item = TariffTable>, terms: Terms) -> Tariffs {
        Tariffs {
            tables: BTreeMap::new(),
            terms,
        }
        .with(tables)
    }

    /// Adds or replaces tables (from configuration).
    pub fn with(mut self, tables: impl IntoIterator<Item = TariffTable>) -> Tariffs {
        for t in tables {
            self.tables.insert(t.year, t);
        }
        self
    }

    pub fn for_year(&self, year: i32) -> Option<&TariffTable> {
        self.tables.range(..=year).next_back().map(|(_, t)| t)
    }

    /// Oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &TariffTable> {
        self.tables.values()
    }

    /// The municipality's terms the permit rules apply.
    pub fn terms(&self) -> &Terms {
        &self.terms
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

    /// A withdrawal before a decision refunds `refund_percent` of everything imposed
    /// (Dronten: half), rounded half up.
    pub fn with_withdrawal_refund(&self, refund_percent: u32) -> Leges {
        Leges {
            refunded_cents: scale_half_up(self.total_cents, i64::from(refund_percent), 100),
            ..self.clone()
        }
    }
}

/// The leges for a category and event under one table: a line for each of the
/// table's lines that applies, in the table's order. A line with a non-profit
/// reduction is reduced inside itself, and its description says so.
pub fn compute(table: &TariffTable, category: Category, facts: &Event, event_days: u32) -> Leges {
    let reduced = facts.non_profit && !facts.commercial;
    let extra_days = event_days.saturating_sub(1);
    let lines: Vec<LegesLine> = table
        .lines
        .iter()
        .filter(|line| line.is_for(category))
        .filter_map(|line| {
            let (count, description) = match line.applies {
                Applies::BaseFee => (1, line.text.clone()),
                Applies::PerExtraDay => (
                    extra_days,
                    format!(
                        "{}: {extra_days} × EUR {}",
                        line.text,
                        format_euro(line.amount_cents)
                    ),
                ),
                Applies::RoadClosure => (u32::from(facts.road_closure), line.text.clone()),
                Applies::AlcoholSale => {
                    (u32::from(facts.alcohol == Alcohol::Sale), line.text.clone())
                }
            };
            if count == 0 {
                return None;
            }
            let full = line.amount_cents * i64::from(count);
            Some(match line.non_profit_reduction_percent {
                Some(percent) if reduced => LegesLine {
                    code: line.code.clone(),
                    description: format!(
                        "{description} ({percent}% korting zonder winstoogmerk, van EUR {})",
                        format_euro(full)
                    ),
                    amount_cents: scale_half_up(full, 100 - i64::from(percent), 100),
                },
                _ => LegesLine {
                    code: line.code.clone(),
                    description,
                    amount_cents: full,
                },
            })
        })
        .collect();
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

    /// Dronten's share refunded on withdrawal.
    fn refund_percent() -> u32 {
        Tariffs::built_in().terms().withdrawal_refund_percent
    }

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
        let leges = leges_for(2017, &jeugdtoernooi()).with_withdrawal_refund(refund_percent());
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
        assert_eq!(
            leges
                .with_withdrawal_refund(refund_percent())
                .refunded_cents,
            4_688
        );
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
        assert_eq!(t2026.amount("3.2.2.3"), Some(144_000));
        assert_eq!(t2026.coordination_cost_cents, 3_840_000);
        assert_eq!(
            tariffs.for_year(2027).unwrap().coordination_cost_cents,
            4_000_000
        );
    }

    #[test]
    fn configured_tables_are_added() {
        let t2017 = Tariffs::built_in().for_year(2017).unwrap().clone();
        let mut t = t2017.scaled(2028, 130, 4_100_000);
        t.lines[0].amount_cents = 4_000;
        let tariffs = Tariffs::built_in().with([t]);
        assert_eq!(tariffs.for_year(2029).unwrap().amount("3.2.1"), Some(4_000));
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

    #[test]
    fn a_reduction_says_so_in_its_line() {
        let mut facts = quiet_event();
        facts.non_profit = true;
        let leges = leges_for(2017, &facts);
        assert_eq!(
            leges.lines[0].description,
            "Melding evenement (50% korting zonder winstoogmerk, van EUR 30,00)"
        );
        let leges = leges_for(2017, &zomerfestival());
        assert_eq!(
            leges.lines[1].description,
            "Extra evenementdag: 1 × EUR 50,00"
        );
    }

    #[test]
    fn the_tables_of_2026_and_2027_are_2017s_scaled() {
        let tariffs = Tariffs::built_in();
        let t2017 = tariffs.for_year(2017).unwrap();
        for (year, percent, cost) in [(2026, 120, 3_840_000), (2027, 125, 4_000_000)] {
            assert_eq!(
                tariffs.for_year(year).unwrap(),
                &t2017.scaled(year, percent, cost),
                "{year}"
            );
        }
    }

    /// The computation of before tariffs were lines (one named field per tariff, in
    /// code), kept as the oracle the lines must agree with.
    mod named_fields {
        use super::*;
        use crate::domain::money::half_up;

        pub struct Table {
            pub year: i32,
            pub amounts: [Cents; 7],
        }

        pub fn table(year: i32) -> Table {
            let base = [3_000, 15_000, 45_000, 120_000, 5_000, 9_500, 11_800];
            let percent = match year {
                2017 => 100,
                2026 => 120,
                _ => 125,
            };
            Table {
                year,
                amounts: base.map(|c| scale_half_up(c, percent, 100)),
            }
        }

        pub fn compute(t: &Table, category: Category, facts: &Event, days: u32) -> Leges {
            let [melding, a, b, c, extra, road, alcohol] = t.amounts;
            let (code, description, base) = match category {
                Category::Melding => ("3.2.1", "Melding evenement", melding),
                Category::A => ("3.2.2.1", "Evenementenvergunning categorie A", a),
                Category::B => ("3.2.2.2", "Evenementenvergunning categorie B", b),
                Category::C => ("3.2.2.3", "Evenementenvergunning categorie C", c),
            };
            let line = |code: &str, description: String, amount_cents| LegesLine {
                code: code.into(),
                description,
                amount_cents,
            };
            let mut lines = Vec::new();
            if facts.non_profit && !facts.commercial && category != Category::C {
                lines.push(line(
                    code,
                    format!(
                        "{description} (50% korting zonder winstoogmerk, van EUR {})",
                        format_euro(base)
                    ),
                    half_up(base),
                ));
            } else {
                lines.push(line(code, description.into(), base));
            }
            let extra_days = days.saturating_sub(1);
            if category != Category::Melding && extra_days > 0 {
                lines.push(line(
                    "3.2.3",
                    format!(
                        "Extra evenementdag: {extra_days} × EUR {}",
                        format_euro(extra)
                    ),
                    extra * i64::from(extra_days),
                ));
            }
            if facts.road_closure {
                lines.push(line(
                    "3.2.4",
                    "Verkeersbesluit voor een wegafsluiting".into(),
                    road,
                ));
            }
            if facts.alcohol == Alcohol::Sale {
                lines.push(line(
                    "3.2.5",
                    "Ontheffing art. 35 Drank- en Horecawet".into(),
                    alcohol,
                ));
            }
            Leges {
                tariff_year: t.year,
                total_cents: lines.iter().map(|l| l.amount_cents).sum(),
                refunded_cents: 0,
                lines,
            }
        }
    }

    #[test]
    fn the_lines_give_what_the_named_fields_gave_in_every_case() {
        let tariffs = Tariffs::built_in();
        let mut cases = 0;
        for year in [2017, 2026, 2027] {
            let (lines, named) = (tariffs.for_year(year).unwrap(), named_fields::table(year));
            for category in Category::ALL {
                for days in 1..=4 {
                    for flags in 0..16 {
                        for alcohol in [Alcohol::None, Alcohol::Free, Alcohol::Sale] {
                            let mut facts = zomerfestival();
                            facts.road_closure = flags & 1 != 0;
                            facts.non_profit = flags & 2 != 0;
                            facts.commercial = flags & 4 != 0;
                            facts.amplified_music = flags & 8 != 0;
                            facts.alcohol = alcohol;
                            let leges = compute(lines, category, &facts, days);
                            let expected = named_fields::compute(&named, category, &facts, days);
                            assert_eq!(leges, expected, "{year} {category:?} {days} {flags}");
                            let percent = tariffs.terms().withdrawal_refund_percent;
                            assert_eq!(
                                leges.with_withdrawal_refund(percent).refunded_cents,
                                crate::domain::money::half_up(expected.total_cents)
                            );
                            cases += 1;
                        }
                    }
                }
            }
        }
        assert_eq!(cases, 3 * 4 * 4 * 16 * 3);
    }
}
