//! What a contact's record in the lake's `ctr` table says about its recording.
//!
//! Two decisions need the contact record, not the recording:
//! - the stereo layout: Connect puts the agent in the right channel of an agent interaction, but
//!   the customer in the right channel (and system prompts in the left) of an automated (IVR)
//!   interaction ("Where are recordings and transcripts stored?", admin guide). A contact whose
//!   record has no `Agent` and no `Agent.ConnectedToAgentTimestamp` never reached an agent;
//! - whether Contact Lens already analyses the call
//!   (`ContactLens.ConversationalAnalytics.Configuration.Enabled`), so transcribing it again
//!   would pay twice for the same sentiment.
//!
//! The firehose-transform writes those facts as `agent_connected_timestamp`, `agent_arn` and
//! `contact_lens_enabled` of the contact's `ctr` rows, partitioned by the hour of
//! `InitiationTimestamp`. The lookup reads the rows of the contact's hour and the hour before
//! (a recording's time can be a little after the contact's start), from JSON-lines objects and
//! from Snappy Parquet objects alike, and the copy with the greatest `last_update_timestamp`
//! wins, as for every reader of the table. Nothing found is not an error: the caller keeps its
//! default (the agent layout; transcribe).

use aws_sdk_s3::Client;
use connect_lake::schema::{CTR, PartitionValues};
use serde_json::Value;
use time::{Duration, OffsetDateTime};

use crate::aws_error::error_code;

/// At most this many objects of a partition are read for one lookup: a lake whose hourly `ctr`
/// partition holds more is compacted or very busy, and the lookup then answers "not found"
/// rather than stall a transcript for minutes.
pub const MAX_OBJECTS: usize = 200;

/// What the latest copy of a contact's record says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContactFacts {
    /// Whether the contact was ever connected to an agent.
    pub agent_connected: bool,
    /// Whether Contact Lens conversational analytics was enabled for it, when the record says.
    pub contact_lens_enabled: Option<bool>,
}

impl ContactFacts {
    /// The facts of one `ctr` row.
    pub fn from_row(row: &Value) -> Self {
        let present = |k: &str| row.get(k).is_some_and(|v| !v.is_null());
        ContactFacts {
            agent_connected: present("agent_connected_timestamp") || present("agent_arn"),
            contact_lens_enabled: row.get("contact_lens_enabled").and_then(Value::as_bool),
        }
    }
}

/// Why a lookup could not be made. Retrying may help.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("could not list the ctr partition: {code}")]
    List { code: String },
    #[error("could not read a ctr object: {code}")]
    Read { code: String },
}

/// The latest copy among rows: `(last_update_timestamp, facts)`. Hive timestamps
/// (`YYYY-MM-DD HH:MM:SS.mmm`) order as strings; a row without one loses to any row with one.
#[derive(Debug, Default)]
struct Latest {
    best: Option<(String, ContactFacts)>,
}

impl Latest {
    fn offer(&mut self, last_update: Option<&str>, facts: ContactFacts) {
        let stamp = last_update.unwrap_or_default();
        if self.best.as_ref().is_none_or(|(b, _)| stamp >= b.as_str()) {
            self.best = Some((stamp.to_owned(), facts));
        }
    }
}

/// The facts of `contact_id` in the JSON lines of one object, if any line is that contact's.
pub fn find_in_json_lines(bytes: &[u8], contact_id: &str) -> Option<ContactFacts> {
    let mut latest = Latest::default();
    scan_json_lines(bytes, contact_id, &mut latest);
    latest.best.map(|(_, f)| f)
}

fn scan_json_lines(bytes: &[u8], contact_id: &str, latest: &mut Latest) {
    let needle = contact_id.as_bytes();
    for line in bytes.split(|b| *b == b'\n') {
        // Cheap filter first: most lines are other contacts.
        if line.len() < needle.len() || !line.windows(needle.len()).any(|w| w == needle) {
            continue;
        }
        let Ok(row) = serde_json::from_slice::<Value>(line) else {
            continue;
        };
        if row.get("contact_id").and_then(Value::as_str) != Some(contact_id) {
            continue;
        }
        latest.offer(
            row.get("last_update_timestamp").and_then(Value::as_str),
            ContactFacts::from_row(&row),
        );
    }
}

