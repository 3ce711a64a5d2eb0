//! The few requests the service itself sends: the JWKS and, for the staff pages'
//! hosted sign-in, the code-for-token exchange. Both go through the AWS SDK's own
//! rustls/hyper connector, built on first use (loading the trust roots is I/O), so
//! there is no second HTTP client in the build.

use aws_smithy_http_client::Connector;
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::HttpConnector;
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;

/// How long one outbound request may take.
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// An answer larger than this is refused.
const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Default)]
pub(crate) struct Outbound {
    connector: tokio::sync::OnceCell<Connector>,
}

impl Outbound {
    /// `GET url`: the status and the body.
    pub(crate) async fn get(&self, url: &str) -> Result<(u16, Vec<u8>), String> {
        let request = HttpRequest::get(url).map_err(|e| e.to_string())?;
        self.send(request).await
    }

    /// `POST url` with an `application/x-www-form-urlencoded` body.
    pub(crate) async fn post_form(
        &self,
        url: &str,
        form: String,
    ) -> Result<(u16, Vec<u8>), String> {
        let request = axum::http::Request::builder()
            .method("POST")
            .uri(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(SdkBody::from(form))
            .map_err(|e| e.to_string())?;
        self.send(HttpRequest::try_from(request).map_err(|e| e.to_string())?)
            .await
    }

    async fn send(&self, request: HttpRequest) -> Result<(u16, Vec<u8>), String> {
        let connector = self
            .connector
            .get_or_init(|| async {
                Connector::builder()
                    .tls_provider(Provider::Rustls(CryptoMode::Ring))
                    .build()
            })
            .await;
        let exchange = async {
            let response = connector
                .call(request)
                .await
                .map_err(|e| format!("{e:?}"))?;
            let status = response.status().as_u16();
            let body = ByteStream::new(response.into_body())
                .collect()
                .await
                .map_err(|e| e.to_string())?
                .into_bytes();
            if body.len() > MAX_BODY_BYTES {
                return Err("answer too large".to_string());
            }
            Ok((status, body.to_vec()))
        };
        tokio::time::timeout(TIMEOUT, exchange)
            .await
            .map_err(|_| "timed out".to_string())?
    }
}

/// Whether a URL is served by this machine (plain HTTP is allowed only there).
pub(crate) fn is_loopback_http(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split('/').next().unwrap_or("");
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    };
    matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}
