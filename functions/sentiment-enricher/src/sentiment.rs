//! Sentiment for every turn: carried over from the source, or scored by a provider.
//!
//! Turns of Call Analytics and Contact Lens files already carry a sentiment label, which is kept
//! and costs no call. Every other turn is scored by the configured provider:
//! - `comprehend`: the turn is cut into documents of at most 5,000 bytes ([`chunk`]), all
//!   documents of the transcript go out together in batches of at most 25, and a turn of several
//!   documents gets the character-weighted mean of their scores. A turn with a document that
//!   failed twice is `UNKNOWN` with the error code as its reason.
//! - `lexicon`: VADER, sentence by sentence, averaged; its published thresholds (compound at
//!   least 0.05 is positive, at most -0.05 negative) give the label.
//!
//! A language the provider cannot score leaves the turn `UNKNOWN` with `unsupported_language`.

use std::str::FromStr;

use crate::transcript::{Sentiment, Turn};

use crate::chunk::{self, COMPREHEND_MAX_BYTES};
use crate::comprehend::{self, ComprehendError};
use crate::vader::Vader;

/// VADER's published compound thresholds.
const VADER_POSITIVE: f64 = 0.05;
const VADER_NEGATIVE: f64 = -0.05;

/// Which provider scores turns that carry no sentiment (`SENTIMENT_PROVIDER`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProviderKind {
    /// Amazon Comprehend `BatchDetectSentiment`: the default when deployed.
    #[default]
    Comprehend,
    /// The offline VADER scorer: local runs, and teams that avoid per-character costs.
    Lexicon,
}

impl ProviderKind {
    pub const fn code(self) -> &'static str {
        match self {
            ProviderKind::Comprehend => "comprehend",
            ProviderKind::Lexicon => "lexicon",
        }
    }
}

impl FromStr for ProviderKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "comprehend" => Ok(ProviderKind::Comprehend),
            "lexicon" | "vader" => Ok(ProviderKind::Lexicon),
            other => Err(format!("expected comprehend or lexicon, got {other:?}")),
        }
    }
}

/// The provider with what it needs to run.
#[derive(Clone, Copy)]
pub enum Provider<'a> {
    Comprehend(&'a aws_sdk_comprehend::Client),
    Lexicon(&'a Vader),
}

impl Provider<'_> {
    pub fn kind(&self) -> ProviderKind {
        match self {
            Provider::Comprehend(_) => ProviderKind::Comprehend,
            Provider::Lexicon(_) => ProviderKind::Lexicon,
        }
    }

    /// The language code this provider takes for a transcript language, if it supports it.
    pub fn language(&self, transcript_language: &str) -> Option<&'static str> {
        match self {
            Provider::Comprehend(_) => comprehend_language(transcript_language),
            Provider::Lexicon(_) => (comprehend_language(transcript_language) == Some("en")).then_some("en"),
        }
    }
}

/// Comprehend's sentiment language for a transcript language: `en-US` → `en`, `zh-TW` stays.
/// `None` for languages Comprehend's sentiment does not support.
pub fn comprehend_language(code: &str) -> Option<&'static str> {
    let code = code.trim();
    let lower = code.to_ascii_lowercase().replace('_', "-");
    if matches!(lower.as_str(), "zh-tw" | "zh-hant" | "zh-hant-tw") {
        return Some("zh-TW");
    }
    let primary = lower.split('-').next().unwrap_or_default();
    Some(match primary {
        "ar" => "ar",
        "de" => "de",
        "en" => "en",
        "es" => "es",
        "fr" => "fr",
        "hi" => "hi",
        "it" => "it",
        "ja" => "ja",
        "ko" => "ko",
        "pt" => "pt",
        // zh-CN, zh-SG, zh-Hans: simplified Chinese. zh-HK is Cantonese, which Comprehend lacks.
        "zh" if lower != "zh-hk" => "zh",
        _ => return None,
    })
}

/// Comprehend's PII-detection language: English and Spanish only.
pub fn pii_language(code: &str) -> Option<&'static str> {
    comprehend_language(code).filter(|l| matches!(*l, "en" | "es"))
}

/// Where a turn's sentiment came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SentimentSource {
    Comprehend,
    Lexicon,
    /// Carried by the transcript (Call Analytics, Contact Lens).
    Source,
}

