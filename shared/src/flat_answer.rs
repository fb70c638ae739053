//! The answer a Lambda function gives a contact flow: a flat map of string to string.
//!
//! Connect's contract: a flat object, values of letters, digits, `-` and `_` only (this crate also
//! allows `.`, for versions and lists), and under 32 KB of UTF-8 in total. An answer that breaks it
//! sends the caller down the block's Error branch, so [`FlatAnswer`] makes breaking it impossible:
//! keys and values are sanitized on the way in, and the total size is tracked exactly. When a pair
//! would not fit, its value is trimmed to what fits (or the pair is dropped when not even its key
//! fits) and `truncated` = `true` is added, for which room is always kept. Insertion never fails;
//! put the pairs the flow branches on first.

use serde::ser::{Serialize, SerializeMap, Serializer};

/// Connect's limit is "less than 32 KB"; the whole JSON answer stays at or below this many bytes.
pub const MAX_ANSWER_BYTES: usize = 32 * 1024 - 1;

/// The longest key kept (Connect attribute names are short; a long key is a bug upstream).
pub const MAX_KEY_CHARS: usize = 128;

/// The key added when something was trimmed or dropped.
pub const TRUNCATED_KEY: &str = "truncated";

/// `"truncated":"true"` plus a comma: always kept free so the marker can be added.
const MARKER_BYTES: usize = TRUNCATED_KEY.len() + 2 + 1 + 4 + 2 + 1;

/// Whether `c` may appear in an answer key or value.
pub const fn is_allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// Whether the whole string is made of allowed characters.
pub fn is_flat_safe(s: &str) -> bool {
    s.chars().all(is_allowed)
}

/// `s` with every character outside the answer alphabet replaced by `_`, at most `max_chars` long.
pub fn sanitize(s: &str, max_chars: usize) -> String {
    s.chars()
        .take(max_chars)
        .map(|c| if is_allowed(c) { c } else { '_' })
        .collect()
}

/// What became of an inserted pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// Kept as given (after sanitizing).
    Whole,
    /// Kept with a shortened value.
    Trimmed,
    /// Not kept: not even the key fitted.
    Dropped,
}

/// A contact-flow answer under construction. Serializes as a JSON object of strings, in insertion
/// order, never larger than its limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlatAnswer {
    pairs: Vec<(String, String)>,
    /// Encoded size of the pairs alone: `"k":"v"` each, plus the commas between them.
    bytes: usize,
    limit: usize,
    truncated: bool,
}

impl Default for FlatAnswer {
    fn default() -> Self {
        Self::new()
    }
}

fn pair_bytes(key: &str, value: &str) -> usize {
    key.len() + value.len() + 5
}

impl FlatAnswer {
    /// An empty answer with Connect's limit.
    pub fn new() -> Self {
        Self::with_limit(MAX_ANSWER_BYTES)
    }

    /// An empty answer with a smaller limit (tests). Limits too small for the marker are raised to fit it.
    pub fn with_limit(limit: usize) -> Self {
        FlatAnswer {
            pairs: Vec::new(),
            bytes: 0,
            limit: limit.clamp(2 + MARKER_BYTES, MAX_ANSWER_BYTES),
            truncated: false,
        }
    }

