//! The curated tables of the lake, defined once as data.
//!
//! Everything else derives from or is tested against these definitions: the rows the functions
//! write (see the `row_matches_schema` tests), the Glue tables the cataloger creates, and the
//! tables declared in `template.yaml`.
//!
//! Every table is partitioned by `year, month, day, hour` (zero-padded strings, UTC) and stored at
//! `<table>/year=YYYY/month=MM/day=DD/hour=HH/` in the lake bucket.

use std::fmt;

use time::OffsetDateTime;

/// A Glue / Hive column type: the one definition from which the Glue type string
/// ([`HiveType::glue_type`]), the Arrow type (`arrow_type`, feature `arrow`) and the row check
/// ([`HiveType::accepts`]) all derive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HiveType {
    String,
    BigInt,
    Int,
    Double,
    Boolean,
    /// Written as `YYYY-MM-DD HH:MM:SS.mmm` (UTC), the form `java.sql.Timestamp::valueOf` reads:
    /// the default of Firehose's Parquet conversion and of Athena's JSON SerDes.
    Timestamp,
    /// `array<T>`: a JSON array.
    Array(&'static HiveType),
    /// `map<K,V>`: a JSON object with arbitrary keys.
    Map(&'static HiveType, &'static HiveType),
    /// `struct<a:T,...>`: a JSON object with these fields, each optional.
    Struct(&'static [Field]),
}

/// One field of a `struct` type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub kind: HiveType,
}

/// A struct field (for `HiveType::Struct` definitions).
pub const fn field(name: &'static str, kind: HiveType) -> Field {
    Field { name, kind }
}

impl HiveType {
    /// The type as Glue and Hive DDL spell it: `string`, `array<string>`,
    /// `struct<caller:string,hop_count:bigint>`, ...
    pub fn glue_type(self) -> std::string::String {
        let mut out = std::string::String::new();
        self.write_glue(&mut out);
        out
    }

    fn write_glue(self, out: &mut std::string::String) {
        match self {
            HiveType::String => out.push_str("string"),
            HiveType::BigInt => out.push_str("bigint"),
            HiveType::Int => out.push_str("int"),
            HiveType::Double => out.push_str("double"),
            HiveType::Boolean => out.push_str("boolean"),
            HiveType::Timestamp => out.push_str("timestamp"),
            HiveType::Array(item) => {
                out.push_str("array<");
                item.write_glue(out);
                out.push('>');
            }
            HiveType::Map(key, value) => {
                out.push_str("map<");
                key.write_glue(out);
                out.push(',');
                value.write_glue(out);
                out.push('>');
            }
            HiveType::Struct(fields) => {
                out.push_str("struct<");
                for (i, f) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(f.name);
                    out.push(':');
                    f.kind.write_glue(out);
                }
                out.push('>');
            }
        }
    }

    /// Whether a JSON value written into a row is acceptable for this column type.
    pub fn accepts(self, value: &serde_json::Value) -> bool {
        use serde_json::Value;
        match (self, value) {
            (_, Value::Null) => true,
            (HiveType::String, Value::String(_)) => true,
            (HiveType::BigInt, Value::Number(n)) => n.is_i64(),
            (HiveType::Int, Value::Number(n)) => n.as_i64().is_some_and(|v| i32::try_from(v).is_ok()),
            (HiveType::Double, Value::Number(_)) => true,
            (HiveType::Boolean, Value::Bool(_)) => true,
            (HiveType::Timestamp, Value::String(s)) => crate::time_fmt::parse_hive_timestamp(s).is_some(),
            (HiveType::Array(item), Value::Array(items)) => items.iter().all(|v| item.accepts(v)),
            // JSON object keys are strings; a map's keys are strings in every table we write.
            (HiveType::Map(HiveType::String, value), Value::Object(entries)) => {
                entries.values().all(|v| !v.is_null() && value.accepts(v))
            }
            (HiveType::Struct(fields), Value::Object(entries)) => entries.iter().all(|(k, v)| {
                fields
                    .iter()
                    .find(|f| f.name == k.as_str())
                    .is_some_and(|f| f.kind.accepts(v))
            }),
            _ => false,
        }
    }
}

#[cfg(feature = "arrow")]
impl HiveType {
    /// The Arrow type readers see for this column: the type our Parquet writer uses and the type
    /// [`arrow::from_glue_type`] reads back from the catalog's type string.
    pub fn arrow_type(self) -> arrow_schema::DataType {
        use arrow_schema::{DataType, Field as ArrowField, Fields, TimeUnit};
        use std::sync::Arc;
        match self {
            HiveType::String => DataType::Utf8,
            HiveType::BigInt => DataType::Int64,
            HiveType::Int => DataType::Int32,
            HiveType::Double => DataType::Float64,
            HiveType::Boolean => DataType::Boolean,
            HiveType::Timestamp => DataType::Timestamp(TimeUnit::Millisecond, None),
            HiveType::Array(item) => DataType::List(Arc::new(ArrowField::new("item", item.arrow_type(), true))),
            HiveType::Map(key, value) => arrow::map_type(key.arrow_type(), value.arrow_type()),
            HiveType::Struct(fields) => DataType::Struct(Fields::from(
                fields
                    .iter()
                    .map(|f| ArrowField::new(f.name, f.kind.arrow_type(), true))
                    .collect::<Vec<_>>(),
            )),
        }
    }
}

impl fmt::Display for HiveType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.glue_type())
    }
}

/// One column of a curated table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub kind: HiveType,
    pub comment: &'static str,
}

const fn col(name: &'static str, kind: HiveType, comment: &'static str) -> Column {
    Column { name, kind, comment }
}

/// A curated table: its name (also its S3 prefix), its data columns, and the shared partition keys.
#[derive(Debug, PartialEq, Eq)]
pub struct Table {
    pub name: &'static str,
    pub description: &'static str,
    pub columns: &'static [Column],
    /// How the table's objects are written, which decides the SerDe of its Glue definition.
    pub storage: Storage,
}

/// How a table's objects are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// Written by Firehose: Parquet after its record format conversion, or JSON lines, as
    /// `LAKE_FORMAT` says.
    Delivered,
    /// Always JSON lines, whatever `LAKE_FORMAT` says (written by a function, not by Firehose).
    JsonLines,
    /// Gzip JSON lines, whatever `LAKE_FORMAT` says: a function's log records, shipped by a
    /// CloudWatch Logs subscription through Firehose (no transform, no format conversion).
    LogShipped,
}

