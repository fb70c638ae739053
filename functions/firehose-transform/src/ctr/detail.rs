//! The nested parts of a contact record and of an agent event that become typed `array`,
//! `struct` and `map` columns: `Recordings`, `QualityMetrics`, `SegmentAttributes`, `Tags`,
//! `ContactDetails`, `References`, and an agent's `Contacts`.
//!
//! Field names follow the "Contact records data model" and "Agent event streams data model"
//! pages of the Amazon Connect administrator guide (and `RecordingInfo`, `QualityMetrics`,
//! `AudioQualityMetricsInfo` of the API reference, which the record reuses). As everywhere in
//! this module, every field is optional and a value of an unexpected type is absent, never an
//! error: these are details, and a contact is not failed for one of them.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use connect_lake::pii::PiiRules;
use connect_lake::time_fmt::HiveTimestamp;

use super::{Named, Text, non_empty, ts};

/// A string, or a number or boolean as its text (a fragment number may arrive as either).
fn lenient_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v: Option<Value> = Option::deserialize(d)?;
    Ok(match v {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::Bool(b)) => Some(b.to_string()),
        _ => None,
    })
}

/// A finite number, or a string holding one.
fn lenient_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let v: Option<Value> = Option::deserialize(d)?;
    Ok(match v {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|f| f.is_finite()))
}

/// A list of strings; anything else (or non-string items) is left out.
fn lenient_strings<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    let v: Option<Value> = Option::deserialize(d)?;
    Ok(match v {
        Some(Value::Array(items)) => Some(
            items
                .into_iter()
                .filter_map(|i| match i {
                    Value::String(s) => Some(s),
                    _ => None,
                })
                .collect(),
        ),
        _ => None,
    })
}

/// One entry of `Recordings` (`RecordingInfo`), or the older single `Recording`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Recording<'a> {
    #[serde(borrow)]
    pub location: Text<'a>,
    #[serde(borrow)]
    pub status: Text<'a>,
    /// `Type` of the older `Recording` object: `AUDIO`.
    #[serde(borrow, rename = "Type")]
    pub kind: Text<'a>,
    /// `S3`, `KINESIS_VIDEO_STREAM`, `KINESIS_STREAM`, `KINESIS_FIREHOSE`.
    #[serde(borrow)]
    pub storage_type: Text<'a>,
    /// `AUDIO` or `VIDEO` (screen recordings).
    #[serde(borrow)]
    pub media_stream_type: Text<'a>,
    #[serde(borrow)]
    pub participant_type: Text<'a>,
    #[serde(borrow)]
    pub start_timestamp: Text<'a>,
    #[serde(borrow)]
    pub stop_timestamp: Text<'a>,
    #[serde(deserialize_with = "lenient_text")]
    pub fragment_start_number: Option<String>,
    #[serde(deserialize_with = "lenient_text")]
    pub fragment_stop_number: Option<String>,
    #[serde(deserialize_with = "lenient_text")]
    pub deletion_reason: Option<String>,
}

impl Recording<'_> {
    /// A voice recording stored in S3: what Transcribe can read. Not a chat transcript (no
    /// audio), a screen recording (`VIDEO`), nor a Kinesis Video Streams entry (media streaming,
    /// which has fragments, not an S3 object). An entry that names no media type counts as audio
    /// only when its file is a `.wav`, as Connect's call recordings are.
    pub fn is_voice_in_s3(&self) -> bool {
        let Some(location) = non_empty(&self.location) else {
            return false;
        };
        let in_s3 = self
            .storage_type
            .as_deref()
            .is_none_or(|s| s.trim().eq_ignore_ascii_case("S3"));
        let audio = match non_empty(&self.media_stream_type).or_else(|| non_empty(&self.kind)) {
            Some(media) => media.trim().eq_ignore_ascii_case("AUDIO"),
            None => location.to_ascii_lowercase().ends_with(".wav"),
        };
        in_s3 && audio
    }

    fn is_available(&self) -> bool {
        self.status
            .as_deref()
            .is_none_or(|s| !s.trim().eq_ignore_ascii_case("DELETED"))
    }
}

/// The recording to transcribe: among the voice recordings stored in S3 (from `Recordings`,
/// else the single `Recording`), the first that is not deleted, else the first.
pub fn voice_recording<'r, 'a>(
    recordings: Option<&'r [Recording<'a>]>,
    recording: Option<&'r Recording<'a>>,
) -> Option<&'r Recording<'a>> {
    let voice: Vec<&Recording<'a>> = recordings
        .unwrap_or_default()
        .iter()
        .chain(recording)
        .filter(|r| r.is_voice_in_s3())
        .collect();
    voice
        .iter()
        .find(|r| r.is_available())
        .or_else(|| voice.first())
        .copied()
}

