//! Week van Respect through HTTP (docs/domain.md "Week van Respect", docs/api.md "Week van Respect"): every
//! rule with its status and code, the token routes, the public programme as JSON and
//! as a calendar, and the erasure of contact data a year after the edition.

use std::str::FromStr;

use chrono::{NaiveDate, NaiveDateTime};
use chrono_tz::Europe::Amsterdam;
use icalendar::{CalendarDateTime, Component, DatePerhapsTime, EventLike};
use loket::clock::Clock;
use loket::domain::respect_week::{Actor, RegistrationAction};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

/// While registration for 2017 is open.
pub const OPEN: &str = "2017-10-02T10:00:00+02:00";

/// An example registration (the one the founding API contract gave).
pub fn regenboog() -> Value {
    json!({
        "organisation": {"name": "OBS De Regenboog", "type": "primary_school"},
        "contact": {"name": "J. Bakker", "email": "j.bakker@regenboog.nl", "phone": "0321 654321"},
        "activity": {
            "title": "Respectles groep 7/8", "description": "Over polarisatie in de klas",
            "date": "2017-11-08", "starts_at": "09:00", "ends_at": "11:30",
            "location": "Lijsterbeslaan 2", "kern": "dronten", "expected_participants": 54,
            "age_min": 10, "age_max": 12, "open_to_public": false, "guest_lesson_wanted": true
        }
    })
}

/// A sport club's activity with its own contact person.
pub fn sportclub() -> Value {
    json!({
        "organisation": {"name": "VV Swifterbant", "type": "sport_club"},
        "contact": {"name": "K. Verhoeven", "email": "k.verhoeven@vvswifterbant.nl", "phone": "0321 987654"},
        "activity": {
            "title": "Fair play-training", "description": "Training over respect op en naast het veld",
            "date": "2017-11-07", "starts_at": "18:30", "ends_at": "20:00",
            "location": "Sportpark Swifterbant", "kern": "swifterbant", "expected_participants": 40,
            "age_min": 8, "age_max": 14, "open_to_public": true, "guest_lesson_wanted": false
        }
    })
}

/// `body` with `activity.<field>` (or `organisation.<field>`, …) replaced.
pub fn with(mut body: Value, section: &str, field: &str, value: Value) -> Value {
    body[section][field] = value;
    body
}

/// Expected (field, code) pairs of a problem.
type FieldCodes = Vec<(&'static str, &'static str)>;

pub fn activities(year: i32) -> String {
    format!("/respect-week/{year}/activities")
}

pub async fn register(app: &TestApp, body: &Value) -> Value {
    expect_status(app.post_json(&activities(2017), body).await, 201).await
}

/// Publishes a registration as staff would, through the domain and the store (the
/// staff route has its own tests).
pub async fn publish(app: &TestApp, id: &str) {
    let registrations = app.state.store.registrations();
    let reg = registrations.get(id).await.unwrap().expect("stored");
    let edition = app.state.catalogue.editions.get(reg.year).unwrap();
    let next = reg
        .apply(
            &RegistrationAction::Publish { reason: None },
            Actor::Staff("test-staff".into()),
            edition,
            app.clock.now(),
        )
        .expect("a registered activity can be published");
    registrations.transition(&reg, &next, &[]).await.unwrap();
}

async fn decline(app: &TestApp, id: &str) {
    let registrations = app.state.store.registrations();
    let reg = registrations.get(id).await.unwrap().expect("stored");
    let edition = app.state.catalogue.editions.get(reg.year).unwrap();
    let next = reg
        .apply(
            &RegistrationAction::Decline {
                reason: "Past niet in het programma".into(),
            },
            Actor::Staff("test-staff".into()),
            edition,
            app.clock.now(),
        )
        .unwrap();
    registrations.transition(&reg, &next, &[]).await.unwrap();
}

pub fn token_of(created: &Value) -> &str {
    created["access_token"].as_str().expect("an access token")
}

pub fn path_of(created: &Value) -> String {
    format!(
        "/respect-week/2017/activities/{}",
        created["id"].as_str().unwrap()
    )
}

#[tokio::test]
async fn the_editions_are_listed_with_their_closing_moment() {
    let app = spawn_app_at(OPEN).await;
    let body = expect_status(app.get("/respect-week/editions").await, 200).await;
    assert_eq!(
        body,
        json!([
            {"year": 2017, "starts_on": "2017-11-06", "ends_on": "2017-11-12",
             "registration_closes_at": "2017-11-05T23:59:59+01:00"},
            {"year": 2027, "starts_on": "2027-11-08", "ends_on": "2027-11-14",
             "registration_closes_at": "2027-11-07T23:59:59+01:00"},
        ])
    );
}