impl Table {
    /// The format of this table's objects when the lake is configured with `lake_format`.
    pub fn format(&self, lake_format: crate::config::LakeFormat) -> crate::config::LakeFormat {
        match self.storage {
            Storage::Delivered => lake_format,
            Storage::JsonLines | Storage::LogShipped => crate::config::LakeFormat::Json,
        }
    }
}

impl Table {
    /// The partition keys, identical for every table.
    pub fn partition_keys(&self) -> &'static [Column] {
        &PARTITION_KEYS
    }

    /// The column with this name, if the table has one.
    pub fn column(&self, name: &str) -> Option<&'static Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// `s3://<bucket>/<table>/`: the table's location in the lake bucket.
    pub fn location(&self, bucket: &str) -> String {
        format!("s3://{bucket}/{}/", self.name)
    }
}

/// `year, month, day, hour`: strings, zero-padded, UTC.
pub const PARTITION_KEYS: [Column; 4] = [
    col("year", HiveType::String, "UTC year, YYYY"),
    col("month", HiveType::String, "UTC month, MM"),
    col("day", HiveType::String, "UTC day of month, DD"),
    col("hour", HiveType::String, "UTC hour, HH"),
];

use HiveType::{Array, BigInt, Boolean, Double, Int, Map, String as Str, Struct, Timestamp as Ts};

/// Contact records, one row per delivered copy of a contact (the latest copy wins at query time:
/// `row_number() over (partition by contact_id order by last_update_timestamp desc)`).
pub static CTR: Table = Table {
    name: "ctr",
    description: "Amazon Connect contact records, flattened; PII tokenized",
    storage: Storage::Delivered,
    columns: &[
        col("contact_id", Str, "ContactId"),
        col("initial_contact_id", Str, "InitialContactId"),
        col("previous_contact_id", Str, "PreviousContactId"),
        col("next_contact_id", Str, "NextContactId"),
        col("related_contact_id", Str, "RelatedContactId"),
        col("instance_id", Str, "Connect instance id, from InstanceARN"),
        col("instance_arn", Str, "InstanceARN"),
        col("aws_account_id", Str, "AWSAccountId"),
        col("channel", Str, "VOICE, CHAT, TASK, EMAIL"),
        col(
            "initiation_method",
            Str,
            "INBOUND, OUTBOUND, TRANSFER, CALLBACK, API, ...",
        ),
        col("initiation_timestamp", Ts, "InitiationTimestamp, UTC"),
        col("connected_to_system_timestamp", Ts, "ConnectedToSystemTimestamp, UTC"),
        col("transfer_completed_timestamp", Ts, "TransferCompletedTimestamp, UTC"),
        col("disconnect_timestamp", Ts, "DisconnectTimestamp, UTC"),
        col("scheduled_timestamp", Ts, "ScheduledTimestamp, UTC"),
        col(
            "last_update_timestamp",
            Ts,
            "LastUpdateTimestamp, UTC: the latest copy of a contact wins",
        ),
        col("queue_enqueue_timestamp", Ts, "Queue.EnqueueTimestamp, UTC"),
        col("queue_dequeue_timestamp", Ts, "Queue.DequeueTimestamp, UTC"),
        col("agent_connected_timestamp", Ts, "Agent.ConnectedToAgentTimestamp, UTC"),
        col("acw_start_timestamp", Ts, "Agent.AfterContactWorkStartTimestamp, UTC"),
        col("acw_end_timestamp", Ts, "Agent.AfterContactWorkEndTimestamp, UTC"),
        col("queue_duration_s", BigInt, "Queue.Duration, seconds"),
        col(
            "agent_interaction_duration_s",
            BigInt,
            "Agent.AgentInteractionDuration, seconds",
        ),
        col(
            "customer_hold_duration_s",
            BigInt,
            "Agent.CustomerHoldDuration, seconds",
        ),
        col("longest_hold_duration_s", BigInt, "Agent.LongestHoldDuration, seconds"),
        col("number_of_holds", Int, "Agent.NumberOfHolds"),
        col("acw_duration_s", BigInt, "Agent.AfterContactWorkDuration, seconds"),
        col(
            "handle_time_s",
            BigInt,
            "Derived: interaction + hold + after-contact work, seconds",
        ),
        col("agent_connection_attempts", Int, "AgentConnectionAttempts"),
        col("agent_username", Str, "Agent.Username"),
        col("agent_arn", Str, "Agent.ARN"),
        col("routing_profile_name", Str, "Agent.RoutingProfile.Name"),
        col("hierarchy_level1", Str, "Agent.HierarchyGroups.Level1.GroupName"),
        col("hierarchy_level2", Str, "Agent.HierarchyGroups.Level2.GroupName"),
        col("hierarchy_level3", Str, "Agent.HierarchyGroups.Level3.GroupName"),
        col("hierarchy_level4", Str, "Agent.HierarchyGroups.Level4.GroupName"),
        col("hierarchy_level5", Str, "Agent.HierarchyGroups.Level5.GroupName"),
        col("queue_name", Str, "Queue.Name"),
        col("queue_arn", Str, "Queue.ARN"),
        col("disconnect_reason", Str, "DisconnectReason"),
        col("customer_endpoint_type", Str, "CustomerEndpoint.Type"),
        col("customer_endpoint_token", Str, "CustomerEndpoint.Address, HMAC token"),
        col(
            "customer_calling_code",
            Str,
            "CustomerEndpoint.Address, country calling code",
        ),
        col("system_endpoint_type", Str, "SystemEndpoint.Type"),
        col("system_endpoint_token", Str, "SystemEndpoint.Address, HMAC token"),
        col(
            "system_calling_code",
            Str,
            "SystemEndpoint.Address, country calling code",
        ),
        col("transferred_to_endpoint_type", Str, "TransferredToEndpoint.Type"),
        col(
            "transferred_to_endpoint_token",
            Str,
            "TransferredToEndpoint.Address, HMAC token",
        ),
        col(
            "transferred_to_calling_code",
            Str,
            "TransferredToEndpoint.Address, country calling code",
        ),
        col(
            "recording_location",
            Str,
            "The voice recording: the first Recordings entry that is AUDIO stored in S3 (else Recording)",
        ),
        col(
            "recording_status",
            Str,
            "Status of that recording: AVAILABLE or DELETED",
        ),
        col(
            "contact_lens_enabled",
            Boolean,
            "ContactLens conversational analytics enabled",
        ),
        col(
            "attributes",
            Map(&Str, &Str),
            "Contact attributes; PII-looking values tokenized",
        ),
        col(
            "partition_time_source",
            Str,
            "initiation, or arrival when InitiationTimestamp was unusable",
        ),
        col(
            "system_endpoint_address",
            Str,
            "SystemEndpoint.Address in clear: the business's own number the customer dialled (the caller id, outbound)",
        ),
        col("format_version", Str, "AWSContactTraceRecordFormatVersion"),
        col(
            "answering_machine_detection_status",
            Str,
            "AnsweringMachineDetectionStatus (outbound campaigns): HUMAN_ANSWERED, VOICEMAIL_BEEP, ...",
        ),
        col("campaign_id", Str, "Campaign.CampaignId (outbound campaigns)"),
        col(
            "potential_disconnect_issue",
            Str,
            "DisconnectDetails.PotentialDisconnectIssue, e.g. AGENT_NETWORK_DISCONNECT",
        ),
        col(
            "segment_attributes",
            Map(&Str, &Str),
            "SegmentAttributes: each ValueString (connect:Subtype = connect:SMS, ...); other kinds as JSON text",
        ),
        col("tags", Map(&Str, &Str), "Tags; PII-looking values tokenized"),
        col(
            "contact_details",
            Map(&Str, &Str),
            "ContactDetails of a task; PII-looking values tokenized",
        ),
        col(
            "references",
            Array(&Struct(CTR_REFERENCE)),
            "References of a task (URL, ATTACHMENT, NUMBER, STRING, DATE, EMAIL); PII-looking values tokenized",
        ),
        col(
            "quality_metrics",
            Struct(CTR_QUALITY_METRICS),
            "QualityMetrics.Agent.Audio and QualityMetrics.Customer.Audio: score and potential issues",
        ),
        col(
            "customer_greeting_start_timestamp",
            Ts,
            "CustomerVoiceActivity.GreetingStartTimestamp, UTC",
        ),
        col(
            "customer_greeting_end_timestamp",
            Ts,
            "CustomerVoiceActivity.GreetingEndTimestamp, UTC",
        ),
        col("agent_pause_duration_s", BigInt, "Agent.AgentPauseDuration, seconds"),
        col("total_pause_count", Int, "TotalPauseCount (tasks)"),
        col("total_pause_duration_s", BigInt, "TotalPauseDuration (tasks), seconds"),
        col("last_paused_timestamp", Ts, "LastPausedTimestamp (tasks), UTC"),
        col("last_resumed_timestamp", Ts, "LastResumedTimestamp (tasks), UTC"),
        col(
            "recordings",
            Array(&Struct(CTR_RECORDING)),
            "Recordings: every voice recording, chat transcript, screen recording and media stream",
        ),
    ],
};