/// An entry of the `recordings` column.
#[derive(Debug, Default, Serialize, PartialEq)]
pub struct RecordingRow {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_stream_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participant_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_timestamp: Option<HiveTimestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_timestamp: Option<HiveTimestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fragment_start_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fragment_stop_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_reason: Option<String>,
}

fn owned(t: &Text<'_>) -> Option<String> {
    non_empty(t).map(|c| c.trim().to_owned())
}

/// The `recordings` column: every entry of `Recordings` (else the single `Recording`).
pub fn recording_rows(
    recordings: Option<&[Recording<'_>]>,
    recording: Option<&Recording<'_>>,
) -> Option<Vec<RecordingRow>> {
    let entries: Vec<&Recording<'_>> = match recordings {
        Some(all) if !all.is_empty() => all.iter().collect(),
        _ => recording.into_iter().collect(),
    };
    (!entries.is_empty()).then(|| {
        entries
            .into_iter()
            .map(|r| RecordingRow {
                location: owned(&r.location),
                status: owned(&r.status),
                storage_type: owned(&r.storage_type),
                media_stream_type: owned(&r.media_stream_type).or_else(|| owned(&r.kind)),
                participant_type: owned(&r.participant_type),
                start_timestamp: ts(&r.start_timestamp),
                stop_timestamp: ts(&r.stop_timestamp),
                fragment_start_number: r.fragment_start_number.clone(),
                fragment_stop_number: r.fragment_stop_number.clone(),
                deletion_reason: r.deletion_reason.clone(),
            })
            .collect()
    })
}

/// `QualityMetrics`: `Agent.Audio` and `Customer.Audio`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct QualityMetrics {
    pub agent: Option<ParticipantQuality>,
    pub customer: Option<ParticipantQuality>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ParticipantQuality {
    pub audio: Option<AudioQuality>,
}

/// `AudioQualityMetricsInfo`: a score and up to three potential issues (`HighPacketLoss`,
/// `HighRoundTripTime`, `HighJitterBuffer`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AudioQuality {
    #[serde(deserialize_with = "lenient_f64")]
    pub quality_score: Option<f64>,
    #[serde(deserialize_with = "lenient_strings")]
    pub potential_quality_issues: Option<Vec<String>>,
}

/// The `quality_metrics` column.
#[derive(Debug, Default, Serialize, PartialEq)]
pub struct QualityRow {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_audio_score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_audio_issues: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_audio_score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_audio_issues: Option<Vec<String>>,
}

impl QualityMetrics {
    pub fn row(&self) -> Option<QualityRow> {
        fn audio(p: Option<&ParticipantQuality>) -> Option<&AudioQuality> {
            p.and_then(|p| p.audio.as_ref())
        }
        let (agent, customer) = (audio(self.agent.as_ref()), audio(self.customer.as_ref()));
        (agent.is_some() || customer.is_some()).then(|| QualityRow {
            agent_audio_score: agent.and_then(|a| a.quality_score),
            agent_audio_issues: agent.and_then(|a| a.potential_quality_issues.clone()),
            customer_audio_score: customer.and_then(|a| a.quality_score),
            customer_audio_issues: customer.and_then(|a| a.potential_quality_issues.clone()),
        })
    }
}

/// `CustomerVoiceActivity`: when the customer's greeting started and ended (outbound calls).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CustomerVoiceActivity<'a> {
    #[serde(borrow)]
    pub greeting_start_timestamp: Text<'a>,
    #[serde(borrow)]
    pub greeting_end_timestamp: Text<'a>,
}

/// `DisconnectDetails`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DisconnectDetails<'a> {
    #[serde(borrow)]
    pub potential_disconnect_issue: Text<'a>,
}

/// `Campaign`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Campaign<'a> {
    #[serde(borrow)]
    pub campaign_id: Text<'a>,
}

/// A value as text: a string as is, null as nothing, anything else as its JSON.
fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// `SegmentAttributes`: each attribute's `ValueString` (`connect:Subtype` is
/// `{"ValueString": "connect:SMS"}`); a value of another kind (`ValueInteger`, `ValueMap`) is
/// kept as its JSON text. System-defined, so not scrubbed.
pub fn segment_attributes(attrs: &BTreeMap<String, Value>) -> BTreeMap<String, String> {
    attrs
        .iter()
        .filter_map(|(k, v)| {
            let text = v
                .get("ValueString")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| value_text(v))?;
            Some((k.clone(), text))
        })
        .collect()
}

