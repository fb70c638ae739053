//! The function's configuration, read once at start-up from the shared environment variables.

use connect_lake::config::{self, ConfigError, Env, LakeFormat, names};

/// `LAKE_BUCKET`, `GLUE_DATABASE`, `LAKE_FORMAT` (default `parquet`) and `METRICS_NAMESPACE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The lake bucket: tables live at `s3://<bucket>/<table>/`, and objects elsewhere are skipped.
    pub lake_bucket: String,
    /// The Glue database of the curated tables. The SAM template creates it; this function never does.
    pub database: String,
    /// The format of tables this function creates.
    pub format: LakeFormat,
    pub metrics_namespace: String,
}

impl Config {
    /// # Errors
    /// A [`ConfigError`] naming the variable that is missing or malformed.
    pub fn from_env(env: &impl Env) -> Result<Self, ConfigError> {
        let lake_bucket = config::required(env, names::LAKE_BUCKET)?;
        // A URI or a path here would silently produce `s3://s3://...` table locations.
        if lake_bucket.contains('/') || lake_bucket.contains(':') {
            return Err(ConfigError::Invalid {
                name: names::LAKE_BUCKET,
                reason: format!("expected a bucket name, not a URI or path: {lake_bucket:?}"),
            });
        }
        Ok(Config {
            lake_bucket,
            database: config::required(env, names::GLUE_DATABASE)?,
            format: config::parse_or(env, names::LAKE_FORMAT, LakeFormat::Parquet)?,
            metrics_namespace: config::metrics_namespace(env),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lake_bucket_given_as_a_uri_fails_naming_the_variable() {
        let err = Config::from_env(&[("LAKE_BUCKET", "s3://lake"), ("GLUE_DATABASE", "connect_lake")]).unwrap_err();
        assert_eq!(
            err,
            ConfigError::Invalid {
                name: "LAKE_BUCKET",
                reason: "expected a bucket name, not a URI or path: \"s3://lake\"".into()
            }
        );
        let err =
            Config::from_env(&[("LAKE_BUCKET", "lake"), ("GLUE_DATABASE", "db"), ("LAKE_FORMAT", "orc")]).unwrap_err();
        assert_eq!(
            err,
            ConfigError::Invalid {
                name: "LAKE_FORMAT",
                reason: "expected parquet or json, got \"orc\"".into()
            }
        );
    }
}
