//! "Ik ben mijn link kwijt" through the API (docs/api.md): one answer for every
//! request, a new link (and the old one dead) only for a matching reference and
//! address, at most once per ten minutes per record; what is sent is read from the
//! outbox, on both stores. `tests/mail.rs` follows the same through SMTP.

use chrono::Duration;
use loket::clock::Clock;
use loket::domain::outbox::OutboxMessage;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::permits::{submit, zomerfestival};
use crate::respect_week::{OPEN, regenboog, register};

/// Every message waiting in the outbox, of one kind.
async fn waiting(app: &TestApp, kind: &str) -> Vec<OutboxMessage> {
    let far = app.real_clock.now() + Duration::days(1);
    app.state
        .store
        .outbox()
        .due(far, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.kind == kind)
        .collect()
}

async fn ask(app: &TestApp, path: &str, reference: &str, email: &str) -> Value {
    expect_status(
        app.post_json(path, &json!({"reference": reference, "email": email}))
            .await,
        202,
    )
    .await
}

/// The token of the private link in a message.
fn token_in(message: &OutboxMessage) -> String {
    message
        .text
        .split("?sleutel=")
        .nth(1)
        .expect("a private link")
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_lost_permit_link_is_renewed_only_for_the_right_address_and_answers_the_same_always() {
    let app = spawn_app().await;
    let created = submit(&app, &zomerfestival()).await;
    let id = created["id"].as_str().unwrap();
    let old_token = created["access_token"].as_str().unwrap();
    assert_eq!(waiting(&app, "permit_received").await.len(), 1);

    let path = "/permits/lost-link";
    let answer = ask(&app, path, "EV-2017-0001", "info@zomerfest.nl").await;
    for (reference, email, case) in [
        ("EV-2017-0001", "iemand@anders.nl", "another address"),
        ("EV-2017-0099", "info@zomerfest.nl", "an unknown reference"),
        (
            "WVR-2017-0001",
            "info@zomerfest.nl",
            "another register's reference",
        ),
    ] {
        assert_eq!(ask(&app, path, reference, email).await, answer, "{case}");
    }
    let sent = waiting(&app, "permit_new_link").await;
    assert_eq!(sent.len(), 1, "only the matching request sends");
    assert_eq!(sent[0].to, "info@zomerfest.nl");
    assert_eq!(
        sent[0].subject,
        "Uw nieuwe persoonlijke link voor EV-2017-0001"
    );
    let new_token = token_in(&sent[0]);
    assert_ne!(new_token, old_token);
    expect_status(
        app.get_with_token(&format!("/permits/{id}"), old_token)
            .await,
        404,
    )
    .await;
    expect_status(
        app.get_with_token(&format!("/permits/{id}"), &new_token)
            .await,
        200,
    )
    .await;

    // The address in another case matches; but not twice within ten minutes.
    ask(&app, path, "EV-2017-0001", "INFO@Zomerfest.nl").await;
    assert_eq!(waiting(&app, "permit_new_link").await.len(), 1);
    app.real_clock.advance(Duration::minutes(10));
    ask(&app, path, "EV-2017-0001", "INFO@Zomerfest.nl").await;
    let sent = waiting(&app, "permit_new_link").await;
    assert_eq!(sent.len(), 2);
    let newest = sent.iter().map(token_in).find(|t| *t != new_token).unwrap();
    expect_status(
        app.get_with_token(&format!("/permits/{id}"), &new_token)
            .await,
        404,
    )
    .await;
    expect_status(
        app.get_with_token(&format!("/permits/{id}"), &newest).await,
        200,
    )
    .await;

    // A body that is not a reference and an address: both named.
    let refused = expect_status(
        app.post_json(
            path,
            &json!({"reference": "EV-17-1", "email": "geen adres"}),
        )
        .await,
        422,
    )
    .await;
    let fields: Vec<&str> = refused["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["reference", "email"]);
}

#[tokio::test]
async fn a_lost_registration_link_is_renewed_for_the_contacts_address() {
    let app = spawn_app_at(OPEN).await;
    let created = register(&app, &regenboog()).await;
    let id = created["id"].as_str().unwrap();
    let old_token = created["access_token"].as_str().unwrap();
    let path = "/respect-week/lost-link";
    let answer = ask(&app, path, "WVR-2017-0001", "iemand@anders.nl").await;
    assert!(waiting(&app, "registration_new_link").await.is_empty());
    // Typed from the letter in small letters: the same reference (#21).
    assert_eq!(
        ask(&app, path, "wvr-2017-0001", "j.bakker@regenboog.nl").await,
        answer
    );
    let sent = waiting(&app, "registration_new_link").await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to, "j.bakker@regenboog.nl");
    let activity = format!("/respect-week/2017/activities/{id}");
    expect_status(app.get_with_token(&activity, old_token).await, 404).await;
    expect_status(
        app.get_with_token(&activity, &token_in(&sent[0])).await,
        200,
    )
    .await;
}