    /// Size of the JSON object as serialized.
    pub fn encoded_len(&self) -> usize {
        2 + self.bytes
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    pub fn is_truncated(&self) -> bool {
        self.truncated
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Inserts a pair (replacing the value of an existing key), sanitized and trimmed to fit.
    pub fn insert(&mut self, key: &str, value: &str) -> Fit {
        let mut key = sanitize(key.trim(), MAX_KEY_CHARS);
        if key.is_empty() {
            key.push('_');
        }
        if key == TRUNCATED_KEY {
            // Reserved for the marker, whose room is kept apart.
            key.insert(0, '_');
        }
        let mut value = sanitize(value, usize::MAX);
        if let Some(i) = self.pairs.iter().position(|(k, _)| *k == key) {
            let (k, v) = self.pairs.remove(i);
            self.bytes -= pair_bytes(&k, &v) + usize::from(!self.pairs.is_empty());
        }
        let comma = usize::from(!self.pairs.is_empty());
        // Room for this pair, keeping the marker's room unless the marker is already in.
        let reserve = if self.truncated { 0 } else { MARKER_BYTES };
        let room = self.limit.saturating_sub(2 + self.bytes + reserve + comma);
        let fit = if pair_bytes(&key, &value) <= room {
            Fit::Whole
        } else if pair_bytes(&key, "") <= room {
            value.truncate(room - pair_bytes(&key, ""));
            Fit::Trimmed
        } else {
            Fit::Dropped
        };
        if fit != Fit::Dropped {
            self.bytes += comma + pair_bytes(&key, &value);
            self.pairs.push((key, value));
        }
        if fit != Fit::Whole {
            self.mark_truncated();
        }
        fit
    }

    fn mark_truncated(&mut self) {
        if !self.truncated {
            self.truncated = true;
            let comma = usize::from(!self.pairs.is_empty());
            self.bytes += comma + pair_bytes(TRUNCATED_KEY, "true");
            self.pairs.push((TRUNCATED_KEY.to_owned(), "true".to_owned()));
        }
    }

    /// The answer as a JSON string.
    pub fn to_json(&self) -> String {
        // Keys and values hold only unescaped ASCII, so this is exact and cannot fail.
        let mut out = String::with_capacity(self.encoded_len());
        out.push('{');
        for (i, (k, v)) in self.pairs.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('"');
            out.push_str(k);
            out.push_str("\":\"");
            out.push_str(v);
            out.push('"');
        }
        out.push('}');
        out
    }
}

impl Serialize for FlatAnswer {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.pairs.len()))?;
        for (k, v) in &self.pairs {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::Value;

    use super::*;

    fn check_contract(a: &FlatAnswer) {
        let json = serde_json::to_string(a).unwrap();
        assert_eq!(json, a.to_json());
        assert_eq!(json.len(), a.encoded_len(), "size accounting is exact: {json}");
        assert!(json.len() <= MAX_ANSWER_BYTES);
        let v: Value = serde_json::from_str(&json).unwrap();
        for (k, v) in v.as_object().unwrap() {
            assert!(is_flat_safe(k) && !k.is_empty(), "{k}");
            assert!(is_flat_safe(v.as_str().expect("string values only")), "{v}");
        }
    }

    #[test]
    fn values_are_sanitized_to_the_connect_alphabet() {
        let mut a = FlatAnswer::new();
        assert_eq!(a.insert("reason", "robo call, +1 (206) 555"), Fit::Whole);
        assert_eq!(a.insert("version", "2026.03-1_b"), Fit::Whole);
        assert_eq!(a.insert(" ", "é"), Fit::Whole);
        assert_eq!(a.get("reason"), Some("robo_call___1__206__555"));
        assert_eq!(a.get("version"), Some("2026.03-1_b"));
        assert_eq!(a.get("_"), Some("_"));
        check_contract(&a);
    }

    #[test]
    fn inserting_an_existing_key_replaces_its_value_in_place_of_a_duplicate() {
        let mut a = FlatAnswer::new();
        a.insert("deny", "false");
        a.insert("logged", "true");
        a.insert("deny", "true");
        assert_eq!(a.to_json(), r#"{"logged":"true","deny":"true"}"#);
        check_contract(&a);
    }

    #[test]
    fn an_answer_that_would_exceed_the_limit_is_trimmed_and_marked() {
        let mut a = FlatAnswer::with_limit(100);
        assert_eq!(a.insert("deny", "false"), Fit::Whole);
        assert_eq!(a.insert("big", &"x".repeat(500)), Fit::Trimmed);
        assert_eq!(a.insert("later", "value"), Fit::Dropped);
        assert_eq!(a.get("truncated"), Some("true"));
        assert_eq!(a.get("deny"), Some("false"), "pairs inserted first are kept whole");
        assert!(a.encoded_len() <= 100);
        check_contract(&a);
    }

    #[test]
    fn the_marker_key_cannot_be_forged() {
        let mut a = FlatAnswer::new();
        a.insert("truncated", "false");
        assert_eq!(a.get("truncated"), None);
        assert_eq!(a.get("_truncated"), Some("false"));
    }

    #[test]
    fn thirty_kilobytes_of_pairs_stay_under_32_kb() {
        let mut a = FlatAnswer::new();
        for i in 0..400 {
            a.insert(&format!("attribute_{i}"), &"v".repeat(100));
        }
        assert!(a.is_truncated());
        assert!(a.encoded_len() <= MAX_ANSWER_BYTES);
        assert!(a.encoded_len() > MAX_ANSWER_BYTES - 200, "the room is used, not wasted");
        check_contract(&a);
    }

    proptest! {
        #[test]
        fn any_sequence_of_inserts_keeps_the_contract(
            limit in 0usize..40_000,
            pairs in proptest::collection::vec((".{0,40}", ".{0,3000}"), 0..40),
        ) {
            let mut a = FlatAnswer::with_limit(limit);
            for (k, v) in &pairs {
                a.insert(k, v);
            }
            check_contract(&a);
            prop_assert!(a.encoded_len() <= limit.max(2 + MARKER_BYTES));
        }
    }
}
