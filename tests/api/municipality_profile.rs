//! Issue #20 item 7: a profile given in `LOKET_CONFIG` replaces Dronten's kernen,
//! tariff lines and name everywhere. A made-up municipality, "Zeewolde-Test", with its
//! own kernen, tariff table, sender and calendar domain, read from a config file as
//! the service reads it: the permit form, a quote, the receipt e-mail, the calendar
//! and the OpenAPI document speak of it, and of Dronten nowhere.

use std::sync::Arc;

use loket::clock::{Clock, ManualClock};
use loket::config;
use loket::domain::leges::{Applies, TariffLine, TariffTable};
use loket::domain::municipality::{KernEntry, Municipality, Theme};
use loket::domain::risk::Category;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::respect_week::{OPEN, publish, regenboog, register};

/// Dronten's profile with everything that names Dronten replaced.
fn zeewolde_test() -> Municipality {
    let mut m = Municipality::dronten();
    m.id = "zeewolde-test".into();
    m.name = "Zeewolde-Test".into();
    m.cbs_code = "9999".into();
    m.public_url = "https://loket.zeewolde-test.example".into();
    m.kernen = vec![
        KernEntry {
            code: "centrum".into(),
            name: "Centrum".into(),
            place: Some("Zeewolde-Test centrum".into()),
        },
        KernEntry {
            code: "haven".into(),
            name: "Haven".into(),
            place: None,
        },
    ];
    m.office.organisation = "Gemeente Zeewolde-Test".into();
    m.office.team = "team Vergunningen".into();
    m.office.address = "Raadhuisplein 9, 9999 ZZ Zeewolde-Test".into();
    m.office.phone = "0999 123456".into();
    m.mail.from = "Zeewolde-Test Loket <loket@zeewolde-test.example>".into();
    m.calendar.domain = "agenda.zeewolde-test.example".into();
    m.theme = Theme {
        primary: "#1b5e20".into(),
        on_primary: "#ffffff".into(),
        primary_light: "#e8f5e9".into(),
        focus: "#ffbf47".into(),
        focus_outline: "#0b0c0c".into(),
    };
    let line =
        |code: &str, text: &str, amount_cents, applies, categories: &[Category]| TariffLine {
            code: code.into(),
            text: text.into(),
            amount_cents,
            applies,
            categories: if categories.is_empty() {
                Category::ALL.to_vec()
            } else {
                categories.to_vec()
            },
            non_profit_reduction_percent: None,
        };
    m.tariffs = vec![TariffTable {
        year: 2017,
        coordination_cost_cents: 1_000_000,
        lines: vec![
            line(
                "ZT-1",
                "Kennisgeving feest",
                4_242,
                Applies::BaseFee,
                &[Category::Melding],
            ),
            line(
                "ZT-2a",
                "Feestvergunning klein",
                10_101,
                Applies::BaseFee,
                &[Category::A],
            ),
            line(
                "ZT-2b",
                "Feestvergunning middel",
                20_202,
                Applies::BaseFee,
                &[Category::B],
            ),
            line(
                "ZT-2c",
                "Feestvergunning groot",
                30_303,
                Applies::BaseFee,
                &[Category::C],
            ),
            line("ZT-3", "Elke dag meer", 777, Applies::PerExtraDay, &[]),
            line("ZT-4", "Weg dicht", 888, Applies::RoadClosure, &[]),
            line("ZT-5", "Drankontheffing", 999, Applies::AlcoholSale, &[]),
        ],
    }];
    m
}

/// Dronten and its kernen, in any case.
fn assert_no_dronten(what: &str, text: &str) {
    let lower = text.to_lowercase();
    for word in ["dronten", "biddinghuizen", "swifterbant", "de rede 1"] {
        assert!(!lower.contains(word), "{what} mentions '{word}':\n{text}");
    }
}

