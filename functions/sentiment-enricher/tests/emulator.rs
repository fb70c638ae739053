//! The handler against the local AWS emulator (moto): S3 reads and writes, Transcribe job starts
//! and their idempotency. The emulator never writes transcripts, so the tests put the transcript
//! files into S3 themselves. Comprehend's batch call, which the emulator lacks, is mocked at the
//! SDK layer where a test needs it. Each test has its own emulator, stopped when it is dropped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should say where

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_comprehend::operation::batch_detect_sentiment::BatchDetectSentimentOutput;
use aws_sdk_comprehend::operation::detect_pii_entities::DetectPiiEntitiesOutput;
use aws_sdk_comprehend::types::{
    BatchDetectSentimentItemResult, PiiEntity, PiiEntityType, SentimentScore, SentimentType,
};
use aws_sdk_s3::config::Credentials;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use connect_lake::schema::{CONTACT_SENTIMENT, SENTIMENT_TURNS};
use connect_lake::testing::assert_rows_match;
use lambda_harness::{Emulator, workspace_root};
use sentiment_enricher::{Config, Deps, Stats, process};
use serde_json::{Value, json};
use time::macros::datetime;

const BUCKET: &str = "connect-lake-example";
const NOW: time::OffsetDateTime = datetime!(2026-03-08 18:00 UTC);
const STD_CONTACT: &str = "7a1c3f52-94e8-4d0b-b6a2-2f6c1e8d9a01";
const CA_CONTACT: &str = "3e9b6c10-58d2-4f7a-a1c4-8b0d2e7f6a02";
const CL_CONTACT: &str = "c2d4e6f8-1a3b-4c5d-8e7f-9a0b1c2d3e04";
const CHAT_CONTACT: &str = "b5e7a9c1-2d4f-4a6b-8c0d-1e3f5a7b9c05";

fn fixture(name: &str) -> Value {
    let path: PathBuf = workspace_root().join("events/sentiment-enricher").join(name);
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

fn testdata(name: &str) -> Vec<u8> {
    std::fs::read(
        workspace_root()
            .join("functions/sentiment-enricher/testdata")
            .join(name),
    )
    .unwrap()
}

async fn sdk(emulator: &Emulator) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(emulator.endpoint())
        .credentials_provider(Credentials::new("testing", "testing", None, None, "emulator"))
        .load()
        .await
}

struct Lake {
    // Dropped last: it stops the emulator.
    deps: Deps,
    _emulator: Emulator,
}

/// An emulator with the lake bucket, and the function's dependencies pointing at it.
async fn lake(vars: &[(&str, &str)], comprehend: Option<aws_sdk_comprehend::Client>) -> Lake {
    let emulator = Emulator::start().await.expect("moto starts (make tools installs it)");
    let sdk = sdk(&emulator).await;
    let mut env: std::collections::HashMap<String, String> =
        [("LAKE_BUCKET", BUCKET), ("SENTIMENT_PROVIDER", "lexicon")]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
    for (k, v) in vars {
        env.insert((*k).to_owned(), (*v).to_owned());
    }
    let deps = Deps {
        config: Config::from_env(&env).unwrap(),
        s3: connect_lake::aws::s3_client(&sdk),
        transcribe: aws_sdk_transcribe::Client::new(&sdk),
        comprehend: comprehend.unwrap_or_else(|| aws_sdk_comprehend::Client::new(&sdk)),
    };
    deps.s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    Lake {
        deps,
        _emulator: emulator,
    }
}

impl Lake {
    async fn put(&self, key: &str, body: Vec<u8>) {
        self.deps
            .s3
            .put_object()
            .bucket(BUCKET)
            .key(key)
            .body(body.into())
            .send()
            .await
            .unwrap();
    }

    async fn keys(&self, prefix: &str) -> Vec<String> {
        let out = self
            .deps
            .s3
            .list_objects_v2()
            .bucket(BUCKET)
            .prefix(prefix)
            .send()
            .await
            .unwrap();
        let mut keys: Vec<String> = out
            .contents()
            .iter()
            .filter_map(|o| o.key().map(str::to_owned))
            .collect();
        keys.sort();
        keys
    }

