//! `lakectl backfill`: historical contact records into the lake, through the same transform and
//! catalog code as the functions, at any input size.
//!
//! - Inputs are local files or every object under an `s3://` prefix (Firehose's raw backup),
//!   read as streams: gzip or not, JSON lines, arrays or records back to back ([`split`]).
//! - Records go through `firehose_transform::transform` in Firehose-sized batches; `Ok` rows are
//!   grouped by partition across batches and files and written as one object per partition per
//!   rollover ([`partitions`]), Snappy Parquet or JSON lines as the Glue table says.
//! - Partitions are registered by `s3_cataloger::Cataloger` from the same S3 notifications the
//!   function receives.
//! - Bad records and bad inputs go to a local errors file (mode 0600) with their reason,
//!   position and a hash; the raw record only with `keep_raw_errors`.
//! - A manifest object in the lake records finished inputs by identity, so a rerun skips them,
//!   and the run in progress with the objects it has written, so a rerun after a crash finishes
//!   it under the same keys, with no duplicate and no loss. At input boundaries the run also
//!   records a checkpoint (inputs finished, each partition's position, its rows spilled to the
//!   work folder): a rerun on the same machine goes on from there instead of from the start.

pub mod bench;
pub mod input;
pub mod partitions;
pub mod split;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use connect_lake::config::LakeFormat;
use connect_lake::schema::Storage;
use firehose_transform::firehose::{FirehoseRecord, FirehoseRequest, RecordResult};
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::aws_error::{AwsCallError, aws};
use input::{Input, Reader};
use partitions::{PartitionWriter, Position, Rows, Sealed, object_key};

/// Records per transformation batch: what a 3 MB Firehose buffer holds of typical contacts.
const BATCH_RECORDS: usize = 500;

/// Firehose's largest buffer, and the default rollover size of an object (in row bytes).
pub const DEFAULT_TARGET_BYTES: u64 = 128 * 1024 * 1024;

/// Row bytes kept in memory, over all partitions, before they are spilled to the work folder.
const MEMORY_BUDGET: usize = 32 * 1024 * 1024;

/// Objects written (converted and uploaded) at the same time.
const UPLOADS_IN_FLIGHT: usize = 4;

/// Keys sent to the cataloger at a time.
const CATALOG_BATCH: usize = 500;

/// How often the run's progress (the keys written) is saved to the manifest.
/// How often a run records the objects it has written in the manifest, by default.
pub const DEFAULT_PROGRESS_EVERY: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct BackfillOptions {
    /// Local files, and `s3://bucket/prefix` URIs (every object under the prefix).
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
    /// Rollover size of an object, in bytes of curated rows.
    pub target_bytes: u64,
    /// After the run, delete the objects of every partition it wrote that are not its own.
    /// Inputs already in the manifest are loaded again.
    pub replace: bool,
    /// Keep each failed record's raw bytes in the errors file (it may hold PII).
    pub keep_raw_errors: bool,
    /// Where rows wait for their object when memory is full [default: the system's temp dir].
    pub work_dir: Option<PathBuf>,
    /// How often the manifest records the objects written so far, for a resume after a crash
    /// ([`DEFAULT_PROGRESS_EVERY`]).
    pub progress_every: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum BackfillError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write the errors file {path}: {source}")]
    ErrorsFile { path: PathBuf, source: std::io::Error },
    #[error("cannot use the work folder {path}: {source}")]
    WorkDir { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Aws(#[from] AwsCallError),
    #[error("transform: {0}")]
    Transform(String),
    #[error("cataloging failed for {0} partition(s); the run stays unfinished and a rerun finishes it")]
    Catalog(u64),
}

/// The manifest: finished inputs by identity, and the run in progress.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub files: BTreeMap<String, ManifestEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<RunProgress>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ManifestEntry {
    pub name: String,
    pub records: u64,
    pub ok: u64,
    pub dropped: u64,
    pub failed: u64,
    /// Objects written by the run that loaded this input (shared by its inputs).
    pub objects: u64,
    #[serde(default)]
    pub run: String,
}

/// A run that has started and not finished: its id, inputs and the objects it has written.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct RunProgress {
    pub id: String,
    pub inputs: Vec<String>,
    pub written: BTreeSet<String>,
    /// It had begun deleting other objects (`--replace`): its own objects must stay.
    #[serde(default)]
    pub replacing: bool,
    /// Where it stood at its last checkpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<Checkpoint>,
}

