//! The rows written to `sentiment_turns` and `contact_sentiment`, and the per-contact summary.
//!
//! The row types serialise to exactly the columns of the shared schema (the tests prove it);
//! absent values are left out, as in every curated table.

use crate::transcript::{Participant, Sentiment, SourceKind, Transcript, Turn};
use serde::Serialize;

use crate::sentiment::{SentimentSource, TurnSentiment};

/// Contact-level scores within this distance of 0 are `NEUTRAL`.
pub const NEUTRAL_BAND: f64 = 0.1;

/// Contact Lens and Call Analytics report sentiment from -5 to 5; the lake uses -1 to 1.
const SOURCE_SCALE: f64 = 5.0;

/// Rounded to 4 decimals: enough for scores, and stable across replays.
fn round4(x: f64) -> Option<f64> {
    x.is_finite().then(|| (x * 10_000.0).round() / 10_000.0)
}

/// One row of `sentiment_turns`.
#[derive(Debug, Clone, Serialize)]
pub struct TurnRow {
    pub contact_id: String,
    pub turn_index: u32,
    pub participant: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speaker_label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub begin_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_ms: Option<u64>,
    pub sentiment: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sentiment_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sentiment_source: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub positive_score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub negative_score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub neutral_score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mixed_score: Option<f64>,
    pub char_count: u64,
    pub chunk_count: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loudness: Option<f64>,
    pub source_kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text_redaction: Option<&'static str>,
    pub contact_timestamp: String,
    pub processed_at: String,
}

/// One row of `contact_sentiment`.
#[derive(Debug, Clone, Serialize)]
pub struct ContactRow {
    pub contact_id: String,
    pub source_kind: &'static str,
    /// `contact_lens` or `transcribe`: see [`SourceKind::source`].
    pub source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sentiment_provider: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_sentiment: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_sentiment: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_score_start: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_score_end: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub negative_turn_share: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_negative_turn_share: Option<f64>,
    pub turn_count: u32,
    pub unknown_turn_count: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversation_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_talk_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_talk_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub non_talk_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interruption_count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interruption_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub talk_time_source: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sentiment_skipped_reason: Option<String>,
    pub source_object: String,
    pub contact_timestamp: String,
    pub partition_time_source: &'static str,
    pub processed_at: String,
}

/// What is stored of a turn's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredText {
    /// `STORE_TRANSCRIPT_TEXT` is off.
    NotStored,
    /// `DetectPiiEntities` answered offsets outside the text: not stored rather than half-redacted.
    RedactionFailed,
    /// PII replaced by `DetectPiiEntities`.
    Redacted(String),
    /// A language `DetectPiiEntities` cannot redact: the text is never stored, whatever
    /// `STORE_TRANSCRIPT_TEXT` says (`text_redaction = unsupported_language`).
    Unredacted(String),
}

/// What the rows of one contact share.
pub struct RowContext<'a> {
    pub contact_id: &'a str,
    pub kind: SourceKind,
    pub language: Option<&'a str>,
    pub contact_timestamp: String,
    pub partition_time_source: &'static str,
    pub processed_at: String,
    pub source_object: &'a str,
}

/// The label of a contact-level score.
pub fn label_of(score: f64) -> Sentiment {
    if score >= NEUTRAL_BAND {
        Sentiment::Positive
    } else if score <= -NEUTRAL_BAND {
        Sentiment::Negative
    } else {
        Sentiment::Neutral
    }
}

