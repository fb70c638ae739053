//! `lakectl demo`: a day of synthetic contact-center traffic through the real function binaries,
//! behind a local Lambda Runtime API.
//!
//! Stage 1 (this module today): contact records and agent events → `firehose-transform`. The demo
//! plays Firehose's part (buffering records into requests and grouping the `Ok` rows by their
//! dynamic partition keys) and checks every response against Firehose's contract.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use lambda_harness::{FunctionError, InvokeError, LocalFunction, sibling_binary};

use crate::firehose::{self, ContractError, Delivery};
use crate::generate::{Generator, TrafficOptions};

/// A demo key: never use it for real data.
pub const DEMO_PII_KEY: &str = "connect-lake-demo-key-not-for-production-use";

#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub contacts: usize,
    pub seed: u64,
    pub progress: bool,
    /// Where the function binaries are; by default next to this executable.
    pub bin_dir: Option<PathBuf>,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            contacts: 2000,
            seed: 42,
            progress: true,
            bin_dir: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("could not start {name}: {source}")]
    Start { name: &'static str, source: FunctionError },
    #[error("{name} invocation failed: {source}")]
    Invoke { name: &'static str, source: InvokeError },
    #[error("{name} returned a function error: {message}")]
    FunctionError { name: &'static str, message: String },
    #[error("firehose-transform broke Firehose's contract: {0}")]
    Contract(#[from] ContractError),
    #[error("{0}")]
    Lost(String),
}

/// Figures of one stage.
#[derive(Debug, Clone, Default)]
pub struct StageFigures {
    pub records: u64,
    pub bytes: u64,
    pub invocations: u64,
    pub elapsed: Duration,
}

impl StageFigures {
    pub fn records_per_second(&self) -> f64 {
        self.records as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Everything the demo did, for the summary and for the end-to-end tests.
#[derive(Debug, Clone, Default)]
pub struct DemoReport {
    pub contacts: usize,
    pub ctr_records_streamed: usize,
    pub superseded_copies: usize,
    pub agent_events: usize,
    pub heartbeats: usize,
    pub delivery: Delivery,
    pub transform: StageFigures,
    pub transform_init: Duration,
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

/// Runs the demo.
///
/// # Errors
/// A function that cannot start, fails, breaks its contract, or loses records.
pub async fn run(opts: &DemoOptions) -> Result<DemoReport, DemoError> {
    let traffic = Generator::new(opts.seed).traffic(&TrafficOptions::new(opts.contacts, opts.seed));
    let mut report = DemoReport {
        contacts: traffic.unique_contacts(),
        ctr_records_streamed: traffic.ctrs.len(),
        superseded_copies: traffic.ctrs.iter().filter(|c| !c.latest).count(),
        agent_events: traffic.agent_events.len(),
        heartbeats: traffic
            .agent_events
            .iter()
            .filter(|e| e.windows(12).any(|w| w == b"\"HEART_BEAT\""))
            .count(),
        ..DemoReport::default()
    };

    // Stage 1: the stream, with agent events interleaved, through firehose-transform.
    let mut stream: Vec<Vec<u8>> = Vec::with_capacity(traffic.ctrs.len() + traffic.agent_events.len());
    let mut events = traffic.agent_events.iter();
    for (i, c) in traffic.ctrs.iter().enumerate() {
        stream.push(c.json.clone());
        if i % 2 == 1
            && let Some(e) = events.next()
        {
            stream.push(e.clone());
        }
    }
    stream.extend(events.cloned());

    let name = "firehose-transform";
    let env = [
        ("PII_TOKEN_KEY", DEMO_PII_KEY.to_owned()),
        ("AWS_LAMBDA_LOG_LEVEL", "WARN".to_owned()),
    ];
    let function = LocalFunction::start(&binary(opts, name), env)
        .await
        .map_err(|source| DemoError::Start { name, source })?;
    report.transform_init = function.init;
    let arrival_ms = 1_772_928_000_000; // 2026-03-08T00:00:00Z
    let requests = firehose::batches(&stream, firehose::DEFAULT_BATCH_BYTES, arrival_ms);
    let pb = bar(opts, stream.len() as u64, "firehose-transform");
    let started = Instant::now();
    for request in &requests {
        let body = serde_json::to_vec(request).unwrap_or_default();
        report.transform.bytes += body.len() as u64;
        let invocation = function
            .invoke(body, Duration::from_secs(60))
            .await
            .map_err(|source| DemoError::Invoke { name, source })?;
        let response = invocation
            .response()
            .map_err(|message| DemoError::FunctionError { name, message })?;
        report.delivery.add(request, response)?;
        report.transform.invocations += 1;
        report.transform.records += request.records.len() as u64;
        pb.inc(request.records.len() as u64);
    }
    report.transform.elapsed = started.elapsed();
    pb.finish();

    let expected_dropped = report.superseded_copies + report.heartbeats;
    let expected_ok = stream.len() - expected_dropped;
    if report.delivery.failed > 0 || report.delivery.ok as usize != expected_ok {
        return Err(DemoError::Lost(format!(
            "firehose-transform: {} Ok, {} Dropped, {} ProcessingFailed; expected {expected_ok} Ok and {expected_dropped} Dropped",
            report.delivery.ok, report.delivery.dropped, report.delivery.failed
        )));
    }
    Ok(report)
}

/// The summary printed at the end of `lakectl demo`.
pub fn summary(report: &DemoReport) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let d = &report.delivery;
    let _ = writeln!(s, "\nconnect-lake demo summary");
    let _ = writeln!(s, "=========================");
    let _ = writeln!(
        s,
        "generated: {} contacts ({} records on the stream, {} of them older copies), {} agent events ({} heartbeats)",
        report.contacts, report.ctr_records_streamed, report.superseded_copies, report.agent_events, report.heartbeats
    );
    let _ = writeln!(
        s,
        "\nfirehose-transform (the demo plays Firehose's buffering and dynamic partitioning)"
    );
    let _ = writeln!(
        s,
        "  results: Ok {}  Dropped {}  ProcessingFailed {}",
        d.ok, d.dropped, d.failed
    );
    for (table, rows) in &d.rows_per_table {
        let partitions = d.partitions.keys().filter(|(t, _)| t == table).count();
        let _ = writeln!(s, "  {table:<14} {rows:>6} rows in {partitions} hourly partitions");
    }
    let t = &report.transform;
    let _ = writeln!(
        s,
        "  throughput: {:.0} records/s, {:.1} MB/s of request JSON, {} invocations, init {:.1} ms",
        t.records_per_second(),
        t.bytes as f64 / 1e6 / t.elapsed.as_secs_f64().max(1e-9),
        t.invocations,
        report.transform_init.as_secs_f64() * 1e3
    );
    let mut by_hour: BTreeMap<&str, u64> = BTreeMap::new();
    for ((table, prefix), data) in &d.partitions {
        if table == "ctr" {
            by_hour.insert(prefix.as_str(), data.iter().filter(|b| **b == b'\n').count() as u64);
        }
    }
    let _ = writeln!(s, "\n  busiest ctr partitions:");
    let mut busiest: Vec<_> = by_hour.into_iter().collect();
    busiest.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    for (prefix, n) in busiest.iter().take(3) {
        let _ = writeln!(s, "    {prefix:<48} {n:>5} rows");
    }
    for table in ["ctr", "agent_events"] {
        if let Some((_, row)) = d.rows().find(|(k, _)| k.0 == table) {
            let _ = writeln!(s, "\n  sample {table} row:\n    {row}");
        }
    }
    s
}
