//! The managed-lake views (`views/*.sql`) on a demo lake: metric queries written from AWS's
//! documented definitions ("Reference queries for the Connect Customer data lake", "Metric
//! definitions") run through `lake-query` against `contact_record`, `contact_statistic_record` and
//! `contact_lens_conversational_analytics`, and every figure equals what the generator's own
//! contacts say. The demo size splits some contacts' copies across Firehose requests, so older
//! copies are in the lake and the views must keep only the latest.
//!
//! A second, small lake holds outbound-campaign contact records (backfilled from the documented
//! full-fields CTR) and Connect's native flow logs: AWS's campaign and flow-time metrics, in the
//! reference queries' form, run through the real `lakectl query` over `contact_record` and
//! `contact_flow_events`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should say where

use std::collections::{BTreeMap, BTreeSet};

use connect_lake_e2e::function_binary;
use lake_query::LakeQuery;
use lakectl::demo::{DemoOptions, DemoReport, run_on};
use lakectl::generate::{Generator, INSTANCE_ID, TrafficOptions};
use lakectl::lake::emulator_config;
use lambda_harness::{Emulator, workspace_root};
use serde_json::{Value, json};

/// A size and seed at which Firehose batching puts some older copies in the lake (tests/demo.rs).
const CONTACTS: usize = 450;
const SEED: u64 = 3;

