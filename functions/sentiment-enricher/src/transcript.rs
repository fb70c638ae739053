//! Call and chat transcripts in the three shapes AWS writes them, parsed into speaker turns.
//!
//! - **Amazon Transcribe standard output** (`results.items`, plus `results.channel_labels` with
//!   channel identification or `results.speaker_labels` with diarization). Times and confidences
//!   are strings; punctuation items have no times and belong to the word before them.
//!   Consecutive words of one channel or speaker make a turn.
//! - **Transcribe Call Analytics output** (`Transcript[]` segments with `ParticipantRole`,
//!   `LoudnessScores`, a per-segment `Sentiment`, and `ConversationCharacteristics`).
//! - **Contact Lens analysis files** (`Analysis/Voice/...` and `Analysis/Chat/...`: `Transcript[]`
//!   with `ParticipantId`, `LoudnessScore`, per-segment `Sentiment`, `CustomerMetadata`).
//!
//! This is generic, I/O-free parsing of documented AWS file formats, like the contact-record
//! types in the firehose-transform crate's `ctr` module: any consumer of recordings (the sentiment enricher, a search indexer,
//! the demo generator) reads them the same way. Parsing is lenient: unknown fields are ignored,
//! numbers may arrive as strings, and a malformed value makes that value absent, never a panic.
//! Nothing here logs: transcripts are PII.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::Value;

/// Which of the formats a transcript came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SourceKind {
    /// Amazon Transcribe standard (batch) output.
    Transcribe,
    /// Amazon Transcribe Call Analytics output.
    CallAnalytics,
    /// A Contact Lens analysis file of a voice contact.
    ContactLensVoice,
    /// A Contact Lens analysis file of a chat contact.
    ContactLensChat,
}

impl SourceKind {
    /// The stable code stored in the lake and used as a metric dimension.
    pub const fn code(self) -> &'static str {
        match self {
            SourceKind::Transcribe => "transcribe",
            SourceKind::CallAnalytics => "call_analytics",
            SourceKind::ContactLensVoice => "contact_lens_voice",
            SourceKind::ContactLensChat => "contact_lens_chat",
        }
    }

    /// Who analysed the contact, the `source` column: `contact_lens` for Connect's own analysis
    /// files, `transcribe` for Amazon Transcribe output (standard or Call Analytics). Readers
    /// prefer `contact_lens` when a contact has both.
    pub const fn source(self) -> &'static str {
        match self {
            SourceKind::Transcribe | SourceKind::CallAnalytics => "transcribe",
            SourceKind::ContactLensVoice | SourceKind::ContactLensChat => "contact_lens",
        }
    }
}

/// Who spoke (or wrote) a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Participant {
    Agent,
    Customer,
    /// A bot, the flow, or another system participant of a chat.
    System,
    /// A transcript without channel or speaker labels.
    Unknown,
}

impl Participant {
    pub const fn code(self) -> &'static str {
        match self {
            Participant::Agent => "AGENT",
            Participant::Customer => "CUSTOMER",
            Participant::System => "SYSTEM",
            Participant::Unknown => "UNKNOWN",
        }
    }

    /// A `ParticipantRole` as Call Analytics and Contact Lens spell it.
    pub fn from_role(role: &str) -> Self {
        match role.trim().to_ascii_uppercase().as_str() {
            "AGENT" => Participant::Agent,
            "CUSTOMER" => Participant::Customer,
            "SYSTEM" | "CUSTOM_BOT" | "BOT" | "SUPERVISOR" => Participant::System,
            _ => Participant::Unknown,
        }
    }
}

/// A sentiment label, as Comprehend, Call Analytics and Contact Lens spell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sentiment {
    Positive,
    Negative,
    Neutral,
    Mixed,
}

impl Sentiment {
    pub const fn code(self) -> &'static str {
        match self {
            Sentiment::Positive => "POSITIVE",
            Sentiment::Negative => "NEGATIVE",
            Sentiment::Neutral => "NEUTRAL",
            Sentiment::Mixed => "MIXED",
        }
    }

    /// `POSITIVE`, `NEGATIVE`, `NEUTRAL` or `MIXED`, in any case. `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "POSITIVE" => Some(Sentiment::Positive),
            "NEGATIVE" => Some(Sentiment::Negative),
            "NEUTRAL" => Some(Sentiment::Neutral),
            "MIXED" => Some(Sentiment::Mixed),
            _ => None,
        }
    }
}

