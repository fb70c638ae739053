//! A small `lakectl demo` end to end: every real function binary behind its Runtime API, against
//! the local emulator. Every generated contact is in the lake or accounted for as failed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should say where

use std::collections::{BTreeMap, BTreeSet};

use connect_lake_e2e::function_binary;
use lakectl::demo::{DemoOptions, DemoReport, run_on, summary};
use lakectl::lake::{Lake, LakeNames, emulator_config};
use lambda_harness::Emulator;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_demo_accounts_for_every_contact_and_catalogs_every_table() {
    let (emulator, opts, report) = demo(200, 7).await;
    assert_eq!(report.older_copies_in_lake, 0, "200 contacts fit in one request");
    assert_eq!(
        report.delivery.rows_per_table["ctr"], 200,
        "one row per contact: older copies dropped"
    );

    assert_lake_accounts_for_every_record(&emulator, &opts, &report).await;
    assert_pyarrow_reads_the_glue_schema(&emulator, &report).await;
    assert_pyarrow_reads_nested_values_the_generator_sent(&emulator, &opts).await;
    assert_named_queries_agree_with_the_generator(&opts, &report);
    assert_connect_telemetry_agrees_with_the_traffic(&opts, &report);
    assert_managed_flow_events_read_the_native_flow_logs(&emulator, &opts).await;
}

/// The managed-lake view `contact_flow_events` over `connect_flow_logs`: one flow execution per
/// contact and arrival day of its blocks, its next queue the one its transfer block named (none
/// for the first part of a flow that ran over midnight).
async fn assert_managed_flow_events_read_the_native_flow_logs(emulator: &Emulator, opts: &DemoOptions) {
    use lakectl::generate::{Generator, TrafficOptions, telemetry};
    let traffic = Generator::new(opts.seed).traffic(&TrafficOptions::new(opts.contacts, opts.seed));
    let mut truth: BTreeMap<(String, String), String> = BTreeMap::new();
    for block in telemetry::flow_logs(&traffic) {
        let logged: serde_json::Value = serde_json::from_slice(&block.to_json()).unwrap();
        let day = logged["Timestamp"].as_str().unwrap()[..10].to_owned();
        let queue = logged["Parameters"]["QueueId"]
            .as_str()
            .map(|arn| arn.rsplit('/').next().unwrap().to_owned());
        let next = truth
            .entry((logged["ContactId"].as_str().unwrap().to_owned(), day))
            .or_default();
        if let Some(queue) = queue {
            *next = queue;
        }
    }
    let config = emulator_config(emulator).await;
    let lake = lake_query::LakeQuery::connect(&config, "connect_lake").await.unwrap();
    let sql = "SELECT contact_id, concat(year, '-', month, '-', day) AS event_day, next_resource_type, \
               next_queue_resource_id FROM contact_flow_events";
    let rows: Vec<serde_json::Value> = serde_json::from_str(&lake.sql(sql).await.unwrap().to_json().unwrap()).unwrap();
    let got: BTreeMap<(String, String), String> = rows
        .iter()
        .map(|r| {
            let queue = r["next_queue_resource_id"].as_str().unwrap_or_default();
            assert_eq!(r["next_resource_type"] == "queue", !queue.is_empty(), "{r}");
            (
                (
                    r["contact_id"].as_str().unwrap().to_owned(),
                    r["event_day"].as_str().unwrap().to_owned(),
                ),
                queue.to_owned(),
            )
        })
        .collect();
    assert_eq!(got.len(), rows.len(), "one execution per contact and day");
    assert!(got.len() >= opts.contacts);
    assert_eq!(
        got, truth,
        "each contact's flow execution and the queue it transferred to"
    );
}

fn named_rows(report: &DemoReport, name: &str) -> Vec<serde_json::Value> {
    let run = report
        .named_queries
        .iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("named query {name} ran"));
    serde_json::from_str(&run.json).unwrap()
}

fn number(v: &serde_json::Value) -> u64 {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or_else(|| panic!("{v} is a count"))
}

