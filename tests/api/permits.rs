//! Organisers' permit routes: the worked examples of docs/domain.md through HTTP, and every
//! error status of docs/api.md.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

pub fn zomerfestival() -> Value {
    serde_json::from_str(include_str!("../fixtures/zomerfestival.json")).expect("fixture")
}

/// docs/domain.md worked example 1: Buurtbarbecue, a melding.
pub fn buurtbarbecue() -> Value {
    json!({
        "organiser": {"name": "P. Jansen", "email": "p.jansen@example.nl", "phone": "0321 111222"},
        "event": {
            "name": "Buurtbarbecue", "description": "Barbecue voor de straat",
            "kern": "swifterbant", "address": "De Poort 1",
            "starts_at": "2017-06-17T14:00:00+02:00", "ends_at": "2017-06-17T22:00:00+02:00",
            "expected_visitors": 80, "amplified_music": false, "road_closure": false,
            "alcohol": "none", "largest_structure_m2": 0, "on_water": false,
            "fireworks": false, "commercial": false, "non_profit": false
        }
    })
}

/// docs/domain.md worked example 3: Jeugdtoernooi of a sport club.
pub fn jeugdtoernooi() -> Value {
    json!({
        "organiser": {"name": "K. Smit", "organisation": "SV Dronten", "email": "k.smit@svdronten.nl", "phone": "0321 333444"},
        "event": {
            "name": "Jeugdtoernooi", "description": "Voetbaltoernooi voor de jeugd",
            "kern": "dronten", "address": "Sportpark De Boerderij",
            "starts_at": "2017-05-14T13:00:00+02:00", "ends_at": "2017-05-14T20:00:00+02:00",
            "expected_visitors": 600, "amplified_music": true, "max_sound_dba": 65,
            "road_closure": false, "alcohol": "none", "largest_structure_m2": 0,
            "on_water": false, "fireworks": false, "commercial": false, "non_profit": true
        }
    })
}

/// Submits and returns the 201 body.
pub async fn submit(app: &TestApp, body: &Value) -> Value {
    expect_status(app.post_json("/permits", body).await, 201).await
}

#[tokio::test]
async fn health_answers_ok() {
    let app = spawn_app().await;
    let body = expect_status(app.get("/health").await, 200).await;
    assert_eq!(body, json!({"status": "ok"}));
}

#[tokio::test]
async fn the_worked_examples_are_priced_and_classified_through_the_api() {
    let app = spawn_app().await;
    let cases = [
        (
            "1 buurtbarbecue",
            buurtbarbecue(),
            "melding",
            "0",
            0,
            3_000,
            "2017-05-29",
        ),
        (
            "2 zomerfestival",
            zomerfestival(),
            "vergunning",
            "C",
            7,
            146_300,
            "2017-05-26",
        ),
        (
            "3 jeugdtoernooi",
            jeugdtoernooi(),
            "vergunning",
            "A",
            1,
            7_500,
            "2017-03-19",
        ),
    ];
    for (name, body, kind, category, score, total, required_by) in cases {
        let quote = expect_status(app.post_json("/permits/quote", &body).await, 200).await;
        let created = submit(&app, &body).await;
        for (what, v) in [("quote", &quote), ("submission", &created)] {
            assert_eq!(v["kind"], kind, "example {name} {what}: kind");
            assert_eq!(v["category"], category, "example {name} {what}: category");
            assert_eq!(v["risk_score"], score, "example {name} {what}: risk_score");
            assert_eq!(
                v["leges"]["total_cents"], total,
                "example {name} {what}: leges"
            );
            assert_eq!(
                v["deadline"]["required_by"], required_by,
                "example {name} {what}: required_by"
            );
            assert_eq!(v["deadline"]["late"], false, "example {name} {what}: late");
        }
        assert_eq!(created["status"], "submitted");
        assert_eq!(created["version"], 1);
        assert_eq!(created["submitted_at"], "2017-03-01T10:00:00+01:00");
    }
}

