//! The function's configuration, read once at start-up from named environment variables.

use connect_lake::config::{self, ConfigError, Env, names};
use connect_lake::pii::{self, AgentUsername, AttributeKeys, PiiRules, Tokenizer};
use connect_lake::schema::{AGENT_EVENTS, CONNECT_METRICS, CTR};

use crate::firehose::MAX_RESPONSE_BYTES;

/// `PII_TOKEN_KEY`, the PII key lists, `AGENT_USERNAME`, `AGENT_HEARTBEATS`, `EXPECTED_TABLES` and
/// `METRICS_NAMESPACE`.
#[derive(Debug, Clone)]
pub struct Config {
    pub tokenizer: Tokenizer,
    /// `PII_ATTRIBUTE_KEYS` (added to [`pii::DEFAULT_PII_ATTRIBUTE_KEYS`]) and `CLEAR_ATTRIBUTE_KEYS`
    /// (default none): attribute keys whose values are always tokenized, or always kept in clear.
    /// Every other value is tokenized when [`pii::classify`] finds PII in it.
    pub attribute_keys: AttributeKeys,
    /// `AGENT_USERNAME`: `classify` (default; an email-shaped username is tokenized), `clear` or
    /// `tokenize`. Applies to `ctr` and `agent_events` alike.
    pub agent_username: AgentUsername,
    /// `AGENT_HEARTBEATS=keep` keeps HEART_BEAT agent events; by default they are dropped.
    pub keep_heartbeats: bool,
    /// `EXPECTED_TABLES=<delivery stream name>=<table>,...`: the one table each delivery stream
    /// carries. A record of the other kind on such a stream (an agent event on the contact-record
    /// stream, say) is `ProcessingFailed` with `wrong_stream`, never a row that the stream's
    /// Parquet conversion would read with the wrong table's schema. Streams not named accept both.
    pub expected_tables: Vec<(String, &'static connect_lake::schema::Table)>,
    pub metrics_namespace: String,
    /// The response budget in bytes; [`MAX_RESPONSE_BYTES`] unless a test lowers it.
    pub max_response_bytes: usize,
}

impl Config {
    /// # Errors
    /// A [`ConfigError`] naming the variable that is missing or malformed.
    pub fn from_env(env: &impl Env) -> Result<Self, ConfigError> {
        let keep_heartbeats = match config::optional(env, names::AGENT_HEARTBEATS).as_deref() {
            None => false,
            Some(v) if v.eq_ignore_ascii_case("drop") => false,
            Some(v) if v.eq_ignore_ascii_case("keep") => true,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: names::AGENT_HEARTBEATS,
                    reason: format!("expected keep or drop, got {other:?}"),
                });
            }
        };
        Ok(Config {
            expected_tables: expected_tables(config::optional(env, names::EXPECTED_TABLES).as_deref())?,
            tokenizer: config::tokenizer(env)?,
            attribute_keys: pii::attribute_keys_from_env(env)?,
            agent_username: pii::agent_username_from_env(env)?,
            keep_heartbeats,
            metrics_namespace: config::metrics_namespace(env),
            max_response_bytes: MAX_RESPONSE_BYTES,
        })
    }
}

/// Reads `EXPECTED_TABLES`: `stream=table` pairs, comma-separated, each table `ctr` or
/// `agent_events`.
fn expected_tables(value: Option<&str>) -> Result<Vec<(String, &'static connect_lake::schema::Table)>, ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid {
        name: names::EXPECTED_TABLES,
        reason,
    };
    let mut out = Vec::new();
    for pair in value
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let (stream, table) = pair
            .split_once('=')
            .ok_or_else(|| invalid(format!("expected stream=table, got {pair:?}")))?;
        let table = match table.trim() {
            "ctr" => &CTR,
            "agent_events" => &AGENT_EVENTS,
            "connect_metrics" => &CONNECT_METRICS,
            other => {
                return Err(invalid(format!(
                    "{other:?} is not a table this function writes (ctr, agent_events, connect_metrics)"
                )));
            }
        };
        out.push((stream.trim().to_owned(), table));
    }
    Ok(out)
}

impl Config {
    /// The table a delivery stream (by its ARN) is expected to carry, if the configuration names it.
    pub fn expected_table(&self, delivery_stream_arn: &str) -> Option<&'static connect_lake::schema::Table> {
        let name = delivery_stream_arn
            .rsplit_once('/')
            .map_or(delivery_stream_arn, |(_, n)| n);
        self.expected_tables.iter().find(|(s, _)| s == name).map(|(_, t)| *t)
    }

    /// The PII rules every record is flattened with.
    pub fn pii(&self) -> PiiRules<'_> {
        PiiRules {
            tokenizer: &self.tokenizer,
            attribute_keys: &self.attribute_keys,
            agent_username: self.agent_username,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "unit-test-key-0123456789abcdefghij";

    #[test]
    fn an_expected_table_this_function_does_not_write_fails_naming_the_variable() {
        let err = Config::from_env(&[
            ("PII_TOKEN_KEY", KEY),
            ("EXPECTED_TABLES", "ctr-stream=sentiment_turns"),
        ])
        .unwrap_err();
        let ConfigError::Invalid { name, reason } = err else {
            panic!("expected an invalid value, got {err:?}")
        };
        assert_eq!(name, "EXPECTED_TABLES");
        assert!(
            reason.starts_with("\"sentiment_turns\" is not a table this function writes (ctr, agent_events"),
            "{reason}"
        );
        let err = Config::from_env(&[("PII_TOKEN_KEY", KEY), ("AGENT_HEARTBEATS", "sometimes")]).unwrap_err();
        assert_eq!(
            err,
            ConfigError::Invalid {
                name: "AGENT_HEARTBEATS",
                reason: "expected keep or drop, got \"sometimes\"".into()
            }
        );
    }
}
