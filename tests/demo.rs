//! A small `lakectl demo` end to end: every real function binary behind its Runtime API, against
//! the local emulator. Every generated contact is in the lake or accounted for as failed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should say where

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
    assert_eq!(
        report.named_queries.len(),
        6,
        "every named query on the tables the demo feeds ran"
    );
    let skipped: Vec<(&str, &[&str])> = report
        .named_queries_skipped
        .iter()
        .map(|s| (s.name.as_str(), s.missing_tables.as_slice()))
        .collect();
    assert_eq!(
        skipped,
        [
            ("queue-peaks-by-hour", &["connect_metrics"][..]),
            ("flow-errors-by-day", &["connect_flow_logs", "connect_metrics"][..]),
        ],
        "only the telemetry queries are not run, each naming the tables the demo does not feed"
    );
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

/// pyarrow, not our reader, opens every Parquet object the demo wrote: its columns and types are
/// the Glue table's, the objects are Snappy, and the rows are the rows delivered.
async fn assert_pyarrow_reads_the_glue_schema(emulator: &Emulator, report: &DemoReport) {
    let config = emulator_config(emulator).await;
    let lake = Lake::new(&config, LakeNames::default());
    let dir = tempdir();
    let mut paths = Vec::new();
    for prefix in ["ctr/", "agent_events/"] {
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
    let python = lambda_harness::workspace_root().join(".venv/bin/python");
    let script = lambda_harness::workspace_root().join("tests/python/read_parquet.py");
    let out = std::process::Command::new(&python)
        .arg(&script)
        .args(paths.iter().map(|(_, p)| p))
        .output()
        .expect("the .venv python runs (make tools installs pyarrow)");
    assert!(
        out.status.success(),
        "pyarrow failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let files: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
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
    for (table, rows) in &rows_per_table {
        assert_eq!(
            Some(rows),
            report.delivery.rows_per_table.get(table),
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
    let out = std::process::Command::new(lambda_harness::workspace_root().join(".venv/bin/python"))
        .arg("-c")
        .arg(READ)
        .args(&paths)
        .output()
        .expect("the .venv python runs (make tools installs pyarrow)");
    assert!(
        out.status.success(),
        "pyarrow: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
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
        let want_recordings: Vec<(&str, &str, &str)> = sent["Recordings"]
            .as_array()
            .map(|all| {
                all.iter()
                    .map(|r| {
                        (
                            r["Location"].as_str().unwrap(),
                            r["MediaStreamType"].as_str().unwrap(),
                            r["StorageType"].as_str().unwrap(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let got_recordings: Vec<(&str, &str, &str)> = row["recordings"]
            .as_array()
            .map(|all| {
                all.iter()
                    .map(|r| {
                        (
                            r["location"].as_str().unwrap(),
                            r["media_stream_type"].as_str().unwrap(),
                            r["storage_type"].as_str().unwrap(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
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
const SPLIT_CONTACTS: usize = 777;
const SPLIT_SEED: u64 = 42;

async fn demo(contacts: usize, seed: u64) -> (Emulator, DemoOptions, DemoReport) {
    let emulator = Emulator::start().await.expect("moto starts");
    let bin_dir = function_binary("firehose-transform").parent().unwrap().to_owned();
    let opts = DemoOptions {
        progress: false,
        bin_dir: Some(bin_dir),
        ..DemoOptions::scaled(contacts, seed)
    };
    let report = run_on(&opts, &emulator).await.expect("demo runs clean");
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
