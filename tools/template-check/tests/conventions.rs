//! template.yaml follows the project's conventions (../shared/STYLE.md, issue 6): every function is
//! built by cargo-lambda from its own binary on provided.al2023/arm64, logs to its own log group
//! with a retention, runs under its own narrow role, and Firehose lays the lake out the way the
//! shared schema parses it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should say where

use std::collections::BTreeSet;

use connect_lake::schema::PartitionValues;
use template_check::{
    PolicyKind, Template, Value, at, binary_name_for, getatt_target, intrinsic, plain_str, policy_statements,
    ref_target, repo_root, string_or_list,
};

/// The five functions of ../shared/DESIGN.md.
const FUNCTIONS: [&str; 5] = [
    "firehose-transform",
    "s3-cataloger",
    "contact-flow-logger",
    "sentiment-enricher",
    "fraud-router",
];

/// The environment variables the project names (DESIGN.md, and each function's issue).
const KNOWN_ENV: &[&str] = &[
    "LAKE_BUCKET",
    "GLUE_DATABASE",
    "LAKE_FORMAT",
    "PII_TOKEN_SECRET_ARN",
    "DENY_LIST_URI",
    "FRAUD_POLICY_URI",
    "METRICS_NAMESPACE",
    "DENY_LIST_TTL_SECONDS",
    "DENY_LIST_BUDGET_MS",
    "RECORDINGS_PREFIX",
    "TRANSCRIPTS_PREFIX",
    "TRANSCRIBE_LANGUAGE",
    "TRANSCRIBE_ROLE_ARN",
    "TRANSCRIBE_OUTPUT_KMS_KEY_ID",
    "AGENT_CHANNEL",
    "ENRICH_SKIP_WHEN_CONTACT_LENS",
    "SENTIMENT_PROVIDER",
    "STORE_TRANSCRIPT_TEXT",
    "AGENT_HEARTBEATS",
    "EXPECTED_TABLES",
];

/// Actions that support no resource-level permissions, so `Resource: "*"` is the only option.
const NO_RESOURCE_LEVEL: [&str; 5] = [
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "comprehend:BatchDetectSentiment",
    "comprehend:DetectPiiEntities",
    "lakeformation:GetDataAccess",
];

fn template() -> Template {
    Template::load().unwrap_or_else(|e| panic!("{e}"))
}

fn functions(t: &Template) -> Vec<(&str, &Value)> {
    t.resources_of_type("AWS::Serverless::Function")
}

#[test]
fn globals_run_every_function_on_provided_al2023_arm64_with_tracing() {
    let t = template();
    let globals = at(t.section("Globals").expect("template has Globals"), &["Function"]).expect("Globals.Function");
    assert_eq!(globals.get("Runtime").and_then(plain_str), Some("provided.al2023"));
    assert_eq!(globals.get("Handler").and_then(plain_str), Some("bootstrap"));
    assert_eq!(globals.get("Tracing").and_then(plain_str), Some("Active"));
    let arch = globals
        .get("Architectures")
        .and_then(string_or_list)
        .expect("Globals.Function.Architectures");
    assert_eq!(arch, ["arm64"]);
    for (id, f) in functions(&t) {
        for key in ["Runtime", "Architectures", "Handler"] {
            assert!(
                at(f, &["Properties", key]).is_none(),
                "{id} overrides Globals.Function.{key}"
            );
        }
    }
}

#[test]
fn every_function_is_built_by_cargo_lambda_from_its_own_binary() {
    let t = template();
    let mut binaries = BTreeSet::new();
    for (id, f) in functions(&t) {
        assert_eq!(
            at(f, &["Metadata", "BuildMethod"]).and_then(plain_str),
            Some("rust-cargolambda"),
            "{id}"
        );
        let binary = at(f, &["Metadata", "BuildProperties", "Binary"]).and_then(plain_str);
        assert_eq!(
            binary,
            Some(binary_name_for(id).as_str()),
            "{id}: Metadata.BuildProperties.Binary"
        );
        // cargo-lambda builds from the workspace root, which holds every function crate.
        assert_eq!(
            at(f, &["Properties", "CodeUri"]).and_then(plain_str),
            Some("."),
            "{id}: CodeUri"
        );
        binaries.insert(binary_name_for(id));
    }
    for name in FUNCTIONS {
        assert!(
            binaries.contains(name),
            "template.yaml has no function with Binary {name}"
        );
    }
    // A function crate that lands later must come with its template entry.
    let dir = repo_root().join("functions");
    for entry in std::fs::read_dir(&dir).expect("functions/ exists").flatten() {
        if entry.path().join("Cargo.toml").is_file() {
            let name = entry.file_name().to_string_lossy().into_owned();
            assert!(
                binaries.contains(&name),
                "functions/{name} has no function in template.yaml"
            );
        }
    }
}

