//! sentiment-enricher: call recordings become Transcribe jobs, and transcripts and Contact Lens
//! files become per-turn and per-contact sentiment rows in the lake.
//!
//! Triggered by S3 object events, directly or through SQS (with batch item failures), for:
//! 1. call recordings (`.wav` under `RECORDINGS_PREFIX`): one `StartTranscriptionJob` per
//!    contact, idempotent by job name;
//! 2. Transcribe output (`.json` under `TRANSCRIPTS_PREFIX`), standard or Call Analytics;
//! 3. Contact Lens analysis files (`Analysis/Voice/`, `Analysis/Chat/`; a `Redacted/` copy is
//!    read only when its original does not exist, as on an instance that keeps redacted output
//!    only).
//!
//! A transcript becomes turns ([`crate::transcript`]), turns get a sentiment
//! ([`sentiment`]), and two JSON-lines objects are written to `LAKE_BUCKET`:
//! `sentiment_turns/.../<contactId>_<kind>.json` and `contact_sentiment/.../<contactId>_<kind>.json`,
//! partitioned by the contact's time. The keys depend only on the contact and the source kind,
//! so a replay overwrites. Object-level failures fail only their SQS message (or, invoked
//! directly, the invocation, so S3's asynchronous retry runs); skips are counted, never failed.
//!
//! Where the logic lives: [`keys`] decides what an object is, [`transcript`] parses the three
//! transcript shapes into turns, [`sentiment`] (with [`comprehend`], [`vader`] and [`chunk`]) scores
//! them, [`rows`] builds the two tables' rows, [`transcribe`] starts jobs and [`contact_record`]
//! reads the `ctr` row that decides a skip. This file holds [`handle`] (metrics, once per
//! invocation) over [`process`], and [`process_object`], which one S3 object goes through.

pub mod aws_error;
pub mod chunk;
pub mod comprehend;
mod config;
pub mod contact_record;
pub mod keys;
pub mod rows;
pub mod sentiment;
pub mod transcribe;
pub mod transcript;
pub mod vader;

use std::collections::BTreeMap;

use crate::transcript::{Layout, SourceKind, Transcript, TranscriptError};
use aws_sdk_s3::primitives::ByteStream;
use connect_lake::s3_event::{
    EventError, Notification, ObjectEvent, ObjectEventKind, SqsBatchResponse, Trigger, batch_response,
};
use connect_lake::schema::{CONTACT_SENTIMENT, PartitionValues, SENTIMENT_TURNS};
use connect_lake::telemetry::Metrics;
use connect_lake::time_fmt::to_hive_timestamp;
use lambda_runtime::LambdaEvent;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::aws_error::error_code;
use crate::comprehend::{ComprehendError, Redacted};
pub use crate::config::{Config, env};
use crate::keys::{ObjectKind, SkipReason};
use crate::rows::{RowContext, StoredText};
use crate::sentiment::{Provider, ProviderKind, pii_language};
use crate::transcribe::{JobSpec, JobStart, TranscribeError};
use crate::vader::Vader;

const FUNCTION: &str = "sentiment-enricher";

/// Transcripts larger than this are refused rather than read into memory (a 4-hour call's
/// Transcribe output is a few MB).
pub const MAX_TRANSCRIPT_BYTES: u64 = 64 * 1024 * 1024;

/// Configuration and clients, built once per process.
pub struct Deps {
    pub config: Config,
    pub s3: aws_sdk_s3::Client,
    pub transcribe: aws_sdk_transcribe::Client,
    /// Sentiment (with the `comprehend` provider) and PII redaction.
    pub comprehend: aws_sdk_comprehend::Client,
}

impl Deps {
    fn provider(&self) -> Provider<'_> {
        match self.config.provider {
            ProviderKind::Comprehend => Provider::Comprehend(&self.comprehend),
            ProviderKind::Lexicon => Provider::Lexicon(Vader::shared()),
        }
    }
}

