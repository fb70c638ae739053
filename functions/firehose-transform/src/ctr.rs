//! Lenient types for Amazon Connect contact records (CTRs) and agent events, and their
//! flattening into `ctr` and `agent_events` rows.
//!
//! Connect adds fields over time and leaves many null (`CustomerEndpoint`, `SystemEndpoint`,
//! `Queue`, `Agent`, ...): every nested object is optional and unknown fields are ignored. Strings
//! borrow from the input where they can, because the Firehose transform parses megabytes of these
//! per invocation.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use time::OffsetDateTime;

use connect_lake::pii::{PiiRules, Tokenizer};
use connect_lake::schema::PartitionValues;
use connect_lake::time_fmt::{HiveTimestamp, parse_rfc3339};

mod detail;

pub use detail::{
    AgentContactRow, Campaign, CustomerVoiceActivity, DisconnectDetails, NextAgentStatus, QualityMetrics, QualityRow,
    Recording, RecordingRow, ReferenceRow, SnapshotContact, voice_recording,
};

type Text<'a> = Option<Cow<'a, str>>;

/// Accepts an integer, a float (rounded), a numeric string or null. Anything else is `None`:
/// a duration of the wrong type is not worth failing a contact record for.
fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let v: Option<Value> = Option::deserialize(d)?;
    Ok(match v {
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f.round() as i64)),
        Some(Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(|f| f.round() as i64),
        _ => None,
    })
}

/// Accepts a bool, `"true"`/`"false"` or null.
fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    let v: Option<Value> = Option::deserialize(d)?;
    Ok(match v {
        Some(Value::Bool(b)) => Some(b),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Some(true),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    })
}

/// A contact record as Connect streams it. Also carries the top-level agent-event keys, so one
/// parse tells the two record shapes apart (see [`ContactRecord::looks_like_agent_event`]).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContactRecord<'a> {
    #[serde(borrow)]
    pub contact_id: Text<'a>,
    #[serde(borrow)]
    pub initial_contact_id: Text<'a>,
    #[serde(borrow)]
    pub previous_contact_id: Text<'a>,
    #[serde(borrow)]
    pub next_contact_id: Text<'a>,
    #[serde(borrow)]
    pub related_contact_id: Text<'a>,
    #[serde(borrow, rename = "InstanceARN")]
    pub instance_arn: Text<'a>,
    #[serde(borrow, rename = "AWSAccountId")]
    pub aws_account_id: Text<'a>,
    #[serde(borrow)]
    pub channel: Text<'a>,
    #[serde(borrow)]
    pub initiation_method: Text<'a>,
    #[serde(borrow)]
    pub initiation_timestamp: Text<'a>,
    #[serde(borrow)]
    pub connected_to_system_timestamp: Text<'a>,
    #[serde(borrow)]
    pub transfer_completed_timestamp: Text<'a>,
    #[serde(borrow)]
    pub disconnect_timestamp: Text<'a>,
    #[serde(borrow)]
    pub scheduled_timestamp: Text<'a>,
    #[serde(borrow)]
    pub last_update_timestamp: Text<'a>,
    #[serde(borrow)]
    pub disconnect_reason: Text<'a>,
    #[serde(deserialize_with = "lenient_i64")]
    pub agent_connection_attempts: Option<i64>,
    #[serde(borrow)]
    pub agent: Option<Agent<'a>>,
    #[serde(borrow)]
    pub queue: Option<Queue<'a>>,
    #[serde(borrow)]
    pub customer_endpoint: Option<Endpoint<'a>>,
    #[serde(borrow)]
    pub system_endpoint: Option<Endpoint<'a>>,
    #[serde(borrow)]
    pub transferred_to_endpoint: Option<Endpoint<'a>>,
    #[serde(borrow)]
    pub recording: Option<Recording<'a>>,
    #[serde(borrow)]
    pub recordings: Option<Vec<Recording<'a>>>,
    pub contact_lens: Option<ContactLens>,
    #[serde(borrow, rename = "AWSContactTraceRecordFormatVersion")]
    pub format_version: Text<'a>,
    #[serde(borrow)]
    pub answering_machine_detection_status: Text<'a>,
    #[serde(borrow)]
    pub campaign: Option<Campaign<'a>>,
    #[serde(borrow)]
    pub disconnect_details: Option<DisconnectDetails<'a>>,
    /// `{"connect:Subtype": {"ValueString": "connect:SMS"}, ...}`.
    pub segment_attributes: Option<BTreeMap<String, Value>>,
    pub tags: Option<BTreeMap<String, Value>>,
    pub contact_details: Option<BTreeMap<String, Value>>,
    pub references: Option<Value>,
    pub quality_metrics: Option<QualityMetrics>,
    #[serde(borrow)]
    pub customer_voice_activity: Option<CustomerVoiceActivity<'a>>,
    #[serde(deserialize_with = "lenient_i64")]
    pub total_pause_count: Option<i64>,
    #[serde(deserialize_with = "lenient_i64", alias = "TotalPauseDurationInSeconds")]
    pub total_pause_duration: Option<i64>,
    #[serde(borrow)]
    pub last_paused_timestamp: Text<'a>,
    #[serde(borrow)]
    pub last_resumed_timestamp: Text<'a>,
    /// Values stay raw JSON until they are scrubbed: no allocation for the common string case.
    #[serde(borrow)]
    pub attributes: Option<BTreeMap<Cow<'a, str>, &'a RawValue>>,
    // Agent-event keys, read only to tell the shapes apart.
    #[serde(borrow)]
    pub event_type: Text<'a>,
    #[serde(borrow, rename = "AgentARN")]
    pub agent_arn: Text<'a>,
}

