//! The cataloger's real Glue calls against the local emulator (moto): tables and partitions really
//! appear, replays are harmless, and every Glue request that goes over the wire is counted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should say where

use std::sync::{Arc, Mutex};

use aws_sdk_glue::Client;
use aws_sdk_glue::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_glue::config::{BehaviorVersion, ConfigBag, Credentials, Intercept, Region, RuntimeComponents};
use aws_sdk_glue::types::{DatabaseInput, Partition, Table};
use aws_smithy_runtime_api::box_error::BoxError;
use connect_lake::config::LakeFormat;
use connect_lake::schema::CTR;
use connect_lake::testing::hours_event;
use lambda_harness::{Emulator, workspace_root};
use s3_cataloger::{Cataloger, Config, Response, Stats, glue};
use serde_json::{Value, json};

const BUCKET: &str = "connect-lake-example-lake";
const DATABASE: &str = "connect_lake";

/// Every Glue request sent: the operation (from `X-Amz-Target`) and, for `BatchCreatePartition`,
/// how many partitions its body carried.
#[derive(Debug, Clone, Default)]
struct CallLog(Arc<Mutex<Vec<(String, usize)>>>);

impl CallLog {
    fn take(&self) -> Vec<(String, usize)> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

fn count(calls: &[(String, usize)], operation: &str) -> usize {
    calls.iter().filter(|(op, _)| op == operation).count()
}

impl Intercept for CallLog {
    fn name(&self) -> &'static str {
        "CallLog"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request();
        let operation = request
            .headers()
            .get("x-amz-target")
            .unwrap_or_default()
            .trim_start_matches("AWSGlue.")
            .to_owned();
        let partitions = request
            .body()
            .bytes()
            .and_then(|b| serde_json::from_slice::<Value>(b).ok())
            .and_then(|v| v["PartitionInputList"].as_array().map(Vec::len))
            .unwrap_or(0);
        self.0.lock().unwrap().push((operation, partitions));
        Ok(())
    }
}

struct Lake {
    // Kept alive for the test; stops moto on drop, even when the test fails.
    _emulator: Emulator,
    glue: Client,
    log: CallLog,
}

impl Lake {
    async fn start() -> Lake {
        let emulator = Emulator::start().await.expect("moto starts (make tools installs it)");
        let log = CallLog::default();
        let config = aws_sdk_glue::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(emulator.endpoint())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "emulator"))
            .interceptor(log.clone())
            .build();
        let glue = Client::from_conf(config);
        Lake {
            _emulator: emulator,
            glue,
            log,
        }
    }

    async fn with_database() -> Lake {
        let lake = Lake::start().await;
        lake.glue
            .create_database()
            .database_input(DatabaseInput::builder().name(DATABASE).build().unwrap())
            .send()
            .await
            .expect("create database");
        lake.log.take();
        lake
    }

    fn cataloger(&self, format: LakeFormat) -> Cataloger {
        Cataloger::new(
            self.glue.clone(),
            Config {
                lake_bucket: BUCKET.to_owned(),
                database: DATABASE.to_owned(),
                format,
                metrics_namespace: "ConnectLake".to_owned(),
            },
        )
    }

    async fn table(&self, name: &str) -> Table {
        let out = self
            .glue
            .get_table()
            .database_name(DATABASE)
            .name(name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GetTable {name}: {e:?}"));
        out.table.expect("a table")
    }

    async fn partitions(&self, table: &str, expression: Option<&str>) -> Vec<Partition> {
        let mut all = Vec::new();
        let mut token = None;
        loop {
            let out = self
                .glue
                .get_partitions()
                .database_name(DATABASE)
                .table_name(table)
                .set_expression(expression.map(str::to_owned))
                .set_next_token(token)
                .send()
                .await
                .unwrap_or_else(|e| panic!("GetPartitions {table}: {e:?}"));
            all.extend(out.partitions.unwrap_or_default());
            token = out.next_token;
            if token.is_none() {
                break;
            }
        }
        all.sort_by(|a, b| a.values().cmp(b.values()));
        all
    }
}

