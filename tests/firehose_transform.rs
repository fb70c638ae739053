//! The real `firehose-transform` binary, behind a local Lambda Runtime API, with every file in
//! `events/firehose-transform/`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should say where

use std::collections::BTreeMap;
use std::time::Duration;

use base64_simd::STANDARD;
use connect_lake_e2e::{TEST_PII_KEY, event_files, function_binary};
use firehose_transform::firehose::{FirehoseRequest, FirehoseResponse, RecordResult};
use lambda_harness::{LocalFunction, workspace_root};
use serde_json::Value;

async fn start() -> LocalFunction {
    LocalFunction::start(
        &function_binary("firehose-transform"),
        [("PII_TOKEN_KEY", TEST_PII_KEY.to_owned())],
    )
    .await
    .expect("firehose-transform starts")
}

#[tokio::test]
async fn every_event_file_gets_a_contract_valid_response_with_the_expected_results() {
    let function = start().await;
    let files = event_files("firehose-transform");
    assert!(files.len() >= 4, "fixtures present: {files:?}");
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let body = std::fs::read(&file).unwrap();
        let request: FirehoseRequest = serde_json::from_slice(&body).unwrap();
        let expected: Value = serde_json::from_slice(
            &std::fs::read(workspace_root().join("events/firehose-transform/expected").join(&name)).unwrap(),
        )
        .unwrap();
        let invocation = function.invoke(body, Duration::from_secs(30)).await.unwrap();
        let response: FirehoseResponse = serde_json::from_slice(invocation.response().unwrap()).unwrap();

        let ids_in: Vec<&str> = request.records.iter().map(|r| r.record_id.as_str()).collect();
        let ids_out: Vec<&str> = response.records.iter().map(|r| r.record_id.as_str()).collect();
        assert_eq!(ids_in, ids_out, "{name}: every recordId exactly once, in order");
        let raw: Value = serde_json::from_slice(invocation.response().unwrap()).unwrap();
        for (i, (input, out)) in request.records.iter().zip(&response.records).enumerate() {
            let want = expected["results"][&out.record_id].as_str().unwrap();
            let got = raw["records"][i]["result"].as_str().unwrap();
            assert_eq!(got, want, "{name}: record {}", out.record_id);
            match out.result {
                RecordResult::Ok => {
                    let data = STANDARD.decode_to_vec(&out.data).unwrap();
                    assert_eq!(data.last(), Some(&b'\n'), "{name}: rows end with a newline");
                    let row: Value = serde_json::from_slice(&data).unwrap();
                    let keys: BTreeMap<_, _> = out.metadata.as_ref().unwrap().partition_keys.clone();
                    let table = connect_lake::schema::table(&keys["table"]).expect("a known table");
                    for k in ["year", "month", "day", "hour"] {
                        assert!(keys[k].chars().all(|c| c.is_ascii_digit()), "{name}: {k}={}", keys[k]);
                    }
                    for (col, _) in row.as_object().unwrap() {
                        assert!(
                            table.column(col).is_some(),
                            "{name}: {col} is not a column of {}",
                            table.name
                        );
                    }
                }
                RecordResult::ProcessingFailed => {
                    assert_eq!(
                        Some(&out.data),
                        input.data.as_ref(),
                        "{name}: failed records keep their data"
                    );
                }
                RecordResult::Dropped => {}
            }
        }
    }
}

#[tokio::test]
async fn metrics_go_to_stdout_as_emf_and_failures_are_logged_without_content() {
    let function = start().await;
    let file = workspace_root().join("events/firehose-transform/mixed-good-and-bad.json");
    let invocation = function
        .invoke(std::fs::read(file).unwrap(), Duration::from_secs(30))
        .await
        .unwrap();
    invocation.response().unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stdout = function.process.stdout_lines();
    let emf: Vec<Value> = stdout.iter().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let totals = emf
        .iter()
        .find(|v| v.get("RecordsIn").is_some())
        .expect("an EMF line with the totals");
    assert_eq!(totals["RecordsIn"], 11.0);
    assert_eq!(totals["Ok"], 3.0);
    assert_eq!(totals["Dropped"], 1.0);
    assert_eq!(totals["ProcessingFailed"], 7.0);
    assert_eq!(totals["_aws"]["CloudWatchMetrics"][0]["Namespace"], "ConnectLake");
    assert!(
        emf.iter()
            .any(|v| v["Reason"] == "truncated_json" && v["ProcessingFailed"] == 1.0)
    );
    let stderr = function.process.stderr_lines().join("\n");
    assert!(
        stderr.contains("missing_contact_id"),
        "failures are logged with a reason: {stderr}"
    );
    assert!(
        !stderr.contains("+12345678901") && !stderr.contains("AGENT_DISCONNECT"),
        "no record content in logs"
    );
}

#[tokio::test]
async fn a_request_that_is_not_a_firehose_event_is_a_function_error_not_a_crash() {
    let function = start().await;
    let invocation = function
        .invoke(&b"not json"[..], Duration::from_secs(30))
        .await
        .unwrap();
    assert!(
        invocation.response().is_err(),
        "the runtime reports a deserialization error"
    );
    // The process survives and answers the next event.
    let file = workspace_root().join("events/firehose-transform/voice-aws-sample.json");
    let invocation = function
        .invoke(std::fs::read(file).unwrap(), Duration::from_secs(30))
        .await
        .unwrap();
    assert!(invocation.response().is_ok());
}

#[tokio::test]
async fn without_pii_token_key_the_function_fails_its_init_naming_the_variable() {
    let err = match LocalFunction::start(&function_binary("firehose-transform"), []).await {
        Ok(_) => panic!("init must fail without PII_TOKEN_KEY"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("PII_TOKEN_KEY"), "{err}");
}
