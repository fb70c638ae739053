// A benchmark driver, not Lambda code: a broken fixture should stop it loudly.
#![allow(clippy::expect_used, clippy::panic, clippy::unwrap_used)]
//! Handler time per invocation of both contact-flow functions, with a warm deny list (and, for the
//! router, a warm policy from the "S3" source): the work a Lambda invocation does between the runtime
//! handing over the payload and posting the answer.
//!
//! Each timed iteration: parse the payload bytes into the lenient event, run the handler (deny-list
//! lookup, tokenization, scoring), serialize the log record and the EMF lines (to a sink), and
//! serialize the answer. Fixtures from `events/` are cycled, the 30 KB one included. Prints p50, p90,
//! p99, p99.9 and max per function and per fixture; the target is p99 <= 1 ms.
//!
//! `cargo bench -p fraud-router` (`make bench`). `BENCH_ITERATIONS` changes the iteration count.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use connect_lake::contact_flow::ContactFlowEvent;
use connect_lake::deny_list;
use connect_lake::remote_config::{ConfigSource, MemorySource, RemoteSettings};
use contact_flow_logger::Logger;
use fraud_router::policy::Policy;
use fraud_router::{Router, policy_cache};

const KEY: &str = "bench-key-0123456789abcdefghijklmnop";
const TARGET_P99: Duration = Duration::from_millis(1);

fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../events")
}

fn fixtures(function: &str) -> Vec<(String, Vec<u8>)> {
    let dir = events_dir().join(function);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| (name(&p), std::fs::read(&p).expect("fixture readable")))
        .collect()
}

fn name(p: &Path) -> String {
    p.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The sample list plus 20,000 listed numbers and 500 prefixes: a realistically sized list.
fn deny_list_text() -> String {
    let mut text = std::fs::read_to_string(events_dir().join("deny-list.txt")).expect("events/deny-list.txt");
    for i in 0..20_000u32 {
        text.push_str(&format!("+1312{:07},bulk\n", i * 7));
    }
    for i in 0..500u32 {
        text.push_str(&format!("+4490{i:04}*\n"));
    }
    text
}

struct Stats {
    label: String,
    samples: Vec<Duration>,
}

impl Stats {
    fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.samples.clone();
        sorted.sort_unstable();
        let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
        sorted.get(rank).copied().unwrap_or_default()
    }

    fn print(&self) {
        let us = |d: Duration| d.as_nanos() as f64 / 1000.0;
        println!(
            "{:<44} n={:<6} p50={:>8.1} µs  p90={:>8.1} µs  p99={:>8.1} µs  p99.9={:>8.1} µs  max={:>8.1} µs",
            self.label,
            self.samples.len(),
            us(self.percentile(50.0)),
            us(self.percentile(90.0)),
            us(self.percentile(99.0)),
            us(self.percentile(99.9)),
            us(self.samples.iter().copied().max().unwrap_or_default()),
        );
    }
}

fn main() {
    let iterations: usize = std::env::var("BENCH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30_000);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(run(iterations));
}

async fn run(iterations: usize) {
    let env = [("PII_TOKEN_KEY", KEY)];
    let source = Arc::new(MemorySource::new());
    let deny_settings = RemoteSettings::new("s3://bench/deny-list.txt".parse().expect("uri"));
    let policy_settings = RemoteSettings::new("s3://bench/fraud-policy.json".parse().expect("uri"));
    source.put(&deny_settings.uri, deny_list_text());
    source.put(
        &policy_settings.uri,
        std::fs::read(events_dir().join("fraud-policy.json")).expect("events/fraud-policy.json"),
    );
    let source: Arc<dyn ConfigSource> = source;
    let deny = deny_list::cache(deny_settings, Arc::clone(&source), "Bench");

    let router_config = fraud_router::Config::from_env(&env).expect("config");
    let policy = policy_cache(policy_settings, source, "Bench");
    let router = Router::new(
        &router_config,
        Policy::builtin().expect("builtin policy"),
        Some(deny.clone()),
        Some(policy.clone()),
    );
    let logger_config = contact_flow_logger::Config::from_env(&env).expect("config");
    let logger = Logger::new(&logger_config, Some(deny.clone()));

    // Warm: the first call loads the list and the policy.
    let warm = ContactFlowEvent::from_slice(
        &std::fs::read(events_dir().join("fraud-router/deny-listed-caller.json")).expect("fixture"),
    );
    let warmed = router.process(&warm).await.answer;
    assert_eq!(
        warmed.get("risk_level"),
        Some("high"),
        "deny list warm: {}",
        warmed.to_json()
    );
    assert_eq!(warmed.get("policy_version"), Some("sample-2026.05"), "policy warm");
    println!(
        "warm deny list: {} entries; policy {}",
        deny.current().map(|l| l.len()).unwrap_or(0),
        policy.current().map(|p| p.version.clone()).unwrap_or_default()
    );

    let router_fixtures = fixtures("fraud-router");
    let logger_fixtures = fixtures("contact-flow-logger");
    let mut sink = std::io::sink();
    let mut sink2 = std::io::sink();

    let mut all = Vec::new();
    for (function, files) in [
        ("fraud-router", &router_fixtures),
        ("contact-flow-logger", &logger_fixtures),
    ] {
        let mut per_file: Vec<Stats> = files
            .iter()
            .map(|(n, _)| Stats {
                label: format!("  {function}/{n}"),
                samples: Vec::with_capacity(iterations / files.len() + 1),
            })
            .collect();
        let mut total = Stats {
            label: format!("{function} (all fixtures)"),
            samples: Vec::with_capacity(iterations),
        };
        // A short untimed warm-up of the code paths.
        for (_, bytes) in files.iter().cycle().take(files.len() * 20) {
            let event: ContactFlowEvent = serde_json::from_slice(bytes).expect("lenient");
            if function == "fraud-router" {
                std::hint::black_box(router.process(&event).await.answer);
            } else {
                std::hint::black_box(logger.process(&event).await.answer);
            }
        }
        for i in 0..iterations {
            let index = i % files.len();
            let bytes = &files[index].1;
            let started = Instant::now();
            let event: ContactFlowEvent = serde_json::from_slice(bytes).expect("lenient");
            let answer = if function == "fraud-router" {
                router.process(&event).await.write(&mut sink, &mut sink2, 0)
            } else {
                logger.process(&event).await.write(&mut sink, &mut sink2, 0)
            };
            let body = serde_json::to_vec(&answer).expect("answer serializes");
            std::hint::black_box(body);
            let elapsed = started.elapsed();
            per_file[index].samples.push(elapsed);
            total.samples.push(elapsed);
        }
        total.print();
        for s in &per_file {
            s.print();
        }
        all.push(total);
    }
    for t in &all {
        let p99 = t.percentile(99.0);
        let verdict = if p99 <= TARGET_P99 { "met" } else { "NOT met" };
        println!(
            "{}: p99 {:.1} µs, target p99 <= 1 ms {verdict}",
            t.label,
            p99.as_nanos() as f64 / 1000.0
        );
    }
}
