use super::*;
use crate::keys::Prefixes;
use crate::transcript::{Participant, Sentiment, SourceKind, SpeakerMap};
use connect_lake::s3_event::parse_trigger;

const KEY: &str = "test-key-test-key-test-key-test-key";

fn workspace_file(path: &str) -> Vec<u8> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::fs::read(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn config_defaults_match_the_template() {
    let c = Config::from_env(&[("LAKE_BUCKET", "lake")]).unwrap();
    assert_eq!(c.lake_bucket, "lake");
    assert_eq!(c.prefixes.recordings, "connect/");
    assert_eq!(c.prefixes.transcripts, "transcripts/");
    assert_eq!(c.transcribe_language, "en-US");
    assert_eq!(c.provider, ProviderKind::Comprehend);
    assert!(!c.store_text);
    assert!(c.tokenizer.is_none(), "no key is needed when no text is stored");
    assert_eq!(
        c.speakers.agent_label(),
        "ch_1",
        "Connect records the agent in the right channel"
    );
    assert_eq!(c.metrics_namespace, "ConnectLake");
}

#[test]
fn config_errors_name_the_variable() {
    let cases: [(&[(&str, &str)], &str); 7] = [
        (&[], "LAKE_BUCKET"),
        (
            &[("LAKE_BUCKET", "l"), ("SENTIMENT_PROVIDER", "gpt")],
            "SENTIMENT_PROVIDER",
        ),
        (
            &[("LAKE_BUCKET", "l"), ("TRANSCRIBE_LANGUAGE", "english")],
            "TRANSCRIBE_LANGUAGE",
        ),
        (
            &[("LAKE_BUCKET", "l"), ("STORE_TRANSCRIPT_TEXT", "maybe")],
            "STORE_TRANSCRIPT_TEXT",
        ),
        (
            &[("LAKE_BUCKET", "l"), ("STORE_TRANSCRIPT_TEXT", "true")],
            "PII_TOKEN_KEY",
        ),
        (&[("LAKE_BUCKET", "l"), ("PII_TOKEN_KEY", "short")], "PII_TOKEN_KEY"),
        (&[("LAKE_BUCKET", "l"), ("AGENT_CHANNEL", "left")], "AGENT_CHANNEL"),
    ];
    for (vars, name) in cases {
        let env: std::collections::HashMap<String, String> =
            vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let err = Config::from_env(&env).unwrap_err().to_string();
        assert!(err.contains(name), "{vars:?}: {err}");
        assert!(!err.contains("short"), "secrets never appear in messages: {err}");
    }
    let c = Config::from_env(&[
        ("LAKE_BUCKET", "l"),
        ("STORE_TRANSCRIPT_TEXT", "TRUE"),
        ("PII_TOKEN_KEY", KEY),
        ("SENTIMENT_PROVIDER", "lexicon"),
        ("RECORDINGS_PREFIX", "calls"),
        ("AGENT_CHANNEL", "ch_1"),
        ("TRANSCRIBE_LANGUAGE", "es-US"),
    ])
    .unwrap();
    assert!(c.store_text && c.tokenizer.is_some());
    assert_eq!(c.provider, ProviderKind::Lexicon);
    assert_eq!(c.prefixes.recordings, "calls/");
    assert_eq!(c.speakers.participant("ch_1"), Participant::Agent);
    assert_eq!(c.transcribe_language, "es-US");
}

#[test]
fn metrics_have_totals_and_low_cardinality_dimensions_only() {
    let mut s = Stats {
        objects: 4,
        jobs_started: 1,
        comprehend_calls: 3,
        chunks: 60,
        document_errors: 2,
        ..Stats::default()
    };
    s.transcripts_by_kind.insert("transcribe", 2);
    s.skipped.insert("write_access_probe", 1);
    s.failed.insert("comprehend_failed", 1);
    let lines: Vec<serde_json::Value> = s
        .metrics("ConnectLake")
        .iter()
        .flat_map(|m| m.to_lines(0))
        .map(|l| serde_json::from_str(&l).unwrap())
        .collect();
    let totals = &lines[0];
    assert_eq!(totals["Function"], "sentiment-enricher");
    assert_eq!(totals["ObjectsIn"], 4.0);
    assert_eq!(totals["TranscriptsProcessed"], 2.0);
    assert_eq!(totals["ComprehendCalls"], 3.0);
    assert_eq!(totals["Chunks"], 60.0);
    assert_eq!(totals["DocumentErrors"], 2.0);
    assert_eq!(totals["Skipped"], 1.0);
    assert_eq!(totals["ObjectsFailed"], 1.0);
    assert!(
        lines
            .iter()
            .any(|l| l["Kind"] == "transcribe" && l["TranscriptsProcessed"] == 2.0)
    );
    assert!(
        lines
            .iter()
            .any(|l| l["Reason"] == "write_access_probe" && l["Skipped"] == 1.0)
    );
    assert!(
        lines
            .iter()
            .any(|l| l["Reason"] == "comprehend_failed" && l["ObjectsFailed"] == 1.0)
    );
    for l in &lines {
        let dims = &l["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0];
        for d in dims.as_array().unwrap() {
            assert!(["Function", "Kind", "Reason"].contains(&d.as_str().unwrap()), "{d}");
        }
    }
}

#[test]
fn every_testdata_transcript_parses_into_the_expected_turns() {
    let map = SpeakerMap::default();
    let std = transcript::parse(
        &workspace_file("functions/sentiment-enricher/testdata/transcribe-channel-id.json"),
        &map,
    )
    .unwrap();
    assert_eq!(std.kind, SourceKind::Transcribe);
    assert_eq!(std.turns.len(), 11);
    assert_eq!(std.turns[0].participant, Participant::Agent);
    assert_eq!(
        std.turns[0].text,
        "Thank you for calling Example Telecom, my name is Sam. How can I help you today?"
    );
    assert_eq!(std.turns[1].participant, Participant::Customer);
    assert_eq!(std.turns[1].begin_ms, Some(5100));
    assert!(std.turns.iter().all(|t| t.sentiment.is_none()));
    assert_eq!(
        std.job_name.as_deref().and_then(keys::contact_id_from_job_name),
        Some("7a1c3f52-94e8-4d0b-b6a2-2f6c1e8d9a01")
    );

    let ca = transcript::parse(
        &workspace_file("functions/sentiment-enricher/testdata/call-analytics.json"),
        &map,
    )
    .unwrap();
    assert_eq!(ca.kind, SourceKind::CallAnalytics);
    assert_eq!(ca.turns.len(), 6);
    assert_eq!(ca.turns[2].sentiment, Some(Sentiment::Negative));
    assert!(
        ca.turns[2].loudness.is_some(),
        "null loudness values are skipped, not fatal"
    );
    assert_eq!(ca.characteristics.as_ref().and_then(|c| c.interruption_count), Some(1));

    let voice = transcript::parse(
        &workspace_file("functions/sentiment-enricher/testdata/contact-lens-voice.json"),
        &map,
    )
    .unwrap();
    assert_eq!(voice.kind, SourceKind::ContactLensVoice);
    assert_eq!(
        voice.contact_id.as_deref(),
        Some("c2d4e6f8-1a3b-4c5d-8e7f-9a0b1c2d3e04")
    );
    assert!(voice.turns.iter().all(|t| t.sentiment.is_some()));

    let chat = transcript::parse(
        &workspace_file("functions/sentiment-enricher/testdata/contact-lens-chat.json"),
        &map,
    )
    .unwrap();
    assert_eq!(chat.kind, SourceKind::ContactLensChat);
    assert_eq!(chat.turns.len(), 5, "the participant-joined event is not a turn");
    assert_eq!(chat.turns[0].participant, Participant::System);
    assert_eq!(chat.turns[2].participant, Participant::Customer);
    assert_eq!(
        chat.turns[4].sentiment, None,
        "a message without sentiment is scored by the provider"
    );
}

/// The decoded key of the single object of a fixture, or `None` for a test event.
fn fixture_keys(name: &str) -> Vec<Option<String>> {
    let event: serde_json::Value =
        serde_json::from_slice(&workspace_file(&format!("events/sentiment-enricher/{name}"))).unwrap();
    let notifications = match parse_trigger(&event).unwrap() {
        Trigger::Direct(n) => vec![n],
        Trigger::Sqs(messages) => messages.into_iter().map(|m| m.body.unwrap()).collect(),
    };
    notifications
        .into_iter()
        .flat_map(|n| match n {
            Notification::TestEvent => vec![None],
            Notification::Objects(o) => o.into_iter().map(|o| Some(o.key)).collect(),
        })
        .collect()
}

#[test]
fn every_event_fixture_is_classified_as_intended() {
    let prefixes = Prefixes {
        recordings: "connect/".into(),
        transcripts: "transcripts/".into(),
    };
    for (file, want) in [
        ("recording-direct.json", Ok(ObjectKind::Recording)),
        ("recording-sqs.json", Ok(ObjectKind::Recording)),
        ("transcript-standard-direct.json", Ok(ObjectKind::Transcript)),
        ("transcript-call-analytics-sqs.json", Ok(ObjectKind::Transcript)),
        ("contact-lens-voice-direct.json", Ok(ObjectKind::ContactLens)),
        ("contact-lens-chat-sqs.json", Ok(ObjectKind::ContactLens)),
        // Read only when its original is missing, which the handler checks in S3.
        ("redacted-copy-direct.json", Ok(ObjectKind::ContactLensRedacted)),
        ("probe-direct.json", Err(SkipReason::WriteAccessProbe)),
    ] {
        let keys = fixture_keys(file);
        assert_eq!(keys.len(), 1, "{file}");
        let key = keys[0].clone().unwrap();
        assert_eq!(keys::classify(&key, &prefixes), want, "{file}: {key}");
        assert!(!key.contains('%'), "{file}: keys are decoded: {key}");
    }
    assert_eq!(fixture_keys("test-event-sqs.json"), [None]);
    let rec = fixture_keys("recording-direct.json")[0].clone().unwrap();
    assert_eq!(
        keys::time_in_name(&rec),
        Some(time::macros::datetime!(2026-03-08 10:15 UTC)),
        "the recording's time survives the key decoding"
    );
}
