//! Template hardening (issue #18, sections 2, 3 and 4): the lake bucket refuses old TLS and uploads
//! not encrypted with the lake key, with no principal excepted (Transcribe is given the lake key);
//! the raw data beside the curated tables (errors/, raw/, transcripts/) is readable only by the
//! roles of the pipeline and an optional break-glass role; config/ is writable only by an optional
//! admin role; transcripts expire by parameter; the cataloger's Glue writes name the schema's
//! tables; and CloudWatch Logs may use the lake key only for this stack's log groups.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should say where

use std::collections::BTreeSet;

use template_check::{
    PolicyKind, Template, Value, at, getatt_target, intrinsic, plain_str, policy_statements, ref_target, string_or_list,
};

fn template() -> Template {
    Template::load().unwrap()
}

fn yaml(text: &str) -> Value {
    serde_yaml::from_str(text).unwrap()
}

/// The text of a `!Sub` string (or a plain string).
fn sub_text(v: &Value) -> Option<&str> {
    match intrinsic(v) {
        Some((name, arg)) if name == "Sub" => match arg {
            Value::Sequence(seq) => seq.first().and_then(plain_str),
            other => plain_str(other),
        },
        _ => plain_str(v),
    }
}

/// A statement's `Resource`, one value or a list, as values.
fn resources(statement: &Value) -> Vec<&Value> {
    match statement.get("Resource") {
        Some(Value::Sequence(seq)) => seq.iter().collect(),
        Some(one) => vec![one],
        None => Vec::new(),
    }
}

fn lake_bucket_statements(t: &Template) -> Vec<&Value> {
    policy_statements(t)
        .into_iter()
        .filter(|s| s.kind == PolicyKind::Resource)
        .filter(|s| {
            t.resource(s.holder)
                .and_then(|r| at(r, &["Properties", "Bucket"]))
                .and_then(ref_target)
                == Some("LakeBucket")
        })
        .map(|s| s.statement)
        .collect()
}

fn is_deny_for_everyone(s: &Value) -> bool {
    s.get("Effect").and_then(plain_str) == Some("Deny") && s.get("Principal").and_then(plain_str) == Some("*")
}

fn actions(s: &Value) -> Vec<&str> {
    s.get("Action").and_then(string_or_list).unwrap_or_default()
}

/// The bucket policy's TLS and encryption denies.
fn bucket_policy_problems(t: &Template) -> Vec<String> {
    let statements = lake_bucket_statements(t);
    let mut out = Vec::new();
    let whole_bucket = |s: &Value| {
        let r: Vec<&Value> = resources(s);
        r.contains(&&yaml("!GetAtt LakeBucket.Arn")) && r.iter().any(|v| sub_text(v) == Some("${LakeBucket.Arn}/*"))
    };
    let tls = statements.iter().any(|s| {
        is_deny_for_everyone(s)
            && actions(s) == ["s3:*"]
            && whole_bucket(s)
            && at(s, &["Condition", "NumericLessThan", "s3:TlsVersion"]).and_then(plain_str) == Some("1.2")
    });
    if !tls {
        out.push("LakeBucketPolicy: no deny of every request below TLS 1.2".to_owned());
    }
    let denies_put_unless = |key: &str, value: &Value| {
        statements.iter().any(|s| {
            is_deny_for_everyone(s)
                && actions(s) == ["s3:PutObject"]
                && resources(s).iter().any(|r| sub_text(r) == Some("${LakeBucket.Arn}/*"))
                && at(s, &["Condition", "StringNotEqualsIfExists", key]) == Some(value)
        })
    };
    if !denies_put_unless("s3:x-amz-server-side-encryption", &yaml("aws:kms")) {
        out.push("LakeBucketPolicy: no deny of uploads that ask for an encryption other than aws:kms".to_owned());
    }
    if !denies_put_unless(
        "s3:x-amz-server-side-encryption-aws-kms-key-id",
        &yaml("!GetAtt LakeKey.Arn"),
    ) {
        out.push("LakeBucketPolicy: no deny of uploads that name a key other than the lake key".to_owned());
    }
    out
}

