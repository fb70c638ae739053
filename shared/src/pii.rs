//! PII tokenization: HMAC-SHA256 keyed by `PII_TOKEN_KEY`.
//!
//! A token is stable for the same input and key, so tables can be joined on it (the customer
//! token in `ctr` equals the one in the contact-flow logs), and it cannot be reversed without the
//! key. Tokens look like `ph_<22 base64url chars>`: letters, digits, `_` and `-` only, so they are
//! also safe as Connect flow answers.
//!
//! Covered: phone numbers (E.164, with the country calling code kept in clear because it is not
//! identifying and is useful for routing analytics), and free-form values that contain an email
//! address, a Luhn-valid card number or anything shaped like a phone number, whatever punctuation,
//! separators, prefixes, dates or fullwidth characters surround them (see [`classify`]).
//!
//! Operators add rules by key ([`AttributeKeys`], [`AgentUsername`]), read once at start-up by the
//! functions that store attribute values:
//!
//! - `PII_ATTRIBUTE_KEYS`: comma-separated attribute keys whose values are always tokenized. Added
//!   to [`DEFAULT_PII_ATTRIBUTE_KEYS`] (`email`, `phone`, `name`, `address`, `dob`, `ssn`,
//!   `accountNumber`, ...). Keys compare by letters and digits, case-insensitively.
//! - `CLEAR_ATTRIBUTE_KEYS`: comma-separated keys whose values are always kept verbatim, even when
//!   they look like PII; default none. It also takes a key out of the default PII list. A key in
//!   both variables fails start-up.
//! - `AGENT_USERNAME`: `classify` (default: an email-shaped username is tokenized, `jdoe` is kept),
//!   `clear` (always kept) or `tokenize` (always tokenized).

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::LazyLock;

use base64_simd::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::{self, ConfigError, Env, names};

/// The shortest key accepted: 32 bytes, the HMAC-SHA256 block-size guidance for full strength.
pub const MIN_KEY_BYTES: usize = 32;

/// Bytes of the MAC kept in a token: 128 bits, collision-free at any contact-center volume.
const TOKEN_BYTES: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PiiError {
    #[error("PII_TOKEN_KEY is {len} bytes long; it must be at least {MIN_KEY_BYTES} bytes")]
    KeyTooShort { len: usize },
}

/// What kind of identifier a token stands for. It is part of the token's prefix and of the MAC
/// input, so an email and a phone number never share a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PiiKind {
    Phone,
    Email,
    Card,
    /// A value that contains PII among other text; the whole value is tokenized.
    Text,
    /// An endpoint address that is neither a phone number nor an email.
    Address,
}

impl PiiKind {
    const fn prefix(self) -> &'static str {
        match self {
            PiiKind::Phone => "ph",
            PiiKind::Email => "em",
            PiiKind::Card => "cc",
            PiiKind::Text => "tx",
            PiiKind::Address => "ad",
        }
    }
}

/// A tokenized phone number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneToken {
    pub token: String,
    /// The ITU country calling code, without `+` (`"1"`, `"44"`, `"353"`).
    pub calling_code: String,
}

/// Keyed tokenizer. Cheap to clone; build it once at start-up.
#[derive(Clone)]
pub struct Tokenizer {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tokenizer { key: <redacted> }")
    }
}

impl Tokenizer {
    /// # Errors
    /// [`PiiError::KeyTooShort`] when the key has fewer than [`MIN_KEY_BYTES`] bytes.
    pub fn new(key: &[u8]) -> Result<Self, PiiError> {
        if key.len() < MIN_KEY_BYTES {
            return Err(PiiError::KeyTooShort { len: key.len() });
        }
        // HMAC accepts keys of any length, so this cannot fail.
        let mac = <Hmac<Sha256> as Mac>::new_from_slice(key).map_err(|_| PiiError::KeyTooShort { len: key.len() })?;
        Ok(Tokenizer { mac })
    }

    /// The token of an already normalized value.
    pub fn token(&self, kind: PiiKind, normalized: &str) -> String {
        let mut mac = self.mac.clone();
        mac.update(kind.prefix().as_bytes());
        mac.update(b"\0");
        mac.update(normalized.as_bytes());
        let digest = mac.finalize().into_bytes();
        let mut out = String::with_capacity(3 + 22);
        out.push_str(kind.prefix());
        out.push('_');
        URL_SAFE_NO_PAD.encode_append(&digest[..TOKEN_BYTES], &mut out);
        out
    }

    /// Tokenizes a phone number given in E.164 (separators allowed). `None` when it is not E.164.
    pub fn phone(&self, raw: &str) -> Option<PhoneToken> {
        let e164 = normalize_e164(raw)?;
        let calling_code = calling_code(&e164[1..])?.to_owned();
        Some(PhoneToken {
            token: self.token(PiiKind::Phone, &e164),
            calling_code,
        })
    }

    /// Tokenizes an endpoint address: a phone number keeps its calling code; anything else (an
    /// email address, a chat or task address) is tokenized whole.
    pub fn endpoint_address(&self, address: &str) -> (String, Option<String>) {
        if let Some(p) = self.phone(address) {
            return (p.token, Some(p.calling_code));
        }
        if is_email(address.trim()) {
            return (self.token(PiiKind::Email, &address.trim().to_ascii_lowercase()), None);
        }
        (self.token(PiiKind::Address, address.trim()), None)
    }

