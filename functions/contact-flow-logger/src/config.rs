//! The function's configuration, read once at start-up from named environment variables.

use connect_lake::config::{self, ConfigError, Env};
use connect_lake::deny_list;
use connect_lake::pii::{self, AttributeKeys, Tokenizer};
use connect_lake::remote_config::{self, RemoteSettings};

/// `PII_TOKEN_KEY`, `PII_ATTRIBUTE_KEYS`, `CLEAR_ATTRIBUTE_KEYS`, `METRICS_NAMESPACE`,
/// `DENY_LIST_URI`, `DENY_LIST_TTL_SECONDS`, `DENY_LIST_BUDGET_MS` and `CONFIG_BUCKET_OWNER`.
#[derive(Debug, Clone)]
pub struct Config {
    pub tokenizer: Tokenizer,
    /// `PII_ATTRIBUTE_KEYS` (added to [`pii::DEFAULT_PII_ATTRIBUTE_KEYS`]) and `CLEAR_ATTRIBUTE_KEYS`
    /// (default none): block-parameter keys whose values are always tokenized, or always logged in
    /// clear. Parameters are usually mapped from contact attributes, so the same lists apply.
    pub attribute_keys: AttributeKeys,
    pub metrics_namespace: String,
    /// `None` without `DENY_LIST_URI`.
    pub deny_list: Option<RemoteSettings>,
    /// `CONFIG_BUCKET_OWNER`: the account that must own the deny list's bucket. `None`: the
    /// function's own account, from the invoked function's ARN.
    pub config_bucket_owner: Option<String>,
}

impl Config {
    /// # Errors
    /// A [`ConfigError`] naming the variable that is missing or malformed.
    pub fn from_env(env: &impl Env) -> Result<Self, ConfigError> {
        Ok(Config {
            tokenizer: config::tokenizer(env)?,
            attribute_keys: pii::attribute_keys_from_env(env)?,
            metrics_namespace: config::metrics_namespace(env),
            deny_list: deny_list::settings_from_env(env)?,
            config_bucket_owner: remote_config::bucket_owner_from_env(env)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "unit-test-key-0123456789abcdefghij";

    #[test]
    fn a_deny_list_ttl_of_zero_fails_naming_the_variable() {
        let err = Config::from_env(&[
            ("PII_TOKEN_KEY", KEY),
            ("DENY_LIST_URI", "s3://cfg/deny.txt"),
            ("DENY_LIST_TTL_SECONDS", "0"),
        ])
        .unwrap_err();
        assert_eq!(
            err,
            ConfigError::Invalid {
                name: "DENY_LIST_TTL_SECONDS",
                reason: "must be at least 1 second".into()
            }
        );
    }
}