const RAW_PREFIXES: [&str; 3] = ["errors/", "raw/", "transcripts/"];

/// The raw prefix of the lake bucket an ARN text names (`${LakeBucket.Arn}/raw/*` → `raw/`).
fn raw_prefix(arn: &str) -> Option<&'static str> {
    let path = arn.strip_prefix("${LakeBucket.Arn}/")?;
    RAW_PREFIXES.into_iter().find(|p| path.starts_with(p))
}

/// Roles whose identity policies allow reading objects under a raw prefix.
fn roles_reading_raw_data(t: &Template) -> BTreeSet<String> {
    policy_statements(t)
        .into_iter()
        .filter(|s| s.kind == PolicyKind::Identity && s.is_allow())
        .filter(|s| {
            actions(s.statement)
                .iter()
                .any(|a| matches!(*a, "s3:GetObject" | "s3:GetObjectVersion" | "s3:*" | "s3:Get*"))
        })
        .filter(|s| {
            resources(s.statement)
                .iter()
                .any(|r| sub_text(r).and_then(raw_prefix).is_some())
        })
        .map(|s| s.holder.to_owned())
        .collect()
}

/// The principals excepted from the raw-data deny: (roles by logical id, whether the break-glass
/// role is excepted when given, whether both branches list the same roles).
fn raw_deny_exceptions(statement: &Value) -> Result<(BTreeSet<String>, bool), String> {
    let arns = at(statement, &["Condition", "ArnNotEquals", "aws:PrincipalArn"])
        .ok_or("the raw-data deny has no ArnNotEquals aws:PrincipalArn condition")?;
    let roles = |list: &Value| -> (BTreeSet<String>, bool) {
        let mut out = BTreeSet::new();
        let mut break_glass = false;
        for v in list.as_sequence().into_iter().flatten() {
            if let Some((id, "Arn")) = getatt_target(v) {
                out.insert(id.to_owned());
            } else if ref_target(v) == Some("BreakGlassRoleArn") {
                break_glass = true;
            }
        }
        (out, break_glass)
    };
    match intrinsic(arns) {
        Some((name, Value::Sequence(args))) if name == "If" && args.len() == 3 => {
            if plain_str(&args[0]) != Some("HasBreakGlassRole") {
                return Err("the raw-data deny's exceptions must branch on HasBreakGlassRole".to_owned());
            }
            let (with, with_break_glass) = roles(&args[1]);
            let (without, without_break_glass) = roles(&args[2]);
            if with != without || without_break_glass {
                return Err("the raw-data deny's two branches must list the same pipeline roles".to_owned());
            }
            Ok((with, with_break_glass))
        }
        _ => Ok(roles(arns)),
    }
}

fn raw_data_problems(t: &Template) -> Vec<String> {
    let statements = lake_bucket_statements(t);
    let deny = statements.iter().find(|s| {
        let covered: BTreeSet<&str> = resources(s)
            .iter()
            .filter_map(|r| sub_text(r).and_then(raw_prefix))
            .collect();
        is_deny_for_everyone(s) && covered.len() == RAW_PREFIXES.len()
    });
    let Some(deny) = deny else {
        return vec!["LakeBucketPolicy: no deny covering errors/, raw/ and transcripts/ together".to_owned()];
    };
    let mut out = Vec::new();
    for action in ["s3:GetObject", "s3:GetObjectVersion"] {
        if !actions(deny).contains(&action) {
            out.push(format!("the raw-data deny does not cover {action}"));
        }
    }
    match raw_deny_exceptions(deny) {
        Err(e) => out.push(e),
        Ok((excepted, break_glass)) => {
            if !break_glass {
                out.push("the raw-data deny does not except BreakGlassRoleArn when it is given".to_owned());
            }
            let readers = roles_reading_raw_data(t);
            for role in readers.difference(&excepted) {
                out.push(format!(
                    "{role} is granted raw data but the bucket policy denies it: add it to the exceptions"
                ));
            }
            for role in excepted.difference(&readers) {
                out.push(format!(
                    "{role} is excepted from the raw-data deny but is granted no raw data"
                ));
            }
        }
    }
    out
}

