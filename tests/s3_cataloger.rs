//! The real `s3-cataloger` binary, behind a local Lambda Runtime API, against the local emulator,
//! with every file in `events/s3-cataloger/`; checked with `GetTable` and `GetPartitions`.
//!
//! One test puts a counting proxy between the binary and the emulator, so the Glue requests the
//! binary really sends are counted on the wire.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should say where

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_glue::Client;
use aws_sdk_glue::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_glue::types::DatabaseInput;
use connect_lake::testing::hours_event;
use connect_lake_e2e::{event_files, function_binary};
use lambda_harness::{Emulator, LocalFunction, Outcome, workspace_root};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const BUCKET: &str = "connect-lake-example-lake";
const DATABASE: &str = "connect_lake";
const TIMEOUT: Duration = Duration::from_secs(60);

fn glue(endpoint: &str) -> Client {
    Client::from_conf(
        aws_sdk_glue::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "emulator"))
            .build(),
    )
}

async fn create_database(glue: &Client) {
    glue.create_database()
        .database_input(DatabaseInput::builder().name(DATABASE).build().unwrap())
        .send()
        .await
        .expect("create database");
}

/// The function's environment, reaching Glue at `endpoint` (the emulator, or a proxy before it).
fn function_env(emulator: &Emulator, endpoint: &str, database: &str) -> Vec<(&'static str, String)> {
    let mut env: Vec<(&'static str, String)> = emulator
        .env()
        .into_iter()
        .filter(|(k, _)| *k != "AWS_ENDPOINT_URL")
        .collect();
    env.extend([
        ("AWS_ENDPOINT_URL", endpoint.to_owned()),
        ("LAKE_BUCKET", BUCKET.to_owned()),
        ("GLUE_DATABASE", database.to_owned()),
        ("RUST_LOG", "info,s3_cataloger=debug".to_owned()),
    ]);
    env
}

async fn start(emulator: &Emulator, endpoint: &str) -> LocalFunction {
    LocalFunction::start(
        &function_binary("s3-cataloger"),
        function_env(emulator, endpoint, DATABASE),
    )
    .await
    .expect("s3-cataloger starts")
}

/// Table name -> sorted partition values, for every table in the database.
async fn catalog(glue: &Client) -> BTreeMap<String, Vec<Vec<String>>> {
    let tables = glue
        .get_tables()
        .database_name(DATABASE)
        .send()
        .await
        .expect("GetTables");
    let mut out = BTreeMap::new();
    for table in tables.table_list() {
        let name = table.name().to_owned();
        let mut values = Vec::new();
        let mut token = None;
        loop {
            let page = glue
                .get_partitions()
                .database_name(DATABASE)
                .table_name(&name)
                .set_next_token(token)
                .send()
                .await
                .expect("GetPartitions");
            for p in page.partitions() {
                let location = p.storage_descriptor().and_then(|s| s.location()).unwrap_or_default();
                let v = p.values();
                let want = format!(
                    "s3://{BUCKET}/{name}/year={}/month={}/day={}/hour={}/",
                    v[0], v[1], v[2], v[3]
                );
                assert_eq!(location, want, "partition location");
                values.push(v.to_vec());
            }
            token = page.next_token;
            if token.is_none() {
                break;
            }
        }
        values.sort();
        out.insert(name, values);
    }
    out
}

fn expected_for(file: &Path) -> Value {
    let name = file.file_name().unwrap();
    let path = workspace_root().join("events/s3-cataloger/expected").join(name);
    serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

fn expected_catalog(expected: &Value) -> BTreeMap<String, Vec<Vec<String>>> {
    serde_json::from_value(expected["partitions"].clone()).unwrap()
}

/// The EMF line with the invocation totals, the latest one written.
async fn totals(function: &LocalFunction, seen: usize) -> Value {
    for _ in 0..100 {
        let lines: Vec<Value> = function
            .process
            .stdout_lines()
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v.get("ObjectsIn").is_some())
            .collect();
        if lines.len() > seen {
            return lines[lines.len() - 1].clone();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no EMF totals line after invocation {seen}");
}

/// Whether the function's log gets a line containing `needle` (logs arrive on their own pipe).
async fn logged(function: &LocalFunction, needle: &str) -> bool {
    for _ in 0..100 {
        if function.process.stderr_lines().iter().any(|l| l.contains(needle)) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

fn sorted_failures(response: &[u8]) -> Vec<String> {
    let v: Value = serde_json::from_slice(response).unwrap();
    let mut ids: Vec<String> = v["batchItemFailures"]
        .as_array()
        .unwrap_or_else(|| panic!("an SQS batch response: {v}"))
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

fn assert_as_expected(name: &str, expected: &Value, response: &[u8], totals: &Value) {
    match expected.get("batchItemFailures") {
        Some(want) => {
            let mut want: Vec<String> = serde_json::from_value(want.clone()).unwrap();
            want.sort();
            assert_eq!(sorted_failures(response), want, "{name}: batch item failures");
        }
        None => {
            let v: Value = serde_json::from_slice(response).unwrap();
            assert!(
                v.get("objects").is_some(),
                "{name}: a direct invocation gets a summary: {v}"
            );
        }
    }
    for (metric, want) in expected["metrics"].as_object().unwrap() {
        assert_eq!(
            totals[metric].as_f64(),
            want.as_f64(),
            "{name}: metric {metric} in {totals}"
        );
    }
    assert_eq!(totals["Function"], "s3-cataloger");
    assert_eq!(totals["_aws"]["CloudWatchMetrics"][0]["Namespace"], "ConnectLake");
}

#[tokio::test]
async fn every_event_file_registers_exactly_the_expected_tables_and_partitions() {
    let emulator = Emulator::start().await.expect("moto starts (make tools installs it)");
    let glue = glue(&emulator.endpoint());
    let files = event_files("s3-cataloger");
    assert!(files.len() >= 7, "fixtures present: {files:?}");
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let expected = expected_for(&file);
        // Each file on its own: an empty catalog and a cold container.
        emulator.reset().await.expect("reset");
        create_database(&glue).await;
        let function = start(&emulator, &emulator.endpoint()).await;

        let invocation = function.invoke(std::fs::read(&file).unwrap(), TIMEOUT).await.unwrap();
        let response = invocation
            .response()
            .unwrap_or_else(|e| panic!("{name}: function error {e}"));
        let totals = totals(&function, 0).await;
        assert_as_expected(&name, &expected, response, &totals);
        assert_eq!(catalog(&glue).await, expected_catalog(&expected), "{name}: the catalog");

        // Tables are created as the schema and LAKE_FORMAT (default parquet) say.
        for table in expected_catalog(&expected).keys() {
            let t = glue
                .get_table()
                .database_name(DATABASE)
                .name(table)
                .send()
                .await
                .unwrap()
                .table
                .unwrap();
            let sd = t.storage_descriptor().unwrap();
            assert_eq!(sd.location(), Some(format!("s3://{BUCKET}/{table}/").as_str()));
            assert_eq!(
                sd.serde_info().and_then(|s| s.serialization_library()),
                Some("org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"),
                "{name}: {table}"
            );
        }
        if expected.get("batchItemFailures").is_some() {
            for id in sorted_failures(response) {
                assert!(logged(&function, &id).await, "{name}: failed message {id} is logged");
            }
        }
        if name == "sqs-skip-rules.json" {
            assert!(logged(&function, "invocation done").await);
            let log = function.process.stderr_lines().join("\n");
            for reason in [
                "test_event",
                "object_removed",
                "error_prefix",
                "write_access_probe",
                "folder_marker",
                "unknown_prefix",
                "other_bucket",
                "invalid_value",
                "not_partitioned",
            ] {
                assert!(log.contains(reason), "{name}: {reason} is logged:\n{log}");
            }
        }
    }
}

#[tokio::test]
async fn replaying_every_event_file_in_warm_and_cold_containers_changes_nothing_and_fails_nothing_new() {
    let emulator = Emulator::start().await.expect("moto starts");
    let glue = glue(&emulator.endpoint());
    create_database(&glue).await;
    let function = start(&emulator, &emulator.endpoint()).await;
    let files = event_files("s3-cataloger");

    let mut first = Vec::new();
    for file in &files {
        let invocation = function.invoke(std::fs::read(file).unwrap(), TIMEOUT).await.unwrap();
        first.push(invocation.response().unwrap().clone());
    }
    let catalog_after_first = catalog(&glue).await;
    assert_eq!(
        catalog_after_first.len(),
        2,
        "ctr and agent_events: {catalog_after_first:?}"
    );
    let emitted = files.len();

    for (i, file) in files.iter().enumerate() {
        let name = file.file_name().unwrap().to_string_lossy();
        let invocation = function.invoke(std::fs::read(file).unwrap(), TIMEOUT).await.unwrap();
        let response = invocation.response().unwrap();
        let totals = totals(&function, emitted + i).await;
        assert_eq!(totals["PartitionsCreated"], 0.0, "{name}: nothing new");
        assert_eq!(totals["TablesCreated"], 0.0, "{name}");
        assert_eq!(totals["PartitionsFailed"], 0.0, "{name}");
        if expected_for(file).get("batchItemFailures").is_some() {
            assert_eq!(
                sorted_failures(response),
                sorted_failures(&first[i]),
                "{name}: the same messages fail, no others"
            );
        }
    }
    assert_eq!(catalog(&glue).await, catalog_after_first, "no duplicates, nothing lost");

    // A cold container replays them too: Glue reports the partitions as existing, which is success.
    drop(function);
    let function = start(&emulator, &emulator.endpoint()).await;
    let mut existing = 0.0;
    for (i, file) in files.iter().enumerate() {
        let name = file.file_name().unwrap().to_string_lossy();
        let invocation = function.invoke(std::fs::read(file).unwrap(), TIMEOUT).await.unwrap();
        let response = invocation.response().unwrap();
        let totals = totals(&function, i).await;
        assert_eq!(totals["PartitionsCreated"], 0.0, "{name}: nothing new");
        assert_eq!(totals["PartitionsFailed"], 0.0, "{name}");
        existing += totals["PartitionsExisting"].as_f64().unwrap();
        if expected_for(file).get("batchItemFailures").is_some() {
            assert_eq!(sorted_failures(response), sorted_failures(&first[i]), "{name}");
        }
    }
    let registered: usize = catalog_after_first.values().map(Vec::len).sum();
    assert!(
        existing >= registered as f64,
        "{existing} existing of {registered} registered"
    );
    assert_eq!(catalog(&glue).await, catalog_after_first);
}

/// A loopback TCP proxy to `upstream` that records the `X-Amz-Target` of every request through it.
struct CountingProxy {
    address: String,
    targets: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for CountingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl CountingProxy {
    async fn start(upstream: String) -> CountingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let targets: Arc<Mutex<Vec<String>>> = Arc::default();
        let sink = targets.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let sink = sink.clone();
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(upstream.trim_start_matches("http://")).await else {
                        return;
                    };
                    let (mut client_read, mut client_write) = client.into_split();
                    let (mut server_read, mut server_write) = server.into_split();
                    let requests = async {
                        let mut buf = vec![0u8; 64 * 1024];
                        let mut pending: Vec<u8> = Vec::new();
                        while let Ok(n) = client_read.read(&mut buf).await {
                            if n == 0 || server_write.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                            pending.extend_from_slice(&buf[..n]);
                            record_targets(&mut pending, &sink);
                        }
                        let _ = server_write.shutdown().await;
                    };
                    let responses = async {
                        let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
                        let _ = client_write.shutdown().await;
                    };
                    tokio::join!(requests, responses);
                });
            }
        });
        CountingProxy { address, targets, task }
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.targets.lock().unwrap())
    }
}