/// One speaker turn (or chat message).
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    pub participant: Participant,
    /// The label in the source: `ch_0`, `spk_1`, `AGENT`, a chat participant id; empty when none.
    pub speaker: String,
    /// Offset from the start of the contact, in milliseconds.
    pub begin_ms: Option<u64>,
    pub end_ms: Option<u64>,
    pub text: String,
    /// The sentiment the source already carries (Call Analytics, Contact Lens).
    pub sentiment: Option<Sentiment>,
    /// Mean loudness score of the turn (Call Analytics, Contact Lens voice).
    pub loudness: Option<f64>,
}

/// What Call Analytics and Contact Lens report about the conversation as a whole.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Characteristics {
    pub total_ms: Option<u64>,
    pub agent_talk_ms: Option<u64>,
    pub customer_talk_ms: Option<u64>,
    pub non_talk_ms: Option<u64>,
    pub interruption_count: Option<u64>,
    pub interruption_ms: Option<u64>,
    /// Overall sentiment scores, from -5 to 5.
    pub agent_overall: Option<f64>,
    pub customer_overall: Option<f64>,
    /// `SentimentByPeriod.QUARTER` scores (-5 to 5), in time order.
    pub agent_quarters: Vec<f64>,
    pub customer_quarters: Vec<f64>,
}

/// A parsed transcript.
#[derive(Debug, Clone, PartialEq)]
pub struct Transcript {
    pub kind: SourceKind,
    /// `LanguageCode` (`en-US`) when the file names it; Transcribe standard output usually does not.
    pub language: Option<String>,
    /// `CustomerMetadata.ContactId` of a Contact Lens file.
    pub contact_id: Option<String>,
    /// `jobName` / `JobName` of a Transcribe job.
    pub job_name: Option<String>,
    pub turns: Vec<Turn>,
    pub characteristics: Option<Characteristics>,
}

impl Transcript {
    /// Reads the channel and speaker labels of a Transcribe standard transcript again with
    /// `speakers` (for example in the automated layout, once the contact record is known).
    /// Call Analytics and Contact Lens turns carry their roles and are left alone.
    pub fn relabel(&mut self, speakers: &SpeakerMap) {
        if self.kind != SourceKind::Transcribe {
            return;
        }
        for turn in &mut self.turns {
            turn.participant = speakers.participant(&turn.speaker);
        }
    }
}

/// Why a document is not a usable transcript. Messages never quote the content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TranscriptError {
    #[error("transcript is not valid JSON (line {line}, column {column})")]
    NotJson { line: usize, column: usize },
    #[error("JSON is not a Transcribe, Call Analytics or Contact Lens transcript")]
    UnknownFormat,
    #[error("transcript job status is {status}, not COMPLETED")]
    NotCompleted { status: String },
}

/// Maps Transcribe's channel and speaker labels (`ch_0`, `spk_1`) to participants.
///
/// One label index is the agent's; every other index is the customer. `spk_N` is treated like
/// `ch_N`. The default is `ch_1` as the agent: Amazon Connect records agent interactions in
/// stereo with the agent in the right channel and the customer (and anyone conferenced in) in
/// the left (admin guide, "Where are recordings and transcripts stored?"), and Transcribe's
/// channel identification calls the left channel `ch_0`.
///
/// A recording of an automated (IVR) interaction is laid out differently: the customer is in the
/// right channel and the system prompts in the left. [`SpeakerMap::for_layout`] with
/// [`Layout::Automated`] maps the configured channel to the customer and every other one to
/// `SYSTEM`, which is not scored as a participant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpeakerMap {
    agent_index: u32,
    layout: Layout,
}

/// Which of Connect's two stereo layouts a recording has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    /// An agent interaction: agent right, customer and conference left.
    #[default]
    Agent,
    /// An automated (IVR) interaction, no agent ever connected: customer right, prompts left.
    Automated,
}

