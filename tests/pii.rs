//! Issue #18's proof: every PII shape the classifier used to miss goes through the real Firehose
//! transform and the real contact-flow logger (as libraries, then as binaries behind a local
//! Lambda Runtime API), and no raw value reaches a row, a flow-log record, an answer, a metric or
//! a log line. The ordinary values beside them stay readable.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should say where

use std::time::Duration;

use base64_simd::STANDARD;
use connect_lake::contact_flow::ContactFlowEvent;
use connect_lake::deny_list::DenyCheck;
use connect_lake_e2e::{TEST_PII_KEY, function_binary};
use contact_flow_logger::Logger;
use firehose_transform::firehose::{FirehoseRequest, FirehoseResponse, RecordResult};
use lambda_harness::{LocalFunction, workspace_root};
use serde_json::Value;

const FIREHOSE_FIXTURE: &str = "events/firehose-transform/pii-shapes.json";
const FLOW_FIXTURE: &str = "events/contact-flow-logger/pii-shapes.json";

/// The fixtures' attribute (and parameter) keys holding PII, each in a shape of issue #18.
const PII_KEYS: &[&str] = &[
    "emailTrailingDot",
    "emailPrefix",
    "emailMailto",
    "emailPossessive",
    "emailFullwidth",
    "phoneSpacedDashes",
    "phoneDoubleSpaces",
    "phoneSlashes",
    "phoneFullwidth",
    "dateThenPhone",
    "dateThenCard",
];

/// The fixtures' ordinary values, which must stay as they are.
const CLEAR: &[(&str, &str)] = &[
    ("ticket", "CS-389023"),
    ("menuPath", "main>cancel>confirm"),
    ("callbackDate", "2026-03-08"),
    ("greetingPlayed", "true"),
    ("locale", "en-US"),
    ("tier", "gold"),
];

/// Pieces of the raw values that must appear nowhere: the whole values are checked too.
const NEEDLES: &[&str] = &[
    "jane@",
    "jane.agent",
    "ｊａｎｅ",
    "２０６",
    "5550100",
    "555 - 0100",
    "555  0100",
    "555/0100",
    "41111111",
];

