//! The exports as CSV, for a spreadsheet: a year's applications, and an edition's
//! Week van Respect contacts and guest-lesson requests for the coordinator. One row
//! each, every cell safe to open (no formulas), in the dialect the staff member asks
//! for; both exports share the columns' declaration and the writer.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::money::Cents;
use crate::domain::municipality::Municipality;
use crate::domain::permit::Application;
use crate::domain::respect_week::Registration;
use crate::domain::risk::Kind;
use crate::domain::text::{self, Lines};
use crate::domain::time::{self, local_rfc3339};
use crate::dutch;

/// The CSV flavour of the export.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CsvDialect {
    /// RFC 4180: comma-separated, UTF-8.
    #[default]
    Rfc4180,
    /// What Dutch Excel opens by a double click: semicolon-separated, UTF-8 with a BOM,
    /// with Dutch headers and words, amounts in euros (`1463,00`) and local dates
    /// (`18-08-2017 12:00`).
    ExcelNl,
}

/// How a cell is written: codes and RFC 3339 for a program (`rfc4180`), or Dutch
/// words, euros and local dates for a person in Excel (`excel_nl`).
pub struct Cells<'a> {
    dutch: bool,
    profile: &'a Municipality,
}

impl Cells<'_> {
    fn word(&self, code: &str, dutch: &str) -> String {
        if self.dutch { dutch } else { code }.to_string()
    }

    /// Cents for a program; `1463,00` for Dutch Excel, which reads it as a number.
    fn amount(&self, cents: Cents) -> String {
        if self.dutch {
            dutch::decimal_euros(cents)
        } else {
            cents.to_string()
        }
    }

    /// RFC 3339 with the local offset; `18-08-2017 12:00` for Dutch Excel.
    fn moment(&self, at: &DateTime<Utc>) -> String {
        if self.dutch {
            time::local(*at).format("%d-%m-%Y %H:%M").to_string()
        } else {
            local_rfc3339::format(at)
        }
    }

    fn date(&self, date: NaiveDate) -> String {
        if self.dutch {
            date.format("%d-%m-%Y").to_string()
        } else {
            date.to_string()
        }
    }

    /// Digits that name rather than count (a KvK or phone number). For Dutch Excel
    /// written as `="01234567"`, the one way both Excel and Calc keep a leading
    /// zero: a formula that is only a constant string, which [`neutralise`] lets
    /// through. Anything but digits (`0321 123456`) is text already.
    fn digits_as_text(&self, digits: &str) -> String {
        if self.dutch && is_text_constant(&format!("=\"{digits}\"")) {
            format!("=\"{digits}\"")
        } else {
            digits.to_string()
        }
    }

    fn flag(&self, yes: bool) -> String {
        match (self.dutch, yes) {
            (false, yes) => yes.to_string(),
            (true, true) => "ja".into(),
            (true, false) => "nee".into(),
        }
    }
}

/// One column of an export: its header for a program, its Dutch header, and how a
/// cell is read from a row (an application, a registration).
type Column<T> = (&'static str, &'static str, fn(&T, &Cells) -> String);

/// The columns of the export, in order: each declared once, headers and value
/// together, so that they can never drift apart.
const COLUMNS: [Column<Application>; 25] = [
    ("reference", "Kenmerk", |a, _| a.reference.to_string()),
    ("id", "Id", |a, _| a.id.clone()),
    ("status", "Status", |a, c| {
        c.word(a.status.as_str(), dutch::status_for_staff(a.status))
    }),
    ("kind", "Soort", |a, c| {
        let code = match a.kind {
            Kind::Melding => "melding",
            Kind::Vergunning => "vergunning",
        };
        c.word(code, dutch::kind_text(a.kind))
    }),
    ("category", "Categorie", |a, c| {
        c.word(a.category.as_str(), dutch::category_text(a.category))
    }),
    ("risk_score", "Risicoscore", |a, _| a.risk_score.to_string()),
    ("submitted_at", "Ingediend op", |a, c| {
        c.moment(&a.submitted_at)
    }),
    ("required_by", "Uiterlijk aanvragen op", |a, c| {
        c.date(a.deadline.required_by)
    }),
    ("late", "Te laat aangevraagd", |a, c| {
        c.flag(a.deadline.late)
    }),
    ("event_name", "Evenement", |a, _| a.event.name.clone()),
    ("kern", "Kern", |a, c| {
        c.word(a.event.kern.as_str(), &c.profile.kern_name(&a.event.kern))
    }),
    ("address", "Adres of plek", |a, _| a.event.address.clone()),
    ("starts_at", "Begint", |a, c| c.moment(&a.event.starts_at)),
    ("ends_at", "Eindigt", |a, c| c.moment(&a.event.ends_at)),
    ("expected_visitors", "Verwachte bezoekers", |a, _| {
        a.event.expected_visitors.to_string()
    }),
    ("organiser_name", "Naam aanvrager", |a, _| {
        a.organiser.name.clone()
    }),
    ("organisation", "Organisatie", |a, _| {
        a.organiser.organisation.clone().unwrap_or_default()
    }),
    ("kvk_number", "KvK-nummer", |a, c| {
        a.organiser
            .kvk_number
            .as_ref()
            .map(|k| c.digits_as_text(k.as_str()))
            .unwrap_or_default()
    }),
    ("email", "E-mailadres", |a, _| {
        a.organiser.email.as_str().to_string()
    }),
    ("phone", "Telefoonnummer", |a, c| {
        c.digits_as_text(a.organiser.phone.as_str())
    }),
    ("tariff_year", "Tariefjaar", |a, _| {
        a.leges.tariff_year.to_string()
    }),
    ("total_cents", "Leges (EUR)", |a, c| {
        c.amount(a.leges.total_cents)
    }),
    ("refunded_cents", "Korting bij intrekking (EUR)", |a, c| {
        c.amount(a.leges.refunded_cents)
    }),
    ("net_cents", "Netto leges (EUR)", |a, c| {
        c.amount(a.leges.net_cents())
    }),
    ("version", "Versie", |a, _| a.version.to_string()),
];

