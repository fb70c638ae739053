use super::*;
use connect_lake::schema::{AGENT_EVENTS, CTR, Table};
use serde_json::json;

const VOICE: &str = include_str!("../../testdata/ctr-voice-aws-sample.json");
const CHAT: &str = include_str!("../../testdata/ctr-chat-null-endpoints.json");
const TASK: &str = include_str!("../../testdata/ctr-task-null-queue.json");
const FULL: &str = include_str!("../../testdata/ctr-voice-full-fields.json");
const STATE_CHANGE: &str = include_str!("../../testdata/agent-event-state-change.json");
const HEARTBEAT: &str = include_str!("../../testdata/agent-event-heartbeat.json");

fn tok() -> Tokenizer {
    Tokenizer::new(b"unit-test-key-unit-test-key-unit-test-key").unwrap()
}

fn flat(json: &str) -> serde_json::Value {
    let rec: ContactRecord<'_> = serde_json::from_str(json).unwrap();
    let f = flatten_ctr(&rec, &tok(), None).unwrap();
    serde_json::to_value(&f.row).unwrap()
}

fn assert_row_matches(table: &Table, row: &serde_json::Value, complete: bool) {
    let problems = connect_lake::schema::row_problems(table, row, complete);
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn aws_documented_sample_ctr_flattens() {
    let row = flat(VOICE);
    assert_eq!(row["contact_id"], "aaaaaaaa-bbbb-cccc-dddd-111111111111");
    assert_eq!(row["instance_id"], "aaaaaaaa-bbbb-cccc-dddd-111111111111");
    assert_eq!(row["aws_account_id"], "012345678901");
    assert_eq!(row["channel"], "VOICE");
    assert_eq!(row["initiation_method"], "INBOUND");
    assert_eq!(row["initiation_timestamp"], "2019-08-13 20:33:23.000");
    assert_eq!(row["last_update_timestamp"], "2019-08-13 20:35:05.000");
    assert_eq!(row["queue_enqueue_timestamp"], "2019-08-13 20:33:24.000");
    assert_eq!(row["acw_end_timestamp"], "2019-08-13 20:33:51.000");
    assert_eq!(row["queue_duration_s"], 9);
    assert_eq!(row["agent_interaction_duration_s"], 2);
    assert_eq!(row["acw_duration_s"], 14);
    assert_eq!(row["handle_time_s"], 16, "interaction + hold + after-contact work");
    assert_eq!(row["agent_username"], "agent-username");
    assert_eq!(row["routing_profile_name"], "Basic Routing Profile");
    assert_eq!(row["queue_name"], "BasicQueue");
    assert_eq!(row["disconnect_reason"], "AGENT_DISCONNECT");
    assert_eq!(row["customer_endpoint_type"], "TELEPHONE_NUMBER");
    assert_eq!(row["customer_calling_code"], "1");
    assert_eq!(
        row["customer_endpoint_token"],
        tok().phone("+12345678901").unwrap().token
    );
    assert_eq!(row["system_endpoint_token"], tok().phone("+12345678902").unwrap().token);
    assert_eq!(row["recording_status"], "AVAILABLE");
    assert!(row["recording_location"].as_str().unwrap().ends_with(".wav"));
    assert_eq!(row["attributes"], serde_json::json!({"greetingPlayed": "true"}));
    assert_eq!(row["partition_time_source"], "initiation");
    assert!(row.get("initial_contact_id").is_none(), "nulls are left out");
    assert!(row.get("transferred_to_endpoint_type").is_none());
    assert_row_matches(&CTR, &row, false);
    // The number the customer dialled is the business's own: in clear. The customer's never is.
    assert_eq!(row["system_endpoint_address"], "+12345678902");
    let text = row.to_string();
    assert!(!text.contains("+12345678901"), "the customer's number leaked: {text}");
    assert_eq!(row["recordings"][0]["storage_type"], "S3");
    assert_eq!(row["recordings"][0]["media_stream_type"], "AUDIO");
}

#[test]
fn chat_contact_with_null_endpoints_flattens_and_scrubs_attributes() {
    let row = flat(CHAT);
    assert_eq!(row["channel"], "CHAT");
    assert!(row.get("customer_endpoint_type").is_none());
    assert!(row.get("customer_endpoint_token").is_none());
    assert!(row.get("system_endpoint_token").is_none());
    assert!(row.get("customer_hold_duration_s").is_none());
    assert_eq!(row["handle_time_s"], 402 + 31);
    assert_eq!(row["hierarchy_level1"], "EMEA");
    assert_eq!(row["hierarchy_level2"], "Dublin");
    assert!(row.get("hierarchy_level3").is_none());
    assert_eq!(row["contact_lens_enabled"], true);
    let attrs = &row["attributes"];
    assert_eq!(attrs["orderRef"], "A-1042");
    assert!(attrs["customerEmail"].as_str().unwrap().starts_with("em_"));
    assert_eq!(attrs["callbackNumber"], tok().phone("+35315550142").unwrap().token);
    let text = row.to_string().to_lowercase();
    assert!(
        !text.contains("jane.doe") && !text.contains("555 0142") && !text.contains("5550142"),
        "{text}"
    );
    assert_row_matches(&CTR, &row, false);
}

#[test]
fn task_contact_with_null_agent_and_queue_flattens() {
    let row = flat(TASK);
    assert_eq!(row["channel"], "TASK");
    assert_eq!(row["related_contact_id"], "c4a1e8f0-5b6d-4c3e-9a7b-0f1e2d3c4b5a");
    assert!(row.get("queue_name").is_none());
    assert!(row.get("agent_username").is_none());
    assert!(row.get("handle_time_s").is_none(), "no agent, no handle time");
    assert_eq!(row["attributes"], serde_json::json!({}));
    assert_eq!(row["agent_connection_attempts"], 0);
    assert_row_matches(&CTR, &row, false);
}

#[test]
fn ctr_row_matches_schema_exactly() {
    let mut rich: serde_json::Value = serde_json::from_str(CHAT).unwrap();
    rich["CustomerEndpoint"] = json!({"Address": "+14155550100", "Type": "TELEPHONE_NUMBER"});
    rich["SystemEndpoint"] = json!({"Address": "+18005550199", "Type": "TELEPHONE_NUMBER"});
    rich["TransferredToEndpoint"] = json!({"Address": "+442079460000", "Type": "TELEPHONE_NUMBER"});
    rich["InitialContactId"] = json!("i-1");
    rich["PreviousContactId"] = json!("p-1");
    rich["NextContactId"] = json!("n-1");
    rich["RelatedContactId"] = json!("r-1");
    rich["TransferCompletedTimestamp"] = json!("2026-03-08T10:10:00Z");
    rich["ScheduledTimestamp"] = json!("2026-03-08T10:00:00Z");
    rich["Agent"]["CustomerHoldDuration"] = json!(12);
    rich["Agent"]["LongestHoldDuration"] = json!(8);
    rich["Agent"]["NumberOfHolds"] = json!(2);
    for level in ["Level3", "Level4", "Level5"] {
        rich["Agent"]["HierarchyGroups"][level] = json!({"GroupName": level});
    }
    rich["Recording"] = json!({"Location": "bucket/rec.wav", "Status": "AVAILABLE"});
    let full: serde_json::Value = serde_json::from_str(FULL).unwrap();
    let task: serde_json::Value = serde_json::from_str(TASK).unwrap();
    for key in [
        "AWSContactTraceRecordFormatVersion",
        "AnsweringMachineDetectionStatus",
        "Campaign",
        "DisconnectDetails",
        "CustomerVoiceActivity",
        "QualityMetrics",
        "SegmentAttributes",
        "Tags",
        "Recordings",
    ] {
        rich[key] = full[key].clone();
    }
    for key in [
        "ContactDetails",
        "References",
        "TotalPauseCount",
        "TotalPauseDuration",
        "LastPausedTimestamp",
        "LastResumedTimestamp",
    ] {
        rich[key] = task[key].clone();
    }
    rich["Agent"]["AgentPauseDuration"] = json!(30);
    let row = flat(&rich.to_string());
    assert_row_matches(&CTR, &row, true);
    assert_eq!(row["handle_time_s"], 402 + 12 + 31);
}

#[test]
fn agent_event_row_matches_schema_exactly() {
    let ev: AgentEvent<'_> = serde_json::from_str(STATE_CHANGE).unwrap();
    let mut f = flatten_agent_event(&ev, &tok(), None).unwrap();
    f.row.hierarchy_level2 = Some("b".into());
    f.row.hierarchy_level3 = Some("c".into());
    f.row.hierarchy_level4 = Some("d".into());
    f.row.hierarchy_level5 = Some("e".into());
    let row = serde_json::to_value(&f.row).unwrap();
    assert_row_matches(&AGENT_EVENTS, &row, true);
}

#[test]
fn agent_events_flatten_without_names() {
    let rec: ContactRecord<'_> = serde_json::from_str(STATE_CHANGE).unwrap();
    assert!(rec.looks_like_agent_event());
    let ev: AgentEvent<'_> = serde_json::from_str(STATE_CHANGE).unwrap();
    assert!(!ev.is_heartbeat());
    let f = flatten_agent_event(&ev, &tok(), None).unwrap();
    let row = serde_json::to_value(&f.row).unwrap();
    assert_eq!(row["event_type"], "STATE_CHANGE");
    assert_eq!(row["event_timestamp"], "2026-03-08 10:05:20.112");
    assert_eq!(row["agent_status"], "Available");
    assert_eq!(row["previous_agent_status"], "Offline");
    assert_eq!(row["agent_username"], "mmurphy");
    assert_eq!(row["hierarchy_level1"], "EMEA");
    assert_eq!(row["contact_count"], 1);
    assert_eq!(
        row["agent_status_arn"],
        "arn:aws:connect:us-east-1:012345678901:instance/4d5e6f70-1111-2222-3333-444455556666/agent-state/st1"
    );
    assert_eq!(row["next_agent_status"], "Lunch");
    assert!(
        row["next_agent_status_arn"]
            .as_str()
            .unwrap()
            .ends_with("/agent-state/st2")
    );
    assert_eq!(row["next_agent_status_enqueued_timestamp"], "2026-03-08 10:05:19.500");
    assert_eq!(
        row["contacts"],
        json!([{
            "contact_id": "c4a1e8f0-5b6d-4c3e-9a7b-0f1e2d3c4b5a",
            "channel": "CHAT",
            "initiation_method": "API",
            "state": "CONNECTING",
            "state_start_timestamp": "2026-03-08 10:05:20.000",
            "queue_name": "ChatQueue",
            "queue_arn": "arn:aws:connect:us-east-1:012345678901:instance/4d5e6f70-1111-2222-3333-444455556666/queue/q-chat"
        }]),
        "one typed struct per contact, nulls left out"
    );
    assert_eq!(row["instance_id"], "4d5e6f70-1111-2222-3333-444455556666");
    assert_eq!(
        f.partition.prefix("agent_events"),
        "agent_events/year=2026/month=03/day=08/hour=10/"
    );
    let text = row.to_string();
    assert!(
        !text.contains("Maeve") && !text.contains("Murphy"),
        "agent names are not stored"
    );
    let hb: AgentEvent<'_> = serde_json::from_str(HEARTBEAT).unwrap();
    assert!(hb.is_heartbeat());
}

#[test]
fn partition_is_the_utc_hour_of_initiation() {
    let rec: ContactRecord<'_> = serde_json::from_str(TASK).unwrap();
    let f = flatten_ctr(&rec, &tok(), None).unwrap();
    assert_eq!(f.partition.prefix("ctr"), "ctr/year=2026/month=03/day=08/hour=23/");
    let mut v: serde_json::Value = serde_json::from_str(TASK).unwrap();
    v["InitiationTimestamp"] = json!("2026-03-09T00:30:00+01:00");
    let text = v.to_string();
    let rec: ContactRecord<'_> = serde_json::from_str(&text).unwrap();
    let f = flatten_ctr(&rec, &tok(), None).unwrap();
    assert_eq!(f.partition.prefix("ctr"), "ctr/year=2026/month=03/day=08/hour=23/");
}

#[test]
fn when_initiation_timestamp_is_unusable_arrival_time_partitions_the_row() {
    let arrival = connect_lake::time_fmt::from_epoch_millis(1_772_964_000_000);
    for bad in [json!("not a time"), json!(null), json!("2026-02-30T10:00:00Z")] {
        let mut v: serde_json::Value = serde_json::from_str(VOICE).unwrap();
        v["InitiationTimestamp"] = bad;
        let text = v.to_string();
        let rec: ContactRecord<'_> = serde_json::from_str(&text).unwrap();
        let f = flatten_ctr(&rec, &tok(), arrival).unwrap();
        assert_eq!(f.row.partition_time_source, "arrival");
        assert!(f.row.initiation_timestamp.is_none());
        assert_eq!(f.partition, PartitionValues::for_instant(arrival.unwrap()));
        assert_eq!(flatten_ctr(&rec, &tok(), None).unwrap_err(), FlattenError::NoTimestamp);
    }
}

#[test]
fn missing_or_blank_contact_id_is_an_error() {
    for id in [json!(null), json!(""), json!("   ")] {
        let mut v: serde_json::Value = serde_json::from_str(VOICE).unwrap();
        v["ContactId"] = id;
        let text = v.to_string();
        let rec: ContactRecord<'_> = serde_json::from_str(&text).unwrap();
        assert!(!rec.looks_like_agent_event());
        assert_eq!(
            flatten_ctr(&rec, &tok(), None).unwrap_err(),
            FlattenError::MissingContactId
        );
    }
}

#[test]
fn unknown_fields_are_ignored_and_odd_numbers_are_lenient() {
    let mut v: serde_json::Value = serde_json::from_str(VOICE).unwrap();
    v["BrandNewField"] = json!({"nested": [1, 2, 3]});
    v["Agent"]["AgentInteractionDuration"] = json!(2.6);
    v["Agent"]["CustomerHoldDuration"] = json!("4");
    v["Agent"]["AfterContactWorkDuration"] = json!({"odd": true});
    v["Attributes"] = json!({"n": 42, "flag": true, "nothing": null, "phoneAsNumber": 12065550100u64});
    let row = flat(&v.to_string());
    assert_eq!(row["agent_interaction_duration_s"], 3);
    assert_eq!(row["customer_hold_duration_s"], 4);
    assert!(row.get("acw_duration_s").is_none());
    assert_eq!(row["handle_time_s"], 7);
    let attrs = &row["attributes"];
    assert_eq!(attrs["n"], "42");
    assert_eq!(attrs["flag"], "true");
    assert_eq!(attrs["nothing"], "");
    assert!(attrs["phoneAsNumber"].as_str().unwrap().starts_with("ph_"));
}

#[test]
fn instance_ids_come_from_instance_arns() {
    assert_eq!(
        instance_id_from_arn("arn:aws:connect:us-east-1:1:instance/abc"),
        Some("abc")
    );
    assert_eq!(
        instance_id_from_arn("arn:aws:connect:us-east-1:1:instance/abc/queue/q"),
        Some("abc")
    );
    assert_eq!(instance_id_from_arn("arn:aws:connect:us-east-1:1:instance/"), None);
    assert_eq!(instance_id_from_arn("garbage"), None);
}

#[test]
fn outbound_campaign_fields_flatten_from_the_documented_shapes() {
    let row = flat(FULL);
    assert_eq!(row["format_version"], "2017-03-10");
    assert_eq!(row["answering_machine_detection_status"], "HUMAN_ANSWERED");
    assert_eq!(row["campaign_id"], "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d");
    assert_eq!(row["potential_disconnect_issue"], "AGENT_NETWORK_DISCONNECT");
    assert_eq!(row["customer_greeting_start_timestamp"], "2019-08-13 20:33:30.120");
    assert_eq!(row["customer_greeting_end_timestamp"], "2019-08-13 20:33:31.480");
    assert_eq!(row["agent_pause_duration_s"], 0);
    assert_row_matches(&CTR, &row, false);
}

#[test]
fn quality_metrics_become_one_struct_of_agent_and_customer_audio() {
    let row = flat(FULL);
    assert_eq!(
        row["quality_metrics"],
        json!({
            "agent_audio_score": 4.2,
            "agent_audio_issues": [],
            "customer_audio_score": 2.75,
            "customer_audio_issues": ["HighPacketLoss", "HighJitterBuffer"]
        })
    );
    let mut only_customer: serde_json::Value = serde_json::from_str(FULL).unwrap();
    only_customer["QualityMetrics"] = json!({"Customer": {"Audio": {"QualityScore": "3.5"}}, "Agent": null});
    let row = flat(&only_customer.to_string());
    assert_eq!(row["quality_metrics"], json!({"customer_audio_score": 3.5}));
    only_customer["QualityMetrics"] = json!({"Agent": {"Audio": null}});
    assert!(flat(&only_customer.to_string()).get("quality_metrics").is_none());
}

#[test]
fn segment_attributes_are_their_value_strings_and_tags_are_scrubbed() {
    let row = flat(FULL);
    assert_eq!(row["segment_attributes"]["connect:Subtype"], "connect:Telephony");
    assert_eq!(
        row["segment_attributes"]["connect:ContactExpiry"], r#"{"ValueMap":{"ExpiryDuration":{"ValueInteger":135}}}"#,
        "a value of another kind keeps its JSON"
    );
    assert_eq!(row["tags"]["department"], "billing");
    assert!(row["tags"]["escalationContact"].as_str().unwrap().starts_with("em_"));
    assert!(!row.to_string().contains("jane.doe"));
    let task = flat(TASK);
    assert_eq!(task["segment_attributes"], json!({"connect:Subtype": "connect:Task"}));
}

#[test]
fn the_recordings_array_is_kept_whole_and_the_voice_recording_in_s3_is_chosen() {
    let row = flat(FULL);
    let recordings = row["recordings"].as_array().unwrap();
    assert_eq!(recordings.len(), 3);
    assert_eq!(recordings[0]["storage_type"], "KINESIS_VIDEO_STREAM");
    assert_eq!(
        recordings[0]["fragment_start_number"],
        "91343852333181432392682062622220590765191907586"
    );
    assert_eq!(recordings[0]["start_timestamp"], "2019-08-13 20:33:24.000");
    assert_eq!(recordings[1]["media_stream_type"], "VIDEO");
    assert_eq!(recordings[1]["participant_type"], "AGENT");
    assert!(recordings[0].get("status").is_none(), "nulls are left out");
    // Not the media stream (first), not the screen recording (second): the S3 audio file.
    assert!(row["recording_location"].as_str().unwrap().ends_with("_UTC.wav"));
    assert_eq!(row["recording_status"], "AVAILABLE");
}

#[test]
fn a_chat_transcript_or_a_deleted_copy_is_not_chosen_over_an_available_voice_recording() {
    let recs: Vec<Recording<'_>> = serde_json::from_str(
        r#"[
        {"Location": "b/connect/i/ChatTranscripts/2026/03/08/c_20260308T10:00_UTC.json", "StorageType": "S3", "Status": "AVAILABLE"},
        {"Location": "b/connect/i/CallRecordings/2026/03/08/c_1.wav", "StorageType": "S3", "MediaStreamType": "AUDIO", "Status": "DELETED"},
        {"Location": "b/connect/i/CallRecordings/2026/03/08/c_2.wav", "StorageType": "S3", "MediaStreamType": "AUDIO", "Status": "AVAILABLE"}
    ]"#,
    )
    .unwrap();
    let chosen = voice_recording(Some(&recs), None).unwrap();
    assert_eq!(
        chosen.location.as_deref(),
        Some("b/connect/i/CallRecordings/2026/03/08/c_2.wav")
    );
    let deleted_only = voice_recording(Some(&recs[..2]), None).unwrap();
    assert_eq!(
        deleted_only.status.as_deref(),
        Some("DELETED"),
        "a deleted one is still the recording"
    );
    assert!(
        voice_recording(Some(&recs[..1]), None).is_none(),
        "a chat transcript is no recording"
    );
    // The older single Recording (Type AUDIO) is used when the array has no voice entry.
    let single: Recording<'_> =
        serde_json::from_str(r#"{"Location": "b/x.wav", "Status": "AVAILABLE", "Type": "AUDIO"}"#).unwrap();
    assert_eq!(
        voice_recording(Some(&recs[..1]), Some(&single))
            .unwrap()
            .location
            .as_deref(),
        Some("b/x.wav")
    );
}

