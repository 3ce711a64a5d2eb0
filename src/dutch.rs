//! Dutch as the pages and the e-mails write it: amounts in euros, dates, and the
//! names of kinds, categories, statuses and organisation types (a kern's name is
//! the municipality's profile's: `Municipality::kern_place`). One module,
//! so that a page and the e-mail about the same thing use the same words.

use chrono::NaiveDate;

use crate::domain::history::Actor;
use crate::domain::money::Cents;
use crate::domain::permit::{Application, PermitStatus};
use crate::domain::respect_week::{OrganisationType, RegistrationStatus};
use crate::domain::risk::{Alcohol, Category, Kind};

pub use crate::domain::money::grouped;

/// `EUR 1.463,00`: Dutch grouping and decimal comma.
pub fn euro(cents: Cents) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    let whole = grouped((cents / 100) as i64);
    format!("{sign}EUR {whole},{:02}", cents % 100)
}

/// `1463,00`: euros with a decimal comma and no grouping, which Dutch Excel reads as
/// a number.
pub fn decimal_euros(cents: Cents) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    format!("{sign}{},{:02}", cents / 100, cents % 100)
}

const MONTHS: [&str; 12] = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
];

const WEEKDAYS: [&str; 7] = [
    "maandag",
    "dinsdag",
    "woensdag",
    "donderdag",
    "vrijdag",
    "zaterdag",
    "zondag",
];

/// `vrijdag 26 mei 2017`.
pub fn dutch_date(date: NaiveDate) -> String {
    use chrono::Datelike;
    format!(
        "{} {} {} {}",
        WEEKDAYS[date.weekday().num_days_from_monday() as usize],
        date.day(),
        MONTHS[date.month0() as usize],
        date.year()
    )
}

/// Melding or vergunning.
pub fn kind_text(kind: Kind) -> &'static str {
    match kind {
        Kind::Melding => "Melding",
        Kind::Vergunning => "Vergunning",
    }
}

/// The category in words.
pub fn category_text(category: Category) -> &'static str {
    match category {
        Category::Melding => "Melding (geen vergunning nodig)",
        Category::A => "Vergunning, categorie A",
        Category::B => "Vergunning, categorie B",
        Category::C => "Vergunning, categorie C",
    }
}

/// An application's status as its organiser reads it.
pub fn status_text(status: PermitStatus) -> &'static str {
    match status {
        PermitStatus::Submitted => "Ingediend",
        PermitStatus::InReview => "In behandeling",
        PermitStatus::InfoRequested => "Wij hebben een vraag aan u",
        PermitStatus::Approved => "Verleend",
        PermitStatus::Rejected => "Geweigerd",
        PermitStatus::Withdrawn => "Ingetrokken",
        PermitStatus::Voided => "Vervallen",
    }
}

/// A status as staff name it (the organiser's page speaks to the organiser: "Wij
/// hebben een vraag aan u").
pub fn status_for_staff(status: PermitStatus) -> &'static str {
    match status {
        PermitStatus::InfoRequested => "Vraag aan de aanvrager uitgezet",
        other => status_text(other),
    }
}

/// Alcohol at the event, as the form asks it.
pub fn alcohol_text(alcohol: Alcohol) -> &'static str {
    match alcohol {
        Alcohol::None => "Geen alcohol",
        Alcohol::Free => "Alcohol, gratis geschonken",
        Alcohol::Sale => "Alcohol wordt verkocht",
    }
}

/// Who made a change, for staff: a staff member by their id.
pub fn actor_text(actor: &Actor) -> &str {
    match actor {
        Actor::Organiser => "de aanvrager",
        Actor::Registrant => "de aanmelder",
        Actor::Staff(id) => id,
        Actor::System => "loket (automatisch)",
    }
}

/// An organisation type in words, as a teacher says it (the form capitalises it).
pub fn type_name(kind: OrganisationType) -> &'static str {
    match kind {
        OrganisationType::PrimarySchool => "basisschool",
        OrganisationType::SecondarySchool => "middelbare school",
        OrganisationType::VocationalSchool => "mbo-school",
        OrganisationType::SportClub => "sportclub",
        OrganisationType::Other => "andere organisatie",
    }
}

/// `text` with a capital first letter: a word from this module at the start of a
/// label.
pub fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A registration's status as staff read it (their pages, the coordinator's export).
pub fn registration_status_for_staff(status: RegistrationStatus) -> &'static str {
    match status {
        RegistrationStatus::Registered => "Aangemeld",
        RegistrationStatus::Published => "Gepubliceerd",
        RegistrationStatus::Declined => "Afgewezen",
        RegistrationStatus::Cancelled => "Afgemeld",
    }
}

/// A registration's status as its registrant reads it.
pub fn registration_status_text(status: RegistrationStatus) -> &'static str {
    match status {
        RegistrationStatus::Registered => "Aangemeld, nog niet gepubliceerd",
        RegistrationStatus::Published => "Staat in het programma",
        RegistrationStatus::Declined => "Niet opgenomen in het programma",
        RegistrationStatus::Cancelled => "Afgemeld",
    }
}

