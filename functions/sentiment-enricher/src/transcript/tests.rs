use super::*;
use serde_json::json;

fn parse_value(v: &Value) -> Result<Transcript, TranscriptError> {
    parse(v.to_string().as_bytes(), &SpeakerMap::default())
}

fn word(label: &str, start: &str, end: &str, content: &str) -> Value {
    json!({"channel_label": label, "start_time": start, "end_time": end,
           "alternatives": [{"confidence": "0.99", "content": content}], "type": "pronunciation"})
}

fn punct(label: Option<&str>, content: &str) -> Value {
    let mut v = json!({"alternatives": [{"confidence": "0.0", "content": content}], "type": "punctuation"});
    if let Some(l) = label {
        v["channel_label"] = json!(l);
    }
    v
}

#[test]
fn channel_labels_merge_by_time_and_punctuation_joins_its_word() {
    let doc = json!({
        "jobName": "connect-lake-c1", "accountId": "111122223333", "status": "COMPLETED",
        "results": {
            "transcripts": [{"transcript": "I've been on hold for an hour. Sorry about that."}],
            "channel_labels": {"number_of_channels": 2, "channels": [
                {"channel_label": "ch_0", "items": [
                    word("ch_0", "4.86", "5.01", "I've"), word("ch_0", "5.01", "5.16", "been"),
                    word("ch_0", "5.16", "5.28", "on"), word("ch_0", "5.28", "5.62", "hold"),
                    punct(Some("ch_0"), "."),
                    word("ch_0", "12.0", "12.3", "Thanks"), punct(Some("ch_0"), "!")]},
                {"channel_label": "ch_1", "items": [
                    word("ch_1", "8.5", "8.89", "Sorry"), word("ch_1", "8.89", "9.0", "about"),
                    word("ch_1", "9.0", "9.2", "that"), punct(Some("ch_1"), ".")]}
            ]},
            "items": []
        }
    });
    let t = parse_value(&doc).unwrap();
    assert_eq!(t.kind, SourceKind::Transcribe);
    assert_eq!(t.job_name.as_deref(), Some("connect-lake-c1"));
    let texts: Vec<(&str, &str)> = t
        .turns
        .iter()
        .map(|t| (t.participant.code(), t.text.as_str()))
        .collect();
    assert_eq!(
        texts,
        [
            ("CUSTOMER", "I've been on hold."),
            ("AGENT", "Sorry about that."),
            ("CUSTOMER", "Thanks!")
        ]
    );
    assert_eq!(t.turns[0].begin_ms, Some(4860));
    assert_eq!(t.turns[0].end_ms, Some(5620));
    assert_eq!(t.turns[1].speaker, "ch_1");
}

#[test]
fn labelled_items_are_used_in_order_and_the_agent_channel_is_configurable() {
    let doc = json!({"results": {"items": [
        word("ch_1", "0.5", "0.9", "Hello"), punct(Some("ch_1"), ","),
        word("ch_1", "0.9", "1.2", "support"),
        word("ch_0", "1.5", "1.9", "Hi"), punct(Some("ch_0"), "."),
    ]}});
    let map = SpeakerMap::with_agent("ch_1").unwrap();
    let t = parse(doc.to_string().as_bytes(), &map).unwrap();
    assert_eq!(t.turns.len(), 2);
    assert_eq!(t.turns[0].participant, Participant::Agent);
    assert_eq!(t.turns[0].text, "Hello, support");
    assert_eq!(t.turns[1].participant, Participant::Customer);
    assert_eq!(t.turns[1].text, "Hi.");
}

#[test]
fn legacy_speaker_segments_label_items_by_start_time() {
    let item = |s: &str, e: &str, c: &str| json!({"start_time": s, "end_time": e, "alternatives": [{"content": c}], "type": "pronunciation"});
    let doc = json!({"results": {
        "speaker_labels": {"speakers": 2, "segments": [
            {"speaker_label": "spk_0", "start_time": "0.0", "end_time": "1.0",
             "items": [{"start_time": "0.1", "end_time": "0.5", "speaker_label": "spk_0"}]},
            {"speaker_label": "spk_1", "start_time": "1.0", "end_time": "2.0",
             "items": [{"start_time": "1.1", "end_time": "1.5", "speaker_label": "spk_1"}]}
        ]},
        "items": [item("0.1", "0.5", "Hello"), punct(None, "."), item("1.1", "1.5", "Hi"), item("1.6", "1.8", "there")]
    }});
    let t = parse_value(&doc).unwrap();
    let got: Vec<(Participant, &str)> = t.turns.iter().map(|t| (t.participant, t.text.as_str())).collect();
    assert_eq!(
        got,
        [(Participant::Customer, "Hello."), (Participant::Agent, "Hi there")],
        "1.6 has no item entry but falls in spk_1's segment (spk_N maps like ch_N: 1 is the agent)"
    );
}

