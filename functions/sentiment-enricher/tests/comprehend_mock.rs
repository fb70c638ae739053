//! Comprehend behaviour the local emulator cannot produce (it has no `BatchDetectSentiment`):
//! batching, per-document errors, failed calls and PII offsets, with `aws-smithy-mocks` at the
//! SDK layer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should say where

use std::sync::{Arc, Mutex};

use aws_sdk_comprehend::Client;
use aws_sdk_comprehend::config::retry::RetryConfig;
use aws_sdk_comprehend::operation::batch_detect_sentiment::{BatchDetectSentimentInput, BatchDetectSentimentOutput};
use aws_sdk_comprehend::operation::detect_pii_entities::DetectPiiEntitiesOutput;
use aws_sdk_comprehend::types::{
    BatchDetectSentimentItemResult, BatchItemError, PiiEntity, PiiEntityType, SentimentScore, SentimentType,
};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use connect_lake::pii::{PiiKind, Tokenizer};
use sentiment_enricher::chunk::{COMPREHEND_MAX_BYTES, chunk};
use sentiment_enricher::comprehend::{self, Redacted};
use sentiment_enricher::sentiment::{Provider, SentimentSource, score_turns};
use sentiment_enricher::transcript::{Participant, Sentiment, Turn};

type Requests = Arc<Mutex<Vec<Vec<String>>>>;

/// Comprehend's limits, written out rather than taken from the code under test.
const DOCS_PER_CALL: usize = 25;
const BYTES_PER_DOC: usize = 5_000;

fn turn(text: &str) -> Turn {
    Turn {
        participant: Participant::Customer,
        speaker: "ch_1".into(),
        begin_ms: None,
        end_ms: None,
        text: text.to_owned(),
        sentiment: None,
        loudness: None,
    }
}

/// A result for document `index`: NEGATIVE when it mentions "refund", POSITIVE otherwise.
fn result_for(index: usize, text: &str) -> BatchDetectSentimentItemResult {
    let negative = text.contains("refund");
    BatchDetectSentimentItemResult::builder()
        .index(i32::try_from(index).unwrap())
        .sentiment(if negative {
            SentimentType::Negative
        } else {
            SentimentType::Positive
        })
        .sentiment_score(
            SentimentScore::builder()
                .positive(if negative { 0.02 } else { 0.95 })
                .negative(if negative { 0.9 } else { 0.01 })
                .neutral(if negative { 0.07 } else { 0.03 })
                .mixed(0.01)
                .build(),
        )
        .build()
}

fn answer_all(req: &BatchDetectSentimentInput) -> BatchDetectSentimentOutput {
    let results = req
        .text_list()
        .iter()
        .enumerate()
        .map(|(i, t)| result_for(i, t))
        .collect();
    BatchDetectSentimentOutput::builder()
        .set_result_list(Some(results))
        .set_error_list(Some(Vec::new()))
        .build()
        .unwrap()
}

/// A client that answers every batch and records every request's documents.
fn recording_client() -> (Client, Requests, aws_smithy_mocks::Rule) {
    let requests: Requests = Arc::default();
    let seen = requests.clone();
    let rule = mock!(Client::batch_detect_sentiment).then_compute_output(move |req| {
        seen.lock().unwrap().push(req.text_list().to_vec());
        answer_all(req)
    });
    let client = mock_client!(aws_sdk_comprehend, RuleMode::MatchAny, [&rule]);
    (client, requests, rule)
}

fn assert_requests_within_limits(requests: &[Vec<String>]) {
    assert!(!requests.is_empty());
    for (n, docs) in requests.iter().enumerate() {
        assert!(
            (1..=DOCS_PER_CALL).contains(&docs.len()),
            "request {n} has {} documents",
            docs.len()
        );
        for d in docs {
            assert!(
                d.len() <= BYTES_PER_DOC,
                "request {n} has a document of {} bytes",
                d.len()
            );
            assert!(!d.trim().is_empty(), "no blank documents");
        }
    }
}

