//! With `ConnectInstanceArn` set, the template wires the instance to the lake: every data set
//! Connect produces goes where the pipeline reads it, encrypted with a key Connect can use.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should say where

use template_check::{Template, Value, at, getatt_target, intrinsic, plain_str, ref_target};

fn template() -> Template {
    Template::load().unwrap()
}

fn yaml(text: &str) -> Value {
    serde_yaml::from_str(text).unwrap()
}

/// The stream each Firehose delivery stream reads, as written in the template.
fn source_stream<'a>(t: &'a Template, delivery_stream: &str) -> Option<&'a Value> {
    at(
        t.resource(delivery_stream)?,
        &["Properties", "KinesisStreamSourceConfiguration", "KinesisStreamARN"],
    )
}

fn wiring_problems(t: &Template) -> Vec<String> {
    let mut out = Vec::new();
    let configs = t.resources_of_type("AWS::Connect::InstanceStorageConfig");
    let lake_key = yaml("!GetAtt LakeKey.Arn");
    let find = |kind: &str| -> Vec<(&str, &Value)> {
        configs
            .iter()
            .filter(|(_, r)| at(r, &["Properties", "ResourceType"]).and_then(plain_str) == Some(kind))
            .copied()
            .collect()
    };
    for (id, r) in &configs {
        if r.get("Condition").and_then(plain_str) != Some("HasConnectInstance") {
            out.push(format!("{id}: not conditional on HasConnectInstance"));
        }
        if at(r, &["Properties", "InstanceArn"]).and_then(ref_target) != Some("ConnectInstanceArn") {
            out.push(format!("{id}: InstanceArn is not ConnectInstanceArn"));
        }
    }
    for (kind, delivery) in [
        ("CONTACT_TRACE_RECORDS", "CtrDeliveryStream"),
        ("AGENT_EVENTS", "AgentEventsDeliveryStream"),
    ] {
        match find(kind).as_slice() {
            [(id, r)] => {
                let stream = at(r, &["Properties", "KinesisStreamConfig", "StreamArn"]);
                if at(r, &["Properties", "StorageType"]).and_then(plain_str) != Some("KINESIS_STREAM")
                    || stream.is_none()
                    || stream != source_stream(t, delivery)
                {
                    out.push(format!("{id}: {kind} must go to the stream {delivery} reads"));
                }
            }
            other => out.push(format!("{kind}: {} storage configs, expected 1", other.len())),
        }
    }
    for (kind, folder) in [
        ("CALL_RECORDINGS", "CallRecordings"),
        ("CHAT_TRANSCRIPTS", "ChatTranscripts"),
    ] {
        match find(kind).as_slice() {
            [(id, r)] => {
                let s3 = at(r, &["Properties", "S3Config"]);
                let bucket = s3.and_then(|s| s.get("BucketName")).and_then(ref_target);
                let prefix = s3.and_then(|s| s.get("BucketPrefix")).and_then(|p| match intrinsic(p) {
                    Some((name, arg)) if name == "Sub" => plain_str(arg),
                    _ => None,
                });
                let key = s3.and_then(|s| at(s, &["EncryptionConfig", "KeyId"]));
                if bucket != Some("LakeBucket") || prefix != Some(&format!("${{RecordingsPrefix}}{folder}")) {
                    out.push(format!(
                        "{id}: {kind} must go to the lake bucket under RecordingsPrefix/{folder}"
                    ));
                }
                if key != Some(&lake_key) {
                    out.push(format!("{id}: {kind} must be encrypted with the lake key"));
                }
            }
            other => out.push(format!("{kind}: {} storage configs, expected 1", other.len())),
        }
    }
    // Connect publishes only to streams encrypted with the key it uses for recordings.
    for (id, stream) in t.resources_of_type("AWS::Kinesis::Stream") {
        if at(stream, &["Properties", "StreamEncryption", "KeyId"]) != Some(&lake_key) {
            out.push(format!(
                "{id}: encrypted with another key than the one Connect uses for recordings"
            ));
        }
    }
    for function in ["ContactFlowLoggerFunction", "FraudRouterFunction"] {
        let associated = t
            .resources_of_type("AWS::Connect::IntegrationAssociation")
            .iter()
            .any(|(_, r)| {
                r.get("Condition").and_then(plain_str) == Some("HasConnectInstance")
                    && at(r, &["Properties", "IntegrationArn"]).and_then(getatt_target) == Some((function, "Arn"))
            });
        if !associated {
            out.push(format!("{function}: not associated with the instance"));
        }
    }
    out
}

#[test]
fn with_an_instance_every_connect_data_set_goes_where_the_lake_reads_it() {
    assert_eq!(wiring_problems(&template()), Vec::<String>::new());
}

fn props_mut<'a>(t: &'a mut Template, id: &str) -> &'a mut Value {
    t.resources_mut()
        .and_then(|r| r.get_mut(id))
        .and_then(|r| r.get_mut("Properties"))
        .unwrap_or_else(|| panic!("no resource {id}"))
}

#[test]
fn a_missing_or_misdirected_storage_config_is_reported() {
    let mut t = template();
    assert!(t.resources_mut().unwrap().remove("AgentEventsStorageConfig").is_some());
    assert_eq!(wiring_problems(&t), ["AGENT_EVENTS: 0 storage configs, expected 1"]);

    let mut t = template();
    props_mut(&mut t, "ContactRecordsStorageConfig")["KinesisStreamConfig"]["StreamArn"] =
        yaml("!If [CreateAgentEventStream, !GetAtt AgentEventStream.Arn, !Ref ExistingAgentEventStreamArn]");
    assert_eq!(
        wiring_problems(&t),
        ["ContactRecordsStorageConfig: CONTACT_TRACE_RECORDS must go to the stream CtrDeliveryStream reads"]
    );

    let mut t = template();
    props_mut(&mut t, "CallRecordingsStorageConfig")["S3Config"]["EncryptionConfig"]["KeyId"] =
        Value::from("alias/aws/s3");
    assert_eq!(
        wiring_problems(&t),
        ["CallRecordingsStorageConfig: CALL_RECORDINGS must be encrypted with the lake key"]
    );
}

#[test]
fn a_stream_on_another_key_than_the_recordings_key_is_reported() {
    let mut t = template();
    props_mut(&mut t, "AgentEventStream")["StreamEncryption"]["KeyId"] = Value::from("alias/aws/kinesis");
    assert_eq!(
        wiring_problems(&t),
        ["AgentEventStream: encrypted with another key than the one Connect uses for recordings"]
    );
}
