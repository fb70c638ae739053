//! Playing Firehose's part locally: buffer records into transformation requests, check every
//! response against the contract Firehose enforces, and group `Ok` rows by their dynamic
//! partition, as Firehose does before it writes objects to S3.

use std::collections::{BTreeMap, HashMap};

use base64_simd::STANDARD;
use firehose_transform::firehose::{FirehoseRecord, FirehoseRequest, FirehoseResponse, RecordResult};

/// Firehose's default Lambda buffering is 1 MiB; it never sends more than 6 MB.
pub const DEFAULT_BATCH_BYTES: usize = 1024 * 1024;

/// The delivery stream a transformation request comes from, by name, and the Kinesis data stream
/// that feeds it (none for a stream written to directly, such as a CloudWatch metric stream's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Source<'a> {
    pub delivery_stream: &'a str,
    pub kinesis_stream: Option<&'a str>,
}

impl Source<'_> {
    /// The delivery stream's ARN, as Firehose sends it in `deliveryStreamArn`.
    pub fn delivery_stream_arn(&self) -> String {
        let (region, account) = (crate::generate::REGION, crate::generate::ACCOUNT);
        format!(
            "arn:aws:firehose:{region}:{account}:deliverystream/{}",
            self.delivery_stream
        )
    }
}

/// A contact-record stream fed by Kinesis, for the benchmarks and tests that name no stream.
pub const CONTACT_RECORDS: Source<'static> = Source {
    delivery_stream: "connect-lake-ctr",
    kinesis_stream: Some("connect-lake-ctr"),
};

/// Splits records into requests of at most `max_bytes` of request JSON (approximately: the
/// base64 payloads plus per-record framing), as Firehose's buffer would.
pub fn batches(
    source: Source<'_>,
    records: &[Vec<u8>],
    max_bytes: usize,
    first_arrival_ms: i64,
) -> Vec<FirehoseRequest> {
    let mut out = Vec::new();
    let mut current: Vec<FirehoseRecord> = Vec::new();
    let mut size = 0usize;
    for (i, data) in records.iter().enumerate() {
        let encoded = STANDARD.encode_to_string(data);
        let record_size = encoded.len() + 120;
        if !current.is_empty() && size + record_size > max_bytes {
            out.push(request(source, std::mem::take(&mut current), out.len()));
            size = 0;
        }
        size += record_size;
        current.push(FirehoseRecord {
            // Shaped like Firehose's ids: the Kinesis sequence number and a suffix.
            record_id: format!("4962{:052}00000000000000{:04}", i, i % 10_000),
            approximate_arrival_timestamp: Some(first_arrival_ms + i as i64),
            data: Some(encoded),
        });
    }
    if !current.is_empty() {
        out.push(request(source, current, out.len()));
    }
    out
}

fn request(source: Source<'_>, records: Vec<FirehoseRecord>, n: usize) -> FirehoseRequest {
    let (region, account) = (crate::generate::REGION, crate::generate::ACCOUNT);
    FirehoseRequest {
        invocation_id: format!("00540a87-5050-496a-84e4-e7d92bbaf5e2-{n:06}"),
        delivery_stream_arn: source.delivery_stream_arn(),
        region: region.to_owned(),
        source_kinesis_stream_arn: source
            .kinesis_stream
            .map(|k| format!("arn:aws:kinesis:{region}:{account}:stream/{k}")),
        records,
    }
}

/// A response that breaks Firehose's contract (Firehose would fail the whole batch).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContractError {
    #[error("response has {got} records for {expected} input records")]
    Count { expected: usize, got: usize },
    #[error("record {index}: id {got:?} where {expected:?} was expected")]
    IdMismatch {
        index: usize,
        expected: String,
        got: String,
    },
    #[error("record {0}: Ok without partition keys table/year/month/day/hour")]
    MissingPartitionKeys(String),
    #[error("record {0}: Ok data is not base64 of one JSON object ending in a newline")]
    BadData(String),
    #[error("record {0}: ProcessingFailed without its original data")]
    LostData(String),
    #[error("response is not valid JSON: {0}")]
    NotJson(String),
}

/// The rows of one dynamic partition: `table/year=/month=/day=/hour=/`.
pub type PartitionKey = (String, String);

/// What one or more transformation responses delivered.
#[derive(Debug, Default, Clone)]
pub struct Delivery {
    pub ok: u64,
    pub dropped: u64,
    pub failed: u64,
    /// The original data of failed records, by record id (what Firehose writes to the error prefix).
    pub failed_records: Vec<(String, String)>,
    /// Newline-delimited rows, keyed by table and partition prefix.
    pub partitions: BTreeMap<PartitionKey, Vec<u8>>,
    pub rows_per_table: BTreeMap<String, u64>,
}

