//! Lake records and metrics survive any log level, and no log level shows an event's body.
//!
//! The flow functions' decision and flow-log records and every function's EMF metric lines travel
//! through the application log: CloudWatch Logs turns the EMF lines into metrics, and the log
//! subscriptions ship the records into the lake. Lambda's application log filter would drop a
//! line below the function's `ApplicationLogLevel`, taking a lake dataset and every custom metric
//! with it. These tests run the real binaries at `AWS_LAMBDA_LOG_LEVEL=ERROR` and `TRACE` and pass
//! every line they write through [`lambda_keeps`], the filter as the Lambda Developer Guide
//! describes it ("Log-level filtering": a JSON line's `level` decides; a line without a valid
//! one counts as INFO).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should say where

use std::time::{Duration, Instant};

use connect_lake_e2e::{TEST_PII_KEY, event_files, function_binary};
use lambda_harness::{Emulator, LocalFunction, workspace_root};
use serde_json::Value;

/// Lambda's application log levels, most verbose first.
const LEVELS: [&str; 6] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];

fn rank(level: &str) -> Option<usize> {
    let level = level.trim().to_ascii_uppercase();
    LEVELS.iter().position(|l| *l == level)
}

/// Whether Lambda sends `line` to CloudWatch Logs when the function's `ApplicationLogLevel` is
/// `configured`: a JSON object's `level`, when valid, is its level; anything else is INFO.
fn lambda_keeps(line: &str, configured: &str) -> bool {
    let level = serde_json::from_str::<Value>(line)
        .ok()
        .and_then(|v| v.get("level").and_then(Value::as_str).and_then(rank))
        .unwrap_or(2);
    level >= rank(configured).unwrap()
}

