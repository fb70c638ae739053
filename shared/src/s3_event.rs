//! Lenient parsing of the events that announce new lake objects, for every function S3 triggers.
//!
//! Three shapes arrive: S3 event notifications, SQS messages whose bodies are S3 event
//! notifications, and SQS messages whose bodies are EventBridge "Object Created" events. Fields
//! are optional where emulators and older producers leave them out (`userIdentity`,
//! `requestParameters`, `responseElements`, sizes), and `s3:TestEvent` has no `Records`.
//!
//! Keys in S3 notifications are form-encoded (`+` is a space, `year%3D2026` is `year=2026`):
//! decode `+` first, then percent-decode. Keys that arrive already decoded are left alone.
//!
//! The SQS batch, the EventBridge envelope and [`SqsBatchResponse`] are `aws_lambda_events`'
//! types. The S3 notification is ours: `aws_lambda_events::s3::S3Event` requires `userIdentity`,
//! `requestParameters` and `eventTime` in every record, which emulators (moto) leave out, and
//! rejects `s3:TestEvent`, which has no `Records` (see the test
//! `aws_lambda_events_s3_event_rejects_what_our_parser_accepts`).

use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_lambda_events::sqs::SqsEvent;
pub use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse};
use serde::Deserialize;
use serde_json::Value;

/// What happened to the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectEventKind {
    Created,
    Removed,
    /// Restore, replication, tagging, ...: the event name as given.
    Other(String),
}

impl ObjectEventKind {
    fn from_s3_event_name(name: &str) -> Self {
        let name = name.strip_prefix("s3:").unwrap_or(name);
        if name.starts_with("ObjectCreated") {
            ObjectEventKind::Created
        } else if name.starts_with("ObjectRemoved") {
            ObjectEventKind::Removed
        } else {
            ObjectEventKind::Other(name.to_owned())
        }
    }

    fn from_detail_type(detail_type: &str) -> Self {
        match detail_type {
            "Object Created" => ObjectEventKind::Created,
            "Object Deleted" => ObjectEventKind::Removed,
            other => ObjectEventKind::Other(other.to_owned()),
        }
    }
}

/// One object event, with its key decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectEvent {
    pub bucket: String,
    pub key: String,
    pub size: Option<u64>,
    pub kind: ObjectEventKind,
    pub event_time: Option<String>,
}

impl ObjectEvent {
    /// A folder marker: a key ending in `/` (or Hadoop's `_$folder$`), which holds no data.
    pub fn is_folder_marker(&self) -> bool {
        (self.key.ends_with('/') && self.size.unwrap_or(0) == 0) || self.key.ends_with("_$folder$")
    }

    /// The probe object Transcribe and Firehose write to check they may write to a prefix.
    pub fn is_write_access_probe(&self) -> bool {
        self.key
            .rsplit('/')
            .next()
            .is_some_and(|name| name == ".write_access_check_file.temp")
    }
}

/// What one notification carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notification {
    Objects(Vec<ObjectEvent>),
    /// `s3:TestEvent`, sent when a notification configuration is saved.
    TestEvent,
}

/// One SQS message and what its body parsed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqsMessage {
    pub message_id: String,
    pub body: Result<Notification, EventError>,
}

/// The whole invocation event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// S3 invoked the function directly (asynchronously).
    Direct(Notification),
    /// A batch from an SQS event source mapping.
    Sqs(Vec<SqsMessage>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("event is not JSON")]
    NotJson,
    #[error("event is neither an S3 notification, an EventBridge S3 event, nor an SQS batch")]
    UnknownShape,
    #[error("S3 record {index} has no bucket name or object key")]
    MissingObject { index: usize },
    #[error("EventBridge event has no detail.bucket.name or detail.object.key")]
    MissingDetail,
    #[error("{kind} event does not parse: {message}")]
    Malformed { kind: &'static str, message: String },
}