#[tokio::test]
async fn a_registration_answers_201_with_location_reference_and_token() {
    let app = spawn_app_at(OPEN).await;
    let response = app.post_json(&activities(2017), &regenboog()).await;
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let first = expect_status(response, 201).await;
    assert_eq!(location, path_of(&first));
    assert_eq!(first["reference"], "WVR-2017-0001");
    assert_eq!(first["status"], "registered");
    assert_eq!(first["version"], 1);
    assert_eq!(first["year"], 2017);
    assert_eq!(first["registered_at"], "2017-10-02T10:00:00+02:00");
    assert_eq!(first["activity"]["starts_at"], "09:00");
    assert_eq!(first["contact"]["email"], "j.bakker@regenboog.nl");
    assert!(token_of(&first).len() >= 40, "an unguessable token");

    let second = register(&app, &sportclub()).await;
    assert_eq!(second["reference"], "WVR-2017-0002");
    assert_ne!(second["id"], first["id"]);

    // Another edition counts on its own: the reference carries the edition's year.
    let in_2027 = with(regenboog(), "activity", "date", json!("2027-11-10"));
    let other = expect_status(app.post_json(&activities(2027), &in_2027).await, 201).await;
    assert_eq!(other["reference"], "WVR-2027-0001");
}

#[tokio::test]
async fn registration_is_open_until_23_59_59_local_of_the_closing_day() {
    let cases = [
        ("2017-11-05T23:59:59+01:00", 201),
        ("2017-11-05T22:59:59Z", 201), // the same second, in UTC
        ("2017-11-06T00:00:00+01:00", 422),
        ("2017-11-08T10:00:00+01:00", 422),
    ];
    for (now, status) in cases {
        let app = spawn_app_at(now).await;
        let body =
            expect_status(app.post_json(&activities(2017), &regenboog()).await, status).await;
        if status == 422 {
            assert_eq!(
                field_errors(&body),
                [("edition".to_string(), "registration_closed".to_string())],
                "at {now}"
            );
        }
    }
}

#[tokio::test]
async fn a_date_outside_the_week_is_422_outside_edition() {
    let app = spawn_app_at(OPEN).await;
    for (date, status) in [
        ("2017-11-05", 422),
        ("2017-11-06", 201),
        ("2017-11-12", 201),
        ("2017-11-13", 422),
        ("2027-11-10", 422),
    ] {
        let body = with(regenboog(), "activity", "date", json!(date));
        let answer = expect_status(app.post_json(&activities(2017), &body).await, status).await;
        if status == 422 {
            assert_eq!(
                field_errors(&answer),
                [("activity.date".to_string(), "outside_edition".to_string())],
                "{date}"
            );
        }
    }
}

#[tokio::test]
async fn an_unknown_edition_is_404() {
    let app = spawn_app_at(OPEN).await;
    for year in ["2018", "1999", "abc"] {
        let path = format!("/respect-week/{year}/activities");
        expect_status(app.post_json(&path, &regenboog()).await, 404).await;
        expect_status(app.get(&path).await, 404).await;
        expect_status(
            app.get(&format!("/respect-week/{year}/program.ics")).await,
            404,
        )
        .await;
    }
}

