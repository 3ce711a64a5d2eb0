//! The staff pages: signing in locally, the work queue, a decision, and two staff
//! members deciding on the same version.

use crate::cognito::CognitoStandIn;
use crate::driver::{Browser, Driver, Loket, STAFF_SECRET};

const SUBMISSION_MOMENT: &str = "2017-03-01T10:00:00+01:00";

pub async fn sign_in(browser: &Browser, loket: &Loket, staff: &str) {
    browser.goto(&loket.url("/medewerkers")).await;
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
    let body = serde_json::from_str(include_str!("../fixtures/zomerfestival.json")).unwrap();
    file(loket, body).await.0
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
            .goto(&loket.url(&format!("/medewerkers{query}")))
            .await;
        let found = visser
            .client
            .find_all(fantoccini::Locator::Css("[data-testid=aanvraag]"))
            .await
            .unwrap()
            .len();
        assert_eq!(found, rows, "{query}");
    }
    visser.goto(&loket.url("/medewerkers")).await;

    visser.press("[data-testid=aanvraag] a").await;
    assert_eq!(visser.text("[data-testid=status]").await, "Ingediend");
    let detail = visser.body().await;
    assert!(
        detail.contains("info@zomerfest.nl"),
        "everything the organiser sent"
    );
    // In words, not codes (#21): the alcohol as the form asked it, the kern by its
    // name, who made a change.
    for words in ["Alcohol wordt verkocht", "Biddinghuizen", "de aanvrager"] {
        assert!(detail.contains(words), "{words} in {detail}");
    }
    for code in ["sale", "biddinghuizen", "organiser"] {
        assert!(
            !detail.split_whitespace().any(|w| w == code),
            "the code {code} in {detail}"
        );
    }
    visser.check("staff-permit").await;
    // Voiding without its reason: named at the top and at the field.
    visser.tick("action-void").await;
    visser
        .press("form[action$='/besluit'] button[type=submit]")
        .await;
    assert!(
        visser.exists("#reason-error").await,
        "{}",
        visser.body().await
    );
    assert_eq!(visser.text("[data-testid=status]").await, "Ingediend");
    visser.check("staff-permit-decision-error").await;
    // Another category without choosing one: no category is chosen for staff, so
    // one slip cannot turn this C permit into a melding (#21).
    visser.tick("action-reclassify").await;
    visser
        .press("form[action$='/besluit'] button[type=submit]")
        .await;
    assert!(
        visser.exists("#category-error").await,
        "{}",
        visser.body().await
    );
    assert_eq!(visser.text("[data-testid=status]").await, "Ingediend");
    assert!(
        visser
            .body()
            .await
            .contains("Vergunning, categorie C (risicoscore"),
        "still category C"
    );

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
    // The page says the decision was saved, and the leges add up to their total
    // (worked example 2: EUR 1.463,00).
    assert_eq!(
        bakker.text("[data-testid=opgeslagen]").await,
        "Uw besluit is opgeslagen. De status is nu: In behandeling."
    );
    assert_eq!(
        bakker.text("[data-testid=leges-totaal]").await,
        "EUR 1.463,00"
    );
    bakker.check("staff-permit-saved").await;

    // The first decides on the version they saw (a submitted application: rejecting
    // is not offered before the review starts, #21, so they void it): nothing is
    // overwritten; the page says what changed and offers the fresh version.
    assert!(!visser.exists("#action-reject").await);
    assert!(!visser.exists("#action-approve").await);
    visser.tick("action-void").await;
    visser.fill("reason", "Te dicht bij de woonwijk.").await;
    visser
        .press("form[action$='/besluit'] button[type=submit]")
        .await;
    let conflict = visser.text("[data-testid=conflict]").await;
    assert!(conflict.contains("m.bakker"), "{conflict}");
    assert!(conflict.contains("In behandeling"), "{conflict}");
    assert_eq!(visser.text("[data-testid=status]").await, "In behandeling");
    visser.check("staff-permit-conflict").await;
    // On the fresh version, in review, rejecting is offered and goes through.
    visser.tick("action-reject").await;
    visser
        .press("form[action$='/besluit'] button[type=submit]")
        .await;
    assert_eq!(visser.text("[data-testid=status]").await, "Geweigerd");
    // The history holds each decision once: the review by one, the rejection by the
    // other; the refused attempt left nothing.
    let history: serde_json::Value = reqwest::Client::new()
        .get(loket.url(&format!("/admin/permits/{id}")))
        .bearer_auth(loket.staff_token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let steps: Vec<String> = history["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            format!(
                "{} by {}",
                h["to"].as_str().unwrap(),
                h["actor"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            "submitted by organiser",
            "in_review by m.bakker",
            "rejected by j.visser"
        ],
        "{history}"
    );

    // Signing out ends the session.
    visser
        .press("form[action='/medewerkers/uitloggen'] button")
        .await;
    visser.goto(&loket.url("/medewerkers")).await;
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

/// On AWS: Cognito's hosted sign-in (authorization code with PKCE), here against the
/// stand-in on `localhost` while loket is on `127.0.0.1`: another site to Chromium, so
/// the session cookie's SameSite=Strict is really put to the test.
#[tokio::test]
async fn staff_sign_in_at_cognito_with_pkce_and_sign_out_there_too() {
    let Some(driver) = Driver::start() else {
        return;
    };
    let cognito = CognitoStandIn::start().await;
    let loket = Loket::start_with(SUBMISSION_MOMENT, Some(&cognito)).await;
    file_zomerfestival(&loket).await;

    let browser = driver.session(true).await;
    browser.goto(&loket.url("/medewerkers")).await;
    let at_cognito = browser.current_url().await;
    assert!(
        at_cognito.starts_with(&format!("{}/oauth2/authorize?", cognito.domain)),
        "without a session, off to the hosted sign-in: {at_cognito}"
    );
    browser.fill("username", "j.visser").await;
    browser.press("#signin").await;
    // The callback's page moves on to the queue by itself (a meta refresh).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !browser.current_url().await.ends_with("/medewerkers") {
        assert!(
            std::time::Instant::now() < deadline,
            "stuck at {}",
            browser.current_url().await
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let queue = browser.body().await;
    assert!(queue.contains("Ingelogd als j.visser"), "{queue}");
    assert!(
        queue.contains("EV-2017-0001") && queue.contains("Zomerfestival"),
        "{queue}"
    );
    browser.check("staff-queue-cognito").await;

    browser
        .press("form[action='/medewerkers/uitloggen'] button")
        .await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !browser
        .current_url()
        .await
        .ends_with("/medewerkers/uitgelogd")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "not back from Cognito's logout: {}",
            browser.current_url().await
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(browser.body().await.contains("U bent uitgelogd"));
    assert_eq!(cognito.logouts(), 1);
    browser.check("staff-signed-out").await;
    browser.goto(&loket.url("/medewerkers")).await;
    assert!(
        browser
            .current_url()
            .await
            .starts_with(&format!("{}/oauth2/authorize?", cognito.domain)),
        "the session is gone"
    );
    browser.close().await;
}

/// Files an application through the API as an organiser would; its id and token.
async fn file(loket: &Loket, body: serde_json::Value) -> (String, String) {
    let created: serde_json::Value = reqwest::Client::new()
        .post(loket.url("/permits"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (
        created["id"].as_str().unwrap().to_string(),
        created["access_token"].as_str().unwrap().to_string(),
    )
}

/// docs/domain.md worked example 6, end to end: the Buurtbarbecue (EUR 30,00) and
/// the withdrawn Jeugdtoernooi (EUR 75,00, EUR 37,50 refunded) are filed; the
/// Zomerfestival is filed through the organiser's form and moves the coverage by
/// exactly its EUR 1.463,00, to 4,78 %; staff start the review and approve it on their
/// pages; the organiser's private page says "Verleend"; the coverage does not move
/// again (leges are imposed when an application is filed).
#[tokio::test]
async fn worked_example_6_from_the_organisers_form_to_the_staff_decision_and_the_coverage() {
    let Some(driver) = Driver::start() else {
        return;
    };
    let loket = Loket::start(SUBMISSION_MOMENT).await;
    let organiser = |name: &str| serde_json::json!({"name": name, "email": "organisator@example.nl", "phone": "0321 111111"});
    file(
        &loket,
        serde_json::json!({"organiser": organiser("Buurtvereniging Swifterbant"), "event": {
            "name": "Buurtbarbecue", "description": "Barbecue voor de buurt", "kern": "swifterbant",
            "address": "De Poort 1", "starts_at": "2017-06-17T14:00:00+02:00",
            "ends_at": "2017-06-17T22:00:00+02:00", "expected_visitors": 80,
            "amplified_music": false, "road_closure": false, "alcohol": "none",
            "largest_structure_m2": 0, "on_water": false, "fireworks": false,
            "commercial": false, "non_profit": false}}),
    )
    .await;
    let (toernooi, token) = file(
        &loket,
        serde_json::json!({"organiser": organiser("SV Dronten"), "event": {
            "name": "Jeugdtoernooi", "description": "Voetbaltoernooi voor de jeugd", "kern": "dronten",
            "address": "Sportpark De Dreef", "starts_at": "2017-05-14T13:00:00+02:00",
            "ends_at": "2017-05-14T20:00:00+02:00", "expected_visitors": 600,
            "amplified_music": true, "max_sound_dba": 65, "road_closure": false,
            "alcohol": "none", "largest_structure_m2": 0, "on_water": false,
            "fireworks": false, "commercial": false, "non_profit": true}}),
    )
    .await;
    let withdrawn = reqwest::Client::new()
        .post(loket.url(&format!("/permits/{toernooi}/withdraw")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(withdrawn.status(), 200);

    let staff = driver.session(true).await;
    sign_in(&staff, &loket, "j.visser").await;
    staff
        .goto(&loket.url("/medewerkers/dekkingsgraad?jaar=2017"))
        .await;
    assert_eq!(staff.text("[data-testid=dekkingsgraad]").await, "0,21 %");
    assert!(
        staff.body().await.contains("EUR 67,50"),
        "net 3,000 + 3,750"
    );

    // The Zomerfestival, through the organiser's form.
    let browser = driver.session(true).await;
    browser.goto(&loket.url("/evenementen/aanvragen")).await;
    crate::permits::fill_zomerfestival(&browser).await;
    browser.press("button[value=indienen]").await;
    assert_eq!(browser.text("[data-testid=kenmerk]").await, "EV-2017-0003");
    let link = browser.text("[data-testid=persoonlijke-link]").await;

    staff
        .goto(&loket.url("/medewerkers/dekkingsgraad?jaar=2017"))
        .await;
    assert_eq!(staff.text("[data-testid=dekkingsgraad]").await, "4,78 %");
    let figures = staff.body().await;
    for (what, amount) in [
        ("imposed 156,800", "EUR 1.568,00"),
        ("refunded 3,750", "EUR 37,50"),
        (
            "net 153,050: 6,750 + the Zomerfestival's 146,300",
            "EUR 1.530,50",
        ),
        ("open 149,300", "EUR 1.493,00"),
    ] {
        assert!(figures.contains(amount), "{what}: {figures}");
    }

    // Staff find it in the queue, start the review and approve.
    staff.goto(&loket.url("/medewerkers")).await;
    let queue = staff.body().await;
    assert!(queue.contains("EV-2017-0003") && queue.contains("Zomerfestival"));
    // Open applications by default, with when they came in and from whom (#21);
    // the withdrawn Jeugdtoernooi only under "Alle statussen".
    assert!(!queue.contains("Jeugdtoernooi"), "{queue}");
    assert!(
        queue.contains("1-3-2017") && queue.contains("Stichting Zomerfest"),
        "{queue}"
    );
    staff.goto(&loket.url("/medewerkers?status=")).await;
    assert!(staff.body().await.contains("Jeugdtoernooi"));
    staff.goto(&loket.url("/medewerkers?categorie=C")).await;
    staff.press("[data-testid=aanvraag] a").await;
    assert!(staff.body().await.contains("Aanvraag EV-2017-0003"));
    staff.tick("action-start_review").await;
    staff
        .press("form[action$='/besluit'] button[type=submit]")
        .await;
    assert_eq!(staff.text("[data-testid=status]").await, "In behandeling");
    staff.tick("action-approve").await;
    staff
        .press("form[action$='/besluit'] button[type=submit]")
        .await;
    assert_eq!(staff.text("[data-testid=status]").await, "Verleend");

    browser.goto(&link).await;
    assert_eq!(browser.text("[data-testid=status]").await, "Verleend");

    staff
        .goto(&loket.url("/medewerkers/dekkingsgraad?jaar=2017"))
        .await;
    assert_eq!(staff.text("[data-testid=dekkingsgraad]").await, "4,78 %");
    staff.close().await;
    browser.close().await;
}

/// The rows of the queue as text, top to bottom.
async fn queue_rows(browser: &Browser) -> Vec<String> {
    let mut rows = Vec::new();
    for row in browser
        .client
        .find_all(fantoccini::Locator::Css("[data-testid=aanvraag]"))
        .await
        .unwrap()
    {
        rows.push(row.text().await.unwrap());
    }
    rows
}

/// The queue (#21): open applications, the oldest received first (not the one due
/// first), and a flag on an application whose organiser answered a question, until
/// staff act on it.
#[tokio::test]
async fn the_queue_shows_the_oldest_first_and_flags_an_answer() {
    let Some(driver) = Driver::start() else {
        return;
    };
    let loket = Loket::start(SUBMISSION_MOMENT).await;
    let zomerfestival: serde_json::Value =
        serde_json::from_str(include_str!("../fixtures/zomerfestival.json")).unwrap();
    let (zomer, token) = file(&loket, zomerfestival.clone()).await;
    // Received after the Zomerfestival, but due long before it.
    let mut markt = zomerfestival;
    markt["event"]["name"] = "Voorjaarsmarkt".into();
    markt["event"]["starts_at"] = "2017-04-15T10:00:00+02:00".into();
    markt["event"]["ends_at"] = "2017-04-15T17:00:00+02:00".into();
    file(&loket, markt).await;

    loket
        .review(&zomer, serde_json::json!({"action": "start_review"}))
        .await;
    loket
        .review(
            &zomer,
            serde_json::json!({"action": "request_info", "reason": "Hoeveel toiletten?"}),
        )
        .await;
    let answered = reqwest::Client::new()
        .post(loket.url(&format!("/permits/{zomer}/info")))
        .bearer_auth(&token)
        .json(&serde_json::json!({"message": "Twintig."}))
        .send()
        .await
        .unwrap();
    assert_eq!(answered.status(), 200);

    let browser = driver.session(true).await;
    sign_in(&browser, &loket, "j.visser").await;
    let rows = queue_rows(&browser).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows[0].contains("Zomerfestival"), "oldest first: {rows:?}");
    assert!(rows[0].contains("antwoord ontvangen"), "{rows:?}");
    assert!(rows[1].contains("Voorjaarsmarkt"), "{rows:?}");
    assert!(!rows[1].contains("antwoord ontvangen"), "{rows:?}");
    browser.check("staff-queue-answered").await;

    browser
        .goto(&loket.url("/medewerkers?sorteer=uiterlijk"))
        .await;
    let rows = queue_rows(&browser).await;
    assert!(rows[0].contains("Voorjaarsmarkt"), "due first: {rows:?}");

    // Once staff act on the answer, the flag goes.
    loket
        .review(&zomer, serde_json::json!({"action": "approve"}))
        .await;
    browser.goto(&loket.url("/medewerkers?status=")).await;
    let rows = queue_rows(&browser).await;
    assert!(
        rows.iter().all(|row| !row.contains("antwoord ontvangen")),
        "{rows:?}"
    );
    browser.close().await;
}
