//! The fraud policy: a JSON document that turns reason codes into a score, a level and a route.
//!
//! ```json
//! {
//!   "version": "2026-05-01",
//!   "weights": {"deny_list": 100, "from_mismatch": 20, ...},     // every reason code, 0-100
//!   "thresholds": {"low": 0, "medium": 30, "high": 60},         // low is 0, then increasing
//!   "routes": {"low": "standard", "medium": "verify_caller", "high": "fraud_review", "unknown": "standard"},
//!   "high_risk_countries": ["+882", "+1876"],                   // calling codes or longer prefixes
//!   "hop_counter": {"direction": "low", "threshold": 5}         // optional; this is the default
//! }
//! ```
//!
//! `hop_counter` says which `Hop-Counter` values fire the `hop_counter` reason: `low` fires at the
//! threshold and below (few hops remain: the ISUP hop counter counts down at each exchange), `high`
//! at the threshold and above. AWS documents the attribute only as "Hop Counter" with the example
//! value 0, so which end is suspicious depends on the carrier; the default fires on few hops.
//!
//! The score is the sum of the weights of the reasons found, capped at 100. A call is `high` from
//! the high threshold up, `medium` from the medium one, else `low`. `unknown` is the route of a
//! degraded answer. A built-in default ships in the binary (`policy/default.json`);
//! `FRAUD_POLICY_URI` replaces it. Validation is strict (every reason weighted, no unknown field or
//! code, labels in the flat-answer alphabet) and reports every problem at once, because a typo in a
//! fraud policy silently disabling a signal is worse than a rejected file: the last good policy
//! stays in use until the file is fixed.

use std::collections::BTreeMap;

use connect_lake::flat_answer::is_flat_safe;
use serde::Deserialize;

use crate::signals::{HopDirection, HopRule, Reason};

/// The built-in policy, compiled into the binary.
pub const BUILTIN_POLICY_JSON: &str = include_str!("../policy/default.json");
/// The longest version and route label accepted.
pub const MAX_LABEL_CHARS: usize = 64;
/// The largest policy document accepted.
pub const MAX_POLICY_BYTES: u64 = 256 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("the fraud policy is not valid JSON of the expected shape: {0}")]
    Malformed(String),
    #[error("the fraud policy is invalid: {}", .0.join("; "))]
    Invalid(Vec<String>),
}

/// A risk level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    Low,
    Medium,
    High,
    /// The router could not assess the call (a degraded answer).
    Unknown,
}