/// The headers of the export for a program (`rfc4180`), in order (from [`COLUMNS`]).
pub const CSV_COLUMNS: [&str; 25] = headers(false);
/// The Dutch headers of the Excel export (`excel_nl`), in order.
pub const CSV_COLUMNS_NL: [&str; 25] = headers(true);

const fn headers(dutch: bool) -> [&'static str; 25] {
    let mut out = [""; 25];
    let mut i = 0;
    while i < COLUMNS.len() {
        out[i] = if dutch { COLUMNS[i].1 } else { COLUMNS[i].0 };
        i += 1;
    }
    out
}

/// The columns of the coordinator's export of an edition: who to contact about
/// which activity, and whether a guest lesson was asked for. Contact cells are empty
/// once the contact data is erased.
const CONTACT_COLUMNS: [Column<Registration>; 17] = [
    ("reference", "Kenmerk", |r, _| r.reference.to_string()),
    ("status", "Status", |r, c| {
        c.word(
            r.status.as_str(),
            dutch::registration_status_for_staff(r.status),
        )
    }),
    ("guest_lesson_wanted", "Gastles gevraagd", |r, c| {
        c.flag(r.activity.guest_lesson_wanted)
    }),
    ("organisation", "Organisatie", |r, _| {
        r.organisation.name.clone()
    }),
    ("organisation_type", "Soort organisatie", |r, c| {
        c.word(
            r.organisation.kind.as_str(),
            dutch::type_name(r.organisation.kind),
        )
    }),
    ("contact_name", "Contactpersoon", |r, _| {
        r.contact
            .as_ref()
            .map(|k| k.name.clone())
            .unwrap_or_default()
    }),
    ("email", "E-mailadres", |r, _| {
        r.contact
            .as_ref()
            .map(|k| k.email.as_str().to_string())
            .unwrap_or_default()
    }),
    ("phone", "Telefoonnummer", |r, c| {
        r.contact
            .as_ref()
            .map(|k| c.digits_as_text(k.phone.as_str()))
            .unwrap_or_default()
    }),
    ("title", "Activiteit", |r, _| r.activity.title.clone()),
    ("date", "Datum", |r, c| c.date(r.activity.date)),
    ("starts_at", "Begintijd", |r, _| {
        r.activity.starts_at.format("%H:%M").to_string()
    }),
    ("ends_at", "Eindtijd", |r, _| {
        r.activity.ends_at.format("%H:%M").to_string()
    }),
    ("location", "Plek", |r, _| r.activity.location.clone()),
    ("kern", "Kern", |r, c| {
        c.word(
            r.activity.kern.as_str(),
            &c.profile.kern_name(&r.activity.kern),
        )
    }),
    ("expected_participants", "Verwachte deelnemers", |r, _| {
        r.activity.expected_participants.to_string()
    }),
    ("ages", "Leeftijd", |r, _| {
        format!("{}-{}", r.activity.age_min, r.activity.age_max)
    }),
    ("open_to_public", "Openbaar", |r, c| {
        c.flag(r.activity.open_to_public)
    }),
];

/// The file name of an edition's contacts export, one per dialect.
pub fn contacts_file_name(year: i32, dialect: CsvDialect) -> String {
    match dialect {
        CsvDialect::Rfc4180 => format!("week-van-respect-{year}-contacten.csv"),
        CsvDialect::ExcelNl => format!("week-van-respect-{year}-contacten-excel.csv"),
    }
}