/// Parquet files start (and end) with these four bytes.
const PARQUET_MAGIC: &[u8] = b"PAR1";

fn scan_parquet(bytes: Vec<u8>, contact_id: &str, latest: &mut Latest) {
    use arrow_array::Array;
    use arrow_array::cast::AsArray;
    use arrow_array::types::TimestampMillisecondType;
    use parquet::arrow::ProjectionMask;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    let wanted = [
        "contact_id",
        "last_update_timestamp",
        "agent_connected_timestamp",
        "agent_arn",
        "contact_lens_enabled",
    ];
    let Ok(builder) = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes)) else {
        return;
    };
    let schema = builder.parquet_schema();
    let indices: Vec<usize> = schema
        .columns()
        .iter()
        .enumerate()
        .filter(|(_, c)| wanted.contains(&c.path().string().as_str()))
        .map(|(i, _)| i)
        .collect();
    let mask = ProjectionMask::leaves(schema, indices);
    let Ok(reader) = builder.with_projection(mask).build() else {
        return;
    };
    for batch in reader.flatten() {
        let Some(ids) = batch
            .column_by_name("contact_id")
            .and_then(|c| c.as_string_opt::<i32>())
        else {
            continue;
        };
        let millis = |name: &str, row: usize| {
            batch
                .column_by_name(name)
                .and_then(|c| c.as_primitive_opt::<TimestampMillisecondType>())
                .filter(|a| a.is_valid(row))
                .map(|a| a.value(row))
        };
        let present = |name: &str, row: usize| batch.column_by_name(name).is_some_and(|c| c.is_valid(row));
        for row in 0..batch.num_rows() {
            if !ids.is_valid(row) || ids.value(row) != contact_id {
                continue;
            }
            let facts = ContactFacts {
                agent_connected: present("agent_connected_timestamp", row) || present("agent_arn", row),
                contact_lens_enabled: batch
                    .column_by_name("contact_lens_enabled")
                    .and_then(|c| c.as_boolean_opt())
                    .filter(|a| a.is_valid(row))
                    .map(|a| a.value(row)),
            };
            // Milliseconds since the epoch, zero-padded, order like the JSON rows' strings among
            // themselves; one object is all Parquet or all JSON, and a partition is one format.
            let stamp = millis("last_update_timestamp", row).map(|ms| format!("{ms:020}"));
            latest.offer(stamp.as_deref(), facts);
        }
    }
}

