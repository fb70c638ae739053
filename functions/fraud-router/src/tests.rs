use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use connect_lake::config::S3Uri;
use connect_lake::contact_flow::sip;
use connect_lake::deny_list::MatchKind;
use connect_lake::flat_answer::{MAX_ANSWER_BYTES, is_flat_safe};
use connect_lake::remote_config::{BoxFuture, MemorySource, SourceError};
use connect_lake::testing::arb_json;
use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::attributes::CallAttributes;
use crate::policy::MAX_POLICY_BYTES;
use crate::signals::{Caller, Forwarding, HeaderIdentity, OliClass, parse_oli};

const KEY: &str = "unit-test-key-0123456789abcdefghij";

fn config() -> Config {
    Config::from_env(&[("PII_TOKEN_KEY", KEY)]).unwrap()
}

fn builtin() -> Policy {
    Policy::builtin().unwrap()
}

fn router() -> Router {
    Router::new(&config(), builtin(), None, None)
}

fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../events")
}

fn fixture(name: &str) -> ContactFlowEvent {
    let path = events_dir().join("fraud-router").join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap()
}

/// A voice call from `caller` to the contact center's +1 800 number, with these block parameters.
fn call(caller: Option<&str>, params: &[(&str, &str)]) -> ContactFlowEvent {
    let params: serde_json::Map<String, Value> = params.iter().map(|(k, v)| ((*k).into(), json!(v))).collect();
    let endpoint = caller.map(|c| json!({"Address": c, "Type": "TELEPHONE_NUMBER"}));
    ContactFlowEvent::from_value(&json!({"Name": "ContactFlowEvent", "Details": {
        "ContactData": {
            "Channel": "VOICE", "ContactId": "0b9c8d7e-6f5a-4b3c-2d1e-0f9a8b7c6d5e",
            "CustomerEndpoint": endpoint,
            "SystemEndpoint": {"Address": "+18005550199", "Type": "TELEPHONE_NUMBER"},
        },
        "Parameters": params,
    }}))
}

/// The reasons of a call under the built-in policy, with no deny-list hit.
fn reasons_of(event: &ContactFlowEvent) -> Vec<&'static str> {
    let p = builtin();
    CallFacts::from_event(event)
        .reasons(false, p.hop_rule, &p.high_risk_prefixes)
        .iter()
        .map(|r| r.code())
        .collect()
}

fn decide(event: &ContactFlowEvent, deny: DenyCheck) -> Outcome {
    let facts = CallFacts::from_event(event);
    router().decide(event, &facts, &deny, &builtin(), Instant::now())
}

const CALLER: &str = "+12065550100";

// ---- The scoring table: one test per signal, each alone on an otherwise clean call. ----

#[test]
fn a_clean_call_scores_zero_low_on_the_standard_route() {
    let e = call(
        Some(CALLER),
        &[(sip::ISUP_OLI, "00"), (sip::JIP, "206555"), (sip::HOP_COUNTER, "20")],
    );
    let o = decide(&e, DenyCheck::Miss);
    assert_eq!(
        o.answer.to_json(),
        r#"{"risk_level":"low","route":"standard","risk_score":"0","reasons":"","policy_version":"builtin-2026.2"}"#
    );
}

#[test]
fn signal_deny_list_hit() {
    let hit = DenyCheck::Hit {
        reason: None,
        kind: MatchKind::Prefix,
    };
    let o = decide(&call(Some(CALLER), &[]), hit);
    assert_eq!(o.record.reasons, ["deny_list"]);
    assert_eq!((o.record.risk_score, o.record.risk_level), (100, "high"));
    assert_eq!(o.answer.get("route"), Some("fraud_review"));
}

#[test]
fn signal_caller_missing() {
    assert_eq!(reasons_of(&call(None, &[])), ["caller_missing"]);
    assert_eq!(reasons_of(&call(Some("  "), &[])), ["caller_missing"]);
    // A number in Calling-Party-Address stands in for a null endpoint.
    assert_eq!(
        reasons_of(&call(None, &[(sip::CALLING_PARTY_ADDRESS, CALLER)])),
        Vec::<&str>::new()
    );
    assert_eq!(decide(&call(None, &[]), DenyCheck::NoNumber).record.risk_score, 25);
}

