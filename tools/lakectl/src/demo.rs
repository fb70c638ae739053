//! `lakectl demo`: a day of synthetic contact-center traffic through the whole lake, on one
//! machine: the real function binaries behind local Lambda Runtime APIs, against the local AWS
//! emulator, provisioned as `template.yaml` provisions AWS.
//!
//! 1. Contact records and agent events → `firehose-transform` → S3. The demo plays Firehose's
//!    part: it buffers records into requests, checks each response against Firehose's contract,
//!    and writes one object per dynamic partition (and failed records to the error prefix).
//! 2. Bucket notifications → SQS → `s3-cataloger` → Glue tables and partitions.
//! 3. Transcripts (three formats) and recordings → SQS → `sentiment-enricher` (lexicon provider)
//!    → sentiment tables in the lake → cataloged.
//! 4. Contact-flow invocations → `contact-flow-logger` and `fraud-router`.
//! 5. Connect's own telemetry, derived from the day's contacts ([`crate::generate::telemetry`]):
//!    `AWS/Connect` metric-stream data points → `firehose-transform` on the metrics delivery
//!    stream → `connect_metrics`; Connect's native flow logs, shipped as the log subscription
//!    does → `connect_flow_logs`. Both cataloged.
//! 6. Every named query of the template through the Glue catalog, and `lakectl report`'s page.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use lambda_harness::{Emulator, EmulatorError, FunctionError, InvokeError, LocalFunction, sibling_binary};
use serde_json::Value;

use crate::firehose::{self, ContractError, Delivery};
use crate::generate::{Caller, DENY_LISTED, Generator, TrafficOptions, TranscriptFormat, telemetry};
use crate::lake::{DrainStats, Lake, LakeError, LakeNames, emulator_config};
use crate::stream::{Expected, Stream};
use connect_lake::config::LakeFormat;

pub use crate::DEMO_PII_KEY;
const DENY_LIST: &str = include_str!("../../../events/deny-list.txt");
const FRAUD_POLICY: &str = include_str!("../../../events/fraud-policy.json");

#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub contacts: usize,
    pub seed: u64,
    pub transcripts: usize,
    pub recordings: usize,
    pub flow_events: usize,
    pub progress: bool,
    pub keep_running: bool,
    /// Where the function binaries are; by default next to this executable.
    pub bin_dir: Option<PathBuf>,
    /// The lake's format: Parquet as deployed (the demo plays Firehose's record format
    /// conversion), or JSON lines.
    pub format: LakeFormat,
    /// Where to write `lakectl report`'s page of the demo lake (`make demo`: `.demo/report.html`).
    pub report: Option<PathBuf>,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            contacts: 2000,
            seed: 42,
            transcripts: 300,
            recordings: 20,
            flow_events: 500,
            progress: true,
            keep_running: false,
            bin_dir: None,
            format: LakeFormat::Parquet,
            report: None,
        }
    }
}

