//! A DynamoDB proxy that enforces template.yaml's IAM policies, for the Lambda smoke
//! test (infra/lambda-smoke.sh, which takes it from `cargo test --no-run`):
//!
//!     iam_proxy TEMPLATE UPSTREAM_URL DENIALS_FILE [REQUESTS_FILE]
//!                                            # prints its port, then serves
//!
//! Each function under test talks to DynamoDB Local through this proxy with its
//! *logical resource name* as AWS access key id (`Permits`, `RespectWeek`, ...). The
//! proxy reads every function's inline policy statements from the template and lets
//! a request through only when each DynamoDB authorisation it needs is allowed:
//!
//! - GetItem / PutItem / UpdateItem / DeleteItem on the table, with the partition key
//!   of the item as `dynamodb:LeadingKeys`;
//! - TransactWriteItems: each Put / Update / Delete / ConditionCheck part as
//!   PutItem / UpdateItem / DeleteItem / ConditionCheckItem on its item (IAM has no
//!   TransactWriteItems action);
//! - Query on the table or on `<table>/index/<name>`, with the queried partition
//!   value as `dynamodb:LeadingKeys`;
//! - anything else (Scan, DescribeTable, ...) as that action on the table.
//!
//! A statement matches when an action pattern matches (IAM wildcards, case-
//! insensitive), its Resource names that table/index (`!GetAtt Table.Arn`,
//! `!Sub "${Table.Arn}/index/NAME"`) and its only supported condition,
//! `ForAllValues:StringLike` on `dynamodb:LeadingKeys`, holds. That model is
//! `tests/common/iam.rs`, the same one `tests/template.rs` checks every function's
//! rights with (a template shape it does not know stops the proxy before it serves).
//! A denied request gets DynamoDB's AccessDeniedException and is appended to
//! DENIALS_FILE, so the smoke test fails even if the function handled the error.
//! Every request is also logged as `FUNCTION OPERATION` to REQUESTS_FILE when given
//! (the smoke test checks that no function sends one while it starts). This is a
//! model of IAM for the shapes this template uses, not IAM itself.
//!
//! With `IAM_PROXY_SES_UPSTREAM` set it also stands before SES v2 (moto's server):
//! `POST /v2/email/outbound-emails` needs `ses:SendEmail` on the sender's identity
//! (its address or its domain) and on the configuration set, with the template's
//! `!Sub` resources filled in from `IAM_PROXY_PARAMETERS` (`Name=value,...`); a
//! refusal is SES's `AccessDeniedException` (403) and a denial line.

#[path = "../tests/common/cfn_yaml.rs"]
mod cfn_yaml;
// `Policies::of` is for tests/template.rs; the proxy is given parameter values.
#[allow(dead_code)]
#[path = "../tests/common/iam.rs"]
mod iam;

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::exit;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use iam::Policies;

struct Proxy {
    policies: Policies,
    upstream: String,
    /// SES v2 behind this proxy too, when set.
    ses_upstream: Option<String>,
    client: reqwest::Client,
    denials: PathBuf,
    requests: Option<PathBuf>,
    /// One writer at a time for both files.
    files: Mutex<()>,
}

impl Proxy {
    fn append(&self, path: &Path, line: &str) {
        let _guard = self.files.lock().expect("no writer panicked");
        let written = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| writeln!(f, "{line}"));
        if let Err(e) = written {
            eprintln!("iam_proxy: cannot append to {}: {e}", path.display());
        }
    }
}

fn text<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// The sender address in a raw MIME message's `From:` header.
fn sender(raw: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(raw);
    let from = text
        .split("\r\n")
        .take_while(|line| !line.is_empty())
        .find_map(|line| line.strip_prefix("From:"))?;
    let address = match from.rsplit_once('<') {
        Some((_, rest)) => rest.split('>').next()?,
        None => from.trim(),
    };
    Some(address.trim().to_string())
}

/// The SES authorisations a SendEmail needs: the identity (address, or its
/// domain) and the configuration set.
fn ses_refusals(proxy: &Proxy, function: &str, request: &Value) -> Vec<String> {
    use base64::Engine;
    let arn = |kind: &str, name: &str| {
        format!(
            "arn:{}:ses:{}:{}:{kind}/{name}",
            iam::PARTITION,
            iam::REGION,
            iam::ACCOUNT
        )
    };
    let raw = request["Content"]["Raw"]["Data"]
        .as_str()
        .and_then(|data| base64::engine::general_purpose::STANDARD.decode(data).ok());
    let Some(address) = raw.as_deref().and_then(sender) else {
        return vec!["ses:SendEmail without a raw message with a sender".into()];
    };
    let domain = address.rsplit_once('@').map_or("", |(_, d)| d);
    let mut refusals = Vec::new();
    let by_address =
        proxy
            .policies
            .service_refusals(function, "ses:SendEmail", &[arn("identity", &address)]);
    let by_domain =
        proxy
            .policies
            .service_refusals(function, "ses:SendEmail", &[arn("identity", domain)]);
    if !by_address.is_empty() && !by_domain.is_empty() {
        refusals.extend(by_address);
    }
    if let Some(set) = request["ConfigurationSetName"].as_str() {
        refusals.extend(proxy.policies.service_refusals(
            function,
            "ses:SendEmail",
            &[arn("configuration-set", set)],
        ));
    }
    refusals
}

