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

/// The columns of the export, in order.
pub const CSV_COLUMNS: [&str; 25] = [
    "reference",
    "id",
    "status",
    "kind",
    "category",
    "risk_score",
    "submitted_at",
    "required_by",
    "late",
    "event_name",
    "kern",
    "address",
    "starts_at",
    "ends_at",
    "expected_visitors",
    "organiser_name",
    "organisation",
    "kvk_number",
    "email",
    "phone",
    "tariff_year",
    "total_cents",
    "refunded_cents",
    "net_cents",
    "version",
];

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
    let e = &app.event;
    let o = &app.organiser;
    [
        app.reference.to_string(),
        app.id.clone(),
        app.status.as_str().to_string(),
        match app.kind {
            Kind::Melding => "melding",
            Kind::Vergunning => "vergunning",
        }
        .to_string(),
        app.category.as_str().to_string(),
        app.risk_score.to_string(),
        local_rfc3339::format(&app.submitted_at),
        app.deadline.required_by.to_string(),
        app.deadline.late.to_string(),
        e.name.clone(),
        e.kern.as_str().to_string(),
        e.address.clone(),
        local_rfc3339::format(&e.starts_at),
        local_rfc3339::format(&e.ends_at),
        e.expected_visitors.to_string(),
        o.name.clone(),
        o.organisation.clone().unwrap_or_default(),
        o.kvk_number
            .as_ref()
            .map(|k| k.as_str().to_string())
            .unwrap_or_default(),
        o.email.as_str().to_string(),
        o.phone.as_str().to_string(),
        app.leges.tariff_year.to_string(),
        app.leges.total_cents.to_string(),
        app.leges.refunded_cents.to_string(),
        app.leges.net_cents().to_string(),
        app.version.to_string(),
    ]
    .iter()
    .map(|cell| neutralise(cell))
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
