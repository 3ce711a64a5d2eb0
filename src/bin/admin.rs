//! The `admin` Lambda function: the staff routes only.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    loket::config::init_logging();
    let settings = loket::config::Settings::from_env()?;
    let state = loket::config::build_state(&settings).await?;
    lambda_http::run(loket::routes::admin_app(state)).await
}
