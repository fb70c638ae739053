//! Connect's own telemetry in the lake (issue #13):
//!
//! - CloudWatch metric-stream records, in AWS's documented JSON output format, through the real
//!   `firehose-transform` binary on a delivery stream that expects `connect_metrics`; the rows,
//!   converted to Parquet as Firehose does, read back by pyarrow.
//! - `lakectl metrics backfill` against a mocked CloudWatch (moto does not speak the Rust client's
//!   CBOR protocol) with the emulator's S3 and Glue: cataloged, idempotent, read back by pyarrow.
//! - Connect's native flow logs, as Firehose's message extraction delivers them, cataloged as
//!   `connect_flow_logs`; both named queries run by `lakectl query --named` over all of it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should say where

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_sdk_cloudwatch::Client as CloudWatch;
use aws_sdk_cloudwatch::config::retry::RetryConfig;
use aws_sdk_cloudwatch::error::ErrorMetadata;
use aws_sdk_cloudwatch::operation::get_metric_data::{GetMetricDataError, GetMetricDataOutput};
use aws_sdk_cloudwatch::operation::list_metrics::ListMetricsOutput;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataResult, StatusCode};
use aws_smithy_mocks::{MockResponse, RuleMode, mock, mock_client};
use base64_simd::STANDARD;
use connect_lake::config::LakeFormat;
use connect_lake::schema::{CONNECT_METRICS, row_problems};
use connect_lake_e2e::{TEST_PII_KEY, function_binary};
use firehose_transform::firehose::{FirehoseResponse, RecordResult};
use lakectl::metrics::{MetricsBackfill, MetricsBackfillOptions};
use lambda_harness::{Emulator, LocalFunction, workspace_root};
use serde_json::{Value, json};

const INSTANCE: &str = "4d5e6f70-1111-2222-3333-444455556666";

fn testdata(name: &str) -> Vec<u8> {
    std::fs::read(
        workspace_root()
            .join("functions/firehose-transform/testdata")
            .join(name),
    )
    .unwrap()
}

