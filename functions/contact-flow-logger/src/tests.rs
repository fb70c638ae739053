use std::path::PathBuf;
use std::sync::Arc;

use connect_lake::deny_list::MatchKind;
use connect_lake::flat_answer::{MAX_ANSWER_BYTES, is_flat_safe};
use connect_lake::remote_config::{MemorySource, RemoteSettings};
use connect_lake::testing::arb_json;
use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;

const KEY: &str = "unit-test-key-0123456789abcdefghij";

fn config() -> Config {
    Config::from_env(&[("PII_TOKEN_KEY", KEY)]).unwrap()
}

fn logger() -> Logger {
    Logger::new(&config(), None)
}

fn fixture(name: &str) -> ContactFlowEvent {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../events/contact-flow-logger")
        .join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap()
}

fn fixture_text(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../events/contact-flow-logger")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

fn record_json(o: &Outcome) -> String {
    serde_json::to_string(&o.record).unwrap()
}

fn emf(o: &Outcome) -> Vec<Value> {
    o.metrics
        .iter()
        .flat_map(|m| m.to_lines(0))
        .map(|l| serde_json::from_str(&l).unwrap())
        .collect()
}

/// Every string of the event that must never reach a log: endpoint addresses, emails, and the
/// values of attributes and telephony parameters holding numbers.
fn assert_no_raw_pii(record: &str, raw: &[&str]) {
    for needle in raw {
        assert!(!record.contains(needle), "{needle:?} leaked into {record}");
    }
    // The fictional 555-01xx numbers of the fixtures, in any of the forms they appear in.
    for part in ["555-01", "555 01", "5550"] {
        assert!(!record.contains(part), "{part:?} of a number leaked into {record}");
    }
}

fn assert_answer_contract(answer: &FlatAnswer) {
    let json = serde_json::to_string(answer).unwrap();
    assert!(json.len() <= MAX_ANSWER_BYTES, "{} bytes", json.len());
    let v: Value = serde_json::from_str(&json).unwrap();
    for (k, v) in v.as_object().expect("a flat object") {
        let v = v.as_str().expect("string values only");
        assert!(is_flat_safe(k) && is_flat_safe(v), "{k}={v}");
    }
}

#[test]
fn the_documented_event_is_logged_with_ids_channel_queue_and_attribute_keys() {
    let o = logger().outcome(&fixture("aws-documented-event.json"), DenyCheck::Disabled);
    let r = &o.record;
    assert_eq!(r.record, "contact_flow_log");
    assert_eq!(r.contact_id.as_deref(), Some("4a573372-1f28-4e26-b97b-XXXXXXXXXXX"));
    assert_eq!(r.instance_id.as_deref(), Some("c8c0e68d-2200-4265-82c0-XXXXXXXXXX"));
    assert_eq!(r.channel.as_deref(), Some("VOICE"));
    assert_eq!(r.initiation_method.as_deref(), Some("INBOUND"));
    assert_eq!(r.queue.as_deref(), Some("PasswordReset"));
    assert_eq!(r.language_code.as_deref(), Some("en-US"));
    assert_eq!(r.attribute_keys, ["exampleAttributeKey1"]);
    assert_eq!(r.parameters["exampleParameterKey2"], "exampleParameterValue2");
    assert_eq!((r.flow_name.as_deref(), r.step.as_deref()), (None, None));
    assert!(r.recognised);
    let expected = config().tokenizer.phone("+1234567890").unwrap();
    assert_eq!(r.customer_token.as_deref(), Some(expected.token.as_str()));
    assert_eq!(r.calling_code.as_deref(), Some("1"));
    assert!(
        !record_json(&o).contains("exampleAttributeValue1"),
        "attribute values are never logged"
    );
    assert!(!record_json(&o).contains("+1234567890"));
    assert_eq!(
        o.answer.to_json(),
        r#"{"deny":"false","deny_reason":"","logged":"true"}"#
    );
}

#[test]
fn flow_steps_are_counted_by_flow_name_and_step_and_never_by_contact() {
    let o = logger().outcome(&fixture("sip-attributes-benign.json"), DenyCheck::Miss);
    let lines = emf(&o);
    let step = lines.iter().find(|v| v.get("FlowStep").is_some()).unwrap();
    assert_eq!(step["FlowStep"], 1.0);
    assert_eq!(step["FlowName"], "Inbound_main");
    assert_eq!(step["Step"], "greeting");
    assert_eq!(
        step["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
        json!([["FlowName", "Step"]])
    );
    let deny = lines.iter().find(|v| v.get("DenyListHit").is_some()).unwrap();
    assert_eq!(
        (deny["DenyListHit"].as_f64(), deny["Function"].as_str()),
        (Some(0.0), Some(FUNCTION))
    );
    for line in &lines {
        let dims = line["_aws"]["CloudWatchMetrics"][0]["Dimensions"].to_string();
        assert!(!dims.contains("Contact"), "{dims}");
        assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Namespace"], "ConnectLake");
    }
}

#[test]
fn a_flow_without_name_or_step_is_counted_as_unknown_and_pii_in_them_is_redacted() {
    let o = logger().outcome(&fixture("aws-documented-event.json"), DenyCheck::Disabled);
    let step = emf(&o).into_iter().find(|v| v.get("FlowStep").is_some()).unwrap();
    assert_eq!(
        (step["FlowName"].as_str(), step["Step"].as_str()),
        (Some("unknown"), Some("unknown"))
    );
    let mut e = fixture("aws-documented-event.json");
    e.parameters
        .insert("FlowName".into(), "Callback for +1 206 555 0100".into());
    e.parameters.insert("Step".into(), "x".repeat(500));
    let o = logger().outcome(&e, DenyCheck::Disabled);
    let step = emf(&o).into_iter().find(|v| v.get("FlowStep").is_some()).unwrap();
    assert_eq!(step["FlowName"], "redacted");
    assert_eq!(step["Step"].as_str().unwrap().len(), MAX_DIMENSION_CHARS);
    assert!(
        o.record.flow_name.as_deref().unwrap().starts_with("ph_"),
        "the record tokenizes it"
    );
}

#[test]
fn telephony_parameters_and_emails_are_tokenized_in_the_record() {
    let o = logger().outcome(&fixture("sip-attributes-suspicious.json"), DenyCheck::Miss);
    let p = &o.record.parameters;
    assert!(p["P-Asserted-Identity"].starts_with("tx_") || p["P-Asserted-Identity"].starts_with("ph_"));
    assert!(p["Calling-Party-Address"].starts_with("ph_"));
    assert_eq!(p["ISUP-OLI"], "27", "non-PII parameters stay readable");
    assert_eq!(p["Hop-Counter"], "9");
    assert_eq!(o.record.step.as_deref(), Some("fraud_check"));
    assert!(!p.contains_key("FlowName") && !p.contains_key("Step"));
    assert_no_raw_pii(
        &record_json(&o),
        &[
            "+12125550147",
            "+19175550123",
            "+447700900456",
            "2125550147",
            "9175550123",
        ],
    );

    let chat = logger().outcome(&fixture("chat-contact.json"), DenyCheck::NoNumber);
    assert!(chat.record.parameters["ContactEmail"].starts_with("em_"));
    assert_eq!(chat.record.customer_token, None);
    assert_no_raw_pii(&record_json(&chat), &["jane.doe@example.com", "Jane.Doe@Example.com"]);
}

#[test]
fn thirty_kilobytes_of_attributes_log_only_their_keys_and_answer_small() {
    let o = logger().outcome(&fixture("large-attributes-30kb.json"), DenyCheck::Miss);
    assert!(o.record.attribute_count > 200);
    assert_eq!(
        o.record.attribute_keys.len(),
        o.record.attribute_count.min(MAX_LOGGED_ATTRIBUTE_KEYS)
    );
    let json = record_json(&o);
    assert!(json.len() < 12_000, "the record stays small: {} bytes", json.len());
    assert_no_raw_pii(&json, &["jane.doe@example.com", "+1 206 555 0123", "206) 555-0188"]);
    assert!(!json.contains("renewal"), "attribute values are not logged");
    assert_answer_contract(&o.answer);
}

#[test]
fn null_endpoints_and_queue_are_logged_as_absent() {
    let o = logger().outcome(&fixture("null-endpoints-and-queue.json"), DenyCheck::NoNumber);
    let r = &o.record;
    assert_eq!(
        (r.customer_token.as_ref(), r.calling_code.as_ref(), r.queue.as_ref()),
        (None, None, None)
    );
    assert_eq!(r.initiation_method.as_deref(), Some("TRANSFER"));
    assert_eq!(r.deny_list, "no_number");
    assert_eq!(o.answer.get("deny"), Some("false"));
}

#[test]
fn a_deny_list_hit_answers_deny_with_its_reason_and_counts_a_hit() {
    let hit = DenyCheck::Hit {
        reason: Some("robocall_ring".into()),
        kind: MatchKind::Number,
    };
    let o = logger().outcome(&fixture("deny-listed-caller.json"), hit);
    assert_eq!(
        o.answer.to_json(),
        r#"{"deny":"true","deny_reason":"robocall_ring","logged":"true"}"#
    );
    assert!(o.record.deny && o.record.deny_list == "hit");
    let deny = emf(&o).into_iter().find(|v| v.get("DenyListHit").is_some()).unwrap();
    assert_eq!(deny["DenyListHit"], 1.0);

    let no_reason = DenyCheck::Hit {
        reason: None,
        kind: MatchKind::Prefix,
    };
    let o = logger().outcome(&fixture("deny-listed-caller.json"), no_reason);
    assert_eq!(o.answer.get("deny_reason"), Some("listed"));
}

#[test]
fn an_unavailable_deny_list_fails_open_and_is_counted() {
    let o = logger().outcome(&fixture("deny-listed-caller.json"), DenyCheck::Unavailable);
    assert_eq!(o.answer.get("deny"), Some("false"));
    let deny = emf(&o).into_iter().find(|v| v.get("DenyListHit").is_some()).unwrap();
    assert_eq!(deny["DenyListUnavailable"], 1.0);
    assert_eq!(o.record.deny_list, "unavailable");
}

#[test]
fn an_event_that_is_not_a_contact_flow_event_is_still_answered_and_logged() {
    let event: ContactFlowEvent = serde_json::from_str(r#"{"hello": "world"}"#).unwrap();
    let o = logger().outcome(&event, DenyCheck::Disabled);
    assert!(!o.record.recognised);
    assert_eq!(o.answer.get("logged"), Some("true"));
    assert_eq!(o.answer.get("deny"), Some("false"));
}

#[test]
fn non_id_contact_ids_are_scrubbed() {
    let mut e = fixture("aws-documented-event.json");
    e.contact_data.contact_id = Some("+12065550100".into());
    let o = logger().outcome(&e, DenyCheck::Disabled);
    assert!(o.record.contact_id.as_deref().unwrap().starts_with("ph_"));
}

#[test]
fn the_record_is_one_json_line_and_a_failed_write_answers_logged_false() {
    let o = logger().outcome(&fixture("sip-attributes-benign.json"), DenyCheck::Miss);
    let (mut log, mut metrics) = (Vec::new(), Vec::new());
    let answer = o.clone().write(&mut log, &mut metrics, 1_700_000_000_000);
    assert_eq!(answer.get("logged"), Some("true"));
    let text = String::from_utf8(log).unwrap();
    assert_eq!(text.lines().count(), 1);
    let line: Value = serde_json::from_str(text.trim_end()).unwrap();
    assert_eq!(line["record"], "contact_flow_log", "the subscription filter's field");
    assert_eq!(String::from_utf8(metrics).unwrap().lines().count(), 2);

    struct Broken;
    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("closed"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let answer = o.write(&mut Broken, &mut Vec::new(), 0);
    assert_eq!(answer.get("logged"), Some("false"));
    assert_eq!(answer.get("deny"), Some("false"), "the decision stands");
}

#[test]
fn configuration_errors_name_the_variable() {
    let err = Config::from_env(&[("METRICS_NAMESPACE", "x")]).unwrap_err().to_string();
    assert!(err.contains("PII_TOKEN_KEY"), "{err}");
    let err = Config::from_env(&[("PII_TOKEN_KEY", KEY), ("DENY_LIST_URI", "https://x/y")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("DENY_LIST_URI"), "{err}");
    let c = Config::from_env(&[("PII_TOKEN_KEY", KEY), ("DENY_LIST_URI", "s3://cfg/deny.txt")]).unwrap();
    assert_eq!(c.deny_list.unwrap().uri.to_string(), "s3://cfg/deny.txt");
    assert_eq!(c.metrics_namespace, "ConnectLake");
}

fn logger_with_list(list: &str) -> Logger {
    let settings = RemoteSettings::new("s3://cfg/deny-list.txt".parse().unwrap());
    let source = Arc::new(MemorySource::new());
    source.put(&settings.uri, list.to_owned());
    let cache = deny_list::cache(settings, source, "Test");
    Logger::new(&config(), Some(cache))
}

#[tokio::test]
async fn the_handler_checks_the_customer_number_against_the_deny_list() {
    let logger = logger_with_list(&fixture_text("../deny-list.txt"));
    let o = logger.process(&fixture("deny-listed-caller.json")).await;
    assert_eq!(o.answer.get("deny"), Some("true"));
    assert_eq!(o.answer.get("deny_reason"), Some("robocall_ring"));
    let o = logger.process(&fixture("sip-attributes-benign.json")).await;
    assert_eq!((o.answer.get("deny"), o.record.deny_list), (Some("false"), "miss"));
    let o = logger.process(&fixture("chat-contact.json")).await;
    assert_eq!(o.record.deny_list, "no_number");
}

fn arb_event() -> impl Strategy<Value = Value> {
    let text = prop_oneof![
        ".{0,60}",
        "\\+[0-9]{6,16}",
        Just("VOICE".to_owned()),
        Just("CHAT".to_owned())
    ];
    let map = proptest::collection::btree_map("[A-Za-z_-]{1,20}", ".{0,300}", 0..40);
    (text.clone(), text.clone(), arb_json(), map.clone(), map, 0usize..40_000).prop_map(
        |(channel, address, anything, attributes, parameters, big)| {
            let mut attributes: serde_json::Map<String, Value> =
                attributes.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
            attributes.insert("big".into(), Value::String("é".repeat(big)));
            json!({"Name": "ContactFlowEvent", "Details": {
                "ContactData": {
                    "Channel": channel, "ContactId": anything.clone(), "Queue": anything,
                    "CustomerEndpoint": {"Address": address, "Type": "TELEPHONE_NUMBER"},
                    "Attributes": attributes,
                },
                "Parameters": parameters,
            }})
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn whatever_the_event_the_answer_is_flat_small_and_never_an_error(
        event in prop_oneof![arb_event(), arb_json()],
        deny in prop_oneof![
            Just(DenyCheck::Miss),
            Just(DenyCheck::Unavailable),
            ".{0,200}".prop_map(|r| DenyCheck::Hit { reason: Some(r), kind: MatchKind::Number }),
        ],
    ) {
        let bytes = serde_json::to_vec(&event).unwrap();
        let parsed: ContactFlowEvent = serde_json::from_slice(&bytes).unwrap();
        let o = logger().outcome(&parsed, deny);
        assert_answer_contract(&o.answer);
        prop_assert!(o.answer.get("deny").is_some() && o.answer.get("logged").is_some());
        let record = record_json(&o);
        prop_assert!(record.len() < 64 * 1024, "bounded record: {} bytes", record.len());
    }
}

#[test]
fn parameters_follow_the_operators_key_rules() {
    let config = Config::from_env(&[
        ("PII_TOKEN_KEY", KEY),
        ("PII_ATTRIBUTE_KEYS", "loyaltyId"),
        ("CLEAR_ATTRIBUTE_KEYS", "ticket_ref"),
    ])
    .unwrap();
    let mut e = fixture("aws-documented-event.json");
    for (k, v) in [
        ("loyaltyId", "gold-42"),
        ("ticketRef", "+1 206 555 0100"),
        ("customerEmail", "plain text"),
        ("note", "mailto:jane@x.com"),
        ("intent", "billing"),
    ] {
        e.parameters.insert(k.into(), v.into());
    }
    let o = Logger::new(&config, None).outcome(&e, DenyCheck::Disabled);
    let p = &o.record.parameters;
    assert!(p["loyaltyId"].starts_with("tx_"), "listed key: {}", p["loyaltyId"]);
    assert_eq!(p["ticketRef"], "+1 206 555 0100", "kept in clear by the operator");
    assert!(p["customerEmail"].starts_with("tx_"), "a default PII key");
    assert_eq!(p["note"], config.tokenizer.scrub("jane@x.com"), "classified");
    assert_eq!(p["intent"], "billing");
    let err = Config::from_env(&[
        ("PII_TOKEN_KEY", KEY),
        ("PII_ATTRIBUTE_KEYS", "x"),
        ("CLEAR_ATTRIBUTE_KEYS", "X"),
    ])
    .unwrap_err();
    assert!(err.to_string().contains("CLEAR_ATTRIBUTE_KEYS"), "{err}");
}

#[test]
fn the_deny_list_bucket_owner_is_read_once_and_must_be_an_account_id() {
    assert_eq!(
        config().config_bucket_owner,
        None,
        "the function's own account, from its ARN"
    );
    let c = Config::from_env(&[("PII_TOKEN_KEY", KEY), ("CONFIG_BUCKET_OWNER", "111122223333")]).unwrap();
    assert_eq!(c.config_bucket_owner.as_deref(), Some("111122223333"));
    let err = Config::from_env(&[("PII_TOKEN_KEY", KEY), ("CONFIG_BUCKET_OWNER", "my-account")]).unwrap_err();
    assert!(err.to_string().contains("CONFIG_BUCKET_OWNER"), "{err}");
}
