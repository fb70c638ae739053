//! Governance the whitepaper names, each behind a parameter that defaults to on where AWS's own
//! guidance does: an audit trail of who touched recordings and transcripts, an inventory of the
//! lake bucket, and optional cross-region replication.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should say where

use std::collections::HashMap;

use template_check::rules::{parameter_defaults, rejected_by};
use template_check::{PolicyKind, Template, Value, at, intrinsic, plain_str, policy_statements, ref_target};

fn template() -> Template {
    Template::load().unwrap()
}

fn yaml(text: &str) -> Value {
    serde_yaml::from_str(text).unwrap()
}

/// The text of a `!Sub` string (or a plain string).
fn sub_text(v: &Value) -> Option<&str> {
    match intrinsic(v) {
        Some((name, arg)) if name == "Sub" => plain_str(arg),
        _ => plain_str(v),
    }
}

/// The condition `id` is created under is on by default: `!Equals [!Ref P, Enabled]` with P's
/// default `Enabled`.
fn on_by_default(t: &Template, condition: &str) -> bool {
    let Some(c) = t.section("Conditions").and_then(|c| c.get(condition)) else {
        return false;
    };
    let Some((name, Value::Sequence(args))) = intrinsic(c) else {
        return false;
    };
    let defaults = parameter_defaults(t);
    name == "Equals"
        && args.len() == 2
        && ref_target(&args[0]).is_some_and(|p| defaults.get(p).map(String::as_str) == Some("Enabled"))
        && plain_str(&args[1]) == Some("Enabled")
}

/// Whether a resource policy statement lets `service` do `action` on a resource whose `!Sub` text
/// contains `resource`.
fn resource_policy_allows(t: &Template, service: &str, action: &str, resource: &str) -> bool {
    policy_statements(t).iter().any(|s| {
        s.kind == PolicyKind::Resource
            && s.is_allow()
            && at(s.statement, &["Principal", "Service"]).and_then(plain_str) == Some(service)
            && s.statement.get("Action").and_then(plain_str) == Some(action)
            && s.statement
                .get("Resource")
                .and_then(sub_text)
                .is_some_and(|r| r.contains(resource))
    })
}

fn audit_problems(t: &Template) -> Vec<String> {
    let mut out = Vec::new();
    let trails = t.resources_of_type("AWS::CloudTrail::Trail");
    let [(id, trail)] = trails.as_slice() else {
        return vec![format!("expected one CloudTrail trail, found {}", trails.len())];
    };
    if !trail
        .get("Condition")
        .and_then(plain_str)
        .is_some_and(|c| on_by_default(t, c))
    {
        out.push(format!("{id}: not on by default"));
    }
    let p = trail.get("Properties").cloned().unwrap_or(Value::Null);
    if p.get("S3BucketName").and_then(ref_target) != Some("AccessLogBucket") {
        out.push(format!("{id}: must write to the access-log bucket"));
    }
    if p.get("KMSKeyId") != Some(&yaml("!GetAtt LakeKey.Arn"))
        || p.get("EnableLogFileValidation") != Some(&yaml("true"))
    {
        out.push(format!("{id}: logs must be encrypted with the lake key and validated"));
    }
    let selectors = p
        .get("AdvancedEventSelectors")
        .and_then(Value::as_sequence)
        .cloned()
        .unwrap_or_default();
    for prefix in ["${RecordingsPrefix}", "Analysis/", "transcripts/"] {
        let covered = selectors.iter().any(|s| {
            let fields = s
                .get("FieldSelectors")
                .and_then(Value::as_sequence)
                .cloned()
                .unwrap_or_default();
            let field = |name: &str| {
                fields
                    .iter()
                    .find(|f| f.get("Field").and_then(plain_str) == Some(name))
                    .cloned()
            };
            field("eventCategory").and_then(|f| f.get("Equals").cloned()) == Some(yaml("[Data]"))
                && field("resources.type").and_then(|f| f.get("Equals").cloned()) == Some(yaml("[AWS::S3::Object]"))
                && field("resources.ARN")
                    .and_then(|f| f.get("StartsWith").and_then(Value::as_sequence).cloned())
                    .is_some_and(|arns| {
                        arns.iter()
                            .any(|a| sub_text(a) == Some(&format!("${{LakeBucket.Arn}}/{prefix}")))
                    })
        });
        if !covered {
            out.push(format!("{id}: no S3 data events for {prefix}"));
        }
    }
    let name = p.get("TrailName").and_then(sub_text).unwrap_or_default().to_owned();
    if !resource_policy_allows(
        t,
        "cloudtrail.amazonaws.com",
        "s3:PutObject",
        "${AccessLogBucket.Arn}/cloudtrail/",
    ) {
        out.push("the access-log bucket policy does not let CloudTrail write under cloudtrail/".to_owned());
    }
    let key_allows = policy_statements(t).iter().any(|s| {
        s.holder == "LakeKey"
            && at(s.statement, &["Principal", "Service"]).and_then(plain_str) == Some("cloudtrail.amazonaws.com")
            && s.statement.get("Action").and_then(plain_str) == Some("kms:GenerateDataKey*")
            && at(s.statement, &["Condition", "StringEquals", "aws:SourceArn"])
                .and_then(sub_text)
                .is_some_and(|arn| !name.is_empty() && arn.ends_with(&format!(":trail/{name}")))
    });
    if !key_allows {
        out.push(format!("the lake key does not let the trail {name:?} encrypt its logs"));
    }
    out
}