impl Layout {
    /// The layout of a contact's recording from what its contact record says: a contact that
    /// was never connected to an agent (no `Agent`, no `ConnectedToAgentTimestamp`) can only
    /// have the automated recording. `None` (the record is not known) keeps the agent layout.
    pub fn from_agent_connected(agent_connected: Option<bool>) -> Self {
        match agent_connected {
            Some(false) => Layout::Automated,
            Some(true) | None => Layout::Agent,
        }
    }

    /// `agent` or `automated`, for logs and metrics.
    pub const fn code(self) -> &'static str {
        match self {
            Layout::Agent => "agent",
            Layout::Automated => "automated",
        }
    }
}

impl Default for SpeakerMap {
    fn default() -> Self {
        SpeakerMap {
            agent_index: 1,
            layout: Layout::Agent,
        }
    }
}

impl SpeakerMap {
    /// The map whose agent is this label: `ch_0`, `ch_1`, `spk_0`, ...
    ///
    /// # Errors
    /// A message when the label is not `ch_<n>` or `spk_<n>`.
    pub fn with_agent(label: &str) -> Result<Self, String> {
        label_index(label.trim())
            .map(|agent_index| SpeakerMap {
                agent_index,
                layout: Layout::Agent,
            })
            .ok_or_else(|| format!("expected a channel or speaker label like ch_0 or spk_1, got {label:?}"))
    }

    /// The same channels read in `layout`: with [`Layout::Automated`] the agent's channel (the
    /// right one) carries the customer, and the others the system prompts.
    pub fn for_layout(self, layout: Layout) -> Self {
        SpeakerMap { layout, ..self }
    }

    /// The layout this map reads.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// The agent's label, as `ch_<n>`.
    pub fn agent_label(&self) -> String {
        format!("ch_{}", self.agent_index)
    }

    /// The participant a channel or speaker label stands for.
    pub fn participant(&self, label: &str) -> Participant {
        match (label_index(label), self.layout) {
            (Some(i), Layout::Agent) if i == self.agent_index => Participant::Agent,
            (Some(_), Layout::Agent) => Participant::Customer,
            (Some(i), Layout::Automated) if i == self.agent_index => Participant::Customer,
            (Some(_), Layout::Automated) => Participant::System,
            (None, _) => Participant::Unknown,
        }
    }
}

fn label_index(label: &str) -> Option<u32> {
    let digits = label.strip_prefix("ch_").or_else(|| label.strip_prefix("spk_"))?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Parses a transcript in any of the three formats, telling them apart by their fields.
///
/// # Errors
/// [`TranscriptError`]: not JSON, no known shape, or a job that did not complete.
pub fn parse(bytes: &[u8], speakers: &SpeakerMap) -> Result<Transcript, TranscriptError> {
    let doc: Document = serde_json::from_slice(bytes).map_err(|e| {
        if e.is_data() {
            // Valid JSON of the wrong shape (e.g. an array, or a field of an impossible type).
            TranscriptError::UnknownFormat
        } else {
            TranscriptError::NotJson {
                line: e.line(),
                column: e.column(),
            }
        }
    })?;
    if let Some(results) = doc.results {
        if let Some(status) = doc.status.as_deref().filter(|s| !s.eq_ignore_ascii_case("COMPLETED")) {
            return Err(TranscriptError::NotCompleted {
                status: status.to_owned(),
            });
        }
        return Ok(Transcript {
            kind: SourceKind::Transcribe,
            language: results.language_code.clone().filter(|l| !l.trim().is_empty()),
            contact_id: None,
            job_name: doc.job_name_lower.or(doc.job_name),
            turns: standard_turns(results, speakers),
            characteristics: None,
        });
    }
    let Some(segments) = doc.transcript else {
        return Err(TranscriptError::UnknownFormat);
    };
    if let Some(status) = doc
        .job_status
        .as_deref()
        .filter(|s| !s.eq_ignore_ascii_case("COMPLETED"))
    {
        return Err(TranscriptError::NotCompleted {
            status: status.to_owned(),
        });
    }
    let is_contact_lens = doc.customer_metadata.is_some() || segments.iter().any(|s| s.participant_id.is_some());
    let is_chat = doc.channel.as_deref().is_some_and(|c| c.eq_ignore_ascii_case("CHAT"));
    let kind = match (is_contact_lens, is_chat) {
        (true, true) => SourceKind::ContactLensChat,
        (true, false) => SourceKind::ContactLensVoice,
        (false, _) => SourceKind::CallAnalytics,
    };
    let roles: HashMap<String, Participant> = doc
        .participants
        .iter()
        .filter_map(|p| {
            Some((
                p.participant_id.clone()?,
                Participant::from_role(p.participant_role.as_deref()?),
            ))
        })
        .collect();
    let contact_id = doc
        .customer_metadata
        .as_ref()
        .and_then(|m| m.contact_id.as_deref())
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned);
    let characteristics = doc
        .conversation_characteristics
        .as_ref()
        .map(|c| characteristics(c, &roles));
    Ok(Transcript {
        kind,
        language: doc.language_code.filter(|l| !l.trim().is_empty()),
        contact_id,
        job_name: doc.job_name,
        turns: segment_turns(&segments, &roles),
        characteristics,
    })
}

