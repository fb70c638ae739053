//! lake-query against the local AWS emulator: a real bucket, a real Glue database with the
//! project's curated tables (Parquet, gzip JSON lines, plain JSON lines), registered and
//! unregistered partitions, and the queries Athena users run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should say where

use std::io::Write;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_config::SdkConfig;
use aws_sdk_glue::types::{Column, PartitionInput, SerDeInfo, StorageDescriptor, TableInput};
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Float64Type, TimeUnit};
use datafusion::arrow::json::ReaderBuilder;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::WriterProperties;
use lake_query::{LakeQuery, QueryError, QueryResult};
use lambda_harness::Emulator;
use serde_json::{Value, json};

const BUCKET: &str = "lake";
const DB: &str = "connect_lake";

#[derive(Clone, Copy)]
enum Format {
    Parquet,
    /// org.openx.data.jsonserde.JsonSerDe, as the s3-cataloger defines JSON tables.
    OpenxJson,
    /// org.apache.hive.hcatalog.data.JsonSerDe.
    HcatalogJson,
    /// LazySimpleSerDe (CSV): not a format of the lake.
    Csv,
}

struct Lake {
    emulator: Emulator,
    config: SdkConfig,
    s3: aws_sdk_s3::Client,
    glue: aws_sdk_glue::Client,
    /// Today (UTC) as partition values: year, month, day.
    ymd: [String; 3],
}

async fn config_for(endpoint: &str) -> SdkConfig {
    let creds = aws_sdk_s3::config::Credentials::new("testing", "testing", None, None, "lake-query-tests");
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(creds)
        .load()
        .await
}

fn today() -> [String; 3] {
    let ms = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64;
    let now = chrono::DateTime::from_timestamp_millis(ms).unwrap();
    [
        now.format("%Y").to_string(),
        now.format("%m").to_string(),
        now.format("%d").to_string(),
    ]
}