/// Why one object could not be processed. Retrying may help (its message is retried).
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    #[error("could not read the object: {code}")]
    Read { code: String },
    #[error("could not list {prefix}: {code}")]
    List { prefix: String, code: String },
    #[error("object is {size} bytes, over the {limit}-byte limit")]
    TooLarge { size: u64, limit: u64 },
    #[error(transparent)]
    Transcript(#[from] TranscriptError),
    #[error(transparent)]
    Comprehend(#[from] ComprehendError),
    #[error(transparent)]
    Transcribe(#[from] TranscribeError),
    #[error("could not write {key}: {code}")]
    Write { key: String, code: String },
    #[error("PII redaction needs PII_TOKEN_KEY")]
    NoTokenizer,
    #[error("could not serialise rows: {0}")]
    Serialize(String),
    #[error(transparent)]
    ContactRecord(#[from] contact_record::LookupError),
}

impl ObjectError {
    /// A stable code for metrics and logs.
    pub fn code(&self) -> &'static str {
        match self {
            ObjectError::Read { .. } => "read_failed",
            ObjectError::List { .. } => "list_failed",
            ObjectError::TooLarge { .. } => "too_large",
            ObjectError::Transcript(TranscriptError::NotJson { .. }) => "not_json",
            ObjectError::Transcript(TranscriptError::UnknownFormat) => "unknown_format",
            ObjectError::Transcript(TranscriptError::NotCompleted { .. }) => "job_not_completed",
            ObjectError::Comprehend(_) => "comprehend_failed",
            ObjectError::Transcribe(_) => "transcribe_failed",
            ObjectError::Write { .. } => "write_failed",
            ObjectError::NoTokenizer => "no_tokenizer",
            ObjectError::Serialize(_) => "serialize_failed",
            ObjectError::ContactRecord(_) => "contact_record_lookup_failed",
        }
    }
}

/// The invocation failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error("event is not an S3 notification or SQS batch: {0}")]
    Event(#[from] EventError),
    #[error("{failed} of {total} objects failed; failing the invocation so it is retried")]
    ObjectsFailed { failed: usize, total: usize },
}

impl From<HandlerError> for lambda_runtime::Diagnostic {
    fn from(e: HandlerError) -> Self {
        let error_type = match e {
            HandlerError::Event(_) => "UnsupportedEvent",
            HandlerError::ObjectsFailed { .. } => "ObjectsFailed",
        };
        lambda_runtime::Diagnostic {
            error_type: error_type.to_owned(),
            error_message: e.to_string(),
        }
    }
}

/// What became of one object.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    JobStarted { contact_id: String, job_name: String },
    JobAlreadyStarted { contact_id: String, job_name: String },
    Enriched(Enriched),
    Skipped(SkipReason),
}

/// A transcript turned into rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Enriched {
    pub contact_id: String,
    pub kind: &'static str,
    pub turns: usize,
    pub unknown_turns: usize,
    pub turns_key: String,
    pub contact_key: String,
}

impl Outcome {
    fn summary(&self, key: &str) -> Value {
        match self {
            Outcome::JobStarted { contact_id, job_name } => {
                json!({"key": key, "outcome": "transcription_job_started", "contact_id": contact_id, "job_name": job_name})
            }
            Outcome::JobAlreadyStarted { contact_id, job_name } => {
                json!({"key": key, "outcome": "transcription_job_already_started", "contact_id": contact_id, "job_name": job_name})
            }
            Outcome::Enriched(e) => json!({"key": key, "outcome": "enriched", "contact_id": e.contact_id,
                "source_kind": e.kind, "turns": e.turns, "unknown_turns": e.unknown_turns,
                "rows": [e.turns_key, e.contact_key]}),
            Outcome::Skipped(r) => json!({"key": key, "outcome": "skipped", "reason": r.code()}),
        }
    }
}

/// Counters of one invocation, emitted as EMF metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub objects: u64,
    pub jobs_started: u64,
    pub jobs_already_started: u64,
    pub transcripts_by_kind: BTreeMap<&'static str, u64>,
    pub skipped: BTreeMap<&'static str, u64>,
    pub failed: BTreeMap<&'static str, u64>,
    pub comprehend_calls: u64,
    pub chunks: u64,
    pub document_errors: u64,
    pub documents_retried: u64,
    pub pii_calls: u64,
    pub turns_written: u64,
    pub unknown_turns: u64,
}

