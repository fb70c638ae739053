use super::*;
use crate::sentiment::Scores;
use crate::transcript::{Characteristics, SpeakerMap};
use connect_lake::schema::{CONTACT_SENTIMENT, SENTIMENT_TURNS, Table};

fn assert_row_matches(table: &Table, row: &serde_json::Value, complete: bool) {
    let problems = connect_lake::schema::row_problems(table, row, complete);
    assert!(problems.is_empty(), "{problems:#?}");
}

fn ctx(kind: SourceKind) -> RowContext<'static> {
    RowContext {
        contact_id: "c-1",
        kind,
        language: Some("en-US"),
        contact_timestamp: "2026-03-08 10:15:00.000".into(),
        partition_time_source: "key",
        processed_at: "2026-03-08 10:20:00.000".into(),
        source_object: "transcripts/c-1_20260308T1015Z.json",
    }
}

fn turn(p: Participant, b: u64, e: u64, text: &str) -> Turn {
    Turn {
        participant: p,
        speaker: match p {
            Participant::Agent => "ch_0".into(),
            _ => "ch_1".into(),
        },
        begin_ms: Some(b),
        end_ms: Some(e),
        text: text.into(),
        sentiment: None,
        loudness: None,
    }
}

fn scored(label: Option<Sentiment>, score: Option<f64>) -> TurnSentiment {
    TurnSentiment {
        label,
        reason: label
            .is_none()
            .then(|| "comprehend_error:InternalServerException".to_owned()),
        source: label.map(|_| SentimentSource::Comprehend),
        score,
        scores: score.map(|s| Scores {
            positive: s.max(0.0),
            negative: (-s).max(0.0),
            neutral: 1.0 - s.abs(),
            mixed: Some(0.0),
        }),
        chunks: 1,
    }
}

#[test]
fn turn_row_matches_schema_exactly() {
    let mut t = turn(Participant::Customer, 100, 900, "I want a refund");
    t.loudness = Some(81.234_56);
    let rows = turn_rows(
        &ctx(SourceKind::CallAnalytics),
        &[t],
        &[scored(Some(Sentiment::Negative), Some(-0.8))],
        vec![StoredText::Redacted("I want a refund".into())],
    );
    let mut row = serde_json::to_value(&rows[0]).unwrap();
    // A row is either scored or has a reason; set the reason to see every column once.
    row["sentiment_reason"] = serde_json::json!("x");
    assert_row_matches(&SENTIMENT_TURNS, &row, true);
    assert_eq!(row["loudness"], 81.2346);
    assert_eq!(row["text_redaction"], "comprehend_pii");
    assert_eq!(row["char_count"], 15);
}

#[test]
fn contact_row_matches_schema_exactly() {
    let transcript = Transcript {
        kind: SourceKind::Transcribe,
        language: None,
        contact_id: None,
        job_name: None,
        turns: vec![
            turn(Participant::Agent, 0, 1000, "Hello"),
            turn(Participant::Customer, 1200, 2000, "Bad"),
        ],
        characteristics: Some(Characteristics {
            total_ms: Some(2000),
            agent_talk_ms: Some(1000),
            customer_talk_ms: Some(800),
            non_talk_ms: Some(200),
            interruption_count: Some(0),
            interruption_ms: Some(0),
            ..Characteristics::default()
        }),
    };
    let sentiments = [scored(None, None), scored(None, None)];
    let row = contact_row(&ctx(SourceKind::Transcribe), &transcript, &sentiments);
    let mut v = serde_json::to_value(&row).unwrap();
    assert_eq!(
        v["sentiment_skipped_reason"],
        "comprehend_error:InternalServerException"
    );
    // Fill the score columns a fully unscored contact leaves out, to check their types too.
    for (k, x) in [
        ("sentiment_provider", serde_json::json!("comprehend")),
        ("customer_sentiment", serde_json::json!("NEUTRAL")),
        ("customer_score", serde_json::json!(0.0)),
        ("agent_sentiment", serde_json::json!("NEUTRAL")),
        ("agent_score", serde_json::json!(0.0)),
        ("customer_score_start", serde_json::json!(0.0)),
        ("customer_score_end", serde_json::json!(0.0)),
        ("negative_turn_share", serde_json::json!(0.0)),
        ("customer_negative_turn_share", serde_json::json!(0.0)),
    ] {
        assert!(v.get(k).is_none(), "{k} is absent without scores");
        v[k] = x;
    }
    assert_row_matches(&CONTACT_SENTIMENT, &v, true);
}

#[test]
fn derived_talk_time_counts_each_participant_and_the_gaps_between_turns() {
    let turns = vec![
        turn(Participant::Agent, 0, 4000, "a"),
        turn(Participant::Customer, 3000, 6000, "b"), // overlaps the agent by 1 s
        turn(Participant::Agent, 9000, 10000, "c"),
    ];
    let transcript = Transcript {
        kind: SourceKind::Transcribe,
        language: None,
        contact_id: None,
        job_name: None,
        turns,
        characteristics: None,
    };
    let sentiments = vec![scored(Some(Sentiment::Neutral), Some(0.0)); 3];
    let row = contact_row(&ctx(SourceKind::Transcribe), &transcript, &sentiments);
    assert_eq!(row.agent_talk_ms, Some(5000));
    assert_eq!(row.customer_talk_ms, Some(3000));
    assert_eq!(row.conversation_ms, Some(10000));
    assert_eq!(row.non_talk_ms, Some(3000), "6..9 s is silent; the overlap counts once");
    assert_eq!(row.talk_time_source, Some("turns"));
    assert_eq!(
        row.interruption_count, None,
        "standard transcripts do not report interruptions"
    );
}

