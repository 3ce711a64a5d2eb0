//! A tariff table: one year's lines of the legesverordening (titel 3, hoofdstuk 2
//! "Evenementen"), each with its code, Dutch text, amount and when it applies, and
//! the coordination cost the leges are set against.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::domain::money::{Cents, scale_half_up};
use crate::domain::risk::Category;

/// When a line is charged, for an application of one of its categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Applies {
    /// Once: the fee of the category itself. Every category has exactly one.
    BaseFee,
    /// Once for every event day after the first.
    PerExtraDay,
    /// Once when the event closes a road (a verkeersbesluit).
    RoadClosure,
    /// Once when alcohol is sold (the art. 35 exemption).
    AlcoholSale,
}

/// One line of a tariff table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TariffLine {
    /// The code of the legesverordening, shown with the line (`3.2.2.1`).
    pub code: String,
    /// What the line is for, in Dutch, as the organiser reads it.
    pub text: String,
    pub amount_cents: Cents,
    pub applies: Applies,
    /// The categories the line is charged for; every category when absent.
    #[serde(default = "all_categories", skip_serializing_if = "is_every_category")]
    pub categories: Vec<Category>,
    /// A non-profit event that is not commercial pays this share less (half up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub non_profit_reduction_percent: Option<u32>,
}

fn all_categories() -> Vec<Category> {
    Category::ALL.to_vec()
}

fn is_every_category(categories: &[Category]) -> bool {
    Category::ALL.iter().all(|c| categories.contains(c))
}

impl TariffLine {
    pub fn is_for(&self, category: Category) -> bool {
        self.categories.contains(&category)
    }
}

/// One year's tariffs and the coordination cost the leges are set against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TariffTable {
    pub year: i32,
    pub coordination_cost_cents: Cents,
    /// In the order the leges show them.
    pub lines: Vec<TariffLine>,
}

impl TariffTable {
    /// The line with this code.
    pub fn line(&self, code: &str) -> Option<&TariffLine> {
        self.lines.iter().find(|l| l.code == code)
    }

    /// The amount of the line with this code.
    pub fn amount(&self, code: &str) -> Option<Cents> {
        self.line(code).map(|l| l.amount_cents)
    }

    /// The base fee of a category; a valid table has exactly one.
    pub fn base_fee(&self, category: Category) -> Option<&TariffLine> {
        self.lines
            .iter()
            .find(|l| l.applies == Applies::BaseFee && l.is_for(category))
    }

    /// Every amount × `percent` / 100, rounded half up to the cent; the coordination
    /// cost is set, not scaled (how 2026 and 2027 were made from 2017).
    pub fn scaled(&self, year: i32, percent: i64, coordination_cost_cents: Cents) -> TariffTable {
        TariffTable {
            year,
            coordination_cost_cents,
            lines: self
                .lines
                .iter()
                .map(|l| TariffLine {
                    amount_cents: scale_half_up(l.amount_cents, percent, 100),
                    ..l.clone()
                })
                .collect(),
        }
    }

    /// What makes this table unusable, each named by its path under `at`
    /// (`tariffs[0]`): no lines, a blank or repeated code, a negative amount, a
    /// category without exactly one base fee, a reduction outside 1–100 %.
    pub fn problems(&self, at: &str) -> Vec<String> {
        let mut problems = Vec::new();
        if !(1970..=2099).contains(&self.year) {
            problems.push(format!("{at}.year: {} is outside 1970–2099", self.year));
        }
        if self.coordination_cost_cents < 0 {
            problems.push(format!("{at}.coordination_cost_cents: negative"));
        }
        if self.lines.is_empty() {
            problems.push(format!("{at}.lines: a table needs lines"));
        }
        let mut codes = BTreeSet::new();
        for (i, line) in self.lines.iter().enumerate() {
            let at = format!("{at}.lines[{i}]");
            if line.code.trim().is_empty() || line.code.chars().any(char::is_whitespace) {
                problems.push(format!("{at}.code: '{}' is blank or has spaces", line.code));
            } else if !codes.insert(line.code.as_str()) {
                problems.push(format!("{at}.code: '{}' is used twice", line.code));
            }
            if line.text.trim().is_empty() || line.text.chars().any(char::is_control) {
                problems.push(format!("{at}.text: blank or not one line"));
            }
            if line.amount_cents < 0 {
                problems.push(format!("{at}.amount_cents: negative"));
            }
            if line.categories.is_empty() {
                problems.push(format!("{at}.categories: empty (leave it out for all)"));
            }
            let distinct: BTreeSet<Category> = line.categories.iter().copied().collect();
            if distinct.len() != line.categories.len() {
                problems.push(format!("{at}.categories: a category named twice"));
            }
            if let Some(p) = line.non_profit_reduction_percent
                && !(1..=100).contains(&p)
            {
                problems.push(format!(
                    "{at}.non_profit_reduction_percent: {p} is outside 1–100"
                ));
            }
        }
        for category in Category::ALL {
            let base_fees = self
                .lines
                .iter()
                .filter(|l| l.applies == Applies::BaseFee && l.is_for(category))
                .count();
            if base_fees != 1 {
                problems.push(format!(
                    "{at}.lines: category '{}' has {base_fees} base fees, needs exactly one",
                    category.as_str()
                ));
            }
        }
        problems
    }
}