fn fixture(name: &str) -> Value {
    let path = workspace_root().join(format!("events/s3-cataloger/{name}.json"));
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

async fn run_ok(cataloger: &Cataloger, event: &Value) -> Stats {
    let (result, stats) = cataloger.process(event).await;
    match result.unwrap() {
        Response::Sqs(r) => assert!(r.batch_item_failures.is_empty(), "{r:?}"),
        Response::Direct(_) => {}
    }
    stats
}

#[tokio::test]
async fn tables_and_partitions_appear_in_glue_with_the_right_locations_and_serde() {
    let lake = Lake::with_database().await;
    let cataloger = lake.cataloger(LakeFormat::Parquet);
    let stats = run_ok(&cataloger, &fixture("sqs-s3-notifications")).await;
    assert_eq!((stats.tables_created, stats.partitions_created), (2, 3));

    let table = lake.table("ctr").await;
    assert_eq!(table.table_type(), Some("EXTERNAL_TABLE"));
    assert_eq!(table.parameters().unwrap()["parquet.compression"], "SNAPPY");
    let keys: Vec<&str> = table.partition_keys().iter().map(|c| c.name()).collect();
    assert_eq!(keys, ["year", "month", "day", "hour"]);
    let sd = table.storage_descriptor().unwrap();
    assert_eq!(sd.location(), Some("s3://connect-lake-example-lake/ctr/"));
    assert_eq!(
        sd.serde_info().and_then(|s| s.serialization_library()),
        Some("org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe")
    );
    assert_eq!(sd.columns().len(), CTR.columns.len());

    let partitions = lake.partitions("ctr", None).await;
    let got: Vec<(&[String], Option<&str>)> = partitions
        .iter()
        .map(|p| (p.values(), p.storage_descriptor().and_then(|s| s.location())))
        .collect();
    assert_eq!(
        got,
        [
            (
                &["2026".to_owned(), "03".into(), "08".into(), "10".into()][..],
                Some("s3://connect-lake-example-lake/ctr/year=2026/month=03/day=08/hour=10/")
            ),
            (
                &["2026".to_owned(), "03".into(), "08".into(), "11".into()][..],
                Some("s3://connect-lake-example-lake/ctr/year=2026/month=03/day=08/hour=11/")
            ),
        ]
    );
    let psd = partitions[0].storage_descriptor().unwrap();
    assert_eq!(psd.serde_info(), sd.serde_info(), "partitions carry the table's SerDe");
    assert_eq!(psd.input_format(), sd.input_format());
    assert_eq!(lake.partitions("ctr", Some("hour = '11'")).await.len(), 1);
    assert_eq!(lake.partitions("agent_events", None).await.len(), 1);
}

#[tokio::test]
async fn lake_format_json_creates_openx_json_tables() {
    let lake = Lake::with_database().await;
    run_ok(&lake.cataloger(LakeFormat::Json), &fixture("direct-s3-put")).await;
    for name in ["ctr", "agent_events"] {
        let table = lake.table(name).await;
        assert_eq!(table.parameters().unwrap()["classification"], "json");
        let sd = table.storage_descriptor().unwrap();
        assert_eq!(
            sd.serde_info().and_then(|s| s.serialization_library()),
            Some("org.openx.data.jsonserde.JsonSerDe"),
            "{name}"
        );
        assert_eq!(sd.location(), Some(format!("s3://{BUCKET}/{name}/").as_str()));
        let partitions = lake.partitions(name, None).await;
        assert_eq!(partitions.len(), 1, "{name}");
        assert_eq!(
            partitions[0]
                .storage_descriptor()
                .and_then(|s| s.serde_info())
                .and_then(|s| s.serialization_library()),
            Some("org.openx.data.jsonserde.JsonSerDe")
        );
    }
}

#[tokio::test]
async fn replaying_the_same_event_gives_no_error_and_no_duplicates() {
    let lake = Lake::with_database().await;
    let event = fixture("sqs-s3-notifications");
    run_ok(&lake.cataloger(LakeFormat::Parquet), &event).await;

    // A cold container: Glue reports the partitions as existing, which is success.
    let stats = run_ok(&lake.cataloger(LakeFormat::Parquet), &event).await;
    assert_eq!(
        (
            stats.partitions_created,
            stats.partitions_existing,
            stats.tables_created
        ),
        (0, 3, 0)
    );
    assert_eq!(lake.partitions("ctr", None).await.len(), 2);
    assert_eq!(lake.partitions("agent_events", None).await.len(), 1);
}

#[tokio::test]
async fn glue_calls_are_bounded_by_new_partitions_and_tables_and_cached_partitions_cost_none() {
    let lake = Lake::with_database().await;
    let cataloger = lake.cataloger(LakeFormat::Parquet);

    // 250 new partitions of a table that does not exist yet.
    let event = hours_event(BUCKET, 250);
    let stats = run_ok(&cataloger, &event).await;
    assert_eq!(stats.partitions_created, 250);
    let calls = lake.log.take();
    let sizes: Vec<usize> = calls
        .iter()
        .filter(|(op, _)| op == "BatchCreatePartition")
        .map(|(_, n)| *n)
        .collect();
    assert_eq!(sizes, [100, 100, 50], "⌈250 / 100⌉ calls of at most 100");
    assert_eq!(count(&calls, "GetTable"), 1);
    assert_eq!(count(&calls, "CreateTable"), 1);
    assert_eq!(calls.len(), 5, "{calls:?}");
    assert_eq!(lake.partitions("ctr", None).await.len(), 250);
    lake.log.take();

    // The same partitions again, in this warm container: not a single Glue call.
    let stats = run_ok(&cataloger, &event).await;
    assert_eq!(stats.partitions_cached, 250);
    assert_eq!(lake.log.take(), [], "zero calls for cached partitions");

    // New partitions of the known `ctr` table and of the new `agent_events` table: `ctr` is not
    // looked up again; `agent_events` costs one GetTable and one CreateTable; one
    // BatchCreatePartition per table.
    let mixed = fixture("sqs-s3-notifications");
    let stats = run_ok(&cataloger, &mixed).await;
    let calls = lake.log.take();
    assert_eq!((stats.partitions_created, stats.partitions_cached), (3, 0));
    assert_eq!(count(&calls, "GetTable"), 1, "{calls:?}");
    assert_eq!(count(&calls, "CreateTable"), 1, "{calls:?}");
    assert_eq!(count(&calls, "BatchCreatePartition"), 2, "{calls:?}");
    assert_eq!(calls.len(), 4, "{calls:?}");
    let stats = run_ok(&cataloger, &mixed).await;
    assert_eq!(stats.partitions_cached, 3);
    assert_eq!(lake.log.take(), []);
}

#[tokio::test]
async fn a_table_the_template_created_keeps_its_own_storage_descriptor() {
    let lake = Lake::with_database().await;
    // As if the stack had created `ctr` in JSON while this container is configured for Parquet.
    let sd = glue::storage_descriptor(&CTR, BUCKET, LakeFormat::Json).unwrap();
    let input = glue::table_input(&CTR, sd, LakeFormat::Json).unwrap();
    lake.glue
        .create_table()
        .database_name(DATABASE)
        .table_input(input)
        .send()
        .await
        .unwrap();
    lake.log.take();

    let event = json!({"Records": [fixture("direct-s3-put")["Records"][0].clone()]});
    let stats = run_ok(&lake.cataloger(LakeFormat::Parquet), &event).await;
    assert_eq!((stats.tables_created, stats.partitions_created), (0, 1));
    let calls = lake.log.take();
    assert_eq!(count(&calls, "CreateTable"), 0, "{calls:?}");
    let partitions = lake.partitions("ctr", None).await;
    assert_eq!(
        partitions[0]
            .storage_descriptor()
            .and_then(|s| s.serde_info())
            .and_then(|s| s.serialization_library()),
        Some("org.openx.data.jsonserde.JsonSerDe"),
        "the partition copies the existing table's descriptor"
    );
}

/// A lake deployed before the schema gained columns: the table is extended, once, by appending
/// exactly the missing columns; what it had (columns, their types, parameters, format) stays.
#[tokio::test]
async fn a_table_created_before_the_schema_grew_gains_the_new_columns_and_keeps_the_rest() {
    let lake = Lake::with_database().await;
    let mut sd = glue::storage_descriptor(&CTR, BUCKET, LakeFormat::Json).unwrap();
    let all = sd.columns.take().unwrap();
    // An older `ctr`: the schema's first ten columns, one with a type the schema no longer uses.
    let mut old: Vec<_> = all[..10].to_vec();
    old[1].r#type = Some("varchar(64)".to_owned());
    sd.columns = Some(old.clone());
    let mut input = glue::table_input(&CTR, sd, LakeFormat::Json).unwrap();
    input
        .parameters
        .get_or_insert_default()
        .insert("owner_note".into(), "kept".into());
    lake.glue
        .create_table()
        .database_name(DATABASE)
        .table_input(input)
        .send()
        .await
        .unwrap();
    lake.log.take();

    let event = json!({"Records": [fixture("direct-s3-put")["Records"][0].clone()]});
    let cataloger = lake.cataloger(LakeFormat::Parquet);
    let stats = run_ok(&cataloger, &event).await;
    assert_eq!(
        (stats.tables_created, stats.tables_updated, stats.partitions_created),
        (0, 1, 1)
    );
    let calls = lake.log.take();
    assert_eq!(count(&calls, "UpdateTable"), 1, "{calls:?}");

    let table = lake.table("ctr").await;
    let got: Vec<(&str, &str)> = table
        .storage_descriptor()
        .unwrap()
        .columns()
        .iter()
        .map(|c| (c.name(), c.r#type().unwrap_or_default()))
        .collect();
    let want: Vec<(&str, &str)> = old
        .iter()
        .chain(&all[10..])
        .map(|c| (c.name(), c.r#type().unwrap_or_default()))
        .collect();
    assert_eq!(
        got, want,
        "old columns first and unchanged, then the new ones in schema order"
    );
    assert_eq!(
        table.parameters().unwrap().get("owner_note").map(String::as_str),
        Some("kept")
    );
    assert_eq!(
        table
            .storage_descriptor()
            .and_then(|s| s.serde_info())
            .and_then(|s| s.serialization_library()),
        Some("org.openx.data.jsonserde.JsonSerDe"),
        "the table's own format stays"
    );
    let partitions = lake.partitions("ctr", None).await;
    assert_eq!(
        partitions[0].storage_descriptor().unwrap().columns().len(),
        all.len(),
        "the new partition carries every column"
    );

    // The table is complete now: another container neither updates nor asks twice.
    let again = json!({"Records": [fixture("direct-s3-put")["Records"][0].clone()]});
    let stats = run_ok(&lake.cataloger(LakeFormat::Parquet), &again).await;
    assert_eq!(stats.tables_updated, 0);
    assert_eq!(count(&lake.log.take(), "UpdateTable"), 0);
}

#[tokio::test]
async fn a_missing_database_is_reported_clearly_and_fails_every_contributing_message() {
    let lake = Lake::start().await;
    let cataloger = lake.cataloger(LakeFormat::Parquet);
    let (result, _) = cataloger.process(&fixture("direct-s3-put")).await;
    let err = result.unwrap_err();
    assert_eq!(err.error_type(), "GlueDatabaseMissing");
    assert!(
        err.to_string()
            .contains("\"connect_lake\" (GLUE_DATABASE) does not exist"),
        "{err}"
    );

    let (result, stats) = cataloger.process(&fixture("sqs-s3-notifications")).await;
    let Response::Sqs(response) = result.unwrap() else {
        panic!("an SQS response")
    };
    assert_eq!(response.batch_item_failures.len(), 3);
    assert_eq!(stats.partitions_failed, 3);
}

#[tokio::test]
async fn two_containers_racing_on_a_new_table_both_succeed_and_register_each_partition_once() {
    let lake = Lake::with_database().await;
    let (a, b) = (lake.cataloger(LakeFormat::Parquet), lake.cataloger(LakeFormat::Parquet));
    let event = fixture("sqs-s3-notifications");
    let (sa, sb) = tokio::join!(run_ok(&a, &event), run_ok(&b, &event));
    assert_eq!(
        sa.tables_created + sb.tables_created,
        2,
        "each table created exactly once"
    );
    assert_eq!(sa.partitions_created + sb.partitions_created, 3);
    assert_eq!(sa.partitions_existing + sb.partitions_existing, 3);
    assert_eq!(lake.partitions("ctr", None).await.len(), 2);
}

#[tokio::test]
async fn function_written_sentiment_tables_are_json_even_in_a_parquet_lake() {
    let lake = Lake::with_database().await;
    let event = serde_json::json!({"Records": [
        {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
         "s3": {"bucket": {"name": BUCKET}, "object": {"key": "contact_sentiment/year=2026/month=03/day=08/hour=10/c1_standard.json", "size": 10}}},
        {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
         "s3": {"bucket": {"name": BUCKET}, "object": {"key": "ctr/year=2026/month=03/day=08/hour=10/part-1", "size": 10}}},
    ]});
    run_ok(&lake.cataloger(LakeFormat::Parquet), &event).await;
    let serde_of = |t: &Table| {
        t.storage_descriptor()
            .and_then(|sd| sd.serde_info())
            .and_then(|s| s.serialization_library())
            .map(str::to_owned)
    };
    assert_eq!(
        serde_of(&lake.table("contact_sentiment").await).as_deref(),
        Some("org.openx.data.jsonserde.JsonSerDe")
    );
    assert_eq!(
        serde_of(&lake.table("ctr").await).as_deref(),
        Some("org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe")
    );
}
