//! contact-flow-logger: a contact flow's "Invoke AWS Lambda function" block logs a flow step.
//!
//! Per invocation it writes one structured JSON record (the "contact flow log" of the data-lake
//! lifecycle) to the function's log, emits EMF metrics, checks the caller against the deny list,
//! and answers Connect with a flat map:
//!
//! ```json
//! {"deny": "false", "deny_reason": "", "logged": "true"}
//! ```
//!
//! When `deny` is `true` the flow disconnects the caller. The answer never depends on anything
//! that can fail slowly: the deny list waits at most its budget and fails open, and an event that
//! cannot be read is answered (not denied) like any other.
//!
//! The record never contains a raw phone number or email: the customer number becomes its token and
//! calling code, parameter values are tokenized when the PII classifier finds PII in them or their
//! key is listed in `PII_ATTRIBUTE_KEYS` (kept verbatim when it is in `CLEAR_ATTRIBUTE_KEYS`), and
//! attributes are logged by key only. It carries `"record": "contact_flow_log"`, which the log subscription filters on to ship
//! records into `contact_flow_logs/` in the lake.
//!
//! Where the logic lives: this file holds the whole function, [`Logger::handle`] (the one place
//! metrics and the record are written) over [`Logger::process`], the pure core tests call. The
//! pieces it shares with fraud-router are in the shared crate: the Connect event
//! (`connect_lake::contact_flow`), the deny list and its cache (`deny_list`, `remote_config`) and
//! the PII classifier (`pii`). `config.rs` reads the environment; `main.rs` only wires.

mod config;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::io::Write;
use std::sync::Arc;

use connect_lake::contact_flow::{ContactFlowEvent, is_id_like};
use connect_lake::deny_list::{self, DenyCheck, DenyListCache};
use connect_lake::flat_answer::{self, FlatAnswer};
use connect_lake::pii::{self, AttributeKeys, AttributeRule, Tokenizer};
use connect_lake::remote_config::S3Source;
use connect_lake::telemetry::Metrics;
use lambda_runtime::LambdaEvent;
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub use crate::config::Config;

/// The function's name, as its metrics' `Function` dimension.
pub const FUNCTION: &str = "contact-flow-logger";
/// The value of the record's `record` field, which the log subscription filter selects.
pub const RECORD_TYPE: &str = "contact_flow_log";
/// Block parameters that name the flow and the step.
pub const FLOW_NAME_PARAMETER: &str = "FlowName";
pub const STEP_PARAMETER: &str = "Step";

/// Bounds that keep one record small whatever the flow sends.
pub const MAX_LOGGED_PARAMETERS: usize = 64;
pub const MAX_LOGGED_ATTRIBUTE_KEYS: usize = 256;
pub const MAX_LOGGED_VALUE_CHARS: usize = 256;
/// Longest metric dimension value; longer flow or step names are cut.
pub const MAX_DIMENSION_CHARS: usize = 64;

/// The handler's dependencies, built once.
#[derive(Debug, Clone)]
pub struct Logger {
    tokenizer: Tokenizer,
    attribute_keys: AttributeKeys,
    metrics_namespace: String,
    deny_list: Option<DenyListCache>,
    /// The deny list's S3 source, told the function's own account on each invocation.
    source: Option<Arc<S3Source>>,
}

/// One log record. Every text field is either a fixed code, an id-shaped id, or scrubbed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlowLog {
    pub record: &'static str,
    /// RFC 3339, UTC.
    pub timestamp: String,
    pub contact_id: Option<String>,
    pub initial_contact_id: Option<String>,
    pub previous_contact_id: Option<String>,
    pub instance_id: Option<String>,
    pub channel: Option<String>,
    pub initiation_method: Option<String>,
    pub queue: Option<String>,
    pub language_code: Option<String>,
    pub flow_name: Option<String>,
    pub step: Option<String>,
    /// The block's other parameters, values scrubbed of PII and cut to a bounded length.
    pub parameters: BTreeMap<String, String>,
    /// Parameters beyond [`MAX_LOGGED_PARAMETERS`], not logged.
    pub parameters_omitted: usize,
    /// The customer's number as a token (`ph_...`), the same token the `ctr` table carries.
    pub customer_token: Option<String>,
    /// The customer's country calling code (`1`, `44`, ...).
    pub calling_code: Option<String>,
    /// Contact attribute names, never their values.
    pub attribute_keys: Vec<String>,
    pub attribute_count: usize,
    /// `disabled`, `no_number`, `unavailable`, `miss` or `hit`.
    pub deny_list: &'static str,
    pub deny: bool,
    pub deny_reason: Option<String>,
    /// False when the event was not a contact-flow event (no `Details.ContactData`).
    pub recognised: bool,
}

