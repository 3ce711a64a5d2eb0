//! The organiser's pages: the Zomerfestival (worked example 2 of docs/domain.md) from
//! the empty form to the private page, the error summary, and the same application
//! without JavaScript.

use crate::driver::{Browser, Driver, Loket};

const SUBMISSION_MOMENT: &str = "2017-03-01T10:00:00+01:00";

/// Worked example 2, typed in as an organiser would.
pub async fn fill_zomerfestival(browser: &Browser) {
    browser.fill("organiser-name", "A. de Vries").await;
    browser
        .fill("organiser-organisation", "Stichting Zomerfest")
        .await;
    browser.fill("organiser-kvk-number", "12345678").await;
    browser.fill("organiser-email", "info@zomerfest.nl").await;
    browser.fill("organiser-phone", "0321 123456").await;
    browser.fill("event-name", "Zomerfestival").await;
    browser
        .fill("event-description", "Tweedaags muziekfestival")
        .await;
    browser.choose("event-kern", "biddinghuizen").await;
    browser.fill("event-address", "Spijkweg 30").await;
    browser.fill("event-start-date", "18-08-2017").await;
    browser.fill("event-start-time", "12:00").await;
    browser.fill("event-end-date", "19-08-2017").await;
    browser.fill("event-end-time", "01:00").await;
    browser.fill("event-expected-visitors", "4000").await;
    browser.fill("event-largest-structure-m2", "400").await;
    browser.choose("event-alcohol", "sale").await;
    browser.tick("event-amplified-music").await;
    browser.fill("event-max-sound-dba", "85").await;
    browser.tick("event-road-closure").await;
    browser.tick("event-commercial").await;
}

/// The summary shows category C, EUR 1.463,00 and 2017-05-26.
async fn assert_zomerfestival_summary(browser: &Browser, page: &str) {
    if !browser.exists("[data-testid=categorie]").await {
        browser.screenshot("failed-summary").await;
        panic!("{page}: no summary on\n{}", browser.body().await);
    }
    let category = browser.text("[data-testid=categorie]").await;
    let total = browser.text("[data-testid=totaal]").await;
    let by = browser.attr("[data-testid=uiterlijk]", "datetime").await;
    println!("{page}: {category} | {total} | {by:?}");
    assert_eq!(category, "Vergunning, categorie C", "{page}");
    assert_eq!(total, "EUR 1.463,00", "{page}");
    assert_eq!(by.as_deref(), Some("2017-05-26"), "{page}");
    assert!(
        !browser.exists("[data-testid=te-laat]").await,
        "{page}: on time"
    );
}

