//! The real `sentiment-enricher` binary, behind a local Lambda Runtime API, against the local
//! emulator, with every file in `events/sentiment-enricher/`. The emulator never writes
//! transcripts and has no `BatchDetectSentiment`, so the test puts the transcript files into S3
//! itself and the function runs with the lexicon provider, as the local demo does.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should say where

use std::time::Duration;

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use connect_lake::schema::{CONTACT_SENTIMENT, SENTIMENT_TURNS};
use connect_lake::testing::assert_rows_match;
use connect_lake_e2e::{TEST_PII_KEY, event_files, function_binary};
use lambda_harness::{Emulator, LocalFunction, workspace_root};
use serde_json::{Value, json};

const BUCKET: &str = "connect-lake-example";
const TIMEOUT: Duration = Duration::from_secs(60);

/// The objects the event files point at, and the test data to put there.
const OBJECTS: [(&str, &str); 4] = [
    (
        "transcripts/7a1c3f52-94e8-4d0b-b6a2-2f6c1e8d9a01_20260308T1015Z.json",
        "transcribe-channel-id.json",
    ),
    (
        "transcripts/3e9b6c10-58d2-4f7a-a1c4-8b0d2e7f6a02_20260308T1130Z.json",
        "call-analytics.json",
    ),
    (
        "connect/example-instance/Analysis/Voice/2026/03/08/c2d4e6f8-1a3b-4c5d-8e7f-9a0b1c2d3e04_analysis_2026-03-08T14:32:10Z.json",
        "contact-lens-voice.json",
    ),
    (
        "connect/example-instance/Analysis/Chat/2026/03/08/b5e7a9c1-2d4f-4a6b-8c0d-1e3f5a7b9c05_analysis_2026-03-08T16:05:44Z.json",
        "contact-lens-chat.json",
    ),
];

fn s3(endpoint: &str) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .force_path_style(true)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "emulator"))
            .build(),
    )
}