/// What one invocation produced: the answer, the record to log and the metrics to emit.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub answer: FlatAnswer,
    pub record: FlowLog,
    pub metrics: Vec<Metrics>,
}

impl Outcome {
    /// Writes the record as one JSON line to `log` and the metrics as EMF lines to `metrics`, then
    /// returns the answer, with `logged` = `false` when the record could not be written.
    pub fn write(mut self, log: &mut impl Write, metrics: &mut impl Write, timestamp_ms: i64) -> FlatAnswer {
        if let Err(error) = connect_lake::telemetry::write_json_line(log, &self.record) {
            tracing::error!(%error, "the contact flow log record could not be written");
            self.answer.insert("logged", "false");
        }
        connect_lake::telemetry::write_metrics(metrics, &self.metrics, timestamp_ms);
        self.answer
    }

    /// [`Outcome::write`] to the process's stderr (logs) and stdout (EMF), where Lambda collects them.
    pub fn emit(self) -> FlatAnswer {
        let ts = connect_lake::telemetry::now_millis();
        self.write(&mut std::io::stderr().lock(), &mut std::io::stdout().lock(), ts)
    }
}

/// A value from the event as a low-cardinality, PII-free metric dimension.
fn dimension(value: Option<&str>) -> String {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => "unknown".to_owned(),
        Some(v) if pii::classify(v).is_some() => "redacted".to_owned(),
        Some(v) => flat_answer::sanitize(v, MAX_DIMENSION_CHARS),
    }
}

impl Logger {
    /// `deny_list`: the cache built from [`Config::deny_list`] (with the S3 source in production).
    pub fn new(config: &Config, deny_list: Option<DenyListCache>) -> Self {
        Logger {
            tokenizer: config.tokenizer.clone(),
            attribute_keys: config.attribute_keys.clone(),
            metrics_namespace: config.metrics_namespace.clone(),
            deny_list,
            source: None,
        }
    }

    /// The logger as the Lambda runs it: the deny list (when `DENY_LIST_URI` is set) read through
    /// `s3`, whose bucket must belong to `CONFIG_BUCKET_OWNER` or else to the function's account.
    /// `s3` is `None` when there is no deny list to read.
    pub fn from_config(config: &Config, s3: Option<S3Source>) -> Self {
        let source = s3.map(|s| Arc::new(s.with_expected_bucket_owner(config.config_bucket_owner.clone())));
        let deny_list = match (&config.deny_list, &source) {
            (Some(settings), Some(source)) => Some(deny_list::cache(
                settings.clone(),
                Arc::clone(source) as _,
                &config.metrics_namespace,
            )),
            _ => None,
        };
        Logger {
            source,
            ..Logger::new(config, deny_list)
        }
    }

    /// The value with PII replaced by a token of the whole value, else cut to a bounded length.
    /// The whole value is scrubbed before cutting, so a number across the cut is never half-logged.
    fn scrub(&self, value: &str) -> String {
        match self.tokenizer.scrub(value) {
            Cow::Owned(token) => token,
            Cow::Borrowed(clean) => clean.chars().take(MAX_LOGGED_VALUE_CHARS).collect(),
        }
    }

    /// A block parameter's value, as its key's rule says.
    fn parameter(&self, key: &str, value: &str) -> String {
        match self.attribute_keys.rule(key) {
            AttributeRule::Classify => self.scrub(value),
            AttributeRule::Tokenize => match self.tokenizer.tokenize_always(value) {
                Cow::Owned(token) => token,
                Cow::Borrowed(_) => String::new(),
            },
            AttributeRule::Clear => value.chars().take(MAX_LOGGED_VALUE_CHARS).collect(),
        }
    }

    fn text(&self, value: Option<&str>) -> Option<String> {
        value.map(|v| self.scrub(v))
    }

    fn id(&self, value: Option<&str>) -> Option<String> {
        value.map(|v| if is_id_like(v) { v.to_owned() } else { self.scrub(v) })
    }