#[test]
fn signal_caller_withheld() {
    for address in [
        "anonymous",
        "Restricted",
        "sip:anonymous@anonymous.invalid",
        "+266696687",
        "7378742833",
    ] {
        assert_eq!(reasons_of(&call(Some(address), &[])), ["caller_withheld"], "{address}");
    }
    let anonymous_from = [(sip::FROM, "\"Anonymous\" <sip:anonymous@anonymous.invalid>;tag=1")];
    assert_eq!(reasons_of(&call(None, &anonymous_from)), ["caller_withheld"]);
}

#[test]
fn signal_caller_not_e164() {
    for address in ["2065550100", "+1206555010x", "+0123456789", "12"] {
        assert_eq!(reasons_of(&call(Some(address), &[])), ["caller_not_e164"], "{address}");
    }
}

/// Connect does not document `P-Asserted-Identity`: a flow that passes it anyway changes nothing,
/// and the record neither keeps it nor describes it.
#[test]
fn p_asserted_identity_is_not_a_signal_and_is_not_recorded() {
    let pai = "P-Asserted-Identity";
    let other = call(Some(CALLER), &[(pai, "<sip:+19175550123@carrier.example;user=phone>")]);
    assert_eq!(
        reasons_of(&other),
        Vec::<&str>::new(),
        "another number is not a mismatch"
    );
    let withheld = call(None, &[(pai, "<sip:anonymous@anonymous.invalid>")]);
    assert_eq!(
        reasons_of(&withheld),
        ["caller_missing"],
        "nor is an anonymous one withheld"
    );
    let o = decide(&other, DenyCheck::Miss);
    assert_eq!(o.record.call_attributes, CallAttributes::default());
    let json = serde_json::to_string(&o.record).unwrap();
    assert!(
        !json.contains("pai") && !json.contains("Asserted") && !json.contains("9175550123"),
        "{json}"
    );
}

/// `From` is compared in any of its usual forms; what cannot be compared is no mismatch.
#[test]
fn from_is_compared_with_the_caller_in_its_usual_forms() {
    let from = |v| reasons_of(&call(Some(CALLER), &[(sip::FROM, v)]));
    assert_eq!(from("<tel:+1-917-555-0123>"), ["from_mismatch"]);
    assert_eq!(
        from("\"Jane\" <sip:+12065550100@carrier.example;user=phone>"),
        Vec::<&str>::new()
    );
    assert_eq!(
        from("<sip:2065550100@carrier.example>"),
        Vec::<&str>::new(),
        "national form agrees"
    );
    assert_eq!(
        from("<sip:0012065550100@carrier.example>"),
        Vec::<&str>::new(),
        "with an 00 prefix"
    );
    assert_eq!(from("<sip:9175550123@carrier.example>"), ["from_mismatch"]);
    assert_eq!(
        from("<sip:anonymous@anonymous.invalid>"),
        Vec::<&str>::new(),
        "withheld is not spoofed"
    );
    assert_eq!(
        from("<sip:frontdesk@pbx.example>"),
        Vec::<&str>::new(),
        "a user name cannot be compared"
    );
    assert_eq!(
        from("<sip:555@pbx.example>"),
        Vec::<&str>::new(),
        "too few digits to compare"
    );
}

#[test]
fn signal_from_disagreeing_with_the_caller() {
    let e = call(
        Some(CALLER),
        &[(sip::FROM, "\"x\" <sip:+447700900456@gw.example>;tag=a")],
    );
    assert_eq!(reasons_of(&e), ["from_mismatch"]);
    let o = decide(&e, DenyCheck::Miss);
    assert_eq!((o.record.risk_score, o.record.risk_level), (20, "low"));
    assert_eq!(o.record.features.from_matches, Some(false));
}

