//! The Firehose data-transformation contract: our own request and response types.
//!
//! The `aws_lambda_events` types and fixtures use result strings Firehose rejects; here `result`
//! is exactly `Ok`, `Dropped` or `ProcessingFailed`. Requests are read leniently record by record,
//! so one malformed record never fails the batch: every input `recordId` must come back exactly
//! once, or Firehose fails the whole batch.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// Lambda caps a synchronous response at 6 MB; this leaves headroom for the runtime's framing.
pub const MAX_RESPONSE_BYTES: usize = 6_000_000;

/// A transformation request.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FirehoseRequest {
    pub invocation_id: String,
    pub delivery_stream_arn: String,
    pub region: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_kinesis_stream_arn: Option<String>,
    pub records: Vec<FirehoseRecord>,
}

/// One input record. `data` is base64; anything but a string is kept as `None`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FirehoseRecord {
    #[serde(deserialize_with = "lenient_string")]
    pub record_id: String,
    #[serde(deserialize_with = "lenient_millis", skip_serializing_if = "Option::is_none")]
    pub approximate_arrival_timestamp: Option<i64>,
    #[serde(deserialize_with = "lenient_opt_string")]
    pub data: Option<String>,
}

fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => s,
        Value::Null => String::new(),
        other => other.to_string(),
    })
}

fn lenient_opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        _ => None,
    })
}

fn lenient_millis<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64)),
        _ => None,
    })
}

/// The result of one record, spelled exactly as Firehose requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RecordResult {
    Ok,
    Dropped,
    ProcessingFailed,
}

impl RecordResult {
    pub const fn as_str(self) -> &'static str {
        match self {
            RecordResult::Ok => "Ok",
            RecordResult::Dropped => "Dropped",
            RecordResult::ProcessingFailed => "ProcessingFailed",
        }
    }
}

/// Dynamic-partitioning metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    pub partition_keys: BTreeMap<String, String>,
}

/// One output record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FirehoseResponseRecord {
    pub record_id: String,
    pub result: RecordResult,
    pub data: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub metadata: Option<Metadata>,
}

impl FirehoseResponseRecord {
    /// The exact number of bytes this record takes in the serialized response.
    pub fn serialized_len(&self) -> usize {
        frame_len(&self.record_id, self.result, self.metadata.as_ref()) + json_string_len(&self.data)
    }
}

/// The bytes a response record takes apart from its `data` string literal:
/// `{"recordId":<id>,"result":"<r>","data":` … `}` and the optional metadata.
pub fn frame_len(record_id: &str, result: RecordResult, metadata: Option<&Metadata>) -> usize {
    let mut n = r#"{"recordId":,"result":"","data":}"#.len() + json_string_len(record_id) + result.as_str().len();
    if let Some(m) = metadata {
        // ,"metadata":{"partitionKeys":{...}}
        n += r#","metadata":{"partitionKeys":{}}"#.len();
        n += m
            .partition_keys
            .iter()
            .map(|(k, v)| json_string_len(k) + 1 + json_string_len(v))
            .sum::<usize>();
        n += m.partition_keys.len().saturating_sub(1);
    }
    n
}

/// The transformation response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirehoseResponse {
    pub records: Vec<FirehoseResponseRecord>,
}

impl FirehoseResponse {
    /// `{"records":[` and `]}`.
    pub const ENVELOPE_BYTES: usize = r#"{"records":[]}"#.len();

