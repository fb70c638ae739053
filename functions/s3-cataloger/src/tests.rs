//! Unit tests: planning from the fixtures in `events/s3-cataloger/`, the Glue definitions, and the
//! failures the emulator cannot produce (500s, throttling, per-partition errors, a missing
//! database), injected with `aws-smithy-mocks` with retries disabled.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_sdk_glue::Client;
use aws_sdk_glue::config::retry::RetryConfig;
use aws_sdk_glue::operation::batch_create_partition::{BatchCreatePartitionError, BatchCreatePartitionOutput};
use aws_sdk_glue::operation::create_table::{CreateTableError, CreateTableOutput};
use aws_sdk_glue::operation::get_table::{GetTableError, GetTableOutput};
use aws_sdk_glue::types::error::{AlreadyExistsException, EntityNotFoundException};
use aws_sdk_glue::types::{ErrorDetail, PartitionError, TableInput};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use connect_lake::config::LakeFormat;
use connect_lake::s3_event::{ObjectEvent, ObjectEventKind, Trigger, parse_trigger};
use connect_lake::schema::{AGENT_EVENTS, CONTACT_FLOW_LOGS, CTR, FRAUD_DECISIONS, KeyError, PartitionValues, TABLES};
use connect_lake::testing::hours_event;
use serde_json::{Value, json};

use super::*;
use crate::plan::{Disposition, InvalidReason, SkipReason, classify};

const BUCKET: &str = "connect-lake-example-lake";
const DATABASE: &str = "connect_lake";

