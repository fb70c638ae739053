//! Amazon Comprehend: batch sentiment and PII redaction.
//!
//! - `BatchDetectSentiment` takes at most 25 documents of at most 5,000 UTF-8 bytes. A call can
//!   succeed while some documents fail: those come back in `ErrorList` (and a document missing
//!   from both lists counts as failed). Failed documents are retried once, together, in new
//!   batches; a document that fails again is reported with its error code. A failed *call*
//!   (throttling or a 500 after the SDK's own retries) is an error of the whole object, which is
//!   then retried by its event source.
//! - `DetectPiiEntities` takes up to 100 KB, so turns are packed into as few documents as fit.
//!   Its offsets count Unicode code points. An offset outside the text (the local emulator
//!   returns canned ones) means the answer does not describe this text: the affected turns are
//!   not stored rather than stored half-redacted.

use crate::transcript::Sentiment;
use aws_sdk_comprehend::Client;
use aws_sdk_comprehend::types::{LanguageCode, SentimentType};
use connect_lake::pii::{PiiKind, Tokenizer};

use crate::aws_error::error_code;
use crate::chunk;

/// Documents per `BatchDetectSentiment` call.
pub const MAX_DOCS_PER_BATCH: usize = 25;

/// Bytes per `DetectPiiEntities` document (100 KB).
pub const PII_MAX_BYTES: usize = 100_000;

/// Comprehend's answer for one document.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DocScores {
    pub label: Sentiment,
    pub positive: f64,
    pub negative: f64,
    pub neutral: f64,
    pub mixed: f64,
}

/// A document that failed twice: its last error code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocError {
    pub code: String,
}

/// Counters of one batch run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchReport {
    pub calls: u64,
    /// Per-document errors seen, retries included.
    pub document_errors: u64,
    /// Documents sent a second time.
    pub retried: u64,
}

/// A Comprehend call that failed as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Comprehend {operation} failed: {code}")]
pub struct ComprehendError {
    pub operation: &'static str,
    pub code: String,
}

fn scores_of(
    label: Option<&SentimentType>,
    score: Option<&aws_sdk_comprehend::types::SentimentScore>,
) -> Option<DocScores> {
    let label = match label? {
        SentimentType::Positive => Sentiment::Positive,
        SentimentType::Negative => Sentiment::Negative,
        SentimentType::Neutral => Sentiment::Neutral,
        SentimentType::Mixed => Sentiment::Mixed,
        _ => return None,
    };
    let score = score?;
    let f = |v: Option<f32>| v.map(f64::from).filter(|x| x.is_finite()).unwrap_or(0.0);
    Some(DocScores {
        label,
        positive: f(score.positive()),
        negative: f(score.negative()),
        neutral: f(score.neutral()),
        mixed: f(score.mixed()),
    })
}

