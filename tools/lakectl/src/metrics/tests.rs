//! The metrics backfill against a mocked CloudWatch (`aws-smithy-mocks`, SDK retries disabled):
//! moto answers the Rust client's Smithy RPC v2 CBOR requests with 404, so pages, throttling and
//! partial results are played here, and every request's shape is asserted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::config::retry::RetryConfig;
use aws_sdk_cloudwatch::error::ErrorMetadata;
use aws_sdk_cloudwatch::operation::get_metric_data::{GetMetricDataError, GetMetricDataInput, GetMetricDataOutput};
use aws_sdk_cloudwatch::operation::list_metrics::{ListMetricsInput, ListMetricsOutput};
use aws_sdk_cloudwatch::types::{Dimension, MessageData};
use aws_smithy_mocks::{MockResponse, RuleMode, mock, mock_client};
use time::macros::datetime;

use super::*;

const INSTANCE: &str = "11111111-2222-3333-4444-555555555555";

fn metric(name: &str, group: &str, key: &str, value: &str) -> Metric {
    Metric::builder()
        .namespace("AWS/Connect")
        .metric_name(name)
        .dimensions(Dimension::builder().name("InstanceId").value(INSTANCE).build())
        .dimensions(Dimension::builder().name("MetricGroup").value(group).build())
        .dimensions(Dimension::builder().name(key).value(value).build())
        .build()
}

fn options() -> MetricsBackfillOptions {
    MetricsBackfillOptions {
        bucket: "lake".into(),
        database: "connect_lake".into(),
        namespace: "AWS/Connect".into(),
        instance_id: Some(INSTANCE.into()),
        days: 1,
        until: datetime!(2026-03-04 05:30:00 UTC),
        format: LakeFormat::Parquet,
        progress: false,
        max_attempts: 4,
        first_backoff: Duration::from_millis(1),
    }
}

/// A backfill whose CloudWatch client is `cloudwatch`; the S3 and Glue clients are never called.
fn backfill(cloudwatch: Client) -> MetricsBackfill {
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .build();
    let mut b = MetricsBackfill::new(&sdk, options());
    b.cloudwatch = cloudwatch;
    b
}

fn throttled() -> GetMetricDataError {
    GetMetricDataError::generic(
        ErrorMetadata::builder()
            .code("Throttling")
            .message("Rate exceeded")
            .build(),
    )
}

#[test]
fn the_window_is_whole_hours_of_at_most_fifteen_days() {
    let (start, end) = window(datetime!(2026-03-04 05:30:12.5 UTC), 15).unwrap();
    assert_eq!(end, datetime!(2026-03-04 05:00 UTC));
    assert_eq!(start, datetime!(2026-02-17 05:00 UTC));
    for bad in [0, 16] {
        let err = window(datetime!(2026-03-04 05:30 UTC), bad).unwrap_err();
        assert!(err.to_string().contains("--days must be 1 to 15"), "{err}");
    }
}

#[test]
fn every_call_stays_inside_get_metric_data_limits_and_the_plan_covers_every_metric_and_minute() {
    let (start, end) = window(datetime!(2026-03-04 05:30 UTC), 15).unwrap();
    for metric_count in [1, 14, 15, 137] {
        let calls = plan(metric_count, start, end);
        let mut covered: BTreeMap<usize, i64> = BTreeMap::new();
        for call in &calls {
            let queries = call.metrics.len() * STATS.len();
            let points = (call.end - call.start).whole_minutes() as u64;
            assert!(queries <= MAX_QUERIES_PER_CALL, "{queries} queries");
            assert!(
                queries as u64 * points <= MAX_POINTS_PER_CALL,
                "{queries} x {points} points"
            );
            for m in call.metrics.clone() {
                *covered.entry(m).or_default() += (call.end - call.start).whole_minutes();
            }
        }
        assert_eq!(covered.len(), metric_count);
        assert!(
            covered.values().all(|m| *m == 15 * 24 * 60),
            "{metric_count}: {covered:?}"
        );
    }
    // 15 days of one-minute points: 14 metrics (70 queries) per one-day call.
    assert_eq!(plan(137, start, end).len(), 15 * 137usize.div_ceil(14));
}

