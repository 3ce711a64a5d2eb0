//! What each operation costs on DynamoDB, counted on the wire (issue 3): a submission
//! at most 2 requests (reference counter + one transaction), a status change at most
//! 2 (read + transaction), reading one application with its history 1, the coverage
//! report 1.

#[path = "common/dynamo.rs"]
mod dynamo;

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use chrono::{DateTime, Utc};
use loket::api::AppState;
use loket::api::auth::StaffAuth;
use loket::clock::ManualClock;
use loket::store::dynamo::DynamoStore;
use serde_json::Value;
use tower::ServiceExt;

const SECRET: &str = "request-count-test-secret-of-enough-length";

async fn call(app: &axum::Router, request: Request<Body>) -> (u16, Value) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Requests the store sends while `work` runs.
async fn counted<T>(store: &DynamoStore, work: impl Future<Output = T>) -> (u64, T) {
    let before = store.request_count();
    let out = work.await;
    (store.request_count() - before, out)
}

#[tokio::test]
async fn each_api_operation_costs_at_most_its_budget_of_dynamodb_requests() {
    let Some(store) = dynamo::fresh_store().await else {
        return;
    };
    let store = Arc::new(store);
    let now: DateTime<Utc> = "2017-03-01T09:00:00Z".parse().unwrap();
    let auth = StaffAuth::hs256(SECRET, None, None).unwrap();
    let staff_token = auth.mint("staff-1", Utc::now().timestamp(), 3600).unwrap();
    let state = AppState::builder(loket::store::Store::new(store.clone()))
        .clock(ManualClock::new(now))
        .real_clock(ManualClock::new(Utc::now()))
        .cursor_key(b"k")
        .auth(auth)
        .build();
    let app = loket::routes::app(state);
    let body = include_str!("fixtures/zomerfestival.json");

    let (requests, (status, created)) = counted(
        &store,
        call(
            &app,
            Request::post("/permits")
                .header("content-type", "application/json")
                .header("idempotency-key", "count-me")
                .body(Body::from(body))
                .unwrap(),
        ),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert!(requests <= 2, "a submission took {requests} requests");
    let id = created["id"].as_str().unwrap().to_string();
    let token = created["access_token"].as_str().unwrap().to_string();

    let (requests, (status, _)) = counted(
        &store,
        call(
            &app,
            Request::get(format!("/permits/{id}"))
                .header("authorization", format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        ),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(requests, 1, "reading an application with its history");

    let (requests, (status, reviewed)) = counted(
        &store,
        call(
            &app,
            Request::post(format!("/admin/permits/{id}/review"))
                .header("authorization", format!("Bearer {staff_token}"))
                .header("content-type", "application/json")
                .header("if-match", "\"1\"")
                .body(Body::from(r#"{"action": "start_review"}"#))
                .unwrap(),
        ),
    )
    .await;
    assert_eq!(status, 200, "{reviewed}");
    assert!(
        requests <= 2,
        "a staff status change took {requests} requests"
    );

    let (requests, (status, withdrawn)) = counted(
        &store,
        call(
            &app,
            Request::post(format!("/permits/{id}/withdraw"))
                .header("authorization", format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        ),
    )
    .await;
    assert_eq!(status, 200, "{withdrawn}");
    assert!(
        requests <= 2,
        "a withdrawal (with its refund in the aggregates) took {requests} requests"
    );

    let (requests, (status, report)) = counted(
        &store,
        call(
            &app,
            Request::get("/admin/leges/coverage?year=2017")
                .header("authorization", format!("Bearer {staff_token}"))
                .body(Body::empty())
                .unwrap(),
        ),
    )
    .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(requests, 1, "the coverage report is one read");
    assert_eq!(report["refunded_cents"], 73_150);
}