fn read(path: &str) -> Vec<u8> {
    std::fs::read(workspace_root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn flow_event() -> (Vec<u8>, ContactFlowEvent) {
    let body = read(FLOW_FIXTURE);
    let event = serde_json::from_slice(&body).unwrap();
    (body, event)
}

/// The raw PII values, from the fixture itself, and the needles.
fn secrets() -> Vec<String> {
    let event: Value = serde_json::from_slice(&read(FLOW_FIXTURE)).unwrap();
    let attributes = &event["Details"]["ContactData"]["Attributes"];
    let mut secrets: Vec<String> = PII_KEYS
        .iter()
        .map(|k| {
            attributes[k]
                .as_str()
                .unwrap_or_else(|| panic!("{k} in the fixture"))
                .to_owned()
        })
        .collect();
    secrets.extend(NEEDLES.iter().map(|n| (*n).to_owned()));
    secrets.push("+12065550100".to_owned());
    secrets
}

/// Every secret must be absent from `text`, also in its JSON-escaped form.
fn assert_no_raw_pii(what: &str, text: &str) {
    for secret in secrets() {
        let escaped = serde_json::to_string(&secret).unwrap();
        let escaped = escaped.trim_matches('"');
        assert!(!text.contains(&secret), "{secret:?} leaked into {what}: {text}");
        assert!(
            !text.contains(escaped),
            "{secret:?} leaked (escaped) into {what}: {text}"
        );
    }
}

fn is_token(v: &str) -> bool {
    v.split_once('_').is_some_and(|(prefix, rest)| {
        ["ph", "em", "cc", "tx"].contains(&prefix)
            && rest.len() == 22
            && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    })
}

/// The Ok rows of a response, decoded.
fn rows(response: &FirehoseResponse) -> Vec<Value> {
    response
        .records
        .iter()
        .map(|r| {
            assert_eq!(r.result, RecordResult::Ok, "{}", r.record_id);
            serde_json::from_slice(&STANDARD.decode_to_vec(&r.data).unwrap()).unwrap()
        })
        .collect()
}

fn transform_with(env: &[(&str, &str)]) -> Vec<Value> {
    let mut vars: Vec<(&str, &str)> = vec![("PII_TOKEN_KEY", TEST_PII_KEY)];
    vars.extend_from_slice(env);
    let vars: std::collections::HashMap<String, String> =
        vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    let config = firehose_transform::Config::from_env(&vars).unwrap();
    let request: FirehoseRequest = serde_json::from_slice(&read(FIREHOSE_FIXTURE)).unwrap();
    let (response, _) = firehose_transform::transform(request, &config).unwrap();
    rows(&response)
}

#[test]
fn the_transform_tokenizes_every_shape_and_keeps_ordinary_attributes() {
    let rows = transform_with(&[]);
    let [ctr, agent_event] = rows.as_slice() else {
        panic!("two rows: {rows:?}")
    };
    let attributes = &ctr["attributes"];
    for key in PII_KEYS {
        let v = attributes[key].as_str().unwrap();
        assert!(is_token(v), "{key}: {v}");
    }
    for (key, value) in CLEAR {
        assert_eq!(attributes[key], *value, "{key}");
    }
    assert!(ctr["agent_username"].as_str().unwrap().starts_with("em_"));
    assert_eq!(
        agent_event["agent_username"], ctr["agent_username"],
        "the same token in both tables"
    );
    for row in &rows {
        assert_no_raw_pii("a row", &row.to_string());
    }
}

#[test]
fn operators_key_lists_and_agent_username_clear_apply_to_the_rows() {
    let rows = transform_with(&[
        ("PII_ATTRIBUTE_KEYS", "tier"),
        ("CLEAR_ATTRIBUTE_KEYS", "ticket"),
        ("AGENT_USERNAME", "clear"),
    ]);
    let ctr = &rows[0];
    assert!(is_token(ctr["attributes"]["tier"].as_str().unwrap()), "listed as PII");
    assert_eq!(ctr["attributes"]["ticket"], "CS-389023");
    assert_eq!(
        ctr["agent_username"], "jane.agent@example.com",
        "kept by AGENT_USERNAME=clear"
    );
    assert_eq!(rows[1]["agent_username"], "jane.agent@example.com");
}

#[test]
fn the_flow_logger_tokenizes_every_shape_in_its_record_answer_and_metrics() {
    let config = contact_flow_logger::Config::from_env(&[("PII_TOKEN_KEY", TEST_PII_KEY)]).unwrap();
    let (_, event) = flow_event();
    let outcome = Logger::new(&config, None).outcome(&event, DenyCheck::Miss);
    let record = serde_json::to_value(&outcome.record).unwrap();
    for key in PII_KEYS {
        let v = record["parameters"][key].as_str().unwrap();
        assert!(is_token(v), "{key}: {v}");
    }
    for (key, value) in CLEAR {
        assert_eq!(record["parameters"][key], *value, "{key}");
    }
    assert_no_raw_pii("the flow-log record", &record.to_string());
    assert_no_raw_pii("the answer", &outcome.answer.to_json());
    let metrics: Vec<String> = outcome.metrics.iter().flat_map(|m| m.to_lines(0)).collect();
    assert_no_raw_pii("the metrics", &metrics.join("\n"));
}

async fn start(function: &str, env: Vec<(&'static str, String)>) -> LocalFunction {
    LocalFunction::start(&function_binary(function), env)
        .await
        .unwrap_or_else(|e| panic!("{function} starts (built by `make test`): {e}"))
}

#[tokio::test]
async fn through_the_real_binaries_no_raw_value_reaches_rows_records_or_logs() {
    let env = || {
        vec![
            ("PII_TOKEN_KEY", TEST_PII_KEY.to_owned()),
            ("AWS_LAMBDA_LOG_LEVEL", "DEBUG".to_owned()),
        ]
    };
    let transform = start("firehose-transform", env()).await;
    let invocation = transform
        .invoke(read(FIREHOSE_FIXTURE), Duration::from_secs(30))
        .await
        .unwrap();
    let response: FirehoseResponse = serde_json::from_slice(invocation.response().unwrap()).unwrap();
    let rows = rows(&response);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["attributes"]["ticket"], "CS-389023");
    for row in &rows {
        assert_no_raw_pii("a row", &row.to_string());
    }

    let logger = start("contact-flow-logger", env()).await;
    let (body, _) = flow_event();
    let invocation = logger.invoke(body, Duration::from_secs(30)).await.unwrap();
    let answer = String::from_utf8(invocation.response().unwrap().to_vec()).unwrap();
    assert!(answer.contains("\"logged\":\"true\""), "{answer}");
    assert_no_raw_pii("the answer", &answer);

    // The record is written before the answer goes back; give the pipes a moment.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let logged = logger.process.stderr_lines().join("\n");
    assert!(
        logged.contains("contact_flow_log") && logged.contains("CS-389023"),
        "{logged}"
    );
    for function in [&transform, &logger] {
        assert_no_raw_pii("the log", &function.process.stderr_lines().join("\n"));
        assert_no_raw_pii("stdout", &function.process.stdout_lines().join("\n"));
    }
}
