//! Lambda wiring only: tracing, configuration once, the deny list's S3 client, then the runtime loop.

use connect_lake::aws::{AwsOptions, s3_client, sdk_config};
use connect_lake::config::ProcessEnv;
use connect_lake::remote_config::S3Source;
use connect_lake::secrets::with_pii_key;
use contact_flow_logger::{Config, Logger};
use lambda_runtime::service_fn;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    connect_lake::telemetry::init_tracing();
    // The PII token key comes from Secrets Manager (PII_TOKEN_SECRET_ARN), never from a variable's value.
    let env = with_pii_key(ProcessEnv)
        .await
        .inspect_err(|e| tracing::error!(error = %e, "PII token key unavailable"))?;
    let config = Config::from_env(&env).inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    // The SDK is only set up when there is a list to read: no deny list, no AWS call at all.
    let s3 = match config.deny_list {
        Some(_) => Some(S3Source::new(s3_client(&sdk_config(&AwsOptions::interactive()).await))),
        None => None,
    };
    let logger = &Logger::from_config(&config, s3);
    lambda_runtime::run(service_fn(move |event| logger.handle(event))).await
}
