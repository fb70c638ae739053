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
//! and counted (its content is never logged: it may hold a number).
//!
//! A prefix must have at least [`MIN_PREFIX_DIGITS`] digits and more digits than its country
//! calling code: `+1*` would disconnect every caller of the North American plan, `+44*` or `+447*`
//! a whole country or all its mobiles. Such a line is rejected, never applied, and logged by line
//! number and calling code only. (The rule cannot tell a NANP area code that is a whole country,
//! `+1876*` for Jamaica, from one that is a region.) A file whose every entry line is
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
/// The fewest digits a prefix may have (`+1900*`, `+4420*`): fewer would match a country or more.
pub const MIN_PREFIX_DIGITS: usize = 4;
/// Rejected prefix lines named one by one in the log; beyond them only their number is logged.
const MAX_NAMED_TOO_BROAD_LINES: usize = 5;
/// The largest deny-list object read, 2 MiB: about 160,000 numbers. Measured (see the test
/// `the_largest_allowed_list_and_its_refresh_fit_the_functions_memory`): a list costs about 10x
/// its size in memory (175,000 entries: 20 MiB), and a refresh holds the old and the new list
/// together, so the largest list peaks at about 41 MiB on top of the function's own. The
/// contact-flow functions run with 256 MB; the former 16 MiB cap peaked at 324 MiB.
pub const MAX_LIST_BYTES: u64 = 2 * 1024 * 1024;
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
        max_bytes: MAX_LIST_BYTES,
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
    #[error(
        "the deny list has no valid entry: all {invalid} entry lines are invalid or too broad (first at line {first_line})"
    )]
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
    too_broad_lines: usize,
    first_too_broad_line: Option<usize>,
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