/// Where a run stood at the end of an input: every object sealed before was written and
/// cataloged, and the rows of the objects being filled were in the work folder's spill files,
/// at the lengths `partitions` gives.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Checkpoint {
    /// The run's first inputs, finished, in order.
    pub done: Vec<DoneInput>,
    /// Problems with inputs as a whole, in those inputs.
    pub input_errors: u64,
    pub partitions: BTreeMap<String, Position>,
}

/// An input a run has finished reading, with its counts.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct DoneInput {
    pub identity: String,
    pub name: String,
    pub records: u64,
    pub ok: u64,
    pub dropped: u64,
    pub failed: u64,
    /// It could not be read at all (not marked done in the manifest).
    pub unreadable: bool,
}

/// What a backfill did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackfillReport {
    pub files_done: u64,
    pub files_skipped: u64,
    /// Inputs that could not be read at all (not recorded as done: a rerun retries them).
    pub files_failed: u64,
    pub records: u64,
    pub ok: u64,
    pub dropped: u64,
    pub failed: u64,
    /// Problems with an input as a whole (truncated gzip, an unreadable object, ...).
    pub input_errors: u64,
    pub objects: u64,
    /// Objects already written by an interrupted attempt of the same run.
    pub objects_resumed: u64,
    /// Inputs an interrupted attempt had finished before its last checkpoint: not read again.
    pub inputs_resumed: u64,
    /// Other objects deleted from the run's partitions (`--replace`).
    pub objects_replaced: u64,
    pub partitions: u64,
    pub partitions_created: u64,
    pub partitions_existing: u64,
    pub run: String,
    /// The process's peak resident memory at the end of the run, in KiB.
    pub peak_rss_kib: u64,
}

impl BackfillReport {
    /// The one-line summary `lakectl backfill` prints.
    pub fn summary(&self, errors: &std::path::Path) -> String {
        format!(
            "backfill: {} files loaded ({} by an interrupted attempt), {} skipped (in the manifest), {} unreadable; \
             {} records: {} Ok, {} Dropped, {} failed, {} input errors (see {}); {} objects in {} partitions \
             ({} resumed, {} replaced); {} partitions registered, {} already there; peak memory {:.1} MB",
            self.files_done,
            self.inputs_resumed,
            self.files_skipped,
            self.files_failed,
            self.records,
            self.ok,
            self.dropped,
            self.failed,
            self.input_errors,
            errors.display(),
            self.objects,
            self.partitions,
            self.objects_resumed,
            self.objects_replaced,
            self.partitions_created,
            self.partitions_existing,
            self.peak_rss_kib as f64 / 1024.0
        )
    }
}

/// The errors file: one JSON line per bad record or bad input, created with mode 0600.
struct ErrorsFile {
    file: std::fs::File,
    path: PathBuf,
    keep_raw: bool,
}

impl ErrorsFile {
    fn open(path: &std::path::Path, keep_raw: bool) -> Result<Self, BackfillError> {
        let err = |source| BackfillError::ErrorsFile {
            path: path.to_owned(),
            source,
        };
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(path).map_err(err)?;
        // An existing file keeps its mode on open: tighten it too.
        #[cfg(unix)]
        file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .map_err(err)?;
        Ok(ErrorsFile {
            file,
            path: path.to_owned(),
            keep_raw,
        })
    }

    fn write(&mut self, mut line: Value, raw: Option<&[u8]>) -> Result<(), BackfillError> {
        if let (Some(raw), Some(map)) = (raw, line.as_object_mut()) {
            map.insert("sha256".into(), Value::String(format!("{:x}", Sha256::digest(raw))));
            if self.keep_raw {
                map.insert("data".into(), Value::String(String::from_utf8_lossy(raw).into_owned()));
            }
        }
        writeln!(self.file, "{line}").map_err(|source| BackfillError::ErrorsFile {
            path: self.path.clone(),
            source,
        })
    }
}

/// Parses `128M`, `64K`, `1G` or a plain number of bytes.
///
/// # Errors
/// Anything else.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let (digits, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => t.split_at(i),
        None => (t, ""),
    };
    let n: u64 = digits.parse().map_err(|_| format!("not a size: {text}"))?;
    let scale: u64 = match unit.to_ascii_uppercase().trim_end_matches(['B', 'I']) {
        "" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        _ => return Err(format!("not a size: {text} (use K, M or G)")),
    };
    match n.checked_mul(scale) {
        Some(0) | None => Err(format!("not a usable size: {text}")),
        Some(v) => Ok(v),
    }
}