impl ContactRecord<'_> {
    /// Agent events share the stream with contact records but have no `ContactId`.
    pub fn looks_like_agent_event(&self) -> bool {
        self.contact_id.is_none() && self.event_type.is_some()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Agent<'a> {
    #[serde(borrow, rename = "ARN")]
    pub arn: Text<'a>,
    #[serde(borrow)]
    pub username: Text<'a>,
    #[serde(borrow)]
    pub routing_profile: Option<Named<'a>>,
    #[serde(borrow)]
    pub hierarchy_groups: Option<HierarchyGroups<'a>>,
    #[serde(deserialize_with = "lenient_i64")]
    pub agent_interaction_duration: Option<i64>,
    #[serde(deserialize_with = "lenient_i64")]
    pub customer_hold_duration: Option<i64>,
    #[serde(deserialize_with = "lenient_i64")]
    pub after_contact_work_duration: Option<i64>,
    #[serde(deserialize_with = "lenient_i64")]
    pub longest_hold_duration: Option<i64>,
    #[serde(deserialize_with = "lenient_i64")]
    pub number_of_holds: Option<i64>,
    #[serde(borrow)]
    pub connected_to_agent_timestamp: Text<'a>,
    #[serde(borrow)]
    pub after_contact_work_start_timestamp: Text<'a>,
    #[serde(borrow)]
    pub after_contact_work_end_timestamp: Text<'a>,
    #[serde(deserialize_with = "lenient_i64")]
    pub agent_pause_duration: Option<i64>,
}

/// A named resource: routing profile, queue reference, agent status.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Named<'a> {
    #[serde(borrow, rename = "ARN")]
    pub arn: Text<'a>,
    #[serde(borrow)]
    pub name: Text<'a>,
}

/// A hierarchy group: `GroupName` in contact records, `Name` in agent events.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HierarchyGroup<'a> {
    #[serde(borrow, rename = "ARN")]
    pub arn: Text<'a>,
    #[serde(borrow, alias = "Name")]
    pub group_name: Text<'a>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HierarchyGroups<'a> {
    #[serde(borrow)]
    pub level1: Option<HierarchyGroup<'a>>,
    #[serde(borrow)]
    pub level2: Option<HierarchyGroup<'a>>,
    #[serde(borrow)]
    pub level3: Option<HierarchyGroup<'a>>,
    #[serde(borrow)]
    pub level4: Option<HierarchyGroup<'a>>,
    #[serde(borrow)]
    pub level5: Option<HierarchyGroup<'a>>,
}