/// A staff decision (the review's `action` code) as the decision form offers it.
pub fn action_text(action: &str) -> &'static str {
    match action {
        "start_review" => "In behandeling nemen",
        "request_info" => "Informatie vragen (met uw vraag)",
        "approve" => "Vergunning verlenen",
        "reject" => "Weigeren (met reden)",
        "reclassify" => "Andere categorie (kies hieronder)",
        "void" => "Vervallen verklaren (met reden)",
        _ => "Onbekende handeling",
    }
}

/// What the organiser of `app` pays in leges, and when: the one story that every page
/// and e-mail tells (docs/domain.md "Imposed, refunded"). Nothing is paid at
/// submission, so nothing is ever paid back: the bill follows the decision, or the
/// withdrawal, and a withdrawal before the decision makes the bill smaller.
/// `refund_percent`: the profile's `withdrawal_refund_percent`.
pub fn leges_story(app: &Application, refund_percent: u32) -> String {
    let leges = &app.leges;
    let full = euro(leges.total_cents);
    let noun = noun(app.kind);
    match app.status {
        status if status.is_open() => {
            let reduced = leges.with_withdrawal_refund(refund_percent).net_cents();
            let when = match app.kind {
                Kind::Melding => "als wij uw melding hebben afgehandeld",
                Kind::Vergunning => "na ons besluit",
            };
            let withdrawn = if reduced == 0 {
                "betaalt u niets".to_string()
            } else {
                format!("betaalt u {}", euro(reduced))
            };
            format!(
                "U betaalt nu nog niets. U krijgt een rekening voor de leges van {full} {when}. Trekt u uw {noun} eerder in, dan {withdrawn}."
            )
        }
        // Said the same before (the withdrawal page) and after (its e-mail).
        PermitStatus::Withdrawn => match leges.net_cents() {
            0 => "Na intrekking betaalt u geen leges.".into(),
            net if net == leges.total_cents => {
                format!(
                    "Na intrekking betaalt u de leges van {full}. U krijgt daarvoor een rekening."
                )
            }
            net => format!(
                "Na intrekking betaalt u {} aan leges in plaats van {full}. U krijgt daarvoor een rekening.",
                euro(net)
            ),
        },
        // Set aside: it leaves the coverage, so no bill follows.
        PermitStatus::Voided => "U betaalt geen leges.".into(),
        PermitStatus::Rejected => format!(
            "U krijgt een rekening voor de leges van {full}. De leges zijn voor de behandeling van uw {noun}: u betaalt ze ook bij een weigering."
        ),
        _ => format!("U krijgt een rekening voor de leges van {full}."),
    }
}

/// `aanvraag`, or `melding` for a melding: what the organiser filed.
pub fn noun(kind: Kind) -> &'static str {
    match kind {
        Kind::Melding => "melding",
        Kind::Vergunning => "aanvraag",
    }
}