#[tokio::test]
async fn invalid_registrations_get_422_naming_every_failing_field() {
    let app = spawn_app_at(OPEN).await;
    let cases: Vec<(&str, Value, FieldCodes)> = vec![
        (
            "an end at the start",
            with(regenboog(), "activity", "ends_at", json!("09:00")),
            vec![("activity.ends_at", "order")],
        ),
        (
            "no participants",
            with(regenboog(), "activity", "expected_participants", json!(0)),
            vec![("activity.expected_participants", "range")],
        ),
        (
            "5,001 participants",
            with(
                regenboog(),
                "activity",
                "expected_participants",
                json!(5001),
            ),
            vec![("activity.expected_participants", "range")],
        ),
        (
            "a minimum age above the maximum",
            with(regenboog(), "activity", "age_min", json!(13)),
            vec![("activity.age_max", "order")],
        ),
        (
            "an age of 200",
            with(regenboog(), "activity", "age_max", json!(200)),
            vec![("activity.age_max", "range")],
        ),
        (
            "a time that is not HH:MM",
            with(regenboog(), "activity", "starts_at", json!("9 uur")),
            vec![("activity.starts_at", "time")],
        ),
        (
            "an unknown organisation type",
            with(regenboog(), "organisation", "type", json!("university")),
            vec![("organisation.type", "one_of")],
        ),
        (
            "an unknown kern",
            with(regenboog(), "activity", "kern", json!("lelystad")),
            vec![("activity.kern", "one_of")],
        ),
        (
            "an unknown field",
            with(regenboog(), "contact", "fax", json!("0321 000000")),
            vec![("contact.fax", "unknown_field")],
        ),
        (
            "everything at once",
            json!({
                "organisation": {"name": "", "type": "school"},
                "contact": {"name": "J. Bakker", "email": "geen-adres", "phone": "12"},
                "activity": {
                    "title": "Respectles", "description": "…", "date": "2017-11-20",
                    "starts_at": "12:00", "ends_at": "11:00", "location": "School",
                    "kern": "dronten", "expected_participants": "veel",
                    "age_min": 12, "age_max": 10, "open_to_public": "ja"
                },
                "extra": true
            }),
            vec![
                ("organisation.name", "required"),
                ("organisation.type", "one_of"),
                ("contact.email", "email"),
                ("contact.phone", "phone"),
                ("activity.expected_participants", "type"),
                ("activity.open_to_public", "type"),
                ("activity.guest_lesson_wanted", "required"),
                ("extra", "unknown_field"),
                ("activity.date", "outside_edition"),
                ("activity.ends_at", "order"),
                ("activity.age_max", "order"),
            ],
        ),
    ];
    for (case, body, expected) in cases {
        let problem = expect_status(app.post_json(&activities(2017), &body).await, 422).await;
        let expected: Vec<(String, String)> = expected
            .into_iter()
            .map(|(f, c)| (f.to_string(), c.to_string()))
            .collect();
        assert_eq!(field_errors(&problem), expected, "{case}");
        assert!(
            problem["errors"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| !e["message"].as_str().unwrap().is_empty()),
            "{case}: every error has a message"
        );
    }
    // None of them took a reference number's place in the programme.
    let programme = expect_status(app.get(&activities(2017)).await, 200).await;
    assert_eq!(programme["items"], json!([]));
}

#[tokio::test]
async fn the_same_activity_of_the_same_organisation_on_the_same_day_and_start_is_409() {
    let app = spawn_app_at(OPEN).await;
    register(&app, &regenboog()).await;
    let variants = [
        ("the same", regenboog()),
        (
            "other case and spaces in the name",
            with(
                regenboog(),
                "organisation",
                "name",
                json!("obs  de REGENBOOG"),
            ),
        ),
        (
            "no spaces in the name, other case in the title",
            with(
                with(regenboog(), "organisation", "name", json!("OBSDeRegenboog")),
                "activity",
                "title",
                json!("RESPECTLES groep  7/8"),
            ),
        ),
        (
            "another end time and contact at the same start",
            with(
                with(regenboog(), "activity", "ends_at", json!("12:00")),
                "contact",
                "name",
                json!("M. de Wit"),
            ),
        ),
    ];
    for (case, body) in variants {
        let problem = expect_status(app.post_json(&activities(2017), &body).await, 409).await;
        assert_eq!(problem["type"], "/problems/duplicate", "{case}");
        // It says what clashes and what to do.
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains("om 09:00 al aangemeld"), "{case}: {detail}");
        assert!(
            detail.contains("andere begintijd of titel"),
            "{case}: {detail}"
        );
    }
    for (case, body) in [
        (
            "another start time on the same day (a colleague, another class)",
            with(
                with(regenboog(), "activity", "starts_at", json!("08:00")),
                "contact",
                "name",
                json!("M. de Wit"),
            ),
        ),
        (
            "another day",
            with(regenboog(), "activity", "date", json!("2017-11-09")),
        ),
        (
            "another title",
            with(
                regenboog(),
                "activity",
                "title",
                json!("Respectles groep 5/6"),
            ),
        ),
        (
            "another organisation",
            with(
                regenboog(),
                "organisation",
                "name",
                json!("CBS De Wegwijzer"),
            ),
        ),
    ] {
        let created = expect_status(app.post_json(&activities(2017), &body).await, 201).await;
        assert_eq!(created["status"], "registered", "{case}");
    }
}