/// Decodes an S3 notification key: `+` to space, then percent-decoding. A key that is already
/// decoded (it holds a space or `=`, which S3 always encodes) is returned as it is.
pub fn decode_s3_key(key: &str) -> String {
    if key.contains(' ') || key.contains('=') {
        return key.to_owned();
    }
    let spaced = key.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

/// EventBridge keys arrive as stored. Some relays percent-encode them anyway: decode only a key
/// that has escapes and nothing S3 would have escaped.
fn decode_eventbridge_key(key: &str) -> String {
    let has_escape = key
        .as_bytes()
        .windows(3)
        .any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit());
    if has_escape && !key.contains(' ') && !key.contains('=') {
        percent_encoding::percent_decode_str(key)
            .decode_utf8_lossy()
            .into_owned()
    } else {
        key.to_owned()
    }
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(*k)).and_then(Value::as_str)
}

fn u64_at(v: &Value, path: &[&str]) -> Option<u64> {
    let n = path.iter().try_fold(v, |v, k| v.get(*k))?;
    n.as_u64().or_else(|| n.as_str().and_then(|s| s.parse().ok()))
}

/// Parses an S3 event notification or an EventBridge S3 event.
///
/// # Errors
/// [`EventError`] naming what is missing.
pub fn parse_notification(v: &Value) -> Result<Notification, EventError> {
    if v.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
        return Ok(Notification::TestEvent);
    }
    if let Some(records) = v.get("Records").and_then(Value::as_array) {
        let mut out = Vec::with_capacity(records.len());
        for (index, r) in records.iter().enumerate() {
            let bucket = str_at(r, &["s3", "bucket", "name"]);
            let key = str_at(r, &["s3", "object", "key"]);
            let (Some(bucket), Some(key)) = (bucket, key) else {
                return Err(EventError::MissingObject { index });
            };
            out.push(ObjectEvent {
                bucket: bucket.to_owned(),
                key: decode_s3_key(key),
                size: u64_at(r, &["s3", "object", "size"]),
                kind: ObjectEventKind::from_s3_event_name(str_at(r, &["eventName"]).unwrap_or_default()),
                event_time: str_at(r, &["eventTime"]).map(str::to_owned),
            });
        }
        return Ok(Notification::Objects(out));
    }
    if v.get("source").and_then(Value::as_str) == Some("aws.s3") && v.get("detail-type").is_some() {
        let event = EventBridgeEvent::<Value>::deserialize(v).map_err(|e| EventError::Malformed {
            kind: "EventBridge",
            message: e.to_string(),
        })?;
        let detail = &event.detail;
        let bucket = str_at(detail, &["bucket", "name"]);
        let key = str_at(detail, &["object", "key"]);
        let (Some(bucket), Some(key)) = (bucket, key) else {
            return Err(EventError::MissingDetail);
        };
        return Ok(Notification::Objects(vec![ObjectEvent {
            bucket: bucket.to_owned(),
            key: decode_eventbridge_key(key),
            size: u64_at(detail, &["object", "size"]),
            kind: ObjectEventKind::from_detail_type(&event.detail_type),
            event_time: event
                .time
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
        }]));
    }
    Err(EventError::UnknownShape)
}

/// Parses the invocation event: SQS batch (each body parsed on its own, so one bad body fails
/// only its message), or a direct notification.
///
/// # Errors
/// [`EventError`] when the event as a whole has no known shape.
pub fn parse_trigger(v: &Value) -> Result<Trigger, EventError> {
    let is_sqs = v.get("Records").and_then(Value::as_array).is_some_and(|r| {
        !r.is_empty()
            && r.iter()
                .all(|m| m.get("eventSource").and_then(Value::as_str) == Some("aws:sqs"))
    });
    if is_sqs {
        let event = SqsEvent::deserialize(v).map_err(|e| EventError::Malformed {
            kind: "SQS",
            message: e.to_string(),
        })?;
        let messages = event
            .records
            .into_iter()
            .map(|m| SqsMessage {
                body: match m.body.as_deref().map(serde_json::from_str::<Value>) {
                    Some(Ok(body)) => parse_notification(&body),
                    _ => Err(EventError::NotJson),
                },
                message_id: m.message_id.unwrap_or_default(),
            })
            .collect();
        return Ok(Trigger::Sqs(messages));
    }
    parse_notification(v).map(Trigger::Direct)
}

