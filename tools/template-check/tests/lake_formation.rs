//! Lake Formation (issue #11, point 4), behind the `LakeFormation` parameter: off by default, as
//! Lake Formation itself is; when on, an administrator is named, the lake bucket is registered,
//! an AnalystRole reads every declared table without its token and attribute columns, and the
//! pipeline's roles are granted exactly the catalog calls they make.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should say where

use std::collections::{BTreeSet, HashMap};

use template_check::rules::{parameter_defaults, rejected_by};
use template_check::{
    Template, Value, at, getatt_target, glue_views, intrinsic, plain_str, ref_target, string_or_list,
};

fn template() -> Template {
    Template::load().unwrap()
}

fn yaml(text: &str) -> Value {
    serde_yaml::from_str(text).unwrap()
}

const CONDITION: &str = "LakeFormationEnabled";

/// Columns an analyst must not see: HMAC tokens of phone numbers and e-mail addresses, and the
/// free-form attribute maps (values the classifier did not recognise are stored as they came).
fn sensitive(column: &str) -> bool {
    column.ends_with("_token") || column == "attributes" || column.ends_with("_attributes")
}

/// One `AWS::LakeFormation::PrincipalPermissions`: (principal role, resource kind, resource
/// body, permissions).
struct Grant<'a> {
    id: &'a str,
    role: Option<&'a str>,
    kind: &'a str,
    resource: &'a Value,
    permissions: BTreeSet<&'a str>,
}

fn grants(t: &Template) -> Vec<Grant<'_>> {
    t.resources_of_type("AWS::LakeFormation::PrincipalPermissions")
        .into_iter()
        .filter_map(|(id, r)| {
            let p = r.get("Properties")?;
            let role = at(p, &["Principal", "DataLakePrincipalIdentifier"])
                .and_then(getatt_target)
                .map(|(role, _)| role);
            let (kind, resource) = p.get("Resource")?.as_mapping()?.iter().next()?;
            Some(Grant {
                id,
                role,
                kind: kind.as_str()?,
                resource,
                permissions: p
                    .get("Permissions")
                    .and_then(string_or_list)
                    .unwrap_or_default()
                    .into_iter()
                    .collect(),
            })
        })
        .collect()
}

/// The declared Glue tables that hold data (not views), as (logical id, table name).
fn declared_tables(t: &Template) -> Vec<(&str, &str)> {
    t.resources_of_type("AWS::Glue::Table")
        .into_iter()
        .filter(|(_, r)| {
            at(r, &["Properties", "TableInput", "TableType"]).and_then(plain_str) == Some("EXTERNAL_TABLE")
        })
        .filter_map(|(id, r)| Some((id, at(r, &["Properties", "TableInput", "Name"]).and_then(plain_str)?)))
        .collect()
}

fn names_table(grant: &Grant, table_id: &str) -> bool {
    grant.resource.get("Name").and_then(ref_target) == Some(table_id)
        && grant.resource.get("DatabaseName").and_then(ref_target) == Some("GlueDatabase")
}

