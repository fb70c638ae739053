//! `lakectl backfill`: historical contact records into the lake, through the same transform and
//! catalog code as the functions.
//!
//! Input files hold JSON lines, a JSON array, or gzip of either. Each file's records go through
//! `firehose_transform::transform` in Firehose-sized batches; `Ok` rows are written to their
//! partitions under deterministic keys (a rerun overwrites, never duplicates); the partitions are
//! registered by `s3_cataloger::Cataloger` from the same S3 notifications the function receives.
//! Bad records go to a local errors file with their reason. A manifest object in the lake records
//! each finished file by content hash, so a rerun skips it. The target is whatever the standard
//! AWS environment names: a real account, or the emulator through `AWS_ENDPOINT_URL`.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::Instant;

use aws_sdk_s3::primitives::ByteStream;
use connect_lake::config::LakeFormat;
use connect_lake::schema::Storage;
use firehose_transform::firehose::{FirehoseRecord, FirehoseRequest, RecordResult};
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Records per transformation batch: what a 3 MB Firehose buffer holds of typical contacts.
const BATCH_RECORDS: usize = 500;

#[derive(Debug, Clone)]
pub struct BackfillOptions {
    pub inputs: Vec<PathBuf>,
    pub bucket: String,
    pub database: String,
    /// The format for tables the catalog does not have yet.
    pub format: LakeFormat,
    /// Whether the format was asked for (`--format` or `LAKE_FORMAT`): then a catalog table of
    /// the other format is an error. Otherwise an existing table's SerDe decides.
    pub format_requested: bool,
    pub errors_path: PathBuf,
    pub manifest_key: String,
    pub pii_key: String,
    pub progress: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum BackfillError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write the errors file {path}: {source}")]
    ErrorsFile { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Config(String),
    #[error("AWS call {call} failed: {message}")]
    Aws { call: &'static str, message: String },
    #[error("transform: {0}")]
    Transform(String),
    #[error("cataloging failed for {0} partition(s); the file stays unfinished and a rerun retries it")]
    Catalog(u64),
}

fn aws<E: std::fmt::Debug>(call: &'static str) -> impl FnOnce(E) -> BackfillError {
    move |e| BackfillError::Aws {
        call,
        message: format!("{e:?}").chars().take(400).collect(),
    }
}

/// The manifest: finished input files by the SHA-256 of their bytes.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub files: BTreeMap<String, ManifestEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ManifestEntry {
    pub name: String,
    pub records: u64,
    pub ok: u64,
    pub dropped: u64,
    pub failed: u64,
    pub objects: u64,
}

/// What a backfill did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackfillReport {
    pub files_done: u64,
    pub files_skipped: u64,
    pub records: u64,
    pub ok: u64,
    pub dropped: u64,
    pub failed: u64,
    pub objects: u64,
    pub partitions_created: u64,
    pub partitions_existing: u64,
}

/// Splits a file's bytes (gunzipped when gzip) into records: the elements of a JSON array, or
/// the non-blank lines of JSON lines. A record that is not even JSON is still a record: the
/// transform fails it with its reason.
///
/// # Errors
/// A gzip stream that does not decompress, or an array that does not parse as a whole.
pub fn split_records(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let data = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(bytes)
            .read_to_end(&mut out)
            .map_err(|e| format!("bad gzip: {e}"))?;
        out
    } else {
        bytes.to_vec()
    };
    let first = data.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'[') {
        let items: Vec<Box<serde_json::value::RawValue>> = serde_json::from_slice(&data)
            .map_err(|e| format!("not a JSON array: line {} column {}", e.line(), e.column()))?;
        return Ok(items.into_iter().map(|r| r.get().as_bytes().to_vec()).collect());
    }
    Ok(data
        .split(|b| *b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| l.iter().any(|b| !b.is_ascii_whitespace()))
        .map(<[u8]>::to_vec)
        .collect())
}

pub struct Backfill {
    pub s3: aws_sdk_s3::Client,
    pub glue: aws_sdk_glue::Client,
    pub cataloger: s3_cataloger::Cataloger,
    pub transform: firehose_transform::Config,
    pub options: BackfillOptions,
}

