//! `lakectl metrics backfill`: the past days of Amazon Connect's CloudWatch metrics into the
//! `connect_metrics` table, for the time before the metric stream existed.
//!
//! CloudWatch keeps one-minute data points for 15 days. The backfill discovers the namespace's
//! metrics with `ListMetrics` (paginated), then reads them with `GetMetricData` in calls that stay
//! inside its limits: at most [`MAX_QUERIES_PER_CALL`] queries and [`MAX_POINTS_PER_CALL`] data
//! points per call, every call's pages followed through `NextToken`. Each metric is asked for its
//! five statistics over one-minute periods, and each (metric, minute) becomes one row, the same
//! row the metric stream writes (`source` says which wrote it).
//!
//! Idempotent: the window is whole UTC hours ending before the current hour, and each hour's rows
//! go to one object with a deterministic key, so a re-run overwrites the same objects with the
//! same rows and registers no new partition. A throttled call is retried with exponential backoff;
//! a query CloudWatch answers only in part (`PartialData`, `InternalError`, `Forbidden`) is
//! reported and makes the run fail, so that a re-run fills it in.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_cloudwatch::error::ProvideErrorMetadata;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{
    DimensionFilter, Metric, MetricDataQuery, MetricDataResult, MetricStat, ScanBy, StatusCode,
};
use aws_sdk_s3::primitives::ByteStream;
use connect_lake::config::LakeFormat;
use connect_lake::schema::{CONNECT_METRICS, PartitionValues};
use firehose_transform::metric_stream::MetricRow;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use time::OffsetDateTime;

use crate::aws_error::{AwsCallError, aws};

/// `GetMetricData` takes at most 500 queries per call.
pub const MAX_QUERIES_PER_CALL: usize = 500;
/// `GetMetricData` returns at most 100,800 data points per call.
pub const MAX_POINTS_PER_CALL: u64 = 100_800;
/// One-minute periods: CloudWatch keeps them for 15 days, and the metric stream sends the same.
pub const PERIOD_SECONDS: i32 = 60;
/// The longest window CloudWatch still holds at one-minute resolution.
pub const MAX_DAYS: u32 = 15;
/// The statistics asked for each metric, with the id suffix of their query.
const STATS: [(&str, &str); 5] = [
    ("Sum", "sum"),
    ("Minimum", "min"),
    ("Maximum", "max"),
    ("SampleCount", "n"),
    ("Average", "avg"),
];
/// The `source` of rows written by the backfill.
pub const SOURCE: &str = "backfill";
/// Error codes CloudWatch throttles with.
const THROTTLING_CODES: [&str; 4] = [
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
];