/// The `sentiment_turns` rows of a transcript.
pub fn turn_rows(
    ctx: &RowContext<'_>,
    turns: &[Turn],
    sentiments: &[TurnSentiment],
    texts: Vec<StoredText>,
) -> Vec<TurnRow> {
    turns
        .iter()
        .zip(sentiments)
        .zip(texts)
        .enumerate()
        .map(|(i, ((turn, s), text))| {
            let (text, redaction) = match text {
                StoredText::NotStored => (None, None),
                StoredText::RedactionFailed => (None, Some("failed_invalid_offsets")),
                StoredText::Redacted(t) => (Some(t), Some("comprehend_pii")),
                // Issue #18: never verbatim. Only the marker says text was asked for.
                StoredText::Unredacted(_) => (None, Some("unsupported_language")),
            };
            TurnRow {
                contact_id: ctx.contact_id.to_owned(),
                turn_index: u32::try_from(i).unwrap_or(u32::MAX),
                participant: turn.participant.code(),
                speaker_label: Some(turn.speaker.clone()).filter(|s| !s.is_empty()),
                begin_ms: turn.begin_ms,
                end_ms: turn.end_ms,
                sentiment: s.label.map_or("UNKNOWN", Sentiment::code),
                sentiment_reason: s.reason.clone(),
                sentiment_source: s.source.map(SentimentSource::code),
                score: s.score.and_then(round4),
                positive_score: s.scores.and_then(|x| round4(x.positive)),
                negative_score: s.scores.and_then(|x| round4(x.negative)),
                neutral_score: s.scores.and_then(|x| round4(x.neutral)),
                mixed_score: s.scores.and_then(|x| x.mixed).and_then(round4),
                char_count: turn.text.chars().count() as u64,
                chunk_count: s.chunks,
                loudness: turn.loudness.and_then(round4),
                source_kind: ctx.kind.code(),
                language: ctx.language.map(str::to_owned),
                text,
                text_redaction: redaction,
                contact_timestamp: ctx.contact_timestamp.clone(),
                processed_at: ctx.processed_at.clone(),
            }
        })
        .collect()
}

/// Character-weighted mean score of a participant's scored turns.
fn participant_score(turns: &[Turn], sentiments: &[TurnSentiment], who: Participant) -> Option<f64> {
    let (sum, weight) = turns
        .iter()
        .zip(sentiments)
        .filter(|(t, _)| t.participant == who)
        .filter_map(|(t, s)| Some((s.score?, t.text.chars().count().max(1) as f64)))
        .fold((0.0, 0.0), |(sum, weight), (score, w)| (sum + score * w, weight + w));
    (weight > 0.0).then(|| sum / weight)
}

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

fn share(sentiments: &[&TurnSentiment]) -> Option<f64> {
    let known: Vec<_> = sentiments.iter().filter_map(|s| s.label).collect();
    let negative = known.iter().filter(|l| **l == Sentiment::Negative).count();
    (!known.is_empty()).then(|| negative as f64 / known.len() as f64)
}

/// Talk time from the turns' own times: per participant the sum of their turns, non-talk the
/// time no turn covers. Chat messages have no duration, so chats get none.
struct DerivedTalk {
    conversation_ms: u64,
    agent_ms: u64,
    customer_ms: u64,
    non_talk_ms: u64,
}

fn derive_talk(turns: &[Turn]) -> Option<DerivedTalk> {
    let mut spans: Vec<(u64, u64, Participant)> = turns
        .iter()
        .filter_map(|t| Some((t.begin_ms?, t.end_ms?, t.participant)))
        .filter(|(b, e, _)| e >= b)
        .collect();
    if spans.is_empty() {
        return None;
    }
    let talk = |who| spans.iter().filter(|(_, _, p)| *p == who).map(|(b, e, _)| e - b).sum();
    let (agent_ms, customer_ms) = (talk(Participant::Agent), talk(Participant::Customer));
    let conversation_ms = spans.iter().map(|(_, e, _)| *e).max().unwrap_or(0);
    spans.sort_by_key(|(b, _, _)| *b);
    let mut covered = 0;
    let mut current: Option<(u64, u64)> = None;
    for (b, e, _) in spans {
        current = match current {
            Some((cb, ce)) if b <= ce => Some((cb, ce.max(e))),
            Some((cb, ce)) => {
                covered += ce - cb;
                Some((b, e))
            }
            None => Some((b, e)),
        };
    }
    if let Some((cb, ce)) = current {
        covered += ce - cb;
    }
    Some(DerivedTalk {
        conversation_ms,
        agent_ms,
        customer_ms,
        non_talk_ms: conversation_ms.saturating_sub(covered),
    })
}

