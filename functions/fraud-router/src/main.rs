//! Lambda wiring only: tracing, configuration once, the S3 client for the deny list and the
//! policy, then the runtime loop.

use std::convert::Infallible;
use std::sync::Arc;

use connect_lake::aws::{AwsOptions, s3_client, sdk_config};
use connect_lake::config::ProcessEnv;
use connect_lake::contact_flow::ContactFlowEvent;
use connect_lake::deny_list;
use connect_lake::flat_answer::FlatAnswer;
use connect_lake::remote_config::{ConfigSource, S3Source};
use fraud_router::policy::Policy;
use fraud_router::{Config, Router, policy_cache};
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    connect_lake::telemetry::init_tracing();
    let config = Config::from_env(&ProcessEnv).inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let builtin = Policy::builtin().inspect_err(|e| tracing::error!(error = %e, "the built-in policy is invalid"))?;
    // The SDK is only set up when there is something to read from S3.
    let source: Option<Arc<dyn ConfigSource>> = if config.deny_list.is_some() || config.policy.is_some() {
        let sdk = sdk_config(&AwsOptions::interactive()).await;
        Some(Arc::new(S3Source::new(s3_client(&sdk))))
    } else {
        None
    };
    let namespace = config.metrics_namespace.as_str();
    let (deny_list, policy) = match &source {
        Some(source) => (
            config
                .deny_list
                .clone()
                .map(|s| deny_list::cache(s, Arc::clone(source), namespace)),
            config
                .policy
                .clone()
                .map(|s| policy_cache(s, Arc::clone(source), namespace)),
        ),
        None => (None, None),
    };
    let router = Router::new(&config, builtin, deny_list, policy);
    let router = &router;
    // `ContactFlowEvent` deserializes from any payload, so every invocation reaches the handler and
    // gets an answer: Connect never sees a function error from this function.
    lambda_runtime::run(service_fn(move |event: LambdaEvent<ContactFlowEvent>| async move {
        Ok::<FlatAnswer, Infallible>(router.handle(&event.payload).await.emit())
    }))
    .await
}