    async fn rows(&self, key: &str) -> Vec<Value> {
        let out = self.deps.s3.get_object().bucket(BUCKET).key(key).send().await.unwrap();
        let bytes = out.body.collect().await.unwrap().into_bytes();
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        assert!(text.is_empty() || text.ends_with('\n'), "JSON lines end with a newline");
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    async fn invoke(&self, event: &Value) -> (Value, Stats) {
        let (response, stats) = process(&self.deps, event, NOW).await;
        (serde_json::to_value(response.unwrap()).unwrap(), stats)
    }
}

#[tokio::test]
async fn a_recording_starts_one_transcribe_job_and_a_replay_is_a_conflict_not_a_second_job() {
    let lake = lake(&[], None).await;
    let (response, stats) = lake.invoke(&fixture("recording-direct.json")).await;
    let job = format!("connect-lake-{STD_CONTACT}");
    assert_eq!(
        response["objects"][0]["outcome"], "transcription_job_started",
        "{response}"
    );
    assert_eq!(response["objects"][0]["job_name"], job.as_str());
    assert_eq!(stats.jobs_started, 1);

    let got = lake
        .deps
        .transcribe
        .get_transcription_job()
        .transcription_job_name(&job)
        .send()
        .await
        .unwrap();
    let j = got.transcription_job().unwrap();
    assert_eq!(j.language_code().map(|l| l.as_str()), Some("en-US"));
    assert_eq!(j.media_format().map(|f| f.as_str()), Some("wav"));
    assert_eq!(
        j.media().and_then(|m| m.media_file_uri()),
        Some(
            format!(
                "s3://{BUCKET}/connect/example-instance/CallRecordings/2026/03/08/{STD_CONTACT}_20260308T10:15_UTC.wav"
            )
            .as_str()
        ),
        "the key is decoded (%3A is a colon)"
    );
    assert_eq!(j.settings().and_then(|s| s.channel_identification()), Some(true));

    // The same recording again, through SQS this time: already started, not failed.
    let (response, stats) = lake.invoke(&fixture("recording-sqs.json")).await;
    assert_eq!(response, json!({"batchItemFailures": []}));
    assert_eq!((stats.jobs_started, stats.jobs_already_started), (0, 1));
    let jobs = lake.deps.transcribe.list_transcription_jobs().send().await.unwrap();
    assert_eq!(jobs.transcription_job_summaries().len(), 1, "one job per contact");
}

#[tokio::test]
async fn a_standard_transcript_becomes_turn_and_contact_rows_and_a_replay_overwrites_them() {
    let lake = lake(&[], None).await;
    lake.put(
        &format!("transcripts/{STD_CONTACT}_20260308T1015Z.json"),
        testdata("transcribe-channel-id.json"),
    )
    .await;
    let (response, stats) = lake.invoke(&fixture("transcript-standard-direct.json")).await;
    assert_eq!(response["objects"][0]["outcome"], "enriched", "{response}");
    assert_eq!(stats.transcripts_by_kind.get("transcribe"), Some(&1));
    assert_eq!(stats.comprehend_calls, 0, "the lexicon provider calls nothing");

    let turns_key = format!("sentiment_turns/year=2026/month=03/day=08/hour=10/{STD_CONTACT}_transcribe.json");
    let contact_key = format!("contact_sentiment/year=2026/month=03/day=08/hour=10/{STD_CONTACT}_transcribe.json");
    assert_eq!(lake.keys("sentiment_turns/").await, [turns_key.as_str()]);
    assert_eq!(lake.keys("contact_sentiment/").await, [contact_key.as_str()]);

    let turns = lake.rows(&turns_key).await;
    assert_eq!(turns.len(), 11);
    assert_rows_match(&SENTIMENT_TURNS, &turns);
    let participants: Vec<&str> = turns.iter().map(|t| t["participant"].as_str().unwrap()).collect();
    assert_eq!(participants[..4], ["AGENT", "CUSTOMER", "AGENT", "CUSTOMER"]);
    assert_eq!(turns[3]["sentiment"], "NEGATIVE", "'This is really frustrating...'");
    assert_eq!(turns[9]["sentiment"], "POSITIVE", "'Great, thank you so much...'");
    assert_eq!(turns[1]["begin_ms"], 5100);
    assert!(
        turns.iter().all(|t| t.get("text").is_none()),
        "no text without STORE_TRANSCRIPT_TEXT"
    );
    assert!(
        turns
            .iter()
            .all(|t| t["sentiment_source"] == "lexicon" && t["language"] == "en-US")
    );
    assert_eq!(turns[0]["contact_timestamp"], "2026-03-08 10:15:00.000");

    let contact = lake.rows(&contact_key).await;
    assert_eq!(contact.len(), 1);
    assert_rows_match(&CONTACT_SENTIMENT, &contact);
    let c = &contact[0];
    assert_eq!(c["contact_id"], STD_CONTACT);
    assert_eq!(c["turn_count"], 11);
    assert_eq!(c["talk_time_source"], "turns");
    assert!(
        c["customer_score_start"].as_f64().unwrap() < c["customer_score_end"].as_f64().unwrap(),
        "{c}"
    );
    assert!(c["agent_talk_ms"].as_u64().unwrap() > 0 && c["customer_talk_ms"].as_u64().unwrap() > 0);
    assert_eq!(c["partition_time_source"], "key");

    // A replay writes the same keys: nothing is duplicated.
    lake.invoke(&fixture("transcript-standard-direct.json")).await;
    assert_eq!(lake.keys("sentiment_turns/").await, [turns_key.as_str()]);
    assert_eq!(lake.keys("contact_sentiment/").await, [contact_key]);
    assert_eq!(lake.rows(&turns_key).await, turns);
}

/// A Comprehend client that must not be called.
fn no_comprehend() -> (aws_sdk_comprehend::Client, aws_smithy_mocks::Rule) {
    let rule = mock!(aws_sdk_comprehend::Client::batch_detect_sentiment)
        .then_output(|| BatchDetectSentimentOutput::builder().build().unwrap());
    let client = mock_client!(aws_sdk_comprehend, RuleMode::MatchAny, [&rule]);
    (client, rule)
}

#[tokio::test]
async fn contact_lens_and_call_analytics_files_keep_their_own_sentiment_and_cost_no_comprehend_call() {
    let (comprehend, rule) = no_comprehend();
    let lake = lake(&[("SENTIMENT_PROVIDER", "comprehend")], Some(comprehend)).await;
    lake.put(
        &format!("connect/example-instance/Analysis/Voice/2026/03/08/{CL_CONTACT}_analysis_2026-03-08T14:32:10Z.json"),
        testdata("contact-lens-voice.json"),
    )
    .await;
    lake.put(
        &format!("transcripts/{CA_CONTACT}_20260308T1130Z.json"),
        testdata("call-analytics.json"),
    )
    .await;
    let (direct, _) = lake.invoke(&fixture("contact-lens-voice-direct.json")).await;
    assert_eq!(direct["objects"][0]["outcome"], "enriched", "{direct}");
    let (sqs, stats) = lake.invoke(&fixture("transcript-call-analytics-sqs.json")).await;
    assert_eq!(sqs, json!({"batchItemFailures": []}));
    assert_eq!(stats.transcripts_by_kind.get("call_analytics"), Some(&1));
    assert_eq!(rule.num_calls(), 0, "every turn already had a sentiment");

    let cl = lake
        .rows(&format!(
            "sentiment_turns/year=2026/month=03/day=08/hour=14/{CL_CONTACT}_contact_lens_voice.json"
        ))
        .await;
    assert_eq!(cl.len(), 6);
    assert!(
        cl.iter()
            .all(|t| t["sentiment_source"] == "source" && t.get("loudness").is_some())
    );
    assert_eq!(cl[1]["sentiment"], "NEGATIVE");
    let contact = lake
        .rows(&format!(
            "contact_sentiment/year=2026/month=03/day=08/hour=14/{CL_CONTACT}_contact_lens_voice.json"
        ))
        .await;
    assert_eq!(contact[0]["customer_talk_ms"], 11300);
    assert_eq!(contact[0]["sentiment_provider"], "source");

    // The Call Analytics transcript is keyed by the time in its name, not its event's time.
    let ca = lake
        .rows(&format!(
            "contact_sentiment/year=2026/month=03/day=08/hour=11/{CA_CONTACT}_call_analytics.json"
        ))
        .await;
    assert_eq!(ca[0]["interruption_count"], 1);
    assert_eq!(ca[0]["customer_score"], -0.12);
    assert_rows_match(&CONTACT_SENTIMENT, &ca);
}

#[tokio::test]
async fn the_comprehend_provider_scores_turns_without_sentiment_and_stores_redacted_text() {
    let batch = mock!(aws_sdk_comprehend::Client::batch_detect_sentiment).then_compute_output(|req| {
        let results = req
            .text_list()
            .iter()
            .enumerate()
            .map(|(i, _)| {
                BatchDetectSentimentItemResult::builder()
                    .index(i32::try_from(i).unwrap())
                    .sentiment(SentimentType::Mixed)
                    .sentiment_score(
                        SentimentScore::builder()
                            .positive(0.3)
                            .negative(0.1)
                            .neutral(0.2)
                            .mixed(0.4)
                            .build(),
                    )
                    .build()
            })
            .collect();
        BatchDetectSentimentOutput::builder()
            .set_result_list(Some(results))
            .set_error_list(Some(Vec::new()))
            .build()
            .unwrap()
    });
    let pii_texts: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = pii_texts.clone();
    let pii = mock!(aws_sdk_comprehend::Client::detect_pii_entities).then_compute_output(move |req| {
        let text = req.text().unwrap_or_default().to_owned();
        seen.lock().unwrap().push(text.clone());
        // "Sam" as a name, wherever it is.
        let chars: Vec<char> = text.chars().collect();
        let mut out = DetectPiiEntitiesOutput::builder();
        for i in 0..chars.len().saturating_sub(2) {
            if chars[i..i + 3] == ['S', 'a', 'm'] {
                out = out.entities(
                    PiiEntity::builder()
                        .r#type(PiiEntityType::Name)
                        .begin_offset(i32::try_from(i).unwrap())
                        .end_offset(i32::try_from(i + 3).unwrap())
                        .score(0.99)
                        .build(),
                );
            }
        }
        out.build()
    });
    let comprehend = mock_client!(aws_sdk_comprehend, RuleMode::MatchAny, [&batch, &pii]);
    let key = "test-key-test-key-test-key-test-key";
    let lake = lake(
        &[
            ("SENTIMENT_PROVIDER", "comprehend"),
            ("STORE_TRANSCRIPT_TEXT", "true"),
            ("PII_TOKEN_KEY", key),
        ],
        Some(comprehend),
    )
    .await;
    lake.put(
        &format!("connect/example-instance/Analysis/Chat/2026/03/08/{CHAT_CONTACT}_analysis_2026-03-08T16:05:44Z.json"),
        testdata("contact-lens-chat.json"),
    )
    .await;
    let (response, stats) = lake.invoke(&fixture("contact-lens-chat-sqs.json")).await;
    assert_eq!(response, json!({"batchItemFailures": []}));
    assert_eq!(batch.num_calls(), 1, "4 unscored messages, one batch");
    assert_eq!((stats.comprehend_calls, stats.chunks, stats.pii_calls), (1, 4, 1));
    assert_eq!(pii_texts.lock().unwrap().len(), 1, "all turns in one PII document");

    let turns = lake
        .rows(&format!(
            "sentiment_turns/year=2026/month=03/day=08/hour=16/{CHAT_CONTACT}_contact_lens_chat.json"
        ))
        .await;
    assert_rows_match(&SENTIMENT_TURNS, &turns);
    assert_eq!(turns.len(), 5);
    assert_eq!(
        turns[2]["sentiment_source"], "source",
        "the message that had a sentiment kept it"
    );
    assert_eq!(turns[1]["sentiment"], "MIXED");
    assert_eq!(turns[1]["sentiment_source"], "comprehend");
    assert_eq!(turns[1]["score"], 0.2);
    let text = turns[1]["text"].as_str().unwrap();
    assert!(
        text.starts_with("Hi, this is [NAME:tx_") && !text.contains("Sam"),
        "{text}"
    );
    assert!(turns.iter().all(|t| t["text_redaction"] == "comprehend_pii"));
    assert!(
        turns.iter().all(|t| t.get("begin_ms").is_some()),
        "chat offsets from AbsoluteTime"
    );
}

#[tokio::test]
async fn the_emulators_out_of_range_pii_offsets_and_unsupported_languages_leave_text_unstored() {
    // moto's DetectPiiEntities answers canned offsets (50..58, 230..259, ...) whatever the text:
    // past the end of this short call.
    let lake = lake(
        &[
            ("STORE_TRANSCRIPT_TEXT", "true"),
            ("PII_TOKEN_KEY", "k".repeat(32).as_str()),
        ],
        None,
    )
    .await;
    let word = |ch: &str, s: &str, e: &str, c: &str| {
        json!({"channel_label": ch, "start_time": s, "end_time": e, "type": "pronunciation",
               "alternatives": [{"confidence": "0.99", "content": c}]})
    };
    let short = json!({"jobName": format!("connect-lake-{STD_CONTACT}"), "status": "COMPLETED", "results": {
        "transcripts": [{"transcript": "Hello Sam. Hi."}],
        "items": [word("ch_0", "0.1", "0.4", "Hello"), word("ch_0", "0.4", "0.7", "Sam"),
                  {"channel_label": "ch_0", "type": "punctuation", "alternatives": [{"confidence": "0.0", "content": "."}]},
                  word("ch_1", "1.0", "1.2", "Hi")]}});
    let key = format!("transcripts/{STD_CONTACT}_20260308T1015Z.json");
    lake.put(&key, serde_json::to_vec(&short).unwrap()).await;
    lake.invoke(&fixture("transcript-standard-direct.json")).await;
    let turns = lake
        .rows(&format!(
            "sentiment_turns/year=2026/month=03/day=08/hour=10/{STD_CONTACT}_transcribe.json"
        ))
        .await;
    assert_eq!(turns.len(), 2);
    assert!(
        turns.iter().all(|t| t.get("text").is_none()),
        "never half-redacted text"
    );
    assert!(turns.iter().all(|t| t["text_redaction"] == "failed_invalid_offsets"));

    // A Swedish Contact Lens file: no PII detection for Swedish, no lexicon for it either.
    let mut doc: Value = serde_json::from_slice(&testdata("contact-lens-chat.json")).unwrap();
    doc["LanguageCode"] = json!("sv-SE");
    let sv_contact = "0d0e0f10-1112-4131-8415-161718191a1b";
    doc["CustomerMetadata"]["ContactId"] = json!(sv_contact);
    let sv_key =
        format!("connect/example-instance/Analysis/Chat/2026/03/09/{sv_contact}_analysis_2026-03-09T08:00:00Z.json");
    lake.put(&sv_key, serde_json::to_vec(&doc).unwrap()).await;
    let event = json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
        "eventTime": "2026-03-09T08:00:01.000Z", "s3": {"bucket": {"name": BUCKET}, "object": {"key": sv_key}}}]});
    let (response, _) = lake.invoke(&event).await;
    assert_eq!(response["objects"][0]["outcome"], "enriched", "{response}");
    let turns = lake
        .rows(&format!(
            "sentiment_turns/year=2026/month=03/day=09/hour=08/{sv_contact}_contact_lens_chat.json"
        ))
        .await;
    assert_eq!(turns[4]["sentiment"], "UNKNOWN");
    assert_eq!(turns[4]["sentiment_reason"], "unsupported_language");
    assert_eq!(
        turns[2]["sentiment"], "NEGATIVE",
        "source sentiment needs no language support"
    );
    // No PII detection for Swedish: the text is never stored verbatim (issue #18).
    assert!(turns.iter().all(|t| t.get("text").is_none()), "{turns:?}");
    assert_eq!(turns[4]["text_redaction"], "unsupported_language");
}

