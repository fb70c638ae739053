//! firehose-transform: Amazon Connect contact records and agent events, as Firehose delivers
//! them, become curated, partitioned, PII-safe rows.
//!
//! For each record: base64-decode, tell a CTR from an agent event, validate, flatten to the shared
//! schema, emit one JSON object followed by `\n`, and set the dynamic-partitioning keys `table`,
//! `year`, `month`, `day`, `hour`. Record-level problems become `ProcessingFailed` results with the
//! original data (Firehose writes those to the error prefix for replay); they are never function
//! errors and never panics. The only function error is a batch whose response cannot fit in
//! Lambda's 6 MB even with every record failed, where Firehose's whole-batch retry and its own
//! error output are the only way not to lose data.
//!
//! Where the logic lives: [`ctr`] holds the lenient Connect record types and the flattening to
//! the `ctr` and `agent_events` rows, [`firehose`] the Firehose wire types, and this file the batch
//! transform (decode, dedupe, the 6 MB size guard) that `main.rs` wires to the runtime.

mod config;
pub mod ctr;
pub mod firehose;
pub mod metric_stream;

use std::collections::HashMap;

use crate::ctr::{AgentEvent, ContactRecord, FlattenError, flatten_agent_event, flatten_ctr};
use crate::firehose::{
    FirehoseRecord, FirehoseRequest, FirehoseResponse, FirehoseResponseRecord, Metadata, RecordResult, frame_len,
    json_string_len,
};
use base64_simd::STANDARD as B64;
use connect_lake::schema::{AGENT_EVENTS, CONNECT_METRICS, CTR, PartitionValues};
use connect_lake::telemetry::{Metrics, Unit};
use connect_lake::time_fmt::from_epoch_millis;
use lambda_runtime::LambdaEvent;
use serde_json::value::RawValue;
use time::OffsetDateTime;

pub use crate::config::Config;

/// Why a record was not `Ok`. The codes are stable: they appear in logs and metric dimensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    MissingData,
    NotBase64,
    Empty,
    NotUtf8,
    NotJson,
    TruncatedJson,
    NotAnObject,
    SchemaMismatch,
    /// A record of the other kind than the delivery stream carries (`EXPECTED_TABLES`).
    WrongStream,
    MissingContactId,
    MissingEventType,
    NoUsableTimestamp,
    ResponseSizeLimit,
    /// Dropped: an older copy of a contact that appears again later in the same batch.
    Superseded,
    /// Dropped: an agent HEART_BEAT event.
    Heartbeat,
    /// A metric-stream record with a line that is not a metric-stream object.
    NotAMetric,
    /// A metric-stream record whose data points fall in more than one UTC hour.
    MixedHours,
}

impl Reason {
    pub const fn code(self) -> &'static str {
        match self {
            Reason::MissingData => "missing_data",
            Reason::NotBase64 => "not_base64",
            Reason::Empty => "empty",
            Reason::NotUtf8 => "not_utf8",
            Reason::NotJson => "not_json",
            Reason::TruncatedJson => "truncated_json",
            Reason::NotAnObject => "not_an_object",
            Reason::SchemaMismatch => "schema_mismatch",
            Reason::WrongStream => "wrong_stream",
            Reason::MissingContactId => "missing_contact_id",
            Reason::MissingEventType => "missing_event_type",
            Reason::NoUsableTimestamp => "no_usable_timestamp",
            Reason::ResponseSizeLimit => "response_size_limit",
            Reason::Superseded => "superseded",
            Reason::Heartbeat => "heartbeat",
            Reason::NotAMetric => "not_a_metric",
            Reason::MixedHours => "mixed_hours",
        }
    }
}

impl From<FlattenError> for Reason {
    fn from(e: FlattenError) -> Self {
        match e {
            FlattenError::MissingContactId => Reason::MissingContactId,
            FlattenError::MissingEventType => Reason::MissingEventType,
            FlattenError::NoTimestamp => Reason::NoUsableTimestamp,
        }
    }
}