/// Consumes the complete lines of `pending`, recording each `x-amz-target` header value.
fn record_targets(pending: &mut Vec<u8>, sink: &Mutex<Vec<String>>) {
    let Some(last) = pending.windows(2).rposition(|w| w == b"\r\n") else {
        return;
    };
    let complete: Vec<u8> = pending.drain(..last + 2).collect();
    for line in complete.split(|&b| b == b'\n') {
        let line = String::from_utf8_lossy(line);
        if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("x-amz-target")
        {
            sink.lock()
                .unwrap()
                .push(value.trim().trim_start_matches("AWSGlue.").to_owned());
        }
    }
}

fn calls(targets: &[String], operation: &str) -> usize {
    targets.iter().filter(|t| *t == operation).count()
}

#[tokio::test]
async fn the_binary_sends_one_get_table_per_table_per_container_and_none_for_cached_partitions() {
    let emulator = Emulator::start().await.expect("moto starts");
    let glue = glue(&emulator.endpoint());
    create_database(&glue).await;
    let proxy = CountingProxy::start(emulator.endpoint()).await;
    let function = start(&emulator, &proxy.address).await;
    let file = |name: &str| std::fs::read(workspace_root().join(format!("events/s3-cataloger/{name}.json"))).unwrap();

    // 3 new partitions of 2 new tables.
    let invocation = function.invoke(file("sqs-s3-notifications"), TIMEOUT).await.unwrap();
    assert_eq!(sorted_failures(invocation.response().unwrap()), Vec::<String>::new());
    let sent = proxy.take();
    assert_eq!(calls(&sent, "GetTable"), 2, "{sent:?}");
    assert_eq!(calls(&sent, "CreateTable"), 2, "{sent:?}");
    assert_eq!(calls(&sent, "BatchCreatePartition"), 2, "one per table: {sent:?}");
    assert_eq!(sent.len(), 6, "{sent:?}");

    // The same partitions again: nothing goes to Glue.
    function.invoke(file("sqs-s3-notifications"), TIMEOUT).await.unwrap();
    function.invoke(file("direct-s3-put"), TIMEOUT).await.unwrap();
    // Of direct-s3-put's two partitions only agent_events hour 10 is new: one call, no lookup.
    assert_eq!(proxy.take(), ["BatchCreatePartition"]);

    let invocation = function.invoke(file("sqs-s3-notifications"), TIMEOUT).await.unwrap();
    invocation.response().unwrap();
    assert_eq!(proxy.take(), Vec::<String>::new(), "zero calls for cached partitions");

    // 250 new partitions of a known table: ⌈250 / 100⌉ calls and nothing else.
    let event = serde_json::to_vec(&hours_event(BUCKET, 250)).unwrap();
    let invocation = function.invoke(event.clone(), TIMEOUT).await.unwrap();
    assert_eq!(sorted_failures(invocation.response().unwrap()), Vec::<String>::new());
    let sent = proxy.take();
    assert_eq!(sent, ["BatchCreatePartition"; 3], "{sent:?}");
    assert_eq!(catalog(&glue).await["ctr"].len(), 252);

    let invocation = function.invoke(event, TIMEOUT).await.unwrap();
    invocation.response().unwrap();
    assert_eq!(proxy.take(), Vec::<String>::new());
}