async fn demo_lake() -> (Emulator, DemoReport) {
    let emulator = Emulator::start().await.expect("moto starts");
    let bin_dir = function_binary("firehose-transform").parent().unwrap().to_owned();
    let opts = DemoOptions {
        progress: false,
        bin_dir: Some(bin_dir),
        ..DemoOptions::scaled(CONTACTS, SEED)
    };
    // Boxed: the test's future stays on the test thread's 2 MiB stack, and the SQL parser's
    // recursion over the named queries needs room beside it.
    let report = Box::pin(run_on(&opts, &emulator)).await.expect("demo runs clean");
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
    // The demo feeds every table a view reads, Connect's native flow logs included (its
    // contact_flow_events are checked in tests/demo.rs; the campaign test below has AWS's figures).
    for view in lake_query::views::VIEWS {
        assert!(lake.tables().iter().any(|t| t == view.name), "{} offered", view.name);
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

    // Outbound campaign columns: campaign contacts and human-answered calls per detection status,
    // and contacts per channel subtype (segment_attribute), as the generator sent them.
    let got = rows(
        &lake,
        "SELECT answering_machine_detection_status AS amd, COUNT(*) AS n, COUNT(DISTINCT campaign_id) AS campaigns \
         FROM contact_record WHERE campaign_id IS NOT NULL GROUP BY answering_machine_detection_status",
    )
    .await;
    let campaign = |c: &&Value| c["Campaign"]["CampaignId"].is_string();
    let want = sums(
        contacts
            .iter()
            .filter(campaign)
            .map(|c| (text(&c["AnsweringMachineDetectionStatus"]), 1.0)),
    );
    assert!(
        want.get("HUMAN_ANSWERED").is_some_and(|n| *n > 0.0),
        "the demo sends campaign calls"
    );
    assert_close(
        "campaign contacts per detection status",
        &keyed(&got, "amd", "n"),
        &want,
    );
    let distinct: BTreeSet<String> = contacts
        .iter()
        .filter(campaign)
        .map(|c| text(&c["Campaign"]["CampaignId"]))
        .collect();
    let got_campaigns: f64 = got.iter().map(|r| num(&r["campaigns"])).sum();
    assert_eq!(got_campaigns as usize, distinct.len(), "campaign ids");
    let got = rows(
        &lake,
        "SELECT element_at(segment_attribute, 'connect:Subtype') AS subtype, COUNT(*) AS n \
         FROM contact_record GROUP BY element_at(segment_attribute, 'connect:Subtype')",
    )
    .await;
    let want = sums(
        contacts
            .iter()
            .map(|c| (text(&c["SegmentAttributes"]["connect:Subtype"]["ValueString"]), 1.0)),
    );
    assert_close("contacts per channel subtype", &keyed(&got, "subtype", "n"), &want);

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

/// The documented full-fields CTR's instance (functions/firehose-transform/testdata).
const CAMPAIGN_INSTANCE: &str = "aaaaaaaa-bbbb-cccc-dddd-111111111111";
const INSTANCE_ARN: &str = "arn:aws:connect:us-west-2:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111";
const FLOW_1: &str = "f1000000-0000-4000-8000-000000000001";
const FLOW_2: &str = "f2000000-0000-4000-8000-000000000002";
const QUEUE: &str = "aaaaaaaa-bbbb-cccc-dddd-111111111111";
const CONTACT_A: &str = "b7c8d9e0-1f2a-4b3c-8d4e-5f6a7b8c9d0e";
const CONTACT_B: &str = "c0ffee00-0000-4000-8000-00000000000b";
const CONTACT_C: &str = "c0ffee00-0000-4000-8000-00000000000c";
const CONTACT_D: &str = "c0ffee00-0000-4000-8000-00000000000d";
/// Flow logs of a contact whose contact record never arrived.
const CONTACT_E: &str = "c0ffee00-0000-4000-8000-00000000000e";

/// Four contacts from the documented full-fields CTR (campaign a1b2…, HUMAN_ANSWERED): A as
/// documented; B the same campaign, VOICEMAIL_BEEP, 7 s of agent pause; C another campaign,
/// HUMAN_ANSWERED; D inbound, no campaign and no detection status.
fn campaign_ctrs() -> Vec<Value> {
    let path = workspace_root().join("functions/firehose-transform/testdata/ctr-voice-full-fields.json");
    let a: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    assert_eq!(a["ContactId"], CONTACT_A);
    let mut b = a.clone();
    b["ContactId"] = json!(CONTACT_B);
    b["AnsweringMachineDetectionStatus"] = json!("VOICEMAIL_BEEP");
    b["Agent"]["AgentPauseDuration"] = json!(7);
    let mut c = a.clone();
    c["ContactId"] = json!(CONTACT_C);
    c["Campaign"] = json!({"CampaignId": "f00dcafe-0000-4000-8000-000000000000"});
    let mut d = a.clone();
    d["ContactId"] = json!(CONTACT_D);
    d["InitiationMethod"] = json!("INBOUND");
    let fields = d.as_object_mut().unwrap();
    fields.remove("Campaign");
    fields.remove("AnsweringMachineDetectionStatus");
    vec![a, b, c, d]
}

/// One native flow-log line, in the documented format (ContactFlowId is the flow's ARN).
fn flow_log(contact: &str, flow: &str, block: &str, at: &str, parameters: Value, results: Option<&str>) -> Value {
    let mut line = json!({
        "ContactId": contact,
        "ContactFlowId": format!("{INSTANCE_ARN}/contact-flow/{flow}"),
        "ContactFlowName": if flow == FLOW_1 { "Outbound campaign" } else { "Survey" },
        "ContactFlowModuleType": block,
        "Identifier": format!("{block} {at}"),
        "Timestamp": format!("2019-08-13T{at}Z"),
        "Parameters": parameters,
    });
    if let Some(r) = results {
        line["Results"] = json!(r);
    }
    line
}

/// A: flow 1 sets and transfers to the queue (0.9 s). B: flow 1 → flow 2 → back to flow 1
/// (1.5 s, 1.4 s, 0.5 s). C: flow 1's transfer to the queue fails, then a disconnect (2.5 s, no
/// next resource). E: flow 1 (1.0 s), no contact record.
fn flow_logs() -> Vec<Value> {
    let none = json!({});
    let queue = json!({"QueueId": format!("{INSTANCE_ARN}/queue/{QUEUE}")});
    let to = |flow: &str| json!({"ContactFlowId": format!("{INSTANCE_ARN}/contact-flow/{flow}")});
    let logging = json!({"LoggingBehavior": "Enable"});
    vec![
        flow_log(
            CONTACT_A,
            FLOW_1,
            "SetLoggingBehavior",
            "20:33:23.100",
            logging.clone(),
            None,
        ),
        flow_log(CONTACT_A, FLOW_1, "SetQueue", "20:33:23.400", queue.clone(), None),
        flow_log(CONTACT_A, FLOW_1, "Transfer", "20:33:24.000", queue.clone(), None),
        flow_log(
            CONTACT_B,
            FLOW_1,
            "SetLoggingBehavior",
            "20:40:00.000",
            logging.clone(),
            None,
        ),
        flow_log(CONTACT_B, FLOW_1, "TransferToFlow", "20:40:01.500", to(FLOW_2), None),
        flow_log(
            CONTACT_B,
            FLOW_2,
            "PlayPrompt",
            "20:40:01.600",
            json!({"Text": "One question"}),
            None,
        ),
        flow_log(CONTACT_B, FLOW_2, "TransferToFlow", "20:40:03.000", to(FLOW_1), None),
        flow_log(
            CONTACT_B,
            FLOW_1,
            "PlayPrompt",
            "20:40:03.100",
            json!({"Text": "Goodbye"}),
            None,
        ),
        flow_log(CONTACT_B, FLOW_1, "Disconnect", "20:40:03.600", none.clone(), None),
        flow_log(
            CONTACT_C,
            FLOW_1,
            "CheckAttribute",
            "20:50:00.000",
            json!({"Operator": "Equals"}),
            Some("NoMatch"),
        ),
        flow_log(CONTACT_C, FLOW_1, "Transfer", "20:50:02.000", queue, Some("Error")),
        flow_log(CONTACT_C, FLOW_1, "Disconnect", "20:50:02.500", none, None),
        flow_log(CONTACT_E, FLOW_1, "SetLoggingBehavior", "20:55:00.000", logging, None),
        flow_log(
            CONTACT_E,
            FLOW_1,
            "PlayPrompt",
            "20:55:01.000",
            json!({"Text": "Hello"}),
            None,
        ),
    ]
}

/// `lakectl query SQL` as a user runs it: the real binary, JSON output.
fn lakectl_query(emulator: &Emulator, sql: &str) -> Vec<Value> {
    let out = std::process::Command::new(function_binary("lakectl"))
        .args(["query", "--database", "connect_lake", "--output", "json", sql])
        .envs(emulator.env())
        .env_remove("AWS_PROFILE")
        .output()
        .expect("lakectl runs");
    assert!(out.status.success(), "{sql}\n{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn campaign_columns_and_flow_events_answer_the_reference_metrics_through_lakectl_query() {
    let emulator = Emulator::start().await.expect("moto starts");
    let (config, s3, _glue) = connect_lake_e2e::empty_lake(&emulator).await;

    // The contact records, backfilled (transformed, Parquet, cataloged) as a user loads history.
    let dir = std::env::temp_dir().join(format!("connect-lake-reference-campaigns-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("campaign-contacts.jsonl");
    let mut body = Vec::new();
    for ctr in campaign_ctrs() {
        serde_json::to_writer(&mut body, &ctr).unwrap();
        body.push(b'\n');
    }
    std::fs::write(&input, body).unwrap();
    let report = lakectl::backfill::Backfill::new(&config, connect_lake_e2e::backfill_options(&dir, input))
        .unwrap()
        .run()
        .await
        .unwrap();
    assert_eq!((report.records, report.ok), (4, 4));

    // Connect's flow logs as the delivery stream writes them: gzip JSON lines, arrival hour.
    let key = "connect_flow_logs/year=2019/month=08/day=13/hour=20/connect-flow-logs-1-2019-08-13-20-56-00.gz";
    connect_lake_e2e::put_and_catalog(&config, &s3, key, &flow_logs()).await;

    // Outbound campaign metrics, in the reference queries' form ("Campaign contacts", "Human
    // answered"), on contact_record.
    let window = "disconnect_timestamp >= TIMESTAMP '2019-08-13 00:00:00' \
                  AND disconnect_timestamp < TIMESTAMP '2019-08-14 00:00:00'";
    let got = lakectl_query(
        &emulator,
        &format!(
            "SELECT campaign_id, COUNT(*) AS campaign_contacts, \
                    SUM(CASE WHEN answering_machine_detection_status = 'HUMAN_ANSWERED' THEN 1 ELSE 0 END) \
                      AS human_answered \
             FROM contact_record WHERE {window} AND campaign_id IS NOT NULL \
               AND instance_id = '{CAMPAIGN_INSTANCE}' GROUP BY campaign_id ORDER BY campaign_id"
        ),
    );
    let figures: Vec<(String, f64, f64)> = got
        .iter()
        .map(|r| {
            (
                text(&r["campaign_id"]),
                num(&r["campaign_contacts"]),
                num(&r["human_answered"]),
            )
        })
        .collect();
    assert_eq!(
        figures,
        [
            ("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d".to_owned(), 2.0, 1.0),
            ("f00dcafe-0000-4000-8000-000000000000".to_owned(), 1.0, 1.0),
        ]
    );
    let got = lakectl_query(
        &emulator,
        "SELECT contact_id, agent_pause_duration_ms, element_at(segment_attribute, 'connect:Subtype') AS subtype, \
                answering_machine_detection_status AS amd \
         FROM contact_record ORDER BY contact_id",
    );
    let pause: Vec<(String, f64)> = got
        .iter()
        .map(|r| (text(&r["contact_id"]), num(&r["agent_pause_duration_ms"])))
        .collect();
    assert_eq!(
        pause,
        [
            (CONTACT_A.to_owned(), 0.0),
            (CONTACT_B.to_owned(), 7000.0),
            (CONTACT_C.to_owned(), 0.0),
            (CONTACT_D.to_owned(), 0.0)
        ]
    );
    assert!(got.iter().all(|r| r["subtype"] == "connect:Telephony"), "{got:?}");
    assert_eq!(got[3]["amd"], Value::Null, "D carries no detection status");

    // Flow metrics, in the reference queries' form: flows started and average flow time per flow.
    let got = lakectl_query(
        &emulator,
        &format!(
            "SELECT flow_resource_id, COUNT(*) AS flows_started, \
                    AVG(date_diff('millisecond', start_timestamp, end_timestamp)) / 1000.0 AS avg_flow_time_sec \
             FROM contact_flow_events \
             WHERE start_timestamp >= TIMESTAMP '2019-08-13 00:00:00' \
               AND start_timestamp < TIMESTAMP '2019-08-14 00:00:00' \
               AND end_timestamp IS NOT NULL AND instance_id = '{CAMPAIGN_INSTANCE}' \
             GROUP BY flow_resource_id ORDER BY flow_resource_id"
        ),
    );
    let figures: Vec<(String, f64, f64)> = got
        .iter()
        .map(|r| {
            (
                text(&r["flow_resource_id"]),
                num(&r["flows_started"]),
                num(&r["avg_flow_time_sec"]),
            )
        })
        .collect();
    assert_eq!(figures.len(), 2, "{got:?}");
    assert_eq!((figures[0].0.as_str(), figures[0].1), (FLOW_1, 5.0));
    assert!(
        (figures[0].2 - 1.28).abs() < 1e-9,
        "flow 1: (0.9 + 1.5 + 0.5 + 2.5 + 1.0) / 5 s, got {}",
        figures[0].2
    );
    assert_eq!((figures[1].0.as_str(), figures[1].1), (FLOW_2, 1.0));
    assert!((figures[1].2 - 1.4).abs() < 1e-9, "flow 2: 1.4 s, got {}", figures[1].2);

    // Each execution, with what it went to next and what the contact record adds.
    let got = lakectl_query(
        &emulator,
        "SELECT contact_id, flow_resource_id, module_resource_id, resource_type, next_resource_type, \
                next_flow_resource_id, next_queue_resource_id, channel, initiation_method, sub_type, \
                aws_account_id, instance_arn, event_id, start_timestamp, year, month, day, hour \
         FROM contact_flow_events WHERE year = '2019' AND month = '08' AND day = '13' \
         ORDER BY start_timestamp",
    );
    let opt = |v: &Value| v.as_str().map(str::to_owned);
    let events: Vec<[Option<String>; 6]> = got
        .iter()
        .map(|r| {
            [
                opt(&r["contact_id"]),
                opt(&r["flow_resource_id"]),
                opt(&r["next_resource_type"]),
                opt(&r["next_flow_resource_id"]),
                opt(&r["next_queue_resource_id"]),
                opt(&r["initiation_method"]),
            ]
        })
        .collect();
    let s = |v: &str| Some(v.to_owned());
    assert_eq!(
        events,
        [
            [s(CONTACT_A), s(FLOW_1), s("queue"), None, s(QUEUE), s("OUTBOUND")],
            [s(CONTACT_B), s(FLOW_1), s("flow"), s(FLOW_2), None, s("OUTBOUND")],
            [s(CONTACT_B), s(FLOW_2), s("flow"), s(FLOW_1), None, s("OUTBOUND")],
            [s(CONTACT_B), s(FLOW_1), None, None, None, s("OUTBOUND")],
            [s(CONTACT_C), s(FLOW_1), None, None, None, s("OUTBOUND")],
            [s(CONTACT_E), s(FLOW_1), None, None, None, None],
        ],
        "{got:#?}"
    );
    for r in &got {
        assert_eq!(r["resource_type"], "flow");
        assert_eq!(r["module_resource_id"], Value::Null);
        assert_eq!(r["aws_account_id"], "012345678901");
        assert_eq!(r["instance_arn"], INSTANCE_ARN);
        assert_eq!(
            (&r["year"], &r["month"], &r["day"], &r["hour"]),
            (&json!("2019"), &json!("08"), &json!("13"), &json!("20"))
        );
        if r["contact_id"] == CONTACT_E {
            assert_eq!(
                (&r["channel"], &r["sub_type"]),
                (&Value::Null, &Value::Null),
                "no contact record"
            );
        } else {
            assert_eq!(
                (&r["channel"], &r["sub_type"]),
                (&json!("VOICE"), &json!("connect:Telephony"))
            );
        }
    }
    assert_eq!(
        got[0]["event_id"],
        format!("{CONTACT_A}/{FLOW_1}/2019-08-13T20:33:23.100Z")
    );
    let ids: BTreeSet<&str> = got.iter().filter_map(|r| r["event_id"].as_str()).collect();
    assert_eq!(ids.len(), got.len(), "event_id is unique");
    std::fs::remove_dir_all(&dir).ok();
}
