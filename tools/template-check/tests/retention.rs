//! Retention: every kind of object in the lake bucket has a lifecycle the operator sets by
//! parameter, and inconsistent parameters are rejected at deploy time by the template's `Rules`.
//!
//! The `Rules` are evaluated here, over every combination of allowed values, with a small
//! interpreter of the rule functions CloudFormation offers (`Fn::Equals`, `Fn::Not`, `Fn::Or`,
//! `Fn::And`, `Fn::Contains`, `Ref`): a rule that lets one bad combination through fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should say where

use std::collections::HashMap;

use connect_lake::schema::TABLES;
use template_check::rules::{V, eval, rejected_by};
use template_check::{Template, Value, at, plain_str, ref_target};

fn template() -> Template {
    Template::load().unwrap()
}

fn lifecycle_rules(t: &Template) -> Vec<&Value> {
    t.resource("LakeBucket")
        .and_then(|b| at(b, &["Properties", "LifecycleConfiguration", "Rules"]))
        .and_then(Value::as_sequence)
        .map(|rules| rules.iter().collect())
        .unwrap_or_default()
}

fn rule_with_prefix<'a>(t: &'a Template, prefix: &Value) -> Option<&'a Value> {
    lifecycle_rules(t).into_iter().find(|r| r.get("Prefix") == Some(prefix))
}

fn yaml(text: &str) -> Value {
    serde_yaml::from_str(text).unwrap()
}

/// A parameter's allowed values and default, as strings.
fn parameter(t: &Template, name: &str) -> (Vec<String>, String) {
    let p = t
        .section("Parameters")
        .and_then(|p| p.get(name))
        .unwrap_or_else(|| panic!("no parameter {name}"));
    let text = |v: &Value| match v {
        Value::Number(n) => n.to_string(),
        other => plain_str(other).unwrap_or_default().to_owned(),
    };
    let allowed = p
        .get("AllowedValues")
        .and_then(Value::as_sequence)
        .map(|s| s.iter().map(text).collect())
        .unwrap_or_default();
    (allowed, p.get("Default").map(text).unwrap_or_default())
}

/// The (archive days, expire days) parameter pairs that S3 needs in order.
const PAIRS: [(&str, &str); 3] = [
    ("ErrorArchiveAfterDays", "ErrorExpireAfterDays"),
    ("RawArchiveAfterDays", "RawExpireAfterDays"),
    ("RecordingArchiveAfterDays", "RecordingExpireAfterDays"),
];

/// Every allowed combination of each pair that the rules decide wrongly.
fn rule_problems(t: &Template) -> Vec<String> {
    let defaults: HashMap<String, String> = t
        .section("Parameters")
        .and_then(Value::as_mapping)
        .into_iter()
        .flatten()
        .filter_map(|(k, _)| {
            let name = k.as_str()?;
            Some((name.to_owned(), parameter(t, name).1))
        })
        .collect();
    let mut out = Vec::new();
    match rejected_by(t, &defaults) {
        Ok(r) if r.is_empty() => {}
        other => out.push(format!("the defaults are rejected: {other:?}")),
    }
    for (archive, expire) in PAIRS {
        let (archives, _) = parameter(t, archive);
        let (expires, _) = parameter(t, expire);
        if archives.is_empty() || expires.is_empty() {
            out.push(format!(
                "{archive} and {expire} need AllowedValues for the rules to be complete"
            ));
            continue;
        }
        for a in &archives {
            for e in &expires {
                let mut params = defaults.clone();
                params.insert(archive.to_owned(), a.clone());
                params.insert(expire.to_owned(), e.clone());
                let bad = e != "0" && e.parse::<u32>().unwrap() <= a.parse::<u32>().unwrap();
                match rejected_by(t, &params) {
                    Ok(r) if bad && r.is_empty() => out.push(format!("{archive}={a} {expire}={e} is accepted")),
                    Ok(r) if !bad && !r.is_empty() => {
                        out.push(format!("{archive}={a} {expire}={e} is rejected: {r:?}"))
                    }
                    Ok(_) => {}
                    Err(e) => out.push(e),
                }
            }
        }
    }
    out
}

