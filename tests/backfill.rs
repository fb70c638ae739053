//! `lakectl backfill` against the emulator: a gzip file with good and bad lines, loaded twice.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should say where

use std::io::Write;

use connect_lake::config::LakeFormat;
use lakectl::backfill::{Backfill, BackfillOptions};
use lakectl::generate::{Generator, TrafficOptions};
use lambda_harness::Emulator;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_loads_good_records_reports_bad_ones_and_a_rerun_adds_nothing() {
    let emulator = Emulator::start().await.expect("moto starts");
    let (config, s3, glue) = connect_lake_e2e::empty_lake(&emulator).await;

    let traffic = Generator::new(3).traffic(&TrafficOptions::new(120, 3));
    let mut lines: Vec<Vec<u8>> = traffic
        .ctrs
        .iter()
        .filter(|c| c.latest)
        .map(|c| c.json.clone())
        .collect();
    lines.insert(5, b"this is not json".to_vec());
    lines.insert(50, b"{\"Channel\":\"VOICE\"}".to_vec());
    lines.insert(90, b"[1,2,3]".to_vec());
    let dir = std::env::temp_dir().join(format!("connect-lake-backfill-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("history.jsonl.gz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    for l in &lines {
        gz.write_all(l).unwrap();
        gz.write_all(b"\n").unwrap();
    }
    std::fs::write(&input, gz.finish().unwrap()).unwrap();
    let errors = dir.join("errors.jsonl");
    let _ = std::fs::remove_file(&errors);
    let options = BackfillOptions {
        inputs: vec![input.clone()],
        bucket: "lake".into(),
        database: "connect_lake".into(),
        format: LakeFormat::Json,
        format_requested: true,
        errors_path: errors.clone(),
        manifest_key: "_backfill/manifest.json".into(),
        pii_key: "backfill-test-key-0123456789abcdefghij".into(),
        progress: false,
    };

    let first = Backfill::new(&config, options.clone()).unwrap().run().await.unwrap();
    assert_eq!(first.files_done, 1);
    assert_eq!(first.records, 123);
    assert_eq!(first.ok, 120);
    assert_eq!(first.failed, 3);
    let reasons: Vec<serde_json::Value> = std::fs::read_to_string(&errors)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut codes: Vec<&str> = reasons.iter().map(|r| r["reason"].as_str().unwrap()).collect();
    codes.sort_unstable();
    assert_eq!(codes, ["missing_contact_id", "not_an_object", "not_json"]);
    assert_eq!(
        reasons.iter().map(|r| r["record"].as_u64().unwrap()).min(),
        Some(6),
        "1-based record numbers"
    );

    let objects_after_first = ctr_keys(&s3).await.len();
    let partitions = glue
        .get_partitions()
        .database_name("connect_lake")
        .table_name("ctr")
        .send()
        .await
        .unwrap();
    assert!(!partitions.partitions().is_empty());
    assert_eq!(first.partitions_created as usize, partitions.partitions().len());
    let table = glue
        .get_table()
        .database_name("connect_lake")
        .name("ctr")
        .send()
        .await
        .unwrap();
    let serde = table
        .table()
        .and_then(|t| t.storage_descriptor())
        .and_then(|sd| sd.serde_info())
        .and_then(|s| s.serialization_library());
    assert_eq!(serde, Some("org.openx.data.jsonserde.JsonSerDe"));

    let second = Backfill::new(&config, options).unwrap().run().await.unwrap();
    assert_eq!(second.files_skipped, 1);
    assert_eq!(second.records, 0, "the manifest says the file is done");
    let objects_after_second = ctr_keys(&s3).await.len();
    assert_eq!(objects_after_first, objects_after_second);
    assert_eq!(
        std::fs::read_to_string(&errors).unwrap().lines().count(),
        3,
        "nothing new in the errors file"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A backfill into a Parquet lake writes Parquet (the catalog's format), is visible to the SQL
/// engine through Glue, and re-running it adds nothing; asking for JSON afterwards is refused
/// before anything is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parquet_backfill_is_queryable_and_a_json_backfill_into_it_is_refused() {
    let emulator = Emulator::start().await.expect("moto starts");
    let (config, s3, _glue) = connect_lake_e2e::empty_lake(&emulator).await;
    let (dir, input) = connect_lake_e2e::contacts_file("backfill-parquet", 80, 11);
    let options = connect_lake_e2e::backfill_options(&dir, input);
    let first = Backfill::new(&config, options.clone()).unwrap().run().await.unwrap();
    assert_eq!((first.ok, first.failed), (80, 0));
    let keys = ctr_keys(&s3).await;
    assert!(
        !keys.is_empty() && keys.iter().all(|k| k.ends_with(".parquet")),
        "{keys:?}"
    );

    let lake = lake_query::LakeQuery::connect(&config, "connect_lake").await.unwrap();
    let result = lake
        .sql("SELECT count(*) AS n, count(DISTINCT contact_id) AS ids, min(initiation_timestamp) AS first FROM ctr")
        .await
        .unwrap();
    let rows: Vec<serde_json::Value> = serde_json::from_str(&result.to_json().unwrap()).unwrap();
    assert_eq!(rows[0]["n"], 80, "{rows:?}");
    assert_eq!(rows[0]["ids"], 80);
    assert!(rows[0]["first"].as_str().unwrap().starts_with("2026-03-08"), "{rows:?}");

    let again = Backfill::new(&config, options.clone()).unwrap().run().await.unwrap();
    assert_eq!((again.files_skipped, again.objects), (1, 0), "a rerun adds nothing");

    // The same data asked for as JSON into the Parquet table: refused, nothing written.
    let json_input = dir.join("more.jsonl");
    let more = Generator::new(11).traffic(&TrafficOptions::new(1, 11));
    std::fs::write(&json_input, &more.ctrs[0].json).unwrap();
    let refused = Backfill::new(
        &config,
        BackfillOptions {
            inputs: vec![json_input],
            format: LakeFormat::Json,
            format_requested: true,
            ..options
        },
    )
    .unwrap()
    .run()
    .await
    .unwrap_err()
    .to_string();
    assert!(
        refused.contains("exists in Glue") && refused.contains("Nothing was written"),
        "{refused}"
    );
    let after = ctr_keys(&s3).await.len();
    assert_eq!(after, keys.len(), "no object added");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The keys under `ctr/` in the test lake.
async fn ctr_keys(s3: &aws_sdk_s3::Client) -> Vec<String> {
    s3.list_objects_v2()
        .bucket("lake")
        .prefix("ctr/")
        .send()
        .await
        .unwrap()
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect()
}