/// The `contact_sentiment` row of a transcript.
pub fn contact_row(ctx: &RowContext<'_>, transcript: &Transcript, sentiments: &[TurnSentiment]) -> ContactRow {
    let turns = &transcript.turns;
    let chars = transcript.characteristics.as_ref();
    let from_source = |v: Option<f64>| v.map(|x| (x / SOURCE_SCALE).clamp(-1.0, 1.0));
    let customer_score = from_source(chars.and_then(|c| c.customer_overall))
        .or_else(|| participant_score(turns, sentiments, Participant::Customer));
    let agent_score = from_source(chars.and_then(|c| c.agent_overall))
        .or_else(|| participant_score(turns, sentiments, Participant::Agent));

    let customer_scores: Vec<f64> = turns
        .iter()
        .zip(sentiments)
        .filter(|(t, _)| t.participant == Participant::Customer)
        .filter_map(|(_, s)| s.score)
        .collect();
    let quarter = (customer_scores.len() / 4).max(1);
    let source_quarters = chars.map(|c| c.customer_quarters.as_slice()).unwrap_or_default();
    let (start, end) = if source_quarters.is_empty() {
        (
            mean(&customer_scores[..quarter.min(customer_scores.len())]),
            mean(&customer_scores[customer_scores.len().saturating_sub(quarter)..]),
        )
    } else {
        (
            from_source(source_quarters.first().copied()),
            from_source(source_quarters.last().copied()),
        )
    };

    let all: Vec<&TurnSentiment> = sentiments.iter().collect();
    let customer: Vec<&TurnSentiment> = turns
        .iter()
        .zip(sentiments)
        .filter(|(t, _)| t.participant == Participant::Customer)
        .map(|(_, s)| s)
        .collect();
    let unknown = sentiments.iter().filter(|s| s.label.is_none()).count();

    let source_talk = chars.filter(|c| c.agent_talk_ms.is_some() || c.customer_talk_ms.is_some());
    let is_chat = transcript.kind == SourceKind::ContactLensChat;
    let derived = if source_talk.is_none() && !is_chat {
        derive_talk(turns)
    } else {
        None
    };
    let (conversation_ms, agent_talk_ms, customer_talk_ms, non_talk_ms, talk_source) = match (source_talk, &derived) {
        (Some(c), _) => (
            c.total_ms,
            c.agent_talk_ms,
            c.customer_talk_ms,
            c.non_talk_ms,
            Some("source"),
        ),
        (None, Some(d)) => (
            Some(d.conversation_ms),
            Some(d.agent_ms),
            Some(d.customer_ms),
            Some(d.non_talk_ms),
            Some("turns"),
        ),
        (None, None) => (chars.and_then(|c| c.total_ms), None, None, None, None),
    };

    let provider = sentiments
        .iter()
        .filter_map(|s| s.source)
        .find(|s| *s != SentimentSource::Source)
        .or_else(|| sentiments.iter().find_map(|s| s.source));
    let skipped_reason = if sentiments.iter().all(|s| s.label.is_none()) {
        sentiments.iter().find_map(|s| s.reason.clone())
    } else {
        None
    };

    ContactRow {
        contact_id: ctx.contact_id.to_owned(),
        source_kind: ctx.kind.code(),
        source: ctx.kind.source(),
        language: ctx.language.map(str::to_owned),
        sentiment_provider: provider.map(SentimentSource::code),
        customer_sentiment: customer_score.map(|s| label_of(s).code()),
        customer_score: customer_score.and_then(round4),
        agent_sentiment: agent_score.map(|s| label_of(s).code()),
        agent_score: agent_score.and_then(round4),
        customer_score_start: start.and_then(round4),
        customer_score_end: end.and_then(round4),
        negative_turn_share: share(&all).and_then(round4),
        customer_negative_turn_share: share(&customer).and_then(round4),
        turn_count: u32::try_from(turns.len()).unwrap_or(u32::MAX),
        unknown_turn_count: u32::try_from(unknown).unwrap_or(u32::MAX),
        conversation_ms,
        agent_talk_ms,
        customer_talk_ms,
        non_talk_ms,
        interruption_count: chars.and_then(|c| c.interruption_count),
        interruption_ms: chars.and_then(|c| c.interruption_ms),
        talk_time_source: talk_source,
        sentiment_skipped_reason: skipped_reason,
        source_object: ctx.source_object.to_owned(),
        contact_timestamp: ctx.contact_timestamp.clone(),
        partition_time_source: ctx.partition_time_source,
        processed_at: ctx.processed_at.clone(),
    }
}

/// Rows as JSON lines: one object per line, each ending in `\n`.
///
/// # Errors
/// Serialisation errors (none are expected: the rows hold strings and finite numbers).
pub fn json_lines<T: Serialize>(rows: &[T]) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(rows.len() * 512);
    for row in rows {
        serde_json::to_writer(&mut out, row)?;
        out.push(b'\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
