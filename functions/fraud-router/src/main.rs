//! Lambda wiring only: tracing, configuration once, the S3 client for the deny list and the
//! policy, then the runtime loop.

use connect_lake::aws::{AwsOptions, s3_client, sdk_config};
use connect_lake::config::ProcessEnv;
use connect_lake::remote_config::S3Source;
use connect_lake::secrets::with_pii_key;
use fraud_router::{Config, Router};
use lambda_runtime::service_fn;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    connect_lake::telemetry::init_tracing();
    // The PII token key comes from Secrets Manager (PII_TOKEN_SECRET_ARN), never from a variable's value.
    let env = with_pii_key(ProcessEnv)
        .await
        .inspect_err(|e| tracing::error!(error = %e, "PII token key unavailable"))?;
    let config = Config::from_env(&env).inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    // The SDK is only set up when there is something to read from S3.
    let s3 = if config.deny_list.is_some() || config.policy.is_some() {
        Some(S3Source::new(s3_client(&sdk_config(&AwsOptions::interactive()).await)))
    } else {
        None
    };
    let router = &Router::from_config(&config, s3)
        .inspect_err(|e| tracing::error!(error = %e, "the built-in policy is invalid"))?;
    lambda_runtime::run(service_fn(move |event| router.handle(event))).await
}