/// The facts of `contact_id` from the `ctr` rows of the hour of `at` and the hour before.
///
/// # Errors
/// [`LookupError`] when the lake cannot be listed or read.
pub async fn lookup(
    s3: &Client,
    bucket: &str,
    contact_id: &str,
    at: OffsetDateTime,
) -> Result<Option<ContactFacts>, LookupError> {
    let mut latest = Latest::default();
    let mut read = 0;
    for hour in [at, at - Duration::hours(1)] {
        let prefix = PartitionValues::for_instant(hour).prefix(CTR.name);
        let mut pages = s3
            .list_objects_v2()
            .bucket(bucket)
            .prefix(&prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| LookupError::List { code: error_code(&e) })?;
            for key in page.contents().iter().filter_map(|o| o.key()) {
                if read == MAX_OBJECTS {
                    tracing::warn!(
                        prefix,
                        limit = MAX_OBJECTS,
                        "ctr partition too large to look a contact up"
                    );
                    return Ok(None);
                }
                read += 1;
                let out = match s3.get_object().bucket(bucket).key(key).send().await {
                    Ok(out) => out,
                    // Gone between the listing and the read (a compaction): not this contact's.
                    Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => continue,
                    Err(e) => return Err(LookupError::Read { code: error_code(&e) }),
                };
                let bytes = out
                    .body
                    .collect()
                    .await
                    .map_err(|_| LookupError::Read {
                        code: "BodyReadFailed".to_owned(),
                    })?
                    .into_bytes()
                    .to_vec();
                if bytes.starts_with(PARQUET_MAGIC) {
                    scan_parquet(bytes, contact_id, &mut latest);
                } else {
                    scan_json_lines(&bytes, contact_id, &mut latest);
                }
            }
        }
    }
    Ok(latest.best.map(|(_, f)| f))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_row_without_agent_is_a_contact_that_never_reached_one() {
        let ivr = ContactFacts::from_row(&json!({"contact_id": "c", "contact_lens_enabled": false}));
        assert!(!ivr.agent_connected);
        assert_eq!(ivr.contact_lens_enabled, Some(false));
        let agent = ContactFacts::from_row(&json!({"contact_id": "c",
            "agent_connected_timestamp": "2026-03-08 12:00:05.000"}));
        assert!(agent.agent_connected);
        assert_eq!(agent.contact_lens_enabled, None);
        assert!(ContactFacts::from_row(&json!({"agent_arn": "arn:aws:connect:x"})).agent_connected);
        assert!(!ContactFacts::from_row(&json!({"agent_arn": null})).agent_connected);
    }

    #[test]
    fn the_latest_copy_of_the_contact_wins_and_other_contacts_are_ignored() {
        let lines = [
            json!({"contact_id": "other", "agent_arn": "a", "last_update_timestamp": "2026-03-08 13:00:00.000"}),
            json!({"contact_id": "c1", "last_update_timestamp": "2026-03-08 12:00:10.000"}),
            json!({"contact_id": "c1", "agent_arn": "a", "last_update_timestamp": "2026-03-08 12:05:00.000"}),
            json!({"contact_id": "c1", "last_update_timestamp": "2026-03-08 12:01:00.000"}),
        ];
        let mut body: Vec<u8> = lines.iter().flat_map(|l| format!("{l}\n").into_bytes()).collect();
        body.extend_from_slice(b"not json but mentions c1\n");
        let facts = find_in_json_lines(&body, "c1").unwrap();
        assert!(facts.agent_connected, "the 12:05 copy, which has the agent, wins");
        assert_eq!(find_in_json_lines(&body, "c2"), None);
        assert_eq!(find_in_json_lines(b"", "c1"), None);
    }

    #[test]
    fn a_parquet_ctr_object_is_read_like_the_json_one() {
        use std::sync::Arc;

        use arrow_array::{ArrayRef, BooleanArray, RecordBatch, StringArray, TimestampMillisecondArray};
        use parquet::arrow::ArrowWriter;

        let batch = RecordBatch::try_from_iter([
            (
                "contact_id",
                Arc::new(StringArray::from(vec![Some("ivr"), Some("agent"), Some("agent")])) as ArrayRef,
            ),
            (
                "last_update_timestamp",
                Arc::new(TimestampMillisecondArray::from(vec![
                    Some(1_000),
                    Some(2_000),
                    Some(1_000),
                ])),
            ),
            (
                "agent_arn",
                Arc::new(StringArray::from(vec![None, Some("arn:a"), None])),
            ),
            (
                "contact_lens_enabled",
                Arc::new(BooleanArray::from(vec![Some(true), None, Some(false)])),
            ),
        ])
        .unwrap();
        let mut out = Vec::new();
        let mut writer = ArrowWriter::try_new(&mut out, batch.schema(), None).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        assert!(out.starts_with(PARQUET_MAGIC));

        let facts = |id: &str| {
            let mut latest = Latest::default();
            scan_parquet(out.clone(), id, &mut latest);
            latest.best.map(|(_, f)| f)
        };
        assert_eq!(
            facts("ivr"),
            Some(ContactFacts {
                agent_connected: false,
                contact_lens_enabled: Some(true)
            })
        );
        assert_eq!(
            facts("agent"),
            Some(ContactFacts {
                agent_connected: true,
                contact_lens_enabled: None
            }),
            "the copy updated at 2,000 ms wins over the one at 1,000"
        );
        assert_eq!(facts("nobody"), None);
        let mut latest = Latest::default();
        scan_parquet(b"PAR1 but not parquet".to_vec(), "ivr", &mut latest);
        assert!(latest.best.is_none(), "a broken object is no answer, not a panic");
    }
}
