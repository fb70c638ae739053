//! The deny list both contact-flow functions check callers against.
//!
//! An S3 object named by `DENY_LIST_URI`, one entry per line:
//!
//! ```text
//! # known fraud numbers        <- `#` starts a comment, anywhere on a line
//! +12025550143,robocall-ring   <- an E.164 number, an optional `,reason`
//! +1900*,premium-rate          <- a prefix: every number starting with +1900
//! ```
//!
//! Separators inside a number (`+1 202-555-0143`) are allowed. A line that is neither is skipped
//! and counted (its content is never logged: it may hold a number). A file whose every entry line is
//! invalid is rejected as a whole, so a wrong object never silently empties the list. Reasons are
//! reduced to the flat-answer alphabet, and a reason that looks like PII is replaced by `redacted`.
//!
//! The list is cached and refreshed by [`RemoteConfig`]: loaded on first use, refreshed after
//! `DENY_LIST_TTL_SECONDS` (default 300) in the background, the last good list kept when a load
//! fails, and no call waiting more than `DENY_LIST_BUDGET_MS` (default 300). Without a list (not
//! configured, or not loaded yet) every check is a miss: the list fails open, because disconnecting
//! legitimate callers during an S3 outage is worse than letting a listed one through.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::config::{self, ConfigError, Env, S3Uri, names};
use crate::flat_answer;
use crate::pii::{self, normalize_e164};
use crate::remote_config::{ConfigSource, Parser, RemoteConfig, RemoteSettings};

/// The deny list's own environment variables (the URI is [`names::DENY_LIST_URI`]).
pub mod env {
    pub const DENY_LIST_TTL_SECONDS: &str = "DENY_LIST_TTL_SECONDS";
    pub const DENY_LIST_BUDGET_MS: &str = "DENY_LIST_BUDGET_MS";
}

pub const DEFAULT_TTL_SECONDS: u64 = 300;
pub const DEFAULT_BUDGET_MS: u64 = 300;
/// A budget must leave most of Connect's 8 s for the rest of the call.
pub const MAX_BUDGET_MS: u64 = 5_000;
/// The longest reason kept.
pub const MAX_REASON_CHARS: usize = 64;
/// The `name` of the deny list's [`RemoteConfig`]: its log field and metric dimension.
pub const CONFIG_NAME: &str = "deny_list";

/// A cached, refreshed deny list.
pub type DenyListCache = RemoteConfig<DenyList>;

/// Reads `DENY_LIST_URI`, `DENY_LIST_TTL_SECONDS` and `DENY_LIST_BUDGET_MS`. `None` when no URI is
/// set: there is no deny list.
///
/// # Errors
/// A [`ConfigError`] naming the variable that is malformed.
pub fn settings_from_env(env: &impl Env) -> Result<Option<RemoteSettings>, ConfigError> {
    let Some(uri) = config::optional(env, names::DENY_LIST_URI) else {
        return Ok(None);
    };
    let uri: S3Uri = uri.parse().map_err(|reason| ConfigError::Invalid {
        name: names::DENY_LIST_URI,
        reason,
    })?;
    let (ttl, budget) = timing_from_env(env)?;
    Ok(Some(RemoteSettings {
        ttl,
        budget,
        ..RemoteSettings::new(uri)
    }))
}

/// `DENY_LIST_TTL_SECONDS` (at least 1, default 300) and `DENY_LIST_BUDGET_MS` (at most
/// [`MAX_BUDGET_MS`], default 300), as the TTL and budget of a [`RemoteSettings`].
///
/// # Errors
/// A [`ConfigError`] naming the variable that is malformed or out of range.
pub fn timing_from_env(env: &impl Env) -> Result<(Duration, Duration), ConfigError> {
    let ttl = config::parse_or(env, env::DENY_LIST_TTL_SECONDS, DEFAULT_TTL_SECONDS)?;
    if ttl == 0 {
        return Err(ConfigError::Invalid {
            name: env::DENY_LIST_TTL_SECONDS,
            reason: "must be at least 1 second".into(),
        });
    }
    let budget = config::parse_or(env, env::DENY_LIST_BUDGET_MS, DEFAULT_BUDGET_MS)?;
    if budget > MAX_BUDGET_MS {
        return Err(ConfigError::Invalid {
            name: env::DENY_LIST_BUDGET_MS,
            reason: format!("{budget} ms leaves too little of Connect's 8 s; at most {MAX_BUDGET_MS}"),
        });
    }
    Ok((Duration::from_secs(ttl), Duration::from_millis(budget)))
}