fn inventory_problems(t: &Template) -> Vec<String> {
    let mut out = Vec::new();
    let inventory = t
        .resource("LakeBucket")
        .and_then(|b| at(b, &["Properties", "InventoryConfigurations"]));
    match inventory.and_then(intrinsic) {
        Some((name, Value::Sequence(args))) if name == "If" && args.len() == 3 => {
            let condition = plain_str(&args[0]).unwrap_or_default();
            if !on_by_default(t, condition) {
                out.push(format!("the inventory's condition {condition} is not on by default"));
            }
            let configs = args[1].as_sequence().cloned().unwrap_or_default();
            let parquet_to_logs = configs.iter().any(|c| {
                at(c, &["Destination", "Format"]).and_then(plain_str) == Some("Parquet")
                    && at(c, &["Destination", "BucketArn"]) == Some(&yaml("!GetAtt AccessLogBucket.Arn"))
                    && c.get("Enabled") == Some(&yaml("true"))
            });
            if !parquet_to_logs {
                out.push("no enabled Parquet inventory into the access-log bucket".to_owned());
            }
        }
        _ => out.push("LakeBucket has no InventoryConfigurations behind a parameter".to_owned()),
    }
    if !resource_policy_allows(
        t,
        "s3.amazonaws.com",
        "s3:PutObject",
        "${AccessLogBucket.Arn}/inventory/",
    ) {
        out.push("the access-log bucket policy does not let S3 write the inventory".to_owned());
    }
    out
}

fn replication_problems(t: &Template) -> Vec<String> {
    let mut out = Vec::new();
    let replication = t
        .resource("LakeBucket")
        .and_then(|b| at(b, &["Properties", "ReplicationConfiguration"]));
    match replication.and_then(intrinsic) {
        Some((name, Value::Sequence(args))) if name == "If" && args.len() == 3 => {
            if plain_str(&args[0]) != Some("ReplicateLake") || args[2] != yaml("!Ref AWS::NoValue") {
                out.push("replication must be !If [ReplicateLake, ..., !Ref AWS::NoValue]".to_owned());
            }
            let rules = args[1]
                .get("Rules")
                .and_then(Value::as_sequence)
                .cloned()
                .unwrap_or_default();
            let kms_replicated = rules.iter().any(|r| {
                at(r, &["SourceSelectionCriteria", "SseKmsEncryptedObjects", "Status"]).and_then(plain_str)
                    == Some("Enabled")
                    && at(r, &["Destination", "Bucket"]).and_then(ref_target) == Some("ReplicationDestinationBucketArn")
                    && at(r, &["Destination", "EncryptionConfiguration", "ReplicaKmsKeyID"]).and_then(ref_target)
                        == Some("ReplicationDestinationKeyArn")
            });
            if !kms_replicated {
                out.push(
                    "the replication rule must replicate KMS-encrypted objects to the destination with its key"
                        .to_owned(),
                );
            }
        }
        _ => out.push("LakeBucket has no ReplicationConfiguration behind ReplicateLake".to_owned()),
    }
    // Off by default; a bucket without a key is rejected at deploy time, not silently ignored.
    let defaults = parameter_defaults(t);
    let with = |bucket: &str, key: &str| -> HashMap<String, String> {
        let mut p = defaults.clone();
        p.insert("ReplicationDestinationBucketArn".to_owned(), bucket.to_owned());
        p.insert("ReplicationDestinationKeyArn".to_owned(), key.to_owned());
        p
    };
    let bucket = "arn:aws:s3:::lake-replica";
    let key = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000";
    for (params, rejected) in [
        (with("", ""), false),
        (with(bucket, key), false),
        (with(bucket, ""), true),
    ] {
        match rejected_by(t, &params) {
            Ok(r) if r.is_empty() == rejected => out.push(format!(
                "bucket {:?} key {:?}: the rules {} it",
                params["ReplicationDestinationBucketArn"],
                params["ReplicationDestinationKeyArn"],
                if rejected { "accept" } else { "reject" }
            )),
            Ok(_) => {}
            Err(e) => out.push(e),
        }
    }
    let role_policy_allows = |action: &str| {
        policy_statements(t).iter().any(|s| {
            s.kind == PolicyKind::Identity
                && s.holder == "ReplicationPolicy"
                && s.statement.get("Action").and_then(plain_str) == Some(action)
        })
    };
    for action in [
        "s3:GetObjectVersionForReplication",
        "s3:ReplicateObject",
        "kms:Decrypt",
        "kms:Encrypt",
    ] {
        if !role_policy_allows(action) {
            out.push(format!("the replication role may not {action}"));
        }
    }
    out
}

