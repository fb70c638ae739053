//! The PII token key from AWS Secrets Manager, read once at init.
//!
//! In a deployment the key is never an environment variable value: anyone allowed
//! `lambda:GetFunctionConfiguration` could read it there. The function's environment holds only
//! `PII_TOKEN_SECRET_ARN`, the ARN (or name) of the secret whose `SecretString` is the key, and the
//! function reads it with `secretsmanager:GetSecretValue` before it takes its first event. The key
//! then lives only in the function's memory, where [`WithPiiKey`] hands it to the configuration
//! exactly as `PII_TOKEN_KEY` would have been: the same secret gives the same tokens as before.
//!
//! Without `PII_TOKEN_SECRET_ARN`, `PII_TOKEN_KEY` is read from the environment as it is: that is
//! for local runs (`cargo lambda watch`, the tests, the demo). Setting both is refused, so a
//! deployment cannot silently carry a second key. A secret that cannot be read, is empty, binary,
//! or shorter than [`MIN_KEY_BYTES`] fails the cold start with the secret's id in the message
//! and never the key.

use std::future::Future;
use std::time::{Duration, Instant};

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::DisplayErrorContext;

use crate::aws::{AwsOptions, sdk_config};
use crate::config::{Env, names, optional};
use crate::pii::MIN_KEY_BYTES;

/// Timeouts of the one init-time call: well inside Lambda's 10 s init phase, with retries.
const SECRET_OPTIONS: AwsOptions = AwsOptions {
    connect_timeout: Duration::from_secs(1),
    attempt_timeout: Duration::from_secs(2),
    operation_timeout: Duration::from_secs(6),
    max_attempts: 3,
};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error(
        "both PII_TOKEN_SECRET_ARN and PII_TOKEN_KEY are set; set only PII_TOKEN_SECRET_ARN in a deployment \
         (PII_TOKEN_KEY is for local runs)"
    )]
    BothSet,
    #[error("could not read the PII token key from Secrets Manager secret {secret_id}: {reason}")]
    Unreadable { secret_id: String, reason: String },
    #[error("Secrets Manager secret {secret_id} has no SecretString; the PII token key must be a string secret")]
    NotAString { secret_id: String },
    #[error(
        "the PII token key in Secrets Manager secret {secret_id} is {len} bytes long; it must be at least \
         {MIN_KEY_BYTES} bytes"
    )]
    KeyTooShort { secret_id: String, len: usize },
}

/// The environment, with `PII_TOKEN_KEY` answered from memory when the key came from Secrets
/// Manager. Pass it to a function's `Config::from_env` in place of the process environment.
pub struct WithPiiKey<E> {
    env: E,
    key: Option<String>,
}

impl<E> WithPiiKey<E> {
    /// Whether the key was read from Secrets Manager (rather than left to the environment).
    pub fn key_from_secret(&self) -> bool {
        self.key.is_some()
    }
}

impl<E> std::fmt::Debug for WithPiiKey<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WithPiiKey")
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

impl<E: Env> Env for WithPiiKey<E> {
    fn var(&self, name: &str) -> Option<String> {
        match &self.key {
            Some(key) if name == names::PII_TOKEN_KEY => Some(key.clone()),
            _ => self.env.var(name),
        }
    }
}

/// Reads the PII token key named by `PII_TOKEN_SECRET_ARN`, with an SDK client built from the
/// standard environment, and returns `env` with the key in it. Without `PII_TOKEN_SECRET_ARN`,
/// `env` is returned as it is and no AWS call is made.
///
/// # Errors
/// See [`with_pii_key_from`].
pub async fn with_pii_key<E: Env>(env: E) -> Result<WithPiiKey<E>, SecretError> {
    with_pii_key_from(env, || async { Client::new(&sdk_config(&SECRET_OPTIONS).await) }).await
}

