//! Lambda wiring only: tracing, configuration once, the SDK clients once, then the runtime loop.

use connect_lake::aws::{AwsOptions, s3_client, sdk_config};
use connect_lake::config::ProcessEnv;
use connect_lake::secrets::with_pii_key;
use lambda_runtime::service_fn;
use sentiment_enricher::{Config, Deps};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    connect_lake::telemetry::init_tracing();
    // The PII token key comes from Secrets Manager (PII_TOKEN_SECRET_ARN), never from a variable's value.
    let env = with_pii_key(ProcessEnv)
        .await
        .inspect_err(|e| tracing::error!(error = %e, "PII token key unavailable"))?;
    let config = Config::from_env(&env).inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let sdk = sdk_config(&AwsOptions::default()).await;
    let deps = &Deps {
        config,
        s3: s3_client(&sdk),
        transcribe: aws_sdk_transcribe::Client::new(&sdk),
        comprehend: aws_sdk_comprehend::Client::new(&sdk),
    };
    lambda_runtime::run(service_fn(move |event| sentiment_enricher::handle(deps, event))).await
}