#[tokio::test]
async fn the_zomerfestival_is_summarised_filed_and_followed() {
    let Some(driver) = Driver::start() else {
        return;
    };
    let loket = Loket::start(SUBMISSION_MOMENT).await;
    let browser = driver.session(true).await;

    browser.goto(&loket.url("/evenementen/aanvragen")).await;
    let classes = browser.attr("html", "class").await.unwrap_or_default();
    assert!(
        classes.contains("loket-js"),
        "the script runs here: {classes}"
    );
    browser.check("permit-form-empty").await;
    fill_zomerfestival(&browser).await;
    browser.press("button[value=bereken]").await;
    assert_zomerfestival_summary(&browser, "the form's summary").await;
    browser.check("permit-form-summary").await;

    browser.press("button[value=indienen]").await;
    assert_eq!(browser.text("[data-testid=kenmerk]").await, "EV-2017-0001");
    // What, where and when, and where the e-mail went (#21).
    assert_eq!(
        browser.text("[data-testid=wat]").await,
        "Zomerfestival, Spijkweg 30, Biddinghuizen, van vrijdag 18 augustus 2017 12:00 \
         tot zaterdag 19 augustus 2017 01:00."
    );
    assert!(
        browser
            .text("[data-testid=bevestiging]")
            .await
            .contains("info@zomerfest.nl")
    );
    assert_zomerfestival_summary(&browser, "the confirmation").await;
    browser.check("permit-confirmation").await;

    // The private link: its token goes into a cookie and out of the address bar.
    let link = browser.text("[data-testid=persoonlijke-link]").await;
    assert!(link.contains("?sleutel="), "{link}");
    browser.goto(&link).await;
    let address = browser.current_url().await;
    assert!(
        !address.contains("sleutel"),
        "the token left the address bar: {address}"
    );
    assert_eq!(browser.text("[data-testid=status]").await, "Ingediend");
    // Everything that was sent, in words, not codes (#21).
    let sent = browser.body().await;
    for said in [
        "Biddinghuizen",
        "Alcohol wordt verkocht",
        "vrijdag 18 augustus 2017",
        "4.000",
        "info@zomerfest.nl",
    ] {
        assert!(sent.contains(said), "{said} on\n{sent}");
    }
    for code in ["biddinghuizen", "\nsale\n", "true", "false"] {
        assert!(!sent.contains(code), "{code:?} on\n{sent}");
    }
    // One leges story: nothing is paid yet, so nothing is paid back.
    let open = "U betaalt nu nog niets. U krijgt een rekening voor de leges van EUR 1.463,00 \
                na ons besluit. Trekt u uw aanvraag eerder in, dan betaalt u EUR 731,50.";
    assert_eq!(browser.text("[data-testid=leges-uitleg]").await, open);
    browser.check("permit-private").await;

    // Withdrawing shows what it does to the leges before it is confirmed, in the
    // words its e-mail uses (tests/mail.rs).
    browser.press("a[href$='/intrekken']").await;
    let withdrawn = "Na intrekking betaalt u EUR 731,50 aan leges in plaats van EUR 1.463,00. \
                     U krijgt daarvoor een rekening.";
    assert_eq!(browser.text("[data-testid=leges-uitleg]").await, withdrawn);
    assert!(!browser.body().await.contains("terug krijgt"));
    browser.check("permit-withdraw").await;
    browser.press("form button[type=submit]").await;
    assert_eq!(browser.text("[data-testid=status]").await, "Ingetrokken");
    assert_eq!(browser.text("[data-testid=leges-uitleg]").await, withdrawn);
    browser.check("permit-private-withdrawn").await;

    // Another browser without the cookie: the bare address opens nothing.
    let stranger = driver.session(true).await;
    stranger.goto(&address).await;
    assert!(stranger.body().await.contains("Deze pagina bestaat niet"));
    stranger.close().await;
    browser.close().await;
}

