//! Every way the lake can lose or hide data raises an alarm to the one SNS topic.
//!
//! The metric names our functions emit are read from their source
//! (`template_check::metrics::emitted_metrics`), so a metric added to the code without an alarm,
//! or without a written reason for needing none, fails here. The AWS-side loss paths are checked
//! by resource: every delivery stream, every EventBridge target, the Connect instance.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should say where

use std::collections::{BTreeMap, BTreeSet};

use template_check::metrics::emitted_metrics;
use template_check::{Template, Value, at, getatt_target, plain_str, ref_target, repo_root};

/// Every function's `METRICS_NAMESPACE`.
const NAMESPACE: &str = "ConnectLake";

/// Metrics that need no alarm, each with the reason. Everything else the code emits is alarmed.
const NO_ALARM: &[(&str, &str)] = &[
    ("RecordsIn", "volume"),
    ("Ok", "volume"),
    ("BytesIn", "volume"),
    ("BytesOut", "volume"),
    (
        "Dropped",
        "dropped on purpose, not loss: agent HEART_BEAT events (AgentHeartbeats=drop) and older copies of a contact superseded in the same batch",
    ),
    ("ObjectsIn", "volume"),
    (
        "ObjectsSkipped",
        "objects that are not table data by rule (test events, deletions, error output, probes, folder markers)",
    ),
    ("PartitionsCreated", "progress"),
    (
        "PartitionsExisting",
        "progress: at-least-once events re-register existing partitions",
    ),
    ("PartitionsCached", "progress"),
    ("TablesCreated", "progress"),
    ("TablesUpdated", "progress"),
    ("FlowStep", "volume, per flow and step"),
    (
        "DenyListHit",
        "a business signal (a denied caller), not a fault; contact_flow_logs has every hit",
    ),
    ("Decision", "volume, per risk level"),
    (
        "DecisionTime",
        "latency; Connect's 8 s limit is watched by the function's Errors and Duration",
    ),
    ("ConfigLoaded", "success"),
    ("TranscriptionJobsStarted", "progress"),
    (
        "TranscriptionJobsAlreadyStarted",
        "at-least-once events: the job exists, nothing is lost",
    ),
    ("TranscriptsProcessed", "volume"),
    ("ComprehendCalls", "volume (cost)"),
    ("Chunks", "volume"),
    (
        "DocumentsRetried",
        "retried documents that then succeeded or count in DocumentErrors",
    ),
    ("PiiDetectionCalls", "volume (cost)"),
    ("TurnsWritten", "volume"),
    (
        "DocumentErrors",
        "the turn is still written, with sentiment UNKNOWN (UnknownSentimentTurns): degraded, not lost",
    ),
    (
        "UnknownSentimentTurns",
        "quality: turns too short or without a sentiment are expected",
    ),
    (
        "Skipped",
        "objects that are not the enricher's by rule (Redacted/ copies, probes, other kinds)",
    ),
];

/// The one topic every alarm notifies.
const ALARM_ACTIONS: &str = "[!If [CreateAlarmTopic, !Ref AlarmTopic, !Ref AlarmTopicArn]]";

fn template() -> Template {
    Template::load().unwrap()
}

fn alarms(t: &Template) -> Vec<(&str, &Value)> {
    t.resources_of_type("AWS::CloudWatch::Alarm")
        .into_iter()
        .filter_map(|(id, r)| Some((id, r.get("Properties")?)))
        .collect()
}

fn str_at<'a>(props: &'a Value, key: &str) -> Option<&'a str> {
    props.get(key).and_then(plain_str)
}