/// Sentiment of every document, in order, in calls of at most [`MAX_DOCS_PER_BATCH`] documents.
/// Documents must already be fewer than 5,000 bytes (see [`chunk::chunk`], at most 4,999).
///
/// # Errors
/// [`ComprehendError`] when a call fails as a whole.
pub async fn batch_sentiment(
    client: &Client,
    language: &str,
    docs: &[&str],
) -> Result<(Vec<Result<DocScores, DocError>>, BatchReport), ComprehendError> {
    let mut report = BatchReport::default();
    let mut results: Vec<Option<Result<DocScores, DocError>>> = vec![None; docs.len()];
    let mut pending: Vec<usize> = (0..docs.len()).collect();
    for attempt in 0..2 {
        let mut failed: Vec<(usize, String)> = Vec::new();
        for batch in pending.chunks(MAX_DOCS_PER_BATCH) {
            let texts: Vec<String> = batch.iter().map(|&i| docs[i].to_owned()).collect();
            let out = client
                .batch_detect_sentiment()
                .language_code(LanguageCode::from(language))
                .set_text_list(Some(texts))
                .send()
                .await
                .map_err(|e| ComprehendError {
                    operation: "BatchDetectSentiment",
                    code: error_code(&e),
                })?;
            report.calls += 1;
            let mut answered = vec![false; batch.len()];
            for r in out.result_list() {
                let Some(pos) = r
                    .index()
                    .and_then(|i| usize::try_from(i).ok())
                    .filter(|&i| i < batch.len())
                else {
                    continue;
                };
                if let Some(scores) = scores_of(r.sentiment(), r.sentiment_score()) {
                    results[batch[pos]] = Some(Ok(scores));
                    answered[pos] = true;
                }
            }
            let mut errored = vec![None; batch.len()];
            for e in out.error_list() {
                if let Some(pos) = e
                    .index()
                    .and_then(|i| usize::try_from(i).ok())
                    .filter(|&i| i < batch.len())
                {
                    errored[pos] = Some(e.error_code().unwrap_or("UnknownError").to_owned());
                }
            }
            for (pos, ok) in answered.iter().enumerate() {
                if !ok {
                    report.document_errors += 1;
                    let code = errored[pos].take().unwrap_or_else(|| "MissingResult".to_owned());
                    failed.push((batch[pos], code));
                }
            }
        }
        if failed.is_empty() {
            break;
        }
        if attempt == 0 {
            report.retried += failed.len() as u64;
            pending = failed.into_iter().map(|(i, _)| i).collect();
        } else {
            for (i, code) in failed {
                results[i] = Some(Err(DocError { code }));
            }
        }
    }
    let results = results
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|| {
                Err(DocError {
                    code: "MissingResult".to_owned(),
                })
            })
        })
        .collect();
    Ok((results, report))
}

/// What became of one turn's text under PII redaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redacted {
    /// The text with each entity replaced by `[TYPE:token]`.
    Text(String),
    /// Comprehend's offsets did not fit the text: the text is not stored.
    InvalidOffsets,
}

/// One piece of a turn inside a packed document: the turn, the piece's byte range in the turn,
/// and where the piece starts in the document.
struct Placement {
    turn: usize,
    in_turn: std::ops::Range<usize>,
    doc_start: usize,
}

struct PackedDoc {
    text: String,
    placements: Vec<Placement>,
}

/// Packs turns (split where longer than the limit) into documents of at most `max` bytes,
/// separated by newlines.
fn pack(texts: &[&str], max: usize) -> Vec<PackedDoc> {
    let mut docs: Vec<PackedDoc> = Vec::new();
    for (turn, text) in texts.iter().enumerate() {
        let mut offset = 0;
        for piece in chunk::chunk(text, max) {
            let needed = piece.len() + 1;
            let fits = docs.last().is_some_and(|d| d.text.len() + needed <= max);
            if !fits {
                docs.push(PackedDoc {
                    text: String::with_capacity(max.min(64 * 1024)),
                    placements: Vec::new(),
                });
            }
            if let Some(doc) = docs.last_mut() {
                if !doc.text.is_empty() {
                    doc.text.push('\n');
                }
                doc.placements.push(Placement {
                    turn,
                    in_turn: offset..offset + piece.len(),
                    doc_start: doc.text.len(),
                });
                doc.text.push_str(piece);
            }
            offset += piece.len();
        }
    }
    docs
}

/// Byte offset of every character boundary of `s`, including the end.
fn char_boundaries(s: &str) -> Vec<usize> {
    s.char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(s.len()))
        .collect()
}

