//! Amazon Connect's own telemetry for a day of generated traffic: the native flow logs of the
//! contacts' inbound flows, and the `AWS/Connect` CloudWatch metrics a metric stream would carry,
//! both derived from the contacts themselves, so a test can recompute every figure from the
//! contact records.
//!
//! - **Flow logs** ([`flow_logs`]): every contact (its latest copy) runs one inbound flow between
//!   `ConnectedToSystemTimestamp` and `Queue.EnqueueTimestamp`, logged block by block in the
//!   documented fields (`ContactId`, `ContactFlowId`, `ContactFlowName`, `ContactFlowModuleType`,
//!   `Identifier`, `Results`, `Parameters`, `Timestamp`). The customer-lookup Lambda block fails
//!   (`Results: "Error"`) for about one contact in twenty, seeded by the contact id; the flow then
//!   takes its error branch and still queues the contact.
//! - **Metrics** ([`metric_stream_records`]), in the CloudWatch metric streams JSON output format,
//!   one data point (one metric, one minute) per record as the delivery stream's deaggregation
//!   hands them to `firehose-transform`:
//!   - `QueueSize` and `LongestQueueWaitTime` per queue (dimensions `InstanceId`,
//!     `MetricGroup=Queue`, `QueueName`), for every minute in which a contact waited. The queue is
//!     sampled each second: a contact waits at second `t` when `enqueue <= t < dequeue`; the size
//!     is the number waiting, the longest wait `t - enqueue` of the oldest waiting contact (0 when
//!     none). A data point is the minute's 60 samples: `count` 60, `sum`, `min`, `max`.
//!   - `ContactFlowErrors` per flow (`InstanceId`, `MetricGroup=ContactFlow`, `ContactFlowName`):
//!     the flow-log blocks with `Results: "Error"` in each minute (`sum` = `count` = errors, each
//!     sample 1), published only for minutes with an error.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use rand::Rng;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use super::{ACCOUNT, INSTANCE_ID, REGION, Traffic, detail_rng, instance_arn, ts_millis};

/// The metric stream's name, as the template names it for the demo's stack.
pub const METRIC_STREAM_NAME: &str = "connect-lake-demo-connect-metrics";
/// The namespace Amazon Connect publishes its metrics in.
pub const NAMESPACE: &str = "AWS/Connect";
/// The Lambda the inbound flows call to look the customer up.
const LOOKUP_FUNCTION: &str = "arn:aws:lambda:us-east-1:012345678901:function:customer-lookup";
/// One contact in this many (on average) has its customer lookup fail.
const LOOKUP_ERROR_ONE_IN: u32 = 20;

/// The instance's inbound flows: name and id.
const FLOWS: [(&str, &str); 5] = [
    ("Inbound-Main", "2f4a9c1e-0b6d-4e21-9a77-1c3d5e7f9a01"),
    ("Billing-IVR", "2f4a9c1e-0b6d-4e21-9a77-1c3d5e7f9a02"),
    ("Support-IVR", "2f4a9c1e-0b6d-4e21-9a77-1c3d5e7f9a03"),
    ("Chat-Main", "2f4a9c1e-0b6d-4e21-9a77-1c3d5e7f9a04"),
    ("Task-Routing", "2f4a9c1e-0b6d-4e21-9a77-1c3d5e7f9a05"),
];

/// The flow a contact enters by: chats and tasks have their own, calls one per line of business.
fn flow_of(channel: &str, queue: &str) -> (&'static str, &'static str) {
    let index = match (channel, queue) {
        ("CHAT", _) => 3,
        ("TASK", _) => 4,
        (_, "Billing") => 1,
        (_, "TechSupport") => 2,
        _ => 0,
    };
    FLOWS[index]
}

/// One block of a flow as Connect logs it.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowBlock {
    pub contact_id: String,
    pub flow_name: &'static str,
    /// `ContactFlowId`: the flow's ARN.
    pub flow_arn: String,
    pub module_type: &'static str,
    pub identifier: &'static str,
    /// The branch taken, where the block has branches.
    pub results: Option<&'static str>,
    pub parameters: BTreeMap<&'static str, String>,
    pub at: OffsetDateTime,
}

impl FlowBlock {
    /// Whether the block took its error branch.
    pub fn is_error(&self) -> bool {
        self.results == Some("Error")
    }