fn transcript_expiry_problems(t: &Template) -> Vec<String> {
    let mut out = Vec::new();
    let rules = t
        .resource("LakeBucket")
        .and_then(|r| at(r, &["Properties", "LifecycleConfiguration", "Rules"]))
        .and_then(Value::as_sequence)
        .cloned()
        .unwrap_or_default();
    let rule = rules
        .iter()
        .find(|r| r.get("Prefix").and_then(plain_str) == Some("transcripts/"));
    let expected = yaml("!If [TranscriptsExpire, !Ref TranscriptExpireAfterDays, !Ref AWS::NoValue]");
    if rule.and_then(|r| r.get("ExpirationInDays")) != Some(&expected) {
        out.push("transcripts/: the lifecycle rule must expire by TranscriptExpireAfterDays (0 keeps)".to_owned());
    }
    let condition = t.section("Conditions").and_then(|c| c.get("TranscriptsExpire"));
    if condition != Some(&yaml("!Not [!Equals [!Ref TranscriptExpireAfterDays, \"0\"]]")) {
        out.push("TranscriptsExpire must be TranscriptExpireAfterDays other than 0".to_owned());
    }
    let parameter = t.section("Parameters").and_then(|p| p.get("TranscriptExpireAfterDays"));
    if parameter.and_then(|p| p.get("Default")).is_none() {
        out.push("TranscriptExpireAfterDays needs a default".to_owned());
    }
    out
}

const GLUE_TABLE_ARN: &str = "arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:table/${GlueDatabase}/";

fn cataloger_glue_problems(t: &Template) -> Vec<String> {
    let schema: BTreeSet<String> = connect_lake::schema::TABLES.iter().map(|t| t.name.to_owned()).collect();
    let mut out = Vec::new();
    for action in [
        "glue:GetTable",
        "glue:CreateTable",
        "glue:UpdateTable",
        "glue:BatchCreatePartition",
    ] {
        let statements: Vec<_> = policy_statements(t)
            .into_iter()
            .filter(|s| s.holder == "S3CatalogerRole" && s.is_allow() && actions(s.statement) == [action])
            .collect();
        let [statement] = statements.as_slice() else {
            out.push(format!("S3CatalogerRole: expected one statement for {action}"));
            continue;
        };
        let tables: BTreeSet<String> = resources(statement.statement)
            .iter()
            .filter_map(|r| sub_text(r)?.strip_prefix(GLUE_TABLE_ARN).map(str::to_owned))
            .collect();
        for table in &tables {
            if !schema.contains(table) {
                out.push(format!(
                    "{action} names {table}, which is not a curated table of the schema"
                ));
            }
        }
        for table in schema.difference(&tables) {
            out.push(format!(
                "{action} does not name {table}: the cataloger could not catalog it"
            ));
        }
    }
    out
}

fn logs_key_problems(t: &Template) -> Vec<String> {
    let mut out = Vec::new();
    let expected =
        "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/connect-lake/${AWS::StackName}/*";
    let logs_statements: Vec<_> = policy_statements(t)
        .into_iter()
        .filter(|s| s.holder == "LakeKey" && s.is_allow())
        .filter(|s| {
            at(s.statement, &["Principal", "Service"])
                .and_then(sub_text)
                .is_some_and(|p| p.starts_with("logs."))
        })
        .collect();
    if logs_statements.is_empty() {
        out.push("LakeKey: no statement for CloudWatch Logs".to_owned());
    }
    for s in logs_statements {
        let context = at(
            s.statement,
            &["Condition", "ArnLike", "kms:EncryptionContext:aws:logs:arn"],
        )
        .and_then(sub_text);
        if context != Some(expected) {
            out.push(format!(
                "LakeKey {}: CloudWatch Logs must be limited to log groups {expected}, not {context:?}",
                s.sid()
            ));
        }
    }
    for (id, group) in t.resources_of_type("AWS::Logs::LogGroup") {
        let props = group.get("Properties");
        if props.and_then(|p| p.get("KmsKeyId")) != Some(&yaml("!GetAtt LakeKey.Arn")) {
            continue;
        }
        let name = props.and_then(|p| p.get("LogGroupName")).and_then(sub_text);
        if !name.is_some_and(|n| n.starts_with("/connect-lake/${AWS::StackName}/")) {
            out.push(format!(
                "{id}: a log group encrypted with the lake key must be named /connect-lake/${{AWS::StackName}}/..., not {name:?}"
            ));
        }
    }
    out
}