// ---------------------------------------------------------------------------------------------
// Wire shapes. Everything is optional; numbers are `Value`s read leniently.

#[derive(Deserialize)]
struct Document {
    // Transcribe standard.
    results: Option<StdResults>,
    status: Option<String>,
    #[serde(rename = "jobName")]
    job_name_lower: Option<String>,
    // Call Analytics and Contact Lens.
    #[serde(rename = "Transcript")]
    transcript: Option<Vec<Segment>>,
    #[serde(rename = "JobName")]
    job_name: Option<String>,
    #[serde(rename = "JobStatus")]
    job_status: Option<String>,
    #[serde(rename = "LanguageCode")]
    language_code: Option<String>,
    #[serde(rename = "Channel")]
    channel: Option<String>,
    #[serde(rename = "Participants", default)]
    participants: Vec<ParticipantEntry>,
    #[serde(rename = "CustomerMetadata")]
    customer_metadata: Option<CustomerMetadata>,
    #[serde(rename = "ConversationCharacteristics")]
    conversation_characteristics: Option<Value>,
}

#[derive(Deserialize)]
struct StdResults {
    #[serde(default)]
    items: Vec<StdItem>,
    channel_labels: Option<ChannelLabels>,
    speaker_labels: Option<SpeakerLabels>,
    language_code: Option<String>,
}

#[derive(Deserialize)]
struct StdItem {
    start_time: Option<Value>,
    end_time: Option<Value>,
    #[serde(default)]
    alternatives: Vec<Alternative>,
    #[serde(rename = "type")]
    kind: Option<String>,
    channel_label: Option<String>,
    speaker_label: Option<String>,
}

#[derive(Deserialize)]
struct Alternative {
    content: Option<String>,
}

#[derive(Deserialize)]
struct ChannelLabels {
    #[serde(default)]
    channels: Vec<ChannelEntry>,
}

#[derive(Deserialize)]
struct ChannelEntry {
    channel_label: Option<String>,
    #[serde(default)]
    items: Vec<StdItem>,
}

#[derive(Deserialize)]
struct SpeakerLabels {
    #[serde(default)]
    segments: Vec<SpeakerSegment>,
}

#[derive(Deserialize)]
struct SpeakerSegment {
    speaker_label: Option<String>,
    start_time: Option<Value>,
    end_time: Option<Value>,
    #[serde(default)]
    items: Vec<StdItem>,
}

#[derive(Deserialize)]
struct Segment {
    #[serde(rename = "ParticipantRole")]
    participant_role: Option<String>,
    #[serde(rename = "ParticipantId")]
    participant_id: Option<String>,
    #[serde(rename = "Content")]
    content: Option<String>,
    #[serde(rename = "BeginOffsetMillis")]
    begin: Option<Value>,
    #[serde(rename = "EndOffsetMillis")]
    end: Option<Value>,
    #[serde(rename = "Sentiment")]
    sentiment: Option<Value>,
    #[serde(rename = "LoudnessScores")]
    loudness_scores: Option<Value>,
    #[serde(rename = "LoudnessScore")]
    loudness_score: Option<Value>,
    #[serde(rename = "AbsoluteTime")]
    absolute_time: Option<String>,
    #[serde(rename = "ContentType")]
    content_type: Option<String>,
}

#[derive(Deserialize)]
struct ParticipantEntry {
    #[serde(rename = "ParticipantId")]
    participant_id: Option<String>,
    #[serde(rename = "ParticipantRole")]
    participant_role: Option<String>,
}