#[tokio::test]
async fn a_submission_answers_201_with_location_reference_token_and_breakdown() {
    let app = spawn_app().await;
    let response = app.post_json("/permits", &zomerfestival()).await;
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let body = expect_status(response, 201).await;
    let id = body["id"].as_str().unwrap();
    assert_eq!(location, format!("/permits/{id}"));
    assert_eq!(body["reference"], "EV-2017-0001");
    assert!(body["access_token"].as_str().unwrap().len() >= 32);
    let codes: Vec<(&str, i64)> = body["leges"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["code"].as_str().unwrap(),
                l["amount_cents"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        codes,
        [
            ("3.2.2.3", 120_000),
            ("3.2.3", 5_000),
            ("3.2.4", 9_500),
            ("3.2.5", 11_800)
        ]
    );
    assert_eq!(body["leges"]["tariff_year"], 2017);
    assert_eq!(body["leges"]["refunded_cents"], 0);

    let second = submit(&app, &jeugdtoernooi()).await;
    assert_eq!(
        second["reference"], "EV-2017-0002",
        "references increase per year"
    );
}

#[tokio::test]
async fn a_quote_stores_nothing() {
    let app = spawn_app().await;
    expect_status(app.post_json("/permits/quote", &zomerfestival()).await, 200).await;
    let created = submit(&app, &zomerfestival()).await;
    assert_eq!(created["reference"], "EV-2017-0001");
}

#[tokio::test]
async fn example_4_a_late_submission_is_accepted_and_marked_late() {
    let app = spawn_app_at("2017-07-01T10:00:00+02:00").await;
    let created = submit(&app, &zomerfestival()).await;
    assert_eq!(
        created["deadline"],
        json!({"required_by": "2017-05-26", "late": true})
    );
}

#[tokio::test]
async fn example_7_in_2027_uses_the_2027_table_and_rounds_the_refund_half_up() {
    let app = spawn_app_at("2027-03-01T10:00:00+01:00").await;
    let mut body = jeugdtoernooi();
    body["event"]["starts_at"] = json!("2027-05-16T13:00:00+02:00");
    body["event"]["ends_at"] = json!("2027-05-16T20:00:00+02:00");
    let created = submit(&app, &body).await;
    assert_eq!(created["reference"], "EV-2027-0001");
    assert_eq!(created["leges"]["tariff_year"], 2027);
    assert_eq!(created["leges"]["total_cents"], 9_375);
    let id = created["id"].as_str().unwrap();
    let token = created["access_token"].as_str().unwrap();
    let withdrawn = expect_status(
        app.post_json_with_token(&format!("/permits/{id}/withdraw"), token, &json!({}))
            .await,
        200,
    )
    .await;
    assert_eq!(withdrawn["leges"]["refunded_cents"], 4_688);
}

#[tokio::test]
async fn the_organiser_reads_their_application_with_history_and_etag() {
    let app = spawn_app().await;
    let created = submit(&app, &zomerfestival()).await;
    let id = created["id"].as_str().unwrap();
    let token = created["access_token"].as_str().unwrap();
    let response = app.get_with_token(&format!("/permits/{id}"), token).await;
    assert_eq!(response.headers()["etag"], "\"1\"");
    let body = expect_status(response, 200).await;
    assert!(
        body.get("access_token").is_none(),
        "the token is shown only once"
    );
    assert_eq!(body["organiser"]["email"], "info@zomerfest.nl");
    assert_eq!(body["event"]["name"], "Zomerfestival");
    assert_eq!(body["event"]["starts_at"], "2017-08-18T12:00:00+02:00");
    assert_eq!(body["history"][0]["status"], "submitted");
    assert!(
        body["history"][0].get("actor").is_none(),
        "no identities in the organiser's view"
    );
    assert_eq!(body["leges"]["total_cents"], 146_300);
}

#[tokio::test]
async fn a_token_opens_only_its_own_application() {
    let app = spawn_app().await;
    let first = submit(&app, &zomerfestival()).await;
    let second = submit(&app, &jeugdtoernooi()).await;
    let first_id = first["id"].as_str().unwrap();
    let second_token = second["access_token"].as_str().unwrap();
    let cases = [
        (
            "another application's token",
            app.get_with_token(&format!("/permits/{first_id}"), second_token)
                .await,
        ),
        ("no token", app.get(&format!("/permits/{first_id}")).await),
        (
            "a made-up token",
            app.get_with_token(&format!("/permits/{first_id}"), "nonsense")
                .await,
        ),
        (
            "an unknown id",
            app.get_with_token("/permits/doesnotexist", second_token)
                .await,
        ),
    ];
    let mut bodies = Vec::new();
    for (name, response) in cases {
        assert_eq!(response.status().as_u16(), 404, "{name}");
        bodies.push(expect_status(response, 404).await);
    }
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "all four answers are identical"
    );
    let withdraw = app
        .post_json_with_token(
            &format!("/permits/{first_id}/withdraw"),
            second_token,
            &json!({}),
        )
        .await;
    expect_status(withdraw, 404).await;
}

