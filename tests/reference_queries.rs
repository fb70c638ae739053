//! The managed-lake views (`views/*.sql`) on a demo lake: metric queries written from AWS's
//! documented definitions ("Reference queries for the Connect Customer data lake", "Metric
//! definitions") run through `lake-query` against `contact_record`, `contact_statistic_record` and
//! `contact_lens_conversational_analytics`, and every figure equals what the generator's own
//! contacts say. The demo size splits some contacts' copies across Firehose requests, so older
//! copies are in the lake and the views must keep only the latest.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should say where

use std::collections::{BTreeMap, BTreeSet};

use connect_lake_e2e::function_binary;
use lake_query::LakeQuery;
use lakectl::demo::{DemoOptions, DemoReport, run_on};
use lakectl::generate::{Generator, INSTANCE_ID, TrafficOptions};
use lakectl::lake::emulator_config;
use lambda_harness::Emulator;
use serde_json::Value;

/// A size and seed at which Firehose batching puts some older copies in the lake (tests/demo.rs).
const CONTACTS: usize = 777;
const SEED: u64 = 42;

async fn demo_lake() -> (Emulator, DemoReport) {
    let emulator = Emulator::start().await.expect("moto starts");
    let bin_dir = function_binary("firehose-transform").parent().unwrap().to_owned();
    let opts = DemoOptions {
        progress: false,
        bin_dir: Some(bin_dir),
        ..DemoOptions::scaled(CONTACTS, SEED)
    };
    let report = run_on(&opts, &emulator).await.expect("demo runs clean");
    (emulator, report)
}

/// The latest copy of every generated contact, as Connect sent it.
fn truth() -> Vec<Value> {
    Generator::new(SEED)
        .traffic(&TrafficOptions::new(CONTACTS, SEED))
        .ctrs
        .iter()
        .filter(|c| c.latest)
        .map(|c| serde_json::from_slice(&c.json).unwrap())
        .collect()
}

async fn rows(lake: &LakeQuery, sql: &str) -> Vec<Value> {
    let result = lake.sql(sql).await.unwrap_or_else(|e| panic!("{sql}\n{e}"));
    serde_json::from_str(&result.to_json().unwrap()).unwrap()
}

fn num(v: &Value) -> f64 {
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or_else(|| panic!("{v} is a number"))
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_else(|| panic!("{v} is a string")).to_owned()
}

/// `arn:...:instance/<id>/queue/<queue id>` → `<queue id>`.
fn last_segment(arn: &Value) -> String {
    text(arn).rsplit('/').next().unwrap().to_owned()
}

fn secs(v: &Value) -> f64 {
    v.as_f64().unwrap_or(0.0)
}

fn assert_close(what: &str, got: &BTreeMap<String, f64>, want: &BTreeMap<String, f64>) {
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "{what}: the same groups"
    );
    for (k, w) in want {
        let g = got[k];
        assert!(
            (g - w).abs() < 1e-6 * w.abs().max(1.0),
            "{what} {k}: lake {g}, generator {w}"
        );
    }
}

/// Per group: (sum, count) → the mean.
fn means(pairs: impl IntoIterator<Item = (String, f64)>) -> BTreeMap<String, f64> {
    let mut acc: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for (k, v) in pairs {
        let e = acc.entry(k).or_default();
        e.0 += v;
        e.1 += 1.0;
    }
    acc.into_iter().map(|(k, (s, n))| (k, s / n)).collect()
}

fn sums(pairs: impl IntoIterator<Item = (String, f64)>) -> BTreeMap<String, f64> {
    let mut acc: BTreeMap<String, f64> = BTreeMap::new();
    for (k, v) in pairs {
        *acc.entry(k).or_default() += v;
    }
    acc
}