/// A string map of user-defined values (`Tags`, `ContactDetails`), scrubbed like contact
/// attributes: a value that is not a string is kept as its JSON text, null is left out.
pub fn scrubbed_map(map: &BTreeMap<String, Value>, pii: &PiiRules<'_>) -> BTreeMap<String, String> {
    map.iter()
        .filter_map(|(k, v)| {
            let text = value_text(v)?;
            Some((k.clone(), pii.attribute(k, &text).into_owned()))
        })
        .collect()
}

/// An entry of the `references` column.
#[derive(Debug, Default, Serialize, PartialEq)]
pub struct ReferenceRow {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
}

/// `References` of a task: an array of `{Name, Type, Value, Status, Arn}`, or a map of name to
/// `{Type, Value}` (the shape `StartTaskContact` takes); both are read. Values (a URL, an email,
/// a number) are scrubbed like contact attributes, keyed by the reference's name.
pub fn references(refs: &Value, pii: &PiiRules<'_>) -> Option<Vec<ReferenceRow>> {
    let text = |v: &Value, k: &str| v.get(k).and_then(value_text);
    let row = |name: Option<String>, r: &Value| {
        let value = text(r, "Value").map(|v| pii.attribute(name.as_deref().unwrap_or(""), &v).into_owned());
        ReferenceRow {
            reference_type: text(r, "Type"),
            value,
            status: text(r, "Status"),
            arn: text(r, "Arn").or_else(|| text(r, "ARN")),
            name,
        }
    };
    let rows: Vec<ReferenceRow> = match refs {
        Value::Array(items) => items
            .iter()
            .filter(|r| r.is_object())
            .map(|r| row(text(r, "Name"), r))
            .collect(),
        Value::Object(map) => map
            .iter()
            .map(|(name, r)| match r {
                Value::Object(_) => row(Some(name.clone()), r),
                other => row(Some(name.clone()), &serde_json::json!({ "Value": other })),
            })
            .collect(),
        _ => return None,
    };
    (!rows.is_empty()).then_some(rows)
}

/// `NextAgentStatus` of an agent snapshot: the status the agent has asked for, which applies
/// when the current contacts end.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NextAgentStatus<'a> {
    #[serde(borrow)]
    pub name: Text<'a>,
    #[serde(borrow, rename = "ARN")]
    pub arn: Text<'a>,
    #[serde(borrow)]
    pub enqueued_timestamp: Text<'a>,
}

/// One contact of an agent snapshot (`Contact` object of the agent event stream).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SnapshotContact<'a> {
    #[serde(borrow)]
    pub contact_id: Text<'a>,
    #[serde(borrow)]
    pub initial_contact_id: Text<'a>,
    #[serde(borrow)]
    pub channel: Text<'a>,
    #[serde(borrow)]
    pub initiation_method: Text<'a>,
    #[serde(borrow)]
    pub state: Text<'a>,
    #[serde(borrow)]
    pub state_start_timestamp: Text<'a>,
    #[serde(borrow)]
    pub connected_to_agent_timestamp: Text<'a>,
    #[serde(borrow)]
    pub queue_timestamp: Text<'a>,
    #[serde(borrow)]
    pub queue: Option<Named<'a>>,
}

/// An entry of the `agent_events.contacts` column.
#[derive(Debug, Default, Serialize, PartialEq)]
pub struct AgentContactRow {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_contact_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initiation_method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_start_timestamp: Option<HiveTimestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connected_to_agent_timestamp: Option<HiveTimestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_timestamp: Option<HiveTimestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_arn: Option<String>,
}

impl SnapshotContact<'_> {
    pub fn row(&self) -> AgentContactRow {
        let queue = self.queue.as_ref();
        AgentContactRow {
            contact_id: owned(&self.contact_id),
            initial_contact_id: owned(&self.initial_contact_id),
            channel: owned(&self.channel),
            initiation_method: owned(&self.initiation_method),
            state: owned(&self.state),
            state_start_timestamp: ts(&self.state_start_timestamp),
            connected_to_agent_timestamp: ts(&self.connected_to_agent_timestamp),
            queue_timestamp: ts(&self.queue_timestamp),
            queue_name: queue.and_then(|q| owned(&q.name)),
            queue_arn: queue.and_then(|q| owned(&q.arn)),
        }
    }
}
