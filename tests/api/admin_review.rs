//! Staff review under If-Match: one winner among concurrent approvals, the
//! precondition, the lifecycle and its validation, reclassification, and voiding junk.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::admin_helpers::id_of;
use crate::helpers::*;
use crate::permits::{buurtbarbecue, jeugdtoernooi, submit, zomerfestival};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_approvals_with_the_same_if_match_let_exactly_one_through() {
    let app = spawn_app().await;
    let id = id_of(&submit(&app, &zomerfestival()).await);
    let token = staff_token(&app, "marieke");
    app.permit_decide(&id, &token, json!({"action": "start_review"}))
        .await;
    let version = app.permit_etag(&id, &token).await;
    assert_eq!(version, "\"2\"");

    let mut attempts = tokio::task::JoinSet::new();
    for i in 0..20 {
        let request = app
            .admin_request(
                Method::POST,
                &format!("/admin/permits/{id}/review"),
                &staff_token(&app, &format!("staff-{i}")),
            )
            .header("If-Match", version.clone())
            .json(&json!({"action": "approve"}));
        attempts.spawn(async move { request.send().await.expect("request").status() });
    }
    let statuses = attempts.join_all().await;
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::PRECONDITION_FAILED || **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((ok, refused), (1, 19), "{statuses:?}");

    let detail = expect_status(
        app.admin_get(&format!("/admin/permits/{id}"), &token).await,
        200,
    )
    .await;
    let approvals = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["action"] == "approve")
        .count();
    assert_eq!(approvals, 1);
    assert_eq!(detail["version"], 3);
    assert_eq!(detail["status"], "approved");
}

#[tokio::test]
async fn a_review_needs_if_match_and_a_current_version() {
    let app = spawn_app().await;
    let id = id_of(&submit(&app, &zomerfestival()).await);
    let token = staff_token(&app, "marieke");
    let start = json!({"action": "start_review"});

    let missing = expect_status(app.permit_review(&id, &token, None, &start).await, 428).await;
    assert_eq!(missing["type"], "/problems/if_match_required");
    for stale in ["\"0\"", "\"2\"", "W/\"7\"", "nonsense"] {
        let problem = expect_status(
            app.permit_review(&id, &token, Some(stale), &start).await,
            412,
        )
        .await;
        assert_eq!(
            problem["type"], "/problems/version_mismatch",
            "If-Match {stale}"
        );
    }
    let response = app.permit_review(&id, &token, Some("\"1\""), &start).await;
    assert_eq!(response.headers()["etag"], "\"2\"");
    let reviewing = expect_status(response, 200).await;
    assert_eq!(reviewing["status"], "in_review");
    // The old ETag is stale now.
    expect_status(
        app.permit_review(&id, &token, Some("\"1\""), &json!({"action": "approve"}))
            .await,
        412,
    )
    .await;
    expect_status(
        app.permit_review("unknown-id", &token, Some("\"1\""), &start)
            .await,
        404,
    )
    .await;
}

#[tokio::test]
async fn review_actions_follow_the_lifecycle_and_validate_their_body() {
    let app = spawn_app().await;
    let id = id_of(&submit(&app, &zomerfestival()).await);
    let token = staff_token(&app, "marieke");
    let pair = |f: &str, c: &str| (f.to_string(), c.to_string());

    // Not allowed while submitted: 409, and nothing changes.
    for action in ["approve", "request_info", "reject"] {
        let body = json!({"action": action, "reason": "Reden"});
        let problem = expect_status(
            app.permit_review(&id, &token, Some("\"1\""), &body).await,
            409,
        )
        .await;
        assert_eq!(
            problem["type"], "/problems/not_allowed",
            "{action} while submitted"
        );
    }
    app.permit_decide(&id, &token, json!({"action": "start_review"}))
        .await;
    let v = app.permit_etag(&id, &token).await;
    for (body, errors) in [
        (
            json!({"action": "reject"}),
            vec![pair("reason", "required")],
        ),
        (
            json!({"action": "request_info", "reason": "  "}),
            vec![pair("reason", "required")],
        ),
        (
            json!({"action": "approve", "category": "B"}),
            vec![pair("category", "not_applicable")],
        ),
        (
            json!({"action": "reclassify"}),
            vec![pair("category", "required")],
        ),
        (
            json!({"action": "reclassify", "category": "X"}),
            vec![pair("category", "one_of")],
        ),
        (json!({"action": "publish"}), vec![pair("action", "one_of")]),
        (
            json!({"reason": "x", "note": 1}),
            vec![pair("action", "required"), pair("note", "unknown_field")],
        ),
    ] {
        let problem =
            expect_status(app.permit_review(&id, &token, Some(&v), &body).await, 422).await;
        assert_eq!(field_errors(&problem), errors, "{body}");
    }
    assert_eq!(
        app.permit_etag(&id, &token).await,
        v,
        "refused reviews change nothing"
    );

    let rejected = app
        .permit_decide(
            &id,
            &token,
            json!({"action": "reject", "reason": "Geen veiligheidsplan"}),
        )
        .await;
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(
        rejected["leges"]["refunded_cents"], 0,
        "a rejection refunds nothing"
    );
    let problem = expect_status(
        app.permit_review(
            &id,
            &token,
            Some(&app.permit_etag(&id, &token).await),
            &json!({"action": "reclassify", "category": "A"}),
        )
        .await,
        409,
    )
    .await;
    assert_eq!(
        problem["type"], "/problems/not_allowed",
        "no reclassification after a decision"
    );
}

