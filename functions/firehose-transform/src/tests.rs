use super::*;
use crate::firehose::MAX_RESPONSE_BYTES;
use base64_simd::STANDARD;
use proptest::prelude::*;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

const VOICE: &str = include_str!("../testdata/ctr-voice-aws-sample.json");
const CHAT: &str = include_str!("../testdata/ctr-chat-null-endpoints.json");
const TASK: &str = include_str!("../testdata/ctr-task-null-queue.json");
const STATE_CHANGE: &str = include_str!("../testdata/agent-event-state-change.json");
const HEARTBEAT: &str = include_str!("../testdata/agent-event-heartbeat.json");
const ARRIVAL_MS: i64 = 1_772_964_000_000; // 2026-03-08T10:00:00Z

fn cfg() -> Config {
    Config::from_env(&[("PII_TOKEN_KEY", "transform-test-key-0123456789abcdef")]).unwrap()
}

fn rec(id: &str, data: &[u8]) -> FirehoseRecord {
    FirehoseRecord {
        record_id: id.to_owned(),
        approximate_arrival_timestamp: Some(ARRIVAL_MS),
        data: Some(STANDARD.encode_to_string(data)),
    }
}

fn batch(records: Vec<FirehoseRecord>) -> FirehoseRequest {
    FirehoseRequest {
        invocation_id: "inv-1".into(),
        delivery_stream_arn: "arn:aws:firehose:us-east-1:012345678901:deliverystream/ctr".into(),
        region: "us-east-1".into(),
        source_kinesis_stream_arn: None,
        records,
    }
}

fn run(records: Vec<FirehoseRecord>) -> (FirehoseResponse, Stats) {
    answered(transform(batch(records), &cfg()))
}

/// A batch that must be answered: its response and what it counted.
fn answered((result, stats): (Result<FirehoseResponse, TransformError>, Stats)) -> (FirehoseResponse, Stats) {
    (result.unwrap(), stats)
}

fn row_of(r: &FirehoseResponseRecord) -> Value {
    let bytes = STANDARD.decode_to_vec(&r.data).unwrap();
    assert_eq!(bytes.last(), Some(&b'\n'), "each output record ends with a newline");
    assert_eq!(
        bytes.iter().filter(|b| **b == b'\n').count(),
        1,
        "one JSON object per record"
    );
    serde_json::from_slice(&bytes).unwrap()
}

fn keys(r: &FirehoseResponseRecord) -> Vec<(String, String)> {
    r.metadata
        .as_ref()
        .unwrap()
        .partition_keys
        .clone()
        .into_iter()
        .collect()
}

fn with_contact(base: &str, id: &str, last_update: &str) -> Vec<u8> {
    let mut v: Value = serde_json::from_str(base).unwrap();
    v["ContactId"] = json!(id);
    v["LastUpdateTimestamp"] = json!(last_update);
    serde_json::to_vec(&v).unwrap()
}

