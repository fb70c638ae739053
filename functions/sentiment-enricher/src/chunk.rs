//! Splitting turn text into documents a sentiment service accepts.
//!
//! Comprehend takes at most 5,000 bytes of UTF-8 per document. Peers have either sent whole
//! transcripts (and failed) or cut at 5,000 bytes (and lost the rest, or split a character). Here
//! a text is cut into consecutive pieces that together are exactly the text: every piece is at
//! most `max_bytes` long, every cut is on a character boundary, and cuts prefer the end of a
//! sentence, then the end of a word, and only then fall back to a character boundary (never
//! inside an emoji ZWJ sequence, a skin-tone or variation-selector pair, or before a combining
//! mark, when that can be avoided).

/// The largest document Comprehend's sentiment calls take, in UTF-8 bytes: the limit is documented
/// as "fewer than 5,000 bytes", so 4,999.
pub const COMPREHEND_MAX_BYTES: usize = 4_999;

/// The smallest usable limit: the longest UTF-8 encoding of one character.
const MIN_MAX_BYTES: usize = 4;

/// How far a hard cut may move back to keep a grapheme together.
const GRAPHEME_BACKOFF_BYTES: usize = 64;

/// Sentence-ending characters that are followed by whitespace in the scripts that use them.
fn ends_sentence_before_space(c: char) -> bool {
    matches!(c, '.' | '!' | '?' | '…' | '؟' | '।' | '॥' | '۔')
}

/// Sentence-ending characters of scripts written without spaces (CJK full-width forms).
fn ends_sentence_without_space(c: char) -> bool {
    matches!(c, '。' | '！' | '？' | '｡' | '．')
}

/// Closing quotes and brackets that may follow a sentence end (`"Stop." He left.`).
fn is_closer(c: char) -> bool {
    matches!(
        c,
        '"' | '\'' | ')' | ']' | '}' | '”' | '’' | '»' | '›' | '」' | '』' | '）' | '】' | '〕' | '》' | '〉'
    )
}

/// Characters that attach to the one before them: never cut right before one of these.
fn attaches_to_previous(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}'   // combining diacritical marks
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}' // combining marks for symbols, incl. the keycap U+20E3
        | '\u{FE00}'..='\u{FE0F}' // variation selectors
        | '\u{FE20}'..='\u{FE2F}'
        | '\u{200D}'              // zero-width joiner
        | '\u{1F3FB}'..='\u{1F3FF}' // emoji skin-tone modifiers
        | '\u{E0020}'..='\u{E007F}' // emoji tag sequences
        | '\u{3099}'..='\u{309A}'   // kana voicing marks
    )
}

/// Cuts `text` into consecutive pieces of at most `max_bytes` UTF-8 bytes whose concatenation
/// is `text`. Whitespace at a cut stays with the piece before it. A limit under 4 bytes is
/// raised to 4, so that every character fits.
pub fn chunk(text: &str, max_bytes: usize) -> Vec<&str> {
    let max = max_bytes.max(MIN_MAX_BYTES);
    let mut pieces = Vec::with_capacity(text.len() / max + 1);
    let mut rest = text;
    while rest.len() > max {
        let cut = best_cut(rest, max);
        let (piece, tail) = rest.split_at(cut);
        pieces.push(piece);
        rest = tail;
    }
    if !rest.is_empty() {
        pieces.push(rest);
    }
    pieces
}

