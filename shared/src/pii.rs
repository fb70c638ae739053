//! PII tokenization: HMAC-SHA256 keyed by `PII_TOKEN_KEY`.
//!
//! A token is stable for the same input and key, so tables can be joined on it (the customer
//! token in `ctr` equals the one in the contact-flow logs), and it cannot be reversed without the
//! key. Tokens look like `ph_<22 base64url chars>`: letters, digits, `_` and `-` only, so they are
//! also safe as Connect flow answers.
//!
//! Covered: phone numbers (E.164, with the country calling code kept in clear because it is not
//! identifying and is useful for routing analytics), and free-form values that contain an email
//! address, a Luhn-valid card number or anything shaped like a phone number.

use std::borrow::Cow;

use base64_simd::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

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
    /// An E.164 number gets the same token as [`Tokenizer::phone`], so joins keep working.
    pub fn scrub<'a>(&self, value: &'a str) -> Cow<'a, str> {
        match classify(value) {
            None => Cow::Borrowed(value),
            Some(PiiKind::Phone) => match self.phone(value) {
                Some(p) => Cow::Owned(p.token),
                None => Cow::Owned(self.token(PiiKind::Phone, &digits_only(value))),
            },
            Some(PiiKind::Email) if is_email(value.trim()) => {
                Cow::Owned(self.token(PiiKind::Email, &value.trim().to_ascii_lowercase()))
            }
            Some(PiiKind::Card) if digits_only(value).len() == value.trim().len() => {
                Cow::Owned(self.token(PiiKind::Card, &digits_only(value)))
            }
            Some(_) => Cow::Owned(self.token(PiiKind::Text, value)),
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

/// What PII a free-form value contains, if any. Email wins over card, card over phone.
///
/// Digits are read in runs that may contain single separators (space, `-`, `.`, `(`, `)`, and a
/// leading `+`): a run of 13 to 19 digits that passes Luhn is a card; any run of 7 or more digits is
/// treated as a phone number. That is deliberately conservative: an order number of 7+ digits is
/// tokenized too, and stays joinable because tokens are stable.
pub fn classify(value: &str) -> Option<PiiKind> {
    if value.contains('@')
        && value
            .split(|c: char| c.is_whitespace() || "<>,;\"()[]".contains(c))
            .any(is_email)
    {
        return Some(PiiKind::Email);
    }
    if looks_like_date(value.trim()) {
        return None;
    }
    let mut found: Option<PiiKind> = None;
    let mut run = String::new();
    let mut pending_sep = false;
    let flush = |run: &mut String, found: &mut Option<PiiKind>| {
        if (13..=19).contains(&run.len()) && luhn_valid(run) {
            *found = Some(PiiKind::Card);
        } else if run.len() >= 7 && found.is_none() {
            *found = Some(PiiKind::Phone);
        }
        run.clear();
    };
    for c in value.chars() {
        if c.is_ascii_digit() {
            run.push(c);
            pending_sep = false;
        } else if !run.is_empty() && !pending_sep && matches!(c, ' ' | '-' | '.' | '(' | ')') {
            pending_sep = true;
        } else if run.is_empty() && matches!(c, '+' | '(') {
            // The start of a number.
        } else {
            flush(&mut run, &mut found);
            pending_sep = false;
        }
    }
    flush(&mut run, &mut found);
    found
}

/// `YYYY-MM-DD`, optionally followed by a time: dates are digit runs too, but not PII.
fn looks_like_date(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let date = b.len() >= 10 && digits(0..4) && b[4] == b'-' && digits(5..7) && b[7] == b'-' && digits(8..10);
    date && (b.len() == 10
        || (matches!(b[10], b'T' | b' ') && b[11..].iter().all(|c| c.is_ascii_digit() || b":.+-Z".contains(c))))
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
}