#[test]
fn every_function_logs_to_its_own_log_group_with_a_retention() {
    let t = template();
    let mut seen = BTreeSet::new();
    for (id, f) in functions(&t) {
        let group = at(f, &["Properties", "LoggingConfig", "LogGroup"])
            .and_then(ref_target)
            .unwrap_or_else(|| panic!("{id}: LoggingConfig.LogGroup must be !Ref to a log group"));
        assert_eq!(t.resource_type(group), Some("AWS::Logs::LogGroup"), "{id}: {group}");
        let group_body = t.resource(group).expect("log group exists");
        assert!(
            at(group_body, &["Properties", "RetentionInDays"]).is_some(),
            "{group} has no RetentionInDays"
        );
        assert!(seen.insert(group), "{group} is shared by two functions");
    }
}

#[test]
fn every_function_has_its_own_role_without_managed_policies() {
    let t = template();
    let mut seen = BTreeSet::new();
    for (id, f) in functions(&t) {
        assert!(
            at(f, &["Properties", "Policies"]).is_none(),
            "{id}: use its own role, not SAM Policies"
        );
        let (role, attr) = at(f, &["Properties", "Role"])
            .and_then(getatt_target)
            .unwrap_or_else(|| panic!("{id}: Role must be !GetAtt <Role>.Arn"));
        assert_eq!(attr, "Arn");
        assert_eq!(t.resource_type(role), Some("AWS::IAM::Role"), "{id}: {role}");
        let role_body = t.resource(role).expect("role exists");
        assert!(
            at(role_body, &["Properties", "ManagedPolicyArns"]).is_none(),
            "{role}: inline, narrow policies only"
        );
        assert!(seen.insert(role), "{role} is shared by two functions");
    }
}

fn is_wildcard_action(action: &str) -> bool {
    action == "*" || action.ends_with(":*")
}

#[test]
fn no_policy_allows_a_wildcard_action() {
    let t = template();
    let statements = policy_statements(&t);
    assert!(
        statements.len() > 20,
        "found only {} policy statements: is the walker broken?",
        statements.len()
    );
    for s in statements.iter().filter(|s| s.is_allow()) {
        assert!(
            s.statement.get("NotAction").is_none(),
            "{}/{}: NotAction in an Allow statement",
            s.holder,
            s.sid()
        );
        let actions = s
            .statement
            .get("Action")
            .and_then(string_or_list)
            .unwrap_or_else(|| panic!("{}/{}: Action must be literal strings", s.holder, s.sid()));
        for action in actions {
            assert!(!is_wildcard_action(action), "{}/{}: allows {action}", s.holder, s.sid());
        }
    }
}

#[test]
fn identity_policies_grant_one_action_per_statement_on_named_resources() {
    let t = template();
    for s in policy_statements(&t)
        .iter()
        .filter(|s| s.kind == PolicyKind::Identity && s.is_allow())
    {
        let actions = s.statement.get("Action").and_then(string_or_list).unwrap_or_default();
        assert_eq!(
            actions.len(),
            1,
            "{}/{}: one action per statement, found {actions:?}",
            s.holder,
            s.sid()
        );
        let action = actions[0];
        let resources = s.statement.get("Resource").expect("statement has Resource");
        let star = match resources {
            Value::String(r) => r == "*",
            Value::Sequence(seq) => seq.iter().any(|r| r.as_str() == Some("*")),
            _ => false,
        };
        if star {
            assert!(
                NO_RESOURCE_LEVEL.contains(&action),
                "{}/{}: {action} on \"*\": name the resource (only {NO_RESOURCE_LEVEL:?} may use \"*\")",
                s.holder,
                s.sid()
            );
        }
    }
}