#[derive(Debug, Clone)]
pub struct MetricsBackfillOptions {
    pub bucket: String,
    pub database: String,
    /// `AWS/Connect` by default.
    pub namespace: String,
    /// Only the metrics of this Connect instance (the `InstanceId` dimension).
    pub instance_id: Option<String>,
    /// Whole hours from `until - days` to `until`.
    pub days: u32,
    /// End of the window (exclusive), rounded down to the hour.
    pub until: OffsetDateTime,
    /// The format when the catalog has no `connect_metrics` table yet.
    pub format: LakeFormat,
    pub progress: bool,
    /// Attempts of a throttled call, the first included.
    pub max_attempts: u32,
    /// The first retry waits this long; each further one twice as long.
    pub first_backoff: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Aws(#[from] AwsCallError),
    #[error("{call} was still throttled after {attempts} attempts; run again later")]
    Throttled { call: &'static str, attempts: u32 },
    #[error("writing rows: {0}")]
    Write(String),
    #[error("cataloging failed: {0}")]
    Catalog(String),
}

/// What a backfill did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricsReport {
    pub metrics: u64,
    /// `GetMetricData` calls, pages included.
    pub calls: u64,
    pub throttled_retries: u64,
    pub rows: u64,
    pub objects: u64,
    pub partitions_created: u64,
    pub partitions_existing: u64,
    /// Queries CloudWatch answered only in part: `<metric> <stat>: <status> <messages>`.
    pub incomplete: Vec<String>,
    /// Messages `GetMetricData` returned about a call as a whole.
    pub messages: Vec<String>,
}

impl MetricsReport {
    pub fn summary(&self) -> String {
        let mut out = format!(
            "{} metrics, {} GetMetricData calls ({} throttled and retried), {} rows in {} objects; \
             partitions: {} new, {} already registered",
            self.metrics,
            self.calls,
            self.throttled_retries,
            self.rows,
            self.objects,
            self.partitions_created,
            self.partitions_existing
        );
        for message in &self.messages {
            out.push_str("\nCloudWatch said: ");
            out.push_str(message);
        }
        if !self.incomplete.is_empty() {
            out.push_str(&format!(
                "\n{} queries came back incomplete; run the same command again to fill them in:",
                self.incomplete.len()
            ));
            for line in self.incomplete.iter().take(20) {
                out.push_str("\n  ");
                out.push_str(line);
            }
        }
        out
    }
}

/// The window: whole UTC hours, `days` of them back from `until` rounded down to its hour.
///
/// # Errors
/// `days` outside 1..=15.
pub fn window(until: OffsetDateTime, days: u32) -> Result<(OffsetDateTime, OffsetDateTime), MetricsError> {
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(MetricsError::Config(format!(
            "--days must be 1 to {MAX_DAYS} (CloudWatch keeps one-minute data points for 15 days), got {days}"
        )));
    }
    let until = until.to_offset(time::UtcOffset::UTC);
    let end = until
        .replace_minute(0)
        .and_then(|t| t.replace_second(0))
        .and_then(|t| t.replace_nanosecond(0))
        .map_err(|e| MetricsError::Config(e.to_string()))?;
    Ok((end - time::Duration::days(i64::from(days)), end))
}

/// One `GetMetricData` call: a slice of the metrics over a slice of the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallPlan {
    pub metrics: std::ops::Range<usize>,
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
}

/// Splits the window into whole days (the last part shorter) and the metrics into groups whose
/// queries and data points fit one call.
pub fn plan(metric_count: usize, start: OffsetDateTime, end: OffsetDateTime) -> Vec<CallPlan> {
    let mut calls = Vec::new();
    let mut from = start;
    while from < end {
        let to = (from + time::Duration::days(1)).min(end);
        let points = ((to - from).whole_seconds() / i64::from(PERIOD_SECONDS)).max(1) as u64;
        let by_points = (MAX_POINTS_PER_CALL / (points * STATS.len() as u64)).max(1) as usize;
        let per_call = by_points.min(MAX_QUERIES_PER_CALL / STATS.len());
        let mut first = 0;
        while first < metric_count {
            let last = (first + per_call).min(metric_count);
            calls.push(CallPlan {
                metrics: first..last,
                start: from,
                end: to,
            });
            first = last;
        }
        from = to;
    }
    calls
}

/// The queries of one call: five statistics for each metric, with ids `m<index>_<stat>`.
pub fn queries(metrics: &[Metric], range: std::ops::Range<usize>) -> Vec<MetricDataQuery> {
    let mut out = Vec::with_capacity(range.len() * STATS.len());
    for i in range {
        let Some(metric) = metrics.get(i) else { continue };
        for (stat, suffix) in STATS {
            out.push(
                MetricDataQuery::builder()
                    .id(format!("m{i}_{suffix}"))
                    .metric_stat(
                        MetricStat::builder()
                            .metric(metric.clone())
                            .period(PERIOD_SECONDS)
                            .stat(stat)
                            .build(),
                    )
                    .return_data(true)
                    .build(),
            );
        }
    }
    out
}

