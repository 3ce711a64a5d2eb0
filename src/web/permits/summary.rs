//! The summary of an application: melding or vergunning and why, the leges line by
//! line, and the deadline, in words.

use crate::domain::permit::Quote;
use crate::domain::risk::{self, Category, EventSpan, Kind, MeldingBlocker, RiskFactor};

use crate::dutch::{category_text, dutch_date, euro, kind_text};

/// The summary beside the form: what a submission now would give.
pub struct Summary {
    pub kind: &'static str,
    pub category: &'static str,
    pub reasons: Vec<String>,
    pub lines: Vec<(String, String)>,
    pub total: String,
    pub required_by: String,
    pub required_by_iso: String,
    pub late: bool,
    /// The application is in: the deadline is history, not advice.
    pub filed: bool,
}

pub(crate) fn blocker_text(b: MeldingBlocker) -> &'static str {
    match b {
        MeldingBlocker::MoreThanOneDay => "het duurt meer dan één dag",
        MeldingBlocker::MoreThan100Visitors => "er komen meer dan 100 bezoekers",
        MeldingBlocker::LoudMusic => "er is versterkte muziek boven 70 dB(A)",
        MeldingBlocker::RoadClosure => "er gaat een weg dicht",
        MeldingBlocker::StructureOf25SquareMetres => "er staat een bouwwerk van 25 m² of meer",
        MeldingBlocker::OnWater => "het is op het water",
        MeldingBlocker::Fireworks => "er is vuurwerk",
        MeldingBlocker::AlcoholSale => "er wordt alcohol verkocht",
        MeldingBlocker::Commercial => "het is commercieel",
        MeldingBlocker::OutsideSetHours => "het valt buiten de vaste tijden",
    }
}

pub(crate) fn factor_text(f: RiskFactor) -> String {
    let what = match f {
        RiskFactor::Visitors { .. } => "het aantal bezoekers",
        RiskFactor::RoadClosure => "een afgesloten weg",
        RiskFactor::AlcoholSale => "verkoop van alcohol",
        RiskFactor::LateMusic => "versterkte muziek na 23.00 uur of op meer dagen",
        RiskFactor::Fireworks => "vuurwerk",
        RiskFactor::OnWater => "op het water",
        RiskFactor::LargeStructure => "een bouwwerk van 100 m² of meer",
        RiskFactor::MultiDay => "meer dan één dag",
    };
    let points = f.points();
    format!(
        "{what}: {points} {}",
        if points == 1 { "punt" } else { "punten" }
    )
}

/// The leges line by line: the tariff and its amount.
pub fn leges_lines(leges: &crate::domain::leges::Leges) -> Vec<(String, String)> {
    leges
        .lines
        .iter()
        .map(|l| {
            (
                format!("{} {}", l.code, l.description),
                euro(l.amount_cents),
            )
        })
        .collect()
}

impl Summary {
    /// The summary of a category, its leges and its deadline; `reasons` say why.
    pub fn new(
        kind: Kind,
        category: Category,
        leges: &crate::domain::leges::Leges,
        deadline: &crate::domain::risk::Deadline,
        reasons: Vec<String>,
    ) -> Summary {
        Summary {
            kind: kind_text(kind),
            category: category_text(category),
            reasons,
            lines: leges
                .lines
                .iter()
                .map(|l| {
                    (
                        format!("{} {}", l.code, l.description),
                        euro(l.amount_cents),
                    )
                })
                .collect(),
            total: euro(leges.total_cents),
            required_by: dutch_date(deadline.required_by),
            required_by_iso: deadline.required_by.to_string(),
            late: deadline.late,
            filed: false,
        }
    }

    /// The summary of an application that is in (the confirmation, the private page).
    pub fn filed(self) -> Summary {
        Summary {
            filed: true,
            ..self
        }
    }
}

pub(super) fn summary_of(event: &crate::domain::event::Event, quote: &Quote) -> Summary {
    let span = EventSpan::of(event);
    let reasons = match quote.assessment.kind {
        Kind::Melding => vec!["Uw evenement voldoet aan alle voorwaarden voor een melding.".into()],
        Kind::Vergunning => {
            let mut reasons: Vec<String> = risk::melding_blockers(event, &span)
                .into_iter()
                .map(|b| format!("Geen melding: {}.", blocker_text(b)))
                .collect();
            let factors = risk::risk_factors(event, &span);
            // Plain words for the public: the points, not a "risicoscore".
            let category = category_text(quote.assessment.category);
            if factors.is_empty() {
                reasons.push(format!(
                    "{category}: er is niets dat het evenement zwaarder maakt."
                ));
            } else {
                reasons.push(format!(
                    "{category}, omdat het evenement {} punten krijgt voor: {}.",
                    quote.assessment.risk_score,
                    factors
                        .into_iter()
                        .map(factor_text)
                        .collect::<Vec<_>>()
                        .join("; ")
                ));
            }
            reasons
        }
    };
    Summary::new(
        quote.assessment.kind,
        quote.assessment.category,
        &quote.leges,
        &quote.deadline,
        reasons,
    )
}