impl Lake {
    async fn empty() -> Lake {
        let emulator = Emulator::start().await.expect("moto_server (set MOTO_SERVER)");
        let config = config_for(&emulator.endpoint()).await;
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&config)
                .force_path_style(true)
                .build(),
        );
        let glue = aws_sdk_glue::Client::new(&config);
        s3.create_bucket().bucket(BUCKET).send().await.unwrap();
        glue.create_database()
            .database_input(aws_sdk_glue::types::DatabaseInput::builder().name(DB).build().unwrap())
            .send()
            .await
            .unwrap();
        Lake {
            emulator,
            config,
            s3,
            glue,
            ymd: today(),
        }
    }

    /// The standard lake: ctr (Parquet), fraud_decisions and contact_flow_logs (gzip JSON lines),
    /// sentiment_turns (plain JSON lines), with data in registered and unregistered partitions.
    async fn standard() -> Lake {
        let lake = Lake::empty().await;
        lake.create_table("ctr", Format::Parquet, &format!("s3://{BUCKET}/ctr/"))
            .await;
        lake.create_table(
            "fraud_decisions",
            Format::OpenxJson,
            &format!("s3://{BUCKET}/fraud_decisions/"),
        )
        .await;
        lake.create_table(
            "contact_flow_logs",
            Format::OpenxJson,
            &format!("s3://{BUCKET}/contact_flow_logs/"),
        )
        .await;
        lake.create_table(
            "sentiment_turns",
            Format::HcatalogJson,
            &format!("s3://{BUCKET}/sentiment_turns/"),
        )
        .await;

        let ts = |hh: &str, rest: &str| format!("{}-{}-{} {hh}:{rest}", lake.ymd[0], lake.ymd[1], lake.ymd[2]);
        // hour 10: contact A twice (the later copy wins), B abandoned in the queue.
        let h10 = vec![
            ctr_row(
                "A",
                "VOICE",
                "Sales",
                &ts("10", "00:00.000"),
                Some(&ts("10", "01:00.000")),
                30,
                Some("alice"),
            ),
            ctr_row(
                "A",
                "VOICE",
                "Sales",
                &ts("10", "05:00.500"),
                Some(&ts("10", "01:00.000")),
                30,
                Some("alice"),
            ),
            ctr_row("B", "VOICE", "Support", &ts("10", "02:00.000"), None, 90, None),
        ];
        // hour 11: C (chat) and D (voice).
        let h11 = vec![
            ctr_row(
                "C",
                "CHAT",
                "Sales",
                &ts("11", "00:00.000"),
                Some(&ts("11", "00:30.000")),
                10,
                Some("bob"),
            ),
            ctr_row(
                "D",
                "VOICE",
                "Support",
                &ts("11", "10:00.000"),
                Some(&ts("11", "10:20.000")),
                20,
                Some("bob"),
            ),
        ];
        // hour 11, in a subfolder: E (voice, abandoned).
        let h11_late = vec![ctr_row("E", "VOICE", "Sales", &ts("11", "20:00.000"), None, 40, None)];
        // hour 12: written, never registered in Glue.
        let h12: Vec<Value> = (0..5)
            .map(|i| {
                ctr_row(
                    &format!("X{i}"),
                    "VOICE",
                    "Ghost",
                    &ts("12", "00:00.000"),
                    None,
                    1000,
                    None,
                )
            })
            .collect();
        lake.put_parquet("ctr", "10", "part-0.parquet", &h10).await;
        lake.put_parquet("ctr", "11", "part-0.parquet", &h11).await;
        lake.put_parquet("ctr", "12", "part-0.parquet", &h12).await;
        // What Hive skips: a folder marker and job files.
        lake.put(&lake.key("ctr", "10", ""), Vec::new()).await;
        lake.put(&lake.key("ctr", "10", "_SUCCESS"), b"not parquet".to_vec())
            .await;
        lake.put(&lake.key("ctr", "10", ".part-0.parquet.crc"), b"not parquet".to_vec())
            .await;
        lake.put(
            &lake.key("ctr", "10", "_temporary/0/part-9.parquet"),
            b"not parquet".to_vec(),
        )
        .await;
        // Athena reads subfolders of a partition too.
        lake.put_parquet("ctr", "11", "late/part-1.parquet", &h11_late).await;
        lake.register("ctr", "10").await;
        lake.register("ctr", "11").await;

        let decisions = [
            json!({"record": "fraud_decision", "timestamp": format!("{}-{}-{}T10:00:00Z", lake.ymd[0], lake.ymd[1], lake.ymd[2]),
                   "contact_id": "A", "channel": "VOICE", "risk_score": 80, "risk_level": "high", "route": "fraud-queue",
                   "reasons": ["oli_payphone", "hop_count", "deny_list"], "policy_version": "v1",
                   "features": {"caller": "tok-1", "hop_count": 9, "pai_matches": false}, "elapsed_us": 120, "degraded": false,
                   "not_a_column": "ignored"}),
            json!({"record": "fraud_decision", "contact_id": "B", "channel": "VOICE", "risk_score": 10, "risk_level": "low",
                   "route": "default", "reasons": [], "policy_version": "v1", "features": {"caller": "tok-2"}, "elapsed_us": 80}),
            // No route, no features: both null.
            json!({"record": "fraud_decision", "contact_id": "C", "channel": "CHAT", "risk_score": 45, "risk_level": "medium",
                   "reasons": ["hop_count"], "policy_version": "v2", "elapsed_us": 95}),
        ];
        lake.put_json_lines("fraud_decisions", "10", "fraud-1.gz", &decisions, true)
            .await;
        lake.register("fraud_decisions", "10").await;

        let flow_logs = [
            json!({"record": "contact_flow_log", "contact_id": "A", "flow_name": "Main", "step": "greeting",
                   "parameters": {"flow": "main-ivr", "lang": "en"}, "attribute_keys": ["a", "b"], "deny": false,
                   "deny_list": "miss", "customer_token": "tok-1", "recognised": true}),
            json!({"record": "contact_flow_log", "contact_id": "B", "flow_name": "Main", "step": "menu",
                   "parameters": {"flow": "main-ivr"}, "attribute_keys": [], "deny": true,
                   "deny_list": "hit", "customer_token": "tok-2", "recognised": true}),
        ];
        lake.put_json_lines("contact_flow_logs", "10", "flow-1.gz", &flow_logs, true)
            .await;
        lake.register("contact_flow_logs", "10").await;

        let turns = [
            json!({"contact_id": "A", "turn_index": 0, "participant": "CUSTOMER", "sentiment": "NEGATIVE",
                   "processed_at": ts("10", "30:00.250"), "positive_score": 0.1}),
            json!({"contact_id": "A", "turn_index": 1, "participant": "AGENT", "sentiment": "POSITIVE",
                   "processed_at": ts("10", "30:01.000"), "positive_score": 0.9}),
            json!({"contact_id": "D", "turn_index": 0, "participant": "CUSTOMER", "sentiment": "POSITIVE",
                   "processed_at": ts("11", "30:00.000"), "positive_score": 0.8}),
        ];
        lake.put_json_lines("sentiment_turns", "10", "turns.json", &turns[..2], false)
            .await;
        lake.put_json_lines("sentiment_turns", "11", "turns.json", &turns[2..], false)
            .await;
        lake.register("sentiment_turns", "10").await;
        lake.register("sentiment_turns", "11").await;
        lake
    }

    fn key(&self, table: &str, hour: &str, file: &str) -> String {
        let [y, m, d] = &self.ymd;
        format!("{table}/year={y}/month={m}/day={d}/hour={hour}/{file}")
    }

    async fn put(&self, key: &str, body: Vec<u8>) {
        self.s3
            .put_object()
            .bucket(BUCKET)
            .key(key)
            .body(body.into())
            .send()
            .await
            .unwrap();
    }

    async fn put_parquet(&self, table: &str, hour: &str, file: &str, rows: &[Value]) {
        self.put(&self.key(table, hour, file), parquet_bytes(table, rows)).await;
    }

    async fn put_json_lines(&self, table: &str, hour: &str, file: &str, rows: &[Value], gzip: bool) {
        let mut text = String::new();
        for row in rows {
            text.push_str(&row.to_string());
            text.push('\n');
        }
        let body = if gzip {
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(text.as_bytes()).unwrap();
            encoder.finish().unwrap()
        } else {
            text.into_bytes()
        };
        self.put(&self.key(table, hour, file), body).await;
    }

    async fn create_table(&self, name: &str, format: Format, location: &str) {
        let table = connect_lake::schema::table(name).unwrap();
        let glue_column = |c: &connect_lake::schema::Column| {
            Column::builder()
                .name(c.name)
                .r#type(c.kind.glue_type())
                .build()
                .unwrap()
        };
        let (input, output, serde) = match format {
            Format::Parquet => (
                "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
                "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
            ),
            Format::OpenxJson => (
                "org.apache.hadoop.mapred.TextInputFormat",
                "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                "org.openx.data.jsonserde.JsonSerDe",
            ),
            Format::HcatalogJson => (
                "org.apache.hadoop.mapred.TextInputFormat",
                "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                "org.apache.hive.hcatalog.data.JsonSerDe",
            ),
            Format::Csv => (
                "org.apache.hadoop.mapred.TextInputFormat",
                "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
            ),
        };
        let sd = StorageDescriptor::builder()
            .set_columns(Some(table.columns.iter().map(glue_column).collect()))
            .location(location)
            .input_format(input)
            .output_format(output)
            .serde_info(SerDeInfo::builder().serialization_library(serde).build())
            .build();
        let input = TableInput::builder()
            .name(name)
            .table_type("EXTERNAL_TABLE")
            .storage_descriptor(sd)
            .set_partition_keys(Some(table.partition_keys().iter().map(glue_column).collect()))
            .build()
            .unwrap();
        self.glue
            .create_table()
            .database_name(DB)
            .table_input(input)
            .send()
            .await
            .unwrap();
    }

    async fn register(&self, table: &str, hour: &str) {
        let [y, m, d] = &self.ymd;
        let partition = PartitionInput::builder()
            .set_values(Some(vec![y.clone(), m.clone(), d.clone(), hour.to_owned()]))
            .storage_descriptor(
                StorageDescriptor::builder()
                    .location(format!("s3://{BUCKET}/{}", self.key(table, hour, "")))
                    .build(),
            )
            .build();
        let out = self
            .glue
            .batch_create_partition()
            .database_name(DB)
            .table_name(table)
            .partition_input_list(partition)
            .send()
            .await
            .unwrap();
        assert!(out.errors().is_empty(), "{:?}", out.errors());
    }

    async fn query(&self) -> LakeQuery {
        LakeQuery::connect(&self.config, DB).await.unwrap()
    }
}

#[allow(clippy::too_many_arguments)]
fn ctr_row(
    id: &str,
    channel: &str,
    queue: &str,
    updated: &str,
    agent: Option<&str>,
    wait: i64,
    user: Option<&str>,
) -> Value {
    json!({
        "contact_id": id,
        "channel": channel,
        "queue_name": queue,
        "initiation_timestamp": updated,
        "last_update_timestamp": updated,
        "queue_enqueue_timestamp": updated,
        "disconnect_timestamp": updated,
        "agent_connected_timestamp": agent,
        "queue_duration_s": wait,
        "handle_time_s": wait * 2,
        "agent_interaction_duration_s": wait,
        "customer_hold_duration_s": 0,
        "acw_duration_s": 5,
        "agent_username": user,
    })
}

