//! Lambda wiring only: tracing, configuration and the Glue client once, then the runtime loop.

use connect_lake::aws::{AwsOptions, sdk_config};
use connect_lake::config::ProcessEnv;
use lambda_runtime::service_fn;
use s3_cataloger::{Cataloger, Config};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    connect_lake::telemetry::init_tracing();
    let config = Config::from_env(&ProcessEnv).inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let glue = aws_sdk_glue::Client::new(&sdk_config(&AwsOptions::default()).await);
    let cataloger = &Cataloger::new(glue, config);
    lambda_runtime::run(service_fn(move |event| cataloger.handle(event))).await
}