/// An alarm's dimensions as (name, value) with the value as a plain string, `Ref X` or `GetAtt X`.
fn dimensions(props: &Value) -> Vec<(String, String)> {
    props
        .get("Dimensions")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(|d| {
            let name = d.get("Name").and_then(plain_str)?.to_owned();
            let value = d.get("Value")?;
            let value = plain_str(value)
                .map(str::to_owned)
                .or_else(|| ref_target(value).map(|r| format!("Ref {r}")))
                .or_else(|| getatt_target(value).map(|(r, a)| format!("GetAtt {r}.{a}")))
                .unwrap_or_else(|| "?".to_owned());
            Some((name, value))
        })
        .collect()
}

fn dimension<'a>(dims: &'a [(String, String)], name: &str) -> Option<&'a str> {
    dims.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// What is wrong with the alarms on the metrics the code emits.
fn custom_metric_problems(t: &Template, emitted: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let mut out = Vec::new();
    let exempt: BTreeMap<&str, &str> = NO_ALARM.iter().copied().collect();
    let ours: Vec<(&str, &Value)> = alarms(t)
        .into_iter()
        .filter(|(_, p)| str_at(p, "Namespace") == Some(NAMESPACE))
        .collect();
    for (metric, emitters) in emitted {
        let on_it: Vec<&(&str, &Value)> = ours
            .iter()
            .filter(|(_, p)| str_at(p, "MetricName") == Some(metric.as_str()))
            .collect();
        match (on_it.is_empty(), exempt.contains_key(metric.as_str())) {
            (true, false) => out.push(format!(
                "{metric} (emitted by {}) has no alarm and no reason in NO_ALARM",
                emitters.iter().cloned().collect::<Vec<_>>().join(", ")
            )),
            (false, true) => out.push(format!("{metric} is alarmed and also listed in NO_ALARM")),
            _ => {}
        }
        for (id, props) in on_it {
            let dims = dimensions(props);
            match dimension(&dims, "Function") {
                Some(f) if !emitters.contains(f) => {
                    out.push(format!("{id}: Function={f}, but {metric} is emitted by {emitters:?}"));
                }
                None if !emitters.contains("shared") => {
                    out.push(format!("{id}: no Function dimension; EMF metrics always carry one"));
                }
                _ => {}
            }
        }
    }
    for (metric, _) in NO_ALARM {
        if !emitted.contains_key(*metric) {
            out.push(format!("NO_ALARM lists {metric}, which no code emits"));
        }
    }
    for (id, props) in &ours {
        let metric = str_at(props, "MetricName").unwrap_or_default();
        if !emitted.contains_key(metric) {
            out.push(format!("{id}: alarms on {metric}, which no code emits"));
        }
    }
    // The alarms look in the namespace the functions write to.
    for (id, f) in t.resources_of_type("AWS::Serverless::Function") {
        let ns = at(f, &["Properties", "Environment", "Variables", "METRICS_NAMESPACE"]).and_then(plain_str);
        if ns != Some(NAMESPACE) {
            out.push(format!(
                "{id}: METRICS_NAMESPACE is {ns:?}, the alarms watch {NAMESPACE}"
            ));
        }
    }
    out
}

fn topic_problems(t: &Template) -> Vec<String> {
    let expected: Value = serde_yaml::from_str(ALARM_ACTIONS).unwrap();
    alarms(t)
        .into_iter()
        .filter(|(_, p)| p.get("AlarmActions") != Some(&expected))
        .map(|(id, _)| format!("{id}: AlarmActions must be {ALARM_ACTIONS}"))
        .collect()
}

/// Alarms on an AWS/Firehose metric of one delivery stream.
fn stream_alarms<'a>(t: &'a Template, stream: &str, metric: &str) -> Vec<(&'a str, &'a Value)> {
    alarms(t)
        .into_iter()
        .filter(|(_, p)| {
            str_at(p, "Namespace") == Some("AWS/Firehose")
                && str_at(p, "MetricName") == Some(metric)
                && dimension(&dimensions(p), "DeliveryStreamName") == Some(&format!("Ref {stream}"))
        })
        .collect()
}