#[derive(Deserialize)]
struct CustomerMetadata {
    #[serde(rename = "ContactId")]
    contact_id: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Lenient numbers.

/// A finite number, or a string holding one.
fn lenient_f64(v: &Value) -> Option<f64> {
    let x = match v {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    x.is_finite().then_some(x)
}

/// Whole milliseconds from a non-negative count (Call Analytics, Contact Lens).
fn lenient_ms(v: &Value) -> Option<u64> {
    let x = lenient_f64(v)?;
    // 2^53 ms is ~285,000 years: anything beyond is nonsense, not a duration.
    (0.0..9.0e15).contains(&x).then(|| x.round() as u64)
}

/// Milliseconds from Transcribe's seconds-as-strings (`"4.86"`).
fn seconds_to_ms(v: &Value) -> Option<u64> {
    let s = lenient_f64(v)?;
    (0.0..9.0e12).contains(&s).then(|| (s * 1000.0).round() as u64)
}

// ---------------------------------------------------------------------------------------------
// Transcribe standard output.

/// A word with the punctuation that follows it.
struct Word {
    label: Option<String>,
    start_ms: Option<u64>,
    end_ms: Option<u64>,
    text: String,
}

fn item_content(item: &StdItem) -> Option<&str> {
    item.alternatives
        .first()
        .and_then(|a| a.content.as_deref())
        .map(str::trim)
        .filter(|c| !c.is_empty())
}

fn is_punctuation(item: &StdItem) -> bool {
    item.kind.as_deref() == Some("punctuation")
}

/// Folds the items of one sequence into words: punctuation joins the previous word with the same
/// label (or the previous word at all when it has no label), with no space.
fn fold_words(items: &[StdItem], label_of: impl Fn(&StdItem) -> Option<String>) -> Vec<Word> {
    let mut words: Vec<Word> = Vec::with_capacity(items.len());
    let mut last_by_label: HashMap<Option<String>, usize> = HashMap::new();
    for item in items {
        let Some(content) = item_content(item) else { continue };
        let label = label_of(item);
        if is_punctuation(item) {
            let target = last_by_label
                .get(&label)
                .copied()
                .or_else(|| label.is_none().then(|| words.len().checked_sub(1)).flatten());
            if let Some(word) = target.and_then(|i| words.get_mut(i)) {
                word.text.push_str(content);
            }
            continue;
        }
        last_by_label.insert(label.clone(), words.len());
        words.push(Word {
            label,
            start_ms: item.start_time.as_ref().and_then(seconds_to_ms),
            end_ms: item.end_time.as_ref().and_then(seconds_to_ms),
            text: content.to_owned(),
        });
    }
    words
}

fn standard_turns(results: StdResults, speakers: &SpeakerMap) -> Vec<Turn> {
    let labelled = |i: &StdItem| i.channel_label.clone().or_else(|| i.speaker_label.clone());
    let items_carry_labels = results
        .items
        .iter()
        .filter(|i| !is_punctuation(i))
        .all(|i| labelled(i).is_some())
        && results.items.iter().any(|i| !is_punctuation(i));
    let words = if items_carry_labels {
        fold_words(&results.items, labelled)
    } else if let Some(channels) = results.channel_labels.filter(|c| !c.channels.is_empty()) {
        merge_channels(&channels.channels)
    } else if let Some(speakers) = results.speaker_labels.filter(|s| !s.segments.is_empty()) {
        let lookup = SpeakerLookup::new(&speakers.segments);
        fold_words(&results.items, |i| {
            i.start_time
                .as_ref()
                .and_then(seconds_to_ms)
                .and_then(|ms| lookup.speaker_at(ms))
        })
    } else {
        fold_words(&results.items, |_| None)
    };
    group_words(words, speakers)
}

/// Channel identification lists each channel's items separately: merge them by start time,
/// keeping each channel's own order (a word without times keeps its predecessor's time).
fn merge_channels(channels: &[ChannelEntry]) -> Vec<Word> {
    let mut keyed: Vec<(u64, usize, usize, Word)> = Vec::new();
    for (ci, channel) in channels.iter().enumerate() {
        let label = channel.channel_label.clone();
        let words = fold_words(&channel.items, |i| i.channel_label.clone().or_else(|| label.clone()));
        let mut last_start = 0;
        for (wi, word) in words.into_iter().enumerate() {
            let start = word.start_ms.unwrap_or(last_start);
            last_start = start;
            keyed.push((start, ci, wi, word));
        }
    }
    keyed.sort_by_key(|(start, ci, wi, _)| (*start, *ci, *wi));
    keyed.into_iter().map(|(_, _, _, w)| w).collect()
}

/// Diarization without per-item labels: speaker of an item by its start time.
struct SpeakerLookup {
    by_start: HashMap<u64, String>,
    ranges: Vec<(u64, u64, String)>,
}

impl SpeakerLookup {
    fn new(segments: &[SpeakerSegment]) -> Self {
        let mut by_start = HashMap::new();
        let mut ranges = Vec::new();
        for seg in segments {
            let Some(label) = seg.speaker_label.clone() else {
                continue;
            };
            for item in &seg.items {
                let item_label = item.speaker_label.clone().unwrap_or_else(|| label.clone());
                if let Some(ms) = item.start_time.as_ref().and_then(seconds_to_ms) {
                    by_start.insert(ms, item_label);
                }
            }
            if let (Some(a), Some(b)) = (
                seg.start_time.as_ref().and_then(seconds_to_ms),
                seg.end_time.as_ref().and_then(seconds_to_ms),
            ) {
                ranges.push((a, b, label));
            }
        }
        SpeakerLookup { by_start, ranges }
    }

    fn speaker_at(&self, ms: u64) -> Option<String> {
        self.by_start.get(&ms).cloned().or_else(|| {
            self.ranges
                .iter()
                .find(|(a, b, _)| (*a..=*b).contains(&ms))
                .map(|(_, _, l)| l.clone())
        })
    }
}

/// Consecutive words with the same label make one turn.
fn group_words(words: Vec<Word>, speakers: &SpeakerMap) -> Vec<Turn> {
    let mut turns: Vec<Turn> = Vec::new();
    let mut current_label: Option<Option<String>> = None;
    for word in words {
        let same = current_label.as_ref().is_some_and(|l| *l == word.label);
        if same && let Some(turn) = turns.last_mut() {
            turn.text.push(' ');
            turn.text.push_str(&word.text);
            turn.begin_ms = min_opt(turn.begin_ms, word.start_ms);
            turn.end_ms = max_opt(turn.end_ms, word.end_ms);
            continue;
        }
        let speaker = word.label.clone().unwrap_or_default();
        let participant = word
            .label
            .as_deref()
            .map_or(Participant::Unknown, |l| speakers.participant(l));
        current_label = Some(word.label);
        turns.push(Turn {
            participant,
            speaker,
            begin_ms: word.start_ms,
            end_ms: word.end_ms,
            text: word.text,
            sentiment: None,
            loudness: None,
        });
    }
    turns
}

fn min_opt(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

fn max_opt(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, y) => x.or(y),
    }
}

// ---------------------------------------------------------------------------------------------
// Call Analytics and Contact Lens.

fn mean_loudness(v: &Value) -> Option<f64> {
    let values: Vec<f64> = match v {
        Value::Array(items) => items.iter().filter_map(lenient_f64).collect(),
        other => lenient_f64(other).into_iter().collect(),
    };
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

fn segment_sentiment(v: &Value) -> Option<Sentiment> {
    match v {
        Value::String(s) => Sentiment::parse(s),
        // Some producers nest it: {"Sentiment": "POSITIVE", ...}.
        Value::Object(o) => o.get("Sentiment").and_then(Value::as_str).and_then(Sentiment::parse),
        _ => None,
    }
}

/// Chat events (typing, joined, left) are not messages.
fn is_chat_event(seg: &Segment) -> bool {
    seg.content_type
        .as_deref()
        .is_some_and(|t| t.starts_with("application/vnd.amazonaws.connect.event"))
}

fn segment_turns(segments: &[Segment], roles: &HashMap<String, Participant>) -> Vec<Turn> {
    // Chat messages carry absolute times instead of offsets: measure from the first message.
    let chat_origin = segments
        .iter()
        .filter_map(|s| {
            s.absolute_time
                .as_deref()
                .and_then(connect_lake::time_fmt::parse_rfc3339)
        })
        .min();
    segments
        .iter()
        .filter(|s| !is_chat_event(s))
        .filter_map(|seg| {
            let text = seg.content.as_deref().map(str::trim).filter(|t| !t.is_empty())?;
            let participant = seg
                .participant_id
                .as_ref()
                .and_then(|id| roles.get(id).copied())
                .or_else(|| seg.participant_role.as_deref().map(Participant::from_role))
                .or_else(|| seg.participant_id.as_deref().map(Participant::from_role))
                .unwrap_or(Participant::Unknown);
            let speaker = seg
                .participant_id
                .clone()
                .or_else(|| seg.participant_role.clone())
                .unwrap_or_default();
            let absolute = || {
                let t = seg
                    .absolute_time
                    .as_deref()
                    .and_then(connect_lake::time_fmt::parse_rfc3339)?;
                let ms = (t - chat_origin?).whole_milliseconds();
                u64::try_from(ms).ok()
            };
            let begin_ms = seg.begin.as_ref().and_then(lenient_ms).or_else(absolute);
            let end_ms = seg.end.as_ref().and_then(lenient_ms).or(begin_ms);
            Some(Turn {
                participant,
                speaker,
                begin_ms,
                end_ms,
                text: text.to_owned(),
                sentiment: seg.sentiment.as_ref().and_then(segment_sentiment),
                loudness: seg
                    .loudness_scores
                    .as_ref()
                    .or(seg.loudness_score.as_ref())
                    .and_then(mean_loudness),
            })
        })
        .collect()
}

fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(*k))
}