fn transcribe(endpoint: &str) -> aws_sdk_transcribe::Client {
    aws_sdk_transcribe::Client::from_conf(
        aws_sdk_transcribe::Config::builder()
            .behavior_version(aws_sdk_transcribe::config::BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(aws_sdk_transcribe::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_transcribe::config::Credentials::new(
                "testing", "testing", None, None, "emulator",
            ))
            .build(),
    )
}

/// An emulator with the bucket and the transcripts, and the binary pointed at it.
async fn start(extra: &[(&'static str, &str)]) -> (Emulator, aws_sdk_s3::Client, LocalFunction) {
    let emulator = Emulator::start().await.expect("moto starts (make tools installs it)");
    let s3 = s3(&emulator.endpoint());
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    for (key, file) in OBJECTS {
        let body = std::fs::read(
            workspace_root()
                .join("functions/sentiment-enricher/testdata")
                .join(file),
        )
        .unwrap();
        s3.put_object()
            .bucket(BUCKET)
            .key(key)
            .body(body.into())
            .send()
            .await
            .unwrap();
    }
    let mut env = emulator.env();
    env.push(("LAKE_BUCKET", BUCKET.to_owned()));
    env.push(("SENTIMENT_PROVIDER", "lexicon".to_owned()));
    env.push(("RECORDINGS_PREFIX", "connect/".to_owned()));
    env.push(("TRANSCRIPTS_PREFIX", "transcripts/".to_owned()));
    for (k, v) in extra {
        env.push((k, (*v).to_owned()));
    }
    let function = LocalFunction::start(&function_binary("sentiment-enricher"), env)
        .await
        .expect("sentiment-enricher starts");
    (emulator, s3, function)
}

async fn keys(s3: &aws_sdk_s3::Client, prefix: &str) -> Vec<String> {
    let out = s3.list_objects_v2().bucket(BUCKET).prefix(prefix).send().await.unwrap();
    let mut keys: Vec<String> = out
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect();
    keys.sort();
    keys
}

async fn rows(s3: &aws_sdk_s3::Client, key: &str) -> Vec<Value> {
    let out = s3.get_object().bucket(BUCKET).key(key).send().await.unwrap();
    let bytes = out.body.collect().await.unwrap().into_bytes();
    String::from_utf8(bytes.to_vec())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn every_event_file_gets_its_expected_outcome_and_the_lake_gets_its_rows() {
    let (emulator, s3, function) = start(&[]).await;
    let files = event_files("sentiment-enricher");
    assert!(files.len() >= 9, "fixtures present: {files:?}");
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let invocation = function.invoke(std::fs::read(&file).unwrap(), TIMEOUT).await.unwrap();
        let response: Value = serde_json::from_slice(invocation.response().unwrap()).unwrap();
        let outcome = &response["objects"][0];
        match name.as_str() {
            n if n.ends_with("-sqs.json") => {
                assert_eq!(response, json!({"batchItemFailures": []}), "{name}")
            }
            "recording-direct.json" => assert_eq!(outcome["outcome"], "transcription_job_started", "{name}"),
            "contact-lens-voice-direct.json" | "transcript-standard-direct.json" => {
                assert_eq!(outcome["outcome"], "enriched", "{name}: {response}")
            }
            "probe-direct.json" => assert_eq!(outcome["reason"], "write_access_probe", "{name}"),
            "redacted-copy-direct.json" => assert_eq!(outcome["reason"], "redacted_copy", "{name}"),
            other => panic!("no expectation for event file {other}"),
        }
    }

    let turn_files = keys(&s3, "sentiment_turns/").await;
    let contact_files = keys(&s3, "contact_sentiment/").await;
    assert_eq!(turn_files.len(), 4, "{turn_files:?}");
    assert_eq!(contact_files.len(), 4, "{contact_files:?}");
    for key in &turn_files {
        let (table, _) = connect_lake::schema::parse_object_key(key).expect("a curated-table key");
        assert_eq!(table.name, "sentiment_turns");
        assert_rows_match(&SENTIMENT_TURNS, &rows(&s3, key).await);
    }
    let mut kinds = Vec::new();
    for key in &contact_files {
        let contact = rows(&s3, key).await;
        assert_eq!(contact.len(), 1, "one row per contact and source");
        assert_rows_match(&CONTACT_SENTIMENT, &contact);
        kinds.push((
            contact[0]["source_kind"].as_str().unwrap().to_owned(),
            contact[0]["source"].as_str().unwrap().to_owned(),
        ));
    }
    kinds.sort();
    assert_eq!(
        kinds,
        [
            ("call_analytics".to_owned(), "transcribe".to_owned()),
            ("contact_lens_chat".to_owned(), "contact_lens".to_owned()),
            ("contact_lens_voice".to_owned(), "contact_lens".to_owned()),
            ("transcribe".to_owned(), "transcribe".to_owned()),
        ]
    );

    // The recording's job was started once, though two events announced it.
    let jobs = transcribe(&emulator.endpoint())
        .list_transcription_jobs()
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = jobs
        .transcription_job_summaries()
        .iter()
        .filter_map(|j| j.transcription_job_name())
        .collect();
    assert_eq!(names, ["connect-lake-7a1c3f52-94e8-4d0b-b6a2-2f6c1e8d9a01"]);
}

#[tokio::test]
async fn metrics_go_to_stdout_as_emf_and_logs_carry_no_transcript_text() {
    let (_emulator, _s3, function) = start(&[("STORE_TRANSCRIPT_TEXT", "true"), ("PII_TOKEN_KEY", TEST_PII_KEY)]).await;
    let event =
        std::fs::read(workspace_root().join("events/sentiment-enricher/transcript-standard-direct.json")).unwrap();
    let invocation = function.invoke(event, TIMEOUT).await.unwrap();
    invocation.response().unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let emf: Vec<Value> = function
        .process
        .stdout_lines()
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let totals = emf
        .iter()
        .find(|v| v.get("ObjectsIn").is_some())
        .expect("an EMF line with the totals");
    assert_eq!(totals["ObjectsIn"], 1.0);
    assert_eq!(totals["TranscriptsProcessed"], 1.0);
    assert_eq!(totals["TurnsWritten"], 11.0);
    assert_eq!(totals["PiiDetectionCalls"], 1.0);
    assert_eq!(totals["_aws"]["CloudWatchMetrics"][0]["Namespace"], "ConnectLake");
    assert!(
        emf.iter()
            .any(|v| v["Kind"] == "transcribe" && v["TranscriptsProcessed"] == 1.0)
    );
    let stderr = function.process.stderr_lines().join("\n");
    assert!(stderr.contains("transcript enriched"), "{stderr}");
    for phrase in ["frustrating", "charged twice", "four two one", "Sam"] {
        assert!(!stderr.contains(phrase), "transcript text in the logs: {phrase}");
    }
}

#[tokio::test]
async fn an_event_that_is_not_an_s3_event_is_a_function_error_and_the_process_survives() {
    let (_emulator, _s3, function) = start(&[]).await;
    let invocation = function
        .invoke(&br#"{"Name": "ContactFlowEvent"}"#[..], TIMEOUT)
        .await
        .unwrap();
    let err = invocation.response().unwrap_err();
    assert!(err.contains("UnsupportedEvent"), "{err}");
    let probe = std::fs::read(workspace_root().join("events/sentiment-enricher/probe-direct.json")).unwrap();
    let invocation = function.invoke(probe, TIMEOUT).await.unwrap();
    assert!(invocation.response().is_ok());
}

#[tokio::test]
async fn without_lake_bucket_the_function_fails_its_init_naming_the_variable() {
    let err = match LocalFunction::start(&function_binary("sentiment-enricher"), []).await {
        Ok(_) => panic!("init must fail without LAKE_BUCKET"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("LAKE_BUCKET"), "{err}");
}

/// Connect records the agent in the right channel (`ch_1`) and the customer in the left
/// (`ch_0`). A transcript whose agent lines are scripted positive and customer lines negative
/// must come out with a positive agent and a negative customer, through the real binary with the
/// default configuration.
#[tokio::test]
async fn the_right_channel_is_the_agent_and_the_left_the_customer_by_default() {
    let (_emulator, s3, function) = start(&[]).await;
    let key = "transcripts/9d0e1f2a-3b4c-4d5e-8f6a-7b8c9d0e1f2a_20260308T1212Z.json";
    let body = std::fs::read(
        workspace_root().join("functions/sentiment-enricher/testdata/transcribe-agent-right-channel.json"),
    )
    .unwrap();
    s3.put_object()
        .bucket(BUCKET)
        .key(key)
        .body(body.into())
        .send()
        .await
        .unwrap();
    let event = json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-03-08T12:20:00.000Z", "eventName": "ObjectCreated:Put",
        "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": BUCKET, "arn": format!("arn:aws:s3:::{BUCKET}")},
               "object": {"key": key, "size": 1}}
    }]});
    let invocation = function.invoke_json(&event, TIMEOUT).await.unwrap();
    invocation.response().unwrap();
    let contact_keys: Vec<String> = keys(&s3, "contact_sentiment/")
        .await
        .into_iter()
        .filter(|k| k.contains("9d0e1f2a-3b4c-4d5e-8f6a-7b8c9d0e1f2a"))
        .collect();
    assert_eq!(contact_keys.len(), 1, "{contact_keys:?}");
    let contact = &rows(&s3, &contact_keys[0]).await[0];
    assert_eq!(contact["agent_sentiment"], "POSITIVE", "{contact}");
    assert_eq!(contact["customer_sentiment"], "NEGATIVE", "{contact}");
    assert!(contact["agent_score"].as_f64().unwrap() > 0.3, "{contact}");
    assert!(contact["customer_score"].as_f64().unwrap() < -0.3, "{contact}");

    let turn_keys: Vec<String> = keys(&s3, "sentiment_turns/")
        .await
        .into_iter()
        .filter(|k| k.contains("9d0e1f2a-3b4c-4d5e-8f6a-7b8c9d0e1f2a"))
        .collect();
    let turns = rows(&s3, &turn_keys[0]).await;
    assert_eq!(turns.len(), 6);
    for turn in &turns {
        let (participant, label) = (
            turn["participant"].as_str().unwrap(),
            turn["speaker_label"].as_str().unwrap(),
        );
        match label {
            "ch_1" => assert_eq!(
                (participant, turn["sentiment"].as_str()),
                ("AGENT", Some("POSITIVE")),
                "{turn}"
            ),
            "ch_0" => assert_eq!(
                (participant, turn["sentiment"].as_str()),
                ("CUSTOMER", Some("NEGATIVE")),
                "{turn}"
            ),
            other => panic!("unexpected speaker label {other}"),
        }
    }
}