#[tokio::test]
async fn every_request_has_at_most_25_documents_of_at_most_5000_bytes_and_no_text_is_lost() {
    let sentence = "I asked for a refund twice and nobody called me back, which is not acceptable. ";
    let forty_kb = sentence.repeat(40_000 / sentence.len() + 1);
    // CJK and emoji with no spaces, so cuts land on character boundaries inside the text.
    let cjk = "请帮我查一下订单状态谢谢".repeat(500);
    let emoji = format!("{}{}", "a".repeat(4_998), "😀🎉👍🏽".repeat(400));
    let mut turns = vec![turn(&forty_kb), turn(&cjk), turn(&emoji)];
    for i in 0..60 {
        turns.push(turn(&format!("Short turn number {i}, all good.")));
    }
    let (client, requests, rule) = recording_client();
    let (sentiments, report) = score_turns(Provider::Comprehend(&client), "en-US", &turns)
        .await
        .unwrap();

    let requests = requests.lock().unwrap().clone();
    assert_requests_within_limits(&requests);
    let sent: Vec<String> = requests.concat();
    let expected_docs: usize = turns.iter().map(|t| chunk(&t.text, COMPREHEND_MAX_BYTES).len()).sum();
    assert_eq!(sent.len(), expected_docs);
    assert_eq!(
        sent.concat(),
        turns.iter().map(|t| t.text.as_str()).collect::<String>(),
        "the documents are the turns' text, in order, nothing lost or split inside a character"
    );
    assert!(forty_kb.len() > 40_000);
    assert_eq!(
        sentiments[0].chunks as usize,
        chunk(&forty_kb, COMPREHEND_MAX_BYTES).len()
    );
    assert!(sentiments[0].chunks >= 9);
    assert_eq!(sentiments[0].label, Some(Sentiment::Negative));
    assert_eq!(sentiments[3].label, Some(Sentiment::Positive));
    assert!(sentiments.iter().all(|s| s.source == Some(SentimentSource::Comprehend)));
    assert_eq!(report.comprehend_calls as usize, rule.num_calls());
    assert_eq!(report.chunks as usize, expected_docs);
}

#[tokio::test]
async fn a_transcript_costs_ceil_chunks_over_25_calls() {
    // 3, 25, 26, 50, 51, 125 and 130 chunks: every boundary of a batch of 25.
    for small_turns in [0usize, 22, 23, 47, 48, 122, 127] {
        let mut turns: Vec<Turn> = (0..small_turns).map(|i| turn(&format!("Turn {i} is fine."))).collect();
        // One 12 KB turn adds three chunks.
        turns.push(turn(&"Twelve kilobytes of talk. ".repeat(12_000 / 26 + 1)));
        let chunks: usize = turns.iter().map(|t| chunk(&t.text, COMPREHEND_MAX_BYTES).len()).sum();
        assert_eq!(chunks, small_turns + 3);
        let (client, _, rule) = recording_client();
        let (_, report) = score_turns(Provider::Comprehend(&client), "en-US", &turns)
            .await
            .unwrap();
        let expected = chunks.div_ceil(DOCS_PER_CALL);
        assert_eq!(rule.num_calls(), expected, "{chunks} chunks");
        assert_eq!(report.comprehend_calls as usize, expected);
    }
}

#[tokio::test]
async fn turns_with_source_sentiment_cost_no_call() {
    let mut labelled = turn("I already have a label.");
    labelled.sentiment = Some(Sentiment::Neutral);
    let (client, requests, rule) = recording_client();
    let (s, report) = score_turns(
        Provider::Comprehend(&client),
        "en-US",
        &[labelled.clone(), turn("Score me.")],
    )
    .await
    .unwrap();
    assert_eq!(rule.num_calls(), 1);
    assert_eq!(requests.lock().unwrap()[0], ["Score me."]);
    assert_eq!(s[0].source, Some(SentimentSource::Source));
    assert_eq!(report.chunks, 1);
    let (client, _, rule) = recording_client();
    score_turns(Provider::Comprehend(&client), "en-US", &[labelled])
        .await
        .unwrap();
    assert_eq!(rule.num_calls(), 0);
}

fn item_error(index: usize, code: &str) -> BatchItemError {
    BatchItemError::builder()
        .index(i32::try_from(index).unwrap())
        .error_code(code)
        .error_message("An internal error occurred.")
        .build()
}

