//! API Gateway HTTP API (v2) events through each Lambda function's router, the way
//! `lambda_http::run` feeds them: the answer must be the local server's answer.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, Context, LambdaEvent};
use loket::api::AppState;
use loket::api::auth::StaffAuth;
use loket::clock::ManualClock;
use loket::store::embedded::EmbeddedStore;
use serde_json::Value;
use tower::{Service, ServiceExt};

/// The HS256 key the staff tokens of these tests are signed with.
const STAFF_SECRET: &str = "lambda-events-test-secret-long-enough-for-hs256";

fn state(dir: &std::path::Path) -> AppState {
    let now: DateTime<Utc> = "2017-03-01T09:00:00Z".parse().unwrap();
    let store = loket::store::Store::new(Arc::new(EmbeddedStore::open(dir).unwrap()));
    AppState::builder(store)
        .clock(ManualClock::new(now))
        .real_clock(ManualClock::new(Utc::now()))
        .cursor_key(b"lambda test")
        .auth(StaffAuth::hs256(STAFF_SECRET, None, None).expect("an HS256 key"))
        .build()
}

/// Runs one fixture event through a router as the Lambda runtime would, and returns
/// the API Gateway response document (statusCode, headers, body).
async fn invoke(router: axum::Router, fixture: &str) -> Value {
    let payload: LambdaRequest =
        serde_json::from_str(fixture).expect("a valid API Gateway v2 event");
    let mut adapter = Adapter::from(router);
    let adapter = adapter.ready().await.expect("ready");
    let response = adapter
        .call(LambdaEvent::new(payload, Context::default()))
        .await
        .expect("the router never fails");
    serde_json::to_value(response).expect("a serialisable API Gateway response")
}

fn body_text(response: &Value) -> String {
    response["body"].as_str().expect("a text body").to_string()
}

fn body_of(response: &Value) -> Value {
    serde_json::from_str(response["body"].as_str().expect("a text body")).expect("a JSON body")
}

#[tokio::test]
async fn the_permits_function_answers_a_submission_like_the_local_server() {
    let lambda_dir = tempfile::tempdir().unwrap();
    let response = invoke(
        loket::routes::permits_app(state(lambda_dir.path())),
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
    let fixture: Value =
        serde_json::from_str(include_str!("fixtures/apigw_v2_post_permits.json")).unwrap();
    let request = axum::http::Request::post("/permits")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(
            fixture["body"].as_str().unwrap().to_string(),
        ))
        .unwrap();
    let local = loket::routes::app(state(local_dir.path()))
        .oneshot(request)
        .await
        .unwrap();
    assert_eq!(local.status().as_u16(), 201);
    let bytes = axum::body::to_bytes(local.into_body(), 1 << 20)
        .await
        .unwrap();
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
        loket::routes::permits_app(state(dir.path())),
        include_str!("fixtures/apigw_v2_get_health.json"),
    )
    .await;
    assert_eq!(health["statusCode"], 200);
    assert_eq!(body_of(&health), serde_json::json!({"status": "ok"}));

    // The permits function does not mount the staff routes.
    let mut event: Value =
        serde_json::from_str(include_str!("fixtures/apigw_v2_get_health.json")).unwrap();
    event["rawPath"] = "/admin/permits".into();
    event["requestContext"]["http"]["path"] = "/admin/permits".into();
    let admin = invoke(
        loket::routes::permits_app(state(dir.path())),
        &event.to_string(),
    )
    .await;
    assert_eq!(admin["statusCode"], 404);
}

/// The fixture event of `respect_week` with another method and path.
fn respect_week_event(method: &str, path: &str) -> String {
    let mut event: Value =
        serde_json::from_str(include_str!("fixtures/apigw_v2_respect_week.json")).unwrap();
    event["rawPath"] = path.into();
    event["requestContext"]["http"]["path"] = path.into();
    event["requestContext"]["http"]["method"] = method.into();
    if method == "GET" {
        event["body"] = Value::Null;
        let headers = event["headers"].as_object_mut().unwrap();
        headers.remove("content-type");
        headers.remove("content-length");
        headers.remove("idempotency-key");
    }
    event.to_string()
}