#[tokio::test]
async fn skip_rules_write_nothing_and_fail_nothing() {
    let lake = lake(&[], None).await;
    // The original beside the redacted copy: the copy is skipped (tests/sentiment_enricher.rs
    // shows a redacted copy without its original being read).
    lake.put(
        "connect/example-instance/Analysis/Voice/2026/03/08/c2d4e6f8-1a3b-4c5d-8e7f-9a0b1c2d3e04_analysis_2026-03-08T14:32:10Z.json",
        testdata("contact-lens-voice.json"),
    )
    .await;
    for (file, reason) in [
        ("probe-direct.json", "write_access_probe"),
        ("redacted-copy-direct.json", "redacted_copy"),
        // The transcript of this event was never put: deleted before it was read.
        ("transcript-standard-direct.json", "object_gone"),
    ] {
        let (response, stats) = lake.invoke(&fixture(file)).await;
        assert_eq!(response["objects"][0]["reason"], reason, "{file}: {response}");
        assert_eq!(stats.skipped.get(reason), Some(&1), "{file}");
    }
    let (response, stats) = lake.invoke(&fixture("test-event-sqs.json")).await;
    assert_eq!(response, json!({"batchItemFailures": []}));
    assert_eq!(stats.skipped.get("test_event"), Some(&1));
    let removed = json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectRemoved:Delete",
        "s3": {"bucket": {"name": BUCKET}, "object": {"key": "transcripts/x_20260308T1015Z.json"}}}]});
    let (response, _) = lake.invoke(&removed).await;
    assert_eq!(response["objects"][0]["reason"], "not_created");
    let other = json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": BUCKET}, "object": {"key": "ctr/year=2026/month=03/day=08/hour=10/part-0.parquet"}}}]});
    let (response, _) = lake.invoke(&other).await;
    assert_eq!(response["objects"][0]["reason"], "not_an_input");
    assert!(lake.keys("sentiment_turns/").await.is_empty());
    assert!(lake.keys("contact_sentiment/").await.is_empty());
}

