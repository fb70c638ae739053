//! The offline lexicon provider: VADER (Hutto & Gilbert, "VADER: A Parsimonious Rule-based
//! Model for Sentiment Analysis of Social Media Text", ICWSM 2014).
//!
//! An implementation of the rules of the reference implementation (vaderSentiment 3.3.2): the
//! valence lexicon, booster and dampener words, ALL-CAPS emphasis, negation within three words,
//! "never so/this", "without doubt", "at least" / "least", the contrastive "but", special-case
//! idioms, `!` and `?` emphasis, and the `x / sqrt(x² + 15)` normalisation. The lexicon and the
//! single-character emoji descriptions come from that release (MIT, see `lexicon/`), so scores
//! match the reference to its rounding; `testdata/vader-reference.jsonl` holds its output for
//! the sentences the tests compare.
//!
//! Where the reference has an accident of implementation that contradicts the paper, the paper
//! wins: the contrastive "but" scales every word before it by 0.5 and after it by 1.5 (the
//! reference looks words up by value and can scale a repeated value twice).
//!
//! VADER is English-only. It scores short texts best: callers score sentence by sentence.

use std::collections::HashMap;
use std::sync::LazyLock;

const B_INCR: f64 = 0.293;
const B_DECR: f64 = -0.293;
const C_INCR: f64 = 0.733;
const N_SCALAR: f64 = -0.74;
const NORMALIZATION_ALPHA: f64 = 15.0;
const EXCLAMATION_INCR: f64 = 0.292;
const MAX_EXCLAMATIONS: usize = 4;
const QUESTION_INCR: f64 = 0.18;
const MAX_QUESTION_INCR: f64 = 0.96;

static LEXICON_TSV: &str = include_str!("../lexicon/vader_lexicon.tsv");
static EMOJI_TSV: &str = include_str!("../lexicon/emoji_lexicon.tsv");

static VADER: LazyLock<Vader> = LazyLock::new(Vader::load);

/// ASCII punctuation, as Python's `string.punctuation`.
const PUNCTUATION: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

const NEGATE: &[&str] = &[
    "aint",
    "arent",
    "cannot",
    "cant",
    "couldnt",
    "darent",
    "didnt",
    "doesnt",
    "ain't",
    "aren't",
    "can't",
    "couldn't",
    "daren't",
    "didn't",
    "doesn't",
    "dont",
    "hadnt",
    "hasnt",
    "havent",
    "isnt",
    "mightnt",
    "mustnt",
    "neither",
    "don't",
    "hadn't",
    "hasn't",
    "haven't",
    "isn't",
    "mightn't",
    "mustn't",
    "neednt",
    "needn't",
    "never",
    "none",
    "nope",
    "nor",
    "not",
    "nothing",
    "nowhere",
    "oughtnt",
    "shant",
    "shouldnt",
    "uhuh",
    "wasnt",
    "werent",
    "oughtn't",
    "shan't",
    "shouldn't",
    "uh-uh",
    "wasn't",
    "weren't",
    "without",
    "wont",
    "wouldnt",
    "won't",
    "wouldn't",
    "rarely",
    "seldom",
    "despite",
];

/// Degree adverbs: intensifiers and dampeners.
fn booster(word: &str) -> Option<f64> {
    Some(match word {
        "absolutely" | "amazingly" | "awfully" | "completely" | "considerable" | "considerably" | "decidedly"
        | "deeply" | "effing" | "enormous" | "enormously" | "entirely" | "especially" | "exceptional"
        | "exceptionally" | "extreme" | "extremely" | "fabulously" | "flipping" | "flippin" | "frackin"
        | "fracking" | "fricking" | "frickin" | "frigging" | "friggin" | "fully" | "fuckin" | "fucking" | "fuggin"
        | "fugging" | "greatly" | "hella" | "highly" | "hugely" | "incredible" | "incredibly" | "intensely"
        | "major" | "majorly" | "more" | "most" | "particularly" | "purely" | "quite" | "really" | "remarkably"
        | "so" | "substantially" | "thoroughly" | "total" | "totally" | "tremendous" | "tremendously" | "uber"
        | "unbelievably" | "unusually" | "utter" | "utterly" | "very" => B_INCR,
        "almost" | "barely" | "hardly" | "just enough" | "kind of" | "kinda" | "kindof" | "kind-of" | "less"
        | "little" | "marginal" | "marginally" | "occasional" | "occasionally" | "partly" | "scarce" | "scarcely"
        | "slight" | "slightly" | "somewhat" | "sort of" | "sorta" | "sortof" | "sort-of" => B_DECR,
        _ => return None,
    })
}