/// One entry of a contact record's `Recordings` array (`RecordingInfo`).
const CTR_RECORDING: &[Field] = &[
    field("location", Str),
    field("status", Str),
    field("storage_type", Str),
    field("media_stream_type", Str),
    field("participant_type", Str),
    field("start_timestamp", Ts),
    field("stop_timestamp", Ts),
    field("fragment_start_number", Str),
    field("fragment_stop_number", Str),
    field("deletion_reason", Str),
];

/// One entry of a contact record's `References`.
const CTR_REFERENCE: &[Field] = &[
    field("name", Str),
    field("reference_type", Str),
    field("value", Str),
    field("status", Str),
    field("arn", Str),
];

/// `QualityMetrics`, flattened one level: the agent's and the customer's audio.
const CTR_QUALITY_METRICS: &[Field] = &[
    field("agent_audio_score", Double),
    field("agent_audio_issues", Array(&Str)),
    field("customer_audio_score", Double),
    field("customer_audio_issues", Array(&Str)),
];

/// One contact of an agent event's `CurrentAgentSnapshot.Contacts`.
const AGENT_CONTACT: &[Field] = &[
    field("contact_id", Str),
    field("initial_contact_id", Str),
    field("channel", Str),
    field("initiation_method", Str),
    field("state", Str),
    field("state_start_timestamp", Ts),
    field("connected_to_agent_timestamp", Ts),
    field("queue_timestamp", Ts),
    field("queue_name", Str),
    field("queue_arn", Str),
];

/// Agent event stream records (LOGIN, LOGOUT, STATE_CHANGE and, when kept, HEART_BEAT).
pub static AGENT_EVENTS: Table = Table {
    name: "agent_events",
    description: "Amazon Connect agent event stream records, flattened",
    storage: Storage::Delivered,
    columns: &[
        col("event_id", Str, "EventId"),
        col("event_type", Str, "LOGIN, LOGOUT, STATE_CHANGE, HEART_BEAT"),
        col("event_timestamp", Ts, "EventTimestamp, UTC"),
        col("instance_id", Str, "Connect instance id, from InstanceARN"),
        col("instance_arn", Str, "InstanceARN"),
        col("aws_account_id", Str, "AWSAccountId"),
        col("agent_arn", Str, "AgentARN"),
        col("agent_username", Str, "CurrentAgentSnapshot.Configuration.Username"),
        col(
            "routing_profile_name",
            Str,
            "CurrentAgentSnapshot.Configuration.RoutingProfile.Name",
        ),
        col("hierarchy_level1", Str, "AgentHierarchyGroups.Level1.Name"),
        col("hierarchy_level2", Str, "AgentHierarchyGroups.Level2.Name"),
        col("hierarchy_level3", Str, "AgentHierarchyGroups.Level3.Name"),
        col("hierarchy_level4", Str, "AgentHierarchyGroups.Level4.Name"),
        col("hierarchy_level5", Str, "AgentHierarchyGroups.Level5.Name"),
        col("agent_status", Str, "CurrentAgentSnapshot.AgentStatus.Name"),
        col(
            "agent_status_start_timestamp",
            Ts,
            "CurrentAgentSnapshot.AgentStatus.StartTimestamp, UTC",
        ),
        col("previous_agent_status", Str, "PreviousAgentSnapshot.AgentStatus.Name"),
        col("contact_count", Int, "Number of contacts in the current snapshot"),
        col("version", Str, "Version of the agent event format"),
        col(
            "agent_status_arn",
            Str,
            "CurrentAgentSnapshot.AgentStatus.ARN: stable when the status is renamed",
        ),
        col("next_agent_status", Str, "CurrentAgentSnapshot.NextAgentStatus.Name"),
        col("next_agent_status_arn", Str, "CurrentAgentSnapshot.NextAgentStatus.ARN"),
        col(
            "next_agent_status_enqueued_timestamp",
            Ts,
            "CurrentAgentSnapshot.NextAgentStatus.EnqueuedTimestamp, UTC",
        ),
        col(
            "contacts",
            Array(&Struct(AGENT_CONTACT)),
            "CurrentAgentSnapshot.Contacts: channel, initiation method, state and its start, queue",
        ),
    ],
};