#[tokio::test]
async fn a_cancelled_or_declined_registration_does_not_block_registering_again() {
    let app = spawn_app_at(OPEN).await;
    let first = register(&app, &regenboog()).await;
    let cancelled = expect_status(
        app.post_json_with_token(
            &format!("{}/cancel", path_of(&first)),
            token_of(&first),
            &json!({}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(cancelled["status"], "cancelled");

    let again = register(
        &app,
        &with(
            regenboog(),
            "organisation",
            "name",
            json!("obs de regenboog"),
        ),
    )
    .await;
    assert_eq!(again["reference"], "WVR-2017-0002");
    expect_status(app.post_json(&activities(2017), &regenboog()).await, 409).await;

    decline(&app, again["id"].as_str().unwrap()).await;
    let third = register(&app, &regenboog()).await;
    assert_eq!(third["status"], "registered");
}

#[tokio::test]
async fn the_registrant_can_cancel_until_the_edition_starts() {
    let app = spawn_app_at(OPEN).await;
    let early = register(&app, &regenboog()).await;
    let late = register(&app, &sportclub()).await;
    publish(&app, late["id"].as_str().unwrap()).await;

    app.clock.set(at("2017-11-05T23:59:59+01:00"));
    let cancel_early = format!("{}/cancel", path_of(&early));
    let response = app
        .request(Method::POST, &cancel_early)
        .bearer_auth(token_of(&early))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["etag"], "\"2\"");
    let body = expect_status(response, 200).await;
    assert_eq!(body["status"], "cancelled");
    assert_eq!(body["history"][1]["action"], "cancel");
    assert!(body.get("access_token").is_none());

    // Cancelling twice: not in this state.
    let again = app
        .request(Method::POST, &cancel_early)
        .bearer_auth(token_of(&early))
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_status(again, 409).await["type"],
        "/problems/not_allowed"
    );

    // From the first day on, a published activity cannot be cancelled any more.
    app.clock.set(at("2017-11-06T00:00:00+01:00"));
    let cancel_late = format!("{}/cancel", path_of(&late));
    let refused = app
        .request(Method::POST, &cancel_late)
        .bearer_auth(token_of(&late))
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_status(refused, 409).await["type"],
        "/problems/edition_started"
    );
    let still = expect_status(
        app.get_with_token(&path_of(&late), token_of(&late)).await,
        200,
    )
    .await;
    assert_eq!(still["status"], "published");
}

#[tokio::test]
async fn a_token_opens_only_its_own_registration() {
    let app = spawn_app_at(OPEN).await;
    let mine = register(&app, &regenboog()).await;
    let theirs = register(&app, &sportclub()).await;

    let response = app.get_with_token(&path_of(&mine), token_of(&mine)).await;
    assert_eq!(response.headers()["etag"], "\"1\"");
    let body = expect_status(response, 200).await;
    assert_eq!(body["id"], mine["id"]);
    assert_eq!(body["status"], "registered");
    assert_eq!(body["contact"]["name"], "J. Bakker");
    assert_eq!(body["history"][0]["action"], "register");
    assert!(
        body.get("access_token").is_none(),
        "the token is shown only once"
    );

    let mine_in_2027 = format!(
        "/respect-week/2027/activities/{}",
        mine["id"].as_str().unwrap()
    );
    let cases = [
        (
            "another registration's token",
            app.get_with_token(&path_of(&mine), token_of(&theirs)).await,
        ),
        ("no token", app.get(&path_of(&mine)).await),
        (
            "a made-up token",
            app.get_with_token(&path_of(&mine), "not-a-token").await,
        ),
        (
            "the right token under another edition",
            app.get_with_token(&mine_in_2027, token_of(&mine)).await,
        ),
        (
            "an unknown id",
            app.get_with_token(
                "/respect-week/2017/activities/0123456789abcdef",
                token_of(&mine),
            )
            .await,
        ),
        (
            "cancelling with another token",
            app.post_json_with_token(
                &format!("{}/cancel", path_of(&mine)),
                token_of(&theirs),
                &json!({}),
            )
            .await,
        ),
    ];
    for (case, response) in cases {
        let problem = expect_status(response, 404).await;
        assert_eq!(problem["type"], "/problems/not_found", "{case}");
    }
    let untouched = expect_status(
        app.get_with_token(&path_of(&mine), token_of(&mine)).await,
        200,
    )
    .await;
    assert_eq!(untouched["status"], "registered");
}

#[tokio::test]
async fn a_repeated_registration_with_the_same_idempotency_key_replays_the_first_response() {
    let app = spawn_app_at(OPEN).await;
    let post = |key: &str, path: &str, body: &Value| {
        app.request(Method::POST, path)
            .header("Idempotency-Key", key)
            .json(body)
            .send()
    };
    let first = post("wvr-key-1", &activities(2017), &regenboog())
        .await
        .unwrap();
    let first_location = first.headers()["location"].clone();
    let first = expect_status(first, 201).await;
    let repeat = post("wvr-key-1", &activities(2017), &regenboog())
        .await
        .unwrap();
    assert_eq!(repeat.headers()["location"], first_location);
    let repeat = expect_status(repeat, 201).await;
    assert_eq!(repeat, first, "the same id, reference and access_token");

    // After the registration closed, the repeat still gets its first answer.
    app.clock.set(at("2017-11-20T10:00:00+01:00"));
    let late_repeat = expect_status(
        post("wvr-key-1", &activities(2017), &regenboog())
            .await
            .unwrap(),
        201,
    )
    .await;
    assert_eq!(late_repeat["access_token"], first["access_token"]);
    app.clock.set(at(OPEN));

    // The key with another body, or the same body for another edition: a reuse.
    for (case, path, body) in [
        ("another body", activities(2017), sportclub()),
        ("another edition", activities(2027), regenboog()),
    ] {
        let problem = expect_status(post("wvr-key-1", &path, &body).await.unwrap(), 422).await;
        assert_eq!(
            field_errors(&problem),
            [(
                "Idempotency-Key".to_string(),
                "idempotency_key_reused".to_string()
            )],
            "{case}"
        );
    }
    // Without a key the same body is a duplicate.
    expect_status(app.post_json(&activities(2017), &regenboog()).await, 409).await;
}

