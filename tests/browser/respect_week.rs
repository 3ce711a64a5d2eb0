//! A school registers an activity for the Week van Respect 2017; once staff publish it
//! (through the API), the programme page and the calendar show it, without contact
//! data.

use crate::driver::{Browser, Driver, Loket};

#[tokio::test]
async fn a_school_registers_and_the_published_activity_is_in_the_programme() {
    let Some(driver) = Driver::start() else {
        return;
    };
    let loket = Loket::start("2017-10-01T10:00:00+02:00").await;
    let browser = driver.session(true).await;

    browser
        .goto(&loket.url("/week-van-respect/aanmelden"))
        .await;
    browser.check("respect-week-form").await;
    fill_regenboog(&browser).await;
    browser.press("form button[type=submit]").await;

    assert_eq!(browser.text("[data-testid=kenmerk]").await, "WVR-2017-0001");
    // No promise of publication that staff may not keep; the address and the guest
    // lesson acknowledged (#21).
    assert!(
        browser
            .text("[data-testid=bevestiging]")
            .await
            .contains("j.bakker@regenboog.nl")
    );
    assert!(
        browser
            .text("[data-testid=vervolg]")
            .await
            .contains("zo niet, dan laten wij u dat weten")
    );
    assert!(browser.exists("[data-testid=gastles]").await);
    browser.check("respect-week-confirmation").await;
    let link = browser.text("[data-testid=persoonlijke-link]").await;
    browser.goto(&link).await;
    let address = browser.current_url().await;
    assert!(!address.contains("sleutel"), "{address}");
    assert_eq!(
        browser.text("[data-testid=status]").await,
        "Aangemeld, nog niet gepubliceerd"
    );
    // The teacher's page says what happens with the guest lesson, and leads to the
    // programme (#21).
    assert!(
        browser
            .text("[data-testid=gastles]")
            .await
            .contains("De coördinator van de Week van Respect neemt contact met u op")
    );
    // The teacher's page leads to the programme (#21).
    assert_eq!(
        browser
            .attr("[data-testid=programma]", "href")
            .await
            .as_deref(),
        Some("/week-van-respect/2017")
    );
    browser.check("respect-week-private").await;

    // Staff publish it on their own page, in a browser of their own.
    let staff = driver.session(true).await;
    crate::staff::sign_in(&staff, &loket, "j.visser").await;
    staff
        .goto(&loket.url("/medewerkers/week-van-respect/2017"))
        .await;
    let row = "[data-testid=aanmelding]:nth-of-type(1)";
    assert!(staff.text(row).await.contains("Gastles over pesten"));
    staff.press(&format!("{row} button[value=publish]")).await;
    assert_eq!(
        staff.text(&format!("{row} [data-testid=status]")).await,
        "Gepubliceerd"
    );
    staff.close().await;
    let http = reqwest::Client::new();

    browser.goto(&loket.url("/week-van-respect/2017")).await;
    let programme = browser.body().await;
    assert!(programme.contains("Gastles over pesten"), "{programme}");
    assert!(programme.contains("OBS De Regenboog"));
    // A class lesson, not open to the public: visitors should not turn up (#21).
    assert!(
        programme.contains("niet openbaar: alleen voor de eigen leerlingen of leden"),
        "{programme}"
    );
    for private in ["J. Bakker", "j.bakker@regenboog.nl", "654321"] {
        assert!(
            !programme.contains(private),
            "the programme shows {private}"
        );
    }
    let calendar = browser.attr("[data-testid=agenda]", "href").await.unwrap();
    assert!(calendar.starts_with("webcal://"), "{calendar}");
    browser.check("respect-week-programme").await;

    // The filter keeps it for its kern and type, and drops it for others.
    browser
        .goto(&loket.url("/week-van-respect/2017?kern=swifterbant&soort="))
        .await;
    assert!(!browser.body().await.contains("Gastles over pesten"));
    browser.check("respect-week-programme-filtered").await;

    let ics = http
        .get(calendar.replacen("webcal://", "http://", 1))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(ics.contains("SUMMARY:Gastles over pesten"), "{ics}");
    for private in ["J. Bakker", "j.bakker@regenboog.nl", "654321"] {
        assert!(!ics.contains(private), "the calendar shows {private}");
    }

    // The school cancels on its private page; the programme drops the activity.
    browser.goto(&address).await;
    assert_eq!(
        browser.text("[data-testid=status]").await,
        "Staat in het programma"
    );
    browser.press("form button[type=submit]").await;
    assert_eq!(browser.text("[data-testid=status]").await, "Afgemeld");
    browser.check("respect-week-private-cancelled").await;
    browser.goto(&loket.url("/week-van-respect/2017")).await;
    assert!(!browser.body().await.contains("Gastles over pesten"));
    browser.close().await;
}