impl Stats {
    /// EMF sets: totals, then one per source kind, skip reason and failure reason.
    pub fn metrics(&self, namespace: &str) -> Vec<Metrics> {
        let base = || Metrics::new(namespace).with_dimension("Function", FUNCTION);
        let mut totals = base();
        totals.count("ObjectsIn", self.objects);
        totals.count("TranscriptionJobsStarted", self.jobs_started);
        totals.count("TranscriptionJobsAlreadyStarted", self.jobs_already_started);
        totals.count("TranscriptsProcessed", self.transcripts_by_kind.values().sum());
        totals.count("ComprehendCalls", self.comprehend_calls);
        totals.count("Chunks", self.chunks);
        totals.count("DocumentErrors", self.document_errors);
        totals.count("DocumentsRetried", self.documents_retried);
        totals.count("PiiDetectionCalls", self.pii_calls);
        totals.count("TurnsWritten", self.turns_written);
        totals.count("UnknownSentimentTurns", self.unknown_turns);
        totals.count("Skipped", self.skipped.values().sum());
        totals.count("ObjectsFailed", self.failed.values().sum());
        let mut sets = vec![totals];
        for (dimension, metric, counts) in [
            ("Kind", "TranscriptsProcessed", &self.transcripts_by_kind),
            ("Reason", "Skipped", &self.skipped),
            ("Reason", "ObjectsFailed", &self.failed),
        ] {
            for (value, n) in counts {
                let mut m = base().with_dimension(dimension, *value);
                m.count(metric, *n);
                sets.push(m);
            }
        }
        sets
    }
}

/// The answer to one invocation.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum Response {
    /// Direct invocation: what became of each object (S3 ignores it; `cargo lambda invoke` shows it).
    Summary { objects: Vec<Value> },
    /// SQS: the messages to retry.
    Batch(SqsBatchResponse),
}

/// The Lambda handler: processes the event, emits its metrics (the one place this function does)
/// and logs a failure.
///
/// # Errors
/// As [`process`].
pub async fn handle(deps: &Deps, event: LambdaEvent<Value>) -> Result<Response, HandlerError> {
    let (result, stats) = process(deps, &event.payload, OffsetDateTime::now_utc()).await;
    connect_lake::telemetry::emit(&stats.metrics(&deps.config.metrics_namespace));
    if let Err(error) = &result {
        tracing::error!(request_id = event.context.request_id, %error, "invocation failed");
    }
    result
}

/// Processes one invocation (a direct S3 notification or an SQS batch) without emitting
/// anything: the answer, and what the invocation counted.
///
/// # Errors
/// [`HandlerError`] when the event has no known shape, or (direct invocation only) when an
/// object failed, so that S3's asynchronous invocation retries.
pub async fn process(deps: &Deps, event: &Value, now: OffsetDateTime) -> (Result<Response, HandlerError>, Stats) {
    let mut stats = Stats::default();
    let result = route(deps, event, now, &mut stats).await;
    (result, stats)
}

async fn route(deps: &Deps, event: &Value, now: OffsetDateTime, stats: &mut Stats) -> Result<Response, HandlerError> {
    match connect_lake::s3_event::parse_trigger(event)? {
        Trigger::Direct(notification) => {
            let results = process_notification(deps, &notification, now, stats).await;
            let failed = results.iter().filter(|(_, r)| r.is_err()).count();
            if failed > 0 {
                return Err(HandlerError::ObjectsFailed {
                    failed,
                    total: results.len(),
                });
            }
            let objects: Vec<Value> = results
                .iter()
                .filter_map(|(key, r)| r.as_ref().ok().map(|o| o.summary(key)))
                .collect();
            Ok(Response::Summary { objects })
        }
        Trigger::Sqs(messages) => {
            let mut failing = Vec::new();
            for message in messages {
                let ok = match &message.body {
                    Err(error) => {
                        tracing::error!(message_id = message.message_id, %error, "SQS message body is not an S3 event");
                        *stats.failed.entry("bad_message").or_default() += 1;
                        false
                    }
                    Ok(notification) => process_notification(deps, notification, now, stats)
                        .await
                        .iter()
                        .all(|(_, r)| r.is_ok()),
                };
                if !ok {
                    if message.message_id.is_empty() {
                        // An empty itemIdentifier would fail the whole batch; the message was
                        // logged above and cannot be retried on its own.
                        tracing::error!("failed SQS message has no messageId");
                    } else {
                        failing.push(message.message_id);
                    }
                }
            }
            Ok(Response::Batch(batch_response(failing)))
        }
    }
}

