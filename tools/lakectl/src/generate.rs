//! Synthetic contact-center traffic, deterministic for a seed.
//!
//! Shaped like real Amazon Connect output: voice, chat and task contacts with realistic queues,
//! agents and hierarchies, holds, transfers, abandonment, recordings, ten attributes (some of
//! them PII, which the lake must tokenize), updated copies of some contacts (sometimes arriving
//! out of order, as the stream allows), and agent events. Shared by the demo, the end-to-end tests
//! and the benchmarks. [`telemetry`] derives Connect's own metrics and flow logs from a day of it.

pub mod telemetry;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use time::{Date, Duration, OffsetDateTime, Time};

pub const ACCOUNT: &str = "012345678901";
pub const REGION: &str = "us-east-1";
pub const INSTANCE_ID: &str = "4d5e6f70-1111-2222-3333-444455556666";

pub fn instance_arn() -> String {
    format!("arn:aws:connect:{REGION}:{ACCOUNT}:instance/{INSTANCE_ID}")
}

const VOICE_QUEUES: [&str; 5] = ["BasicQueue", "Billing", "TechSupport", "Sales", "Retentions"];
const REGIONS: [(&str, [&str; 2]); 3] = [
    ("AMER", ["Seattle", "Austin"]),
    ("EMEA", ["Dublin", "Berlin"]),
    ("APAC", ["Sydney", "Singapore"]),
];
const INTENTS: [&str; 6] = ["billing", "outage", "upgrade", "cancel", "password", "delivery"];
const DISCONNECT_AGENT: [&str; 3] = ["AGENT_DISCONNECT", "CUSTOMER_DISCONNECT", "CUSTOMER_DISCONNECT"];
const AREA_CODES: [&str; 8] = ["206", "212", "312", "415", "512", "617", "303", "404"];

/// What to generate.
#[derive(Debug, Clone)]
pub struct TrafficOptions {
    pub contacts: usize,
    pub seed: u64,
    pub day: Date,
    /// Share of contacts that are streamed twice (an update), 0..=1.
    pub update_share: f64,
    /// Agent events per contact, on average.
    pub agent_events_per_contact: f64,
}

impl TrafficOptions {
    pub fn new(contacts: usize, seed: u64) -> Self {
        TrafficOptions {
            contacts,
            seed,
            day: Date::from_calendar_date(2026, time::Month::March, 8).unwrap_or(Date::MIN),
            update_share: 0.1,
            agent_events_per_contact: 0.5,
        }
    }
}

/// One generated contact record as it appears on the stream.
#[derive(Debug, Clone)]
pub struct StreamedContact {
    pub contact_id: String,
    /// Whether this copy is the latest of its contact (the one the lake must keep).
    pub latest: bool,
    pub json: Vec<u8>,
}

/// A day of traffic.
#[derive(Debug, Clone, Default)]
pub struct Traffic {
    /// Contact records in stream order, updated copies included.
    pub ctrs: Vec<StreamedContact>,
    pub agent_events: Vec<Vec<u8>>,
}

impl Traffic {
    pub fn unique_contacts(&self) -> usize {
        self.ctrs.iter().filter(|c| c.latest).count()
    }
}

struct Agent {
    id: String,
    username: String,
    routing_profile: &'static str,
    hierarchy: [String; 5],
}

/// A seeded generator.
pub struct Generator {
    rng: SmallRng,
    agents: Vec<Agent>,
}