    /// Returns the value unchanged when it holds no PII, else a token for the whole value.
    /// An E.164 number gets the same token as [`Tokenizer::phone`], and an email address (bare or
    /// wrapped in punctuation or a `mailto:` prefix) the same token as the bare address, so joins
    /// keep working.
    pub fn scrub<'a>(&self, value: &'a str) -> Cow<'a, str> {
        match classify(value) {
            None => Cow::Borrowed(value),
            Some(kind) => Cow::Owned(self.token_of(kind, value)),
        }
    }

    /// A token for the whole value, whatever it looks like: for keys an operator listed as PII.
    /// Empty values stay empty (there is nothing to hide, and the key's presence is information).
    pub fn tokenize_always<'a>(&self, value: &'a str) -> Cow<'a, str> {
        if value.trim().is_empty() {
            return Cow::Borrowed(value);
        }
        Cow::Owned(self.token_of(classify(value).unwrap_or(PiiKind::Text), value))
    }

    fn token_of(&self, kind: PiiKind, value: &str) -> String {
        let normalized = fold_fullwidth(value);
        match kind {
            PiiKind::Phone => match self.phone(&normalized) {
                Some(p) => p.token,
                None => self.token(PiiKind::Phone, &digits_only(&normalized)),
            },
            PiiKind::Email => match bare_email(&normalized) {
                Some(address) => self.token(PiiKind::Email, &address.to_ascii_lowercase()),
                None => self.token(PiiKind::Text, value),
            },
            PiiKind::Card if digits_only(&normalized).len() == normalized.trim().len() => {
                self.token(PiiKind::Card, &digits_only(&normalized))
            }
            _ => self.token(PiiKind::Text, value),
        }
    }
}

/// How an attribute's value is treated, decided by its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttributeRule {
    /// Tokenized when [`classify`] finds PII in it, else kept: the default.
    Classify,
    /// Always tokenized (`PII_ATTRIBUTE_KEYS` and [`DEFAULT_PII_ATTRIBUTE_KEYS`]).
    Tokenize,
    /// Always kept verbatim (`CLEAR_ATTRIBUTE_KEYS`), even when it looks like PII.
    Clear,
}

/// Attribute keys whose values hold personal data by their very name, always tokenized. They are
/// compared normalized (letters and digits only, lower case), so `customerEmail`,
/// `customer_email` and `Customer-Email` are all `customeremail`. `PII_ATTRIBUTE_KEYS` adds to
/// this list; a key named in `CLEAR_ATTRIBUTE_KEYS` is taken out of it.
pub const DEFAULT_PII_ATTRIBUTE_KEYS: &[&str] = &[
    "email",
    "emailaddress",
    "customeremail",
    "phone",
    "phonenumber",
    "mobile",
    "mobilenumber",
    "customerphone",
    "customernumber",
    "callbacknumber",
    "name",
    "firstname",
    "lastname",
    "fullname",
    "customername",
    "address",
    "streetaddress",
    "postcode",
    "zipcode",
    "dateofbirth",
    "dob",
    "birthdate",
    "ssn",
    "nationalid",
    "passportnumber",
    "accountnumber",
    "iban",
    "cardnumber",
];

/// `customer_Email` → `customeremail`: how attribute keys are compared.
fn normalize_key(key: &str) -> String {
    key.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// A key named both as PII and as clear: an operator's contradiction, refused at start-up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("attribute key {key:?} is named both in PII_ATTRIBUTE_KEYS and in CLEAR_ATTRIBUTE_KEYS")]
pub struct KeyConflict {
    pub key: String,
}

/// Which attribute keys are always tokenized and which always kept in clear. Every other key's
/// value goes through [`classify`]. The default: [`DEFAULT_PII_ATTRIBUTE_KEYS`] tokenized, nothing
/// kept in clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeKeys {
    pii: BTreeSet<String>,
    clear: BTreeSet<String>,
}

impl Default for AttributeKeys {
    fn default() -> Self {
        AttributeKeys {
            pii: DEFAULT_PII_ATTRIBUTE_KEYS.iter().map(|k| normalize_key(k)).collect(),
            clear: BTreeSet::new(),
        }
    }
}

impl AttributeKeys {
    /// The defaults, plus the `pii` keys, minus the `clear` ones.
    ///
    /// # Errors
    /// [`KeyConflict`] when a key is in both `pii` and `clear`.
    pub fn new<'k>(
        pii: impl IntoIterator<Item = &'k str>,
        clear: impl IntoIterator<Item = &'k str>,
    ) -> Result<Self, KeyConflict> {
        let named: BTreeSet<String> = pii.into_iter().map(normalize_key).filter(|k| !k.is_empty()).collect();
        let clear: BTreeSet<String> = clear.into_iter().map(normalize_key).filter(|k| !k.is_empty()).collect();
        if let Some(key) = named.intersection(&clear).next() {
            return Err(KeyConflict { key: key.clone() });
        }
        let mut keys = AttributeKeys::default();
        keys.pii.extend(named);
        keys.pii.retain(|k| !clear.contains(k));
        keys.clear = clear;
        Ok(keys)
    }

    pub fn rule(&self, key: &str) -> AttributeRule {
        let key = normalize_key(key);
        if self.clear.contains(&key) {
            AttributeRule::Clear
        } else if self.pii.contains(&key) {
            AttributeRule::Tokenize
        } else {
            AttributeRule::Classify
        }
    }
}

