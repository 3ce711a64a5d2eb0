//! The staff pages: signing in locally, the work queue, a decision, and two staff
//! members deciding on the same version.

use crate::driver::{Browser, Driver, Loket, STAFF_SECRET};

const SUBMISSION_MOMENT: &str = "2017-03-01T10:00:00+01:00";

async fn sign_in(browser: &Browser, loket: &Loket, staff: &str) {
    browser.goto(&loket.url("/medewerkers/")).await;
    assert!(
        browser
            .current_url()
            .await
            .ends_with("/medewerkers/inloggen"),
        "without a session the staff pages lead to the sign-in"
    );
    assert!(
        browser.exists("[data-testid=lokaal]").await,
        "it says it is local"
    );
    browser.fill("staff-id", staff).await;
    browser.fill("secret", STAFF_SECRET).await;
    browser.press("form button[type=submit]").await;
}

/// Files the Zomerfestival through the API; its id.
async fn file_zomerfestival(loket: &Loket) -> String {
    let body: serde_json::Value =
        serde_json::from_str(include_str!("../fixtures/zomerfestival.json")).unwrap();
    let created: serde_json::Value = reqwest::Client::new()
        .post(loket.url("/permits"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    created["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn staff_sign_in_see_the_queue_and_decide_and_a_concurrent_decision_is_not_lost() {
    let Some(driver) = Driver::start() else {
        return;
    };
    let loket = Loket::start(SUBMISSION_MOMENT).await;
    let id = file_zomerfestival(&loket).await;

    let visser = driver.session(true).await;
    visser.goto(&loket.url("/medewerkers/inloggen")).await;
    visser.check("staff-sign-in").await;
    // A wrong secret signs nobody in.
    visser.fill("staff-id", "j.visser").await;
    visser
        .fill("secret", "not-the-secret-of-this-server-at-all")
        .await;
    visser.press("form button[type=submit]").await;
    assert!(visser.body().await.contains("Inloggen is niet gelukt"));
    sign_in(&visser, &loket, "j.visser").await;
    let queue = visser.body().await;
    assert!(
        queue.contains("EV-2017-0001") && queue.contains("Zomerfestival"),
        "{queue}"
    );
    visser.check("staff-queue").await;
    // The event-date filter: the Zomerfestival is on 18 August 2017.
    for (query, rows) in [
        ("?van=2017-08-01&tot=2017-08-31", 1),
        ("?van=2017-09-01", 0),
        ("?tot=2017-08-17", 0),
        ("?status=submitted&categorie=C&te_laat=nee", 1),
        ("?te_laat=ja", 0),
    ] {
        visser
            .goto(&loket.url(&format!("/medewerkers/{query}")))
            .await;
        let found = visser
            .client
            .find_all(fantoccini::Locator::Css("[data-testid=aanvraag]"))
            .await
            .unwrap()
            .len();
        assert_eq!(found, rows, "{query}");
    }
    visser.goto(&loket.url("/medewerkers/")).await;

    visser.press("[data-testid=aanvraag] a").await;
    assert_eq!(visser.text("[data-testid=status]").await, "Ingediend");
    assert!(
        visser.body().await.contains("info@zomerfest.nl"),
        "everything the organiser sent"
    );
    visser.check("staff-permit").await;

    // A second staff member opens the same version, and decides first.
    let bakker = driver.session(true).await;
    sign_in(&bakker, &loket, "m.bakker").await;
    bakker
        .goto(&loket.url(&format!("/medewerkers/aanvragen/{id}")))
        .await;
    bakker.tick("action-start_review").await;
    bakker
        .press("form[action$='/besluit'] button[type=submit]")
        .await;
    assert_eq!(bakker.text("[data-testid=status]").await, "In behandeling");

    // The first decides on the version they saw: nothing is overwritten; the page
    // says what changed and offers the fresh version.
    visser.tick("action-reject").await;
    visser.fill("reason", "Te dicht bij de woonwijk.").await;
    visser
        .press("form[action$='/besluit'] button[type=submit]")
        .await;
    let conflict = visser.text("[data-testid=conflict]").await;
    assert!(conflict.contains("m.bakker"), "{conflict}");
    assert!(conflict.contains("In behandeling"), "{conflict}");
    assert_eq!(visser.text("[data-testid=status]").await, "In behandeling");
    visser.check("staff-permit-conflict").await;
    // On the fresh version the same decision goes through.
    visser.tick("action-reject").await;
    visser
        .press("form[action$='/besluit'] button[type=submit]")
        .await;
    assert_eq!(visser.text("[data-testid=status]").await, "Geweigerd");

    // Signing out ends the session.
    visser
        .press("form[action='/medewerkers/uitloggen'] button")
        .await;
    visser.goto(&loket.url("/medewerkers/")).await;
    assert!(
        visser
            .current_url()
            .await
            .ends_with("/medewerkers/inloggen")
    );
    visser.close().await;
    bakker.close().await;
}

/// The coverage the council asks for: the Zomerfestival alone covers 4,57 % of the
/// EUR 32.000 of 2017 (⌊146,300 × 10,000 / 3,200,000⌋ basis points), drawn against
/// the 100 % line; the CSV behind the link is the year's applications.
#[tokio::test]
async fn the_coverage_page_shows_the_figures_the_chart_and_the_csv() {
    let Some(driver) = Driver::start() else {
        return;
    };
    let loket = Loket::start(SUBMISSION_MOMENT).await;
    file_zomerfestival(&loket).await;
    let browser = driver.session(true).await;
    sign_in(&browser, &loket, "j.visser").await;
    browser
        .goto(&loket.url("/medewerkers/dekkingsgraad?jaar=2017"))
        .await;
    assert_eq!(browser.text("[data-testid=dekkingsgraad]").await, "4,57 %");
    let body = browser.body().await;
    assert!(
        body.contains("EUR 32.000,00") && body.contains("EUR 1.463,00"),
        "{body}"
    );
    assert!(!browser.exists("[data-testid=overdekking]").await);
    assert_eq!(
        browser.attr("[data-testid=balk]", "width").await.as_deref(),
        Some("9")
    );
    browser.check("staff-coverage").await;

    // The CSV, with the session's cookie.
    let session = browser
        .client
        .get_named_cookie("loket_sessie")
        .await
        .expect("the session cookie");
    let csv = reqwest::Client::new()
        .get(loket.url("/medewerkers/export.csv?jaar=2017"))
        .header("cookie", format!("loket_sessie={}", session.value()))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    let csv = csv.text().await.unwrap();
    assert!(
        csv.lines().count() == 2 && csv.contains("EV-2017-0001"),
        "{csv}"
    );
    // Without a session: the sign-in, not the data.
    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(loket.url("/medewerkers/export.csv?jaar=2017"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 303);
    assert_eq!(anonymous.headers()["location"], "/medewerkers/inloggen");
    browser.close().await;
}

/// Staff publish and decline Week van Respect registrations on the edition's page; a
/// decline needs a reason; the summary chart's table counts them.
#[tokio::test]
async fn staff_publish_and_decline_registrations_and_see_the_summary() {
    let Some(driver) = Driver::start() else {
        return;
    };
    let loket = Loket::start("2017-10-02T10:00:00+02:00").await;
    let http = reqwest::Client::new();
    for (org, kind, title, date) in [
        (
            "OBS De Regenboog",
            "primary_school",
            "Respectles groep 7/8",
            "2017-11-08",
        ),
        (
            "VV Swifterbant",
            "sport_club",
            "Fair play-training",
            "2017-11-07",
        ),
    ] {
        let body = serde_json::json!({
            "organisation": {"name": org, "type": kind},
            "contact": {"name": "J. Bakker", "email": "j.bakker@example.nl", "phone": "0321 654321"},
            "activity": {
                "title": title, "description": "Over respect",
                "date": date, "starts_at": "09:00", "ends_at": "11:30",
                "location": "Dronten", "kern": "dronten", "expected_participants": 54,
                "age_min": 10, "age_max": 12, "open_to_public": false, "guest_lesson_wanted": false
            }
        });
        let created = http
            .post(loket.url("/respect-week/2017/activities"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
    }
    let browser = driver.session(true).await;
    sign_in(&browser, &loket, "j.visser").await;
    browser
        .goto(&loket.url("/medewerkers/week-van-respect"))
        .await;
    assert!(
        browser
            .current_url()
            .await
            .ends_with("/medewerkers/week-van-respect/2017")
    );
    browser.check("staff-respect-week").await;

    // The list is in programme order: the sport club's training comes first.
    browser
        .press("[data-testid=aanmelding]:nth-of-type(1) button[value=decline]")
        .await;
    assert!(browser.text("[data-testid=fout]").await.contains("Reden"));
    browser.check("staff-respect-week-error").await;
    let first = "[data-testid=aanmelding]:nth-of-type(1)";
    let reason_id = browser
        .attr(&format!("{first} textarea"), "id")
        .await
        .unwrap();
    browser.fill(&reason_id, "Valt buiten de doelgroep.").await;
    browser
        .press(&format!("{first} button[value=decline]"))
        .await;
    browser
        .press("[data-testid=aanmelding]:nth-of-type(2) button[value=publish]")
        .await;
    let statuses = browser
        .client
        .find_all(fantoccini::Locator::Css(
            "[data-testid=aanmelding] [data-testid=status]",
        ))
        .await
        .unwrap();
    let mut seen = Vec::new();
    for status in statuses {
        seen.push(status.text().await.unwrap());
    }
    assert_eq!(seen, ["Afgewezen", "Gepubliceerd"]);
    assert_eq!(browser.text("[data-testid=deelnemers]").await, "54");
    browser.check("staff-respect-week-decided").await;
    browser.close().await;
}