/// The outcome of writing one sealed object.
struct Written {
    key: String,
    prefix: String,
    conversion_failed: Vec<crate::convert::FailedRow>,
    table: &'static str,
}

/// Builds a sealed object's body (Parquet conversion where the table is Parquet) and uploads
/// it, unless an interrupted attempt of this run already did.
async fn write_object(
    s3: aws_sdk_s3::Client,
    bucket: String,
    sealed: Sealed,
    already: bool,
) -> Result<Written, BackfillError> {
    let mut written = Written {
        key: sealed.key.clone(),
        prefix: sealed.prefix.clone(),
        conversion_failed: Vec::new(),
        table: sealed.table.name,
    };
    let spill = match &sealed.rows {
        Rows::File(p) => Some(p.clone()),
        Rows::Memory(_) => None,
    };
    if !already {
        let body = match (sealed.format, sealed.rows) {
            (LakeFormat::Json, Rows::Memory(rows)) => ByteStream::from(rows),
            (LakeFormat::Json, Rows::File(path)) => ByteStream::from_path(&path)
                .await
                .map_err(|e| BackfillError::Transform(format!("spill file: {e}")))?,
            (LakeFormat::Parquet, rows) => {
                let table = sealed.table;
                let converted = tokio::task::spawn_blocking(move || match rows {
                    Rows::Memory(rows) => crate::convert::rows_to_parquet_from(table, &mut rows.as_slice()),
                    Rows::File(path) => {
                        let file = std::fs::File::open(&path)?;
                        crate::convert::rows_to_parquet_from(table, &mut std::io::BufReader::new(file))
                    }
                })
                .await
                .map_err(|e| BackfillError::Transform(e.to_string()))?
                .map_err(|e| BackfillError::Transform(e.to_string()))?;
                written.conversion_failed = converted.failed;
                match converted.parquet {
                    Some(bytes) => ByteStream::from(bytes),
                    None => {
                        // Not one row converted: no object, and nothing to catalog.
                        written.key.clear();
                        if let Some(p) = spill {
                            let _ = std::fs::remove_file(p);
                        }
                        return Ok(written);
                    }
                }
            }
        };
        s3.put_object()
            .bucket(&bucket)
            .key(&sealed.key)
            .body(body)
            .send()
            .await
            .map_err(aws("PutObject"))?;
    }
    if let Some(p) = spill {
        let _ = std::fs::remove_file(p);
    }
    Ok(written)
}

/// Counters for one input.
#[derive(Debug, Default)]
struct InputCounts {
    records: u64,
    ok: u64,
    dropped: u64,
    failed: u64,
    unreadable: bool,
}

pub struct Backfill {
    pub s3: aws_sdk_s3::Client,
    pub glue: aws_sdk_glue::Client,
    pub cataloger: s3_cataloger::Cataloger,
    pub transform: firehose_transform::Config,
    pub options: BackfillOptions,
    /// The endpoint (when overridden) and the manifest's place: with the run id, it names the
    /// work folder, so that runs of the same inputs into two lakes never share one.
    lake: String,
}