impl SentimentSource {
    pub const fn code(self) -> &'static str {
        match self {
            SentimentSource::Comprehend => "comprehend",
            SentimentSource::Lexicon => "lexicon",
            SentimentSource::Source => "source",
        }
    }
}

/// Per-class scores of a turn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scores {
    pub positive: f64,
    pub negative: f64,
    pub neutral: f64,
    /// Comprehend only.
    pub mixed: Option<f64>,
}

/// The sentiment of one turn.
#[derive(Debug, Clone, PartialEq)]
pub struct TurnSentiment {
    /// `None` is `UNKNOWN`, with a reason.
    pub label: Option<Sentiment>,
    pub reason: Option<String>,
    pub source: Option<SentimentSource>,
    /// -1..1.
    pub score: Option<f64>,
    pub scores: Option<Scores>,
    /// Documents (Comprehend) or sentences (VADER) the turn was scored in.
    pub chunks: u32,
}

impl TurnSentiment {
    fn unknown(reason: impl Into<String>, chunks: u32) -> Self {
        TurnSentiment {
            label: None,
            reason: Some(reason.into()),
            source: None,
            score: None,
            scores: None,
            chunks,
        }
    }

    fn from_source(label: Sentiment) -> Self {
        TurnSentiment {
            label: Some(label),
            reason: None,
            source: Some(SentimentSource::Source),
            score: Some(label_score(label)),
            scores: None,
            chunks: 0,
        }
    }
}

/// A label as a score, for sources that give only labels.
pub fn label_score(label: Sentiment) -> f64 {
    match label {
        Sentiment::Positive => 1.0,
        Sentiment::Negative => -1.0,
        Sentiment::Neutral | Sentiment::Mixed => 0.0,
    }
}

/// Counters of one transcript's scoring.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScoringReport {
    pub comprehend_calls: u64,
    pub chunks: u64,
    pub document_errors: u64,
    pub documents_retried: u64,
}

/// Sentiment for every turn, in order.
///
/// # Errors
/// [`ComprehendError`] when a Comprehend call fails as a whole.
pub async fn score_turns(
    provider: Provider<'_>,
    language: &str,
    turns: &[Turn],
) -> Result<(Vec<TurnSentiment>, ScoringReport), ComprehendError> {
    let mut report = ScoringReport::default();
    let mut out: Vec<Option<TurnSentiment>> = turns
        .iter()
        .map(|t| t.sentiment.map(TurnSentiment::from_source))
        .collect();
    let to_score: Vec<usize> = (0..turns.len()).filter(|&i| out[i].is_none()).collect();
    if to_score.is_empty() {
        return Ok((out.into_iter().flatten().collect(), report));
    }
    let Some(provider_language) = provider.language(language) else {
        for &i in &to_score {
            out[i] = Some(TurnSentiment::unknown("unsupported_language", 0));
        }
        return Ok((out.into_iter().flatten().collect(), report));
    };
    match provider {
        Provider::Lexicon(vader) => {
            for &i in &to_score {
                let (sentiment, sentences) = lexicon_turn(vader, &turns[i].text);
                report.chunks += u64::from(sentences);
                out[i] = Some(sentiment);
            }
        }
        Provider::Comprehend(client) => {
            // Every document of every turn, with the turn it belongs to and its weight.
            let mut docs: Vec<&str> = Vec::new();
            let mut owners: Vec<(usize, f64)> = Vec::new();
            let mut chunk_counts = vec![0u32; turns.len()];
            for &i in &to_score {
                for piece in chunk::chunk(&turns[i].text, COMPREHEND_MAX_BYTES) {
                    if piece.trim().is_empty() {
                        continue;
                    }
                    docs.push(piece);
                    owners.push((i, piece.chars().count() as f64));
                    chunk_counts[i] += 1;
                }
            }
            let (results, batch) = comprehend::batch_sentiment(client, provider_language, &docs).await?;
            report.comprehend_calls = batch.calls;
            report.document_errors = batch.document_errors;
            report.documents_retried = batch.retried;
            report.chunks = docs.len() as u64;
            type DocResult<'r> = (f64, &'r Result<comprehend::DocScores, comprehend::DocError>);
            let mut by_turn: Vec<Vec<DocResult<'_>>> = vec![Vec::new(); turns.len()];
            for ((owner, weight), result) in owners.iter().zip(&results) {
                by_turn[*owner].push((*weight, result));
            }
            for &i in &to_score {
                out[i] = Some(combine_comprehend(&by_turn[i], chunk_counts[i]));
            }
        }
    }
    Ok((out.into_iter().flatten().collect(), report))
}