    /// The log event's message: one JSON object with Connect's documented keys.
    pub fn to_json(&self) -> Vec<u8> {
        let mut record = json!({
            "ContactId": self.contact_id,
            "ContactFlowId": self.flow_arn,
            "ContactFlowName": self.flow_name,
            "ContactFlowModuleType": self.module_type,
            "Identifier": self.identifier,
            "Timestamp": ts_millis(self.at),
            "Parameters": self.parameters,
        });
        if let Some(results) = self.results {
            record["Results"] = json!(results);
        }
        serde_json::to_vec(&record).unwrap_or_default()
    }
}

/// The latest copy of each contact, parsed.
fn latest_contacts(traffic: &Traffic) -> impl Iterator<Item = Value> + '_ {
    traffic
        .ctrs
        .iter()
        .filter(|c| c.latest)
        .filter_map(|c| serde_json::from_slice::<Value>(&c.json).ok())
}

fn time_of(v: &Value) -> Option<OffsetDateTime> {
    v.as_str().and_then(connect_lake::time_fmt::parse_rfc3339)
}

/// Connect's flow logs for every contact of the traffic, in time order.
pub fn flow_logs(traffic: &Traffic) -> Vec<FlowBlock> {
    let mut blocks = Vec::new();
    for contact in latest_contacts(traffic) {
        let (Some(id), Some(channel)) = (contact["ContactId"].as_str(), contact["Channel"].as_str()) else {
            continue;
        };
        let queue = &contact["Queue"];
        let (Some(connected), Some(enqueued), Some(queue_arn)) = (
            time_of(&contact["ConnectedToSystemTimestamp"]),
            time_of(&queue["EnqueueTimestamp"]),
            queue["ARN"].as_str(),
        ) else {
            continue;
        };
        let (flow_name, flow_id) = flow_of(channel, queue["Name"].as_str().unwrap_or_default());
        let mut rng = detail_rng(&format!("{id}/flow-log"));
        let lookup_failed = rng.random_range(0..LOOKUP_ERROR_ONE_IN) == 0;
        let params = |pairs: &[(&'static str, &str)]| -> BTreeMap<&'static str, String> {
            pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
        };
        type Step = (
            &'static str,
            &'static str,
            Option<&'static str>,
            BTreeMap<&'static str, String>,
        );
        let mut steps: Vec<Step> = vec![(
            "SetLoggingBehavior",
            "Set logging behavior",
            None,
            params(&[("LoggingBehavior", "Enable")]),
        )];
        if channel != "TASK" {
            let greeting = "Thank you for contacting Example Corp.";
            steps.push(("PlayPrompt", "Greeting", None, params(&[("Text", greeting)])));
        }
        steps.push((
            "InvokeExternalResource",
            "Lookup customer",
            Some(if lookup_failed { "Error" } else { "Success" }),
            params(&[("FunctionArn", LOOKUP_FUNCTION), ("TimeLimit", "3000")]),
        ));
        if lookup_failed && channel != "TASK" {
            let sorry = "We could not find your account; an agent will help you.";
            steps.push(("PlayPrompt", "Lookup failed", None, params(&[("Text", sorry)])));
        }
        steps.push(("Transfer", "Transfer to queue", None, params(&[("QueueId", queue_arn)])));
        // The blocks run between the system answering and the contact entering the queue.
        let span = (enqueued - connected).whole_milliseconds().max(1) as i64;
        let n = steps.len() as i64;
        let flow_arn = format!("{}/contact-flow/{flow_id}", instance_arn());
        for (k, (module_type, identifier, results, parameters)) in steps.into_iter().enumerate() {
            let offset = span * (k as i64 + 1) / (n + 1) + rng.random_range(0..span / (2 * (n + 1)) + 1);
            blocks.push(FlowBlock {
                contact_id: id.to_owned(),
                flow_name,
                flow_arn: flow_arn.clone(),
                module_type,
                identifier,
                results,
                parameters,
                at: connected + Duration::milliseconds(offset),
            });
        }
    }
    blocks.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.contact_id.cmp(&b.contact_id)));
    blocks
}

/// Minimum, maximum, sum and count of a minute's samples.
#[derive(Debug, Clone, Copy, Default)]
struct Samples {
    min: f64,
    max: f64,
    sum: f64,
    count: f64,
}