/// Registers the school (published) and the sport club (left unpublished).
async fn one_published_one_not(app: &TestApp) -> (Value, Value) {
    let published = register(app, &regenboog()).await;
    let unpublished = register(app, &sportclub()).await;
    publish(app, published["id"].as_str().unwrap()).await;
    (published, unpublished)
}

const CONTACT_STRINGS: [&str; 6] = [
    "J. Bakker",
    "j.bakker@regenboog.nl",
    "0321 654321",
    "K. Verhoeven",
    "k.verhoeven@vvswifterbant.nl",
    "0321 987654",
];

#[tokio::test]
async fn the_public_programme_shows_published_activities_only_and_no_contact_data() {
    let app = spawn_app_at(OPEN).await;
    let (published, _) = one_published_one_not(&app).await;

    let response = app.get(&activities(2017)).await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    for secret in CONTACT_STRINGS {
        assert!(
            !text.contains(secret),
            "the programme must not contain {secret:?}"
        );
    }
    assert!(
        !text.contains("Fair play-training"),
        "the unpublished activity is not listed"
    );
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["next_cursor"], Value::Null);
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], published["id"]);
    assert_eq!(items[0]["reference"], "WVR-2017-0001");
    assert_eq!(
        items[0]["organisation"],
        json!({"name": "OBS De Regenboog", "type": "primary_school"})
    );
    assert_eq!(items[0]["activity"]["title"], "Respectles groep 7/8");
    assert_eq!(items[0]["activity"]["starts_at"], "09:00");
    assert_eq!(items[0]["activity"]["open_to_public"], false);
    assert!(items[0].get("contact").is_none());
    assert!(
        items[0]["activity"].get("guest_lesson_wanted").is_none(),
        "what the school asked of the municipality is not public (#21)"
    );
}

#[tokio::test]
async fn the_calendar_has_one_event_per_published_activity_at_the_right_local_times() {
    let app = spawn_app_at(OPEN).await;
    // Text that needs escaping and a description long enough to be folded.
    let tricky = with(
        with(
            regenboog(),
            "activity",
            "title",
            json!("Respect; samen, niet tegen elkaar"),
        ),
        "activity",
        "description",
        json!(format!(
            "Regel één\nRegel twee, met komma; en puntkomma\\ {}",
            "lang ".repeat(40)
        )),
    );
    let (published, _) = {
        let published = register(&app, &tricky).await;
        let unpublished = register(&app, &sportclub()).await;
        publish(&app, published["id"].as_str().unwrap()).await;
        (published, unpublished)
    };

    let response = app.get("/respect-week/2017/program.ics").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/calendar; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    for secret in CONTACT_STRINGS {
        assert!(
            !text.contains(secret),
            "the calendar must not contain {secret:?}"
        );
    }
    assert!(
        !text.contains("Fair play"),
        "the unpublished activity is not in the calendar"
    );
    assert!(text.starts_with("BEGIN:VCALENDAR\r\n"));
    for line in text.split("\r\n") {
        assert!(
            line.len() <= 75,
            "RFC 5545 folds lines at 75 octets: {line:?}"
        );
    }

    let calendar = icalendar::Calendar::from_str(&text).expect("the calendar parses");
    let events: Vec<&icalendar::Event> = calendar.events().collect();
    assert_eq!(events.len(), 1, "one VEVENT per published activity");
    let event = events[0];
    assert_eq!(
        event.get_uid(),
        Some(format!("{}@loket.dronten.nl", published["id"].as_str().unwrap()).as_str())
    );
    assert_eq!(
        event.get_summary(),
        Some("Respect; samen, niet tegen elkaar")
    );
    assert!(
        event
            .get_description()
            .unwrap()
            .starts_with("Regel één\nRegel twee, met komma; en puntkomma\\ lang")
    );
    assert_eq!(event.get_location(), Some("Lijsterbeslaan 2, Dronten"));
    let local = |dt: Option<DatePerhapsTime>| -> NaiveDateTime {
        match dt.expect("a time") {
            DatePerhapsTime::DateTime(CalendarDateTime::Utc(t)) => {
                t.with_timezone(&Amsterdam).naive_local()
            }
            other => panic!("expected a UTC time, got {other:?}"),
        }
    };
    let day = NaiveDate::from_ymd_opt(2017, 11, 8).unwrap();
    assert_eq!(local(event.get_start()), day.and_hms_opt(9, 0, 0).unwrap());
    assert_eq!(local(event.get_end()), day.and_hms_opt(11, 30, 0).unwrap());

    // The same programme gives the same bytes (stable UIDs and DTSTAMPs).
    let again = app
        .get("/respect-week/2017/program.ics")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(again, text);
}