/// Rows as Firehose's record format conversion writes them: the table's Arrow schema, Snappy.
fn parquet_bytes(table: &str, rows: &[Value]) -> Vec<u8> {
    let schema = Arc::new(connect_lake::schema::table(table).unwrap().arrow_schema());
    let mut decoder = ReaderBuilder::new(Arc::clone(&schema)).build_decoder().unwrap();
    decoder.serialize(rows).unwrap();
    let batch = decoder.flush().unwrap().unwrap();
    let props = WriterProperties::builder().set_compression(Compression::SNAPPY).build();
    let mut out = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut out, schema, Some(props)).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    out
}

/// The single column of a result as display strings (null as "NULL"), in row order.
fn column(result: &QueryResult, name: &str) -> Vec<String> {
    use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
    let options = FormatOptions::default().with_null("NULL");
    let mut out = Vec::new();
    for batch in &result.batches {
        let array = batch.column_by_name(name).unwrap_or_else(|| panic!("no column {name}"));
        let f = ArrayFormatter::try_new(array.as_ref(), &options).unwrap();
        out.extend((0..batch.num_rows()).map(|i| f.value(i).to_string()));
    }
    out
}

fn one(result: &QueryResult, name: &str) -> String {
    let values = column(result, name);
    assert_eq!(values.len(), 1, "{name}: {values:?}");
    values[0].clone()
}

fn first_batch(result: &QueryResult) -> &RecordBatch {
    result
        .batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .expect("a non-empty batch")
}

// ─── visibility: the catalog decides ─────────────────────────────────────────────────────────

#[tokio::test]
async fn only_partitions_glue_lists_are_read_and_hive_side_files_are_skipped() {
    let lake = Lake::standard().await;
    let q = lake.query().await;
    assert_eq!(
        q.tables(),
        [
            "contact_flow_logs",
            "contact_record",
            "contact_statistic_record",
            "ctr",
            "fraud_decisions",
            "sentiment_turns"
        ],
        "the managed-lake views over ctr are offered; the one over contact_sentiment is not"
    );

    let r = q
        .sql("SELECT count(*) AS n, count(DISTINCT hour) AS hours FROM ctr")
        .await
        .unwrap();
    assert_eq!(one(&r, "n"), "6", "hour 12 is not registered: its 5 rows are invisible");
    assert_eq!(one(&r, "hours"), "2");
    let r = q
        .sql("SELECT count(*) AS n FROM ctr WHERE queue_name = 'Ghost'")
        .await
        .unwrap();
    assert_eq!(one(&r, "n"), "0");

    // Registering the partition makes it visible to the same session's next query.
    lake.register("ctr", "12").await;
    let r = q.sql("SELECT count(*) AS n FROM ctr").await.unwrap();
    assert_eq!(one(&r, "n"), "11");
}

#[tokio::test]
async fn partition_columns_filter_and_unmatched_partitions_are_never_read() {
    let lake = Lake::standard().await;
    // A corrupt object in a registered partition: any query that reads hour 13 fails.
    lake.put(
        &lake.key("ctr", "13", "broken.parquet"),
        b"PAR1 this is not parquet".to_vec(),
    )
    .await;
    lake.register("ctr", "13").await;
    let q = lake.query().await;
    let [y, m, d] = &lake.ymd;

    let r = q
        .sql(&format!(
            "SELECT hour, count(*) AS n FROM ctr WHERE year = '{y}' AND month = '{m}' AND day = '{d}' \
             AND hour IN ('10', '11') GROUP BY hour ORDER BY hour"
        ))
        .await
        .unwrap();
    assert_eq!(column(&r, "hour"), ["10", "11"]);
    assert_eq!(column(&r, "n"), ["3", "3"]);

    // Not expressible in Glue's expression language: pruned on the partition values here.
    let r = q
        .sql(&format!(
            "SELECT count(*) AS n FROM ctr WHERE concat(year, month, day, hour) = '{y}{m}{d}11'"
        ))
        .await
        .unwrap();
    assert_eq!(one(&r, "n"), "3");

    let err = q.sql("SELECT count(*) FROM ctr").await.unwrap_err();

    eprintln!("{err}");
    match &err {
        QueryError::Object { uri, .. } => {
            assert_eq!(
                uri,
                &format!("s3://{BUCKET}/{}", lake.key("ctr", "13", "broken.parquet"))
            );
        }
        other => panic!("expected an object error naming the key, got {other:?}"),
    }
}

#[tokio::test]
async fn parquet_columns_aggregate_and_group() {
    let lake = Lake::standard().await;
    let q = lake.query().await;
    let r = q
        .sql(
            "SELECT queue_name, count(*) AS n, sum(queue_duration_s) AS wait, max(agent_username) AS who \
             FROM ctr GROUP BY queue_name ORDER BY queue_name",
        )
        .await
        .unwrap();
    assert_eq!(column(&r, "queue_name"), ["Sales", "Support"]);
    assert_eq!(column(&r, "n"), ["4", "2"]);
    assert_eq!(column(&r, "wait"), ["110", "110"]);
    assert_eq!(column(&r, "who"), ["bob", "bob"]);

    // The latest copy of each contact, as the named queries pick it.
    let r = q
        .sql(
            "SELECT contact_id, last_update_timestamp FROM (SELECT c.*, row_number() OVER \
             (PARTITION BY contact_id ORDER BY last_update_timestamp DESC) AS copy_rank FROM ctr c) \
             WHERE copy_rank = 1 ORDER BY contact_id",
        )
        .await
        .unwrap();
    assert_eq!(column(&r, "contact_id"), ["A", "B", "C", "D", "E"]);
    assert!(column(&r, "last_update_timestamp")[0].ends_with("10:05:00.500"));
}

#[tokio::test]
async fn timestamps_are_timestamps_in_parquet_and_json_tables() {
    let lake = Lake::standard().await;
    let q = lake.query().await;
    let ms = DataType::Timestamp(TimeUnit::Millisecond, None);

    let r = q.sql("SELECT last_update_timestamp FROM ctr LIMIT 1").await.unwrap();
    assert_eq!(r.schema.field(0).data_type(), &ms);

    let r = q
        .sql(
            "SELECT processed_at, date_diff('millisecond', min(processed_at) OVER (), processed_at) AS after_ms \
             FROM sentiment_turns WHERE contact_id = 'A' ORDER BY turn_index",
        )
        .await
        .unwrap();
    assert_eq!(r.schema.field(0).data_type(), &ms);
    assert_eq!(column(&r, "after_ms"), ["0", "750"]);
    let [y, m, d] = &lake.ymd;
    let r = q
        .sql(&format!(
            "SELECT count(*) AS n FROM sentiment_turns WHERE processed_at >= TIMESTAMP '{y}-{m}-{d} 10:30:00.500'"
        ))
        .await
        .unwrap();
    assert_eq!(one(&r, "n"), "2");
}

