//! fraud-router: a contact flow's "Invoke AWS Lambda function" block asks how risky a call is and
//! where to route it.
//!
//! The router reads the call's telephony attributes (mapped from `$.Media.Sip.Headers.*` into the
//! block's parameters), checks the caller against the deny list, scores the [`signals`] under the
//! [`policy`], and answers a flat map:
//!
//! ```json
//! {"risk_score": "65", "risk_level": "high", "route": "fraud_review",
//!  "reasons": "from_mismatch.oli_payphone.hop_counter", "policy_version": "builtin-2026.2"}
//! ```
//!
//! `reasons` lists reason codes separated by `.`: Connect only accepts letters, digits, `-`, `_`
//! (and here `.`) in answer values, so a comma is not available.
//!
//! Any internal failure (an event that is not a contact-flow event, the decision overrunning its
//! time budget) answers the safe default instead: `risk_level` `unknown`, the policy's `unknown`
//! route, reason `degraded`. Each decision is logged as one JSON record (`"record":
//! "fraud_decision"`) with the facts behind it and the documented telephony attributes it read
//! ([`attributes`], numbers tokenized), as training data for a fraud model, and counted in EMF
//! metrics per level and per reason.
//!
//! Where the logic lives: [`signals`] turns the event into reason codes, [`policy`] turns codes into
//! a score, level and route, and [`attributes`] is what the decision record keeps. This file holds
//! [`Router::handle`] (the one place metrics and the record are written) over [`Router::process`],
//! the core tests call, and the caches of the deny list and the policy. The Connect event and the
//! deny list are shared with contact-flow-logger (`connect_lake::contact_flow`, `deny_list`).

pub mod attributes;
mod config;
pub mod policy;
pub mod signals;

use std::borrow::Cow;
use std::convert::Infallible;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use connect_lake::contact_flow::{ContactFlowEvent, is_id_like};
use connect_lake::deny_list::{self, DenyCheck, DenyListCache};
use connect_lake::flat_answer::FlatAnswer;
use connect_lake::pii::Tokenizer;
use connect_lake::remote_config::{ConfigSource, Parser, RemoteConfig, RemoteSettings, S3Source};
use connect_lake::telemetry::{Metrics, Unit};
use lambda_runtime::LambdaEvent;
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::time::Instant;

use crate::attributes::CallAttributes;
pub use crate::config::Config;
use crate::policy::{Level, Policy, PolicyError};
use crate::signals::{CallFacts, Reason};

/// The function's name, as its metrics' `Function` dimension.
pub const FUNCTION: &str = "fraud-router";
/// The value of the record's `record` field, which the log subscription filter selects.
pub const RECORD_TYPE: &str = "fraud_decision";
/// The reason code of a degraded answer.
pub const DEGRADED: &str = "degraded";
/// The `name` of the policy's [`RemoteConfig`]: its log field and metric dimension.
pub const POLICY_CONFIG_NAME: &str = "fraud_policy";
/// How much longer than the deny-list budget a whole decision may take before it degrades.
pub const DECISION_MARGIN: Duration = Duration::from_millis(100);

/// The longest id kept in a record when it is not id-shaped.
pub const MAX_ID_CHARS: usize = 128;

/// A cached, refreshed policy from `FRAUD_POLICY_URI`.
pub type PolicyCache = RemoteConfig<Policy>;

/// A policy cache reading through `source`; documents that do not validate count as failed loads.
pub fn policy_cache(settings: RemoteSettings, source: Arc<dyn ConfigSource>, metrics_namespace: &str) -> PolicyCache {
    let parse: Parser<Policy> =
        Box::new(|bytes: &[u8]| Policy::from_json(bytes).map_err(|e: PolicyError| e.to_string()));
    RemoteConfig::new(POLICY_CONFIG_NAME, settings, source, parse, metrics_namespace)
}

/// Why a decision degraded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RouterError {
    #[error("the event is not a contact-flow event (no Details.ContactData)")]
    UnrecognisedEvent,
    #[error("the decision took longer than its {0:?} budget")]
    OverBudget(Duration),
}

impl RouterError {
    pub const fn code(self) -> &'static str {
        match self {
            RouterError::UnrecognisedEvent => "unrecognised_event",
            RouterError::OverBudget(_) => "over_budget",
        }
    }
}

