//! Staff routes for the Week van Respect: the list with contact data, the detail with
//! its full history, the review under If-Match, and the summary per organisation type.

use loket::clock::Clock;
use loket::domain::respect_week;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::respect_week::{
    OPEN, activities, path_of, regenboog, register, sportclub, token_of, with,
};

fn admin(path: &str) -> String {
    format!("/admin/respect-week/2017{path}")
}

fn id_of(created: &Value) -> &str {
    created["id"].as_str().unwrap()
}

async fn staff_get(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    app.request(Method::GET, path)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn review(
    app: &TestApp,
    id: &str,
    token: &str,
    if_match: Option<&str>,
    body: Value,
) -> reqwest::Response {
    let mut request = app
        .request(Method::POST, &admin(&format!("/activities/{id}/review")))
        .bearer_auth(token)
        .json(&body);
    if let Some(v) = if_match {
        request = request.header("If-Match", v);
    }
    request.send().await.unwrap()
}

/// Publishes or declines at the current version; the new detail.
async fn decide(app: &TestApp, id: &str, token: &str, body: Value) -> Value {
    let detail = staff_get(app, &admin(&format!("/activities/{id}")), token).await;
    let etag = detail.headers()["etag"].to_str().unwrap().to_string();
    expect_status(review(app, id, token, Some(&etag), body).await, 200).await
}

#[tokio::test]
async fn the_staff_routes_need_a_staff_token() {
    let app = spawn_app_at(OPEN).await;
    let created = register(&app, &regenboog()).await;
    let id = id_of(&created);
    let mut not_staff = staff_claims(&app, "burger");
    not_staff["groups"] = json!(["citizens"]);
    let not_staff = sign_hs256(&not_staff, TEST_JWT_SECRET);
    let routes = [
        (Method::GET, admin("/activities")),
        (Method::GET, admin(&format!("/activities/{id}"))),
        (Method::POST, admin(&format!("/activities/{id}/review"))),
        (Method::GET, admin("/summary")),
    ];
    for (method, path) in routes {
        let cases = [
            ("no token", None, 401),
            (
                "the registrant's access token",
                Some(token_of(&created).to_string()),
                401,
            ),
            (
                "a valid token without the staff group",
                Some(not_staff.clone()),
                403,
            ),
        ];
        for (case, token, status) in cases {
            let mut request = app
                .request(method.clone(), &path)
                .header("If-Match", "\"1\"")
                .json(&json!({"action": "publish"}));
            if let Some(t) = token {
                request = request.bearer_auth(t);
            }
            let response = request.send().await.unwrap();
            if status == 401 {
                assert_eq!(
                    response.headers()["www-authenticate"],
                    "Bearer",
                    "{method} {path}: {case}"
                );
            }
            expect_status(response, status).await;
        }
    }
    let untouched = expect_status(
        app.get_with_token(&path_of(&created), token_of(&created))
            .await,
        200,
    )
    .await;
    assert_eq!(untouched["status"], "registered", "nothing was published");
}

#[tokio::test]
async fn staff_list_every_registration_with_contact_data_in_programme_order() {
    let app = spawn_app_at(OPEN).await;
    let token = staff_token(&app, "marieke");
    let school = register(&app, &regenboog()).await; // 8 Nov
    let club = register(&app, &sportclub()).await; // 7 Nov
    let later = register(
        &app,
        &with(regenboog(), "activity", "date", json!("2017-11-10")),
    )
    .await;
    decide(&app, id_of(&club), &token, json!({"action": "publish"})).await;
    decide(
        &app,
        id_of(&later),
        &token,
        json!({"action": "decline", "reason": "Dubbel"}),
    )
    .await;

    let ids = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect()
    };
    let all = expect_status(staff_get(&app, &admin("/activities"), &token).await, 200).await;
    assert_eq!(ids(&all), [id_of(&club), id_of(&school), id_of(&later)]);
    assert_eq!(all["items"][1]["contact"]["email"], "j.bakker@regenboog.nl");
    assert_eq!(all["items"][0]["status"], "published");
    assert_eq!(all["next_cursor"], Value::Null);

    for (status, expected) in [
        ("registered", vec![id_of(&school)]),
        ("published", vec![id_of(&club)]),
        ("declined", vec![id_of(&later)]),
        ("cancelled", vec![]),
    ] {
        let page = expect_status(
            staff_get(
                &app,
                &admin(&format!("/activities?status={status}")),
                &token,
            )
            .await,
            200,
        )
        .await;
        assert_eq!(ids(&page), expected, "{status}");
    }

    let first = expect_status(
        staff_get(&app, &admin("/activities?limit=2"), &token).await,
        200,
    )
    .await;
    assert_eq!(ids(&first), [id_of(&club), id_of(&school)]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest = expect_status(
        staff_get(
            &app,
            &admin(&format!("/activities?limit=2&cursor={cursor}")),
            &token,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(ids(&rest), [id_of(&later)]);

    for query in [
        "?status=open",
        "?limit=0",
        "?year=2017",
        "?cursor=forged.cursor",
    ] {
        expect_status(
            staff_get(&app, &admin(&format!("/activities{query}")), &token).await,
            400,
        )
        .await;
    }
    expect_status(
        staff_get(&app, "/admin/respect-week/2018/activities", &token).await,
        404,
    )
    .await;
}

#[tokio::test]
async fn a_review_needs_if_match_and_the_current_version() {
    let app = spawn_app_at(OPEN).await;
    let token = staff_token(&app, "marieke");
    let created = register(&app, &regenboog()).await;
    let id = id_of(&created);
    let publish = json!({"action": "publish"});

    let detail = staff_get(&app, &admin(&format!("/activities/{id}")), &token).await;
    assert_eq!(detail.headers()["etag"], "\"1\"");

    let cases: Vec<(&str, Option<&str>, Value, u16, &str)> = vec![
        (
            "no If-Match",
            None,
            publish.clone(),
            428,
            "/problems/if_match_required",
        ),
        (
            "an old version",
            Some("\"0\""),
            publish.clone(),
            412,
            "/problems/version_mismatch",
        ),
        (
            "a future version",
            Some("\"7\""),
            publish.clone(),
            412,
            "/problems/version_mismatch",
        ),
        (
            "not a version",
            Some("\"abc\""),
            publish.clone(),
            412,
            "/problems/version_mismatch",
        ),
        (
            "an unknown action",
            Some("\"1\""),
            json!({"action": "approve"}),
            422,
            "/problems/validation",
        ),
        (
            "a decline without reason",
            Some("\"1\""),
            json!({"action": "decline"}),
            422,
            "/problems/validation",
        ),
        (
            "a blank reason",
            Some("\"1\""),
            json!({"action": "decline", "reason": "  "}),
            422,
            "/problems/validation",
        ),
        (
            "an unknown field",
            Some("\"1\""),
            json!({"action": "publish", "category": "A"}),
            422,
            "/problems/validation",
        ),
    ];
    for (case, if_match, body, status, kind) in cases {
        let problem = expect_status(review(&app, id, &token, if_match, body).await, status).await;
        assert_eq!(problem["type"], kind, "{case}");
    }

    let response = review(&app, id, &token, Some("\"1\""), publish.clone()).await;
    assert_eq!(response.headers()["etag"], "\"2\"");
    let published = expect_status(response, 200).await;
    assert_eq!(published["status"], "published");
    // Deciding again on the new version: not in this state.
    let again = expect_status(
        review(
            &app,
            id,
            &token,
            Some("\"2\""),
            json!({"action": "decline", "reason": "Toch niet"}),
        )
        .await,
        409,
    )
    .await;
    assert_eq!(again["type"], "/problems/not_allowed");

    let elsewhere = format!("/admin/respect-week/2027/activities/{id}");
    expect_status(staff_get(&app, &elsewhere, &token).await, 404).await;
    expect_status(
        staff_get(&app, &admin("/activities/0123456789abcdef"), &token).await,
        404,
    )
    .await;
}

#[tokio::test]
async fn the_detail_shows_the_full_history_with_every_actor() {
    let app = spawn_app_at(OPEN).await;
    let marieke = staff_token(&app, "marieke");
    let created = register(&app, &regenboog()).await;
    decide(
        &app,
        id_of(&created),
        &marieke,
        json!({"action": "publish", "reason": "Mooi initiatief"}),
    )
    .await;
    expect_status(
        app.post_json_with_token(
            &format!("{}/cancel", path_of(&created)),
            token_of(&created),
            &json!({}),
        )
        .await,
        200,
    )
    .await;

    let detail = expect_status(
        staff_get(
            &app,
            &admin(&format!("/activities/{}", id_of(&created))),
            &marieke,
        )
        .await,
        200,
    )
    .await;
    let history: Vec<(String, String, Value, String)> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["actor"].as_str().unwrap().to_string(),
                h["action"].as_str().unwrap().to_string(),
                h["from"].clone(),
                h["to"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        history,
        [
            (
                "registrant".into(),
                "register".into(),
                Value::Null,
                "registered".into()
            ),
            (
                "marieke".into(),
                "publish".into(),
                json!("registered"),
                "published".into()
            ),
            (
                "registrant".into(),
                "cancel".into(),
                json!("published"),
                "cancelled".into()
            ),
        ]
    );
    assert_eq!(detail["history"][1]["reason"], "Mooi initiatief");
    assert_eq!(detail["contact"]["phone"], "0321 654321");

    // The registrant's own view shows no staff identities.
    let own = app
        .get_with_token(&path_of(&created), token_of(&created))
        .await
        .text()
        .await
        .unwrap();
    assert!(!own.contains("marieke"));
}

#[tokio::test]
async fn a_published_activity_appears_in_the_public_programme() {
    let app = spawn_app_at(OPEN).await;
    let token = staff_token(&app, "marieke");
    let created = register(&app, &regenboog()).await;
    let before = expect_status(app.get(&activities(2017)).await, 200).await;
    assert_eq!(before["items"], json!([]));
    decide(&app, id_of(&created), &token, json!({"action": "publish"})).await;
    let after = expect_status(app.get(&activities(2017)).await, 200).await;
    assert_eq!(after["items"][0]["id"], created["id"]);
}

#[tokio::test]
async fn the_summary_counts_every_type_and_status_and_equals_a_recount() {
    let app = spawn_app_at(OPEN).await;
    let token = staff_token(&app, "marieke");

    let empty = expect_status(staff_get(&app, &admin("/summary"), &token).await, 200).await;
    let zeros = json!({"registered": 0, "published": 0, "declined": 0, "cancelled": 0});
    assert_eq!(
        empty,
        json!({"year": 2017, "published_participants": 0, "by_type": {
            "primary_school": zeros, "secondary_school": zeros, "vocational_school": zeros,
            "sport_club": zeros, "other": zeros,
        }})
    );

    let school = register(&app, &regenboog()).await; // 54 participants
    let school_2 = register(
        &app,
        &with(regenboog(), "activity", "date", json!("2017-11-09")),
    )
    .await;
    let _still_registered = register(
        &app,
        &with(regenboog(), "activity", "date", json!("2017-11-10")),
    )
    .await;
    let club = register(&app, &sportclub()).await; // 40 participants
    let club_2 = register(
        &app,
        &with(sportclub(), "activity", "date", json!("2017-11-08")),
    )
    .await;
    decide(&app, id_of(&school), &token, json!({"action": "publish"})).await;
    decide(&app, id_of(&club), &token, json!({"action": "publish"})).await;
    decide(&app, id_of(&club_2), &token, json!({"action": "publish"})).await;
    decide(
        &app,
        id_of(&school_2),
        &token,
        json!({"action": "decline", "reason": "Buiten de doelgroep"}),
    )
    .await;
    // A published activity cancelled: its participants leave the count.
    expect_status(
        app.post_json_with_token(
            &format!("{}/cancel", path_of(&club_2)),
            token_of(&club_2),
            &json!({}),
        )
        .await,
        200,
    )
    .await;

    let summary = expect_status(staff_get(&app, &admin("/summary"), &token).await, 200).await;
    assert_eq!(summary["year"], 2017);
    assert_eq!(
        summary["by_type"]["primary_school"],
        json!({"registered": 1, "published": 1, "declined": 1, "cancelled": 0})
    );
    assert_eq!(
        summary["by_type"]["sport_club"],
        json!({"registered": 0, "published": 1, "declined": 0, "cancelled": 1})
    );
    assert_eq!(summary["by_type"]["other"], zeros);
    assert_eq!(summary["published_participants"], 94);

    // The aggregates equal a recount of the registrations themselves.
    let all = app
        .state
        .store
        .registrations()
        .list_all(2017)
        .await
        .unwrap();
    let recount = serde_json::to_value(respect_week::recompute(2017, &all)).unwrap();
    assert_eq!(summary, recount);

    expect_status(
        staff_get(&app, "/admin/respect-week/2018/summary", &token).await,
        404,
    )
    .await;
}

/// The staff page of one registration, with a session cookie when `staff` is given.
async fn detail_page(app: &TestApp, path: &str, staff: Option<&str>) -> reqwest::Response {
    // Redirects are answers here, not to be followed.
    let mut request = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url(path));
    if let Some(staff) = staff {
        let token = test_staff_auth()
            .mint(staff, app.real_clock.now().timestamp(), 600)
            .unwrap();
        request = request.header("cookie", format!("loket_sessie={token}"));
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn the_staff_detail_page_shows_everything_to_decide_on_and_refuses_the_unknown() {
    let app = spawn_app_at(OPEN).await;
    let created = register(&app, &regenboog()).await;
    let page = format!("/medewerkers/week-van-respect/2017/{}", id_of(&created));

    let signed_out = detail_page(&app, &page, None).await;
    assert_eq!(signed_out.status(), 303, "no session: to the sign-in");
    assert_eq!(signed_out.headers()["location"], "/medewerkers/inloggen");

    let shown = detail_page(&app, &page, Some("j.visser")).await;
    assert_eq!(shown.status(), 200);
    let html = shown.text().await.unwrap();
    for expected in [
        "Respectles groep 7/8",
        "WVR-2017-0001",
        "OBS De Regenboog",
        "J. Bakker",
        "mailto:j.bakker@regenboog.nl",
        "0321 654321",
        "10 tot en met 12 jaar",
        "Niet openbaar",
        "Gevraagd: de coördinator neemt contact op",
        "de aanmelder",
        r#"name="version" value="1""#,
        r#"value="publish""#,
    ] {
        assert!(html.contains(expected), "{expected:?} in {html}");
    }

    for unknown in [
        "/medewerkers/week-van-respect/2017/bestaat-niet".to_string(),
        // A registration of 2017 is not found under another edition.
        format!("/medewerkers/week-van-respect/2027/{}", id_of(&created)),
        format!("/medewerkers/week-van-respect/1999/{}", id_of(&created)),
    ] {
        let response = detail_page(&app, &unknown, Some("j.visser")).await;
        assert_eq!(response.status(), 404, "{unknown}");
    }
}

/// A CSV's header row and records.
fn read_csv(bytes: &[u8], delimiter: u8) -> (Vec<String>, Vec<csv::StringRecord>) {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .from_reader(bytes);
    let headers = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let rows = reader.records().map(|r| r.unwrap()).collect();
    (headers, rows)
}

#[tokio::test]
async fn the_coordinator_exports_contacts_and_guest_lesson_requests_in_both_dialects() {
    let app = spawn_app_at(OPEN).await;
    let mut evil = sportclub();
    evil["contact"]["name"] = json!("=HYPERLINK(\"http://evil.example\")");
    register(&app, &regenboog()).await;
    register(&app, &evil).await;
    let token = staff_token(&app, "coordinator");

    let rfc = staff_get(&app, &admin("/contacts.csv"), &token).await;
    assert_eq!(rfc.status(), 200);
    assert_eq!(rfc.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(rfc.headers()["cache-control"], "no-store");
    assert_eq!(
        rfc.headers()["content-disposition"],
        "attachment; filename=\"week-van-respect-2017-contacten.csv\""
    );
    let (headers, rows) = read_csv(&rfc.bytes().await.unwrap(), b',');
    let col = |row: &csv::StringRecord, name: &str| {
        row[headers.iter().position(|h| h == name).unwrap()].to_string()
    };
    // Programme order: the sport club's Tuesday evening before the school's Wednesday.
    assert_eq!(rows.len(), 2);
    assert_eq!(col(&rows[0], "organisation"), "VV Swifterbant");
    assert_eq!(col(&rows[0], "guest_lesson_wanted"), "false");
    assert_eq!(
        col(&rows[0], "contact_name"),
        "'=HYPERLINK(\"http://evil.example\")",
        "a formula is neutralised"
    );
    assert_eq!(col(&rows[1], "reference"), "WVR-2017-0001");
    assert_eq!(col(&rows[1], "guest_lesson_wanted"), "true");
    assert_eq!(col(&rows[1], "email"), "j.bakker@regenboog.nl");
    assert_eq!(col(&rows[1], "phone"), "0321 654321");
    assert_eq!(col(&rows[1], "status"), "registered");

    let excel = staff_get(&app, &admin("/contacts.csv?dialect=excel_nl"), &token).await;
    assert_eq!(excel.status(), 200);
    assert_eq!(
        excel.headers()["content-disposition"],
        "attachment; filename=\"week-van-respect-2017-contacten-excel.csv\""
    );
    let bytes = excel.bytes().await.unwrap();
    assert!(bytes.starts_with("\u{feff}".as_bytes()), "a BOM for Excel");
    let (headers, rows) = read_csv(&bytes[3..], b';');
    assert_eq!(
        headers[..8],
        [
            "Kenmerk",
            "Status",
            "Gastles gevraagd",
            "Organisatie",
            "Soort organisatie",
            "Contactpersoon",
            "E-mailadres",
            "Telefoonnummer"
        ]
    );
    let school = &rows[1];
    assert_eq!(
        (&school[1], &school[2], &school[4], &school[9]),
        ("Aangemeld", "ja", "basisschool", "08-11-2017")
    );

    // Each export is recorded: contact data left the system.
    let audits = app.state.store.audit().list_all().await.unwrap();
    assert_eq!(audits.len(), 2);
    assert!(
        audits
            .iter()
            .all(|a| a.export == "respect_week_contacts_csv"
                && a.staff == "coordinator"
                && a.year == 2017
                && a.rows == 2)
    );

    for (path, status) in [
        ("/admin/respect-week/1999/contacts.csv", 404),
        ("/admin/respect-week/2017/contacts.csv?dialect=xlsx", 400),
        ("/admin/respect-week/2017/contacts.csv?jaar=2017", 400),
    ] {
        let response = staff_get(&app, path, &token).await;
        assert_eq!(response.status(), status, "{path}");
    }
    let anonymous = app
        .request(Method::GET, &admin("/contacts.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}
