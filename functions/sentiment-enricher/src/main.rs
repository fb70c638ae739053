//! Lambda wiring only: tracing, configuration once, the SDK clients once, then the runtime loop.

use connect_lake::aws::{AwsOptions, s3_client, sdk_config};
use connect_lake::config::ProcessEnv;
use lambda_runtime::{LambdaEvent, service_fn};
use sentiment_enricher::{Config, Deps, HandlerError, Response, Stats, handle};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    connect_lake::telemetry::init_tracing();
    let config = Config::from_env(&ProcessEnv).inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let sdk = sdk_config(&AwsOptions::default()).await;
    let deps = Deps {
        config,
        s3: s3_client(&sdk),
        transcribe: aws_sdk_transcribe::Client::new(&sdk),
        comprehend: aws_sdk_comprehend::Client::new(&sdk),
    };
    let deps = &deps;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        invoke(deps, event).await
    }))
    .await
}

async fn invoke(deps: &Deps, event: LambdaEvent<Value>) -> Result<Response, HandlerError> {
    let mut stats = Stats::default();
    let result = handle(deps, &event.payload, time::OffsetDateTime::now_utc(), &mut stats).await;
    for m in stats.metrics(&deps.config.metrics_namespace) {
        m.emit();
    }
    if let Err(error) = &result {
        tracing::error!(request_id = event.context.request_id, %error, "invocation failed");
    }
    result
}
