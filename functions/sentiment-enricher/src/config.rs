//! The function's configuration, read once at start-up from named environment variables.

use connect_lake::config::{self, ConfigError, Env, names};
use connect_lake::pii::Tokenizer;

use crate::MAX_TRANSCRIPT_BYTES;
use crate::keys::{self, Prefixes};
use crate::sentiment::ProviderKind;
use crate::transcript::SpeakerMap;

/// The function's own environment variables (the shared ones are in [`config::names`]).
pub mod env {
    pub const RECORDINGS_PREFIX: &str = "RECORDINGS_PREFIX";
    pub const TRANSCRIPTS_PREFIX: &str = "TRANSCRIPTS_PREFIX";
    pub const TRANSCRIBE_LANGUAGE: &str = "TRANSCRIBE_LANGUAGE";
    pub const TRANSCRIBE_ROLE_ARN: &str = "TRANSCRIBE_ROLE_ARN";
    pub const TRANSCRIBE_OUTPUT_KMS_KEY_ID: &str = "TRANSCRIBE_OUTPUT_KMS_KEY_ID";
    pub const SENTIMENT_PROVIDER: &str = "SENTIMENT_PROVIDER";
    pub const STORE_TRANSCRIPT_TEXT: &str = "STORE_TRANSCRIPT_TEXT";
    pub const AGENT_CHANNEL: &str = "AGENT_CHANNEL";
    pub const ENRICH_SKIP_WHEN_CONTACT_LENS: &str = "ENRICH_SKIP_WHEN_CONTACT_LENS";
}

/// `LAKE_BUCKET`, `METRICS_NAMESPACE`, `PII_TOKEN_KEY` when text is stored, and the [`env`] variables.
#[derive(Debug, Clone)]
pub struct Config {
    pub lake_bucket: String,
    pub prefixes: Prefixes,
    /// Language of the recordings, for Transcribe, and of standard transcripts, which do not
    /// name theirs.
    pub transcribe_language: String,
    pub transcribe_role_arn: Option<String>,
    /// The KMS key Transcribe encrypts its output with (`OutputEncryptionKMSKeyId`): the lake key,
    /// which the bucket policy requires of every upload. Without it Transcribe writes SSE-S3.
    pub transcribe_output_key: Option<String>,
    pub provider: ProviderKind,
    pub store_text: bool,
    /// Required when `store_text`: redacted PII becomes `[TYPE:token]`.
    pub tokenizer: Option<Tokenizer>,
    pub speakers: SpeakerMap,
    /// Don't transcribe a recording whose contact record says Contact Lens analyses it
    /// (`ENRICH_SKIP_WHEN_CONTACT_LENS`, default true).
    pub skip_when_contact_lens: bool,
    pub metrics_namespace: String,
    pub max_transcript_bytes: u64,
}

fn parse_bool(name: &'static str, value: Option<String>) -> Result<bool, ConfigError> {
    match value.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("false" | "0" | "no") => Ok(false),
        Some("true" | "1" | "yes") => Ok(true),
        Some(other) => Err(ConfigError::Invalid {
            name,
            reason: format!("expected true or false, got {other:?}"),
        }),
    }
}

fn is_language_code(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 5
        && b[..2].iter().all(u8::is_ascii_lowercase)
        && b[2] == b'-'
        && b[3..].iter().all(u8::is_ascii_uppercase)
}

