//! Helpers for the workspace's tests, in one place (feature `testing`, taken only as a
//! dev-dependency): events, row checks and property-test strategies that two or more crates use.
// Test support: a failed expectation here is a failed test, so it panics like an assertion.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::schema::Table;

/// The workspace root, for reading the fixtures under `events/`.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// A JSON fixture: `events/<function>/<name>` (with or without `.json`).
pub fn event_fixture(function: &str, name: &str) -> Value {
    let name = if name.ends_with(".json") {
        name.to_owned()
    } else {
        format!("{name}.json")
    };
    let path = workspace_root().join("events").join(function).join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The example contact-flow event of the Connect administrator guide, field for field. It is
/// written once, in `scripts/make_contact_flow_events.py`, which generates this fixture.
pub fn documented_contact_flow_event() -> Value {
    event_fixture("contact-flow-logger", "aws-documented-event.json")
}

/// An SQS batch announcing one `ctr` object in `bucket` in each of `n` distinct hours from
/// 2026-01-01 00:00: message `message-<i>` announces `part-<i>.parquet`.
pub fn hours_event(bucket: &str, n: u32) -> Value {
    let records: Vec<Value> = (0..n)
        .map(|i| {
            let (day, hour) = (1 + i / 24, i % 24);
            let key = format!("ctr/year%3D2026/month%3D01/day%3D{day:02}/hour%3D{hour:02}/part-{i}.parquet");
            let body = json!({"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put", "eventTime": "2026-01-01T00:00:00.000Z",
                "s3": {"bucket": {"name": bucket}, "object": {"key": key, "size": 4096}}}]});
            json!({"messageId": format!("message-{i}"), "eventSource": "aws:sqs", "body": body.to_string()})
        })
        .collect();
    json!({ "Records": records })
}

/// Asserts that every key of every row is a column of `table` and every value one its type
/// accepts.
pub fn assert_rows_match(table: &Table, rows: &[Value]) {
    for row in rows {
        let object = row
            .as_object()
            .unwrap_or_else(|| panic!("{}: a row is not an object: {row}", table.name));
        for (k, v) in object {
            let col = table
                .column(k)
                .unwrap_or_else(|| panic!("{}: {k} is not a column", table.name));
            assert!(col.kind.accepts(v), "{}.{k} = {v} is not a {}", table.name, col.kind);
        }
    }
}

/// Any JSON at all, with a bias towards what contact-flow events carry: phone-number-like and
/// email-like strings among the leaves.
pub fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,40}".prop_map(Value::String),
        "\\+?[0-9 ()-]{0,18}".prop_map(Value::String),
        "[a-z.]{1,10}@[a-z]{1,8}\\.(com|org)".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(".{0,12}", inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::CTR;

    #[test]
    fn hours_event_announces_one_object_per_hour() {
        let event = hours_event("lake", 25);
        let records = event["Records"].as_array().unwrap();
        assert_eq!(records.len(), 25);
        let last: Value = serde_json::from_str(records[24]["body"].as_str().unwrap()).unwrap();
        assert_eq!(
            last["Records"][0]["s3"]["object"]["key"],
            "ctr/year%3D2026/month%3D01/day%3D02/hour%3D00/part-24.parquet"
        );
    }

    #[test]
    #[should_panic(expected = "ctr: no_such_column is not a column")]
    fn a_row_with_an_unknown_key_does_not_match() {
        assert_rows_match(&CTR, &[json!({"no_such_column": 1})]);
    }
}