#[test]
fn the_wildcard_check_can_fail() {
    assert!(is_wildcard_action("*"));
    assert!(is_wildcard_action("s3:*"));
    assert!(!is_wildcard_action("s3:GetObject"));
    let t = Template::parse(
        "Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties:\n      Policies:\n        - PolicyDocument:\n            \
         Statement:\n              - { Sid: Bad, Effect: Allow, Action: ['s3:GetObject', 'glue:*'], Resource: '*' }\n",
    )
    .unwrap();
    let statements = policy_statements(&t);
    assert_eq!(statements.len(), 1);
    let actions = string_or_list(statements[0].statement.get("Action").unwrap()).unwrap();
    assert!(actions.iter().any(|a| is_wildcard_action(a)));
}

#[test]
fn function_environments_use_only_the_projects_variable_names() {
    let t = template();
    for (id, f) in functions(&t) {
        let vars = at(f, &["Properties", "Environment", "Variables"]).and_then(Value::as_mapping);
        for (key, _) in vars.into_iter().flatten() {
            let key = key.as_str().unwrap_or_default();
            assert!(KNOWN_ENV.contains(&key), "{id}: unknown environment variable {key}");
        }
    }
}

/// The functions that tokenize PII and so read the key.
const TOKENIZING: [&str; 4] = [
    "firehose-transform",
    "contact-flow-logger",
    "fraud-router",
    "sentiment-enricher",
];

/// What is wrong with the PII key's wiring: the key is never an environment variable value; each
/// tokenizing function gets only the secret's ARN and may `GetSecretValue` on exactly that secret;
/// no other function may read it; a generated secret is encrypted with the lake key and retained.
fn pii_key_violations(t: &Template) -> Vec<String> {
    let mut out = Vec::new();
    let mut readers = BTreeSet::new();
    for (id, f) in functions(t) {
        let vars = at(f, &["Properties", "Environment", "Variables"]);
        if vars.and_then(|v| v.get("PII_TOKEN_KEY")).is_some() {
            out.push(format!("{id}: PII_TOKEN_KEY is an environment variable"));
        }
        let binary = binary_name_for(id);
        let arn = vars.and_then(|v| v.get("PII_TOKEN_SECRET_ARN"));
        if TOKENIZING.contains(&binary.as_str()) != arn.is_some() {
            out.push(format!("{id}: PII_TOKEN_SECRET_ARN set: {}", arn.is_some()));
        }
        let Some(arn) = arn else { continue };
        let role = at(f, &["Properties", "Role"]).and_then(getatt_target).map(|(r, _)| r);
        let grants = policy_statements(t).into_iter().any(|s| {
            Some(s.holder) == role
                && s.is_allow()
                && s.statement.get("Action").and_then(string_or_list) == Some(vec!["secretsmanager:GetSecretValue"])
                && s.statement.get("Resource") == Some(arn)
        });
        if !grants {
            out.push(format!(
                "{id}: its role may not GetSecretValue on exactly PII_TOKEN_SECRET_ARN"
            ));
        }
        readers.extend(role);
    }
    for s in policy_statements(t) {
        let actions = s.statement.get("Action").and_then(string_or_list).unwrap_or_default();
        if s.is_allow() && actions.iter().any(|a| a.starts_with("secretsmanager:")) && !readers.contains(s.holder) {
            out.push(format!("{}/{}: reads secrets but tokenizes nothing", s.holder, s.sid()));
        }
    }
    match t.resource("PiiTokenSecret") {
        None => out.push("no PiiTokenSecret".into()),
        Some(secret) => {
            if at(secret, &["Properties", "KmsKeyId"]).and_then(getatt_target) != Some(("LakeKey", "Arn")) {
                out.push("PiiTokenSecret: not encrypted with the lake key".into());
            }
            if at(secret, &["DeletionPolicy"]).and_then(plain_str) != Some("Retain") {
                out.push("PiiTokenSecret: deleting the stack would delete the key of every token".into());
            }
            let length = at(secret, &["Properties", "GenerateSecretString", "PasswordLength"]).and_then(Value::as_u64);
            if length.is_none_or(|n| n < 32) {
                out.push("PiiTokenSecret: the generated key is shorter than 32 bytes".into());
            }
        }
    }
    out
}

#[test]
fn the_pii_key_is_a_secret_read_at_init_never_an_environment_value() {
    let violations = pii_key_violations(&template());
    assert!(violations.is_empty(), "{violations:#?}");
}

