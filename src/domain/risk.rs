//! Melding or vergunning, the risk score and category (docs/domain.md "Event applications"), and the
//! deadline by which an application should have been in (§3).

use chrono::{Datelike, NaiveDate, Timelike, Weekday};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::event::Event;
use super::time::local;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Alcohol {
    None,
    Free,
    Sale,
}

/// `0` is a melding; A, B and C are vergunning categories.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
pub enum Category {
    #[serde(rename = "0")]
    Melding,
    A,
    B,
    C,
}

impl Category {
    pub const ALL: [Category; 4] = [Category::Melding, Category::A, Category::B, Category::C];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Melding => "0",
            Category::A => "A",
            Category::B => "B",
            Category::C => "C",
        }
    }

    pub fn parse(s: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn kind(self) -> Kind {
        if self == Category::Melding {
            Kind::Melding
        } else {
            Kind::Vergunning
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Melding,
    Vergunning,
}

/// The local calendar span of an event: an end at exactly 00:00 is 24:00 of the day
/// before, so it does not touch the next date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventSpan {
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    /// Minutes after midnight on the first day.
    pub start_minute: u32,
    /// Minutes after midnight on the last day; 1440 for an end at 00:00.
    pub end_minute: u32,
}

impl EventSpan {
    pub fn of(facts: &Event) -> EventSpan {
        let start = local(facts.starts_at);
        let end = local(facts.ends_at);
        let (last_day, end_minute) = if end.time() == chrono::NaiveTime::MIN && end > start {
            (
                end.date().pred_opt().expect("date after the start"),
                24 * 60,
            )
        } else {
            (end.date(), end.hour() * 60 + end.minute())
        };
        EventSpan {
            first_day: start.date(),
            last_day,
            start_minute: start.hour() * 60 + start.minute(),
            end_minute,
        }
    }

    pub fn days(&self) -> u32 {
        ((self.last_day - self.first_day).num_days() + 1).max(1) as u32
    }
}

/// The set hours within which a one-day event can be a melding, bounds included.
fn set_hours(day: Weekday) -> (u32, u32) {
    match day {
        Weekday::Mon | Weekday::Tue | Weekday::Wed | Weekday::Thu => (7 * 60, 23 * 60),
        Weekday::Fri | Weekday::Sat => (7 * 60, 24 * 60),
        Weekday::Sun => (13 * 60, 23 * 60),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    pub kind: Kind,
    pub category: Category,
    pub risk_score: u32,
    pub event_days: u32,
}

/// A condition of a melding that an event does not meet: one is enough to make it a
/// vergunning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeldingBlocker {
    MoreThanOneDay,
    MoreThan100Visitors,
    LoudMusic,
    RoadClosure,
    StructureOf25SquareMetres,
    OnWater,
    Fireworks,
    AlcoholSale,
    Commercial,
    OutsideSetHours,
}

/// What makes this event a vergunning rather than a melding; empty for a melding.
pub fn melding_blockers(facts: &Event, span: &EventSpan) -> Vec<MeldingBlocker> {
    let (open, close) = set_hours(span.first_day.weekday());
    let quiet_enough = !facts.amplified_music || facts.max_sound_dba.is_some_and(|dba| dba <= 70);
    [
        (span.days() != 1, MeldingBlocker::MoreThanOneDay),
        (
            facts.expected_visitors > 100,
            MeldingBlocker::MoreThan100Visitors,
        ),
        (!quiet_enough, MeldingBlocker::LoudMusic),
        (facts.road_closure, MeldingBlocker::RoadClosure),
        (
            facts.largest_structure_m2 >= 25,
            MeldingBlocker::StructureOf25SquareMetres,
        ),
        (facts.on_water, MeldingBlocker::OnWater),
        (facts.fireworks, MeldingBlocker::Fireworks),
        (facts.alcohol == Alcohol::Sale, MeldingBlocker::AlcoholSale),
        (facts.commercial, MeldingBlocker::Commercial),
        (
            span.start_minute < open || span.end_minute > close,
            MeldingBlocker::OutsideSetHours,
        ),
    ]
    .into_iter()
    .filter_map(|(applies, blocker)| applies.then_some(blocker))
    .collect()
}

pub fn is_melding(facts: &Event, span: &EventSpan) -> bool {
    melding_blockers(facts, span).is_empty()
}

/// One reason for points on the risk score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RiskFactor {
    /// 101–1,000 visitors: 1; 1,001–5,000: 2; more: 4.
    Visitors {
        points: u32,
    },
    RoadClosure,
    AlcoholSale,
    /// Amplified music on a multi-day event or after 23:00.
    LateMusic,
    /// 2 points.
    Fireworks,
    OnWater,
    /// A structure of 100 m² or more.
    LargeStructure,
    MultiDay,
}