impl<'a> HierarchyGroups<'a> {
    fn names(groups: Option<&Self>) -> [Text<'a>; 5] {
        let name = |g: &Option<HierarchyGroup<'a>>| g.as_ref().and_then(|g| g.group_name.clone());
        match groups {
            None => [None, None, None, None, None],
            Some(g) => [
                name(&g.level1),
                name(&g.level2),
                name(&g.level3),
                name(&g.level4),
                name(&g.level5),
            ],
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Queue<'a> {
    #[serde(borrow, rename = "ARN")]
    pub arn: Text<'a>,
    #[serde(borrow)]
    pub name: Text<'a>,
    #[serde(deserialize_with = "lenient_i64")]
    pub duration: Option<i64>,
    #[serde(borrow)]
    pub enqueue_timestamp: Text<'a>,
    #[serde(borrow)]
    pub dequeue_timestamp: Text<'a>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Endpoint<'a> {
    #[serde(borrow)]
    pub address: Text<'a>,
    #[serde(borrow, rename = "Type")]
    pub kind: Text<'a>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContactLens {
    pub conversational_analytics: Option<ConversationalAnalytics>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ConversationalAnalytics {
    pub configuration: Option<AnalyticsConfiguration>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AnalyticsConfiguration {
    #[serde(deserialize_with = "lenient_bool")]
    pub enabled: Option<bool>,
}

/// A row of the `ctr` table. Field names are the schema's column names (a test checks it);
/// absent values are left out of the JSON, which the JSON and Parquet SerDes read as null.
#[derive(Debug, Default, Serialize, PartialEq)]
pub struct CtrRow<'a> {
    pub contact_id: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_contact_id: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_contact_id: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_contact_id: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub related_contact_id: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_id: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_arn: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_account_id: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initiation_method: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initiation_timestamp: Option<HiveTimestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connected_to_system_timestamp: Option<HiveTimestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer_completed_timestamp: Option<HiveTimestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disconnect_timestamp: Option<HiveTimestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled_timestamp: Option<HiveTimestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_update_timestamp: Option<HiveTimestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_enqueue_timestamp: Option<HiveTimestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_dequeue_timestamp: Option<HiveTimestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_connected_timestamp: Option<HiveTimestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acw_start_timestamp: Option<HiveTimestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acw_end_timestamp: Option<HiveTimestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_duration_s: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_interaction_duration_s: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_hold_duration_s: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub longest_hold_duration_s: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number_of_holds: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acw_duration_s: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handle_time_s: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_connection_attempts: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_username: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_arn: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routing_profile_name: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hierarchy_level1: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hierarchy_level2: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hierarchy_level3: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hierarchy_level4: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hierarchy_level5: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_name: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_arn: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disconnect_reason: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_endpoint_type: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_endpoint_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_calling_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_endpoint_type: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_endpoint_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_calling_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transferred_to_endpoint_type: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transferred_to_endpoint_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transferred_to_calling_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recording_location: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recording_status: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_lens_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// A `map<string,string>` column: Connect's attributes are strings, and the managed Connect
    /// lake types them as a map too, so queries read `attributes['intent']`.
    pub attributes: Option<BTreeMap<Cow<'a, str>, Cow<'a, str>>>,
    pub partition_time_source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_endpoint_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format_version: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answering_machine_detection_status: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub campaign_id: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub potential_disconnect_issue: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment_attributes: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_details: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub references: Option<Vec<ReferenceRow>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quality_metrics: Option<QualityRow>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_greeting_start_timestamp: Option<HiveTimestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_greeting_end_timestamp: Option<HiveTimestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_pause_duration_s: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_pause_count: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_pause_duration_s: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_paused_timestamp: Option<HiveTimestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_resumed_timestamp: Option<HiveTimestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recordings: Option<Vec<RecordingRow>>,
}

/// Why a record could not be flattened. The messages never contain record content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FlattenError {
    #[error("contact record has no ContactId")]
    MissingContactId,
    #[error("agent event has no EventType")]
    MissingEventType,
    #[error("no usable timestamp to partition by")]
    NoTimestamp,
}

impl FlattenError {
    /// A stable, low-cardinality reason code for logs and metrics.
    pub const fn code(self) -> &'static str {
        match self {
            FlattenError::MissingContactId => "missing_contact_id",
            FlattenError::MissingEventType => "missing_event_type",
            FlattenError::NoTimestamp => "no_usable_timestamp",
        }
    }
}

/// A flattened contact: the row, the partition it belongs to, and its update time for
/// last-writer-wins deduplication.
#[derive(Debug)]
pub struct FlatCtr<'a> {
    pub row: CtrRow<'a>,
    pub partition: PartitionValues,
    pub last_update: Option<OffsetDateTime>,
}

fn ts(t: &Text<'_>) -> Option<HiveTimestamp> {
    t.as_deref().and_then(parse_rfc3339).map(HiveTimestamp)
}

fn non_empty<'a>(t: &Text<'a>) -> Text<'a> {
    t.as_ref().filter(|s| !s.trim().is_empty()).cloned()
}