#[tokio::test]
async fn error_list_documents_are_retried_once_together() {
    let requests: Requests = Arc::default();
    let seen = requests.clone();
    // First call: documents 3 and 7 fail. Later calls: everything succeeds.
    let rule = mock!(Client::batch_detect_sentiment).then_compute_output(move |req| {
        let mut calls = seen.lock().unwrap();
        calls.push(req.text_list().to_vec());
        if calls.len() == 1 {
            let results = req
                .text_list()
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != 3 && *i != 7)
                .map(|(i, t)| result_for(i, t))
                .collect();
            BatchDetectSentimentOutput::builder()
                .set_result_list(Some(results))
                .set_error_list(Some(vec![
                    item_error(3, "INTERNAL_SERVER_ERROR"),
                    item_error(7, "INTERNAL_SERVER_ERROR"),
                ]))
                .build()
                .unwrap()
        } else {
            answer_all(req)
        }
    });
    let client = mock_client!(aws_sdk_comprehend, RuleMode::MatchAny, [&rule]);
    let turns: Vec<Turn> = (0..10).map(|i| turn(&format!("Turn {i} wants a refund."))).collect();
    let (s, report) = score_turns(Provider::Comprehend(&client), "en-US", &turns)
        .await
        .unwrap();
    assert_eq!(rule.num_calls(), 2);
    let requests = requests.lock().unwrap();
    assert_eq!(
        requests[1],
        ["Turn 3 wants a refund.", "Turn 7 wants a refund."],
        "only failed documents are resent"
    );
    assert!(s.iter().all(|t| t.label == Some(Sentiment::Negative)), "{s:?}");
    assert_eq!(
        (
            report.document_errors,
            report.documents_retried,
            report.comprehend_calls
        ),
        (2, 2, 2)
    );
}

#[tokio::test]
async fn documents_failing_twice_make_their_turn_unknown_with_the_error_code() {
    let poison = "POISON";
    let rule = mock!(Client::batch_detect_sentiment).then_compute_output(move |req| {
        let (bad, good): (Vec<_>, Vec<_>) = req
            .text_list()
            .iter()
            .enumerate()
            .partition(|(_, t)| t.contains(poison));
        BatchDetectSentimentOutput::builder()
            .set_result_list(Some(good.into_iter().map(|(i, t)| result_for(i, t)).collect()))
            .set_error_list(Some(
                bad.into_iter()
                    .map(|(i, _)| item_error(i, "INTERNAL_SERVER_ERROR"))
                    .collect(),
            ))
            .build()
            .unwrap()
    });
    let client = mock_client!(aws_sdk_comprehend, RuleMode::MatchAny, [&rule]);
    // The middle turn is two chunks, of which only the second fails.
    let long = format!("{} {poison}", "fine words here. ".repeat(400));
    let turns = [turn("All good."), turn(&long), turn("Also good.")];
    let (s, report) = score_turns(Provider::Comprehend(&client), "en-US", &turns)
        .await
        .unwrap();
    assert_eq!(s[0].label, Some(Sentiment::Positive));
    assert_eq!(s[1].label, None, "one failed chunk makes the turn UNKNOWN");
    assert_eq!(s[1].reason.as_deref(), Some("comprehend_error:INTERNAL_SERVER_ERROR"));
    assert_eq!(s[1].chunks, 2);
    assert_eq!(s[2].label, Some(Sentiment::Positive));
    assert_eq!(rule.num_calls(), 2, "one retry, not more");
    assert_eq!((report.document_errors, report.documents_retried), (2, 1));
}

#[tokio::test]
async fn a_document_missing_from_both_lists_is_retried() {
    let calls = Arc::new(Mutex::new(0));
    let counter = calls.clone();
    let rule = mock!(Client::batch_detect_sentiment).then_compute_output(move |req| {
        let mut n = counter.lock().unwrap();
        *n += 1;
        let results = req
            .text_list()
            .iter()
            .enumerate()
            // The first answer forgets document 1 and has an out-of-range index.
            .filter(|(i, _)| *n > 1 || *i != 1)
            .map(|(i, t)| result_for(i, t))
            .chain((*n == 1).then(|| result_for(99, "stray")))
            .collect();
        BatchDetectSentimentOutput::builder()
            .set_result_list(Some(results))
            .set_error_list(Some(Vec::new()))
            .build()
            .unwrap()
    });
    let client = mock_client!(aws_sdk_comprehend, RuleMode::MatchAny, [&rule]);
    let (results, report) = comprehend::batch_sentiment(&client, "en", &["a", "b", "c"])
        .await
        .unwrap();
    assert!(results.iter().all(Result::is_ok));
    assert_eq!((report.calls, report.retried), (2, 1));
}

