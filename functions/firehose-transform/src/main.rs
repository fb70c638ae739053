//! Lambda wiring only: tracing, configuration once, then the runtime loop.

use connect_lake::config::ProcessEnv;
use firehose_transform::Config;
use lambda_runtime::service_fn;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    connect_lake::telemetry::init_tracing();
    let config = Config::from_env(&ProcessEnv).inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let config = &config;
    lambda_runtime::run(service_fn(move |event| async move {
        firehose_transform::handle(config, event)
    }))
    .await
}