impl Backfill {
    /// # Errors
    /// A PII key that is missing or too short.
    pub fn new(config: &aws_config::SdkConfig, options: BackfillOptions) -> Result<Self, BackfillError> {
        let transform = firehose_transform::Config::from_env(&[("PII_TOKEN_KEY", options.pii_key.as_str())])
            .map_err(|e| BackfillError::Config(e.to_string()))?;
        let cataloger_config = s3_cataloger::Config {
            lake_bucket: options.bucket.clone(),
            database: options.database.clone(),
            format: options.format,
            metrics_namespace: "ConnectLake".to_owned(),
        };
        Ok(Backfill {
            s3: connect_lake::aws::s3_client(config),
            glue: aws_sdk_glue::Client::new(config),
            cataloger: s3_cataloger::Cataloger::new(aws_sdk_glue::Client::new(config), cataloger_config),
            transform,
            options,
        })
    }

    async fn manifest(&self) -> Result<Manifest, BackfillError> {
        let got = self
            .s3
            .get_object()
            .bucket(&self.options.bucket)
            .key(&self.options.manifest_key)
            .send()
            .await;
        match got {
            Ok(out) => {
                let body = out.body.collect().await.map_err(aws("GetObject body"))?.into_bytes();
                serde_json::from_slice(&body).map_err(|e| BackfillError::Config(format!("manifest is not valid: {e}")))
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(Manifest::default()),
            Err(e) => Err(aws("GetObject manifest")(e)),
        }
    }

    async fn save_manifest(&self, manifest: &Manifest) -> Result<(), BackfillError> {
        let body = serde_json::to_vec_pretty(manifest).unwrap_or_default();
        self.s3
            .put_object()
            .bucket(&self.options.bucket)
            .key(&self.options.manifest_key)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(aws("PutObject manifest"))?;
        Ok(())
    }

    /// The format each Firehose table is written in: an existing catalog table's SerDe decides
    /// (Athena cannot read JSON objects in a Parquet table, nor the reverse); a table the catalog
    /// lacks is created in the requested format.
    ///
    /// # Errors
    /// A requested format that contradicts an existing table, or a Glue call that fails.
    pub async fn table_formats(&self) -> Result<BTreeMap<&'static str, LakeFormat>, BackfillError> {
        let mut formats = BTreeMap::new();
        for table in connect_lake::schema::TABLES
            .iter()
            .filter(|t| t.storage == Storage::Delivered)
        {
            let got = self
                .glue
                .get_table()
                .database_name(&self.options.database)
                .name(table.name)
                .send()
                .await;
            let format = match got {
                Ok(out) => {
                    let serde = out
                        .table()
                        .and_then(|t| t.storage_descriptor())
                        .and_then(|sd| sd.serde_info())
                        .and_then(|s| s.serialization_library())
                        .unwrap_or_default();
                    let existing = if serde.to_ascii_lowercase().contains("parquet") {
                        LakeFormat::Parquet
                    } else {
                        LakeFormat::Json
                    };
                    if self.options.format_requested && existing != self.options.format {
                        return Err(BackfillError::Config(format!(
                            "table {} exists in Glue database {} as {existing:?} ({serde}); writing {:?} objects \
                             into it would break every Athena query over those partitions. Nothing was written: \
                             drop --format / LAKE_FORMAT to follow the table, or recreate the table",
                            table.name, self.options.database, self.options.format
                        )));
                    }
                    existing
                }
                Err(e) if e.as_service_error().is_some_and(|s| s.is_entity_not_found_exception()) => {
                    self.options.format
                }
                Err(e) => return Err(aws("GetTable")(e)),
            };
            formats.insert(table.name, format);
        }
        Ok(formats)
    }