impl RiskFactor {
    pub fn points(self) -> u32 {
        match self {
            RiskFactor::Visitors { points } => points,
            RiskFactor::Fireworks => 2,
            _ => 1,
        }
    }
}

/// Every reason for points on the risk score, in the order the rules list them.
pub fn risk_factors(facts: &Event, span: &EventSpan) -> Vec<RiskFactor> {
    let visitors = match facts.expected_visitors {
        0..=100 => 0,
        101..=1_000 => 1,
        1_001..=5_000 => 2,
        _ => 4,
    };
    let runs_late = span.days() > 1 || span.end_minute > 23 * 60;
    [
        (visitors > 0, RiskFactor::Visitors { points: visitors }),
        (facts.road_closure, RiskFactor::RoadClosure),
        (facts.alcohol == Alcohol::Sale, RiskFactor::AlcoholSale),
        (facts.amplified_music && runs_late, RiskFactor::LateMusic),
        (facts.fireworks, RiskFactor::Fireworks),
        (facts.on_water, RiskFactor::OnWater),
        (
            facts.largest_structure_m2 >= 100,
            RiskFactor::LargeStructure,
        ),
        (span.days() > 1, RiskFactor::MultiDay),
    ]
    .into_iter()
    .filter_map(|(applies, factor)| applies.then_some(factor))
    .collect()
}

pub fn risk_score(facts: &Event, span: &EventSpan) -> u32 {
    risk_factors(facts, span)
        .into_iter()
        .map(RiskFactor::points)
        .sum()
}

pub fn category_for_score(score: u32) -> Category {
    match score {
        0..=2 => Category::A,
        3..=4 => Category::B,
        _ => Category::C,
    }
}

pub fn assess(facts: &Event) -> Assessment {
    let span = EventSpan::of(facts);
    let risk_score = risk_score(facts, &span);
    let category = if is_melding(facts, &span) {
        Category::Melding
    } else {
        category_for_score(risk_score)
    };
    Assessment {
        kind: category.kind(),
        category,
        risk_score,
        event_days: span.days(),
    }
}