#[test]
fn signal_originating_line_types_from_the_nanp_oli_table() {
    let table = [
        ("27", Some("oli_payphone")),
        ("70", Some("oli_payphone")),
        ("25", Some("oli_payphone")),
        ("29", Some("oli_inmate")),
        ("61", Some("oli_cellular")),
        ("62", Some("oli_cellular")),
        ("63", Some("oli_roaming")),
        ("06", Some("oli_hotel")),
        ("60", Some("oli_relay")),
        ("66", Some("oli_relay")),
        ("67", Some("oli_relay")),
        ("07", Some("oli_operator")),
        ("34", Some("oli_operator")),
        ("02", Some("oli_ani_failure")),
        ("05", Some("oli_unassigned")),
        ("15", Some("oli_unassigned")),
        ("85", Some("oli_unassigned")),
        ("99", Some("oli_unassigned")),
        ("00", None),
        ("0", None),
        ("01", None),
        ("24", None),
        ("52", None),
        ("93", None),
        ("45", None),
        ("", None),
        ("7a", None),
        ("100", None),
    ];
    for (oli, reason) in table {
        let got = reasons_of(&call(Some(CALLER), &[(sip::ISUP_OLI, oli)]));
        assert_eq!(got, reason.into_iter().collect::<Vec<_>>(), "ISUP-OLI {oli:?}");
    }
    assert_eq!(parse_oli("27").map(|o| o.class), Some(OliClass::Payphone));
    assert_eq!(parse_oli(" 0 ").map(|o| (o.code, o.class)), Some((0, OliClass::Pots)));
    let payphone = decide(&call(Some(CALLER), &[(sip::ISUP_OLI, "29")]), DenyCheck::Miss);
    assert_eq!((payphone.record.risk_score, payphone.record.risk_level), (40, "medium"));
}

#[test]
fn signal_jip_disagreeing_with_a_nanp_callers_area_code() {
    let jip = |caller, v| reasons_of(&call(Some(caller), &[(sip::JIP, v)]));
    assert_eq!(jip(CALLER, "305555"), ["jip_mismatch"]);
    assert_eq!(jip(CALLER, "206555"), Vec::<&str>::new());
    assert_eq!(jip(CALLER, "206-555"), Vec::<&str>::new());
    assert_eq!(jip(CALLER, "2065"), Vec::<&str>::new(), "malformed JIP is absent");
    assert_eq!(
        jip("+447700900123", "305555"),
        Vec::<&str>::new(),
        "JIP is NANP geography only"
    );
}

#[test]
fn signal_hop_counter_fires_on_few_remaining_hops_by_default() {
    let hops = |v| reasons_of(&call(Some(CALLER), &[(sip::HOP_COUNTER, v)]));
    assert_eq!(hops("0"), ["hop_counter"], "AWS's example value");
    assert_eq!(hops("5"), ["hop_counter"], "the threshold itself fires");
    assert_eq!(hops("6"), Vec::<&str>::new());
    assert_eq!(hops(" 31 "), Vec::<&str>::new());
    assert_eq!(hops("many"), Vec::<&str>::new());
    assert_eq!(hops("-1"), Vec::<&str>::new());
}

#[test]
fn signal_hop_counter_follows_the_policys_direction_and_threshold() {
    let mut doc: Value = serde_json::from_str(policy::BUILTIN_POLICY_JSON).unwrap();
    doc["hop_counter"] = json!({"direction": "high", "threshold": 25});
    let high = Policy::from_json(doc.to_string().as_bytes()).unwrap();
    let decide_under = |hops: &str| {
        let e = call(Some(CALLER), &[(sip::HOP_COUNTER, hops)]);
        router().decide(&e, &CallFacts::from_event(&e), &DenyCheck::Miss, &high, Instant::now())
    };
    assert_eq!(decide_under("25").record.reasons, ["hop_counter"]);
    assert_eq!(decide_under("30").record.risk_score, 20);
    assert!(decide_under("24").record.reasons.is_empty());
    assert!(
        decide_under("0").record.reasons.is_empty(),
        "a low value no longer fires"
    );
}

#[test]
fn signal_forwarding_from_an_international_origin() {
    let fwd = |v| reasons_of(&call(Some(CALLER), &[(sip::CALL_FORWARDING_INDICATOR, v)]));
    assert_eq!(
        fwd("<sip:+447700900456@gw.example>;reason=unconditional"),
        ["intl_forwarding"]
    );
    assert_eq!(
        fwd("sip:+15555555555@public-vip.us2.telephony-provider.example;reason=unconditional"),
        Vec::<&str>::new()
    );
    assert_eq!(fwd("international"), ["intl_forwarding"]);
    assert_eq!(fwd("domestic"), Vec::<&str>::new());
    assert_eq!(
        fwd("<sip:pbx@national-gw.example>"),
        Vec::<&str>::new(),
        "no number: origin unknown"
    );
    let facts = CallFacts::from_event(&call(
        Some(CALLER),
        &[(sip::CALL_FORWARDING_INDICATOR, "<sip:+353 1 555 0100@x>")],
    ));
    assert_eq!(
        (facts.forwarding, facts.home_calling_code.as_deref()),
        (Some(Forwarding::International), Some("1"))
    );
}

