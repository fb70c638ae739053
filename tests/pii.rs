//! Issue #18's proof: every PII shape the classifier used to miss goes through the real Firehose
//! transform and the real contact-flow logger (as libraries, then as binaries behind a local
//! Lambda Runtime API), and no raw value reaches a row, a flow-log record, an answer, a metric or
//! a log line. The ordinary values beside them stay readable.
//!
//! Issue #11's key point too: the tokenizing functions read the PII key from Secrets Manager (the
//! emulator's) at init, never from an environment variable value, and fail their cold start with
//! a specific error when the secret is missing, short or doubled by `PII_TOKEN_KEY`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should say where

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64_simd::STANDARD;
use connect_lake::contact_flow::ContactFlowEvent;
use connect_lake::deny_list::DenyCheck;
use connect_lake_e2e::{TEST_PII_KEY, function_binary};
use contact_flow_logger::Logger;
use firehose_transform::firehose::{FirehoseRequest, FirehoseResponse, RecordResult};
use lambda_harness::{Emulator, LocalFunction, workspace_root};
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
    let response = firehose_transform::transform(request, &config).0.unwrap();
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

/// A secret in the emulator's Secrets Manager holding `value`; returns its ARN.
async fn secret(emulator: &Emulator, name: &str, value: &str) -> String {
    let client = aws_sdk_secretsmanager::Client::new(&lakectl::lake::emulator_config(emulator).await);
    let out = client
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await
        .unwrap();
    out.arn().unwrap().to_owned()
}

/// Issue #11: the PII key is never an environment variable value. The real transform reads it
/// from (emulated) Secrets Manager at init and tokenizes exactly as with the key itself, and the
/// key appears in no log line.
#[tokio::test]
async fn the_key_read_from_secrets_manager_gives_the_same_tokens_and_is_never_logged() {
    let emulator = Emulator::start().await.expect("moto starts (make tools installs it)");
    let arn = secret(&emulator, "connect-lake/pii-token-key", TEST_PII_KEY).await;
    let mut env = emulator.env();
    env.extend([
        ("PII_TOKEN_SECRET_ARN", arn.clone()),
        ("AWS_LAMBDA_LOG_LEVEL", "DEBUG".to_owned()),
    ]);
    let transform = start("firehose-transform", env).await;
    let invocation = transform
        .invoke(read(FIREHOSE_FIXTURE), Duration::from_secs(30))
        .await
        .unwrap();
    let response: FirehoseResponse = serde_json::from_slice(invocation.response().unwrap()).unwrap();
    assert_eq!(
        rows(&response),
        transform_with(&[]),
        "the same tokens as with PII_TOKEN_KEY={TEST_PII_KEY}"
    );
    let log = transform.process.stderr_lines().join("\n");
    assert!(
        log.contains("PII token key read from Secrets Manager") && log.contains(&arn),
        "{log}"
    );
    assert!(!log.contains(TEST_PII_KEY), "the key leaked into the log: {log}");

    // The init cost of the one GetSecretValue call, against the emulator on loopback.
    let plain = start("firehose-transform", vec![("PII_TOKEN_KEY", TEST_PII_KEY.to_owned())]).await;
    eprintln!(
        "init: {} ms with the key from Secrets Manager, {} ms with PII_TOKEN_KEY",
        transform.init.as_millis(),
        plain.init.as_millis()
    );
}

