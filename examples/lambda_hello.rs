//! The floor of the Lambda init figure in `infra/bench.sh`: a `lambda_http` function
//! that does nothing but answer "hello", built with the same release profile as the
//! loket functions (`cargo build --release --example lambda_hello`).

use lambda_http::{Body, Error, Request, Response, run, service_fn};

async fn hello(_: Request) -> Result<Response<Body>, Error> {
    Ok(Response::new(Body::from("hello")))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(hello)).await
}