impl Level {
    pub const fn code(self) -> &'static str {
        match self {
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyDocument {
    version: String,
    #[serde(default)]
    #[allow(dead_code)] // Documentation for the people editing the file.
    description: Option<String>,
    weights: BTreeMap<String, i64>,
    thresholds: ThresholdsDocument,
    routes: RoutesDocument,
    high_risk_countries: Vec<String>,
    #[serde(default)]
    hop_counter: Option<HopCounterDocument>,
    /// Replaced by `hop_counter`: read only to reject it with a message that says so.
    #[serde(default)]
    max_hop_count: Option<serde_json::Value>,
}

/// `hop_counter`: both fields are read as loosely as JSON allows and validated by hand, so that a
/// bad value is reported with the others instead of as a serde error.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HopCounterDocument {
    direction: serde_json::Value,
    threshold: serde_json::Value,
}

/// The built-in hop rule: fire when 5 or fewer hops remain.
pub const DEFAULT_HOP_RULE: HopRule = HopRule {
    direction: HopDirection::Low,
    threshold: 5,
};

/// Reason codes earlier versions accepted, and what became of them: a policy that still names one
/// is rejected with this message rather than as an unknown code.
const RETIRED_CODES: [(&str, &str); 2] = [
    (
        "pai_mismatch",
        "was removed: P-Asserted-Identity is not among the telephony attributes Connect documents",
    ),
    (
        "high_hop_count",
        "is now hop_counter, with its direction and threshold in \"hop_counter\"",
    ),
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThresholdsDocument {
    low: i64,
    medium: i64,
    high: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoutesDocument {
    low: String,
    medium: String,
    high: String,
    unknown: String,
}

/// A validated policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub version: String,
    weights: [u8; Reason::ALL.len()],
    pub medium_threshold: u8,
    pub high_threshold: u8,
    routes: [String; 4],
    /// `+` and digits, longest first.
    pub high_risk_prefixes: Vec<String>,
    /// When `Hop-Counter` fires the `hop_counter` reason.
    pub hop_rule: HopRule,
}

fn check_label(problems: &mut Vec<String>, what: &str, value: &str) {
    if value.is_empty() || value.chars().count() > MAX_LABEL_CHARS || !is_flat_safe(value) {
        problems.push(format!(
            "{what} {value:?} must be 1 to {MAX_LABEL_CHARS} letters, digits, '-', '_' or '.'"
        ));
    }
}

/// Validates `hop_counter`. A rule that fires on every value (`low` at 255 or more, `high` at 0) is
/// refused: it would add its weight to every call that carries the attribute.
fn hop_rule(problems: &mut Vec<String>, doc: &HopCounterDocument) -> HopRule {
    let direction = match doc.direction.as_str() {
        Some("low") => Some(HopDirection::Low),
        Some("high") => Some(HopDirection::High),
        _ => {
            problems.push(format!(
                "hop_counter: direction is {}; it must be \"low\" (fire on few remaining hops) or \"high\"",
                doc.direction
            ));
            None
        }
    };
    let (min, max) = match direction {
        Some(HopDirection::High) => (1, 255),
        Some(HopDirection::Low) => (0, 254),
        None => (0, 255),
    };
    let threshold = doc.threshold.as_u64().and_then(|t| u8::try_from(t).ok());
    let threshold = match threshold {
        Some(t) if (min..=max).contains(&t) => Some(t),
        _ => {
            let which = direction.map_or(String::new(), |d| format!(" for direction {}", d.code()));
            problems.push(format!(
                "hop_counter: threshold is {}; it must be a whole number from {min} to {max}{which}",
                doc.threshold
            ));
            None
        }
    };
    match (direction, threshold) {
        (Some(direction), Some(threshold)) => HopRule { direction, threshold },
        _ => DEFAULT_HOP_RULE,
    }
}

/// A calling code or prefix: `+` and 1 to 7 digits, the first not 0 (`+882`, `+1876`).
fn parse_prefix(entry: &str) -> Option<String> {
    let digits = entry.trim().strip_prefix('+')?;
    let ok = (1..=7).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0');
    ok.then(|| format!("+{digits}"))
}

impl Policy {
    /// Parses and validates a policy document.
    ///
    /// # Errors
    /// [`PolicyError::Malformed`] for JSON of the wrong shape (with serde's pointer to the spot),
    /// [`PolicyError::Invalid`] listing every rule the document breaks.
    pub fn from_json(bytes: &[u8]) -> Result<Policy, PolicyError> {
        let doc: PolicyDocument = serde_json::from_slice(bytes).map_err(|e| PolicyError::Malformed(e.to_string()))?;
        let mut problems = Vec::new();

        check_label(&mut problems, "version", &doc.version);

        let mut weights = [0u8; Reason::ALL.len()];
        for (code, weight) in &doc.weights {
            match Reason::from_code(code) {
                None => match RETIRED_CODES.iter().find(|(retired, _)| retired == code) {
                    Some((_, what)) => problems.push(format!("weights: {code:?} {what}")),
                    None => problems.push(format!("weights: {code:?} is not a reason code")),
                },
                Some(reason) => match u8::try_from(*weight) {
                    Ok(w) if w <= 100 => weights[reason.index()] = w,
                    _ => problems.push(format!("weights: {code} is {weight}; a weight is 0 to 100")),
                },
            }
        }
        let missing: Vec<&str> = Reason::ALL
            .iter()
            .map(|r| r.code())
            .filter(|c| !doc.weights.contains_key(*c))
            .collect();
        if !missing.is_empty() {
            problems.push(format!(
                "weights: missing {} (give every reason a weight; 0 disables one)",
                missing.join(", ")
            ));
        }

        let t = &doc.thresholds;
        if t.low != 0 {
            problems.push(format!(
                "thresholds: low is {}; it must be 0 so that every score has a level",
                t.low
            ));
        }
        if !(0 < t.medium && t.medium < t.high && t.high <= 100) {
            problems.push(format!(
                "thresholds: need 0 < medium < high <= 100, got medium {} and high {}",
                t.medium, t.high
            ));
        }

        let r = &doc.routes;
        for (what, label) in [
            ("low", &r.low),
            ("medium", &r.medium),
            ("high", &r.high),
            ("unknown", &r.unknown),
        ] {
            check_label(&mut problems, &format!("routes: {what}"), label);
        }

        let mut high_risk_prefixes = Vec::with_capacity(doc.high_risk_countries.len());
        for entry in &doc.high_risk_countries {
            match parse_prefix(entry) {
                Some(p) => high_risk_prefixes.push(p),
                None => problems.push(format!(
                    "high_risk_countries: {entry:?} is not a calling code such as \"+882\" or prefix such as \"+1876\""
                )),
            }
        }
        high_risk_prefixes.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        high_risk_prefixes.dedup();

        if doc.max_hop_count.is_some() {
            problems.push(
                "max_hop_count was replaced by \"hop_counter\": {\"direction\": \"low\" or \"high\", \"threshold\": N}, \
                 since Hop-Counter counts the hops that remain"
                    .to_owned(),
            );
        }
        let hop_rule = match &doc.hop_counter {
            None => DEFAULT_HOP_RULE,
            Some(h) => hop_rule(&mut problems, h),
        };

        if !problems.is_empty() {
            return Err(PolicyError::Invalid(problems));
        }
        // Validated above: both thresholds are within 1..=100.
        let threshold = |v: i64| u8::try_from(v).unwrap_or(100);
        Ok(Policy {
            version: doc.version,
            weights,
            medium_threshold: threshold(t.medium),
            high_threshold: threshold(t.high),
            routes: [r.low.clone(), r.medium.clone(), r.high.clone(), r.unknown.clone()],
            high_risk_prefixes,
            hop_rule,
        })
    }

    /// The built-in policy.
    ///
    /// # Errors
    /// Only if the shipped `policy/default.json` is invalid, which a unit test rules out.
    pub fn builtin() -> Result<Policy, PolicyError> {
        Policy::from_json(BUILTIN_POLICY_JSON.as_bytes())
    }

    pub fn weight(&self, reason: Reason) -> u8 {
        self.weights[reason.index()]
    }

    /// The score of a set of reasons: the sum of their weights, at most 100.
    pub fn score(&self, reasons: &[Reason]) -> u8 {
        let sum: u32 = reasons.iter().map(|r| u32::from(self.weight(*r))).sum();
        u8::try_from(sum.min(100)).unwrap_or(100)
    }

    pub fn level(&self, score: u8) -> Level {
        if score >= self.high_threshold {
            Level::High
        } else if score >= self.medium_threshold {
            Level::Medium
        } else {
            Level::Low
        }
    }

    pub fn route(&self, level: Level) -> &str {
        let i = match level {
            Level::Low => 0,
            Level::Medium => 1,
            Level::High => 2,
            Level::Unknown => 3,
        };
        &self.routes[i]
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn builtin_value() -> Value {
        serde_json::from_str(BUILTIN_POLICY_JSON).unwrap()
    }

    fn parse(v: &Value) -> Result<Policy, PolicyError> {
        Policy::from_json(v.to_string().as_bytes())
    }

    #[test]
    fn the_builtin_policy_is_valid_and_weights_every_reason() {
        let p = Policy::builtin().unwrap();
        assert_eq!(p.version, "builtin-2026.2");
        assert_eq!(p.weight(Reason::DenyList), 100);
        assert_eq!((p.medium_threshold, p.high_threshold), (30, 60));
        assert_eq!(p.route(Level::Unknown), "standard");
        assert_eq!(p.hop_rule, DEFAULT_HOP_RULE);
        assert_eq!(
            (p.hop_rule.direction, p.hop_rule.threshold),
            (HopDirection::Low, 5),
            "the default fires on a small number of remaining hops"
        );
        let doc = builtin_value();
        assert_eq!(doc["weights"].as_object().unwrap().len(), Reason::ALL.len());
    }

    #[test]
    fn scores_are_capped_sums_and_levels_follow_the_thresholds() {
        let p = Policy::builtin().unwrap();
        assert_eq!(p.score(&[]), 0);
        assert_eq!(p.score(&[Reason::HighRiskCountry, Reason::JipMismatch]), 50);
        assert_eq!(p.score(&[Reason::DenyList, Reason::FromMismatch]), 100);
        assert_eq!(
            [0, 29, 30, 59, 60, 100].map(|s| p.level(s)),
            [
                Level::Low,
                Level::Low,
                Level::Medium,
                Level::Medium,
                Level::High,
                Level::High
            ]
        );
        assert_eq!(p.route(Level::High), "fraud_review");
    }

    #[test]
    fn every_problem_of_an_invalid_policy_is_reported_at_once() {
        let mut v = builtin_value();
        v["version"] = json!("2026 05, draft");
        v["weights"]["deny_lst"] = json!(100);
        v["weights"]["from_mismatch"] = json!(120);
        v["weights"].as_object_mut().unwrap().remove("jip_mismatch");
        v["thresholds"] = json!({"low": 5, "medium": 70, "high": 60});
        v["routes"]["high"] = json!("fraud team!");
        v["high_risk_countries"] = json!(["+882", "Jamaica", "+0123"]);
        v["hop_counter"] = json!({"direction": "down", "threshold": 300});
        let PolicyError::Invalid(problems) = parse(&v).unwrap_err() else {
            panic!("expected Invalid");
        };
        let all = problems.join("\n");
        for needle in [
            "version",
            "\"deny_lst\" is not a reason code",
            "from_mismatch is 120",
            "missing jip_mismatch",
            "low is 5",
            "medium 70 and high 60",
            "routes: high",
            "\"Jamaica\"",
            "\"+0123\"",
            "hop_counter: direction is \"down\"",
            "hop_counter: threshold is 300; it must be a whole number from 0 to 255",
        ] {
            assert!(all.contains(needle), "{needle} in:\n{all}");
        }
        assert_eq!(problems.len(), 11, "{all}");
    }

    #[test]
    fn unknown_fields_and_wrong_shapes_are_rejected() {
        let mut v = builtin_value();
        v["weigths"] = json!({});
        assert!(matches!(parse(&v), Err(PolicyError::Malformed(m)) if m.contains("weigths")));
        let mut v = builtin_value();
        v["thresholds"]["critical"] = json!(90);
        assert!(matches!(parse(&v), Err(PolicyError::Malformed(_))));
        assert!(matches!(Policy::from_json(b"[]"), Err(PolicyError::Malformed(_))));
        assert!(matches!(
            Policy::from_json(b"{\"version\":"),
            Err(PolicyError::Malformed(_))
        ));
    }

    #[test]
    fn high_risk_prefixes_are_normalized_longest_first() {
        let mut v = builtin_value();
        v["high_risk_countries"] = json!(["+882", " +1876 ", "+882"]);
        v.as_object_mut().unwrap().remove("hop_counter");
        let p = parse(&v).unwrap();
        assert_eq!(p.high_risk_prefixes, ["+1876", "+882"]);
        assert_eq!(p.hop_rule, DEFAULT_HOP_RULE, "the default applies when absent");
    }

    #[test]
    fn the_hop_counter_direction_and_threshold_come_from_the_policy() {
        let mut v = builtin_value();
        v["hop_counter"] = json!({"direction": "high", "threshold": 20});
        let rule = parse(&v).unwrap().hop_rule;
        assert_eq!(
            rule,
            HopRule {
                direction: HopDirection::High,
                threshold: 20
            }
        );
        assert_eq!([19, 20, 21].map(|h| rule.fires(h)), [false, true, true]);
        v["hop_counter"] = json!({"direction": "low", "threshold": 0});
        let rule = parse(&v).unwrap().hop_rule;
        assert_eq!([0, 1, 30].map(|h| rule.fires(h)), [true, false, false]);
        assert_eq!([4, 5, 6].map(|h| DEFAULT_HOP_RULE.fires(h)), [true, true, false]);
    }

    /// Each bad `hop_counter` gets its own message naming the field, the value and what is allowed.
    #[test]
    fn a_bad_hop_counter_direction_or_threshold_is_rejected_with_a_specific_message() {
        let cases = [
            (
                json!({"direction": "up", "threshold": 3}),
                "hop_counter: direction is \"up\"; it must be \"low\"",
            ),
            (json!({"direction": 1, "threshold": 3}), "hop_counter: direction is 1;"),
            (
                json!({"direction": "LOW", "threshold": 3}),
                "hop_counter: direction is \"LOW\"",
            ),
            (
                json!({"direction": "low", "threshold": -1}),
                "hop_counter: threshold is -1; it must be a whole number from 0 to 254 for direction low",
            ),
            (
                json!({"direction": "low", "threshold": 255}),
                "threshold is 255; it must be a whole number from 0 to 254 for direction low",
            ),
            (
                json!({"direction": "high", "threshold": 0}),
                "threshold is 0; it must be a whole number from 1 to 255 for direction high",
            ),
            (json!({"direction": "high", "threshold": 2.5}), "threshold is 2.5;"),
            (json!({"direction": "high", "threshold": "5"}), "threshold is \"5\";"),
        ];
        for (hop_counter, needle) in cases {
            let mut v = builtin_value();
            v["hop_counter"] = hop_counter.clone();
            match parse(&v) {
                Err(PolicyError::Invalid(problems)) => {
                    assert_eq!(problems.len(), 1, "{hop_counter}: {problems:?}");
                    assert!(problems[0].contains(needle), "{hop_counter}: {}", problems[0]);
                }
                other => panic!("{hop_counter}: {other:?}"),
            }
        }
        let mut v = builtin_value();
        v["hop_counter"] = json!({"direction": "low"});
        assert!(matches!(parse(&v), Err(PolicyError::Malformed(m)) if m.contains("threshold")));
        v["hop_counter"] = json!({"direction": "low", "threshold": 3, "max": 9});
        assert!(matches!(parse(&v), Err(PolicyError::Malformed(m)) if m.contains("max")));
    }

    /// A policy written for the earlier version is told what changed, not just that it is wrong.
    #[test]
    fn retired_codes_and_the_old_hop_setting_are_named_in_the_rejection() {
        let mut v = builtin_value();
        let weights = v["weights"].as_object_mut().unwrap();
        let weight = weights.remove("hop_counter").unwrap();
        weights.insert("high_hop_count".into(), weight);
        weights.insert("pai_mismatch".into(), json!(35));
        v.as_object_mut().unwrap().remove("hop_counter");
        v["max_hop_count"] = json!(5);
        let PolicyError::Invalid(problems) = parse(&v).unwrap_err() else {
            panic!("expected Invalid");
        };
        let all = problems.join("\n");
        for needle in [
            "\"pai_mismatch\" was removed: P-Asserted-Identity is not among the telephony attributes Connect documents",
            "\"high_hop_count\" is now hop_counter",
            "missing hop_counter",
            "max_hop_count was replaced by \"hop_counter\"",
        ] {
            assert!(all.contains(needle), "{needle} in:\n{all}");
        }
        assert_eq!(problems.len(), 4, "{all}");
    }
}
