//! CloudWatch metric-stream records (JSON output format) to `connect_metrics` rows.
//!
//! A metric stream writes each Firehose record as several JSON objects, one per line, each one
//! data point of one metric over one minute:
//! `{"metric_stream_name","account_id","region","namespace","metric_name","dimensions":{...},
//! "timestamp":<epoch ms>,"value":{"max","min","sum","count",...},"unit"}`. Each object becomes
//! one row, and the record's rows go back as one Firehose record of newline-ended rows (Firehose's
//! record format conversion reads several JSON objects in one record).
//!
//! Dynamic partitioning gives one record one partition, so every row of a record must fall in the
//! same UTC hour. The template's delivery stream deaggregates records before this function
//! (one object per record), so a record spanning hours only arrives without it; it fails with
//! `mixed_hours` and keeps its data in the error prefix instead of landing in a wrong partition.

use std::collections::BTreeMap;

use connect_lake::schema::PartitionValues;
use connect_lake::time_fmt::{from_epoch_millis, to_hive_timestamp};
use serde::{Deserialize, Serialize};

/// The `source` of rows written from a metric stream.
pub const SOURCE: &str = "metric_stream";

/// Keys a metric-stream object has and no Connect record has at its top level.
const MARKERS: [&str; 2] = ["\"metric_name\"", "\"namespace\""];

/// One metric-stream object, leniently: unknown keys (additional statistics, new fields) are
/// ignored, and every field but the metric's identity and time may be missing.
#[derive(Debug, Deserialize)]
pub struct MetricStreamObject {
    #[serde(default)]
    pub account_id: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    pub namespace: String,
    pub metric_name: String,
    #[serde(default)]
    pub dimensions: BTreeMap<String, String>,
    /// Start of the one-minute period, epoch milliseconds.
    pub timestamp: i64,
    #[serde(default)]
    pub value: Values,
    #[serde(default)]
    pub unit: Option<String>,
}

/// The statistics of one data point: a metric stream always sends these four.
#[derive(Debug, Default, Deserialize)]
pub struct Values {
    pub max: Option<f64>,
    pub min: Option<f64>,
    pub sum: Option<f64>,
    pub count: Option<f64>,
}

/// One `connect_metrics` row, column for column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricRow {
    pub namespace: String,
    pub metric_name: String,
    pub dimensions: BTreeMap<String, String>,
    pub instance_id: Option<String>,
    pub metric_group: Option<String>,
    pub queue_name: Option<String>,
    pub flow_name: Option<String>,
    /// `YYYY-MM-DD HH:MM:SS.mmm`, UTC.
    pub period_timestamp: String,
    pub unit: Option<String>,
    pub sum_value: Option<f64>,
    pub min_value: Option<f64>,
    pub max_value: Option<f64>,
    pub sample_count: Option<f64>,
    pub avg_value: Option<f64>,
    pub account_id: Option<String>,
    pub region: Option<String>,
    pub source: &'static str,
}

impl MetricRow {
    /// A row with the dimension columns pulled out of `dimensions`; the statistics are unset.
    pub fn new(
        namespace: String,
        metric_name: String,
        dimensions: BTreeMap<String, String>,
        period: time::OffsetDateTime,
        source: &'static str,
    ) -> Self {
        let dim = |name: &str| dimensions.get(name).cloned();
        MetricRow {
            instance_id: dim("InstanceId"),
            metric_group: dim("MetricGroup"),
            queue_name: dim("QueueName"),
            flow_name: dim("ContactFlowName"),
            namespace,
            metric_name,
            dimensions,
            period_timestamp: to_hive_timestamp(period),
            unit: None,
            sum_value: None,
            min_value: None,
            max_value: None,
            sample_count: None,
            avg_value: None,
            account_id: None,
            region: None,
            source,
        }
    }
}

/// Why a metric-stream record yields no rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MetricStreamError {
    #[error("a line is not JSON")]
    NotJson,
    #[error("a line is not a metric-stream object (namespace, metric_name, timestamp)")]
    NotAMetric,
    #[error("the timestamp is not a usable epoch-milliseconds time")]
    BadTimestamp,
    #[error("the data points fall in more than one UTC hour")]
    MixedHours,
}

/// Whether a record's text is metric-stream output rather than a Connect record: its first
/// object parses as a metric-stream object. The substring test first keeps this off the CTR path.
pub fn looks_like_metric_stream(text: &str) -> bool {
    let first = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or_default();
    MARKERS.iter().all(|m| first.contains(m)) && serde_json::from_str::<MetricStreamObject>(first).is_ok()
}

/// The rows of one record, and the hour they all fall in.
#[derive(Debug)]
pub struct Flattened {
    pub rows: Vec<MetricRow>,
    pub partition: PartitionValues,
}

/// Flattens one metric-stream record (newline-separated objects; blank lines ignored).
///
/// # Errors
/// [`MetricStreamError`] when a line is not a metric-stream object, a time is unusable, or the
/// rows fall in more than one hour. The record then fails whole: no row of it is written.
pub fn flatten(text: &str) -> Result<Flattened, MetricStreamError> {
    let mut rows = Vec::new();
    let mut partition: Option<PartitionValues> = None;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let object: MetricStreamObject = serde_json::from_str(line).map_err(|e| match e.classify() {
            serde_json::error::Category::Data => MetricStreamError::NotAMetric,
            _ => MetricStreamError::NotJson,
        })?;
        let period = from_epoch_millis(object.timestamp).ok_or(MetricStreamError::BadTimestamp)?;
        let hour = PartitionValues::for_instant(period);
        match &partition {
            None => partition = Some(hour),
            Some(p) if *p != hour => return Err(MetricStreamError::MixedHours),
            Some(_) => {}
        }
        let mut row = MetricRow::new(object.namespace, object.metric_name, object.dimensions, period, SOURCE);
        row.unit = object.unit;
        row.sum_value = object.value.sum;
        row.min_value = object.value.min;
        row.max_value = object.value.max;
        row.sample_count = object.value.count;
        row.account_id = object.account_id;
        row.region = object.region;
        rows.push(row);
    }
    let partition = partition.ok_or(MetricStreamError::NotAMetric)?;
    Ok(Flattened { rows, partition })
}