fn switch_problems(t: &Template) -> Vec<String> {
    let mut out = Vec::new();
    let defaults = parameter_defaults(t);
    if defaults.get("LakeFormation").map(String::as_str) != Some("Disabled") {
        out.push("LakeFormation must default to Disabled, as Lake Formation itself does".to_owned());
    }
    let mut on = defaults.clone();
    on.insert("LakeFormation".to_owned(), "Enabled".to_owned());
    if rejected_by(t, &on).unwrap().is_empty() {
        out.push("LakeFormation Enabled without LakeFormationAdminArn is accepted".to_owned());
    }
    on.insert(
        "LakeFormationAdminArn".to_owned(),
        "arn:aws:iam::123456789012:role/lake-admin".to_owned(),
    );
    let rejected = rejected_by(t, &on).unwrap();
    if !rejected.is_empty() {
        out.push(format!("LakeFormation with an admin is rejected: {rejected:?}"));
    }
    let guarded = ["AnalystRole", "LakeFormationDataAccessRole"];
    for (id, r) in t.resources() {
        let kind = r.get("Type").and_then(Value::as_str).unwrap_or_default();
        if (kind.starts_with("AWS::LakeFormation::") || guarded.contains(&id))
            && r.get("Condition").and_then(plain_str) != Some(CONDITION)
        {
            out.push(format!("{id}: must be created only with {CONDITION}"));
        }
        if kind == "AWS::LakeFormation::PrincipalPermissions" {
            let depends: Vec<&str> = match r.get("DependsOn") {
                Some(Value::Sequence(seq)) => seq.iter().filter_map(plain_str).collect(),
                Some(one) => plain_str(one).into_iter().collect(),
                None => Vec::new(),
            };
            if !depends.contains(&"LakeFormationAdmins") {
                out.push(format!("{id}: grant before the administrator exists"));
            }
        }
    }
    match t.resource("LakeFormationAdmins").and_then(|r| r.get("Properties")) {
        Some(p) if p.get("MutationType").and_then(plain_str) == Some("APPEND") => {}
        _ => out.push("LakeFormationAdmins must APPEND to the account's administrators, not replace them".to_owned()),
    }
    let location = t.resource("LakeLocation").and_then(|r| r.get("Properties"));
    if location.and_then(|p| p.get("ResourceArn")) != Some(&yaml("!GetAtt LakeBucket.Arn")) {
        out.push("LakeLocation must register the lake bucket".to_owned());
    }
    let db_default = t
        .resource("GlueDatabase")
        .and_then(|r| at(r, &["Properties", "DatabaseInput", "CreateTableDefaultPermissions"]));
    if db_default != Some(&yaml("!If [LakeFormationEnabled, [], !Ref AWS::NoValue]")) {
        out.push("GlueDatabase: with Lake Formation, new tables must get no IAMAllowedPrincipals grant".to_owned());
    }
    out
}

fn analyst_problems(t: &Template) -> Vec<String> {
    let mut out = Vec::new();
    let grants = grants(t);
    if !grants
        .iter()
        .any(|g| g.role == Some("AnalystRole") && g.kind == "Database" && g.permissions == BTreeSet::from(["DESCRIBE"]))
    {
        out.push("AnalystRole: no DESCRIBE on the database".to_owned());
    }
    for (id, name) in declared_tables(t) {
        let Some(table) = connect_lake::schema::table(name) else {
            out.push(format!("{id}: {name} is not a table of the shared schema"));
            continue;
        };
        let want: BTreeSet<&str> = table.columns.iter().map(|c| c.name).filter(|c| sensitive(c)).collect();
        let found: Vec<&Grant> = grants
            .iter()
            .filter(|g| g.role == Some("AnalystRole") && names_table(g, id))
            .collect();
        let [grant] = found.as_slice() else {
            out.push(format!(
                "AnalystRole: expected one grant on {name}, found {}",
                found.len()
            ));
            continue;
        };
        if grant.kind != "TableWithColumns" || grant.permissions != BTreeSet::from(["SELECT"]) {
            out.push(format!(
                "{}: analysts get SELECT on {name}'s columns, nothing else",
                grant.id
            ));
        }
        let excluded: BTreeSet<&str> = at(grant.resource, &["ColumnWildcard", "ExcludedColumnNames"])
            .and_then(string_or_list)
            .unwrap_or_default()
            .into_iter()
            .collect();
        if grant.resource.get("ColumnWildcard").is_none() {
            out.push(format!(
                "{}: select {name}'s columns by a wildcard with exclusions",
                grant.id
            ));
        }
        for column in want.difference(&excluded) {
            out.push(format!("{}: analysts can read {name}.{column}", grant.id));
        }
        for column in excluded.difference(&want) {
            out.push(format!(
                "{}: {name}.{column} is excluded but is not a token or attribute column",
                grant.id
            ));
        }
    }
    out
}