#[tokio::test]
async fn example_5_withdrawal_refunds_half_and_a_second_withdrawal_is_409() {
    let app = spawn_app().await;
    let created = submit(&app, &jeugdtoernooi()).await;
    let id = created["id"].as_str().unwrap();
    let token = created["access_token"].as_str().unwrap();
    let path = format!("/permits/{id}/withdraw");
    let withdrawn = expect_status(
        app.post_json_with_token(&path, token, &json!({})).await,
        200,
    )
    .await;
    assert_eq!(withdrawn["status"], "withdrawn");
    assert_eq!(withdrawn["leges"]["total_cents"], 7_500);
    assert_eq!(withdrawn["leges"]["refunded_cents"], 3_750);
    assert_eq!(withdrawn["version"], 2);
    let again = expect_status(
        app.post_json_with_token(&path, token, &json!({})).await,
        409,
    )
    .await;
    assert_eq!(again["type"], "/problems/not_allowed");
    let read = expect_status(
        app.get_with_token(&format!("/permits/{id}"), token).await,
        200,
    )
    .await;
    let statuses: Vec<&str> = read["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["submitted", "withdrawn"]);
}

#[tokio::test]
async fn a_withdrawal_without_a_body_works_too() {
    let app = spawn_app().await;
    let created = submit(&app, &jeugdtoernooi()).await;
    let id = created["id"].as_str().unwrap();
    let token = created["access_token"].as_str().unwrap();
    let response = app
        .request(Method::POST, &format!("/permits/{id}/withdraw"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    expect_status(response, 200).await;
}

/// Puts an application in `info_requested` as staff would (the staff routes are
/// tested in admin.rs; here only the organiser's answer matters).
async fn request_info(app: &TestApp, id: &str) {
    use loket::domain::permit::{Actor, PermitAction};
    let permits = app.state.store.permits();
    let mut app_now = permits.get(id).await.unwrap().unwrap();
    for action in [
        PermitAction::StartReview,
        PermitAction::RequestInfo {
            reason: "Stuur een plattegrond".into(),
        },
    ] {
        let next = app_now
            .apply(
                &action,
                Actor::Staff("staff-1".into()),
                app.clock_now(),
                &app.state.catalogue.tariffs,
            )
            .unwrap();
        permits.transition(&app_now, &next, &[]).await.unwrap();
        app_now = next;
    }
}

impl TestApp {
    pub fn clock_now(&self) -> chrono::DateTime<chrono::Utc> {
        use loket::clock::Clock;
        self.clock.now()
    }
}

#[tokio::test]
async fn the_organiser_answers_a_request_for_information() {
    let app = spawn_app().await;
    let created = submit(&app, &zomerfestival()).await;
    let id = created["id"].as_str().unwrap();
    let token = created["access_token"].as_str().unwrap();
    let path = format!("/permits/{id}/info");

    let too_early = expect_status(
        app.post_json_with_token(&path, token, &json!({"message": "Hier is de plattegrond"}))
            .await,
        409,
    )
    .await;
    assert_eq!(too_early["type"], "/problems/not_allowed");

    request_info(&app, id).await;
    let empty = expect_status(
        app.post_json_with_token(&path, token, &json!({"message": " "}))
            .await,
        422,
    )
    .await;
    assert_eq!(
        field_errors(&empty),
        [("message".to_string(), "required".to_string())]
    );
    let answered = expect_status(
        app.post_json_with_token(&path, token, &json!({"message": "Hier is de plattegrond"}))
            .await,
        200,
    )
    .await;
    assert_eq!(answered["status"], "in_review");
    let last = answered["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["reason"], "Hier is de plattegrond");
    assert_eq!(last["action"], "answer_info");
}

#[tokio::test]
async fn an_event_that_already_started_is_refused() {
    let app = spawn_app_at("2017-08-18T12:00:01+02:00").await;
    let problem = expect_status(app.post_json("/permits", &zomerfestival()).await, 422).await;
    assert_eq!(
        field_errors(&problem),
        [("event.starts_at".to_string(), "in_past".to_string())]
    );
    let problem = expect_status(app.post_json("/permits/quote", &zomerfestival()).await, 422).await;
    assert_eq!(
        field_errors(&problem),
        [("event.starts_at".to_string(), "in_past".to_string())]
    );
}

#[tokio::test]
async fn invalid_bodies_get_422_naming_every_failing_field() {
    let app = spawn_app().await;
    type Edit = fn(&mut Value);
    type Case = (&'static str, Edit, Vec<(&'static str, &'static str)>);
    let cases: Vec<Case> = vec![
        (
            "missing organiser",
            |b| {
                b.as_object_mut().unwrap().remove("organiser");
            },
            vec![("organiser", "required")],
        ),
        (
            "unknown top-level field",
            |b| b["extra"] = json!(1),
            vec![("extra", "unknown_field")],
        ),
        (
            "unknown nested field",
            |b| b["event"]["colour"] = json!("red"),
            vec![("event.colour", "unknown_field")],
        ),
        (
            "wrong types",
            |b| {
                b["event"]["expected_visitors"] = json!("many");
                b["event"]["road_closure"] = json!("yes");
            },
            vec![
                ("event.expected_visitors", "type"),
                ("event.road_closure", "type"),
            ],
        ),
        (
            "bad values",
            |b| {
                b["event"]["kern"] = json!("lelystad");
                b["event"]["alcohol"] = json!("lots");
                b["organiser"]["email"] = json!("not-an-email");
                b["organiser"]["kvk_number"] = json!("1234");
                b["organiser"]["phone"] = json!("12");
                b["event"]["expected_visitors"] = json!(0);
                b["event"]["max_sound_dba"] = json!(500);
            },
            vec![
                ("organiser.kvk_number", "kvk_number"),
                ("organiser.email", "email"),
                ("organiser.phone", "phone"),
                ("event.kern", "one_of"),
                ("event.expected_visitors", "range"),
                ("event.max_sound_dba", "range"),
                ("event.alcohol", "one_of"),
            ],
        ),
        (
            "end before start",
            |b| b["event"]["ends_at"] = json!("2017-08-18T11:00:00+02:00"),
            vec![("event.ends_at", "order")],
        ),
        (
            "not a timestamp",
            |b| b["event"]["starts_at"] = json!("18-08-2017 12:00"),
            vec![("event.starts_at", "timestamp")],
        ),
        (
            "a timestamp without offset",
            |b| b["event"]["starts_at"] = json!("2017-08-18T12:00:00"),
            vec![("event.starts_at", "timestamp")],
        ),
        (
            "empty name",
            |b| b["event"]["name"] = json!("   "),
            vec![("event.name", "required")],
        ),
        (
            "body is an array",
            |b| *b = json!([1, 2]),
            vec![("", "type")],
        ),
    ];
    for (name, edit, expected) in cases {
        let mut body = zomerfestival();
        edit(&mut body);
        let problem = expect_status(app.post_json("/permits", &body).await, 422).await;
        let got = field_errors(&problem);
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(f, c)| (f.to_string(), c.to_string()))
            .collect();
        assert_eq!(got, expected, "case: {name}");
        assert!(
            problem["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "case {name}: a message"
        );
    }
    // Nothing of the refused bodies was stored: the next reference is the first.
    assert_eq!(
        submit(&app, &zomerfestival()).await["reference"],
        "EV-2017-0001"
    );
}

#[tokio::test]
async fn optional_fields_may_be_left_out_or_null() {
    let app = spawn_app().await;
    let mut body = zomerfestival();
    let organiser = body["organiser"].as_object_mut().unwrap();
    organiser.remove("organisation");
    organiser.insert("kvk_number".into(), Value::Null);
    body["event"]
        .as_object_mut()
        .unwrap()
        .remove("max_sound_dba");
    let created = submit(&app, &body).await;
    assert_eq!(created["organiser"]["kvk_number"], Value::Null);
    assert_eq!(
        created["category"], "C",
        "music without a level is still late music"
    );
}

#[tokio::test]
async fn transport_errors_have_their_own_statuses() {
    let app = spawn_app().await;
    let malformed = app
        .request(Method::POST, "/permits")
        .header("content-type", "application/json")
        .body("{\"organiser\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_status(malformed, 400).await["type"],
        "/problems/malformed_json"
    );

    let wrong_type = app
        .request(Method::POST, "/permits")
        .header("content-type", "text/plain")
        .body(zomerfestival().to_string())
        .send()
        .await
        .unwrap();
    expect_status(wrong_type, 415).await;

    let no_type = app
        .request(Method::POST, "/permits")
        .body("{}")
        .send()
        .await
        .unwrap();
    expect_status(no_type, 415).await;

    let mut big = zomerfestival();
    big["event"]["description"] = json!("x".repeat(70 * 1024));
    expect_status(app.post_json("/permits", &big).await, 413).await;

    let mut just_under = zomerfestival();
    just_under["event"]["description"] = json!("x".repeat(6_000));
    let problem = expect_status(app.post_json("/permits", &just_under).await, 422).await;
    assert_eq!(
        field_errors(&problem),
        [("event.description".to_string(), "too_long".to_string())]
    );

    expect_status(app.get("/nothing/here").await, 404).await;
    expect_status(
        app.request(Method::DELETE, "/permits")
            .send()
            .await
            .unwrap(),
        405,
    )
    .await;
}

#[tokio::test]
async fn a_repeated_post_with_the_same_idempotency_key_replays_the_first_response() {
    let app = spawn_app().await;
    let send = |key: &'static str, body: Value| {
        app.request(Method::POST, "/permits")
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    };
    let first = send("order-42", zomerfestival()).await.unwrap();
    let first_location = first.headers()["location"].clone();
    let first_text = first.text().await.unwrap();
    let repeat = send("order-42", zomerfestival()).await.unwrap();
    assert_eq!(repeat.status().as_u16(), 201);
    assert_eq!(repeat.headers()["location"], first_location);
    assert_eq!(
        repeat.text().await.unwrap(),
        first_text,
        "byte for byte the same, token included"
    );

    let reused = expect_status(send("order-42", jeugdtoernooi()).await.unwrap(), 422).await;
    assert_eq!(
        field_errors(&reused),
        [(
            "Idempotency-Key".to_string(),
            "idempotency_key_reused".to_string()
        )]
    );

    // Another key is another application.
    let other = expect_status(send("order-43", zomerfestival()).await.unwrap(), 201).await;
    let first: Value = serde_json::from_str(&first_text).unwrap();
    assert_ne!(other["id"], first["id"]);

    // Keys are scoped per route: the same key on another route is unrelated.
    let bad = app
        .request(Method::POST, "/permits")
        .header("Idempotency-Key", "has space")
        .json(&zomerfestival())
        .send()
        .await
        .unwrap();
    let problem = expect_status(bad, 422).await;
    assert_eq!(
        field_errors(&problem),
        [(
            "Idempotency-Key".to_string(),
            "idempotency_key_invalid".to_string()
        )]
    );
}

#[tokio::test]
async fn a_replay_is_the_first_answer_even_after_the_event_started() {
    let app = spawn_app().await;
    let post = || {
        app.request(Method::POST, "/permits")
            .header("Idempotency-Key", "k1")
            .json(&zomerfestival())
            .send()
    };
    let first = expect_status(post().await.unwrap(), 201).await;
    app.clock.set(at("2017-08-19T12:00:00+02:00"));
    let repeat = expect_status(post().await.unwrap(), 201).await;
    assert_eq!(repeat["id"], first["id"]);
}

#[tokio::test]
async fn an_idempotency_record_expires_after_24_hours_of_real_time() {
    let app = spawn_app().await;
    let post = || {
        app.request(Method::POST, "/permits")
            .header("Idempotency-Key", "k1")
            .json(&zomerfestival())
            .send()
    };
    let first = expect_status(post().await.unwrap(), 201).await;
    app.real_clock.advance(chrono::Duration::hours(23));
    assert_eq!(
        expect_status(post().await.unwrap(), 201).await["id"],
        first["id"]
    );
    app.real_clock.advance(chrono::Duration::hours(2));
    let later = expect_status(post().await.unwrap(), 201).await;
    assert_ne!(later["id"], first["id"], "after 24 h the key is new again");
}

#[tokio::test]
async fn concurrent_repeats_create_one_application() {
    let app = spawn_app().await;
    let mut handles = Vec::new();
    for _ in 0..10 {
        let request = app
            .request(Method::POST, "/permits")
            .header("Idempotency-Key", "burst")
            .json(&zomerfestival());
        handles.push(tokio::spawn(async move { request.send().await.unwrap() }));
    }
    let mut ids = std::collections::BTreeSet::new();
    for h in handles {
        let response = h.await.unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        match status {
            201 => {
                ids.insert(body["id"].as_str().unwrap().to_string());
            }
            409 => assert_eq!(body["type"], "/problems/idempotency_in_progress"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(
        ids.len(),
        1,
        "one application, replayed to everyone: {ids:?}"
    );
}

#[tokio::test]
async fn acknowledged_applications_survive_a_restart() {
    let app = spawn_app().await;
    let mut created = Vec::new();
    for body in [zomerfestival(), jeugdtoernooi(), buurtbarbecue()] {
        created.push(submit(&app, &body).await);
    }
    let app = app.restart().await;
    for c in &created {
        let id = c["id"].as_str().unwrap();
        let token = c["access_token"].as_str().unwrap();
        let read = expect_status(
            app.get_with_token(&format!("/permits/{id}"), token).await,
            200,
        )
        .await;
        assert_eq!(read["reference"], c["reference"]);
        assert_eq!(read["leges"], c["leges"]);
    }
    assert_eq!(
        submit(&app, &zomerfestival()).await["reference"],
        "EV-2017-0004",
        "the counter survived too"
    );
}

#[tokio::test]
async fn the_openapi_document_describes_the_permit_routes() {
    let app = spawn_app().await;
    let doc = expect_status(app.get("/openapi.json").await, 200).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/health",
        "/permits/quote",
        "/permits",
        "/permits/{id}",
        "/permits/{id}/withdraw",
        "/permits/{id}/info",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} is documented");
    }
    let schemas = &doc["components"]["schemas"];
    for field in ["organiser", "event"] {
        assert!(
            schemas["PermitRequest"]["properties"].get(field).is_some(),
            "PermitRequest.{field}"
        );
    }
}

/// Input hygiene, found by trying the service as an attacker would: each of these
/// was once stored as sent. Now each is refused with the field named, and nothing
/// is stored.
#[tokio::test]
async fn hostile_text_dates_and_duplicate_keys_are_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    type Edit = fn(&mut Value);
    let cases: Vec<(&str, Edit, &str, &str)> = vec![
        (
            "NUL",
            |b| b["organiser"]["name"] = json!("A.\u{0} de Vries"),
            "organiser.name",
            "character",
        ),
        (
            "CR",
            |b| b["event"]["name"] = json!("Les\rEND:VEVENT\rBEGIN:VEVENT"),
            "event.name",
            "character",
        ),
        (
            "ESC",
            |b| b["event"]["address"] = json!("\u{1b}[31mSpijkweg 30"),
            "event.address",
            "character",
        ),
        (
            "BEL",
            |b| b["organiser"]["organisation"] = json!("Stichting\u{7}"),
            "organiser.organisation",
            "character",
        ),
        (
            "DEL",
            |b| b["event"]["name"] = json!("Zomer\u{7f}fest"),
            "event.name",
            "character",
        ),
        (
            "U+2028",
            |b| b["event"]["description"] = json!("Regel\u{2028}regel"),
            "event.description",
            "character",
        ),
        (
            "U+202E",
            |b| b["organiser"]["name"] = json!("\u{202e}seirV ed .A"),
            "organiser.name",
            "character",
        ),
        (
            "BOM",
            |b| b["event"]["name"] = json!("\u{feff}=1+1"),
            "event.name",
            "character",
        ),
        (
            "private use",
            |b| b["event"]["name"] = json!("Logo \u{e000}"),
            "event.name",
            "character",
        ),
        (
            "only a zero-width space",
            |b| b["organiser"]["name"] = json!("\u{200b}"),
            "organiser.name",
            "character",
        ),
        (
            "a line break in a name",
            |b| b["event"]["name"] = json!("Zomer\nfest"),
            "event.name",
            "character",
        ),
        (
            "the year 9999",
            |b| {
                b["event"]["starts_at"] = json!("9999-08-18T12:00:00+02:00");
                b["event"]["ends_at"] = json!("9999-08-19T01:00:00+02:00");
            },
            "event.starts_at",
            "horizon",
        ),
        (
            "August 2100 (beyond the time-zone rules)",
            |b| {
                b["event"]["starts_at"] = json!("2100-08-18T12:00:00+02:00");
                b["event"]["ends_at"] = json!("2100-08-19T01:00:00+02:00");
            },
            "event.starts_at",
            "horizon",
        ),
        (
            "a leap second",
            |b| b["event"]["starts_at"] = json!("2017-08-18T23:59:60+02:00"),
            "event.starts_at",
            "timestamp",
        ),
    ];
    for (case, edit, field, code) in cases {
        let mut body = zomerfestival();
        edit(&mut body);
        for route in ["/permits", "/permits/quote"] {
            let problem = expect_status(app.post_json(route, &body).await, 422).await;
            assert_eq!(
                field_errors(&problem),
                [(field.to_string(), code.to_string())],
                "{case} on {route}"
            );
        }
    }

    // A key sent twice: the last would silently win, so it is a 400.
    let duplicated = serde_json::to_string(&zomerfestival()).unwrap().replacen(
        r#""name":"A. de Vries""#,
        r#""name":"A. de Vries","name":"B. Bakker""#,
        1,
    );
    assert!(duplicated.contains("B. Bakker"));
    let response = app
        .request(Method::POST, "/permits")
        .header("content-type", "application/json")
        .body(duplicated)
        .send()
        .await
        .unwrap();
    let problem = expect_status(response, 400).await;
    assert_eq!(problem["type"], "/problems/duplicate_key");

    // Accepted text is stored trimmed and NFC: "Café" typed with a combining accent.
    let mut decomposed = zomerfestival();
    decomposed["event"]["name"] = json!("  Cafe\u{301} Zomerfest ");
    let created = submit(&app, &decomposed).await;
    assert_eq!(created["event"]["name"], "Caf\u{e9} Zomerfest");
    assert_eq!(
        created["reference"], "EV-2017-0001",
        "none of the refused bodies took a reference or was stored"
    );
}

/// Hardening F6: a reference number is taken only by what is created. Replays, a
/// refused reuse of a key and refused bodies take none: the register has no gaps.
#[tokio::test]
async fn replays_and_refusals_take_no_reference_number() {
    let app = spawn_app().await;
    let send = |key: &'static str, body: Value| {
        app.request(Method::POST, "/permits")
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    };
    let first = expect_status(send("k-1", zomerfestival()).await.unwrap(), 201).await;
    assert_eq!(first["reference"], "EV-2017-0001");
    for _ in 0..3 {
        let replay = expect_status(send("k-1", zomerfestival()).await.unwrap(), 201).await;
        assert_eq!(replay["reference"], "EV-2017-0001");
    }
    expect_status(send("k-1", jeugdtoernooi()).await.unwrap(), 422).await;
    let mut started = zomerfestival();
    started["event"]["starts_at"] = json!("2017-02-01T12:00:00+01:00");
    started["event"]["ends_at"] = json!("2017-02-01T13:00:00+01:00");
    expect_status(app.post_json("/permits", &started).await, 422).await;
    let next = submit(&app, &jeugdtoernooi()).await;
    assert_eq!(next["reference"], "EV-2017-0002", "no number was used up");

    // Concurrent submissions each get their own number, and none is skipped.
    let mut handles = Vec::new();
    for _ in 0..12 {
        let (client, base) = (app.client.clone(), app.base.clone());
        handles.push(tokio::spawn(async move {
            let response = client
                .post(format!("{base}/permits"))
                .json(&zomerfestival())
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 201);
            response.json::<Value>().await.unwrap()["reference"]
                .as_str()
                .unwrap()
                .to_string()
        }));
    }
    let mut references = Vec::new();
    for handle in handles {
        references.push(handle.await.unwrap());
    }
    references.sort();
    let expected: Vec<String> = (3..=14).map(|n| format!("EV-2017-{n:04}")).collect();
    assert_eq!(references, expected);
}