/// `arn:aws:connect:<region>:<account>:instance/<id>` → `<id>`.
pub fn instance_id_from_arn(arn: &str) -> Option<&str> {
    let (_, rest) = arn.split_once(":instance/")?;
    let id = rest.split('/').next()?;
    (!id.is_empty()).then_some(id)
}

/// Attribute values as strings, PII tokenized by the operator's key rules and the classifier, for
/// the `map<string,string>` column. Non-string values (which Connect never sends, but producers
/// might) are kept as their JSON text; null is empty.
fn scrub_attributes<'a>(
    attributes: &BTreeMap<Cow<'a, str>, &'a RawValue>,
    pii: &PiiRules<'_>,
) -> BTreeMap<Cow<'a, str>, Cow<'a, str>> {
    attributes
        .iter()
        .map(|(k, raw)| {
            let text = raw.get();
            let value: Cow<'_, str> = if text.starts_with('"') {
                match serde_json::from_str::<Cow<'_, str>>(text) {
                    Ok(Cow::Borrowed(b)) => pii.attribute(k, b),
                    Ok(Cow::Owned(o)) => Cow::Owned(pii.attribute(k, &o).into_owned()),
                    Err(_) => Cow::Borrowed(""),
                }
            } else if text == "null" {
                Cow::Borrowed("")
            } else {
                pii.attribute(k, text)
            };
            // Keys borrowed from the batch stay borrowed: cloning a borrowed Cow copies a pointer.
            (k.clone(), value)
        })
        .collect()
}

/// An agent's username as `AGENT_USERNAME` says: by default an email-shaped one is tokenized.
fn agent_username<'a>(username: &Text<'a>, pii: &PiiRules<'_>) -> Text<'a> {
    non_empty(username).map(|name| match name {
        Cow::Borrowed(b) => pii.agent_username(b),
        Cow::Owned(o) => Cow::Owned(pii.agent_username(&o).into_owned()),
    })
}

fn endpoint_columns<'a>(e: Option<&Endpoint<'a>>, tok: &Tokenizer) -> (Text<'a>, Option<String>, Option<String>) {
    let Some(e) = e else { return (None, None, None) };
    let (token, code) = match e.address.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        Some(address) => {
            let (t, c) = tok.endpoint_address(address);
            (Some(t), c)
        }
        None => (None, None),
    };
    (non_empty(&e.kind), token, code)
}