async fn put(s3: &aws_sdk_s3::Client, key: &str, body: Vec<u8>) {
    s3.put_object()
        .bucket(BUCKET)
        .key(key)
        .body(body.into())
        .send()
        .await
        .unwrap();
}

fn created(key: &str) -> Value {
    json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-03-08T12:50:00.000Z", "eventName": "ObjectCreated:Put",
        "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": BUCKET, "arn": format!("arn:aws:s3:::{BUCKET}")},
               "object": {"key": key, "size": 1}}
    }]})
}

async fn rows_of(s3: &aws_sdk_s3::Client, table: &str, contact_id: &str) -> Vec<Value> {
    let keys: Vec<String> = keys(s3, &format!("{table}/"))
        .await
        .into_iter()
        .filter(|k| k.contains(contact_id))
        .collect();
    assert_eq!(keys.len(), 1, "{keys:?}");
    rows(s3, &keys[0]).await
}

/// An automated (IVR) recording has the customer in the right channel (`ch_1`) and the system
/// prompts in the left (`ch_0`). The contact record in the lake (here a Parquet `ctr` object, as
/// Firehose writes it, with no agent) tells the function; the scripted-negative right channel
/// must come out as a negative customer, the prompts as `SYSTEM`, and no agent at all.
#[tokio::test]
async fn an_ivr_only_contact_has_the_customer_right_and_prompts_left_by_its_contact_record() {
    let (_emulator, s3, function) = start(&[]).await;
    let contact = "4c5d6e7f-8a9b-4c0d-9e1f-2a3b4c5d6e7f";
    let ctr_rows = format!(
        "{}\n{}\n",
        json!({"contact_id": "someone-else", "agent_arn": "arn:aws:connect:us-east-1:012345678901:instance/i/agent/a",
               "last_update_timestamp": "2026-03-08 12:45:00.000", "partition_time_source": "initiation"}),
        json!({"contact_id": contact, "channel": "VOICE", "initiation_method": "INBOUND",
               "initiation_timestamp": "2026-03-08 12:39:50.000",
               "last_update_timestamp": "2026-03-08 12:42:00.000", "partition_time_source": "initiation"}),
    );
    let parquet = lakectl::convert::rows_to_parquet(&connect_lake::schema::CTR, ctr_rows.as_bytes())
        .unwrap()
        .parquet
        .unwrap();
    put(
        &s3,
        "ctr/year=2026/month=03/day=08/hour=12/ctr-1-2026-03-08-12-45-00.parquet",
        parquet,
    )
    .await;
    let key = format!("transcripts/{contact}_20260308T1240Z.json");
    put(
        &s3,
        &key,
        std::fs::read(workspace_root().join("functions/sentiment-enricher/testdata/transcribe-ivr-only.json")).unwrap(),
    )
    .await;
    function
        .invoke_json(&created(&key), TIMEOUT)
        .await
        .unwrap()
        .response()
        .unwrap();

    let contact_row = &rows_of(&s3, "contact_sentiment", contact).await[0];
    assert_eq!(contact_row["customer_sentiment"], "NEGATIVE", "{contact_row}");
    assert!(contact_row["customer_score"].as_f64().unwrap() < -0.3, "{contact_row}");
    assert!(
        contact_row.get("agent_sentiment").is_none_or(Value::is_null),
        "{contact_row}"
    );
    let turns = rows_of(&s3, "sentiment_turns", contact).await;
    assert_eq!(turns.len(), 6);
    for turn in &turns {
        let expected = match turn["speaker_label"].as_str().unwrap() {
            "ch_1" => "CUSTOMER",
            "ch_0" => "SYSTEM",
            other => panic!("unexpected speaker label {other}"),
        };
        assert_eq!(turn["participant"], expected, "{turn}");
    }
    assert_rows_match(&SENTIMENT_TURNS, &turns);
}

