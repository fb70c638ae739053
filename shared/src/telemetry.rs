//! Logs and metrics.
//!
//! Logs: `tracing` with JSON output by default, honouring the Lambda advanced logging controls
//! `AWS_LAMBDA_LOG_LEVEL` (TRACE..FATAL) and `AWS_LAMBDA_LOG_FORMAT` (JSON or Text), with
//! `RUST_LOG` as a fallback for local runs. Logs go to stderr; stdout carries only metric lines.
//! Whatever the level, the runtime and SDK crates log at INFO at most ([`DEPENDENCY_LOG_CAP`]): at
//! DEBUG and TRACE they print whole event and response bodies (caller numbers, attributes,
//! entire CTR batches).
//!
//! Metrics: CloudWatch Embedded Metric Format lines on stdout. Lambda ships them to CloudWatch
//! Logs, which turns them into metrics: no `PutMetricData` call on the hot path. The writer is
//! hand-written (about a hundred lines, no dependency): the functions emit one line per invocation
//! with exactly the dimensions they choose, which the `metrics` facade crates make harder to control.
//!
//! Lake records and metric lines carry `"level": "FATAL"` ([`RECORD_LEVEL`]). They are data, not
//! diagnostics, but they travel through the function's application log: Lambda's log-level
//! filter reads the `level` of each JSON line, takes a line without one as INFO, and drops it
//! when the function's `ApplicationLogLevel` is WARN or above. FATAL is the one level every
//! setting keeps. `tracing` has no FATAL level, so a FATAL line is always a record or a metric
//! line, never a diagnostic (a Logs Insights search for errors filters on `level = "ERROR"`).

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::{Map, Value, json};
use tracing::level_filters::LevelFilter;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The `level` of lake records and EMF lines: the one level Lambda's application log filter keeps
/// at every `ApplicationLogLevel` (see the module documentation).
pub const RECORD_LEVEL: &str = "FATAL";

/// Target prefixes (a target matches when it starts with one) that log at INFO at most, whatever
/// the configured level: the Lambda runtime (`lambda_runtime`, `lambda_runtime_api_client`) logs
/// each event's body at TRACE, the SDK's Smithy runtime and HTTP stack log request and response
/// bodies at DEBUG and TRACE.
pub const DEPENDENCY_LOG_CAP: [&str; 5] = ["lambda_runtime", "aws_smithy", "aws_sdk", "aws_config", "hyper"];

/// The filter that caps [`DEPENDENCY_LOG_CAP`] at INFO and lets everything else through to the
/// level filter. It is a separate filter, so no `RUST_LOG` directive can lift the cap.
pub fn dependency_cap() -> Targets {
    DEPENDENCY_LOG_CAP
        .iter()
        .fold(Targets::new().with_default(LevelFilter::TRACE), |t, target| {
            t.with_target(*target, LevelFilter::INFO)
        })
}

/// Maps `AWS_LAMBDA_LOG_LEVEL` to a tracing filter directive (`FATAL` has no tracing level).
fn lambda_level(level: &str) -> Option<&'static str> {
    match level.trim().to_ascii_uppercase().as_str() {
        "TRACE" => Some("trace"),
        "DEBUG" => Some("debug"),
        "INFO" => Some("info"),
        "WARN" | "WARNING" => Some("warn"),
        "ERROR" | "FATAL" => Some("error"),
        _ => None,
    }
}

/// The log settings a function starts with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSettings {
    pub filter: String,
    pub json: bool,
}

impl LogSettings {
    /// Reads `AWS_LAMBDA_LOG_LEVEL`, `AWS_LAMBDA_LOG_FORMAT` and `RUST_LOG`.
    pub fn from_env(env: &impl crate::config::Env) -> Self {
        let filter = env
            .var("AWS_LAMBDA_LOG_LEVEL")
            .and_then(|l| lambda_level(&l).map(str::to_owned))
            .or_else(|| env.var("RUST_LOG").filter(|v| !v.trim().is_empty()))
            .unwrap_or_else(|| "info".to_owned());
        let json = !env
            .var("AWS_LAMBDA_LOG_FORMAT")
            .is_some_and(|f| f.trim().eq_ignore_ascii_case("text"));
        LogSettings { filter, json }
    }
}