/// Flattens a contact record into a `ctr` row.
///
/// The partition is the UTC hour of `InitiationTimestamp`. When that is missing or unparseable,
/// the record is not failed: it is partitioned by `arrival` (Firehose's
/// `approximateArrivalTimestamp`) and the row says so in `partition_time_source = "arrival"`.
/// Losing a contact from the curated table is worse than filing it an hour off, and the row
/// stays auditable.
///
/// `pii` is the tokenizer (with the default key rules) or the function's [`PiiRules`].
///
/// # Errors
/// [`FlattenError::MissingContactId`]; [`FlattenError::NoTimestamp`] when neither time is usable.
pub fn flatten_ctr<'a, 'p>(
    rec: &ContactRecord<'a>,
    pii: impl Into<PiiRules<'p>>,
    arrival: Option<OffsetDateTime>,
) -> Result<FlatCtr<'a>, FlattenError> {
    let pii: PiiRules<'p> = pii.into();
    let tok: &Tokenizer = pii.tokenizer;
    let contact_id = non_empty(&rec.contact_id).ok_or(FlattenError::MissingContactId)?;
    let initiation = rec.initiation_timestamp.as_deref().and_then(parse_rfc3339);
    let (partition_at, source) = match (initiation, arrival) {
        (Some(t), _) => (t, "initiation"),
        (None, Some(t)) => (t, "arrival"),
        (None, None) => return Err(FlattenError::NoTimestamp),
    };
    let agent = rec.agent.as_ref();
    let queue = rec.queue.as_ref();
    let [h1, h2, h3, h4, h5] = HierarchyGroups::names(agent.and_then(|a| a.hierarchy_groups.as_ref()));
    let interaction = agent.and_then(|a| a.agent_interaction_duration);
    let hold = agent.and_then(|a| a.customer_hold_duration);
    let acw = agent.and_then(|a| a.after_contact_work_duration);
    let handle_time = agent.and_then(|_| {
        (interaction.is_some() || hold.is_some() || acw.is_some())
            .then(|| interaction.unwrap_or(0) + hold.unwrap_or(0) + acw.unwrap_or(0))
    });
    let recording = voice_recording(rec.recordings.as_deref(), rec.recording.as_ref());
    let (customer_endpoint_type, customer_endpoint_token, customer_calling_code) =
        endpoint_columns(rec.customer_endpoint.as_ref(), tok);
    let (system_endpoint_type, system_endpoint_token, system_calling_code) =
        endpoint_columns(rec.system_endpoint.as_ref(), tok);
    let (transferred_to_endpoint_type, transferred_to_endpoint_token, transferred_to_calling_code) =
        endpoint_columns(rec.transferred_to_endpoint.as_ref(), tok);
    let instance_arn = non_empty(&rec.instance_arn);
    let instance_id = instance_arn.as_ref().and_then(|arn| match arn {
        Cow::Borrowed(b) => instance_id_from_arn(b).map(Cow::Borrowed),
        Cow::Owned(o) => instance_id_from_arn(o).map(|id| Cow::Owned(id.to_owned())),
    });
    let row = CtrRow {
        contact_id,
        initial_contact_id: non_empty(&rec.initial_contact_id),
        previous_contact_id: non_empty(&rec.previous_contact_id),
        next_contact_id: non_empty(&rec.next_contact_id),
        related_contact_id: non_empty(&rec.related_contact_id),
        instance_id,
        instance_arn,
        aws_account_id: non_empty(&rec.aws_account_id),
        channel: non_empty(&rec.channel),
        initiation_method: non_empty(&rec.initiation_method),
        initiation_timestamp: initiation.map(HiveTimestamp),
        connected_to_system_timestamp: ts(&rec.connected_to_system_timestamp),
        transfer_completed_timestamp: ts(&rec.transfer_completed_timestamp),
        disconnect_timestamp: ts(&rec.disconnect_timestamp),
        scheduled_timestamp: ts(&rec.scheduled_timestamp),
        last_update_timestamp: ts(&rec.last_update_timestamp),
        queue_enqueue_timestamp: queue.and_then(|q| ts(&q.enqueue_timestamp)),
        queue_dequeue_timestamp: queue.and_then(|q| ts(&q.dequeue_timestamp)),
        agent_connected_timestamp: agent.and_then(|a| ts(&a.connected_to_agent_timestamp)),
        acw_start_timestamp: agent.and_then(|a| ts(&a.after_contact_work_start_timestamp)),
        acw_end_timestamp: agent.and_then(|a| ts(&a.after_contact_work_end_timestamp)),
        queue_duration_s: queue.and_then(|q| q.duration),
        agent_interaction_duration_s: interaction,
        customer_hold_duration_s: hold,
        longest_hold_duration_s: agent.and_then(|a| a.longest_hold_duration),
        number_of_holds: agent.and_then(|a| a.number_of_holds),
        acw_duration_s: acw,
        handle_time_s: handle_time,
        agent_connection_attempts: rec.agent_connection_attempts,
        agent_username: agent.and_then(|a| agent_username(&a.username, &pii)),
        agent_arn: agent.and_then(|a| non_empty(&a.arn)),
        routing_profile_name: agent
            .and_then(|a| a.routing_profile.as_ref())
            .and_then(|r| non_empty(&r.name)),
        hierarchy_level1: h1,
        hierarchy_level2: h2,
        hierarchy_level3: h3,
        hierarchy_level4: h4,
        hierarchy_level5: h5,
        queue_name: queue.and_then(|q| non_empty(&q.name)),
        queue_arn: queue.and_then(|q| non_empty(&q.arn)),
        disconnect_reason: non_empty(&rec.disconnect_reason),
        customer_endpoint_type,
        customer_endpoint_token,
        customer_calling_code,
        system_endpoint_type,
        system_endpoint_token,
        system_calling_code,
        transferred_to_endpoint_type,
        transferred_to_endpoint_token,
        transferred_to_calling_code,
        recording_location: recording.and_then(|r| non_empty(&r.location)),
        recording_status: recording.and_then(|r| non_empty(&r.status)),
        contact_lens_enabled: rec
            .contact_lens
            .as_ref()
            .and_then(|c| c.conversational_analytics.as_ref())
            .and_then(|c| c.configuration.as_ref())
            .and_then(|c| c.enabled),
        attributes: rec.attributes.as_ref().map(|a| scrub_attributes(a, &pii)),
        partition_time_source: source,
        // The business's own number: queries group by it, and it identifies no person.
        system_endpoint_address: rec
            .system_endpoint
            .as_ref()
            .and_then(|e| non_empty(&e.address))
            .map(|a| a.trim().to_owned()),
        format_version: non_empty(&rec.format_version),
        answering_machine_detection_status: non_empty(&rec.answering_machine_detection_status),
        campaign_id: rec.campaign.as_ref().and_then(|c| non_empty(&c.campaign_id)),
        potential_disconnect_issue: rec
            .disconnect_details
            .as_ref()
            .and_then(|d| non_empty(&d.potential_disconnect_issue)),
        segment_attributes: rec
            .segment_attributes
            .as_ref()
            .map(detail::segment_attributes)
            .filter(|m| !m.is_empty()),
        tags: rec
            .tags
            .as_ref()
            .map(|t| detail::scrubbed_map(t, &pii))
            .filter(|m| !m.is_empty()),
        contact_details: rec
            .contact_details
            .as_ref()
            .map(|d| detail::scrubbed_map(d, &pii))
            .filter(|m| !m.is_empty()),
        references: rec.references.as_ref().and_then(|r| detail::references(r, &pii)),
        quality_metrics: rec.quality_metrics.as_ref().and_then(QualityMetrics::row),
        customer_greeting_start_timestamp: rec
            .customer_voice_activity
            .as_ref()
            .and_then(|v| ts(&v.greeting_start_timestamp)),
        customer_greeting_end_timestamp: rec
            .customer_voice_activity
            .as_ref()
            .and_then(|v| ts(&v.greeting_end_timestamp)),
        agent_pause_duration_s: agent.and_then(|a| a.agent_pause_duration),
        total_pause_count: rec.total_pause_count,
        total_pause_duration_s: rec.total_pause_duration,
        last_paused_timestamp: ts(&rec.last_paused_timestamp),
        last_resumed_timestamp: ts(&rec.last_resumed_timestamp),
        recordings: detail::recording_rows(rec.recordings.as_deref(), rec.recording.as_ref()),
    };
    Ok(FlatCtr {
        row,
        partition: PartitionValues::for_instant(partition_at),
        last_update: rec.last_update_timestamp.as_deref().and_then(parse_rfc3339),
    })
}