/// Idioms and phrases whose valence replaces that of the lexicon word inside them.
fn special_case(phrase: &str) -> Option<f64> {
    Some(match phrase {
        "the shit" | "the bomb" | "to die for" => 3.0,
        "bad ass" | "badass" => 1.5,
        "bus stop" => 0.0,
        "yeah right" => -2.0,
        "kiss of death" => -1.5,
        "beating heart" => 3.1,
        "broken heart" => -2.9,
        _ => return None,
    })
}

fn negated(word: &str) -> bool {
    NEGATE.contains(&word) || word.contains("n't")
}

/// Python's `str.isupper`: at least one cased character and no lowercase one.
fn is_upper(word: &str) -> bool {
    let mut has_upper = false;
    for c in word.chars() {
        if c.is_lowercase() {
            return false;
        }
        has_upper |= c.is_uppercase();
    }
    has_upper
}

/// Strips leading and trailing punctuation, unless that leaves two characters or fewer (then
/// the token is probably an emoticon, `:)`, and is kept whole).
fn strip_punctuation(token: &str) -> &str {
    let stripped = token.trim_matches(|c| PUNCTUATION.contains(c));
    if stripped.chars().count() <= 2 { token } else { stripped }
}

fn normalize(score: f64) -> f64 {
    (score / (score * score + NORMALIZATION_ALPHA).sqrt()).clamp(-1.0, 1.0)
}

/// VADER's scores for one text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Polarity {
    /// Proportion of the text that is negative, neutral, positive (they sum to 1, or all are 0).
    pub neg: f64,
    pub neu: f64,
    pub pos: f64,
    /// The normalised, weighted composite score, -1 (most negative) to 1 (most positive).
    pub compound: f64,
}

/// The analyser: the lexicon, parsed once per process.
pub struct Vader {
    lexicon: HashMap<&'static str, f64>,
    emoji: HashMap<char, &'static str>,
}

impl Vader {
    /// The shared analyser (the lexicon is parsed on first use, in about a millisecond).
    pub fn shared() -> &'static Vader {
        &VADER
    }

    fn load() -> Self {
        let lexicon = LEXICON_TSV
            .lines()
            .filter_map(|line| {
                let (word, valence) = line.split_once('\t')?;
                Some((word, valence.trim().parse::<f64>().ok()?))
            })
            .collect();
        let emoji = EMOJI_TSV
            .lines()
            .filter_map(|line| {
                let (emoji, description) = line.split_once('\t')?;
                let mut chars = emoji.chars();
                let c = chars.next()?;
                chars.next().is_none().then_some((c, description.trim()))
            })
            .collect();
        Vader { lexicon, emoji }
    }

    /// Entries in the valence lexicon.
    pub fn lexicon_len(&self) -> usize {
        self.lexicon.len()
    }

    fn in_lexicon(&self, lower: &str) -> bool {
        self.lexicon.contains_key(lower)
    }

    /// Emoji become their descriptions, separated by spaces, as the reference does.
    fn describe_emoji(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut prev_space = true;
        for c in text.chars() {
            if let Some(description) = self.emoji.get(&c) {
                if !prev_space {
                    out.push(' ');
                }
                out.push_str(description);
                prev_space = false;
            } else {
                out.push(c);
                prev_space = c == ' ';
            }
        }
        out
    }

    /// Scores a text (best: one sentence).
    pub fn polarity(&self, text: &str) -> Polarity {
        let described = self.describe_emoji(text);
        let text = described.trim();
        let words: Vec<&str> = text.split_whitespace().map(strip_punctuation).collect();
        let lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
        let caps = words.iter().filter(|w| is_upper(w)).count();
        let cap_differential = caps > 0 && caps < words.len();
        let mut sentiments = Vec::with_capacity(words.len());
        for i in 0..words.len() {
            let w = lower[i].as_str();
            let kind_of = w == "kind" && lower.get(i + 1).is_some_and(|n| n == "of");
            if booster(w).is_some() || kind_of {
                sentiments.push(0.0);
            } else {
                sentiments.push(self.valence(&words, &lower, i, cap_differential));
            }
        }
        but_check(&lower, &mut sentiments);
        score(&sentiments, text)
    }

    fn valence(&self, words: &[&str], lower: &[String], i: usize, cap_differential: bool) -> f64 {
        let Some(&base) = self.lexicon.get(lower[i].as_str()) else {
            return 0.0;
        };
        let word = |k: usize| lower[k].as_str();
        let mut valence = base;
        // "no" as a negation of the next lexicon word rather than a word of its own.
        if word(i) == "no" && lower.get(i + 1).is_some_and(|n| self.in_lexicon(n)) {
            valence = 0.0;
        }
        if (i > 0 && word(i - 1) == "no")
            || (i > 1 && word(i - 2) == "no")
            || (i > 2 && word(i - 3) == "no" && matches!(word(i - 1), "or" | "nor"))
        {
            valence = base * N_SCALAR;
        }
        if is_upper(words[i]) && cap_differential {
            valence += if valence > 0.0 { C_INCR } else { -C_INCR };
        }
        for start in 0..3 {
            if i > start && !self.in_lexicon(word(i - start - 1)) {
                let mut s = scalar_inc_dec(words[i - start - 1], word(i - start - 1), valence, cap_differential);
                if start == 1 {
                    s *= 0.95;
                } else if start == 2 {
                    s *= 0.9;
                }
                valence += s;
                valence = negation_check(valence, lower, start, i);
                if start == 2 {
                    valence = special_idioms_check(valence, lower, i);
                }
            }
        }
        self.least_check(valence, lower, i)
    }

    fn least_check(&self, valence: f64, lower: &[String], i: usize) -> f64 {
        let prev_is_least = i > 0 && lower[i - 1] == "least" && !self.in_lexicon(&lower[i - 1]);
        if !prev_is_least {
            return valence;
        }
        if i > 1 {
            if lower[i - 2] != "at" && lower[i - 2] != "very" {
                return valence * N_SCALAR;
            }
            return valence;
        }
        valence * N_SCALAR
    }
}