#[test]
fn an_audit_trail_records_who_touches_recordings_contact_lens_output_and_transcripts() {
    assert_eq!(audit_problems(&template()), Vec::<String>::new());
}

#[test]
fn the_lake_bucket_has_a_parquet_inventory_by_default() {
    assert_eq!(inventory_problems(&template()), Vec::<String>::new());
}

#[test]
fn replication_is_off_by_default_and_on_with_a_destination_and_its_key() {
    assert_eq!(replication_problems(&template()), Vec::<String>::new());
}

// ─── each check fails on a mutated template ─────────────────────────────────────────────────────

fn root() -> Value {
    let source = std::fs::read_to_string(template_check::repo_root().join("template.yaml")).unwrap();
    serde_yaml::from_str(&source).unwrap()
}

fn from_root(root: &Value) -> Template {
    Template::parse(&serde_yaml::to_string(root).unwrap()).unwrap()
}

#[test]
fn a_trail_that_misses_transcripts_or_is_off_by_default_is_reported() {
    let mut r = root();
    let arns =
        r["Resources"]["LakeAuditTrail"]["Properties"]["AdvancedEventSelectors"][0]["FieldSelectors"][2]["StartsWith"]
            .as_sequence_mut()
            .unwrap();
    arns.pop();
    assert_eq!(
        audit_problems(&from_root(&r)),
        ["LakeAuditTrail: no S3 data events for transcripts/"]
    );

    let mut r = root();
    r["Parameters"]["AuditTrail"]["Default"] = Value::from("Disabled");
    assert_eq!(audit_problems(&from_root(&r)), ["LakeAuditTrail: not on by default"]);
}

#[test]
fn an_inventory_in_csv_or_off_by_default_is_reported() {
    let mut r = root();
    r["Parameters"]["LakeInventory"]["Default"] = Value::from("Disabled");
    assert_eq!(
        inventory_problems(&from_root(&r)),
        ["the inventory's condition InventoryEnabled is not on by default"]
    );
    let text = std::fs::read_to_string(template_check::repo_root().join("template.yaml")).unwrap();
    let csv = text.replacen(
        "              Format: Parquet\n              Prefix: inventory",
        "              Format: CSV\n              Prefix: inventory",
        1,
    );
    assert_ne!(csv, text);
    assert_eq!(
        inventory_problems(&Template::parse(&csv).unwrap()),
        ["no enabled Parquet inventory into the access-log bucket"]
    );
}

#[test]
fn replication_without_its_key_rule_is_reported() {
    let mut r = root();
    r["Rules"]
        .as_mapping_mut()
        .unwrap()
        .remove("ReplicasNeedTheDestinationKey");
    assert_eq!(
        replication_problems(&from_root(&r)),
        ["bucket \"arn:aws:s3:::lake-replica\" key \"\": the rules accept it"]
    );
}
