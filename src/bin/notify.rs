//! The `notify` Lambda function: e-mail from the outbox through Amazon SES v2, woken
//! by the table's stream and by a schedule (src/notify/lambda.rs).

use std::sync::Arc;

use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    loket::config::init_logging();
    let settings = loket::config::Settings::from_env()?;
    let state = loket::config::build_state(&settings).await?;
    let ses =
        Arc::new(loket::notify::ses::Ses::from_env(settings.ses_configuration_set.clone()).await);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let (state, ses) = (state.clone(), ses.clone());
        async move {
            let report = loket::notify::lambda::handle(
                &event.payload,
                &state.store,
                ses.as_ref(),
                &state.mail.from,
                &state.clocks.real_clock(),
            )
            .await?;
            Ok::<_, lambda_http::Error>(report)
        }
    }))
    .await
}