/// A deny-list cache reading through `source`.
pub fn cache(settings: RemoteSettings, source: Arc<dyn ConfigSource>, metrics_namespace: &str) -> DenyListCache {
    let parse: Parser<DenyList> = Box::new(|bytes: &[u8]| DenyList::parse_bytes(bytes).map_err(|e| e.to_string()));
    RemoteConfig::new(CONFIG_NAME, settings, source, parse, metrics_namespace)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DenyListError {
    #[error("the deny list is not UTF-8 text (invalid byte at offset {0})")]
    NotUtf8(usize),
    #[error("the deny list has no valid entry: all {invalid} entry lines are invalid (first at line {first_line})")]
    NoValidEntry { invalid: usize, first_line: usize },
}

/// How an entry matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchKind {
    Number,
    Prefix,
}

/// A listed caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DenyHit<'a> {
    /// The entry's reason, already safe for a flat answer.
    pub reason: Option<&'a str>,
    pub kind: MatchKind,
}

/// A parsed deny list: exact numbers and prefixes, each with an optional reason.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DenyList {
    numbers: HashMap<Box<str>, Option<Arc<str>>>,
    /// Keyed by `+` and the prefix digits.
    prefixes: HashMap<Box<str>, Option<Arc<str>>>,
    longest_prefix: usize,
    invalid_lines: usize,
    first_invalid_line: Option<usize>,
}

/// A reason reduced to the answer alphabet; PII-looking reasons are replaced.
fn clean_reason(raw: &str) -> Option<Arc<str>> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    if pii::classify(raw).is_some() {
        return Some(Arc::from("redacted"));
    }
    Some(Arc::from(flat_answer::sanitize(raw, MAX_REASON_CHARS)))
}

/// `+<digits>*` (separators allowed) to `+<digits>`, at most 15 digits, not starting with 0.
fn parse_prefix(entry: &str) -> Option<String> {
    crate::pii::normalize_plus_digits(entry.strip_suffix('*')?, 1..=15)
}

impl DenyList {
    /// Parses the file's bytes.
    ///
    /// # Errors
    /// [`DenyListError`] when the bytes are not UTF-8, or every entry line is invalid.
    pub fn parse_bytes(bytes: &[u8]) -> Result<Self, DenyListError> {
        let text = std::str::from_utf8(bytes).map_err(|e| DenyListError::NotUtf8(e.valid_up_to()))?;
        Self::parse(text)
    }

    /// Parses the file's text. Invalid lines are skipped and counted.
    ///
    /// # Errors
    /// [`DenyListError::NoValidEntry`] when there are entry lines and none is valid.
    pub fn parse(text: &str) -> Result<Self, DenyListError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut list = DenyList::default();
        for (i, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let (entry, reason) = match line.split_once(',') {
                Some((e, r)) => (e.trim(), clean_reason(r)),
                None => (line, None),
            };
            if entry.ends_with('*') {
                if let Some(prefix) = parse_prefix(entry) {
                    list.longest_prefix = list.longest_prefix.max(prefix.len());
                    list.prefixes.insert(prefix.into_boxed_str(), reason);
                    continue;
                }
            } else if let Some(number) = normalize_e164(entry) {
                list.numbers.insert(number.into_boxed_str(), reason);
                continue;
            }
            list.invalid_lines += 1;
            list.first_invalid_line.get_or_insert(i + 1);
        }
        if list.is_empty()
            && let Some(first_line) = list.first_invalid_line
        {
            return Err(DenyListError::NoValidEntry {
                invalid: list.invalid_lines,
                first_line,
            });
        }
        if let Some(first) = list.first_invalid_line {
            tracing::warn!(
                config = CONFIG_NAME,
                invalid_lines = list.invalid_lines,
                first_invalid_line = first,
                "deny list lines skipped: not an E.164 number or a +prefix*"
            );
        }
        Ok(list)
    }

    /// Entries (numbers and prefixes).
    pub fn len(&self) -> usize {
        self.numbers.len() + self.prefixes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Lines skipped as invalid.
    pub fn invalid_lines(&self) -> usize {
        self.invalid_lines
    }

    /// Whether `number` (E.164, separators allowed) is listed, exactly or by its longest listed prefix.
    pub fn check(&self, number: &str) -> Option<DenyHit<'_>> {
        let e164 = normalize_e164(number)?;
        if let Some(reason) = self.numbers.get(e164.as_str()) {
            return Some(DenyHit {
                reason: reason.as_deref(),
                kind: MatchKind::Number,
            });
        }
        // `e164` is ASCII, so every byte index is a character boundary.
        let longest = self.longest_prefix.min(e164.len());
        (2..=longest).rev().find_map(|len| {
            self.prefixes.get(&e164[..len]).map(|reason| DenyHit {
                reason: reason.as_deref(),
                kind: MatchKind::Prefix,
            })
        })
    }
}