#[test]
fn the_pii_key_check_can_fail() {
    let text = std::fs::read_to_string(repo_root().join("template.yaml")).unwrap();
    let mutate = |from: &str, to: &str| {
        assert!(text.contains(from), "{from}");
        pii_key_violations(&Template::parse(&text.replacen(from, to, 1)).unwrap())
    };
    // The key back in an environment variable, as it used to be.
    let v = mutate(
        "          PII_TOKEN_SECRET_ARN: !If",
        "          PII_TOKEN_KEY: \"{{resolve:secretsmanager:k:SecretString}}\"\n          PII_TOKEN_SECRET_ARN: !If",
    );
    assert!(
        v.iter().any(|m| m.contains("PII_TOKEN_KEY is an environment variable")),
        "{v:?}"
    );
    // A role that may read any secret.
    let v = mutate(
        "                Action: secretsmanager:GetSecretValue\n                Resource: !If [CreatePiiTokenSecret, !Ref PiiTokenSecret, !Ref PiiTokenSecretArn]",
        "                Action: secretsmanager:GetSecretValue\n                Resource: \"*\"",
    );
    assert!(v.iter().any(|m| m.contains("may not GetSecretValue")), "{v:?}");
    // A short generated key, and one that goes with the stack.
    let v = mutate("        PasswordLength: 64", "        PasswordLength: 16");
    assert!(v.iter().any(|m| m.contains("shorter than 32")), "{v:?}");
    let v = mutate(
        "    Condition: CreatePiiTokenSecret\n    DeletionPolicy: Retain",
        "    Condition: CreatePiiTokenSecret\n    DeletionPolicy: Delete",
    );
    assert!(v.iter().any(|m| m.contains("would delete")), "{v:?}");
}

/// The logical ids of the functions that resources of `kind` invoke (Connect integrations, Firehose
/// Lambda processors).
fn invoked_functions<'a>(t: &'a Template, kind: &str) -> BTreeSet<&'a str> {
    let mut out = BTreeSet::new();
    for (_, r) in t.resources_of_type(kind) {
        match kind {
            "AWS::Connect::IntegrationAssociation" => {
                if let Some((id, _)) = at(r, &["Properties", "IntegrationArn"]).and_then(getatt_target) {
                    out.insert(id);
                }
            }
            _ => {
                let processors = at(
                    r,
                    &[
                        "Properties",
                        "ExtendedS3DestinationConfiguration",
                        "ProcessingConfiguration",
                        "Processors",
                    ],
                );
                for p in processors.and_then(Value::as_sequence).into_iter().flatten() {
                    for param in p.get("Parameters").and_then(Value::as_sequence).into_iter().flatten() {
                        if param.get("ParameterName").and_then(plain_str) == Some("LambdaArn")
                            && let Some((id, _)) = param.get("ParameterValue").and_then(getatt_target)
                        {
                            out.insert(id);
                        }
                    }
                }
            }
        }
    }
    out
}

fn timeout(t: &Template, id: &str) -> u64 {
    let f = t.resource(id).expect("function exists");
    at(f, &["Properties", "Timeout"])
        .or_else(|| at(t.section("Globals").expect("Globals"), &["Function", "Timeout"]))
        .and_then(Value::as_u64)
        .unwrap_or(3)
}

#[test]
fn function_timeouts_fit_their_callers() {
    let t = template();
    let transformers = invoked_functions(&t, "AWS::KinesisFirehose::DeliveryStream");
    assert!(
        transformers.contains("FirehoseTransformFunction"),
        "no delivery stream invokes firehose-transform"
    );
    for id in transformers {
        // Firehose waits at most 5 minutes for a transformation.
        assert!(timeout(&t, id) <= 300, "{id}: timeout over Firehose's 5 minutes");
    }
    for id in invoked_functions(&t, "AWS::Connect::IntegrationAssociation") {
        // Connect gives up after 8 seconds, its own retries included.
        assert!(timeout(&t, id) < 8, "{id}: timeout must stay under Connect's 8 seconds");
    }
}