/// What a function says when it cannot start: its init must fail.
async fn init_error(function: &str, env: Vec<(&'static str, String)>) -> String {
    match LocalFunction::start(&function_binary(function), env).await {
        Ok(_) => panic!("{function}: init must fail"),
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn a_short_missing_or_doubled_key_fails_every_tokenizing_functions_cold_start_naming_the_secret() {
    let emulator = Emulator::start().await.expect("moto starts (make tools installs it)");
    let short = secret(&emulator, "short-key", "only-17-bytes-key").await;
    let missing = short.replace("short-key", "no-such-key");
    let with = |vars: &[(&'static str, &str)]| {
        let mut env = emulator.env();
        env.push(("LAKE_BUCKET", "lake".to_owned()));
        env.extend(vars.iter().map(|(k, v)| (*k, (*v).to_owned())));
        env
    };
    for function in [
        "firehose-transform",
        "contact-flow-logger",
        "fraud-router",
        "sentiment-enricher",
    ] {
        let err = init_error(function, with(&[("PII_TOKEN_SECRET_ARN", &short)])).await;
        assert!(
            err.contains(&format!(
                "the PII token key in Secrets Manager secret {short} is 17 bytes long; it must be at least 32 bytes"
            )),
            "{function}: {err}"
        );
        assert!(!err.contains("only-17-bytes-key"), "{function}: the key leaked: {err}");
    }
    let err = init_error("contact-flow-logger", with(&[("PII_TOKEN_SECRET_ARN", &missing)])).await;
    assert!(
        err.contains(&format!(
            "could not read the PII token key from Secrets Manager secret {missing}"
        )) && err.contains("ResourceNotFoundException"),
        "{err}"
    );
    let err = init_error(
        "fraud-router",
        with(&[("PII_TOKEN_SECRET_ARN", &short), ("PII_TOKEN_KEY", TEST_PII_KEY)]),
    )
    .await;
    assert!(
        err.contains("both PII_TOKEN_SECRET_ARN and PII_TOKEN_KEY are set"),
        "{err}"
    );
}

#[tokio::test]
async fn read_pii_key_takes_a_string_secret_of_32_bytes_or_more_and_nothing_else() {
    use connect_lake::secrets::{SecretError, read_pii_key};
    let emulator = Emulator::start().await.expect("moto starts (make tools installs it)");
    let config = lakectl::lake::emulator_config(&emulator).await;
    let client = aws_sdk_secretsmanager::Client::new(&config);
    let good = secret(&emulator, "good", TEST_PII_KEY).await;
    assert_eq!(read_pii_key(&client, &good).await.unwrap(), TEST_PII_KEY);
    // By name as well as by ARN.
    assert_eq!(read_pii_key(&client, "good").await.unwrap(), TEST_PII_KEY);
    let binary = client
        .create_secret()
        .name("binary")
        .secret_binary(aws_sdk_secretsmanager::primitives::Blob::new(TEST_PII_KEY.as_bytes()))
        .send()
        .await
        .unwrap();
    let binary = binary.arn().unwrap();
    assert_eq!(
        read_pii_key(&client, binary).await,
        Err(SecretError::NotAString {
            secret_id: binary.to_owned()
        })
    );
    let short = secret(&emulator, "short", &"k".repeat(31)).await;
    assert_eq!(
        read_pii_key(&client, &short).await,
        Err(SecretError::KeyTooShort {
            secret_id: short.clone(),
            len: 31
        })
    );
}

/// The account that owns the config bucket of [`config_bucket`].
const BUCKET_OWNER: &str = "111122223333";

/// S3 as far as `ExpectedBucketOwner` goes, which moto ignores: the bucket belongs to
/// [`BUCKET_OWNER`], a GET naming another owner is refused with 403 `AccessDenied` as S3 refuses
/// it, and any other GET gets `body`. Returns the endpoint and the owner each request named.
async fn config_bucket(body: Vec<u8>) -> (String, Arc<Mutex<Vec<String>>>, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let owners = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&owners);
    let server = tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut head = Vec::new();
            let mut buf = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match socket.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
            let owner = head
                .lines()
                .find_map(|l| l.strip_prefix("x-amz-expected-bucket-owner:"))
                .map(|v| v.trim().to_owned());
            seen.lock().unwrap().push(owner.clone().unwrap_or_default());
            let (status, content) = match owner {
                Some(o) if o != BUCKET_OWNER => (
                    "403 Forbidden",
                    b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>".to_vec(),
                ),
                _ => ("200 OK", body.clone()),
            };
            let reply = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                content.len()
            );
            let _ = socket.write_all(reply.as_bytes()).await;
            let _ = socket.write_all(&content).await;
            let _ = socket.shutdown().await;
        }
    });
    (endpoint, owners, server)
}

/// Issue #18 §3: the fraud policy is read only from a bucket of the expected account
/// (`CONFIG_BUCKET_OWNER`, else the function's own, from its ARN). A bucket of another account is
/// refused by S3 and the built-in policy stays in force.
#[tokio::test]
async fn a_fraud_policy_in_a_bucket_of_another_account_is_refused_and_the_builtin_policy_stays() {
    let policy = read("events/fraud-policy.json");
    let event = read("events/fraud-router/null-endpoints-and-queue.json");
    // The harness's function ARN names account 000000000000.
    for (owner, expected_version, named) in [
        (Some(BUCKET_OWNER), "sample-2026.05", BUCKET_OWNER),
        (Some("999999999999"), "builtin-2026.2", "999999999999"),
        (None, "builtin-2026.2", "000000000000"),
    ] {
        let (endpoint, owners, server) = config_bucket(policy.clone()).await;
        let mut env: Vec<(&'static str, String)> = lambda_harness::FAKE_ENV
            .iter()
            .map(|(k, v)| (*k, (*v).to_owned()))
            .collect();
        env.extend([
            ("AWS_ENDPOINT_URL", endpoint),
            ("PII_TOKEN_KEY", TEST_PII_KEY.to_owned()),
            ("FRAUD_POLICY_URI", "s3://cfg/fraud-policy.json".to_owned()),
        ]);
        env.extend(owner.map(|o| ("CONFIG_BUCKET_OWNER", o.to_owned())));
        let router = start("fraud-router", env).await;
        let invocation = router.invoke(event.clone(), Duration::from_secs(30)).await.unwrap();
        let answer: Value = serde_json::from_slice(invocation.response().unwrap()).unwrap();
        assert_eq!(answer["policy_version"], expected_version, "owner {owner:?}: {answer}");
        let owners = owners.lock().unwrap().clone();
        assert!(!owners.is_empty() && owners.iter().all(|o| o == named), "{owners:?}");
        server.abort();
    }
}