/// The outcome of checking one caller, as the functions log and count it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DenyCheck {
    /// No `DENY_LIST_URI`.
    Disabled,
    /// The contact has no E.164 caller number to check (a chat, a withheld number).
    NoNumber,
    /// Configured, but no list could be loaded within the budget: fail open.
    Unavailable,
    Miss,
    Hit {
        reason: Option<String>,
        kind: MatchKind,
    },
}

impl DenyCheck {
    /// A stable code for logs: `disabled`, `no_number`, `unavailable`, `miss`, `hit`.
    pub const fn code(&self) -> &'static str {
        match self {
            DenyCheck::Disabled => "disabled",
            DenyCheck::NoNumber => "no_number",
            DenyCheck::Unavailable => "unavailable",
            DenyCheck::Miss => "miss",
            DenyCheck::Hit { .. } => "hit",
        }
    }

    pub const fn is_hit(&self) -> bool {
        matches!(self, DenyCheck::Hit { .. })
    }

    /// The reason of a hit, if the entry gave one.
    pub fn reason(&self) -> Option<&str> {
        match self {
            DenyCheck::Hit { reason, .. } => reason.as_deref(),
            _ => None,
        }
    }
}

/// Checks a caller against the list, waiting for it at most its budget. Skips the list entirely
/// (no load, no wait) when there is no E.164 number to check.
pub async fn check(cache: Option<&DenyListCache>, number: Option<&str>) -> DenyCheck {
    let Some(cache) = cache else {
        return DenyCheck::Disabled;
    };
    let Some(number) = number.and_then(normalize_e164) else {
        return DenyCheck::NoNumber;
    };
    let Some(list) = cache.get().await else {
        return DenyCheck::Unavailable;
    };
    match list.check(&number) {
        Some(hit) => DenyCheck::Hit {
            reason: hit.reason.map(str::to_owned),
            kind: hit.kind,
        },
        None => DenyCheck::Miss,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote_config::{BoxFuture, SourceError};

    const SAMPLE: &str = "\u{feff}# known fraud numbers\n\
        +12025550143,robocall ring\n\
        +1 (900) *, premium-rate   # every 1-900 number\n\
        +447700900123\n\
        \n\
        +88216*,satellite\n\
        +882161*,satellite-exact\n\
        2025550100,no plus\n\
        *,everyone\n\
        +0123456789\n\
        +15555550123,dup of +1 202 555 0143\n";

    #[test]
    fn numbers_prefixes_comments_and_reasons_parse() {
        let list = DenyList::parse(SAMPLE).unwrap();
        assert_eq!(list.len(), 6);
        assert_eq!(list.invalid_lines(), 3, "no plus, bare star, leading zero");
        let hit = list.check("+1 202-555-0143").unwrap();
        assert_eq!((hit.reason, hit.kind), (Some("robocall_ring"), MatchKind::Number));
        let hit = list.check("+19005550100").unwrap();
        assert_eq!((hit.reason, hit.kind), (Some("premium-rate"), MatchKind::Prefix));
        assert_eq!(list.check("+447700900123").unwrap().reason, None);
        assert_eq!(
            list.check("+88216123456").unwrap().reason,
            Some("satellite-exact"),
            "longest prefix wins"
        );
        assert_eq!(list.check("+88216999999").unwrap().reason, Some("satellite"));
        assert_eq!(
            list.check("+15555550123").unwrap().reason,
            Some("redacted"),
            "PII in a reason"
        );
        for miss in ["+12025550144", "+18005550100", "+4477009001", "anonymous", "", "+1900"] {
            assert_eq!(list.check(miss), None, "{miss}");
        }
    }

    #[test]
    fn a_file_without_a_single_valid_entry_is_rejected_but_an_empty_one_is_not() {
        let err = DenyList::parse("# header\n2025550100\nnot a number\n").unwrap_err();
        assert_eq!(
            err,
            DenyListError::NoValidEntry {
                invalid: 2,
                first_line: 2
            }
        );
        assert!(DenyList::parse("# nothing listed yet\n\n").unwrap().is_empty());
        assert!(DenyList::parse("").unwrap().is_empty());
        assert!(matches!(
            DenyList::parse_bytes(&[b'+', 0xff, b'1']),
            Err(DenyListError::NotUtf8(1))
        ));
    }

    #[test]
    fn settings_come_from_the_environment_with_defaults_and_named_errors() {
        assert_eq!(settings_from_env(&[("OTHER", "x")]).unwrap(), None);
        let s = settings_from_env(&[("DENY_LIST_URI", "s3://cfg/deny.txt")])
            .unwrap()
            .unwrap();
        assert_eq!(
            (s.ttl, s.budget),
            (Duration::from_secs(300), Duration::from_millis(300))
        );
        assert_eq!(s.uri.to_string(), "s3://cfg/deny.txt");
        let s = settings_from_env(&[
            ("DENY_LIST_URI", "s3://cfg/deny.txt"),
            ("DENY_LIST_TTL_SECONDS", "60"),
            ("DENY_LIST_BUDGET_MS", "50"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!((s.ttl, s.budget), (Duration::from_secs(60), Duration::from_millis(50)));
        for (env, name) in [
            ([("DENY_LIST_URI", "cfg/deny.txt"), ("X", "")], "DENY_LIST_URI"),
            (
                [("DENY_LIST_URI", "s3://c/d"), ("DENY_LIST_TTL_SECONDS", "0")],
                "DENY_LIST_TTL_SECONDS",
            ),
            (
                [("DENY_LIST_URI", "s3://c/d"), ("DENY_LIST_BUDGET_MS", "9000")],
                "DENY_LIST_BUDGET_MS",
            ),
            (
                [("DENY_LIST_URI", "s3://c/d"), ("DENY_LIST_BUDGET_MS", "soon")],
                "DENY_LIST_BUDGET_MS",
            ),
        ] {
            let err = settings_from_env(&env).unwrap_err().to_string();
            assert!(err.contains(name), "{err}");
        }
    }

    struct Fixed(Result<&'static str, ()>);

    impl ConfigSource for Fixed {
        fn fetch<'a>(&'a self, uri: &'a S3Uri, _: u64) -> BoxFuture<'a, Result<Vec<u8>, SourceError>> {
            let r = self
                .0
                .map(|s| s.as_bytes().to_vec())
                .map_err(|()| SourceError::Unreadable {
                    uri: uri.to_string(),
                    message: "connection refused".into(),
                });
            Box::pin(async move { r })
        }
    }

    fn fixed_cache(r: Result<&'static str, ()>) -> DenyListCache {
        cache(
            RemoteSettings::new("s3://cfg/deny.txt".parse().unwrap()),
            Arc::new(Fixed(r)),
            "Test",
        )
    }

    #[tokio::test]
    async fn checks_report_hits_misses_and_why_nothing_was_checked() {
        let cache = fixed_cache(Ok(SAMPLE));
        let hit = check(Some(&cache), Some("+12025550143")).await;
        assert_eq!(
            hit,
            DenyCheck::Hit {
                reason: Some("robocall_ring".into()),
                kind: MatchKind::Number
            }
        );
        assert_eq!(hit.reason(), Some("robocall_ring"));
        assert_eq!(check(Some(&cache), Some("+12025550199")).await, DenyCheck::Miss);
        assert_eq!(check(None, Some("+12025550143")).await, DenyCheck::Disabled);
        assert_eq!(check(Some(&cache), Some("anonymous")).await, DenyCheck::NoNumber);
        assert_eq!(check(Some(&cache), None).await, DenyCheck::NoNumber);
    }

    #[tokio::test]
    async fn an_unreadable_list_fails_open() {
        let cache = fixed_cache(Err(()));
        assert_eq!(check(Some(&cache), Some("+12025550143")).await, DenyCheck::Unavailable);
        assert_eq!(cache.stats().failed, 1);
        let bad = fixed_cache(Ok("not a number\n"));
        assert_eq!(check(Some(&bad), Some("+12025550143")).await, DenyCheck::Unavailable);
    }
}