/// The entry of a by-participant map for one role. Keys are roles (`AGENT`) in Call Analytics
/// and participant ids in Contact Lens, which for voice are the roles again.
fn by_role<'a>(map: Option<&'a Value>, role: Participant, roles: &HashMap<String, Participant>) -> Option<&'a Value> {
    let obj = map?.as_object()?;
    obj.iter()
        .find(|(k, _)| roles.get(*k).copied().unwrap_or_else(|| Participant::from_role(k)) == role)
        .map(|(_, v)| v)
}

fn characteristics(c: &Value, roles: &HashMap<String, Participant>) -> Characteristics {
    let talk = at(c, &["TalkTime", "DetailsByParticipant"]);
    let overall = at(c, &["Sentiment", "OverallSentiment"]);
    let quarters = at(c, &["Sentiment", "SentimentByPeriod", "QUARTER"]);
    let quarter_scores = |role| -> Vec<f64> {
        by_role(quarters, role, roles)
            .and_then(Value::as_array)
            .map(|periods| {
                let mut p: Vec<(u64, f64)> = periods
                    .iter()
                    .filter_map(|q| {
                        let score = q.get("Score").and_then(lenient_f64)?;
                        let begin = q.get("BeginOffsetMillis").and_then(lenient_ms).unwrap_or(0);
                        Some((begin, score))
                    })
                    .collect();
                p.sort_by_key(|(begin, _)| *begin);
                p.into_iter().map(|(_, s)| s).collect()
            })
            .unwrap_or_default()
    };
    Characteristics {
        total_ms: c.get("TotalConversationDurationMillis").and_then(lenient_ms),
        agent_talk_ms: by_role(talk, Participant::Agent, roles)
            .and_then(|v| v.get("TotalTimeMillis"))
            .and_then(lenient_ms),
        customer_talk_ms: by_role(talk, Participant::Customer, roles)
            .and_then(|v| v.get("TotalTimeMillis"))
            .and_then(lenient_ms),
        non_talk_ms: at(c, &["NonTalkTime", "TotalTimeMillis"]).and_then(lenient_ms),
        interruption_count: at(c, &["Interruptions", "TotalCount"]).and_then(lenient_ms),
        interruption_ms: at(c, &["Interruptions", "TotalTimeMillis"]).and_then(lenient_ms),
        agent_overall: by_role(overall, Participant::Agent, roles).and_then(lenient_f64),
        customer_overall: by_role(overall, Participant::Customer, roles).and_then(lenient_f64),
        agent_quarters: quarter_scores(Participant::Agent),
        customer_quarters: quarter_scores(Participant::Customer),
    }
}

#[cfg(test)]
mod tests;
