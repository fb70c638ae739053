//! Lambda wiring only: tracing, configuration once, then the runtime loop.

use connect_lake::config::ProcessEnv;
use connect_lake::firehose::{FirehoseRequest, FirehoseResponse};
use firehose_transform::{Config, TransformError, transform};
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    connect_lake::telemetry::init_tracing();
    let config = Config::from_env(&ProcessEnv).inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let config = &config;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<FirehoseRequest>| async move {
        handle(event.payload, config)
    }))
    .await
}

fn handle(request: FirehoseRequest, config: &Config) -> Result<FirehoseResponse, TransformError> {
    let invocation_id = request.invocation_id.clone();
    let result = transform(request, config);
    match &result {
        Ok((_, stats)) => {
            for m in stats.metrics(&config.metrics_namespace) {
                m.emit();
            }
            tracing::info!(
                invocation_id,
                records_in = stats.records_in,
                ok = stats.ok,
                dropped = stats.dropped_total(),
                failed = stats.failed_total(),
                "batch transformed"
            );
        }
        Err(e) => tracing::error!(invocation_id, error = %e, "batch failed"),
    }
    result.map(|(response, _)| response)
}
