//! The one place that builds the AWS SDK configuration.
//!
//! Region, timeouts and retries are set here for every client. The local emulator is reached
//! through the SDK's standard `AWS_ENDPOINT_URL` override and nothing else; when an override is set,
//! S3 uses path-style addressing, because virtual-host style needs DNS for `<bucket>.<host>`.

use std::time::Duration;

use aws_config::meta::region::RegionProviderChain;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

/// Region used when neither the environment nor a profile names one (local runs, tests).
pub const FALLBACK_REGION: &str = "us-east-1";

/// Timeouts and retries for the SDK clients of one function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AwsOptions {
    pub connect_timeout: Duration,
    /// One HTTP attempt.
    pub attempt_timeout: Duration,
    /// The whole operation, retries included.
    pub operation_timeout: Duration,
    /// Attempts in total, the first included (1 disables retries).
    pub max_attempts: u32,
}

impl Default for AwsOptions {
    /// For batch functions (cataloger, enricher): generous, with the SDK's standard retries.
    fn default() -> Self {
        AwsOptions {
            connect_timeout: Duration::from_secs(3),
            attempt_timeout: Duration::from_secs(10),
            operation_timeout: Duration::from_secs(30),
            max_attempts: 3,
        }
    }
}

impl AwsOptions {
    /// For the contact-flow functions, which must answer Connect in milliseconds: one quick
    /// attempt, and callers bound the wait further with their own budget.
    pub fn interactive() -> Self {
        AwsOptions {
            connect_timeout: Duration::from_millis(500),
            attempt_timeout: Duration::from_secs(2),
            operation_timeout: Duration::from_secs(3),
            max_attempts: 2,
        }
    }
}

/// Loads the SDK configuration from the standard environment (credentials, region,
/// `AWS_ENDPOINT_URL`) with these options applied.
pub async fn sdk_config(options: &AwsOptions) -> SdkConfig {
    let region = RegionProviderChain::default_provider().or_else(Region::new(FALLBACK_REGION));
    aws_config::defaults(BehaviorVersion::latest())
        .region(region)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(options.connect_timeout)
                .operation_attempt_timeout(options.attempt_timeout)
                .operation_timeout(options.operation_timeout)
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(options.max_attempts.max(1)))
        .load()
        .await
}

/// Whether the configuration points at an endpoint override (the local emulator, or a VPC
/// endpoint) rather than the public AWS endpoints.
pub fn has_endpoint_override(config: &SdkConfig) -> bool {
    config.endpoint_url().is_some()
}

/// An S3 client for this configuration: path-style addressing whenever an endpoint override is set.
#[cfg(feature = "s3")]
pub fn s3_client(config: &SdkConfig) -> aws_sdk_s3::Client {
    let builder = aws_sdk_s3::config::Builder::from(config).force_path_style(has_endpoint_override(config));
    aws_sdk_s3::Client::from_conf(builder.build())
}
