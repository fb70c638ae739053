//! The event Amazon Connect sends to a Lambda function from a contact flow's "Invoke AWS Lambda
//! function" block, read leniently.
//!
//! `{"Name":"ContactFlowEvent","Details":{"ContactData":{...},"Parameters":{...}}}`. Connect leaves
//! `CustomerEndpoint`, `SystemEndpoint` and `Queue` null for many contacts (chats, tasks, transfers),
//! adds fields over time, and the block's parameters are whatever the flow author typed. The
//! `aws_lambda_events` type rejects a null endpoint, which would turn an ordinary chat into a
//! function error and send the caller down the flow's Error branch. So this type never fails on
//! well-formed JSON: it is built from a `serde_json::Value` field by field, a field of the wrong
//! type reads as absent, unknown fields are ignored, and an event that is not a contact-flow event
//! at all comes back empty with [`ContactFlowEvent::is_recognised`] false.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// The telephony call metadata attributes Connect documents (admin guide, "Telephony call metadata
/// attributes (call attributes)": <https://docs.aws.amazon.com/connect/latest/adminguide/connect-attrib-list.html>),
/// named as the flow author maps them from `$.Media.Sip.Headers.*` into the block's parameters.
/// The guide lists exactly these; `P-Asserted-Identity`, listed by older versions of the page, is
/// no longer among them. Carriers send them inconsistently: any may be empty.
pub mod sip {
    pub const P_CHARGE_INFO: &str = "P-Charge-Info";
    pub const FROM: &str = "From";
    pub const TO: &str = "To";
    pub const ISUP_OLI: &str = "ISUP-OLI";
    pub const JIP: &str = "JIP";
    pub const HOP_COUNTER: &str = "Hop-Counter";
    pub const ORIGINATING_SWITCH: &str = "Originating-Switch";
    pub const ORIGINATING_TRUNK: &str = "Originating-Trunk";
    pub const CALL_FORWARDING_INDICATOR: &str = "Call-Forwarding-Indicator";
    pub const CALLING_PARTY_ADDRESS: &str = "Calling-Party-Address";
    pub const CALLED_PARTY_ADDRESS: &str = "Called-Party-Address";

    /// Every attribute above, in the guide's order.
    pub const ALL: [&str; 11] = [
        P_CHARGE_INFO,
        FROM,
        TO,
        ISUP_OLI,
        JIP,
        HOP_COUNTER,
        ORIGINATING_SWITCH,
        ORIGINATING_TRUNK,
        CALL_FORWARDING_INDICATOR,
        CALLING_PARTY_ADDRESS,
        CALLED_PARTY_ADDRESS,
    ];
}

/// A contact-flow invocation. Every part is optional; maps are empty when absent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContactFlowEvent {
    /// `ContactFlowEvent` for a real invocation.
    pub name: Option<String>,
    pub contact_data: ContactData,
    /// The block's function input parameters. Non-string values are kept as their JSON text.
    pub parameters: BTreeMap<String, String>,
    recognised: bool,
}

/// `Details.ContactData`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContactData {
    pub contact_id: Option<String>,
    pub initial_contact_id: Option<String>,
    pub previous_contact_id: Option<String>,
    /// `VOICE`, `CHAT`, `TASK`, `EMAIL`.
    pub channel: Option<String>,
    /// `INBOUND`, `OUTBOUND`, `TRANSFER`, `CALLBACK`, `API`, ...
    pub initiation_method: Option<String>,
    pub instance_arn: Option<String>,
    pub language_code: Option<String>,
    pub customer_endpoint: Option<Endpoint>,
    pub system_endpoint: Option<Endpoint>,
    pub queue: Option<Queue>,
    pub media_streams: Option<MediaStreams>,
    /// The contact's user-defined attributes. Non-string values are kept as their JSON text.
    pub attributes: BTreeMap<String, String>,
    /// Named references (URLs, attachments, ...).
    pub references: BTreeMap<String, Reference>,
}

/// A customer or system endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endpoint {
    pub address: Option<String>,
    /// `TELEPHONE_NUMBER`, `VOIP`, `CONTACT_FLOW`, `EMAIL_ADDRESS`, ...
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Queue {
    pub name: Option<String>,
    pub arn: Option<String>,
    pub outbound_caller_id: Option<Endpoint>,
}