fn tempdir(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("connect-lake-telemetry-{label}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// pyarrow's rows of one Parquet file (tests/python/parquet_rows.py).
fn pyarrow_rows(path: &Path) -> Vec<Value> {
    let script = workspace_root().join("tests/python/parquet_rows.py");
    connect_lake_e2e::venv_python_json([script.as_path(), path])
}

fn request(stream: &str, records: &[&[u8]]) -> Value {
    json!({
        "invocationId": "telemetry",
        "deliveryStreamArn": format!("arn:aws:firehose:us-east-1:012345678901:deliverystream/{stream}"),
        "region": "us-east-1",
        "records": records.iter().enumerate().map(|(i, data)| json!({
            "recordId": format!("r{i}"),
            "approximateArrivalTimestamp": 1_772_600_880_000_i64,
            "data": STANDARD.encode_to_string(data),
        })).collect::<Vec<_>>(),
    })
}

#[tokio::test]
async fn metric_stream_records_through_the_real_binary_become_connect_metrics_rows_that_pyarrow_reads() {
    let function = LocalFunction::start(
        &function_binary("firehose-transform"),
        [
            ("PII_TOKEN_KEY", TEST_PII_KEY.to_owned()),
            (
                "EXPECTED_TABLES",
                "stack-ctr=ctr,stack-metrics=connect_metrics".to_owned(),
            ),
        ],
    )
    .await
    .expect("firehose-transform starts");
    let stream_record = testdata("metric-stream-connect.jsonl");
    let text = String::from_utf8(stream_record.clone()).unwrap();
    let first_object = text.lines().next().unwrap().as_bytes().to_vec();
    let ctr = testdata("ctr-voice-aws-sample.json");
    let queue = |ts: i64| {
        format!(
            r#"{{"namespace":"AWS/Connect","metric_name":"QueueSize","dimensions":{{"InstanceId":"{INSTANCE}","MetricGroup":"Queue","QueueName":"Support"}},"timestamp":{ts},"value":{{"max":1.0,"min":1.0,"sum":1.0,"count":1.0}},"unit":"Count"}}"#
        )
    };
    let two_hours = format!("{}\n{}\n", queue(1_772_600_340_000), queue(1_772_600_400_000));
    let not_a_metric = format!("{}\n{{\"namespace\":\"AWS/Connect\"}}\n", queue(1_772_600_400_000));
    let body = request(
        "stack-metrics",
        &[
            &stream_record,
            &first_object,
            &ctr,
            two_hours.as_bytes(),
            not_a_metric.as_bytes(),
        ],
    );
    let invocation = function.invoke_json(&body, Duration::from_secs(30)).await.unwrap();
    let response: FirehoseResponse = serde_json::from_slice(invocation.response().unwrap()).unwrap();
    let results: Vec<RecordResult> = response.records.iter().map(|r| r.result).collect();
    assert_eq!(
        results,
        [
            RecordResult::Ok,
            RecordResult::Ok,
            RecordResult::ProcessingFailed,
            RecordResult::ProcessingFailed,
            RecordResult::ProcessingFailed
        ]
    );
    assert_eq!(
        STANDARD.decode_to_vec(&response.records[2].data).unwrap(),
        ctr,
        "a contact record on the metric stream keeps its data for the error prefix"
    );
    // The reasons, from the EMF metric lines the function writes.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let emf: Vec<Value> = function
        .process
        .stdout_lines()
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let mut reasons: Vec<&str> = emf
        .iter()
        .filter(|v| v["ProcessingFailed"] == 1.0)
        .filter_map(|v| v["Reason"].as_str())
        .collect();
    reasons.sort_unstable();
    assert_eq!(reasons, ["mixed_hours", "not_a_metric", "wrong_stream"], "{emf:?}");

    let mut rows = Vec::new();
    for record in &response.records[..2] {
        let keys: BTreeMap<_, _> = record.metadata.as_ref().unwrap().partition_keys.clone();
        let want: BTreeMap<String, String> = [
            ("table", "connect_metrics"),
            ("year", "2026"),
            ("month", "03"),
            ("day", "04"),
            ("hour", "05"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(keys, want);
        let data = STANDARD.decode_to_vec(&record.data).unwrap();
        assert_eq!(data.last(), Some(&b'\n'));
        for line in data.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let row: Value = serde_json::from_slice(line).unwrap();
            assert_eq!(row_problems(&CONNECT_METRICS, &row, true), Vec::<String>::new());
        }
        rows.extend(data);
    }
    assert_eq!(
        rows.iter().filter(|b| **b == b'\n').count(),
        6,
        "five objects, then one alone"
    );

    // The same record on the contact-record stream is refused, not written to ctr.
    let on_ctr = function
        .invoke_json(&request("stack-ctr", &[&stream_record]), Duration::from_secs(30))
        .await
        .unwrap();
    let on_ctr: FirehoseResponse = serde_json::from_slice(on_ctr.response().unwrap()).unwrap();
    assert_eq!(on_ctr.records[0].result, RecordResult::ProcessingFailed);

    // Firehose's record format conversion, played by lakectl's converter; pyarrow reads it back.
    let converted = lakectl::convert::rows_to_parquet(&CONNECT_METRICS, &rows).unwrap();
    assert!(
        converted.failed.is_empty(),
        "{:?}",
        converted.failed.first().map(|f| &f.reason)
    );
    let path = tempdir("stream").join("part.parquet");
    std::fs::write(&path, converted.parquet.unwrap()).unwrap();
    let read = pyarrow_rows(&path);
    assert_eq!(read.len(), 6);
    let columns: Vec<&str> = read[0].as_object().unwrap().keys().map(String::as_str).collect();
    let mut schema: Vec<&str> = CONNECT_METRICS.columns.iter().map(|c| c.name).collect();
    schema.sort_unstable();
    let mut columns_sorted = columns.clone();
    columns_sorted.sort_unstable();
    assert_eq!(columns_sorted, schema, "every column of the schema, no other");
    let support = &read[0];
    assert_eq!(support["metric_name"], "QueueSize");
    assert_eq!(support["queue_name"], "Support");
    assert_eq!(support["instance_id"], INSTANCE);
    assert_eq!(support["period_timestamp"], "2026-03-04 05:06:00");
    assert_eq!(support["max_value"], 7.0);
    assert_eq!(support["sum_value"], 9.0);
    assert_eq!(support["sample_count"], 2.0);
    assert_eq!(support["avg_value"], Value::Null);
    assert_eq!(support["unit"], "Count");
    assert_eq!(support["source"], "metric_stream");
    assert_eq!(support["account_id"], "012345678901");
    assert_eq!(support["dimensions"]["MetricGroup"], "Queue");
    let flow = read.iter().find(|r| r["metric_name"] == "ContactFlowErrors").unwrap();
    assert_eq!(flow["flow_name"], "Main IVR");
    assert_eq!(flow["metric_group"], "ContactFlow");
    let ours = read.iter().find(|r| r["namespace"] == "ConnectLake").unwrap();
    assert_eq!(ours["dimensions"], json!({"Function": "firehose-transform"}));
    assert_eq!(ours["instance_id"], Value::Null);
}

fn metric(name: &str, group: &str, key: &str, value: &str) -> Metric {
    Metric::builder()
        .namespace("AWS/Connect")
        .metric_name(name)
        .dimensions(Dimension::builder().name("InstanceId").value(INSTANCE).build())
        .dimensions(Dimension::builder().name("MetricGroup").value(group).build())
        .dimensions(Dimension::builder().name(key).value(value).build())
        .build()
}

/// CloudWatch as the mock plays it: three metrics, two minutes of data each (2026-03-04 05:06 and
/// 05:07 UTC), the first `GetMetricData` call throttled.
fn cloudwatch() -> CloudWatch {
    let list = mock!(CloudWatch::list_metrics).then_output(|| {
        ListMetricsOutput::builder()
            .metrics(metric("QueueSize", "Queue", "QueueName", "Support"))
            .metrics(metric("LongestQueueWaitTime", "Queue", "QueueName", "Support"))
            .metrics(metric(
                "ContactFlowErrors",
                "ContactFlow",
                "ContactFlowName",
                "Main IVR",
            ))
            .build()
    });
    let calls = Arc::new(AtomicUsize::new(0));
    let data = mock!(CloudWatch::get_metric_data).then_compute_response(move |req| {
        if calls.fetch_add(1, Ordering::SeqCst) == 0 {
            return MockResponse::Error(GetMetricDataError::generic(
                ErrorMetadata::builder()
                    .code("Throttling")
                    .message("Rate exceeded")
                    .build(),
            ));
        }
        let (start, end) = (req.start_time().unwrap().secs(), req.end_time().unwrap().secs());
        let minutes = [1_772_600_760_i64, 1_772_600_820];
        // (sum, min, max, n, avg) per metric index and minute.
        let points: [[[f64; 5]; 2]; 3] = [
            [[9.0, 2.0, 7.0, 2.0, 4.5], [4.0, 4.0, 4.0, 1.0, 4.0]],
            [[135.0, 40.0, 95.0, 2.0, 67.5], [120.0, 120.0, 120.0, 1.0, 120.0]],
            [[1.0, 1.0, 1.0, 1.0, 1.0], [2.0, 1.0, 1.0, 2.0, 1.0]],
        ];
        let mut out = GetMetricDataOutput::builder();
        for q in req.metric_data_queries() {
            let id = q.id().unwrap();
            let (index, stat) = id[1..].split_once('_').unwrap();
            let index: usize = index.parse().unwrap();
            let column = ["sum", "min", "max", "n", "avg"]
                .iter()
                .position(|s| *s == stat)
                .unwrap();
            let mut result = MetricDataResult::builder().id(id).status_code(StatusCode::Complete);
            for (m, at) in minutes.iter().enumerate() {
                if (start..end).contains(at) {
                    result = result
                        .timestamps(DateTime::from_secs(*at))
                        .values(points[index][m][column]);
                }
            }
            out = out.metric_data_results(result.build());
        }
        MockResponse::Output(out.build())
    });
    mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, &[&list, &data], |b| b
        .retry_config(RetryConfig::disabled()))
}

fn lakectl_query(emulator: &Emulator, name: &str) -> Vec<Value> {
    let out = std::process::Command::new(function_binary("lakectl"))
        .args([
            "query",
            "--database",
            "connect_lake",
            "--output",
            "json",
            "--named",
            name,
        ])
        .args(["--month", "2026-03"])
        .env("AWS_ENDPOINT_URL", emulator.endpoint())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("lakectl runs");
    assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

async fn object_bytes(s3: &aws_sdk_s3::Client, prefix: &str) -> BTreeMap<String, Vec<u8>> {
    let listed = s3.list_objects_v2().bucket("lake").prefix(prefix).send().await.unwrap();
    let mut out = BTreeMap::new();
    for key in listed.contents().iter().filter_map(|o| o.key()) {
        let body = s3.get_object().bucket("lake").key(key).send().await.unwrap().body;
        out.insert(key.to_owned(), body.collect().await.unwrap().into_bytes().to_vec());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfilled_metrics_streamed_metrics_and_native_flow_logs_answer_both_named_queries() {
    let emulator = Emulator::start().await.expect("moto starts");
    let (config, s3, glue) = connect_lake_e2e::empty_lake(&emulator).await;
    let options = MetricsBackfillOptions {
        bucket: "lake".into(),
        database: "connect_lake".into(),
        namespace: "AWS/Connect".into(),
        instance_id: None,
        days: 1,
        until: time::macros::datetime!(2026-03-04 06:30 UTC),
        format: LakeFormat::Parquet,
        progress: false,
        max_attempts: 3,
        first_backoff: Duration::from_millis(1),
    };
    let backfill = |cw: CloudWatch| {
        let mut b = MetricsBackfill::new(&config, options.clone());
        b.cloudwatch = cw;
        b
    };
    let first = backfill(cloudwatch()).run().await.unwrap();
    assert_eq!(
        (first.metrics, first.rows, first.objects),
        (3, 6, 1),
        "{}",
        first.summary()
    );
    assert_eq!(first.throttled_retries, 1);
    assert_eq!(first.partitions_created, 1);
    assert!(first.incomplete.is_empty());
    let written = object_bytes(&s3, "connect_metrics/").await;
    let key = "connect_metrics/year=2026/month=03/day=04/hour=05/backfill-aws-connect-all.parquet";
    assert_eq!(written.keys().collect::<Vec<_>>(), [key]);

    // A re-run adds nothing: the same object, byte for byte, and no new partition.
    let again = backfill(cloudwatch()).run().await.unwrap();
    assert_eq!(again.partitions_created, 0, "{}", again.summary());
    assert_eq!(object_bytes(&s3, "connect_metrics/").await, written);

    // The cataloger made the table from the shared schema, Parquet, with its partition.
    let table = glue
        .get_table()
        .database_name("connect_lake")
        .name("connect_metrics")
        .send()
        .await
        .unwrap();
    let sd = table.table().unwrap().storage_descriptor().unwrap();
    assert_eq!(
        sd.serde_info().and_then(|s| s.serialization_library()),
        Some("org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe")
    );
    let path = tempdir("backfill").join("backfill.parquet");
    std::fs::write(&path, &written[key]).unwrap();
    let read = pyarrow_rows(&path);
    assert_eq!(read.len(), 6);
    let wait = read
        .iter()
        .find(|r| r["metric_name"] == "LongestQueueWaitTime" && r["period_timestamp"] == "2026-03-04 05:06:00")
        .unwrap();
    assert_eq!(
        (wait["max_value"].as_f64(), wait["avg_value"].as_f64()),
        (Some(95.0), Some(67.5))
    );
    assert_eq!(wait["source"], "backfill");
    assert_eq!(wait["queue_name"], "Support");

    // The metric stream's rows of the same hour, as firehose-transform writes them.
    let stream_text = String::from_utf8(testdata("metric-stream-connect.jsonl")).unwrap();
    let flat = firehose_transform::metric_stream::flatten(&stream_text).unwrap();
    let mut lines = Vec::new();
    for row in &flat.rows {
        serde_json::to_writer(&mut lines, row).unwrap();
        lines.push(b'\n');
    }
    let parquet = lakectl::convert::rows_to_parquet(&CONNECT_METRICS, &lines)
        .unwrap()
        .parquet
        .unwrap();
    let stream_key =
        "connect_metrics/year=2026/month=03/day=04/hour=05/connect-lake-metrics-1-2026-03-04-05-10-00.parquet";
    s3.put_object()
        .bucket("lake")
        .key(stream_key)
        .body(parquet.into())
        .send()
        .await
        .unwrap();

    // Connect's flow logs as the delivery stream writes them: decompressed, the messages
    // extracted, one JSON object per line, gzip, under the arrival hour.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&testdata("connect-flow-logs.jsonl")).unwrap();
    let flow_key = "connect_flow_logs/year=2026/month=03/day=04/hour=05/connect-flow-logs-1-2026-03-04-05-11-00.gz";
    s3.put_object()
        .bucket("lake")
        .key(flow_key)
        .body(gz.finish().unwrap().into())
        .send()
        .await
        .unwrap();
    let cataloger = connect_lake_e2e::lake_cataloger(&config);
    let records: Vec<Value> = [stream_key, flow_key]
        .iter()
        .map(|k| {
            json!({
                "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": "lake"}, "object": {"key": k, "size": 1}},
            })
        })
        .collect();
    let event = json!({ "Records": records });
    let (result, _) = cataloger.process(&event).await;
    result.unwrap();

    let peaks = lakectl_query(&emulator, "queue-peaks-by-hour");
    let hour = |queue: &str| {
        peaks
            .iter()
            .find(|r| r["queue_name"] == queue)
            .unwrap_or_else(|| panic!("{queue}: {peaks:?}"))
    };
    assert_eq!(peaks.len(), 2, "{peaks:?}");
    assert_eq!(hour("Support")["period_hour"], "2026-03-04 05:00");
    assert_eq!(hour("Support")["peak_queue_size"], 7.0);
    assert_eq!(
        hour("Support")["longest_wait_s"],
        120.0,
        "the 05:07 minute, from the backfill"
    );
    assert_eq!(hour("Billing")["peak_queue_size"], 3.0, "from the stream");

    let errors = lakectl_query(&emulator, "flow-errors-by-day");
    assert_eq!(errors.len(), 1, "{errors:?}");
    let main = &errors[0];
    assert_eq!(main["flow_name"], "Main IVR");
    assert_eq!(main["flow_day"], "2026-03-04");
    assert_eq!(
        main["flow_errors"], 3.0,
        "05:06 (1) + 05:07 (2): the minute in both sources counts once"
    );
    assert_eq!(main["blocks_logged"], 5);
    assert_eq!(main["contacts_logged"], 2);
    assert_eq!(main["error_blocks_logged"], 2);
    assert_eq!(main["contacts_with_error_logged"], 2);
}