pub use super::deadline::{Deadline, deadline, required_by};

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::place::Kern;
    use chrono::{DateTime, FixedOffset, Utc};

    pub fn at(rfc3339: &str) -> DateTime<Utc> {
        DateTime::<FixedOffset>::parse_from_rfc3339(rfc3339)
            .expect("valid test timestamp")
            .with_timezone(&Utc)
    }

    /// A quiet one-day event on Sat 2017-06-17 14:00–22:00: a melding.
    pub fn quiet_event() -> Event {
        Event {
            name: "Buurtbarbecue".into(),
            description: "Barbecue voor de straat".into(),
            kern: Kern::new("dronten"),
            address: "De Rede 1".into(),
            starts_at: at("2017-06-17T14:00:00+02:00"),
            ends_at: at("2017-06-17T22:00:00+02:00"),
            expected_visitors: 80,
            amplified_music: false,
            max_sound_dba: None,
            road_closure: false,
            alcohol: Alcohol::None,
            largest_structure_m2: 0,
            on_water: false,
            fireworks: false,
            commercial: false,
            non_profit: false,
        }
    }

    pub fn zomerfestival() -> Event {
        Event {
            name: "Zomerfestival".into(),
            description: "Muziekfestival".into(),
            kern: Kern::new("dronten"),
            address: "Meerveld".into(),
            starts_at: at("2017-08-18T12:00:00+02:00"),
            ends_at: at("2017-08-19T01:00:00+02:00"),
            expected_visitors: 4_000,
            amplified_music: true,
            max_sound_dba: Some(85),
            road_closure: true,
            alcohol: Alcohol::Sale,
            largest_structure_m2: 400,
            on_water: false,
            fireworks: false,
            commercial: true,
            non_profit: false,
        }
    }

    pub fn jeugdtoernooi() -> Event {
        Event {
            starts_at: at("2017-05-14T13:00:00+02:00"),
            ends_at: at("2017-05-14T20:00:00+02:00"),
            expected_visitors: 600,
            amplified_music: true,
            max_sound_dba: Some(65),
            non_profit: true,
            ..quiet_event()
        }
    }

    #[test]
    fn the_zomerfestival_names_why_it_is_a_vergunning_and_where_its_points_come_from() {
        let festival = zomerfestival();
        let span = EventSpan::of(&festival);
        assert_eq!(
            risk_factors(&festival, &span),
            [
                RiskFactor::Visitors { points: 2 },
                RiskFactor::RoadClosure,
                RiskFactor::AlcoholSale,
                RiskFactor::LateMusic,
                RiskFactor::LargeStructure,
                RiskFactor::MultiDay,
            ]
        );
        assert_eq!(risk_score(&festival, &span), 7);
        assert_eq!(
            melding_blockers(&festival, &span),
            [
                MeldingBlocker::MoreThanOneDay,
                MeldingBlocker::MoreThan100Visitors,
                MeldingBlocker::LoudMusic,
                MeldingBlocker::RoadClosure,
                MeldingBlocker::StructureOf25SquareMetres,
                MeldingBlocker::AlcoholSale,
                MeldingBlocker::Commercial,
            ]
        );
        let quiet = quiet_event();
        let span = EventSpan::of(&quiet);
        assert!(melding_blockers(&quiet, &span).is_empty());
        assert!(risk_factors(&quiet, &span).is_empty());
    }

    #[test]
    fn worked_examples_are_classified_as_domain_md_says() {
        let submitted = at("2017-03-01T10:00:00+01:00");
        let cases = [
            (
                "1 buurtbarbecue",
                quiet_event(),
                Category::Melding,
                0,
                "2017-05-29",
                false,
            ),
            (
                "2 zomerfestival",
                zomerfestival(),
                Category::C,
                7,
                "2017-05-26",
                false,
            ),
            (
                "3 jeugdtoernooi",
                jeugdtoernooi(),
                Category::A,
                1,
                "2017-03-19",
                false,
            ),
        ];
        for (name, facts, category, score, required_by, late) in cases {
            let a = assess(&facts);
            assert_eq!(a.category, category, "example {name}: category");
            assert_eq!(a.risk_score, score, "example {name}: risk score");
            let terms = crate::domain::municipality::Municipality::dronten().terms;
            let d = deadline(a.category, &facts, submitted, &terms);
            assert_eq!(
                d.required_by.to_string(),
                required_by,
                "example {name}: required_by"
            );
            assert_eq!(d.late, late, "example {name}: late");
        }
    }

    #[test]
    fn melding_boundaries() {
        type Tweak = fn(&mut Event);
        let cases: Vec<(&str, Tweak, bool)> = vec![
            ("100 visitors", |f| f.expected_visitors = 100, true),
            ("101 visitors", |f| f.expected_visitors = 101, false),
            ("24 m² structure", |f| f.largest_structure_m2 = 24, true),
            ("25 m² structure", |f| f.largest_structure_m2 = 25, false),
            (
                "music at 70 dB(A)",
                |f| {
                    f.amplified_music = true;
                    f.max_sound_dba = Some(70)
                },
                true,
            ),
            (
                "music at 71 dB(A)",
                |f| {
                    f.amplified_music = true;
                    f.max_sound_dba = Some(71)
                },
                false,
            ),
            ("music without a level", |f| f.amplified_music = true, false),
            (
                "a level but no amplified music",
                |f| f.max_sound_dba = Some(90),
                true,
            ),
            ("road closure", |f| f.road_closure = true, false),
            ("on water", |f| f.on_water = true, false),
            ("fireworks", |f| f.fireworks = true, false),
            ("alcohol sale", |f| f.alcohol = Alcohol::Sale, false),
            ("free alcohol", |f| f.alcohol = Alcohol::Free, true),
            ("commercial", |f| f.commercial = true, false),
            (
                "Sat ends at 00:00",
                |f| f.ends_at = at("2017-06-18T00:00:00+02:00"),
                true,
            ),
            (
                "Sat ends at 00:01",
                |f| f.ends_at = at("2017-06-18T00:01:00+02:00"),
                false,
            ),
            (
                "Sat starts at 07:00",
                |f| f.starts_at = at("2017-06-17T07:00:00+02:00"),
                true,
            ),
            (
                "Sat starts at 06:59",
                |f| f.starts_at = at("2017-06-17T06:59:00+02:00"),
                false,
            ),
            (
                "Fri 07:00–24:00",
                |f| {
                    f.starts_at = at("2017-06-16T07:00:00+02:00");
                    f.ends_at = at("2017-06-17T00:00:00+02:00")
                },
                true,
            ),
            (
                "Thu ends 23:00",
                |f| {
                    f.starts_at = at("2017-06-15T07:00:00+02:00");
                    f.ends_at = at("2017-06-15T23:00:00+02:00")
                },
                true,
            ),
            (
                "Thu ends 23:01",
                |f| {
                    f.starts_at = at("2017-06-15T20:00:00+02:00");
                    f.ends_at = at("2017-06-15T23:01:00+02:00")
                },
                false,
            ),
            (
                "Mon starts 06:59",
                |f| {
                    f.starts_at = at("2017-06-12T06:59:00+02:00");
                    f.ends_at = at("2017-06-12T12:00:00+02:00")
                },
                false,
            ),
            (
                "Mon ends at 00:00",
                |f| {
                    f.starts_at = at("2017-06-12T20:00:00+02:00");
                    f.ends_at = at("2017-06-13T00:00:00+02:00")
                },
                false,
            ),
            (
                "Sun 13:00–23:00",
                |f| {
                    f.starts_at = at("2017-06-18T13:00:00+02:00");
                    f.ends_at = at("2017-06-18T23:00:00+02:00")
                },
                true,
            ),
            (
                "Sun starts 12:59",
                |f| {
                    f.starts_at = at("2017-06-18T12:59:00+02:00");
                    f.ends_at = at("2017-06-18T16:00:00+02:00")
                },
                false,
            ),
            (
                "Sun ends 23:01",
                |f| {
                    f.starts_at = at("2017-06-18T13:00:00+02:00");
                    f.ends_at = at("2017-06-18T23:01:00+02:00")
                },
                false,
            ),
            (
                "two days",
                |f| f.ends_at = at("2017-06-18T14:00:00+02:00"),
                false,
            ),
        ];
        for (name, tweak, melding) in cases {
            let mut facts = quiet_event();
            tweak(&mut facts);
            let a = assess(&facts);
            assert_eq!(a.category == Category::Melding, melding, "case: {name}");
            assert_eq!(a.kind == Kind::Melding, melding, "case: {name} (kind)");
        }
    }

    #[test]
    fn an_end_at_midnight_does_not_touch_the_next_day() {
        let mut facts = quiet_event();
        facts.ends_at = at("2017-06-18T00:00:00+02:00");
        assert_eq!(EventSpan::of(&facts).days(), 1);
        facts.ends_at = at("2017-06-18T00:00:01+02:00");
        assert_eq!(EventSpan::of(&facts).days(), 2);
    }

    #[test]
    fn risk_score_factors() {
        type Tweak = fn(&mut Event);
        let cases: Vec<(&str, Tweak, u32)> = vec![
            ("nothing", |_| {}, 0),
            ("1,000 visitors", |f| f.expected_visitors = 1_000, 1),
            ("1,001 visitors", |f| f.expected_visitors = 1_001, 2),
            ("5,000 visitors", |f| f.expected_visitors = 5_000, 2),
            ("5,001 visitors", |f| f.expected_visitors = 5_001, 4),
            ("fireworks", |f| f.fireworks = true, 2),
            ("on water", |f| f.on_water = true, 1),
            ("99 m²", |f| f.largest_structure_m2 = 99, 0),
            ("100 m²", |f| f.largest_structure_m2 = 100, 1),
            (
                "music until 23:00",
                |f| {
                    f.amplified_music = true;
                    f.ends_at = at("2017-06-17T23:00:00+02:00")
                },
                0,
            ),
            (
                "music until 23:30",
                |f| {
                    f.amplified_music = true;
                    f.ends_at = at("2017-06-17T23:30:00+02:00")
                },
                1,
            ),
            (
                "quiet until 23:30",
                |f| f.ends_at = at("2017-06-17T23:30:00+02:00"),
                0,
            ),
            (
                "music past midnight",
                |f| {
                    f.amplified_music = true;
                    f.ends_at = at("2017-06-18T01:00:00+02:00")
                },
                2,
            ),
        ];
        for (name, tweak, score) in cases {
            let mut facts = quiet_event();
            tweak(&mut facts);
            assert_eq!(assess(&facts).risk_score, score, "case: {name}");
        }
    }

    #[test]
    fn categories_follow_the_score() {
        for (score, category) in [
            (0, Category::A),
            (2, Category::A),
            (3, Category::B),
            (4, Category::B),
            (5, Category::C),
            (9, Category::C),
        ] {
            assert_eq!(category_for_score(score), category, "score {score}");
        }
    }
}