/// `MediaStreams.Customer.Audio`, present once the flow started media streaming.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MediaStreams {
    pub customer_audio: Option<Audio>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Audio {
    pub stream_arn: Option<String>,
    /// Epoch milliseconds, as a string (Connect sends strings).
    pub start_timestamp: Option<String>,
    pub stop_timestamp: Option<String>,
    pub start_fragment_number: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reference {
    /// `URL`, `ATTACHMENT`, `NUMBER`, `STRING`, `DATE`, `EMAIL`, ...
    pub kind: Option<String>,
    pub value: Option<String>,
}

fn text(obj: &Map<String, Value>, key: &str) -> Option<String> {
    match obj.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn object<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Map<String, Value>> {
    obj.get(key).and_then(Value::as_object)
}

/// A string map where every value is kept as text: strings as they are, other JSON values as their
/// compact JSON, nulls dropped.
fn string_map(obj: &Map<String, Value>, key: &str) -> BTreeMap<String, String> {
    let Some(map) = object(obj, key) else {
        return BTreeMap::new();
    };
    map.iter()
        .filter_map(|(k, v)| {
            let v = match v {
                Value::Null => return None,
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            Some((k.clone(), v))
        })
        .collect()
}

impl Endpoint {
    fn from_map(obj: &Map<String, Value>) -> Self {
        Endpoint {
            address: text(obj, "Address"),
            kind: text(obj, "Type"),
        }
    }

    /// Whether the endpoint is a telephone number (or untyped, as some fixtures and older flows send).
    pub fn is_telephone(&self) -> bool {
        self.kind
            .as_deref()
            .is_none_or(|k| k.eq_ignore_ascii_case("TELEPHONE_NUMBER"))
    }
}

impl ContactFlowEvent {
    /// Reads an event from any JSON value; never fails.
    pub fn from_value(value: &Value) -> Self {
        let Some(top) = value.as_object() else {
            return ContactFlowEvent::default();
        };
        let details = object(top, "Details");
        let cd = details.and_then(|d| object(d, "ContactData"));
        let parameters = details.map(|d| string_map(d, "Parameters")).unwrap_or_default();
        let contact_data = cd.map(ContactData::from_map).unwrap_or_default();
        ContactFlowEvent {
            name: text(top, "Name"),
            contact_data,
            parameters,
            recognised: cd.is_some(),
        }
    }

    /// Reads an event from JSON bytes; never fails. Bytes that are not JSON give an empty,
    /// unrecognised event.
    pub fn from_slice(bytes: &[u8]) -> Self {
        serde_json::from_slice::<Value>(bytes)
            .map(|v| Self::from_value(&v))
            .unwrap_or_default()
    }

    /// Whether the event had a `Details.ContactData` object: a contact-flow invocation, as opposed
    /// to a test event or something else sent to the function.
    pub fn is_recognised(&self) -> bool {
        self.recognised
    }

    /// A block parameter, matched leniently: exact name first, then ignoring ASCII case and treating
    /// `_` as `-` (`isup_oli` finds `ISUP-OLI`). Blank values read as absent.
    pub fn parameter(&self, name: &str) -> Option<&str> {
        lookup(&self.parameters, name)
    }

    /// A telephony call attribute ([`sip`]): from the block's parameters, where the flow author maps
    /// `$.Media.Sip.Headers.*`, or else from a contact attribute of the same name (flows that copy
    /// them with "Set contact attributes" first). Blank values read as absent.
    pub fn call_attribute(&self, name: &str) -> Option<&str> {
        self.parameter(name)
            .or_else(|| lookup(&self.contact_data.attributes, name))
    }

    /// The customer's address when the customer endpoint is a telephone number.
    pub fn customer_phone(&self) -> Option<&str> {
        self.contact_data
            .customer_endpoint
            .as_ref()
            .filter(|e| e.is_telephone())
            .and_then(|e| e.address.as_deref())
            .map(str::trim)
            .filter(|a| !a.is_empty())
    }

    /// The instance id: the last segment of `InstanceARN`.
    pub fn instance_id(&self) -> Option<&str> {
        let arn = self.contact_data.instance_arn.as_deref()?;
        let id = arn.rsplit_once("instance/").map_or(arn, |(_, id)| id);
        let id = id.split('/').next().unwrap_or(id);
        (!id.is_empty()).then_some(id)
    }

    /// Whether the contact is a voice call (`Channel` `VOICE`, any case).
    pub fn is_voice(&self) -> bool {
        self.contact_data
            .channel
            .as_deref()
            .is_some_and(|c| c.trim().eq_ignore_ascii_case("VOICE"))
    }
}

/// Whether `s` has the shape of a Connect identifier (contact or instance id): hyphen-separated
/// groups of 8, 4, 4, 4 and 1 to 32 letters or digits, as in `4a573372-1f28-4e26-b97b-1c9d3f1b2c4d`.
/// Records keep such ids in clear (they join the lake's tables) and tokenize anything else found in
/// their place, since a malformed id could be anything, a phone number included.
pub fn is_id_like(s: &str) -> bool {
    let mut groups = s.split('-');
    let ok = |g: Option<&str>, len: std::ops::RangeInclusive<usize>| {
        g.is_some_and(|g| len.contains(&g.len()) && g.bytes().all(|b| b.is_ascii_alphanumeric()))
    };
    ok(groups.next(), 8..=8)
        && ok(groups.next(), 4..=4)
        && ok(groups.next(), 4..=4)
        && ok(groups.next(), 4..=4)
        && ok(groups.next(), 1..=32)
        && groups.next().is_none()
}

fn normalized_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes().zip(b.bytes()).all(|(x, y)| {
            let n = |c: u8| if c == b'_' { b'-' } else { c.to_ascii_lowercase() };
            n(x) == n(y)
        })
}

fn lookup<'a>(map: &'a BTreeMap<String, String>, name: &str) -> Option<&'a str> {
    let value = match map.get(name) {
        Some(v) => Some(v),
        None => map.iter().find(|(k, _)| normalized_eq(k, name)).map(|(_, v)| v),
    };
    value.map(|v| v.trim()).filter(|v| !v.is_empty())
}