/// A KMS key as `OutputEncryptionKMSKeyId` takes it: a key id, `alias/<name>`, or the ARN of
/// either.
fn is_kms_key_reference(s: &str) -> bool {
    let plain_name = |name: &str| {
        !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'/'))
    };
    let key_id = |id: &str| {
        // `1234abcd-12ab-34cd-56ef-1234567890ab`, or a multi-Region key's `mrk-<32 hex>`.
        let uuid = id.len() == 36
            && id.bytes().enumerate().all(|(i, b)| {
                if matches!(i, 8 | 13 | 18 | 23) {
                    b == b'-'
                } else {
                    b.is_ascii_hexdigit()
                }
            });
        let mrk = id
            .strip_prefix("mrk-")
            .is_some_and(|h| h.len() == 32 && h.bytes().all(|b| b.is_ascii_hexdigit()));
        uuid || mrk
    };
    let resource =
        |r: &str| r.strip_prefix("alias/").is_some_and(plain_name) || r.strip_prefix("key/").is_some_and(key_id);
    if let Some(arn) = s.strip_prefix("arn:") {
        let parts: Vec<&str> = arn.splitn(5, ':').collect();
        return matches!(parts.as_slice(), [partition, "kms", region, account, rest]
            if partition.starts_with("aws")
                && !region.is_empty()
                && account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit())
                && resource(rest));
    }
    key_id(s) || s.strip_prefix("alias/").is_some_and(plain_name)
}