/// The boost or damping a preceding degree word gives a lexicon word.
fn scalar_inc_dec(word: &str, lower: &str, valence: f64, cap_differential: bool) -> f64 {
    let Some(mut scalar) = booster(lower) else {
        return 0.0;
    };
    if valence < 0.0 {
        scalar = -scalar;
    }
    if is_upper(word) && cap_differential {
        scalar += if valence > 0.0 { C_INCR } else { -C_INCR };
    }
    scalar
}

fn negation_check(valence: f64, lower: &[String], start: usize, i: usize) -> f64 {
    let w = |k: usize| lower[k].as_str();
    let so_or_this = |k: usize| matches!(w(k), "so" | "this");
    match start {
        0 if negated(w(i - 1)) => valence * N_SCALAR,
        1 if w(i - 2) == "never" && so_or_this(i - 1) => valence * 1.25,
        1 if w(i - 2) == "without" && w(i - 1) == "doubt" => valence,
        1 if negated(w(i - 2)) => valence * N_SCALAR,
        2 if (w(i - 3) == "never" && so_or_this(i - 2)) || so_or_this(i - 1) => valence * 1.25,
        2 if w(i - 3) == "without" && (w(i - 2) == "doubt" || w(i - 1) == "doubt") => valence,
        2 if negated(w(i - 3)) => valence * N_SCALAR,
        _ => valence,
    }
}

/// Called with `i >= 3`.
fn special_idioms_check(mut valence: f64, lower: &[String], i: usize) -> f64 {
    let w = |k: usize| lower[k].as_str();
    let one_zero = format!("{} {}", w(i - 1), w(i));
    let two_one_zero = format!("{} {} {}", w(i - 2), w(i - 1), w(i));
    let two_one = format!("{} {}", w(i - 2), w(i - 1));
    let three_two_one = format!("{} {} {}", w(i - 3), w(i - 2), w(i - 1));
    let three_two = format!("{} {}", w(i - 3), w(i - 2));
    if let Some(v) = [&one_zero, &two_one_zero, &two_one, &three_two_one, &three_two]
        .into_iter()
        .find_map(|seq| special_case(seq))
    {
        valence = v;
    }
    if i + 1 < lower.len()
        && let Some(v) = special_case(&format!("{} {}", w(i), w(i + 1)))
    {
        valence = v;
    }
    if i + 2 < lower.len()
        && let Some(v) = special_case(&format!("{} {} {}", w(i), w(i + 1), w(i + 2)))
    {
        valence = v;
    }
    for ngram in [&three_two_one, &three_two, &two_one] {
        if let Some(b) = booster(ngram) {
            valence += b;
        }
    }
    valence
}

/// The contrastive "but": what follows it dominates.
fn but_check(lower: &[String], sentiments: &mut [f64]) {
    let Some(but) = lower.iter().position(|w| w == "but") else {
        return;
    };
    for (k, s) in sentiments.iter_mut().enumerate() {
        if k < but {
            *s *= 0.5;
        } else if k > but {
            *s *= 1.5;
        }
    }
}

fn punctuation_emphasis(text: &str) -> f64 {
    let exclamations = text.matches('!').count().min(MAX_EXCLAMATIONS);
    let questions = text.matches('?').count();
    let question_emphasis = match questions {
        0 | 1 => 0.0,
        2 | 3 => questions as f64 * QUESTION_INCR,
        _ => MAX_QUESTION_INCR,
    };
    exclamations as f64 * EXCLAMATION_INCR + question_emphasis
}