/// `Some(calling code)` when a prefix (`+` and digits) would match a whole country or more: fewer
/// than [`MIN_PREFIX_DIGITS`] digits, or no digit beyond the country calling code.
fn too_broad(prefix: &str) -> Option<&str> {
    let digits = prefix.get(1..)?;
    let code = pii::calling_code(digits).unwrap_or(digits);
    (digits.len() < MIN_PREFIX_DIGITS || digits.len() <= code.len()).then_some(code)
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
                    if let Some(calling_code) = too_broad(&prefix) {
                        // The calling code and the line number identify the line; no number is
                        // logged. The first few lines are named, the rest counted below.
                        if list.too_broad_lines < MAX_NAMED_TOO_BROAD_LINES {
                            tracing::warn!(
                                config = CONFIG_NAME,
                                line = i + 1,
                                calling_code,
                                min_prefix_digits = MIN_PREFIX_DIGITS,
                                "deny list prefix rejected: it would match a whole country or more"
                            );
                        }
                        list.too_broad_lines += 1;
                        list.first_too_broad_line.get_or_insert(i + 1);
                        continue;
                    }
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
            && let Some(first_line) = list
                .first_invalid_line
                .into_iter()
                .chain(list.first_too_broad_line)
                .min()
        {
            return Err(DenyListError::NoValidEntry {
                invalid: list.invalid_lines + list.too_broad_lines,
                first_line,
            });
        }
        if list.too_broad_lines > MAX_NAMED_TOO_BROAD_LINES {
            tracing::warn!(
                config = CONFIG_NAME,
                too_broad_lines = list.too_broad_lines,
                "deny list prefixes rejected in all: they would match a whole country or more"
            );
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

    /// Prefix lines rejected because they would match a whole country or more.
    pub fn too_broad_lines(&self) -> usize {
        self.too_broad_lines
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
    fn prefixes_that_would_match_a_whole_country_or_more_are_rejected_and_never_applied() {
        let text = "+1*,nanp\n+44 *\n+447*,all-uk-mobiles\n+353*\n+3531*,dublin\n+1900*,premium\n+4420*\n+882*\n";
        let list = DenyList::parse(text).unwrap();
        assert_eq!(list.too_broad_lines(), 5, "+1, +44, +447, +353, +882");
        assert_eq!(list.invalid_lines(), 0);
        assert_eq!(list.len(), 3);
        for caller in [
            "+12065550100",
            "+447700900123",
            "+442079460000",
            "+35387123456",
            "+88216123456",
        ] {
            let hit = list.check(caller);
            assert!(hit.is_none() || caller == "+442079460000", "{caller}: {hit:?}");
        }
        assert_eq!(list.check("+19005550100").unwrap().reason, Some("premium"));
        assert_eq!(list.check("+35312345678").unwrap().reason, Some("dublin"));
        assert!(list.check("+442079460000").is_some(), "+4420 is London, not the UK");
        assert_eq!(
            DenyList::parse("# oops\n+1*\n").unwrap_err(),
            DenyListError::NoValidEntry {
                invalid: 1,
                first_line: 2
            },
            "a file of nothing but too-broad lines is refused whole: the last good list stays"
        );
    }

    #[test]
    fn a_rejected_prefix_is_logged_by_line_and_calling_code_only() {
        use std::sync::{Arc as StdArc, Mutex};
        #[derive(Clone, Default)]
        struct Captured(StdArc<Mutex<Vec<u8>>>);
        impl std::io::Write for Captured {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            DenyList::parse("+12025550143\n+4 4 7*,uk mobiles\n").unwrap();
        });
        let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(logs.contains("would match a whole country"), "{logs}");
        assert!(
            logs.contains(r#""line":2"#) && logs.contains(r#""calling_code":"44""#),
            "{logs}"
        );
        assert!(!logs.contains("447") && !logs.contains("2025550143"), "{logs}");
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

    /// A `/proc/self/status` figure in KiB (`VmRSS`, `VmHWM`); 0 where there is no procfs.
    fn status_kib(field: &str) -> u64 {
        std::fs::read_to_string("/proc/self/status")
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    /// The densest list of `bytes` bytes: 8-digit numbers (the shortest E.164 accepted), each with
    /// a one-letter reason, so each line costs a map slot, a key and a reason.
    fn densest_list(bytes: u64, first_digit: u32) -> String {
        let mut text = String::with_capacity(bytes as usize);
        let mut n = 0u32;
        loop {
            let line = format!("+{first_digit}{n:07},r\n");
            if (text.len() + line.len()) as u64 > bytes {
                return text;
            }
            text.push_str(&line);
            n += 1;
        }
    }

    /// Peak resident memory added by loading a list of `bytes`, then refreshing it while the old
    /// one is still held (as [`RemoteConfig`] does): (entries, MiB per list, peak MiB).
    fn refresh_peak(bytes: u64) -> (usize, f64, f64) {
        let base = status_kib("VmRSS");
        let old = DenyList::parse_bytes(densest_list(bytes, 3).as_bytes()).unwrap();
        let one = status_kib("VmRSS").saturating_sub(base);
        let new = DenyList::parse_bytes(densest_list(bytes, 4).as_bytes()).unwrap();
        let peak = status_kib("VmHWM").saturating_sub(base);
        let entries = old.len() + new.len();
        drop((old, new));
        let mib = |kib: u64| kib as f64 / 1024.0;
        (entries / 2, mib(one), mib(peak))
    }

    #[test]
    fn the_largest_allowed_list_and_its_refresh_fit_the_functions_memory() {
        if status_kib("VmRSS") == 0 {
            return; // no procfs: nothing to measure
        }
        let (entries, one, peak) = refresh_peak(MAX_LIST_BYTES);
        eprintln!(
            "{MAX_LIST_BYTES} bytes: {entries} entries, {one:.1} MiB per list, {peak:.1} MiB peak with a refresh"
        );
        assert!(entries > 150_000, "{entries}");
        // The contact-flow functions have 256 MB; the runtime, the SDK and the handler need about
        // 30 MB. A quarter of the memory for the list and its refresh leaves ample headroom.
        assert!(peak < 64.0, "the largest list and its refresh take {peak:.1} MiB");
    }

    /// The figure behind lowering the cap from 16 MiB (the remote-config default):
    /// `cargo nextest run -p connect-lake --run-ignored only deny_list --no-capture`.
    #[test]
    #[ignore = "a measurement, not a check: allocates several hundred MB"]
    fn measure_a_16_mib_list_and_its_refresh() {
        let (entries, one, peak) = refresh_peak(16 * 1024 * 1024);
        eprintln!("16 MiB: {entries} entries, {one:.1} MiB per list, {peak:.1} MiB peak with a refresh");
    }
}