    /// Runs the backfill over every input file.
    ///
    /// # Errors
    /// I/O, AWS, or cataloging failures; bad records are not errors (they go to the errors file).
    pub async fn run(&self) -> Result<BackfillReport, BackfillError> {
        let formats = self.table_formats().await?;
        let mut manifest = self.manifest().await?;
        let mut report = BackfillReport::default();
        let errors_path = &self.options.errors_path;
        let mut errors = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(errors_path)
            .map_err(|source| BackfillError::ErrorsFile {
                path: errors_path.clone(),
                source,
            })?;
        for path in &self.options.inputs {
            let bytes = std::fs::read(path).map_err(|source| BackfillError::Read {
                path: path.clone(),
                source,
            })?;
            let hash = format!("{:x}", Sha256::digest(&bytes));
            if manifest.files.contains_key(&hash) {
                report.files_skipped += 1;
                if self.options.progress {
                    eprintln!("skip {} (already in the manifest)", path.display());
                }
                continue;
            }
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let records = match split_records(&bytes) {
                Ok(r) => r,
                Err(reason) => {
                    let line = json!({"file": name, "record": Value::Null, "reason": reason});
                    writeln!(errors, "{line}").map_err(|source| BackfillError::ErrorsFile {
                        path: errors_path.clone(),
                        source,
                    })?;
                    report.failed += 1;
                    continue;
                }
            };
            let entry = self
                .file(&name, &hash, &records, &formats, &mut errors, &mut report)
                .await?;
            manifest.files.insert(hash, entry);
            self.save_manifest(&manifest).await?;
            report.files_done += 1;
        }
        Ok(report)
    }