#[cfg(test)]
mod tests {
    use super::*;
    use connect_lake::schema::{CONNECT_METRICS, row_problems};

    /// AWS's documented example object (CloudWatch User Guide, "CloudWatch metric stream output
    /// in JSON format"), on one line as the stream writes it, with Connect's names.
    fn object(metric: &str, dims: &str, ts: i64) -> String {
        format!(
            r#"{{"metric_stream_name":"connect-lake-metrics","account_id":"123456789012","region":"us-east-1","namespace":"AWS/Connect","metric_name":"{metric}","dimensions":{dims},"timestamp":{ts},"value":{{"count":3.0,"sum":12.0,"max":6.0,"min":1.0}},"unit":"Count"}}"#
        )
    }

    const QUEUE: &str =
        r#"{"InstanceId":"11111111-2222-3333-4444-555555555555","MetricGroup":"Queue","QueueName":"Support"}"#;

    #[test]
    fn several_objects_of_one_hour_become_rows_of_the_schema() {
        // 2026-03-04 05:06:00 UTC and a minute later.
        let text = format!(
            "{}\n{}\n",
            object("QueueSize", QUEUE, 1_772_600_760_000),
            object(
                "ContactFlowErrors",
                r#"{"InstanceId":"i","MetricGroup":"ContactFlow","ContactFlowName":"Main"}"#,
                1_772_600_820_000
            )
        );
        let flat = flatten(&text).unwrap();
        assert_eq!(flat.partition.to_vec(), ["2026", "03", "04", "05"]);
        assert_eq!(flat.rows.len(), 2);
        let q = &flat.rows[0];
        assert_eq!(q.period_timestamp, "2026-03-04 05:06:00.000");
        assert_eq!(q.queue_name.as_deref(), Some("Support"));
        assert_eq!(q.metric_group.as_deref(), Some("Queue"));
        assert_eq!(q.instance_id.as_deref(), Some("11111111-2222-3333-4444-555555555555"));
        assert_eq!(
            (q.sum_value, q.min_value, q.max_value, q.sample_count),
            (Some(12.0), Some(1.0), Some(6.0), Some(3.0))
        );
        assert_eq!(q.avg_value, None, "a metric stream sends no average");
        assert_eq!(flat.rows[1].flow_name.as_deref(), Some("Main"));
        for row in &flat.rows {
            let value = serde_json::to_value(row).unwrap();
            assert_eq!(row_problems(&CONNECT_METRICS, &value, true), Vec::<String>::new());
        }
    }

    #[test]
    fn rows_of_two_hours_in_one_record_fail_the_record() {
        let text = format!(
            "{}\n{}",
            object("QueueSize", QUEUE, 1_772_600_340_000), // 04:59
            object("QueueSize", QUEUE, 1_772_600_400_000)  // 05:00
        );
        assert_eq!(flatten(&text).unwrap_err(), MetricStreamError::MixedHours);
    }

    #[test]
    fn a_bad_line_fails_the_whole_record() {
        let good = object("QueueSize", QUEUE, 1_772_600_760_000);
        assert_eq!(
            flatten(&format!("{good}\n{{not json")).unwrap_err(),
            MetricStreamError::NotJson
        );
        assert_eq!(
            flatten(&format!("{good}\n{{\"namespace\":\"AWS/Connect\"}}")).unwrap_err(),
            MetricStreamError::NotAMetric
        );
        assert_eq!(
            flatten(&object("QueueSize", QUEUE, i64::MAX)).unwrap_err(),
            MetricStreamError::BadTimestamp
        );
        assert_eq!(flatten("\n \n").unwrap_err(), MetricStreamError::NotAMetric);
    }

    #[test]
    fn metric_stream_text_is_told_from_connect_records() {
        assert!(looks_like_metric_stream(&object("QueueSize", QUEUE, 1)));
        assert!(!looks_like_metric_stream(
            r#"{"ContactId":"c","Attributes":{"namespace":"x","metric_name":"y"}}"#
        ));
        assert!(!looks_like_metric_stream(r#"{"EventType":"LOGIN","AgentARN":"a"}"#));
    }

    #[test]
    fn additional_statistics_and_unknown_keys_are_ignored() {
        let line = r#"{"namespace":"ConnectLake","metric_name":"RecordsIn","dimensions":{"Function":"firehose-transform"},"timestamp":1772600760000,"value":{"count":1.0,"sum":5.0,"max":5.0,"min":5.0,"p99":5.0},"unit":"Count","new_field":true}"#;
        let flat = flatten(line).unwrap();
        assert_eq!(flat.rows[0].namespace, "ConnectLake");
        assert_eq!(flat.rows[0].dimensions["Function"], "firehose-transform");
        assert_eq!(flat.rows[0].account_id, None);
    }
}