/// The function-level error: only when no valid response exists.
#[derive(Debug, thiserror::Error)]
pub enum TransformError {
    #[error(
        "response would be {needed} bytes even with every record failed, over the {limit}-byte limit; \
         failing the invocation so Firehose retries and then writes the batch to its error output"
    )]
    ResponseTooLarge { needed: usize, limit: usize },
    #[error("could not serialize the response: {0}")]
    Serialize(String),
}

impl From<TransformError> for lambda_runtime::Diagnostic {
    fn from(e: TransformError) -> Self {
        let error_type = match e {
            TransformError::ResponseTooLarge { .. } => "ResponseTooLarge",
            TransformError::Serialize(_) => "SerializeError",
        };
        lambda_runtime::Diagnostic {
            error_type: error_type.to_owned(),
            error_message: e.to_string(),
        }
    }
}

/// What became of one record before deduplication and the size guard.
enum Outcome {
    Row {
        table: &'static str,
        partition: PartitionValues,
        /// The row (JSON object and `\n`), base64-encoded.
        data: String,
        row_len: usize,
        contact: Option<ContactVersion>,
    },
    Dropped(Reason),
    Failed(Reason),
}

struct ContactVersion {
    contact_id: String,
    last_update: Option<OffsetDateTime>,
}

/// Counters of one invocation, turned into EMF metrics.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Stats {
    pub records_in: u64,
    pub ok: u64,
    pub dropped: HashMap<&'static str, u64>,
    pub failed: HashMap<&'static str, u64>,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// `(index in the batch, reason code)` of every `ProcessingFailed` record.
    pub failures: Vec<(usize, &'static str)>,
}

impl Stats {
    pub fn dropped_total(&self) -> u64 {
        self.dropped.values().sum()
    }

    pub fn failed_total(&self) -> u64 {
        self.failed.values().sum()
    }

    /// EMF metric sets: the totals, then one per reason with a `Reason` dimension.
    pub fn metrics(&self, namespace: &str) -> Vec<Metrics> {
        let function = "firehose-transform";
        let mut totals = Metrics::new(namespace).with_dimension("Function", function);
        totals.count("RecordsIn", self.records_in);
        totals.count("Ok", self.ok);
        totals.count("Dropped", self.dropped_total());
        totals.count("ProcessingFailed", self.failed_total());
        totals.add("BytesIn", Unit::Bytes, self.bytes_in as f64);
        totals.add("BytesOut", Unit::Bytes, self.bytes_out as f64);
        let mut sets = vec![totals];
        for (metric, reasons) in [("ProcessingFailed", &self.failed), ("Dropped", &self.dropped)] {
            let mut reasons: Vec<_> = reasons.iter().collect();
            reasons.sort();
            for (reason, n) in reasons {
                let mut m = Metrics::new(namespace)
                    .with_dimension("Function", function)
                    .with_dimension("Reason", *reason);
                m.count(metric, *n);
                sets.push(m);
            }
        }
        sets
    }
}

fn classify_json_error(e: &serde_json::Error) -> Reason {
    match e.classify() {
        serde_json::error::Category::Eof => Reason::TruncatedJson,
        serde_json::error::Category::Data => Reason::SchemaMismatch,
        serde_json::error::Category::Syntax | serde_json::error::Category::Io => Reason::NotJson,
    }
}

