//! Lambda wiring only: tracing, configuration once, the deny list's S3 client, then the runtime loop.

use std::convert::Infallible;
use std::sync::Arc;

use connect_lake::aws::{AwsOptions, s3_client, sdk_config};
use connect_lake::config::ProcessEnv;
use connect_lake::contact_flow::ContactFlowEvent;
use connect_lake::deny_list;
use connect_lake::flat_answer::FlatAnswer;
use connect_lake::remote_config::S3Source;
use contact_flow_logger::{Config, Logger};
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    connect_lake::telemetry::init_tracing();
    let config = Config::from_env(&ProcessEnv).inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    // The SDK is only set up when there is a list to read: no deny list, no AWS call at all.
    let (deny_list, source) = match &config.deny_list {
        Some(settings) => {
            let sdk = sdk_config(&AwsOptions::interactive()).await;
            let source =
                Arc::new(S3Source::new(s3_client(&sdk)).with_expected_bucket_owner(config.config_bucket_owner.clone()));
            let cache = deny_list::cache(settings.clone(), source.clone(), &config.metrics_namespace);
            (Some(cache), Some(source))
        }
        None => (None, None),
    };
    let logger = Logger::new(&config, deny_list);
    let (logger, source) = (&logger, &source);
    // `ContactFlowEvent` deserializes from any payload, so every invocation reaches the handler and
    // gets an answer: Connect never sees a function error from this function.
    lambda_runtime::run(service_fn(move |event: LambdaEvent<ContactFlowEvent>| async move {
        // Without CONFIG_BUCKET_OWNER the deny list's bucket must be the function's own account's,
        // known from the first invocation, before the list is first read.
        if let Some(source) = source {
            source.own_account_from_arn(&event.context.invoked_function_arn);
        }
        Ok::<FlatAnswer, Infallible>(logger.handle(&event.payload).await.emit())
    }))
    .await
}