async fn process_notification(
    deps: &Deps,
    notification: &Notification,
    now: OffsetDateTime,
    stats: &mut Stats,
) -> Vec<(String, Result<Outcome, ObjectError>)> {
    let objects = match notification {
        Notification::TestEvent => {
            *stats.skipped.entry(SkipReason::TestEvent.code()).or_default() += 1;
            return Vec::new();
        }
        Notification::Objects(objects) => objects,
    };
    let mut results = Vec::with_capacity(objects.len());
    for object in objects {
        stats.objects += 1;
        // Boxed: the nested SDK futures are otherwise too deep for the compiler's layout query.
        let result = Box::pin(process_object(deps, object, now, stats)).await;
        match &result {
            Ok(Outcome::Skipped(reason)) => {
                *stats.skipped.entry(reason.code()).or_default() += 1;
                tracing::info!(key = object.key, reason = reason.code(), "object skipped");
            }
            Ok(Outcome::JobStarted { job_name, .. }) => {
                stats.jobs_started += 1;
                tracing::info!(key = object.key, job_name, "transcription job started");
            }
            Ok(Outcome::JobAlreadyStarted { job_name, .. }) => {
                stats.jobs_already_started += 1;
                tracing::info!(key = object.key, job_name, "transcription job already started");
            }
            Ok(Outcome::Enriched(e)) => {
                tracing::info!(
                    key = object.key,
                    contact_id = e.contact_id,
                    source_kind = e.kind,
                    turns = e.turns,
                    unknown_turns = e.unknown_turns,
                    "transcript enriched"
                );
            }
            Err(error) => {
                *stats.failed.entry(error.code()).or_default() += 1;
                tracing::error!(key = object.key, reason = error.code(), %error, "object failed");
            }
        }
        results.push((object.key.clone(), result));
    }
    results
}

/// Processes one object event.
///
/// # Errors
/// [`ObjectError`] when the object should be retried or looked at.
pub async fn process_object(
    deps: &Deps,
    object: &ObjectEvent,
    now: OffsetDateTime,
    stats: &mut Stats,
) -> Result<Outcome, ObjectError> {
    if object.kind != ObjectEventKind::Created {
        return Ok(Outcome::Skipped(SkipReason::NotCreated));
    }
    match keys::classify(&object.key, &deps.config.prefixes) {
        Err(reason) => Ok(Outcome::Skipped(reason)),
        Ok(ObjectKind::Recording) => start_transcription(deps, object, now).await,
        Ok(ObjectKind::Transcript | ObjectKind::ContactLens) => enrich(deps, object, now, stats).await,
        Ok(ObjectKind::ContactLensRedacted) => {
            if original_exists(deps, object).await? {
                Ok(Outcome::Skipped(SkipReason::RedactedCopy))
            } else {
                enrich(deps, object, now, stats).await
            }
        }
    }
}

/// Whether the original of a redacted Contact Lens file exists. An instance configured for
/// redacted output only writes none, and the redacted file is then the only analysis there is.
/// Both files of a contact write the same output keys (contact and source kind), so a contact
/// never gets two rows from them: should the redacted copy be read first, the original's rows
/// replace its rows when the original arrives.
async fn original_exists(deps: &Deps, object: &ObjectEvent) -> Result<bool, ObjectError> {
    let Some(prefix) = keys::original_analysis_prefix(&object.key) else {
        return Ok(false);
    };
    let out = deps
        .s3
        .list_objects_v2()
        .bucket(&object.bucket)
        .prefix(&prefix)
        .max_keys(1)
        .send()
        .await
        .map_err(|e| ObjectError::List {
            prefix: prefix.clone(),
            code: error_code(&e),
        })?;
    Ok(!out.contents().is_empty())
}