/// Sentiment of each speaker turn of a contact, written by the sentiment-enricher as JSON lines,
/// one object per contact and source (`<contact_id>_<source_kind>.json`), so a replay overwrites.
pub static SENTIMENT_TURNS: Table = Table {
    name: "sentiment_turns",
    description: "Per-turn sentiment of call and chat transcripts (Transcribe, Call Analytics, Contact Lens)",
    storage: Storage::JsonLines,
    columns: &[
        col("contact_id", Str, "Connect ContactId"),
        col("turn_index", Int, "0-based position of the turn in the transcript"),
        col("participant", Str, "AGENT, CUSTOMER, SYSTEM or UNKNOWN"),
        col(
            "speaker_label",
            Str,
            "Channel or speaker as the source names it: ch_0, spk_1, AGENT, ...",
        ),
        col(
            "begin_ms",
            BigInt,
            "Start of the turn, milliseconds from the start of the contact",
        ),
        col(
            "end_ms",
            BigInt,
            "End of the turn, milliseconds from the start of the contact",
        ),
        col(
            "sentiment",
            Str,
            "POSITIVE, NEGATIVE, NEUTRAL, MIXED, or UNKNOWN (see sentiment_reason)",
        ),
        col(
            "sentiment_reason",
            Str,
            "Why sentiment is UNKNOWN: unsupported_language, comprehend_error:<code>, ...",
        ),
        col(
            "sentiment_source",
            Str,
            "comprehend, lexicon, or source (carried by Call Analytics or Contact Lens)",
        ),
        col(
            "score",
            Double,
            "-1..1: Comprehend positive minus negative, VADER compound, or +1/0/-1 from a label",
        ),
        col("positive_score", Double, "Comprehend confidence, or VADER proportion"),
        col("negative_score", Double, "Comprehend confidence, or VADER proportion"),
        col("neutral_score", Double, "Comprehend confidence, or VADER proportion"),
        col("mixed_score", Double, "Comprehend confidence (VADER has none)"),
        col("char_count", Int, "Characters in the turn text"),
        col(
            "chunk_count",
            Int,
            "Documents the turn was scored in: Comprehend chunks of fewer than 5,000 UTF-8 bytes, or VADER sentences",
        ),
        col(
            "loudness",
            Double,
            "Mean loudness score of the turn (Call Analytics, Contact Lens voice)",
        ),
        col(
            "source_kind",
            Str,
            "transcribe, call_analytics, contact_lens_voice, contact_lens_chat",
        ),
        col("language", Str, "Language code of the transcript, e.g. en-US"),
        col(
            "text",
            Str,
            "Turn text, only with STORE_TRANSCRIPT_TEXT=true and only for en and es, PII-redacted",
        ),
        col(
            "text_redaction",
            Str,
            "comprehend_pii; unsupported_language (no PII detection for it: not stored); failed_invalid_offsets (not stored)",
        ),
        col(
            "contact_timestamp",
            Ts,
            "The contact's time, UTC, which the partition is derived from",
        ),
        col("processed_at", Ts, "When the row was written, UTC"),
    ],
};

/// One row per contact and source: sentiment overall and over time, and talk-time figures.
pub static CONTACT_SENTIMENT: Table = Table {
    name: "contact_sentiment",
    description: "Per-contact sentiment, trend and talk time from call and chat transcripts",
    storage: Storage::JsonLines,
    columns: &[
        col("contact_id", Str, "Connect ContactId"),
        col(
            "source_kind",
            Str,
            "transcribe, call_analytics, contact_lens_voice, contact_lens_chat",
        ),
        col(
            "source",
            Str,
            "contact_lens (Connect's own analysis) or transcribe (Amazon Transcribe output); prefer contact_lens",
        ),
        col("language", Str, "Language code of the transcript, e.g. en-US"),
        col("sentiment_provider", Str, "comprehend, lexicon, or source"),
        col(
            "customer_sentiment",
            Str,
            "POSITIVE, NEGATIVE or NEUTRAL, from customer_score",
        ),
        col("customer_score", Double, "-1..1: the customer's overall sentiment"),
        col(
            "agent_sentiment",
            Str,
            "POSITIVE, NEGATIVE or NEUTRAL, from agent_score",
        ),
        col("agent_score", Double, "-1..1: the agent's overall sentiment"),
        col(
            "customer_score_start",
            Double,
            "-1..1: customer sentiment in the first quarter of the contact",
        ),
        col(
            "customer_score_end",
            Double,
            "-1..1: customer sentiment in the last quarter of the contact",
        ),
        col(
            "negative_turn_share",
            Double,
            "Share of turns with a known sentiment that are NEGATIVE",
        ),
        col(
            "customer_negative_turn_share",
            Double,
            "The same, for customer turns only",
        ),
        col("turn_count", Int, "Turns in the transcript"),
        col("unknown_turn_count", Int, "Turns whose sentiment is UNKNOWN"),
        col("conversation_ms", BigInt, "Duration of the conversation, milliseconds"),
        col("agent_talk_ms", BigInt, "Agent talk time, milliseconds"),
        col("customer_talk_ms", BigInt, "Customer talk time, milliseconds"),
        col("non_talk_ms", BigInt, "Time nobody talks, milliseconds"),
        col("interruption_count", Int, "Interruptions, when the source reports them"),
        col(
            "interruption_ms",
            BigInt,
            "Time spent interrupting, when the source reports it",
        ),
        col(
            "talk_time_source",
            Str,
            "source (Call Analytics, Contact Lens) or turns (derived from turn times)",
        ),
        col(
            "sentiment_skipped_reason",
            Str,
            "Why no turn could be scored, e.g. unsupported_language",
        ),
        col(
            "source_object",
            Str,
            "S3 key of the transcript the row was derived from",
        ),
        col(
            "contact_timestamp",
            Ts,
            "The contact's time, UTC, which the partition is derived from",
        ),
        col(
            "partition_time_source",
            Str,
            "key (a timestamp in the object key), key_date, event_time or processing_time",
        ),
        col("processed_at", Ts, "When the row was written, UTC"),
    ],
};

/// The fraud-router's feature record: codes, booleans, counts and tokens, never a raw number.
const FRAUD_FEATURES: &[Field] = &[
    field("caller", Str),
    field("caller_token", Str),
    field("calling_code", Str),
    field("home_calling_code", Str),
    field("from", Str),
    field("from_matches", Boolean),
    field("oli", Int),
    field("oli_class", Str),
    field("jip_matches", Boolean),
    field("hop_count", BigInt),
    field("forwarding", Str),
    field("deny_list", Str),
];