#[tokio::test]
async fn reclassification_recomputes_the_leges_records_the_difference_and_moves_the_report() {
    let app = spawn_app().await;
    let id = id_of(&submit(&app, &jeugdtoernooi()).await);
    let token = staff_token(&app, "marieke");
    // Months later: the 2017 table and the 1 March submission still count.
    app.clock.set(at("2017-04-20T09:00:00+02:00"));
    app.permit_decide(&id, &token, json!({"action": "start_review"}))
        .await;

    let b = app
        .permit_decide(
            &id,
            &token,
            json!({"action": "reclassify", "category": "B", "reason": "Meer bezoekers"}),
        )
        .await;
    assert_eq!(
        (b["category"].as_str(), b["kind"].as_str()),
        (Some("B"), Some("vergunning"))
    );
    assert_eq!(
        b["leges"]["total_cents"], 22_500,
        "B 450.00 with the 50% reduction"
    );
    assert_eq!(
        b["deadline"],
        json!({"required_by": "2017-02-19", "late": true})
    );
    assert_eq!(
        b["status"], "in_review",
        "a reclassification keeps the status"
    );
    let last = b["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "reclassify");
    assert_eq!(last["actor"], "marieke");
    assert_eq!(last["reason"], "Meer bezoekers");
    assert_eq!(
        last["reclassification"],
        json!({"from_category": "A", "to_category": "B", "leges_difference_cents": 15_000})
    );

    let report = app.coverage_report(2017).await;
    assert_eq!(report["imposed_cents"], 22_500);
    assert_eq!(report["open_cents"], 22_500);
    assert_eq!(
        report["by_category"]["A"],
        json!({"count": 0, "net_cents": 0})
    );
    assert_eq!(
        report["by_category"]["B"],
        json!({"count": 1, "net_cents": 22_500})
    );

    let melding = app
        .permit_decide(
            &id,
            &token,
            json!({"action": "reclassify", "category": "0"}),
        )
        .await;
    assert_eq!(melding["kind"], "melding");
    assert_eq!(melding["leges"]["total_cents"], 1_500);
    assert_eq!(
        melding["history"].as_array().unwrap().last().unwrap()["reclassification"]["leges_difference_cents"],
        -21_000
    );
    let report = app.coverage_report(2017).await;
    assert_eq!(report["imposed_cents"], 1_500);
    assert_eq!(
        report["by_category"]["0"],
        json!({"count": 1, "net_cents": 1_500})
    );
    assert_eq!(
        report["by_category"]["B"],
        json!({"count": 0, "net_cents": 0})
    );
    assert_eq!(
        report["by_month"],
        json!({"2017-03": {"count": 1, "net_cents": 1_500}}),
        "the submission month counts"
    );
}
/// Hardening F5: junk that got through (a flood before the rate limit) is voided by
/// staff with a reason; its leges leave the coverage and the report counts it.
#[tokio::test]
async fn staff_void_junk_and_the_coverage_forgets_it() {
    let app = spawn_app().await;
    let token = staff_token(&app, "marieke");
    submit(&app, &buurtbarbecue()).await;
    let honest = app.coverage_report(2017).await;
    let mut junk = Vec::new();
    for _ in 0..3 {
        junk.push(id_of(&submit(&app, &zomerfestival()).await));
    }
    let flooded = app.coverage_report(2017).await;
    assert!(flooded["net_cents"].as_i64() > honest["net_cents"].as_i64());

    // A reason is required.
    let bare = app
        .permit_review(&junk[0], &token, Some("\"1\""), &json!({"action": "void"}))
        .await;
    let problem = expect_status(bare, 422).await;
    assert_eq!(
        field_errors(&problem),
        [("reason".to_string(), "required".to_string())]
    );
    for id in &junk {
        let voided = expect_status(
            app.permit_review(
                id,
                &token,
                Some("\"1\""),
                &json!({"action": "void", "reason": "Spam uit één bron"}),
            )
            .await,
            200,
        )
        .await;
        assert_eq!(voided["status"], "voided");
        let last = voided["history"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .clone();
        assert_eq!(
            (last["action"].as_str(), last["actor"].as_str()),
            (Some("void"), Some("marieke"))
        );
    }
    let after = app.coverage_report(2017).await;
    for field in [
        "imposed_cents",
        "refunded_cents",
        "net_cents",
        "coverage_bp",
        "open_cents",
        "by_category",
        "by_month",
    ] {
        assert_eq!(after[field], honest[field], "{field}");
    }
    assert_eq!(after["voided_count"], 3);
    // A decided application cannot be voided; a voided one cannot be reopened.
    let again = app
        .permit_review(
            &junk[0],
            &token,
            Some("\"2\""),
            &json!({"action": "start_review"}),
        )
        .await;
    expect_status(again, 409).await;
}