/// Installs the global tracing subscriber. Safe to call more than once (later calls do nothing).
pub fn init_tracing() {
    let settings = LogSettings::from_env(&crate::config::ProcessEnv);
    let filter = EnvFilter::try_new(&settings.filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = if settings.json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .without_time()
            .finish()
            .with(dependency_cap())
            .try_init()
    } else {
        builder
            .with_ansi(false)
            .without_time()
            .finish()
            .with(dependency_cap())
            .try_init()
    };
}

/// Milliseconds since the Unix epoch: the timestamp of EMF lines and log records.
pub fn now_millis() -> i64 {
    let now_ms = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
    i64::try_from(now_ms).unwrap_or(0)
}

/// Writes `record` as one JSON line with a single `write_all`, so concurrent lines never
/// interleave: the shape of the decision and flow-log records the log subscriptions ship. The
/// line starts with `"level":"FATAL"` ([`RECORD_LEVEL`]), so that Lambda's log-level filter
/// never drops it; the record itself must have no `level` field.
///
/// # Errors
/// Serialization or the writer's I/O error; `InvalidInput` when the record is not a JSON object.
pub fn write_json_line(out: &mut impl Write, record: &impl serde::Serialize) -> std::io::Result<()> {
    let body = serde_json::to_vec(record).map_err(std::io::Error::from)?;
    let Some(fields) = body.strip_prefix(b"{") else {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "a log record must be a JSON object",
        ));
    };
    let mut line = Vec::with_capacity(body.len() + 24);
    line.extend_from_slice(b"{\"level\":\"");
    line.extend_from_slice(RECORD_LEVEL.as_bytes());
    line.extend_from_slice(b"\"");
    if fields != b"}" {
        line.push(b',');
    }
    line.extend_from_slice(fields);
    line.push(b'\n');
    out.write_all(&line)?;
    out.flush()
}

/// Emits metric sets to stdout, where Lambda picks EMF lines up: the one way every function emits
/// its metrics, once per invocation, from its handler. A failed write is logged, never fatal.
pub fn emit(metrics: &[Metrics]) {
    write_metrics(&mut std::io::stdout().lock(), metrics, now_millis());
}

/// Writes every metric set to `out`; a failed write is logged, never fatal.
pub fn write_metrics(out: &mut impl Write, metrics: &[Metrics], timestamp_ms: i64) {
    for m in metrics {
        if let Err(error) = m.write_to(out, timestamp_ms) {
            tracing::warn!(%error, "could not write metrics");
        }
    }
}

/// The unit of a metric value, as CloudWatch names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Bytes,
    Milliseconds,
    None,
}

impl Unit {
    const fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Bytes => "Bytes",
            Unit::Milliseconds => "Milliseconds",
            Unit::None => "None",
        }
    }
}

/// CloudWatch accepts at most 100 metrics per EMF directive.
const MAX_METRICS_PER_LINE: usize = 100;

/// One set of EMF metrics sharing a namespace and dimensions. Values added twice under the same
/// name are summed. Never give it a contact id as a dimension: each value is a billed metric.
#[derive(Debug, Clone)]
pub struct Metrics {
    namespace: String,
    dimensions: Vec<(String, String)>,
    values: BTreeMap<String, (Unit, f64)>,
    properties: Map<String, Value>,
}

impl Metrics {
    pub fn new(namespace: impl Into<String>) -> Self {
        Metrics {
            namespace: namespace.into(),
            dimensions: Vec::new(),
            values: BTreeMap::new(),
            properties: Map::new(),
        }
    }

    /// Adds a dimension. Keep values low-cardinality.
    #[must_use]
    pub fn with_dimension(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.dimensions.push((name.into(), value.into()));
        self
    }