#[test]
fn unlabelled_output_is_one_unknown_turn_and_bad_times_are_absent() {
    let doc = json!({"results": {"items": [
        {"start_time": "abc", "end_time": "1.0", "alternatives": [{"content": "Welcome"}], "type": "pronunciation"},
        {"start_time": 2, "end_time": "NaN", "alternatives": [{"content": "back"}], "type": "pronunciation"},
        {"alternatives": [], "type": "pronunciation"},
        {"alternatives": [{"content": "!"}], "type": "punctuation"}
    ]}});
    let t = parse_value(&doc).unwrap();
    assert_eq!(t.turns.len(), 1);
    assert_eq!(t.turns[0].participant, Participant::Unknown);
    assert_eq!(t.turns[0].text, "Welcome back!");
    assert_eq!(
        t.turns[0].begin_ms,
        Some(2000),
        "numbers are accepted too; garbage is absent"
    );
    assert_eq!(t.turns[0].end_ms, Some(1000));
}

#[test]
fn call_analytics_segments_keep_their_sentiment_and_characteristics() {
    let doc = json!({
        "JobName": "ca-1", "JobStatus": "COMPLETED", "LanguageCode": "en-US", "Channel": "VOICE",
        "Participants": [{"ParticipantRole": "AGENT"}, {"ParticipantRole": "CUSTOMER"}],
        "ConversationCharacteristics": {
            "TotalConversationDurationMillis": 60000,
            "NonTalkTime": {"TotalTimeMillis": 5000, "Instances": []},
            "Interruptions": {"TotalCount": 2, "TotalTimeMillis": 1500},
            "TalkTime": {"TotalTimeMillis": 55000,
                         "DetailsByParticipant": {"AGENT": {"TotalTimeMillis": 30000}, "CUSTOMER": {"TotalTimeMillis": 25000}}},
            "Sentiment": {"OverallSentiment": {"AGENT": 2.5, "CUSTOMER": -1.2},
                          "SentimentByPeriod": {"QUARTER": {"CUSTOMER": [
                              {"Score": 1.0, "BeginOffsetMillis": 30000, "EndOffsetMillis": 45000},
                              {"Score": -3.0, "BeginOffsetMillis": 0, "EndOffsetMillis": 15000}]}}}
        },
        "Transcript": [
            {"ParticipantRole": "CUSTOMER", "Content": " I want to cancel. ", "BeginOffsetMillis": 100,
             "EndOffsetMillis": 900, "Sentiment": "NEGATIVE", "LoudnessScores": [80.5, null, 79.5]},
            {"ParticipantRole": "AGENT", "Content": "", "BeginOffsetMillis": 1000, "EndOffsetMillis": 1100},
            {"ParticipantRole": "AGENT", "Content": "Sorry to hear that.", "BeginOffsetMillis": "1200",
             "EndOffsetMillis": 2000, "Sentiment": "neutral"}
        ]
    });
    let t = parse_value(&doc).unwrap();
    assert_eq!(t.kind, SourceKind::CallAnalytics);
    assert_eq!(t.language.as_deref(), Some("en-US"));
    assert_eq!(t.turns.len(), 2, "empty segments are dropped");
    assert_eq!(t.turns[0].text, "I want to cancel.");
    assert_eq!(t.turns[0].sentiment, Some(Sentiment::Negative));
    assert_eq!(t.turns[0].loudness, Some(80.0), "null loudness values are ignored");
    assert_eq!(t.turns[1].begin_ms, Some(1200));
    assert_eq!(t.turns[1].sentiment, Some(Sentiment::Neutral));
    let c = t.characteristics.unwrap();
    assert_eq!(c.total_ms, Some(60000));
    assert_eq!((c.agent_talk_ms, c.customer_talk_ms), (Some(30000), Some(25000)));
    assert_eq!(
        (c.non_talk_ms, c.interruption_count, c.interruption_ms),
        (Some(5000), Some(2), Some(1500))
    );
    assert_eq!((c.agent_overall, c.customer_overall), (Some(2.5), Some(-1.2)));
    assert_eq!(c.customer_quarters, [-3.0, 1.0], "quarters sorted by time");
    assert!(c.agent_quarters.is_empty());
}