/// The same function with a contact record that says an agent answered (JSON lines this time)
/// reads the agent layout: the right channel is the agent.
#[tokio::test]
async fn a_contact_that_reached_an_agent_keeps_the_agent_on_the_right_channel() {
    let (_emulator, s3, function) = start(&[]).await;
    let contact = "9d0e1f2a-3b4c-4d5e-8f6a-7b8c9d0e1f2a";
    let row = json!({"contact_id": contact, "channel": "VOICE",
        "agent_connected_timestamp": "2026-03-08 12:10:30.000",
        "agent_arn": "arn:aws:connect:us-east-1:012345678901:instance/i/agent/a",
        "last_update_timestamp": "2026-03-08 12:20:00.000"});
    // The contact began in the hour before the recording's time: that partition is read too.
    put(
        &s3,
        "ctr/year=2026/month=03/day=08/hour=11/ctr-1.json",
        format!("{row}\n").into_bytes(),
    )
    .await;
    let key = format!("transcripts/{contact}_20260308T1205Z.json");
    put(
        &s3,
        &key,
        std::fs::read(
            workspace_root().join("functions/sentiment-enricher/testdata/transcribe-agent-right-channel.json"),
        )
        .unwrap(),
    )
    .await;
    function
        .invoke_json(&created(&key), TIMEOUT)
        .await
        .unwrap()
        .response()
        .unwrap();
    let contact_row = &rows_of(&s3, "contact_sentiment", contact).await[0];
    assert_eq!(contact_row["agent_sentiment"], "POSITIVE", "{contact_row}");
    assert_eq!(contact_row["customer_sentiment"], "NEGATIVE", "{contact_row}");
    let turns = rows_of(&s3, "sentiment_turns", contact).await;
    assert!(turns.iter().all(|t| t["participant"] != "SYSTEM"), "{turns:?}");
}