    async fn file(
        &self,
        name: &str,
        hash: &str,
        records: &[Vec<u8>],
        formats: &BTreeMap<&'static str, LakeFormat>,
        errors: &mut std::fs::File,
        report: &mut BackfillReport,
    ) -> Result<ManifestEntry, BackfillError> {
        let errors_path = &self.options.errors_path;
        let pb = if self.options.progress {
            ProgressBar::new(records.len() as u64)
        } else {
            ProgressBar::hidden()
        };
        pb.set_style(
            ProgressStyle::with_template("{prefix:>24} [{bar:30}] {pos}/{len} {per_sec}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        pb.set_prefix(name.to_owned());
        let mut entry = ManifestEntry {
            name: name.to_owned(),
            records: records.len() as u64,
            ok: 0,
            dropped: 0,
            failed: 0,
            objects: 0,
        };
        let started = Instant::now();
        for (batch_no, chunk) in records.chunks(BATCH_RECORDS).enumerate() {
            let base = batch_no * BATCH_RECORDS;
            let request = FirehoseRequest {
                invocation_id: format!("backfill-{}-{batch_no}", &hash[..12]),
                delivery_stream_arn: "backfill".into(),
                region: String::new(),
                source_kinesis_stream_arn: None,
                records: chunk
                    .iter()
                    .enumerate()
                    .map(|(i, r)| FirehoseRecord {
                        record_id: (base + i + 1).to_string(),
                        approximate_arrival_timestamp: None,
                        data: Some(base64_simd::STANDARD.encode_to_string(r)),
                    })
                    .collect(),
            };
            let (response, stats) = firehose_transform::transform(request, &self.transform)
                .map_err(|e| BackfillError::Transform(e.to_string()))?;
            for (index, reason) in &stats.failures {
                let raw = String::from_utf8_lossy(&chunk[*index]);
                let line = json!({"file": name, "record": base + index + 1, "reason": reason, "data": raw});
                writeln!(errors, "{line}").map_err(|source| BackfillError::ErrorsFile {
                    path: errors_path.clone(),
                    source,
                })?;
            }
            let mut partitions: BTreeMap<String, Vec<u8>> = BTreeMap::new();
            for r in &response.records {
                if r.result != RecordResult::Ok {
                    continue;
                }
                let Some(keys) = r.metadata.as_ref().map(|m| &m.partition_keys) else {
                    continue;
                };
                let get = |k: &str| keys.get(k).map(String::as_str).unwrap_or_default();
                let prefix = format!(
                    "{}/year={}/month={}/day={}/hour={}/",
                    get("table"),
                    get("year"),
                    get("month"),
                    get("day"),
                    get("hour")
                );
                let row = base64_simd::STANDARD
                    .decode_to_vec(&r.data)
                    .map_err(|e| BackfillError::Transform(e.to_string()))?;
                partitions.entry(prefix).or_default().extend(row);
            }
            let mut keys = Vec::new();
            let mut conversion_failed = 0u64;
            for (prefix, rows) in partitions {
                let table_name = prefix.split('/').next().unwrap_or_default();
                let table = connect_lake::schema::table(table_name);
                let parquet = table.filter(|t| formats.get(t.name) == Some(&LakeFormat::Parquet));
                // Deterministic: the same file and batch always write the same key.
                let stem = format!("{prefix}backfill-{}-{batch_no:05}", &hash[..16]);
                let (key, rows) = match parquet {
                    None => (format!("{stem}.json"), rows),
                    Some(table) => {
                        // As Firehose's record format conversion: rows that do not convert are
                        // recorded with their reason, never silently dropped.
                        let converted = crate::convert::rows_to_parquet(table, &rows)
                            .map_err(|e| BackfillError::Transform(e.to_string()))?;
                        for failed in &converted.failed {
                            let line = json!({"file": name, "record": Value::Null, "reason": failed.reason,
                                "data": String::from_utf8_lossy(&failed.row)});
                            writeln!(errors, "{line}").map_err(|source| BackfillError::ErrorsFile {
                                path: errors_path.clone(),
                                source,
                            })?;
                        }
                        conversion_failed += converted.failed.len() as u64;
                        let Some(bytes) = converted.parquet else {
                            continue;
                        };
                        (format!("{stem}.parquet"), bytes)
                    }
                };
                self.s3
                    .put_object()
                    .bucket(&self.options.bucket)
                    .key(&key)
                    .body(ByteStream::from(rows))
                    .send()
                    .await
                    .map_err(aws("PutObject"))?;
                keys.push(key);
            }
            entry.objects += keys.len() as u64;
            let notification = json!({"Records": keys.iter().map(|k| json!({
                "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": self.options.bucket}, "object": {"key": k, "size": 1}},
            })).collect::<Vec<_>>()});
            let (result, catalog) = self.cataloger.process(&notification).await;
            if let Err(e) = result {
                eprintln!("lakectl backfill: cataloging failed: {e}");
                return Err(BackfillError::Catalog(
                    catalog
                        .partitions
                        .saturating_sub(
                            catalog.partitions_created + catalog.partitions_existing + catalog.partitions_cached,
                        )
                        .max(1),
                ));
            }
            report.partitions_created += catalog.partitions_created;
            report.partitions_existing += catalog.partitions_existing;
            // A row the transform accepted but Parquet conversion refused is failed, not Ok.
            entry.ok += stats.ok.saturating_sub(conversion_failed);
            entry.dropped += stats.dropped_total();
            entry.failed += stats.failed_total() + conversion_failed;
            pb.inc(chunk.len() as u64);
        }
        pb.finish();
        if self.options.progress {
            let secs = started.elapsed().as_secs_f64().max(1e-9);
            eprintln!(
                "{name}: {} records, {:.0} records/s",
                entry.records,
                entry.records as f64 / secs
            );
        }
        report.records += entry.records;
        report.ok += entry.ok;
        report.dropped += entry.dropped;
        report.failed += entry.failed;
        report.objects += entry.objects;
        Ok(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_split_from_lines_arrays_and_gzip() {
        assert_eq!(split_records(b"{\"a\":1}\n\n{\"b\":2}\r\nnot json\n").unwrap().len(), 3);
        let arr = split_records(b" [ {\"a\":1}, {\"b\":[1,2]} ] ").unwrap();
        assert_eq!(arr, [b"{\"a\":1}".to_vec(), b"{\"b\":[1,2]}".to_vec()]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"{\"a\":1}\n{\"b\":2}\n").unwrap();
        let gz = gz.finish().unwrap();
        assert_eq!(split_records(&gz).unwrap().len(), 2);
        assert!(split_records(b"[{\"a\":1},").is_err());
        assert!(split_records(&[0x1f, 0x8b, 0, 1, 2]).is_err());
    }
}
