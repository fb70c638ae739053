//! `lakectl backfill` against the emulator: good and bad records and inputs, loaded twice; objects
//! per partition; bounded memory on a large input; a run killed mid-file and rerun; the raw
//! backup re-curated with `--replace`.
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
        target_bytes: lakectl::backfill::DEFAULT_TARGET_BYTES,
        replace: false,
        keep_raw_errors: false,
        work_dir: None,
        progress_every: lakectl::backfill::DEFAULT_PROGRESS_EVERY,
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
    for r in &reasons {
        assert!(r["offset"].is_u64() && r["sha256"].as_str().unwrap().len() == 64, "{r}");
        assert!(r.get("data").is_none(), "no raw record without --keep-raw-errors: {r}");
    }
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&errors).unwrap().permissions().mode() & 0o777, 0o600);

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

/// Every key under `prefix` in the test lake, with its size.
async fn keys_with_sizes(s3: &aws_sdk_s3::Client, prefix: &str) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket("lake")
            .prefix(prefix)
            .set_continuation_token(token)
            .send()
            .await
            .unwrap();
        out.extend(
            page.contents()
                .iter()
                .map(|o| (o.key().unwrap().to_owned(), o.size().unwrap_or(0))),
        );
        token = page.next_continuation_token().map(str::to_owned);
        if token.is_none() {
            return out;
        }
    }
}

/// The contact ids of every row of the JSON-lines `ctr` table, read object by object.
async fn json_contact_ids(s3: &aws_sdk_s3::Client) -> Vec<String> {
    let mut ids = Vec::new();
    for (key, _) in keys_with_sizes(s3, "ctr/").await {
        let body = s3.get_object().bucket("lake").key(&key).send().await.unwrap();
        let bytes = body.body.collect().await.unwrap().into_bytes();
        for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let row: serde_json::Value = serde_json::from_slice(line).unwrap();
            ids.push(row["contact_id"].as_str().unwrap().to_owned());
        }
    }
    ids
}