#[tokio::test]
async fn gzip_json_lines_ignore_extra_keys_and_read_missing_keys_as_null() {
    let lake = Lake::standard().await;
    let q = lake.query().await;
    let r = q
        .sql(
            "SELECT contact_id, route, cardinality(reasons) AS n_reasons, features.caller AS caller, \
             features.hop_count AS hops, element_at(reasons, 1) AS first_reason, contains(reasons, 'hop_count') AS hop \
             FROM fraud_decisions ORDER BY contact_id",
        )
        .await
        .unwrap();
    assert_eq!(column(&r, "contact_id"), ["A", "B", "C"]);
    assert_eq!(column(&r, "route"), ["fraud-queue", "default", "NULL"]);
    assert_eq!(column(&r, "n_reasons"), ["3", "0", "1"]);
    assert_eq!(column(&r, "caller"), ["tok-1", "tok-2", "NULL"]);
    assert_eq!(column(&r, "hops"), ["9", "NULL", "NULL"]);
    assert_eq!(column(&r, "first_reason"), ["oli_payphone", "NULL", "hop_count"]);
    assert_eq!(column(&r, "hop"), ["true", "false", "true"]);
    assert!(
        r.schema.field_with_name("not_a_column").is_err(),
        "extra JSON keys are not columns"
    );
}

#[tokio::test]
async fn map_columns_read_by_key() {
    let lake = Lake::standard().await;
    let q = lake.query().await;
    let r = q
        .sql(
            "SELECT contact_id, parameters['flow'] AS flow, element_at(parameters, 'lang') AS lang, \
             cardinality(parameters) AS n, cardinality(attribute_keys) AS keys \
             FROM contact_flow_logs ORDER BY contact_id",
        )
        .await
        .unwrap();
    assert_eq!(column(&r, "flow"), ["main-ivr", "main-ivr"]);
    assert_eq!(column(&r, "lang"), ["en", "NULL"]);
    assert_eq!(column(&r, "n"), ["2", "1"]);
    assert_eq!(column(&r, "keys"), ["2", "0"]);
}

// ─── Trino functions ─────────────────────────────────────────────────────────────────────────

#[tokio::test]
async fn trino_functions_give_trino_values() {
    let lake = Lake::empty().await;
    let q = lake.query().await;
    let r = q
        .sql(
            "SELECT \
               date_diff('day', TIMESTAMP '2026-03-01 12:00:00', TIMESTAMP '2026-03-04 11:59:59') AS dd_day, \
               date_diff('hour', TIMESTAMP '2026-03-01 12:00:00', TIMESTAMP '2026-03-01 09:00:00') AS dd_back, \
               date_diff('month', DATE '2026-01-31', DATE '2026-03-30') AS dd_month, \
               date_format(TIMESTAMP '2026-03-04 05:06:07.890', '%Y-%m-%d %H:%i:%s') AS fmt, \
               date_format(DATE '2026-03-04', '%Y%m%d') AS fmt_date, \
               from_iso8601_timestamp('2026-03-04T05:06:07.250+02:00') AS iso, \
               to_unixtime(from_iso8601_timestamp('2026-01-01T00:00:01.500Z')) AS unix, \
               cardinality(ARRAY['a', 'b', 'c']) AS card, \
               slice(ARRAY[1, 2, 3, 4, 5], 2, 3) AS sl, \
               slice(ARRAY[1, 2, 3, 4, 5], -2, 5) AS sl_end, \
               element_at(ARRAY['x', 'y', 'z'], 2) AS el, \
               element_at(ARRAY['x', 'y', 'z'], -1) AS el_last, \
               element_at(ARRAY['x'], 5) AS el_out, \
               contains(ARRAY['a', 'b'], 'b') AS has_b, \
               contains(ARRAY['a', 'b'], 'c') AS has_c, \
               contains('hello', 'ell') AS has_str, \
               json_extract_scalar('{\"a\": {\"b\": [1, \"two\"]}}', '$.a.b[1]') AS js, \
               json_extract_scalar('{\"a\": {\"b\": 1}}', '$.a') AS js_obj, \
               split('a,b,,c', ',') AS parts, \
               CAST('2.5' AS double) * 2 AS dbl, \
               'a' || 'b' AS cat, \
               DATE '2026-03-04' - INTERVAL '7' DAY AS week_before, \
               date_trunc('hour', TIMESTAMP '2026-03-04 05:06:07') AS trunc, \
               regexp_like('abc123', '[0-9]+') AS re, \
               date_add('day', -7, DATE '2026-03-04') AS add_date, \
               date_add('month', 1, TIMESTAMP '2026-01-31 10:00:00') AS add_month, \
               date_diff('second', now(), now() + INTERVAL '1' MINUTE) AS dd_now, \
               year(TIMESTAMP '2026-03-04 05:06:07') AS y, quarter(DATE '2026-03-04') AS qtr, \
               month(DATE '2026-03-04') AS mon, week(DATE '2026-03-04') AS wk, day(DATE '2026-03-04') AS d, \
               day_of_week(DATE '2026-03-08') AS dow_sunday, dow(DATE '2026-03-09') AS dow_monday, \
               day_of_year(DATE '2026-03-04') AS doy, hour(TIMESTAMP '2026-03-04 05:06:07') AS h, \
               minute(TIMESTAMP '2026-03-04 05:06:07') AS mi, second(TIMESTAMP '2026-03-04 05:06:07') AS s, \
               regexp_extract('queue=Sales;id=42', 'id=([0-9]+)') AS rx_all, \
               regexp_extract('queue=Sales;id=42', 'id=([0-9]+)', 1) AS rx_group, \
               regexp_extract('no digits', '[0-9]+') AS rx_none",
        )
        .await
        .unwrap();
    let get = |name: &str| one(&r, name);
    assert_eq!(get("dd_day"), "2");
    assert_eq!(get("dd_back"), "-3");
    assert_eq!(get("dd_month"), "1");
    assert_eq!(get("fmt"), "2026-03-04 05:06:07");
    assert_eq!(get("fmt_date"), "20260304");
    assert_eq!(get("iso"), "2026-03-04T03:06:07.250");
    assert_eq!(get("unix"), "1767225601.5");
    assert_eq!(get("card"), "3");
    assert_eq!(get("sl"), "[2, 3, 4]");
    assert_eq!(get("sl_end"), "[4, 5]");
    assert_eq!(get("el"), "y");
    assert_eq!(get("el_last"), "z");
    assert_eq!(get("el_out"), "NULL");
    assert_eq!(get("has_b"), "true");
    assert_eq!(get("has_c"), "false");
    assert_eq!(get("has_str"), "true");
    assert_eq!(get("js"), "two");
    assert_eq!(get("js_obj"), "NULL");
    assert_eq!(get("parts"), "[a, b, , c]");
    assert_eq!(get("dbl"), "5.0");
    assert_eq!(get("cat"), "ab");
    assert_eq!(get("week_before"), "2026-02-25");
    assert_eq!(get("trunc"), "2026-03-04T05:00:00");
    assert_eq!(get("re"), "true");
    assert_eq!(get("add_date"), "2026-02-25");
    assert_eq!(get("add_month"), "2026-02-28T10:00:00");
    assert_eq!(get("dd_now"), "60");
    assert_eq!(get("rx_all"), "id=42");
    assert_eq!(get("rx_group"), "42");
    assert_eq!(get("rx_none"), "NULL");
    let fields = [
        "y",
        "qtr",
        "mon",
        "wk",
        "d",
        "dow_sunday",
        "dow_monday",
        "doy",
        "h",
        "mi",
        "s",
    ];
    let values: Vec<String> = fields.iter().map(|f| get(f)).collect();
    assert_eq!(values, ["2026", "1", "3", "10", "4", "7", "1", "63", "5", "6", "7"]);
    let types = |name: &str| r.schema.field_with_name(name).unwrap().data_type().clone();
    assert_eq!(types("dd_day"), DataType::Int64, "date_diff returns bigint");
    assert_eq!(types("card"), DataType::Int64, "cardinality returns bigint");
    assert_eq!(types("unix"), DataType::Float64, "to_unixtime returns double");
    assert_eq!(types("add_date"), DataType::Date32, "date_add keeps a date a date");
}