fn fixture(name: &str) -> Value {
    let path = format!("{}/../../events/s3-cataloger/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn message_ids(event: &Value) -> Vec<String> {
    event["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["messageId"].as_str().unwrap().to_owned())
        .collect()
}

fn config(format: LakeFormat) -> Config {
    Config {
        lake_bucket: BUCKET.to_owned(),
        database: DATABASE.to_owned(),
        format,
        metrics_namespace: "ConnectLake".to_owned(),
    }
}

fn plan_of(event: &Value) -> Plan {
    match parse_trigger(event).unwrap() {
        Trigger::Direct(n) => Plan::new([(0, &Ok(n))], BUCKET),
        Trigger::Sqs(messages) => Plan::new(messages.iter().enumerate().map(|(i, m)| (i, &m.body)), BUCKET),
    }
}

fn partition(table: &'static Table, y: &str, m: &str, d: &str, h: &str) -> PartitionRef {
    PartitionRef {
        table,
        values: PartitionValues {
            year: y.into(),
            month: m.into(),
            day: d.into(),
            hour: h.into(),
        },
    }
}

/// The ids of the messages at `indexes`, sorted as batch responses list them.
fn ids_at(ids: &[String], indexes: &[usize]) -> Vec<String> {
    let mut out: Vec<String> = indexes.iter().map(|&i| ids[i].clone()).collect();
    out.sort();
    out
}

fn failures(response: &Response) -> Vec<String> {
    match response {
        Response::Sqs(r) => r
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.clone())
            .collect(),
        Response::Direct(_) => panic!("expected an SQS response"),
    }
}

// ─── configuration ────────────────────────────────────────────────────────────────────────────

#[test]
fn without_glue_database_the_config_error_names_the_variable() {
    let err = Config::from_env(&[("LAKE_BUCKET", BUCKET)]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "environment variable GLUE_DATABASE is required but not set"
    );
    let err = Config::from_env(&[("GLUE_DATABASE", DATABASE)]).unwrap_err();
    assert!(err.to_string().contains("LAKE_BUCKET"), "{err}");
}

#[test]
fn lake_format_defaults_to_parquet_accepts_json_and_rejects_anything_else() {
    let c = Config::from_env(&[("LAKE_BUCKET", BUCKET), ("GLUE_DATABASE", DATABASE)]).unwrap();
    assert_eq!(c, config(LakeFormat::Parquet));
    let c = Config::from_env(&[
        ("LAKE_BUCKET", BUCKET),
        ("GLUE_DATABASE", DATABASE),
        ("LAKE_FORMAT", "json"),
    ])
    .unwrap();
    assert_eq!(c.format, LakeFormat::Json);
    let err = Config::from_env(&[
        ("LAKE_BUCKET", BUCKET),
        ("GLUE_DATABASE", DATABASE),
        ("LAKE_FORMAT", "orc"),
    ])
    .unwrap_err()
    .to_string();
    assert!(err.contains("LAKE_FORMAT") && err.contains("orc"), "{err}");
}

#[test]
fn a_bucket_uri_in_lake_bucket_is_rejected_at_start_up() {
    for bad in ["s3://connect-lake-example-lake", "connect-lake-example-lake/ctr"] {
        let err = Config::from_env(&[("LAKE_BUCKET", bad), ("GLUE_DATABASE", DATABASE)]).unwrap_err();
        assert!(err.to_string().contains("LAKE_BUCKET"), "{err}");
    }
}

// ─── planning ─────────────────────────────────────────────────────────────────────────────────

#[test]
fn each_skip_rule_is_counted_under_its_own_reason_and_nothing_is_registered() {
    let plan = plan_of(&fixture("sqs-skip-rules"));
    assert!(plan.partitions.is_empty(), "{:?}", plan.partitions);
    assert!(plan.malformed.is_empty());
    let expected: BTreeMap<SkipReason, u64> = [
        SkipReason::TestEvent,
        SkipReason::ObjectRemoved,
        SkipReason::OtherBucket,
        SkipReason::WriteAccessProbe,
        SkipReason::FolderMarker,
        SkipReason::UnknownPrefix,
    ]
    .into_iter()
    .map(|r| (r, 1))
    .chain([(SkipReason::ErrorPrefix, 2)])
    .collect();
    assert_eq!(plan.skipped, expected);
    assert_eq!(
        plan.invalid,
        BTreeMap::from([(InvalidReason::NotPartitioned, 1), (InvalidReason::InvalidValue, 1)])
    );
    assert_eq!(plan.objects, 9, "the test event carries no object");
}

#[test]
fn classification_follows_the_rules_in_order() {
    let ev = |key: &str, size: u64, kind: ObjectEventKind| ObjectEvent {
        bucket: BUCKET.into(),
        key: key.into(),
        size: Some(size),
        kind,
        event_time: None,
    };
    let created = ObjectEventKind::Created;
    let good = "ctr/year=2026/month=03/day=08/hour=10/a.parquet";
    assert_eq!(
        classify(&ev(good, 10, created.clone()), BUCKET),
        Disposition::Register(partition(&CTR, "2026", "03", "08", "10"))
    );
    assert_eq!(
        classify(
            &ev(good, 10, ObjectEventKind::Other("ObjectRestore:Completed".into())),
            BUCKET
        ),
        Disposition::Skip(SkipReason::OtherEvent)
    );
    assert_eq!(
        classify(&ev(good, 10, created.clone()), "another-lake"),
        Disposition::Skip(SkipReason::OtherBucket)
    );
    assert_eq!(
        classify(&ev("format-conversion-failed/2026/x", 10, created.clone()), BUCKET),
        Disposition::Skip(SkipReason::ErrorPrefix)
    );
    assert_eq!(
        classify(
            &ev(
                "ctr/year=2026/month=03/day=08/hour=10/.write_access_check_file.temp",
                0,
                created.clone()
            ),
            BUCKET
        ),
        Disposition::Skip(SkipReason::WriteAccessProbe),
        "a probe inside a partition registers nothing"
    );
    assert_eq!(
        classify(&ev("ctr/year=2026_$folder$", 0, created.clone()), BUCKET),
        Disposition::Skip(SkipReason::FolderMarker)
    );
    // A zero-byte object with a file name is data (an empty file), not a folder marker.
    assert!(matches!(
        classify(&ev(good, 0, created.clone()), BUCKET),
        Disposition::Register(_)
    ));
    assert_eq!(
        classify(
            &ev("ctr/year=2026/month=02/day=29/hour=00/a.parquet", 10, created),
            BUCKET
        ),
        Disposition::Invalid(
            InvalidReason::InvalidValue,
            KeyError::InvalidValue {
                key: "day",
                value: "29".into()
            }
        )
    );
}

#[test]
fn encoded_keys_keys_with_spaces_and_decoded_keys_map_to_their_partitions() {
    let plan = plan_of(&fixture("sqs-encoded-keys"));
    let got: Vec<(String, Vec<usize>)> = plan
        .partitions
        .iter()
        .map(|(p, s)| (p.to_string(), s.iter().copied().collect()))
        .collect();
    assert_eq!(
        got,
        [
            ("agent_events/year=2026/month=03/day=09/hour=01".to_owned(), vec![1]),
            ("ctr/year=2026/month=03/day=09/hour=00".to_owned(), vec![0]),
            ("ctr/year=2026/month=03/day=09/hour=02".to_owned(), vec![2]),
            ("ctr/year=2026/month=03/day=09/hour=03".to_owned(), vec![3]),
        ]
    );
    assert!(plan.skipped.is_empty() && plan.invalid.is_empty());
}

#[test]
fn eventbridge_bodies_register_and_deletions_are_skipped() {
    let plan = plan_of(&fixture("sqs-eventbridge"));
    let got: Vec<String> = plan.partitions.keys().map(ToString::to_string).collect();
    assert_eq!(
        got,
        [
            "agent_events/year=2026/month=03/day=08/hour=12",
            "ctr/year=2026/month=03/day=08/hour=12"
        ]
    );
    assert_eq!(plan.skipped, BTreeMap::from([(SkipReason::ObjectRemoved, 1)]));
}

#[test]
fn a_partition_asked_for_twice_is_planned_once_with_every_contributing_message() {
    let plan = plan_of(&fixture("sqs-s3-notifications"));
    assert_eq!(plan.objects, 4);
    assert_eq!(plan.partitions.len(), 3);
    let sources = &plan.partitions[&partition(&CTR, "2026", "03", "08", "10")];
    assert_eq!(sources.iter().copied().collect::<Vec<_>>(), [0, 1]);
}

#[test]
fn malformed_bodies_are_failures_of_their_own_message_only() {
    let plan = plan_of(&fixture("sqs-malformed-body"));
    assert_eq!(plan.malformed.iter().copied().collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(plan.partitions.len(), 1);
}

// ─── Glue definitions ─────────────────────────────────────────────────────────────────────────

fn table_def(format: LakeFormat) -> TableInput {
    let sd = glue::storage_descriptor(&CTR, BUCKET, format).unwrap();
    glue::table_input(&CTR, sd, format).unwrap()
}

#[test]
fn parquet_tables_use_the_parquet_serde_with_snappy_and_the_shared_columns() {
    let t = table_def(LakeFormat::Parquet);
    assert_eq!(t.name(), "ctr");
    assert_eq!(t.table_type(), Some("EXTERNAL_TABLE"));
    let params = t.parameters().unwrap();
    assert_eq!(params["classification"], "parquet");
    assert_eq!(params["parquet.compression"], "SNAPPY");
    assert_eq!(params["EXTERNAL"], "TRUE");
    let sd = t.storage_descriptor().unwrap();
    assert_eq!(sd.location(), Some("s3://connect-lake-example-lake/ctr/"));
    assert_eq!(
        sd.serde_info().and_then(|s| s.serialization_library()),
        Some("org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe")
    );
    assert_eq!(
        sd.input_format(),
        Some("org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat")
    );
    assert!(!sd.compressed());
    let columns: Vec<(&str, &str)> = sd
        .columns()
        .iter()
        .map(|c| (c.name(), c.r#type().unwrap_or_default()))
        .collect();
    let schema: Vec<(&str, String)> = CTR.columns.iter().map(|c| (c.name, c.kind.glue_type())).collect();
    let schema: Vec<(&str, &str)> = schema.iter().map(|(n, t)| (*n, t.as_str())).collect();
    assert_eq!(columns, schema);
    let keys: Vec<(&str, Option<&str>)> = t.partition_keys().iter().map(|c| (c.name(), c.r#type())).collect();
    assert_eq!(
        keys,
        [
            ("year", Some("string")),
            ("month", Some("string")),
            ("day", Some("string")),
            ("hour", Some("string"))
        ]
    );
}

#[test]
fn json_tables_use_the_openx_serde_over_gzip_text() {
    let t = table_def(LakeFormat::Json);
    let params = t.parameters().unwrap();
    assert_eq!(params["classification"], "json");
    assert_eq!(params["compressionType"], "gzip");
    assert!(!params.contains_key("parquet.compression"));
    let sd = t.storage_descriptor().unwrap();
    let serde = sd.serde_info().unwrap();
    assert_eq!(
        serde.serialization_library(),
        Some("org.openx.data.jsonserde.JsonSerDe")
    );
    assert_eq!(serde.parameters().unwrap()["ignore.malformed.json"], "FALSE");
    assert_eq!(sd.input_format(), Some("org.apache.hadoop.mapred.TextInputFormat"));
    assert!(sd.compressed());
}

#[test]
fn partitions_copy_the_table_storage_descriptor_with_their_own_location() {
    let table_sd = glue::storage_descriptor(&AGENT_EVENTS, BUCKET, LakeFormat::Json).unwrap();
    let p = partition(&AGENT_EVENTS, "2026", "03", "08", "23");
    let input = glue::partition_input(&table_sd, &p, BUCKET);
    assert_eq!(input.values(), ["2026", "03", "08", "23"]);
    let sd = input.storage_descriptor().unwrap();
    assert_eq!(
        sd.location(),
        Some("s3://connect-lake-example-lake/agent_events/year=2026/month=03/day=08/hour=23/")
    );
    let mut expected = table_sd.clone();
    expected.location = sd.location.clone();
    assert_eq!(sd, &expected, "everything but the location is the table's");
}

/// The Glue definition of a log-shipped table, as the cataloger builds it under `LAKE_FORMAT`.
fn log_shipped_def(table: &'static Table, lake_format: LakeFormat) -> TableInput {
    let format = table.format(lake_format);
    let sd = glue::storage_descriptor(table, BUCKET, format).unwrap();
    glue::table_input(table, sd, format).unwrap()
}

#[test]
fn log_shipped_tables_are_gzip_json_through_the_openx_serde_whatever_lake_format_says() {
    for table in [&FRAUD_DECISIONS, &CONTACT_FLOW_LOGS] {
        let t = log_shipped_def(table, LakeFormat::Parquet);
        assert_eq!(t, log_shipped_def(table, LakeFormat::Json), "{}", table.name);
        assert_eq!(t.parameters().unwrap()["classification"], "json", "{}", table.name);
        assert_eq!(t.parameters().unwrap()["compressionType"], "gzip", "{}", table.name);
        let sd = t.storage_descriptor().unwrap();
        assert_eq!(
            sd.serde_info().and_then(|s| s.serialization_library()),
            Some("org.openx.data.jsonserde.JsonSerDe"),
            "{}",
            table.name
        );
        assert_eq!(sd.input_format(), Some("org.apache.hadoop.mapred.TextInputFormat"));
        assert_eq!(sd.location(), Some(format!("s3://{BUCKET}/{}/", table.name).as_str()));
        let keys: Vec<&str> = t.partition_keys().iter().map(|c| c.name()).collect();
        assert_eq!(keys, ["year", "month", "day", "hour"]);
    }
}

#[test]
fn nested_columns_keep_their_glue_types() {
    let types = |table: &'static Table| -> HashMap<String, String> {
        let t = log_shipped_def(table, LakeFormat::Parquet);
        let sd = t.storage_descriptor().unwrap();
        sd.columns()
            .iter()
            .map(|c| (c.name().to_owned(), c.r#type().unwrap_or_default().to_owned()))
            .collect()
    };
    let fraud = types(&FRAUD_DECISIONS);
    assert_eq!(fraud["reasons"], "array<string>");
    assert!(
        fraud["features"].starts_with("struct<caller:string,"),
        "{}",
        fraud["features"]
    );
    assert!(
        fraud["features"].contains(",hop_count:bigint,"),
        "{}",
        fraud["features"]
    );
    let flow = types(&CONTACT_FLOW_LOGS);
    assert_eq!(flow["parameters"], "map<string,string>");
    assert_eq!(flow["attribute_keys"], "array<string>");
}

#[test]
fn objects_of_every_schema_table_register_their_partition() {
    for table in TABLES {
        let key = format!("{}/year=2026/month=03/day=08/hour=23/part-0001.gz", table.name);
        let event = ObjectEvent {
            bucket: BUCKET.into(),
            key,
            size: Some(100),
            kind: ObjectEventKind::Created,
            event_time: None,
        };
        assert_eq!(
            classify(&event, BUCKET),
            Disposition::Register(partition(table, "2026", "03", "08", "23")),
            "{}",
            table.name
        );
    }
}

/// A direct S3 notification for these keys, shaped like the `direct-s3-put` fixture.
fn direct_put(keys: &[&str]) -> Value {
    let fixture = fixture("direct-s3-put");
    let record = fixture["Records"][0].clone();
    let records: Vec<Value> = keys
        .iter()
        .map(|key| {
            let mut r = record.clone();
            r["s3"]["object"]["key"] = json!(key);
            r
        })
        .collect();
    json!({ "Records": records })
}

#[tokio::test]
async fn log_shipped_objects_create_json_tables_and_register_json_partitions_under_a_parquet_lake() {
    let created: Arc<Mutex<Vec<TableInput>>> = Arc::default();
    let seen = created.clone();
    let create = mock!(Client::create_table).then_compute_output(move |req| {
        seen.lock().unwrap().extend(req.table_input().cloned());
        CreateTableOutput::builder().build()
    });
    let registered: Arc<Mutex<Vec<(String, aws_sdk_glue::types::PartitionInput)>>> = Arc::default();
    let seen = registered.clone();
    let batch = mock!(Client::batch_create_partition).then_compute_output(move |req| {
        let table = req.table_name().unwrap_or_default().to_owned();
        seen.lock()
            .unwrap()
            .extend(req.partition_input_list().iter().map(|p| (table.clone(), p.clone())));
        BatchCreatePartitionOutput::builder().build()
    });
    let get = table_not_found();
    let cataloger = Cataloger::new(mocked(&[&get, &create, &batch]), config(LakeFormat::Parquet));

    let event = direct_put(&[
        "fraud_decisions/year%3D2026/month%3D03/day%3D08/hour%3D23/connect-lake-fraud-decisions-1-2026-03-08-23-55-00-0b1c.gz",
        "contact_flow_logs/year%3D2026/month%3D03/day%3D09/hour%3D00/connect-lake-flow-logs-1-2026-03-09-00-01-00-9f3e.gz",
    ]);
    let (result, stats) = cataloger.process(&event).await;
    result.unwrap();
    assert_eq!((stats.tables_created, stats.partitions_created), (2, 2));

    let mut inputs = created.lock().unwrap().clone();
    inputs.sort_by(|a, b| a.name().cmp(b.name()));
    assert_eq!(
        inputs,
        [
            log_shipped_def(&CONTACT_FLOW_LOGS, LakeFormat::Json),
            log_shipped_def(&FRAUD_DECISIONS, LakeFormat::Json)
        ]
    );
    let mut partitions = registered.lock().unwrap().clone();
    partitions.sort_by(|a, b| a.0.cmp(&b.0));
    let got: Vec<String> = partitions
        .iter()
        .map(|(table, p)| {
            let sd = p.storage_descriptor().unwrap();
            let serde = sd
                .serde_info()
                .and_then(|s| s.serialization_library())
                .unwrap_or_default();
            format!(
                "{table} {} {} {serde}",
                p.values().join(","),
                sd.location().unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            "contact_flow_logs 2026,03,09,00 s3://connect-lake-example-lake/contact_flow_logs/year=2026/month=03/day=09/hour=00/ org.openx.data.jsonserde.JsonSerDe",
            "fraud_decisions 2026,03,08,23 s3://connect-lake-example-lake/fraud_decisions/year=2026/month=03/day=08/hour=23/ org.openx.data.jsonserde.JsonSerDe",
        ]
    );
}

// ─── Glue failures, injected ──────────────────────────────────────────────────────────────────

fn mocked(rules: &[&Rule]) -> Client {
    mock_client!(aws_sdk_glue, RuleMode::MatchAny, rules, |b| b
        .retry_config(RetryConfig::disabled()))
}

fn table_found() -> Rule {
    mock!(Client::get_table).then_compute_output(|req| {
        let name = req.name().unwrap_or_default();
        let table = connect_lake::schema::table(name).unwrap();
        let sd = glue::storage_descriptor(table, BUCKET, LakeFormat::Parquet).unwrap();
        GetTableOutput::builder()
            .table(
                aws_sdk_glue::types::Table::builder()
                    .name(name)
                    .storage_descriptor(sd)
                    .build()
                    .unwrap(),
            )
            .build()
    })
}

fn table_not_found() -> Rule {
    mock!(Client::get_table).then_error(|| {
        GetTableError::EntityNotFoundException(EntityNotFoundException::builder().message("Table not found.").build())
    })
}

fn all_created() -> Rule {
    mock!(Client::batch_create_partition).then_output(|| BatchCreatePartitionOutput::builder().build())
}

fn http(status: u16, body: &'static str) -> HttpResponse {
    HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::from(body))
}

const INTERNAL_ERROR: &str = r#"{"__type":"InternalServiceException","message":"Internal service error"}"#;
const THROTTLED: &str = r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;

#[tokio::test]
async fn a_500_from_batch_create_partition_fails_exactly_the_messages_of_that_table() {
    let ctr_fails = mock!(Client::batch_create_partition)
        .match_requests(|r| r.table_name() == Some("ctr"))
        .then_http_response(|| http(500, INTERNAL_ERROR));
    let agent_ok = mock!(Client::batch_create_partition)
        .match_requests(|r| r.table_name() == Some("agent_events"))
        .then_output(|| BatchCreatePartitionOutput::builder().build());
    let get = table_found();
    let cataloger = Cataloger::new(mocked(&[&get, &ctr_fails, &agent_ok]), config(LakeFormat::Parquet));
    let event = fixture("sqs-s3-notifications");
    let ids = message_ids(&event);

    let (result, stats) = cataloger.process(&event).await;
    let response = result.unwrap();
    assert_eq!(failures(&response), ids_at(&ids, &[0, 1]));
    assert_eq!(ctr_fails.num_calls(), 1, "retries are off: one attempt");
    assert_eq!(agent_ok.num_calls(), 1);
    assert_eq!(
        (stats.partitions_failed, stats.partitions_created, stats.failed_messages),
        (2, 1, 2)
    );

    // Failed partitions are not remembered: the retried messages try them again.
    let (result, stats) = cataloger.process(&event).await;
    assert_eq!(failures(&result.unwrap()).len(), 2);
    assert_eq!(ctr_fails.num_calls(), 2);
    assert_eq!(agent_ok.num_calls(), 1, "the registered partition is cached");
    assert_eq!(stats.partitions_cached, 1);
}

#[tokio::test]
async fn throttling_makes_a_direct_event_fail_with_the_glue_error() {
    let throttled = mock!(Client::batch_create_partition).then_http_response(|| http(400, THROTTLED));
    let get = table_found();
    let cataloger = Cataloger::new(mocked(&[&get, &throttled]), config(LakeFormat::Parquet));

    let (result, stats) = cataloger.process(&fixture("direct-s3-put")).await;
    let err = result.unwrap_err();
    assert_eq!(err.error_type(), "GlueCallFailed");
    let message = err.to_string();
    assert!(
        message.starts_with("2 of 2 partitions were not registered"),
        "{message}"
    );
    assert!(message.contains("ThrottlingException"), "{message}");
    assert!(message.contains("BatchCreatePartition"), "{message}");
    assert_eq!(stats.partitions_failed, 2);
    let diagnostic = lambda_runtime::Diagnostic::from(err);
    assert_eq!(diagnostic.error_type, "GlueCallFailed");
}

#[tokio::test]
async fn a_throttled_get_table_fails_only_the_messages_of_that_table() {
    let get_throttled = mock!(Client::get_table)
        .match_requests(|r| r.name() == Some("agent_events"))
        .then_http_response(|| http(400, THROTTLED));
    let get = table_found();
    let batch = all_created();
    let cataloger = Cataloger::new(mocked(&[&get_throttled, &get, &batch]), config(LakeFormat::Parquet));
    let event = fixture("sqs-s3-notifications");
    let ids = message_ids(&event);

    let (result, stats) = cataloger.process(&event).await;
    assert_eq!(failures(&result.unwrap()), ids_at(&ids, &[2]));
    assert_eq!(batch.num_calls(), 1, "only ctr's partitions were sent");
    assert_eq!((stats.partitions_created, stats.partitions_failed), (2, 1));
}

#[tokio::test]
async fn per_partition_errors_fail_only_their_messages_and_already_exists_is_success() {
    // ctr hour 10 (messages 0 and 1) already exists; ctr hour 11 (message 1) hits an internal error.
    let batch = mock!(Client::batch_create_partition).then_compute_output(|req| {
        let mut out = BatchCreatePartitionOutput::builder();
        for p in req.partition_input_list() {
            let values = p.values();
            let code = match values.get(3).map(String::as_str) {
                Some("10") => "AlreadyExistsException",
                Some("11") if req.table_name() == Some("ctr") => "InternalServiceException",
                _ => continue,
            };
            let mut error = PartitionError::builder().error_detail(
                ErrorDetail::builder()
                    .error_code(code)
                    .error_message("from the mock")
                    .build(),
            );
            for v in values {
                error = error.partition_values(v);
            }
            out = out.errors(error.build());
        }
        out.build()
    });
    let get = table_found();
    let cataloger = Cataloger::new(mocked(&[&get, &batch]), config(LakeFormat::Parquet));
    let event = fixture("sqs-s3-notifications");
    let ids = message_ids(&event);

    let (result, stats) = cataloger.process(&event).await;
    assert_eq!(failures(&result.unwrap()), ids_at(&ids, &[1]));
    assert_eq!(
        (
            stats.partitions_existing,
            stats.partitions_failed,
            stats.partitions_created
        ),
        (1, 1, 1)
    );
    assert_eq!(batch.num_calls(), 2, "one call per table");
}

#[tokio::test]
async fn a_missing_database_is_named_and_nothing_is_registered() {
    let get = table_not_found();
    let create = mock!(Client::create_table).then_error(|| {
        CreateTableError::EntityNotFoundException(
            EntityNotFoundException::builder()
                .message("Database connect_lake not found.")
                .build(),
        )
    });
    let batch = all_created();
    let cataloger = Cataloger::new(mocked(&[&get, &create, &batch]), config(LakeFormat::Parquet));

    let (result, _) = cataloger.process(&fixture("direct-s3-put")).await;
    let err = result.unwrap_err();
    assert_eq!(err.error_type(), "GlueDatabaseMissing");
    let message = err.to_string();
    assert!(
        message.contains("Glue database \"connect_lake\" (GLUE_DATABASE) does not exist"),
        "{message}"
    );
    assert_eq!(batch.num_calls(), 0);

    // With SQS, every message that needed the database fails.
    let event = fixture("sqs-s3-notifications");
    let ids = message_ids(&event);
    let (result, _) = cataloger.process(&event).await;
    assert_eq!(failures(&result.unwrap()), ids_at(&ids, &[0, 1, 2]));
}

#[tokio::test]
async fn a_missing_table_is_created_from_the_shared_schema_once_per_container() {
    let created: Arc<Mutex<Vec<TableInput>>> = Arc::default();
    let seen = created.clone();
    let get = table_not_found();
    let create = mock!(Client::create_table).then_compute_output(move |req| {
        seen.lock().unwrap().extend(req.table_input().cloned());
        CreateTableOutput::builder().build()
    });
    let batch = all_created();
    let cataloger = Cataloger::new(mocked(&[&get, &create, &batch]), config(LakeFormat::Json));

    let (result, stats) = cataloger.process(&fixture("sqs-s3-notifications")).await;
    assert!(failures(&result.unwrap()).is_empty());
    assert_eq!(stats.tables_created, 2);
    let inputs = created.lock().unwrap().clone();
    let names: Vec<&str> = inputs.iter().map(TableInput::name).collect();
    assert_eq!(names, ["agent_events", "ctr"]);
    assert_eq!(inputs[1], table_def(LakeFormat::Json));

    // New partitions of the same tables: no GetTable, no CreateTable.
    let (result, stats) = cataloger.process(&fixture("sqs-encoded-keys")).await;
    assert!(failures(&result.unwrap()).is_empty());
    assert_eq!((get.num_calls(), create.num_calls()), (2, 2));
    assert_eq!((stats.tables_created, stats.partitions_created), (0, 4));
}

#[tokio::test]
async fn a_table_created_concurrently_counts_as_success() {
    let get = table_not_found();
    let create = mock!(Client::create_table).then_error(|| {
        CreateTableError::AlreadyExistsException(
            AlreadyExistsException::builder()
                .message("Table already exists.")
                .build(),
        )
    });
    let batch = all_created();
    let cataloger = Cataloger::new(mocked(&[&get, &create, &batch]), config(LakeFormat::Parquet));

    let (result, stats) = cataloger.process(&fixture("direct-s3-put")).await;
    let Response::Direct(summary) = result.unwrap() else {
        panic!("a direct event gets a summary")
    };
    assert_eq!((summary.tables_created, summary.partitions_created), (0, 2));
    assert_eq!(stats, summary);
    assert_eq!(batch.num_calls(), 2);
}

#[tokio::test]
async fn a_partition_in_the_warm_cache_costs_no_glue_call() {
    let get = table_found();
    let batch = all_created();
    let cataloger = Cataloger::new(mocked(&[&get, &batch]), config(LakeFormat::Parquet));
    let event = fixture("direct-s3-put");
    cataloger.process(&event).await.0.unwrap();
    assert_eq!((get.num_calls(), batch.num_calls()), (2, 2));

    let (result, stats) = cataloger.process(&event).await;
    result.unwrap();
    assert_eq!((get.num_calls(), batch.num_calls()), (2, 2), "no call at all");
    assert_eq!((stats.partitions_cached, stats.partitions_created), (2, 0));
}

#[tokio::test]
async fn a_table_deleted_behind_the_cache_is_looked_up_again_on_the_retry() {
    let get = table_found();
    let batch = mock!(Client::batch_create_partition)
        .sequence()
        .error(|| {
            BatchCreatePartitionError::EntityNotFoundException(
                EntityNotFoundException::builder().message("Table not found.").build(),
            )
        })
        .output(|| BatchCreatePartitionOutput::builder().build())
        .build();
    let cataloger = Cataloger::new(mocked(&[&get, &batch]), config(LakeFormat::Parquet));
    let event = json!({"Records": [fixture("direct-s3-put")["Records"][0].clone()]});

    let (result, _) = cataloger.process(&event).await;
    assert!(result.is_err());
    let (result, stats) = cataloger.process(&event).await;
    result.unwrap();
    assert_eq!(get.num_calls(), 2, "the table is looked up again");
    assert_eq!(stats.partitions_created, 1);
}

#[tokio::test]
async fn an_event_of_unknown_shape_is_a_function_error_and_the_test_event_is_not() {
    let cataloger = Cataloger::new(mocked(&[]), config(LakeFormat::Parquet));
    let (result, stats) = cataloger.process(&json!({"hello": "world"})).await;
    let err = result.unwrap_err();
    assert_eq!(err.error_type(), "InvalidEvent");
    assert_eq!(stats.malformed_messages, 1);

    let (result, stats) = cataloger.process(&fixture("direct-s3-test-event")).await;
    assert!(matches!(result, Ok(Response::Direct(_))));
    assert_eq!(stats.skipped, BTreeMap::from([("test_event", 1)]));
}

#[tokio::test]
async fn two_hundred_fifty_partitions_go_out_in_three_calls_of_at_most_100() {
    let sizes: Arc<Mutex<Vec<usize>>> = Arc::default();
    let seen = sizes.clone();
    let batch = mock!(Client::batch_create_partition).then_compute_output(move |req| {
        seen.lock().unwrap().push(req.partition_input_list().len());
        BatchCreatePartitionOutput::builder().build()
    });
    let get = table_found();
    let cataloger = Cataloger::new(mocked(&[&get, &batch]), config(LakeFormat::Parquet));
    let event = hours_event(BUCKET, 250);
    let (result, stats) = cataloger.process(&event).await;
    assert!(failures(&result.unwrap()).is_empty());
    assert_eq!(*sizes.lock().unwrap(), [100, 100, 50]);
    assert_eq!(get.num_calls(), 1);
    assert_eq!(stats.partitions_created, 250);
}

// ─── metrics ──────────────────────────────────────────────────────────────────────────────────

#[test]
fn metrics_use_only_low_cardinality_dimensions_and_count_each_reason() {
    let stats = Stats {
        objects: 9,
        skipped: BTreeMap::from([("folder_marker", 2), ("test_event", 1)]),
        invalid: BTreeMap::from([("invalid_value", 1)]),
        partitions_created: 3,
        partitions_failed: 1,
        tables_created: 1,
        ..Stats::default()
    };
    let lines: Vec<Value> = stats
        .metrics("ConnectLake")
        .iter()
        .flat_map(|m| m.to_lines(0))
        .map(|l| serde_json::from_str(&l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    let totals = &lines[0];
    for (name, value) in [
        ("ObjectsIn", 9.0),
        ("ObjectsSkipped", 3.0),
        ("PartitionsInvalid", 1.0),
        ("PartitionsCreated", 3.0),
        ("PartitionsExisting", 0.0),
        ("PartitionsCached", 0.0),
        ("PartitionsFailed", 1.0),
        ("TablesCreated", 1.0),
    ] {
        assert_eq!(totals[name], value, "{name}");
    }
    let mut reasons = HashMap::new();
    for line in &lines {
        let dims = &line["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0];
        let dims: Vec<&str> = dims.as_array().unwrap().iter().map(|d| d.as_str().unwrap()).collect();
        assert!(dims == ["Function"] || dims == ["Function", "Reason"], "{dims:?}");
        assert_eq!(line["Function"], "s3-cataloger");
        if let Some(reason) = line["Reason"].as_str() {
            reasons.insert(reason.to_owned(), line.clone());
        }
    }
    assert_eq!(reasons["folder_marker"]["ObjectsSkipped"], 2.0);
    assert_eq!(reasons["invalid_value"]["PartitionsInvalid"], 1.0);
}
