//! The documents an application needs (issue #22): the types are the municipality's
//! (its profile's `[[documents]]`), the rule of when a type is required is here.
//! A melding never needs a document; a vergunning needs those whose condition its
//! event and category meet.

use serde::{Deserialize, Serialize};

use super::event::Event;
use super::risk::{Category, Kind};

/// A kind of document, as the profile names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentType {
    /// What the API sends: `situatietekening`.
    pub code: String,
    /// What a person reads: `Situatietekening`.
    pub label: String,
    /// When an application for a vergunning must have one.
    pub required_when: RequiredWhen,
    /// Written by loket (the decision letter), never uploaded.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub written_by_loket: bool,
}

/// The conditions a profile can choose from. In TOML: `"never"`, `"vergunning"`,
/// `"category_b_or_c"`, `"road_closure"` or `{ structure_from_m2 = 100 }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequiredWhen {
    Never,
    /// Every vergunning.
    Vergunning,
    /// A vergunning of category B or C.
    CategoryBOrC,
    /// A road is closed.
    RoadClosure,
    /// The largest tent or stage is at least this many m².
    StructureFromM2(u32),
}

impl RequiredWhen {
    fn holds(self, category: Category, event: &Event) -> bool {
        match self {
            RequiredWhen::Never => false,
            RequiredWhen::Vergunning => true,
            RequiredWhen::CategoryBOrC => matches!(category, Category::B | Category::C),
            RequiredWhen::RoadClosure => event.road_closure,
            RequiredWhen::StructureFromM2(m2) => event.largest_structure_m2 >= m2,
        }
    }
}

/// The types `types` that an application of `kind` and `category` for `event` must
/// have, in the profile's order.
pub fn required_documents<'a>(
    types: &'a [DocumentType],
    kind: Kind,
    category: Category,
    event: &Event,
) -> Vec<&'a DocumentType> {
    if kind == Kind::Melding {
        return Vec::new();
    }
    types
        .iter()
        .filter(|t| !t.written_by_loket && t.required_when.holds(category, event))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::municipality::Municipality;
    use crate::domain::risk::tests::{quiet_event, zomerfestival};

    /// Dronten's types (municipalities/dronten.toml) against issue #22's table.
    #[test]
    fn what_each_application_needs_in_dronten() {
        let dronten = Municipality::dronten();
        let with = |change: fn(&mut Event)| {
            let mut event = quiet_event();
            change(&mut event);
            event
        };
        let cases: [(&str, Kind, Category, Event, &[&str]); 8] = [
            (
                "a melding",
                Kind::Melding,
                Category::Melding,
                quiet_event(),
                &[],
            ),
            (
                "a melding, even with a large tent",
                Kind::Melding,
                Category::Melding,
                with(|e| e.largest_structure_m2 = 400),
                &[],
            ),
            (
                "category A",
                Kind::Vergunning,
                Category::A,
                quiet_event(),
                &["situatietekening"],
            ),
            (
                "category B",
                Kind::Vergunning,
                Category::B,
                quiet_event(),
                &["situatietekening", "veiligheidsplan"],
            ),
            (
                "category A, a road closed",
                Kind::Vergunning,
                Category::A,
                with(|e| e.road_closure = true),
                &["situatietekening", "verkeersplan"],
            ),
            (
                "category A, a 99 m² tent",
                Kind::Vergunning,
                Category::A,
                with(|e| e.largest_structure_m2 = 99),
                &["situatietekening"],
            ),
            (
                "category A, a 100 m² tent",
                Kind::Vergunning,
                Category::A,
                with(|e| e.largest_structure_m2 = 100),
                &["situatietekening", "constructie"],
            ),
            (
                "the Zomerfestival (C, a road closed, 400 m²)",
                Kind::Vergunning,
                Category::C,
                zomerfestival(),
                &[
                    "situatietekening",
                    "veiligheidsplan",
                    "verkeersplan",
                    "constructie",
                ],
            ),
        ];
        for (what, kind, category, event, expected) in cases {
            let codes: Vec<&str> = required_documents(&dronten.documents, kind, category, &event)
                .into_iter()
                .map(|t| t.code.as_str())
                .collect();
            assert_eq!(codes, expected, "{what}");
        }
    }

    #[test]
    fn the_decision_is_never_asked_of_the_organiser() {
        let dronten = Municipality::dronten();
        let besluit = dronten
            .documents
            .iter()
            .find(|t| t.code == "besluit")
            .unwrap();
        assert!(besluit.written_by_loket);
        let all = required_documents(
            &dronten.documents,
            Kind::Vergunning,
            Category::C,
            &zomerfestival(),
        );
        assert!(all.iter().all(|t| t.code != "besluit"));
    }
}