#[test]
fn documented_sample_ctr_becomes_an_ok_row_with_partition_keys() {
    let (resp, stats) = run(vec![rec("r1", VOICE.as_bytes())]);
    assert_eq!(resp.records.len(), 1);
    let r = &resp.records[0];
    assert_eq!((r.record_id.as_str(), r.result), ("r1", RecordResult::Ok));
    let row = row_of(r);
    assert_eq!(row["contact_id"], "aaaaaaaa-bbbb-cccc-dddd-111111111111");
    assert_eq!(
        keys(r),
        [
            ("day", "13"),
            ("hour", "20"),
            ("month", "08"),
            ("table", "ctr"),
            ("year", "2019")
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
    );
    assert_eq!(stats.ok, 1);
    assert_eq!(stats.bytes_in, VOICE.len() as u64);
}

#[test]
fn chat_task_and_agent_events_go_to_their_tables() {
    let (resp, _) = run(vec![
        rec("chat", CHAT.as_bytes()),
        rec("task", TASK.as_bytes()),
        rec("agent", STATE_CHANGE.as_bytes()),
    ]);
    let tables: Vec<String> = resp
        .records
        .iter()
        .map(|r| r.metadata.as_ref().unwrap().partition_keys["table"].clone())
        .collect();
    assert_eq!(tables, ["ctr", "ctr", "agent_events"]);
    assert!(resp.records.iter().all(|r| r.result == RecordResult::Ok));
    assert_eq!(row_of(&resp.records[2])["event_type"], "STATE_CHANGE");
    assert_eq!(keys(&resp.records[1])[1], ("hour".to_owned(), "23".to_owned()));
}

#[test]
fn heartbeats_are_dropped_unless_kept() {
    let (resp, stats) = run(vec![rec("hb", HEARTBEAT.as_bytes())]);
    assert_eq!(resp.records[0].result, RecordResult::Dropped);
    assert_eq!(stats.dropped.get("heartbeat"), Some(&1));
    let keep = Config::from_env(&[
        ("PII_TOKEN_KEY", "transform-test-key-0123456789abcdef"),
        ("AGENT_HEARTBEATS", "keep"),
    ])
    .unwrap();
    let (resp, _) = answered(transform(batch(vec![rec("hb", HEARTBEAT.as_bytes())]), &keep));
    assert_eq!(resp.records[0].result, RecordResult::Ok);
    assert_eq!(row_of(&resp.records[0])["event_type"], "HEART_BEAT");
    let bad = Config::from_env(&[
        ("PII_TOKEN_KEY", "transform-test-key-0123456789abcdef"),
        ("AGENT_HEARTBEATS", "maybe"),
    ]);
    assert!(bad.unwrap_err().to_string().contains("AGENT_HEARTBEATS"));
}

#[test]
fn when_pii_token_key_is_missing_start_up_fails_naming_it() {
    let err = Config::from_env(&[("AGENT_HEARTBEATS", "keep")]).unwrap_err();
    assert!(err.to_string().contains("PII_TOKEN_KEY"));
}

fn failed_reason(data: Option<String>) -> (RecordResult, Option<&'static str>, String) {
    let record = FirehoseRecord {
        record_id: "x".into(),
        approximate_arrival_timestamp: None,
        data: data.clone(),
    };
    let (resp, stats) = run(vec![record]);
    let r = &resp.records[0];
    let reason = stats.failed.keys().next().copied();
    (r.result, reason, r.data.clone())
}

#[test]
fn bad_records_fail_alone_with_a_specific_reason_and_their_original_data() {
    let b64 = |s: &[u8]| Some(STANDARD.encode_to_string(s));
    let mut missing_id: Value = serde_json::from_str(VOICE).unwrap();
    missing_id.as_object_mut().unwrap().remove("ContactId");
    let mut bad_times: Value = serde_json::from_str(VOICE).unwrap();
    bad_times["InitiationTimestamp"] = json!("13/08/2019 20:33");
    let mut wrong_type: Value = serde_json::from_str(VOICE).unwrap();
    wrong_type["Queue"] = json!("BasicQueue");
    let truncated = &VOICE.as_bytes()[..VOICE.len() / 2];
    let cases: Vec<(&str, Option<String>, &str)> = vec![
        ("not base64", Some("%%% not base64 %%%".into()), "not_base64"),
        ("not utf-8", b64(&[0xff, 0xfe, b'{', b'}']), "not_utf8"),
        ("not json", b64(b"ContactId=abc"), "not_json"),
        ("json array", b64(b"[{\"ContactId\":\"a\"}]"), "not_an_object"),
        ("empty", b64(b""), "empty"),
        ("whitespace", b64(b" \n "), "empty"),
        ("truncated", b64(truncated), "truncated_json"),
        (
            "missing contact id",
            b64(missing_id.to_string().as_bytes()),
            "missing_contact_id",
        ),
        (
            "bad timestamps and no arrival time",
            b64(bad_times.to_string().as_bytes()),
            "no_usable_timestamp",
        ),
        (
            "wrong nested type",
            b64(wrong_type.to_string().as_bytes()),
            "schema_mismatch",
        ),
        ("data not a string", None, "missing_data"),
        (
            "two objects",
            b64(b"{\"ContactId\":\"a\"}{\"ContactId\":\"b\"}"),
            "not_json",
        ),
    ];
    for (name, data, want) in cases {
        let (result, reason, out) = failed_reason(data.clone());
        assert_eq!(result, RecordResult::ProcessingFailed, "{name}");
        assert_eq!(reason, Some(want), "{name}");
        assert_eq!(out, data.unwrap_or_default(), "{name}: original data must come back");
    }
}

#[test]
fn bad_initiation_timestamp_falls_back_to_arrival_time() {
    let mut v: Value = serde_json::from_str(VOICE).unwrap();
    v["InitiationTimestamp"] = json!("garbage");
    let (resp, _) = run(vec![rec("r", v.to_string().as_bytes())]);
    assert_eq!(resp.records[0].result, RecordResult::Ok);
    assert_eq!(row_of(&resp.records[0])["partition_time_source"], "arrival");
    assert_eq!(keys(&resp.records[0])[2], ("month".to_owned(), "03".to_owned()));
}

#[test]
fn a_1_mb_record_is_handled_whether_valid_or_garbage() {
    let mut v: Value = serde_json::from_str(VOICE).unwrap();
    v["Attributes"] = json!({"blob": "x".repeat(1_000_000)});
    let garbage = vec![b'{'; 1_000_000];
    let (resp, stats) = run(vec![rec("big", v.to_string().as_bytes()), rec("junk", &garbage)]);
    assert_eq!(resp.records[0].result, RecordResult::Ok);
    assert_eq!(resp.records[1].result, RecordResult::ProcessingFailed);
    assert_eq!(
        stats.failed.get("not_json").or(stats.failed.get("truncated_json")),
        Some(&1)
    );
}

#[test]
fn in_batch_copies_of_a_contact_keep_only_the_latest_update() {
    let (resp, stats) = run(vec![
        rec("old", &with_contact(VOICE, "c1", "2019-08-13T20:35:05Z")),
        rec("newest", &with_contact(VOICE, "c1", "2019-08-13T20:40:00Z")),
        rec("other", &with_contact(VOICE, "c2", "2019-08-13T20:35:05Z")),
        rec("middle", &with_contact(VOICE, "c1", "2019-08-13T20:37:00Z")),
    ]);
    let results: Vec<RecordResult> = resp.records.iter().map(|r| r.result).collect();
    use RecordResult::{Dropped, Ok};
    assert_eq!(
        results,
        [Dropped, Ok, Ok, Dropped],
        "greatest LastUpdateTimestamp wins, not first or last"
    );
    assert_eq!(stats.dropped.get("superseded"), Some(&2));
    // On a tie the later arrival wins; a copy without a timestamp loses to one with.
    let (resp, _) = run(vec![
        rec("a", &with_contact(VOICE, "c1", "2019-08-13T20:35:05Z")),
        rec("b", &with_contact(VOICE, "c1", "2019-08-13T20:35:05Z")),
        rec("c", &with_contact(VOICE, "c1", "not a time")),
    ]);
    let results: Vec<RecordResult> = resp.records.iter().map(|r| r.result).collect();
    assert_eq!(results, [Dropped, Ok, Dropped]);
}

/// A contact whose row is much larger than its input: many short phone-like attribute values
/// each become a 25-character token.
fn inflating_ctr(i: usize) -> Vec<u8> {
    let mut v: Value = serde_json::from_str(VOICE).unwrap();
    v["ContactId"] = json!(format!("contact-{i}"));
    let attrs: serde_json::Map<String, Value> = (0..400).map(|k| (format!("a{k}"), json!("5550100"))).collect();
    v["Attributes"] = Value::Object(attrs);
    serde_json::to_vec(&v).unwrap()
}

#[test]
fn response_size_guard_fails_overflowing_records_with_their_original_data() {
    let records: Vec<FirehoseRecord> = (0..400).map(|i| rec(&format!("r{i}"), &inflating_ctr(i))).collect();
    let input_rows: usize = records.iter().map(|r| r.data.as_ref().unwrap().len()).sum();
    assert!(input_rows < 6_000_000, "the input itself fits");
    let originals: Vec<String> = records.iter().map(|r| r.data.clone().unwrap()).collect();
    let (resp, stats) = run(records);
    let size = serde_json::to_vec(&resp).unwrap().len();
    assert!(size <= MAX_RESPONSE_BYTES, "response is {size} bytes");
    assert!(
        size > MAX_RESPONSE_BYTES - 20_000,
        "the guard packs the response close to the limit: {size}"
    );
    let failed = stats.failed.get("response_size_limit").copied().unwrap_or(0);
    assert!(failed > 0 && stats.ok > 0, "ok {} failed {failed}", stats.ok);
    for (i, r) in resp.records.iter().enumerate() {
        assert_eq!(r.record_id, format!("r{i}"));
        if r.result == RecordResult::ProcessingFailed {
            assert_eq!(r.data, originals[i]);
        }
    }
}

#[test]
fn when_even_an_all_failed_response_cannot_fit_the_invocation_fails() {
    let mut small = cfg();
    small.max_response_bytes = 1_000;
    let records = (0..3).map(|i| rec(&format!("r{i}"), VOICE.as_bytes())).collect();
    let (result, stats) = transform(batch(records), &small);
    let err = result.unwrap_err();
    assert!(matches!(err, TransformError::ResponseTooLarge { limit: 1_000, .. }));
    // What arrived is still counted, so the failed batch shows in the metrics.
    assert_eq!((stats.records_in, stats.ok), (3, 0));
    assert!(stats.bytes_in > 0);
    let d: lambda_runtime::Diagnostic = err.into();
    assert_eq!(d.error_type, "ResponseTooLarge");
}

/// A writer that collects everything a test's tracing subscriber logs.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn no_raw_phone_email_or_card_number_reaches_rows_or_logs() {
    let mut v: Value = serde_json::from_str(VOICE).unwrap();
    v["CustomerEndpoint"]["Address"] = json!("+14155550123");
    v["Attributes"] = json!({"email": "pat.smith@example.org", "card": "4111 1111 1111 1111", "alt": "(415) 555-0199"});
    let good = v.to_string();
    let mut broken = good.clone();
    broken.truncate(good.len() - 40);
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber_for_tests(move || writer.clone());
    let (resp, _) = tracing::subscriber::with_default(subscriber, || {
        // Other tests in this process may have cached "no subscriber" for these callsites.
        tracing::callsite::rebuild_interest_cache();
        run(vec![rec("good", good.as_bytes()), rec("broken", broken.as_bytes())])
    });
    let rows = String::from_utf8(STANDARD.decode_to_vec(&resp.records[0].data).unwrap()).unwrap();
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("broken") && logs.contains("truncated_json"),
        "the failure is logged: {logs}"
    );
    for secret in ["4155550123", "pat.smith", "example.org", "4111", "555-0199", "5550199"] {
        assert!(!rows.contains(secret), "row leaks {secret}: {rows}");
        assert!(!logs.contains(secret), "logs leak {secret}: {logs}");
    }
}