#[tokio::test]
async fn the_programme_is_ordered_by_date_and_start_filters_and_pages() {
    let app = spawn_app_at(OPEN).await;
    let activities_to_publish = [
        ("A", "primary_school", "dronten", "2017-11-08", "13:00"),
        ("B", "sport_club", "swifterbant", "2017-11-07", "18:30"),
        (
            "C",
            "primary_school",
            "biddinghuizen",
            "2017-11-08",
            "09:00",
        ),
        ("D", "secondary_school", "dronten", "2017-11-10", "10:00"),
    ];
    for (title, kind, kern, date, start) in activities_to_publish {
        let mut body = regenboog();
        body["organisation"]["type"] = json!(kind);
        body["activity"]["title"] = json!(title);
        body["activity"]["kern"] = json!(kern);
        body["activity"]["date"] = json!(date);
        body["activity"]["starts_at"] = json!(start);
        body["activity"]["ends_at"] = json!("23:00");
        let created = register(&app, &body).await;
        publish(&app, created["id"].as_str().unwrap()).await;
    }
    register(
        &app,
        &with(regenboog(), "activity", "title", json!("E (not published)")),
    )
    .await;

    let titles = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["activity"]["title"].as_str().unwrap().to_string())
            .collect()
    };
    let cases = [
        ("", vec!["B", "C", "A", "D"]),
        ("?date=2017-11-08", vec!["C", "A"]),
        ("?organisation_type=primary_school", vec!["C", "A"]),
        ("?kern=dronten", vec!["A", "D"]),
        ("?kern=dronten&date=2017-11-10", vec!["D"]),
        ("?organisation_type=vocational_school", vec![]),
        ("?date=2017-11-09", vec![]),
        ("?kern=", vec!["B", "C", "A", "D"]),
    ];
    for (query, expected) in cases {
        let page = expect_status(app.get(&format!("{}{query}", activities(2017))).await, 200).await;
        assert_eq!(titles(&page), expected, "{query}");
    }

    // Pages of two, following the cursor.
    let first = expect_status(app.get(&format!("{}?limit=2", activities(2017))).await, 200).await;
    assert_eq!(titles(&first), ["B", "C"]);
    let cursor = first["next_cursor"]
        .as_str()
        .expect("more follows")
        .to_string();
    let second = expect_status(
        app.get(&format!("{}?limit=2&cursor={cursor}", activities(2017)))
            .await,
        200,
    )
    .await;
    assert_eq!(titles(&second), ["A", "D"]);
    if let Some(c) = second["next_cursor"].as_str() {
        let third = expect_status(
            app.get(&format!("{}?limit=2&cursor={c}", activities(2017)))
                .await,
            200,
        )
        .await;
        assert_eq!(titles(&third), Vec::<String>::new());
        assert_eq!(third["next_cursor"], Value::Null);
    }

    // A tampered cursor, and malformed, unknown or repeated parameters: 400.
    let mut tampered = cursor.into_bytes();
    tampered[2] ^= 1;
    let tampered = String::from_utf8(tampered).unwrap();
    for query in [
        format!("?cursor={tampered}"),
        "?limit=0".into(),
        "?limit=101".into(),
        "?limit=ten".into(),
        "?date=8-11-2017".into(),
        "?organisation_type=university".into(),
        "?kern=lelystad".into(),
        "?status=registered".into(),
        "?kern=dronten&kern=swifterbant".into(),
    ] {
        let problem =
            expect_status(app.get(&format!("{}{query}", activities(2017))).await, 400).await;
        assert!(
            ["/problems/invalid_query", "/problems/invalid_cursor"]
                .contains(&problem["type"].as_str().unwrap()),
            "{query}: {problem}"
        );
    }
    let many = expect_status(
        app.get(&format!("{}?limit=100", activities(2017))).await,
        200,
    )
    .await;
    assert_eq!(titles(&many).len(), 4);
}