/// The two upload denies of the lake key (by encryption, by key id) except nobody, and the one
/// writer that would otherwise upload SSE-S3, Transcribe, is given the lake key.
fn upload_exception_problems(t: &Template) -> Vec<String> {
    let mut out = Vec::new();
    for s in lake_bucket_statements(t) {
        let Some(Value::Mapping(condition)) = s.get("Condition") else {
            continue;
        };
        let encryption_keys = [
            "s3:x-amz-server-side-encryption",
            "s3:x-amz-server-side-encryption-aws-kms-key-id",
        ];
        let is_upload_deny = is_deny_for_everyone(s)
            && actions(s) == ["s3:PutObject"]
            && at(s, &["Condition", "StringNotEqualsIfExists"])
                .and_then(Value::as_mapping)
                .is_some_and(|m| {
                    m.keys()
                        .any(|k| k.as_str().is_some_and(|k| encryption_keys.contains(&k)))
                });
        if !is_upload_deny {
            continue;
        }
        for operator in condition.keys().filter_map(Value::as_str) {
            if operator != "StringNotEqualsIfExists" {
                out.push(format!(
                    "{}: the lake-key upload deny must except nobody, but has a {operator} condition",
                    s.get("Sid").and_then(plain_str).unwrap_or("?")
                ));
            }
        }
    }
    let env = t.resource("SentimentEnricherFunction").and_then(|r| {
        at(
            r,
            &["Properties", "Environment", "Variables", "TRANSCRIBE_OUTPUT_KMS_KEY_ID"],
        )
    });
    if env != Some(&yaml("!GetAtt LakeKey.Arn")) {
        out.push(
            "SentimentEnricherFunction: TRANSCRIBE_OUTPUT_KMS_KEY_ID must be the lake key, or Transcribe writes SSE-S3"
                .to_owned(),
        );
    }
    out
}

const CONFIG_WRITES: [&str; 3] = ["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"];

/// Whether an object ARN text of the lake bucket covers keys under `config/`
/// (`${LakeBucket.Arn}/*`, `${LakeBucket.Arn}/config/deny-list.txt`, ...).
fn covers_config(arn: &str) -> bool {
    let Some(path) = arn.strip_prefix("${LakeBucket.Arn}/") else {
        return false;
    };
    match path.split_once('*') {
        Some((before, _)) => "config/".starts_with(before) || before.starts_with("config/"),
        None => path.starts_with("config/"),
    }
}