fn keyed(rows: &[Value], key: &str, value: &str) -> BTreeMap<String, f64> {
    rows.iter().map(|r| (text(&r[key]), num(&r[value]))).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn managed_lake_metrics_on_the_views_equal_the_generators_contacts() {
    let (emulator, report) = demo_lake().await;
    assert!(report.older_copies_in_lake > 0, "older copies reached the lake");
    let config = emulator_config(&emulator).await;
    let lake = LakeQuery::connect(&config, "connect_lake").await.unwrap();
    for view in lake_query::views::VIEWS {
        assert!(lake.tables().iter().any(|t| t == view.name), "{} is offered", view.name);
    }
    let contacts = truth();
    assert_eq!(contacts.len(), CONTACTS);

    // contact_record: one row per contact, the latest copy, in AWS's names and units.
    let latest = rows(
        &lake,
        "SELECT count(*) AS n, count(DISTINCT contact_id) AS ids, min(instance_id) AS instance \
         FROM contact_record WHERE year = '2026' AND month = '03'",
    )
    .await;
    assert_eq!(
        num(&latest[0]["n"]) as usize,
        CONTACTS,
        "one row per contact, older copies dropped"
    );
    assert_eq!(num(&latest[0]["ids"]) as usize, CONTACTS);
    assert_eq!(latest[0]["instance"], INSTANCE_ID);
    let acw_after_update = rows(
        &lake,
        "SELECT count(*) AS n FROM contact_record \
         WHERE agent_connected_to_agent_timestamp IS NOT NULL AND agent_after_contact_work_duration_ms IS NULL",
    )
    .await;
    assert_eq!(
        num(&acw_after_update[0]["n"]),
        0.0,
        "the earlier copies lack after-contact work; the view never shows one"
    );

    let handled: Vec<&Value> = contacts.iter().filter(|c| c["Agent"].is_object()).collect();
    let queued = |c: &&Value| c["Queue"]["EnqueueTimestamp"].is_string();

    // Abandonment rate per queue (contact_statistic_record): contacts disconnected by the customer
    // while in queue, callbacks excluded, over contacts queued.
    let got = rows(
        &lake,
        "SELECT queue_id, CAST(SUM(is_abandoned) AS DOUBLE) / NULLIF(SUM(is_queued), 0) * 100.0 AS rate \
         FROM contact_statistic_record WHERE year = '2026' AND month = '03' GROUP BY queue_id",
    )
    .await;
    let mut queued_per_queue: BTreeMap<String, f64> = BTreeMap::new();
    let mut abandoned_per_queue: BTreeMap<String, f64> = BTreeMap::new();
    for c in contacts.iter().filter(queued) {
        let q = last_segment(&c["Queue"]["ARN"]);
        *queued_per_queue.entry(q.clone()).or_default() += 1.0;
        let abandoned = c["Agent"].is_null()
            && c["DisconnectReason"] == "CUSTOMER_DISCONNECT"
            && c["InitiationMethod"] != "CALLBACK";
        *abandoned_per_queue.entry(q).or_default() += if abandoned { 1.0 } else { 0.0 };
    }
    let want: BTreeMap<String, f64> = queued_per_queue
        .iter()
        .map(|(q, n)| (q.clone(), abandoned_per_queue[q] / n * 100.0))
        .collect();
    assert!(
        abandoned_per_queue.values().sum::<f64>() > 0.0,
        "the demo abandons some contacts"
    );
    assert_close("abandonment rate %", &keyed(&got, "queue_id", "rate"), &want);

    // Contacts handled per queue: contacts connected to an agent.
    let got = rows(
        &lake,
        "SELECT queue_id, SUM(is_handled) AS handled FROM contact_statistic_record GROUP BY queue_id",
    )
    .await;
    let mut want = sums(handled.iter().map(|c| (last_segment(&c["Queue"]["ARN"]), 1.0)));
    for q in queued_per_queue.keys() {
        want.entry(q.clone()).or_default();
    }
    assert_close("contacts handled", &keyed(&got, "queue_id", "handled"), &want);

    // Average queue answer time per queue: time in queue of the contacts an agent answered.
    let got = rows(
        &lake,
        "SELECT queue_id, AVG(queue_answer_time_ms) / 1000.0 AS answer_s FROM contact_statistic_record \
         WHERE is_handled = 1 AND queue_answer_time_ms IS NOT NULL GROUP BY queue_id",
    )
    .await;
    let want = means(
        handled
            .iter()
            .map(|c| (last_segment(&c["Queue"]["ARN"]), secs(&c["Queue"]["Duration"]))),
    );
    assert_close(
        "average queue answer time (s)",
        &keyed(&got, "queue_id", "answer_s"),
        &want,
    );

    // Average handle time per agent: talk + customer hold + after-contact work.
    let got = rows(
        &lake,
        "SELECT agent_id, AVG(handle_time_ms) / 1000.0 AS aht_s FROM contact_statistic_record \
         WHERE is_handled = 1 AND handle_time_ms IS NOT NULL GROUP BY agent_id",
    )
    .await;
    let agent_of = |c: &&Value| last_segment(&c["Agent"]["ARN"]);
    let want = means(handled.iter().map(|c| {
        let a = &c["Agent"];
        let total = secs(&a["AgentInteractionDuration"])
            + secs(&a["CustomerHoldDuration"])
            + secs(&a["AfterContactWorkDuration"]);
        (agent_of(c), total)
    }));
    assert_close("average handle time (s)", &keyed(&got, "agent_id", "aht_s"), &want);

    // Hold and after-contact work time per agent.
    let got = rows(
        &lake,
        "SELECT agent_id, SUM(customer_hold_time_ms) / 1000.0 AS hold_s, \
                SUM(after_contact_work_time_ms) / 1000.0 AS acw_s \
         FROM contact_statistic_record WHERE agent_id IS NOT NULL GROUP BY agent_id",
    )
    .await;
    let want_hold = sums(
        handled
            .iter()
            .map(|c| (agent_of(c), secs(&c["Agent"]["CustomerHoldDuration"]))),
    );
    let want_acw = sums(
        handled
            .iter()
            .map(|c| (agent_of(c), secs(&c["Agent"]["AfterContactWorkDuration"]))),
    );
    assert_close("customer hold time (s)", &keyed(&got, "agent_id", "hold_s"), &want_hold);
    assert_close(
        "after-contact work time (s)",
        &keyed(&got, "agent_id", "acw_s"),
        &want_acw,
    );

    // contact_record keeps AWS's own columns in milliseconds: the longest queue wait per queue.
    let got = rows(
        &lake,
        "SELECT queue_id, MAX(queue_duration_ms) / 1000.0 AS max_s FROM contact_record \
         WHERE queue_duration_ms IS NOT NULL GROUP BY queue_id",
    )
    .await;
    let mut want: BTreeMap<String, f64> = BTreeMap::new();
    for c in contacts.iter().filter(queued) {
        let e = want.entry(last_segment(&c["Queue"]["ARN"])).or_default();
        *e = e.max(secs(&c["Queue"]["Duration"]));
    }
    assert_close("maximum queued time (s)", &keyed(&got, "queue_id", "max_s"), &want);

    assert_conversational_analytics(&lake, &report, &contacts).await;
}

/// contact_lens_conversational_analytics: one row per contact with a transcript, joined to its
/// contact record; sentiment on Contact Lens's -5..+5 scale is our contact_sentiment score × 5.
async fn assert_conversational_analytics(lake: &LakeQuery, report: &DemoReport, contacts: &[Value]) {
    let per_contact = rows(
        lake,
        "SELECT contact_id, instance_id, channel, sentiment_overall_score_customer AS customer, \
                sentiment_overall_score_agent AS agent, total_conversation_duration_ms AS conversation_ms \
         FROM contact_lens_conversational_analytics",
    )
    .await;
    let ids: BTreeSet<String> = per_contact.iter().map(|r| text(&r["contact_id"])).collect();
    assert_eq!(ids.len(), per_contact.len(), "one row per contact");
    assert_eq!(
        per_contact.len(),
        report.contact_sentiment_rows,
        "a row per transcript the enricher scored"
    );
    let generated: BTreeMap<String, &Value> = contacts.iter().map(|c| (text(&c["ContactId"]), c)).collect();
    let mut joined = 0;
    for r in &per_contact {
        if let Some(c) = generated.get(&text(&r["contact_id"])) {
            joined += 1;
            assert_eq!(r["instance_id"], INSTANCE_ID);
            assert_eq!(r["channel"], c["Channel"]);
        }
        for side in ["customer", "agent"] {
            if let Some(score) = r[side].as_f64() {
                assert!(
                    (-5.0..=5.0).contains(&score),
                    "{side} sentiment {score} on the -5..+5 scale"
                );
            }
        }
    }
    assert!(
        joined > 0,
        "transcripts of generated contacts join their contact record"
    );

    // Sentiment scores: the view's averages are contact_sentiment's, one source per contact, × 5.
    let got = rows(
        lake,
        "SELECT AVG(sentiment_overall_score_customer) AS customer, AVG(sentiment_overall_score_agent) AS agent, \
                AVG(sentiment_end_score_customer) AS customer_end \
         FROM contact_lens_conversational_analytics",
    )
    .await;
    let base = rows(
        lake,
        "SELECT AVG(customer_score) * 5 AS customer, AVG(agent_score) * 5 AS agent, \
                AVG(customer_score_end) * 5 AS customer_end \
         FROM contact_sentiment",
    )
    .await;
    let sources = rows(
        lake,
        "SELECT count(*) AS n, count(DISTINCT contact_id) AS ids FROM contact_sentiment",
    )
    .await;
    assert_eq!(
        num(&sources[0]["n"]),
        num(&sources[0]["ids"]),
        "the demo writes one source per contact"
    );
    for k in ["customer", "agent", "customer_end"] {
        let (g, w) = (num(&got[0][k]), num(&base[0][k]));
        assert!(
            (g - w).abs() < 1e-9,
            "average {k} sentiment: view {g}, contact_sentiment × 5 {w}"
        );
    }
}