#[test]
fn statistics_of_one_metric_and_minute_become_one_row_of_the_schema() {
    let metrics = [metric("QueueSize", "Queue", "QueueName", "Support")];
    let at = |m: i64| DateTime::from_secs(datetime!(2026-03-04 04:00 UTC).unix_timestamp() + 60 * m);
    let result = |suffix: &str, values: &[f64]| {
        MetricDataResult::builder()
            .id(format!("m0_{suffix}"))
            .set_timestamps(Some((0..values.len() as i64).map(at).collect()))
            .set_values(Some(values.to_vec()))
            .status_code(StatusCode::Complete)
            .build()
    };
    let results = [
        result("sum", &[12.0, 3.0]),
        result("min", &[1.0, 3.0]),
        result("max", &[6.0, 3.0]),
        result("n", &[3.0, 1.0]),
        result("avg", &[4.0, 3.0]),
    ];
    let rows = rows(&metrics, &results);
    assert_eq!(rows.len(), 2);
    let r = &rows[0];
    assert_eq!(r.period_timestamp, "2026-03-04 04:00:00.000");
    assert_eq!(
        (r.sum_value, r.min_value, r.max_value, r.sample_count, r.avg_value),
        (Some(12.0), Some(1.0), Some(6.0), Some(3.0), Some(4.0))
    );
    assert_eq!(r.queue_name.as_deref(), Some("Support"));
    assert_eq!(r.instance_id.as_deref(), Some(INSTANCE));
    assert_eq!(r.source, "backfill");
    let problems = connect_lake::schema::row_problems(&CONNECT_METRICS, &serde_json::to_value(r).unwrap(), true);
    assert_eq!(problems, Vec::<String>::new());
}

#[test]
fn object_keys_are_the_same_for_every_run_over_an_hour() {
    let p = PartitionValues::for_instant(datetime!(2026-03-04 04:59 UTC));
    assert_eq!(
        object_key(&p, "AWS/Connect", Some(INSTANCE), LakeFormat::Parquet),
        format!("connect_metrics/year=2026/month=03/day=04/hour=04/backfill-aws-connect-{INSTANCE}.parquet")
    );
    assert_eq!(
        object_key(&p, "AWS/Connect", None, LakeFormat::Json),
        "connect_metrics/year=2026/month=03/day=04/hour=04/backfill-aws-connect-all.json"
    );
}

#[tokio::test]
async fn list_metrics_follows_every_page_for_the_namespace_and_instance() {
    let seen: Arc<Mutex<Vec<ListMetricsInput>>> = Arc::default();
    let log = Arc::clone(&seen);
    let list = mock!(Client::list_metrics).then_compute_output(move |req| {
        log.lock().unwrap().push(req.clone());
        match req.next_token() {
            None => ListMetricsOutput::builder()
                .metrics(metric("QueueSize", "Queue", "QueueName", "Support"))
                .metrics(metric("LongestQueueWaitTime", "Queue", "QueueName", "Support"))
                .next_token("page-2")
                .build(),
            Some("page-2") => ListMetricsOutput::builder()
                .metrics(metric("ContactFlowErrors", "ContactFlow", "ContactFlowName", "Main"))
                .build(),
            Some(other) => panic!("unexpected token {other}"),
        }
    });
    let client = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, &[&list], |b| b
        .retry_config(RetryConfig::disabled()));
    let mut report = MetricsReport::default();
    let metrics = backfill(client).list_metrics(&mut report).await.unwrap();
    let names: Vec<_> = metrics.iter().map(|m| m.metric_name().unwrap()).collect();
    assert_eq!(names, ["QueueSize", "LongestQueueWaitTime", "ContactFlowErrors"]);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    for req in seen.iter() {
        assert_eq!(req.namespace(), Some("AWS/Connect"));
        let filter = &req.dimensions()[0];
        assert_eq!((filter.name(), filter.value()), (Some("InstanceId"), Some(INSTANCE)));
    }
    assert_eq!(seen[1].next_token(), Some("page-2"));
}

