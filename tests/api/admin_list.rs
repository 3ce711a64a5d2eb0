//! The staff list: pages oldest first with a sealed cursor, its filters, and bad
//! parameters.

use serde_json::{Value, json};

use crate::admin_helpers::{id_of, moved};
use crate::helpers::*;
use crate::permits::{buurtbarbecue, jeugdtoernooi, submit, zomerfestival};

#[tokio::test]
async fn the_list_pages_oldest_first_with_a_sealed_cursor_and_filters_on_status_year_and_late() {
    let app = spawn_app_at("2017-02-01T09:00:00+01:00").await;
    let token = staff_token(&app, "marieke");
    let autumn = |body: Value| {
        moved(
            body,
            "2018-09-08T14:00:00+02:00",
            "2018-09-08T20:00:00+02:00",
        )
    };
    let mut expected = Vec::new();
    // Five 2017 applications, a day apart; the zomerfestival of July is late.
    for (moment, body) in [
        ("2017-02-01T09:00:00+01:00", buurtbarbecue()),
        ("2017-02-02T09:00:00+01:00", jeugdtoernooi()),
        ("2017-03-03T09:00:00+01:00", autumn(buurtbarbecue())),
        ("2017-07-01T10:00:00+02:00", zomerfestival()),
        ("2017-12-31T23:30:00+01:00", autumn(jeugdtoernooi())),
        // 23:30 UTC on New Year's Eve is 2018 in Dronten.
        ("2017-12-31T23:30:00Z", autumn(zomerfestival())),
    ] {
        app.clock.set(at(moment));
        expected.push(submit(&app, &body).await);
    }
    let refs = |items: &[Value]| {
        items
            .iter()
            .map(|i| i["reference"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let all_refs = refs(&expected);
    assert_eq!(all_refs.last().unwrap(), "EV-2018-0001");

    // Pages of two, oldest first, until next_cursor is null.
    let mut seen = Vec::new();
    let mut path = "/admin/permits?limit=2".to_string();
    loop {
        let page = expect_status(app.admin_get(&path, &token).await, 200).await;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/admin/permits?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(refs(&seen), all_refs);
    assert_eq!(
        seen[0]["organiser"]["email"], "p.jansen@example.nl",
        "contact data included"
    );
    assert_eq!(seen[3]["deadline"]["late"], true);

    let festival_id = id_of(&expected[3]);
    app.permit_decide(&festival_id, &token, json!({"action": "start_review"}))
        .await;
    let list = |query: &str| {
        let app = &app;
        let token = token.clone();
        let query = query.to_string();
        async move {
            let page = expect_status(
                app.admin_get(&format!("/admin/permits?{query}"), &token)
                    .await,
                200,
            )
            .await;
            refs(page["items"].as_array().unwrap())
        }
    };
    let r = |i: usize| all_refs[i].clone();
    for (query, wanted) in [
        ("year=2017", vec![r(0), r(1), r(2), r(3), r(4)]),
        ("year=2018", vec![r(5)]),
        ("year=2016", vec![]),
        ("late=true", vec![r(3)]),
        ("late=false", vec![r(0), r(1), r(2), r(4), r(5)]),
        ("status=in_review", vec![r(3)]),
        ("status=submitted&year=2017", vec![r(0), r(1), r(2), r(4)]),
        ("status=submitted&late=true", vec![]),
        ("status=in_review&late=true&year=2017", vec![r(3)]),
        ("status=&year=&late=", all_refs.clone()),
        ("late=false&limit=100", vec![r(0), r(1), r(2), r(4), r(5)]),
    ] {
        assert_eq!(list(query).await, wanted, "?{query}");
    }

    // A filtered list pages too.
    let first = expect_status(
        app.admin_get("/admin/permits?late=false&limit=3", &token)
            .await,
        200,
    )
    .await;
    let cursor = first["next_cursor"]
        .as_str()
        .expect("more follow")
        .to_string();
    let second = expect_status(
        app.admin_get(
            &format!("/admin/permits?late=false&limit=3&cursor={cursor}"),
            &token,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(refs(second["items"].as_array().unwrap()), [r(4), r(5)]);
    assert_eq!(second["next_cursor"], Value::Null);

    // A tampered cursor is refused.
    let mut tampered = cursor.into_bytes();
    tampered[2] = if tampered[2] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let problem = expect_status(
        app.admin_get(&format!("/admin/permits?cursor={tampered}"), &token)
            .await,
        400,
    )
    .await;
    assert_eq!(problem["type"], "/problems/invalid_cursor");
}

#[tokio::test]
async fn bad_list_parameters_are_400_naming_each_one() {
    let app = spawn_app().await;
    let token = staff_token(&app, "marieke");
    for (query, names) in [
        ("limit=0", vec!["limit"]),
        ("limit=101", vec!["limit"]),
        ("limit=ten", vec!["limit"]),
        ("year=17x", vec!["year"]),
        ("status=open", vec!["status"]),
        ("late=yes", vec!["late"]),
        ("sort=desc", vec!["sort"]),
        ("status=submitted&status=approved", vec!["status"]),
        (
            "status=open&late=maybe&limit=-1",
            vec!["status", "late", "limit"],
        ),
    ] {
        let problem = expect_status(
            app.admin_get(&format!("/admin/permits?{query}"), &token)
                .await,
            400,
        )
        .await;
        assert_eq!(problem["type"], "/problems/invalid_query", "{query}");
        let detail = problem["detail"].as_str().unwrap();
        for name in names {
            assert!(detail.contains(&format!("{name}:")), "?{query}: {detail}");
        }
    }
}