/// The facts of a decision as logged: codes, booleans, counts and tokens, never a raw number.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Features {
    /// `number`, `missing`, `withheld`, `not_e164`, `not_applicable`.
    pub caller: &'static str,
    pub caller_token: Option<String>,
    pub calling_code: Option<String>,
    pub home_calling_code: Option<String>,
    /// `number`, `digits`, `anonymous`, `other`; absent when the header was not passed.
    pub from: Option<&'static str>,
    pub from_matches: Option<bool>,
    pub oli: Option<u8>,
    pub oli_class: Option<signals::OliClass>,
    pub jip_matches: Option<bool>,
    pub hop_count: Option<u32>,
    /// `domestic`, `international`, `unknown`.
    pub forwarding: Option<&'static str>,
    /// `disabled`, `no_number`, `unavailable`, `miss`, `hit`.
    pub deny_list: &'static str,
}

/// One decision record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DecisionRecord {
    pub record: &'static str,
    pub timestamp: String,
    pub contact_id: Option<String>,
    pub instance_id: Option<String>,
    pub channel: Option<String>,
    pub risk_score: u8,
    pub risk_level: &'static str,
    pub route: String,
    pub reasons: Vec<&'static str>,
    pub policy_version: String,
    pub degraded: bool,
    /// Why the answer degraded (`unrecognised_event`, `over_budget`).
    pub error: Option<&'static str>,
    pub features: Features,
    /// The documented telephony attributes the call carried, person numbers tokenized.
    pub call_attributes: CallAttributes,
    pub elapsed_us: u64,
}

/// What one invocation produced: the answer, the record to log and the metrics to emit.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub answer: FlatAnswer,
    pub record: DecisionRecord,
    pub metrics: Vec<Metrics>,
}

impl Outcome {
    /// Writes the record as one JSON line to `log` and the metrics as EMF lines to `metrics`, and
    /// returns the answer. Writing never changes the answer: the decision stands either way.
    pub fn write(self, log: &mut impl Write, metrics: &mut impl Write, timestamp_ms: i64) -> FlatAnswer {
        if let Err(error) = connect_lake::telemetry::write_json_line(log, &self.record) {
            tracing::error!(%error, "the fraud decision record could not be written");
        }
        connect_lake::telemetry::write_metrics(metrics, &self.metrics, timestamp_ms);
        self.answer
    }

    /// [`Outcome::write`] to stderr (logs) and stdout (EMF), where Lambda collects them.
    pub fn emit(self) -> FlatAnswer {
        let ts = connect_lake::telemetry::now_millis();
        self.write(&mut std::io::stderr().lock(), &mut std::io::stdout().lock(), ts)
    }
}

/// The handler's dependencies, built once.
#[derive(Debug, Clone)]
pub struct Router {
    tokenizer: Tokenizer,
    metrics_namespace: String,
    deny_list: Option<DenyListCache>,
    builtin: Arc<Policy>,
    policy: Option<PolicyCache>,
    decision_budget: Duration,
    /// The S3 source of both caches, told the function's account at the first invocation.
    source: Option<Arc<S3Source>>,
}

struct Assessed {
    facts: CallFacts,
    deny: DenyCheck,
    policy: Arc<Policy>,
}

impl Router {
    /// `deny_list` and `policy`: the caches built from [`Config`] (with the S3 source in production).
    pub fn new(
        config: &Config,
        builtin: Policy,
        deny_list: Option<DenyListCache>,
        policy: Option<PolicyCache>,
    ) -> Self {
        Router {
            tokenizer: config.tokenizer.clone(),
            metrics_namespace: config.metrics_namespace.clone(),
            deny_list,
            builtin: Arc::new(builtin),
            policy,
            decision_budget: config.decision_budget,
            source: None,
        }
    }