#[tokio::test]
async fn an_empty_submission_shows_an_error_summary_whose_links_focus_their_fields() {
    let Some(driver) = Driver::start() else {
        return;
    };
    let loket = Loket::start(SUBMISSION_MOMENT).await;
    let browser = driver.session(true).await;
    browser.goto(&loket.url("/evenementen/aanvragen")).await;
    browser.press("button[value=indienen]").await;

    assert!(browser.exists("[data-error-summary]").await);
    let summary_focused: serde_json::Value = browser
        .client
        .execute(
            "return document.activeElement.hasAttribute('data-error-summary');",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(summary_focused, true, "the error summary takes the focus");
    browser.check("permit-form-errors").await;

    let links = browser
        .client
        .find_all(fantoccini::Locator::Css("[data-error-summary] a"))
        .await
        .unwrap();
    assert!(
        links.len() >= 10,
        "every required field is named: {}",
        links.len()
    );
    let mut targets = Vec::new();
    for link in &links {
        targets.push(link.attr("href").await.unwrap().unwrap());
    }
    for (i, target) in targets.iter().enumerate() {
        let link = browser
            .client
            .find_all(fantoccini::Locator::Css("[data-error-summary] a"))
            .await
            .unwrap()
            .remove(i);
        link.click().await.unwrap();
        assert_eq!(
            format!("#{}", browser.focused_id().await),
            *target,
            "the link {target} focuses its field"
        );
    }
    browser.close().await;
}

#[tokio::test]
async fn without_javascript_the_same_application_can_be_filed() {
    let Some(driver) = Driver::start() else {
        return;
    };
    let loket = Loket::start(SUBMISSION_MOMENT).await;
    let browser = driver.session(false).await;
    browser.goto(&loket.url("/evenementen/aanvragen")).await;
    let classes = browser.attr("html", "class").await.unwrap_or_default();
    assert!(!classes.contains("loket-js"), "no script ran: {classes}");
    fill_zomerfestival(&browser).await;
    // "Bereken" re-renders the page with the summary: no script involved.
    browser.press("button[value=bereken]").await;
    assert_zomerfestival_summary(&browser, "the summary without script").await;
    browser.screenshot("permit-form-summary-no-js").await;
    browser.press("button[value=indienen]").await;
    assert_eq!(browser.text("[data-testid=kenmerk]").await, "EV-2017-0001");
    assert_zomerfestival_summary(&browser, "the confirmation without script").await;
    browser.close().await;
}

/// A page with its stylesheet and script is at most 40 KB on the wire (gzip, as
/// every browser asks for it), the stylesheet at most 25 KB (#21): only the CSS the
/// pages use is shipped (web/build-css.mjs).
#[tokio::test]
async fn a_page_with_its_stylesheet_and_script_is_under_40_kb_compressed() {
    let loket = Loket::start(SUBMISSION_MOMENT).await;
    let http = reqwest::Client::new();
    let get = |path: String| http.get(path).header("accept-encoding", "gzip").send();
    for page in [
        "/",
        "/evenementen/aanvragen",
        "/week-van-respect/aanmelden",
        "/week-van-respect/2017",
    ] {
        let response = get(loket.url(page)).await.unwrap();
        assert_eq!(response.status(), 200, "{page}");
        assert_eq!(response.headers()["content-encoding"], "gzip", "{page}");
        let html_bytes = response.bytes().await.unwrap();
        // The plain page names its assets.
        let plain = http
            .get(loket.url(page))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let mut total = html_bytes.len();
        for asset in plain
            .split('"')
            .filter(|s| s.starts_with("/static/"))
            .collect::<std::collections::BTreeSet<_>>()
        {
            let response = get(loket.url(asset)).await.unwrap();
            assert_eq!(response.headers()["content-encoding"], "gzip", "{asset}");
            let size = response.bytes().await.unwrap().len();
            if asset.ends_with(".css") {
                println!("{asset}: {size} bytes compressed");
                assert!(size <= 25 * 1024, "{asset}: {size} bytes");
            }
            total += size;
        }
        println!("{page}: {total} bytes compressed, stylesheet and script included");
        assert!(total <= 40 * 1024, "{page}: {total} bytes");
    }
}

/// The value of `<input … name="{name}" value="…">` in a page.
fn hidden(html: &str, name: &str) -> String {
    let at = html
        .find(&format!("name=\"{name}\" value=\""))
        .unwrap_or_else(|| panic!("no {name} in the page"));
    let rest = &html[at + name.len() + 15..];
    rest[..rest.find('"').unwrap()].to_string()
}

/// The Zomerfestival as the form posts it.
fn zomerfestival_form(csrf: &str, key: &str) -> Vec<(&'static str, String)> {
    [
        ("organiser.name", "A. de Vries"),
        ("organiser.email", "info@zomerfest.nl"),
        ("organiser.phone", "0321 123456"),
        ("event.name", "Zomerfestival"),
        ("event.description", "Tweedaags muziekfestival"),
        ("event.kern", "biddinghuizen"),
        ("event.address", "Spijkweg 30"),
        ("event.start_date", "2017-08-18"),
        ("event.start_time", "12:00"),
        ("event.end_date", "2017-08-19"),
        ("event.end_time", "01:00"),
        ("event.expected_visitors", "4000"),
        ("event.largest_structure_m2", "400"),
        ("event.alcohol", "sale"),
        ("event.amplified_music", "ja"),
        ("event.max_sound_dba", "85"),
        ("event.road_closure", "ja"),
        ("event.commercial", "ja"),
        ("actie", "indienen"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .chain([
        ("csrf", csrf.to_string()),
        ("idempotency_key", key.to_string()),
    ])
    .collect()
}

/// The empty permit form as a browser without JavaScript gets it: its session
/// cookie, CSRF value and idempotency key.
async fn open_form(loket: &Loket, http: &reqwest::Client) -> (String, String, String) {
    let form = http
        .get(loket.url("/evenementen/aanvragen"))
        .send()
        .await
        .unwrap();
    let cookie = form.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let page = form.text().await.unwrap();
    (
        cookie,
        hidden(&page, "csrf"),
        hidden(&page, "idempotency_key"),
    )
}

/// A double click or a refresh posts the same form again: the same application is
/// confirmed, not a second one. A post without the form's CSRF value is refused.
#[tokio::test]
async fn a_repeated_post_files_once_and_a_post_from_elsewhere_is_refused() {
    let loket = Loket::start(SUBMISSION_MOMENT).await;
    let http = reqwest::Client::new();
    let (cookie, csrf, key) = open_form(&loket, &http).await;
    let post = |fields: Vec<(&'static str, String)>, cookie: Option<String>| {
        let mut request = http.post(loket.url("/evenementen/aanvragen")).form(&fields);
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send()
    };
    let reference = |html: &str| {
        let at = html
            .find("data-testid=\"kenmerk\">")
            .expect("a confirmation");
        html[at + 22..at + 34].to_string()
    };
    let first = post(zomerfestival_form(&csrf, &key), Some(cookie.clone()))
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let first = first.text().await.unwrap();
    let again = post(zomerfestival_form(&csrf, &key), Some(cookie.clone()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(reference(&first), "EV-2017-0001");
    assert_eq!(
        reference(&again),
        "EV-2017-0001",
        "the repeat is the same application"
    );
    let fresh = post(
        zomerfestival_form(&csrf, "anotherkey1"),
        Some(cookie.clone()),
    )
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    assert_eq!(
        reference(&fresh),
        "EV-2017-0002",
        "a new form is a new application"
    );

    // Without the cookie, or with another value, nothing is filed.
    for (fields, cookie) in [
        (zomerfestival_form(&csrf, "fromelsewhere1"), None),
        (
            zomerfestival_form("0123456789abcdef0123456789abcdef", "fromelsewhere2"),
            Some(cookie.clone()),
        ),
    ] {
        let refused = post(fields, cookie).await.unwrap();
        assert_eq!(refused.status(), 403);
        assert!(
            refused
                .text()
                .await
                .unwrap()
                .contains("Het formulier is verlopen")
        );
    }
    let next = post(zomerfestival_form(&csrf, "anotherkey2"), Some(cookie))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        reference(&next),
        "EV-2017-0003",
        "the refused posts took no number"
    );
}

/// Staff ask a question (through the API); the organiser reads it behind the private
/// link, answers it there, and the application is back in review.
#[tokio::test]
async fn the_organiser_answers_a_question_on_the_private_page() {
    let Some(driver) = Driver::start() else {
        return;
    };
    let loket = Loket::start(SUBMISSION_MOMENT).await;
    let browser = driver.session(true).await;
    browser.goto(&loket.url("/evenementen/aanvragen")).await;
    fill_zomerfestival(&browser).await;
    browser.press("button[value=indienen]").await;
    let link = browser.text("[data-testid=persoonlijke-link]").await;
    let id = link
        .split('?')
        .next()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();

    for body in [
        serde_json::json!({"action": "start_review"}),
        serde_json::json!({"action": "request_info", "reason": "Stuur een plattegrond mee."}),
    ] {
        loket.review(&id, body).await;
    }

    browser.goto(&link).await;
    assert_eq!(
        browser.text("[data-testid=status]").await,
        "Wij hebben een vraag aan u"
    );
    assert!(browser.body().await.contains("Stuur een plattegrond mee."));
    browser.check("permit-private-question").await;
    // An empty answer is refused at the field.
    browser.press("form button[type=submit]").await;
    assert!(browser.exists("#message-error").await);
    browser.check("permit-private-question-error").await;
    browser
        .fill(
            "message",
            "De plattegrond staat op zomerfest.nl/plattegrond.",
        )
        .await;
    browser.press("form button[type=submit]").await;
    assert_eq!(browser.text("[data-testid=status]").await, "In behandeling");
    // Who said what: the question is the municipality's, the answer the organiser's.
    let steps = browser.text("[data-testid=geschiedenis]").await;
    for step in [
        "De gemeente: Vraag aan u gesteld, woensdag 1 maart 2017 10:00\nStuur een plattegrond mee.",
        "U: Vraag beantwoord, woensdag 1 maart 2017 10:00\nDe plattegrond staat op zomerfest.nl/plattegrond.",
    ] {
        assert!(steps.contains(step), "{step:?} in\n{steps}");
    }

    // Approved with conditions: the banner says so and shows them.
    let conditions = "Plaats twintig toiletten.";
    loket
        .review(
            &id,
            serde_json::json!({"action": "approve", "reason": conditions}),
        )
        .await;
    browser
        .goto(&loket.url(&format!("/evenementen/aanvraag/{id}")))
        .await;
    assert_eq!(browser.text("[data-testid=status]").await, "Verleend");
    let banner = browser.text("[data-testid=banner]").await;
    assert!(banner.contains("U krijgt de vergunning"), "{banner}");
    assert_eq!(
        browser.text("[data-testid=besluit-toelichting]").await,
        conditions
    );
    assert_eq!(
        browser.text("[data-testid=leges-uitleg]").await,
        "U krijgt een rekening voor de leges van EUR 1.463,00."
    );
    // The check reflows it at 320 px too: the history and the lists on a phone.
    browser.check("permit-private-approved").await;
    browser.close().await;
}

/// The form can be worked with the keyboard alone: Tab reaches every control in the
/// order of the form, each with a visible focus, and Enter on "Bereken" submits it.
#[tokio::test]
async fn the_permit_form_can_be_worked_with_the_keyboard_alone() {
    use fantoccini::key::Key;
    let Some(driver) = Driver::start() else {
        return;
    };
    let loket = Loket::start(SUBMISSION_MOMENT).await;
    let browser = driver.session(true).await;
    browser.goto(&loket.url("/evenementen/aanvragen")).await;
    let controls: Vec<String> = {
        let mut ids = Vec::new();
        for control in browser
            .client
            .find_all(fantoccini::Locator::Css(
                "form input:not([type=hidden]), form select, form textarea, form button",
            ))
            .await
            .unwrap()
        {
            let id = control.attr("id").await.unwrap();
            let value = control.attr("value").await.unwrap();
            ids.push(id.or(value).unwrap_or_default());
        }
        ids
    };
    let mut reached = Vec::new();
    for _ in 0..80 {
        browser
            .client
            .active_element()
            .await
            .unwrap()
            .send_keys(&Key::Tab.to_string())
            .await
            .unwrap();
        let (id, value, outline): (String, String, String) = {
            let v = browser
                .client
                .execute(
                    "const e = document.activeElement; const s = getComputedStyle(e); return [e.id || '', e.value || '', s.outlineStyle + ' ' + s.boxShadow];",
                    vec![],
                )
                .await
                .unwrap();
            let a = v.as_array().unwrap();
            (
                a[0].as_str().unwrap().to_string(),
                a[1].as_str().unwrap().to_string(),
                a[2].as_str().unwrap().to_string(),
            )
        };
        let name = if id.is_empty() { value } else { id };
        if controls.contains(&name) {
            assert!(
                !outline.starts_with("none none"),
                "{name} shows no focus: {outline}"
            );
            // A date or time field takes one Tab per part (day, month, …).
            if reached.last() != Some(&name) {
                reached.push(name.clone());
            }
        }
        if name == "indienen" {
            break;
        }
    }
    assert_eq!(reached, controls, "Tab reaches every control, in order");

    // Back to "Bereken" and Enter: the form is submitted (here: refused, empty).
    browser
        .client
        .find(fantoccini::Locator::Css("button[value=bereken]"))
        .await
        .unwrap()
        .send_keys(&Key::Enter.to_string())
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(browser.exists("[data-error-summary]").await);
    browser.close().await;
}

/// "Ik ben mijn link kwijt" from the home page: the form, its errors, and the answer.
#[tokio::test]
async fn the_lost_link_page_names_its_errors_and_answers_without_telling_who_exists() {
    let Some(driver) = Driver::start() else {
        return;
    };
    let loket = Loket::start(SUBMISSION_MOMENT).await;
    let browser = driver.session(true).await;
    browser.goto(&loket.url("/")).await;
    browser.press("a[href='/evenementen/link-kwijt']").await;
    browser.check("lost-link").await;
    browser.press("form button[type=submit]").await;
    let summary = browser.text("[data-error-summary]").await;
    assert!(
        summary.contains("Kenmerk") && summary.contains("E-mailadres"),
        "{summary}"
    );
    browser.check("lost-link-errors").await;
    browser.fill("reference", "EV-2017-0042").await;
    browser.fill("email", "iemand@example.nl").await;
    browser.press("form button[type=submit]").await;
    let answer = browser.body().await;
    assert!(answer.contains("Kijk in uw e-mail"), "{answer}");
    assert!(answer.contains("Als het kenmerk en het e-mailadres bij elkaar horen"));
    browser.check("lost-link-answer").await;
    browser.close().await;
}

/// An error is written for its field and stands at the field that is wrong (#21):
/// "vierduizend" visitors asks for a number in figures, an empty start time is the
/// time's fault (not the date's), and a label that is a question is not followed by
/// a colon in the error summary.
#[tokio::test]
async fn each_error_is_written_for_its_field_and_stands_at_it() {
    let loket = Loket::start(SUBMISSION_MOMENT).await;
    let http = reqwest::Client::new();
    let (cookie, csrf, key) = open_form(&loket, &http).await;
    let fields: Vec<(&'static str, String)> = zomerfestival_form(&csrf, &key)
        .into_iter()
        .map(|(name, value)| match name {
            "event.expected_visitors" => (name, "vierduizend".to_string()),
            "event.start_time" | "event.description" => (name, String::new()),
            _ => (name, value),
        })
        .collect();
    let answer = http
        .post(loket.url("/evenementen/aanvragen"))
        .header("cookie", cookie)
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 422);
    let html = answer.text().await.unwrap();
    let error_of = |id: &str| {
        let marker =
            format!("id=\"{id}-error\"><span class=\"loket-visually-hidden\">Fout: </span>");
        html.find(&marker).map(|at| {
            let rest = &html[at + marker.len()..];
            rest[..rest.find('<').unwrap()].to_string()
        })
    };
    assert_eq!(
        error_of("event-expected-visitors").as_deref(),
        Some("Vul een getal in, in cijfers, bijvoorbeeld 4000.")
    );
    assert!(error_of("event-start-time").is_some(), "the empty time");
    assert_eq!(error_of("event-start-date"), None, "the date was filled in");
    assert!(
        html.contains("Wat gaat er gebeuren? Dit veld is verplicht."),
        "no '?:' in the summary"
    );
}