#[test]
fn signal_calling_country_on_the_high_risk_list() {
    assert_eq!(reasons_of(&call(Some("+88351000123456"), &[])), ["high_risk_country"]);
    assert_eq!(reasons_of(&call(Some("+870772001234"), &[])), ["high_risk_country"]);
    assert_eq!(reasons_of(&call(Some("+447700900123"), &[])), Vec::<&str>::new());
    let o = decide(&call(Some("+88351000123456"), &[]), DenyCheck::Miss);
    assert_eq!(
        (o.record.risk_score, o.record.risk_level, o.answer.get("route")),
        (35, "medium", Some("verify_caller"))
    );
}

#[test]
fn signals_add_up_are_capped_at_100_and_are_listed_in_a_fixed_order() {
    let o = decide(&fixture("sip-attributes-suspicious.json"), DenyCheck::Miss);
    assert_eq!(
        o.answer.get("reasons"),
        Some("from_mismatch.oli_payphone.jip_mismatch.hop_counter.intl_forwarding")
    );
    assert_eq!((o.record.risk_score, o.record.risk_level), (100, "high"));
}

#[test]
fn caller_signals_do_not_apply_to_chats_or_in_app_calls() {
    let o = decide(&fixture("chat-contact.json"), DenyCheck::NoNumber);
    assert_eq!((o.record.risk_score, o.record.features.caller), (0, "not_applicable"));
    let mut in_app = call(None, &[]);
    in_app.contact_data.customer_endpoint = Some(connect_lake::contact_flow::Endpoint {
        address: Some("app-user-7f3a".into()),
        kind: Some("VOIP".into()),
    });
    let o = decide(&in_app, DenyCheck::NoNumber);
    assert_eq!((o.record.risk_score, o.record.features.caller), (0, "not_applicable"));
}

#[test]
fn header_identities_parse_from_name_addr_addr_spec_and_tel_forms() {
    let p = HeaderIdentity::parse;
    assert_eq!(
        p("\"A\" <sip:+12065550100@h;user=phone>;tag=x"),
        Some(HeaderIdentity::Number("+12065550100".into()))
    );
    assert_eq!(
        p("tel:+1-206-555-0100;npdi"),
        Some(HeaderIdentity::Number("+12065550100".into()))
    );
    assert_eq!(
        p("SIPS:+12065550100@h"),
        Some(HeaderIdentity::Number("+12065550100".into()))
    );
    assert_eq!(
        p("<sip:2065550100@h>"),
        Some(HeaderIdentity::Digits("2065550100".into()))
    );
    assert_eq!(p("sip:Anonymous@anonymous.invalid"), Some(HeaderIdentity::Anonymous));
    assert_eq!(p("<sip:+1206x@h>"), Some(HeaderIdentity::Other));
    assert_eq!(p("<sip:@h>"), Some(HeaderIdentity::Other));
    assert_eq!(p("  "), None);
    assert_eq!(p("<é>"), Some(HeaderIdentity::Other));
}

// ---- Answers, records and metrics. ----

#[test]
fn the_decision_record_carries_features_and_no_persons_number() {
    let o = decide(&fixture("sip-attributes-suspicious.json"), DenyCheck::Miss);
    let r = &o.record;
    assert_eq!(r.record, "fraud_decision");
    assert_eq!(r.contact_id.as_deref(), Some("9e8d7c6b-5a4f-4e3d-2c1b-0a9f8e7d6c5b"));
    assert_eq!(r.instance_id.as_deref(), Some("4d5e6f70-1111-2222-3333-444455556666"));
    let f = &r.features;
    assert_eq!(
        (f.caller, f.calling_code.as_deref(), f.home_calling_code.as_deref()),
        ("number", Some("1"), Some("1"))
    );
    assert_eq!(
        (f.oli, f.oli_class, f.jip_matches, f.hop_count),
        (Some(27), Some(OliClass::Payphone), Some(false), Some(1))
    );
    assert_eq!(
        (f.from, f.from_matches, f.forwarding),
        (Some("number"), Some(false), Some("international"))
    );
    assert_eq!(
        f.caller_token,
        config().tokenizer.phone("+12125550147").map(|t| t.token)
    );
    let json = serde_json::to_string(r).unwrap();
    for raw in [
        "+12125550147",
        "2125550147",
        "+19175550123",
        "9175550123",
        "+447700900456",
        "7700900456",
        "8005550199",
    ] {
        assert!(!json.contains(raw), "{raw} in {json}");
    }
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["reasons"].as_array().unwrap().len(), 5);
    assert_eq!(v["features"]["oli_class"], "payphone");
}