/// [`with_pii_key`] with the Secrets Manager client from `client`, which is only called when
/// `PII_TOKEN_SECRET_ARN` is set.
///
/// # Errors
/// [`SecretError::BothSet`] when `PII_TOKEN_KEY` is set too; otherwise as [`read_pii_key`].
pub async fn with_pii_key_from<E, F, Fut>(env: E, client: F) -> Result<WithPiiKey<E>, SecretError>
where
    E: Env,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Client>,
{
    let Some(secret_id) = optional(&env, names::PII_TOKEN_SECRET_ARN) else {
        return Ok(WithPiiKey { env, key: None });
    };
    if env.var(names::PII_TOKEN_KEY).is_some_and(|k| !k.is_empty()) {
        return Err(SecretError::BothSet);
    }
    let started = Instant::now();
    let key = read_pii_key(&client().await, &secret_id).await?;
    tracing::info!(
        secret_id,
        elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        "PII token key read from Secrets Manager"
    );
    Ok(WithPiiKey { env, key: Some(key) })
}

/// The `SecretString` of `secret_id` (an ARN or a name), checked to be a usable key.
///
/// # Errors
/// [`SecretError::Unreadable`] when the call fails (missing secret, access denied, timeout),
/// [`SecretError::NotAString`] for a binary or empty secret, [`SecretError::KeyTooShort`] below
/// [`MIN_KEY_BYTES`]. No message carries the key.
pub async fn read_pii_key(client: &Client, secret_id: &str) -> Result<String, SecretError> {
    let out = client
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|e| SecretError::Unreadable {
            secret_id: secret_id.to_owned(),
            reason: DisplayErrorContext(&e).to_string(),
        })?;
    // Not trimmed: a key is bytes, exactly as `PII_TOKEN_KEY` is read.
    let key = out
        .secret_string
        .filter(|k| !k.is_empty())
        .ok_or_else(|| SecretError::NotAString {
            secret_id: secret_id.to_owned(),
        })?;
    if key.len() < MIN_KEY_BYTES {
        return Err(SecretError::KeyTooShort {
            secret_id: secret_id.to_owned(),
            len: key.len(),
        });
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unreachable_client() -> Client {
        let config = aws_sdk_secretsmanager::Config::builder()
            .behavior_version(aws_sdk_secretsmanager::config::BehaviorVersion::latest())
            .region(aws_sdk_secretsmanager::config::Region::new("us-east-1"))
            .build();
        Client::from_conf(config)
    }

    #[tokio::test]
    async fn without_a_secret_arn_the_environment_is_used_as_it_is_and_no_client_is_built() {
        let env = with_pii_key_from([("PII_TOKEN_KEY", "local-key")], || async {
            panic!("no Secrets Manager client without PII_TOKEN_SECRET_ARN")
        })
        .await
        .unwrap();
        assert!(!env.key_from_secret());
        assert_eq!(env.var("PII_TOKEN_KEY").as_deref(), Some("local-key"));
    }

    #[tokio::test]
    async fn a_secret_arn_beside_a_key_in_the_environment_is_refused() {
        let env = [
            ("PII_TOKEN_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:1:secret:k"),
            ("PII_TOKEN_KEY", "x"),
        ];
        let err = with_pii_key_from(env, || async { unreachable_client() })
            .await
            .unwrap_err();
        assert_eq!(err, SecretError::BothSet);
        assert!(err.to_string().contains("PII_TOKEN_SECRET_ARN"), "{err}");
    }

    #[test]
    fn the_key_answers_pii_token_key_only_and_is_never_printed() {
        let env = WithPiiKey {
            env: [("LAKE_BUCKET", "lake")],
            key: Some("k".repeat(40)),
        };
        assert_eq!(env.var("PII_TOKEN_KEY"), Some("k".repeat(40)));
        assert_eq!(env.var("LAKE_BUCKET").as_deref(), Some("lake"));
        assert!(!format!("{env:?}").contains("kkkk"));
    }
}