/// config/ (deny list, fraud policy) is written only by `ConfigAdminRoleArn`: the bucket policy
/// denies every other principal, and nobody at all when the parameter is empty; no role of the
/// template, and no allow of the bucket policy, lets a pipeline role write there.
fn config_write_problems(t: &Template) -> Vec<String> {
    let mut out = Vec::new();
    let statements = lake_bucket_statements(t);
    let deny = statements.iter().find(|s| {
        is_deny_for_everyone(s)
            && resources(s)
                .iter()
                .any(|r| sub_text(r) == Some("${LakeBucket.Arn}/config/*"))
    });
    match deny {
        None => out.push("LakeBucketPolicy: no deny of writes under config/".to_owned()),
        Some(deny) => {
            for action in CONFIG_WRITES {
                if !actions(deny).contains(&action) {
                    out.push(format!("the config/ deny does not cover {action}"));
                }
            }
            let expected = yaml(
                "!If [HasConfigAdminRole, {ArnNotEquals: {aws:PrincipalArn: !Ref ConfigAdminRoleArn}}, !Ref AWS::NoValue]",
            );
            if deny.get("Condition") != Some(&expected) {
                out.push(
                    "the config/ deny must except ConfigAdminRoleArn when it is given, and nobody when it is empty"
                        .to_owned(),
                );
            }
        }
    }
    let condition = t.section("Conditions").and_then(|c| c.get("HasConfigAdminRole"));
    if condition != Some(&yaml("!Not [!Equals [!Ref ConfigAdminRoleArn, \"\"]]")) {
        out.push("HasConfigAdminRole must be ConfigAdminRoleArn other than empty".to_owned());
    }
    let parameter = t.section("Parameters").and_then(|p| p.get("ConfigAdminRoleArn"));
    if parameter.and_then(|p| p.get("Default")).and_then(plain_str) != Some("") {
        out.push("ConfigAdminRoleArn must default to empty".to_owned());
    }
    for s in policy_statements(t).into_iter().filter(|s| s.is_allow()) {
        let writes = actions(s.statement)
            .iter()
            .any(|a| CONFIG_WRITES.contains(a) || matches!(*a, "s3:*" | "s3:Put*" | "s3:Delete*"));
        let on_config = resources(s.statement)
            .iter()
            .any(|r| sub_text(r).is_some_and(covers_config));
        if writes && on_config {
            out.push(format!(
                "{} {}: may write config/, which the bucket policy denies to all but ConfigAdminRoleArn",
                s.holder,
                s.sid()
            ));
        }
    }
    out
}

#[test]
fn no_upload_to_the_lake_is_excepted_from_the_lake_key_and_transcribe_is_given_it() {
    assert_eq!(upload_exception_problems(&template()), Vec::<String>::new());
}

#[test]
fn config_is_writable_only_by_the_config_admin_role_and_no_pipeline_role_needs_it() {
    assert_eq!(config_write_problems(&template()), Vec::<String>::new());
}

#[test]
fn the_config_prefix_rule_matches_wildcards_that_reach_config_only() {
    for (arn, want) in [
        ("${LakeBucket.Arn}/*", true),
        ("${LakeBucket.Arn}/config/*", true),
        ("${LakeBucket.Arn}/config/deny-list.txt", true),
        ("${LakeBucket.Arn}/con*", true),
        ("${LakeBucket.Arn}/ctr/*", false),
        ("${LakeBucket.Arn}/configuration-backup/*", false),
        ("${LakeBucket.Arn}/athena-results/*", false),
        ("${OtherBucket.Arn}/*", false),
    ] {
        assert_eq!(covers_config(arn), want, "{arn}");
    }
}

#[test]
fn the_lake_bucket_refuses_old_tls_and_uploads_not_encrypted_with_the_lake_key() {
    assert_eq!(bucket_policy_problems(&template()), Vec::<String>::new());
}

#[test]
fn raw_data_is_readable_only_by_the_pipeline_roles_granted_it_and_the_break_glass_role() {
    assert_eq!(raw_data_problems(&template()), Vec::<String>::new());
}

#[test]
fn transcripts_expire_by_parameter() {
    assert_eq!(transcript_expiry_problems(&template()), Vec::<String>::new());
}

#[test]
fn the_cataloger_creates_and_registers_exactly_the_schema_tables() {
    assert_eq!(cataloger_glue_problems(&template()), Vec::<String>::new());
}

#[test]
fn cloudwatch_logs_may_use_the_lake_key_only_for_this_stacks_log_groups() {
    assert_eq!(logs_key_problems(&template()), Vec::<String>::new());
}

// ─── each check fails on a mutated template ─────────────────────────────────────────────────────

fn lake_policy_statements_mut(t: &mut Template) -> &mut Vec<Value> {
    t.resources_mut().unwrap().get_mut("LakeBucketPolicy").unwrap()["Properties"]["PolicyDocument"]["Statement"]
        .as_sequence_mut()
        .unwrap()
}

fn sid_of(s: &Value) -> &str {
    s.get("Sid").and_then(plain_str).unwrap_or_default()
}