fn testdata(file: &str) -> Vec<u8> {
    std::fs::read(
        workspace_root()
            .join("functions/sentiment-enricher/testdata")
            .join(file),
    )
    .unwrap()
}

async fn invoke_outcome(function: &LocalFunction, key: &str) -> Value {
    let invocation = function.invoke_json(&created(key), TIMEOUT).await.unwrap();
    let response: Value = serde_json::from_slice(invocation.response().unwrap()).unwrap();
    response["objects"][0].clone()
}

/// An instance configured for redacted Contact Lens output only writes no original analysis
/// file: the redacted one (AWS's documented redacted output, `[PII]` in the text) is then read.
/// Once an original exists the redacted copy is skipped, and the original's rows replace the
/// redacted copy's under the same keys: one `contact_sentiment` row per contact, never two.
#[tokio::test]
async fn a_redacted_contact_lens_file_is_read_when_no_original_exists_and_never_beside_it() {
    let (_emulator, s3, function) = start(&[]).await;
    let contact = "e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b";
    let redacted = format!(
        "connect/example-instance/Analysis/Voice/Redacted/2026/03/08/{contact}_analysis_redacted_2026-03-08T15:03:40Z.json"
    );
    put(&s3, &redacted, testdata("contact-lens-voice-redacted.json")).await;
    let outcome = invoke_outcome(&function, &redacted).await;
    assert_eq!(outcome["outcome"], "enriched", "{outcome}");
    let rows = rows_of(&s3, "contact_sentiment", contact).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["source"], "contact_lens", "{}", rows[0]);
    assert_eq!(rows[0]["source_kind"], "contact_lens_voice");
    assert_eq!(rows[0]["source_object"], redacted.as_str());
    // The file's own overall scores, -5..5 rescaled: customer 0.9, agent 0.
    assert_eq!(rows[0]["customer_score"], 0.18, "{}", rows[0]);
    assert_eq!(rows[0]["agent_score"], 0.0, "{}", rows[0]);
    assert_rows_match(&CONTACT_SENTIMENT, &rows);
    let turns = rows_of(&s3, "sentiment_turns", contact).await;
    assert_eq!(turns.len(), 6);
    assert_rows_match(&SENTIMENT_TURNS, &turns);

    // The original arrives (an instance keeping both): it is read, and the redacted copy skipped.
    let original =
        format!("connect/example-instance/Analysis/Voice/2026/03/08/{contact}_analysis_2026-03-08T15:03:40Z.json");
    let mut doc: Value = serde_json::from_slice(&testdata("contact-lens-voice.json")).unwrap();
    doc["CustomerMetadata"]["ContactId"] = json!(contact);
    put(&s3, &original, serde_json::to_vec(&doc).unwrap()).await;
    assert_eq!(invoke_outcome(&function, &original).await["outcome"], "enriched");
    let outcome = invoke_outcome(&function, &redacted).await;
    assert_eq!(
        (outcome["outcome"].as_str(), outcome["reason"].as_str()),
        (Some("skipped"), Some("redacted_copy")),
        "{outcome}"
    );
    let rows = rows_of(&s3, "contact_sentiment", contact).await;
    assert_eq!(rows.len(), 1, "one row per contact: {rows:?}");
    assert_eq!(rows[0]["source_object"], original.as_str());
    assert_eq!(rows_of(&s3, "sentiment_turns", contact).await.len(), 6);
}