fn phone_token(number: &str) -> String {
    config().tokenizer.phone(number).unwrap().token
}

/// The attributes behind the score, kept for a model: every number as the lake's phone token, the
/// line facts in clear.
#[test]
fn the_decision_record_keeps_the_documented_attributes_with_person_numbers_tokenized() {
    let o = decide(&fixture("sip-attributes-suspicious.json"), DenyCheck::Miss);
    let a = &o.record.call_attributes;
    let expected = CallAttributes {
        p_charge_info: Some(phone_token("+19175550123")),
        from: Some(phone_token("+19175550123")),
        to: Some(phone_token("+18005550199")),
        isup_oli: Some("27".into()),
        jip: Some("305555".into()),
        hop_counter: Some("1".into()),
        originating_switch: Some("555".into()),
        originating_trunk: Some("0099".into()),
        call_forwarding_indicator: Some(phone_token("+447700900456")),
        calling_party_address: Some(phone_token("+12125550147")),
        called_party_address: Some(phone_token("+18005550199")),
    };
    assert_eq!(a, &expected);
    assert_eq!(
        a.calling_party_address, o.record.features.caller_token,
        "the caller's token joins with features.caller_token (and ctr)"
    );
    let json = serde_json::to_value(&o.record).unwrap();
    assert_eq!(json["call_attributes"]["isup_oli"], "27");
    assert_eq!(json["call_attributes"].as_object().unwrap().len(), 11);
    for raw in [
        "2125550147",
        "9175550123",
        "7700900456",
        "Caller",
        "tag=",
        "carrier.example",
    ] {
        assert!(!json["call_attributes"].to_string().contains(raw), "{raw} in {json}");
    }
    let chat = decide(&fixture("chat-contact.json"), DenyCheck::NoNumber);
    assert_eq!(
        serde_json::to_value(&chat.record).unwrap()["call_attributes"],
        json!({})
    );
}

#[test]
fn aws_documented_example_values_are_kept_and_scored() {
    let e = fixture("aws-documented-telephony-attributes.json");
    let o = decide(&e, DenyCheck::Miss);
    // The guide's example Hop-Counter, 0, is few remaining hops; its forwarding number is in the
    // dialled number's country.
    assert_eq!(o.record.reasons, ["hop_counter"]);
    assert_eq!(o.record.features.forwarding, Some("domestic"));
    let a = &o.record.call_attributes;
    assert_eq!(
        (a.isup_oli.as_deref(), a.jip.as_deref(), a.hop_counter.as_deref()),
        (Some("00"), Some("212555"), Some("0"))
    );
    assert_eq!(
        (a.originating_switch.as_deref(), a.originating_trunk.as_deref()),
        (Some("710"), Some("0235"))
    );
    let documented = phone_token("+15555555555");
    assert_eq!(a.call_forwarding_indicator.as_deref(), Some(documented.as_str()));
    assert_eq!(
        a.calling_party_address.as_deref(),
        Some(documented.as_str()),
        "15555555555;noa=4"
    );
    assert_eq!(a.called_party_address.as_deref(), Some(documented.as_str()));
    assert_eq!(
        a.to,
        Some(phone_token("+1234567890")),
        "the dialled number, tokenized too"
    );
}

#[test]
fn party_addresses_with_an_international_nature_of_address_read_as_e164() {
    assert_eq!(
        HeaderIdentity::parse_party_address("15555555555;noa=4"),
        Some(HeaderIdentity::Number("+15555555555".into()))
    );
    assert_eq!(
        HeaderIdentity::parse_party_address("447700900123; NOA=4"),
        Some(HeaderIdentity::Number("+447700900123".into()))
    );
    assert_eq!(
        HeaderIdentity::parse_party_address("2065550100;noa=3"),
        Some(HeaderIdentity::Digits("2065550100".into())),
        "a national number stays national"
    );
    assert_eq!(
        HeaderIdentity::parse_party_address("+12065550100"),
        Some(HeaderIdentity::Number("+12065550100".into()))
    );
    // A null endpoint: the caller comes from Calling-Party-Address in the guide's format.
    let e = call(
        None,
        &[(sip::CALLING_PARTY_ADDRESS, "12065550100;noa=4"), (sip::JIP, "305555")],
    );
    assert_eq!(reasons_of(&e), ["jip_mismatch"]);
    assert_eq!(
        decide(&e, DenyCheck::Miss).record.features.caller_token,
        Some(phone_token(CALLER))
    );
    // The home country from Called-Party-Address when neither SystemEndpoint nor To is there.
    let mut e = call(Some(CALLER), &[(sip::CALLED_PARTY_ADDRESS, "442079460000;noa=4")]);
    e.contact_data.system_endpoint = None;
    assert_eq!(CallFacts::from_event(&e).home_calling_code.as_deref(), Some("44"));
}