/// CloudWatch as the mock plays it: the first call is throttled; then each query is answered in
/// two pages, the first `PartialData` with a `NextToken`, the second `Complete`, except the query
/// named by `fails`, which ends `InternalError` with a message.
fn get_metric_data(
    seen: Arc<Mutex<Vec<GetMetricDataInput>>>,
    throttle_first: usize,
    fails: Option<&'static str>,
) -> aws_smithy_mocks::Rule {
    let calls = Arc::new(AtomicUsize::new(0));
    mock!(Client::get_metric_data).then_compute_response(move |req| {
        if calls.fetch_add(1, Ordering::SeqCst) < throttle_first {
            return MockResponse::Error(throttled());
        }
        seen.lock().unwrap().push(req.clone());
        let start = req.start_time().unwrap().secs();
        let second_page = req.next_token() == Some("more");
        let mut out = GetMetricDataOutput::builder();
        for (i, q) in req.metric_data_queries().iter().enumerate() {
            let id = q.id().unwrap().to_owned();
            let minute = if second_page { 1 } else { 0 };
            let (status, message) = match (second_page, fails) {
                (false, _) => (StatusCode::PartialData, None),
                (true, Some(f)) if f == id => (StatusCode::InternalError, Some("metric data unavailable")),
                (true, _) => (StatusCode::Complete, None),
            };
            let mut result = MetricDataResult::builder()
                .id(id)
                .timestamps(DateTime::from_secs(start + 60 * minute))
                .values(i as f64 + 10.0 * minute as f64)
                .status_code(status);
            if let Some(m) = message {
                result = result.messages(MessageData::builder().code("InternalError").value(m).build());
            }
            out = out.metric_data_results(result.build());
        }
        if !second_page {
            out = out.next_token("more");
        }
        MockResponse::Output(out.build())
    })
}

fn two_metrics() -> Vec<Metric> {
    vec![
        metric("QueueSize", "Queue", "QueueName", "Support"),
        metric("ContactFlowErrors", "ContactFlow", "ContactFlowName", "Main"),
    ]
}

