//! Typed configuration from named environment variables, read once at start-up.
//!
//! Every error names the variable, so a misconfigured function fails its init with a message the
//! operator can act on. Tests build configuration from a map instead of the process environment.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use crate::pii::{PiiError, Tokenizer};

/// The environment variables shared by the functions, named once.
pub mod names {
    pub const LAKE_BUCKET: &str = "LAKE_BUCKET";
    pub const GLUE_DATABASE: &str = "GLUE_DATABASE";
    pub const LAKE_FORMAT: &str = "LAKE_FORMAT";
    /// The PII token key itself: local runs only. A deployment sets [`PII_TOKEN_SECRET_ARN`].
    pub const PII_TOKEN_KEY: &str = "PII_TOKEN_KEY";
    /// The Secrets Manager secret (ARN or name) holding the PII token key, read once at init.
    pub const PII_TOKEN_SECRET_ARN: &str = "PII_TOKEN_SECRET_ARN";
    pub const DENY_LIST_URI: &str = "DENY_LIST_URI";
    pub const FRAUD_POLICY_URI: &str = "FRAUD_POLICY_URI";
    pub const METRICS_NAMESPACE: &str = "METRICS_NAMESPACE";
    pub const AGENT_HEARTBEATS: &str = "AGENT_HEARTBEATS";
    /// Attribute keys whose values are always tokenized, comma-separated (see `pii::AttributeKeys`).
    pub const PII_ATTRIBUTE_KEYS: &str = "PII_ATTRIBUTE_KEYS";
    /// Attribute keys whose values are always kept in clear, comma-separated.
    pub const CLEAR_ATTRIBUTE_KEYS: &str = "CLEAR_ATTRIBUTE_KEYS";
    /// `classify` (default), `clear` or `tokenize`: how `agent_username` is stored.
    pub const AGENT_USERNAME: &str = "AGENT_USERNAME";
    /// The account that must own the bucket of `DENY_LIST_URI` and `FRAUD_POLICY_URI`.
    pub const CONFIG_BUCKET_OWNER: &str = "CONFIG_BUCKET_OWNER";
    /// `stream-name=table,...`: the table each Firehose delivery stream may carry (firehose-transform).
    pub const EXPECTED_TABLES: &str = "EXPECTED_TABLES";
}

/// The default CloudWatch namespace of every metric the functions emit.
pub const DEFAULT_METRICS_NAMESPACE: &str = "ConnectLake";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {name} is required but not set")]
    Missing { name: &'static str },
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// Where configuration values come from: the process environment, or a map in tests.
pub trait Env {
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Env for HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

impl<const N: usize> Env for [(&str, &str); N] {
    fn var(&self, name: &str) -> Option<String> {
        self.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
    }
}

/// A set, non-blank value, trimmed.
pub fn optional(env: &impl Env, name: &'static str) -> Option<String> {
    env.var(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// # Errors
/// [`ConfigError::Missing`] when the variable is unset or blank.
pub fn required(env: &impl Env, name: &'static str) -> Result<String, ConfigError> {
    optional(env, name).ok_or(ConfigError::Missing { name })
}

/// Parses the variable, or returns `default` when it is unset.
///
/// # Errors
/// [`ConfigError::Invalid`] when it is set but does not parse.
pub fn parse_or<T>(env: &impl Env, name: &'static str, default: T) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    match optional(env, name) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|e: T::Err| ConfigError::Invalid {
            name,
            reason: e.to_string(),
        }),
    }
}

/// The PII tokenizer from `PII_TOKEN_KEY`, which is required and at least 32 bytes.
///
/// # Errors
/// Names `PII_TOKEN_KEY` when it is missing or too short. The key itself is never in a message.
pub fn tokenizer(env: &impl Env) -> Result<Tokenizer, ConfigError> {
    let name = names::PII_TOKEN_KEY;
    // Not trimmed: a key is bytes, and whitespace in it is the operator's choice.
    let key = env
        .var(name)
        .filter(|k| !k.is_empty())
        .ok_or(ConfigError::Missing { name })?;
    Tokenizer::new(key.as_bytes()).map_err(|e: PiiError| ConfigError::Invalid {
        name,
        reason: e.to_string(),
    })
}

/// The metrics namespace, `ConnectLake` unless `METRICS_NAMESPACE` says otherwise.
pub fn metrics_namespace(env: &impl Env) -> String {
    optional(env, names::METRICS_NAMESPACE).unwrap_or_else(|| DEFAULT_METRICS_NAMESPACE.to_owned())
}

/// The storage format of curated tables (`LAKE_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LakeFormat {
    /// Parquet with Snappy, written by Firehose's record format conversion.
    #[default]
    Parquet,
    /// JSON lines.
    Json,
}

impl FromStr for LakeFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "parquet" => Ok(LakeFormat::Parquet),
            "json" => Ok(LakeFormat::Json),
            other => Err(format!("expected parquet or json, got {other:?}")),
        }
    }
}

/// An `s3://bucket/key` location, as used by `DENY_LIST_URI` and `FRAUD_POLICY_URI`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Uri {
    pub bucket: String,
    pub key: String,
}

impl FromStr for S3Uri {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let rest = s
            .strip_prefix("s3://")
            .ok_or_else(|| format!("expected s3://bucket/key, got {s:?}"))?;
        match rest.split_once('/') {
            Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() => Ok(S3Uri {
                bucket: bucket.to_owned(),
                key: key.to_owned(),
            }),
            _ => Err(format!("expected s3://bucket/key, got {s:?}")),
        }
    }
}

impl fmt::Display for S3Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_short_keys_name_the_variable() {
        let err = tokenizer(&[("OTHER", "x")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable PII_TOKEN_KEY is required but not set"
        );
        let err = tokenizer(&[("PII_TOKEN_KEY", "too-short")]).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("PII_TOKEN_KEY") && msg.contains("at least 32 bytes"),
            "{msg}"
        );
        assert!(!msg.contains("too-short"), "the key must not leak into the message");
        assert!(tokenizer(&[("PII_TOKEN_KEY", "k".repeat(32).as_str())]).is_ok());
    }

    #[test]
    fn parse_errors_name_the_variable_and_defaults_apply() {
        let err = parse_or(&[("DENY_LIST_TTL_SECONDS", "soon")], "DENY_LIST_TTL_SECONDS", 300u64).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("environment variable DENY_LIST_TTL_SECONDS is invalid")
        );
        assert_eq!(parse_or(&[("X", "1")], "DENY_LIST_TTL_SECONDS", 300u64).unwrap(), 300);
        assert_eq!(
            parse_or(&[("LAKE_FORMAT", "JSON")], names::LAKE_FORMAT, LakeFormat::Parquet).unwrap(),
            LakeFormat::Json
        );
        assert!(parse_or(&[("LAKE_FORMAT", "orc")], names::LAKE_FORMAT, LakeFormat::Parquet).is_err());
        assert_eq!(
            required(&[("LAKE_BUCKET", "  ")], names::LAKE_BUCKET),
            Err(ConfigError::Missing { name: "LAKE_BUCKET" })
        );
    }

    #[test]
    fn s3_uris_parse_and_print() {
        let u: S3Uri = "s3://cfg/deny/list.txt".parse().unwrap();
        assert_eq!((u.bucket.as_str(), u.key.as_str()), ("cfg", "deny/list.txt"));
        assert_eq!(u.to_string(), "s3://cfg/deny/list.txt");
        for bad in ["cfg/deny.txt", "s3://", "s3://bucket", "s3://bucket/", "s3:///key"] {
            assert!(bad.parse::<S3Uri>().is_err(), "{bad}");
        }
    }
}