fn tracing_subscriber_for_tests<W>(make: W) -> impl tracing::Subscriber + Send + Sync
where
    W: Fn() -> Captured + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(make)
        .finish()
}

#[test]
fn metrics_count_results_by_reason() {
    let (_, stats) = run(vec![
        rec("ok", VOICE.as_bytes()),
        rec("hb", HEARTBEAT.as_bytes()),
        rec("bad", b"nope"),
        rec("bad2", b"[]"),
    ]);
    let sets = stats.metrics("ConnectLake");
    let totals = &sets[0];
    assert_eq!(totals.value("RecordsIn"), Some(4.0));
    assert_eq!(totals.value("Ok"), Some(1.0));
    assert_eq!(totals.value("Dropped"), Some(1.0));
    assert_eq!(totals.value("ProcessingFailed"), Some(2.0));
    assert!(totals.value("BytesOut").unwrap() > 0.0);
    let lines: Vec<String> = sets.iter().flat_map(|m| m.to_lines(0)).collect();
    assert!(lines.iter().any(|l| l.contains("\"Reason\":\"not_json\"")));
    assert!(lines.iter().any(|l| l.contains("\"Reason\":\"not_an_object\"")));
    assert!(lines.iter().any(|l| l.contains("\"Reason\":\"heartbeat\"")));
}