/// Rows from the (paged, merged) results of one call: one per metric and minute.
pub fn rows(metrics: &[Metric], results: &[MetricDataResult]) -> Vec<MetricRow> {
    let mut by_key: BTreeMap<(usize, i64), MetricRow> = BTreeMap::new();
    for result in results {
        let Some((index, suffix)) = result
            .id()
            .and_then(|id| id.strip_prefix('m'))
            .and_then(|rest| rest.split_once('_'))
            .and_then(|(i, s)| Some((i.parse::<usize>().ok()?, s)))
        else {
            continue;
        };
        let Some(metric) = metrics.get(index) else { continue };
        for (ts, value) in result.timestamps().iter().zip(result.values()) {
            let Ok(at) = OffsetDateTime::from_unix_timestamp(ts.secs()) else {
                continue;
            };
            let row = by_key.entry((index, ts.secs())).or_insert_with(|| {
                let dimensions = metric
                    .dimensions()
                    .iter()
                    .filter_map(|d| Some((d.name()?.to_owned(), d.value()?.to_owned())))
                    .collect();
                MetricRow::new(
                    metric.namespace().unwrap_or_default().to_owned(),
                    metric.metric_name().unwrap_or_default().to_owned(),
                    dimensions,
                    at,
                    SOURCE,
                )
            });
            let slot = match suffix {
                "sum" => &mut row.sum_value,
                "min" => &mut row.min_value,
                "max" => &mut row.max_value,
                "n" => &mut row.sample_count,
                "avg" => &mut row.avg_value,
                _ => continue,
            };
            *slot = Some(*value);
        }
    }
    by_key.into_values().collect()
}

