//! The export of a year's applications as CSV, for a spreadsheet: one row each,
//! every cell safe to open (no formulas), in the dialect the staff member asks for.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::permit::Application;
use crate::domain::risk::Kind;
use crate::domain::text::{self, Lines};
use crate::domain::time::local_rfc3339;

/// The CSV flavour of the export.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CsvDialect {
    /// RFC 4180: comma-separated, UTF-8.
    #[default]
    Rfc4180,
    /// What Dutch Excel opens by a double click: semicolon-separated, UTF-8 with a BOM.
    ExcelNl,
}

/// One column of the export: its header and how a cell is read from an application.
type Column = (&'static str, fn(&Application) -> String);

/// The columns of the export, in order: each declared once, header and value
/// together, so that the two can never drift apart.
const COLUMNS: [Column; 25] = [
    ("reference", |a| a.reference.to_string()),
    ("id", |a| a.id.clone()),
    ("status", |a| a.status.as_str().to_string()),
    ("kind", |a| {
        match a.kind {
            Kind::Melding => "melding",
            Kind::Vergunning => "vergunning",
        }
        .to_string()
    }),
    ("category", |a| a.category.as_str().to_string()),
    ("risk_score", |a| a.risk_score.to_string()),
    ("submitted_at", |a| local_rfc3339::format(&a.submitted_at)),
    ("required_by", |a| a.deadline.required_by.to_string()),
    ("late", |a| a.deadline.late.to_string()),
    ("event_name", |a| a.event.name.clone()),
    ("kern", |a| a.event.kern.as_str().to_string()),
    ("address", |a| a.event.address.clone()),
    ("starts_at", |a| local_rfc3339::format(&a.event.starts_at)),
    ("ends_at", |a| local_rfc3339::format(&a.event.ends_at)),
    ("expected_visitors", |a| {
        a.event.expected_visitors.to_string()
    }),
    ("organiser_name", |a| a.organiser.name.clone()),
    ("organisation", |a| {
        a.organiser.organisation.clone().unwrap_or_default()
    }),
    ("kvk_number", |a| {
        a.organiser
            .kvk_number
            .as_ref()
            .map(|k| k.as_str().to_string())
            .unwrap_or_default()
    }),
    ("email", |a| a.organiser.email.as_str().to_string()),
    ("phone", |a| a.organiser.phone.as_str().to_string()),
    ("tariff_year", |a| a.leges.tariff_year.to_string()),
    ("total_cents", |a| a.leges.total_cents.to_string()),
    ("refunded_cents", |a| a.leges.refunded_cents.to_string()),
    ("net_cents", |a| a.leges.net_cents().to_string()),
    ("version", |a| a.version.to_string()),
];

/// The headers of the export, in order (from [`COLUMNS`]).
pub const CSV_COLUMNS: [&str; 25] = headers();

const fn headers() -> [&'static str; 25] {
    let mut out = [""; 25];
    let mut i = 0;
    while i < COLUMNS.len() {
        out[i] = COLUMNS[i].0;
        i += 1;
    }
    out
}

/// A cell as a spreadsheet may safely read it. Control and invisible characters
/// (NUL, a tab, CR, a zero-width space, a BOM, …) are dropped, whatever the store
/// holds; then a cell that a spreadsheet would run as a formula (its first character
/// that is not a space is `=`, `+`, `-` or `@`) gets a leading `'`, so it is shown
/// as text.
pub fn neutralise(cell: &str) -> String {
    let cell = text::printable(cell, Lines::Many);
    let first = cell.chars().find(|c| !c.is_whitespace());
    if matches!(first, Some('=' | '+' | '-' | '@')) {
        format!("'{cell}")
    } else {
        cell
    }
}

fn csv_row(app: &Application) -> Vec<String> {
    COLUMNS
        .iter()
        .map(|(_, cell)| neutralise(&cell(app)))
        .collect()
}

/// The CSV of a year's applications, one row each, with a header row.
///
/// Every cell that is not a number is quoted, so a separator inside a cell never
/// splits it, whichever separator the spreadsheet assumes.
pub fn permits_csv(apps: &[Application], dialect: CsvDialect) -> Result<Vec<u8>, csv::Error> {
    let (delimiter, start): (u8, &[u8]) = match dialect {
        CsvDialect::Rfc4180 => (b',', b""),
        // The BOM tells Excel the file is UTF-8.
        CsvDialect::ExcelNl => (b';', "\u{feff}".as_bytes()),
    };
    let mut writer = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .quote_style(csv::QuoteStyle::NonNumeric)
        .from_writer(start.to_vec());
    writer.write_record(CSV_COLUMNS)?;
    for app in apps {
        writer.write_record(csv_row(app))?;
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
        ] {
            assert_eq!(neutralise(cell), out, "{cell:?}");
        }
    }
}