#[test]
fn attributes_that_name_a_person_are_never_kept_in_clear() {
    let tokenizer = &config().tokenizer;
    let kept = |params: &[(&str, &str)]| CallAttributes::from_event(&call(Some(CALLER), params), tokenizer);
    let a = kept(&[
        (sip::FROM, "\"Jane Doe\" <sip:anonymous@anonymous.invalid>;tag=1"),
        (sip::P_CHARGE_INFO, "<sip:2065550100@carrier.example>"),
        (
            sip::CALL_FORWARDING_INDICATOR,
            "<sip:jane.doe@pbx.example>;reason=unconditional",
        ),
        (sip::TO, "<sip:+12065550188@carrier.example>"),
        (sip::ORIGINATING_TRUNK, "+1 206 555 0199"),
        (sip::JIP, "  212555  "),
    ]);
    assert_eq!(a.from.as_deref(), Some("anonymous"));
    let p_charge = a.p_charge_info.unwrap();
    assert!(
        p_charge.starts_with("ph_"),
        "national digits: a phone token, {p_charge}"
    );
    let forwarding = a.call_forwarding_indicator.unwrap();
    assert!(
        forwarding.starts_with("em_") || forwarding.starts_with("tx_"),
        "{forwarding}"
    );
    assert_eq!(a.to, Some(phone_token("+12065550188")));
    assert_eq!(
        a.originating_trunk,
        Some(phone_token("+12065550199")),
        "a number where a trunk id belongs"
    );
    assert_eq!(a.jip.as_deref(), Some("212555"));
    let long = "x".repeat(200);
    assert_eq!(
        kept(&[(sip::ORIGINATING_SWITCH, long.as_str())])
            .originating_switch
            .map(|s| s.len()),
        Some(attributes::MAX_CLEAR_CHARS)
    );
}

#[test]
fn metrics_count_decisions_per_level_and_per_reason() {
    let o = decide(&fixture("sip-attributes-suspicious.json"), DenyCheck::Miss);
    let lines: Vec<Value> = o
        .metrics
        .iter()
        .flat_map(|m| m.to_lines(0))
        .map(|l| serde_json::from_str(&l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1 + 5);
    assert_eq!(
        (lines[0]["RiskLevel"].as_str(), lines[0]["Decision"].as_f64()),
        (Some("high"), Some(1.0))
    );
    let reasons: Vec<&str> = lines[1..].iter().map(|l| l["Reason"].as_str().unwrap()).collect();
    assert_eq!(reasons, o.record.reasons);
    assert!(
        lines[1..]
            .iter()
            .all(|l| l["DecisionReason"] == 1.0 && l["Function"] == "fraud-router")
    );
    for l in &lines {
        assert!(
            !l["_aws"]["CloudWatchMetrics"][0]["Dimensions"]
                .to_string()
                .contains("Contact")
        );
    }
}

#[test]
fn an_event_that_is_not_a_contact_flow_event_degrades_to_the_safe_default() {
    let event: ContactFlowEvent = serde_json::from_str("[1,2,3]").unwrap();
    let o = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(router().process(&event));
    assert_eq!(
        o.answer.to_json(),
        r#"{"risk_level":"unknown","route":"standard","risk_score":"0","reasons":"degraded","policy_version":"builtin-2026.2"}"#
    );
    assert_eq!((o.record.degraded, o.record.error), (true, Some("unrecognised_event")));
}

/// A source that never answers: S3 black-holed.
struct Hanging(AtomicUsize);

impl ConfigSource for Hanging {
    fn fetch<'a>(&'a self, _: &'a S3Uri, _: u64) -> BoxFuture<'a, Result<Vec<u8>, SourceError>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(std::future::pending())
    }
}

