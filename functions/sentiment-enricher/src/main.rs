//! Lambda wiring only: tracing, configuration once, the SDK clients once, then the runtime loop.

use connect_lake::aws::{AwsOptions, s3_client, sdk_config};
use connect_lake::config::ProcessEnv;
use lambda_runtime::service_fn;
use sentiment_enricher::{Config, Deps};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    connect_lake::telemetry::init_tracing();
    let config = Config::from_env(&ProcessEnv).inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let sdk = sdk_config(&AwsOptions::default()).await;
    let deps = &Deps {
        config,
        s3: s3_client(&sdk),
        transcribe: aws_sdk_transcribe::Client::new(&sdk),
        comprehend: aws_sdk_comprehend::Client::new(&sdk),
    };
    lambda_runtime::run(service_fn(move |event| sentiment_enricher::handle(deps, event))).await
}