async fn transcription_jobs(emulator: &Emulator) -> Vec<String> {
    let jobs = transcribe(&emulator.endpoint())
        .list_transcription_jobs()
        .send()
        .await
        .unwrap();
    let mut names: Vec<String> = jobs
        .transcription_job_summaries()
        .iter()
        .filter_map(|j| j.transcription_job_name().map(str::to_owned))
        .collect();
    names.sort();
    names
}

/// A contact record whose `ContactLens.ConversationalAnalytics.Configuration.Enabled` is true
/// (the ctr table's `contact_lens_enabled`) means Contact Lens writes this call's sentiment: by
/// default its recording is not transcribed. A contact without it is; with
/// `ENRICH_SKIP_WHEN_CONTACT_LENS=false` both are.
#[tokio::test]
async fn a_recording_contact_lens_analyses_is_not_transcribed_unless_the_skip_is_turned_off() {
    let analysed = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
    let plain = "5f6e7d8c-9b0a-4c1d-8e2f-3a4b5c6d7e8f";
    let ctr = [(analysed, true), (plain, false)]
        .iter()
        .map(|(id, lens)| {
            format!(
                "{}\n",
                json!({"contact_id": id, "channel": "VOICE", "contact_lens_enabled": lens,
                       "agent_connected_timestamp": "2026-03-08 15:00:20.000",
                       "last_update_timestamp": "2026-03-08 15:09:00.000"})
            )
        })
        .collect::<String>();
    let recording =
        |id: &str| format!("connect/example-instance/CallRecordings/2026/03/08/{id}_20260308T15:02_UTC.wav");

    for (skip, expected_jobs) in [(None, vec![plain]), (Some("false"), vec![analysed, plain])] {
        let extra: Vec<(&'static str, &str)> = skip.map(|v| ("ENRICH_SKIP_WHEN_CONTACT_LENS", v)).into_iter().collect();
        let (emulator, s3, function) = start(&extra).await;
        put(
            &s3,
            "ctr/year=2026/month=03/day=08/hour=15/ctr-1.json",
            ctr.clone().into_bytes(),
        )
        .await;
        for id in [analysed, plain] {
            let outcome = invoke_outcome(&function, &recording(id)).await;
            let want = if expected_jobs.contains(&id) {
                ("transcription_job_started", None)
            } else {
                ("skipped", Some("contact_lens_analyses"))
            };
            assert_eq!(
                (outcome["outcome"].as_str().unwrap(), outcome["reason"].as_str()),
                want,
                "{id} with skip {skip:?}: {outcome}"
            );
        }
        let want: Vec<String> = expected_jobs.iter().map(|id| format!("connect-lake-{id}")).collect();
        assert_eq!(transcription_jobs(&emulator).await, want, "skip {skip:?}");
    }
}