impl Delivery {
    /// Checks `response` against `request` and adds its rows.
    ///
    /// # Errors
    /// The first contract violation found; nothing is added then.
    pub fn add(&mut self, request: &FirehoseRequest, response_body: &[u8]) -> Result<(), ContractError> {
        let response: FirehoseResponse =
            serde_json::from_slice(response_body).map_err(|e| ContractError::NotJson(e.to_string()))?;
        if response.records.len() != request.records.len() {
            return Err(ContractError::Count {
                expected: request.records.len(),
                got: response.records.len(),
            });
        }
        let input: HashMap<&str, &FirehoseRecord> = request.records.iter().map(|r| (r.record_id.as_str(), r)).collect();
        let mut staged = Delivery::default();
        for (index, (req, out)) in request.records.iter().zip(&response.records).enumerate() {
            if req.record_id != out.record_id {
                return Err(ContractError::IdMismatch {
                    index,
                    expected: req.record_id.clone(),
                    got: out.record_id.clone(),
                });
            }
            match out.result {
                RecordResult::Ok => {
                    let keys = out.metadata.as_ref().map(|m| &m.partition_keys);
                    let get = |k: &str| keys.and_then(|m| m.get(k)).cloned();
                    let (Some(table), Some(year), Some(month), Some(day), Some(hour)) =
                        (get("table"), get("year"), get("month"), get("day"), get("hour"))
                    else {
                        return Err(ContractError::MissingPartitionKeys(out.record_id.clone()));
                    };
                    let data = STANDARD
                        .decode_to_vec(&out.data)
                        .map_err(|_| ContractError::BadData(out.record_id.clone()))?;
                    let one_object = data.last() == Some(&b'\n')
                        && serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&data).is_ok();
                    if !one_object {
                        return Err(ContractError::BadData(out.record_id.clone()));
                    }
                    let prefix = format!("{table}/year={year}/month={month}/day={day}/hour={hour}/");
                    staged
                        .partitions
                        .entry((table.clone(), prefix))
                        .or_default()
                        .extend_from_slice(&data);
                    *staged.rows_per_table.entry(table).or_default() += 1;
                    staged.ok += 1;
                }
                RecordResult::Dropped => staged.dropped += 1,
                RecordResult::ProcessingFailed => {
                    let original = input
                        .get(out.record_id.as_str())
                        .and_then(|r| r.data.clone())
                        .unwrap_or_default();
                    if original != out.data {
                        return Err(ContractError::LostData(out.record_id.clone()));
                    }
                    staged.failed += 1;
                    staged.failed_records.push((out.record_id.clone(), out.data.clone()));
                }
            }
        }
        self.merge(staged);
        Ok(())
    }

    /// Adds another delivery's counts and rows to this one.
    pub fn merge(&mut self, other: Delivery) {
        self.ok += other.ok;
        self.dropped += other.dropped;
        self.failed += other.failed;
        self.failed_records.extend(other.failed_records);
        for (k, v) in other.partitions {
            self.partitions.entry(k).or_default().extend(v);
        }
        for (k, v) in other.rows_per_table {
            *self.rows_per_table.entry(k).or_default() += v;
        }
    }

    /// The rows of every partition, parsed.
    pub fn rows(&self) -> impl Iterator<Item = (&PartitionKey, serde_json::Value)> + '_ {
        self.partitions.iter().flat_map(|(k, data)| {
            data.split(|b| *b == b'\n')
                .filter(|l| !l.is_empty())
                .filter_map(move |l| serde_json::from_slice(l).ok().map(|v| (k, v)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use firehose_transform::firehose::{FirehoseResponseRecord, Metadata};

    #[test]
    fn batches_respect_the_byte_budget_and_keep_every_record() {
        let records: Vec<Vec<u8>> = (0..100).map(|i| vec![b'x'; 1000 + i]).collect();
        let b = batches(CONTACT_RECORDS, &records, 20_000, 0);
        assert!(b.len() > 1);
        assert_eq!(b.iter().map(|r| r.records.len()).sum::<usize>(), 100);
        for req in &b {
            let size: usize = req.records.iter().map(|r| r.data.as_ref().unwrap().len() + 120).sum();
            assert!(size <= 20_000);
        }
        let ids: std::collections::HashSet<_> = b
            .iter()
            .flat_map(|r| r.records.iter().map(|x| x.record_id.clone()))
            .collect();
        assert_eq!(ids.len(), 100, "record ids are unique");
    }

    #[test]
    fn contract_violations_are_caught() {
        let req = batches(
            CONTACT_RECORDS,
            &[b"{}".to_vec(), b"{}".to_vec()],
            DEFAULT_BATCH_BYTES,
            0,
        )
        .remove(0);
        let ok = |id: &str| FirehoseResponseRecord {
            record_id: id.to_owned(),
            result: RecordResult::Ok,
            data: STANDARD.encode_to_string("{\"a\":1}\n"),
            metadata: Some(Metadata {
                partition_keys: [
                    ("table", "ctr"),
                    ("year", "2026"),
                    ("month", "03"),
                    ("day", "08"),
                    ("hour", "10"),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            }),
        };
        let ids: Vec<String> = req.records.iter().map(|r| r.record_id.clone()).collect();
        let body = |recs: Vec<FirehoseResponseRecord>| serde_json::to_vec(&FirehoseResponse { records: recs }).unwrap();
        let mut d = Delivery::default();
        assert!(matches!(
            d.add(&req, &body(vec![ok(&ids[0])])),
            Err(ContractError::Count { .. })
        ));
        assert!(matches!(
            d.add(&req, &body(vec![ok(&ids[1]), ok(&ids[0])])),
            Err(ContractError::IdMismatch { .. })
        ));
        let mut no_newline = ok(&ids[1]);
        no_newline.data = STANDARD.encode_to_string("{\"a\":1}");
        assert!(matches!(
            d.add(&req, &body(vec![ok(&ids[0]), no_newline])),
            Err(ContractError::BadData(_))
        ));
        let mut lost = ok(&ids[1]);
        lost.result = RecordResult::ProcessingFailed;
        lost.data = String::new();
        assert!(matches!(
            d.add(&req, &body(vec![ok(&ids[0]), lost])),
            Err(ContractError::LostData(_))
        ));
        assert_eq!(d.ok, 0, "nothing is added from a bad response");
        d.add(&req, &body(vec![ok(&ids[0]), ok(&ids[1])])).unwrap();
        assert_eq!(d.ok, 2);
        assert_eq!(d.partitions.len(), 1);
        assert_eq!(d.rows().count(), 2);
    }
}