    /// The response as JSON, byte for byte what `serde_json` writes, but faster: `data` strings
    /// that are plain base64 (every `Ok` row) are copied, not scanned for escapes one byte at a
    /// time. Anything else goes through `serde_json`'s escaping.
    pub fn to_json(&self) -> String {
        // An estimate (escapes aside): an exact size would cost a scan of every byte.
        let capacity = Self::ENVELOPE_BYTES
            + self
                .records
                .iter()
                .map(|r| r.record_id.len() + r.data.len() + 160)
                .sum::<usize>();
        let mut out = String::with_capacity(capacity);
        out.push_str(r#"{"records":["#);
        for (i, r) in self.records.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(r#"{"recordId":"#);
            push_json_string(&mut out, &r.record_id);
            out.push_str(r#","result":""#);
            out.push_str(r.result.as_str());
            out.push_str(r#"","data":"#);
            push_json_string(&mut out, &r.data);
            if let Some(m) = &r.metadata {
                out.push_str(r#","metadata":{"partitionKeys":{"#);
                for (j, (k, v)) in m.partition_keys.iter().enumerate() {
                    if j > 0 {
                        out.push(',');
                    }
                    push_json_string(&mut out, k);
                    out.push(':');
                    push_json_string(&mut out, v);
                }
                out.push_str("}}");
            }
            out.push('}');
        }
        out.push_str("]}");
        out
    }
}

fn is_plain(s: &str) -> bool {
    // Branch-free over the bytes, so it vectorizes: letters, digits and base64's `+/=`.
    s.bytes().fold(true, |ok, b| {
        ok & (b.is_ascii_alphanumeric() | (b == b'+') | (b == b'/') | (b == b'=') | (b == b'-') | (b == b'_'))
    })
}

fn push_json_string(out: &mut String, s: &str) {
    // Long strings are base64 rows: validate them with SIMD, which is far faster than a
    // byte-by-byte escape scan. Short ones (ids, partition values) take the simple check.
    let plain = if s.len() >= 64 {
        base64_simd::STANDARD.check(s.as_bytes()).is_ok() || is_plain(s)
    } else {
        is_plain(s)
    };
    if plain {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        // Serializing a str cannot fail.
        out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned()));
    }
}

/// The length of `s` as a JSON string literal, quotes and escapes included, as `serde_json`
/// writes it.
pub fn json_string_len(s: &str) -> usize {
    let needs_escape = |b: u8| b < 0x20 || b == b'"' || b == b'\\';
    // Fast path: a branch-free count the compiler vectorizes; base64 payloads never escape.
    if s.bytes().filter(|&b| needs_escape(b)).count() == 0 {
        return s.len() + 2;
    }
    2 + s
        .bytes()
        .map(|b| match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 2,
            0x00..=0x1f => 6,
            _ => 1,
        })
        .sum::<usize>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn results_serialize_exactly_as_firehose_requires() {
        for (r, s) in [
            (RecordResult::Ok, "\"Ok\""),
            (RecordResult::Dropped, "\"Dropped\""),
            (RecordResult::ProcessingFailed, "\"ProcessingFailed\""),
        ] {
            assert_eq!(serde_json::to_string(&r).unwrap(), s);
        }
    }

    #[test]
    fn malformed_records_in_a_request_are_read_leniently() {
        let req: FirehoseRequest = serde_json::from_str(
            r#"{"invocationId":"i","deliveryStreamArn":"a","region":"us-east-1","records":[
                {"recordId":"1","approximateArrivalTimestamp":1700000000000,"data":"e30="},
                {"recordId":"2","data":42},
                {"recordId":3,"approximateArrivalTimestamp":"soon"},
                {"data":"e30=","unknown":true}
            ]}"#,
        )
        .unwrap();
        assert_eq!(req.records.len(), 4);
        assert_eq!(req.records[0].approximate_arrival_timestamp, Some(1_700_000_000_000));
        assert_eq!(req.records[1].data, None);
        assert_eq!(req.records[2].record_id, "3");
        assert_eq!(req.records[2].approximate_arrival_timestamp, None);
        assert_eq!(req.records[3].record_id, "");
    }

    proptest! {
        #[test]
        fn fast_json_equals_serde_json(records in proptest::collection::vec((".{0,12}", "[A-Za-z0-9+/=]{0,40}|.{0,20}", any::<bool>()), 0..8)) {
            let resp = FirehoseResponse {
                records: records
                    .into_iter()
                    .map(|(id, data, ok)| FirehoseResponseRecord {
                        record_id: id,
                        result: if ok { RecordResult::Ok } else { RecordResult::ProcessingFailed },
                        data,
                        metadata: ok.then(|| Metadata {
                            partition_keys: [("table".to_owned(), "ctr".to_owned()), ("year".to_owned(), "2026".to_owned())]
                                .into_iter()
                                .collect(),
                        }),
                    })
                    .collect(),
            };
            prop_assert_eq!(resp.to_json(), serde_json::to_string(&resp).unwrap());
        }

        #[test]
        fn serialized_len_is_exact(id in ".{0,40}", data in "[A-Za-z0-9+/=]{0,200}", keys in proptest::collection::btree_map("[a-z\"\\\\\n]{1,8}", ".{0,10}", 0..6), failed in any::<bool>()) {
            let rec = FirehoseResponseRecord {
                record_id: id,
                result: if failed { RecordResult::ProcessingFailed } else { RecordResult::Ok },
                data,
                metadata: (!keys.is_empty()).then_some(Metadata { partition_keys: keys }),
            };
            prop_assert_eq!(rec.serialized_len(), serde_json::to_vec(&rec).unwrap().len());
        }
    }
}