#[tokio::test]
async fn a_missing_glue_database_fails_a_direct_event_with_an_error_naming_it() {
    let emulator = Emulator::start().await.expect("moto starts");
    let function = LocalFunction::start(
        &function_binary("s3-cataloger"),
        function_env(&emulator, &emulator.endpoint(), "no_such_database"),
    )
    .await
    .expect("starts: the database is only needed when a table is");
    let file = workspace_root().join("events/s3-cataloger/direct-s3-put.json");
    let invocation = function.invoke(std::fs::read(file).unwrap(), TIMEOUT).await.unwrap();
    match invocation.outcome {
        Outcome::Error {
            error_type,
            error_message,
        } => {
            assert_eq!(error_type, "GlueDatabaseMissing");
            assert!(
                error_message.contains("\"no_such_database\" (GLUE_DATABASE) does not exist"),
                "{error_message}"
            );
        }
        Outcome::Response(r) => panic!("expected a function error, got {}", String::from_utf8_lossy(&r)),
    }
    let totals = totals(&function, 0).await;
    assert_eq!(totals["PartitionsFailed"], 2.0);
}

#[tokio::test]
async fn an_event_of_unknown_shape_is_a_function_error_and_the_process_survives() {
    let emulator = Emulator::start().await.expect("moto starts");
    let function = start(&emulator, &emulator.endpoint()).await;
    let invocation = function.invoke(&br#"{"hello":"world"}"#[..], TIMEOUT).await.unwrap();
    match &invocation.outcome {
        Outcome::Error { error_type, .. } => assert_eq!(error_type, "InvalidEvent"),
        Outcome::Response(r) => panic!("expected a function error, got {}", String::from_utf8_lossy(r)),
    }
    let file = workspace_root().join("events/s3-cataloger/direct-s3-test-event.json");
    let invocation = function.invoke(std::fs::read(file).unwrap(), TIMEOUT).await.unwrap();
    assert!(invocation.response().is_ok());
}

#[tokio::test]
async fn without_glue_database_the_function_fails_its_init_naming_the_variable() {
    let env = [("LAKE_BUCKET", BUCKET.to_owned())];
    let err = match LocalFunction::start(&function_binary("s3-cataloger"), env).await {
        Ok(_) => panic!("init must fail without GLUE_DATABASE"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("GLUE_DATABASE"), "{err}");
}