#[test]
fn contact_lens_chat_maps_participant_ids_and_measures_from_the_first_message() {
    let doc = json!({
        "Version": "1.1.0", "Channel": "CHAT", "LanguageCode": "en-US", "JobStatus": "COMPLETED",
        "CustomerMetadata": {"ContactId": " 5f2d-chat ", "InstanceId": "i"},
        "Participants": [{"ParticipantId": "p-agent", "ParticipantRole": "AGENT"},
                         {"ParticipantId": "p-cust", "ParticipantRole": "CUSTOMER"},
                         {"ParticipantId": "p-bot", "ParticipantRole": "SYSTEM"}],
        "Transcript": [
            {"ParticipantId": "p-bot", "Content": "Welcome!", "AbsoluteTime": "2026-03-08T10:00:00.000Z", "ContentType": "text/plain"},
            {"ParticipantId": "p-cust", "ContentType": "application/vnd.amazonaws.connect.event.typing", "AbsoluteTime": "2026-03-08T10:00:01.000Z"},
            {"ParticipantId": "p-cust", "Content": "My order is late", "AbsoluteTime": "2026-03-08T10:00:05.250Z", "ContentType": "text/plain"},
            {"ParticipantId": "p-agent", "Content": "Let me check", "AbsoluteTime": "2026-03-08T10:00:09Z", "ContentType": "text/plain"}
        ]
    });
    let t = parse_value(&doc).unwrap();
    assert_eq!(t.kind, SourceKind::ContactLensChat);
    assert_eq!(t.contact_id.as_deref(), Some("5f2d-chat"));
    let got: Vec<(Participant, Option<u64>)> = t.turns.iter().map(|t| (t.participant, t.begin_ms)).collect();
    assert_eq!(
        got,
        [
            (Participant::System, Some(0)),
            (Participant::Customer, Some(5250)),
            (Participant::Agent, Some(9000))
        ]
    );
    assert!(t.turns.iter().all(|t| t.sentiment.is_none()));
}

#[test]
fn unusable_documents_are_typed_errors() {
    let map = SpeakerMap::default();
    assert!(matches!(
        parse(b"{\"results\": ", &map),
        Err(TranscriptError::NotJson { .. })
    ));
    assert_eq!(parse(b"[1, 2]", &map), Err(TranscriptError::UnknownFormat));
    assert_eq!(parse(b"{\"hello\": 1}", &map), Err(TranscriptError::UnknownFormat));
    assert_eq!(
        parse(br#"{"status": "FAILED", "results": {"items": []}}"#, &map),
        Err(TranscriptError::NotCompleted {
            status: "FAILED".into()
        })
    );
    let err = parse(
        br#"{"results": {"items": [{"alternatives": [{"content": "secret words"}]"#,
        &map,
    )
    .unwrap_err();
    assert!(!err.to_string().contains("secret"), "errors never quote content");
}

#[test]
fn speaker_maps_accept_channel_and_speaker_labels_only() {
    let m = SpeakerMap::with_agent("spk_1").unwrap();
    assert_eq!(m.participant("ch_1"), Participant::Agent);
    assert_eq!(m.participant("spk_0"), Participant::Customer);
    assert_eq!(m.participant("AGENT"), Participant::Unknown);
    assert_eq!(m.agent_label(), "ch_1");
    for bad in ["", "ch_", "agent", "ch_x", "ch_-1"] {
        assert!(SpeakerMap::with_agent(bad).is_err(), "{bad}");
    }
}

#[test]
fn an_automated_recording_has_the_customer_right_and_system_prompts_left() {
    let ivr = SpeakerMap::default().for_layout(Layout::Automated);
    assert_eq!(ivr.participant("ch_1"), Participant::Customer);
    assert_eq!(ivr.participant("ch_0"), Participant::System);
    assert_eq!(ivr.participant("spk_0"), Participant::System);
    assert_eq!(ivr.participant("x"), Participant::Unknown);
    // The configured channel stays the right one whatever the layout.
    let swapped = SpeakerMap::with_agent("ch_0").unwrap().for_layout(Layout::Automated);
    assert_eq!(swapped.participant("ch_0"), Participant::Customer);
    assert_eq!(swapped.participant("ch_1"), Participant::System);
}

#[test]
fn only_a_contact_known_never_to_reach_an_agent_is_read_as_automated() {
    assert_eq!(Layout::from_agent_connected(Some(false)), Layout::Automated);
    assert_eq!(Layout::from_agent_connected(Some(true)), Layout::Agent);
    assert_eq!(Layout::from_agent_connected(None), Layout::Agent);
}

#[test]
fn the_same_stereo_transcript_reads_as_agent_or_ivr_by_layout() {
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/transcribe-ivr-only.json"
    ))
    .unwrap();
    let agent = parse(&bytes, &SpeakerMap::default()).unwrap();
    let ivr = parse(&bytes, &SpeakerMap::default().for_layout(Layout::Automated)).unwrap();
    assert_eq!(agent.turns.len(), ivr.turns.len());
    for (a, i) in agent.turns.iter().zip(&ivr.turns) {
        match a.speaker.as_str() {
            "ch_1" => assert_eq!(
                (a.participant, i.participant),
                (Participant::Agent, Participant::Customer)
            ),
            "ch_0" => assert_eq!(
                (a.participant, i.participant),
                (Participant::Customer, Participant::System)
            ),
            other => panic!("unexpected label {other}"),
        }
    }
    assert!(ivr.turns.iter().any(|t| t.participant == Participant::System));
    assert!(ivr.turns.iter().all(|t| t.participant != Participant::Agent));
}