/// How `agent_username` is stored (`AGENT_USERNAME`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AgentUsername {
    /// Through [`classify`], like any value: an email-shaped username is tokenized, `jdoe` is kept.
    #[default]
    Classify,
    /// Kept verbatim, for teams that want agents' names in their reports.
    Clear,
    /// Always tokenized: reports join on the token, nobody reads the name.
    Tokenize,
}

impl std::str::FromStr for AgentUsername {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "classify" => Ok(AgentUsername::Classify),
            "clear" => Ok(AgentUsername::Clear),
            "tokenize" => Ok(AgentUsername::Tokenize),
            other => Err(format!("expected classify, clear or tokenize, got {other:?}")),
        }
    }
}

/// Reads `PII_ATTRIBUTE_KEYS` and `CLEAR_ATTRIBUTE_KEYS`, comma-separated key lists, both optional.
///
/// # Errors
/// Names `CLEAR_ATTRIBUTE_KEYS` when a key is in both lists.
pub fn attribute_keys_from_env(env: &impl Env) -> Result<AttributeKeys, ConfigError> {
    let pii = config::optional(env, names::PII_ATTRIBUTE_KEYS).unwrap_or_default();
    let clear = config::optional(env, names::CLEAR_ATTRIBUTE_KEYS).unwrap_or_default();
    AttributeKeys::new(pii.split(','), clear.split(',')).map_err(|e| ConfigError::Invalid {
        name: names::CLEAR_ATTRIBUTE_KEYS,
        reason: e.to_string(),
    })
}

/// Reads `AGENT_USERNAME`: `classify` (the default), `clear` or `tokenize`.
///
/// # Errors
/// Names `AGENT_USERNAME` when it is something else.
pub fn agent_username_from_env(env: &impl Env) -> Result<AgentUsername, ConfigError> {
    config::parse_or(env, names::AGENT_USERNAME, AgentUsername::Classify)
}

/// The tokenizer and the operator's rules, borrowed for one record.
#[derive(Debug, Clone, Copy)]
pub struct PiiRules<'a> {
    pub tokenizer: &'a Tokenizer,
    pub attribute_keys: &'a AttributeKeys,
    pub agent_username: AgentUsername,
}

static DEFAULT_ATTRIBUTE_KEYS: LazyLock<AttributeKeys> = LazyLock::new(AttributeKeys::default);

/// A bare tokenizer applies the default rules.
impl<'a> From<&'a Tokenizer> for PiiRules<'a> {
    fn from(tokenizer: &'a Tokenizer) -> Self {
        PiiRules {
            tokenizer,
            attribute_keys: &DEFAULT_ATTRIBUTE_KEYS,
            agent_username: AgentUsername::Classify,
        }
    }
}

impl PiiRules<'_> {
    /// The value of the attribute `key`, as its rule says.
    pub fn attribute<'v>(&self, key: &str, value: &'v str) -> Cow<'v, str> {
        match self.attribute_keys.rule(key) {
            AttributeRule::Classify => self.tokenizer.scrub(value),
            AttributeRule::Tokenize => self.tokenizer.tokenize_always(value),
            AttributeRule::Clear => Cow::Borrowed(value),
        }
    }

    /// An agent's username, as `AGENT_USERNAME` says.
    pub fn agent_username<'v>(&self, name: &'v str) -> Cow<'v, str> {
        match self.agent_username {
            AgentUsername::Classify => self.tokenizer.scrub(name),
            AgentUsername::Tokenize => self.tokenizer.tokenize_always(name),
            AgentUsername::Clear => Cow::Borrowed(name),
        }
    }
}

/// `+<8..=15 digits>` after removing spaces, dashes, dots and parentheses. `None` otherwise.
pub fn normalize_e164(raw: &str) -> Option<String> {
    normalize_plus_digits(raw, 8..=15)
}

/// `+` and a number of digits in `digits`, after removing spaces, dashes, dots and parentheses;
/// the first digit (of a country code) is never 0. E.164 numbers and number prefixes use it.
pub fn normalize_plus_digits(raw: &str, digits: std::ops::RangeInclusive<usize>) -> Option<String> {
    let rest = raw.trim().strip_prefix('+')?;
    let mut out = String::with_capacity(16);
    out.push('+');
    for c in rest.chars() {
        match c {
            '0'..='9' => out.push(c),
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return None,
        }
    }
    (digits.contains(&(out.len() - 1)) && !out[1..].starts_with('0')).then_some(out)
}

/// Two-digit ITU country calling codes. Codes starting with 1 or 7 are one digit; every code not
/// listed here is three digits (the code space is prefix-free, so this decides the length).
const TWO_DIGIT_CODES: &[&str] = &[
    "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46", "47", "48", "49", "51",
    "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63", "64", "65", "66", "81", "82", "84", "86", "90",
    "91", "92", "93", "94", "95", "98",
];

/// The country calling code at the start of an E.164 number's digits (without `+`).
pub fn calling_code(digits: &str) -> Option<&str> {
    let first = digits.as_bytes().first()?;
    let len = match first {
        b'1' | b'7' => 1,
        b'0' => return None,
        _ if digits.get(..2).is_some_and(|p| TWO_DIGIT_CODES.contains(&p)) => 2,
        _ => 3,
    };
    digits.get(..len).filter(|c| c.bytes().all(|b| b.is_ascii_digit()))
}

fn digits_only(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// Whether the whole string is shaped like an email address.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '.');
    local_ok && domain_ok
}