/// Stage 5's figures, computed by the SQL engine from the Parquet lake through Glue, equal the
/// generator's own truth and what stage 4 counted.
fn assert_named_queries_agree_with_the_generator(opts: &DemoOptions, report: &DemoReport) {
    use lakectl::generate::{Generator, TrafficOptions};
    assert_eq!(report.named_queries.len(), 8, "every named query of the template ran");
    assert!(
        report.named_queries_skipped.is_empty(),
        "the demo feeds every table a named query reads: {:?}",
        report.named_queries_skipped
    );
    assert!(!summary(report).contains("not run"), "{}", summary(report));
    let traffic = Generator::new(opts.seed).traffic(&TrafficOptions::new(opts.contacts, opts.seed));
    let latest: Vec<serde_json::Value> = traffic
        .ctrs
        .iter()
        .filter(|c| c.latest)
        .map(|c| serde_json::from_slice(&c.json).unwrap())
        .collect();

    let rows = named_rows(report, "latest-copy-of-each-contact");
    assert_eq!(rows.len(), opts.contacts, "one latest copy per contact");

    let mut handled = std::collections::BTreeMap::<String, u64>::new();
    for c in latest
        .iter()
        .filter(|c| c["Agent"].is_object() && !c["Queue"].is_null())
    {
        *handled
            .entry(c["Queue"]["Name"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    let by_queue: std::collections::BTreeMap<String, u64> = named_rows(report, "average-handle-time-by-queue")
        .iter()
        .map(|r| {
            (
                r["queue_name"].as_str().unwrap().to_owned(),
                number(&r["handled_contacts"]),
            )
        })
        .collect();
    assert_eq!(by_queue, handled, "contacts handled per queue");

    let abandoned_truth = latest
        .iter()
        .filter(|c| c["Channel"] == "VOICE" && c["Agent"].is_null() && c["Queue"]["EnqueueTimestamp"].is_string())
        .count() as u64;
    let abandoned: u64 = named_rows(report, "abandonment-by-queue")
        .iter()
        .map(|r| number(&r["abandoned"]))
        .sum();
    assert_eq!(abandoned, abandoned_truth, "abandoned voice contacts");
    assert!(abandoned > 0);

    // Each (level, route, policy) appears once per top reason: count the groups once.
    let mut levels = std::collections::BTreeMap::<String, usize>::new();
    let mut seen = std::collections::BTreeSet::new();
    for r in named_rows(report, "fraud-decisions-by-level") {
        let key = (
            r["risk_level"].to_string(),
            r["route"].to_string(),
            r["policy_version"].to_string(),
        );
        if seen.insert(key) {
            *levels.entry(r["risk_level"].as_str().unwrap().to_owned()).or_default() +=
                number(&r["decisions"]) as usize;
        }
    }
    assert_eq!(
        levels, report.fraud_levels,
        "fraud decisions per level, as stage 4 counted them"
    );
}

fn float(v: &serde_json::Value) -> f64 {
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or_else(|| panic!("{v} is a number"))
}

/// Connect's telemetry, as stage 6's named queries read it from the lake (metric-stream records
/// through firehose-transform, flow logs shipped, both cataloged), equals what this test works
/// out itself: each queue's peak size and longest wait per hour from the contact records' enqueue
/// and dequeue times, and the flow errors and blocks per flow and day from the generated flow logs.
fn assert_connect_telemetry_agrees_with_the_traffic(opts: &DemoOptions, report: &DemoReport) {
    use connect_lake::time_fmt::parse_rfc3339;
    use lakectl::generate::{Generator, INSTANCE_ID, TrafficOptions, telemetry};
    let traffic = Generator::new(opts.seed).traffic(&TrafficOptions::new(opts.contacts, opts.seed));

    // A contact waits from its enqueue second up to, not including, its dequeue second. Within an
    // hour the queue is longest when a contact joins it (or at the hour's start), and the longest
    // wait is some waiting contact's age at its last second in the hour.
    let mut waits: BTreeMap<String, Vec<(i64, i64)>> = BTreeMap::new();
    for c in traffic.ctrs.iter().filter(|c| c.latest) {
        let c: serde_json::Value = serde_json::from_slice(&c.json).unwrap();
        let q = &c["Queue"];
        let at = |k: &str| parse_rfc3339(q[k].as_str().unwrap()).unwrap().unix_timestamp();
        waits
            .entry(q["Name"].as_str().unwrap().to_owned())
            .or_default()
            .push((at("EnqueueTimestamp"), at("DequeueTimestamp")));
    }
    let mut truth: BTreeMap<(String, String), (f64, f64)> = BTreeMap::new();
    for (queue, spans) in &waits {
        let hours: BTreeSet<i64> = spans
            .iter()
            .flat_map(|(e, d)| e.div_euclid(3600)..=(d - 1).div_euclid(3600))
            .collect();
        for hour in hours {
            let (start, end) = (hour * 3600, hour * 3600 + 3600);
            let in_hour: Vec<(i64, i64)> = spans.iter().copied().filter(|(e, d)| *e < end && *d > start).collect();
            let waiting_at = |t: i64| in_hour.iter().filter(|(e, d)| *e <= t && t < *d).count();
            let peak = std::iter::once(start)
                .chain(in_hour.iter().map(|(e, _)| *e).filter(|e| *e >= start))
                .map(waiting_at)
                .max()
                .unwrap();
            let longest = in_hour.iter().map(|(e, d)| (*d).min(end) - 1 - e).max().unwrap();
            let t = time::OffsetDateTime::from_unix_timestamp(start).unwrap();
            let label = format!(
                "{:04}-{:02}-{:02} {:02}:00",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour()
            );
            truth.insert((queue.clone(), label), (peak as f64, longest as f64));
        }
    }
    let rows = named_rows(report, "queue-peaks-by-hour");
    assert!(rows.iter().all(|r| r["instance_id"] == INSTANCE_ID), "{rows:?}");
    let got: BTreeMap<(String, String), (f64, f64)> = rows
        .iter()
        .map(|r| {
            (
                (
                    r["queue_name"].as_str().unwrap().to_owned(),
                    r["period_hour"].as_str().unwrap().to_owned(),
                ),
                (float(&r["peak_queue_size"]), float(&r["longest_wait_s"])),
            )
        })
        .collect();
    assert_eq!(got.len(), rows.len(), "one row per queue and hour");
    assert!(truth.len() > 24, "{} queue-hours", truth.len());
    assert_eq!(got, truth, "peak queue size and longest wait per queue per hour");

    // Flow errors per flow and day: the metric's sum and the logs' error blocks both equal the
    // blocks of the generated flow logs whose Results is "Error", on the day the block ran.
    /// Blocks and contacts logged, and those with an error, of one flow on one day.
    type Logged = (f64, BTreeSet<String>, f64, BTreeSet<String>);
    let mut flows: BTreeMap<(String, String), Logged> = BTreeMap::new();
    for block in telemetry::flow_logs(&traffic) {
        let logged: serde_json::Value = serde_json::from_slice(&block.to_json()).unwrap();
        let day = logged["Timestamp"].as_str().unwrap()[..10].to_owned();
        let contact = logged["ContactId"].as_str().unwrap().to_owned();
        let flow = flows
            .entry((logged["ContactFlowName"].as_str().unwrap().to_owned(), day))
            .or_default();
        flow.0 += 1.0;
        flow.1.insert(contact.clone());
        if logged["Results"] == "Error" {
            flow.2 += 1.0;
            flow.3.insert(contact);
        }
    }
    let truth: BTreeMap<(String, String), Vec<f64>> = flows
        .into_iter()
        .map(|(k, (blocks, contacts, errors, with_error))| {
            (
                k,
                vec![errors, errors, with_error.len() as f64, blocks, contacts.len() as f64],
            )
        })
        .collect();
    let got: BTreeMap<(String, String), Vec<f64>> = named_rows(report, "flow-errors-by-day")
        .iter()
        .map(|r| {
            let values = [
                "flow_errors",
                "error_blocks_logged",
                "contacts_with_error_logged",
                "blocks_logged",
                "contacts_logged",
            ]
            .iter()
            .map(|k| float(&r[*k]))
            .collect();
            (
                (
                    r["flow_name"].as_str().unwrap().to_owned(),
                    r["flow_day"].as_str().unwrap().to_owned(),
                ),
                values,
            )
        })
        .collect();
    assert!(
        truth.values().map(|v| v[0]).sum::<f64>() > 0.0,
        "some lookups failed: {truth:?}"
    );
    assert_eq!(got, truth, "flow errors, error blocks and blocks per flow and day");
    let t = &report.telemetry;
    assert_eq!((t.delivery.failed, t.delivery.dropped), (0, 0));
    assert_eq!(t.delivery.ok, t.metric_rows_in_lake);
    assert_eq!(t.flow_log_rows_in_lake, t.flow_log_records as u64);
}

/// pyarrow, not our reader, opens every Parquet object the demo wrote: its columns and types are
/// the Glue table's, the objects are Snappy, and the rows are the rows delivered.
async fn assert_pyarrow_reads_the_glue_schema(emulator: &Emulator, report: &DemoReport) {
    let config = emulator_config(emulator).await;
    let lake = Lake::new(&config, LakeNames::default());
    let dir = tempdir();
    let mut paths = Vec::new();
    for prefix in ["ctr/", "agent_events/", "connect_metrics/"] {
        for key in lake.keys(prefix).await.unwrap() {
            assert!(
                key.ends_with(".parquet"),
                "a Parquet lake holds only Parquet objects: {key}"
            );
            let path = dir.join(key.replace('/', "_"));
            std::fs::write(&path, lake.get(&key).await.unwrap()).unwrap();
            paths.push((prefix.trim_end_matches('/').to_owned(), path));
        }
    }
    assert!(!paths.is_empty());
    let script = lambda_harness::workspace_root().join("tests/python/read_parquet.py");
    let args = std::iter::once(script.as_path()).chain(paths.iter().map(|(_, p)| p.as_path()));
    let files: Vec<serde_json::Value> = connect_lake_e2e::venv_python_json(args);
    let mut rows_per_table = std::collections::BTreeMap::<String, u64>::new();
    for ((table, _), file) in paths.iter().zip(&files) {
        let glue = lake
            .glue
            .get_table()
            .database_name(&lake.names.database)
            .name(table)
            .send()
            .await
            .unwrap();
        let sd = glue.table().unwrap().storage_descriptor().unwrap();
        assert_eq!(
            sd.serde_info().and_then(|s| s.serialization_library()),
            Some("org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"),
            "the catalog declares {table} Parquet"
        );
        let declared: Vec<(String, String)> = sd
            .columns()
            .iter()
            .map(|c| (c.name().to_owned(), pyarrow_type(c.r#type().unwrap_or_default())))
            .collect();
        let read: Vec<(String, String)> = file["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c[0].as_str().unwrap().to_owned(), c[1].as_str().unwrap().to_owned()))
            .collect();
        assert_eq!(read, declared, "{}: pyarrow's schema is the Glue table's", file["path"]);
        assert_eq!(file["compression"], serde_json::json!(["SNAPPY"]), "{}", file["path"]);
        *rows_per_table.entry(table.clone()).or_default() += file["rows"].as_u64().unwrap();
    }
    assert_eq!(rows_per_table.len(), 3, "{rows_per_table:?}");
    for (table, rows) in &rows_per_table {
        assert_eq!(
            Some(rows),
            report
                .delivery
                .rows_per_table
                .get(table)
                .or_else(|| report.telemetry.delivery.rows_per_table.get(table)),
            "{table}: rows read = rows delivered"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The pyarrow name of a Glue type, as our converter writes it: scalars, and `array`, `map` and
/// `struct` nested in any depth (pyarrow says `list<item: T>` and `struct<name: T, ...>`).
fn pyarrow_type(glue: &str) -> String {
    let glue = glue.trim();
    if let Some(inner) = glue.strip_prefix("array<").and_then(|r| r.strip_suffix('>')) {
        return format!("list<item: {}>", pyarrow_type(inner));
    }
    if let Some(inner) = glue.strip_prefix("map<").and_then(|r| r.strip_suffix('>')) {
        let parts = top_level_fields(inner);
        assert_eq!(parts.len(), 2, "map<key,value>: {glue}");
        return format!("map<{}, {}>", pyarrow_type(parts[0]), pyarrow_type(parts[1]));
    }
    if let Some(inner) = glue.strip_prefix("struct<").and_then(|r| r.strip_suffix('>')) {
        let fields: Vec<String> = top_level_fields(inner)
            .into_iter()
            .map(|f| {
                let (name, ty) = f.split_once(':').unwrap_or_else(|| panic!("name:type in {glue}"));
                format!("{}: {}", name.trim(), pyarrow_type(ty))
            })
            .collect();
        return format!("struct<{}>", fields.join(", "));
    }
    match glue {
        "string" => "string",
        "bigint" => "int64",
        "int" => "int32",
        "double" => "double",
        "boolean" => "bool",
        "timestamp" => "timestamp[ms]",
        other => other,
    }
    .to_owned()
}

/// `a:int,b:map<string,string>` split at the commas outside angle brackets.
fn top_level_fields(list: &str) -> Vec<&str> {
    let (mut depth, mut start, mut out) = (0usize, 0usize, Vec::new());
    for (i, c) in list.char_indices() {
        match c {
            '<' => depth += 1,
            '>' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                out.push(&list[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&list[start..]);
    out
}

/// pyarrow reads the nested ctr columns back with values: the `recordings` array<struct> and the
/// `segment_attributes` map of every contact equal what the generator put in its final copy.
async fn assert_pyarrow_reads_nested_values_the_generator_sent(emulator: &Emulator, opts: &DemoOptions) {
    use lakectl::generate::{Generator, TrafficOptions};
    const READ: &str = r#"
import json, sys
import pyarrow.parquet as pq
rows = []
for path in sys.argv[1:]:
    table = pq.read_table(path, columns=["contact_id", "recordings", "segment_attributes", "references"])
    for r in table.to_pylist():
        r["segment_attributes"] = None if r["segment_attributes"] is None else dict(r["segment_attributes"])
        rows.append(r)
print(json.dumps(rows, default=str))
"#;
    let config = emulator_config(emulator).await;
    let lake = Lake::new(&config, LakeNames::default());
    let dir = tempdir().join("nested");
    std::fs::create_dir_all(&dir).unwrap();
    let mut paths = Vec::new();
    for key in lake.keys("ctr/").await.unwrap() {
        let path = dir.join(key.replace('/', "_"));
        std::fs::write(&path, lake.get(&key).await.unwrap()).unwrap();
        paths.push(path);
    }
    let args = ["-c", READ].into_iter().map(std::ffi::OsStr::new);
    let rows: Vec<serde_json::Value> =
        connect_lake_e2e::venv_python_json(args.chain(paths.iter().map(|p| p.as_os_str())));
    let _ = std::fs::remove_dir_all(&dir);
    let read: std::collections::BTreeMap<&str, &serde_json::Value> =
        rows.iter().map(|r| (r["contact_id"].as_str().unwrap(), r)).collect();
    assert_eq!(
        read.len(),
        opts.contacts,
        "one row per contact (no older copies at this size)"
    );

    let traffic = Generator::new(opts.seed).traffic(&TrafficOptions::new(opts.contacts, opts.seed));
    let (mut with_video, mut with_references) = (0, 0);
    for sent in traffic.ctrs.iter().filter(|c| c.latest) {
        let sent: serde_json::Value = serde_json::from_slice(&sent.json).unwrap();
        let row = read[sent["ContactId"].as_str().unwrap()];
        let want_recordings = recordings(&sent["Recordings"], ["Location", "MediaStreamType", "StorageType"]);
        let got_recordings = recordings(&row["recordings"], ["location", "media_stream_type", "storage_type"]);
        assert_eq!(got_recordings, want_recordings, "recordings of {}", row["contact_id"]);
        with_video += usize::from(want_recordings.iter().any(|r| r.1 == "VIDEO"));
        let subtype = sent["SegmentAttributes"]["connect:Subtype"]["ValueString"]
            .as_str()
            .unwrap();
        assert_eq!(
            row["segment_attributes"],
            serde_json::json!({"connect:Subtype": subtype}),
            "segment attributes of {}",
            row["contact_id"]
        );
        let names: Vec<&str> = row["references"]
            .as_array()
            .map(|all| all.iter().map(|r| r["name"].as_str().unwrap()).collect())
            .unwrap_or_default();
        if sent["Channel"] == "TASK" {
            assert_eq!(names, ["Ticket", "Priority"], "a task's references");
            with_references += 1;
        } else {
            assert!(names.is_empty(), "only tasks have references: {names:?}");
        }
    }
    assert!(
        with_video > 0 && with_references > 0,
        "the demo exercises both: {with_video}, {with_references}"
    );
}

/// A recordings array as (location, media stream type, storage type), read by the three keys
/// given: Connect's names in the contact record, the schema's in the lake's row.
fn recordings<'a>(
    all: &'a serde_json::Value,
    [location, media, storage]: [&str; 3],
) -> Vec<(&'a str, &'a str, &'a str)> {
    let field = |r: &'a serde_json::Value, key: &str| r[key].as_str().unwrap();
    all.as_array()
        .map(|all| {
            all.iter()
                .map(|r| (field(r, location), field(r, media), field(r, storage)))
                .collect()
        })
        .unwrap_or_default()
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("connect-lake-pyarrow-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A size whose Firehose batching splits a contact's two copies across requests: the older copy
/// is Ok and in the lake, and the demo still passes (it used to fail at every size but 2,000).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demo_that_splits_a_contacts_copies_across_requests_passes() {
    let (emulator, opts, report) = demo(SPLIT_CONTACTS, SPLIT_SEED).await;
    assert!(
        report.older_copies_in_lake > 0,
        "{SPLIT_CONTACTS} contacts with seed {SPLIT_SEED} split a pair"
    );
    assert_eq!(
        report.delivery.rows_per_table["ctr"] as usize,
        SPLIT_CONTACTS + report.older_copies_in_lake,
        "one row per contact, plus each older copy whose latest copy went in another request"
    );
    assert!(summary(&report).contains("older copies reached the lake across batches"));
    assert_lake_accounts_for_every_record(&emulator, &opts, &report).await;
}

/// Found by `lakectl`'s accounting: at this size the default 1 MiB batching splits a pair.
const SPLIT_CONTACTS: usize = 450;
const SPLIT_SEED: u64 = 3;

async fn demo(contacts: usize, seed: u64) -> (Emulator, DemoOptions, DemoReport) {
    let emulator = Emulator::start().await.expect("moto starts");
    let bin_dir = function_binary("firehose-transform").parent().unwrap().to_owned();
    let opts = DemoOptions {
        progress: false,
        bin_dir: Some(bin_dir),
        ..DemoOptions::scaled(contacts, seed)
    };
    // Boxed: the test's future stays on the test thread's 2 MiB stack, and the SQL parser's
    // recursion over the named queries needs room beside it.
    let report = Box::pin(run_on(&opts, &emulator)).await.expect("demo runs clean");
    (emulator, opts, report)
}

async fn assert_lake_accounts_for_every_record(emulator: &Emulator, opts: &DemoOptions, report: &DemoReport) {
    assert_eq!(report.contacts, opts.contacts);
    assert_eq!(report.delivery.failed, 0);
    assert_eq!(
        report.contacts_in_lake, opts.contacts,
        "every contact's latest copy is in the lake"
    );
    assert_eq!(
        report.delivery.dropped as usize + report.older_copies_in_lake,
        report.superseded_copies + report.heartbeats,
        "every older copy is dropped with its pair or reaches the lake"
    );

    // Object counts in S3 match what the transform delivered, and each was cataloged.
    let lake = Lake::new(&emulator_config(emulator).await, LakeNames::default());
    let mut curated = 0;
    for prefix in ["ctr/", "agent_events/"] {
        curated += lake.keys(prefix).await.unwrap().len();
    }
    assert_eq!(
        curated, report.objects_written,
        "objects in the lake = objects the demo delivered"
    );
    assert!(
        report.catalog.messages as usize >= curated,
        "every object's notification reached the cataloger"
    );
    assert_eq!(report.catalog.failed, 0);

    // Glue has partitions for every table, and they match the partitions written.
    let partitions = lake.glue_partitions().await.unwrap();
    let written_ctr = report.delivery.partitions.keys().filter(|(t, _)| t == "ctr").count();
    assert_eq!(partitions.get("ctr").copied(), Some(written_ctr));
    for table in [
        "agent_events",
        "sentiment_turns",
        "contact_sentiment",
        "fraud_decisions",
        "contact_flow_logs",
        "connect_metrics",
        "connect_flow_logs",
    ] {
        assert!(
            partitions.get(table).copied().unwrap_or(0) > 0,
            "{table} has partitions: {partitions:?}"
        );
    }

    // Sentiment rows for every transcript, and flow answers for every invocation.
    assert_eq!(report.contact_sentiment_rows, report.transcripts_put);
    assert_eq!(report.enrich.failed, 0);
    assert!(
        report.sentiment.len() >= 2,
        "a mix of sentiments: {:?}",
        report.sentiment
    );
    assert_eq!(report.flow_errors, 0);
    assert!(report.deny_listed_calls > 0 && report.denied >= report.deny_listed_calls);
    assert_eq!(report.fraud_levels.values().sum::<usize>(), opts.flow_events);
    assert_eq!(
        (report.fraud_decision_records, report.flow_log_records),
        (opts.flow_events, opts.flow_events),
        "every decision and flow step is shipped to the lake"
    );

    let text = summary(report);
    assert!(
        text.contains("Glue tables and partitions") && text.contains("fraud-router decisions"),
        "{text}"
    );
    assert!(!text.contains("@example.com"), "no raw emails in the summary");
}

// ─── the demo's provisioning plays what template.yaml provisions ───────────────────────────────

/// The stack name the demo plays: its queue, stream and bucket names start with it.
const DEMO_STACK: &str = "connect-lake-demo";

/// A table as a plan sees it: columns as (name, Glue type), and partition key names.
type TableShape = (Vec<(String, String)>, Vec<String>);

/// The facts a deployment and the demo must share, read either from `template.yaml` or from what
/// the demo left in the emulator.
#[derive(Debug, Clone, Default)]
struct Plan {
    /// The Glue database's name.
    database: String,
    /// Function fed by a queue → (key prefixes routed to that queue, receives before its DLQ).
    routes: BTreeMap<String, (BTreeSet<String>, Option<u64>)>,
    /// Keys of the config objects the flow functions read by default.
    config_keys: BTreeSet<String>,
    /// Table → (columns as name and Glue type, partition key names).
    tables: BTreeMap<String, TableShape>,
    /// Table → object key layouts (`ctr/year=*/month=*/day=*/hour=*/`); `{table}` stands for
    /// the table a transform names (`!{partitionKeyFromLambda:table}`).
    layouts: BTreeMap<String, BTreeSet<String>>,
    /// Names of the Firehose delivery streams that wrote (demo) or are named (template).
    streams: BTreeSet<String>,
    /// Transform-fed table → the delivery streams that wrote its objects (demo), or that
    /// firehose-transform's `EXPECTED_TABLES` lets carry it (template).
    carriers: BTreeMap<String, BTreeSet<String>>,
}

/// `ctr/year=2026/month=03/day=08/hour=10/name` → `ctr/year=*/month=*/day=*/hour=*/`.
fn layout_of_key(key: &str) -> String {
    let (dir, _) = key.rsplit_once('/').unwrap_or(("", key));
    dir.split('/')
        .map(|segment| match segment.split_once('=') {
            Some((name, _)) => format!("{name}=*"),
            None => segment.to_owned(),
        })
        .map(|s| s + "/")
        .collect()
}

/// A Firehose `Prefix` as a layout: `!{...}` values become `*`.
fn layout_of_prefix(prefix: &str) -> String {
    prefix
        .trim_end_matches('/')
        .split('/')
        .map(|segment| {
            if segment == "!{partitionKeyFromLambda:table}" {
                "{table}".to_owned()
            } else if let Some((name, value)) = segment.split_once('=')
                && value.starts_with("!{")
            {
                format!("{name}=*")
            } else {
                segment.to_owned()
            }
        })
        .map(|s| s + "/")
        .collect()
}

fn template_plan(t: &template_check::Template) -> Plan {
    use template_check::{Value, at, binary_name_for, getatt_target, intrinsic, plain_str, ref_target};
    let sub_text = |v: &Value| -> Option<String> {
        match intrinsic(v) {
            Some((name, Value::String(s))) if name == "Sub" => Some(s.clone()),
            _ => plain_str(v).map(str::to_owned),
        }
    };
    let default = |parameter: &str| -> String {
        t.section("Parameters")
            .and_then(|p| at(p, &[parameter, "Default"]))
            .and_then(plain_str)
            .unwrap_or_default()
            .to_owned()
    };
    let mut plan = Plan {
        database: default("GlueDatabaseName"),
        ..Plan::default()
    };
    // Queue logical id → the function its SQS event source feeds.
    let mut fed: BTreeMap<String, String> = BTreeMap::new();
    for (id, function) in t.resources_of_type("AWS::Serverless::Function") {
        let events = at(function, &["Properties", "Events"]).and_then(Value::as_mapping);
        for event in events.into_iter().flat_map(|m| m.values()) {
            if let Some((queue, _)) = at(event, &["Properties", "Queue"]).and_then(getatt_target) {
                fed.insert(queue.to_owned(), binary_name_for(id));
            }
        }
        let variables = at(function, &["Properties", "Environment", "Variables"]);
        let expected_tables = variables.and_then(|v| v.get("EXPECTED_TABLES")).and_then(sub_text);
        for pair in expected_tables.iter().flat_map(|e| e.split(',')) {
            if let Some((stream, table)) = pair.split_once('=') {
                let stream = stream.replace("${AWS::StackName}", DEMO_STACK);
                plan.carriers.entry(table.to_owned()).or_default().insert(stream);
            }
        }
        for name in ["DENY_LIST_URI", "FRAUD_POLICY_URI"] {
            // `!If [InLake, !Sub "s3://${LakeBucket}/config/...", !Ref ...Uri]`: the default.
            let Some((_, Value::Sequence(args))) = variables.and_then(|v| v.get(name)).and_then(intrinsic) else {
                continue;
            };
            if let Some(key) = args
                .get(1)
                .and_then(sub_text)
                .and_then(|u| u.strip_prefix("s3://${LakeBucket}/").map(str::to_owned))
            {
                plan.config_keys.insert(key);
            }
        }
    }
    for (_, rule) in t.resources_of_type("AWS::Events::Rule") {
        let Some(keys) =
            at(rule, &["Properties", "EventPattern", "detail", "object", "key"]).and_then(Value::as_sequence)
        else {
            continue;
        };
        let prefixes: BTreeSet<String> = keys
            .iter()
            .filter_map(|k| k.get("prefix"))
            .filter_map(|p| plain_str(p).map(str::to_owned).or_else(|| ref_target(p).map(default)))
            .collect();
        let targets = at(rule, &["Properties", "Targets"]).and_then(Value::as_sequence);
        for target in targets.into_iter().flatten() {
            let Some((queue, _)) = target.get("Arn").and_then(getatt_target) else {
                continue;
            };
            let receives = t
                .resource(queue)
                .and_then(|q| at(q, &["Properties", "RedrivePolicy"]))
                .filter(|r| r.get("deadLetterTargetArn").is_some())
                .and_then(|r| r.get("maxReceiveCount"))
                .and_then(Value::as_u64);
            let function = fed
                .get(queue)
                .cloned()
                .unwrap_or_else(|| format!("no function ({queue})"));
            plan.routes.insert(function, (prefixes.clone(), receives));
        }
    }
    for table in template_check::glue_tables(t).unwrap() {
        plan.tables.insert(
            table.name,
            (
                table.columns.into_iter().map(|c| (c.name, c.kind)).collect(),
                table.partition_keys.into_iter().map(|c| c.name).collect(),
            ),
        );
    }
    for (_, stream) in t.resources_of_type("AWS::KinesisFirehose::DeliveryStream") {
        let props = stream.get("Properties");
        if let Some(name) = props.and_then(|p| p.get("DeliveryStreamName")).and_then(sub_text) {
            plan.streams.insert(name.replace("${AWS::StackName}", DEMO_STACK));
        }
        let prefix = props
            .and_then(|p| at(p, &["ExtendedS3DestinationConfiguration", "Prefix"]))
            .and_then(plain_str);
        if let Some(prefix) = prefix.filter(|p| !p.starts_with("raw/")) {
            let layout = layout_of_prefix(prefix);
            let table = layout.split('/').next().unwrap_or_default().to_owned();
            plan.layouts.entry(table).or_default().insert(layout);
        }
    }
    plan
}

async fn demo_plan(lake: &Lake) -> Plan {
    let databases = lake.glue.get_databases().send().await.unwrap();
    let names: Vec<&str> = databases.database_list().iter().map(|d| d.name()).collect();
    let mut plan = Plan {
        database: names.join(","),
        ..Plan::default()
    };
    let notifications = lake
        .s3
        .get_bucket_notification_configuration()
        .bucket(&lake.names.bucket)
        .send()
        .await
        .unwrap();
    for config in notifications.queue_configurations() {
        let queue = config.queue_arn().rsplit(':').next().unwrap_or_default();
        let function = queue
            .strip_prefix(&format!("{DEMO_STACK}-"))
            .unwrap_or(queue)
            .to_owned();
        let prefixes: Vec<String> = config
            .filter()
            .and_then(|f| f.key())
            .map(|k| k.filter_rules())
            .unwrap_or_default()
            .iter()
            .filter(|r| r.name().map(|n| n.as_str().eq_ignore_ascii_case("prefix")) == Some(true))
            .filter_map(|r| r.value().map(str::to_owned))
            .collect();
        let url = lake.queue_url(queue).await.unwrap();
        let attributes = lake
            .sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy)
            .send()
            .await
            .unwrap();
        let receives = attributes
            .attributes()
            .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy))
            .and_then(|r| serde_json::from_str::<serde_json::Value>(r).ok())
            .filter(|r| r["deadLetterTargetArn"].is_string())
            .and_then(|r| number_or_string(&r["maxReceiveCount"]));
        let route = plan.routes.entry(function).or_default();
        route.0.extend(prefixes);
        route.1 = receives;
    }
    plan.config_keys = lake.keys("config/").await.unwrap().into_iter().collect();
    let tables = lake
        .glue
        .get_tables()
        .database_name(&lake.names.database)
        .send()
        .await
        .unwrap();
    for table in tables.table_list() {
        let columns = table
            .storage_descriptor()
            .map(|sd| sd.columns())
            .unwrap_or_default()
            .iter()
            .map(|c| (c.name().to_owned(), c.r#type().unwrap_or_default().to_owned()))
            .collect();
        let partitions = table.partition_keys().iter().map(|c| c.name().to_owned()).collect();
        plan.tables.insert(table.name().to_owned(), (columns, partitions));
    }
    for table in connect_lake::schema::TABLES {
        for key in lake.keys(&format!("{}/", table.name)).await.unwrap() {
            plan.layouts
                .entry(table.name.to_owned())
                .or_default()
                .insert(layout_of_key(&key));
            // Firehose names an object `<delivery stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<uuid>`.
            let file = key.rsplit('/').next().unwrap_or_default();
            if table.storage == connect_lake::schema::Storage::Delivered
                && let Some(at) = file.find("-1-20")
            {
                plan.streams.insert(file[..at].to_owned());
                let carriers = plan.carriers.entry(table.name.to_owned()).or_default();
                carriers.insert(file[..at].to_owned());
            }
        }
    }
    plan
}

fn number_or_string(v: &serde_json::Value) -> Option<u64> {
    v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

/// The shared schema as a plan's table entry.
fn schema_table(table: &connect_lake::schema::Table) -> TableShape {
    (
        table
            .columns
            .iter()
            .map(|c| (c.name.to_owned(), c.kind.glue_type()))
            .collect(),
        connect_lake::schema::PARTITION_KEYS
            .iter()
            .map(|c| c.name.to_owned())
            .collect(),
    )
}

/// Where the template and the demo differ, and where either differs from the shared schema.
fn plan_differences(template: &Plan, demo: &Plan) -> Vec<String> {
    let mut out = Vec::new();
    if template.database != demo.database {
        out.push(format!(
            "database: template {:?}, demo {:?}",
            template.database, demo.database
        ));
    }
    for function in template
        .routes
        .keys()
        .chain(demo.routes.keys())
        .collect::<BTreeSet<_>>()
    {
        let (t, d) = (template.routes.get(function), demo.routes.get(function));
        let (t_prefixes, d_prefixes) = (
            t.map(|r| r.0.clone()).unwrap_or_default(),
            d.map(|r| r.0.clone()).unwrap_or_default(),
        );
        for p in t_prefixes.difference(&d_prefixes) {
            out.push(format!("{function}: the template routes {p} to it, the demo does not"));
        }
        for p in d_prefixes.difference(&t_prefixes) {
            out.push(format!("{function}: the demo routes {p} to it, the template does not"));
        }
        let (t_receives, d_receives) = (t.and_then(|r| r.1), d.and_then(|r| r.1));
        if t_receives != d_receives {
            out.push(format!(
                "{function}: its queue's dead-letter redrive after {t_receives:?} receives in the template, {d_receives:?} in the demo"
            ));
        }
    }
    if template.config_keys != demo.config_keys {
        out.push(format!(
            "config objects: template reads {:?}, demo provides {:?}",
            template.config_keys, demo.config_keys
        ));
    }
    let schema: BTreeMap<&str, _> = connect_lake::schema::TABLES
        .iter()
        .map(|t| (t.name, schema_table(t)))
        .collect();
    for (side, plan) in [("template", template), ("demo", demo)] {
        for (name, table) in &plan.tables {
            match schema.get(name.as_str()) {
                None => out.push(format!("{side}: table {name} is not in the shared schema")),
                Some(want) if want != table => out.push(format!(
                    "{side}: table {name}'s columns or partition keys differ from the schema"
                )),
                Some(_) => {}
            }
        }
    }
    for (table, layouts) in &demo.layouts {
        // The template's own prefix for the table; else the transform's, for a table it
        // delivers (declared for its conversion); else the schema's layout.
        let expected: BTreeSet<String> = if let Some(own) = template.layouts.get(table) {
            own.clone()
        } else if template.tables.contains_key(table)
            && let Some(any) = template.layouts.get("{table}")
        {
            any.iter().map(|l| l.replace("{table}", table)).collect()
        } else {
            let values = connect_lake::schema::PartitionValues::for_instant(time::OffsetDateTime::UNIX_EPOCH);
            BTreeSet::from([layout_of_key(&format!("{}x", values.prefix(table)))])
        };
        for layout in layouts.difference(&expected) {
            out.push(format!("{table}: the demo writes {layout}, the template {expected:?}"));
        }
    }
    let schema_layout = format!(
        "{{table}}/{}",
        connect_lake::schema::PARTITION_KEYS
            .iter()
            .map(|c| format!("{}=*/", c.name))
            .collect::<String>()
    );
    for (table, layouts) in &template.layouts {
        for layout in layouts {
            if layout.replacen(table.as_str(), "{table}", 1) != schema_layout {
                out.push(format!(
                    "template: {layout} is not the schema's partition layout {schema_layout}"
                ));
            }
        }
    }
    for stream in demo.streams.difference(&template.streams) {
        out.push(format!(
            "demo: objects written by {stream}, a delivery stream the template does not name"
        ));
    }
    for (table, streams) in &demo.carriers {
        let allowed = template.carriers.get(table).cloned().unwrap_or_default();
        if streams != &allowed {
            out.push(format!(
                "{table}: the demo delivers it on {streams:?}, the template's EXPECTED_TABLES on {allowed:?}"
            ));
        }
    }
    out
}

/// What `lakectl demo` provisions in the emulator (bucket routes to queues with their DLQs, the
/// Glue database, config objects) and what its run leaves there (the cataloger's tables, the
/// object layout, the delivery stream names) are what `template.yaml` provisions, and both agree
/// with the shared schema. The comparison fails on a mutated template and on a mutated plan.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demos_provisioning_matches_the_template() {
    let (emulator, _, _) = demo(40, 11).await;
    let lake = Lake::new(&emulator_config(&emulator).await, LakeNames::default());
    let template = template_check::Template::load().unwrap();
    let expected = template_plan(&template);
    let played = demo_plan(&lake).await;
    // The comparison sees every kind of fact, not an empty plan.
    assert_eq!(played.routes.len(), 2, "{played:?}");
    assert!(played.tables.contains_key("ctr") && played.tables.contains_key("sentiment_turns"));
    assert!(played.layouts.contains_key("fraud_decisions") && !played.streams.is_empty());
    assert_eq!(
        played.carriers.keys().map(String::as_str).collect::<Vec<_>>(),
        ["agent_events", "connect_metrics", "ctr"],
        "{played:?}"
    );
    assert_eq!(expected.config_keys.len(), 2, "{expected:?}");
    assert_eq!(plan_differences(&expected, &played), Vec::<String>::new());

    // A mutated template: a curated prefix no longer routed, agent events expected on another
    // stream, a redrive changed, a column type changed, an hour partition dropped from a delivery
    // prefix.
    let mut mutated = template_check::Template::load().unwrap();
    let resources = mutated.resources_mut().unwrap();
    resources.get_mut("CuratedObjectCreatedRule").unwrap()["Properties"]["EventPattern"]["detail"]["object"]["key"]
        .as_sequence_mut()
        .unwrap()
        .retain(|p| p["prefix"].as_str() != Some("connect_flow_logs/"));
    // Agent events expected on the contact-record stream, as an interleaved stream would carry them.
    resources.get_mut("FirehoseTransformFunction").unwrap()["Properties"]["Environment"]["Variables"]["EXPECTED_TABLES"] =
        template_check::Value::from(
            "${AWS::StackName}-ctr=ctr,${AWS::StackName}-ctr=agent_events,${AWS::StackName}-metrics=connect_metrics",
        );
    resources.get_mut("SentimentEnricherQueue").unwrap()["Properties"]["RedrivePolicy"]["maxReceiveCount"] =
        template_check::Value::Number(3.into());
    resources.get_mut("CtrTable").unwrap()["Properties"]["TableInput"]["StorageDescriptor"]["Columns"][0]["Type"] =
        template_check::Value::from("int");
    // Every transform-partitioned stream (ctr, agent events, metrics) loses its hour.
    for (_, stream) in resources.iter_mut() {
        let prefix = stream
            .get_mut("Properties")
            .and_then(|p| p.get_mut("ExtendedS3DestinationConfiguration"))
            .and_then(|d| d.get_mut("Prefix"));
        if let Some(prefix) = prefix
            && let Some(text) = prefix
                .as_str()
                .filter(|p| p.starts_with("!{partitionKeyFromLambda:table}"))
        {
            *prefix = template_check::Value::from(text.replace("hour=!{partitionKeyFromLambda:hour}/", ""));
        }
    }
    let differences = plan_differences(&template_plan(&mutated), &played);
    for want in [
        "s3-cataloger: the demo routes connect_flow_logs/ to it, the template does not",
        "sentiment-enricher: its queue's dead-letter redrive after Some(3) receives in the template, Some(5) in the demo",
        "template: table ctr's columns or partition keys differ from the schema",
        "ctr: the demo writes ctr/year=*/month=*/day=*/hour=*/",
        "template: {table}/year=*/month=*/day=*/ is not the schema's partition layout",
        "agent_events: the demo delivers it on {\"connect-lake-demo-agent-events\"}, the template's EXPECTED_TABLES on \
         {\"connect-lake-demo-ctr\"}",
    ] {
        assert!(
            differences.iter().any(|d| d.starts_with(want)),
            "{want}\n{differences:#?}"
        );
    }

    // A mutated plan: the emulator loses a route and the fraud policy, and a table a column.
    use aws_sdk_s3::types::{NotificationConfiguration, QueueConfiguration};
    let current = lake
        .s3
        .get_bucket_notification_configuration()
        .bucket(&lake.names.bucket)
        .send()
        .await
        .unwrap();
    let kept: Vec<QueueConfiguration> = current
        .queue_configurations()
        .iter()
        .filter(|c| {
            let rules = c
                .filter()
                .and_then(|f| f.key())
                .map(|k| k.filter_rules())
                .unwrap_or_default();
            !rules.iter().any(|r| r.value() == Some("fraud_decisions/"))
        })
        .cloned()
        .collect();
    lake.s3
        .put_bucket_notification_configuration()
        .bucket(&lake.names.bucket)
        .notification_configuration(
            NotificationConfiguration::builder()
                .set_queue_configurations(Some(kept))
                .build(),
        )
        .send()
        .await
        .unwrap();
    lake.s3
        .delete_object()
        .bucket(&lake.names.bucket)
        .key(&lake.names.policy_key)
        .send()
        .await
        .unwrap();
    let differences = plan_differences(&expected, &demo_plan(&lake).await);
    for want in [
        "s3-cataloger: the template routes fraud_decisions/ to it, the demo does not",
        "config objects: template reads",
    ] {
        assert!(
            differences.iter().any(|d| d.starts_with(want)),
            "{want}\n{differences:#?}"
        );
    }
}