/// Redacts PII in each turn's text with `DetectPiiEntities`, replacing each entity with its type
/// and an HMAC token of its value (stable across the lake, irreversible without the key).
///
/// # Errors
/// [`ComprehendError`] when a call fails as a whole.
pub async fn redact(
    client: &Client,
    language: &str,
    texts: &[&str],
    tokenizer: &Tokenizer,
) -> Result<(Vec<Redacted>, u64), ComprehendError> {
    let mut spans: Vec<Vec<(std::ops::Range<usize>, String)>> = vec![Vec::new(); texts.len()];
    let mut invalid = vec![false; texts.len()];
    let mut calls = 0;
    for doc in pack(texts, PII_MAX_BYTES) {
        let out = client
            .detect_pii_entities()
            .language_code(LanguageCode::from(language))
            .text(&doc.text)
            .send()
            .await
            .map_err(|e| ComprehendError {
                operation: "DetectPiiEntities",
                code: error_code(&e),
            })?;
        calls += 1;
        let bounds = char_boundaries(&doc.text);
        for entity in out.entities() {
            let begin = entity.begin_offset().and_then(|b| usize::try_from(b).ok());
            let end = entity.end_offset().and_then(|e| usize::try_from(e).ok());
            let range = match (begin, end) {
                (Some(b), Some(e)) if b < e => bounds.get(b).copied().zip(bounds.get(e).copied()),
                (Some(b), Some(e)) if b == e && b < bounds.len() => continue,
                _ => None,
            };
            let Some((start, stop)) = range else {
                for p in &doc.placements {
                    invalid[p.turn] = true;
                }
                break;
            };
            let kind = entity.r#type().map_or("PII", |t| t.as_str()).to_owned();
            for p in &doc.placements {
                let piece_end = p.doc_start + p.in_turn.len();
                let (s, e) = (start.max(p.doc_start), stop.min(piece_end));
                if s < e {
                    let in_turn = p.in_turn.start + (s - p.doc_start)..p.in_turn.start + (e - p.doc_start);
                    spans[p.turn].push((in_turn, kind.clone()));
                }
            }
        }
    }
    let redacted = texts
        .iter()
        .zip(spans)
        .zip(invalid)
        .map(|((text, spans), invalid)| {
            if invalid {
                Redacted::InvalidOffsets
            } else {
                Redacted::Text(apply(text, spans, tokenizer))
            }
        })
        .collect();
    Ok((redacted, calls))
}

/// Replaces the spans (byte ranges on character boundaries), merged where they overlap.
fn apply(text: &str, mut spans: Vec<(std::ops::Range<usize>, String)>, tokenizer: &Tokenizer) -> String {
    spans.sort_by_key(|(r, _)| (r.start, r.end));
    let mut merged: Vec<(std::ops::Range<usize>, String)> = Vec::with_capacity(spans.len());
    for (range, kind) in spans {
        match merged.last_mut() {
            Some((last, _)) if range.start <= last.end => last.end = last.end.max(range.end),
            _ => merged.push((range, kind)),
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (range, kind) in merged {
        let (Some(before), Some(value)) = (text.get(at..range.start), text.get(range.clone())) else {
            continue;
        };
        out.push_str(before);
        let normalized = value.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
        out.push('[');
        out.push_str(&kind);
        out.push(':');
        out.push_str(&tokenizer.token(PiiKind::Text, &normalized));
        out.push(']');
        at = range.end;
    }
    out.push_str(text.get(at..).unwrap_or_default());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_keeps_every_byte_of_every_turn_within_the_limit() {
        let long = "word ".repeat(50);
        let texts = ["short one", long.as_str(), "ünïcödé 😀", ""];
        let docs = pack(&texts, 64);
        for d in &docs {
            assert!(d.text.len() <= 64);
        }
        for (turn, text) in texts.iter().enumerate() {
            let mut rebuilt = String::new();
            for d in &docs {
                for p in d.placements.iter().filter(|p| p.turn == turn) {
                    rebuilt.push_str(&d.text[p.doc_start..p.doc_start + p.in_turn.len()]);
                    assert_eq!(
                        &d.text[p.doc_start..p.doc_start + p.in_turn.len()],
                        &text[p.in_turn.clone()]
                    );
                }
            }
            assert_eq!(&rebuilt, text);
        }
        assert_eq!(pack(&["a", "b", "c"], 100).len(), 1, "small turns share one document");
    }

    #[test]
    fn overlapping_spans_merge_and_values_become_tokens() {
        let tok = Tokenizer::new(&[7u8; 32]).unwrap();
        let text = "Call John Smith at 555 0100 please";
        let spans = vec![
            (5..15, "NAME".to_owned()),
            (10..15, "NAME".to_owned()),
            (19..27, "PHONE".to_owned()),
        ];
        let out = apply(text, spans, &tok);
        let name = tok.token(PiiKind::Text, "john smith");
        let phone = tok.token(PiiKind::Text, "555 0100");
        assert_eq!(out, format!("Call [NAME:{name}] at [PHONE:{phone}] please"));
        assert!(!out.contains("John") && !out.contains("0100"));
    }
}
