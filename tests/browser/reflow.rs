//! WCAG 2.1 1.4.10 Reflow: at 320 CSS pixels wide (a 1280px screen at 400 %, or a
//! small phone) no page scrolls sideways, with or without its errors shown.

use crate::driver::{Browser, Driver, Loket};

/// Whether the page is wider than the window, and what sticks out.
pub async fn overflow(browser: &Browser) -> Vec<String> {
    let found: serde_json::Value = browser
        .client
        .execute(
            "const width = document.documentElement.clientWidth;
             const out = [];
             if (document.documentElement.scrollWidth > width) {
               out.push('page ' + document.documentElement.scrollWidth + 'px in ' + width + 'px');
               for (const el of document.querySelectorAll('body *')) {
                 const right = el.getBoundingClientRect().right;
                 if (right > width + 0.5) out.push(el.tagName + '.' + el.className + ' ends at ' + Math.round(right) + 'px');
               }
             }
             return out.slice(0, 10);",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(found).unwrap()
}

#[tokio::test]
async fn no_page_scrolls_sideways_at_320_pixels() {
    let Some(driver) = Driver::start() else {
        return;
    };
    let loket = Loket::start("2017-10-01T10:00:00+02:00").await;
    let browser = driver.session(true).await;
    browser.client.set_window_size(320, 900).await.unwrap();
    let pages: &[(&str, Option<&str>)] = &[
        ("/", None),
        ("/evenementen/aanvragen", None),
        ("/evenementen/aanvragen", Some("button[value=indienen]")),
        ("/evenementen/link-kwijt", None),
        ("/week-van-respect/aanmelden", None),
        (
            "/week-van-respect/aanmelden",
            Some("form button[type=submit]"),
        ),
        ("/week-van-respect/2017", None),
        ("/week-van-respect/link-kwijt", None),
        ("/medewerkers/inloggen", None),
    ];
    let mut failures = Vec::new();
    for (page, press) in pages {
        browser.goto(&loket.url(page)).await;
        if let Some(button) = press {
            browser.press(button).await;
        }
        let sticking_out = overflow(&browser).await;
        if !sticking_out.is_empty() {
            let name = format!("reflow{}", page.replace('/', "-"));
            browser.screenshot(&name).await;
            failures.push(format!("{page} {press:?}: {sticking_out:?}"));
        }
    }
    browser.close().await;
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Each checkbox's label stands beside it on one line where it fits, on every form
/// (the design system's grid once put the label in the box's own 1em column, one word
/// per line).
#[tokio::test]
async fn checkbox_labels_stand_beside_their_box_on_one_line() {
    let Some(driver) = Driver::start() else {
        return;
    };
    let loket = Loket::start("2017-10-01T10:00:00+02:00").await;
    let browser = driver.session(true).await;
    let mut checked = 0;
    for page in ["/evenementen/aanvragen", "/week-van-respect/aanmelden"] {
        browser.goto(&loket.url(page)).await;
        let labels: serde_json::Value = browser
            .client
            .execute(
                "return [...document.querySelectorAll('input[type=checkbox]')].map(box => {
                   const label = document.querySelector('label[for=\"' + box.id + '\"]');
                   const b = box.getBoundingClientRect(), l = label.getBoundingClientRect();
                   const line = parseFloat(getComputedStyle(label).lineHeight) || 24;
                   return [label.textContent, l.left >= b.right, Math.abs(l.top - b.top) < line,
                           l.height < 1.6 * line];
                 });",
                vec![],
            )
            .await
            .unwrap();
        let labels: Vec<(String, bool, bool, bool)> = serde_json::from_value(labels).unwrap();
        for (label, beside, level, one_line) in labels {
            checked += 1;
            assert_eq!(
                (beside, level, one_line),
                (true, true, true),
                "{page}: {label} (beside, level, one line)"
            );
        }
    }
    assert!(checked >= 7, "only {checked} checkboxes found");
    browser.close().await;
}
