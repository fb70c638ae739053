//! The real `contact-flow-logger` and `fraud-router` binaries, behind a local Lambda Runtime API,
//! with every file in `events/contact-flow-logger/` and `events/fraud-router/`; the deny list and
//! the fraud policy are read from the emulator's S3 (`events/deny-list.txt`,
//! `events/fraud-policy.json`), or from an S3 endpoint that refuses connections or never answers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should say where

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use aws_sdk_s3::Client;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use connect_lake::config::S3Uri;
use connect_lake::remote_config::{ConfigSource, S3Source, SourceError};
use connect_lake_e2e::{TEST_PII_KEY, event_files, function_binary};
use lambda_harness::{Emulator, LocalFunction, workspace_root};
use serde_json::Value;

const BUCKET: &str = "connect-lake-config";
const DENY_LIST_URI: &str = "s3://connect-lake-config/deny-list.txt";
const FRAUD_POLICY_URI: &str = "s3://connect-lake-config/fraud-policy.json";
const TIMEOUT: Duration = Duration::from_secs(20);

fn s3(endpoint: &str) -> Client {
    Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "emulator"))
            .force_path_style(true)
            .build(),
    )
}

async fn put(client: &Client, key: &str, body: Vec<u8>) {
    client
        .put_object()
        .bucket(BUCKET)
        .key(key)
        .body(body.into())
        .send()
        .await
        .unwrap_or_else(|e| panic!("put {key}: {e}"));
}

/// moto with the sample deny list and policy uploaded.
async fn emulator_with_config() -> (Emulator, Client) {
    let emulator = Emulator::start().await.expect("moto starts (make tools installs it)");
    let client = s3(&emulator.endpoint());
    client
        .create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .expect("create bucket");
    let read = |name: &str| std::fs::read(workspace_root().join("events").join(name)).expect("sample file");
    put(&client, "deny-list.txt", read("deny-list.txt")).await;
    put(&client, "fraud-policy.json", read("fraud-policy.json")).await;
    (emulator, client)
}

