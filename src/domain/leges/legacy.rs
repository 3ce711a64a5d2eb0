//! The tariff table as `LOKET_CONFIG` wrote it before tariffs were lines: one named
//! field per tariff of Dronten's legesverordening. Still read, and turned into lines.

use serde::Deserialize;

use super::table::TariffTable;
use crate::domain::money::Cents;

/// `[[tariffs]]` at the top of an old `LOKET_CONFIG`: one field per tariff code.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegacyTariffTable {
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

/// The tariff code each named field stood for.
pub const LEGACY_CODES: [&str; 7] = [
    "3.2.1", "3.2.2.1", "3.2.2.2", "3.2.2.3", "3.2.3", "3.2.4", "3.2.5",
];

impl LegacyTariffTable {
    fn amounts(&self) -> [Cents; 7] {
        [
            self.melding_cents,
            self.category_a_cents,
            self.category_b_cents,
            self.category_c_cents,
            self.extra_day_cents,
            self.road_closure_cents,
            self.alcohol_exemption_cents,
        ]
    }

    /// The same table as lines: `template`'s lines (their texts, when they apply,
    /// their reductions) with this table's amounts. The template must have exactly
    /// the seven codes the named fields stood for.
    pub fn to_lines(&self, template: &TariffTable) -> Result<TariffTable, String> {
        let mut codes: Vec<&str> = template.lines.iter().map(|l| l.code.as_str()).collect();
        codes.sort_unstable();
        let mut expected = LEGACY_CODES;
        expected.sort_unstable();
        if codes != expected {
            return Err(format!(
                "the tariff table of {} with named amounts needs a table of the codes {} to take its lines from; the profile's table of {} has {}",
                self.year,
                LEGACY_CODES.join(", "),
                template.year,
                codes.join(", ")
            ));
        }
        let amounts = self.amounts();
        let lines = template
            .lines
            .iter()
            .map(|line| {
                let at = LEGACY_CODES
                    .iter()
                    .position(|c| *c == line.code)
                    .expect("checked above");
                let mut line = line.clone();
                line.amount_cents = amounts[at];
                line
            })
            .collect();
        Ok(TariffTable {
            year: self.year,
            coordination_cost_cents: self.coordination_cost_cents,
            lines,
        })
    }
}