impl Samples {
    fn add(&mut self, value: f64) {
        if self.count == 0.0 {
            (self.min, self.max) = (value, value);
        }
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        self.sum += value;
        self.count += 1.0;
    }
}

/// One metric-stream object (one data point), serialized as the stream writes it.
fn data_point(metric: &str, dimensions: Value, minute: i64, samples: Samples, unit: &str) -> Vec<u8> {
    let object = json!({
        "metric_stream_name": METRIC_STREAM_NAME,
        "account_id": ACCOUNT,
        "region": REGION,
        "namespace": NAMESPACE,
        "metric_name": metric,
        "dimensions": dimensions,
        "timestamp": minute * 1000,
        "value": {"max": samples.max, "min": samples.min, "sum": samples.sum, "count": samples.count},
        "unit": unit,
    });
    let mut line = serde_json::to_vec(&object).unwrap_or_default();
    line.push(b'\n');
    line
}

/// The time each contact waited in each queue: (enqueue, dequeue) in epoch seconds.
fn queue_waits(traffic: &Traffic) -> BTreeMap<String, Vec<(i64, i64)>> {
    let mut waits: BTreeMap<String, Vec<(i64, i64)>> = BTreeMap::new();
    for contact in latest_contacts(traffic) {
        let queue = &contact["Queue"];
        let (Some(name), Some(enqueued), Some(dequeued)) = (
            queue["Name"].as_str(),
            time_of(&queue["EnqueueTimestamp"]),
            time_of(&queue["DequeueTimestamp"]),
        ) else {
            continue;
        };
        if dequeued > enqueued {
            waits
                .entry(name.to_owned())
                .or_default()
                .push((enqueued.unix_timestamp(), dequeued.unix_timestamp()));
        }
    }
    waits
}

/// `QueueSize` and `LongestQueueWaitTime` data points of one queue, sampled each second.
fn queue_points(queue: &str, mut waits: Vec<(i64, i64)>, out: &mut Vec<(i64, Vec<u8>)>) {
    waits.sort_unstable();
    let (Some(first), Some(last)) = (waits.first(), waits.iter().map(|w| w.1).max()) else {
        return;
    };
    let dimensions = json!({"InstanceId": INSTANCE_ID, "MetricGroup": "Queue", "QueueName": queue});
    let mut next = 0;
    // Who is waiting: by dequeue time (to count them) and by enqueue time (to find the oldest).
    let mut leaving: BinaryHeap<Reverse<i64>> = BinaryHeap::new();
    let mut oldest: BinaryHeap<Reverse<(i64, i64)>> = BinaryHeap::new();
    let mut minute = first.0 - first.0.rem_euclid(60);
    while minute < last {
        let (mut size, mut wait) = (Samples::default(), Samples::default());
        for t in minute..minute + 60 {
            while let Some(&(enqueued, dequeued)) = waits.get(next).filter(|w| w.0 <= t) {
                leaving.push(Reverse(dequeued));
                oldest.push(Reverse((enqueued, dequeued)));
                next += 1;
            }
            while leaving.peek().is_some_and(|Reverse(d)| *d <= t) {
                leaving.pop();
            }
            while oldest.peek().is_some_and(|Reverse((_, d))| *d <= t) {
                oldest.pop();
            }
            size.add(leaving.len() as f64);
            wait.add(oldest.peek().map_or(0, |Reverse((e, _))| t - e) as f64);
        }
        if size.max > 0.0 {
            out.push((
                minute,
                data_point("QueueSize", dimensions.clone(), minute, size, "Count"),
            ));
            out.push((
                minute,
                data_point("LongestQueueWaitTime", dimensions.clone(), minute, wait, "Seconds"),
            ));
        }
        minute += 60;
    }
}