    pub fn add(&mut self, name: impl Into<String>, unit: Unit, value: f64) {
        let entry = self.values.entry(name.into()).or_insert((unit, 0.0));
        entry.1 += value;
    }

    pub fn count(&mut self, name: impl Into<String>, n: u64) {
        // Counts in one invocation are far below 2^53, where f64 stays exact.
        self.add(name, Unit::Count, n as f64);
    }

    /// A searchable, non-metric field on the log line (e.g. a request id).
    pub fn property(&mut self, name: impl Into<String>, value: impl Into<Value>) {
        self.properties.insert(name.into(), value.into());
    }

    pub fn value(&self, name: &str) -> Option<f64> {
        self.values.get(name).map(|(_, v)| *v)
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The EMF lines for these metrics (one per 100 metrics), stamped with `timestamp_ms`, each
    /// with `"level": "FATAL"` ([`RECORD_LEVEL`]) so that Lambda's log-level filter keeps it.
    pub fn to_lines(&self, timestamp_ms: i64) -> Vec<String> {
        let dims: Vec<&str> = self.dimensions.iter().map(|(k, _)| k.as_str()).collect();
        let entries: Vec<(&String, &(Unit, f64))> = self.values.iter().collect();
        entries
            .chunks(MAX_METRICS_PER_LINE)
            .map(|chunk| {
                let mut line = self.properties.clone();
                line.insert("level".to_owned(), Value::String(RECORD_LEVEL.to_owned()));
                for (k, v) in &self.dimensions {
                    line.insert(k.clone(), Value::String(v.clone()));
                }
                let mut defs = Vec::with_capacity(chunk.len());
                for (name, (unit, value)) in chunk {
                    defs.push(json!({"Name": name, "Unit": unit.as_str()}));
                    line.insert((*name).clone(), json!(value));
                }
                let dimension_sets = if dims.is_empty() { json!([[]]) } else { json!([dims]) };
                line.insert(
                    "_aws".to_owned(),
                    json!({
                        "Timestamp": timestamp_ms,
                        "CloudWatchMetrics": [{
                            "Namespace": self.namespace,
                            "Dimensions": dimension_sets,
                            "Metrics": defs,
                        }]
                    }),
                );
                Value::Object(line).to_string()
            })
            .collect()
    }

    /// Writes the lines to `out`, each with one `write_all` so concurrent lines never interleave.
    ///
    /// # Errors
    /// The writer's I/O error.
    pub fn write_to(&self, out: &mut impl Write, timestamp_ms: i64) -> std::io::Result<()> {
        for mut line in self.to_lines(timestamp_ms) {
            line.push('\n');
            out.write_all(line.as_bytes())?;
        }
        out.flush()
    }

    /// Emits to stdout, where Lambda picks EMF lines up. A failed write is logged, never fatal.
    pub fn emit(&self) {
        if self.is_empty() {
            return;
        }
        if let Err(error) = self.write_to(&mut std::io::stdout().lock(), now_millis()) {
            tracing::warn!(%error, "could not write metrics to stdout");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_log_controls_map_to_tracing() {
        let s = LogSettings::from_env(&[("AWS_LAMBDA_LOG_LEVEL", "DEBUG"), ("AWS_LAMBDA_LOG_FORMAT", "Text")]);
        assert_eq!(
            s,
            LogSettings {
                filter: "debug".into(),
                json: false
            }
        );
        let s = LogSettings::from_env(&[("AWS_LAMBDA_LOG_LEVEL", "FATAL")]);
        assert_eq!(
            s,
            LogSettings {
                filter: "error".into(),
                json: true
            }
        );
        let s = LogSettings::from_env(&[("RUST_LOG", "warn")]);
        assert_eq!(s.filter, "warn");
        let s = LogSettings::from_env(&[("AWS_LAMBDA_LOG_LEVEL", "LOUD"), ("RUST_LOG", "trace")]);
        assert_eq!(s.filter, "trace");
    }

    #[test]
    fn runtime_and_sdk_crates_log_at_info_at_most_whatever_the_level() {
        use tracing::Level;
        let cap = dependency_cap();
        for target in [
            "lambda_runtime::layers::api_client",
            "lambda_runtime_api_client",
            "aws_smithy_runtime::client::orchestrator",
            "aws_smithy_http_client",
            "aws_sdk_s3::operation",
            "aws_config::imds",
            "hyper::proto::h1",
        ] {
            assert!(!cap.would_enable(target, &Level::TRACE), "{target} at TRACE");
            assert!(!cap.would_enable(target, &Level::DEBUG), "{target} at DEBUG");
            assert!(cap.would_enable(target, &Level::INFO), "{target} at INFO");
            assert!(cap.would_enable(target, &Level::ERROR), "{target} at ERROR");
        }
        for target in [
            "contact_flow_logger",
            "connect_lake::remote_config",
            "fraud_router",
            "lambda",
        ] {
            assert!(
                cap.would_enable(target, &Level::TRACE),
                "{target} is ours: the level filter decides"
            );
        }
    }

    #[test]
    fn a_record_line_leads_with_the_level_every_lambda_filter_keeps() {
        #[derive(serde::Serialize)]
        struct Record {
            record: &'static str,
            n: u32,
        }
        #[derive(serde::Serialize)]
        struct Empty {}
        let mut out = Vec::new();
        write_json_line(
            &mut out,
            &Record {
                record: "fraud_decision",
                n: 3,
            },
        )
        .unwrap();
        write_json_line(&mut out, &Empty {}).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], r#"{"level":"FATAL","record":"fraud_decision","n":3}"#);
        assert_eq!(lines[1], r#"{"level":"FATAL"}"#);
        for line in lines {
            let v: Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["level"], RECORD_LEVEL);
        }
        let err = write_json_line(&mut Vec::new(), &[1, 2]).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    }

    #[test]
    fn emf_lines_carry_the_level_every_lambda_filter_keeps() {
        let mut m = Metrics::new("ConnectLake").with_dimension("Function", "fraud-router");
        m.count("Decisions", 1);
        for line in m.to_lines(0) {
            let v: Value = serde_json::from_str(&line).unwrap();
            assert_eq!(v["level"], "FATAL");
            let defined: Vec<&str> = v["_aws"]["CloudWatchMetrics"][0]["Metrics"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["Name"].as_str().unwrap())
                .collect();
            assert!(!defined.contains(&"level"), "a property, not a metric");
        }
    }

    #[test]
    fn emf_line_declares_every_metric_and_its_dimensions() {
        let mut m = Metrics::new("ConnectLake").with_dimension("FunctionName", "firehose-transform");
        m.count("RecordsIn", 3);
        m.count("RecordsIn", 2);
        m.add("BytesIn", Unit::Bytes, 1024.0);
        m.property("InvocationId", "abc");
        let lines = m.to_lines(1_700_000_000_000);
        assert_eq!(lines.len(), 1);
        let v: Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(v["RecordsIn"], 5.0);
        assert_eq!(v["BytesIn"], 1024.0);
        assert_eq!(v["FunctionName"], "firehose-transform");
        assert_eq!(v["InvocationId"], "abc");
        let directive = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(v["_aws"]["Timestamp"], 1_700_000_000_000i64);
        assert_eq!(directive["Namespace"], "ConnectLake");
        assert_eq!(directive["Dimensions"], json!([["FunctionName"]]));
        let names: Vec<&str> = directive["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["Name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["BytesIn", "RecordsIn"]);
        assert_eq!(directive["Metrics"][0]["Unit"], "Bytes");
    }

    #[test]
    fn more_than_100_metrics_split_into_several_lines() {
        let mut m = Metrics::new("ns");
        for i in 0..150 {
            m.count(format!("m{i:03}"), 1);
        }
        let lines = m.to_lines(0);
        assert_eq!(lines.len(), 2);
        let mut out = Vec::new();
        m.write_to(&mut out, 0).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 2);
        for line in text.lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            assert!(v["_aws"]["CloudWatchMetrics"][0]["Metrics"].as_array().unwrap().len() <= 100);
        }
    }
}