#[tokio::test]
async fn contact_data_is_erased_a_year_after_the_edition_and_the_activity_stays() {
    let app = spawn_app_at(OPEN).await;
    let (published, unpublished) = one_published_one_not(&app).await;
    let purge = || loket::app::purge::run_for(&app.state);

    // One second before the moment: everything is still there.
    app.clock.set(at("2018-11-12T23:59:59+01:00"));
    assert_eq!(purge().await.unwrap().contacts_erased, 0);
    let before = expect_status(
        app.get_with_token(&path_of(&published), token_of(&published))
            .await,
        200,
    )
    .await;
    assert_eq!(before["contact"]["email"], "j.bakker@regenboog.nl");

    // 00:00 local, 365 days after the last day (2017-11-12).
    app.clock.set(at("2018-11-13T00:00:00+01:00"));
    assert_eq!(purge().await.unwrap().contacts_erased, 2);
    for created in [&published, &unpublished] {
        let response = app
            .get_with_token(&path_of(created), token_of(created))
            .await;
        let text = response.text().await.unwrap();
        for secret in CONTACT_STRINGS {
            assert!(!text.contains(secret), "{secret:?} must be gone");
        }
        let body: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(body["contact"], Value::Null);
        assert_eq!(body["erased_at"], "2018-11-13T00:00:00+01:00");
        assert_eq!(body["activity"], created["activity"], "the activity stays");
        assert_eq!(body["organisation"], created["organisation"]);
    }
    let programme = expect_status(app.get(&activities(2017)).await, 200).await;
    assert_eq!(
        programme["items"][0]["id"], published["id"],
        "still in the programme"
    );
    assert_eq!(
        purge().await.unwrap().contacts_erased,
        0,
        "nothing to erase twice"
    );

    // The 2027 edition is not due for years.
    let in_2027 = with(regenboog(), "activity", "date", json!("2027-11-10"));
    app.clock.set(at("2027-01-01T10:00:00+01:00"));
    let later = expect_status(app.post_json(&activities(2027), &in_2027).await, 201).await;
    assert_eq!(purge().await.unwrap().contacts_erased, 0);
    let kept = expect_status(
        app.get_with_token(
            &format!(
                "/respect-week/2027/activities/{}",
                later["id"].as_str().unwrap()
            ),
            token_of(&later),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(kept["contact"]["name"], "J. Bakker");
}

#[tokio::test]
async fn the_openapi_document_describes_the_week_van_respect_routes() {
    let app = spawn_app_at(OPEN).await;
    let doc = expect_status(app.get("/openapi.json").await, 200).await;
    for (path, method) in [
        ("/respect-week/editions", "get"),
        ("/respect-week/{year}/activities", "post"),
        ("/respect-week/{year}/activities", "get"),
        ("/respect-week/{year}/program.ics", "get"),
        ("/respect-week/{year}/activities/{id}", "get"),
        ("/respect-week/{year}/activities/{id}/cancel", "post"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is documented"
        );
    }
}

#[tokio::test]
async fn an_edition_added_in_loket_config_can_be_registered_for() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("loket.toml");
    std::fs::write(
        &config,
        "[[respect_week_editions]]\nyear = 2028\nstarts_on = 2028-11-06\nends_on = 2028-11-12\n",
    )
    .unwrap();
    let catalogue = loket::config::load_catalogue(Some(&config)).expect("a valid configuration");
    let data = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let store = new_store(Some(&data)).await;
    let app = serve(
        store,
        loket::clock::ManualClock::new(at("2028-11-05T23:59:59+01:00")),
        None,
        catalogue,
    )
    .await;

    let editions = expect_status(app.get("/respect-week/editions").await, 200).await;
    let years: Vec<i64> = editions
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["year"].as_i64().unwrap())
        .collect();
    assert_eq!(years, [2017, 2027, 2028]);
    assert_eq!(
        editions[2]["registration_closes_at"],
        "2028-11-05T23:59:59+01:00"
    );

    let body = with(regenboog(), "activity", "date", json!("2028-11-08"));
    let created = expect_status(app.post_json(&activities(2028), &body).await, 201).await;
    assert_eq!(created["reference"], "WVR-2028-0001");

    std::fs::write(
        &config,
        "[[respect_week_editions]]\nyear = 2028\nstarts_on = 2028-11-06\nends_on = 2028-11-01\n",
    )
    .unwrap();
    assert!(
        loket::config::load_catalogue(Some(&config)).is_err(),
        "an edition that ends before it starts is refused"
    );
}