/// Luhn checksum over a string of ASCII digits.
pub fn luhn_valid(digits: &str) -> bool {
    let mut sum = 0u32;
    for (i, b) in digits.bytes().rev().enumerate() {
        if !b.is_ascii_digit() {
            return false;
        }
        let mut d = u32::from(b - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    !digits.is_empty() && sum.is_multiple_of(10)
}

/// Fullwidth ASCII forms (U+FF01..=U+FF5E, as typed with a CJK input method) and the ideographic
/// space folded to ASCII, so `２０６` reads as `206` and `ｊａｎｅ＠ｘ．ｃｏｍ` as an address.
pub fn fold_fullwidth(value: &str) -> Cow<'_, str> {
    if value.is_ascii() {
        return Cow::Borrowed(value);
    }
    Cow::Owned(value.chars().map(fold_char).collect())
}

fn fold_char(c: char) -> char {
    match c {
        '\u{ff01}'..='\u{ff5e}' => char::from_u32(u32::from(c) - 0xfee0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// A digit in any script: ASCII, fullwidth (already folded) or another script's numerals, which
/// count towards a number's length so that writing it in another script does not hide it.
fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || (!c.is_ascii() && c.is_numeric())
}

/// What may stand between the digit groups of one number: whitespace, dashes of every kind, dots,
/// slashes and parentheses, at most [`MAX_GAP`] of them in a row (`206 - 555 - 0100`, `(206)  555`).
fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, '-' | '.' | '/' | '(' | ')' | '\u{2010}'..='\u{2015}' | '\u{2212}')
}

const MAX_GAP: usize = 3;

/// Characters of an email address's local part besides letters and digits (RFC 5322 atext).
const LOCAL_PUNCTUATION: &str = "!#$%&'*+/=?^_`{|}~.-";

/// The address around the `@` at `at`, as the char range `start..end`: the longest local part to
/// the left and domain to the right, without the punctuation around them (`email:`, `<`, `.`, `'s`).
fn email_at(chars: &[char], at: usize) -> Option<(usize, usize)> {
    let is_local = |c: &char| c.is_alphanumeric() || LOCAL_PUNCTUATION.contains(*c);
    let mut start = at - chars.get(..at)?.iter().rev().take_while(|c| is_local(c)).count();
    while start < at && chars.get(start).is_some_and(|c| !c.is_alphanumeric()) {
        start += 1;
    }
    if start == at {
        return None;
    }
    let domain_len = chars
        .get(at + 1..)?
        .iter()
        .take_while(|c| c.is_alphanumeric() || **c == '-' || **c == '.')
        .count();
    let mut end = at + 1 + domain_len;
    while end > at + 1 && chars.get(end - 1).is_some_and(|c| matches!(c, '.' | '-')) {
        end -= 1;
    }
    let domain: String = chars.get(at + 1..end)?.iter().collect();
    let labels: Vec<&str> = domain.split('.').collect();
    let tld = labels.last()?;
    let ok = labels.len() >= 2
        && labels.iter().all(|l| !l.is_empty())
        && tld.chars().count() >= 2
        && tld.chars().next().is_some_and(char::is_alphabetic);
    ok.then_some((start, end))
}

/// The address when the value is one email address and nothing else but punctuation and a
/// `mailto:`/`email:` style prefix; `None` when there is other text around it.
fn bare_email(value: &str) -> Option<String> {
    let chars: Vec<char> = value.chars().collect();
    let mut ats = chars.iter().enumerate().filter(|(_, c)| **c == '@').map(|(i, _)| i);
    let at = ats.next()?;
    if ats.next().is_some() {
        return None;
    }
    let (start, end) = email_at(&chars, at)?;
    let prefix: String = chars.get(..start)?.iter().filter(|c| c.is_alphanumeric()).collect();
    let suffix_clean = chars.get(end..)?.iter().all(|c| !c.is_alphanumeric());
    let prefix_ok = ["", "mailto", "email", "mail"]
        .iter()
        .any(|p| prefix.eq_ignore_ascii_case(p));
    (prefix_ok && suffix_clean).then(|| chars.get(start..end).unwrap_or_default().iter().collect())
}

/// What PII a free-form value contains, if any. Email wins over card, card over phone.
///
/// - An email address anywhere, whatever punctuation or prefix surrounds it (`<jane@x.com>`,
///   `mailto:jane@x.com`, `jane@x.com's`, `jane@x.com.`).
/// - Digits are read in runs whose groups may be joined by up to three separators (whitespace,
///   any dash, `.`, `/`, parentheses): `206 - 555 - 0100`, `206  555  0100`, `206/555/0100`.
///   Fullwidth and other scripts' digits count as digits. A run of 13 to 19 digits that passes
///   Luhn is a card; any run of 7 or more digits is treated as a phone number. That is deliberately
///   conservative: an order number of 7+ digits is tokenized too, and stays joinable because
///   tokens are stable.
/// - Dates and times (`2026-03-08`, `2026-03-08T10:00:00Z`, `08/03/2026 10:00`) are digit runs
///   too, but not PII: they are skipped, and only they. A date followed by a number
///   (`2026-01-01 +12065550100`) is still caught by the number.
pub fn classify(value: &str) -> Option<PiiKind> {
    // Most values (`true`, `gold`, `CS-389023`) have no `@` and too few digits to hold a number:
    // answered without allocating, as the transform classifies every attribute of every contact.
    let at_sign = value.contains(['@', '\u{ff20}']);
    if !at_sign && value.chars().filter(|c| is_digit(fold_char(*c))).count() < 7 {
        return None;
    }
    let folded = fold_fullwidth(value);
    let mut chars: Vec<char> = folded.chars().collect();
    if chars.contains(&'@')
        && chars
            .iter()
            .enumerate()
            .any(|(i, c)| *c == '@' && email_at(&chars, i).is_some())
    {
        return Some(PiiKind::Email);
    }
    mask_dates(&mut chars);
    let mut found: Option<PiiKind> = None;
    let mut run = String::new();
    let mut gap = 0;
    let flush = |run: &mut String, found: &mut Option<PiiKind>| {
        let n = run.chars().count();
        if (13..=19).contains(&n) && luhn_valid(run) {
            *found = Some(PiiKind::Card);
        } else if n >= 7 && found.is_none() {
            *found = Some(PiiKind::Phone);
        }
        run.clear();
    };
    for &c in &chars {
        if is_digit(c) {
            run.push(c);
            gap = 0;
        } else if !run.is_empty() && is_separator(c) && gap < MAX_GAP {
            gap += 1;
        } else {
            flush(&mut run, &mut found);
            gap = 0;
        }
    }
    flush(&mut run, &mut found);
    found
}

/// A character no number contains: what a masked date becomes.
const MASK: char = '\u{0}';

/// Replaces every date (and a time that follows it) with [`MASK`], so the digit scan skips it.
fn mask_dates(chars: &mut [char]) {
    let mut i = 0;
    while i < chars.len() {
        let starts_here = chars.get(i).copied().is_some_and(is_digit)
            && (i == 0 || !chars.get(i - 1).copied().is_some_and(|c| is_digit(c) || c == '+'));
        if starts_here && let Some(len) = date_len(chars.get(i..).unwrap_or_default()) {
            let end = (i + len).min(chars.len());
            for c in chars.get_mut(i..end).unwrap_or_default() {
                *c = MASK;
            }
            i = end;
        } else {
            i += 1;
        }
    }
}

/// `n` ASCII digits at `s[at..]` and their value.
fn number(s: &[char], at: usize, n: usize) -> Option<u32> {
    let digits = s.get(at..at + n)?;
    digits
        .iter()
        .try_fold(0u32, |acc, c| c.to_digit(10).map(|d| acc * 10 + d))
        .filter(|_| !s.get(at + n).is_some_and(char::is_ascii_digit))
}

/// The length of a date (and time) at the start of `s`: `YYYY-MM-DD`, `YYYY/MM/DD`, `YYYY.MM.DD`,
/// `DD/MM/YYYY` (or `MM/DD/YYYY`, `-` and `.` too), then an optional time.
fn date_len(s: &[char]) -> Option<usize> {
    let sep = |at: usize| s.get(at).copied().filter(|c| matches!(c, '-' | '/' | '.'));
    let day_month = |a: u32, b: u32| (1..=31).contains(&a) && (1..=31).contains(&b) && (a <= 12 || b <= 12);
    let len = if let (Some(_), Some(s1)) = (number(s, 0, 4), sep(4)) {
        let month = number(s, 5, 2)?;
        (sep(7) == Some(s1) && (1..=12).contains(&month) && (1..=31).contains(&number(s, 8, 2)?)).then_some(10)?
    } else {
        let a_len = if number(s, 0, 2).is_some() { 2 } else { 1 };
        let a = number(s, 0, a_len)?;
        let s1 = sep(a_len)?;
        let b_at = a_len + 1;
        let b_len = if number(s, b_at, 2).is_some() { 2 } else { 1 };
        let b = number(s, b_at, b_len)?;
        let y_at = b_at + b_len + 1;
        (sep(b_at + b_len) == Some(s1) && day_month(a, b) && number(s, y_at, 4).is_some()).then_some(y_at + 4)?
    };
    Some(len + time_len(s.get(len..).unwrap_or_default()))
}

/// The length of ` HH:MM`, `THH:MM:SS`, `THH:MM:SS.fff`, each with an optional `Z` or `±HH[:MM]`
/// zone, at the start of `s`; 0 when there is none.
fn time_len(s: &[char]) -> usize {
    let two = |at: usize| number(s, at, 2).is_some();
    if !matches!(s.first(), Some('T' | ' ')) || !two(1) || s.get(3) != Some(&':') || !two(4) {
        return 0;
    }
    let mut len = 6;
    if s.get(len) == Some(&':') && two(len + 1) {
        len += 3;
        if matches!(s.get(len), Some('.' | ',')) {
            let frac = s
                .get(len + 1..)
                .unwrap_or_default()
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count();
            if (1..=9).contains(&frac) {
                len += 1 + frac;
            }
        }
    }
    match s.get(len) {
        Some('Z') => len + 1,
        Some('+' | '-') if two(len + 1) => {
            if s.get(len + 3) == Some(&':') && two(len + 4) {
                len + 6
            } else if number(s, len + 1, 4).is_some() {
                len + 5
            } else {
                len + 3
            }
        }
        _ => len,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok() -> Tokenizer {
        Tokenizer::new(b"0123456789abcdef0123456789abcdef").unwrap()
    }

    #[test]
    fn when_key_is_shorter_than_32_bytes_it_is_rejected() {
        assert_eq!(Tokenizer::new(b"short").unwrap_err(), PiiError::KeyTooShort { len: 5 });
        assert!(Tokenizer::new(&[7u8; 31]).is_err());
        assert!(Tokenizer::new(&[7u8; 32]).is_ok());
    }

    #[test]
    fn tokens_are_stable_keyed_and_url_safe() {
        let a = tok().token(PiiKind::Phone, "+12065550100");
        assert_eq!(a, tok().token(PiiKind::Phone, "+12065550100"));
        assert_ne!(a, tok().token(PiiKind::Phone, "+12065550101"));
        assert_ne!(a, tok().token(PiiKind::Email, "+12065550100"));
        let other = Tokenizer::new(&[1u8; 32]).unwrap();
        assert_ne!(a, other.token(PiiKind::Phone, "+12065550100"));
        assert!(a.starts_with("ph_"));
        assert_eq!(a.len(), 25);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'));
    }

    #[test]
    fn phone_numbers_keep_their_calling_code() {
        let t = tok();
        for (raw, code) in [
            ("+12065550100", "1"),
            ("+1 (206) 555-0100", "1"),
            ("+442079460000", "44"),
            ("+353 1 234 5678", "353"),
            ("+74951234567", "7"),
            ("+861012345678", "86"),
            ("+97142345678", "971"),
        ] {
            let p = t.phone(raw).unwrap_or_else(|| panic!("{raw}"));
            assert_eq!(p.calling_code, code, "{raw}");
        }
        assert_eq!(
            t.phone("+1 (206) 555-0100").unwrap().token,
            t.phone("+12065550100").unwrap().token
        );
    }

    #[test]
    fn non_e164_numbers_are_not_phones() {
        let t = tok();
        for raw in [
            "2065550100",
            "+0123456789",
            "+1234",
            "+1234567890123456",
            "+1206555010x",
            "anonymous",
            "",
        ] {
            assert!(t.phone(raw).is_none(), "{raw}");
        }
    }

    #[test]
    fn luhn_detects_valid_card_numbers() {
        assert!(luhn_valid("4111111111111111"));
        assert!(luhn_valid("5555555555554444"));
        assert!(!luhn_valid("4111111111111112"));
        assert!(!luhn_valid(""));
    }

    #[test]
    fn pii_looking_values_are_classified() {
        assert_eq!(classify("jane.doe@example.com"), Some(PiiKind::Email));
        assert_eq!(classify("mail me: Jane.Doe@Example.co.uk please"), Some(PiiKind::Email));
        assert_eq!(classify("4111 1111 1111 1111"), Some(PiiKind::Card));
        assert_eq!(classify("4111-1111-1111-1111"), Some(PiiKind::Card));
        assert_eq!(classify("+1 (206) 555-0100"), Some(PiiKind::Phone));
        assert_eq!(classify("call 206.555.0100 later"), Some(PiiKind::Phone));
        assert_eq!(classify("+442079460000"), Some(PiiKind::Phone));
        for benign in [
            "true",
            "Billing",
            "42",
            "2026-11-26",
            "2026-11-26T07:33:35Z",
            "2026-11-26 07:33:35.123",
            "queue-7",
            "",
            "a@b",
        ] {
            assert_eq!(classify(benign), None, "{benign}");
        }
    }

    #[test]
    fn scrub_leaves_benign_values_and_tokenizes_the_rest() {
        let t = tok();
        assert!(matches!(t.scrub("Billing"), Cow::Borrowed("Billing")));
        let phone = t.scrub("+12065550100");
        assert_eq!(phone, t.phone("+12065550100").unwrap().token);
        let email = t.scrub(" Jane.Doe@Example.com ");
        assert_eq!(email, t.scrub("jane.doe@example.com"));
        assert!(email.starts_with("em_"));
        assert!(t.scrub("4111111111111111").starts_with("cc_"));
        let text = t.scrub("card 4111111111111111 exp 12/29");
        assert!(text.starts_with("tx_") && !text.contains("4111"));
    }

    #[test]
    fn endpoint_addresses_of_every_kind_are_tokenized() {
        let t = tok();
        let (token, code) = t.endpoint_address("+12065550100");
        assert!(token.starts_with("ph_"));
        assert_eq!(code.as_deref(), Some("1"));
        let (token, code) = t.endpoint_address("someone@example.com");
        assert!(token.starts_with("em_") && code.is_none());
        let (token, code) = t.endpoint_address("sip:agent@10.0.0.1");
        assert!(token.starts_with("ad_") && code.is_none());
    }
    /// Issue #18's shapes: each one used to be stored verbatim.
    const ISSUE_18_SHAPES: &[(&str, PiiKind)] = &[
        ("jane@example.com.", PiiKind::Email),
        ("email:jane@x.com", PiiKind::Email),
        ("mailto:jane@x.com", PiiKind::Email),
        ("jane@x.com's", PiiKind::Email),
        ("<Jane@X.com>,", PiiKind::Email),
        ("ｊａｎｅ＠ｘ．ｃｏｍ", PiiKind::Email),
        ("206 - 555 - 0100", PiiKind::Phone),
        ("206  555  0100", PiiKind::Phone),
        ("206/555/0100", PiiKind::Phone),
        ("(206)  555 – 0100", PiiKind::Phone),
        ("２０６５５５０１００", PiiKind::Phone),
        ("＋１ ２０６ ５５５ ０１００", PiiKind::Phone),
        ("٢٠٦٥٥٥٠١٠٠", PiiKind::Phone),
        ("2026-01-01 +12065550100", PiiKind::Phone),
        ("2026-01-01T10:00:00Z 206-555-0100", PiiKind::Phone),
        ("01/02/2026 2065550100", PiiKind::Phone),
        ("2026-01-01 4111111111111111", PiiKind::Card),
        ("2026-01-01 4111 1111 1111 1111", PiiKind::Card),
        ("４１１１１１１１１１１１１１１１", PiiKind::Card),
    ];

    #[test]
    fn every_shape_of_issue_18_is_classified_and_tokenized() {
        let t = tok();
        for (value, kind) in ISSUE_18_SHAPES {
            assert_eq!(classify(value), Some(*kind), "{value}");
            let scrubbed = t.scrub(value);
            assert!(is_token(&scrubbed), "{value} -> {scrubbed}");
        }
    }

    #[test]
    fn a_decorated_email_gets_the_token_of_the_bare_address() {
        let t = tok();
        let bare = t.scrub("jane@x.com");
        assert!(bare.starts_with("em_"));
        for decorated in [
            "mailto:jane@x.com",
            "email: Jane@X.com",
            "<jane@x.com>",
            "jane@x.com.",
            "ｊａｎｅ＠ｘ．ｃｏｍ",
        ] {
            assert_eq!(t.scrub(decorated), bare, "{decorated}");
        }
        // Other text around it: the whole value is one text token, not the address's.
        let text = t.scrub("jane@x.com's phone");
        assert!(text.starts_with("tx_"), "{text}");
    }

    #[test]
    fn fullwidth_e164_numbers_get_the_same_token_as_ascii_ones() {
        let t = tok();
        assert_eq!(
            t.scrub("＋１２０６５５５０１００"),
            t.phone("+12065550100").unwrap().token
        );
    }

    #[test]
    fn ordinary_values_stay_clear() {
        for benign in [
            "CS-389023",
            "main>cancel>confirm",
            "2026-03-08",
            "2026-03-08T10:00:00Z",
            "2026-03-08T10:00:00.123+01:00",
            "08/03/2026",
            "08/03/2026 10:30",
            "3.8.2026",
            "true",
            "en-US",
            "gold",
            "10:30",
            "v1.2.3",
            "$1,234.56",
            "Queue 5 - Tier 2",
            "@support",
            "user@localhost",
            "CS-389023 / 2026-03-08",
        ] {
            assert_eq!(classify(benign), None, "{benign}");
            assert!(matches!(tok().scrub(benign), Cow::Borrowed(_)), "{benign}");
        }
    }

    fn is_token(s: &str) -> bool {
        let Some((prefix, rest)) = s.split_once('_') else {
            return false;
        };
        ["ph", "em", "cc", "tx"].contains(&prefix)
            && rest.len() == 22
            && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    }

    #[test]
    fn operator_keys_are_always_tokenized_or_kept_in_clear() {
        let t = tok();
        let keys = AttributeKeys::new(["loyaltyId", " memberNo "], ["customer_name", "callbackNumber"]).unwrap();
        let rules = PiiRules {
            tokenizer: &t,
            attribute_keys: &keys,
            agent_username: AgentUsername::Classify,
        };
        assert!(rules.attribute("LoyaltyID", "gold-42").starts_with("tx_"));
        assert!(rules.attribute("member_no", "42").starts_with("tx_"));
        assert!(
            rules.attribute("Email", "not-an-address").starts_with("tx_"),
            "a default key"
        );
        assert_eq!(
            rules.attribute("customerName", "Jane Doe"),
            "Jane Doe",
            "cleared default"
        );
        assert_eq!(rules.attribute("callback_number", "+12065550100"), "+12065550100");
        assert_eq!(rules.attribute("tier", "gold"), "gold");
        assert!(rules.attribute("note", "call 206 555 0100").starts_with("ph_"));
        assert_eq!(rules.attribute("email", ""), "", "nothing to hide");
        assert_eq!(
            AttributeKeys::new(["account_id"], ["accountId"]).unwrap_err(),
            KeyConflict {
                key: "accountid".into()
            }
        );
    }

    #[test]
    fn attribute_keys_and_agent_username_come_from_the_environment() {
        let keys = attribute_keys_from_env(&[("PII_ATTRIBUTE_KEYS", "loyaltyId,,"), ("X", "")]).unwrap();
        assert_eq!(keys.rule("loyaltyId"), AttributeRule::Tokenize);
        assert_eq!(keys.rule("firstName"), AttributeRule::Tokenize);
        assert_eq!(keys.rule("intent"), AttributeRule::Classify);
        let keys = attribute_keys_from_env(&[("CLEAR_ATTRIBUTE_KEYS", "name")]).unwrap();
        assert_eq!(keys.rule("Name"), AttributeRule::Clear);
        let err = attribute_keys_from_env(&[("PII_ATTRIBUTE_KEYS", "a"), ("CLEAR_ATTRIBUTE_KEYS", "A")]).unwrap_err();
        assert!(err.to_string().contains("CLEAR_ATTRIBUTE_KEYS"), "{err}");
        assert_eq!(attribute_keys_from_env(&[("X", "")]).unwrap(), AttributeKeys::default());
        assert_eq!(agent_username_from_env(&[("X", "")]).unwrap(), AgentUsername::Classify);
        assert_eq!(
            agent_username_from_env(&[("AGENT_USERNAME", "CLEAR")]).unwrap(),
            AgentUsername::Clear
        );
        let err = agent_username_from_env(&[("AGENT_USERNAME", "names")]).unwrap_err();
        assert!(err.to_string().contains("AGENT_USERNAME"), "{err}");
    }

    #[test]
    fn an_email_shaped_agent_username_is_tokenized_unless_kept_in_clear() {
        let t = tok();
        let mut rules = PiiRules::from(&t);
        assert!(rules.agent_username("jane.doe@example.com").starts_with("em_"));
        assert_eq!(rules.agent_username("jdoe"), "jdoe");
        rules.agent_username = AgentUsername::Clear;
        assert_eq!(rules.agent_username("jane.doe@example.com"), "jane.doe@example.com");
        rules.agent_username = AgentUsername::Tokenize;
        assert!(rules.agent_username("jdoe").starts_with("tx_"));
    }

    mod shapes {
        use super::*;
        use proptest::prelude::*;

        /// What may surround a value: punctuation, prefixes and suffixes people type.
        fn surround() -> impl Strategy<Value = String> {
            prop_oneof![
                Just(String::new()),
                "[ .,;:!?'\"()\\[\\]<>{}*#~|_=+-]{1,4}",
                Just("tel:".to_owned()),
                Just("phone: ".to_owned()),
                Just("email:".to_owned()),
                Just("mailto:".to_owned()),
                Just("2026-01-01 ".to_owned()),
                Just("2026-01-01T10:00:00Z ".to_owned()),
                Just("'s".to_owned()),
                Just(" (home)".to_owned()),
            ]
        }

        /// Between digit groups.
        fn separator() -> impl Strategy<Value = &'static str> {
            prop::sample::select(vec![
                "", " ", "  ", "-", " - ", ".", "/", " / ", "–", ". ", "\u{a0}", ") ",
            ])
        }

        fn digits(n: usize) -> impl Strategy<Value = String> {
            prop::collection::vec(0u8..10, n).prop_map(|d| d.into_iter().map(|d| char::from(b'0' + d)).collect())
        }

        fn fullwidth(s: &str) -> String {
            s.chars()
                .map(|c| match c {
                    '!'..='~' => char::from_u32(u32::from(c) + 0xfee0).unwrap_or(c),
                    c => c,
                })
                .collect()
        }

        /// NANP and international numbers, grouped as people write them.
        fn phone() -> impl Strategy<Value = (String, String)> {
            let groups = prop_oneof![
                (digits(3), digits(3), digits(4)).prop_map(|(a, b, c)| vec![a, b, c]),
                (Just("+1".to_owned()), digits(3), digits(3), digits(4)).prop_map(|(a, b, c, d)| vec![a, b, c, d]),
                (Just("+44".to_owned()), digits(4), digits(6)).prop_map(|(a, b, c)| vec![a, b, c]),
                (Just("+353".to_owned()), digits(2), digits(3), digits(4)).prop_map(|(a, b, c, d)| vec![a, b, c, d]),
            ];
            (groups, separator(), any::<bool>()).prop_map(|(groups, sep, wide)| {
                let raw = groups.concat().replace('+', "");
                let text = groups.join(sep);
                (if wide { fullwidth(&text) } else { text }, raw)
            })
        }

        fn card() -> impl Strategy<Value = (String, String)> {
            (
                prop::sample::select(vec!["4", "51", "37", "6011"]),
                digits(10),
                separator(),
            )
                .prop_map(|(iin, body, sep)| {
                    // Pad to 15 digits, then append the Luhn check digit.
                    let mut number = format!("{iin}{body}");
                    number.truncate(15);
                    while number.len() < 15 {
                        number.push('0');
                    }
                    let check = (0..10u8)
                        .map(|d| format!("{number}{d}"))
                        .find(|n| luhn_valid(n))
                        .unwrap_or_default();
                    let groups: Vec<&str> = (0..4).map(|i| &check[i * 4..i * 4 + 4]).collect();
                    (groups.join(sep), check)
                })
        }

        fn email() -> impl Strategy<Value = (String, String)> {
            (
                "[a-z][a-z0-9._+-]{0,10}[a-z0-9]",
                "[a-z][a-z0-9-]{0,8}[a-z0-9]",
                prop::sample::select(vec!["com", "co.uk", "org", "ie"]),
                any::<bool>(),
            )
                .prop_map(|(local, host, tld, wide)| {
                    let address = format!("{local}@{host}.{tld}");
                    (if wide { fullwidth(&address) } else { address.clone() }, address)
                })
        }

        fn assert_tokenized(value: &str, secret: &str) -> Result<(), TestCaseError> {
            let out = tok().scrub(value);
            prop_assert!(is_token(&out), "{value:?} -> {out:?}");
            prop_assert!(!out.contains(secret));
            Ok(())
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

            #[test]
            fn phones_are_tokenized_whatever_surrounds_them((number, raw) in phone(), pre in surround(), post in surround()) {
                let value = format!("{pre}{number}{post}");
                prop_assert!(matches!(classify(&value), Some(PiiKind::Phone | PiiKind::Card)), "{value:?}");
                assert_tokenized(&value, &raw)?;
            }

            #[test]
            fn cards_are_tokenized_whatever_surrounds_them((number, raw) in card(), pre in surround(), post in surround()) {
                let value = format!("{pre}{number}{post}");
                prop_assert!(classify(&value).is_some(), "{value:?}");
                assert_tokenized(&value, &raw)?;
            }

            #[test]
            fn emails_are_tokenized_whatever_surrounds_them((address, raw) in email(), pre in surround(), post in surround()) {
                let value = format!("{pre}{address}{post}");
                prop_assert_eq!(classify(&value), Some(PiiKind::Email), "{:?}", value);
                assert_tokenized(&value, &raw)?;
            }
        }
    }
}
