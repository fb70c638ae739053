//! Helpers shared by the end-to-end tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should say where

use std::path::PathBuf;

use lambda_harness::{binary_path, workspace_root};

/// Runs the project venv's Python (`make tools` installs pyarrow there) with `args`, requires it to
/// succeed, and parses what it printed: a JSON array.
pub fn venv_python_json(args: impl IntoIterator<Item = impl AsRef<std::ffi::OsStr>>) -> Vec<serde_json::Value> {
    let out = std::process::Command::new(workspace_root().join(".venv/bin/python"))
        .args(args)
        .output()
        .expect("the .venv python runs (make tools installs pyarrow)");
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The debug build of a function binary (`make test` builds them before running the tests).
pub fn function_binary(name: &str) -> PathBuf {
    binary_path(name, "debug")
}

/// The request files in `events/<function>/` (not the `expected/` folder), sorted.
pub fn event_files(function: &str) -> Vec<PathBuf> {
    let dir = workspace_root().join("events").join(function);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

/// A 32-byte-plus key for tests.
pub const TEST_PII_KEY: &str = "e2e-test-key-0123456789abcdefghijkl";

/// A bucket `lake` and a Glue database `connect_lake` in the emulator, and clients for both: the
/// empty lake that backfill and query tests start from.
pub async fn empty_lake(
    emulator: &lambda_harness::Emulator,
) -> (aws_config::SdkConfig, aws_sdk_s3::Client, aws_sdk_glue::Client) {
    let config = lakectl::lake::emulator_config(emulator).await;
    let s3 = connect_lake::aws::s3_client(&config);
    let glue = aws_sdk_glue::Client::new(&config);
    s3.create_bucket().bucket("lake").send().await.unwrap();
    glue.create_database()
        .database_input(
            aws_sdk_glue::types::DatabaseInput::builder()
                .name("connect_lake")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    (config, s3, glue)
}

/// The s3-cataloger as the template configures it for a Parquet lake over [`empty_lake`].
pub fn lake_cataloger(config: &aws_config::SdkConfig) -> s3_cataloger::Cataloger {
    s3_cataloger::Cataloger::new(
        aws_sdk_glue::Client::new(config),
        s3_cataloger::Config {
            lake_bucket: "lake".into(),
            database: "connect_lake".into(),
            format: connect_lake::config::LakeFormat::Parquet,
            metrics_namespace: "ConnectLake".into(),
        },
    )
}

/// `rows` as a delivery stream writes a JSON table's object (gzip, one JSON document a line) at
/// `key` in [`empty_lake`]'s bucket, then cataloged as the s3-cataloger does on its notification.
pub async fn put_and_catalog(
    config: &aws_config::SdkConfig,
    s3: &aws_sdk_s3::Client,
    key: &str,
    rows: &[serde_json::Value],
) {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    for row in rows {
        serde_json::to_writer(&mut gz, row).unwrap();
        std::io::Write::write_all(&mut gz, b"\n").unwrap();
    }
    s3.put_object()
        .bucket("lake")
        .key(key)
        .body(gz.finish().unwrap().into())
        .send()
        .await
        .unwrap();
    let event = serde_json::json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": "lake"}, "object": {"key": key, "size": 1}}}]});
    lake_cataloger(config).process(&event).await.0.unwrap();
}

/// The latest copy of each of `contacts` generated contacts (seed `seed`), as a JSON-lines file
/// in a fresh folder named after `label`. Returns the folder and the file.
pub fn contacts_file(label: &str, contacts: usize, seed: u64) -> (PathBuf, PathBuf) {
    use lakectl::generate::{Generator, TrafficOptions};
    let traffic = Generator::new(seed).traffic(&TrafficOptions::new(contacts, seed));
    let dir = std::env::temp_dir().join(format!("connect-lake-{label}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("contacts.jsonl");
    let body: Vec<u8> = traffic
        .ctrs
        .iter()
        .filter(|c| c.latest)
        .flat_map(|c| c.json.iter().copied().chain(*b"\n"))
        .collect();
    std::fs::write(&input, body).unwrap();
    (dir, input)
}

/// Backfill options for the test lake of [`empty_lake`], Parquet unless the catalog says
/// otherwise.
pub fn backfill_options(dir: &std::path::Path, input: PathBuf) -> lakectl::backfill::BackfillOptions {
    lakectl::backfill::BackfillOptions {
        inputs: vec![input],
        bucket: "lake".into(),
        database: "connect_lake".into(),
        format: connect_lake::config::LakeFormat::Parquet,
        format_requested: false,
        errors_path: dir.join("errors.jsonl"),
        manifest_key: "_backfill/manifest.json".into(),
        pii_key: "backfill-test-key-0123456789abcdefghij".into(),
        progress: false,
        target_bytes: lakectl::backfill::DEFAULT_TARGET_BYTES,
        replace: false,
        keep_raw_errors: false,
        work_dir: None,
        progress_every: lakectl::backfill::DEFAULT_PROGRESS_EVERY,
    }
}