#[test]
fn a_bucket_policy_without_the_tls_or_encryption_denies_is_reported() {
    let mut t = template();
    let statements = lake_policy_statements_mut(&mut t);
    statements.retain(|s| !sid_of(s).starts_with("DenyTls"));
    for s in statements.iter_mut() {
        if sid_of(s) == "DenyUploadsEncryptedWithAnotherKey" {
            s["Condition"]["StringNotEqualsIfExists"]["s3:x-amz-server-side-encryption-aws-kms-key-id"] =
                yaml("!GetAtt OtherKey.Arn");
        }
    }
    assert_eq!(
        bucket_policy_problems(&t),
        [
            "LakeBucketPolicy: no deny of every request below TLS 1.2",
            "LakeBucketPolicy: no deny of uploads that name a key other than the lake key"
        ]
    );
}

#[test]
fn a_role_granted_raw_data_but_not_excepted_and_a_missing_break_glass_are_reported() {
    let mut t = template();
    let role = yaml(
        r#"
Type: AWS::IAM::Role
Properties:
  AssumeRolePolicyDocument: {}
  Policies:
    - PolicyName: p
      PolicyDocument:
        Statement:
          - Sid: ReadBackups
            Effect: Allow
            Action: s3:GetObject
            Resource: !Sub "${LakeBucket.Arn}/raw/*"
"#,
    );
    t.resources_mut().unwrap().insert(yaml("AnalystBackfillRole"), role);
    for s in lake_policy_statements_mut(&mut t).iter_mut() {
        if sid_of(s) == "DenyRawDataReadsOutsideThePipeline" {
            let branch = s["Condition"]["ArnNotEquals"]["aws:PrincipalArn"].get_mut("Fn::If");
            let args = match branch {
                Some(args) => args,
                None => match &mut s["Condition"]["ArnNotEquals"]["aws:PrincipalArn"] {
                    Value::Tagged(tagged) => &mut tagged.value,
                    other => panic!("unexpected {other:?}"),
                },
            };
            let with = args[1].as_sequence_mut().unwrap();
            with.retain(|v| ref_target(v) != Some("BreakGlassRoleArn"));
        }
    }
    assert_eq!(
        raw_data_problems(&t),
        [
            "the raw-data deny does not except BreakGlassRoleArn when it is given",
            "AnalystBackfillRole is granted raw data but the bucket policy denies it: add it to the exceptions"
        ]
    );
}

#[test]
fn a_raw_prefix_left_out_of_the_deny_is_reported() {
    let mut t = template();
    for s in lake_policy_statements_mut(&mut t).iter_mut() {
        if sid_of(s) == "DenyRawDataReadsOutsideThePipeline" {
            s["Resource"].as_sequence_mut().unwrap().pop();
        }
    }
    assert_eq!(
        raw_data_problems(&t),
        ["LakeBucketPolicy: no deny covering errors/, raw/ and transcripts/ together"]
    );
}

#[test]
fn transcripts_kept_forever_are_reported() {
    let mut t = template();
    let rules =
        t.resources_mut().unwrap().get_mut("LakeBucket").unwrap()["Properties"]["LifecycleConfiguration"]["Rules"]
            .as_sequence_mut()
            .unwrap();
    for r in rules.iter_mut() {
        if r.get("Prefix").and_then(plain_str) == Some("transcripts/") {
            r.as_mapping_mut().unwrap().remove("ExpirationInDays");
        }
    }
    assert_eq!(
        transcript_expiry_problems(&t),
        ["transcripts/: the lifecycle rule must expire by TranscriptExpireAfterDays (0 keeps)"]
    );
}

#[test]
fn a_wildcard_or_missing_table_in_the_catalogers_glue_writes_is_reported() {
    let mut t = template();
    let statements = t.resources_mut().unwrap().get_mut("S3CatalogerRole").unwrap()["Properties"]["Policies"][0]
        ["PolicyDocument"]["Statement"]
        .as_sequence_mut()
        .unwrap();
    for s in statements.iter_mut() {
        if s.get("Action").and_then(plain_str) == Some("glue:CreateTable") {
            let r = s["Resource"].as_sequence_mut().unwrap();
            r.retain(|v| sub_text(v).is_none_or(|text| !text.ends_with("/ctr")));
            r.push(yaml(&format!("!Sub \"{GLUE_TABLE_ARN}*\"")));
        }
    }
    assert_eq!(
        cataloger_glue_problems(&t),
        [
            "glue:CreateTable names *, which is not a curated table of the schema",
            "glue:CreateTable does not name ctr: the cataloger could not catalog it"
        ]
    );
}

