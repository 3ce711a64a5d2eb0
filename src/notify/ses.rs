//! Amazon SES v2 as a [`Transport`]: the same MIME message as SMTP gets (with its
//! `Message-ID`), sent raw, in the configured configuration set.

use async_trait::async_trait;
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{EmailContent, RawMessage};

use super::delivery::Transport;

pub struct Ses {
    client: aws_sdk_sesv2::Client,
    configuration_set: Option<String>,
}

impl Ses {
    /// A client from the environment (region, credentials, `AWS_ENDPOINT_URL_SESV2`),
    /// built without sending a request.
    pub async fn from_env(configuration_set: Option<String>) -> Ses {
        // The same HTTP client, TLS and time limits as the store's.
        let config = crate::store::dynamo::config_loader().load().await;
        Ses::new(aws_sdk_sesv2::Client::new(&config), configuration_set)
    }

    pub fn new(client: aws_sdk_sesv2::Client, configuration_set: Option<String>) -> Ses {
        Ses {
            client,
            configuration_set,
        }
    }
}

#[async_trait]
impl Transport for Ses {
    async fn send(&self, message: lettre::Message) -> Result<(), String> {
        let raw = RawMessage::builder()
            .data(Blob::new(message.formatted()))
            .build()
            .map_err(|e| e.to_string())?;
        self.client
            .send_email()
            .content(EmailContent::builder().raw(raw).build())
            .set_configuration_set_name(self.configuration_set.clone())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| format!("SES: {}", aws_sdk_sesv2::error::DisplayErrorContext(&e)))
    }
}
