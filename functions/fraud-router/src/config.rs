//! The function's configuration, read once at start-up from named environment variables.

use std::time::Duration;

use connect_lake::config::{self, ConfigError, Env, S3Uri, names};
use connect_lake::deny_list;
use connect_lake::pii::Tokenizer;
use connect_lake::remote_config::{self, RemoteSettings};

use crate::DECISION_MARGIN;
use crate::policy::MAX_POLICY_BYTES;

/// `PII_TOKEN_KEY`, `METRICS_NAMESPACE`, the deny list's variables, `FRAUD_POLICY_URI` and
/// `CONFIG_BUCKET_OWNER`.
#[derive(Debug, Clone)]
pub struct Config {
    pub tokenizer: Tokenizer,
    pub metrics_namespace: String,
    /// `None` without `DENY_LIST_URI`.
    pub deny_list: Option<RemoteSettings>,
    /// `None` without `FRAUD_POLICY_URI`: the built-in policy applies.
    pub policy: Option<RemoteSettings>,
    /// The longest a decision may take: the deny-list budget plus [`DECISION_MARGIN`].
    pub decision_budget: Duration,
    /// `CONFIG_BUCKET_OWNER`: the account that must own the deny list's and the policy's buckets.
    /// `None`: the function's own account, from its ARN at the first invocation.
    pub config_bucket_owner: Option<String>,
}

impl Config {
    /// Reads `PII_TOKEN_KEY`, `METRICS_NAMESPACE`, `DENY_LIST_URI`, `DENY_LIST_TTL_SECONDS`,
    /// `DENY_LIST_BUDGET_MS`, `FRAUD_POLICY_URI` and `CONFIG_BUCKET_OWNER`. The policy is refreshed
    /// on the deny list's TTL and waited for within the same budget.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the variable that is missing or malformed.
    pub fn from_env(env: &impl Env) -> Result<Self, ConfigError> {
        let (ttl, budget) = deny_list::timing_from_env(env)?;
        let policy = match config::optional(env, names::FRAUD_POLICY_URI) {
            None => None,
            Some(uri) => {
                let uri: S3Uri = uri.parse().map_err(|reason| ConfigError::Invalid {
                    name: names::FRAUD_POLICY_URI,
                    reason,
                })?;
                Some(RemoteSettings {
                    ttl,
                    budget,
                    max_bytes: MAX_POLICY_BYTES,
                    ..RemoteSettings::new(uri)
                })
            }
        };
        Ok(Config {
            tokenizer: config::tokenizer(env)?,
            metrics_namespace: config::metrics_namespace(env),
            deny_list: deny_list::settings_from_env(env)?,
            policy,
            decision_budget: budget + DECISION_MARGIN,
            config_bucket_owner: remote_config::bucket_owner_from_env(env)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "unit-test-key-0123456789abcdefghij";

    #[test]
    fn a_policy_location_that_is_not_an_s3_uri_fails_naming_the_variable() {
        let err = Config::from_env(&[("PII_TOKEN_KEY", KEY), ("FRAUD_POLICY_URI", "https://cfg/p.json")]).unwrap_err();
        assert_eq!(
            err,
            ConfigError::Invalid {
                name: "FRAUD_POLICY_URI",
                reason: "expected s3://bucket/key, got \"https://cfg/p.json\"".into()
            }
        );
    }

    #[test]
    fn the_config_bucket_owner_is_an_account_id_or_left_to_the_functions_arn() {
        let c = Config::from_env(&[("PII_TOKEN_KEY", KEY), ("CONFIG_BUCKET_OWNER", "111122223333")]).unwrap();
        assert_eq!(c.config_bucket_owner.as_deref(), Some("111122223333"));
        assert_eq!(
            Config::from_env(&[("PII_TOKEN_KEY", KEY)]).unwrap().config_bucket_owner,
            None
        );
        let err = Config::from_env(&[("PII_TOKEN_KEY", KEY), ("CONFIG_BUCKET_OWNER", "my-account")]).unwrap_err();
        assert!(err.to_string().contains("CONFIG_BUCKET_OWNER"), "{err}");
    }
}