fn lifecycle_problems(t: &Template) -> Vec<String> {
    let mut out = Vec::new();
    let tiered_then_archived = |rule: &Value, archive: &str| {
        rule.get("Transitions")
            == Some(&yaml(&format!(
                "[{{StorageClass: INTELLIGENT_TIERING, TransitionInDays: 0}}, \
             {{StorageClass: DEEP_ARCHIVE, TransitionInDays: !Ref {archive}}}]"
            )))
    };
    let expires = |rule: &Value, condition: &str, days: &str| {
        rule.get("ExpirationInDays") == Some(&yaml(&format!("!If [{condition}, !Ref {days}, !Ref AWS::NoValue]")))
    };
    for (what, prefix) in [
        ("recordings", yaml("!Ref RecordingsPrefix")),
        ("Contact Lens output", yaml("Analysis/")),
    ] {
        match rule_with_prefix(t, &prefix) {
            Some(r)
                if tiered_then_archived(r, "RecordingArchiveAfterDays")
                    && expires(r, "RecordingsExpire", "RecordingExpireAfterDays") => {}
            Some(_) => out.push(format!(
                "{what}: the rule must tier (day 0), archive after RecordingArchiveAfterDays and expire by RecordingExpireAfterDays"
            )),
            None => out.push(format!("{what}: no lifecycle rule")),
        }
    }
    for table in TABLES {
        let prefix = Value::from(format!("{}/", table.name));
        match rule_with_prefix(t, &prefix) {
            Some(r) if expires(r, "CuratedExpires", "CuratedRetentionDays") => {}
            Some(_) => out.push(format!("{}: the rule must expire by CuratedRetentionDays", table.name)),
            None => out.push(format!("{}: no lifecycle rule", table.name)),
        }
    }
    match rule_with_prefix(t, &Value::from("raw/")) {
        Some(r)
            if r.get("Transitions")
                == Some(&yaml(
                    "[{StorageClass: DEEP_ARCHIVE, TransitionInDays: !Ref RawArchiveAfterDays}]",
                ))
                && expires(r, "RawExpires", "RawExpireAfterDays") => {}
        _ => out
            .push("raw/: the rule must archive after RawArchiveAfterDays and expire by RawExpireAfterDays".to_owned()),
    }
    match rule_with_prefix(t, &Value::from("errors/")) {
        Some(r)
            if r.get("ExpirationInDays").and_then(ref_target) == Some("ErrorExpireAfterDays")
                && r.get("Transitions")
                    == Some(&yaml(
                        "[{StorageClass: DEEP_ARCHIVE, TransitionInDays: !Ref ErrorArchiveAfterDays}]",
                    )) => {}
        _ => out.push(
            "errors/: the rule must archive after ErrorArchiveAfterDays and expire after ErrorExpireAfterDays"
                .to_owned(),
        ),
    }
    out
}

fn raw_backup_problems(t: &Template) -> Vec<String> {
    let mut out = Vec::new();
    let (_, default) = parameter(t, "RawBackup");
    if default != "Enabled" {
        out.push(format!(
            "RawBackup defaults to {default}: a field the transform does not curate today is lost"
        ));
    }
    let converting = t
        .resources_of_type("AWS::KinesisFirehose::DeliveryStream")
        .into_iter()
        .filter(|(_, s)| at(s, &["Properties", "KinesisStreamSourceConfiguration"]).is_some());
    for (id, stream) in converting {
        let mode = at(
            stream,
            &["Properties", "ExtendedS3DestinationConfiguration", "S3BackupMode"],
        );
        if mode != Some(&yaml("!If [RawBackupEnabled, Enabled, Disabled]")) {
            out.push(format!("{id}: S3BackupMode does not follow RawBackup"));
        }
    }
    out
}

#[test]
fn the_rules_reject_exactly_the_expiries_on_or_before_their_archive_day() {
    assert_eq!(rule_problems(&template()), Vec::<String>::new());
}