/// The state of one run while it streams.
struct RunState {
    id: String,
    writer: PartitionWriter,
    formats: BTreeMap<&'static str, LakeFormat>,
    errors: ErrorsFile,
    manifest: Manifest,
    resumed: HashSet<String>,
    uploads: tokio::task::JoinSet<Result<Written, BackfillError>>,
    to_catalog: Vec<String>,
    last_progress: Instant,
    last_checkpoint: Instant,
    dirty: bool,
    /// Inputs read so far, in order (from the checkpoint resumed from, then this attempt's).
    done: Vec<DoneInput>,
    report: BackfillReport,
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
        let lake = format!(
            "{}\n{}\n{}",
            config.endpoint_url().unwrap_or_default(),
            options.bucket,
            options.manifest_key
        );
        Ok(Backfill {
            lake: format!("{:x}", Sha256::digest(lake.as_bytes()))
                .chars()
                .take(12)
                .collect(),
            s3: connect_lake::aws::s3_client(config),
            glue: aws_sdk_glue::Client::new(config),
            cataloger: s3_cataloger::Cataloger::new(aws_sdk_glue::Client::new(config), cataloger_config),
            transform,
            options,
        })
    }

    /// The manifest as stored (empty when there is none).
    ///
    /// # Errors
    /// S3 failing, or a manifest that is not valid.
    pub async fn manifest(&self) -> Result<Manifest, BackfillError> {
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
            Err(e) => Err(aws("GetObject manifest")(e).into()),
        }
    }

    async fn save_manifest(&self, manifest: &Manifest) -> Result<(), BackfillError> {
        let body = serde_json::to_vec(manifest).unwrap_or_default();
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
            let existing = crate::lake::table_format(&self.glue, &self.options.database, table.name).await?;
            let format = match existing {
                Some((existing, serde)) => {
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
                None => self.options.format,
            };
            formats.insert(table.name, format);
        }
        Ok(formats)
    }

    /// The run's id: the same inputs, in the same order, with the same options that shape the
    /// objects, give the same id, hence the same keys.
    fn run_id(&self, todo: &[Input], formats: &BTreeMap<&'static str, LakeFormat>) -> String {
        let mut h = Sha256::new();
        h.update(b"connect-lake backfill run v2\n");
        h.update(format!("target={}\n", self.options.target_bytes));
        for (table, format) in formats {
            h.update(format!("{table}={format:?}\n"));
        }
        for input in todo {
            h.update(input.identity.as_bytes());
            h.update(b"\n");
        }
        let hex = format!("{:x}", h.finalize());
        hex.get(..16).unwrap_or(&hex).to_owned()
    }

    /// Deletes keys in batches of 1,000 (S3's limit per call).
    async fn delete_keys(&self, keys: &[String]) -> Result<(), BackfillError> {
        use aws_sdk_s3::types::{Delete, ObjectIdentifier};
        for chunk in keys.chunks(1000) {
            let objects = chunk
                .iter()
                .map(|k| ObjectIdentifier::builder().key(k).build())
                .collect::<Result<Vec<_>, _>>()
                .map_err(aws("DeleteObjects"))?;
            let delete = Delete::builder()
                .set_objects(Some(objects))
                .quiet(true)
                .build()
                .map_err(aws("DeleteObjects"))?;
            self.s3
                .delete_objects()
                .bucket(&self.options.bucket)
                .delete(delete)
                .send()
                .await
                .map_err(aws("DeleteObjects"))?;
        }
        Ok(())
    }

    /// Runs the backfill over every input.
    ///
    /// # Errors
    /// I/O, AWS, or cataloging failures; bad records and bad inputs are not errors (they go to
    /// the errors file).
    pub async fn run(&self) -> Result<BackfillReport, BackfillError> {
        let formats = self.table_formats().await?;
        let mut manifest = self.manifest().await?;
        let errors = ErrorsFile::open(&self.options.errors_path, self.options.keep_raw_errors)?;
        let inputs = input::resolve(&self.s3, &self.options.inputs).await?;
        let mut report = BackfillReport::default();
        let mut seen = HashSet::new();
        let mut todo = Vec::new();
        for input in inputs {
            let done = manifest.files.contains_key(&input.identity) && !self.options.replace;
            if done || !seen.insert(input.identity.clone()) {
                report.files_skipped += 1;
                if self.options.progress {
                    eprintln!("skip {} (already in the manifest)", input.name);
                }
                continue;
            }
            todo.push(input);
        }
        if todo.is_empty() {
            return Ok(report);
        }
        let id = self.run_id(&todo, &formats);
        report.run.clone_from(&id);
        let mut resumed = HashSet::new();
        let mut checkpoint = None;
        match manifest.run.take() {
            Some(previous) if previous.id == id => {
                resumed = previous.written.iter().cloned().collect();
                checkpoint = previous.checkpoint;
            }
            Some(previous) if previous.replacing => {
                return Err(BackfillError::Config(format!(
                    "an unfinished run ({}) over {} input(s) had begun replacing objects: rerun it with the same \
                     inputs and options to finish it before starting another",
                    previous.id,
                    previous.inputs.len()
                )));
            }
            Some(previous) => {
                // An interrupted run over other inputs: its objects hold rows no manifest entry
                // accounts for, so they go before this run starts (its inputs stay to do).
                let keys: Vec<String> = previous.written.into_iter().collect();
                if self.options.progress {
                    eprintln!(
                        "removing {} object(s) of the unfinished run {} (its inputs are not marked done)",
                        keys.len(),
                        previous.id
                    );
                }
                self.delete_keys(&keys).await?;
            }
            None => {}
        }
        // Named by the run and the lake, so that a rerun of an interrupted run finds its rows.
        let work_dir = self
            .options
            .work_dir
            .clone()
            .unwrap_or_else(std::env::temp_dir)
            .join(format!("connect-lake-backfill-{id}-{}", self.lake));
        let restored = checkpoint.and_then(|c| self.restore(&id, &work_dir, &formats, &resumed, c));
        let (writer, checkpoint) = match restored {
            Some((writer, checkpoint)) => (writer, Some(checkpoint)),
            None => {
                let _ = std::fs::remove_dir_all(&work_dir);
                std::fs::create_dir_all(&work_dir).map_err(|source| BackfillError::WorkDir {
                    path: work_dir.clone(),
                    source,
                })?;
                let writer = PartitionWriter::new(&id, self.options.target_bytes, MEMORY_BUDGET, &work_dir);
                (writer, None)
            }
        };
        manifest.run = Some(RunProgress {
            id: id.clone(),
            inputs: todo.iter().map(|i| i.name.clone()).collect(),
            written: resumed.iter().cloned().collect(),
            replacing: false,
            checkpoint: checkpoint.clone(),
        });
        self.save_manifest(&manifest).await?;
        let mut done = Vec::new();
        if let Some(c) = checkpoint {
            report.inputs_resumed = c.done.len() as u64;
            report.input_errors = c.input_errors;
            for input in &c.done {
                if input.unreadable {
                    report.files_failed += 1;
                } else {
                    report.files_done += 1;
                }
                report.records += input.records;
                report.ok += input.ok;
                report.dropped += input.dropped;
                report.failed += input.failed;
            }
            done = c.done;
        }
        let mut state = RunState {
            id: id.clone(),
            writer,
            formats,
            errors,
            manifest,
            resumed,
            uploads: tokio::task::JoinSet::new(),
            to_catalog: Vec::new(),
            last_progress: Instant::now(),
            last_checkpoint: Instant::now(),
            dirty: false,
            done,
            report,
        };
        // On failure the work folder stays, with the checkpoint's rows, for the rerun.
        self.run_inputs(&mut state, &todo).await?;
        let _ = std::fs::remove_dir_all(&work_dir);
        state.report.peak_rss_kib = lambda_harness::peak_rss_kib(std::process::id()).unwrap_or(0);
        Ok(state.report)
    }

    /// A writer put back where an interrupted attempt's checkpoint left it, if the work folder
    /// still holds that checkpoint's rows (the rerun is on the same machine, with the same
    /// `--work-dir`); otherwise `None`, and the run starts from its first input.
    fn restore(
        &self,
        id: &str,
        work_dir: &std::path::Path,
        formats: &BTreeMap<&'static str, LakeFormat>,
        written: &HashSet<String>,
        checkpoint: Checkpoint,
    ) -> Option<(PartitionWriter, Checkpoint)> {
        let mut writer = PartitionWriter::new(id, self.options.target_bytes, MEMORY_BUDGET, work_dir);
        let restored = checkpoint.partitions.iter().try_for_each(|(prefix, position)| {
            let table = prefix
                .split('/')
                .next()
                .and_then(connect_lake::schema::table)
                .ok_or_else(|| std::io::Error::other(format!("no table for {prefix}")))?;
            let format = formats.get(table.name).copied().unwrap_or(self.options.format);
            let done = written.contains(&object_key(id, prefix, position.seq, format));
            writer.restore(prefix, table, format, position, done)
        });
        match restored.and_then(|()| writer.remove_other_files()) {
            Ok(()) => {
                if self.options.progress {
                    eprintln!(
                        "resuming run {id} after its first {} input(s), finished by an interrupted attempt",
                        checkpoint.done.len()
                    );
                }
                Some((writer, checkpoint))
            }
            Err(e) => {
                if self.options.progress {
                    eprintln!("run {id} restarts from its first input: its checkpoint's rows are not here ({e})");
                }
                None
            }
        }
    }

    /// Records a checkpoint at the end of an input: every sealed object written and cataloged,
    /// every buffered row spilled, then where each partition stands.
    async fn checkpoint(&self, state: &mut RunState) -> Result<(), BackfillError> {
        self.drain(state, 0).await?;
        self.catalog(state, true).await?;
        state.writer.spill().map_err(|source| BackfillError::WorkDir {
            path: PathBuf::from("spill"),
            source,
        })?;
        let checkpoint = Checkpoint {
            done: state.done.clone(),
            input_errors: state.report.input_errors,
            partitions: state.writer.positions(),
        };
        if let Some(run) = state.manifest.run.as_mut() {
            run.checkpoint = Some(checkpoint);
        }
        self.save_manifest(&state.manifest).await?;
        state.dirty = false;
        state.last_progress = Instant::now();
        state.last_checkpoint = Instant::now();
        Ok(())
    }

    async fn run_inputs(&self, state: &mut RunState, todo: &[Input]) -> Result<(), BackfillError> {
        let pb = if self.options.progress {
            ProgressBar::new(todo.iter().map(|i| i.size).sum())
        } else {
            ProgressBar::hidden()
        };
        pb.set_style(
            ProgressStyle::with_template("{prefix:>24} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        let started = Instant::now();
        let skip = state.done.len();
        pb.inc(todo.iter().take(skip).map(|i| i.size).sum());
        for (n, input) in todo.iter().enumerate().skip(skip) {
            pb.set_prefix(
                input
                    .name
                    .chars()
                    .rev()
                    .take(24)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect::<String>(),
            );
            let counts = self.input(state, input, &pb).await?;
            pb.set_message(format!("{} records", state.report.records));
            if counts.unreadable {
                state.report.files_failed += 1;
            } else {
                state.report.files_done += 1;
            }
            state.done.push(DoneInput {
                identity: input.identity.clone(),
                name: input.name.clone(),
                records: counts.records,
                ok: counts.ok,
                dropped: counts.dropped,
                failed: counts.failed,
                unreadable: counts.unreadable,
            });
            if n + 1 < todo.len() && state.last_checkpoint.elapsed() >= self.options.progress_every {
                self.checkpoint(state).await?;
            }
        }
        pb.finish_and_clear();
        let sealed = state.writer.finish().map_err(|source| BackfillError::WorkDir {
            path: PathBuf::from("spill"),
            source,
        })?;
        for s in sealed {
            self.upload(state, s).await?;
        }
        self.drain(state, 0).await?;
        self.catalog(state, true).await?;
        state.report.partitions = state.writer.prefixes().count() as u64;
        if self.options.replace {
            self.replace(state).await?;
        }
        // Objects sealed before a checkpoint resumed from were not sealed again: count the run's.
        if let Some(run) = &state.manifest.run {
            state.report.objects = run.written.len() as u64;
        }
        state.report.objects_resumed = state.resumed.len() as u64;
        let objects = state.report.objects;
        for input in state.done.iter().filter(|i| !i.unreadable) {
            state.manifest.files.insert(
                input.identity.clone(),
                ManifestEntry {
                    name: input.name.clone(),
                    records: input.records,
                    ok: input.ok,
                    dropped: input.dropped,
                    failed: input.failed,
                    objects,
                    run: state.id.clone(),
                },
            );
        }
        state.manifest.run = None;
        self.save_manifest(&state.manifest).await?;
        if self.options.progress {
            let secs = started.elapsed().as_secs_f64().max(1e-9);
            eprintln!(
                "{} records in {secs:.1} s ({:.0} records/s); {} objects, memory spilled to disk {} time(s)",
                state.report.records,
                state.report.records as f64 / secs,
                state.report.objects,
                state.writer.spills
            );
        }
        Ok(())
    }

    /// Streams one input through the transform into the partition writer.
    async fn input(&self, state: &mut RunState, input: &Input, pb: &ProgressBar) -> Result<InputCounts, BackfillError> {
        let mut counts = InputCounts::default();
        let mut reader = match Reader::open(&self.s3, input).await {
            Ok(r) => r,
            Err(e) => {
                state.report.input_errors += 1;
                counts.unreadable = true;
                let line = json!({"input": input.name, "record": Value::Null, "offset": 0,
                    "reason": e.reason, "detail": e.detail});
                state.errors.write(line, None)?;
                return Ok(counts);
            }
        };
        let mut decoder = split::Decoder::new();
        let mut splitter = split::Splitter::new();
        let mut batch: Vec<split::Record> = Vec::with_capacity(BATCH_RECORDS);
        let mut next_index: u64 = 0;
        let mut chunk = Vec::new();
        let mut consumed_before = 0;
        loop {
            let read = reader.next(&mut chunk).await;
            let (decoded, end) = match read {
                Ok(Some(())) => (decoder.push(&chunk, &mut |b| splitter.push(b)), false),
                Ok(None) => (decoder.finish(&mut |b| splitter.push(b)), true),
                Err(e) => {
                    let line = json!({"input": input.name, "record": Value::Null, "offset": splitter.position(),
                        "reason": e.reason, "detail": e.detail});
                    state.errors.write(line, None)?;
                    state.report.input_errors += 1;
                    (decoder.finish(&mut |b| splitter.push(b)).or(Ok(())), true)
                }
            };
            pb.inc(decoder.consumed - consumed_before);
            consumed_before = decoder.consumed;
            let stop = end || decoded.is_err();
            if let Err(reason) = decoded {
                let line = json!({"input": input.name, "record": Value::Null, "offset": splitter.position(),
                    "compressed_offset": decoder.consumed, "reason": reason,
                    "records_before": next_index + (batch.len() + splitter.records.len()) as u64});
                state.errors.write(line, None)?;
                state.report.input_errors += 1;
            }
            if stop {
                splitter.finish();
            }
            for record in splitter.records.drain(..) {
                batch.push(record);
                if batch.len() == BATCH_RECORDS {
                    self.batch(state, input, &mut batch, &mut next_index, &mut counts)
                        .await?;
                }
            }
            for issue in splitter.issues.drain(..) {
                let line = json!({"input": input.name, "record": Value::Null, "offset": issue.offset,
                    "reason": issue.reason});
                state.errors.write(line, None)?;
                state.report.input_errors += 1;
            }
            if stop {
                break;
            }
        }
        if !batch.is_empty() {
            self.batch(state, input, &mut batch, &mut next_index, &mut counts)
                .await?;
        }
        state.report.records += counts.records;
        state.report.ok += counts.ok;
        state.report.dropped += counts.dropped;
        state.report.failed += counts.failed;
        Ok(counts)
    }

    /// One Firehose-sized batch through the transform; its rows into their partitions.
    async fn batch(
        &self,
        state: &mut RunState,
        input: &Input,
        batch: &mut Vec<split::Record>,
        next_index: &mut u64,
        counts: &mut InputCounts,
    ) -> Result<(), BackfillError> {
        let base = *next_index;
        *next_index += batch.len() as u64;
        counts.records += batch.len() as u64;
        let mut records = Vec::with_capacity(batch.len());
        let mut in_request = Vec::with_capacity(batch.len());
        for (i, record) in batch.iter().enumerate() {
            let number = base + i as u64 + 1;
            if record.too_large {
                let line = json!({"input": input.name, "record": number, "offset": record.offset,
                    "reason": "record_too_large"});
                state.errors.write(line, Some(&record.bytes))?;
                counts.failed += 1;
                continue;
            }
            in_request.push(i);
            records.push(FirehoseRecord {
                record_id: number.to_string(),
                approximate_arrival_timestamp: None,
                data: Some(base64_simd::STANDARD.encode_to_string(&record.bytes)),
            });
        }
        let request = FirehoseRequest {
            invocation_id: format!("backfill-{}-{base}", state.id),
            delivery_stream_arn: "backfill".into(),
            region: String::new(),
            source_kinesis_stream_arn: None,
            records,
        };
        let (result, stats) = firehose_transform::transform(request, &self.transform);
        let response = result.map_err(|e| BackfillError::Transform(e.to_string()))?;
        for (index, reason) in &stats.failures {
            let Some(record) = in_request.get(*index).and_then(|i| batch.get(*i)) else {
                continue;
            };
            let number = base + in_request.get(*index).copied().unwrap_or(0) as u64 + 1;
            let line = json!({"input": input.name, "record": number, "offset": record.offset, "reason": reason});
            state.errors.write(line, Some(&record.bytes))?;
        }
        counts.ok += stats.ok;
        counts.dropped += stats.dropped_total();
        counts.failed += stats.failed_total();
        batch.clear();
        for r in &response.records {
            if r.result != RecordResult::Ok {
                continue;
            }
            let Some(keys) = r.metadata.as_ref().map(|m| &m.partition_keys) else {
                continue;
            };
            let get = |k: &str| keys.get(k).map(String::as_str).unwrap_or_default();
            let Some(table) = connect_lake::schema::table(get("table")) else {
                continue;
            };
            let prefix = format!(
                "{}/year={}/month={}/day={}/hour={}/",
                table.name,
                get("year"),
                get("month"),
                get("day"),
                get("hour")
            );
            let format = state.formats.get(table.name).copied().unwrap_or(self.options.format);
            let row = base64_simd::STANDARD
                .decode_to_vec(&r.data)
                .map_err(|e| BackfillError::Transform(e.to_string()))?;
            let sealed = state
                .writer
                .add(&prefix, table, format, &row)
                .map_err(|source| BackfillError::WorkDir {
                    path: PathBuf::from("spill"),
                    source,
                })?;
            if let Some(sealed) = sealed {
                self.upload(state, sealed).await?;
            }
        }
        Ok(())
    }

    /// Starts writing a sealed object, keeping at most [`UPLOADS_IN_FLIGHT`] at a time.
    async fn upload(&self, state: &mut RunState, sealed: Sealed) -> Result<(), BackfillError> {
        self.drain(state, UPLOADS_IN_FLIGHT - 1).await?;
        let already = state.resumed.contains(&sealed.key);
        state.uploads.spawn(write_object(
            self.s3.clone(),
            self.options.bucket.clone(),
            sealed,
            already,
        ));
        Ok(())
    }

    /// Waits until at most `keep` uploads are in flight, recording each finished one.
    async fn drain(&self, state: &mut RunState, keep: usize) -> Result<(), BackfillError> {
        while state.uploads.len() > keep {
            let Some(joined) = state.uploads.join_next().await else {
                break;
            };
            let written = joined.map_err(|e| BackfillError::Transform(e.to_string()))??;
            for failed in &written.conversion_failed {
                let line = json!({"input": Value::Null, "table": written.table, "partition": written.prefix,
                    "record": Value::Null, "reason": failed.reason});
                state.errors.write(line, Some(&failed.row))?;
            }
            let conversion_failed = written.conversion_failed.len() as u64;
            state.report.ok = state.report.ok.saturating_sub(conversion_failed);
            state.report.failed += conversion_failed;
            if written.key.is_empty() {
                continue;
            }
            state.report.objects += 1;
            if let Some(run) = state.manifest.run.as_mut() {
                state.dirty |= run.written.insert(written.key.clone());
            }
            state.to_catalog.push(written.key);
        }
        self.catalog(state, false).await?;
        if state.dirty && state.last_progress.elapsed() >= self.options.progress_every {
            self.save_manifest(&state.manifest).await?;
            state.dirty = false;
            state.last_progress = Instant::now();
        }
        Ok(())
    }

    /// Registers the partitions of written objects, in batches (all of them when `all`).
    async fn catalog(&self, state: &mut RunState, all: bool) -> Result<(), BackfillError> {
        if state.to_catalog.is_empty() || (!all && state.to_catalog.len() < CATALOG_BATCH) {
            return Ok(());
        }
        let keys = std::mem::take(&mut state.to_catalog);
        let notification = json!({"Records": keys.iter().map(|k| json!({
            "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
            "s3": {"bucket": {"name": self.options.bucket}, "object": {"key": k, "size": 1}},
        })).collect::<Vec<_>>()});
        let (result, catalog) = self.cataloger.process(&notification).await;
        if let Err(e) = result {
            eprintln!("lakectl backfill: cataloging failed: {e}");
            self.save_manifest(&state.manifest).await?;
            return Err(BackfillError::Catalog(
                catalog
                    .partitions
                    .saturating_sub(
                        catalog.partitions_created + catalog.partitions_existing + catalog.partitions_cached,
                    )
                    .max(1),
            ));
        }
        state.report.partitions_created += catalog.partitions_created;
        state.report.partitions_existing += catalog.partitions_existing;
        Ok(())
    }

    /// `--replace`: every object in the run's partitions that the run did not write goes.
    async fn replace(&self, state: &mut RunState) -> Result<(), BackfillError> {
        let Some(run) = state.manifest.run.as_mut() else {
            return Ok(());
        };
        run.replacing = true;
        let own: HashSet<String> = run.written.iter().cloned().collect();
        self.save_manifest(&state.manifest).await?;
        let prefixes: Vec<String> = state.writer.prefixes().map(str::to_owned).collect();
        for prefix in prefixes {
            let mut others = Vec::new();
            let mut token = None;
            loop {
                let page = self
                    .s3
                    .list_objects_v2()
                    .bucket(&self.options.bucket)
                    .prefix(&prefix)
                    .set_continuation_token(token)
                    .send()
                    .await
                    .map_err(aws("ListObjectsV2 (replace)"))?;
                others.extend(
                    page.contents()
                        .iter()
                        .filter_map(|o| o.key())
                        .filter(|k| !own.contains(*k))
                        .map(str::to_owned),
                );
                token = page.next_continuation_token().map(str::to_owned);
                if token.is_none() {
                    break;
                }
            }
            state.report.objects_replaced += others.len() as u64;
            self.delete_keys(&others).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_units_and_refuse_nonsense() {
        assert_eq!(parse_size("128M"), Ok(128 << 20));
        assert_eq!(parse_size("64k"), Ok(64 << 10));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("0").is_err());
        assert!(parse_size("12X").is_err());
        assert!(parse_size("M").is_err());
    }
}