#[tokio::test]
async fn trino_aggregates_count_if_and_approx_percentile() {
    let lake = Lake::standard().await;
    let q = lake.query().await;
    let r = q
        .sql(
            "SELECT count_if(agent_connected_timestamp IS NULL) AS abandoned, \
             count_if(channel = 'NOPE') AS none, \
             count(*) FILTER (WHERE channel = 'VOICE') AS voice, \
             approx_percentile(queue_duration_s, 0.5) AS p50, \
             approx_percentile(CAST(queue_duration_s AS double), 1.0) AS p100 FROM ctr",
        )
        .await
        .unwrap();
    assert_eq!(one(&r, "abandoned"), "2");
    assert_eq!(one(&r, "none"), "0");
    assert_eq!(one(&r, "voice"), "5");
    let p50 = first_batch(&r).column_by_name("p50").unwrap();
    let p50 = datafusion::arrow::compute::cast(p50, &DataType::Float64).unwrap();
    let p50 = p50.as_primitive::<Float64Type>().value(0);
    assert!(
        (20.0..=40.0).contains(&p50),
        "median of 10, 20, 30, 30, 40, 90 is about 30: {p50}"
    );
    assert_eq!(one(&r, "p100"), "90.0");
    let r = q
        .sql("SELECT queue_name, arbitrary(channel) AS any_channel FROM ctr WHERE channel = 'CHAT' GROUP BY queue_name")
        .await
        .unwrap();
    assert_eq!(column(&r, "any_channel"), ["CHAT"]);

    // The latest copy's value per contact; A was re-sent with a later last_update_timestamp.
    let r = q
        .sql(
            "SELECT contact_id, max_by(last_update_timestamp, last_update_timestamp) AS latest, \
             min_by(hour, last_update_timestamp) AS first_hour, max_by(agent_username, queue_duration_s) AS who \
             FROM ctr GROUP BY contact_id ORDER BY contact_id",
        )
        .await
        .unwrap();
    assert_eq!(column(&r, "contact_id"), ["A", "B", "C", "D", "E"]);
    assert!(column(&r, "latest")[0].ends_with("10:05:00.500"));
    assert_eq!(column(&r, "first_hour"), ["10", "10", "11", "11", "11"]);
    assert_eq!(column(&r, "who"), ["alice", "NULL", "bob", "bob", "NULL"]);

    // count_if over no rows is 0, not null; grouped, it counts per group.
    let r = q
        .sql("SELECT queue_name, count_if(channel = 'VOICE') AS v FROM ctr GROUP BY queue_name ORDER BY queue_name")
        .await
        .unwrap();
    assert_eq!(column(&r, "v"), ["3", "2"]);
    let r = q
        .sql("SELECT count_if(channel = 'VOICE') AS v FROM ctr WHERE hour = '99'")
        .await
        .unwrap();
    assert_eq!(one(&r, "v"), "0");
}

#[tokio::test]
async fn every_registered_trino_function_is_known_to_the_engine() {
    let lake = Lake::empty().await;
    let q = lake.query().await;
    let r = q
        .sql("SELECT DISTINCT routine_name FROM information_schema.routines")
        .await
        .unwrap();
    let known = column(&r, "routine_name");
    for name in lake_query::TRINO_FUNCTIONS {
        assert!(known.iter().any(|k| k == name), "{name} is not registered");
    }
}

// ─── named queries and parameters ────────────────────────────────────────────────────────────