#[tokio::test]
async fn a_bad_transcript_fails_only_its_own_sqs_message() {
    let lake = lake(&[], None).await;
    lake.put(
        &format!("connect/example-instance/Analysis/Chat/2026/03/08/{CHAT_CONTACT}_analysis_2026-03-08T16:05:44Z.json"),
        testdata("contact-lens-chat.json"),
    )
    .await;
    let bad_key = "transcripts/11111111-2222-4333-8444-555555555555_20260308T1200Z.json";
    lake.put(bad_key, b"{\"results\": {\"items\": [".to_vec()).await;
    let mut batch = fixture("contact-lens-chat-sqs.json");
    let bad_body = json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": BUCKET}, "object": {"key": bad_key, "size": 24}}}]});
    let mut bad = batch["Records"][0].clone();
    bad["messageId"] = json!("bad-message");
    bad["body"] = json!(bad_body.to_string());
    let mut not_an_event = batch["Records"][0].clone();
    not_an_event["messageId"] = json!("not-an-event");
    not_an_event["body"] = json!("{\"hello\": 1}");
    batch["Records"].as_array_mut().unwrap().extend([bad, not_an_event]);

    let (response, stats) = lake.invoke(&batch).await;
    assert_eq!(
        response,
        json!({"batchItemFailures": [{"itemIdentifier": "bad-message"}, {"itemIdentifier": "not-an-event"}]})
    );
    assert_eq!(stats.failed.get("not_json"), Some(&1));
    assert_eq!(stats.failed.get("bad_message"), Some(&1));
    assert_eq!(
        lake.keys("contact_sentiment/").await.len(),
        1,
        "the good message's rows are written"
    );

    // Invoked directly, a failed object fails the invocation, so S3's async retry runs.
    let direct = json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": BUCKET}, "object": {"key": bad_key}}}]});
    let (result, _) = process(&lake.deps, &direct, NOW).await;
    let err = result.unwrap_err();
    assert!(err.to_string().contains("1 of 1 objects failed"), "{err}");
}