#[tokio::test]
async fn an_empty_registration_names_every_missing_field() {
    let Some(driver) = Driver::start() else {
        return;
    };
    let loket = Loket::start("2017-10-01T10:00:00+02:00").await;
    let browser = driver.session(true).await;
    browser
        .goto(&loket.url("/week-van-respect/aanmelden"))
        .await;
    browser.press("form button[type=submit]").await;
    let links = browser
        .client
        .find_all(fantoccini::Locator::Css("[data-error-summary] a"))
        .await
        .unwrap();
    assert!(
        links.len() >= 12,
        "every required field is named: {}",
        links.len()
    );
    browser.check("respect-week-form-errors").await;
    browser.close().await;
}

/// Fills in the registration form for OBS De Regenboog's guest lesson on 8 November
/// 2017, 09:00 to 11:30, with a guest lesson asked for.
async fn fill_regenboog(browser: &Browser) {
    browser.fill("organisation-name", "OBS De Regenboog").await;
    browser.choose("organisation-type", "primary_school").await;
    browser.fill("contact-name", "J. Bakker").await;
    browser.fill("contact-email", "j.bakker@regenboog.nl").await;
    browser.fill("contact-phone", "0321 654321").await;
    browser.fill("activity-title", "Gastles over pesten").await;
    browser
        .fill(
            "activity-description",
            "Een gastles voor groep 7 en 8 over pesten",
        )
        .await;
    browser.fill("activity-date", "08-11-2017").await;
    browser.fill("activity-starts-at", "09:00").await;
    browser.fill("activity-ends-at", "11:30").await;
    browser
        .fill("activity-location", "De Regenboog, Educalaan 1")
        .await;
    browser.choose("activity-kern", "dronten").await;
    browser.fill("activity-expected-participants", "54").await;
    browser.fill("activity-age-min", "10").await;
    browser.fill("activity-age-max", "12").await;
    browser.tick("activity-guest-lesson-wanted").await;
}

#[tokio::test]
async fn a_duplicate_comes_back_with_everything_typed_and_another_start_time_is_accepted() {
    let Some(driver) = Driver::start() else {
        return;
    };
    let loket = Loket::start("2017-10-01T10:00:00+02:00").await;
    let browser = driver.session(true).await;
    for _ in 0..2 {
        browser
            .goto(&loket.url("/week-van-respect/aanmelden"))
            .await;
        fill_regenboog(&browser).await;
        browser.press("form button[type=submit]").await;
    }
    // The second is the same activity: the form comes back, filled in, and says what
    // clashes and what to do (#21).
    let summary = browser.text("[data-error-summary]").await;
    for expected in [
        "Begintijd: OBS De Regenboog heeft ‘Gastles over pesten’ op woensdag 8 november 2017 om 09:00 al aangemeld.",
        "Kies dan een andere begintijd of titel.",
        "link uit de e-mail",
    ] {
        assert!(summary.contains(expected), "{expected:?} in {summary}");
    }
    assert_eq!(
        browser
            .attr("[data-error-summary] a", "href")
            .await
            .unwrap_or_default()
            .rsplit('#')
            .next(),
        Some("activity-starts-at")
    );
    assert_eq!(
        browser
            .attr("[data-testid=dubbel] a", "href")
            .await
            .as_deref(),
        Some("/week-van-respect/link-kwijt")
    );
    for (id, value) in [
        ("organisation-name", "OBS De Regenboog"),
        ("contact-email", "j.bakker@regenboog.nl"),
        ("activity-title", "Gastles over pesten"),
        ("activity-date", "2017-11-08"),
        ("activity-starts-at", "09:00"),
        ("activity-age-max", "12"),
    ] {
        assert_eq!(
            browser.attr(&format!("#{id}"), "value").await.as_deref(),
            Some(value),
            "#{id} keeps what was typed"
        );
    }
    assert_eq!(
        browser.text("#activity-description").await,
        "Een gastles voor groep 7 en 8 over pesten"
    );
    assert!(
        browser
            .client
            .find(fantoccini::Locator::Id("activity-guest-lesson-wanted"))
            .await
            .unwrap()
            .is_selected()
            .await
            .unwrap(),
        "the guest lesson stays ticked"
    );
    browser.check("respect-week-form-duplicate").await;

    // A colleague gives the same lesson to another class later that morning.
    browser.fill("activity-starts-at", "11:30").await;
    browser.fill("activity-ends-at", "13:00").await;
    browser.press("form button[type=submit]").await;
    assert_eq!(browser.text("[data-testid=kenmerk]").await, "WVR-2017-0002");
    browser.close().await;
}