#[tokio::test]
async fn the_templates_named_queries_run_unmodified() {
    let template = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml")).unwrap();
    // The query strings are block scalars under `QueryString: |`; read them without a YAML parser
    // (the template's CloudFormation tags are not plain YAML).
    let mut queries: Vec<String> = Vec::new();
    let mut lines = template.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(indent) = line.find("QueryString: |") else {
            continue;
        };
        let mut sql = String::new();
        while let Some(next) = lines.peek() {
            let body_indent = next.len() - next.trim_start().len();
            if !next.trim().is_empty() && body_indent <= indent {
                break;
            }
            sql.push_str(next.trim_end());
            sql.push('\n');
            lines.next();
        }
        queries.push(sql);
    }
    assert!(queries.len() >= 5, "found {} named queries", queries.len());

    // The telemetry queries read connect_metrics and connect_flow_logs, which this lake does not
    // hold; tests/connect_telemetry.rs runs them on a lake that does.
    let telemetry = |sql: &str| sql.contains("connect_metrics") || sql.contains("connect_flow_logs");
    assert_eq!(
        queries.iter().filter(|q| telemetry(q)).count(),
        2,
        "the two telemetry queries"
    );
    let lake = Lake::standard().await;
    let q = lake.query().await;
    for sql in queries.iter().filter(|q| !telemetry(q)) {
        // Every named query takes this month's year and month, once per table it reads.
        let n = LakeQuery::parameter_count(sql).unwrap();
        assert_eq!(n % 2, 0, "year, month pairs:\n{sql}");
        let params: Vec<String> = (0..n).map(|i| lake.ymd[i % 2].clone()).collect();
        let r = q
            .sql_with_params(sql, &params)
            .await
            .unwrap_or_else(|e| panic!("named query failed: {e}\n{sql}"));
        eprintln!("named query: {} rows in {:?}", r.rows(), r.elapsed);
        assert!(r.rows() > 0, "no rows from today's data:\n{sql}");
        if sql.contains("abandonment_rate_pct") {
            let queues = column(&r, "queue_name");
            let abandoned = column(&r, "abandoned");
            let support = queues.iter().position(|q| q == "Support").unwrap();
            assert_eq!(abandoned[support], "1", "B abandoned the Support queue");
        }
        if sql.contains("reason_rank") {
            // A's three reasons, once each: ranked by count, then name.
            let levels = column(&r, "risk_level");
            let reasons = column(&r, "reason");
            let high: Vec<&String> = levels
                .iter()
                .zip(&reasons)
                .filter(|(l, _)| *l == "high")
                .map(|(_, r)| r)
                .collect();
            assert_eq!(high, ["deny_list", "hop_count", "oli_payphone"]);
        }
        if sql.contains("contacts_on_deny_list") {
            assert_eq!(column(&r, "contacts_on_deny_list"), ["1"]);
            assert_eq!(column(&r, "contacts_disconnected"), ["1"]);
        }
    }
}

#[tokio::test]
async fn execution_parameters_bind_as_string_literals() {
    let lake = Lake::standard().await;
    let q = lake.query().await;
    let sql = "SELECT count(*) AS n FROM ctr WHERE channel = ? AND queue_name = ?";
    let r = q
        .sql_with_params(sql, &["VOICE".to_owned(), "Support".to_owned()])
        .await
        .unwrap();
    assert_eq!(one(&r, "n"), "2");
    // A value is a value, never SQL.
    let r = q
        .sql_with_params(sql, &["VOICE".to_owned(), "x' OR '1'='1".to_owned()])
        .await
        .unwrap();
    assert_eq!(one(&r, "n"), "0");

    let err = q.sql_with_params(sql, &["VOICE".to_owned()]).await.unwrap_err();

    eprintln!("{err}");
    assert!(matches!(err, QueryError::Params { expected: 2, given: 1 }), "{err:?}");
    assert!(err.to_string().contains("takes 2"), "{err}");
    let err = q.sql(sql).await.unwrap_err();
    eprintln!("{err}");
    assert!(matches!(err, QueryError::Params { expected: 2, given: 0 }), "{err:?}");
}

// ─── errors ──────────────────────────────────────────────────────────────────────────────────