    /// The router as the Lambda runs it: the built-in policy, and the deny list and policy caches
    /// (those `Config` names) reading through `s3`, which is `None` when there is nothing to read.
    /// Every bucket read must belong to `CONFIG_BUCKET_OWNER`, or else to the function's account.
    ///
    /// # Errors
    /// [`PolicyError`] when the built-in policy does not validate.
    pub fn from_config(config: &Config, s3: Option<S3Source>) -> Result<Self, PolicyError> {
        let builtin = Policy::builtin()?;
        let s3 = s3.map(|s| Arc::new(s.with_expected_bucket_owner(config.config_bucket_owner.clone())));
        let namespace = config.metrics_namespace.as_str();
        let (deny_list, policy) = match &s3 {
            Some(s3) => {
                let source: Arc<dyn ConfigSource> = Arc::clone(s3) as _;
                (
                    config
                        .deny_list
                        .clone()
                        .map(|s| deny_list::cache(s, Arc::clone(&source), namespace)),
                    config
                        .policy
                        .clone()
                        .map(|s| policy_cache(s, Arc::clone(&source), namespace)),
                )
            }
            None => (None, None),
        };
        Ok(Router {
            source: s3,
            ..Router::new(config, builtin, deny_list, policy)
        })
    }

    /// The policy in force: the one from `FRAUD_POLICY_URI` once loaded, else the built-in one.
    async fn policy(&self) -> Arc<Policy> {
        match &self.policy {
            Some(cache) => cache.get().await.unwrap_or_else(|| Arc::clone(&self.builtin)),
            None => Arc::clone(&self.builtin),
        }
    }

    /// The policy in force, without waiting (for degraded answers).
    fn current_policy(&self) -> Arc<Policy> {
        self.policy
            .as_ref()
            .and_then(PolicyCache::current)
            .unwrap_or_else(|| Arc::clone(&self.builtin))
    }

    async fn assess(&self, event: &ContactFlowEvent) -> Result<Assessed, RouterError> {
        if !event.is_recognised() {
            return Err(RouterError::UnrecognisedEvent);
        }
        let facts = CallFacts::from_event(event);
        let (deny, policy) = tokio::join!(
            deny_list::check(self.deny_list.as_ref(), facts.caller.number()),
            self.policy()
        );
        Ok(Assessed { facts, deny, policy })
    }

    /// The Lambda handler: decides, writes the record and the metrics (the one place this
    /// function emits them), and answers. `ContactFlowEvent` deserializes from any payload, so
    /// every invocation gets an answer: Connect never sees a function error from this function.
    ///
    /// # Errors
    /// None: the error type is [`Infallible`].
    pub async fn handle(&self, event: LambdaEvent<ContactFlowEvent>) -> Result<FlatAnswer, Infallible> {
        // Without CONFIG_BUCKET_OWNER the config buckets must be the function's own account's,
        // known from the first invocation, before the deny list and the policy are first read.
        if let Some(source) = &self.source {
            source.own_account_from_arn(&event.context.invoked_function_arn);
        }
        Ok(self.process(&event.payload).await.emit())
    }

    /// Decides one invocation without writing anything. Whatever the event, there is an answer
    /// within the budget.
    pub async fn process(&self, event: &ContactFlowEvent) -> Outcome {
        let started = Instant::now();
        let assessed = match tokio::time::timeout(self.decision_budget, self.assess(event)).await {
            Ok(result) => result,
            Err(_) => Err(RouterError::OverBudget(self.decision_budget)),
        };
        match assessed {
            Ok(a) => self.decide(event, &a.facts, &a.deny, &a.policy, started),
            Err(error) => self.degraded(event, error, started),
        }
    }

    /// An id in clear when it is id-shaped; otherwise scrubbed of PII and cut short.
    fn id(&self, value: Option<&str>) -> Option<String> {
        value.map(|v| {
            if is_id_like(v) {
                v.to_owned()
            } else {
                match self.tokenizer.scrub(v) {
                    Cow::Owned(token) => token,
                    Cow::Borrowed(clean) => clean.chars().take(MAX_ID_CHARS).collect(),
                }
            }
        })
    }

    fn channel(event: &ContactFlowEvent) -> Option<String> {
        // A channel is a short upper-case word; anything else is not worth keeping.
        event
            .contact_data
            .channel
            .as_deref()
            .filter(|c| c.len() <= 16 && c.bytes().all(|b| b.is_ascii_alphabetic()))
            .map(str::to_owned)
    }