fn pipeline_problems(t: &Template) -> Vec<String> {
    let mut out = Vec::new();
    let grants = grants(t);
    let has = |role: &str, kind: &str, pred: &dyn Fn(&Grant) -> bool, perms: &[&str]| {
        grants.iter().any(|g| {
            g.role == Some(role) && g.kind == kind && pred(g) && perms.iter().all(|p| g.permissions.contains(p))
        })
    };
    let database = |g: &Grant| g.resource.get("Name").and_then(ref_target) == Some("GlueDatabase");
    if !has("S3CatalogerRole", "Database", &database, &["CREATE_TABLE", "DESCRIBE"]) {
        out.push("S3CatalogerRole: no CREATE_TABLE on the database".to_owned());
    }
    let location = |g: &Grant| g.resource.get("ResourceArn") == Some(&yaml("!GetAtt LakeBucket.Arn"));
    if !has("S3CatalogerRole", "DataLocation", &location, &["DATA_LOCATION_ACCESS"]) {
        out.push("S3CatalogerRole: no DATA_LOCATION_ACCESS on the lake bucket".to_owned());
    }
    for (id, name) in declared_tables(t) {
        if !has(
            "S3CatalogerRole",
            "Table",
            &|g| names_table(g, id),
            &["ALTER", "INSERT", "DESCRIBE"],
        ) {
            out.push(format!("S3CatalogerRole: cannot register partitions of {name}"));
        }
    }
    // Every Firehose record format conversion reads its table's schema with its role.
    for (id, stream) in t.resources_of_type("AWS::KinesisFirehose::DeliveryStream") {
        let Some(conversion) = at(
            stream,
            &[
                "Properties",
                "ExtendedS3DestinationConfiguration",
                "DataFormatConversionConfiguration",
            ],
        ) else {
            continue;
        };
        let text = serde_yaml::to_string(conversion).unwrap();
        let schema: Value = match conversion {
            Value::Tagged(tagged) => tagged.value[1]
                .get("SchemaConfiguration")
                .cloned()
                .unwrap_or(Value::Null),
            other => other.get("SchemaConfiguration").cloned().unwrap_or(Value::Null),
        };
        let table = schema.get("TableName").and_then(ref_target);
        let role = schema.get("RoleARN").and_then(getatt_target).map(|(r, _)| r);
        let (Some(table), Some(role)) = (table, role) else {
            out.push(format!("{id}: cannot read the conversion's table and role: {text}"));
            continue;
        };
        if !has(role, "Table", &|g| names_table(g, table), &["DESCRIBE"]) {
            out.push(format!("{role}: no DESCRIBE on {table}, which {id} converts with"));
        }
    }
    out
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

/// Grants cover only what the template and the schema declare, and every curated table of the
/// schema has what it needs:
/// - a table grant names its table by `!Ref` to an `AWS::Glue::Table` of the template (a table of
///   the schema, or a declared view), in the stack's database; never by a literal name (it fails
///   the deploy while the table does not exist, and outlives a rename unnoticed) nor by a
///   wildcard (it would cover tables no one reviewed);
/// - a declared table gets the analyst's SELECT, the cataloger's partition registration and the
///   DESCRIBE of the Firehose role that converts into it (see the two checks above); a schema
///   table the template does not declare is created at run time by the cataloger, which needs
///   CREATE_TABLE on the database and access to the lake location;
/// - Lake Formation's data access role reads exactly the schema tables' prefixes: every table
///   an engine is vended credentials for, and none of the raw data beside them.
fn coverage_problems(t: &Template) -> Vec<String> {
    let mut out = Vec::new();
    let grants = grants(t);
    let tables: BTreeSet<&str> = declared_tables(t).into_iter().map(|(id, _)| id).collect();
    let views: BTreeSet<String> = glue_views(t).into_iter().map(|(id, _)| id).collect();
    for g in &grants {
        match g.kind {
            "Table" | "TableWithColumns" => {
                if g.resource.get("TableWildcard").is_some() {
                    out.push(format!("{}: grants every table of the database by wildcard", g.id));
                    continue;
                }
                if g.resource.get("DatabaseName").and_then(ref_target) != Some("GlueDatabase") {
                    out.push(format!("{}: names a table outside the stack's database", g.id));
                }
                match g.resource.get("Name") {
                    Some(name) => match ref_target(name) {
                        Some(id) if tables.contains(id) || views.contains(id) => {}
                        Some(id) => out.push(format!(
                            "{}: names {id}, which is not a Glue table the template declares",
                            g.id
                        )),
                        None => out.push(format!(
                            "{}: names table {:?} by a literal, not by !Ref to a declared table",
                            g.id,
                            plain_str(name).unwrap_or("?")
                        )),
                    },
                    None => out.push(format!("{}: names no table", g.id)),
                }
            }
            "Database" if g.resource.get("Name").and_then(ref_target) != Some("GlueDatabase") => {
                out.push(format!("{}: names a database other than the stack's", g.id));
            }
            _ => {}
        }
    }
    let declared: BTreeSet<&str> = declared_tables(t).into_iter().map(|(_, name)| name).collect();
    let creates = grants
        .iter()
        .any(|g| g.role == Some("S3CatalogerRole") && g.kind == "Database" && g.permissions.contains("CREATE_TABLE"));
    let location = grants.iter().any(|g| {
        g.role == Some("S3CatalogerRole") && g.kind == "DataLocation" && g.permissions.contains("DATA_LOCATION_ACCESS")
    });
    for table in connect_lake::schema::TABLES {
        if !(declared.contains(table.name) || creates && location) {
            out.push(format!(
                "{}: not declared, and the cataloger may not create it (CREATE_TABLE and DATA_LOCATION_ACCESS)",
                table.name
            ));
        }
    }
    let prefixes: BTreeSet<String> = t
        .resource("LakeFormationDataAccessRole")
        .and_then(|r| r.get("Properties"))
        .and_then(|p| p.get("Policies"))
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(|p| at(p, &["PolicyDocument", "Statement"]).and_then(Value::as_sequence))
        .flatten()
        .filter(|s| {
            s.get("Action")
                .and_then(string_or_list)
                .is_some_and(|a| a.contains(&"s3:GetObject"))
        })
        .flat_map(|s| match s.get("Resource") {
            Some(Value::Sequence(seq)) => seq.iter().collect(),
            Some(one) => vec![one],
            None => Vec::new(),
        })
        .filter_map(sub_text)
        .filter_map(|arn| arn.strip_prefix("${LakeBucket.Arn}/"))
        .map(str::to_owned)
        .collect();
    let want: BTreeSet<String> = connect_lake::schema::TABLES
        .iter()
        .map(|t| format!("{}/*", t.name))
        .collect();
    for missing in want.difference(&prefixes) {
        out.push(format!(
            "LakeFormationDataAccessRole: cannot read {missing}, so engines cannot read that table"
        ));
    }
    for extra in prefixes.difference(&want) {
        out.push(format!(
            "LakeFormationDataAccessRole: reads {extra}, which is not a table of the schema"
        ));
    }
    out
}

#[test]
fn lake_formation_is_off_by_default_needs_an_admin_when_on_and_registers_the_lake() {
    assert_eq!(switch_problems(&template()), Vec::<String>::new());
}

#[test]
fn analysts_read_every_declared_table_without_its_token_and_attribute_columns() {
    assert_eq!(analyst_problems(&template()), Vec::<String>::new());
}

#[test]
fn the_pipeline_roles_are_granted_exactly_the_catalog_calls_they_make() {
    assert_eq!(pipeline_problems(&template()), Vec::<String>::new());
}

#[test]
fn grants_name_only_declared_tables_and_every_curated_table_is_covered() {
    assert_eq!(coverage_problems(&template()), Vec::<String>::new());
}

// ─── each check fails on a mutated template ─────────────────────────────────────────────────────

#[test]
fn a_token_column_left_readable_and_an_extra_exclusion_are_reported() {
    let mut t = template();
    let grant = t.resources_mut().unwrap().get_mut("AnalystCtrGrant").unwrap();
    let excluded = grant["Properties"]["Resource"]["TableWithColumns"]["ColumnWildcard"]["ExcludedColumnNames"]
        .as_sequence_mut()
        .unwrap();
    excluded.retain(|c| c.as_str() != Some("customer_endpoint_token"));
    excluded.push(Value::from("queue_name"));
    assert_eq!(
        analyst_problems(&t),
        [
            "AnalystCtrGrant: analysts can read ctr.customer_endpoint_token",
            "AnalystCtrGrant: ctr.queue_name is excluded but is not a token or attribute column"
        ]
    );
}

#[test]
fn a_declared_table_without_grants_is_reported() {
    let mut t = template();
    t.resources_mut().unwrap().remove("AnalystAgentEventsGrant");
    t.resources_mut().unwrap().remove("FirehoseAgentEventsSchemaGrant");
    assert_eq!(
        analyst_problems(&t),
        ["AnalystRole: expected one grant on agent_events, found 0"]
    );
    assert_eq!(
        pipeline_problems(&t),
        ["ConnectFirehoseRole: no DESCRIBE on AgentEventsTable, which AgentEventsDeliveryStream converts with"]
    );
}

#[test]
fn on_by_default_an_unconditional_grant_and_a_replaced_admin_list_are_reported() {
    let source = std::fs::read_to_string(template_check::repo_root().join("template.yaml")).unwrap();
    let mut root: Value = serde_yaml::from_str(&source).unwrap();
    root["Parameters"]["LakeFormation"]["Default"] = Value::from("Enabled");
    root["Resources"]["AnalystCtrGrant"]
        .as_mapping_mut()
        .unwrap()
        .remove("Condition");
    root["Resources"]["LakeFormationAdmins"]["Properties"]["MutationType"] = Value::from("REPLACE");
    let t = Template::parse(&serde_yaml::to_string(&root).unwrap()).unwrap();
    assert_eq!(
        switch_problems(&t),
        [
            "LakeFormation must default to Disabled, as Lake Formation itself does",
            "AnalystCtrGrant: must be created only with LakeFormationEnabled",
            "LakeFormationAdmins must APPEND to the account's administrators, not replace them"
        ]
    );
}

#[test]
fn the_sensitive_column_rule_matches_tokens_and_attribute_maps_only() {
    let columns: HashMap<&str, bool> = [
        ("customer_endpoint_token", true),
        ("attributes", true),
        ("segment_attributes", true),
        ("attribute_count", false),
        ("queue_name", false),
        ("tokens_used", false),
    ]
    .into();
    for (column, want) in columns {
        assert_eq!(sensitive(column), want, "{column}");
    }
}

#[test]
fn grants_on_undeclared_tables_wildcards_and_a_data_access_role_off_the_schema_are_reported() {
    let mut t = template();
    let grant = |resource: &str| {
        yaml(&format!(
            "Type: AWS::LakeFormation::PrincipalPermissions\nCondition: LakeFormationEnabled\n\
             DependsOn: LakeFormationAdmins\nProperties:\n  Principal:\n    \
             DataLakePrincipalIdentifier: !GetAtt AnalystRole.Arn\n  Resource:\n{resource}\n  \
             Permissions: [SELECT]\n  PermissionsWithGrantOption: []\n"
        ))
    };
    let resources = t.resources_mut().unwrap();
    resources.insert(
        yaml("AnalystSentimentGrant"),
        grant("    Table: { CatalogId: !Ref AWS::AccountId, DatabaseName: !Ref GlueDatabase, Name: sentiment_turns }"),
    );
    resources.insert(
        yaml("AnalystEverythingGrant"),
        grant("    Table: { CatalogId: !Ref AWS::AccountId, DatabaseName: !Ref GlueDatabase, TableWildcard: {} }"),
    );
    resources.insert(
        yaml("AnalystBucketGrant"),
        grant("    Table: { CatalogId: !Ref AWS::AccountId, DatabaseName: !Ref GlueDatabase, Name: !Ref LakeBucket }"),
    );
    let role = resources.get_mut("LakeFormationDataAccessRole").unwrap();
    for s in role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        .as_sequence_mut()
        .unwrap()
    {
        if s.get("Sid").and_then(plain_str) == Some("S3GetObject") {
            let r = s["Resource"].as_sequence_mut().unwrap();
            r.retain(|v| sub_text(v) != Some("${LakeBucket.Arn}/connect_flow_logs/*"));
            r.push(yaml("!Sub \"${LakeBucket.Arn}/errors/*\""));
        }
    }
    resources.remove("CatalogerLocationGrant");
    assert_eq!(
        coverage_problems(&t),
        [
            "AnalystBucketGrant: names LakeBucket, which is not a Glue table the template declares",
            "AnalystSentimentGrant: names table \"sentiment_turns\" by a literal, not by !Ref to a declared table",
            "AnalystEverythingGrant: grants every table of the database by wildcard",
            "sentiment_turns: not declared, and the cataloger may not create it (CREATE_TABLE and DATA_LOCATION_ACCESS)",
            "contact_sentiment: not declared, and the cataloger may not create it (CREATE_TABLE and DATA_LOCATION_ACCESS)",
            "fraud_decisions: not declared, and the cataloger may not create it (CREATE_TABLE and DATA_LOCATION_ACCESS)",
            "contact_flow_logs: not declared, and the cataloger may not create it (CREATE_TABLE and DATA_LOCATION_ACCESS)",
            "connect_flow_logs: not declared, and the cataloger may not create it (CREATE_TABLE and DATA_LOCATION_ACCESS)",
            "LakeFormationDataAccessRole: cannot read connect_flow_logs/*, so engines cannot read that table",
            "LakeFormationDataAccessRole: reads errors/*, which is not a table of the schema"
        ]
    );
}