/// The answer to an SQS event source mapping with `ReportBatchItemFailures`: the messages to
/// retry, each once, in order. An empty list deletes the whole batch.
pub fn batch_response(ids: impl IntoIterator<Item = String>) -> SqsBatchResponse {
    let mut ids: Vec<String> = ids.into_iter().collect();
    ids.sort();
    ids.dedup();
    // Both types are `#[non_exhaustive]`: built from their defaults.
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = ids
        .into_iter()
        .map(|id| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failure
        })
        .collect();
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn s3_record(key: &str, event: &str, size: u64) -> Value {
        json!({"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
               "eventTime": "2026-03-08T10:00:00.000Z", "eventName": event,
               "s3": {"bucket": {"name": "lake"}, "object": {"key": key, "size": size}}})
    }

    #[test]
    fn keys_are_form_decoded_plus_first_then_percent() {
        assert_eq!(
            decode_s3_key("ctr/year%3D2026/month%3D03/a+b%2Bc.json"),
            "ctr/year=2026/month=03/a b+c.json"
        );
        assert_eq!(decode_s3_key("ctr%2Fyear%3D2026%2Fx"), "ctr/year=2026/x");
        assert_eq!(
            decode_s3_key("ctr/year=2026/a b.json"),
            "ctr/year=2026/a b.json",
            "already decoded"
        );
        assert_eq!(decode_s3_key("plain/key.json"), "plain/key.json");
        assert_eq!(decode_s3_key("bad%zzescape"), "bad%zzescape");
    }

    #[test]
    fn s3_notifications_parse_without_the_fields_emulators_leave_out() {
        let n =
            parse_notification(&json!({"Records": [s3_record("ctr/year%3D2026/x+y.json", "ObjectCreated:Put", 10)]}))
                .unwrap();
        let Notification::Objects(objs) = n else { panic!() };
        assert_eq!(objs[0].key, "ctr/year=2026/x y.json");
        assert_eq!(objs[0].bucket, "lake");
        assert_eq!(objs[0].kind, ObjectEventKind::Created);
        assert_eq!(objs[0].size, Some(10));
        let n = parse_notification(&json!({"Records": [s3_record("k", "ObjectRemoved:Delete", 0)]})).unwrap();
        assert!(matches!(n, Notification::Objects(o) if o[0].kind == ObjectEventKind::Removed));
    }

    #[test]
    fn the_test_event_has_no_records() {
        let v = json!({"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2026-03-08T10:00:00.000Z", "Bucket": "lake"});
        assert_eq!(parse_notification(&v).unwrap(), Notification::TestEvent);
    }

    #[test]
    fn eventbridge_object_created_events_parse() {
        let v = json!({"version": "0", "id": "1", "detail-type": "Object Created", "source": "aws.s3",
                       "account": "012345678901", "time": "2026-03-08T10:00:00Z", "region": "us-east-1",
                       "resources": ["arn:aws:s3:::lake"],
                       "detail": {"version": "0", "bucket": {"name": "lake"},
                                  "object": {"key": "ctr/year=2026/month=03/day=08/hour=10/a b.json", "size": 5}}});
        let Notification::Objects(o) = parse_notification(&v).unwrap() else {
            panic!()
        };
        assert_eq!(o[0].key, "ctr/year=2026/month=03/day=08/hour=10/a b.json");
        assert_eq!(o[0].kind, ObjectEventKind::Created);
    }

    #[test]
    fn sqs_batches_parse_each_body_on_its_own() {
        let good = json!({"Records": [s3_record("ctr/k", "ObjectCreated:Put", 1)]}).to_string();
        let v = json!({"Records": [
            {"messageId": "m1", "eventSource": "aws:sqs", "body": good},
            {"messageId": "m2", "eventSource": "aws:sqs", "body": "{not json"},
            {"messageId": "m3", "eventSource": "aws:sqs", "body": "{\"hello\":1}"},
        ]});
        let Trigger::Sqs(msgs) = parse_trigger(&v).unwrap() else {
            panic!()
        };
        assert!(msgs[0].body.is_ok());
        assert_eq!(msgs[1].body, Err(EventError::NotJson));
        assert_eq!(msgs[2].body, Err(EventError::UnknownShape));
        assert!(matches!(
            parse_trigger(&json!({"Records": [s3_record("k", "ObjectCreated:Put", 1)]})).unwrap(),
            Trigger::Direct(_)
        ));
        assert_eq!(parse_trigger(&json!({"what": 1})), Err(EventError::UnknownShape));
    }

    #[test]
    fn markers_and_probes_are_recognised() {
        let ev = |key: &str, size| ObjectEvent {
            bucket: "b".into(),
            key: key.into(),
            size: Some(size),
            kind: ObjectEventKind::Created,
            event_time: None,
        };
        assert!(ev("ctr/year=2026/", 0).is_folder_marker());
        assert!(ev("ctr_$folder$", 0).is_folder_marker());
        assert!(!ev("ctr/x.json", 0).is_folder_marker());
        assert!(ev("transcripts/.write_access_check_file.temp", 0).is_write_access_probe());
        assert!(!ev("transcripts/a.json", 0).is_write_access_probe());
    }

    #[test]
    fn batch_responses_list_each_failed_message_once() {
        let r = batch_response(["b".to_owned(), "a".to_owned(), "b".to_owned()]);
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"batchItemFailures": [{"itemIdentifier": "a"}, {"itemIdentifier": "b"}]})
        );
    }

    #[test]
    fn eventbridge_times_keep_their_utc_form_and_a_bad_envelope_is_named() {
        let v = json!({"detail-type": "Object Created", "source": "aws.s3", "time": "2026-03-08T10:00:00Z",
                       "detail": {"bucket": {"name": "lake"}, "object": {"key": "k", "size": "7"}}});
        let Notification::Objects(o) = parse_notification(&v).unwrap() else {
            panic!()
        };
        assert_eq!(o[0].event_time.as_deref(), Some("2026-03-08T10:00:00Z"));
        assert_eq!(o[0].size, Some(7));
        let bad = json!({"detail-type": "Object Created", "source": "aws.s3", "time": "yesterday", "detail": {}});
        assert!(matches!(
            parse_notification(&bad),
            Err(EventError::Malformed {
                kind: "EventBridge",
                ..
            })
        ));
    }

    /// Why the S3 notification stays ours: `aws_lambda_events`' `S3Event` rejects a record
    /// without `userIdentity` and `requestParameters` (as moto sends them) and the test event.
    #[test]
    fn aws_lambda_events_s3_event_rejects_what_our_parser_accepts() {
        use aws_lambda_events::s3::S3Event;
        let moto = json!({"Records": [s3_record("ctr/year%3D2026/x.json", "ObjectCreated:Put", 3)]});
        assert!(parse_notification(&moto).is_ok());
        let err = serde_json::from_value::<S3Event>(moto).unwrap_err().to_string();
        assert!(err.contains("userIdentity"), "{err}");

        let test_event = json!({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "lake"});
        assert_eq!(parse_notification(&test_event), Ok(Notification::TestEvent));
        let err = serde_json::from_value::<S3Event>(test_event).unwrap_err().to_string();
        assert!(err.contains("Records"), "{err}");
    }
}