#[tokio::test]
async fn bad_sql_and_unknown_names_are_reported_as_such() {
    let lake = Lake::standard().await;
    let q = lake.query().await;

    let err = q.sql("SELEC * FROM ctr").await.unwrap_err();

    eprintln!("{err}");
    assert!(matches!(err, QueryError::Syntax { .. }), "{err:?}");

    let err = q.sql("SELECT * FROM ctrs").await.unwrap_err();

    eprintln!("{err}");
    assert!(matches!(err, QueryError::Plan { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("ctrs") && text.contains("fraud_decisions"), "{text}");

    let err = q.sql("SELECT no_such_column FROM ctr").await.unwrap_err();

    eprintln!("{err}");
    assert!(matches!(err, QueryError::Plan { .. }), "{err:?}");
    assert!(err.to_string().contains("no_such_column"), "{err}");

    let err = q.sql("SELECT nope(1)").await.unwrap_err();

    eprintln!("{err}");
    assert!(matches!(err, QueryError::Plan { .. }), "{err:?}");

    let err = q.sql("CREATE TABLE t AS SELECT 1").await.unwrap_err();

    eprintln!("{err}");
    assert!(matches!(err, QueryError::Plan { .. }), "{err:?}");
    assert!(err.to_string().contains("only queries"), "{err}");
}

#[tokio::test]
async fn tables_whose_location_cannot_be_read_say_why() {
    let lake = Lake::empty().await;
    lake.create_table("ctr", Format::Parquet, "s3://no-such-bucket/ctr/")
        .await;
    lake.create_table("agent_events", Format::Parquet, "s3:///agent_events/")
        .await;
    lake.create_table(
        "sentiment_turns",
        Format::Parquet,
        &format!("s3://{BUCKET}/sentiment_turns/"),
    )
    .await;
    lake.create_table(
        "contact_sentiment",
        Format::Csv,
        &format!("s3://{BUCKET}/contact_sentiment/"),
    )
    .await;
    let view = TableInput::builder()
        .name("latest_contacts")
        .table_type("VIRTUAL_VIEW")
        .view_original_text("/* Presto View: e30= */")
        .storage_descriptor(StorageDescriptor::builder().build())
        .build()
        .unwrap();
    lake.glue
        .create_table()
        .database_name(DB)
        .table_input(view)
        .send()
        .await
        .unwrap();
    let q = lake.query().await;

    // Unpartitioned reads need no partition; register one so the listing happens.
    let [y, m, d] = lake.ymd.clone();
    lake.glue
        .batch_create_partition()
        .database_name(DB)
        .table_name("ctr")
        .partition_input_list(
            PartitionInput::builder()
                .set_values(Some(vec![y, m, d, "10".to_owned()]))
                .storage_descriptor(
                    StorageDescriptor::builder()
                        .location("s3://no-such-bucket/ctr/x/")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let err = q.sql("SELECT count(*) FROM ctr").await.unwrap_err();
    eprintln!("{err}");
    match &err {
        QueryError::Table { table, message } => {
            assert_eq!(table, "ctr");
            assert!(
                message.contains("no-such-bucket") && message.contains("does not exist"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }

    let err = q.sql("SELECT count(*) FROM agent_events").await.unwrap_err();

    eprintln!("{err}");
    match &err {
        QueryError::Table { table, message } => {
            assert_eq!(table, "agent_events");
            assert!(message.contains("no bucket"), "{message}");
        }
        other => panic!("{other:?}"),
    }

    let err = q.sql("SELECT * FROM contact_sentiment").await.unwrap_err();
    eprintln!("{err}");
    match &err {
        QueryError::Table { table, message } => {
            assert_eq!(table, "contact_sentiment");
            assert!(
                message.contains("LazySimpleSerDe") && message.contains("not supported"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }

    let err = q.sql("SELECT * FROM latest_contacts").await.unwrap_err();
    eprintln!("{err}");
    assert!(
        matches!(&err, QueryError::Table { message, .. } if message.contains("view")),
        "{err:?}"
    );

    // The other tables still work.
    let r = q.sql("SELECT count(*) AS n FROM sentiment_turns").await.unwrap();
    assert_eq!(one(&r, "n"), "0");
}

#[tokio::test]
async fn an_unreachable_catalog_is_a_catalog_error() {
    let config = config_for("http://127.0.0.1:9").await;
    let err = LakeQuery::connect(&config, DB).await.unwrap_err();
    eprintln!("{err}");
    assert!(matches!(err, QueryError::Catalog { .. }), "{err:?}");
    assert!(err.to_string().contains(DB), "{err}");

    // A database that does not exist is reported the same way, with the service's reason.
    let lake = Lake::empty().await;
    let err = LakeQuery::connect(&lake.config, "no_such_db").await.unwrap_err();
    eprintln!("{err}");
    assert!(matches!(err, QueryError::Catalog { .. }), "{err:?}");
    assert!(err.to_string().contains("EntityNotFound"), "{err}");
    drop(lake.emulator);
}

#[tokio::test]
async fn json_that_does_not_fit_the_schema_names_the_object() {
    let lake = Lake::empty().await;
    lake.create_table(
        "fraud_decisions",
        Format::OpenxJson,
        &format!("s3://{BUCKET}/fraud_decisions/"),
    )
    .await;
    lake.put(
        &lake.key("fraud_decisions", "10", "bad.gz"),
        b"this is not gzip".to_vec(),
    )
    .await;
    lake.register("fraud_decisions", "10").await;
    let q = lake.query().await;
    let err = q.sql("SELECT * FROM fraud_decisions").await.unwrap_err();
    eprintln!("{err}");
    match &err {
        QueryError::Object { uri, message } => {
            assert!(uri.ends_with("hour=10/bad.gz"), "{uri}");
            assert!(message.contains("gzip"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

// ─── results ─────────────────────────────────────────────────────────────────────────────────

#[tokio::test]
async fn results_render_as_table_csv_and_json() {
    let lake = Lake::standard().await;
    let q = lake.query().await;
    let r = q
        .sql("SELECT contact_id, risk_score, reasons FROM fraud_decisions ORDER BY contact_id LIMIT 2")
        .await
        .unwrap();
    assert_eq!(r.rows(), 2);
    let table = r.to_table().unwrap();
    assert!(
        table.contains("| contact_id |") && table.contains("oli_payphone"),
        "{table}"
    );
    let csv = r.to_csv().unwrap();
    assert_eq!(
        csv,
        "contact_id,risk_score,reasons\nA,80,\"[oli_payphone, hop_count, deny_list]\"\nB,10,[]\n"
    );
    let json: Value = serde_json::from_str(&r.to_json().unwrap()).unwrap();
    assert_eq!(json[0]["contact_id"], "A");
    assert_eq!(json[0]["reasons"][2], "deny_list");
    assert_eq!(json[1]["risk_score"], 10);

    let empty = q.sql("SELECT contact_id FROM ctr WHERE hour = '99'").await.unwrap();
    assert_eq!(empty.rows(), 0);
    assert_eq!(empty.to_json().unwrap(), "[]");
    assert_eq!(empty.to_csv().unwrap(), "contact_id\n");
    assert!(empty.to_table().unwrap().contains("contact_id"));
    assert!(r.batches.iter().all(|b| b.column(0).null_count() == 0));
}

#[tokio::test]
async fn catalog_statements_and_qualified_names_work() {
    let lake = Lake::standard().await;
    let q = lake.query().await;
    let r = q.sql("SHOW TABLES").await.unwrap();
    let names = column(&r, "table_name");
    assert!(names.iter().any(|n| n == "fraud_decisions"), "{names:?}");

    let r = q.sql("DESCRIBE fraud_decisions").await.unwrap();
    let columns = column(&r, "column_name");
    let types = column(&r, "data_type");
    let reasons = columns.iter().position(|c| c == "reasons").unwrap();
    assert!(types[reasons].starts_with("List("), "{}", types[reasons]);
    assert_eq!(
        columns.last().map(String::as_str),
        Some("hour"),
        "partition keys come last"
    );

    // Athena's qualified names.
    let r = q
        .sql(&format!("SELECT count(*) AS n FROM awsdatacatalog.{DB}.ctr"))
        .await
        .unwrap();
    assert_eq!(one(&r, "n"), "6");
    let r = q
        .sql(&format!("SELECT count(*) AS n FROM \"{DB}\".\"fraud_decisions\""))
        .await
        .unwrap();
    assert_eq!(one(&r, "n"), "3");

    // The partition filter is exact (no FilterExec) and only the matching partition's object is read.
    let r = q
        .sql("EXPLAIN SELECT contact_id FROM ctr WHERE hour = '10'")
        .await
        .unwrap();
    let plan = column(&r, "plan").join("\n");
    assert!(plan.contains("full_filters=[ctr.hour = Utf8(\"10\")]"), "{plan}");
    assert!(!plan.contains("FilterExec"), "{plan}");
    assert!(
        plan.contains("hour=10/part-0.parquet") && !plan.contains("hour=11"),
        "{plan}"
    );
}

/// A bigger lake for latency figures: 24 hourly Parquet partitions of 5,000 contacts and one
/// gzip JSON partition of 20,000 decisions. Run with `--run-ignored only --no-capture`.
#[tokio::test]
#[ignore = "latency figures, slow in debug builds"]
async fn latency_on_a_day_of_data() {
    let lake = Lake::empty().await;
    lake.create_table("ctr", Format::Parquet, &format!("s3://{BUCKET}/ctr/"))
        .await;
    lake.create_table(
        "fraud_decisions",
        Format::OpenxJson,
        &format!("s3://{BUCKET}/fraud_decisions/"),
    )
    .await;
    let [y, m, d] = lake.ymd.clone();
    for hour in 0..24 {
        let hh = format!("{hour:02}");
        let rows: Vec<Value> = (0..5_000)
            .map(|i| {
                let at = format!("{y}-{m}-{d} {hh}:{:02}:{:02}.000", (i / 60) % 60, i % 60);
                let queue = ["Sales", "Support", "Billing"][i % 3];
                let agent = (i % 4 != 0).then_some(at.as_str());
                ctr_row(
                    &format!("c{hour}-{i}"),
                    "VOICE",
                    queue,
                    &at,
                    agent,
                    (i % 300) as i64,
                    Some("agent"),
                )
            })
            .collect();
        lake.put_parquet("ctr", &hh, "part-0.parquet", &rows).await;
        lake.register("ctr", &hh).await;
    }
    let decisions: Vec<Value> = (0..20_000)
        .map(|i| {
            let level = ["low", "medium", "high"][i % 3];
            json!({"contact_id": format!("c{i}"), "risk_score": i % 100, "risk_level": level,
                   "route": "default", "reasons": ["hop_count"], "policy_version": "v1"})
        })
        .collect();
    lake.put_json_lines("fraud_decisions", "00", "big.gz", &decisions, true)
        .await;
    lake.register("fraud_decisions", "00").await;

    let q = lake.query().await;
    let queries = [
        ("count, 24 partitions", "SELECT count(*) AS n FROM ctr", "120000"),
        (
            "count, 1 partition",
            "SELECT count(*) AS n FROM ctr WHERE hour = '07'",
            "5000",
        ),
        (
            "group by queue",
            "SELECT count(*) AS n FROM (SELECT queue_name, avg(queue_duration_s) FROM ctr GROUP BY queue_name)",
            "3",
        ),
        (
            "latest copy",
            "SELECT count(*) AS n FROM (SELECT contact_id, row_number() OVER (PARTITION BY contact_id \
             ORDER BY last_update_timestamp DESC) AS r FROM ctr) WHERE r = 1",
            "120000",
        ),
        (
            "gzip JSON, 20k rows",
            "SELECT count(*) AS n FROM fraud_decisions WHERE risk_level = 'high'",
            "6666",
        ),
    ];
    for (what, sql, expected) in queries {
        let r = q.sql(sql).await.unwrap();
        assert_eq!(one(&r, "n"), expected, "{what}");
        eprintln!("{what}: {:?}", r.elapsed);
    }
}

#[test]
fn the_readme_lists_every_registered_trino_function() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for name in lake_query::TRINO_FUNCTIONS {
        assert!(readme.contains(&format!("`{name}(")), "README.md does not list {name}");
    }
}

/// Parquet as Hive-based writers (Firehose's record format conversion) write it, made by pyarrow
/// rather than our own writer: INT96 timestamps, `int` as INT32, and an older file that lacks
/// columns the table has since gained (they read as null, as in Athena).
#[tokio::test]
async fn parquet_from_another_writer_with_int96_timestamps_and_fewer_columns_reads_by_the_glue_schema() {
    let lake = Lake::empty().await;
    lake.create_table("ctr", Format::Parquet, &format!("s3://{BUCKET}/ctr/"))
        .await;
    let path = std::env::temp_dir().join(format!("lake-query-int96-{}.parquet", std::process::id()));
    let script = r#"
import sys, datetime
import pyarrow as pa, pyarrow.parquet as pq
t = pa.table({
    "contact_id": pa.array(["P1", "P2"]),
    "last_update_timestamp": pa.array([datetime.datetime(2026, 3, 4, 5, 6, 7, 890000), None], pa.timestamp("ms")),
    "number_of_holds": pa.array([2, 0], pa.int32()),
    "queue_duration_s": pa.array([15, 25], pa.int64()),
})
pq.write_table(t, sys.argv[1], compression="snappy", use_deprecated_int96_timestamps=True)
print(pq.ParquetFile(sys.argv[1]).schema_arrow.field("last_update_timestamp").type, pq.ParquetFile(sys.argv[1]).metadata.schema.column(1).physical_type)
"#;
    let python = lambda_harness::workspace_root().join(".venv/bin/python");
    let out = std::process::Command::new(&python)
        .args(["-c", script])
        .arg(&path)
        .output()
        .expect("the .venv python runs (make tools installs pyarrow)");
    assert!(
        out.status.success(),
        "pyarrow: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("INT96"),
        "the file must hold INT96 timestamps: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    lake.put(&lake.key("ctr", "05", "hive.parquet"), std::fs::read(&path).unwrap())
        .await;
    let _ = std::fs::remove_file(&path);
    lake.register("ctr", "05").await;

    let q = lake.query().await;
    let r = q
        .sql(
            "SELECT contact_id, last_update_timestamp AS t, number_of_holds AS holds, queue_duration_s AS wait, \
             queue_name, hour FROM ctr ORDER BY contact_id",
        )
        .await
        .unwrap();
    assert_eq!(
        r.schema.field_with_name("t").unwrap().data_type(),
        &DataType::Timestamp(TimeUnit::Millisecond, None)
    );
    assert_eq!(column(&r, "t"), ["2026-03-04T05:06:07.890", "NULL"]);
    assert_eq!(column(&r, "holds"), ["2", "0"]);
    assert_eq!(column(&r, "wait"), ["15", "25"]);
    assert_eq!(
        column(&r, "queue_name"),
        ["NULL", "NULL"],
        "a column the file lacks is null"
    );
    assert_eq!(column(&r, "hour"), ["05", "05"]);
}

#[tokio::test]
async fn cross_join_unnest_flattens_arrays_as_trino_does() {
    let lake = Lake::standard().await;
    let q = lake.query().await;
    let r = q
        .sql(
            "SELECT t.reason, count(*) AS n FROM fraud_decisions d CROSS JOIN UNNEST(d.reasons) AS t(reason) \
             GROUP BY t.reason ORDER BY t.reason",
        )
        .await
        .unwrap();
    assert_eq!(column(&r, "reason"), ["deny_list", "hop_count", "oli_payphone"]);
    assert_eq!(column(&r, "n"), ["1", "2", "1"]);

    // The comma form; B's empty array yields no row, as in Trino.
    let r = q
        .sql(
            "SELECT contact_id, key FROM contact_flow_logs, UNNEST(attribute_keys) AS k (key) \
             ORDER BY contact_id, key",
        )
        .await
        .unwrap();
    assert_eq!(column(&r, "contact_id"), ["A", "A"]);
    assert_eq!(column(&r, "key"), ["a", "b"]);

    // A null array yields no row either.
    let r = q
        .sql(
            "WITH t AS (SELECT 1 AS id, ARRAY['a'] AS arr UNION ALL SELECT 2 AS id, CAST(NULL AS varchar[]) AS arr) \
             SELECT id, u.x FROM t CROSS JOIN UNNEST(t.arr) AS u(x)",
        )
        .await
        .unwrap();
    assert_eq!(column(&r, "id"), ["1"]);
    assert_eq!(column(&r, "x"), ["a"]);
}