fn firehose_problems(t: &Template) -> Vec<String> {
    let mut out = Vec::new();
    for (id, stream) in t.resources_of_type("AWS::KinesisFirehose::DeliveryStream") {
        let dest = at(stream, &["Properties", "ExtendedS3DestinationConfiguration"]);
        if stream_alarms(t, id, "DeliveryToS3.Success").is_empty() {
            out.push(format!("{id}: no alarm on DeliveryToS3.Success"));
        }
        if dest.and_then(|d| d.get("DataFormatConversionConfiguration")).is_some()
            && stream_alarms(t, id, "FailedConversion.Records").is_empty()
        {
            out.push(format!(
                "{id}: converts to Parquet, no alarm on FailedConversion.Records"
            ));
        }
        if dest.and_then(|d| d.get("ProcessingConfiguration")).is_some()
            && at(stream, &["Properties", "KinesisStreamSourceConfiguration"]).is_some()
        {
            if stream_alarms(t, id, "ExecuteProcessing.Success").is_empty() {
                out.push(format!("{id}: no alarm on ExecuteProcessing.Success"));
            }
            // Connect's streams: silence is a fault, over the window the operator sets.
            let fresh = stream_alarms(t, id, "DeliveryToS3.Records");
            let fires_on_silence = fresh.iter().any(|(_, p)| {
                str_at(p, "TreatMissingData") == Some("breaching")
                    && str_at(p, "ComparisonOperator") == Some("LessThanThreshold")
                    && p.get("Period").and_then(ref_target) == Some("FreshnessWindowSeconds")
            });
            if !fires_on_silence {
                out.push(format!(
                    "{id}: no freshness alarm on DeliveryToS3.Records over FreshnessWindowSeconds with missing data breaching"
                ));
            }
        }
    }
    out
}

fn event_problems(t: &Template) -> Vec<String> {
    let mut out = Vec::new();
    let all = alarms(t);
    for (id, rule) in t.resources_of_type("AWS::Events::Rule") {
        let targets = at(rule, &["Properties", "Targets"]).and_then(Value::as_sequence);
        for target in targets.into_iter().flatten() {
            let name = target.get("Id").and_then(plain_str).unwrap_or("?");
            let dlq = at(target, &["DeadLetterConfig", "Arn"]).and_then(getatt_target);
            match dlq {
                Some((queue, "Arn")) if t.resource_type(queue) == Some("AWS::SQS::Queue") => {
                    let watched = all.iter().any(|(_, p)| {
                        str_at(p, "MetricName") == Some("ApproximateNumberOfMessagesVisible")
                            && dimension(&dimensions(p), "QueueName") == Some(&format!("GetAtt {queue}.QueueName"))
                    });
                    if !watched {
                        out.push(format!("{id}/{name}: its dead-letter queue {queue} has no depth alarm"));
                    }
                }
                _ => out.push(format!("{id}/{name}: no SQS dead-letter queue")),
            }
            if target.get("RetryPolicy").is_none() {
                out.push(format!("{id}/{name}: no RetryPolicy"));
            }
        }
        let failed = all.iter().any(|(_, p)| {
            str_at(p, "Namespace") == Some("AWS/Events")
                && str_at(p, "MetricName") == Some("FailedInvocations")
                && dimension(&dimensions(p), "RuleName") == Some(&format!("Ref {id}"))
        });
        if !failed {
            out.push(format!("{id}: no alarm on FailedInvocations"));
        }
    }
    out
}

/// Connect's health metrics, alarmed for the instance the template is given.
const CONNECT_METRICS: [&str; 3] = ["ContactFlowFatalErrors", "CallRecordingUploadError", "ThrottledCalls"];