#[test]
fn task_details_references_and_pauses_flatten_with_pii_scrubbed() {
    let row = flat(TASK);
    // The attribute key rules apply: a key called Name is tokenized, as in Attributes.
    assert!(row["contact_details"]["Name"].as_str().unwrap().starts_with("tx_"));
    let description = row["contact_details"]["Description"].as_str().unwrap();
    assert!(!description.contains("jane.doe"), "{description}");
    let refs = row["references"].as_array().unwrap();
    assert_eq!(
        refs[0],
        json!({"name": "ticket", "reference_type": "URL", "value": "https://example.com/t/1"})
    );
    assert_eq!(refs[1]["reference_type"], "EMAIL");
    assert!(refs[1]["value"].as_str().unwrap().starts_with("em_"), "{}", refs[1]);
    assert_eq!(refs[2]["status"], "APPROVED");
    assert!(refs[2]["arn"].as_str().unwrap().ends_with("/attachment/r1"));
    assert_eq!(row["total_pause_count"], 2);
    assert_eq!(row["total_pause_duration_s"], 95);
    assert_eq!(row["last_paused_timestamp"], "2026-03-09 00:00:10.000");
    assert_eq!(row["last_resumed_timestamp"], "2026-03-09 00:00:40.000");
    assert!(!row.to_string().contains("jane.doe"));
    assert_row_matches(&CTR, &row, false);
    // StartTaskContact's map shape reads the same.
    let mut as_map: serde_json::Value = serde_json::from_str(TASK).unwrap();
    as_map["References"] = json!({"ticket": {"Type": "URL", "Value": "https://example.com/t/2"}});
    as_map["TotalPauseDurationInSeconds"] = json!(7);
    as_map.as_object_mut().unwrap().remove("TotalPauseDuration");
    let row = flat(&as_map.to_string());
    assert_eq!(
        row["references"],
        json!([{"name": "ticket", "reference_type": "URL", "value": "https://example.com/t/2"}])
    );
    assert_eq!(row["total_pause_duration_s"], 7);
}

#[test]
fn nested_fields_of_the_wrong_type_are_left_out_not_failed() {
    let mut odd: serde_json::Value = serde_json::from_str(FULL).unwrap();
    odd["QualityMetrics"] =
        json!({"Agent": {"Audio": {"QualityScore": "loud", "PotentialQualityIssues": [1, "HighPacketLoss"]}}});
    odd["References"] = json!("not a list");
    odd["Recordings"] = json!([{"Location": "b/x.wav", "FragmentStartNumber": 42}]);
    let row = flat(&odd.to_string());
    assert_eq!(
        row["quality_metrics"],
        json!({"agent_audio_issues": ["HighPacketLoss"]})
    );
    assert!(row.get("references").is_none());
    assert_eq!(row["recordings"][0]["fragment_start_number"], "42");
    assert_eq!(
        row["recording_location"], "b/x.wav",
        "a .wav with no media type is audio"
    );
    assert_row_matches(&CTR, &row, false);
}
