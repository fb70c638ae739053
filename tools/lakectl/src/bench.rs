//! `lakectl bench`: the real function binaries, through the local Runtime API, measured.
//!
//! Firehose transform: a ~6 MB batch of realistic ~3 KB contact records, invoked repeatedly.
//! Reported: MB/s of request JSON and records/s (median of the runs), peak RSS, and init time
//! (process start to first `/next` poll), beside the same figures for a hello-world and an echo
//! `lambda_runtime` function measured in the same run, so the ratios are comparable on a noisy
//! machine.

use std::path::{Path, PathBuf};
use std::time::Duration;

use lambda_harness::{LocalFunction, peak_rss_kib};

use crate::DEMO_PII_KEY;
use crate::firehose;
use crate::generate::{Generator, TrafficOptions};

/// Request size target: under Lambda's 6 MB invocation payload limit.
const TARGET_REQUEST_BYTES: usize = 6_000_000;

#[derive(Debug, Clone)]
pub struct BenchOptions {
    pub bin_dir: PathBuf,
    pub runs: usize,
    pub init_samples: usize,
}

/// The measured figures of one binary.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    pub name: String,
    pub init_ms: f64,
    pub median_ms: f64,
    pub mb_per_s: f64,
    pub records_per_s: f64,
    pub peak_rss_mb: f64,
}

/// The ~6 MB request: realistic voice contacts with full agent, queue, hierarchy, recording and
/// ten attributes (about 3 KB each).
pub fn transform_batch(seed: u64) -> (Vec<u8>, usize) {
    let mut generator = Generator::new(seed);
    let mut records = Vec::new();
    let mut estimate = 0;
    let day = TrafficOptions::new(1, seed).day;
    let mut index = 0;
    // Generate a little more than needed, then trim to the exact serialized size.
    while estimate < TARGET_REQUEST_BYTES + 50_000 {
        let (_, record, _) = generator.contact(index, day);
        index += 1;
        if record["Agent"].is_null() || record["Channel"] != "VOICE" {
            continue;
        }
        let json = serde_json::to_vec(&record).unwrap_or_default();
        estimate += json.len().div_ceil(3) * 4 + 150;
        records.push(json);
    }
    loop {
        let request = firehose::batches(firehose::CONTACT_RECORDS, &records, usize::MAX, 1_772_928_000_000).remove(0);
        let body = serde_json::to_vec(&request).unwrap_or_default();
        if body.len() <= TARGET_REQUEST_BYTES || records.len() <= 1 {
            return (body, records.len());
        }
        records.pop();
    }
}