fn combine_comprehend(
    docs: &[(f64, &Result<comprehend::DocScores, comprehend::DocError>)],
    chunks: u32,
) -> TurnSentiment {
    if docs.is_empty() {
        return TurnSentiment::unknown("empty_text", chunks);
    }
    if let Some((_, Err(e))) = docs.iter().find(|(_, r)| r.is_err()) {
        return TurnSentiment::unknown(format!("comprehend_error:{}", e.code), chunks);
    }
    let ok: Vec<(f64, &comprehend::DocScores)> = docs
        .iter()
        .filter_map(|(w, r)| r.as_ref().ok().map(|s| (*w, s)))
        .collect();
    let total: f64 = ok.iter().map(|(w, _)| w).sum::<f64>().max(f64::MIN_POSITIVE);
    let mean = |f: fn(&comprehend::DocScores) -> f64| ok.iter().map(|(w, s)| w * f(s)).sum::<f64>() / total;
    let scores = Scores {
        positive: mean(|s| s.positive),
        negative: mean(|s| s.negative),
        neutral: mean(|s| s.neutral),
        mixed: Some(mean(|s| s.mixed)),
    };
    let label = match ok.as_slice() {
        [(_, only)] => only.label,
        _ => argmax(&scores),
    };
    TurnSentiment {
        label: Some(label),
        reason: None,
        source: Some(SentimentSource::Comprehend),
        score: Some(scores.positive - scores.negative),
        scores: Some(scores),
        chunks,
    }
}

fn argmax(s: &Scores) -> Sentiment {
    let candidates = [
        (Sentiment::Positive, s.positive),
        (Sentiment::Negative, s.negative),
        (Sentiment::Neutral, s.neutral),
        (Sentiment::Mixed, s.mixed.unwrap_or(0.0)),
    ];
    candidates
        .into_iter()
        .fold(
            (Sentiment::Neutral, f64::MIN),
            |best, c| if c.1 > best.1 { c } else { best },
        )
        .0
}