#[tokio::test]
async fn a_throttled_call_is_retried_and_every_page_is_read_with_the_requests_inside_the_limits() {
    let seen: Arc<Mutex<Vec<GetMetricDataInput>>> = Arc::default();
    let rule = get_metric_data(Arc::clone(&seen), 1, None);
    let client = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, &[&rule], |b| b
        .retry_config(RetryConfig::disabled()));
    let b = backfill(client);
    let metrics = two_metrics();
    let call = CallPlan {
        metrics: 0..2,
        start: datetime!(2026-03-03 05:00 UTC),
        end: datetime!(2026-03-04 05:00 UTC),
    };
    let mut report = MetricsReport::default();
    let results = b.fetch(&metrics, &call, &mut report).await.unwrap();
    assert_eq!(report.throttled_retries, 1);
    assert_eq!(report.calls, 2, "two pages");
    assert_eq!(
        report.incomplete,
        Vec::<String>::new(),
        "the last page completed every query"
    );

    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].next_token(), None);
    assert_eq!(seen[1].next_token(), Some("more"));
    for req in seen.iter() {
        assert_eq!(req.start_time().unwrap().secs(), call.start.unix_timestamp());
        assert_eq!(req.end_time().unwrap().secs(), call.end.unix_timestamp());
        assert_eq!(req.scan_by(), Some(&ScanBy::TimestampAscending));
        assert_eq!(req.max_datapoints(), Some(100_800));
        let queries = req.metric_data_queries();
        assert_eq!(queries.len(), 10, "five statistics for each of two metrics");
        let ids: Vec<&str> = queries.iter().map(|q| q.id().unwrap()).collect();
        assert_eq!(&ids[..5], ["m0_sum", "m0_min", "m0_max", "m0_n", "m0_avg"]);
        for q in queries {
            let stat = q.metric_stat().unwrap();
            assert_eq!(stat.period(), Some(60));
            assert!(q.return_data().unwrap_or(true));
            let m = stat.metric().unwrap();
            assert_eq!(m.namespace(), Some("AWS/Connect"));
        }
        let stats: Vec<&str> = queries[..5]
            .iter()
            .map(|q| q.metric_stat().unwrap().stat().unwrap())
            .collect();
        assert_eq!(stats, ["Sum", "Minimum", "Maximum", "SampleCount", "Average"]);
        let points = (call.end - call.start).whole_minutes() as u64 * queries.len() as u64;
        assert!(points <= MAX_POINTS_PER_CALL && queries.len() <= MAX_QUERIES_PER_CALL);
    }

    // Both pages' points are merged: two minutes of each query.
    assert_eq!(results.len(), 10);
    assert!(
        results
            .iter()
            .all(|r| r.timestamps().len() == 2 && r.status_code() == Some(&StatusCode::Complete))
    );
    let rows = rows(&metrics, &results);
    assert_eq!(rows.len(), 4, "two metrics x two minutes");
    let flow = rows.iter().find(|r| r.flow_name.as_deref() == Some("Main")).unwrap();
    assert_eq!(flow.metric_name, "ContactFlowErrors");
    assert_eq!(
        flow.sum_value,
        Some(5.0),
        "m1_sum is the sixth query: value 5 on the first page"
    );
}

#[tokio::test]
async fn a_query_answered_only_in_part_is_reported_with_its_messages() {
    let seen: Arc<Mutex<Vec<GetMetricDataInput>>> = Arc::default();
    let rule = get_metric_data(seen, 0, Some("m1_max"));
    let client = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, &[&rule], |b| b
        .retry_config(RetryConfig::disabled()));
    let call = CallPlan {
        metrics: 0..2,
        start: datetime!(2026-03-03 05:00 UTC),
        end: datetime!(2026-03-04 05:00 UTC),
    };
    let mut report = MetricsReport::default();
    let results = backfill(client)
        .fetch(&two_metrics(), &call, &mut report)
        .await
        .unwrap();
    assert_eq!(report.incomplete.len(), 1, "{:?}", report.incomplete);
    let line = &report.incomplete[0];
    assert!(
        line.contains("ContactFlowErrors") && line.contains("m1_max") && line.contains("InternalError"),
        "{line}"
    );
    assert!(line.contains("metric data unavailable"), "{line}");
    assert_eq!(results.len(), 10, "what did arrive is still kept");
    assert!(
        report.summary().contains("run the same command again"),
        "{}",
        report.summary()
    );
}

#[tokio::test]
async fn throttling_that_does_not_stop_gives_up_after_the_attempts_with_a_clear_error() {
    let seen: Arc<Mutex<Vec<GetMetricDataInput>>> = Arc::default();
    let rule = get_metric_data(Arc::clone(&seen), usize::MAX, None);
    let client = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, &[&rule], |b| b
        .retry_config(RetryConfig::disabled()));
    let call = CallPlan {
        metrics: 0..1,
        start: datetime!(2026-03-03 05:00 UTC),
        end: datetime!(2026-03-04 05:00 UTC),
    };
    let mut report = MetricsReport::default();
    let err = backfill(client)
        .fetch(&two_metrics(), &call, &mut report)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            MetricsError::Throttled {
                call: "GetMetricData",
                attempts: 4
            }
        ),
        "{err}"
    );
    assert_eq!(report.throttled_retries, 3);
    assert!(seen.lock().unwrap().is_empty());
    assert_eq!(rule.num_calls(), 4);
}