fn score(sentiments: &[f64], text: &str) -> Polarity {
    if sentiments.is_empty() {
        return Polarity {
            neg: 0.0,
            neu: 0.0,
            pos: 0.0,
            compound: 0.0,
        };
    }
    let emphasis = punctuation_emphasis(text);
    let mut sum: f64 = sentiments.iter().sum();
    if sum > 0.0 {
        sum += emphasis;
    } else if sum < 0.0 {
        sum -= emphasis;
    }
    let compound = normalize(sum);
    let (mut pos, mut neg, mut neu) = (0.0f64, 0.0f64, 0usize);
    for &s in sentiments {
        if s > 0.0 {
            // +1 and -1 compensate for neutral words, which count 1 each.
            pos += s + 1.0;
        } else if s < 0.0 {
            neg += s - 1.0;
        } else {
            neu += 1;
        }
    }
    if pos > neg.abs() {
        pos += emphasis;
    } else if pos < neg.abs() {
        neg -= emphasis;
    }
    let total = pos + neg.abs() + neu as f64;
    Polarity {
        neg: (neg / total).abs(),
        neu: (neu as f64 / total).abs(),
        pos: (pos / total).abs(),
        compound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REFERENCE: &str = include_str!("../testdata/vader-reference.jsonl");

    #[test]
    fn the_lexicon_ships_whole() {
        let v = Vader::shared();
        assert_eq!(
            LEXICON_TSV.lines().count(),
            7520,
            "every line of vaderSentiment 3.3.2's lexicon"
        );
        // 14 tokens (ok, lol, xd, ...) appear twice; as in the reference's dict, the later wins.
        assert_eq!(v.lexicon_len(), 7506);
        assert_eq!(v.lexicon.get("good"), Some(&1.9));
        assert_eq!(v.lexicon.get("horrible"), Some(&-2.5));
        assert_eq!(v.emoji.len(), 1212, "the single-character emoji descriptions");
    }

    #[test]
    fn scores_match_the_reference_implementation() {
        let v = Vader::shared();
        let mut checked = 0;
        for line in REFERENCE.lines().filter(|l| !l.trim().is_empty()) {
            let want: serde_json::Value = serde_json::from_str(line).unwrap();
            let text = want["text"].as_str().unwrap();
            let got = v.polarity(text);
            let close = |a: f64, b: &serde_json::Value, tol: f64| (a - b.as_f64().unwrap()).abs() <= tol;
            // The reference rounds proportions to 3 and compound to 4 decimals.
            assert!(
                close(got.compound, &want["compound"], 0.000_051),
                "{text:?}: compound {} vs {}",
                got.compound,
                want["compound"]
            );
            for (name, value) in [("pos", got.pos), ("neu", got.neu), ("neg", got.neg)] {
                assert!(
                    close(value, &want[name], 0.000_51),
                    "{text:?}: {name} {value} vs {}",
                    want[name]
                );
            }
            checked += 1;
        }
        assert!(checked >= 40, "reference file read: {checked} sentences");
    }

    #[test]
    fn known_positive_negative_and_neutral_sentences() {
        let v = Vader::shared();
        let positive = v.polarity("Thank you so much, you were really helpful and the problem is fixed!");
        assert!(positive.compound >= 0.4, "{positive:?}");
        let negative = v.polarity("This is terrible. I am angry and I want to cancel my account.");
        assert!(negative.compound <= -0.5, "{negative:?}");
        let neutral = v.polarity("I am calling about my bill.");
        assert!(neutral.compound == 0.0 && neutral.neu == 1.0, "{neutral:?}");
        let negated = v.polarity("The service was not good.");
        assert!(negated.compound < 0.0, "negation flips: {negated:?}");
    }

    #[test]
    fn contrastive_but_scales_by_position_even_with_repeated_values() {
        // Two equal valences before "but": each is halved exactly once.
        let lower: Vec<String> = ["good", "good", "but", "bad"].iter().map(|s| s.to_string()).collect();
        let mut s = vec![1.9, 1.9, 0.0, -2.5];
        but_check(&lower, &mut s);
        assert_eq!(s, [0.95, 0.95, 0.0, -3.75]);
    }

    #[test]
    fn degenerate_input_scores_zero_without_panicking() {
        let v = Vader::shared();
        for text in [
            "", "   ", "!!!", "?", "a", "😀", "no", "least", "kind", "but", "\u{0}", "NO NO no",
        ] {
            let p = v.polarity(text);
            assert!(
                p.compound.is_finite() && (-1.0..=1.0).contains(&p.compound),
                "{text:?}: {p:?}"
            );
        }
    }
}