impl DemoOptions {
    /// Scales transcripts, recordings and flow events with the number of contacts.
    pub fn scaled(contacts: usize, seed: u64) -> Self {
        let base = DemoOptions::default();
        let scale = |n: usize| (n * contacts).div_ceil(base.contacts).max(1);
        DemoOptions {
            contacts,
            seed,
            transcripts: scale(base.transcripts),
            recordings: scale(base.recordings),
            flow_events: scale(base.flow_events),
            ..base
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("the local AWS emulator: {0}")]
    Emulator(#[from] EmulatorError),
    #[error(transparent)]
    Lake(#[from] LakeError),
    #[error("could not start {name}: {source}")]
    Start { name: &'static str, source: FunctionError },
    #[error("{name} invocation failed: {source}")]
    Invoke { name: &'static str, source: InvokeError },
    #[error("{name} returned a function error: {message}")]
    FunctionError { name: &'static str, message: String },
    #[error("firehose-transform broke Firehose's contract: {0}")]
    Contract(#[from] ContractError),
    #[error("records lost or failed unexpectedly: {0}")]
    Lost(String),
    #[error("a named query failed on the demo lake: {0}")]
    Query(String),
}

/// Figures of one stage.
#[derive(Debug, Clone, Default)]
pub struct StageFigures {
    pub records: u64,
    pub bytes: u64,
    pub invocations: u64,
    /// Wall time of the stage, emulator calls included.
    pub elapsed: Duration,
    /// Time inside the function invocations alone.
    pub function_time: Duration,
}

impl StageFigures {
    pub fn records_per_second(&self) -> f64 {
        self.records as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Everything the demo did, for the summary and for the end-to-end tests.
#[derive(Debug, Clone, Default)]
pub struct DemoReport {
    pub endpoint: String,
    pub bucket: String,
    pub contacts: usize,
    pub ctr_records_streamed: usize,
    pub superseded_copies: usize,
    /// Older copies whose latest copy went in another Firehose request: `Ok`, and in the lake.
    pub older_copies_in_lake: usize,
    pub agent_events: usize,
    pub heartbeats: usize,
    pub delivery: Delivery,
    pub objects_written: usize,
    /// Bytes of the objects of the Firehose tables (`ctr`, `agent_events`), in the lake's format.
    pub bytes_per_table: BTreeMap<String, u64>,
    /// Rows Firehose's record format conversion (played locally) could not convert.
    pub conversion_failed: u64,
    pub format: LakeFormat,
    /// Fraud decisions and flow-log records shipped from the functions' logs to the lake.
    pub fraud_decision_records: usize,
    pub flow_log_records: usize,
    /// Distinct contact ids found in the `ctr` objects read back from the lake.
    pub contacts_in_lake: usize,
    pub transform: StageFigures,
    pub transform_init: Duration,
    pub catalog: DrainStats,
    pub catalog_figures: StageFigures,
    pub partitions: BTreeMap<String, usize>,
    pub transcripts_put: usize,
    pub recordings_put: usize,
    pub enrich: DrainStats,
    pub enrich_figures: StageFigures,
    pub contact_sentiment_rows: usize,
    pub sentiment: BTreeMap<String, usize>,
    pub flow_figures: StageFigures,
    pub denied: usize,
    pub deny_listed_calls: usize,
    pub fraud_levels: BTreeMap<String, usize>,
    pub fraud_reasons: BTreeMap<String, usize>,
    pub flow_errors: usize,
    /// Stage 5: Connect's metrics and flow logs.
    pub telemetry: TelemetryFigures,
    /// Stage 6: every named query of the template, run on the lake.
    pub named_queries: Vec<crate::query::NamedRun>,
    /// Named queries not run because they read a table the lake does not have: the demo feeds
    /// every table, so it fails when this is not empty.
    pub named_queries_skipped: Vec<crate::query::NamedSkip>,
    pub consumption_elapsed: Duration,
    /// The report page written at the end, as `lakectl report` describes it.
    pub report: Option<String>,
}

/// Stage 5's figures: Connect's own telemetry in the lake.
#[derive(Debug, Clone, Default)]
pub struct TelemetryFigures {
    /// Metric-stream data points played, per metric name.
    pub data_points: BTreeMap<String, usize>,
    /// firehose-transform's results on the metrics delivery stream, and the rows it delivered.
    pub delivery: Delivery,
    pub objects_written: usize,
    /// `connect_metrics` rows and bytes read back from the lake.
    pub metric_rows_in_lake: u64,
    pub metric_bytes: u64,
    /// Connect's flow-log records shipped, those whose block took its error branch, and the
    /// `connect_flow_logs` rows read back from the lake.
    pub flow_log_records: usize,
    pub flow_log_error_blocks: usize,
    pub flow_log_contacts: usize,
    pub flow_log_rows_in_lake: u64,
    pub figures: StageFigures,
}

/// The delivery streams the demo plays, named as `template.yaml` names them for a stack called
/// `connect-lake-demo`.
const CTR_STREAM: &str = "connect-lake-demo-ctr";
const AGENT_EVENT_STREAM: &str = "connect-lake-demo-agent-events";
const METRICS_STREAM: &str = "connect-lake-demo-metrics";
const CONNECT_FLOW_LOG_STREAM: &str = "connect-lake-demo-connect-flow-logs";

/// firehose-transform's `EXPECTED_TABLES` as the template sets it, for the demo's stack.
fn expected_tables() -> String {
    format!("{CTR_STREAM}=ctr,{AGENT_EVENT_STREAM}=agent_events,{METRICS_STREAM}=connect_metrics")
}

fn binary(opts: &DemoOptions, name: &str) -> PathBuf {
    opts.bin_dir
        .as_ref()
        .map_or_else(|| sibling_binary(name), |d| d.join(name))
}

fn bar(opts: &DemoOptions, len: u64, label: &str) -> ProgressBar {
    if !opts.progress {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{prefix:>20} [{bar:30}] {pos}/{len} {per_sec} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_prefix(label.to_owned());
    pb
}

async fn start(
    opts: &DemoOptions,
    name: &'static str,
    env: Vec<(&'static str, String)>,
) -> Result<LocalFunction, DemoError> {
    LocalFunction::start(&binary(opts, name), env)
        .await
        .map_err(|source| DemoError::Start { name, source })
}

/// Runs the demo. With `keep_running`, the emulator stays up until Ctrl-C.
///
/// # Errors
/// A function that cannot start, fails, breaks its contract, or loses records.
pub async fn run(opts: &DemoOptions) -> Result<DemoReport, DemoError> {
    let emulator = Emulator::start().await?;
    let report = run_on(opts, &emulator).await?;
    if opts.keep_running {
        println!("{}", summary(&report));
        println!(
            "The emulator stays up at {} until Ctrl-C. For example:",
            emulator.endpoint()
        );
        let me = std::env::current_exe().map_or_else(|_| "lakectl".to_owned(), |p| p.display().to_string());
        println!(
            "  export AWS_ENDPOINT_URL={} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1",
            emulator.endpoint()
        );
        println!("  {me} query --named abandonment-by-queue --month {DEMO_MONTH}");
        println!("  {me} query --named queue-peaks-by-hour --month {DEMO_MONTH}");
        println!("  {me} query 'SELECT channel, count(*) AS contacts FROM ctr GROUP BY channel'");
        let _ = tokio::signal::ctrl_c().await;
    }
    Ok(report)
}

/// Runs the demo against an emulator that is already up.
///
/// # Errors
/// As [`run`].
pub async fn run_on(opts: &DemoOptions, emulator: &Emulator) -> Result<DemoReport, DemoError> {
    let names = LakeNames::default();
    let lake = Lake::new(&emulator_config(emulator).await, names.clone());
    lake.provision(DENY_LIST, FRAUD_POLICY).await?;
    let pii_key_secret = lake.put_pii_key(DEMO_PII_KEY).await?;

    let mut generator = Generator::new(opts.seed);
    let traffic_opts = TrafficOptions::new(opts.contacts, opts.seed);
    let traffic = generator.traffic(&traffic_opts);
    let mut report = DemoReport {
        endpoint: emulator.endpoint(),
        bucket: names.bucket.clone(),
        contacts: traffic.unique_contacts(),
        ctr_records_streamed: traffic.ctrs.len(),
        format: opts.format,
        superseded_copies: traffic.ctrs.iter().filter(|c| !c.latest).count(),
        agent_events: traffic.agent_events.len(),
        ..DemoReport::default()
    };

    let mut common: Vec<(&'static str, String)> = emulator.env();
    common.extend([
        ("LAKE_BUCKET", names.bucket.clone()),
        ("GLUE_DATABASE", names.database.clone()),
        // The cataloger declares the Firehose tables in this format; the demo plays Firehose's
        // record format conversion when it is Parquet, as deployed.
        ("LAKE_FORMAT", format_name(opts.format).to_owned()),
        // As deployed: the functions read the key from Secrets Manager at init.
        ("PII_TOKEN_SECRET_ARN", pii_key_secret),
        ("METRICS_NAMESPACE", "ConnectLakeDemo".to_owned()),
        ("AWS_LAMBDA_LOG_LEVEL", "WARN".to_owned()),
    ]);

    // Stage 1: contact records and agent events, each on its own Kinesis-fed delivery stream as
    // deployed, through firehose-transform (EXPECTED_TABLES as the template sets it) into S3.
    let name = "firehose-transform";
    let mut transform_env = common.clone();
    transform_env.push(("EXPECTED_TABLES", expected_tables()));
    let transform = start(opts, name, transform_env.clone()).await?;
    report.transform_init = transform.init;
    let streams = [
        (CTR_STREAM, Stream::contact_records(&traffic)),
        (AGENT_EVENT_STREAM, Stream::agent_events(&traffic)),
    ];
    let records: usize = streams.iter().map(|(_, s)| s.records.len()).sum();
    let pb = bar(opts, records as u64, "1 firehose-transform");
    let started = Instant::now();
    // What the transform must return follows from the batches played: an older copy is dropped
    // only when its latest copy shares its request.
    let mut expected = Expected::default();
    for (delivery_stream, stream) in &streams {
        report.heartbeats += stream.heartbeats();
        let source = firehose::Source {
            delivery_stream,
            kinesis_stream: Some(delivery_stream),
        };
        let requests = firehose::batches(
            source,
            &stream.records,
            firehose::DEFAULT_BATCH_BYTES,
            1_772_928_000_000,
        );
        for (batch, request) in requests.iter().enumerate() {
            let target = (&lake, *delivery_stream, opts.format);
            let (delivered, written) = play_request(&transform, request, batch, target, &mut report.transform).await?;
            report.objects_written += written.objects;
            report.conversion_failed += written.conversion_failed;
            report.delivery.merge(delivered);
            pb.inc(request.records.len() as u64);
        }
        let here = Expected::for_batches(stream, &requests);
        expected.ok += here.ok;
        expected.dropped += here.dropped;
        expected.older_copies_in_lake += here.older_copies_in_lake;
    }
    report.transform.elapsed = started.elapsed();
    pb.finish();
    drop(transform);

    report.older_copies_in_lake = expected.older_copies_in_lake;
    let d = &report.delivery;
    if d.failed > 0 || d.ok as usize != expected.ok || d.dropped as usize != expected.dropped {
        return Err(DemoError::Lost(format!(
            "firehose-transform: {} Ok, {} Dropped, {} ProcessingFailed; expected {} Ok and {} Dropped",
            d.ok, d.dropped, d.failed, expected.ok, expected.dropped
        )));
    }
    // Nothing is lost: the lake holds exactly the Ok rows, and every contact's latest copy.
    let mut in_lake = BTreeSet::new();
    let mut rows_in_lake = 0u64;
    for (table, id_column) in [("ctr/", "contact_id"), ("agent_events/", "event_id")] {
        for key in lake.keys(table).await? {
            let body = lake.get(&key).await?;
            *report
                .bytes_per_table
                .entry(table.trim_end_matches('/').to_owned())
                .or_default() += body.len() as u64;
            let ids = object_column(&key, body, id_column).map_err(|e| DemoError::Lost(format!("{key}: {e}")))?;
            rows_in_lake += ids.len() as u64;
            if table == "ctr/" {
                in_lake.extend(ids.into_iter().flatten());
            }
        }
    }
    if report.conversion_failed > 0 {
        return Err(DemoError::Lost(format!(
            "{} rows failed Parquet conversion (see errors/format-conversion-failed/)",
            report.conversion_failed
        )));
    }
    if rows_in_lake != d.ok {
        return Err(DemoError::Lost(format!(
            "the lake holds {rows_in_lake} rows for {} Ok records",
            d.ok
        )));
    }
    report.contacts_in_lake = in_lake.len();
    let missing: Vec<&String> = traffic
        .ctrs
        .iter()
        .filter(|c| c.latest)
        .map(|c| &c.contact_id)
        .filter(|id| !in_lake.contains(*id))
        .collect();
    if !missing.is_empty() {
        return Err(DemoError::Lost(format!(
            "{} contacts have no copy in the lake",
            missing.len()
        )));
    }

    // Stage 2: bucket notifications → SQS → s3-cataloger → Glue.
    let cataloger = start(opts, "s3-cataloger", common.clone()).await?;
    let pb = bar(opts, report.objects_written as u64, "2 s3-cataloger");
    let started = Instant::now();
    report.catalog = lake.drain(&names.catalog_queue, "s3-cataloger", &cataloger).await?;
    report.catalog_figures.elapsed = started.elapsed();
    pb.set_position(report.catalog.messages);
    pb.finish();

    // Stage 3: transcripts and recordings → SQS → sentiment-enricher → lake → cataloged.
    let voice: Vec<(String, time::OffsetDateTime)> = traffic
        .ctrs
        .iter()
        .filter(|c| c.latest)
        .filter_map(|c| {
            let v: Value = serde_json::from_slice(&c.json).ok()?;
            (v["Channel"] == "VOICE" && v["Agent"].is_object()).then(|| {
                let start =
                    connect_lake::time_fmt::parse_rfc3339(v["InitiationTimestamp"].as_str().unwrap_or_default());
                (c.contact_id.clone(), start.unwrap_or(time::OffsetDateTime::UNIX_EPOCH))
            })
        })
        .collect();
    let formats = [
        TranscriptFormat::Standard,
        TranscriptFormat::CallAnalytics,
        TranscriptFormat::ContactLens,
    ];
    let pb = bar(
        opts,
        (opts.transcripts + opts.recordings) as u64,
        "3 sentiment-enricher",
    );
    let mut inputs = Vec::new();
    for (i, (contact_id, at)) in voice.iter().take(opts.transcripts).enumerate() {
        let format = formats[i % formats.len()];
        let object = generator.transcript(
            contact_id,
            *at,
            format,
            &names.transcripts_prefix,
            &names.recordings_prefix,
        );
        inputs.push((object.key, object.body));
    }
    report.transcripts_put = lake.put_all(inputs).await?;
    for (contact_id, at) in voice.iter().skip(opts.transcripts).take(opts.recordings) {
        let key = format!(
            "{}demo/CallRecordings/{:04}/{:02}/{:02}/{contact_id}_{:04}{:02}{:02}T{:02}:{:02}_UTC.wav",
            names.recordings_prefix,
            at.year(),
            u8::from(at.month()),
            at.day(),
            at.year(),
            u8::from(at.month()),
            at.day(),
            at.hour(),
            at.minute()
        );
        lake.put(&key, b"RIFF\0\0\0\0WAVEfmt ".to_vec()).await?;
        report.recordings_put += 1;
    }
    let mut enricher_env = common.clone();
    enricher_env.extend([
        ("SENTIMENT_PROVIDER", "lexicon".to_owned()),
        ("RECORDINGS_PREFIX", names.recordings_prefix.clone()),
        ("TRANSCRIPTS_PREFIX", names.transcripts_prefix.clone()),
        ("TRANSCRIBE_LANGUAGE", "en-US".to_owned()),
        (
            "TRANSCRIBE_ROLE_ARN",
            "arn:aws:iam::012345678901:role/connect-lake-demo-transcribe".to_owned(),
        ),
        // As deployed: Transcribe encrypts transcripts with the lake key.
        (
            "TRANSCRIBE_OUTPUT_KMS_KEY_ID",
            "arn:aws:kms:us-east-1:012345678901:key/00000000-0000-4000-8000-00000000c0de".to_owned(),
        ),
    ]);
    let enricher = start(opts, "sentiment-enricher", enricher_env).await?;
    let started = Instant::now();
    report.enrich = lake.drain(&names.enrich_queue, "sentiment-enricher", &enricher).await?;
    report.enrich_figures.elapsed = started.elapsed();
    report.enrich_figures.records = report.enrich.messages;
    pb.set_position(report.enrich.messages);
    pb.finish();
    // The sentiment tables' new objects are cataloged like any other.
    let more = lake.drain(&names.catalog_queue, "s3-cataloger", &cataloger).await?;
    report.catalog.messages += more.messages;
    report.catalog.failed += more.failed;
    report.catalog.invocations += more.invocations;
    report.catalog.function_time += more.function_time;
    report.catalog_figures.records = report.catalog.messages;
    report.catalog_figures.function_time = report.catalog.function_time;
    report.enrich_figures.function_time = report.enrich.function_time;
    drop(enricher);
    for key in lake.keys("contact_sentiment/").await? {
        let body = lake.get(&key).await?;
        for line in body.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            if let Ok(row) = serde_json::from_slice::<Value>(line) {
                report.contact_sentiment_rows += 1;
                let s = row["customer_sentiment"].as_str().unwrap_or("UNKNOWN").to_owned();
                *report.sentiment.entry(s).or_default() += 1;
            }
        }
    }
    if report.catalog.failed > 0 || report.enrich.failed > 0 {
        return Err(DemoError::Lost(format!(
            "{} cataloger and {} enricher messages failed",
            report.catalog.failed, report.enrich.failed
        )));
    }

    // Stage 4: contact-flow invocations → contact-flow-logger and fraud-router.
    let mut flow_env = common.clone();
    flow_env.extend([
        ("DENY_LIST_URI", lake.deny_list_uri()),
        ("FRAUD_POLICY_URI", lake.policy_uri()),
    ]);
    let logger = start(opts, "contact-flow-logger", flow_env.clone()).await?;
    let router = start(opts, "fraud-router", flow_env).await?;
    let pb = bar(opts, opts.flow_events as u64, "4 contact flows");
    let started = Instant::now();
    for i in 0..opts.flow_events {
        let (caller, event) = generator.flow_event(i);
        if caller == Caller::DenyListed {
            report.deny_listed_calls += 1;
        }
        for (name, function) in [("contact-flow-logger", &logger), ("fraud-router", &router)] {
            let answer = function.invoke_json(&event, Duration::from_secs(8)).await;
            report.flow_figures.invocations += 1;
            if let Ok(inv) = &answer {
                report.flow_figures.function_time += inv.round_trip;
            }
            let parsed = answer.map_err(|e| e.to_string()).and_then(|inv| {
                let body = inv.response()?;
                serde_json::from_slice::<BTreeMap<String, String>>(body).map_err(|e| e.to_string())
            });
            let Ok(answer) = parsed else {
                report.flow_errors += 1;
                continue;
            };
            if name == "contact-flow-logger" {
                if answer.get("deny").is_some_and(|d| d == "true") {
                    report.denied += 1;
                }
            } else {
                *report
                    .fraud_levels
                    .entry(answer.get("risk_level").cloned().unwrap_or_default())
                    .or_default() += 1;
                // Flow answers allow only letters, digits, `-`, `_` and `.`: the codes are `.`-separated.
                let reasons = answer.get("reasons").map(|r| r.split([',', '.'])).into_iter().flatten();
                for reason in reasons.filter(|r| !r.is_empty()) {
                    *report.fraud_reasons.entry(reason.to_owned()).or_default() += 1;
                }
            }
        }
        report.flow_figures.records += 1;
        pb.inc(1);
    }
    report.flow_figures.elapsed = started.elapsed();
    pb.finish();
    // The log subscriptions ship each function's records to the lake through Firehose, which
    // partitions them by arrival: here, the demo day, one invocation every few seconds.
    let arrival = |i: usize| {
        let day = time::macros::datetime!(2026-03-08 00:00 UTC);
        day + time::Duration::seconds((i as i64 * 86_399) / opts.flow_events.max(1) as i64)
    };
    let decisions = log_records(&router, FRAUD_DECISION_RECORD, opts.flow_events, &arrival).await;
    let flow_logs = log_records(&logger, FLOW_LOG_RECORD, opts.flow_events, &arrival).await;
    report.fraud_decision_records = decisions.len();
    report.flow_log_records = flow_logs.len();
    lake.ship_log_records("fraud_decisions", "connect-lake-demo-fraud-decisions", &decisions)
        .await?;
    lake.ship_log_records("contact_flow_logs", "connect-lake-demo-flow-logs", &flow_logs)
        .await?;
    drop((logger, router));
    let shipped = lake.drain(&names.catalog_queue, "s3-cataloger", &cataloger).await?;
    report.catalog.messages += shipped.messages;
    report.catalog.failed += shipped.failed;
    report.catalog.invocations += shipped.invocations;
    if decisions.len() != opts.flow_events || flow_logs.len() != opts.flow_events || shipped.failed > 0 {
        return Err(DemoError::Lost(format!(
            "{} fraud decisions and {} flow-log records for {} invocations each; {} catalog messages failed",
            decisions.len(),
            flow_logs.len(),
            opts.flow_events,
            shipped.failed
        )));
    }
    if report.flow_errors > 0 || report.denied < report.deny_listed_calls {
        return Err(DemoError::Lost(format!(
            "{} contact-flow answers were errors; {} of {} deny-listed callers were denied (numbers {DENY_LISTED:?})",
            report.flow_errors, report.denied, report.deny_listed_calls
        )));
    }

    // Stage 5: Connect's own telemetry, derived from the day's contacts.
    // Boxed, as run_on's future is large already: its callers keep it on their stack.
    Box::pin(connect_telemetry(opts, &lake, &traffic, transform_env, &mut report)).await?;
    let shipped = lake.drain(&names.catalog_queue, "s3-cataloger", &cataloger).await?;
    report.catalog.messages += shipped.messages;
    report.catalog.failed += shipped.failed;
    report.catalog.invocations += shipped.invocations;
    report.partitions = lake.glue_partitions().await?;
    drop(cataloger);
    if shipped.failed > 0 {
        return Err(DemoError::Lost(format!(
            "{} catalog messages of Connect's telemetry failed",
            shipped.failed
        )));
    }

    // Stage 6: consumption. Every named query of template.yaml, unmodified, through the Glue
    // catalog by a real SQL engine, for the demo's month.
    let started = Instant::now();
    let config = emulator_config(emulator).await;
    (report.named_queries, report.named_queries_skipped) =
        crate::query::run_all_named(&config, &names.database, crate::query::TEMPLATE, DEMO_MONTH, 5)
            .await
            .map_err(|e| DemoError::Query(e.to_string()))?;
    report.consumption_elapsed = started.elapsed();
    if let Some(skip) = report.named_queries_skipped.first() {
        return Err(DemoError::Query(format!(
            "{} was not run: the lake has no {}",
            skip.name,
            skip.missing_tables.join(", ")
        )));
    }
    if let Some(out) = &opts.report {
        if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| DemoError::Query(format!("{}: {e}", dir.display())))?;
        }
        let options = crate::report::ReportOptions {
            out: out.clone(),
            window: None,
        };
        let written = crate::report::write_report(&config, &names.database, &options)
            .await
            .map_err(|e| DemoError::Query(format!("the report: {e}")))?;
        report.report = Some(written.to_string());
    }
    Ok(report)
}

/// Plays one transformation request: `firehose-transform` answers it, the response is checked
/// against Firehose's contract, and its rows are delivered to `target` (the lake, the delivery
/// stream's name, the format) as Firehose would. Adds the call to `figures`.
async fn play_request(
    transform: &LocalFunction,
    request: &firehose_transform::firehose::FirehoseRequest,
    batch: usize,
    target: (&Lake, &str, LakeFormat),
    figures: &mut StageFigures,
) -> Result<(Delivery, crate::lake::Delivered), DemoError> {
    const NAME: &str = "firehose-transform";
    let body = serde_json::to_vec(request).unwrap_or_default();
    figures.bytes += body.len() as u64;
    let invocation = transform
        .invoke(body, Duration::from_secs(60))
        .await
        .map_err(|source| DemoError::Invoke { name: NAME, source })?;
    figures.function_time += invocation.round_trip;
    let response = invocation
        .response()
        .map_err(|message| DemoError::FunctionError { name: NAME, message })?;
    let mut delivered = Delivery::default();
    delivered.add(request, response)?;
    let (lake, stream, format) = target;
    let written = lake.deliver(&delivered, stream, batch, format).await?;
    figures.invocations += 1;
    figures.records += request.records.len() as u64;
    Ok((delivered, written))
}

/// Stage 5: the `AWS/Connect` metric stream's data points through `firehose-transform` on the
/// metrics delivery stream (one data point per record, as the stream's deaggregation hands them
/// over), delivered as Firehose would into `connect_metrics`; Connect's flow logs shipped as the
/// log subscription would into `connect_flow_logs`. Everything written is read back.
async fn connect_telemetry(
    opts: &DemoOptions,
    lake: &Lake,
    traffic: &crate::generate::Traffic,
    transform_env: Vec<(&'static str, String)>,
    report: &mut DemoReport,
) -> Result<(), DemoError> {
    let started = Instant::now();
    let blocks = telemetry::flow_logs(traffic);
    let records = telemetry::metric_stream_records(traffic, &blocks);
    let t = &mut report.telemetry;
    for record in &records {
        let metric = serde_json::from_slice::<Value>(record)
            .ok()
            .and_then(|v| v["metric_name"].as_str().map(str::to_owned))
            .unwrap_or_default();
        *t.data_points.entry(metric).or_default() += 1;
    }
    let transform = start(opts, "firehose-transform", transform_env).await?;
    let pb = bar(opts, records.len() as u64, "5 Connect telemetry");
    // A metric stream puts records directly into its delivery stream: no Kinesis source.
    let source = firehose::Source {
        delivery_stream: METRICS_STREAM,
        kinesis_stream: None,
    };
    let requests = firehose::batches(source, &records, firehose::DEFAULT_BATCH_BYTES, 1_772_928_000_000);
    for (batch, request) in requests.iter().enumerate() {
        let target = (lake, METRICS_STREAM, opts.format);
        let (delivered, written) = play_request(&transform, request, batch, target, &mut t.figures).await?;
        t.objects_written += written.objects;
        report.conversion_failed += written.conversion_failed;
        t.delivery.merge(delivered);
        pb.inc(request.records.len() as u64);
    }
    pb.finish();
    drop(transform);
    let d = &t.delivery;
    if d.failed > 0 || d.ok as usize != records.len() || report.conversion_failed > 0 {
        return Err(DemoError::Lost(format!(
            "firehose-transform on {METRICS_STREAM}: {} Ok, {} Dropped, {} ProcessingFailed for {} data points; \
             {} rows failed Parquet conversion",
            d.ok,
            d.dropped,
            d.failed,
            records.len(),
            report.conversion_failed
        )));
    }
    for key in lake.keys("connect_metrics/").await? {
        let body = lake.get(&key).await?;
        t.metric_bytes += body.len() as u64;
        let rows = object_column(&key, body, "metric_name").map_err(|e| DemoError::Lost(format!("{key}: {e}")))?;
        t.metric_rows_in_lake += rows.len() as u64;
    }

    // Connect writes each block's log event as it runs; the subscription's delivery stream
    // partitions by arrival, here the block's own time (logs arrive within seconds).
    let logged: Vec<(time::OffsetDateTime, Vec<u8>)> = blocks.iter().map(|b| (b.at, b.to_json())).collect();
    t.flow_log_records = logged.len();
    t.flow_log_error_blocks = blocks.iter().filter(|b| b.is_error()).count();
    t.flow_log_contacts = blocks
        .iter()
        .map(|b| b.contact_id.as_str())
        .collect::<BTreeSet<_>>()
        .len();
    lake.ship_log_records("connect_flow_logs", CONNECT_FLOW_LOG_STREAM, &logged)
        .await?;
    for key in lake.keys("connect_flow_logs/").await? {
        let mut text = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&lake.get(&key).await?[..]), &mut text)
            .map_err(|e| DemoError::Lost(format!("{key}: {e}")))?;
        t.flow_log_rows_in_lake += text.split(|b| *b == b'\n').filter(|l| !l.is_empty()).count() as u64;
    }
    t.figures.elapsed = started.elapsed();
    if t.metric_rows_in_lake != d.ok || t.flow_log_rows_in_lake != t.flow_log_records as u64 {
        return Err(DemoError::Lost(format!(
            "the lake holds {} connect_metrics rows for {} Ok records and {} connect_flow_logs rows for {} records shipped",
            t.metric_rows_in_lake, d.ok, t.flow_log_rows_in_lake, t.flow_log_records
        )));
    }
    Ok(())
}

/// The month of the demo's day (2026-03-08), which the named queries are run for.
pub const DEMO_MONTH: &str = "2026-03";

fn format_name(format: LakeFormat) -> &'static str {
    match format {
        LakeFormat::Parquet => "parquet",
        LakeFormat::Json => "json",
    }
}

/// The `record` field of fraud-router's and contact-flow-logger's lake records.
const FRAUD_DECISION_RECORD: &str = "fraud_decision";
const FLOW_LOG_RECORD: &str = "contact_flow_log";

/// The function's lake records among its log lines (JSON objects whose `record` is `kind`), each
/// with the arrival time Firehose would partition it by. The log pipe is read asynchronously, so
/// it waits (up to five seconds) for the `expected` records the invocations wrote.
async fn log_records(
    function: &LocalFunction,
    kind: &str,
    expected: usize,
    arrival: &dyn Fn(usize) -> time::OffsetDateTime,
) -> Vec<(time::OffsetDateTime, Vec<u8>)> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let records: Vec<String> = function
            .process
            .stderr_lines()
            .into_iter()
            .filter(|line| {
                serde_json::from_str::<Value>(line).is_ok_and(|v| v.get("record").and_then(Value::as_str) == Some(kind))
            })
            .collect();
        if records.len() >= expected || Instant::now() >= deadline {
            return records
                .into_iter()
                .enumerate()
                .map(|(i, line)| (arrival(i), line.into_bytes()))
                .collect();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One column of a lake object, Parquet or JSON lines, as strings: what the demo reads back to
/// prove nothing was lost. (The independent check is pyarrow's, in the tests.)
fn object_column(key: &str, body: Vec<u8>, column: &str) -> Result<Vec<Option<String>>, String> {
    if key.ends_with(".parquet") {
        return crate::convert::read_string_column(body, column).map_err(|e| e.to_string());
    }
    Ok(body
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|line| {
            serde_json::from_slice::<Value>(line)
                .ok()
                .and_then(|row| row.get(column).and_then(Value::as_str).map(str::to_owned))
        })
        .collect())
}

/// The summary printed at the end of `lakectl demo`.
pub fn summary(report: &DemoReport) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let d = &report.delivery;
    let per_s = |f: &StageFigures| f.records as f64 / f.elapsed.as_secs_f64().max(1e-9);
    let in_fn = |f: &StageFigures| f.records as f64 / f.function_time.as_secs_f64().max(1e-9);
    let _ = writeln!(s, "\nconnect-lake demo summary");
    let _ = writeln!(s, "=========================");
    let _ = writeln!(
        s,
        "generated: {} contacts ({} records on the contact-record stream, {} of them older copies), {} agent events ({} heartbeats)",
        report.contacts, report.ctr_records_streamed, report.superseded_copies, report.agent_events, report.heartbeats
    );
    let _ = writeln!(
        s,
        "\n1. firehose-transform (the demo plays Firehose's buffering, partitioning and S3 delivery)"
    );
    let _ = writeln!(
        s,
        "   results: Ok {}  Dropped {}  ProcessingFailed {}",
        d.ok, d.dropped, d.failed
    );
    for (table, rows) in &d.rows_per_table {
        let partitions = d.partitions.keys().filter(|(t, _)| t == table).count();
        let bytes = report.bytes_per_table.get(table).copied().unwrap_or_default();
        let _ = writeln!(
            s,
            "   {table:<14} {rows:>6} rows in {partitions} hourly partitions, {:.2} MB of {}",
            bytes as f64 / 1e6,
            format_name(report.format)
        );
    }
    let _ = writeln!(
        s,
        "   {} objects written; {} distinct contacts read back from the lake",
        report.objects_written, report.contacts_in_lake
    );
    if report.older_copies_in_lake > 0 {
        let _ = writeln!(
            s,
            "   {} older copies reached the lake across batches (the latest-copy view removes them)",
            report.older_copies_in_lake
        );
    }
    let t = &report.transform;
    let _ = writeln!(
        s,
        "   throughput: {:.0} records/s in the function ({:.1} MB/s of request JSON, {} invocations, init {:.1} ms); \
         {:.0} records/s with the emulator's S3 writes",
        in_fn(t),
        t.bytes as f64 / 1e6 / t.function_time.as_secs_f64().max(1e-9),
        t.invocations,
        report.transform_init.as_secs_f64() * 1e3,
        per_s(t)
    );
    for table in ["ctr", "agent_events"] {
        if let Some((_, row)) = d.rows().find(|(k, _)| k.0 == table) {
            let _ = writeln!(s, "   sample {table} row: {row}");
        }
    }
    let _ = writeln!(
        s,
        "\n2. s3-cataloger: {} notifications in {} invocations, {} failed; {:.0} notifications/s in the function, {:.0}/s with the emulator",
        report.catalog.messages,
        report.catalog.invocations,
        report.catalog.failed,
        in_fn(&report.catalog_figures),
        per_s(&report.catalog_figures)
    );
    let _ = writeln!(s, "   Glue tables and partitions:");
    for (table, n) in &report.partitions {
        let _ = writeln!(s, "   {table:<18} {n:>4} partitions");
    }
    let _ = writeln!(
        s,
        "\n3. sentiment-enricher (lexicon provider): {} transcripts and {} recordings, {} notifications, {} failed; \
         {:.0} objects/s in the function, {:.0}/s with the emulator",
        report.transcripts_put,
        report.recordings_put,
        report.enrich.messages,
        report.enrich.failed,
        in_fn(&report.enrich_figures),
        per_s(&report.enrich_figures)
    );
    let total: usize = report.sentiment.values().sum();
    let dist: Vec<String> = report
        .sentiment
        .iter()
        .map(|(k, v)| format!("{k} {v} ({:.0}%)", 100.0 * *v as f64 / total.max(1) as f64))
        .collect();
    let _ = writeln!(s, "   customer sentiment per contact: {}", dist.join(", "));
    let _ = writeln!(
        s,
        "\n4. contact flows: {} invocations of each function, {:.0} invocations/s, {:.2} ms per answer on average",
        report.flow_figures.records,
        report.flow_figures.invocations as f64 / report.flow_figures.elapsed.as_secs_f64().max(1e-9),
        report.flow_figures.function_time.as_secs_f64() * 1e3 / report.flow_figures.invocations.max(1) as f64
    );
    let _ = writeln!(
        s,
        "   contact-flow-logger: {} callers denied ({} calls came from deny-listed numbers)",
        report.denied, report.deny_listed_calls
    );
    let levels: Vec<String> = report.fraud_levels.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let _ = writeln!(s, "   fraud-router decisions: {}", levels.join(", "));
    let mut reasons: Vec<(&String, &usize)> = report.fraud_reasons.iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let top: Vec<String> = reasons.iter().take(5).map(|(k, v)| format!("{k} {v}")).collect();
    let _ = writeln!(s, "   top reasons: {}", top.join(", "));
    let _ = writeln!(
        s,
        "   shipped to the lake: {} fraud decisions, {} flow-log records",
        report.fraud_decision_records, report.flow_log_records
    );
    let tm = &report.telemetry;
    let points: Vec<String> = tm.data_points.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let _ = writeln!(
        s,
        "\n5. Connect's telemetry, derived from the day's contacts: {} AWS/Connect data points ({}) \
         through firehose-transform on {METRICS_STREAM}",
        tm.data_points.values().sum::<usize>(),
        points.join(", ")
    );
    let metric_partitions = tm.delivery.partitions.len();
    let _ = writeln!(
        s,
        "   results: Ok {}  Dropped {}  ProcessingFailed {}; connect_metrics {} rows in {metric_partitions} hourly \
         partitions, {:.2} MB of {}",
        tm.delivery.ok,
        tm.delivery.dropped,
        tm.delivery.failed,
        tm.metric_rows_in_lake,
        tm.metric_bytes as f64 / 1e6,
        format_name(report.format)
    );
    let _ = writeln!(
        s,
        "   Connect's flow logs: {} blocks of {} contacts ({} took the error branch) shipped to connect_flow_logs",
        tm.flow_log_records, tm.flow_log_contacts, tm.flow_log_error_blocks
    );
    let _ = writeln!(
        s,
        "\n6. consumption: the {} named queries of template.yaml, unmodified, through the Glue catalog (DataFusion, month {DEMO_MONTH})",
        report.named_queries.len()
    );
    for run in &report.named_queries {
        let _ = writeln!(
            s,
            "   {:<34} {:>5} rows  {:>7.1} ms",
            run.name,
            run.rows,
            run.elapsed.as_secs_f64() * 1e3
        );
    }
    for run in &report.named_queries {
        if run.preview.lines().next().is_some_and(|l| l.len() > 160) {
            // A whole-row query (latest copy of each contact) is too wide to read here.
            continue;
        }
        let _ = writeln!(s, "\n   {}:", run.name);
        for line in run.preview.lines() {
            let _ = writeln!(s, "   {line}");
        }
    }
    if let Some(page) = &report.report {
        let _ = writeln!(s, "\n   the contact center at a glance, {page}");
    }
    let _ = writeln!(
        s,
        "\nwhere to look: s3://{}/ (emulator at {})",
        report.bucket, report.endpoint
    );
    let _ = writeln!(
        s,
        "   curated tables ({} lake): ctr/ agent_events/ sentiment_turns/ contact_sentiment/ fraud_decisions/ contact_flow_logs/ \
         connect_metrics/ connect_flow_logs/ (year=/month=/day=/hour=/)",
        format_name(report.format)
    );
    let _ = writeln!(
        s,
        "   inputs and config: transcripts/ connect/ config/ ; failed records: errors/processing-failed/, errors/format-conversion-failed/"
    );
    let _ = writeln!(
        s,
        "   query them: make demo DEMO_ARGS=--keep-running leaves the emulator up and prints the lakectl query commands"
    );
    s
}