/// An agent event stream record.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AgentEvent<'a> {
    #[serde(borrow, rename = "AWSAccountId")]
    pub aws_account_id: Text<'a>,
    #[serde(borrow, rename = "AgentARN")]
    pub agent_arn: Text<'a>,
    #[serde(borrow)]
    pub event_id: Text<'a>,
    #[serde(borrow)]
    pub event_timestamp: Text<'a>,
    #[serde(borrow)]
    pub event_type: Text<'a>,
    #[serde(borrow, rename = "InstanceARN")]
    pub instance_arn: Text<'a>,
    #[serde(borrow)]
    pub version: Text<'a>,
    #[serde(borrow)]
    pub current_agent_snapshot: Option<AgentSnapshot<'a>>,
    #[serde(borrow)]
    pub previous_agent_snapshot: Option<AgentSnapshot<'a>>,
}

impl AgentEvent<'_> {
    pub fn is_heartbeat(&self) -> bool {
        self.event_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("HEART_BEAT"))
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AgentSnapshot<'a> {
    #[serde(borrow)]
    pub agent_status: Option<AgentStatus<'a>>,
    #[serde(borrow)]
    pub configuration: Option<AgentConfiguration<'a>>,
    #[serde(borrow)]
    pub contacts: Option<Vec<SnapshotContact<'a>>>,
    #[serde(borrow)]
    pub next_agent_status: Option<NextAgentStatus<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AgentStatus<'a> {
    #[serde(borrow, rename = "ARN")]
    pub arn: Text<'a>,
    #[serde(borrow)]
    pub name: Text<'a>,
    #[serde(borrow)]
    pub start_timestamp: Text<'a>,
}

/// The agent's configuration. `FirstName` and `LastName` are deliberately not read.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AgentConfiguration<'a> {
    #[serde(borrow)]
    pub username: Text<'a>,
    #[serde(borrow)]
    pub routing_profile: Option<Named<'a>>,
    #[serde(borrow)]
    pub agent_hierarchy_groups: Option<HierarchyGroups<'a>>,
}