fn config_env(aws: Vec<(&'static str, String)>, extra: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    let mut env = aws;
    env.push(("PII_TOKEN_KEY", TEST_PII_KEY.to_owned()));
    env.push(("DENY_LIST_URI", DENY_LIST_URI.to_owned()));
    env.push(("FRAUD_POLICY_URI", FRAUD_POLICY_URI.to_owned()));
    env.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    env
}

async fn start(function: &str, env: Vec<(&'static str, String)>) -> LocalFunction {
    LocalFunction::start(&function_binary(function), env)
        .await
        .unwrap_or_else(|e| panic!("{function} starts (built by `make test`): {e}"))
}

async fn answer(function: &LocalFunction, body: Vec<u8>) -> BTreeMap<String, String> {
    let invocation = function.invoke(body, TIMEOUT).await.expect("the function answers");
    let bytes = invocation.response().expect("never a function error");
    check_contract(bytes)
}

/// Connect's answer contract: a flat object of strings in the flat-answer alphabet, under 32 KB.
fn check_contract(bytes: &[u8]) -> BTreeMap<String, String> {
    assert!(bytes.len() < 32 * 1024, "{} bytes", bytes.len());
    let v: Value = serde_json::from_slice(bytes).expect("JSON");
    let map = v.as_object().expect("a flat object");
    let safe = |s: &str| {
        s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    map.iter()
        .map(|(k, v)| {
            let v = v.as_str().unwrap_or_else(|| panic!("{k}: string values only"));
            assert!(safe(k) && safe(v), "{k}={v}");
            (k.clone(), v.to_owned())
        })
        .collect()
}

fn file_name(p: &Path) -> String {
    p.file_stem().unwrap().to_string_lossy().into_owned()
}

/// The phone numbers and emails written in a fixture, in the forms they could leak in: every
/// `+digits` run of 8 or more digits (with its national part when it is a fictional 555 number),
/// and every email address.
fn pii_needles(text: &str) -> Vec<String> {
    let mut needles = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if *c == '+' {
            let digits: String = chars[i + 1..].iter().take_while(|c| c.is_ascii_digit()).collect();
            if digits.len() >= 8 {
                let national = digits.len().checked_sub(10).and_then(|start| digits.get(start..));
                if let Some(national) = national.filter(|n| n.contains("555")) {
                    needles.push(national.to_owned());
                }
                needles.push(format!("+{digits}"));
            }
        }
    }
    for word in text.split(|c: char| c.is_whitespace() || "\"<>,;".contains(c)) {
        if let Some((local, domain)) = word.split_once('@')
            && !local.is_empty()
            && domain.contains(".com")
        {
            needles.push(word.to_ascii_lowercase());
        }
    }
    needles.sort();
    needles.dedup();
    needles
}

/// Waits until the process has written `n` lines that are JSON objects with `"record": kind`.
async fn records(function: &LocalFunction, kind: &str, n: usize) -> Vec<Value> {
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        let found: Vec<Value> = function
            .process
            .stderr_lines()
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["record"] == kind)
            .collect();
        if found.len() >= n || Instant::now() > until {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn assert_no_pii(function: &LocalFunction, needles: &[String]) {
    let stderr = function.process.stderr_lines().join("\n").to_ascii_lowercase();
    let stdout = function.process.stdout_lines().join("\n").to_ascii_lowercase();
    assert!(!needles.is_empty());
    for needle in needles {
        assert!(!stderr.contains(needle.as_str()), "{needle} leaked into the log");
        assert!(!stdout.contains(needle.as_str()), "{needle} leaked into the metrics");
    }
}

fn emf(function: &LocalFunction) -> Vec<Value> {
    function
        .process
        .stdout_lines()
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("_aws").is_some())
        .collect()
}

#[tokio::test]
async fn every_logger_fixture_is_answered_logged_once_without_pii_and_checked_against_the_s3_deny_list() {
    let (emulator, _client) = emulator_with_config().await;
    let logger = start("contact-flow-logger", config_env(emulator.env(), &[])).await;
    let files = event_files("contact-flow-logger");
    assert!(files.len() >= 7, "fixtures present: {files:?}");
    let mut needles = Vec::new();
    for file in &files {
        let name = file_name(file);
        let body = std::fs::read(file).unwrap();
        needles.extend(pii_needles(&String::from_utf8_lossy(&body)));
        let a = answer(&logger, body).await;
        let listed = name == "deny-listed-caller";
        assert_eq!(a["deny"], if listed { "true" } else { "false" }, "{name}");
        assert_eq!(a["deny_reason"], if listed { "robocall_ring" } else { "" }, "{name}");
        assert_eq!(a["logged"], "true", "{name}");
        assert_eq!(a.len(), 3, "{name}: {a:?}");
    }
    let logged = records(&logger, "contact_flow_log", files.len()).await;
    assert_eq!(logged.len(), files.len(), "one record per invocation");
    let denied: Vec<&Value> = logged.iter().filter(|r| r["deny"] == true).collect();
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0]["deny_list"], "hit");
    assert!(
        logged.iter().all(|r| r["deny_list"] != "unavailable"),
        "the list came from S3"
    );
    assert_no_pii(&logger, &needles);

    let metrics = emf(&logger);
    let steps: f64 = metrics.iter().filter_map(|m| m["FlowStep"].as_f64()).sum();
    let hits: f64 = metrics.iter().filter_map(|m| m["DenyListHit"].as_f64()).sum();
    assert_eq!((steps, hits), (files.len() as f64, 1.0));
    assert!(
        metrics
            .iter()
            .any(|m| m["FlowName"] == "Inbound_main" && m["Step"] == "deny_list_check")
    );
    assert!(
        metrics
            .iter()
            .any(|m| m["Config"] == "deny_list" && m["ConfigLoaded"] == 1.0)
    );
}

/// Expected decisions under `events/fraud-policy.json` with `events/deny-list.txt`:
/// (risk level, route, risk score, reasons).
fn expected_under_sample_policy(name: &str) -> (&'static str, &'static str, &'static str, &'static str) {
    match name {
        "aws-documented-event" | "chat-contact" | "large-attributes-30kb" | "sip-attributes-benign" => {
            ("low", "standard", "0", "")
        }
        // The admin guide's example values: its Hop-Counter, 0, is few remaining hops.
        "aws-documented-telephony-attributes" => ("low", "standard", "20", "hop_counter"),
        "deny-listed-caller" => ("high", "fraud_team", "100", "deny_list"),
        "high-risk-country" => ("medium", "callback_verify", "35", "high_risk_country"),
        "null-endpoints-and-queue" => ("medium", "callback_verify", "25", "caller_missing"),
        "withheld-caller" => ("medium", "callback_verify", "30", "caller_withheld"),
        "sip-attributes-suspicious" => (
            "high",
            "fraud_team",
            "100",
            "from_mismatch.oli_payphone.jip_mismatch.hop_counter.intl_forwarding",
        ),
        other => panic!("events/fraud-router/{other}.json has no expected decision in this test: add one"),
    }
}

