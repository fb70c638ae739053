//! Lambda wiring only: tracing, configuration once, then the runtime loop.

use connect_lake::config::ProcessEnv;
use firehose_transform::firehose::FirehoseRequest;
use firehose_transform::{Config, TransformError, transform};
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::value::RawValue;

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

/// The response goes back pre-serialized: [`firehose_transform::firehose::FirehoseResponse::to_json`]
/// copies the base64 rows instead of escaping them byte by byte.
fn handle(request: FirehoseRequest, config: &Config) -> Result<Box<RawValue>, TransformError> {
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
    let (response, _) = result?;
    // to_json writes valid JSON by construction; serde_json is the fallback, never the norm.
    RawValue::from_string(response.to_json())
        .or_else(|_| serde_json::value::to_raw_value(&response))
        .map_err(|e| TransformError::Serialize(e.to_string()))
}