#[tokio::test(start_paused = true)]
async fn when_the_decision_overruns_its_budget_the_answer_degrades_within_it() {
    let settings = RemoteSettings {
        budget: Duration::from_secs(5),
        ..RemoteSettings::new("s3://cfg/deny-list.txt".parse().unwrap())
    };
    let deny = deny_list::cache(settings, Arc::new(Hanging(AtomicUsize::new(0))), "Test");
    let config = Config {
        decision_budget: Duration::from_millis(200),
        ..config()
    };
    let router = Router::new(&config, builtin(), Some(deny), None);
    let started = Instant::now();
    let o = router.process(&fixture("sip-attributes-benign.json")).await;
    assert_eq!(started.elapsed(), Duration::from_millis(200));
    assert_eq!(o.answer.get("risk_level"), Some("unknown"));
    assert_eq!(o.answer.get("reasons"), Some("degraded"));
    assert_eq!(o.record.error, Some("over_budget"));
}

#[tokio::test(start_paused = true)]
async fn an_unreachable_deny_list_and_policy_cost_one_budget_and_fail_open() {
    let source: Arc<dyn ConfigSource> = Arc::new(Hanging(AtomicUsize::new(0)));
    let settings = |key: &str| RemoteSettings {
        budget: Duration::from_millis(300),
        ..RemoteSettings::new(format!("s3://cfg/{key}").parse().unwrap())
    };
    let deny = deny_list::cache(settings("deny-list.txt"), Arc::clone(&source), "Test");
    let policy = policy_cache(settings("fraud-policy.json"), source, "Test");
    let router = Router::new(&config(), builtin(), Some(deny), Some(policy));
    let started = Instant::now();
    let o = router.process(&fixture("deny-listed-caller.json")).await;
    assert_eq!(
        started.elapsed(),
        Duration::from_millis(300),
        "deny list and policy are awaited together"
    );
    assert_eq!(o.answer.get("risk_level"), Some("low"), "fails open");
    assert_eq!(o.answer.get("policy_version"), Some("builtin-2026.2"));
    assert_eq!(o.record.features.deny_list, "unavailable");
}

/// On tokio's paused clock: the TTL expires and the refresh runs by the clock, not by real sleeps
/// that a loaded machine could stretch.
#[tokio::test(start_paused = true)]
async fn a_policy_from_the_source_replaces_the_builtin_and_an_invalid_one_is_rejected() {
    let uri: S3Uri = "s3://cfg/fraud-policy.json".parse().unwrap();
    let source = Arc::new(MemorySource::new());
    source.put(&uri, std::fs::read(events_dir().join("fraud-policy.json")).unwrap());
    let settings = RemoteSettings {
        ttl: Duration::from_millis(50),
        ..RemoteSettings::new(uri.clone())
    };
    let cache = policy_cache(settings, Arc::clone(&source) as Arc<dyn ConfigSource>, "Test");
    let router = Router::new(&config(), builtin(), None, Some(cache.clone()));
    let o = router.process(&fixture("null-endpoints-and-queue.json")).await;
    assert_eq!(o.answer.get("policy_version"), Some("sample-2026.05"));
    assert_eq!(
        (o.answer.get("risk_level"), o.answer.get("route")),
        (Some("medium"), Some("callback_verify"))
    );

    // A broken replacement: rejected, the last good policy stays.
    source.put(&uri, br#"{"version": "broken", "weights": {}}"#.to_vec());
    tokio::time::sleep(Duration::from_millis(60)).await;
    router.process(&fixture("null-endpoints-and-queue.json")).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(cache.stats().failed, 1);
    let o = router.process(&fixture("null-endpoints-and-queue.json")).await;
    assert_eq!(o.answer.get("policy_version"), Some("sample-2026.05"));
}

#[test]
fn configuration_reads_the_policy_uri_and_names_bad_variables() {
    let c = Config::from_env(&[
        ("PII_TOKEN_KEY", KEY),
        ("FRAUD_POLICY_URI", "s3://cfg/fraud-policy.json"),
        ("DENY_LIST_BUDGET_MS", "150"),
    ])
    .unwrap();
    let p = c.policy.unwrap();
    assert_eq!(
        (p.uri.key.as_str(), p.budget, p.max_bytes),
        ("fraud-policy.json", Duration::from_millis(150), MAX_POLICY_BYTES)
    );
    assert_eq!(c.decision_budget, Duration::from_millis(250));
    assert!(c.deny_list.is_none());
    let err = Config::from_env(&[("PII_TOKEN_KEY", KEY), ("FRAUD_POLICY_URI", "cfg/p.json")]).unwrap_err();
    assert!(err.to_string().contains("FRAUD_POLICY_URI"), "{err}");
}

#[test]
fn reason_indexes_follow_the_declared_order_that_weights_are_stored_in() {
    for (i, reason) in Reason::ALL.iter().enumerate() {
        assert_eq!(reason.index(), i, "{reason:?}");
        assert_eq!(Reason::from_code(reason.code()), Some(*reason));
    }
    let p = builtin();
    let doc: Value = serde_json::from_str(policy::BUILTIN_POLICY_JSON).unwrap();
    for reason in Reason::ALL {
        assert_eq!(
            u64::from(p.weight(reason)),
            doc["weights"][reason.code()].as_u64().unwrap(),
            "{reason:?}"
        );
    }
}

#[test]
fn every_reason_code_is_flat_safe_and_distinct() {
    let codes: Vec<&str> = reason_codes().collect();
    let mut unique = codes.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), codes.len());
    assert!(
        codes.iter().all(|c| is_flat_safe(c) && !c.contains('.')),
        "`.` separates codes in answers"
    );
    assert!(matches!(
        CallFacts::from_event(&call(Some("anonymous"), &[])).caller,
        Caller::Withheld
    ));
}