#[tokio::test]
async fn the_respect_week_function_registers_an_activity_and_replays_a_repeat() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path());
    let fixture = include_str!("fixtures/apigw_v2_respect_week.json");
    let response = invoke(loket::routes::respect_week_app(state.clone()), fixture).await;
    assert_eq!(response["statusCode"], 201, "{response}");
    assert_eq!(response["headers"]["content-type"], "application/json");
    let body = body_of(&response);
    assert_eq!(body["reference"], "WVR-2017-0001");
    assert_eq!(body["status"], "registered");
    assert_eq!(
        response["headers"]["location"],
        format!(
            "/respect-week/2017/activities/{}",
            body["id"].as_str().unwrap()
        )
    );

    // The same event again (API Gateway retried it): the first answer, token included.
    let repeat = invoke(loket::routes::respect_week_app(state.clone()), fixture).await;
    assert_eq!(repeat["statusCode"], 201);
    assert_eq!(body_of(&repeat), body);

    // The registrant reads it back through the function with the token.
    let mut read: Value = serde_json::from_str(&respect_week_event(
        "GET",
        &format!(
            "/respect-week/2017/activities/{}",
            body["id"].as_str().unwrap()
        ),
    ))
    .unwrap();
    read["headers"]["authorization"] =
        format!("Bearer {}", body["access_token"].as_str().unwrap()).into();
    let read = invoke(
        loket::routes::respect_week_app(state.clone()),
        &read.to_string(),
    )
    .await;
    assert_eq!(read["statusCode"], 200, "{read}");
    assert_eq!(read["headers"]["etag"], "\"1\"");
    assert_eq!(body_of(&read)["reference"], "WVR-2017-0001");
}

#[tokio::test]
async fn the_respect_week_function_serves_the_programme_and_only_its_own_routes() {
    let dir = tempfile::tempdir().unwrap();
    let app = || loket::routes::respect_week_app(state(dir.path()));

    let editions = invoke(app(), &respect_week_event("GET", "/respect-week/editions")).await;
    assert_eq!(editions["statusCode"], 200);
    assert_eq!(body_of(&editions)[0]["year"], 2017);

    let programme = invoke(
        app(),
        &respect_week_event("GET", "/respect-week/2017/activities"),
    )
    .await;
    assert_eq!(programme["statusCode"], 200);
    assert_eq!(
        body_of(&programme),
        serde_json::json!({"items": [], "next_cursor": null})
    );

    let calendar = invoke(
        app(),
        &respect_week_event("GET", "/respect-week/2017/program.ics"),
    )
    .await;
    assert_eq!(calendar["statusCode"], 200);
    assert_eq!(
        calendar["headers"]["content-type"],
        "text/calendar; charset=utf-8"
    );
    assert!(
        calendar["body"]
            .as_str()
            .unwrap()
            .starts_with("BEGIN:VCALENDAR\r\n"),
        "{calendar}"
    );

    let health = invoke(app(), &respect_week_event("GET", "/health")).await;
    assert_eq!(health["statusCode"], 200);

    // Permits and staff routes live in other functions.
    for (method, path) in [
        ("GET", "/admin/permits"),
        ("GET", "/admin/respect-week/2017/summary"),
        ("GET", "/permits/x"),
    ] {
        let answer = invoke(app(), &respect_week_event(method, path)).await;
        assert_eq!(answer["statusCode"], 404, "{method} {path}");
    }
}

/// The health fixture sent to another path of the pages.
fn page_event(path: &str, query: &str) -> String {
    let mut event: Value =
        serde_json::from_str(include_str!("fixtures/apigw_v2_get_health.json")).unwrap();
    event["rawPath"] = path.into();
    event["rawQueryString"] = query.into();
    event["requestContext"]["http"]["path"] = path.into();
    event["headers"]["accept"] = "text/html".into();
    event.to_string()
}