/// VADER over the sentences of a turn, averaged.
fn lexicon_turn(vader: &Vader, text: &str) -> (TurnSentiment, u32) {
    let polarities: Vec<_> = chunk::sentences(text)
        .into_iter()
        .filter(|s| !s.trim().is_empty())
        .map(|s| vader.polarity(s))
        .collect();
    let n = polarities.len() as u32;
    if polarities.is_empty() {
        return (TurnSentiment::unknown("empty_text", 0), 0);
    }
    let count = polarities.len() as f64;
    let mean = |f: fn(&crate::vader::Polarity) -> f64| polarities.iter().map(f).sum::<f64>() / count;
    let compound = mean(|p| p.compound);
    let label = if compound >= VADER_POSITIVE {
        Sentiment::Positive
    } else if compound <= VADER_NEGATIVE {
        Sentiment::Negative
    } else {
        Sentiment::Neutral
    };
    let sentiment = TurnSentiment {
        label: Some(label),
        reason: None,
        source: Some(SentimentSource::Lexicon),
        score: Some(compound),
        scores: Some(Scores {
            positive: mean(|p| p.pos),
            negative: mean(|p| p.neg),
            neutral: mean(|p| p.neu),
            mixed: None,
        }),
        chunks: n,
    };
    (sentiment, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_map_to_comprehend_codes_and_unsupported_ones_are_none() {
        for (code, want) in [
            ("en-US", Some("en")),
            ("en-GB", Some("en")),
            ("es-US", Some("es")),
            ("pt-BR", Some("pt")),
            ("fr-CA", Some("fr")),
            ("de-DE", Some("de")),
            ("ja-JP", Some("ja")),
            ("ko-KR", Some("ko")),
            ("hi-IN", Some("hi")),
            ("ar-AE", Some("ar")),
            ("it-IT", Some("it")),
            ("zh-CN", Some("zh")),
            ("zh-TW", Some("zh-TW")),
            ("zh-HK", None),
            ("sv-SE", None),
            ("nl-NL", None),
            ("", None),
        ] {
            assert_eq!(comprehend_language(code), want, "{code}");
        }
        assert_eq!(pii_language("es-MX"), Some("es"));
        assert_eq!(pii_language("en-AU"), Some("en"));
        assert_eq!(pii_language("fr-FR"), None);
        assert_eq!(Provider::Lexicon(Vader::shared()).language("en-IN"), Some("en"));
        assert_eq!(Provider::Lexicon(Vader::shared()).language("es-US"), None);
    }

    #[test]
    fn provider_names_parse() {
        assert_eq!("comprehend".parse(), Ok(ProviderKind::Comprehend));
        assert_eq!(" LEXICON ".parse(), Ok(ProviderKind::Lexicon));
        assert!("openai".parse::<ProviderKind>().is_err());
    }

    fn turn(text: &str, sentiment: Option<Sentiment>) -> Turn {
        Turn {
            participant: crate::transcript::Participant::Customer,
            speaker: "ch_1".into(),
            begin_ms: None,
            end_ms: None,
            text: text.into(),
            sentiment,
            loudness: None,
        }
    }

    #[tokio::test]
    async fn lexicon_scores_known_sentences_and_keeps_source_labels() {
        let turns = [
            turn("Thank you so much, that was really helpful! Have a great day.", None),
            turn(
                "This is the third time I call. I am furious and I want to cancel.",
                None,
            ),
            turn("I am calling about my bill.", None),
            turn("Whatever the words, the file said it.", Some(Sentiment::Negative)),
        ];
        let (s, report) = score_turns(Provider::Lexicon(Vader::shared()), "en-US", &turns)
            .await
            .unwrap();
        let labels: Vec<_> = s.iter().map(|t| t.label).collect();
        assert_eq!(
            labels,
            [
                Some(Sentiment::Positive),
                Some(Sentiment::Negative),
                Some(Sentiment::Neutral),
                Some(Sentiment::Negative)
            ]
        );
        assert_eq!(s[0].source, Some(SentimentSource::Lexicon));
        assert_eq!(s[0].chunks, 2, "scored sentence by sentence");
        assert_eq!(s[3].source, Some(SentimentSource::Source));
        assert_eq!(s[3].score, Some(-1.0));
        assert_eq!(report.comprehend_calls, 0);
        assert_eq!(report.chunks, 2 + 2 + 1);
    }

    #[tokio::test]
    async fn unsupported_languages_are_unknown_with_a_reason() {
        let turns = [
            turn("Hej, jag vill avsluta mitt konto.", None),
            turn("Bra!", Some(Sentiment::Positive)),
        ];
        let (s, _) = score_turns(Provider::Lexicon(Vader::shared()), "sv-SE", &turns)
            .await
            .unwrap();
        assert_eq!(s[0].label, None);
        assert_eq!(s[0].reason.as_deref(), Some("unsupported_language"));
        assert_eq!(s[1].label, Some(Sentiment::Positive), "source labels need no provider");
    }

    #[test]
    fn multi_chunk_turns_weight_scores_by_characters() {
        let a = comprehend::DocScores {
            label: Sentiment::Positive,
            positive: 0.9,
            negative: 0.0,
            neutral: 0.1,
            mixed: 0.0,
        };
        let b = comprehend::DocScores {
            label: Sentiment::Negative,
            positive: 0.0,
            negative: 0.9,
            neutral: 0.1,
            mixed: 0.0,
        };
        let (ra, rb) = (Ok(a), Ok(b));
        let t = combine_comprehend(&[(300.0, &ra), (100.0, &rb)], 2);
        assert_eq!(t.label, Some(Sentiment::Positive));
        let score = t.score.unwrap();
        assert!((score - (0.675 - 0.225)).abs() < 1e-9, "{score}");
        let err = Err(comprehend::DocError {
            code: "INTERNAL_SERVER_ERROR".into(),
        });
        let t = combine_comprehend(&[(300.0, &ra), (100.0, &err)], 2);
        assert_eq!(t.label, None);
        assert_eq!(t.reason.as_deref(), Some("comprehend_error:INTERNAL_SERVER_ERROR"));
    }
}
