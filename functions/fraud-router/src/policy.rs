//! The fraud policy: a JSON document that turns reason codes into a score, a level and a route.
//!
//! ```json
//! {
//!   "version": "2026-05-01",
//!   "weights": {"deny_list": 100, "pai_mismatch": 35, ...},      // every reason code, 0-100
//!   "thresholds": {"low": 0, "medium": 30, "high": 60},         // low is 0, then increasing
//!   "routes": {"low": "standard", "medium": "verify_caller", "high": "fraud_review", "unknown": "standard"},
//!   "high_risk_countries": ["+882", "+1876"],                   // calling codes or longer prefixes
//!   "max_hop_count": 5                                          // more hops than this is a signal
//! }
//! ```
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

use crate::signals::Reason;

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
    #[serde(default = "default_max_hop_count")]
    max_hop_count: i64,
}

const fn default_max_hop_count() -> i64 {
    5
}

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
    pub max_hop_count: u32,
}

fn check_label(problems: &mut Vec<String>, what: &str, value: &str) {
    if value.is_empty() || value.chars().count() > MAX_LABEL_CHARS || !is_flat_safe(value) {
        problems.push(format!(
            "{what} {value:?} must be 1 to {MAX_LABEL_CHARS} letters, digits, '-', '_' or '.'"
        ));
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
                None => problems.push(format!("weights: {code:?} is not a reason code")),
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

        let max_hop_count = match u32::try_from(doc.max_hop_count) {
            Ok(h) if (1..=255).contains(&h) => h,
            _ => {
                problems.push(format!("max_hop_count is {}; it must be 1 to 255", doc.max_hop_count));
                0
            }
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
            max_hop_count,
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
        assert_eq!(p.version, "builtin-2026.1");
        assert_eq!(p.weight(Reason::DenyList), 100);
        assert_eq!((p.medium_threshold, p.high_threshold), (30, 60));
        assert_eq!(p.route(Level::Unknown), "standard");
        assert_eq!(p.max_hop_count, 5);
        let doc = builtin_value();
        assert_eq!(doc["weights"].as_object().unwrap().len(), Reason::ALL.len());
    }

    #[test]
    fn scores_are_capped_sums_and_levels_follow_the_thresholds() {
        let p = Policy::builtin().unwrap();
        assert_eq!(p.score(&[]), 0);
        assert_eq!(p.score(&[Reason::PaiMismatch, Reason::JipMismatch]), 50);
        assert_eq!(p.score(&[Reason::DenyList, Reason::PaiMismatch]), 100);
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
        v["weights"]["pai_mismatch"] = json!(120);
        v["weights"].as_object_mut().unwrap().remove("jip_mismatch");
        v["thresholds"] = json!({"low": 5, "medium": 70, "high": 60});
        v["routes"]["high"] = json!("fraud team!");
        v["high_risk_countries"] = json!(["+882", "Jamaica", "+0123"]);
        v["max_hop_count"] = json!(0);
        let PolicyError::Invalid(problems) = parse(&v).unwrap_err() else {
            panic!("expected Invalid");
        };
        let all = problems.join("\n");
        for needle in [
            "version",
            "\"deny_lst\" is not a reason code",
            "pai_mismatch is 120",
            "missing jip_mismatch",
            "low is 5",
            "medium 70 and high 60",
            "routes: high",
            "\"Jamaica\"",
            "\"+0123\"",
            "max_hop_count is 0",
        ] {
            assert!(all.contains(needle), "{needle} in:\n{all}");
        }
        assert_eq!(problems.len(), 10, "{all}");
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
        v.as_object_mut().unwrap().remove("max_hop_count");
        let p = parse(&v).unwrap();
        assert_eq!(p.high_risk_prefixes, ["+1876", "+882"]);
        assert_eq!(p.max_hop_count, 5, "the default applies when absent");
    }
}