/// Decodes, validates and flattens one record. Adds the decoded size to `bytes_in`.
fn process_record(
    record: &FirehoseRecord,
    cfg: &Config,
    expected: Option<&'static connect_lake::schema::Table>,
    bytes_in: &mut u64,
) -> Outcome {
    let Some(data) = record.data.as_deref() else {
        return Outcome::Failed(Reason::MissingData);
    };
    let Ok(bytes) = B64.decode_to_vec(data) else {
        return Outcome::Failed(Reason::NotBase64);
    };
    *bytes_in += bytes.len() as u64;
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return Outcome::Failed(Reason::NotUtf8);
    };
    let text = text.trim();
    if text.is_empty() {
        return Outcome::Failed(Reason::Empty);
    }
    if !text.starts_with('{') {
        return Outcome::Failed(if text.starts_with('[') {
            Reason::NotAnObject
        } else {
            Reason::NotJson
        });
    }
    let is_metric = metric_stream::looks_like_metric_stream(text);
    if is_metric || expected.is_some_and(|t| t.name == CONNECT_METRICS.name) {
        if expected.is_some_and(|t| t.name != CONNECT_METRICS.name) || !is_metric {
            return Outcome::Failed(Reason::WrongStream);
        }
        return metric_stream_outcome(text);
    }
    let arrival = record.approximate_arrival_timestamp.and_then(from_epoch_millis);
    let rec: ContactRecord<'_> = match serde_json::from_str(text) {
        Ok(r) => r,
        Err(e) => return Outcome::Failed(classify_json_error(&e)),
    };
    let mut row = Vec::with_capacity(text.len());
    let is_agent_event = rec.looks_like_agent_event();
    let kind = if is_agent_event { &AGENT_EVENTS } else { &CTR };
    if expected.is_some_and(|t| t.name != kind.name) {
        return Outcome::Failed(Reason::WrongStream);
    }
    if is_agent_event {
        let ev: AgentEvent<'_> = match serde_json::from_str(text) {
            Ok(ev) => ev,
            Err(e) => return Outcome::Failed(classify_json_error(&e)),
        };
        if ev.is_heartbeat() && !cfg.keep_heartbeats {
            return Outcome::Dropped(Reason::Heartbeat);
        }
        let flat = match flatten_agent_event(&ev, cfg.pii(), arrival) {
            Ok(f) => f,
            Err(e) => return Outcome::Failed(e.into()),
        };
        if serde_json::to_writer(&mut row, &flat.row).is_err() {
            return Outcome::Failed(Reason::SchemaMismatch);
        }
        row.push(b'\n');
        return Outcome::Row {
            table: AGENT_EVENTS.name,
            partition: flat.partition,
            data: B64.encode_to_string(&row),
            row_len: row.len(),
            contact: None,
        };
    }
    let flat = match flatten_ctr(&rec, cfg.pii(), arrival) {
        Ok(f) => f,
        Err(e) => return Outcome::Failed(e.into()),
    };
    if serde_json::to_writer(&mut row, &flat.row).is_err() {
        return Outcome::Failed(Reason::SchemaMismatch);
    }
    row.push(b'\n');
    let contact = Some(ContactVersion {
        contact_id: flat.row.contact_id.into_owned(),
        last_update: flat.last_update,
    });
    Outcome::Row {
        table: CTR.name,
        partition: flat.partition,
        data: B64.encode_to_string(&row),
        row_len: row.len(),
        contact,
    }
}

/// A metric-stream record as one `connect_metrics` record: its rows, each ending in `\n`.
fn metric_stream_outcome(text: &str) -> Outcome {
    use metric_stream::MetricStreamError;
    let flat = match metric_stream::flatten(text) {
        Ok(f) => f,
        Err(e) => {
            return Outcome::Failed(match e {
                MetricStreamError::NotJson => Reason::NotJson,
                MetricStreamError::NotAMetric => Reason::NotAMetric,
                MetricStreamError::BadTimestamp => Reason::NoUsableTimestamp,
                MetricStreamError::MixedHours => Reason::MixedHours,
            });
        }
    };
    let mut rows = Vec::with_capacity(text.len());
    for row in &flat.rows {
        if serde_json::to_writer(&mut rows, row).is_err() {
            return Outcome::Failed(Reason::SchemaMismatch);
        }
        rows.push(b'\n');
    }
    Outcome::Row {
        table: CONNECT_METRICS.name,
        partition: flat.partition,
        data: B64.encode_to_string(&rows),
        row_len: rows.len(),
        contact: None,
    }
}