#[test]
fn recordings_contact_lens_curated_raw_and_error_objects_each_have_their_lifecycle() {
    assert_eq!(lifecycle_problems(&template()), Vec::<String>::new());
}

#[test]
fn raw_backup_is_on_by_default_on_both_connect_streams() {
    assert_eq!(raw_backup_problems(&template()), Vec::<String>::new());
}

#[test]
fn the_interpreter_reads_rule_functions_as_cloudformation_does() {
    let params: HashMap<String, String> = [("A".to_owned(), "90".to_owned())].into();
    let v = |text: &str| eval(&yaml(text), &params).unwrap();
    assert_eq!(v(r#"{"Fn::Equals": [{Ref: A}, "90"]}"#), V::Bool(true));
    assert_eq!(v(r#"{"Fn::Contains": [["30", "60"], {Ref: A}]}"#), V::Bool(false));
    assert_eq!(
        v(r#"{"Fn::Or": [{"Fn::Not": [{"Fn::Equals": [{Ref: A}, "90"]}]}, {"Fn::Equals": [a, b]}]}"#),
        V::Bool(false)
    );
    assert!(eval(&yaml("{Ref: B}"), &params).is_err());
    assert!(eval(&yaml(r#"{"Fn::If": [c, a, b]}"#), &params).is_err());
}

// ─── each check fails on a mutated template ─────────────────────────────────────────────────────

/// The template as YAML, to mutate sections that `Template` has no accessor for.
fn template_root() -> Value {
    let source = std::fs::read_to_string(template_check::repo_root().join("template.yaml")).unwrap();
    serde_yaml::from_str(&source).unwrap()
}

fn from_root(root: &Value) -> Template {
    Template::parse(&serde_yaml::to_string(root).unwrap()).unwrap()
}

#[test]
fn a_missing_assertion_lets_a_bad_combination_through() {
    let mut root = template_root();
    let assertions = root["Rules"]["RecordingsExpireAfterTheyArchive"]["Assertions"]
        .as_sequence_mut()
        .unwrap();
    // The first assertion is the one for RecordingArchiveAfterDays = 90.
    assertions.remove(0);
    assert_eq!(
        rule_problems(&from_root(&root)),
        ["RecordingArchiveAfterDays=90 RecordingExpireAfterDays=90 is accepted"]
    );
}

#[test]
fn a_pair_without_allowed_values_cannot_be_checked_and_is_reported() {
    let mut root = template_root();
    root["Parameters"]["ErrorExpireAfterDays"]
        .as_mapping_mut()
        .unwrap()
        .remove("AllowedValues");
    assert_eq!(
        rule_problems(&from_root(&root)),
        ["ErrorArchiveAfterDays and ErrorExpireAfterDays need AllowedValues for the rules to be complete"]
    );
}

#[test]
fn a_missing_or_weakened_lifecycle_rule_is_reported() {
    let mut t = template();
    let rules =
        t.resources_mut().unwrap().get_mut("LakeBucket").unwrap()["Properties"]["LifecycleConfiguration"]["Rules"]
            .as_sequence_mut()
            .unwrap();
    rules.retain(|r| r.get("Id").and_then(plain_str) != Some("contact-lens-output"));
    for r in rules.iter_mut() {
        if r.get("Id").and_then(plain_str) == Some("curated-fraud-decisions") {
            r.as_mapping_mut().unwrap().remove("ExpirationInDays");
        }
    }
    assert_eq!(
        lifecycle_problems(&t),
        [
            "Contact Lens output: no lifecycle rule",
            "fraud_decisions: the rule must expire by CuratedRetentionDays"
        ]
    );
}

#[test]
fn raw_backup_off_by_default_is_reported() {
    let mut root = template_root();
    root["Parameters"]["RawBackup"]["Default"] = Value::from("Disabled");
    assert_eq!(
        raw_backup_problems(&from_root(&root)),
        ["RawBackup defaults to Disabled: a field the transform does not curate today is lost"]
    );
}
