//! Dutch as the pages and the e-mails write it: amounts in euros, dates, and the
//! names of kinds, categories, statuses and organisation types (a kern's name is
//! the municipality's profile's: `Municipality::kern_place`). One module,
//! so that a page and the e-mail about the same thing use the same words.

use chrono::NaiveDate;

use crate::domain::history::Actor;
use crate::domain::money::Cents;
use crate::domain::permit::PermitStatus;
use crate::domain::respect_week::{OrganisationType, RegistrationStatus};
use crate::domain::risk::{Alcohol, Category, Kind};

/// `1.000.000`: a whole number with Dutch grouping.
pub fn grouped(number: i64) -> String {
    let sign = if number < 0 { "-" } else { "" };
    let whole = number.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(digit);
    }
    format!("{sign}{out}")
}

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

/// An organisation type in words.
pub fn type_name(kind: OrganisationType) -> &'static str {
    match kind {
        OrganisationType::PrimarySchool => "basisschool",
        OrganisationType::SecondarySchool => "voortgezet onderwijs",
        OrganisationType::VocationalSchool => "beroepsonderwijs",
        OrganisationType::SportClub => "sportvereniging",
        OrganisationType::Other => "overig",
    }
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

/// A date in digits, as in a field's error message: `5-11-2017`.
pub fn short_date(date: NaiveDate) -> String {
    date.format("%-d-%-m-%Y").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