#[tokio::test]
async fn the_permits_function_serves_the_pages_over_https_with_secure_cookies() {
    let dir = tempfile::tempdir().unwrap();
    let form = invoke(
        loket::routes::permits_app(state(dir.path())),
        &page_event("/evenementen/aanvragen", ""),
    )
    .await;
    assert_eq!(form["statusCode"], 200);
    let headers = &form["headers"];
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert!(
        headers["content-security-policy"]
            .as_str()
            .unwrap()
            .contains("script-src 'self'")
    );
    let cookies = form["cookies"].to_string();
    assert!(
        cookies.contains("loket_csrf=") && cookies.contains("Secure"),
        "behind API Gateway the CSRF cookie is Secure: {cookies}"
    );
    assert!(body_text(&form).contains("Evenement melden of vergunning aanvragen"));

    // A private link trades its token for a cookie and leaves it out of the address.
    let link = invoke(
        loket::routes::permits_app(state(dir.path())),
        &page_event("/evenementen/aanvraag/abc", "sleutel=geheim"),
    )
    .await;
    assert_eq!(link["statusCode"], 303);
    assert_eq!(link["headers"]["location"], "/evenementen/aanvraag/abc");
    let cookies = link["cookies"].to_string();
    assert!(cookies.contains("loket_toegang=geheim"), "{cookies}");
    assert!(
        cookies.contains("Path=/evenementen/aanvraag/abc"),
        "{cookies}"
    );
    assert!(
        cookies.contains("HttpOnly") && cookies.contains("Secure"),
        "{cookies}"
    );
}

/// The `admin` function serves the staff pages: without a session the queue leads to
/// the sign-in, which sends the browser to Cognito with a Secure attempt cookie; the
/// local sign-in's post does not exist there.
#[tokio::test]
async fn the_admin_function_serves_the_staff_pages_with_the_hosted_sign_in_only() {
    let dir = tempfile::tempdir().unwrap();
    let hosted = || {
        let mut state = state(dir.path());
        state.hosted_sign_in = Some(Arc::new(
            loket::api::auth::HostedSignIn::new(
                "https://loket-dronten.auth.eu-west-1.amazoncognito.com",
                "staff-client",
                "https://loket.dronten.nl/medewerkers/inloggen/terug",
                "https://loket.dronten.nl/medewerkers/uitgelogd",
            )
            .unwrap(),
        ));
        loket::routes::admin_app(state)
    };
    let queue = invoke(hosted(), &page_event("/medewerkers", "")).await;
    assert_eq!(queue["statusCode"], 303);
    assert_eq!(queue["headers"]["location"], "/medewerkers/inloggen");

    let sign_in = invoke(hosted(), &page_event("/medewerkers/inloggen", "")).await;
    assert_eq!(sign_in["statusCode"], 303);
    let to = sign_in["headers"]["location"].as_str().unwrap();
    assert!(
        to.starts_with(
            "https://loket-dronten.auth.eu-west-1.amazoncognito.com/oauth2/authorize?response_type=code&client_id=staff-client&redirect_uri=https%3A%2F%2Floket.dronten.nl%2Fmedewerkers%2Finloggen%2Fterug"
        ),
        "{to}"
    );
    let cookies = sign_in["cookies"].to_string();
    assert!(
        cookies.contains("loket_inloggen=") && cookies.contains("Secure"),
        "{cookies}"
    );

    let mut post: Value = serde_json::from_str(&page_event("/medewerkers/inloggen", "")).unwrap();
    post["requestContext"]["http"]["method"] = "POST".into();
    let post = invoke(hosted(), &post.to_string()).await;
    assert_eq!(
        post["statusCode"], 405,
        "no local sign-in in a Lambda function"
    );
}