/// Keeps, for each contact, only the copy with the greatest `LastUpdateTimestamp` (a missing one
/// counts as oldest; on a tie the later record wins, as it arrived later). The others are dropped.
fn dedupe_contacts(outcomes: &mut [Outcome]) {
    let mut winner: HashMap<&str, usize> = HashMap::new();
    let mut losers = Vec::new();
    for (i, o) in outcomes.iter().enumerate() {
        let Outcome::Row { contact: Some(c), .. } = o else {
            continue;
        };
        match winner.get(c.contact_id.as_str()) {
            None => {
                winner.insert(c.contact_id.as_str(), i);
            }
            Some(&j) => {
                let Outcome::Row {
                    contact: Some(prev), ..
                } = &outcomes[j]
                else {
                    continue;
                };
                if c.last_update >= prev.last_update {
                    losers.push(j);
                    winner.insert(c.contact_id.as_str(), i);
                } else {
                    losers.push(i);
                }
            }
        }
    }
    for i in losers {
        outcomes[i] = Outcome::Dropped(Reason::Superseded);
    }
}

fn partition_metadata(table: &str, p: PartitionValues) -> Metadata {
    let mut keys = std::collections::BTreeMap::new();
    keys.insert("table".to_owned(), table.to_owned());
    keys.insert("year".to_owned(), p.year);
    keys.insert("month".to_owned(), p.month);
    keys.insert("day".to_owned(), p.day);
    keys.insert("hour".to_owned(), p.hour);
    Metadata { partition_keys: keys }
}

/// Records per worker below which a batch is not worth splitting across threads.
const MIN_RECORDS_PER_THREAD: usize = 64;

/// Decodes, parses, flattens and encodes every record, on as many threads as the function has
/// vCPUs (Lambda gives two from 1,769 MB). Order is preserved. Returns the outcomes and the
/// decoded bytes.
fn process_all(
    records: &[FirehoseRecord],
    cfg: &Config,
    expected: Option<&'static connect_lake::schema::Table>,
) -> (Vec<Outcome>, u64) {
    let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let threads = cpus.min(records.len() / MIN_RECORDS_PER_THREAD).max(1);
    if threads == 1 {
        let mut bytes_in = 0;
        let outcomes = records
            .iter()
            .map(|r| process_record(r, cfg, expected, &mut bytes_in))
            .collect();
        return (outcomes, bytes_in);
    }
    let chunk = records.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = records
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    let mut bytes_in = 0;
                    let outcomes: Vec<Outcome> = part
                        .iter()
                        .map(|r| process_record(r, cfg, expected, &mut bytes_in))
                        .collect();
                    (outcomes, bytes_in)
                })
            })
            .collect();
        let mut all = Vec::with_capacity(records.len());
        let mut bytes_in = 0;
        for worker in workers {
            // process_record does not panic; if it ever did, the panic is the caller's to see.
            let (outcomes, bytes) = worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            all.extend(outcomes);
            bytes_in += bytes;
        }
        (all, bytes_in)
    })
}

/// The Lambda handler: transforms the batch, emits its metrics (the one place this function does)
/// and logs a summary. The response goes back pre-serialized:
/// [`FirehoseResponse::to_json`] copies the base64 rows instead of escaping them byte by byte.
///
/// # Errors
/// [`TransformError`] when no valid response exists; Firehose then retries the whole batch.
pub fn handle(config: &Config, event: LambdaEvent<FirehoseRequest>) -> Result<Box<RawValue>, TransformError> {
    let request = event.payload;
    let invocation_id = request.invocation_id.clone();
    let (result, stats) = transform(request, config);
    // A failed batch's metrics are written too: its records and bytes arrived, none was answered.
    connect_lake::telemetry::emit(&stats.metrics(&config.metrics_namespace));
    match &result {
        Ok(_) => tracing::info!(
            invocation_id,
            records_in = stats.records_in,
            ok = stats.ok,
            dropped = stats.dropped_total(),
            failed = stats.failed_total(),
            "batch transformed"
        ),
        Err(e) => tracing::error!(invocation_id, records_in = stats.records_in, error = %e, "batch failed"),
    }
    let response = result?;
    // to_json writes valid JSON by construction; serde_json is the fallback, never the norm.
    RawValue::from_string(response.to_json())
        .or_else(|_| serde_json::value::to_raw_value(&response))
        .map_err(|e| TransformError::Serialize(e.to_string()))
}

