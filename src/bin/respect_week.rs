//! The `respect_week` Lambda function: the Week van Respect routes for schools,
//! sport clubs and the public only.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    loket::config::init_logging();
    let settings = loket::config::Settings::from_env()?;
    let state = loket::config::build_state(&settings).await?;
    lambda_http::run(loket::routes::respect_week_app(state)).await
}