#[tokio::test]
async fn every_router_fixture_gets_the_expected_decision_under_the_policy_and_deny_list_from_s3() {
    let (emulator, _client) = emulator_with_config().await;
    let router = start("fraud-router", config_env(emulator.env(), &[])).await;
    let files = event_files("fraud-router");
    assert!(files.len() >= 9, "fixtures present: {files:?}");
    let mut needles = Vec::new();
    for file in &files {
        let name = file_name(file);
        let body = std::fs::read(file).unwrap();
        needles.extend(pii_needles(&String::from_utf8_lossy(&body)));
        let a = answer(&router, body).await;
        let (level, route, score, reasons) = expected_under_sample_policy(&name);
        let got = (
            a["risk_level"].as_str(),
            a["route"].as_str(),
            a["risk_score"].as_str(),
            a["reasons"].as_str(),
        );
        assert_eq!(got, (level, route, score, reasons), "{name}");
        assert_eq!(a["policy_version"], "sample-2026.05", "{name}: the policy came from S3");
        assert_eq!(a.len(), 5, "{name}: {a:?}");
    }
    let decisions = records(&router, "fraud_decision", files.len()).await;
    assert_eq!(decisions.len(), files.len());
    for d in &decisions {
        assert!(
            d["risk_score"].is_u64() && d["reasons"].is_array() && d["features"].is_object(),
            "{d}"
        );
        assert_eq!(d["degraded"], false);
    }
    assert_no_pii(&router, &needles);
    assert_call_attributes_are_recorded_tokenized(&decisions);

    let metrics = emf(&router);
    let per_level = |level: &str| -> f64 {
        metrics
            .iter()
            .filter(|m| m["RiskLevel"] == level)
            .filter_map(|m| m["Decision"].as_f64())
            .sum()
    };
    assert_eq!(
        (per_level("low"), per_level("medium"), per_level("high")),
        (5.0, 3.0, 2.0)
    );
    let reason = |code: &str| -> f64 {
        metrics
            .iter()
            .filter(|m| m["Reason"] == code)
            .filter_map(|m| m["DecisionReason"].as_f64())
            .sum()
    };
    assert_eq!((reason("deny_list"), reason("oli_payphone")), (1.0, 1.0));
}

/// The documented telephony attributes of the suspicious fixture, as the real binary records them:
/// line facts in clear, every number the lake's phone token of it (the caller's equal to
/// `features.caller_token`), and no `P-Asserted-Identity` on any record.
fn assert_call_attributes_are_recorded_tokenized(decisions: &[Value]) {
    let suspicious = decisions
        .iter()
        .find(|d| d["contact_id"] == "9e8d7c6b-5a4f-4e3d-2c1b-0a9f8e7d6c5b")
        .expect("the suspicious call's decision");
    let a = suspicious["call_attributes"]
        .as_object()
        .expect("call_attributes is an object");
    let clear: BTreeMap<&str, &str> = [
        ("isup_oli", "27"),
        ("jip", "305555"),
        ("hop_counter", "1"),
        ("originating_switch", "555"),
        ("originating_trunk", "0099"),
    ]
    .into();
    for (field, value) in &clear {
        assert_eq!(a[*field], *value, "{field}");
    }
    for field in [
        "p_charge_info",
        "from",
        "to",
        "call_forwarding_indicator",
        "calling_party_address",
        "called_party_address",
    ] {
        assert!(a[field].as_str().unwrap().starts_with("ph_"), "{field}: {}", a[field]);
    }
    assert_eq!(a.len(), 11, "{a:?}");
    assert_eq!(a["calling_party_address"], suspicious["features"]["caller_token"]);
    assert_eq!(a["from"], a["p_charge_info"], "both name +19175550123");
    assert_ne!(
        a["from"], a["calling_party_address"],
        "From names another number than the caller"
    );
    let chat = decisions
        .iter()
        .find(|d| d["channel"] == "CHAT")
        .expect("the chat's decision");
    assert_eq!(chat["call_attributes"], serde_json::json!({}));
    assert!(decisions.iter().all(|d| !d.to_string().contains("Asserted")));
}