fn connect_problems(t: &Template) -> Vec<String> {
    let all = alarms(t);
    CONNECT_METRICS
        .iter()
        .filter(|metric| {
            !all.iter().any(|(_, p)| {
                let direct = str_at(p, "Namespace") == Some("AWS/Connect") && str_at(p, "MetricName") == Some(**metric);
                let query = p.get("Metrics").and_then(Value::as_sequence).is_some_and(|queries| {
                    queries.iter().any(|q| {
                        let text = q
                            .get("Expression")
                            .and_then(|e| match template_check::intrinsic(e) {
                                Some((name, Value::Sequence(args))) if name == "Sub" => {
                                    args.first().and_then(plain_str)
                                }
                                _ => plain_str(e),
                            })
                            .unwrap_or_default();
                        text.contains("\"AWS/Connect\"") && text.contains(&format!("SUM({metric})"))
                    })
                });
                direct || query
            })
        })
        .map(|metric| format!("no alarm on AWS/Connect {metric}"))
        .collect()
}

#[test]
fn every_metric_the_code_emits_has_an_alarm_or_a_reason_for_none() {
    let emitted = emitted_metrics(&repo_root());
    for expected in [
        "ProcessingFailed",
        "PartitionsFailed",
        "ObjectsFailed",
        "ConfigLoadFailed",
    ] {
        assert!(emitted.contains_key(expected), "the scan found {emitted:?}");
    }
    assert_eq!(custom_metric_problems(&template(), &emitted), Vec::<String>::new());
}

#[test]
fn every_alarm_notifies_the_one_topic() {
    assert_eq!(topic_problems(&template()), Vec::<String>::new());
}

#[test]
fn every_delivery_stream_is_alarmed_for_failed_delivery_conversion_processing_and_silence() {
    assert_eq!(firehose_problems(&template()), Vec::<String>::new());
}

#[test]
fn every_eventbridge_target_has_a_dead_letter_queue_a_retry_policy_and_alarms() {
    assert_eq!(event_problems(&template()), Vec::<String>::new());
}

#[test]
fn connects_own_health_metrics_are_alarmed() {
    assert_eq!(connect_problems(&template()), Vec::<String>::new());
}

// ─── each check fails on a mutated template or code ─────────────────────────────────────────────

fn props_mut<'a>(t: &'a mut Template, id: &str) -> &'a mut Value {
    t.resources_mut()
        .and_then(|r| r.get_mut(id))
        .and_then(|r| r.get_mut("Properties"))
        .unwrap_or_else(|| panic!("no resource {id}"))
}

fn remove(t: &mut Template, id: &str) {
    assert!(t.resources_mut().unwrap().remove(id).is_some(), "no resource {id}");
}

#[test]
fn a_metric_without_an_alarm_is_reported_whether_the_alarm_or_the_code_changed() {
    let emitted = emitted_metrics(&repo_root());
    let mut t = template();
    remove(&mut t, "S3CatalogerPartitionsFailedAlarm");
    assert_eq!(
        custom_metric_problems(&t, &emitted),
        ["PartitionsFailed (emitted by s3-cataloger) has no alarm and no reason in NO_ALARM"]
    );

    let mut more = emitted.clone();
    let new_code = "stats.count(\"RowsLost\", lost);";
    for name in template_check::metrics::metric_names(new_code) {
        more.entry(name).or_default().insert("firehose-transform".to_owned());
    }
    assert_eq!(
        custom_metric_problems(&template(), &more),
        ["RowsLost (emitted by firehose-transform) has no alarm and no reason in NO_ALARM"]
    );
}