/// `AWS/Connect` → `aws-connect`: the namespace as it appears in object keys.
fn slug(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// The object key of one hour's backfilled rows: the same for every run over that hour.
pub fn object_key(p: &PartitionValues, namespace: &str, instance_id: Option<&str>, format: LakeFormat) -> String {
    let extension = match format {
        LakeFormat::Parquet => "parquet",
        LakeFormat::Json => "json",
    };
    let scope = instance_id.map_or_else(|| "all".to_owned(), slug);
    format!(
        "{}backfill-{}-{scope}.{extension}",
        p.prefix(CONNECT_METRICS.name),
        slug(namespace)
    )
}

fn is_throttling<E: ProvideErrorMetadata>(e: &E) -> bool {
    e.code().is_some_and(|c| THROTTLING_CODES.contains(&c))
}

pub struct MetricsBackfill {
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub s3: aws_sdk_s3::Client,
    pub glue: aws_sdk_glue::Client,
    pub cataloger: s3_cataloger::Cataloger,
    pub options: MetricsBackfillOptions,
}

impl MetricsBackfill {
    pub fn new(config: &aws_config::SdkConfig, options: MetricsBackfillOptions) -> Self {
        let cataloger_config = s3_cataloger::Config {
            lake_bucket: options.bucket.clone(),
            database: options.database.clone(),
            format: options.format,
            metrics_namespace: "ConnectLake".to_owned(),
        };
        MetricsBackfill {
            cloudwatch: aws_sdk_cloudwatch::Client::new(config),
            s3: connect_lake::aws::s3_client(config),
            glue: aws_sdk_glue::Client::new(config),
            cataloger: s3_cataloger::Cataloger::new(aws_sdk_glue::Client::new(config), cataloger_config),
            options,
        }
    }

    /// Every metric of the namespace (and instance), through all `ListMetrics` pages.
    ///
    /// # Errors
    /// A failed call, or one still throttled after the retries.
    pub async fn list_metrics(&self, report: &mut MetricsReport) -> Result<Vec<Metric>, MetricsError> {
        let mut metrics = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut attempt = 0;
            let page = loop {
                attempt += 1;
                let mut call = self
                    .cloudwatch
                    .list_metrics()
                    .namespace(&self.options.namespace)
                    .set_next_token(token.clone());
                if let Some(instance) = &self.options.instance_id {
                    call = call.dimensions(DimensionFilter::builder().name("InstanceId").value(instance).build());
                }
                match call.send().await {
                    Ok(page) => break page,
                    Err(e) if is_throttling(&e) => self.back_off("ListMetrics", attempt, report).await?,
                    Err(e) => return Err(aws("ListMetrics")(e).into()),
                }
            };
            metrics.extend(page.metrics().iter().cloned());
            token = page.next_token().map(str::to_owned).filter(|t| !t.is_empty());
            if token.is_none() {
                return Ok(metrics);
            }
        }
    }

    /// Waits before the next attempt of a throttled call, or gives up after the last.
    async fn back_off(&self, call: &'static str, attempt: u32, report: &mut MetricsReport) -> Result<(), MetricsError> {
        if attempt >= self.options.max_attempts {
            return Err(MetricsError::Throttled {
                call,
                attempts: attempt,
            });
        }
        report.throttled_retries += 1;
        let wait = self
            .options
            .first_backoff
            .saturating_mul(1u32 << (attempt - 1).min(10))
            .min(Duration::from_secs(30));
        if self.options.progress {
            eprintln!(
                "{call} throttled (attempt {attempt}); retrying in {} ms",
                wait.as_millis()
            );
        }
        tokio::time::sleep(wait).await;
        Ok(())
    }

    /// One planned call, every page of it: the results merged by query id, and what came back
    /// incomplete.
    ///
    /// # Errors
    /// A failed call, or one still throttled after the retries.
    pub async fn fetch(
        &self,
        metrics: &[Metric],
        call: &CallPlan,
        report: &mut MetricsReport,
    ) -> Result<Vec<MetricDataResult>, MetricsError> {
        let queries = queries(metrics, call.metrics.clone());
        let mut merged: BTreeMap<String, MetricDataResult> = BTreeMap::new();
        let mut token: Option<String> = None;
        loop {
            let mut attempt = 0;
            let page = loop {
                attempt += 1;
                let sent = self
                    .cloudwatch
                    .get_metric_data()
                    .set_metric_data_queries(Some(queries.clone()))
                    .start_time(DateTime::from_secs(call.start.unix_timestamp()))
                    .end_time(DateTime::from_secs(call.end.unix_timestamp()))
                    .scan_by(ScanBy::TimestampAscending)
                    .max_datapoints(MAX_POINTS_PER_CALL as i32)
                    .set_next_token(token.clone())
                    .send()
                    .await;
                match sent {
                    Ok(page) => break page,
                    Err(e) if is_throttling(&e) => self.back_off("GetMetricData", attempt, report).await?,
                    Err(e) => return Err(aws("GetMetricData")(e).into()),
                }
            };
            report.calls += 1;
            // Messages about the call as a whole (a time range or metric count CloudWatch cut
            // short, say) are kept for the report.
            report.messages.extend(
                page.messages()
                    .iter()
                    .map(|m| format!("{}: {}", m.code().unwrap_or("?"), m.value().unwrap_or(""))),
            );
            for result in page.metric_data_results() {
                let Some(id) = result.id() else { continue };
                match merged.get_mut(id) {
                    None => {
                        merged.insert(id.to_owned(), result.clone());
                    }
                    Some(existing) => {
                        // A later page carries on the same query: its points are added, and its
                        // status (Complete, or still PartialData) is the one that stands.
                        let mut builder = MetricDataResult::builder()
                            .id(id)
                            .set_label(existing.label().map(str::to_owned))
                            .set_timestamps(Some(
                                existing
                                    .timestamps()
                                    .iter()
                                    .chain(result.timestamps())
                                    .copied()
                                    .collect(),
                            ))
                            .set_values(Some(existing.values().iter().chain(result.values()).copied().collect()))
                            .set_messages(Some(result.messages().to_vec()));
                        if let Some(status) = result.status_code() {
                            builder = builder.status_code(status.clone());
                        }
                        *existing = builder.build();
                    }
                }
            }
            token = page.next_token().map(str::to_owned).filter(|t| !t.is_empty());
            if token.is_none() {
                break;
            }
        }
        for (id, result) in &merged {
            let status = result.status_code().cloned().unwrap_or(StatusCode::Complete);
            if status != StatusCode::Complete {
                let messages: Vec<String> = result
                    .messages()
                    .iter()
                    .map(|m| format!("{}: {}", m.code().unwrap_or("?"), m.value().unwrap_or("")))
                    .collect();
                let metric = id
                    .strip_prefix('m')
                    .and_then(|r| r.split_once('_'))
                    .and_then(|(i, _)| i.parse::<usize>().ok())
                    .and_then(|i| metrics.get(i))
                    .map(|m| m.metric_name().unwrap_or_default().to_owned())
                    .unwrap_or_default();
                report.incomplete.push(format!(
                    "{metric} ({id}) {} {}: {}",
                    call.start,
                    status.as_str(),
                    messages.join("; ")
                ));
            }
        }
        Ok(merged.into_values().collect())
    }

    /// The format of `connect_metrics`: an existing catalog table's SerDe decides (Athena reads
    /// only one format per table); otherwise the configured one.
    async fn format(&self) -> Result<LakeFormat, MetricsError> {
        let existing = crate::lake::table_format(&self.glue, &self.options.database, CONNECT_METRICS.name).await?;
        Ok(existing.map_or(self.options.format, |(format, _)| format))
    }

    /// Writes each hour's rows to its object and registers the partitions.
    async fn write(
        &self,
        rows: Vec<MetricRow>,
        format: LakeFormat,
        report: &mut MetricsReport,
    ) -> Result<(), MetricsError> {
        let mut hours: BTreeMap<PartitionValues, Vec<u8>> = BTreeMap::new();
        for row in rows {
            let Some(at) = connect_lake::time_fmt::parse_hive_timestamp(&row.period_timestamp) else {
                continue;
            };
            let lines = hours.entry(PartitionValues::for_instant(at)).or_default();
            serde_json::to_writer(&mut *lines, &row).map_err(|e| MetricsError::Write(e.to_string()))?;
            lines.push(b'\n');
            report.rows += 1;
        }
        let mut keys = Vec::new();
        for (hour, lines) in hours {
            let key = object_key(
                &hour,
                &self.options.namespace,
                self.options.instance_id.as_deref(),
                format,
            );
            let body = match format {
                LakeFormat::Json => lines,
                LakeFormat::Parquet => {
                    let converted = crate::convert::rows_to_parquet(&CONNECT_METRICS, &lines)
                        .map_err(|e| MetricsError::Write(e.to_string()))?;
                    if let Some(failed) = converted.failed.first() {
                        return Err(MetricsError::Write(format!(
                            "a row does not convert to the table's Parquet schema: {}",
                            failed.reason
                        )));
                    }
                    let Some(bytes) = converted.parquet else { continue };
                    bytes
                }
            };
            self.s3
                .put_object()
                .bucket(&self.options.bucket)
                .key(&key)
                .body(ByteStream::from(body))
                .send()
                .await
                .map_err(aws("PutObject"))?;
            keys.push(key);
        }
        if keys.is_empty() {
            return Ok(());
        }
        report.objects += keys.len() as u64;
        let notification = json!({"Records": keys.iter().map(|k| json!({
            "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
            "s3": {"bucket": {"name": self.options.bucket}, "object": {"key": k, "size": 1}},
        })).collect::<Vec<_>>()});
        let (result, catalog) = self.cataloger.process(&notification).await;
        result.map_err(|e| MetricsError::Catalog(e.to_string()))?;
        report.partitions_created += catalog.partitions_created;
        report.partitions_existing += catalog.partitions_existing + catalog.partitions_cached;
        Ok(())
    }

    /// Runs the backfill.
    ///
    /// # Errors
    /// A bad window, an AWS call that fails (or stays throttled), a row that does not convert, or
    /// cataloging that fails. Incomplete query results are not errors: they are in the report.
    pub async fn run(&self) -> Result<MetricsReport, MetricsError> {
        let (start, end) = window(self.options.until, self.options.days)?;
        let mut report = MetricsReport::default();
        let format = self.format().await?;
        let metrics = self.list_metrics(&mut report).await?;
        report.metrics = metrics.len() as u64;
        let calls = plan(metrics.len(), start, end);
        let pb = if self.options.progress {
            ProgressBar::new(calls.len() as u64)
        } else {
            ProgressBar::hidden()
        };
        pb.set_style(
            ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} calls {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        pb.set_prefix(self.options.namespace.clone());
        // The calls of one day are written together, so each hour's object holds every metric.
        let mut index = 0;
        while index < calls.len() {
            let day_start = calls[index].start;
            let mut day_rows = Vec::new();
            while let Some(call) = calls.get(index).filter(|c| c.start == day_start) {
                let results = self.fetch(&metrics, call, &mut report).await?;
                day_rows.extend(rows(&metrics, &results));
                pb.set_message(format!("{} rows", report.rows + day_rows.len() as u64));
                pb.inc(1);
                index += 1;
            }
            self.write(day_rows, format, &mut report).await?;
        }
        pb.finish();
        Ok(report)
    }
}

#[cfg(test)]
mod tests;
