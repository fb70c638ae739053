//! S3 through `object_store`, configured from the same `SdkConfig` as the Glue client: region,
//! endpoint (`AWS_ENDPOINT_URL`, e.g. the local emulator, path-style) and credentials.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use object_store::aws::{AmazonS3Builder, AwsCredential};
use object_store::{BackoffConfig, CredentialProvider, ObjectStore, RetryConfig};

/// Hands the SDK's credentials to `object_store`, so both clients use one identity (profile,
/// SSO, role, environment: whatever the SDK resolved). Credentials are cached until five minutes
/// before they expire: the SDK's provider chain itself does not cache.
#[derive(Debug)]
struct SdkCredentials {
    provider: SharedCredentialsProvider,
    cached: Mutex<Option<(Arc<AwsCredential>, Option<SystemTime>)>>,
}

const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(300);

#[async_trait::async_trait]
impl CredentialProvider for SdkCredentials {
    type Credential = AwsCredential;

    async fn get_credential(&self) -> object_store::Result<Arc<AwsCredential>> {
        if let Ok(cached) = self.cached.lock()
            && let Some((credential, expiry)) = cached.as_ref()
        {
            let fresh = expiry.is_none_or(|at| SystemTime::now() + REFRESH_BEFORE_EXPIRY < at);
            if fresh {
                return Ok(Arc::clone(credential));
            }
        }
        let c = self
            .provider
            .provide_credentials()
            .await
            .map_err(|e| object_store::Error::Generic {
                store: "S3",
                source: Box::new(e),
            })?;
        let credential = Arc::new(AwsCredential {
            key_id: c.access_key_id().to_owned(),
            secret_key: c.secret_access_key().to_owned(),
            token: c.session_token().map(str::to_owned),
        });
        if let Ok(mut cached) = self.cached.lock() {
            *cached = Some((Arc::clone(&credential), c.expiry()));
        }
        Ok(credential)
    }
}

/// An S3 store for one bucket.
///
/// Retries are bounded (3 tries within 30 s) so an unreachable endpoint fails a query in
/// seconds rather than after object_store's default three minutes.
///
/// # Errors
/// The builder's message when the configuration is unusable.
pub fn s3_store(config: &SdkConfig, bucket: &str) -> Result<Arc<dyn ObjectStore>, object_store::Error> {
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(bucket)
        .with_virtual_hosted_style_request(false)
        .with_retry(RetryConfig {
            backoff: BackoffConfig::default(),
            max_retries: 3,
            retry_timeout: Duration::from_secs(30),
        });
    if let Some(region) = config.region() {
        builder = builder.with_region(region.as_ref());
    }
    if let Some(endpoint) = config.endpoint_url() {
        builder = builder
            .with_endpoint(endpoint)
            .with_allow_http(endpoint.starts_with("http://"));
    }
    if let Some(provider) = config.credentials_provider() {
        builder = builder.with_credentials(Arc::new(SdkCredentials {
            provider,
            cached: Mutex::new(None),
        }));
    }
    Ok(Arc::new(builder.build()?))
}