/// The real binary's decision records, shipped to `fraud_decisions/` as the log subscription's
/// Firehose writes them (gzip JSON lines), cataloged by the s3-cataloger from the shared schema,
/// and read back by SQL through Glue: `call_attributes` is a struct whose fields a query selects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decision_records_read_back_through_glue_with_their_call_attributes() {
    let (emulator, _client) = emulator_with_config().await;
    let router = start("fraud-router", config_env(emulator.env(), &[])).await;
    let fixtures = [
        "sip-attributes-suspicious.json",
        "aws-documented-telephony-attributes.json",
        "chat-contact.json",
    ];
    for name in fixtures {
        answer(&router, read_event("fraud-router", name)).await;
    }
    let decisions = records(&router, "fraud_decision", fixtures.len()).await;
    assert_eq!(decisions.len(), fixtures.len());

    let (config, s3, _glue) = connect_lake_e2e::empty_lake(&emulator).await;
    let key = "fraud_decisions/year=2026/month=03/day=04/hour=05/fraud-decisions-1-2026-03-04-05-10-00.gz";
    connect_lake_e2e::put_and_catalog(&config, &s3, key, &decisions).await;

    let lake = lake_query::LakeQuery::connect(&config, "connect_lake").await.unwrap();
    let result = lake
        .sql(
            "SELECT channel, call_attributes.isup_oli AS oli, call_attributes.hop_counter AS hops, \
             call_attributes.originating_trunk AS trunk, call_attributes.calling_party_address AS caller, \
             features.caller_token AS caller_token, call_attributes['to'] AS dialled \
             FROM fraud_decisions WHERE year = '2026' AND month = '03' ORDER BY hops",
        )
        .await
        .unwrap();
    let rows: Vec<Value> = serde_json::from_str(&result.to_json().unwrap()).unwrap();
    assert_eq!(rows.len(), 3, "{rows:?}");
    let documented = &rows[0];
    assert_eq!(
        (&documented["oli"], &documented["hops"], &documented["trunk"]),
        (&Value::from("00"), &Value::from("0"), &Value::from("0235")),
        "the guide's example values: {rows:?}"
    );
    let suspicious = &rows[1];
    assert_eq!(
        (&suspicious["oli"], &suspicious["hops"], &suspicious["trunk"]),
        (&Value::from("27"), &Value::from("1"), &Value::from("0099"))
    );
    assert_eq!(
        suspicious["caller"], suspicious["caller_token"],
        "the caller's token joins"
    );
    assert!(suspicious["dialled"].as_str().unwrap().starts_with("ph_"), "{rows:?}");
    let chat = &rows[2];
    assert_eq!(chat["channel"], "CHAT");
    assert!(
        chat["oli"].is_null() && chat["hops"].is_null(),
        "absent attributes read as null: {rows:?}"
    );
}

fn read_event(function: &str, name: &str) -> Vec<u8> {
    std::fs::read(workspace_root().join("events").join(function).join(name)).unwrap()
}

#[tokio::test]
async fn without_configuration_objects_the_router_uses_its_builtin_policy_and_no_deny_list() {
    let router = start("fraud-router", vec![("PII_TOKEN_KEY", TEST_PII_KEY.to_owned())]).await;
    let read = |n: &str| std::fs::read(workspace_root().join("events/fraud-router").join(n)).unwrap();
    let a = answer(&router, read("deny-listed-caller.json")).await;
    assert_eq!(
        (a["risk_level"].as_str(), a["policy_version"].as_str()),
        ("low", "builtin-2026.2")
    );
    let a = answer(&router, read("null-endpoints-and-queue.json")).await;
    assert_eq!(
        (a["risk_level"].as_str(), a["risk_score"].as_str()),
        ("low", "25"),
        "builtin medium is 30"
    );
    let a = answer(&router, read("withheld-caller.json")).await;
    assert_eq!(
        (a["risk_level"].as_str(), a["route"].as_str()),
        ("medium", "verify_caller")
    );
}