/// A row of the `agent_events` table.
#[derive(Debug, Default, Serialize, PartialEq)]
pub struct AgentEventRow<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Text<'a>,
    pub event_type: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_timestamp: Option<HiveTimestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_id: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_arn: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_account_id: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_arn: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_username: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routing_profile_name: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hierarchy_level1: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hierarchy_level2: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hierarchy_level3: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hierarchy_level4: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hierarchy_level5: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_status: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_status_start_timestamp: Option<HiveTimestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_agent_status: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_count: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_status_arn: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_agent_status: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_agent_status_arn: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_agent_status_enqueued_timestamp: Option<HiveTimestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contacts: Option<Vec<AgentContactRow>>,
}

/// A flattened agent event and its partition (the UTC hour of `EventTimestamp`, or of arrival when
/// that is unusable, as for contact records).
#[derive(Debug)]
pub struct FlatAgentEvent<'a> {
    pub row: AgentEventRow<'a>,
    pub partition: PartitionValues,
}

/// Flattens an agent event into an `agent_events` row.
///
/// # Errors
/// [`FlattenError::MissingEventType`]; [`FlattenError::NoTimestamp`] when neither time is usable.
pub fn flatten_agent_event<'a, 'p>(
    ev: &AgentEvent<'a>,
    pii: impl Into<PiiRules<'p>>,
    arrival: Option<OffsetDateTime>,
) -> Result<FlatAgentEvent<'a>, FlattenError> {
    let pii: PiiRules<'p> = pii.into();
    let event_type = non_empty(&ev.event_type).ok_or(FlattenError::MissingEventType)?;
    let event_at = ev.event_timestamp.as_deref().and_then(parse_rfc3339);
    let partition_at = event_at.or(arrival).ok_or(FlattenError::NoTimestamp)?;
    let current = ev.current_agent_snapshot.as_ref();
    let config = current.and_then(|s| s.configuration.as_ref());
    let status = current.and_then(|s| s.agent_status.as_ref());
    let [h1, h2, h3, h4, h5] = HierarchyGroups::names(config.and_then(|c| c.agent_hierarchy_groups.as_ref()));
    let contacts = current.and_then(|s| s.contacts.as_ref());
    let next = current.and_then(|s| s.next_agent_status.as_ref());
    let instance_arn = non_empty(&ev.instance_arn);
    let instance_id = instance_arn
        .as_deref()
        .and_then(instance_id_from_arn)
        .map(|s| Cow::Owned(s.to_owned()));
    let row = AgentEventRow {
        event_id: non_empty(&ev.event_id),
        event_type,
        event_timestamp: event_at.map(HiveTimestamp),
        instance_id,
        instance_arn,
        aws_account_id: non_empty(&ev.aws_account_id),
        agent_arn: non_empty(&ev.agent_arn),
        agent_username: config.and_then(|c| agent_username(&c.username, &pii)),
        routing_profile_name: config
            .and_then(|c| c.routing_profile.as_ref())
            .and_then(|r| non_empty(&r.name)),
        hierarchy_level1: h1,
        hierarchy_level2: h2,
        hierarchy_level3: h3,
        hierarchy_level4: h4,
        hierarchy_level5: h5,
        agent_status: status.and_then(|s| non_empty(&s.name)),
        agent_status_start_timestamp: status.and_then(|s| ts(&s.start_timestamp)),
        previous_agent_status: ev
            .previous_agent_snapshot
            .as_ref()
            .and_then(|s| s.agent_status.as_ref())
            .and_then(|s| non_empty(&s.name)),
        contact_count: contacts.map(|c| c.len() as i64),
        version: non_empty(&ev.version),
        agent_status_arn: status.and_then(|s| non_empty(&s.arn)),
        next_agent_status: next.and_then(|n| non_empty(&n.name)),
        next_agent_status_arn: next.and_then(|n| non_empty(&n.arn)),
        next_agent_status_enqueued_timestamp: next.and_then(|n| ts(&n.enqueued_timestamp)),
        contacts: contacts.map(|cs| cs.iter().map(SnapshotContact::row).collect()),
    };
    Ok(FlatAgentEvent {
        row,
        partition: PartitionValues::for_instant(partition_at),
    })
}

#[cfg(test)]
mod tests;