fn arb_record() -> impl Strategy<Value = FirehoseRecord> {
    let data = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..200).prop_map(|b| Some(STANDARD.encode_to_string(b))),
        ".{0,50}".prop_map(Some),
        Just(None),
        Just(Some(STANDARD.encode_to_string(VOICE))),
        (0..VOICE.len()).prop_map(|n| Some(STANDARD.encode_to_string(&VOICE.as_bytes()[..n]))),
        "[a-zA-Z{}\\[\\]\":,0-9 ]{0,80}".prop_map(|s| Some(STANDARD.encode_to_string(s))),
    ];
    ("[a-zA-Z0-9\"\\\\]{0,12}", proptest::option::of(any::<i64>()), data).prop_map(|(id, ts, data)| FirehoseRecord {
        record_id: id,
        approximate_arrival_timestamp: ts,
        data,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn any_batch_returns_exactly_its_record_ids_with_valid_results(records in proptest::collection::vec(arb_record(), 0..30)) {
        let ids: Vec<String> = records.iter().map(|r| r.record_id.clone()).collect();
        let inputs: Vec<String> = records.iter().map(|r| r.data.clone().unwrap_or_default()).collect();
        let (resp, stats) = run(records);
        let out: Vec<String> = resp.records.iter().map(|r| r.record_id.clone()).collect();
        prop_assert_eq!(out, ids);
        prop_assert_eq!(stats.ok + stats.dropped_total() + stats.failed_total(), stats.records_in);
        let text = serde_json::to_string(&resp).unwrap();
        let back: Value = serde_json::from_str(&text).unwrap();
        for (r, input) in back["records"].as_array().unwrap().iter().zip(&inputs) {
            let result = r["result"].as_str().unwrap();
            prop_assert!(["Ok", "Dropped", "ProcessingFailed"].contains(&result));
            if result == "ProcessingFailed" {
                prop_assert_eq!(r["data"].as_str().unwrap(), input.as_str(), "failed records keep their original data");
            } else {
                prop_assert!(STANDARD.decode_to_vec(r["data"].as_str().unwrap()).is_ok());
            }
            if result == "Ok" {
                prop_assert!(r["metadata"]["partitionKeys"]["table"].is_string());
            }
        }
    }
}

#[test]
fn a_large_batch_split_across_threads_keeps_order_and_per_record_results() {
    let pool: Vec<Vec<u8>> = vec![
        VOICE.as_bytes().to_vec(),
        b"not json".to_vec(),
        HEARTBEAT.as_bytes().to_vec(),
        CHAT.as_bytes().to_vec(),
        b"[1]".to_vec(),
        STATE_CHANGE.as_bytes().to_vec(),
    ];
    // Build the batch from raw pool entries (unique contacts so nothing is deduplicated).
    let records: Vec<FirehoseRecord> = (0..600)
        .map(|i| {
            let raw = &pool[i % pool.len()];
            let data = match serde_json::from_slice::<Value>(raw) {
                Ok(mut v) if v.get("ContactId").is_some() => {
                    v["ContactId"] = json!(format!("c{i}"));
                    serde_json::to_vec(&v).unwrap()
                }
                _ => raw.clone(),
            };
            rec(&format!("r{i}"), &data)
        })
        .collect();
    let singles: Vec<RecordResult> = records
        .iter()
        .map(|r| run(vec![r.clone()]).0.records[0].result)
        .collect();
    let (resp, stats) = run(records);
    let ids: Vec<String> = resp.records.iter().map(|r| r.record_id.clone()).collect();
    assert_eq!(ids, (0..600).map(|i| format!("r{i}")).collect::<Vec<_>>());
    let batch: Vec<RecordResult> = resp.records.iter().map(|r| r.result).collect();
    assert_eq!(batch, singles);
    assert_eq!(stats.ok, 300);
}

#[test]
fn a_record_of_the_other_kind_on_a_stream_with_an_expected_table_fails_with_its_data() {
    let cfg = Config::from_env(&[
        ("PII_TOKEN_KEY", "transform-test-key-0123456789abcdef"),
        ("EXPECTED_TABLES", "stack-ctr=ctr, stack-agent-events=agent_events"),
    ])
    .unwrap();
    let on = |stream: &str| {
        let mut request = batch(vec![rec("c", VOICE.as_bytes()), rec("e", STATE_CHANGE.as_bytes())]);
        request.delivery_stream_arn = format!("arn:aws:firehose:us-east-1:012345678901:deliverystream/{stream}");
        answered(transform(request, &cfg))
    };
    let (ctr_stream, stats) = on("stack-ctr");
    assert_eq!(ctr_stream.records[0].result, RecordResult::Ok);
    assert_eq!(ctr_stream.records[1].result, RecordResult::ProcessingFailed);
    assert_eq!(
        STANDARD.decode_to_vec(&ctr_stream.records[1].data).unwrap(),
        STATE_CHANGE.as_bytes(),
        "the failed record keeps its original data for the error prefix"
    );
    assert_eq!(stats.failed.get("wrong_stream"), Some(&1));
    let (agent_stream, _) = on("stack-agent-events");
    assert_eq!(agent_stream.records[0].result, RecordResult::ProcessingFailed);
    assert_eq!(agent_stream.records[1].result, RecordResult::Ok);
    let (unnamed, _) = on("another-stream");
    assert!(
        unnamed.records.iter().all(|r| r.result == RecordResult::Ok),
        "a stream the configuration does not name accepts both kinds"
    );
}

#[test]
fn expected_tables_that_do_not_parse_name_the_variable() {
    for bad in ["stack-ctr", "stack-ctr=sentiment_turns", "=ctr=x"] {
        let err = Config::from_env(&[
            ("PII_TOKEN_KEY", "transform-test-key-0123456789abcdef"),
            ("EXPECTED_TABLES", bad),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("EXPECTED_TABLES"), "{bad}: {err}");
    }
}