#[test]
fn scores_shares_and_trend_come_from_the_turns_without_source_figures() {
    let c = Participant::Customer;
    let a = Participant::Agent;
    let turns = vec![
        turn(c, 0, 1, "xxxxxxxxxx"),
        turn(a, 1, 2, "yyyy"),
        turn(c, 2, 3, "xxxxxxxxxx"),
        turn(c, 3, 4, "xxxxxxxxxx"),
        turn(c, 4, 5, "xxxxxxxxxxxxxxxxxxxx"),
        turn(a, 5, 6, "zzzz"),
    ];
    let sentiments = vec![
        scored(Some(Sentiment::Negative), Some(-0.9)),
        scored(Some(Sentiment::Positive), Some(0.6)),
        scored(Some(Sentiment::Negative), Some(-0.5)),
        scored(None, None),
        scored(Some(Sentiment::Positive), Some(0.8)),
        scored(Some(Sentiment::Positive), Some(0.4)),
    ];
    let transcript = Transcript {
        kind: SourceKind::Transcribe,
        language: None,
        contact_id: None,
        job_name: None,
        turns,
        characteristics: None,
    };
    let row = contact_row(&ctx(SourceKind::Transcribe), &transcript, &sentiments);
    // Customer: (-0.9*10 - 0.5*10 + 0.8*20) / 40 = 0.05.
    assert_eq!(row.customer_score, Some(0.05));
    assert_eq!(row.customer_sentiment, Some("NEUTRAL"));
    assert_eq!(row.agent_score, Some(0.5));
    assert_eq!(row.agent_sentiment, Some("POSITIVE"));
    assert_eq!(
        row.customer_score_start,
        Some(-0.9),
        "first of three scored customer turns"
    );
    assert_eq!(row.customer_score_end, Some(0.8));
    assert_eq!(row.negative_turn_share, Some(0.4), "2 of 5 known");
    assert_eq!(row.customer_negative_turn_share, Some(0.6667));
    assert_eq!((row.turn_count, row.unknown_turn_count), (6, 1));
    assert_eq!(row.sentiment_provider, Some("comprehend"));
    assert_eq!(row.sentiment_skipped_reason, None);
}

#[test]
fn source_figures_win_over_turn_figures_and_are_rescaled() {
    let bytes = include_bytes!("../../testdata/contact-lens-voice.json");
    let transcript = crate::transcript::parse(bytes, &SpeakerMap::default()).unwrap();
    let sentiments: Vec<TurnSentiment> = transcript
        .turns
        .iter()
        .map(|t| {
            let label = t.sentiment.unwrap();
            TurnSentiment {
                label: Some(label),
                reason: None,
                source: Some(SentimentSource::Source),
                score: Some(crate::sentiment::label_score(label)),
                scores: None,
                chunks: 0,
            }
        })
        .collect();
    let row = contact_row(&ctx(SourceKind::ContactLensVoice), &transcript, &sentiments);
    assert_eq!(row.customer_score, Some(0.18), "OverallSentiment 0.9 of 5");
    assert_eq!(row.customer_sentiment, Some("POSITIVE"));
    assert_eq!(row.agent_score, Some(0.0));
    assert_eq!(row.customer_score_start, Some(-0.76), "first quarter -3.8 of 5");
    assert_eq!(row.customer_score_end, Some(0.92));
    assert_eq!(
        (row.agent_talk_ms, row.customer_talk_ms, row.non_talk_ms),
        (Some(13880), Some(11300), Some(2700))
    );
    assert_eq!(row.conversation_ms, Some(30200));
    assert_eq!(row.interruption_count, Some(0));
    assert_eq!(row.talk_time_source, Some("source"));
    assert_eq!(row.sentiment_provider, Some("source"));
}

#[test]
fn json_lines_end_every_row_with_a_newline() {
    let rows = turn_rows(
        &ctx(SourceKind::Transcribe),
        &[
            turn(Participant::Agent, 0, 1, "a"),
            turn(Participant::Customer, 1, 2, "b"),
        ],
        &[
            scored(Some(Sentiment::Neutral), Some(0.0)),
            scored(Some(Sentiment::Neutral), Some(0.0)),
        ],
        vec![StoredText::NotStored, StoredText::RedactionFailed],
    );
    let body = json_lines(&rows).unwrap();
    let text = String::from_utf8(body).unwrap();
    assert_eq!(text.lines().count(), 2);
    assert!(text.ends_with('\n'));
    let second: serde_json::Value = serde_json::from_str(text.lines().nth(1).unwrap()).unwrap();
    assert_eq!(second["turn_index"], 1);
    assert!(second.get("text").is_none());
    assert_eq!(second["text_redaction"], "failed_invalid_offsets");
    assert!(json_lines::<TurnRow>(&[]).unwrap().is_empty());
}

#[test]
fn text_in_a_language_without_pii_redaction_is_never_stored() {
    let rows = turn_rows(
        &ctx(SourceKind::ContactLensChat),
        &[turn(
            Participant::Customer,
            0,
            1,
            "mitt kortnummer är 4111 1111 1111 1111",
        )],
        &[scored(None, None)],
        vec![StoredText::Unredacted("mitt kortnummer är 4111 1111 1111 1111".into())],
    );
    let row = serde_json::to_value(&rows[0]).unwrap();
    assert!(row.get("text").is_none(), "{row}");
    assert_eq!(row["text_redaction"], "unsupported_language");
    assert!(!row.to_string().contains("4111"), "{row}");
}
