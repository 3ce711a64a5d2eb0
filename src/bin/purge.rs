//! The `purge` Lambda function: the daily personal-data purge (docs/domain.md "Week van Respect"), started
//! by the EventBridge schedule in template.yaml. The event's content is ignored; the
//! result is the purge report.

use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    loket::config::init_logging();
    let settings = loket::config::Settings::from_env()?;
    let state = loket::config::build_state(&settings).await?;
    lambda_runtime::run(service_fn(move |_event: LambdaEvent<Value>| {
        let state = state.clone();
        async move { Ok::<_, lambda_http::Error>(loket::app::purge::run_for(&state).await?) }
    }))
    .await
}