#[tokio::test]
async fn staff_open_a_registration_in_full_and_publish_it_there() {
    let Some(driver) = Driver::start() else {
        return;
    };
    let loket = Loket::start("2017-10-01T10:00:00+02:00").await;
    let registered = reqwest::Client::new()
        .post(loket.url("/respect-week/2017/activities"))
        .json(&serde_json::json!({
            "organisation": {"name": "OBS De Regenboog", "type": "primary_school"},
            "contact": {"name": "J. Bakker", "email": "j.bakker@regenboog.nl", "phone": "0321 654321"},
            "activity": {
                "title": "Respectles groep 7/8",
                "description": "Een les over pesten en samenwerken.",
                "date": "2017-11-08", "starts_at": "09:00", "ends_at": "11:30",
                "location": "De Regenboog, Educalaan 1", "kern": "dronten",
                "expected_participants": 54, "age_min": 10, "age_max": 12,
                "open_to_public": false, "guest_lesson_wanted": true
            }
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 201);

    let staff = driver.session(true).await;
    crate::staff::sign_in(&staff, &loket, "j.visser").await;
    staff
        .goto(&loket.url("/medewerkers/week-van-respect/2017"))
        .await;
    assert_eq!(
        staff
            .attr("[data-testid=contacten-excel]", "href")
            .await
            .as_deref(),
        Some("/medewerkers/week-van-respect/2017/contacten.csv?dialect=excel_nl")
    );
    staff.press("[data-testid=detail]").await;
    let page = staff.body().await;
    for expected in [
        "Respectles groep 7/8",
        "Een les over pesten en samenwerken.",
        "De Regenboog, Educalaan 1",
        "54",
        "10 tot en met 12 jaar",
        "J. Bakker",
        "j.bakker@regenboog.nl",
        "0321 654321",
        "Niet openbaar",
    ] {
        assert!(page.contains(expected), "{expected:?} in {page}");
    }
    assert_eq!(
        staff.text("[data-testid=gastles]").await,
        "Gevraagd: de coördinator neemt contact op"
    );
    assert_eq!(staff.text("[data-testid=status]").await, "Aangemeld");
    staff.check("staff-respect-week-detail").await;

    // Deciding there keeps the staff member on the registration.
    staff.press("button[value=publish]").await;
    assert!(
        staff
            .current_url()
            .await
            .contains("/medewerkers/week-van-respect/2017/"),
        "back on the detail page"
    );
    assert_eq!(staff.text("[data-testid=status]").await, "Gepubliceerd");
    assert!(!staff.exists("button[value=publish]").await, "decided once");
    assert!(
        staff.body().await.contains("j.visser"),
        "the history names who"
    );
    staff.check("staff-respect-week-detail-published").await;
    staff.close().await;
}