/// The `AWS/Connect` data points of the traffic (queues) and of its flow logs (flow errors), in
/// the metric stream's JSON output format, one object per record, in time order.
pub fn metric_stream_records(traffic: &Traffic, flow_logs: &[FlowBlock]) -> Vec<Vec<u8>> {
    let mut points: Vec<(i64, Vec<u8>)> = Vec::new();
    for (queue, waits) in queue_waits(traffic) {
        queue_points(&queue, waits, &mut points);
    }
    let mut errors: BTreeMap<(&str, i64), f64> = BTreeMap::new();
    for block in flow_logs.iter().filter(|b| b.is_error()) {
        let second = block.at.unix_timestamp();
        *errors
            .entry((block.flow_name, second - second.rem_euclid(60)))
            .or_default() += 1.0;
    }
    for ((flow, minute), n) in errors {
        let dimensions = json!({"InstanceId": INSTANCE_ID, "MetricGroup": "ContactFlow", "ContactFlowName": flow});
        let samples = Samples {
            min: 1.0,
            max: 1.0,
            sum: n,
            count: n,
        };
        points.push((
            minute,
            data_point("ContactFlowErrors", dimensions, minute, samples, "Count"),
        ));
    }
    points.sort_by_key(|(minute, _)| *minute);
    points.into_iter().map(|(_, record)| record).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{Generator, TrafficOptions};

    fn objects(records: &[Vec<u8>]) -> Vec<Value> {
        records.iter().map(|r| serde_json::from_slice(r).unwrap()).collect()
    }

    #[test]
    fn telemetry_is_deterministic_and_every_contact_runs_a_flow() {
        let traffic = Generator::new(3).traffic(&TrafficOptions::new(120, 3));
        let blocks = flow_logs(&traffic);
        assert_eq!(
            blocks,
            flow_logs(&Generator::new(3).traffic(&TrafficOptions::new(120, 3)))
        );
        let contacts: std::collections::BTreeSet<&str> = blocks.iter().map(|b| b.contact_id.as_str()).collect();
        assert_eq!(contacts.len(), 120);
        assert!(blocks.windows(2).all(|w| w[0].at <= w[1].at), "in time order");
        let record: Value = serde_json::from_slice(&blocks[0].to_json()).unwrap();
        for key in [
            "ContactId",
            "ContactFlowId",
            "ContactFlowName",
            "ContactFlowModuleType",
            "Identifier",
        ] {
            assert!(record[key].is_string(), "{key}: {record}");
        }
        assert!(record["Timestamp"].as_str().unwrap().ends_with('Z'));
        assert!(record["Parameters"].is_object());
    }

    #[test]
    fn flow_errors_in_the_metrics_are_the_error_blocks_of_the_logs() {
        let traffic = Generator::new(5).traffic(&TrafficOptions::new(400, 5));
        let blocks = flow_logs(&traffic);
        let error_blocks = blocks.iter().filter(|b| b.is_error()).count();
        assert!(error_blocks > 5 && error_blocks < 60, "{error_blocks} lookups failed");
        let points = objects(&metric_stream_records(&traffic, &blocks));
        let errors: f64 = points
            .iter()
            .filter(|p| p["metric_name"] == "ContactFlowErrors")
            .map(|p| p["value"]["sum"].as_f64().unwrap())
            .sum();
        assert_eq!(errors as usize, error_blocks);
    }

    #[test]
    fn a_queue_with_two_overlapping_waits_is_sampled_each_second() {
        // 10:00:30-10:01:10 and 10:00:50-10:02:00 in queue Q.
        let at = 1_772_964_000;
        let mut out = Vec::new();
        queue_points("Q", vec![(at + 30, at + 70), (at + 50, at + 120)], &mut out);
        let points = objects(&out.into_iter().map(|(_, r)| r).collect::<Vec<_>>());
        let get = |metric: &str, minute: i64| {
            points
                .iter()
                .find(|p| p["metric_name"] == metric && p["timestamp"] == (at + minute) * 1000)
                .unwrap_or_else(|| panic!("{metric} {minute}: {points:?}"))["value"]
                .clone()
        };
        // Minute 10:00: one waits from :30, two from :50 (10 samples of 2, 20 of 1).
        assert_eq!(
            get("QueueSize", 0),
            json!({"max": 2.0, "min": 0.0, "sum": 40.0, "count": 60.0})
        );
        // The oldest has waited 29 s at 10:00:59.
        assert_eq!(get("LongestQueueWaitTime", 0)["max"], 29.0);
        // Minute 10:01: the first leaves at :10; the second, alone, has waited 69 s at 10:01:59.
        assert_eq!(get("QueueSize", 60)["max"], 2.0);
        assert_eq!(get("LongestQueueWaitTime", 60)["max"], 69.0);
        assert_eq!(points.len(), 4, "no point for 10:02, when nobody waits");
        assert_eq!(points[0]["dimensions"]["QueueName"], "Q");
        assert_eq!(points[0]["dimensions"]["MetricGroup"], "Queue");
    }
}
