//! `lakectl query` as a user runs it: the real binary, configured only by the environment
//! (`AWS_ENDPOINT_URL` at the local emulator), against a lake built by `lakectl backfill`.
//! Good queries print rows and exit 0; bad input exits non-zero with a message that says what
//! is wrong.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should say where

use std::process::Output;

use connect_lake_e2e::function_binary;
use lakectl::backfill::{Backfill, BackfillOptions};
use lambda_harness::Emulator;

/// `lakectl query --database connect_lake ARGS`, configured only by the environment.
fn query_command(emulator: &Emulator, args: &[&str]) -> std::process::Command {
    let mut command = std::process::Command::new(function_binary("lakectl"));
    command
        .args(["query", "--database", "connect_lake"])
        .args(args)
        .env("AWS_ENDPOINT_URL", emulator.endpoint())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_PROFILE");
    command
}

fn lakectl(emulator: &Emulator, args: &[&str]) -> Output {
    query_command(emulator, args).output().expect("lakectl runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lakectl_query_answers_good_sql_and_named_queries_and_refuses_bad_input_clearly() {
    let emulator = Emulator::start().await.expect("moto starts");
    let (config, s3, _glue) = connect_lake_e2e::empty_lake(&emulator).await;
    let (dir, input) = connect_lake_e2e::contacts_file("query-cli", 60, 5);
    let options = BackfillOptions {
        format_requested: true,
        ..connect_lake_e2e::backfill_options(&dir, input)
    };
    Backfill::new(&config, options).unwrap().run().await.unwrap();

    let ok = lakectl(&emulator, &["--output", "csv", "SELECT count(*) AS contacts FROM ctr"]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert_eq!(String::from_utf8_lossy(&ok.stdout).trim(), "contacts\n60");

    // A reader that stops early (`| head`) closes the pipe before the rows arrive: the output
    // ends quietly with exit 0, not a panic (exit 101).
    let mut early = query_command(&emulator, &["SELECT * FROM ctr"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("lakectl runs");
    drop(early.stdout.take());
    let early = early.wait_with_output().unwrap();
    assert!(!stderr(&early).contains("panicked"), "{}", stderr(&early));
    assert!(early.status.success(), "{:?} {}", early.status, stderr(&early));

    let named = lakectl(
        &emulator,
        &[
            "--output",
            "json",
            "--named",
            "average-handle-time-by-queue",
            "--month",
            "2026-03",
        ],
    );
    assert!(named.status.success(), "{}", stderr(&named));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&named.stdout).unwrap();
    assert!(
        !rows.is_empty() && rows.iter().all(|r| r["queue_name"].is_string()),
        "{rows:?}"
    );
    let other_month = lakectl(
        &emulator,
        &[
            "--output",
            "json",
            "--named",
            "average-handle-time-by-queue",
            "--month",
            "2026-04",
        ],
    );
    assert!(other_month.status.success());
    assert_eq!(
        serde_json::from_slice::<Vec<serde_json::Value>>(&other_month.stdout)
            .unwrap()
            .len(),
        0,
        "the month parameters prune to that month"
    );

    for (args, expect) in [
        (vec!["SELEC count(*) FROM ctr"], "syntax"),
        (vec!["SELECT count(*) FROM ctrs"], "ctrs"),
        (vec!["SELECT no_such_column FROM ctr"], "no_such_column"),
        (vec!["--named", "no-such-query", "--month", "2026-03"], "no-such-query"),
        (vec!["--named", "abandonment-by-queue", "--month", "2026-3"], "YYYY-MM"),
        (vec!["--named", "abandonment-by-queue"], "takes 2"),
    ] {
        let out = lakectl(&emulator, &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(expect), "{args:?}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{args:?} prints no partial result");
    }
    for args in [vec![], vec!["--output", "xml", "SELECT 1"], vec!["--bogus"]] {
        let out = lakectl(&emulator, &args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?} is a usage error: {}",
            stderr(&out)
        );
    }

    // A corrupt object in a registered partition: the query fails and names the object.
    let partition = s3
        .list_objects_v2()
        .bucket("lake")
        .prefix("ctr/")
        .send()
        .await
        .unwrap()
        .contents()[0]
        .key()
        .unwrap()
        .rsplit_once('/')
        .unwrap()
        .0
        .to_owned();
    let corrupt = format!("{partition}/corrupt.parquet");
    s3.put_object()
        .bucket("lake")
        .key(&corrupt)
        .body(b"PAR1 this is not parquet".to_vec().into())
        .send()
        .await
        .unwrap();
    let out = lakectl(&emulator, &["SELECT count(*) FROM ctr"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("corrupt.parquet"), "{}", stderr(&out));
    let _ = std::fs::remove_dir_all(&dir);
}
