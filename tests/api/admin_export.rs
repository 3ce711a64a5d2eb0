//! The CSV export: one row per application of the year, formulas neutralised, each
//! export recorded; the Dutch-Excel dialect.

use serde_json::{Value, json};

use crate::admin_helpers::{id_of, moved};
use crate::helpers::*;
use crate::permits::{buurtbarbecue, jeugdtoernooi, submit, zomerfestival};

#[tokio::test]
async fn the_csv_export_has_one_row_per_application_of_the_year_neutralises_formulas_and_is_recorded()
 {
    let app = spawn_app().await;
    let mut evil = zomerfestival();
    evil["organiser"]["name"] = json!("=HYPERLINK(\"http://evil.example\",\"Klik hier\")");
    evil["organiser"]["organisation"] = json!("@SUM(1+1)");
    evil["organiser"]["phone"] = json!("+31 321 123456");
    evil["event"]["name"] = json!("-Festival, met \"quotes\"; en een puntkomma");
    let evil_created = submit(&app, &evil).await;
    submit(&app, &buurtbarbecue()).await;
    // Next year's application is not in 2017's export.
    app.clock.set(at("2018-01-02T09:00:00+01:00"));
    submit(
        &app,
        &moved(
            jeugdtoernooi(),
            "2018-06-10T13:00:00+02:00",
            "2018-06-10T20:00:00+02:00",
        ),
    )
    .await;

    let token = staff_token(&app, "exporteur");
    let response = app.admin_get("/admin/permits.csv?year=2017", &token).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("vergunningen-2017.csv")
    );
    let text = response.text().await.unwrap();

    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(headers, loket::app::export::CSV_COLUMNS);
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 2, "one row per 2017 application");
    let col = |row: &csv::StringRecord, name: &str| {
        row[headers.iter().position(|h| h == name).unwrap()].to_string()
    };
    let evil_row = rows
        .iter()
        .find(|r| col(r, "id") == id_of(&evil_created))
        .unwrap();
    assert_eq!(
        col(evil_row, "organiser_name"),
        "'=HYPERLINK(\"http://evil.example\",\"Klik hier\")"
    );
    assert_eq!(col(evil_row, "organisation"), "'@SUM(1+1)");
    assert_eq!(col(evil_row, "phone"), "'+31 321 123456");
    assert_eq!(
        col(evil_row, "event_name"),
        "'-Festival, met \"quotes\"; en een puntkomma",
        "quoting survives"
    );
    for (column, value) in [
        ("reference", "EV-2017-0001"),
        ("status", "submitted"),
        ("kind", "vergunning"),
        ("category", "C"),
        ("risk_score", "7"),
        ("submitted_at", "2017-03-01T10:00:00+01:00"),
        ("required_by", "2017-05-26"),
        ("late", "false"),
        ("kern", "biddinghuizen"),
        ("email", "info@zomerfest.nl"),
        ("total_cents", "146300"),
        ("refunded_cents", "0"),
        ("net_cents", "146300"),
    ] {
        assert_eq!(col(evil_row, column), value, "{column}");
    }
    for row in &rows {
        for cell in row.iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "unneutralised cell {cell:?}"
            );
        }
    }

    // Each export is itself recorded: who, which year, when, how many rows.
    let other = staff_token(&app, "controller");
    app.clock.set(at("2018-01-02T09:05:00+01:00"));
    let next_year = app
        .admin_get("/admin/permits.csv?year=2018", &other)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        csv::Reader::from_reader(next_year.as_bytes())
            .records()
            .count(),
        1
    );
    let audits = audit_records(&app).await;
    assert_eq!(
        audits,
        [
            json!({"export": "permits_csv", "staff": "exporteur", "year": 2017, "at": "2018-01-02T09:00:00+01:00", "rows": 2}),
            json!({"export": "permits_csv", "staff": "controller", "year": 2018, "at": "2018-01-02T09:05:00+01:00", "rows": 1}),
        ]
    );
    // Without ?year=: the current year.
    let current = app
        .admin_get("/admin/permits.csv", &other)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        csv::Reader::from_reader(current.as_bytes())
            .records()
            .count(),
        1
    );
}

async fn audit_records(app: &TestApp) -> Vec<Value> {
    let records = app.state.store.audit().list_all().await.unwrap();
    records
        .iter()
        .map(|r| serde_json::to_value(r).unwrap())
        .collect()
}

/// Hardening F3: the Dutch-Excel dialect (`;`, UTF-8 BOM), every text cell quoted, so
/// a `;` inside a cell never splits it and never leaves a formula cell behind.
#[tokio::test]
async fn the_csv_export_for_dutch_excel_keeps_every_cell_whole() {
    let app = spawn_app().await;
    let mut evil = zomerfestival();
    evil["organiser"]["name"] = json!("Zomerfest;=cmd|' /C calc'!A0;x");
    evil["organiser"]["organisation"] = json!("=1+1");
    evil["event"]["name"] = json!("@SUM(1;2)");
    let created = submit(&app, &evil).await;
    let token = staff_token(&app, "exporteur");
    let response = app
        .admin_get("/admin/permits.csv?year=2017&dialect=excel_nl", &token)
        .await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("vergunningen-2017-excel.csv"),
        "the two downloads have different names"
    );
    let bytes = response.bytes().await.unwrap();
    assert!(bytes.starts_with("\u{feff}".as_bytes()), "a UTF-8 BOM");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    crate::glossary::assert_no_raw_codes("the Dutch Excel export", text);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(headers, loket::app::export::CSV_COLUMNS_NL);
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 1);
    let col = |name: &str| rows[0][headers.iter().position(|h| h == name).unwrap()].to_string();
    assert_eq!(col("Id"), id_of(&created));
    assert_eq!(col("Naam aanvrager"), "Zomerfest;=cmd|' /C calc'!A0;x");
    assert_eq!(col("Organisatie"), "'=1+1");
    assert_eq!(col("Evenement"), "'@SUM(1;2)");
    // In Dutch, for a person in Excel: words, euros and local dates (worked example
    // 2, the Zomerfestival: category C, EUR 1.463,00).
    assert_eq!(col("Status"), "Ingediend");
    assert_eq!(col("Categorie"), "Vergunning, categorie C");
    assert_eq!(col("Kern"), "Biddinghuizen");
    assert_eq!(col("Begint"), "18-08-2017 12:00");
    assert_eq!(col("Uiterlijk aanvragen op"), "26-05-2017");
    assert_eq!(col("Te laat aangevraagd"), "nee");
    assert_eq!(col("Leges (EUR)"), "1463,00");
    assert_eq!(col("Netto leges (EUR)"), "1463,00");
    assert!(
        text.contains("\"Zomerfest;=cmd|' /C calc'!A0;x\""),
        "the cell is quoted: {text}"
    );
    let bad = app
        .admin_get("/admin/permits.csv?dialect=excel", &token)
        .await;
    assert_eq!(bad.status(), 400);
}