// ---- Whatever the event: the property. ----

/// A contact-flow event whose every telephony attribute is drawn from plausible and hostile values.
fn arb_event() -> impl Strategy<Value = Value> {
    let value = prop_oneof![
        ".{0,80}",
        "[0-9]{0,3}",
        "\\+[0-9]{1,16}",
        "<sips?:\\+?[0-9a-z]{0,16}@[a-z.]{0,12}(;[a-z=]{0,10})?>",
        "\"[^\"]{0,10}\" <tel:\\+[0-9-]{0,20}>;tag=[a-z0-9]{0,8}",
    ];
    let params = proptest::collection::btree_map(
        prop_oneof![
            proptest::sample::select(sip::ALL.to_vec()).prop_map(str::to_owned),
            ".{0,12}"
        ],
        value.clone(),
        0..14,
    );
    let channel = prop_oneof![Just("VOICE".to_owned()), Just("CHAT".to_owned()), ".{0,8}"];
    (channel, value.clone(), value, params, arb_json()).prop_map(|(channel, address, system, params, anything)| {
        json!({"Name": "ContactFlowEvent", "Details": {
            "ContactData": {
                "Channel": channel, "ContactId": anything.clone(), "InstanceARN": anything,
                "CustomerEndpoint": {"Address": address, "Type": "TELEPHONE_NUMBER"},
                "SystemEndpoint": {"Address": system},
            },
            "Parameters": params,
        }})
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn whatever_the_event_the_answer_is_flat_small_complete_and_never_an_error(
        event in prop_oneof![3 => arb_event(), 1 => arb_json()],
        hit in any::<bool>(),
    ) {
        let bytes = serde_json::to_vec(&event).unwrap();
        let parsed: ContactFlowEvent = serde_json::from_slice(&bytes).unwrap();
        let deny = if hit { DenyCheck::Hit { reason: None, kind: MatchKind::Number } } else { DenyCheck::Miss };
        let o = if parsed.is_recognised() {
            decide(&parsed, deny)
        } else {
            router().degraded(&parsed, RouterError::UnrecognisedEvent, Instant::now())
        };
        let json = serde_json::to_string(&o.answer).unwrap();
        prop_assert!(json.len() <= MAX_ANSWER_BYTES);
        let v: Value = serde_json::from_str(&json).unwrap();
        let map = v.as_object().unwrap();
        for key in ["risk_score", "risk_level", "route", "reasons", "policy_version"] {
            prop_assert!(map.get(key).is_some_and(Value::is_string), "{key} in {json}");
        }
        for (k, v) in map {
            prop_assert!(is_flat_safe(k) && is_flat_safe(v.as_str().unwrap()), "{json}");
        }
        let score: u8 = map["risk_score"].as_str().unwrap().parse().unwrap();
        prop_assert!(score <= 100);
        prop_assert!(["low", "medium", "high", "unknown"].contains(&map["risk_level"].as_str().unwrap()));
        let known: Vec<&str> = reason_codes().collect();
        let reasons = map["reasons"].as_str().unwrap();
        prop_assert!(reasons.is_empty() || reasons.split('.').all(|r| known.contains(&r)), "{reasons}");
    }
}