fn uuid(rng: &mut SmallRng) -> String {
    let a: u128 = rng.random();
    let h = format!("{a:032x}");
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

fn ts(t: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn ts_millis(t: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

impl Generator {
    pub fn new(seed: u64) -> Self {
        let mut rng = SmallRng::seed_from_u64(seed);
        let agents = (0..40)
            .map(|i| {
                let (region, sites) = REGIONS[i % REGIONS.len()];
                let site = sites[(i / 3) % 2];
                Agent {
                    id: uuid(&mut rng),
                    username: format!("agent{:03}", i + 1),
                    routing_profile: if i % 4 == 0 { "Chat Agents" } else { "Voice Agents" },
                    hierarchy: [
                        region.to_owned(),
                        site.to_owned(),
                        format!("Team {}", (i % 5) + 1),
                        if i % 3 == 0 {
                            "Tier 2".to_owned()
                        } else {
                            "Tier 1".to_owned()
                        },
                        format!("Squad {}", (i % 7) + 1),
                    ],
                }
            })
            .collect();
        Generator { rng, agents }
    }

    fn arn(kind: &str, id: &str) -> String {
        format!("{}/{kind}/{id}", instance_arn())
    }

    /// A customer phone number: mostly NANP, some international.
    pub fn phone(&mut self) -> String {
        match self.rng.random_range(0..10) {
            0 => format!("+44 20 7946 {:04}", self.rng.random_range(0..10_000)),
            1 => format!("+353 1 555 {:04}", self.rng.random_range(0..10_000)),
            2 => format!("+61 2 5550 {:04}", self.rng.random_range(0..10_000)),
            _ => {
                let area = AREA_CODES[self.rng.random_range(0..AREA_CODES.len())];
                format!("+1{area}555{:04}", self.rng.random_range(100..200))
            }
        }
        .replace(' ', "")
    }

    fn start_time(&mut self, day: Date) -> OffsetDateTime {
        // Business hours are busier: two thirds of contacts between 08:00 and 18:00 UTC.
        let hour = if self.rng.random_bool(0.66) {
            self.rng.random_range(8..18)
        } else {
            self.rng.random_range(0..24)
        };
        let second = self.rng.random_range(0..3600);
        OffsetDateTime::new_utc(day, Time::MIDNIGHT) + Duration::hours(hour) + Duration::seconds(second)
    }

    fn attributes(&mut self, contact_index: usize) -> Value {
        let intent = INTENTS[self.rng.random_range(0..INTENTS.len())];
        let email = format!("customer{contact_index}@example.com");
        let callback = self.phone();
        let tier = ["gold", "silver", "bronze"][self.rng.random_range(0..3)];
        let hint = ["calm", "frustrated", "neutral"][self.rng.random_range(0..3)];
        let language = if self.rng.random_bool(0.8) { "en-US" } else { "es-US" };
        let authenticated = if self.rng.random_bool(0.7) { "true" } else { "false" };
        let case_number = format!("CS-{:06}", self.rng.random_range(0..1_000_000));
        json!({
            "greetingPlayed": "true",
            "language": language,
            "intent": intent,
            "accountTier": tier,
            "customerEmail": email,
            "callbackNumber": callback,
            "ivrPath": format!("main>{intent}>confirm"),
            "authenticated": authenticated,
            "caseNumber": case_number,
            "sentimentHint": hint,
        })
    }

    /// One complete contact record (the final copy) and its disconnect time.
    pub fn contact(&mut self, index: usize, day: Date) -> (String, Value, OffsetDateTime) {
        let contact_id = uuid(&mut self.rng);
        let start = self.start_time(day);
        let channel = match self.rng.random_range(0..100) {
            0..65 => "VOICE",
            65..90 => "CHAT",
            _ => "TASK",
        };
        let method = match (channel, self.rng.random_range(0..100)) {
            ("VOICE", 0..80) => "INBOUND",
            ("VOICE", 80..90) => "OUTBOUND",
            ("VOICE", 90..95) => "TRANSFER",
            ("VOICE", _) => "CALLBACK",
            _ => "API",
        };
        let queue_name = match channel {
            "VOICE" => VOICE_QUEUES[self.rng.random_range(0..VOICE_QUEUES.len())],
            "CHAT" => "ChatSupport",
            _ => "TaskQueue",
        };
        let abandoned = channel != "TASK" && self.rng.random_bool(0.08);
        let queue_wait = self.rng.random_range(5..240);
        let connected = start + Duration::seconds(self.rng.random_range(1..20));
        let enqueue = connected + Duration::seconds(self.rng.random_range(2..30));
        let dequeue = enqueue + Duration::seconds(queue_wait);
        let mut record = json!({
            "AWSAccountId": ACCOUNT,
            "AWSContactTraceRecordFormatVersion": "2017-03-10",
            "AgentConnectionAttempts": if abandoned { 0 } else { 1 },
            "Attributes": self.attributes(index),
            "Channel": channel,
            "ConnectedToSystemTimestamp": ts(connected),
            "ContactId": contact_id,
            "InitialContactId": null,
            "InitiationMethod": method,
            "InitiationTimestamp": ts(start),
            "InstanceARN": instance_arn(),
            "MediaStreams": [{"Type": if channel == "VOICE" { "AUDIO" } else { channel }}],
            "NextContactId": null,
            "PreviousContactId": null,
            "Queue": {
                "ARN": Self::arn("queue", queue_name),
                "DequeueTimestamp": ts(dequeue),
                "Duration": queue_wait,
                "EnqueueTimestamp": ts(enqueue),
                "Name": queue_name,
            },
            "Recording": null,
            "Recordings": null,
            "CustomerEndpoint": null,
            "SystemEndpoint": null,
            "TransferCompletedTimestamp": null,
            "TransferredToEndpoint": null,
            "Agent": null,
        });
        if channel == "VOICE" {
            let number = self.phone();
            record["CustomerEndpoint"] = json!({"Address": number, "Type": "TELEPHONE_NUMBER"});
            record["SystemEndpoint"] = json!({"Address": "+18005550100", "Type": "TELEPHONE_NUMBER"});
        }
        if method == "TRANSFER" {
            let initial = uuid(&mut self.rng);
            record["InitialContactId"] = json!(initial);
            record["PreviousContactId"] = json!(initial);
        }
        if channel == "TASK" {
            record["RelatedContactId"] = json!(uuid(&mut self.rng));
            record["Queue"]["Duration"] = json!(queue_wait * 4);
        }
        let disconnect;
        if abandoned {
            disconnect = dequeue;
            record["DisconnectReason"] = json!("CUSTOMER_DISCONNECT");
            record["Queue"]["DequeueTimestamp"] = json!(ts(dequeue));
        } else {
            let agent_index = self.rng.random_range(0..self.agents.len());
            let interaction = self.rng.random_range(45..900);
            let holds = if self.rng.random_bool(0.3) {
                self.rng.random_range(1..4)
            } else {
                0
            };
            let hold_total = if holds > 0 { self.rng.random_range(10..180) } else { 0 };
            let longest = if holds > 0 { hold_total / holds + 5 } else { 0 };
            let acw = self.rng.random_range(10..120);
            let agent_connected = dequeue + Duration::seconds(2);
            let acw_start = agent_connected + Duration::seconds(interaction + hold_total);
            let acw_end = acw_start + Duration::seconds(acw);
            disconnect = acw_start;
            let agent = &self.agents[agent_index];
            let groups: Vec<(String, Value)> = agent
                .hierarchy
                .iter()
                .enumerate()
                .map(|(level, name)| {
                    (
                        format!("Level{}", level + 1),
                        json!({"ARN": Self::arn("agent-group", &format!("{}-{}", level + 1, name.replace(' ', "-"))), "GroupName": name}),
                    )
                })
                .collect();
            record["Agent"] = json!({
                "ARN": Self::arn("agent", &agent.id),
                "AfterContactWorkDuration": acw,
                "AfterContactWorkEndTimestamp": ts(acw_end),
                "AfterContactWorkStartTimestamp": ts(acw_start),
                "AgentInteractionDuration": interaction,
                "ConnectedToAgentTimestamp": ts(agent_connected),
                "CustomerHoldDuration": hold_total,
                "HierarchyGroups": Value::Object(groups.into_iter().collect()),
                "LongestHoldDuration": longest,
                "NumberOfHolds": holds,
                "RoutingProfile": {"ARN": Self::arn("routing-profile", agent.routing_profile), "Name": agent.routing_profile},
                "Username": agent.username,
            });
            record["DisconnectReason"] = json!(DISCONNECT_AGENT[self.rng.random_range(0..DISCONNECT_AGENT.len())]);
            if channel == "VOICE" {
                let day_path = format!("{:04}/{:02}/{:02}", start.year(), u8::from(start.month()), start.day());
                let location = format!(
                    "connect-recordings/connect/demo/CallRecordings/{day_path}/{contact_id}_{:04}{:02}{:02}T{:02}:{:02}_UTC.wav",
                    start.year(),
                    u8::from(start.month()),
                    start.day(),
                    start.hour(),
                    start.minute()
                );
                record["Recording"] =
                    json!({"DeletionReason": null, "Location": location, "Status": "AVAILABLE", "Type": "AUDIO"});
                record["Recordings"] = json!([{"Location": location, "MediaStreamType": "AUDIO", "Status": "AVAILABLE", "StorageType": "S3"}]);
            }
            if channel != "TASK" && self.rng.random_bool(0.5) {
                record["ContactLens"] =
                    json!({"ConversationalAnalytics": {"Configuration": {"Enabled": true, "LanguageLocale": "en-US"}}});
            }
            if self.rng.random_bool(0.05) {
                record["NextContactId"] = json!(uuid(&mut self.rng));
                record["TransferCompletedTimestamp"] = json!(ts(acw_start - Duration::seconds(5)));
                record["TransferredToEndpoint"] = json!({"Address": "+18005550111", "Type": "TELEPHONE_NUMBER"});
            }
        }
        record["DisconnectTimestamp"] = json!(ts(disconnect));
        let last_update = disconnect + Duration::seconds(self.rng.random_range(60..180));
        record["LastUpdateTimestamp"] = json!(ts(last_update));
        add_detail(&mut record, &contact_id, start, disconnect);
        (contact_id, record, disconnect)
    }

    /// An earlier copy of a contact: sent before after-contact work and the recording were final.
    fn earlier_copy(&mut self, record: &Value, disconnect: OffsetDateTime) -> Value {
        let mut early = record.clone();
        early["LastUpdateTimestamp"] = json!(ts(disconnect + Duration::seconds(self.rng.random_range(1..30))));
        if let Some(agent) = early.get_mut("Agent").filter(|a| a.is_object()) {
            agent["AfterContactWorkEndTimestamp"] = Value::Null;
            agent["AfterContactWorkDuration"] = Value::Null;
        }
        if early["Recording"].is_object() {
            early["Recording"]["Status"] = json!("PENDING");
        }
        early
    }

    fn agent_event(&mut self, at: OffsetDateTime, kind: &str) -> Vec<u8> {
        let i = self.rng.random_range(0..self.agents.len());
        let status = match kind {
            "LOGIN" | "HEART_BEAT" => "Available",
            "LOGOUT" => "Offline",
            _ => ["Available", "Lunch", "Training", "Break"][self.rng.random_range(0..4)],
        };
        let previous = ["Offline", "Available", "Break"][self.rng.random_range(0..3)];
        let agent = &self.agents[i];
        let groups: serde_json::Map<String, Value> = agent
            .hierarchy
            .iter()
            .enumerate()
            .map(|(l, n)| {
                (
                    format!("Level{}", l + 1),
                    json!({"ARN": Self::arn("agent-group", &l.to_string()), "Name": n}),
                )
            })
            .collect();
        let contacts = if kind == "STATE_CHANGE" && self.rng.random_bool(0.3) {
            json!([{"Channel": "VOICE", "ContactId": uuid(&mut self.rng), "InitiationMethod": "INBOUND", "State": "CONNECTED", "StateStartTimestamp": ts_millis(at)}])
        } else {
            json!([])
        };
        let event = json!({
            "AWSAccountId": ACCOUNT,
            "AgentARN": Self::arn("agent", &agent.id),
            "CurrentAgentSnapshot": {
                "AgentStatus": {"ARN": Self::arn("agent-state", status), "Name": status, "StartTimestamp": ts_millis(at)},
                "Configuration": {
                    "AgentHierarchyGroups": Value::Object(groups),
                    "FirstName": "Sam",
                    "LastName": format!("Agent{}", i + 1),
                    "RoutingProfile": {"ARN": Self::arn("routing-profile", agent.routing_profile), "Name": agent.routing_profile},
                    "Username": agent.username,
                },
                "Contacts": contacts,
            },
            "EventId": uuid(&mut self.rng),
            "EventTimestamp": ts_millis(at),
            "EventType": kind,
            "InstanceARN": instance_arn(),
            "PreviousAgentSnapshot": {"AgentStatus": {"Name": previous}},
            "Version": "2019-05-25",
        });
        serde_json::to_vec(&event).unwrap_or_default()
    }

    /// A whole day of traffic.
    pub fn traffic(&mut self, options: &TrafficOptions) -> Traffic {
        let mut traffic = Traffic::default();
        for index in 0..options.contacts {
            let (contact_id, record, disconnect) = self.contact(index, options.day);
            let final_copy = serde_json::to_vec(&record).unwrap_or_default();
            if self.rng.random_bool(options.update_share.clamp(0.0, 1.0)) {
                let early = serde_json::to_vec(&self.earlier_copy(&record, disconnect)).unwrap_or_default();
                let early = StreamedContact {
                    contact_id: contact_id.clone(),
                    latest: false,
                    json: early,
                };
                let last = StreamedContact {
                    contact_id,
                    latest: true,
                    json: final_copy,
                };
                // Streams are at-least-once and unordered: sometimes the update arrives first.
                if self.rng.random_bool(0.3) {
                    traffic.ctrs.extend([last, early]);
                } else {
                    traffic.ctrs.extend([early, last]);
                }
            } else {
                traffic.ctrs.push(StreamedContact {
                    contact_id,
                    latest: true,
                    json: final_copy,
                });
            }
        }
        let events = (options.contacts as f64 * options.agent_events_per_contact).round() as usize;
        for _ in 0..events {
            let at = self.start_time(options.day) + Duration::milliseconds(self.rng.random_range(0..1000));
            let kind = match self.rng.random_range(0..10) {
                0 => "LOGIN",
                1 => "LOGOUT",
                2..5 => "HEART_BEAT",
                _ => "STATE_CHANGE",
            };
            traffic.agent_events.push(self.agent_event(at, kind));
        }
        traffic
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traffic_is_deterministic_for_a_seed() {
        let a = Generator::new(7).traffic(&TrafficOptions::new(50, 7));
        let b = Generator::new(7).traffic(&TrafficOptions::new(50, 7));
        let c = Generator::new(8).traffic(&TrafficOptions::new(50, 8));
        assert_eq!(
            a.ctrs.iter().map(|c| c.json.clone()).collect::<Vec<_>>(),
            b.ctrs.iter().map(|c| c.json.clone()).collect::<Vec<_>>()
        );
        assert_ne!(a.ctrs[0].json, c.ctrs[0].json);
        assert_eq!(a.unique_contacts(), 50);
        assert!(a.ctrs.len() > 50, "some contacts are streamed twice");
        assert_eq!(a.agent_events.len(), 25);
    }

    #[test]
    fn generated_contacts_parse_and_cover_every_channel() {
        let t = Generator::new(1).traffic(&TrafficOptions::new(300, 1));
        let mut channels = std::collections::BTreeSet::new();
        let mut abandoned = 0;
        for c in &t.ctrs {
            let v: Value = serde_json::from_slice(&c.json).unwrap();
            channels.insert(v["Channel"].as_str().unwrap().to_owned());
            if v["Agent"].is_null() && v["Channel"] != "TASK" {
                abandoned += 1;
            }
            let parsed: firehose_transform::ctr::ContactRecord<'_> = serde_json::from_slice(&c.json).unwrap();
            assert_eq!(parsed.contact_id.as_deref(), Some(c.contact_id.as_str()));
        }
        assert_eq!(channels.into_iter().collect::<Vec<_>>(), ["CHAT", "TASK", "VOICE"]);
        assert!(abandoned > 0);
    }

    #[test]
    fn each_channel_carries_the_fields_connect_sends_for_it() {
        let t = Generator::new(3).traffic(&TrafficOptions::new(400, 3));
        let (mut outbound, mut video, mut paused) = (0, 0, 0);
        for c in t.ctrs.iter().filter(|c| c.latest) {
            let v: Value = serde_json::from_slice(&c.json).unwrap();
            let channel = v["Channel"].as_str().unwrap();
            let subtype = v["SegmentAttributes"]["connect:Subtype"]["ValueString"]
                .as_str()
                .unwrap();
            assert!(v["Tags"]["Department"].is_string());
            let answered = v["Agent"].is_object();
            match channel {
                "VOICE" => {
                    assert_eq!(subtype, "connect:Telephony");
                    assert_eq!(v["QualityMetrics"].is_object(), answered, "{v}");
                    let recordings = v["Recordings"].as_array().map_or(0, Vec::len);
                    assert_eq!(recordings > 0, answered, "answered calls are recorded");
                    if answered {
                        assert_eq!(v["Recordings"][0]["MediaStreamType"], "AUDIO");
                        assert_eq!(v["Recordings"][0]["Location"], v["Recording"]["Location"]);
                        video += usize::from(recordings == 2);
                    }
                    if v["InitiationMethod"] == "OUTBOUND" {
                        outbound += 1;
                        assert!(v["Campaign"]["CampaignId"].is_string());
                        assert!(v["AnsweringMachineDetectionStatus"].is_string());
                        assert!(v["CustomerVoiceActivity"]["GreetingStartTimestamp"].is_string());
                    } else {
                        assert!(v.get("Campaign").is_none());
                    }
                }
                "CHAT" => {
                    assert!(["connect:Chat", "connect:SMS", "connect:WhatsApp"].contains(&subtype));
                    assert!(v.get("QualityMetrics").is_none() && v["Recordings"].is_null());
                }
                _ => {
                    assert_eq!(v["References"].as_array().unwrap().len(), 2);
                    assert!(v["ContactDetails"]["Name"].is_string());
                    paused += usize::from(v.get("TotalPauseCount").is_some());
                }
            }
            if channel != "TASK" {
                assert!(v.get("References").is_none() && v.get("ContactDetails").is_none());
            }
            // The flattener reads every one of them.
            let parsed: firehose_transform::ctr::ContactRecord<'_> = serde_json::from_slice(&c.json).unwrap();
            assert!(parsed.segment_attributes.is_some() && parsed.tags.is_some());
            assert_eq!(parsed.references.is_some(), channel == "TASK");
            assert_eq!(parsed.quality_metrics.is_some(), channel == "VOICE" && answered);
        }
        assert!(outbound > 0 && video > 0 && paused > 0, "{outbound} {video} {paused}");
    }
}

/// A generator for one contact's detail fields, seeded from its id: the main sequence (and so
/// every contact, queue, agent and time a seed always gave) is left as it was.
fn detail_rng(contact_id: &str) -> SmallRng {
    // FNV-1a: stable across runs and platforms, unlike the standard hasher.
    let hash = contact_id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    SmallRng::seed_from_u64(hash)
}

/// The fields Connect adds per channel ("Contact records data model", admin guide), on the
/// final copy of a contact: segment attributes and tags on every contact; outbound campaign
/// calls' answering-machine status, campaign and greeting; voice quality metrics, disconnect
/// details and the full recordings array (with a screen recording beside some calls' audio);
/// tasks' references, contact details and pause figures.
fn add_detail(record: &mut Value, contact_id: &str, start: OffsetDateTime, disconnect: OffsetDateTime) {
    let mut rng = detail_rng(contact_id);
    let channel = record["Channel"].as_str().unwrap_or_default().to_owned();
    let outbound = record["InitiationMethod"] == "OUTBOUND";
    let answered = record["Agent"].is_object();
    let subtype = match channel.as_str() {
        "VOICE" => "connect:Telephony",
        "CHAT" if rng.random_bool(0.2) => "connect:SMS",
        "CHAT" if rng.random_bool(0.1) => "connect:WhatsApp",
        "CHAT" => "connect:Chat",
        _ => "connect:Task",
    };
    record["SegmentAttributes"] = json!({"connect:Subtype": {"ValueString": subtype}});
    let department = ["Care", "Sales", "Collections"][rng.random_range(0..3)];
    record["Tags"] = json!({"Department": department, "aws:connect:instanceId": INSTANCE_ID});
    if channel == "VOICE" {
        if outbound {
            let amd = ["HUMAN_ANSWERED", "HUMAN_ANSWERED", "VOICEMAIL_BEEP", "AMD_UNANSWERED"][rng.random_range(0..4)];
            record["AnsweringMachineDetectionStatus"] = json!(amd);
            record["Campaign"] = json!({"CampaignId": uuid(&mut rng)});
            let greeting = start + Duration::seconds(rng.random_range(3..9));
            record["CustomerVoiceActivity"] = json!({
                "GreetingStartTimestamp": ts_millis(greeting),
                "GreetingEndTimestamp": ts_millis(greeting + Duration::milliseconds(rng.random_range(600..2500))),
            });
        }
        if answered {
            let audio = |rng: &mut SmallRng| {
                let score = f64::from(rng.random_range(30..50_u32)) / 10.0;
                let issues: &[&str] = if score < 3.5 { &["HighPacketLoss"] } else { &[] };
                json!({"Audio": {"QualityScore": score, "PotentialQualityIssues": issues}})
            };
            record["QualityMetrics"] = json!({"Agent": audio(&mut rng), "Customer": audio(&mut rng)});
            if rng.random_bool(0.03) {
                record["DisconnectDetails"] = json!({"PotentialDisconnectIssue": "AGENT_CONNECTIVITY_ISSUE"});
            }
        }
        if let Some(location) = record["Recording"]["Location"].as_str().map(str::to_owned) {
            let mut recordings = vec![json!({
                "DeletionReason": null, "FragmentStartNumber": null, "FragmentStopNumber": null,
                "Location": location, "MediaStreamType": "AUDIO", "ParticipantType": null,
                "StartTimestamp": ts_millis(start), "Status": "AVAILABLE",
                "StopTimestamp": ts_millis(disconnect), "StorageType": "S3",
            })];
            if rng.random_bool(0.15) {
                recordings.push(json!({
                    "DeletionReason": null, "FragmentStartNumber": null, "FragmentStopNumber": null,
                    "Location": location.replace("CallRecordings", "ScreenRecordings").replace(".wav", ".webm"),
                    "MediaStreamType": "VIDEO", "ParticipantType": "AGENT",
                    "StartTimestamp": ts_millis(start), "Status": "AVAILABLE",
                    "StopTimestamp": ts_millis(disconnect), "StorageType": "S3",
                }));
            }
            record["Recordings"] = Value::Array(recordings);
        }
    }
    if channel == "TASK" {
        let ticket = rng.random_range(10_000..99_999);
        record["References"] = json!([
            {"Name": "Ticket", "Type": "URL", "Value": format!("https://tickets.example.com/T-{ticket}"), "Status": "AVAILABLE"},
            {"Name": "Priority", "Type": "NUMBER", "Value": rng.random_range(1..5).to_string(), "Status": "AVAILABLE"},
        ]);
        record["ContactDetails"] = json!({
            "Name": format!("Follow up ticket T-{ticket}"),
            "Description": "Customer asked for a call back about a billing dispute",
        });
        if rng.random_bool(0.3) {
            let paused = start + Duration::seconds(rng.random_range(60..600));
            let pause = rng.random_range(30..900);
            record["TotalPauseCount"] = json!(1);
            record["TotalPauseDurationInSeconds"] = json!(pause);
            record["LastPausedTimestamp"] = json!(ts(paused));
            record["LastResumedTimestamp"] = json!(ts(paused + Duration::seconds(pause)));
            if answered {
                record["Agent"]["AgentPauseDuration"] = json!(pause);
            }
        }
    }
}

// --- Transcripts and contact-flow invocations ---------------------------------------------

const POSITIVE: [&str; 6] = [
    "Thank you so much, that was really helpful.",
    "Great, I appreciate your help today!",
    "Perfect, that works for me. You have been wonderful.",
    "That is excellent news, thanks a lot.",
    "I am happy with that solution, thank you.",
    "Awesome, you made this really easy.",
];
const NEGATIVE: [&str; 6] = [
    "This is really frustrating, I was charged twice again.",
    "I am very unhappy with the service and I want to cancel.",
    "The outage ruined my whole day and nobody called me back.",
    "Honestly this is terrible, I have been waiting for an hour.",
    "I hate having to call about the same problem every month.",
    "That is not acceptable, the last agent was rude and useless.",
];
const NEUTRAL: [&str; 6] = [
    "Can you confirm the account number, please?",
    "It ends in four two one.",
    "Let me check that for you.",
    "The order was placed on Tuesday.",
    "I will transfer you to the billing team.",
    "Please hold while I look at the account.",
];

/// The three transcript formats the sentiment enricher reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TranscriptFormat {
    /// Amazon Transcribe standard output with channel identification.
    Standard,
    /// Amazon Transcribe Call Analytics output.
    CallAnalytics,
    /// A Contact Lens analysis file written by Connect.
    ContactLens,
}

/// A generated transcript object.
#[derive(Debug, Clone)]
pub struct TranscriptObject {
    pub contact_id: String,
    pub format: TranscriptFormat,
    pub key: String,
    pub body: Vec<u8>,
}

fn yyyymmdd(t: OffsetDateTime) -> String {
    format!("{:04}{:02}{:02}", t.year(), u8::from(t.month()), t.day())
}

impl Generator {
    /// A conversation: alternating agent and customer turns, with a mood that drifts.
    fn conversation(&mut self) -> Vec<(&'static str, String)> {
        let turns = self.rng.random_range(4..10);
        let mood: i32 = self.rng.random_range(-1..=1);
        (0..turns)
            .map(|i| {
                let speaker = if i % 2 == 0 { "AGENT" } else { "CUSTOMER" };
                let roll = self.rng.random_range(0..10) + mood * 2;
                let pool = if speaker == "AGENT" && roll < 7 {
                    &NEUTRAL
                } else if roll < 3 {
                    &NEGATIVE
                } else if roll < 7 {
                    &NEUTRAL
                } else {
                    &POSITIVE
                };
                let a = pool[self.rng.random_range(0..pool.len())];
                let b = NEUTRAL[self.rng.random_range(0..NEUTRAL.len())];
                let text = if self.rng.random_bool(0.4) {
                    format!("{a} {b}")
                } else {
                    a.to_owned()
                };
                (speaker, text)
            })
            .collect()
    }

    /// A transcript of `format` for a contact that started at `start`.
    pub fn transcript(
        &mut self,
        contact_id: &str,
        start: OffsetDateTime,
        format: TranscriptFormat,
        transcripts_prefix: &str,
        recordings_prefix: &str,
    ) -> TranscriptObject {
        let turns = self.conversation();
        let (key, body) = match format {
            TranscriptFormat::Standard => {
                let key = format!(
                    "{transcripts_prefix}{contact_id}_{}T{:02}{:02}Z.json",
                    yyyymmdd(start),
                    start.hour(),
                    start.minute()
                );
                (key, standard_transcript(contact_id, &turns))
            }
            TranscriptFormat::CallAnalytics => {
                let key = format!(
                    "{transcripts_prefix}{contact_id}_{}T{:02}{:02}Z.json",
                    yyyymmdd(start),
                    start.hour(),
                    start.minute()
                );
                (key, analytics_transcript(&turns, None))
            }
            TranscriptFormat::ContactLens => {
                let key = format!(
                    "{recordings_prefix}demo/Analysis/Voice/{:04}/{:02}/{:02}/{contact_id}_analysis_{}.json",
                    start.year(),
                    u8::from(start.month()),
                    start.day(),
                    ts(start)
                );
                (key, analytics_transcript(&turns, Some(contact_id)))
            }
        };
        TranscriptObject {
            contact_id: contact_id.to_owned(),
            format,
            key,
            body,
        }
    }
}

/// Transcribe standard output with channel identification, as Connect's stereo recordings give
/// it: the agent in the right channel (`ch_1`), the customer in the left (`ch_0`).
fn standard_transcript(contact_id: &str, turns: &[(&str, String)]) -> Vec<u8> {
    let mut items = Vec::new();
    let mut channels: [Vec<Value>; 2] = [Vec::new(), Vec::new()];
    let mut t = 0.5f64;
    let mut id = 0;
    for (speaker, text) in turns {
        let ch = usize::from(*speaker == "AGENT");
        let label = format!("ch_{ch}");
        for word in text.split_whitespace() {
            let (core, punct) = match word.char_indices().last() {
                Some((i, c)) if ".,?!".contains(c) => (&word[..i], Some(c)),
                _ => (word, None),
            };
            let end = t + 0.05 * core.len() as f64 + 0.1;
            let item = json!({
                "id": id, "channel_label": label, "start_time": format!("{t:.2}"), "end_time": format!("{end:.2}"),
                "alternatives": [{"confidence": "0.98", "content": core}], "type": "pronunciation",
            });
            id += 1;
            channels[ch].push(item.clone());
            items.push(item);
            t = end + 0.04;
            if let Some(p) = punct {
                let item = json!({"id": id, "channel_label": label, "alternatives": [{"confidence": "0.0", "content": p.to_string()}], "type": "punctuation"});
                id += 1;
                channels[ch].push(item.clone());
                items.push(item);
            }
        }
        t += 0.6;
    }
    let transcript: Vec<&str> = turns.iter().map(|(_, s)| s.as_str()).collect();
    let doc = json!({
        "jobName": format!("connect-lake-{contact_id}"),
        "accountId": ACCOUNT,
        "status": "COMPLETED",
        "results": {
            "transcripts": [{"transcript": transcript.join(" ")}],
            "channel_labels": {"channels": [
                {"channel_label": "ch_0", "items": channels[0]},
                {"channel_label": "ch_1", "items": channels[1]},
            ], "number_of_channels": 2},
            "items": items,
        },
    });
    serde_json::to_vec(&doc).unwrap_or_default()
}

/// Call Analytics output, or with `contact_id` a Contact Lens analysis file (which names its
/// participants by `ParticipantId`, has one `LoudnessScore` list, and carries the contact id).
fn analytics_transcript(turns: &[(&str, String)], contact_id: Option<&str>) -> Vec<u8> {
    let mut at = 400u64;
    let transcript: Vec<Value> = turns
        .iter()
        .enumerate()
        .map(|(i, (speaker, text))| {
            let duration = 400 + 60 * text.len() as u64;
            let sentiment = if NEGATIVE.iter().any(|n| text.starts_with(n)) {
                "NEGATIVE"
            } else if POSITIVE.iter().any(|p| text.starts_with(p)) {
                "POSITIVE"
            } else {
                "NEUTRAL"
            };
            let mut turn = json!({
                "Id": format!("turn-{i}"), "Content": text, "BeginOffsetMillis": at, "EndOffsetMillis": at + duration,
                "Sentiment": sentiment,
            });
            if contact_id.is_some() {
                turn["ParticipantId"] = json!(speaker);
                turn["LoudnessScore"] = json!([71.2, 74.8, 69.9]);
            } else {
                turn["ParticipantRole"] = json!(speaker);
                turn["LoudnessScores"] = json!([71.2, 74.8, 69.9]);
            }
            at += duration + 300;
            turn
        })
        .collect();
    let talk = |who: &str| -> u64 {
        transcript
            .iter()
            .filter(|t| t["ParticipantId"] == who || t["ParticipantRole"] == who)
            .map(|t| t["EndOffsetMillis"].as_u64().unwrap_or(0) - t["BeginOffsetMillis"].as_u64().unwrap_or(0))
            .sum()
    };
    let characteristics = json!({
        "NonTalkTime": {"Instances": [], "TotalTimeMillis": 300 * turns.len() as u64},
        "Interruptions": {"InterruptionsByInterrupter": {}, "TotalCount": 0, "TotalTimeMillis": 0},
        "TotalConversationDurationMillis": at,
        "TalkTime": {"DetailsByParticipant": {"AGENT": {"TotalTimeMillis": talk("AGENT")}, "CUSTOMER": {"TotalTimeMillis": talk("CUSTOMER")}}, "TotalTimeMillis": talk("AGENT") + talk("CUSTOMER")},
    });
    let doc = match contact_id {
        Some(id) => json!({
            "Version": "1.1.0", "AccountId": ACCOUNT, "Channel": "VOICE", "ContentMetadata": {"Output": "Raw"},
            "JobStatus": "COMPLETED", "LanguageCode": "en-US",
            "Participants": [{"ParticipantId": "CUSTOMER", "ParticipantRole": "CUSTOMER"}, {"ParticipantId": "AGENT", "ParticipantRole": "AGENT"}],
            "Categories": {"MatchedCategories": [], "MatchedDetails": {}},
            "ConversationCharacteristics": characteristics,
            "CustomModels": [],
            "CustomerMetadata": {"ContactId": id, "InstanceId": INSTANCE_ID, "InputS3Uri": format!("s3://connect-recordings/connect/demo/CallRecordings/{id}.wav")},
            "Transcript": transcript,
        }),
        None => json!({
            "JobName": "connect-lake-call-analytics", "AccountId": ACCOUNT, "JobStatus": "COMPLETED", "LanguageCode": "en-US",
            "Channel": "VOICE", "Participants": [{"ParticipantRole": "AGENT"}, {"ParticipantRole": "CUSTOMER"}],
            "ContentMetadata": {"Output": "Raw"}, "Categories": {"MatchedCategories": [], "MatchedDetails": {}},
            "ConversationCharacteristics": characteristics,
            "Transcript": transcript,
        }),
    };
    serde_json::to_vec(&doc).unwrap_or_default()
}

/// Who calls in a generated contact-flow invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    Benign,
    DenyListed,
    Suspicious,
    Withheld,
    InternationalForwarding,
    HighRiskCountry,
    Chat,
}

impl Caller {
    pub const fn label(self) -> &'static str {
        match self {
            Caller::Benign => "benign",
            Caller::DenyListed => "deny-listed",
            Caller::Suspicious => "suspicious",
            Caller::Withheld => "withheld",
            Caller::InternationalForwarding => "intl-forwarding",
            Caller::HighRiskCountry => "high-risk-country",
            Caller::Chat => "chat",
        }
    }
}

/// Numbers on the demo deny list (from ranges reserved for fiction).
pub const DENY_LISTED: [&str; 3] = ["+12025550143", "+12025550166", "+447700900666"];

impl Generator {
    /// A Connect "Invoke AWS Lambda function" event, with the telephony attributes a flow maps
    /// from `$.Media.Sip.Headers.*` into the block's parameters.
    pub fn flow_event(&mut self, index: usize) -> (Caller, Value) {
        let caller = match self.rng.random_range(0..100) {
            0..62 => Caller::Benign,
            62..70 => Caller::DenyListed,
            70..80 => Caller::Suspicious,
            80..86 => Caller::Withheld,
            86..92 => Caller::InternationalForwarding,
            92..96 => Caller::HighRiskCountry,
            _ => Caller::Chat,
        };
        let contact_id = uuid(&mut self.rng);
        let area = AREA_CODES[self.rng.random_range(0..AREA_CODES.len())];
        let mut number = format!("+1{area}555{:04}", self.rng.random_range(100..200));
        let mut params = serde_json::Map::new();
        params.insert(
            "FlowName".into(),
            json!(["Inbound-Main", "Billing-IVR", "Support-IVR"][index % 3]),
        );
        params.insert(
            "Step".into(),
            json!(["Greeting", "Menu", "Authenticate", "Queue"][self.rng.random_range(0..4)]),
        );
        let mut oli = "00";
        let mut jip = format!("{area}555");
        // ISUP's hop counter counts down from the carrier's start value (25-31 is common): a
        // direct call arrives with most hops left, a call bounced through many switches with few.
        let mut hops = self.rng.random_range(20..31).to_string();
        let mut forwarding = String::new();
        match caller {
            Caller::DenyListed => number = DENY_LISTED[self.rng.random_range(0..DENY_LISTED.len())].to_owned(),
            Caller::Suspicious => {
                oli = ["27", "29", "70", "62"][self.rng.random_range(0..4)];
                jip = "305555".to_owned();
                hops = self.rng.random_range(0..4).to_string();
            }
            Caller::Withheld => {
                number = "anonymous".to_owned();
            }
            Caller::InternationalForwarding => {
                forwarding = "<sip:+447700900456@gw.carrier.example>;reason=unconditional;counter=1".to_owned();
            }
            Caller::HighRiskCountry => {
                number = format!("+88234{:06}", self.rng.random_range(0..1_000_000));
            }
            Caller::Benign | Caller::Chat => {}
        }
        let is_chat = caller == Caller::Chat;
        if !is_chat {
            params.insert("ISUP-OLI".into(), json!(oli));
            params.insert("JIP".into(), json!(jip));
            params.insert("Hop-Counter".into(), json!(hops));
            params.insert(
                "From".into(),
                json!(format!("\"Caller\" <sip:{number}@carrier.example>;tag=a{index}")),
            );
            params.insert("To".into(), json!("<sip:+18005550100@connect.example;user=phone>"));
            params.insert("Call-Forwarding-Indicator".into(), json!(forwarding));
        }
        let event = json!({
            "Name": "ContactFlowEvent",
            "Details": {
                "ContactData": {
                    "Attributes": {"intent": INTENTS[index % INTENTS.len()], "callbackNumber": if is_chat { Value::Null } else { json!(number) }},
                    "Channel": if is_chat { "CHAT" } else { "VOICE" },
                    "ContactId": contact_id,
                    "CustomerEndpoint": if is_chat { Value::Null } else { json!({"Address": number, "Type": "TELEPHONE_NUMBER"}) },
                    "InitialContactId": contact_id,
                    "InitiationMethod": if is_chat { "API" } else { "INBOUND" },
                    "InstanceARN": instance_arn(),
                    "LanguageCode": "en-US",
                    "MediaStreams": {"Customer": {"Audio": null}},
                    "Name": "ContactFlowEvent",
                    "PreviousContactId": contact_id,
                    "Queue": if index.is_multiple_of(4) { Value::Null } else { json!({"ARN": Self::arn("queue", "BasicQueue"), "Name": "BasicQueue"}) },
                    "SystemEndpoint": if is_chat { Value::Null } else { json!({"Address": "+18005550100", "Type": "TELEPHONE_NUMBER"}) },
                },
                "Parameters": params,
            },
        });
        (caller, event)
    }
}
