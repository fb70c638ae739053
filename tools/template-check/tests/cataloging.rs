//! Every table of the shared schema reaches the s3-cataloger: its objects' events are routed to the
//! cataloger's queue, and the cataloger's role may create the table and its partitions.
//!
//! An object in an unregistered partition is invisible to Athena, so a table whose prefix is not
//! routed (as `fraud_decisions/` and `contact_flow_logs/` once were) is a table nobody can query.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should say where

use connect_lake::schema::TABLES;
use template_check::{PolicyKind, Template, Value, at, getatt_target, intrinsic, plain_str, policy_statements};

const CATALOGER: &str = "S3CatalogerFunction";

/// The text of a plain string or of a `!Sub` string.
fn text(value: &Value) -> Option<&str> {
    plain_str(value).or_else(|| match intrinsic(value)? {
        (name, arg) if name == "Sub" => plain_str(arg),
        _ => None,
    })
}

fn list(value: Option<&Value>) -> Vec<&Value> {
    match value {
        Some(Value::Sequence(seq)) => seq.iter().collect(),
        Some(single) => vec![single],
        None => Vec::new(),
    }
}

/// What keeps an object of a schema table from being cataloged.
fn routing_problems(t: &Template) -> Vec<String> {
    let mut out = Vec::new();
    let Some(function) = t.resource(CATALOGER) else {
        return vec![format!("no {CATALOGER}")];
    };
    let queues: Vec<&str> = at(function, &["Properties", "Events"])
        .and_then(Value::as_mapping)
        .into_iter()
        .flatten()
        .filter(|(_, e)| e.get("Type").and_then(Value::as_str) == Some("SQS"))
        .filter_map(|(_, e)| getatt_target(at(e, &["Properties", "Queue"])?).map(|(id, _)| id))
        .collect();
    let [queue] = queues.as_slice() else {
        return vec![format!("{CATALOGER} must have one SQS event source, has {queues:?}")];
    };
    let rules: Vec<(&str, &Value)> = t
        .resources_of_type("AWS::Events::Rule")
        .into_iter()
        .filter(|(_, r)| {
            list(at(r, &["Properties", "Targets"]))
                .iter()
                .any(|target| target.get("Arn").and_then(getatt_target) == Some((queue, "Arn")))
        })
        .collect();
    if rules.is_empty() {
        out.push(format!("no EventBridge rule targets {queue}"));
    }
    let mut prefixes = Vec::new();
    for (id, rule) in &rules {
        let pattern = at(rule, &["Properties", "EventPattern"]);
        let detail_type = pattern.and_then(|p| p.get("detail-type"));
        if !list(detail_type).iter().any(|d| plain_str(d) == Some("Object Created")) {
            out.push(format!("{id}: detail-type is not Object Created"));
        }
        let bucket = pattern.and_then(|p| at(p, &["detail", "bucket", "name"]));
        if !list(bucket)
            .iter()
            .any(|b| template_check::ref_target(b) == Some("LakeBucket"))
        {
            out.push(format!("{id}: not filtered to the lake bucket"));
        }
        for key in list(pattern.and_then(|p| at(p, &["detail", "object", "key"]))) {
            if let Some(prefix) = key.get("prefix").and_then(plain_str) {
                prefixes.push(prefix.to_owned());
            }
        }
        // EventBridge may send to the queue only when the queue policy allows this rule.
        let allowed = policy_statements(t).iter().any(|s| {
            s.kind == PolicyKind::Resource
                && s.is_allow()
                && s.statement.get("Action").and_then(plain_str) == Some("sqs:SendMessage")
                && s.statement.get("Resource").and_then(getatt_target) == Some((queue, "Arn"))
                && at(s.statement, &["Condition", "ArnEquals", "aws:SourceArn"]).and_then(getatt_target)
                    == Some((id, "Arn"))
        });
        if !allowed {
            out.push(format!("{queue}'s policy does not let {id} send to it"));
        }
    }
    for table in TABLES {
        let prefix = format!("{}/", table.name);
        if !prefixes.contains(&prefix) {
            out.push(format!("objects under {prefix} are not routed to {queue}"));
        }
    }
    out
}

/// The Glue actions the cataloger needs, each of which must cover every table of the schema.
const GLUE_TABLE_ACTIONS: [&str; 4] = [
    "glue:GetTable",
    "glue:CreateTable",
    "glue:UpdateTable",
    "glue:BatchCreatePartition",
];

fn permission_problems(t: &Template) -> Vec<String> {
    let role = t
        .resource(CATALOGER)
        .and_then(|f| at(f, &["Properties", "Role"]))
        .and_then(getatt_target)
        .map(|(id, _)| id);
    let Some(role) = role else {
        return vec![format!("{CATALOGER} has no Role: !GetAtt <role>.Arn")];
    };
    let statements = policy_statements(t);
    let mut out = Vec::new();
    for action in GLUE_TABLE_ACTIONS {
        let resources: Vec<&str> = statements
            .iter()
            .filter(|s| s.holder == role && s.kind == PolicyKind::Identity && s.is_allow())
            .filter(|s| {
                list(s.statement.get("Action"))
                    .iter()
                    .any(|a| plain_str(a) == Some(action))
            })
            .flat_map(|s| list(s.statement.get("Resource")))
            .filter_map(text)
            .collect();
        for table in TABLES {
            let covered = resources.iter().any(|r| {
                r.ends_with(":table/${GlueDatabase}/*")
                    || r.ends_with(&format!(":table/${{GlueDatabase}}/{}", table.name))
            });
            if !covered {
                out.push(format!("{role} does not allow {action} on table {}", table.name));
            }
        }
    }
    out
}

#[test]
fn every_schema_table_prefix_is_routed_to_the_cataloger_queue() {
    let t = Template::load().unwrap();
    assert_eq!(routing_problems(&t), Vec::<String>::new());
}

#[test]
fn the_cataloger_may_create_every_schema_table_and_its_partitions() {
    let t = Template::load().unwrap();
    assert_eq!(permission_problems(&t), Vec::<String>::new());
}

#[test]
fn a_table_prefix_missing_from_the_rule_is_reported() {
    let text = std::fs::read_to_string(template_check::repo_root().join("template.yaml")).unwrap();
    let line = "              - prefix: fraud_decisions/\n";
    assert!(text.contains(line));
    let t = Template::parse(&text.replacen(line, "", 1)).unwrap();
    assert_eq!(
        routing_problems(&t),
        ["objects under fraud_decisions/ are not routed to S3CatalogerQueue"]
    );
}

#[test]
fn glue_permissions_narrowed_to_some_tables_are_reported() {
    let text = std::fs::read_to_string(template_check::repo_root().join("template.yaml")).unwrap();
    // The CreateTable statement names each table; drop fraud_decisions from it.
    let from = ":table/${GlueDatabase}/fraud_decisions\"\n";
    let create = text.find("Sid: GlueCreateTable").expect("the CreateTable statement");
    let at = create
        + text[create..]
            .find(from)
            .expect("fraud_decisions in the CreateTable statement");
    let line_start = text[..at].rfind('\n').unwrap() + 1;
    let mutated = format!("{}{}", &text[..line_start], &text[at + from.len()..]);
    let t = Template::parse(&mutated).unwrap();
    assert_eq!(
        permission_problems(&t),
        ["S3CatalogerRole does not allow glue:CreateTable on table fraud_decisions"]
    );
}