async fn handle(
    State(proxy): State<Arc<Proxy>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Bytes,
) -> Response {
    if uri.path().starts_with("/v2/email/") {
        return handle_ses(proxy, method, uri, headers, raw).await;
    }
    // `X-Amz-Target: DynamoDB_20120810.GetItem`.
    let target = text(&headers, "x-amz-target");
    let operation = target.split_once('.').map_or(target, |(_, op)| op);
    // `Authorization: AWS4-HMAC-SHA256 Credential=Permits/20170301/...`.
    let function = text(&headers, header::AUTHORIZATION.as_str())
        .split_once("Credential=")
        .and_then(|(_, rest)| rest.split_once('/'))
        .map_or("?", |(key_id, _)| key_id);
    let request: Value = serde_json::from_slice(&raw).unwrap_or_else(|_| json!({}));
    if let Some(path) = &proxy.requests {
        proxy.append(path, &format!("{function} {operation}"));
    }

    let refusals = proxy.policies.refusals(function, operation, &request);
    if !refusals.is_empty() {
        let line = format!("{function}: {operation} denied: {}", refusals.join("; "));
        proxy.append(&proxy.denials, &line);
        let body = json!({
            "__type": "com.amazon.coral.service#AccessDeniedException",
            "Message": line,
        });
        return (
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, "application/x-amz-json-1.0")],
            body.to_string(),
        )
            .into_response();
    }

    forward(&proxy, &proxy.upstream, method, uri, headers, raw).await
}

/// SES v2 through the proxy: `SendEmail` checked, anything else (setting up
/// identities) only from the smoke test itself, never from a function.
async fn handle_ses(
    proxy: Arc<Proxy>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Bytes,
) -> Response {
    let function = text(&headers, header::AUTHORIZATION.as_str())
        .split_once("Credential=")
        .and_then(|(_, rest)| rest.split_once('/'))
        .map_or("?", |(key_id, _)| key_id)
        .to_string();
    let Some(upstream) = proxy.ses_upstream.clone() else {
        return (StatusCode::BAD_GATEWAY, "iam_proxy: no SES upstream").into_response();
    };
    if let Some(path) = &proxy.requests {
        proxy.append(path, &format!("{function} ses {}", uri.path()));
    }
    let refusals = if method == Method::POST && uri.path() == "/v2/email/outbound-emails" {
        let request: Value = serde_json::from_slice(&raw).unwrap_or_else(|_| json!({}));
        ses_refusals(&proxy, &function, &request)
    } else {
        vec![format!("ses: {} {} is not modelled", method, uri.path())]
    };
    if !refusals.is_empty() {
        let line = format!("{function}: SES SendEmail denied: {}", refusals.join("; "));
        proxy.append(&proxy.denials, &line);
        return (
            StatusCode::FORBIDDEN,
            [
                (header::CONTENT_TYPE, "application/json"),
                (
                    header::HeaderName::from_static("x-amzn-errortype"),
                    "AccessDeniedException",
                ),
            ],
            json!({"message": line}).to_string(),
        )
            .into_response();
    }
    forward(&proxy, &upstream, method, uri, headers, raw).await
}

/// Sends the request on to `upstream` and its answer back.
async fn forward(
    proxy: &Proxy,
    upstream: &str,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Bytes,
) -> Response {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut forward = proxy
        .client
        .request(method, format!("{upstream}{path}"))
        .body(raw);
    // The client computes the length (and hop-by-hop headers stay on this hop).
    let own = [
        header::HOST,
        header::CONNECTION,
        header::CONTENT_LENGTH,
        header::TRANSFER_ENCODING,
    ];
    for (name, value) in &headers {
        if !own.contains(name) {
            forward = forward.header(name, value);
        }
    }
    let answer = match forward.send().await {
        Ok(answer) => answer,
        Err(e) => return (StatusCode::BAD_GATEWAY, format!("iam_proxy: {e}")).into_response(),
    };
    let status = answer.status();
    // This server sets its own length, date and server headers.
    let own = [
        header::CONTENT_LENGTH,
        header::CONNECTION,
        header::TRANSFER_ENCODING,
        header::DATE,
        header::SERVER,
    ];
    let mut back = HeaderMap::new();
    for (name, value) in answer.headers() {
        if !own.contains(name) {
            back.append(name, value.clone());
        }
    }
    match answer.bytes().await {
        Ok(body) => (status, back, body).into_response(),
        Err(e) => (StatusCode::BAD_GATEWAY, format!("iam_proxy: {e}")).into_response(),
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (template, upstream, denials, requests) = match &args[..] {
        [t, u, d] => (t, u, d, None),
        [t, u, d, r] => (t, u, d, Some(PathBuf::from(r))),
        _ => {
            eprintln!("usage: iam_proxy TEMPLATE UPSTREAM_URL DENIALS_FILE [REQUESTS_FILE]");
            exit(2);
        }
    };
    let parameters = std::env::var("IAM_PROXY_PARAMETERS")
        .unwrap_or_default()
        .split(',')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let policies = cfn_yaml::read(Path::new(template))
        .and_then(|t| Policies::with_parameters(&t, &parameters));
    let policies = policies.unwrap_or_else(|e| {
        eprintln!("iam_proxy: {template}: {e}");
        exit(1);
    });
    let proxy = Proxy {
        policies,
        upstream: upstream.trim_end_matches('/').to_string(),
        ses_upstream: std::env::var("IAM_PROXY_SES_UPSTREAM")
            .ok()
            .map(|u| u.trim_end_matches('/').to_string()),
        client: reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .expect("an HTTP client"),
        denials: PathBuf::from(denials),
        requests,
        files: Mutex::new(()),
    };
    let app = Router::new()
        .fallback(handle)
        .layer(DefaultBodyLimit::disable())
        .with_state(Arc::new(proxy));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port on 127.0.0.1");
    let port = listener.local_addr().expect("a bound address").port();
    println!("{port}");
    axum::serve(listener, app).await.expect("serving");
}
