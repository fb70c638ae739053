//! The backfill's inputs: local files and S3 objects (every object under an `s3://` prefix),
//! each named, identified by content for the manifest, and read as a stream of chunks.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::BackfillError;
use crate::aws_error::aws;

/// Bytes per read of a local file.
const CHUNK: usize = 256 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Local(PathBuf),
    S3 { bucket: String, key: String },
}

/// One input: where it is, its name in reports, its identity in the manifest, its size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub source: Source,
    pub name: String,
    /// Local files: the SHA-256 of their bytes. S3 objects: bucket, key, ETag and size (the
    /// ETag changes with the content).
    pub identity: String,
    pub size: u64,
}

/// Splits `s3://bucket/prefix` into bucket and prefix.
pub fn parse_s3_uri(uri: &str) -> Option<(String, String)> {
    let rest = uri.strip_prefix("s3://")?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    (!bucket.is_empty()).then(|| (bucket.to_owned(), prefix.to_owned()))
}

/// The SHA-256 of a file, read in chunks.
fn file_hash(path: &Path) -> std::io::Result<(String, u64)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0; CHUNK];
    let mut size = 0;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(buf.get(..n).unwrap_or_default());
    }
    Ok((format!("{:x}", hasher.finalize()), size))
}

/// Every input named on the command line, in order: a local path is one input; an `s3://`
/// URI is every object under that prefix, in key order (folders' zero-byte markers skipped).
///
/// # Errors
/// A local file that cannot be read, or an S3 listing that fails.
pub async fn resolve(s3: &aws_sdk_s3::Client, specs: &[PathBuf]) -> Result<Vec<Input>, BackfillError> {
    let mut inputs = Vec::new();
    for spec in specs {
        let text = spec.to_string_lossy();
        if let Some((bucket, prefix)) = parse_s3_uri(&text) {
            let mut token = None;
            loop {
                let page = s3
                    .list_objects_v2()
                    .bucket(&bucket)
                    .prefix(&prefix)
                    .set_continuation_token(token)
                    .send()
                    .await
                    .map_err(aws("ListObjectsV2 (input)"))?;
                for object in page.contents() {
                    let (Some(key), size) = (object.key(), object.size().unwrap_or(0)) else {
                        continue;
                    };
                    if key.ends_with('/') && size == 0 {
                        continue;
                    }
                    inputs.push(Input {
                        source: Source::S3 {
                            bucket: bucket.clone(),
                            key: key.to_owned(),
                        },
                        name: format!("s3://{bucket}/{key}"),
                        identity: format!(
                            "s3://{bucket}/{key}#{}#{size}",
                            object.e_tag().unwrap_or_default().trim_matches('"')
                        ),
                        size: u64::try_from(size).unwrap_or(0),
                    });
                }
                token = page.next_continuation_token().map(str::to_owned);
                if token.is_none() {
                    break;
                }
            }
        } else {
            let (identity, size) = file_hash(spec).map_err(|source| BackfillError::Read {
                path: spec.clone(),
                source,
            })?;
            inputs.push(Input {
                source: Source::Local(spec.clone()),
                name: spec
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| text.into_owned()),
                identity,
                size,
            });
        }
    }
    Ok(inputs)
}

/// An open input, read chunk by chunk.
pub enum Reader {
    Local(std::fs::File),
    S3(aws_sdk_s3::primitives::ByteStream),
}

/// Why an input could not be read, with no content in the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub reason: &'static str,
    pub detail: String,
}

impl Reader {
    /// Opens `input`.
    ///
    /// # Errors
    /// The file cannot be opened, or S3 refuses the object (missing, archived, forbidden).
    pub async fn open(s3: &aws_sdk_s3::Client, input: &Input) -> Result<Reader, Unreadable> {
        match &input.source {
            Source::Local(path) => std::fs::File::open(path).map(Reader::Local).map_err(|e| Unreadable {
                reason: "unreadable_file",
                detail: e.kind().to_string(),
            }),
            Source::S3 { bucket, key } => {
                let got = s3.get_object().bucket(bucket).key(key).send().await;
                match got {
                    Ok(out) => Ok(Reader::S3(out.body)),
                    Err(e) => {
                        let detail = e
                            .as_service_error()
                            .and_then(|s| aws_sdk_s3::error::ProvideErrorMetadata::code(s).map(str::to_owned))
                            .unwrap_or_else(|| format!("{e}"));
                        Err(Unreadable {
                            reason: "unreadable_object",
                            detail,
                        })
                    }
                }
            }
        }
    }

    /// The next chunk, `None` at the end.
    ///
    /// # Errors
    /// The read failing part way.
    pub async fn next(&mut self, buf: &mut Vec<u8>) -> Result<Option<()>, Unreadable> {
        buf.clear();
        match self {
            Reader::Local(file) => {
                buf.resize(CHUNK, 0);
                let n = file.read(buf).map_err(|e| Unreadable {
                    reason: "read_failed",
                    detail: e.kind().to_string(),
                })?;
                buf.truncate(n);
                Ok((n > 0).then_some(()))
            }
            Reader::S3(body) => match body.try_next().await {
                Ok(Some(bytes)) => {
                    buf.extend_from_slice(&bytes);
                    Ok(Some(()))
                }
                Ok(None) => Ok(None),
                Err(e) => Err(Unreadable {
                    reason: "read_failed",
                    detail: e.to_string(),
                }),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_uris_split_into_bucket_and_prefix() {
        assert_eq!(
            parse_s3_uri("s3://lake/raw/ctr/"),
            Some(("lake".into(), "raw/ctr/".into()))
        );
        assert_eq!(parse_s3_uri("s3://lake"), Some(("lake".into(), String::new())));
        assert_eq!(parse_s3_uri("s3:///x"), None);
        assert_eq!(parse_s3_uri("exports/a.jsonl"), None);
    }
}