impl Config {
    /// # Errors
    /// A [`ConfigError`] naming the variable that is missing or malformed.
    pub fn from_env(env: &impl Env) -> Result<Self, ConfigError> {
        let lake_bucket = config::required(env, names::LAKE_BUCKET)?;
        let transcribe_language = config::optional(env, env::TRANSCRIBE_LANGUAGE).unwrap_or_else(|| "en-US".to_owned());
        if !is_language_code(&transcribe_language) {
            return Err(ConfigError::Invalid {
                name: env::TRANSCRIBE_LANGUAGE,
                reason: format!("expected a language code like en-US, got {transcribe_language:?}"),
            });
        }
        let store_text = parse_bool(
            env::STORE_TRANSCRIPT_TEXT,
            config::optional(env, env::STORE_TRANSCRIPT_TEXT),
        )?;
        // The key is needed only to tokenize redacted PII; when it is set it must be valid.
        let tokenizer = match (store_text, env.var(names::PII_TOKEN_KEY).filter(|k| !k.is_empty())) {
            (true, _) | (false, Some(_)) => Some(config::tokenizer(env)?),
            (false, None) => None,
        };
        let speakers = match config::optional(env, env::AGENT_CHANNEL) {
            None => SpeakerMap::default(),
            Some(label) => SpeakerMap::with_agent(&label).map_err(|reason| ConfigError::Invalid {
                name: env::AGENT_CHANNEL,
                reason,
            })?,
        };
        let transcribe_output_key = config::optional(env, env::TRANSCRIBE_OUTPUT_KMS_KEY_ID);
        if let Some(key) = transcribe_output_key.as_deref().filter(|k| !is_kms_key_reference(k)) {
            return Err(ConfigError::Invalid {
                name: env::TRANSCRIBE_OUTPUT_KMS_KEY_ID,
                reason: format!("expected a KMS key id, alias/<name>, or the ARN of either, got {key:?}"),
            });
        }
        // Default on: Contact Lens already scores the call, and a second transcript doubles the cost.
        let skip_when_contact_lens = match config::optional(env, env::ENRICH_SKIP_WHEN_CONTACT_LENS) {
            None => true,
            value => parse_bool(env::ENRICH_SKIP_WHEN_CONTACT_LENS, value)?,
        };
        Ok(Config {
            lake_bucket,
            prefixes: Prefixes {
                recordings: keys::normalize_prefix(
                    &config::optional(env, env::RECORDINGS_PREFIX).unwrap_or_else(|| "connect/".to_owned()),
                ),
                transcripts: keys::normalize_prefix(
                    &config::optional(env, env::TRANSCRIPTS_PREFIX).unwrap_or_else(|| "transcripts/".to_owned()),
                ),
            },
            transcribe_language,
            transcribe_role_arn: config::optional(env, env::TRANSCRIBE_ROLE_ARN),
            transcribe_output_key,
            provider: config::parse_or(env, env::SENTIMENT_PROVIDER, ProviderKind::Comprehend)?,
            store_text,
            tokenizer,
            speakers,
            skip_when_contact_lens,
            metrics_namespace: config::metrics_namespace(env),
            max_transcript_bytes: MAX_TRANSCRIPT_BYTES,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transcribe_language_that_is_not_a_language_code_fails_naming_the_variable() {
        let err = Config::from_env(&[("LAKE_BUCKET", "lake"), ("TRANSCRIBE_LANGUAGE", "english")]).unwrap_err();
        assert_eq!(
            err,
            ConfigError::Invalid {
                name: "TRANSCRIBE_LANGUAGE",
                reason: "expected a language code like en-US, got \"english\"".into()
            }
        );
        let err = Config::from_env(&[("LAKE_BUCKET", "lake"), ("STORE_TRANSCRIPT_TEXT", "maybe")]).unwrap_err();
        assert_eq!(
            err,
            ConfigError::Invalid {
                name: "STORE_TRANSCRIPT_TEXT",
                reason: "expected true or false, got \"maybe\"".into()
            }
        );
    }

    #[test]
    fn skipping_calls_contact_lens_analyses_is_on_unless_turned_off_and_a_bad_value_fails() {
        let config = |extra: &[(&str, &str)]| {
            let mut vars = std::collections::HashMap::from([("LAKE_BUCKET".to_owned(), "lake".to_owned())]);
            vars.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
            Config::from_env(&vars)
        };
        assert!(config(&[]).unwrap().skip_when_contact_lens, "default: skip");
        assert!(
            !config(&[("ENRICH_SKIP_WHEN_CONTACT_LENS", "false")])
                .unwrap()
                .skip_when_contact_lens
        );
        assert!(
            config(&[("ENRICH_SKIP_WHEN_CONTACT_LENS", "TRUE")])
                .unwrap()
                .skip_when_contact_lens
        );
        assert_eq!(
            config(&[("ENRICH_SKIP_WHEN_CONTACT_LENS", "skip")]).unwrap_err(),
            ConfigError::Invalid {
                name: "ENRICH_SKIP_WHEN_CONTACT_LENS",
                reason: "expected true or false, got \"skip\"".into()
            }
        );
    }

    #[test]
    fn a_transcribe_output_key_that_names_no_kms_key_fails_naming_the_variable() {
        for bad in [
            "lake-key",
            "arn:aws:s3:::lake",
            "arn:aws:kms:us-east-1:123456789012:key/not-a-key-id",
            "arn:aws:kms:us-east-1:1234:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "alias/",
            "alias/lake key",
            "1234abcd-12ab-34cd-56ef-1234567890a",
        ] {
            let err = Config::from_env(&[("LAKE_BUCKET", "lake"), ("TRANSCRIBE_OUTPUT_KMS_KEY_ID", bad)]).unwrap_err();
            assert_eq!(
                err,
                ConfigError::Invalid {
                    name: "TRANSCRIBE_OUTPUT_KMS_KEY_ID",
                    reason: format!("expected a KMS key id, alias/<name>, or the ARN of either, got {bad:?}")
                },
                "{bad}"
            );
        }
        for good in [
            "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws-us-gov:kms:us-gov-west-1:123456789012:alias/connect-lake-lake",
            "arn:aws:kms:eu-west-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab",
            "1234abcd-12ab-34cd-56ef-1234567890ab",
            "alias/connect-lake-lake",
        ] {
            let c = Config::from_env(&[("LAKE_BUCKET", "lake"), ("TRANSCRIBE_OUTPUT_KMS_KEY_ID", good)]).unwrap();
            assert_eq!(c.transcribe_output_key.as_deref(), Some(good));
        }
        let c = Config::from_env(&[("LAKE_BUCKET", "lake")]).unwrap();
        assert_eq!(c.transcribe_output_key, None, "unset: Transcribe's default (SSE-S3)");
    }
}