    /// The Lambda handler: processes the event, writes the record and the metrics (the one place
    /// this function emits them), and answers. Never fails: `ContactFlowEvent` deserializes from
    /// any payload, so Connect never sees a function error from this function.
    ///
    /// # Errors
    /// None: the error type is [`Infallible`].
    pub async fn handle(&self, event: LambdaEvent<ContactFlowEvent>) -> Result<FlatAnswer, Infallible> {
        // Without CONFIG_BUCKET_OWNER the deny list's bucket must be the function's own account's,
        // known from the first invocation, before the list is first read.
        if let Some(source) = &self.source {
            source.own_account_from_arn(&event.context.invoked_function_arn);
        }
        Ok(self.process(&event.payload).await.emit())
    }

    /// Processes one invocation without writing anything. Whatever the event, there is an answer.
    pub async fn process(&self, event: &ContactFlowEvent) -> Outcome {
        let caller = event.customer_phone();
        let deny = deny_list::check(self.deny_list.as_ref(), caller).await;
        self.outcome(event, deny)
    }

    /// The pure part of [`Logger::process`]: everything but the deny-list lookup.
    pub fn outcome(&self, event: &ContactFlowEvent, deny: DenyCheck) -> Outcome {
        let cd = &event.contact_data;
        if !event.is_recognised() {
            tracing::warn!("the event is not a contact-flow event (no Details.ContactData); logging it as empty");
        }
        let (customer_token, calling_code) = match event.customer_phone() {
            None => (None, None),
            Some(address) => {
                let (token, code) = self.tokenizer.endpoint_address(address);
                (Some(token), code)
            }
        };
        let flow_name = event.parameter(FLOW_NAME_PARAMETER);
        let step = event.parameter(STEP_PARAMETER);
        let mut parameters = BTreeMap::new();
        let mut parameters_omitted = 0;
        for (k, v) in &event.parameters {
            if k == FLOW_NAME_PARAMETER || k == STEP_PARAMETER {
                continue;
            }
            if parameters.len() == MAX_LOGGED_PARAMETERS {
                parameters_omitted += 1;
                continue;
            }
            parameters.insert(self.scrub(k), self.parameter(k, v));
        }
        let attribute_keys = cd
            .attributes
            .keys()
            .take(MAX_LOGGED_ATTRIBUTE_KEYS)
            .map(|k| self.scrub(k))
            .collect();
        let deny_reason = match &deny {
            DenyCheck::Hit { reason, .. } => Some(reason.clone().unwrap_or_else(|| "listed".to_owned())),
            _ => None,
        };
        let record = FlowLog {
            record: RECORD_TYPE,
            timestamp: OffsetDateTime::now_utc().format(&Rfc3339).unwrap_or_default(),
            contact_id: self.id(cd.contact_id.as_deref()),
            initial_contact_id: self.id(cd.initial_contact_id.as_deref()),
            previous_contact_id: self.id(cd.previous_contact_id.as_deref()),
            instance_id: self.id(event.instance_id()),
            channel: self.text(cd.channel.as_deref()),
            initiation_method: self.text(cd.initiation_method.as_deref()),
            queue: self.text(cd.queue.as_ref().and_then(|q| q.name.as_deref())),
            language_code: self.text(cd.language_code.as_deref()),
            flow_name: self.text(flow_name),
            step: self.text(step),
            parameters,
            parameters_omitted,
            customer_token,
            calling_code,
            attribute_keys,
            attribute_count: cd.attributes.len(),
            deny_list: deny.code(),
            deny: deny.is_hit(),
            deny_reason: deny_reason.clone(),
            recognised: event.is_recognised(),
        };

        // The keys the flow branches on first, so they are never the ones trimmed.
        let mut answer = FlatAnswer::new();
        answer.insert("deny", if deny.is_hit() { "true" } else { "false" });
        answer.insert("deny_reason", deny_reason.as_deref().unwrap_or(""));
        answer.insert("logged", "true");

        let namespace = self.metrics_namespace.as_str();
        let mut steps = Metrics::new(namespace)
            .with_dimension("FlowName", dimension(flow_name))
            .with_dimension("Step", dimension(step));
        steps.count("FlowStep", 1);
        let mut checks = Metrics::new(namespace).with_dimension("Function", FUNCTION);
        checks.count("DenyListHit", u64::from(deny.is_hit()));
        if deny == DenyCheck::Unavailable {
            checks.count("DenyListUnavailable", 1);
        }
        Outcome {
            answer,
            record,
            metrics: vec![steps, checks],
        }
    }
}

#[cfg(test)]
mod tests;