/// The documented telephony attributes a fraud-router decision read, in the admin guide's order:
/// every party (caller, billed, called, forwarding) as the `ph_` token of its number, line facts
/// (OLI, JIP, hops, switch, trunk) in clear.
const FRAUD_CALL_ATTRIBUTES: &[Field] = &[
    field("p_charge_info", Str),
    field("from", Str),
    field("to", Str),
    field("isup_oli", Str),
    field("jip", Str),
    field("hop_counter", Str),
    field("originating_switch", Str),
    field("originating_trunk", Str),
    field("call_forwarding_indicator", Str),
    field("calling_party_address", Str),
    field("called_party_address", Str),
];

/// One row per fraud-router decision. The function writes the record as a JSON line to its log;
/// a CloudWatch Logs subscription ships it through Firehose (gzip JSON lines, partitioned by
/// arrival hour).
pub static FRAUD_DECISIONS: Table = Table {
    name: "fraud_decisions",
    description: "fraud-router decisions: risk score, level, route and the features behind them",
    storage: Storage::LogShipped,
    columns: &[
        col("record", Str, "Record kind: fraud_decision"),
        col(
            "timestamp",
            Str,
            "When the decision was made, RFC 3339 UTC (from_iso8601_timestamp reads it)",
        ),
        col("contact_id", Str, "Connect ContactId"),
        col("instance_id", Str, "Connect instance id"),
        col("channel", Str, "VOICE, CHAT, TASK"),
        col("risk_score", Int, "0..100"),
        col("risk_level", Str, "low, medium or high"),
        col("route", Str, "The route answered to the contact flow"),
        col("reasons", Array(&Str), "Reason codes that contributed to the score"),
        col("policy_version", Str, "Version of the fraud policy that decided"),
        col(
            "degraded",
            Boolean,
            "True when the answer fell back to the safe default",
        ),
        col("error", Str, "Why the answer degraded: unrecognised_event, over_budget"),
        col(
            "features",
            Struct(FRAUD_FEATURES),
            "The signals read from the telephony attributes, tokenized",
        ),
        col(
            "call_attributes",
            Struct(FRAUD_CALL_ATTRIBUTES),
            "The raw telephony attributes Connect documents, as the call carried them; numbers tokenized",
        ),
        col("elapsed_us", BigInt, "Decision time, microseconds"),
    ],
};

/// One row per contact-flow-logger invocation (ours; not Connect's native flow logs). Shipped
/// from the function's log like [`FRAUD_DECISIONS`].
pub static CONTACT_FLOW_LOGS: Table = Table {
    name: "contact_flow_logs",
    description: "contact-flow-logger records: one flow step per row, PII scrubbed (not Connect's native flow logs)",
    storage: Storage::LogShipped,
    columns: &[
        col("record", Str, "Record kind: contact_flow_log"),
        col("timestamp", Str, "When the step was logged, RFC 3339 UTC"),
        col("contact_id", Str, "Connect ContactId"),
        col("initial_contact_id", Str, "InitialContactId"),
        col("previous_contact_id", Str, "PreviousContactId"),
        col("instance_id", Str, "Connect instance id"),
        col("channel", Str, "VOICE, CHAT, TASK"),
        col("initiation_method", Str, "INBOUND, OUTBOUND, TRANSFER, ..."),
        col("queue", Str, "Queue name"),
        col("language_code", Str, "LanguageCode, e.g. en-US"),
        col("flow_name", Str, "The flow's name, from the block parameters"),
        col("step", Str, "The step's name, from the block parameters"),
        col(
            "parameters",
            Map(&Str, &Str),
            "The block's other parameters, values scrubbed of PII",
        ),
        col("parameters_omitted", Int, "Parameters beyond the logged maximum"),
        col(
            "customer_token",
            Str,
            "The customer's number as an HMAC token, as in ctr",
        ),
        col("calling_code", Str, "The customer's country calling code"),
        col("attribute_keys", Array(&Str), "Contact attribute names, never values"),
        col("attribute_count", Int, "Number of contact attributes"),
        col("deny_list", Str, "disabled, no_number, unavailable, miss or hit"),
        col("deny", Boolean, "Whether the flow was told to disconnect"),
        col("deny_reason", Str, "The deny-list entry's reason code"),
        col(
            "recognised",
            Boolean,
            "False when the event was not a contact-flow event",
        ),
    ],
};

/// Amazon Connect's own CloudWatch metrics (and ours, namespace `ConnectLake`), kept past
/// CloudWatch's two weeks: one row per metric, dimension set and one-minute period. Written by
/// firehose-transform from a CloudWatch metric stream (JSON output format) and by
/// `lakectl metrics backfill` from `GetMetricData`; partitioned by the period's UTC hour.
pub static CONNECT_METRICS: Table = Table {
    name: "connect_metrics",
    description: "CloudWatch metrics of Amazon Connect (AWS/Connect) and of connect-lake (ConnectLake), \
                  one row per metric, dimensions and one-minute period",
    storage: Storage::Delivered,
    columns: &[
        col(
            "namespace",
            Str,
            "AWS/Connect, or ConnectLake for connect-lake's own metrics",
        ),
        col(
            "metric_name",
            Str,
            "QueueSize, LongestQueueWaitTime, ContactFlowErrors, ...",
        ),
        col("dimensions", Map(&Str, &Str), "Every dimension of the metric, by name"),
        col("instance_id", Str, "The InstanceId dimension (Connect instance id)"),
        col(
            "metric_group",
            Str,
            "The MetricGroup dimension: Queue, ContactFlow, VoiceCalls, ...",
        ),
        col("queue_name", Str, "The QueueName dimension"),
        col("flow_name", Str, "The ContactFlowName dimension"),
        col(
            "period_timestamp",
            Ts,
            "Start of the one-minute period, UTC; the partition is its hour",
        ),
        col("unit", Str, "CloudWatch unit: Count, Seconds, Percent, None, ..."),
        col("sum_value", Double, "Sum over the period"),
        col("min_value", Double, "Minimum over the period"),
        col("max_value", Double, "Maximum over the period"),
        col("sample_count", Double, "Number of data points (SampleCount)"),
        col(
            "avg_value",
            Double,
            "Average, where CloudWatch gives it (GetMetricData); null from a metric stream: sum_value / sample_count",
        ),
        col("account_id", Str, "AWS account of the metric (metric stream only)"),
        col("region", Str, "AWS Region of the metric (metric stream only)"),
        col(
            "source",
            Str,
            "metric_stream, or backfill (GetMetricData); the same minute can be in both",
        ),
    ],
};