/// Hardening F9: no answer may be sniffed or leak a referrer; personal data and
/// tokens are never cached; the public documents are cached by their bytes.
#[tokio::test]
async fn private_answers_are_not_cached_and_public_documents_answer_304() {
    let app = spawn_app_at(OPEN).await;
    let created = app.post_json(&activities(2017), &regenboog()).await;
    let check_private = |r: &reqwest::Response, what: &str| {
        assert_eq!(r.headers()["cache-control"], "no-store", "{what}");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff", "{what}");
        assert_eq!(r.headers()["referrer-policy"], "no-referrer", "{what}");
    };
    check_private(&created, "the 201 with the access token");
    let created: Value = created.json().await.unwrap();
    publish(&app, created["id"].as_str().unwrap()).await;
    let own = app
        .get_with_token(
            &format!(
                "/respect-week/2017/activities/{}",
                created["id"].as_str().unwrap()
            ),
            created["access_token"].as_str().unwrap(),
        )
        .await;
    check_private(&own, "the registrant's own registration");
    check_private(&app.get("/nothing/here").await, "a 404");

    for path in [
        activities(2017),
        "/respect-week/2017/program.ics".to_string(),
        "/openapi.json".to_string(),
    ] {
        let first = app.get(&path).await;
        assert_eq!(first.status(), 200, "{path}");
        assert_eq!(
            first.headers()["cache-control"],
            "public, max-age=60",
            "{path}"
        );
        assert_eq!(
            first.headers()["x-content-type-options"],
            "nosniff",
            "{path}"
        );
        let etag = first.headers()["etag"].to_str().unwrap().to_string();
        let body = first.bytes().await.unwrap();
        assert!(!body.is_empty(), "{path}");
        let again = app
            .request(Method::GET, &path)
            .header("If-None-Match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{path}");
        assert_eq!(again.headers()["etag"], etag.as_str(), "{path}");
        assert!(again.bytes().await.unwrap().is_empty(), "{path}: no body");
        let stale = app
            .request(Method::GET, &path)
            .header("If-None-Match", "\"something else\"")
            .send()
            .await
            .unwrap();
        assert_eq!(stale.status(), 200, "{path}");
    }
    // A change to the programme changes its ETag.
    let before = app.get(&activities(2017)).await.headers()["etag"].clone();
    let mut other = regenboog();
    other["activity"]["title"] = json!("Tweede les");
    let second = register(&app, &other).await;
    publish(&app, second["id"].as_str().unwrap()).await;
    let after = app.get(&activities(2017)).await.headers()["etag"].clone();
    assert_ne!(before, after);
}

/// The programme and the calendar come from a snapshot: a write through this
/// service shows at once; a write by another process on the same store (on AWS, the
/// admin function) shows within the snapshot's ten seconds, and a 304 needs no read.
#[tokio::test]
async fn the_programme_snapshot_follows_writes_here_at_once_and_elsewhere_within_seconds() {
    let app = spawn_app_at(OPEN).await;
    let created = register(&app, &regenboog()).await;
    let programme = activities(2017);
    let empty = expect_status(app.get(&programme).await, 200).await;
    assert_eq!(empty["items"], json!([]));

    // Here: published through this app's store, visible on the next request.
    publish(&app, created["id"].as_str().unwrap()).await;
    let shown = expect_status(app.get(&programme).await, 200).await;
    assert_eq!(shown["items"].as_array().unwrap().len(), 1);
    let etag = app.get(&programme).await.headers()["etag"].clone();
    let again = app
        .request(Method::GET, &programme)
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);

    // Elsewhere: another process's store on the same data publishes a second one.
    let created = register(&app, &sportclub()).await;
    let elsewhere = loket::store::Store::new(app.state.store.clone().into_engine());
    let registrations = elsewhere.registrations();
    let reg = registrations
        .get(created["id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    let edition = app.state.catalogue.editions.get(2017).unwrap();
    let next = reg
        .apply(
            &RegistrationAction::Publish { reason: None },
            Actor::Staff("elsewhere".into()),
            edition,
            app.clock.now(),
        )
        .unwrap();
    // (The registration itself was written here, so the snapshot is made after it.)
    let before = expect_status(app.get(&programme).await, 200).await;
    assert_eq!(before["items"].as_array().unwrap().len(), 1);
    registrations.transition(&reg, &next, &[]).await.unwrap();
    let stale = expect_status(app.get(&programme).await, 200).await;
    assert_eq!(
        stale["items"].as_array().unwrap().len(),
        1,
        "within the snapshot's seconds"
    );
    app.real_clock.advance(chrono::Duration::seconds(10));
    let fresh = expect_status(app.get(&programme).await, 200).await;
    assert_eq!(fresh["items"].as_array().unwrap().len(), 2, "after them");
    let calendar = app
        .get("/respect-week/2017/program.ics")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(calendar.matches("BEGIN:VEVENT").count(), 2);
}