async fn start_transcription(deps: &Deps, object: &ObjectEvent, now: OffsetDateTime) -> Result<Outcome, ObjectError> {
    let Some(contact_id) = keys::contact_id_from_key(&object.key) else {
        return Ok(Outcome::Skipped(SkipReason::NoContactId));
    };
    let (at, _) = keys::contact_time(&object.key, object.event_time.as_deref(), now);
    let config = &deps.config;
    if config.skip_when_contact_lens {
        // The contact record's ContactLens.ConversationalAnalytics.Configuration.Enabled: AWS
        // writes the ContactLens object only for contacts whose flow enabled conversational
        // analytics. A record not yet in the lake says nothing, and the call is transcribed.
        let facts = contact_record::lookup(&deps.s3, &config.lake_bucket, contact_id, at).await?;
        if facts.and_then(|f| f.contact_lens_enabled) == Some(true) {
            return Ok(Outcome::Skipped(SkipReason::ContactLensAnalyses));
        }
    }
    let spec = JobSpec {
        job_name: keys::job_name(contact_id),
        media_uri: format!("s3://{}/{}", object.bucket, object.key),
        language: config.transcribe_language.clone(),
        output_bucket: config.lake_bucket.clone(),
        output_key: keys::transcript_key(&config.prefixes.transcripts, contact_id, at),
        role_arn: config.transcribe_role_arn.clone(),
        output_kms_key: config.transcribe_output_key.clone(),
    };
    let contact_id = contact_id.to_owned();
    Ok(match transcribe::start_job(&deps.transcribe, &spec).await? {
        JobStart::Started => Outcome::JobStarted {
            contact_id,
            job_name: spec.job_name,
        },
        JobStart::AlreadyStarted => Outcome::JobAlreadyStarted {
            contact_id,
            job_name: spec.job_name,
        },
    })
}

/// Reads an object, refusing one over the size limit. `None` when it no longer exists.
async fn read_object(deps: &Deps, object: &ObjectEvent) -> Result<Option<Vec<u8>>, ObjectError> {
    let limit = deps.config.max_transcript_bytes;
    if let Some(size) = object.size.filter(|s| *s > limit) {
        return Err(ObjectError::TooLarge { size, limit });
    }
    let out = match deps
        .s3
        .get_object()
        .bucket(&object.bucket)
        .key(&object.key)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
        Err(e) => return Err(ObjectError::Read { code: error_code(&e) }),
    };
    if let Some(size) = out
        .content_length()
        .and_then(|n| u64::try_from(n).ok())
        .filter(|s| *s > limit)
    {
        return Err(ObjectError::TooLarge { size, limit });
    }
    let bytes = out
        .body
        .collect()
        .await
        .map_err(|_| ObjectError::Read {
            code: "BodyReadFailed".to_owned(),
        })?
        .into_bytes();
    if bytes.len() as u64 > limit {
        return Err(ObjectError::TooLarge {
            size: bytes.len() as u64,
            limit,
        });
    }
    Ok(Some(bytes.to_vec()))
}

/// The contact a transcript belongs to: Contact Lens metadata, then the key, then the job name.
fn transcript_contact_id<'a>(transcript: &'a Transcript, key: &'a str) -> Option<&'a str> {
    transcript
        .contact_id
        .as_deref()
        .filter(|c| keys::is_contact_id(c))
        .or_else(|| keys::contact_id_from_key(key))
        .or_else(|| transcript.job_name.as_deref().and_then(keys::contact_id_from_job_name))
}