/// Amazon Connect's native flow logs (the instance's `/aws/connect/<alias>` log group), one row
/// per logged flow block, exactly as Connect writes them: a CloudWatch Logs subscription ships
/// them through Firehose (decompression and message extraction, no code). Not to be confused
/// with [`CONTACT_FLOW_LOGS`], the records of our own contact-flow-logger. Connect's keys are
/// PascalCase; the columns are their lower-case forms, which the OpenX JSON SerDe matches
/// case-insensitively.
pub static CONNECT_FLOW_LOGS: Table = Table {
    name: "connect_flow_logs",
    description: "Amazon Connect's native flow logs (/aws/connect/<instance alias>), one flow block per row, \
                  as Connect writes them (not contact-flow-logger's contact_flow_logs)",
    storage: Storage::LogShipped,
    columns: &[
        col("contactid", Str, "ContactId"),
        col("contactflowid", Str, "ContactFlowId: the flow's ARN"),
        col("contactflowname", Str, "ContactFlowName"),
        col(
            "contactflowmoduletype",
            Str,
            "ContactFlowModuleType: the block, e.g. SetLoggingBehavior, PlayPrompt, InvokeExternalResource",
        ),
        col("identifier", Str, "Identifier: the block's id or name in the flow"),
        col(
            "results",
            Str,
            "Results: the branch or outcome, e.g. Success, Error, a Lambda's error message",
        ),
        col(
            "parameters",
            Map(&Str, &Str),
            "Parameters: the block's parameters as Connect logs them",
        ),
        col(
            "timestamp",
            Str,
            "Timestamp: when the block ran, ISO 8601 UTC with milliseconds (from_iso8601_timestamp reads it)",
        ),
    ],
};

#[cfg(feature = "arrow")]
impl Table {
    /// The table's data columns as an Arrow schema, every column nullable (a missing key is
    /// null, as in Firehose's conversion and Athena's SerDes).
    pub fn arrow_schema(&self) -> arrow_schema::Schema {
        arrow_schema::Schema::new(
            self.columns
                .iter()
                .map(|c| arrow_schema::Field::new(c.name, c.kind.arrow_type(), true))
                .collect::<Vec<_>>(),
        )
    }
}

/// Glue type strings as Arrow types, for readers of the catalog.
#[cfg(feature = "arrow")]
pub mod arrow {
    use std::sync::Arc;

    use arrow_schema::{DataType, Field, Fields, TimeUnit};

    /// Why a Glue type string could not be read.
    #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
    #[error("unsupported or malformed Glue type {text:?}: {problem}")]
    pub struct GlueTypeError {
        pub text: String,
        pub problem: String,
    }

    /// `map<K,V>` as Arrow spells it: entries of a non-null key and a nullable value.
    pub fn map_type(key: DataType, value: DataType) -> DataType {
        let entries = Field::new(
            "entries",
            DataType::Struct(Fields::from(vec![
                Field::new("key", key, false),
                Field::new("value", value, true),
            ])),
            false,
        );
        DataType::Map(Arc::new(entries), false)
    }

    /// Reads a Glue / Hive column type (`bigint`, `array<struct<a:int>>`, `decimal(10,2)`, ...).
    ///
    /// # Errors
    /// [`GlueTypeError`] for a type Athena would not accept either, or one we cannot map.
    pub fn from_glue_type(text: &str) -> Result<DataType, GlueTypeError> {
        let mut p = Parser { text, pos: 0 };
        let t = p.parse().map_err(|problem| GlueTypeError {
            text: text.to_owned(),
            problem,
        })?;
        p.skip_ws();
        if p.pos != text.len() {
            return Err(GlueTypeError {
                text: text.to_owned(),
                problem: format!("unexpected text at {}", p.pos),
            });
        }
        Ok(t)
    }

    struct Parser<'a> {
        text: &'a str,
        pos: usize,
    }

    impl Parser<'_> {
        fn rest(&self) -> &str {
            self.text.get(self.pos..).unwrap_or_default()
        }

        fn skip_ws(&mut self) {
            let trimmed = self.rest().trim_start();
            self.pos = self.text.len() - trimmed.len();
        }

        fn eat(&mut self, c: char) -> Result<(), String> {
            self.skip_ws();
            if self.rest().starts_with(c) {
                self.pos += c.len_utf8();
                Ok(())
            } else {
                Err(format!("expected {c:?} at {}", self.pos))
            }
        }

        fn ident(&mut self) -> String {
            self.skip_ws();
            let len = self
                .rest()
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$' || c == '-'))
                .unwrap_or(self.rest().len());
            let word = self.rest().get(..len).unwrap_or_default().to_owned();
            self.pos += len;
            word
        }

        fn number(&mut self) -> Result<u32, String> {
            let word = self.ident();
            word.parse().map_err(|_| format!("expected a number, found {word:?}"))
        }

        fn parse(&mut self) -> Result<DataType, String> {
            let name = self.ident().to_ascii_lowercase();
            Ok(match name.as_str() {
                "string" => DataType::Utf8,
                "varchar" | "char" => {
                    self.skip_ws();
                    if self.rest().starts_with('(') {
                        self.eat('(')?;
                        self.number()?;
                        self.eat(')')?;
                    }
                    DataType::Utf8
                }
                "bigint" => DataType::Int64,
                "int" | "integer" => DataType::Int32,
                "smallint" => DataType::Int16,
                "tinyint" => DataType::Int8,
                "double" => DataType::Float64,
                "float" => DataType::Float32,
                "boolean" => DataType::Boolean,
                "timestamp" => DataType::Timestamp(TimeUnit::Millisecond, None),
                "date" => DataType::Date32,
                "binary" => DataType::Binary,
                "decimal" => {
                    self.eat('(')?;
                    let precision = self.number()?;
                    self.eat(',')?;
                    let scale = self.number()?;
                    self.eat(')')?;
                    let precision = u8::try_from(precision).map_err(|_| "decimal precision too large".to_owned())?;
                    let scale = i8::try_from(scale).map_err(|_| "decimal scale too large".to_owned())?;
                    DataType::Decimal128(precision, scale)
                }
                "array" => {
                    self.eat('<')?;
                    let item = self.parse()?;
                    self.eat('>')?;
                    DataType::List(Arc::new(Field::new("item", item, true)))
                }
                "map" => {
                    self.eat('<')?;
                    let key = self.parse()?;
                    self.eat(',')?;
                    let value = self.parse()?;
                    self.eat('>')?;
                    map_type(key, value)
                }
                "struct" => {
                    self.eat('<')?;
                    let mut fields = Vec::new();
                    loop {
                        let field = self.ident();
                        if field.is_empty() {
                            return Err(format!("expected a field name at {}", self.pos));
                        }
                        self.eat(':')?;
                        fields.push(Field::new(field, self.parse()?, true));
                        self.skip_ws();
                        if self.rest().starts_with(',') {
                            self.eat(',')?;
                        } else {
                            break;
                        }
                    }
                    self.eat('>')?;
                    DataType::Struct(Fields::from(fields))
                }
                "" => return Err(format!("expected a type at {}", self.pos)),
                other => return Err(format!("unknown type {other}")),
            })
        }
    }
}

