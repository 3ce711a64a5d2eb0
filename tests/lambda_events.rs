//! API Gateway HTTP API (v2) events through each Lambda function's router, the way
//! `lambda_http::run` feeds them: the answer must be the local server's answer.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, Context, LambdaEvent};
use loket::api::AppState;
use loket::api::secrets::CursorSealer;
use loket::clock::ManualClock;
use loket::domain::Catalogue;
use loket::store::embedded::EmbeddedStore;
use serde_json::Value;
use tower::{Service, ServiceExt};

fn state(dir: &std::path::Path) -> AppState {
    let now: DateTime<Utc> = "2017-03-01T09:00:00Z".parse().unwrap();
    AppState {
        store: Arc::new(EmbeddedStore::open(dir).unwrap()),
        clock: Arc::new(ManualClock::new(now)),
        real_clock: Arc::new(ManualClock::new(Utc::now())),
        catalogue: Arc::new(Catalogue::default()),
        cursors: CursorSealer::new(b"lambda test"),
    }
}

/// Runs one fixture event through a router as the Lambda runtime would, and returns
/// the API Gateway response document (statusCode, headers, body).
async fn invoke(router: axum::Router, fixture: &str) -> Value {
    let payload: LambdaRequest = serde_json::from_str(fixture).expect("a valid API Gateway v2 event");
    let mut adapter = Adapter::from(router);
    let adapter = adapter.ready().await.expect("ready");
    let response = adapter
        .call(LambdaEvent::new(payload, Context::default()))
        .await
        .expect("the router never fails");
    serde_json::to_value(response).expect("a serialisable API Gateway response")
}

fn body_of(response: &Value) -> Value {
    serde_json::from_str(response["body"].as_str().expect("a text body")).expect("a JSON body")
}

#[tokio::test]
async fn the_permits_function_answers_a_submission_like_the_local_server() {
    let lambda_dir = tempfile::tempdir().unwrap();
    let response = invoke(
        loket::api::permits_app(state(lambda_dir.path())),
        include_str!("fixtures/apigw_v2_post_permits.json"),
    )
    .await;
    assert_eq!(response["statusCode"], 201, "{response}");
    assert_eq!(response["headers"]["content-type"], "application/json");
    let lambda_body = body_of(&response);
    assert!(
        response["headers"]["location"]
            .as_str()
            .unwrap()
            .ends_with(lambda_body["id"].as_str().unwrap())
    );

    // The same request to the local server's router.
    let local_dir = tempfile::tempdir().unwrap();
    let fixture: Value = serde_json::from_str(include_str!("fixtures/apigw_v2_post_permits.json")).unwrap();
    let request = axum::http::Request::post("/permits")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(fixture["body"].as_str().unwrap().to_string()))
        .unwrap();
    let local = loket::api::app(state(local_dir.path())).oneshot(request).await.unwrap();
    assert_eq!(local.status().as_u16(), 201);
    let bytes = axum::body::to_bytes(local.into_body(), 1 << 20).await.unwrap();
    let mut local_body: Value = serde_json::from_slice(&bytes).unwrap();

    // Ids and tokens are random; everything else must be identical.
    let mut lambda_body = lambda_body;
    for body in [&mut lambda_body, &mut local_body] {
        let obj = body.as_object_mut().unwrap();
        obj.remove("id");
        obj.remove("access_token");
    }
    assert_eq!(lambda_body, local_body);
    assert_eq!(lambda_body["category"], "C");
    assert_eq!(lambda_body["leges"]["total_cents"], 146_300);
}

#[tokio::test]
async fn the_permits_function_serves_health_and_refuses_other_audiences_routes() {
    let dir = tempfile::tempdir().unwrap();
    let health = invoke(
        loket::api::permits_app(state(dir.path())),
        include_str!("fixtures/apigw_v2_get_health.json"),
    )
    .await;
    assert_eq!(health["statusCode"], 200);
    assert_eq!(body_of(&health), serde_json::json!({"status": "ok"}));

    // The permits function does not mount the staff routes.
    let mut event: Value = serde_json::from_str(include_str!("fixtures/apigw_v2_get_health.json")).unwrap();
    event["rawPath"] = "/admin/permits".into();
    event["requestContext"]["http"]["path"] = "/admin/permits".into();
    let admin = invoke(loket::api::permits_app(state(dir.path())), &event.to_string()).await;
    assert_eq!(admin["statusCode"], 404);
}
