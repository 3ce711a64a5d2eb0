//! What the staff-route tests (`admin_*.rs`) share: staff requests on a [`TestApp`],
//! a review under If-Match, the coverage report, and bodies of the examples.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

impl TestApp {
    /// A staff request with a bearer token.
    pub fn admin_request(
        &self,
        method: Method,
        path: &str,
        token: &str,
    ) -> reqwest::RequestBuilder {
        self.request(method, path).bearer_auth(token)
    }

    pub async fn admin_get(&self, path: &str, token: &str) -> reqwest::Response {
        self.admin_request(Method::GET, path, token)
            .send()
            .await
            .expect("request")
    }

    pub async fn permit_review(
        &self,
        id: &str,
        token: &str,
        if_match: Option<&str>,
        body: &Value,
    ) -> reqwest::Response {
        let mut request = self
            .admin_request(Method::POST, &format!("/admin/permits/{id}/review"), token)
            .json(body);
        if let Some(v) = if_match {
            request = request.header("If-Match", v);
        }
        request.send().await.expect("request")
    }

    /// Reviews with the current ETag and expects 200.
    pub async fn permit_decide(&self, id: &str, token: &str, body: Value) -> Value {
        let version = self.permit_etag(id, token).await;
        expect_status(
            self.permit_review(id, token, Some(&version), &body).await,
            200,
        )
        .await
    }

    pub async fn permit_etag(&self, id: &str, token: &str) -> String {
        let response = self.admin_get(&format!("/admin/permits/{id}"), token).await;
        assert_eq!(response.status(), 200);
        response.headers()["etag"].to_str().unwrap().to_string()
    }

    pub async fn coverage_report(&self, year: i32) -> Value {
        let token = staff_token(self, "controller");
        expect_status(
            self.admin_get(&format!("/admin/leges/coverage?year={year}"), &token)
                .await,
            200,
        )
        .await
    }
}

pub fn id_of(created: &Value) -> String {
    created["id"].as_str().unwrap().to_string()
}

/// An event body with other dates (same facts as the example).
pub fn moved(mut body: Value, starts_at: &str, ends_at: &str) -> Value {
    body["event"]["starts_at"] = json!(starts_at);
    body["event"]["ends_at"] = json!(ends_at);
    body
}

/// The organiser withdraws an application with the token of its 201; the answer (200).
pub async fn withdraw(app: &TestApp, created: &Value) -> Value {
    let path = format!("/permits/{}/withdraw", id_of(created));
    expect_status(
        app.post_json_with_token(&path, created["access_token"].as_str().unwrap(), &json!({}))
            .await,
        200,
    )
    .await
}