/// Transforms a whole batch. Every input record yields exactly one output record, in order. What
/// the batch counted comes back beside the result, as every function's core returns it, so the
/// handler writes the metrics of a failed batch too.
///
/// The result is [`TransformError::ResponseTooLarge`] only when even an all-failed response would
/// not fit.
pub fn transform(request: FirehoseRequest, cfg: &Config) -> (Result<FirehoseResponse, TransformError>, Stats) {
    let expected = cfg.expected_table(&request.delivery_stream_arn);
    let (mut outcomes, bytes_in) = process_all(&request.records, cfg, expected);
    let mut stats = Stats {
        records_in: request.records.len() as u64,
        bytes_in,
        ..Stats::default()
    };
    dedupe_contacts(&mut outcomes);

    // The size guard. Each record is first costed at what it would take as a failure with its
    // original data (or, for a drop, as a drop); a row is accepted only if it still fits with
    // every later record at that floor. So the response always fits, and a record that does not
    // fit goes to the error prefix with its original data instead of being lost.
    let floor: Vec<usize> = request
        .records
        .iter()
        .zip(&outcomes)
        .map(|(r, o)| match o {
            Outcome::Dropped(_) => frame_len(&r.record_id, RecordResult::Dropped, None) + 2,
            // Data that decoded as base64 holds only the base64 alphabet: nothing to escape.
            Outcome::Failed(Reason::NotBase64 | Reason::MissingData) => {
                frame_len(&r.record_id, RecordResult::ProcessingFailed, None)
                    + json_string_len(r.data.as_deref().unwrap_or_default())
            }
            _ => {
                frame_len(&r.record_id, RecordResult::ProcessingFailed, None)
                    + r.data.as_deref().map_or(2, |d| d.len() + 2)
            }
        })
        .collect();
    let separators = request.records.len().saturating_sub(1);
    let mut reserved: usize = FirehoseResponse::ENVELOPE_BYTES + separators + floor.iter().sum::<usize>();
    if reserved > cfg.max_response_bytes {
        let too_large = TransformError::ResponseTooLarge {
            needed: reserved,
            limit: cfg.max_response_bytes,
        };
        return (Err(too_large), stats);
    }

    let mut out = Vec::with_capacity(request.records.len());
    for (index, ((record, outcome), floor_len)) in request.records.into_iter().zip(outcomes).zip(floor).enumerate() {
        reserved -= floor_len;
        let fail = |record: FirehoseRecord, reason: Reason, stats: &mut Stats| {
            tracing::warn!(record_id = %record.record_id, reason = reason.code(), "record failed");
            *stats.failed.entry(reason.code()).or_default() += 1;
            stats.failures.push((index, reason.code()));
            FirehoseResponseRecord {
                record_id: record.record_id,
                result: RecordResult::ProcessingFailed,
                data: record.data.unwrap_or_default(),
                metadata: None,
            }
        };
        let (response_record, len) = match outcome {
            Outcome::Row {
                table,
                partition,
                data,
                row_len,
                ..
            } => {
                let metadata = partition_metadata(table, partition);
                // The data is base64 this function produced: no escapes, so its literal is len + 2.
                let len = frame_len(&record.record_id, RecordResult::Ok, Some(&metadata)) + data.len() + 2;
                if reserved + len <= cfg.max_response_bytes {
                    stats.ok += 1;
                    stats.bytes_out += row_len as u64;
                    let ok = FirehoseResponseRecord {
                        record_id: record.record_id,
                        result: RecordResult::Ok,
                        data,
                        metadata: Some(metadata),
                    };
                    (ok, len)
                } else {
                    (fail(record, Reason::ResponseSizeLimit, &mut stats), floor_len)
                }
            }
            Outcome::Failed(reason) => (fail(record, reason, &mut stats), floor_len),
            Outcome::Dropped(reason) => {
                tracing::debug!(record_id = %record.record_id, reason = reason.code(), "record dropped");
                *stats.dropped.entry(reason.code()).or_default() += 1;
                let dropped = FirehoseResponseRecord {
                    record_id: record.record_id,
                    result: RecordResult::Dropped,
                    data: String::new(),
                    metadata: None,
                };
                (dropped, floor_len)
            }
        };
        reserved += len;
        out.push(response_record);
    }
    (Ok(FirehoseResponse { records: out }), stats)
}

#[cfg(test)]
mod tests;