#[tokio::test]
async fn a_failed_call_fails_the_transcript_with_the_service_error_code() {
    let rule = mock!(Client::batch_detect_sentiment)
        .sequence()
        .http_status(
            500,
            Some(r#"{"__type":"InternalServerException","Message":"boom"}"#.to_owned()),
        )
        .repeatedly()
        .build();
    let client = mock_client!(aws_sdk_comprehend, RuleMode::MatchAny, [&rule], |c| c
        .retry_config(RetryConfig::disabled()));
    let err = score_turns(Provider::Comprehend(&client), "en-US", &[turn("Hello there.")])
        .await
        .unwrap_err();
    assert_eq!(err.operation, "BatchDetectSentiment");
    assert_eq!(err.code, "InternalServerException");
    assert!(!err.to_string().contains("Hello"), "errors carry no text");
    assert_eq!(rule.num_calls(), 1);
}

fn tokenizer() -> Tokenizer {
    Tokenizer::new(b"mock-test-key-mock-test-key-mock-test-key").unwrap()
}

fn pii_entity(kind: PiiEntityType, begin: i32, end: i32) -> PiiEntity {
    PiiEntity::builder()
        .r#type(kind)
        .begin_offset(begin)
        .end_offset(end)
        .score(0.99)
        .build()
}

#[tokio::test]
async fn pii_offsets_count_code_points_and_map_back_to_each_turn() {
    let texts = ["Café für José", "Ring me on 555 0100 — 谢谢"];
    let requests: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = requests.clone();
    let rule = mock!(Client::detect_pii_entities).then_compute_output(move |req| {
        let text = req.text().unwrap_or_default().to_owned();
        seen.lock().unwrap().push(text.clone());
        let chars: Vec<char> = text.chars().collect();
        let find = |needle: &str| {
            let n: Vec<char> = needle.chars().collect();
            let at = chars.windows(n.len()).position(|w| w == n.as_slice()).unwrap();
            (i32::try_from(at).unwrap(), i32::try_from(at + n.len()).unwrap())
        };
        let (jb, je) = find("José");
        let (pb, pe) = find("555 0100");
        DetectPiiEntitiesOutput::builder()
            .entities(pii_entity(PiiEntityType::Name, jb, je))
            .entities(pii_entity(PiiEntityType::Phone, pb, pe))
            .build()
    });
    let client = mock_client!(aws_sdk_comprehend, RuleMode::MatchAny, [&rule]);
    let tok = tokenizer();
    let (redacted, calls) = comprehend::redact(&client, "en", &texts, &tok).await.unwrap();
    assert_eq!(calls, 1, "both turns fit one document");
    assert_eq!(requests.lock().unwrap()[0], texts.join("\n"));
    let name = tok.token(PiiKind::Text, "josé");
    let phone = tok.token(PiiKind::Text, "555 0100");
    assert_eq!(
        redacted,
        [
            Redacted::Text(format!("Café für [NAME:{name}]")),
            Redacted::Text(format!("Ring me on [PHONE:{phone}] — 谢谢")),
        ]
    );
}

#[tokio::test]
async fn pii_offsets_past_the_text_leave_the_text_unstored() {
    // The local emulator answers canned offsets like these whatever the text.
    let rule = mock!(Client::detect_pii_entities).then_output(|| {
        DetectPiiEntitiesOutput::builder()
            .entities(pii_entity(PiiEntityType::Name, 40, 52))
            .build()
    });
    let client = mock_client!(aws_sdk_comprehend, RuleMode::MatchAny, [&rule]);
    let (redacted, _) = comprehend::redact(&client, "en", &["Hi Sam", "Bye"], &tokenizer())
        .await
        .unwrap();
    assert_eq!(redacted, [Redacted::InvalidOffsets, Redacted::InvalidOffsets]);

    let rule = mock!(Client::detect_pii_entities).then_output(|| {
        DetectPiiEntitiesOutput::builder()
            .entities(pii_entity(PiiEntityType::Name, 5, 2))
            .build()
    });
    let client = mock_client!(aws_sdk_comprehend, RuleMode::MatchAny, [&rule]);
    let (redacted, _) = comprehend::redact(&client, "en", &["Hi Sam"], &tokenizer())
        .await
        .unwrap();
    assert_eq!(
        redacted,
        [Redacted::InvalidOffsets],
        "an inverted span is not trusted either"
    );
}