/// Checks a row written for `table`: every key is a column with a value of the column's type,
/// and, when `complete`, every column is present. Returns what is wrong, one line per problem.
/// The row tests of every writer use it to prove their row types match the schema.
pub fn row_problems(table: &Table, row: &serde_json::Value, complete: bool) -> Vec<String> {
    let Some(obj) = row.as_object() else {
        return vec![format!("{}: a row must be a JSON object", table.name)];
    };
    let mut problems = Vec::new();
    for (k, v) in obj {
        match table.column(k) {
            None => problems.push(format!("{}: key {k} is not a column", table.name)),
            Some(col) if !col.kind.accepts(v) => {
                problems.push(format!("{}.{k}: {v} is not a {}", table.name, col.kind))
            }
            Some(_) => {}
        }
    }
    if complete {
        for c in table.columns.iter().filter(|c| !obj.contains_key(c.name)) {
            problems.push(format!("{}: column {} is never written", table.name, c.name));
        }
    }
    problems
}

/// Every curated table. Later functions add theirs here.
pub static TABLES: &[&Table] = &[
    &CTR,
    &AGENT_EVENTS,
    &SENTIMENT_TURNS,
    &CONTACT_SENTIMENT,
    &FRAUD_DECISIONS,
    &CONTACT_FLOW_LOGS,
    &CONNECT_METRICS,
    &CONNECT_FLOW_LOGS,
];

/// The table with this name.
pub fn table(name: &str) -> Option<&'static Table> {
    TABLES.iter().copied().find(|t| t.name == name)
}

/// Partition values of one hour: zero-padded strings, UTC.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartitionValues {
    pub year: String,
    pub month: String,
    pub day: String,
    pub hour: String,
}

impl PartitionValues {
    /// The partition an instant falls in (converted to UTC first).
    pub fn for_instant(at: OffsetDateTime) -> Self {
        let at = at.to_offset(time::UtcOffset::UTC);
        PartitionValues {
            year: format!("{:04}", at.year()),
            month: format!("{:02}", u8::from(at.month())),
            day: format!("{:02}", at.day()),
            hour: format!("{:02}", at.hour()),
        }
    }

    /// The values in partition-key order, as Glue wants them.
    pub fn to_vec(&self) -> Vec<String> {
        vec![
            self.year.clone(),
            self.month.clone(),
            self.day.clone(),
            self.hour.clone(),
        ]
    }

    /// `<table>/year=YYYY/month=MM/day=DD/hour=HH/`.
    pub fn prefix(&self, table: &str) -> String {
        format!(
            "{table}/year={}/month={}/day={}/hour={}/",
            self.year, self.month, self.day, self.hour
        )
    }
}

/// Why an object key is not a curated-table object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("key is not under a known table prefix")]
    UnknownTable,
    #[error("key does not follow <table>/year=YYYY/month=MM/day=DD/hour=HH/<file>")]
    NotPartitioned,
    #[error("partition value {key}={value} is not a valid date and hour")]
    InvalidValue { key: &'static str, value: String },
    #[error("key names a folder, not an object")]
    Folder,
}