/// The largest character boundary of `s` at or below `at`.
fn floor_boundary(s: &str, at: usize) -> usize {
    let mut i = at.min(s.len());
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Where to end the next piece of `rest` (longer than `max`): a position in `1..=max`.
fn best_cut(rest: &str, max: usize) -> usize {
    let window_end = floor_boundary(rest, max);
    let window = &rest[..window_end];
    let mut last_sentence = None;
    let mut last_word = None;
    let mut prev: Option<char> = None;
    // Whether the text before the current whitespace run ended a sentence.
    let mut after_terminator = false;
    for (i, c) in window.char_indices() {
        if let Some(p) = prev {
            if p.is_whitespace() && !c.is_whitespace() {
                last_word = Some(i);
                if after_terminator {
                    last_sentence = Some(i);
                }
            } else if ends_sentence_without_space(p) && !is_closer(c) && !c.is_whitespace() {
                last_sentence = Some(i);
            }
        }
        after_terminator = still_after_terminator(c, after_terminator);
        prev = Some(c);
    }
    // The window's end is itself a boundary when the window ends in whitespace (or a CJK stop)
    // and the text after it does not continue that whitespace run.
    if let Some(p) = prev {
        let next = rest[window_end..].chars().next();
        let next_is_space = next.is_some_and(char::is_whitespace);
        if p.is_whitespace() && !next_is_space {
            last_word = Some(window_end);
            if after_terminator {
                last_sentence = Some(window_end);
            }
        } else if ends_sentence_without_space(p) && !next.is_some_and(is_closer) {
            last_sentence = Some(window_end);
        }
    }
    let half = window_end / 2;
    match (last_sentence, last_word) {
        (Some(s), _) if s >= half && s > 0 => s,
        (_, Some(w)) if w > 0 => w,
        (Some(s), _) if s > 0 => s,
        _ => hard_cut(rest, window_end),
    }
}

/// A character-boundary cut at or before `end` that keeps grapheme pieces together when it can.
fn hard_cut(rest: &str, end: usize) -> usize {
    let floor = end.saturating_sub(GRAPHEME_BACKOFF_BYTES);
    let mut cut = end;
    while cut > floor {
        let next = rest[cut..].chars().next();
        let before = rest[..cut].chars().next_back();
        let splits_grapheme = next.is_some_and(attaches_to_previous) || before == Some('\u{200D}');
        if !splits_grapheme {
            return cut;
        }
        cut = floor_boundary(rest, cut - 1);
    }
    // A run of joiners longer than the back-off: cut at the plain boundary rather than nowhere.
    if end == 0 {
        rest.chars().next().map_or(0, char::len_utf8)
    } else {
        end
    }
}

/// The sentences of a text, for scorers that work best one sentence at a time (VADER). Pieces
/// keep their trailing whitespace; their concatenation is the text.
pub fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut prev: Option<char> = None;
    let mut after_terminator = false;
    for (i, c) in text.char_indices() {
        if let Some(p) = prev {
            let boundary = (p.is_whitespace() && !c.is_whitespace() && after_terminator)
                || (ends_sentence_without_space(p) && !is_closer(c) && !c.is_whitespace());
            if boundary && i > start {
                out.push(&text[start..i]);
                start = i;
            }
        }
        after_terminator = still_after_terminator(c, after_terminator);
        prev = Some(c);
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// Whether, after `c`, the text still stands right after a sentence terminator (closing quotes
/// and brackets keep that state; whitespace leaves it as it was).
fn still_after_terminator(c: char, after_terminator: bool) -> bool {
    if c.is_whitespace() {
        after_terminator
    } else {
        ends_sentence_before_space(c) || ends_sentence_without_space(c) || (is_closer(c) && after_terminator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn assert_valid(text: &str, pieces: &[&str], max: usize) {
        assert_eq!(pieces.concat(), text, "chunks lose or reorder text");
        for p in pieces {
            assert!(p.len() <= max, "chunk of {} bytes over {max}", p.len());
            assert!(!p.is_empty());
        }
    }

    #[test]
    fn short_text_is_one_chunk_and_empty_text_none() {
        assert_eq!(chunk("Hello there.", 5000), ["Hello there."]);
        assert!(chunk("", 5000).is_empty());
        let exact = "a".repeat(5000);
        assert_eq!(chunk(&exact, 5000), [exact.as_str()]);
    }

    #[test]
    fn cuts_prefer_sentence_ends_then_word_ends() {
        let text = "First sentence here. Second one is longer than that";
        let pieces = chunk(text, 30);
        assert_eq!(pieces[0], "First sentence here. ");
        assert_valid(text, &pieces, 30);
        let pieces = chunk("alpha beta gamma delta epsilon", 12);
        assert_eq!(pieces, ["alpha beta ", "gamma delta ", "epsilon"]);
        // A sentence end too early in the window loses to a later word end.
        let text = "Hi. averyveryverylongword another word here";
        let pieces = chunk(text, 40);
        assert_eq!(pieces[0], "Hi. averyveryverylongword another word ");
    }

    #[test]
    fn closing_quotes_after_a_full_stop_still_end_the_sentence() {
        let text = "He said \"stop.\" Then he left the room quickly";
        let pieces = chunk(text, 24);
        assert_eq!(pieces[0], "He said \"stop.\" ");
        assert_valid(text, &pieces, 24);
    }

    #[test]
    fn comprehend_documents_are_fewer_than_5000_bytes() {
        assert_eq!(COMPREHEND_MAX_BYTES, 4_999);
        let text = "a".repeat(5_000);
        let pieces = chunk(&text, COMPREHEND_MAX_BYTES);
        assert_eq!(pieces.len(), 2, "exactly 5,000 bytes is one byte too many");
        assert!(pieces.iter().all(|p| p.len() < 5_000));
    }

    #[test]
    fn cjk_text_is_cut_after_full_width_stops_without_spaces() {
        let sentence = "今日はとても良い天気ですね。";
        let text = sentence.repeat(200);
        let pieces = chunk(&text, COMPREHEND_MAX_BYTES);
        assert_valid(&text, &pieces, COMPREHEND_MAX_BYTES);
        assert!(pieces.len() >= 2);
        for p in &pieces {
            assert!(
                p.ends_with('。'),
                "cut mid-sentence: ...{}",
                &p[p.len().saturating_sub(9)..]
            );
        }
    }

    #[test]
    fn emoji_and_cjk_across_the_5000_byte_edge_stay_whole() {
        // 4,998 ASCII bytes, then 4-byte emoji and 3-byte CJK with no space to cut at.
        let text = format!("{}😀😀中文字", "x".repeat(4998));
        let pieces = chunk(&text, COMPREHEND_MAX_BYTES);
        assert_valid(&text, &pieces, COMPREHEND_MAX_BYTES);
        assert_eq!(pieces[0].len(), 4998, "the emoji does not fit: cut before it");
        assert_eq!(pieces[1], "😀😀中文字");
        // A family emoji (ZWJ sequence) straddling the edge moves whole to the next chunk.
        let family = "👩\u{200D}👩\u{200D}👧";
        let text = format!("{}{family}{}", "y".repeat(4990), "z".repeat(10));
        let pieces = chunk(&text, COMPREHEND_MAX_BYTES);
        assert_valid(&text, &pieces, COMPREHEND_MAX_BYTES);
        assert!(pieces[1].starts_with(family), "ZWJ sequence kept together");
        // Skin-tone modifiers stay with their base.
        let text = format!("{}👍🏽 ok", "w".repeat(4996));
        let pieces = chunk(&text, COMPREHEND_MAX_BYTES);
        assert!(pieces[1].starts_with("👍🏽"), "{:?}", &pieces[1]);
    }

    #[test]
    fn a_40_kb_turn_becomes_full_chunks_on_sentence_ends() {
        let sentence = "The agent explained the refund policy again and I am still waiting for my money. ";
        let text = sentence.repeat(40_000 / sentence.len() + 1);
        assert!(text.len() > 40_000);
        let pieces = chunk(&text, COMPREHEND_MAX_BYTES);
        assert_valid(&text, &pieces, COMPREHEND_MAX_BYTES);
        let per_chunk = COMPREHEND_MAX_BYTES / sentence.len();
        assert_eq!(pieces.len(), (text.len() / sentence.len()).div_ceil(per_chunk));
        for p in &pieces[..pieces.len() - 1] {
            assert!(p.ends_with(". "), "not a sentence end");
            assert!(
                p.len() > COMPREHEND_MAX_BYTES - sentence.len(),
                "chunks are nearly full"
            );
        }
    }

    #[test]
    fn sentences_split_on_terminators_and_keep_all_text() {
        let text = "Hello there! How are you? I'm fine.  Thanks 谢谢。再见";
        let s = sentences(text);
        assert_eq!(
            s,
            ["Hello there! ", "How are you? ", "I'm fine.  ", "Thanks 谢谢。", "再见"]
        );
        assert_eq!(s.concat(), text);
        assert_eq!(sentences("no terminator"), ["no terminator"]);
        assert!(sentences("").is_empty());
    }

    proptest! {
        #[test]
        fn any_text_chunks_losslessly_within_the_limit(
            text in "(\\PC|[ .!?。😀👍🏽\u{200D}\u{0301}]){0,600}",
            max in 4usize..64,
        ) {
            let pieces = chunk(&text, max);
            assert_valid(&text, &pieces, max);
        }

        #[test]
        fn sentences_are_lossless(text in "(\\PC|[ .!?。]){0,300}") {
            prop_assert_eq!(sentences(&text).concat(), text);
        }
    }
}