async fn enrich(
    deps: &Deps,
    object: &ObjectEvent,
    now: OffsetDateTime,
    stats: &mut Stats,
) -> Result<Outcome, ObjectError> {
    let Some(bytes) = read_object(deps, object).await? else {
        return Ok(Outcome::Skipped(SkipReason::ObjectGone));
    };
    let mut transcript = transcript::parse(&bytes, &deps.config.speakers)?;
    drop(bytes);
    let Some(contact_id) = transcript_contact_id(&transcript, &object.key).map(str::to_owned) else {
        return Ok(Outcome::Skipped(SkipReason::NoContactId));
    };
    let (at, time_source) = keys::contact_time(&object.key, object.event_time.as_deref(), now);
    if transcript.kind == SourceKind::Transcribe {
        // Our own transcripts of Connect's stereo recordings: which channel is whose depends on
        // whether the contact ever reached an agent, which only its contact record says.
        let facts = contact_record::lookup(&deps.s3, &deps.config.lake_bucket, &contact_id, at).await?;
        let layout = Layout::from_agent_connected(facts.map(|f| f.agent_connected));
        tracing::info!(
            contact_id,
            layout = layout.code(),
            contact_record = facts.is_some(),
            "recording layout"
        );
        transcript.relabel(&deps.config.speakers.for_layout(layout));
    }
    let language = transcript
        .language
        .clone()
        .unwrap_or_else(|| deps.config.transcribe_language.clone());

    let (sentiments, report) = sentiment::score_turns(deps.provider(), &language, &transcript.turns).await?;
    stats.comprehend_calls += report.comprehend_calls;
    stats.chunks += report.chunks;
    stats.document_errors += report.document_errors;
    stats.documents_retried += report.documents_retried;

    let texts = stored_texts(deps, &transcript, &language, stats).await?;

    let partition = PartitionValues::for_instant(at);
    let kind = transcript.kind.code();
    let ctx = RowContext {
        contact_id: &contact_id,
        kind: transcript.kind,
        language: Some(language.as_str()),
        contact_timestamp: to_hive_timestamp(at),
        partition_time_source: time_source.code(),
        processed_at: to_hive_timestamp(now),
        source_object: &object.key,
    };
    let turn_rows = rows::turn_rows(&ctx, &transcript.turns, &sentiments, texts);
    let contact_row = rows::contact_row(&ctx, &transcript, &sentiments);
    let serialize = |e: serde_json::Error| ObjectError::Serialize(e.to_string());
    let turns_body = rows::json_lines(&turn_rows).map_err(serialize)?;
    let contact_body = rows::json_lines(std::slice::from_ref(&contact_row)).map_err(serialize)?;

    let turns_key = keys::output_key(SENTIMENT_TURNS.name, &partition, &contact_id, kind);
    let contact_key = keys::output_key(CONTACT_SENTIMENT.name, &partition, &contact_id, kind);
    // Turns first: a contact row never points at turns that were not written.
    put(deps, &turns_key, turns_body).await?;
    put(deps, &contact_key, contact_body).await?;

    let unknown = sentiments.iter().filter(|s| s.label.is_none()).count();
    *stats.transcripts_by_kind.entry(kind).or_default() += 1;
    stats.turns_written += turn_rows.len() as u64;
    stats.unknown_turns += unknown as u64;
    Ok(Outcome::Enriched(Enriched {
        contact_id,
        kind,
        turns: turn_rows.len(),
        unknown_turns: unknown,
        turns_key,
        contact_key,
    }))
}

/// The text stored with each turn: nothing unless `STORE_TRANSCRIPT_TEXT`; then redacted for
/// the languages `DetectPiiEntities` supports, as transcribed for the others.
async fn stored_texts(
    deps: &Deps,
    transcript: &Transcript,
    language: &str,
    stats: &mut Stats,
) -> Result<Vec<StoredText>, ObjectError> {
    let turns = &transcript.turns;
    if !deps.config.store_text {
        return Ok(turns.iter().map(|_| StoredText::NotStored).collect());
    }
    let Some(pii_language) = pii_language(language) else {
        return Ok(turns.iter().map(|t| StoredText::Unredacted(t.text.clone())).collect());
    };
    if turns.is_empty() {
        return Ok(Vec::new());
    }
    let tokenizer = deps.config.tokenizer.as_ref().ok_or(ObjectError::NoTokenizer)?;
    let texts: Vec<&str> = turns.iter().map(|t| t.text.as_str()).collect();
    let (redacted, calls) = comprehend::redact(&deps.comprehend, pii_language, &texts, tokenizer).await?;
    stats.pii_calls += calls;
    Ok(redacted
        .into_iter()
        .map(|r| match r {
            Redacted::Text(t) => StoredText::Redacted(t),
            Redacted::InvalidOffsets => StoredText::RedactionFailed,
        })
        .collect())
}

async fn put(deps: &Deps, key: &str, body: Vec<u8>) -> Result<(), ObjectError> {
    deps.s3
        .put_object()
        .bucket(&deps.config.lake_bucket)
        .key(key)
        .content_type("application/json")
        .body(ByteStream::from(body))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| ObjectError::Write {
            key: key.to_owned(),
            code: error_code(&e),
        })
}

#[cfg(test)]
mod tests;
