//! Lambda wiring only: tracing, configuration once, then the runtime loop.

use connect_lake::config::ProcessEnv;
use connect_lake::secrets::with_pii_key;
use firehose_transform::Config;
use lambda_runtime::service_fn;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    connect_lake::telemetry::init_tracing();
    // The PII token key comes from Secrets Manager (PII_TOKEN_SECRET_ARN), never from a variable's value.
    let env = with_pii_key(ProcessEnv)
        .await
        .inspect_err(|e| tracing::error!(error = %e, "PII token key unavailable"))?;
    let config = Config::from_env(&env).inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let config = &config;
    lambda_runtime::run(service_fn(move |event| async move {
        firehose_transform::handle(config, event)
    }))
    .await
}