#[test]
fn a_logs_grant_on_every_log_group_and_a_log_group_outside_the_stacks_path_are_reported() {
    let mut t = template();
    let key = t.resources_mut().unwrap().get_mut("LakeKey").unwrap();
    for s in key["Properties"]["KeyPolicy"]["Statement"].as_sequence_mut().unwrap() {
        if sid_of(s).starts_with("CloudWatchLogs") {
            s["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"] =
                yaml(r#"!Sub "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*""#);
        }
    }
    let group = t.resources_mut().unwrap().get_mut("FirehoseLogGroup").unwrap();
    group["Properties"]["LogGroupName"] = yaml("/aws/firehose/lake");
    let problems = logs_key_problems(&t);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].contains("CloudWatch Logs must be limited"), "{problems:?}");
    assert!(problems[1].starts_with("FirehoseLogGroup:"), "{problems:?}");
}

#[test]
fn an_upload_deny_with_an_exception_and_transcribe_without_the_lake_key_are_reported() {
    let mut t = template();
    for s in lake_policy_statements_mut(&mut t).iter_mut() {
        if sid_of(s) == "DenyUploadsEncryptedOtherThanByKms" {
            s["Condition"]["ArnNotEquals"] = yaml("{aws:PrincipalArn: !GetAtt TranscribeDataAccessRole.Arn}");
        }
    }
    let function = t.resources_mut().unwrap().get_mut("SentimentEnricherFunction").unwrap();
    function["Properties"]["Environment"]["Variables"]
        .as_mapping_mut()
        .unwrap()
        .remove("TRANSCRIBE_OUTPUT_KMS_KEY_ID");
    assert_eq!(
        upload_exception_problems(&t),
        [
            "DenyUploadsEncryptedOtherThanByKms: the lake-key upload deny must except nobody, but has a ArnNotEquals condition",
            "SentimentEnricherFunction: TRANSCRIBE_OUTPUT_KMS_KEY_ID must be the lake key, or Transcribe writes SSE-S3"
        ]
    );
}

#[test]
fn a_config_deny_open_to_everyone_when_empty_and_a_role_writing_config_are_reported() {
    let mut t = template();
    for s in lake_policy_statements_mut(&mut t).iter_mut() {
        if sid_of(s) == "DenyConfigWritesOutsideTheAdminRole" {
            // Empty parameter, no deny: the hole the review found.
            s["Condition"] = yaml("{ArnNotEquals: {aws:PrincipalArn: !Ref ConfigAdminRoleArn}}");
            s["Action"]
                .as_sequence_mut()
                .unwrap()
                .retain(|a| a.as_str() != Some("s3:DeleteObjectVersion"));
        }
    }
    let role = yaml(
        r#"
Type: AWS::IAM::Role
Properties:
  AssumeRolePolicyDocument: {}
  Policies:
    - PolicyName: p
      PolicyDocument:
        Statement:
          - Sid: WriteAnywhere
            Effect: Allow
            Action: s3:PutObject
            Resource: !Sub "${LakeBucket.Arn}/*"
"#,
    );
    t.resources_mut().unwrap().insert(yaml("DataEngineerRole"), role);
    assert_eq!(
        config_write_problems(&t),
        [
            "the config/ deny does not cover s3:DeleteObjectVersion",
            "the config/ deny must except ConfigAdminRoleArn when it is given, and nobody when it is empty",
            "DataEngineerRole WriteAnywhere: may write config/, which the bucket policy denies to all but ConfigAdminRoleArn"
        ]
    );
    lake_policy_statements_mut(&mut t).retain(|s| sid_of(s) != "DenyConfigWritesOutsideTheAdminRole");
    assert_eq!(
        config_write_problems(&t)[0],
        "LakeBucketPolicy: no deny of writes under config/"
    );
}