#[test]
fn firehose_partitions_the_lake_as_the_shared_schema_parses_it() {
    let t = template();
    let key = |k: &str| format!("!{{partitionKeyFromLambda:{k}}}");
    let expected = PartitionValues {
        year: key("year"),
        month: key("month"),
        day: key("day"),
        hour: key("hour"),
    }
    .prefix(&key("table"));
    let mut dynamic = 0;
    for (id, r) in t.resources_of_type("AWS::KinesisFirehose::DeliveryStream") {
        let dest = at(r, &["Properties", "ExtendedS3DestinationConfiguration"]).expect("extended S3 destination");
        let error_prefix = dest.get("ErrorOutputPrefix").and_then(plain_str).unwrap_or_default();
        assert!(
            error_prefix.starts_with("errors/!{firehose:error-output-type}/"),
            "{id}: ErrorOutputPrefix {error_prefix}"
        );
        if at(dest, &["DynamicPartitioningConfiguration", "Enabled"]).and_then(Value::as_bool) != Some(true) {
            continue;
        }
        dynamic += 1;
        assert_eq!(
            dest.get("Prefix").and_then(plain_str),
            Some(expected.as_str()),
            "{id}: Prefix"
        );
        // Parquet conversion reads the schema of one of the template's Glue tables, with Snappy.
        let conversion = dest
            .get("DataFormatConversionConfiguration")
            .expect("DataFormatConversionConfiguration");
        let rendered = serde_yaml::to_string(conversion).unwrap_or_default();
        assert!(rendered.contains("SNAPPY"), "{id}: Parquet must be Snappy-compressed");
        assert!(
            rendered.contains("TableName"),
            "{id}: the conversion must name a Glue table"
        );
    }
    assert!(
        dynamic >= 2,
        "expected the ctr and agent_events delivery streams to partition dynamically"
    );
}

/// The Glue table a transformed delivery stream converts with, and the `EXPECTED_TABLES` entry
/// that makes firehose-transform fail records of the other kind on it. Returns the problems.
fn expected_table_problems(t: &Template) -> Vec<String> {
    let Some((_, function)) = functions(t)
        .into_iter()
        .find(|(id, _)| binary_name_for(id) == "firehose-transform")
    else {
        return vec!["no firehose-transform function".to_owned()];
    };
    let expected = at(function, &["Properties", "Environment", "Variables", "EXPECTED_TABLES"])
        .and_then(|v| intrinsic(v).map(|(_, arg)| arg).or(Some(v)))
        .and_then(plain_str)
        .unwrap_or_default()
        .to_owned();
    let mut problems = Vec::new();
    for (id, r) in t.resources_of_type("AWS::KinesisFirehose::DeliveryStream") {
        let Some(dest) = at(r, &["Properties", "ExtendedS3DestinationConfiguration"]) else {
            continue;
        };
        let rendered = serde_yaml::to_string(dest).unwrap_or_default();
        if !rendered.contains("FirehoseTransformFunction") {
            continue;
        }
        // The Glue table resource the Parquet conversion reads, e.g. CtrTable → ctr.
        let table = if rendered.contains("CtrTable") {
            "ctr"
        } else if rendered.contains("AgentEventsTable") {
            "agent_events"
        } else if rendered.contains("ConnectMetricsTable") {
            "connect_metrics"
        } else {
            problems.push(format!("{id}: converts with no known table"));
            continue;
        };
        let name = at(r, &["Properties", "DeliveryStreamName"])
            .and_then(|v| intrinsic(v).map(|(_, arg)| arg).or(Some(v)))
            .and_then(plain_str)
            .unwrap_or_default();
        if name.is_empty() {
            problems.push(format!("{id}: has no DeliveryStreamName for EXPECTED_TABLES to name"));
        } else if !expected.split(',').any(|pair| pair.trim() == format!("{name}={table}")) {
            problems.push(format!("{id}: EXPECTED_TABLES {expected:?} lacks {name}={table}"));
        }
    }
    problems
}

#[test]
fn each_transformed_delivery_stream_expects_the_table_it_converts_with() {
    let problems = expected_table_problems(&template());
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn the_expected_table_check_can_fail() {
    let text = std::fs::read_to_string(template_check::repo_root().join("template.yaml")).unwrap();
    let swapped = text.replace(
        "${AWS::StackName}-ctr=ctr,${AWS::StackName}-agent-events=agent_events",
        "${AWS::StackName}-ctr=agent_events,${AWS::StackName}-agent-events=ctr",
    );
    assert_ne!(swapped, text);
    let problems = expected_table_problems(&Template::parse(&swapped).unwrap());
    assert_eq!(problems.len(), 2, "{problems:#?}");
}