/// Maps a decoded object key `<table>/year=YYYY/month=MM/day=DD/hour=HH/<file>` to its table and
/// partition. The values must form a real UTC date and hour (`month=13`, `day=31` in April fail).
///
/// # Errors
/// [`KeyError`] says which part of the key is wrong.
pub fn parse_object_key(key: &str) -> Result<(&'static Table, PartitionValues), KeyError> {
    let mut parts = key.split('/');
    let table_name = parts.next().unwrap_or_default();
    let table = table(table_name).ok_or(KeyError::UnknownTable)?;
    let mut values: [&str; 4] = [""; 4];
    for (slot, column) in values.iter_mut().zip(PARTITION_KEYS.iter()) {
        let part = parts.next().ok_or(KeyError::NotPartitioned)?;
        let value = part
            .strip_prefix(column.name)
            .and_then(|rest| rest.strip_prefix('='))
            .ok_or(KeyError::NotPartitioned)?;
        *slot = value;
    }
    let file: Vec<&str> = parts.collect();
    if file.is_empty() {
        return Err(KeyError::NotPartitioned);
    }
    if file.iter().all(|p| p.is_empty()) {
        return Err(KeyError::Folder);
    }
    let [year, month, day, hour] = values;
    let invalid = |key: &'static str, value: &str| KeyError::InvalidValue {
        key,
        value: value.to_owned(),
    };
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(year, 4) {
        return Err(invalid("year", year));
    }
    if !digits(month, 2) {
        return Err(invalid("month", month));
    }
    if !digits(day, 2) {
        return Err(invalid("day", day));
    }
    if !digits(hour, 2) {
        return Err(invalid("hour", hour));
    }
    let y: i32 = year.parse().map_err(|_| invalid("year", year))?;
    let m: u8 = month.parse().map_err(|_| invalid("month", month))?;
    let d: u8 = day.parse().map_err(|_| invalid("day", day))?;
    let h: u8 = hour.parse().map_err(|_| invalid("hour", hour))?;
    let month_enum = time::Month::try_from(m).map_err(|_| invalid("month", month))?;
    time::Date::from_calendar_date(y, month_enum, d).map_err(|_| invalid("day", day))?;
    if h > 23 {
        return Err(invalid("hour", hour));
    }
    Ok((
        table,
        PartitionValues {
            year: year.to_owned(),
            month: month.to_owned(),
            day: day.to_owned(),
            hour: hour.to_owned(),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn table_names_are_unique_and_columns_do_not_clash_with_partition_keys() {
        let mut names: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TABLES.len());
        for t in TABLES {
            let mut cols: Vec<&str> = t.columns.iter().map(|c| c.name).collect();
            cols.sort_unstable();
            let n = cols.len();
            cols.dedup();
            assert_eq!(cols.len(), n, "duplicate column in {}", t.name);
            for key in PARTITION_KEYS {
                assert!(
                    t.column(key.name).is_none(),
                    "{} shadows partition key {}",
                    t.name,
                    key.name
                );
            }
        }
    }

    #[test]
    fn function_written_tables_are_json_whatever_the_lake_format() {
        use crate::config::LakeFormat;
        assert_eq!(CTR.format(LakeFormat::Parquet), LakeFormat::Parquet);
        assert_eq!(CTR.format(LakeFormat::Json), LakeFormat::Json);
        assert_eq!(SENTIMENT_TURNS.format(LakeFormat::Parquet), LakeFormat::Json);
        assert_eq!(CONTACT_SENTIMENT.format(LakeFormat::Parquet), LakeFormat::Json);
        assert_eq!(FRAUD_DECISIONS.format(LakeFormat::Parquet), LakeFormat::Json);
        assert_eq!(CONTACT_FLOW_LOGS.format(LakeFormat::Parquet), LakeFormat::Json);
    }

    #[test]
    fn nested_types_spell_as_glue_and_check_rows() {
        assert_eq!(
            FRAUD_DECISIONS.column("reasons").unwrap().kind.glue_type(),
            "array<string>"
        );
        assert_eq!(
            CONTACT_FLOW_LOGS.column("parameters").unwrap().kind.glue_type(),
            "map<string,string>"
        );
        let features = FRAUD_DECISIONS.column("features").unwrap().kind;
        assert!(
            features
                .glue_type()
                .starts_with("struct<caller:string,caller_token:string,")
        );
        assert!(features.accepts(&serde_json::json!({"caller": "number", "hop_count": 3, "from_matches": null})));
        assert!(
            !features.accepts(&serde_json::json!({"caller": 1})),
            "a field of the wrong type"
        );
        assert!(
            !features.accepts(&serde_json::json!({"unknown": "x"})),
            "a field the struct lacks"
        );
        assert!(!features.accepts(&serde_json::json!(["number"])));
        let reasons = FRAUD_DECISIONS.column("reasons").unwrap().kind;
        assert!(reasons.accepts(&serde_json::json!(["deny_list", "jip_mismatch"])));
        assert!(!reasons.accepts(&serde_json::json!("deny_list,jip_mismatch")));
        assert!(!reasons.accepts(&serde_json::json!([1])));
        let params = CONTACT_FLOW_LOGS.column("parameters").unwrap().kind;
        assert!(params.accepts(&serde_json::json!({"a": "b"})));
        assert!(!params.accepts(&serde_json::json!({"a": 1})));
        assert!(
            !HiveType::Int.accepts(&serde_json::json!(4_000_000_000u64)),
            "int is 32-bit"
        );
    }

    #[cfg(feature = "arrow")]
    #[test]
    fn every_columns_glue_type_reads_back_as_its_arrow_type() {
        for t in TABLES {
            for c in t.columns.iter().chain(t.partition_keys()) {
                let read = arrow::from_glue_type(&c.kind.glue_type()).unwrap();
                assert_eq!(read, c.kind.arrow_type(), "{}.{}", t.name, c.name);
            }
        }
        use arrow_schema::DataType;
        assert_eq!(
            arrow::from_glue_type("decimal(10, 2)").unwrap(),
            DataType::Decimal128(10, 2)
        );
        assert_eq!(arrow::from_glue_type("varchar(32)").unwrap(), DataType::Utf8);
        assert_eq!(
            arrow::from_glue_type(" array < int > ").unwrap().to_string(),
            "List(Int32)"
        );
        for bad in [
            "",
            "array<",
            "map<string>",
            "struct<>",
            "uniontype<int>",
            "int extra",
            "decimal(x,1)",
        ] {
            assert!(arrow::from_glue_type(bad).is_err(), "{bad:?} is rejected");
        }
    }

    #[test]
    fn partition_values_are_utc_and_zero_padded() {
        let p = PartitionValues::for_instant(datetime!(2026-01-02 03:04:05 -05:00));
        assert_eq!(p.prefix("ctr"), "ctr/year=2026/month=01/day=02/hour=08/");
        let p = PartitionValues::for_instant(datetime!(2025-12-31 23:59:59.999 UTC));
        assert_eq!(p.to_vec(), ["2025", "12", "31", "23"]);
        let p = PartitionValues::for_instant(datetime!(2026-01-01 00:00:00 UTC));
        assert_eq!(p.to_vec(), ["2026", "01", "01", "00"]);
    }

    #[test]
    fn object_keys_map_to_table_and_partition() {
        let (t, p) = parse_object_key("ctr/year=2026/month=11/day=26/hour=07/part-1.parquet").unwrap();
        assert_eq!(t.name, "ctr");
        assert_eq!(p.to_vec(), ["2026", "11", "26", "07"]);
        let (t, _) = parse_object_key("agent_events/year=2024/month=02/day=29/hour=23/x/y.json").unwrap();
        assert_eq!(t.name, "agent_events");
    }

    #[test]
    fn object_keys_with_impossible_dates_are_invalid() {
        for (key, bad) in [
            ("ctr/year=2026/month=13/day=01/hour=00/f", "month"),
            ("ctr/year=2026/month=04/day=31/hour=00/f", "day"),
            ("ctr/year=2025/month=02/day=29/hour=00/f", "day"),
            ("ctr/year=2026/month=01/day=01/hour=24/f", "hour"),
            ("ctr/year=26/month=01/day=01/hour=00/f", "year"),
            ("ctr/year=2026/month=1/day=01/hour=00/f", "month"),
        ] {
            match parse_object_key(key) {
                Err(KeyError::InvalidValue { key: k, .. }) => assert_eq!(k, bad, "{key}"),
                other => panic!("{key}: {other:?}"),
            }
        }
    }

    #[test]
    fn object_keys_outside_the_layout_are_rejected() {
        assert_eq!(
            parse_object_key("errors/processing-failed/x").unwrap_err(),
            KeyError::UnknownTable
        );
        assert_eq!(
            parse_object_key("ctr/2026/11/26/x").unwrap_err(),
            KeyError::NotPartitioned
        );
        assert_eq!(
            parse_object_key("ctr/year=2026/month=11/day=26/hour=07").unwrap_err(),
            KeyError::NotPartitioned
        );
        assert_eq!(
            parse_object_key("ctr/year=2026/month=11/day=26/hour=07/").unwrap_err(),
            KeyError::Folder
        );
        assert_eq!(parse_object_key("").unwrap_err(), KeyError::UnknownTable);
    }
}