/// A date in digits, as in a field's error message: `5-11-2017`.
pub fn short_date(date: NaiveDate) -> String {
    date.format("%-d-%-m-%Y").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A glossary row: the code and its Dutch, one per column.
    type Row = (String, Vec<String>);

    /// docs/glossary.md's tables, by section heading.
    fn glossary() -> Vec<(String, Vec<Row>)> {
        let mut sections: Vec<(String, Vec<Row>)> = Vec::new();
        for line in include_str!("../docs/glossary.md").lines() {
            if let Some(heading) = line.strip_prefix("## ") {
                sections.push((heading.to_string(), Vec::new()));
            } else if let Some(row) = line.strip_prefix("| `") {
                let cells: Vec<String> = row.split('|').map(|c| c.trim().to_string()).collect();
                let code = cells[0].trim_end_matches('`').to_string();
                let dutch = cells[1..]
                    .iter()
                    .filter(|c| !c.is_empty())
                    .cloned()
                    .collect();
                sections
                    .last_mut()
                    .expect("a table under a heading")
                    .1
                    .push((code, dutch));
            }
        }
        sections
    }

    fn section(name: &str) -> Vec<Row> {
        glossary()
            .into_iter()
            .find(|(heading, _)| heading.starts_with(name))
            .unwrap_or_else(|| panic!("docs/glossary.md has no section {name:?}"))
            .1
    }

    /// A value's code as the API writes it (its serde name).
    fn code<T: serde::Serialize>(value: &T) -> String {
        serde_json::to_value(value).unwrap()["role"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| {
                serde_json::to_value(value)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string()
            })
    }

    /// A section's rows against every value's code and Dutch, in order.
    fn check<T>(
        name: &str,
        all: &[T],
        code: impl Fn(&T) -> String,
        dutch: &[&dyn Fn(&T) -> String],
    ) {
        let expected: Vec<Row> = all
            .iter()
            .map(|item| (code(item), dutch.iter().map(|d| d(item)).collect()))
            .collect();
        assert_eq!(
            section(name),
            expected,
            "docs/glossary.md, section {name:?}"
        );
    }

    #[test]
    fn the_glossary_is_what_the_code_says() {
        check(
            "Status of an application",
            &PermitStatus::ALL,
            |s| s.as_str().into(),
            &[&|s| status_text(*s).into(), &|s| {
                status_for_staff(*s).into()
            }],
        );
        check(
            "Kind and category",
            &Category::ALL,
            |c| c.as_str().into(),
            &[&|c| category_text(*c).into()],
        );
        // Every action some status allows has a row, and no row is for another.
        let rows = section("What staff decide");
        let mut in_rows: Vec<&str> = rows.iter().map(|(c, _)| c.as_str()).collect();
        let mut allowed: Vec<&str> = PermitStatus::ALL
            .iter()
            .flat_map(|s| s.staff_actions().iter().copied())
            .collect();
        in_rows.sort_unstable();
        allowed.sort_unstable();
        allowed.dedup();
        assert_eq!(
            in_rows, allowed,
            "docs/glossary.md, section What staff decide"
        );
        let actions: Vec<&str> = rows.iter().map(|(c, _)| c.as_str()).collect();
        check(
            "What staff decide",
            &actions,
            |a| a.to_string(),
            &[&|a| action_text(a).into()],
        );
        check(
            "Alcohol",
            &[Alcohol::None, Alcohol::Free, Alcohol::Sale],
            code,
            &[&|a| alcohol_text(*a).into()],
        );
        check(
            "Who did it",
            &[Actor::Organiser, Actor::Registrant, Actor::System],
            code,
            &[&|a| actor_text(a).into()],
        );
        let dronten = crate::domain::municipality::Municipality::dronten();
        check(
            "Kernen",
            &dronten.kernen,
            |k| k.code.clone(),
            &[&|k| k.name.clone()],
        );
        check(
            "Week van Respect: type",
            &OrganisationType::ALL,
            |t| t.as_str().into(),
            &[&|t| type_name(*t).into()],
        );
        check(
            "Week van Respect: status",
            &RegistrationStatus::ALL,
            |s| s.as_str().into(),
            &[&|s| registration_status_text(*s).into(), &|s| {
                registration_status_for_staff(*s).into()
            }],
        );
    }

    #[test]
    fn amounts_and_dates_read_as_in_dutch() {
        for (cents, text) in [
            (146_300, "EUR 1.463,00"),
            (3_000, "EUR 30,00"),
            (4_688, "EUR 46,88"),
            (123_456_789, "EUR 1.234.567,89"),
            (-375, "-EUR 3,75"),
            (0, "EUR 0,00"),
        ] {
            assert_eq!(euro(cents), text);
        }
        let date = NaiveDate::from_ymd_opt(2017, 5, 26).unwrap();
        assert_eq!(dutch_date(date), "vrijdag 26 mei 2017");
        assert_eq!(short_date(date), "26-5-2017");
    }

    #[test]
    fn the_leges_story_never_pays_back_what_was_never_paid() {
        use crate::domain::permit::tests::submitted;
        use crate::domain::risk::tests::{at, jeugdtoernooi};
        let now = at("2017-03-01T10:00:00+01:00");
        let app = submitted(&jeugdtoernooi(), now);
        assert_eq!(app.leges.total_cents, 7_500);
        assert_eq!(
            leges_story(&app, 50),
            "U betaalt nu nog niets. U krijgt een rekening voor de leges van EUR 75,00 na ons besluit. Trekt u uw aanvraag eerder in, dan betaalt u EUR 37,50."
        );
        assert!(leges_story(&app, 100).ends_with("dan betaalt u niets."));
        let withdraw = |percent: u32| {
            let mut app = app.clone();
            app.leges = app.leges.with_withdrawal_refund(percent);
            app.status = PermitStatus::Withdrawn;
            leges_story(&app, percent)
        };
        assert_eq!(
            withdraw(50),
            "Na intrekking betaalt u EUR 37,50 aan leges in plaats van EUR 75,00. U krijgt daarvoor een rekening."
        );
        assert_eq!(withdraw(100), "Na intrekking betaalt u geen leges.");
        assert!(withdraw(0).starts_with("Na intrekking betaalt u de leges van EUR 75,00."));
        for status in [PermitStatus::Approved, PermitStatus::Rejected] {
            let decided = Application {
                status,
                ..app.clone()
            };
            assert!(
                leges_story(&decided, 50)
                    .starts_with("U krijgt een rekening voor de leges van EUR 75,00."),
                "{status:?}"
            );
        }
        let mut melding = app.clone();
        melding.kind = Kind::Melding;
        assert!(leges_story(&melding, 50).contains("als wij uw melding hebben afgehandeld"));
        for status in PermitStatus::ALL {
            let story = leges_story(
                &Application {
                    status,
                    ..app.clone()
                },
                50,
            );
            assert!(!story.contains("terug"), "{status:?}: {story}");
        }
    }
}