#[test]
fn the_filter_model_drops_what_lambda_drops() {
    assert!(
        !lambda_keeps(r#"{"record":"fraud_decision"}"#, "WARN"),
        "no level is INFO"
    );
    assert!(lambda_keeps(r#"{"record":"fraud_decision"}"#, "INFO"));
    assert!(
        !lambda_keeps(r#"{"level":"loud","record":"x"}"#, "ERROR"),
        "an invalid level is INFO"
    );
    assert!(!lambda_keeps("plain text", "WARN"));
    assert!(lambda_keeps(r#"{"level":"ERROR"}"#, "ERROR"));
    assert!(!lambda_keeps(r#"{"level":"ERROR"}"#, "FATAL"));
    assert!(lambda_keeps(r#"{"level":"fatal"}"#, "FATAL"));
}

async fn start(function: &str, env: Vec<(&'static str, String)>) -> LocalFunction {
    LocalFunction::start(&function_binary(function), env)
        .await
        .unwrap_or_else(|e| panic!("{function} starts: {e}"))
}

/// Every fixture of `events/<function>/` once; returns how many invocations were made.
async fn invoke_fixtures(function: &LocalFunction, name: &str) -> usize {
    let files = event_files(name);
    assert!(!files.is_empty());
    for file in &files {
        let invocation = function
            .invoke(std::fs::read(file).unwrap(), Duration::from_secs(20))
            .await
            .unwrap();
        invocation
            .response()
            .unwrap_or_else(|e| panic!("{name} {}: {e}", file.display()));
    }
    files.len()
}

/// The JSON lines of a stream whose `key` field equals `value` (or exists, with `None`), waiting
/// up to five seconds for `n` of them: the pipes are read asynchronously.
async fn lines(function: &LocalFunction, stdout: bool, key: &str, value: Option<&str>, n: usize) -> Vec<String> {
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        let all = if stdout {
            function.process.stdout_lines()
        } else {
            function.process.stderr_lines()
        };
        let found: Vec<String> = all
            .into_iter()
            .filter(|l| {
                serde_json::from_str::<Value>(l).is_ok_and(|v| match (v.get(key), value) {
                    (Some(found), Some(want)) => found == want,
                    (Some(_), None) => true,
                    (None, _) => false,
                })
            })
            .collect();
        if found.len() >= n || Instant::now() > until {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn assert_kept_at_every_level(what: &str, lines: &[String]) {
    for line in lines {
        for level in LEVELS {
            assert!(lambda_keeps(line, level), "{what} dropped at {level}: {line}");
        }
    }
}

#[tokio::test]
async fn at_log_level_error_every_decision_record_and_emf_line_is_written_and_survives_lambdas_filter() {
    let emulator = Emulator::start().await.unwrap();
    // The configuration objects are missing: the functions also log warnings and count the
    // failed loads, which at ERROR must not reach the log while the records still do.
    let mut env = emulator.env();
    env.extend([
        ("AWS_LAMBDA_LOG_LEVEL", "ERROR".to_owned()),
        ("PII_TOKEN_KEY", TEST_PII_KEY.to_owned()),
        ("DENY_LIST_URI", "s3://connect-lake-missing/deny-list.txt".to_owned()),
        (
            "FRAUD_POLICY_URI",
            "s3://connect-lake-missing/fraud-policy.json".to_owned(),
        ),
    ]);
    for (name, record) in [
        ("contact-flow-logger", "contact_flow_log"),
        ("fraud-router", "fraud_decision"),
    ] {
        let function = start(name, env.clone()).await;
        let invocations = invoke_fixtures(&function, name).await;
        let records = lines(&function, false, "record", Some(record), invocations).await;
        assert_eq!(records.len(), invocations, "{name}: one {record} record per invocation");
        assert_kept_at_every_level(record, &records);
        let emf = lines(&function, true, "_aws", None, invocations).await;
        assert!(emf.len() >= invocations, "{name}: {} EMF lines", emf.len());
        assert_kept_at_every_level("an EMF line", &emf);
        // stdout carries nothing but metric lines.
        assert_eq!(function.process.stdout_lines().len(), emf.len(), "{name}");
        // Diagnostics follow the level: nothing below ERROR reached the log.
        for line in function.process.stderr_lines() {
            assert!(
                lambda_keeps(&line, "ERROR"),
                "{name} logged below ERROR at AWS_LAMBDA_LOG_LEVEL=ERROR: {line}"
            );
        }
    }

    let transform = start(
        "firehose-transform",
        vec![
            ("AWS_LAMBDA_LOG_LEVEL", "ERROR".to_owned()),
            ("PII_TOKEN_KEY", TEST_PII_KEY.to_owned()),
        ],
    )
    .await;
    let invocations = invoke_fixtures(&transform, "firehose-transform").await;
    let emf = lines(&transform, true, "_aws", None, invocations).await;
    assert!(
        emf.iter().filter(|l| l.contains("\"RecordsIn\"")).count() == invocations,
        "one totals line per invocation: {emf:?}"
    );
    assert_kept_at_every_level("an EMF line", &emf);
}

#[tokio::test]
async fn at_log_level_trace_no_event_body_reaches_the_log() {
    // A caller number and an attribute value that appear nowhere but in the event.
    let number = "+14155550199";
    let secret = "attribute-value-only-in-the-event";
    let file = workspace_root().join("events/contact-flow-logger/sip-attributes-benign.json");
    let mut event: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    event["Details"]["ContactData"]["CustomerEndpoint"] =
        serde_json::json!({"Address": number, "Type": "TELEPHONE_NUMBER"});
    event["Details"]["ContactData"]["Attributes"] = serde_json::json!({"note": secret});

    let emulator = Emulator::start().await.unwrap();
    let mut env = emulator.env();
    env.extend([
        ("AWS_LAMBDA_LOG_LEVEL", "TRACE".to_owned()),
        ("PII_TOKEN_KEY", TEST_PII_KEY.to_owned()),
        ("DENY_LIST_URI", "s3://connect-lake-missing/deny-list.txt".to_owned()),
        (
            "FRAUD_POLICY_URI",
            "s3://connect-lake-missing/fraud-policy.json".to_owned(),
        ),
    ]);
    for name in ["contact-flow-logger", "fraud-router"] {
        let function = start(name, env.clone()).await;
        let invocation = function.invoke_json(&event, Duration::from_secs(20)).await.unwrap();
        invocation.response().unwrap();
        // The record is the last thing written: once it is there, the log is complete.
        let record = if name == "fraud-router" {
            "fraud_decision"
        } else {
            "contact_flow_log"
        };
        assert_eq!(lines(&function, false, "record", Some(record), 1).await.len(), 1);
        let log = function.process.stderr_lines().join("\n");
        let metrics = function.process.stdout_lines().join("\n");
        // TRACE is on for our own code: the function did log below INFO.
        assert!(
            log.contains("\"level\":\"TRACE\"") || log.contains("\"level\":\"DEBUG\""),
            "{name} logged nothing below INFO at TRACE:\n{log}"
        );
        for (what, text) in [("the log", &log), ("the metrics", &metrics)] {
            assert!(!text.contains(number), "{name}: the caller's number reached {what}");
            assert!(!text.contains(secret), "{name}: an attribute value reached {what}");
            assert!(
                !text.contains("raw JSON event"),
                "{name}: the runtime logged the event in {what}"
            );
        }
    }
}