async fn measure(
    name: &str,
    binary: &Path,
    env: &[(&'static str, String)],
    payload: &bytes::Bytes,
    records: usize,
    opts: &BenchOptions,
) -> Result<Figures, String> {
    let mut init = Vec::new();
    for _ in 0..opts.init_samples {
        let f = LocalFunction::start(binary, env.iter().cloned())
            .await
            .map_err(|e| format!("{name}: {e}"))?;
        init.push(f.init.as_secs_f64() * 1e3);
    }
    let function = LocalFunction::start(binary, env.iter().cloned())
        .await
        .map_err(|e| format!("{name}: {e}"))?;
    // One warm-up invocation, then the measured runs.
    function
        .invoke(payload.clone(), Duration::from_secs(60))
        .await
        .map_err(|e| e.to_string())?;
    let mut times = Vec::new();
    for _ in 0..opts.runs {
        let inv = function
            .invoke(payload.clone(), Duration::from_secs(60))
            .await
            .map_err(|e| e.to_string())?;
        inv.response().map_err(|e| format!("{name}: {e}"))?;
        times.push(inv.round_trip.as_secs_f64());
    }
    let peak = function.process.pid().and_then(peak_rss_kib).unwrap_or(0);
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    };
    let t = median(&mut times);
    Ok(Figures {
        name: name.to_owned(),
        init_ms: median(&mut init),
        median_ms: t * 1e3,
        mb_per_s: payload.len() as f64 / 1e6 / t.max(1e-9),
        records_per_s: records as f64 / t.max(1e-9),
        peak_rss_mb: peak as f64 / 1024.0,
    })
}

/// `transform()` itself, in process, on the same batch: the function's own work without the
/// Runtime API's HTTP transfer and the runtime's (de)serialization. Median milliseconds.
pub fn in_process_transform_ms(payload: &[u8], runs: usize) -> f64 {
    let config = firehose_transform::Config::from_env(&[("PII_TOKEN_KEY", DEMO_PII_KEY)]);
    let Ok(config) = config else { return f64::NAN };
    let mut times: Vec<f64> = (0..runs.max(1))
        .filter_map(|_| {
            let request: firehose_transform::firehose::FirehoseRequest = serde_json::from_slice(payload).ok()?;
            let started = std::time::Instant::now();
            let out = firehose_transform::transform(request, &config).0.ok()?;
            let elapsed = started.elapsed().as_secs_f64() * 1e3;
            std::hint::black_box(out);
            Some(elapsed)
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times.get(times.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Runs the Firehose transform benchmark and returns the report text.
///
/// # Errors
/// A binary that is missing or fails.
pub async fn firehose_transform(opts: &BenchOptions) -> Result<String, String> {
    let (payload, records) = transform_batch(42);
    let payload = bytes::Bytes::from(payload);
    let env = vec![
        ("PII_TOKEN_KEY", DEMO_PII_KEY.to_owned()),
        ("AWS_LAMBDA_LOG_LEVEL", "ERROR".to_owned()),
    ];
    let mut results = Vec::new();
    for (name, binary) in [
        ("firehose-transform", "firehose-transform"),
        ("echo (Value)", "bench-echo"),
        ("hello-world", "bench-hello"),
    ] {
        let payload = if binary == "bench-hello" {
            bytes::Bytes::from_static(b"{}")
        } else {
            payload.clone()
        };
        results.push(measure(name, &opts.bin_dir.join(binary), &env, &payload, records, opts).await?);
    }
    let (t, echo, hello) = (&results[0], &results[1], &results[2]);
    let in_process = in_process_transform_ms(&payload, opts.runs);
    let mut out = String::new();
    use std::fmt::Write;
    let _ = writeln!(
        out,
        "firehose-transform benchmark: {:.2} MB request, {records} contact records (~{:.1} KB each), {} runs (median)",
        payload.len() as f64 / 1e6,
        payload.len() as f64 / records as f64 / 1024.0 * 0.75,
        opts.runs
    );
    let _ = writeln!(
        out,
        "{:<20} {:>10} {:>12} {:>12} {:>10} {:>10}",
        "binary", "init ms", "MB/s", "records/s", "batch ms", "RSS MB"
    );
    for f in &results {
        let _ = writeln!(
            out,
            "{:<20} {:>10.2} {:>12.1} {:>12.0} {:>10.2} {:>10.1}",
            f.name, f.init_ms, f.mb_per_s, f.records_per_s, f.median_ms, f.peak_rss_mb
        );
    }
    let _ = writeln!(
        out,
        "in process: transform() alone takes {in_process:.2} ms of the {:.2} ms batch ({:.0} MB/s); the rest is the \
         runtime's HTTP transfer and request/response (de)serialization",
        t.median_ms,
        payload.len() as f64 / 1e6 / (in_process / 1e3).max(1e-9)
    );
    let _ = writeln!(
        out,
        "ratios: throughput transform/echo = {:.2}x (target >= 1.5x, and >= 450 MB/s); init transform/hello = {:.2}x (target <= 2x); peak RSS {:.1} MB (target <= 64 MB)",
        t.mb_per_s / echo.mb_per_s.max(1e-9),
        t.init_ms / hello.init_ms.max(1e-9),
        t.peak_rss_mb
    );
    Ok(out)
}