impl ContactData {
    fn from_map(cd: &Map<String, Value>) -> Self {
        let endpoint = |key| object(cd, key).map(Endpoint::from_map);
        let queue = object(cd, "Queue").map(|q| Queue {
            name: text(q, "Name"),
            arn: text(q, "ARN"),
            outbound_caller_id: object(q, "OutboundCallerId").map(Endpoint::from_map),
        });
        let media_streams = object(cd, "MediaStreams").map(|m| MediaStreams {
            customer_audio: object(m, "Customer").and_then(|c| object(c, "Audio")).map(|a| Audio {
                stream_arn: text(a, "StreamARN"),
                start_timestamp: text(a, "StartTimestamp"),
                stop_timestamp: text(a, "StopTimestamp"),
                start_fragment_number: text(a, "StartFragmentNumber"),
            }),
        });
        let references = object(cd, "References")
            .map(|refs| {
                refs.iter()
                    .filter_map(|(name, r)| {
                        let r = r.as_object()?;
                        Some((
                            name.clone(),
                            Reference {
                                kind: text(r, "Type"),
                                value: text(r, "Value"),
                            },
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        ContactData {
            contact_id: text(cd, "ContactId"),
            initial_contact_id: text(cd, "InitialContactId"),
            previous_contact_id: text(cd, "PreviousContactId"),
            channel: text(cd, "Channel"),
            initiation_method: text(cd, "InitiationMethod"),
            instance_arn: text(cd, "InstanceARN"),
            language_code: text(cd, "LanguageCode"),
            customer_endpoint: endpoint("CustomerEndpoint"),
            system_endpoint: endpoint("SystemEndpoint"),
            queue,
            media_streams,
            attributes: string_map(cd, "Attributes"),
            references,
        }
    }
}

/// Deserializing never fails: any JSON becomes an event (possibly empty and unrecognised), and so
/// does input that is not JSON at all. This is what lets a function take the event straight from
/// the Lambda runtime and still answer Connect, instead of reporting a deserialization error.
impl<'de> Deserialize<'de> for ContactFlowEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer) {
            Ok(value) => Ok(Self::from_value(&value)),
            Err(_) => Ok(ContactFlowEvent::default()),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The example event of the Connect administrator guide, with the fields it documents.
    fn documented() -> Value {
        crate::testing::documented_contact_flow_event()
    }

    #[test]
    fn the_documented_event_reads_completely() {
        let e = ContactFlowEvent::from_value(&documented());
        assert!(e.is_recognised());
        assert_eq!(e.name.as_deref(), Some("ContactFlowEvent"));
        let cd = &e.contact_data;
        assert_eq!(cd.channel.as_deref(), Some("VOICE"));
        assert_eq!(e.customer_phone(), Some("+1234567890"));
        assert_eq!(e.instance_id(), Some("c8c0e68d-2200-4265-82c0-XXXXXXXXXX"));
        assert_eq!(cd.language_code.as_deref(), Some("en-US"));
        let queue = cd.queue.as_ref().unwrap();
        assert_eq!(queue.name.as_deref(), Some("PasswordReset"));
        assert_eq!(
            queue.outbound_caller_id.as_ref().unwrap().address.as_deref(),
            Some("+12345678903")
        );
        let audio = cd.media_streams.as_ref().unwrap().customer_audio.as_ref().unwrap();
        assert_eq!(audio.start_fragment_number.as_deref(), Some("100"));
        assert_eq!(cd.references["key1"].value.as_deref(), Some("urlvalue"));
        assert_eq!(cd.attributes["exampleAttributeKey1"], "exampleAttributeValue1");
        assert_eq!(e.parameter("exampleParameterKey1"), Some("exampleParameterValue1"));
        assert!(e.is_voice());
    }

    #[test]
    fn null_endpoints_queue_and_media_streams_read_as_absent() {
        let mut v = documented();
        let cd = &mut v["Details"]["ContactData"];
        for k in [
            "CustomerEndpoint",
            "SystemEndpoint",
            "Queue",
            "MediaStreams",
            "Attributes",
            "References",
        ] {
            cd[k] = Value::Null;
        }
        v["Details"]["Parameters"] = Value::Null;
        let e = ContactFlowEvent::from_value(&v);
        assert!(e.is_recognised());
        assert!(e.contact_data.customer_endpoint.is_none() && e.contact_data.queue.is_none());
        assert!(e.contact_data.media_streams.is_none());
        assert!(e.parameters.is_empty() && e.contact_data.attributes.is_empty());
        assert_eq!(e.customer_phone(), None);
        assert_eq!(
            e.contact_data.contact_id.as_deref(),
            Some("4a573372-1f28-4e26-b97b-XXXXXXXXXXX")
        );
    }

    #[test]
    fn fields_of_the_wrong_type_read_as_absent_and_unknown_fields_are_ignored() {
        let v = json!({"Details": {"ContactData": {
            "Channel": 7, "ContactId": ["x"], "Queue": "Billing", "CustomerEndpoint": {"Address": 12065550100u64},
            "Attributes": {"n": 5, "b": true, "o": {"x": 1}, "gone": null}, "SomethingNew": {"a": 1}
        }, "Parameters": {"Step": "greeting", "Count": 3}}});
        let e = ContactFlowEvent::from_value(&v);
        assert_eq!(e.contact_data.channel.as_deref(), Some("7"));
        assert_eq!(e.contact_data.contact_id, None);
        assert_eq!(e.contact_data.queue, None);
        assert_eq!(e.customer_phone(), Some("12065550100"));
        let attrs = &e.contact_data.attributes;
        assert_eq!(
            (attrs["n"].as_str(), attrs["b"].as_str(), attrs["o"].as_str()),
            ("5", "true", r#"{"x":1}"#)
        );
        assert!(!attrs.contains_key("gone"));
        assert_eq!(e.parameter("Count"), Some("3"));
    }

    #[test]
    fn anything_that_is_not_a_contact_flow_event_is_empty_and_unrecognised() {
        for v in [
            json!(null),
            json!([1, 2]),
            json!("x"),
            json!({}),
            json!({"Details": "x"}),
        ] {
            let e = ContactFlowEvent::from_value(&v);
            assert!(!e.is_recognised(), "{v}");
            assert_eq!(e.contact_data, ContactData::default());
        }
        assert!(!ContactFlowEvent::from_slice(b"not json").is_recognised());
        let e: ContactFlowEvent = serde_json::from_str("[]").unwrap();
        assert!(!e.is_recognised());
        let mut de = serde_json::Deserializer::from_slice(b"{nope");
        let e = ContactFlowEvent::deserialize(&mut de).expect("never an error");
        assert!(!e.is_recognised());
    }

    #[test]
    fn call_attributes_match_leniently_and_fall_back_to_contact_attributes() {
        let v = json!({"Details": {"ContactData": {"Attributes": {"JIP": "212555", "Hop-Counter": " "}},
            "Parameters": {"isup_oli": "27", "From": "  ", "Hop-Counter": "3"}}});
        let e = ContactFlowEvent::from_value(&v);
        assert_eq!(e.call_attribute(sip::ISUP_OLI), Some("27"));
        assert_eq!(e.call_attribute(sip::JIP), Some("212555"));
        assert_eq!(e.call_attribute(sip::HOP_COUNTER), Some("3"));
        assert_eq!(e.call_attribute(sip::FROM), None, "blank is absent");
        assert_eq!(e.call_attribute(sip::TO), None);
    }

    #[test]
    fn ids_are_recognised_by_shape() {
        for id in [
            "4a573372-1f28-4e26-b97b-XXXXXXXXXXX",
            "12345678-1234-1234-1234-123456789012",
            "c8c0e68d-2200-4265-82c0-XXXXXXXXXX",
        ] {
            assert!(is_id_like(id), "{id}");
        }
        for not_id in [
            "+12065550100",
            "12065550100",
            "",
            "a-b-c-d-e",
            "4a573372-1f28-4e26-b97b",
            "4a573372-1f28-4e26-b97b-x-y",
        ] {
            assert!(!is_id_like(not_id), "{not_id}");
        }
    }

    #[test]
    fn only_telephone_endpoints_are_customer_phones() {
        let v = json!({"Details": {"ContactData": {"Channel": "CHAT",
            "CustomerEndpoint": {"Address": "jane@example.com", "Type": "EMAIL_ADDRESS"}}}});
        let e = ContactFlowEvent::from_value(&v);
        assert_eq!(e.customer_phone(), None);
        assert!(!e.is_voice());
    }
}