    fn features(&self, facts: &CallFacts, deny: &DenyCheck) -> Features {
        let caller = facts.caller.number();
        let token = caller.and_then(|n| self.tokenizer.phone(n));
        let (caller_token, calling_code) = token.map(|t| (t.token, t.calling_code)).unzip();
        let matches = |h: &Option<signals::HeaderIdentity>| caller.and_then(|c| h.as_ref()?.agrees_with(c));
        Features {
            caller: facts.caller.code(),
            caller_token,
            calling_code,
            home_calling_code: facts.home_calling_code.clone(),
            from: facts.from.as_ref().map(signals::HeaderIdentity::kind),
            from_matches: matches(&facts.from),
            oli: facts.oli.map(|o| o.code),
            oli_class: facts.oli.map(|o| o.class),
            jip_matches: facts.jip_matches(),
            hop_count: facts.hop_count,
            forwarding: facts.forwarding.map(signals::Forwarding::code),
            deny_list: deny.code(),
        }
    }

    /// The pure part of a decision: facts, deny-list outcome and policy in, outcome out.
    pub fn decide(
        &self,
        event: &ContactFlowEvent,
        facts: &CallFacts,
        deny: &DenyCheck,
        policy: &Policy,
        started: Instant,
    ) -> Outcome {
        let reasons = facts.reasons(deny.is_hit(), policy.hop_rule, &policy.high_risk_prefixes);
        let score = policy.score(&reasons);
        let level = policy.level(score);
        let codes: Vec<&'static str> = reasons.iter().map(|r| r.code()).collect();
        let record = DecisionRecord {
            record: RECORD_TYPE,
            timestamp: OffsetDateTime::now_utc().format(&Rfc3339).unwrap_or_default(),
            contact_id: self.id(event.contact_data.contact_id.as_deref()),
            instance_id: self.id(event.instance_id()),
            channel: Self::channel(event),
            risk_score: score,
            risk_level: level.code(),
            route: policy.route(level).to_owned(),
            reasons: codes,
            policy_version: policy.version.clone(),
            degraded: false,
            error: None,
            features: self.features(facts, deny),
            call_attributes: CallAttributes::from_event(event, &self.tokenizer),
            elapsed_us: elapsed_us(started),
        };
        self.finish(record)
    }

    fn degraded(&self, event: &ContactFlowEvent, error: RouterError, started: Instant) -> Outcome {
        tracing::warn!(error = %error, code = error.code(), "fraud decision degraded to the safe default");
        let policy = self.current_policy();
        let record = DecisionRecord {
            record: RECORD_TYPE,
            timestamp: OffsetDateTime::now_utc().format(&Rfc3339).unwrap_or_default(),
            contact_id: self.id(event.contact_data.contact_id.as_deref()),
            instance_id: self.id(event.instance_id()),
            channel: Self::channel(event),
            risk_score: 0,
            risk_level: Level::Unknown.code(),
            route: policy.route(Level::Unknown).to_owned(),
            reasons: vec![DEGRADED],
            policy_version: policy.version.clone(),
            degraded: true,
            error: Some(error.code()),
            features: Features {
                caller: "not_applicable",
                deny_list: "unavailable",
                ..Features::default()
            },
            call_attributes: CallAttributes::from_event(event, &self.tokenizer),
            elapsed_us: elapsed_us(started),
        };
        self.finish(record)
    }

    fn finish(&self, record: DecisionRecord) -> Outcome {
        // The keys the flow branches on first, so they are never the ones trimmed.
        let mut answer = FlatAnswer::new();
        answer.insert("risk_level", record.risk_level);
        answer.insert("route", &record.route);
        answer.insert("risk_score", &record.risk_score.to_string());
        answer.insert("reasons", &record.reasons.join("."));
        answer.insert("policy_version", &record.policy_version);

        let namespace = self.metrics_namespace.as_str();
        let mut decisions = Metrics::new(namespace)
            .with_dimension("Function", FUNCTION)
            .with_dimension("RiskLevel", record.risk_level);
        decisions.count("Decision", 1);
        decisions.add("DecisionTime", Unit::Milliseconds, record.elapsed_us as f64 / 1000.0);
        let mut metrics = vec![decisions];
        for reason in &record.reasons {
            let mut m = Metrics::new(namespace)
                .with_dimension("Function", FUNCTION)
                .with_dimension("Reason", *reason);
            m.count("DecisionReason", 1);
            metrics.push(m);
        }
        Outcome {
            answer,
            record,
            metrics,
        }
    }
}

fn elapsed_us(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// Reason codes, for documentation and tests: every code an answer's `reasons` can hold.
pub fn reason_codes() -> impl Iterator<Item = &'static str> {
    Reason::ALL.iter().map(|r| r.code()).chain(std::iter::once(DEGRADED))
}

#[cfg(test)]
mod tests;