/// The partition folder of a key (everything up to the last `/`).
fn partition_of(key: &str) -> &str {
    &key[..=key.rfind('/').unwrap()]
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// `lakectl backfill` as a user runs it: the real binary, configured by the environment.
fn lakectl_backfill(emulator: &Emulator, args: &[&std::ffi::OsStr]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(connect_lake_e2e::function_binary("lakectl"));
    cmd.arg("backfill")
        .args(["--bucket", "lake", "--database", "connect_lake", "--no-progress"])
        .args(args)
        .envs(emulator.env())
        .env("PII_TOKEN_KEY", "backfill-test-key-0123456789abcdefghij")
        .env_remove("AWS_PROFILE")
        .env_remove("LAKE_FORMAT")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    cmd
}

/// Rows from many Firehose-sized batches are grouped by partition: with a rollover size, each
/// partition holds at most ⌈its row bytes / target⌉ objects; with the default size, exactly one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_batch_input_writes_one_object_per_partition_per_rollover() {
    let emulator = Emulator::start().await.expect("moto starts");
    let (config, s3, _glue) = connect_lake_e2e::empty_lake(&emulator).await;
    // 2,000 contacts over one day: four 500-record batches, 24 hourly partitions.
    let (dir, input) = connect_lake_e2e::contacts_file("backfill-rollover", 2000, 21);
    let target = 64 * 1024;
    let options = BackfillOptions {
        format: LakeFormat::Json,
        format_requested: true,
        target_bytes: target,
        ..connect_lake_e2e::backfill_options(&dir, input.clone())
    };
    let report = Backfill::new(&config, options).unwrap().run().await.unwrap();
    assert_eq!((report.records, report.ok), (2000, 2000));
    let objects = keys_with_sizes(&s3, "ctr/").await;
    assert_eq!(objects.len() as u64, report.objects);
    let mut per_partition: std::collections::BTreeMap<&str, (u64, i64)> = Default::default();
    for (key, size) in &objects {
        assert!(key.contains(&format!("backfill-{}-", report.run)), "{key}");
        let e = per_partition.entry(partition_of(key)).or_default();
        e.0 += 1;
        e.1 += size;
    }
    assert_eq!(per_partition.len() as u64, report.partitions);
    assert!(per_partition.len() >= 20, "{per_partition:?}");
    for (partition, (count, bytes)) in &per_partition {
        // JSON-lines objects hold the rows as they are: their sizes are the partition's bytes.
        let bound = (*bytes as u64).div_ceil(target);
        assert!(*count <= bound, "{partition}: {count} objects for {bytes} bytes");
    }
    assert!(
        per_partition.values().any(|(count, _)| *count > 1),
        "some partitions roll over"
    );
    let mut ids = json_contact_ids(&s3).await;
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 2000, "every contact once");

    // The default rollover (128 MB) on Parquet: one object per partition, all rows readable.
    emulator.reset().await.unwrap();
    let (config, s3, _glue) = connect_lake_e2e::empty_lake(&emulator).await;
    let options = connect_lake_e2e::backfill_options(&dir, input);
    let report = Backfill::new(&config, options).unwrap().run().await.unwrap();
    let objects = keys_with_sizes(&s3, "ctr/").await;
    let partitions: std::collections::BTreeSet<&str> = objects.iter().map(|(k, _)| partition_of(k)).collect();
    assert_eq!(objects.len(), partitions.len(), "one object per partition");
    assert_eq!(report.objects as usize, objects.len());
    assert!(objects.iter().all(|(k, _)| k.ends_with(".parquet")));
    let lake = lake_query::LakeQuery::connect(&config, "connect_lake").await.unwrap();
    let result = lake
        .sql("SELECT count(*) AS n, count(DISTINCT contact_id) AS ids FROM ctr")
        .await
        .unwrap();
    let rows: Vec<serde_json::Value> = serde_json::from_str(&result.to_json().unwrap()).unwrap();
    assert_eq!(
        (rows[0]["n"].as_u64(), rows[0]["ids"].as_u64()),
        (Some(2000), Some(2000))
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The backfill process is killed (SIGKILL) part way through its inputs, after it has written
/// objects and recorded a checkpoint; the rerun goes on from the checkpoint (the inputs finished
/// before it are not read again) and finishes the same run under the same keys: every contact
/// exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backfill_killed_mid_file_resumes_without_duplicates_or_loss() {
    let emulator = Emulator::start().await.expect("moto starts");
    let (config, s3, _glue) = connect_lake_e2e::empty_lake(&emulator).await;
    let dir = std::env::temp_dir().join(format!("connect-lake-backfill-crash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Three inputs over the same two days: their rows share partitions, hence objects.
    let inputs: Vec<std::path::PathBuf> = (0..3)
        .map(|i| {
            let input = dir.join(format!("history-{i}.jsonl.gz"));
            lakectl::backfill::bench::write_contacts(&input, 2000, 2, 9 + i).unwrap();
            input
        })
        .collect();
    let contacts = 6000;
    let errors = dir.join("errors.jsonl");

    let mut child = lakectl_backfill(
        &emulator,
        &[
            "--format".as_ref(),
            "json".as_ref(),
            "--target-size".as_ref(),
            "16K".as_ref(),
            // Progress recorded every second, so the kill lands mid-run on a fast machine too.
            "--progress-every".as_ref(),
            "1".as_ref(),
            "--errors".as_ref(),
            errors.as_os_str(),
            inputs[0].as_os_str(),
            inputs[1].as_os_str(),
            inputs[2].as_os_str(),
        ],
    )
    .spawn()
    .unwrap();
    // Wait until the run has saved a checkpoint after an input, with objects written, then kill it.
    let backfill = Backfill::new(
        &config,
        BackfillOptions {
            format: LakeFormat::Json,
            format_requested: true,
            target_bytes: 16 * 1024,
            errors_path: errors.clone(),
            inputs: inputs.clone(),
            ..connect_lake_e2e::backfill_options(&dir, inputs[0].clone())
        },
    )
    .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    loop {
        assert!(std::time::Instant::now() < deadline, "no progress saved in time");
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the backfill ended before it could be killed: {status}");
        }
        let manifest = backfill.manifest().await.unwrap();
        if manifest
            .run
            .as_ref()
            .is_some_and(|r| r.written.len() >= 20 && r.checkpoint.as_ref().is_some_and(|c| !c.done.is_empty()))
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    child.start_kill().unwrap();
    let status = child.wait().await.unwrap();
    assert!(!status.success(), "killed, not finished: {status}");
    let at_kill = backfill.manifest().await.unwrap();
    let interrupted = at_kill.run.clone().expect("the run is recorded as unfinished");
    assert!(at_kill.files.is_empty(), "the input is not marked done");
    let written_at_kill = keys_with_sizes(&s3, "ctr/").await.len();
    assert!(written_at_kill >= interrupted.written.len());

    let report = backfill.run().await.unwrap();
    assert_eq!(report.run, interrupted.id, "the rerun is the same run");
    assert!(report.objects_resumed >= 20, "{report:?}");
    let finished = interrupted.checkpoint.as_ref().map_or(0, |c| c.done.len());
    assert!(
        report.inputs_resumed == finished as u64 && (1..3).contains(&finished),
        "inputs finished before the checkpoint are not read again: {report:?}"
    );
    assert_eq!(report.files_done, 3);
    assert_eq!((report.records, report.ok), (contacts as u64, contacts as u64));
    let keys = keys_with_sizes(&s3, "ctr/").await;
    assert_eq!(keys.len() as u64, report.objects, "no object beyond the run's own");
    let mut ids = json_contact_ids(&s3).await;
    assert_eq!(ids.len(), contacts, "no duplicate and no loss");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), contacts);
    let manifest = backfill.manifest().await.unwrap();
    assert!(manifest.run.is_none() && manifest.files.len() == 3, "{manifest:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A gzip input much larger than the process's memory limit (256 MB resident) streams through:
/// the child's peak resident memory, read from /proc while it runs and reported by the process
/// itself, stays under the limit and under the input's size, and every row arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_gzip_input_streams_in_bounded_memory() {
    const LIMIT_KIB: u64 = 256 * 1024;
    let emulator = Emulator::start().await.expect("moto starts");
    let (_config, _s3, glue) = connect_lake_e2e::empty_lake(&emulator).await;
    let dir = std::env::temp_dir().join(format!("connect-lake-backfill-memory-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("large.jsonl.gz");
    let (contacts, _days, raw, gz) =
        lakectl::backfill::bench::write_at_least(&input, LIMIT_KIB * 1024 + (16 << 20), 4000, 17).unwrap();
    assert!(
        raw > LIMIT_KIB * 1024 && gz < raw / 4,
        "{raw} bytes uncompressed, {gz} gzipped"
    );
    let errors = dir.join("errors.jsonl");
    let mut child = lakectl_backfill(
        &emulator,
        &[
            "--format".as_ref(),
            "parquet".as_ref(),
            "--errors".as_ref(),
            errors.as_os_str(),
            "--work-dir".as_ref(),
            dir.as_os_str(),
            input.as_os_str(),
        ],
    )
    .spawn()
    .unwrap();
    let pid = child.id().unwrap();
    let mut polled_peak = 0;
    let status = loop {
        if let Some(kib) = lambda_harness::peak_rss_kib(pid) {
            polled_peak = polled_peak.max(kib);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    let out = child.wait_with_output().await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let reported_mb: f64 = stdout
        .split("peak memory ")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no peak in {stdout}"));
    let reported_kib = (reported_mb * 1024.0) as u64;
    assert!(
        polled_peak > 0 && reported_kib + 1024 >= polled_peak,
        "{polled_peak} KiB polled, {reported_mb} MB reported"
    );
    assert!(
        reported_kib < LIMIT_KIB,
        "peak {reported_mb} MB for a {:.0} MB input",
        raw as f64 / 1e6
    );
    assert!(
        stdout.contains(&format!("{contacts} records: {contacts} Ok")),
        "{stdout}"
    );
    // The catalog sees every partition the rows landed in.
    let partitions = glue
        .get_partitions()
        .database_name("connect_lake")
        .table_name("ctr")
        .send()
        .await
        .unwrap();
    assert!(!partitions.partitions().is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Bad inputs of every kind in one run, beside Firehose's raw backup read straight from S3: each
/// is a line in the errors file with its reason and position (no raw record unless asked), and
/// every good record before, between and after them is loaded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_inputs_are_counted_in_the_errors_file_and_nothing_else_is_lost() {
    let emulator = Emulator::start().await.expect("moto starts");
    let (config, s3, _glue) = connect_lake_e2e::empty_lake(&emulator).await;
    let dir = std::env::temp_dir().join(format!("connect-lake-backfill-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let traffic = Generator::new(31).traffic(&TrafficOptions::new(300, 31));
    let latest: Vec<&[u8]> = traffic
        .ctrs
        .iter()
        .filter(|c| c.latest)
        .map(|c| c.json.as_slice())
        .collect();
    let (a, rest) = latest.split_at(100);
    let (b, c) = rest.split_at(100);

    // A gzip file cut short: the records it still holds load, the cut is reported.
    let whole = gzip(
        &a.iter()
            .flat_map(|r| r.iter().copied().chain(*b"\n"))
            .collect::<Vec<u8>>(),
    );
    let truncated = dir.join("truncated.jsonl.gz");
    std::fs::write(&truncated, &whole[..whole.len() * 3 / 4]).unwrap();
    // JSON lines with a line that is not JSON and records of the wrong shape.
    let mut lines: Vec<&[u8]> = b.to_vec();
    lines.insert(10, b"this line is not json, call +1 206 555 0100");
    lines.insert(20, br#"{"Channel":"VOICE"}"#);
    lines.insert(30, b"[1,2,3]");
    let mixed = dir.join("mixed.jsonl");
    std::fs::write(&mixed, lines.join(&b"\n"[..])).unwrap();
    // The raw backup: records back to back, no separator, gzip; and one archived object that
    // GetObject refuses (InvalidObjectState), as a raw object in Deep Archive does.
    s3.put_object()
        .bucket("lake")
        .key("raw/ctr/year=2026/month=03/day=08/hour=10/backup-1.gz")
        .body(gzip(&c.concat()).into())
        .send()
        .await
        .unwrap();
    s3.put_object()
        .bucket("lake")
        .key("raw/ctr/year=2026/month=03/day=08/hour=11/backup-2.gz")
        .storage_class(aws_sdk_s3::types::StorageClass::DeepArchive)
        .body(gzip(a[0]).into())
        .send()
        .await
        .unwrap();

    let errors = dir.join("errors.jsonl");
    let options = BackfillOptions {
        inputs: vec![truncated.clone(), mixed.clone(), "s3://lake/raw/ctr/".into()],
        errors_path: errors.clone(),
        ..connect_lake_e2e::backfill_options(&dir, truncated.clone())
    };
    let report = Backfill::new(&config, options.clone()).unwrap().run().await.unwrap();
    assert_eq!((report.files_done, report.files_failed), (3, 1), "{report:?}");
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&errors)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let reason = |r: &str| lines.iter().filter(|l| l["reason"] == r).collect::<Vec<_>>();
    let cut = reason("truncated_gzip");
    assert_eq!(cut.len(), 1, "{lines:?}");
    assert_eq!(cut[0]["input"], "truncated.jsonl.gz");
    let loaded_from_cut = cut[0]["records_before"].as_u64().unwrap();
    assert!(loaded_from_cut > 10 && loaded_from_cut < 100, "{}", cut[0]);
    assert!(cut[0]["compressed_offset"].as_u64().unwrap() > 0);
    let unreadable = reason("unreadable_object");
    assert_eq!(unreadable.len(), 1, "{lines:?}");
    assert_eq!(unreadable[0]["detail"], "InvalidObjectState");
    assert!(unreadable[0]["input"].as_str().unwrap().ends_with("backup-2.gz"));
    for (code, record) in [("not_json", 11), ("missing_contact_id", 21), ("not_an_object", 31)] {
        let found = reason(code);
        assert_eq!(found.len(), 1, "{code}: {lines:?}");
        assert_eq!(found[0]["input"], "mixed.jsonl");
        assert_eq!(found[0]["record"], record, "{code}");
        assert!(found[0]["offset"].as_u64().unwrap() > 0);
        assert!(found[0].get("data").is_none());
    }
    let text = std::fs::read_to_string(&errors).unwrap();
    assert!(
        !text.contains("206 555 0100"),
        "no raw record without --keep-raw-errors"
    );
    // Every record that decoded whole before the cut is loaded (a record cut in half fails).
    let expected = loaded_from_cut as usize + 100 + 100;
    assert_eq!(report.ok as usize, expected, "{report:?}");
    let lake = lake_query::LakeQuery::connect(&config, "connect_lake").await.unwrap();
    let result = lake
        .sql("SELECT count(*) AS n, count(DISTINCT contact_id) AS ids FROM ctr")
        .await
        .unwrap();
    let rows: Vec<serde_json::Value> = serde_json::from_str(&result.to_json().unwrap()).unwrap();
    assert_eq!(rows[0]["n"].as_u64(), Some(expected as u64));
    assert_eq!(rows[0]["ids"].as_u64(), Some(expected as u64));

    // A rerun skips the three finished inputs and retries only the unreadable object.
    let again = Backfill::new(&config, options.clone()).unwrap().run().await.unwrap();
    assert_eq!((again.files_skipped, again.files_failed, again.objects), (3, 1, 0));

    // Asked for, the raw record is kept.
    let raw_errors = dir.join("raw-errors.jsonl");
    let keep = dir.join("keep.jsonl");
    std::fs::write(&keep, b"not json either, +1 206 555 0199\n").unwrap();
    Backfill::new(
        &config,
        BackfillOptions {
            inputs: vec![keep],
            errors_path: raw_errors.clone(),
            keep_raw_errors: true,
            ..options
        },
    )
    .unwrap()
    .run()
    .await
    .unwrap();
    let kept = std::fs::read_to_string(&raw_errors).unwrap();
    assert!(kept.contains("206 555 0199") && kept.contains("\"data\""), "{kept}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Re-curation from the raw backup: without `--replace` the new objects land beside the old
/// ones (nothing is deleted silently); with it, the run's partitions keep only its own objects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn re_curating_from_the_raw_backup_replaces_only_when_asked() {
    let emulator = Emulator::start().await.expect("moto starts");
    let (config, s3, _glue) = connect_lake_e2e::empty_lake(&emulator).await;
    let (dir, input) = connect_lake_e2e::contacts_file("backfill-replace", 300, 41);
    let body = std::fs::read(&input).unwrap();
    let records: Vec<&[u8]> = body.split(|b| *b == b'\n').filter(|l| !l.is_empty()).collect();
    for (i, part) in records.chunks(120).enumerate() {
        s3.put_object()
            .bucket("lake")
            .key(format!("raw/ctr/year=2026/month=03/day=08/hour=0{i}/part-{i}.gz"))
            .body(gzip(&part.concat()).into())
            .send()
            .await
            .unwrap();
    }
    let options = BackfillOptions {
        format: LakeFormat::Json,
        format_requested: true,
        ..connect_lake_e2e::backfill_options(&dir, input)
    };
    let first = Backfill::new(&config, options.clone()).unwrap().run().await.unwrap();
    let first_keys: Vec<String> = keys_with_sizes(&s3, "ctr/").await.into_iter().map(|(k, _)| k).collect();
    assert_eq!(first.objects as usize, first_keys.len());

    let raw = BackfillOptions {
        inputs: vec!["s3://lake/raw/ctr/".into()],
        ..options
    };
    let beside = Backfill::new(&config, raw.clone()).unwrap().run().await.unwrap();
    assert_eq!((beside.files_done, beside.objects_replaced), (3, 0));
    assert_eq!(json_contact_ids(&s3).await.len(), 600, "both copies, nothing deleted");

    let replaced = Backfill::new(&config, BackfillOptions { replace: true, ..raw })
        .unwrap()
        .run()
        .await
        .unwrap();
    assert_eq!(
        replaced.files_done, 3,
        "--replace loads inputs the manifest already has"
    );
    assert_eq!(replaced.run, beside.run, "the same inputs and options: the same keys");
    assert_eq!(replaced.objects_replaced as usize, first_keys.len());
    let keys = keys_with_sizes(&s3, "ctr/").await;
    assert!(keys.iter().all(|(k, _)| k.contains(&replaced.run)), "{keys:?}");
    let mut ids = json_contact_ids(&s3).await;
    assert_eq!(ids.len(), 300);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 300);
    let _ = std::fs::remove_dir_all(&dir);
}