#[test]
fn an_alarm_on_another_functions_series_or_an_unknown_metric_is_reported() {
    let emitted = emitted_metrics(&repo_root());
    let mut t = template();
    let dims = props_mut(&mut t, "S3CatalogerPartitionsFailedAlarm")
        .get_mut("Dimensions")
        .unwrap();
    dims[0]["Value"] = Value::from("firehose-transform");
    let p = custom_metric_problems(&t, &emitted);
    assert_eq!(
        p,
        [
            "S3CatalogerPartitionsFailedAlarm: Function=firehose-transform, but PartitionsFailed is emitted by {\"s3-cataloger\"}"
        ]
    );

    let mut t = template();
    props_mut(&mut t, "S3CatalogerMessagesFailedAlarm")["MetricName"] = Value::from("MessageFailed");
    let p = custom_metric_problems(&t, &emitted);
    assert!(
        p.contains(&"S3CatalogerMessagesFailedAlarm: alarms on MessageFailed, which no code emits".to_owned()),
        "{p:?}"
    );
    assert!(
        p.iter()
            .any(|p| p.starts_with("MessagesFailed (emitted by s3-cataloger) has no alarm")),
        "{p:?}"
    );
}

#[test]
fn an_alarm_that_notifies_nobody_is_reported() {
    let mut t = template();
    props_mut(&mut t, "FraudRouterDegradedDecisionsAlarm")
        .as_mapping_mut()
        .unwrap()
        .remove("AlarmActions");
    assert_eq!(
        topic_problems(&t),
        [format!(
            "FraudRouterDegradedDecisionsAlarm: AlarmActions must be {ALARM_ACTIONS}"
        )]
    );
}

#[test]
fn a_freshness_alarm_that_stays_green_on_silence_is_reported() {
    let mut t = template();
    props_mut(&mut t, "CtrDataFreshnessAlarm")["TreatMissingData"] = Value::from("notBreaching");
    assert_eq!(
        firehose_problems(&t),
        [
            "CtrDeliveryStream: no freshness alarm on DeliveryToS3.Records over FreshnessWindowSeconds with missing data breaching"
        ]
    );
    let mut t = template();
    props_mut(&mut t, "AgentEventsDataFreshnessAlarm")["Period"] = Value::from(300);
    assert_eq!(firehose_problems(&t).len(), 1);
    let mut t = template();
    remove(&mut t, "CtrConversionFailureAlarm");
    assert_eq!(
        firehose_problems(&t),
        ["CtrDeliveryStream: converts to Parquet, no alarm on FailedConversion.Records"]
    );
    let mut t = template();
    remove(&mut t, "FraudDecisionDeliveryFailureAlarm");
    assert_eq!(
        firehose_problems(&t),
        ["FraudDecisionDeliveryStream: no alarm on DeliveryToS3.Success"]
    );
}

#[test]
fn an_eventbridge_target_without_a_dead_letter_queue_or_alarm_is_reported() {
    let mut t = template();
    let target = &mut props_mut(&mut t, "CuratedObjectCreatedRule")["Targets"][0];
    target.as_mapping_mut().unwrap().remove("DeadLetterConfig");
    target.as_mapping_mut().unwrap().remove("RetryPolicy");
    assert_eq!(
        event_problems(&t),
        [
            "CuratedObjectCreatedRule/s3-cataloger-queue: no SQS dead-letter queue",
            "CuratedObjectCreatedRule/s3-cataloger-queue: no RetryPolicy"
        ]
    );
    let mut t = template();
    remove(&mut t, "MediaObjectCreatedRuleFailedInvocationsAlarm");
    assert_eq!(
        event_problems(&t),
        ["MediaObjectCreatedRule: no alarm on FailedInvocations"]
    );
    let mut t = template();
    remove(&mut t, "EventsDeadLetterQueueDepthAlarm");
    assert_eq!(event_problems(&t).len(), 2, "{:?}", event_problems(&t));
}

#[test]
fn a_connect_health_metric_without_an_alarm_is_reported() {
    let mut t = template();
    remove(&mut t, "ConnectThrottledCallsAlarm");
    assert_eq!(connect_problems(&t), ["no alarm on AWS/Connect ThrottledCalls"]);
    let mut t = template();
    remove(&mut t, "ConnectContactFlowFatalErrorsAlarm");
    assert_eq!(connect_problems(&t), ["no alarm on AWS/Connect ContactFlowFatalErrors"]);
}