/// Both functions, pointed at an S3 endpoint that does not work, answer their first call within
/// 1 s, failing open, and keep answering.
async fn first_answers_within_a_second(endpoint: &str) {
    let mut aws: Vec<(&'static str, String)> = lambda_harness::FAKE_ENV
        .iter()
        .map(|(k, v)| (*k, (*v).to_owned()))
        .collect();
    aws.push(("AWS_ENDPOINT_URL", endpoint.to_owned()));
    let read = |f: &str, n: &str| std::fs::read(workspace_root().join("events").join(f).join(n)).unwrap();

    let logger = start("contact-flow-logger", config_env(aws.clone(), &[])).await;
    let first = logger
        .invoke(read("contact-flow-logger", "deny-listed-caller.json"), TIMEOUT)
        .await
        .unwrap();
    assert!(
        first.round_trip < Duration::from_secs(1),
        "logger: {:?}",
        first.round_trip
    );
    let a = check_contract(first.response().unwrap());
    assert_eq!(
        (a["deny"].as_str(), a["logged"].as_str()),
        ("false", "true"),
        "fails open"
    );

    let router = start("fraud-router", config_env(aws, &[])).await;
    let first = router
        .invoke(read("fraud-router", "sip-attributes-suspicious.json"), TIMEOUT)
        .await
        .unwrap();
    assert!(
        first.round_trip < Duration::from_secs(1),
        "router: {:?}",
        first.round_trip
    );
    let a = check_contract(first.response().unwrap());
    assert_eq!(a["policy_version"], "builtin-2026.2", "the built-in policy stands in");
    assert_eq!(a["risk_level"], "high", "still scored, not degraded");

    // Later calls do not wait longer than the first.
    for _ in 0..3 {
        let next = router
            .invoke(read("fraud-router", "deny-listed-caller.json"), TIMEOUT)
            .await
            .unwrap();
        assert!(
            next.round_trip < Duration::from_secs(1),
            "router: {:?}",
            next.round_trip
        );
        let a = check_contract(next.response().unwrap());
        assert_eq!(a["risk_level"], "low", "deny list unavailable: fail open");
    }
}

#[tokio::test]
async fn with_s3_refusing_connections_the_first_answer_comes_within_a_second_and_the_failure_is_logged() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // The listener is closed again: connections to the port are refused.
    let endpoint = format!("http://127.0.0.1:{port}");
    first_answers_within_a_second(&endpoint).await;

    let router = start(
        "fraud-router",
        config_env(
            lambda_harness::FAKE_ENV
                .iter()
                .map(|(k, v)| (*k, (*v).to_owned()))
                .chain([("AWS_ENDPOINT_URL", endpoint.clone())])
                .collect(),
            &[],
        ),
    )
    .await;
    let read = std::fs::read(workspace_root().join("events/fraud-router/sip-attributes-benign.json")).unwrap();
    router.invoke(read, TIMEOUT).await.unwrap().response().unwrap();
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let failed: Vec<String> = emf(&router)
            .iter()
            .filter(|m| m["ConfigLoadFailed"] == 1.0)
            .filter_map(|m| m["Config"].as_str().map(str::to_owned))
            .collect();
        if failed.contains(&"deny_list".to_owned()) && failed.contains(&"fraud_policy".to_owned()) {
            break;
        }
        assert!(Instant::now() < until, "both failed loads are counted: {failed:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log = router.process.stderr_lines().join("\n");
    assert!(log.contains("configuration load failed"), "{log}");
}

#[tokio::test]
async fn with_s3_never_answering_the_first_answer_still_comes_within_a_second() {
    // Accepts connections (the kernel completes the handshake) and never answers a request.
    let black_hole = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", black_hole.local_addr().unwrap());
    first_answers_within_a_second(&endpoint).await;
    drop(black_hole);
}

#[tokio::test]
async fn the_deny_list_is_refreshed_from_s3_after_its_ttl_and_a_broken_update_keeps_the_last_good_list() {
    let (emulator, client) = emulator_with_config().await;
    let logger = start(
        "contact-flow-logger",
        config_env(emulator.env(), &[("DENY_LIST_TTL_SECONDS", "1")]),
    )
    .await;
    let benign = std::fs::read(workspace_root().join("events/contact-flow-logger/sip-attributes-benign.json")).unwrap();
    assert_eq!(answer(&logger, benign.clone()).await["deny"], "false");

    // The benign fixture's caller gets listed.
    put(&client, "deny-list.txt", b"+12065550100,new_fraud_report\n".to_vec()).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let stale = answer(&logger, benign.clone()).await;
    assert_eq!(
        stale["deny"], "false",
        "the refresh runs in the background; this call is not kept waiting"
    );
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let a = answer(&logger, benign.clone()).await;
        if a["deny"] == "true" {
            assert_eq!(a["deny_reason"], "new_fraud_report");
            break;
        }
        assert!(Instant::now() < until, "the new list is used after the TTL");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A list that does not parse: rejected, the last good one stays.
    put(&client, "deny-list.txt", b"not a number\nnor this\n".to_vec()).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    answer(&logger, benign.clone()).await;
    let until = Instant::now() + Duration::from_secs(10);
    while !logger
        .process
        .stderr_lines()
        .iter()
        .any(|l| l.contains("no valid entry"))
    {
        assert!(Instant::now() < until, "the rejected list is logged");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(answer(&logger, benign).await["deny"], "true", "last good list kept");
}

#[tokio::test]
async fn a_payload_that_is_not_a_contact_flow_event_is_answered_not_failed() {
    let logger = start("contact-flow-logger", vec![("PII_TOKEN_KEY", TEST_PII_KEY.to_owned())]).await;
    let router = start("fraud-router", vec![("PII_TOKEN_KEY", TEST_PII_KEY.to_owned())]).await;
    for body in [&b"not json"[..], b"[]", b"{\"Details\": 7}", b""] {
        let a = answer(&logger, body.to_vec()).await;
        assert_eq!((a["deny"].as_str(), a["logged"].as_str()), ("false", "true"));
        let a = answer(&router, body.to_vec()).await;
        assert_eq!(
            (a["risk_level"].as_str(), a["reasons"].as_str()),
            ("unknown", "degraded")
        );
        assert_eq!(a["route"], "standard");
    }
    let degraded = records(&router, "fraud_decision", 4).await;
    assert!(
        degraded
            .iter()
            .all(|d| d["degraded"] == true && d["error"] == "unrecognised_event")
    );
}

#[tokio::test]
async fn without_pii_token_key_both_functions_fail_their_init_naming_the_variable() {
    for function in ["contact-flow-logger", "fraud-router"] {
        let err = match LocalFunction::start(&function_binary(function), []).await {
            Ok(_) => panic!("{function}: init must fail without PII_TOKEN_KEY"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains("PII_TOKEN_KEY"), "{function}: {err}");
    }
    let err = match LocalFunction::start(
        &function_binary("fraud-router"),
        [
            ("PII_TOKEN_KEY", TEST_PII_KEY.to_owned()),
            ("DENY_LIST_BUDGET_MS", "9000".to_owned()),
        ],
    )
    .await
    {
        Ok(_) => panic!("init must fail with a budget over Connect's patience"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("DENY_LIST_BUDGET_MS"), "{err}");
}

#[tokio::test]
async fn the_s3_source_reads_objects_from_the_emulator_and_reports_missing_and_oversized_ones() {
    let (emulator, client) = emulator_with_config().await;
    let source = S3Source::new(client);
    let uri: S3Uri = DENY_LIST_URI.parse().unwrap();
    let bytes = source.fetch(&uri, 1 << 20).await.expect("read from the emulator");
    assert_eq!(
        bytes,
        std::fs::read(workspace_root().join("events/deny-list.txt")).unwrap()
    );

    let missing: S3Uri = "s3://connect-lake-config/absent.txt".parse().unwrap();
    match source.fetch(&missing, 1 << 20).await {
        Err(SourceError::Unreadable { uri, message }) => {
            assert_eq!(uri, "s3://connect-lake-config/absent.txt");
            assert!(message.contains("NoSuchKey"), "{message}");
        }
        other => panic!("expected Unreadable, got {other:?}"),
    }
    match source.fetch(&uri, 10).await {
        Err(SourceError::TooLarge { size, limit, .. }) => assert!(size > 10 && limit == 10),
        other => panic!("expected TooLarge, got {other:?}"),
    }
    drop(emulator);
}