/// The service as `LOKET_CONFIG` with the profile and `LOKET_MUNICIPALITY` make it.
async fn spawn_zeewolde_test() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("loket.toml");
    std::fs::write(&path, config::profile_as_config(&zeewolde_test())).unwrap();
    let profiles = config::load_profiles(Some(&path)).unwrap();
    let catalogue = config::catalogue_of(profiles, "zeewolde-test").unwrap();
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let store = new_store(Some(&dir)).await;
    serve(store, ManualClock::new(at(OPEN)), Some(dir), catalogue).await
}

/// The stylesheet with the profile's colours that `page` links, after loket's own.
async fn theme_of(app: &TestApp, page: &str) -> String {
    let link = |prefix: &str| {
        let tag = r#"<link rel="stylesheet" href=""#;
        let at = page
            .find(&format!("{tag}{prefix}"))
            .unwrap_or_else(|| panic!("no stylesheet {prefix}… linked:\n{page}"));
        let href = &page[at + tag.len()..];
        (at, href[..href.find('"').unwrap()].to_string())
    };
    let (loket_at, _) = link("/static/loket-");
    let (theme_at, theme) = link("/static/theme-");
    assert!(loket_at < theme_at, "the colours come after loket.css");
    let response = app.get(&theme).await;
    assert_eq!(response.status(), 200, "{theme}");
    assert_eq!(
        response.headers()["content-type"],
        "text/css; charset=utf-8"
    );
    assert_eq!(
        response.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    response.text().await.unwrap()
}

#[tokio::test]
async fn drontens_pages_are_drawn_in_drontens_colours() {
    let app = spawn_app().await;
    let home = app.get("/").await.text().await.unwrap();
    let theme = theme_of(&app, &home).await;
    assert!(theme.starts_with("/* The colours of the municipality in use. */\n.loket-theme {"));
    assert!(theme.contains("--loket-primary: #00467f;"), "{theme}");
    assert!(theme.contains("--loket-focus: #ffdd00;"), "{theme}");
    // Another profile's colours are another path; this one is not served here.
    assert_eq!(
        app.get("/static/theme-0000000000000000.css").await.status(),
        404
    );
}

fn feest(kern: &str) -> Value {
    json!({
        "organiser": {"name": "P. Jansen", "email": "p.jansen@example.nl", "phone": "0321 111222"},
        "event": {
            "name": "Buurtfeest", "description": "Feest voor de straat",
            "kern": kern, "address": "Kade 1",
            "starts_at": "2017-12-16T14:00:00+01:00", "ends_at": "2017-12-16T22:00:00+01:00",
            "expected_visitors": 80, "amplified_music": false, "road_closure": true,
            "alcohol": "none", "largest_structure_m2": 0, "on_water": false,
            "fireworks": false, "commercial": false, "non_profit": false
        }
    })
}

#[tokio::test]
async fn a_profile_in_the_config_replaces_drontens_kernen_tariffs_and_name_everywhere() {
    let app = spawn_zeewolde_test().await;

    // The permit form: the profile's kernen, its name in the title and footer.
    let form = app.get("/evenementen/aanvragen").await;
    assert_eq!(form.status(), 200);
    let form = form.text().await.unwrap();
    assert!(form.contains("| Gemeente Zeewolde-Test</title>"), "{form}");
    assert!(
        form.contains(
            "Gemeente Zeewolde-Test · Raadhuisplein 9, 9999 ZZ Zeewolde-Test · 0999 123456"
        ),
        "{form}"
    );
    for option in [
        r#"<option value="centrum""#,
        ">Centrum</option>",
        r#"<option value="haven""#,
        ">Haven</option>",
    ] {
        assert!(form.contains(option), "{option} missing:\n{form}");
    }
    assert_no_dronten("the permit form", &form);
    let home = app.get("/").await.text().await.unwrap();
    assert!(home.contains("Evenementen in Zeewolde-Test"), "{home}");
    assert_no_dronten("the home page", &home);

    // The pages' colours: the profile's, none of Dronten's.
    let theme = theme_of(&app, &form).await;
    for colour in ["#1b5e20", "#ffffff", "#e8f5e9", "#ffbf47", "#0b0c0c"] {
        assert!(theme.contains(colour), "{colour} missing:\n{theme}");
    }
    for dronten in ["#00467f", "#e6eef5", "#ffdd00"] {
        assert!(!theme.contains(dronten), "{dronten} in:\n{theme}");
    }
    assert_eq!(theme_of(&app, &home).await, theme);

    // A quote: the made-up tariff lines and amounts.
    let quote = expect_status(app.post_json("/permits/quote", &feest("haven")).await, 200).await;
    // A road closure makes it category A.
    assert_eq!(
        quote["leges"],
        json!({"lines": [
            {"amount_cents": 10101, "code": "ZT-2a", "description": "Feestvergunning klein"},
            {"amount_cents": 888, "code": "ZT-4", "description": "Weg dicht"}
        ], "refunded_cents": 0, "tariff_year": 2017, "total_cents": 10989})
    );
    assert_no_dronten("the quote", &quote.to_string());
    // A kern of Dronten is no kern here.
    let refused = expect_status(
        app.post_json("/permits/quote", &feest("dronten")).await,
        422,
    )
    .await;
    assert_eq!(
        field_errors(&refused),
        [("event.kern".to_string(), "one_of".to_string())]
    );

    // The receipt: the profile's sender, name and signature.
    expect_status(app.post_json("/permits", &feest("haven")).await, 201).await;
    let far = app.real_clock.now() + chrono::Duration::days(1);
    let receipt = app
        .state
        .store
        .outbox()
        .due(far, 10)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.kind == "permit_received")
        .expect("a receipt");
    assert!(
        receipt.text.contains("Gemeente Zeewolde-Test, team Vergunningen\nRaadhuisplein 9, 9999 ZZ Zeewolde-Test, telefoon 0999 123456"),
        "{}",
        receipt.text
    );
    assert!(
        receipt
            .html
            .contains("Gemeente Zeewolde-Test &middot; Loket evenementen")
    );
    let eml = loket::notify::delivery::mime(&receipt, &app.state.mail.from).unwrap();
    let eml = String::from_utf8(eml.formatted()).unwrap();
    assert!(
        eml.contains("From: \"Zeewolde-Test Loket\" <loket@zeewolde-test.example>"),
        "{eml}"
    );
    for (what, text) in [
        ("the mail text", &receipt.text),
        ("the mail HTML", &receipt.html),
    ] {
        assert_no_dronten(what, text);
    }
    assert_no_dronten("the .eml headers", eml.split("\r\n\r\n").next().unwrap());

    // The calendar: the profile's PRODID, UID domain and kern place.
    let mut activity = regenboog();
    activity["activity"]["kern"] = json!("centrum");
    let registered = register(&app, &activity).await;
    publish(&app, registered["id"].as_str().unwrap()).await;
    let ics = app.get("/respect-week/2017/program.ics").await;
    assert_eq!(ics.status(), 200);
    let ics = ics.text().await.unwrap();
    assert!(
        ics.contains("PRODID:-//Gemeente Zeewolde-Test//loket//NL"),
        "{ics}"
    );
    assert!(ics.contains("@agenda.zeewolde-test.example"), "{ics}");
    assert!(
        ics.contains("LOCATION:Lijsterbeslaan 2\\, Zeewolde-Test centrum"),
        "{ics}"
    );
    assert!(
        ics.contains("Week van Respect 2017 in Zeewolde-Test"),
        "{ics}"
    );
    assert_no_dronten("the calendar", &ics);
    let programme = app
        .get("/week-van-respect/2017")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        programme.contains("Lijsterbeslaan 2, Zeewolde-Test centrum"),
        "{programme}"
    );
    assert_no_dronten("the programme page", &programme);

    // The OpenAPI document lists the profile's kernen.
    let doc = expect_status(app.get("/openapi.json").await, 200).await;
    assert_eq!(
        doc["components"]["schemas"]["Kern"]["enum"],
        json!(["centrum", "haven"])
    );
    assert_no_dronten("the OpenAPI document", &doc.to_string());
}