/// The file name of a year's export: the two dialects apart in a downloads folder.
pub fn file_name(year: i32, dialect: CsvDialect) -> String {
    match dialect {
        CsvDialect::Rfc4180 => format!("vergunningen-{year}.csv"),
        CsvDialect::ExcelNl => format!("vergunningen-{year}-excel.csv"),
    }
}

/// A cell as a spreadsheet may safely read it. Control and invisible characters
/// (NUL, a tab, CR, a zero-width space, a BOM, …) are dropped, whatever the store
/// holds; then a cell that a spreadsheet would run as a formula (its first character
/// that is not a space is `=`, `+`, `-` or `@`) gets a leading `'`, so it is shown
/// as text. Only `="` digits `"` passes as it is: a constant, it runs nothing.
pub fn neutralise(cell: &str) -> String {
    let cell = text::printable(cell, Lines::Many);
    if is_text_constant(&cell) {
        return cell;
    }
    let first = cell.chars().find(|c| !c.is_whitespace());
    if matches!(first, Some('=' | '+' | '-' | '@')) {
        format!("'{cell}")
    } else {
        cell
    }
}

/// `="01234567"`: a formula whose whole value is a string of digits.
fn is_text_constant(cell: &str) -> bool {
    cell.strip_prefix("=\"")
        .and_then(|rest| rest.strip_suffix('"'))
        .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
}

/// The CSV of a year's applications, one row each, with a header row; for Excel in
/// Dutch, with the kernen of `profile`.
pub fn permits_csv(
    apps: &[Application],
    dialect: CsvDialect,
    profile: &Municipality,
) -> Result<Vec<u8>, csv::Error> {
    write_csv(apps, &COLUMNS, dialect, profile)
}

/// The coordinator's CSV of an edition's registrations (programme order): contacts
/// and guest-lesson requests, one row each, with a header row.
pub fn contacts_csv(
    registrations: &[Registration],
    dialect: CsvDialect,
    profile: &Municipality,
) -> Result<Vec<u8>, csv::Error> {
    write_csv(registrations, &CONTACT_COLUMNS, dialect, profile)
}

/// `rows` under `columns` in `dialect`, every cell [`neutralise`]d.
///
/// Every cell that is not a number is quoted, so a separator inside a cell never
/// splits it, whichever separator the spreadsheet assumes.
fn write_csv<T>(
    rows: &[T],
    columns: &[Column<T>],
    dialect: CsvDialect,
    profile: &Municipality,
) -> Result<Vec<u8>, csv::Error> {
    let (delimiter, start): (u8, &[u8]) = match dialect {
        CsvDialect::Rfc4180 => (b',', b""),
        // The BOM tells Excel the file is UTF-8.
        CsvDialect::ExcelNl => (b';', "\u{feff}".as_bytes()),
    };
    let mut writer = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .quote_style(csv::QuoteStyle::NonNumeric)
        .from_writer(start.to_vec());
    let cells = Cells {
        dutch: dialect == CsvDialect::ExcelNl,
        profile,
    };
    writer.write_record(
        columns
            .iter()
            .map(|(code, dutch, _)| if cells.dutch { dutch } else { code }),
    )?;
    for row in rows {
        writer.write_record(
            columns
                .iter()
                .map(|(_, _, cell)| neutralise(&cell(row, &cells))),
        )?;
    }
    writer
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_like_cells_are_neutralised_and_others_left_alone() {
        for (cell, out) in [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("+31 321", "'+31 321"),
            ("-1", "'-1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "x"),
            ("\rx", "x"),
            ("\t=1+1", "'=1+1"),
            ("\u{0}=1+1", "'=1+1"),
            ("\u{200b}=1+1", "'=1+1"),
            ("\u{feff}=1+1", "'=1+1"),
            ("\u{202e}@SUM(1)", "'@SUM(1)"),
            ("  =1+1", "'  =1+1"),
            ("\u{a0}-2", "'\u{a0}-2"),
            ("Zomer\u{0}fest", "Zomerfest"),
            ("regel 1\nregel 2", "regel 1\nregel 2"),
            ("A. de Vries", "A. de Vries"),
            ("a=b", "a=b"),
            ("", ""),
            // A constant string of digits runs nothing (the Excel KvK number) ...
            ("=\"01234567\"", "=\"01234567\""),
            // ... anything more does not pass.
            ("=\"0123\"&A1", "'=\"0123\"&A1"),
            ("=\"\"", "'=\"\""),
            ("=\"12a\"", "'=\"12a\""),
        ] {
            assert_eq!(neutralise(cell), out, "{cell:?}");
        }
    }
}
