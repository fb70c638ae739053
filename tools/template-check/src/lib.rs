//! Reads `template.yaml` so that tests can hold it to the rest of the project.
//!
//! The template is the one place where the lake is described as infrastructure; its Glue tables
//! must match the shared schema (`connect_lake::schema`), and its functions and policies must follow
//! the project's conventions. This crate has no runtime role: it is a library of small accessors
//! over the parsed YAML, and its tests (`tests/`) are the checks.
//!
//! CloudFormation short-form tags (`!Ref X`, `!GetAtt A.B`, `!Sub ...`, `!If [...]`) arrive from
//! `serde_yaml` as tagged values; the long forms (`Ref: X`, `Fn::GetAtt: [A, B]`) as one-key maps.
//! [`intrinsic`] reads both the same way.

use std::fmt;
use std::path::{Path, PathBuf};

pub use serde_yaml::Value;

pub mod metrics;
pub mod rules;
pub mod sql;
pub mod tables_doc;
pub mod views;

/// The repository root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Why the template could not be read.
#[derive(Debug)]
pub enum LoadError {
    Io(PathBuf, std::io::Error),
    Yaml(PathBuf, serde_yaml::Error),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Io(path, e) => write!(f, "cannot read {}: {e}", path.display()),
            LoadError::Yaml(path, e) => write!(f, "{} is not valid YAML: {e}", path.display()),
        }
    }
}

impl std::error::Error for LoadError {}

/// A parsed CloudFormation / SAM template.
#[derive(Debug, Clone)]
pub struct Template {
    root: Value,
}

impl Template {
    /// Reads `template.yaml` at the repository root.
    ///
    /// # Errors
    /// [`LoadError`] when the file is missing or is not YAML.
    pub fn load() -> Result<Self, LoadError> {
        let path = repo_root().join("template.yaml");
        let text = std::fs::read_to_string(&path).map_err(|e| LoadError::Io(path.clone(), e))?;
        Self::parse(&text).map_err(|e| LoadError::Yaml(path, e))
    }

    /// Parses template text.
    ///
    /// # Errors
    /// The YAML error, when the text is not YAML.
    pub fn parse(text: &str) -> Result<Self, serde_yaml::Error> {
        Ok(Template {
            root: serde_yaml::from_str(text)?,
        })
    }

    /// A top-level section (`Resources`, `Globals`, `Parameters`, ...).
    pub fn section(&self, name: &str) -> Option<&Value> {
        self.root.get(name)
    }

    /// The resources, for tests that mutate a template to prove a check can fail.
    pub fn resources_mut(&mut self) -> Option<&mut serde_yaml::Mapping> {
        self.root.get_mut("Resources")?.as_mapping_mut()
    }

    /// Every resource as (logical id, resource body), in template order.
    pub fn resources(&self) -> Vec<(&str, &Value)> {
        self.section("Resources")
            .and_then(Value::as_mapping)
            .map(|m| m.iter().filter_map(|(k, v)| Some((k.as_str()?, v))).collect())
            .unwrap_or_default()
    }

    /// The resource with this logical id.
    pub fn resource(&self, logical_id: &str) -> Option<&Value> {
        self.section("Resources")?.get(logical_id)
    }

    /// The `Type` of the resource with this logical id.
    pub fn resource_type(&self, logical_id: &str) -> Option<&str> {
        self.resource(logical_id)?.get("Type")?.as_str()
    }

    /// Resources of one type, as (logical id, resource body).
    pub fn resources_of_type(&self, kind: &str) -> Vec<(&str, &Value)> {
        self.resources()
            .into_iter()
            .filter(|(_, r)| r.get("Type").and_then(Value::as_str) == Some(kind))
            .collect()
    }
}

/// Follows a path of mapping keys.
pub fn at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(value, |v, key| v.get(*key))
}

/// A plain string: not an intrinsic. (`serde_yaml`'s own `as_str` looks through tags, so it
/// would read `!Ref X` as `"X"`.)
pub fn plain_str(value: &Value) -> Option<&str> {
    match value {
        Value::String(s) => Some(s),
        _ => None,
    }
}

/// An intrinsic function call, short or long form: `("Ref", argument)`, `("GetAtt", argument)`,
/// `("Sub", argument)`, `("If", argument)`, ... (the `Fn::` prefix dropped).
pub fn intrinsic(value: &Value) -> Option<(String, &Value)> {
    match value {
        Value::Tagged(tagged) => Some((tagged.tag.to_string().trim_start_matches('!').to_owned(), &tagged.value)),
        Value::Mapping(map) if map.len() == 1 => {
            let (k, v) = map.iter().next()?;
            let key = k.as_str()?;
            if key == "Ref" || key == "Condition" {
                Some((key.to_owned(), v))
            } else {
                key.strip_prefix("Fn::").map(|name| (name.to_owned(), v))
            }
        }
        _ => None,
    }
}

/// The logical id named by `!Ref X` (or `Ref: X`).
pub fn ref_target(value: &Value) -> Option<&str> {
    match intrinsic(value)? {
        (name, arg) if name == "Ref" => arg.as_str(),
        _ => None,
    }
}

/// The (logical id, attribute) named by `!GetAtt X.Attr` (or `Fn::GetAtt: [X, Attr]`).
pub fn getatt_target(value: &Value) -> Option<(&str, &str)> {
    match intrinsic(value)? {
        (name, Value::String(s)) if name == "GetAtt" => s.split_once('.'),
        (name, Value::Sequence(seq)) if name == "GetAtt" && seq.len() == 2 => {
            Some((seq[0].as_str()?, seq[1].as_str()?))
        }
        _ => None,
    }
}

/// A value that is one string or a list of strings (IAM `Action`), as a list. `None` when any
/// element is not a plain string.
pub fn string_or_list(value: &Value) -> Option<Vec<&str>> {
    match value {
        Value::String(s) => Some(vec![s.as_str()]),
        Value::Sequence(seq) => seq.iter().map(plain_str).collect(),
        _ => None,
    }
}

/// Where a policy document sits, and what kind it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// An identity policy attached to a role (or an IAM policy resource).
    Identity,
    /// A role's trust policy.
    Trust,
    /// A resource policy: bucket, queue, topic or key policy.
    Resource,
}

/// One statement of a policy document in the template.
#[derive(Debug, Clone)]
pub struct PolicyStatement<'a> {
    /// Logical id of the resource that holds the policy.
    pub holder: &'a str,
    pub kind: PolicyKind,
    pub statement: &'a Value,
}

impl PolicyStatement<'_> {
    /// `Sid`, or `?` when the statement has none.
    pub fn sid(&self) -> &str {
        self.statement.get("Sid").and_then(Value::as_str).unwrap_or("?")
    }

    /// Whether the statement allows (as opposed to denies).
    pub fn is_allow(&self) -> bool {
        self.statement.get("Effect").and_then(Value::as_str) == Some("Allow")
    }
}

fn statements_of<'a>(holder: &'a str, kind: PolicyKind, document: &'a Value, out: &mut Vec<PolicyStatement<'a>>) {
    match document.get("Statement") {
        Some(Value::Sequence(seq)) => {
            out.extend(seq.iter().map(|statement| PolicyStatement {
                holder,
                kind,
                statement,
            }));
        }
        Some(single @ Value::Mapping(_)) => out.push(PolicyStatement {
            holder,
            kind,
            statement: single,
        }),
        _ => {}
    }
}

/// Every policy statement in the template: role trust and inline policies, IAM policy resources,
/// SAM function `Policies`, and bucket, queue, topic and key policies.
pub fn policy_statements(template: &Template) -> Vec<PolicyStatement<'_>> {
    let mut out = Vec::new();
    for (id, resource) in template.resources() {
        let kind = resource.get("Type").and_then(Value::as_str).unwrap_or_default();
        let Some(props) = resource.get("Properties") else {
            continue;
        };
        match kind {
            "AWS::IAM::Role" => {
                if let Some(doc) = props.get("AssumeRolePolicyDocument") {
                    statements_of(id, PolicyKind::Trust, doc, &mut out);
                }
                for policy in props.get("Policies").and_then(Value::as_sequence).into_iter().flatten() {
                    if let Some(doc) = policy.get("PolicyDocument") {
                        statements_of(id, PolicyKind::Identity, doc, &mut out);
                    }
                }
            }
            "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy" => {
                if let Some(doc) = props.get("PolicyDocument") {
                    statements_of(id, PolicyKind::Identity, doc, &mut out);
                }
            }
            "AWS::Serverless::Function" => {
                for policy in props.get("Policies").and_then(Value::as_sequence).into_iter().flatten() {
                    statements_of(id, PolicyKind::Identity, policy, &mut out);
                }
            }
            "AWS::S3::BucketPolicy" | "AWS::SQS::QueuePolicy" | "AWS::SNS::TopicPolicy" => {
                if let Some(doc) = props.get("PolicyDocument") {
                    statements_of(id, PolicyKind::Resource, doc, &mut out);
                }
            }
            "AWS::KMS::Key" => {
                if let Some(doc) = props.get("KeyPolicy") {
                    statements_of(id, PolicyKind::Resource, doc, &mut out);
                }
            }
            _ => {}
        }
    }
    out
}

/// A column as a Glue table in the template declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredColumn {
    pub name: String,
    pub kind: String,
    pub comment: Option<String>,
}

/// A Glue table as the template declares it.
#[derive(Debug, Clone)]
pub struct DeclaredTable {
    pub logical_id: String,
    pub name: String,
    pub columns: Vec<DeclaredColumn>,
    pub partition_keys: Vec<DeclaredColumn>,
}

fn columns(logical_id: &str, what: &str, value: Option<&Value>) -> Result<Vec<DeclaredColumn>, String> {
    let seq = value
        .and_then(Value::as_sequence)
        .ok_or_else(|| format!("{logical_id}: {what} is missing or not a plain list"))?;
    seq.iter()
        .enumerate()
        .map(|(i, c)| {
            let field = |key: &str| c.get(key).and_then(plain_str).map(str::to_owned);
            Ok(DeclaredColumn {
                name: field("Name").ok_or_else(|| format!("{logical_id}: {what}[{i}] has no plain Name"))?,
                kind: field("Type").ok_or_else(|| format!("{logical_id}: {what}[{i}] has no plain Type"))?,
                comment: field("Comment"),
            })
        })
        .collect()
}

/// Every `AWS::Glue::Table` of the template that is a table (not a `VIRTUAL_VIEW`: those are
/// [`glue_views`]), with its columns and partition keys.
///
/// # Errors
/// A message naming the resource when a table's name, columns or partition keys are not written
/// as plain values (the check needs literal names and types).
pub fn glue_tables(template: &Template) -> Result<Vec<DeclaredTable>, String> {
    template
        .resources_of_type("AWS::Glue::Table")
        .into_iter()
        .filter(|(_, resource)| !is_view(resource))
        .map(|(id, resource)| {
            let input = at(resource, &["Properties", "TableInput"]).ok_or_else(|| format!("{id}: no TableInput"))?;
            let name = input
                .get("Name")
                .and_then(plain_str)
                .ok_or_else(|| format!("{id}: TableInput.Name must be a plain string"))?;
            Ok(DeclaredTable {
                logical_id: id.to_owned(),
                name: name.to_owned(),
                columns: columns(
                    id,
                    "StorageDescriptor.Columns",
                    at(input, &["StorageDescriptor", "Columns"]),
                )?,
                partition_keys: columns(id, "PartitionKeys", input.get("PartitionKeys"))?,
            })
        })
        .collect()
}

fn is_view(resource: &Value) -> bool {
    at(resource, &["Properties", "TableInput", "TableType"]).and_then(plain_str) == Some("VIRTUAL_VIEW")
}

/// The logical ids and names of the template's Glue views (`TableType: VIRTUAL_VIEW`).
pub fn glue_views(template: &Template) -> Vec<(String, String)> {
    template
        .resources_of_type("AWS::Glue::Table")
        .into_iter()
        .filter(|(_, resource)| is_view(resource))
        .map(|(id, resource)| {
            let name = at(resource, &["Properties", "TableInput", "Name"])
                .and_then(plain_str)
                .unwrap_or_default();
            (id.to_owned(), name.to_owned())
        })
        .collect()
}

/// An `AWS::Athena::NamedQuery` as the template declares it.
#[derive(Debug, Clone)]
pub struct NamedQuery {
    pub logical_id: String,
    pub name: String,
    pub description: String,
    pub query: String,
}

/// Every `AWS::Athena::NamedQuery` of the template.
///
/// # Errors
/// A message naming the resource when its name, description or query string is not a plain
/// string (the checks need the literal SQL).
pub fn named_queries(template: &Template) -> Result<Vec<NamedQuery>, String> {
    template
        .resources_of_type("AWS::Athena::NamedQuery")
        .into_iter()
        .map(|(id, resource)| {
            let field = |key: &str| {
                at(resource, &["Properties", key])
                    .and_then(plain_str)
                    .map(str::to_owned)
                    .ok_or_else(|| format!("{id}: Properties.{key} must be a plain string"))
            };
            Ok(NamedQuery {
                logical_id: id.to_owned(),
                name: field("Name")?,
                description: field("Description")?,
                query: field("QueryString")?,
            })
        })
        .collect()
}

/// `FirehoseTransformFunction` → `firehose-transform`, `S3CatalogerFunction` → `s3-cataloger`.
pub fn binary_name_for(logical_id: &str) -> String {
    let stem = logical_id.strip_suffix("Function").unwrap_or(logical_id);
    let mut out = String::with_capacity(stem.len() + 4);
    let mut previous: Option<char> = None;
    for c in stem.chars() {
        if c.is_ascii_uppercase() && previous.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit()) {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
        previous = Some(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_intrinsics_read_the_same() {
        let t = Template::parse(
            "Resources:\n  A:\n    Type: X\n    Properties:\n      Short: !Ref B\n      Long: { Ref: B }\n      \
             AttShort: !GetAtt B.Arn\n      AttLong: { 'Fn::GetAtt': [B, Arn] }\n",
        )
        .unwrap();
        let props = at(t.resource("A").unwrap(), &["Properties"]).unwrap();
        assert_eq!(ref_target(props.get("Short").unwrap()), Some("B"));
        assert_eq!(ref_target(props.get("Long").unwrap()), Some("B"));
        assert_eq!(getatt_target(props.get("AttShort").unwrap()), Some(("B", "Arn")));
        assert_eq!(getatt_target(props.get("AttLong").unwrap()), Some(("B", "Arn")));
    }

    #[test]
    fn binary_names_are_the_kebab_case_of_the_logical_id() {
        assert_eq!(binary_name_for("FirehoseTransformFunction"), "firehose-transform");
        assert_eq!(binary_name_for("S3CatalogerFunction"), "s3-cataloger");
        assert_eq!(binary_name_for("ContactFlowLoggerFunction"), "contact-flow-logger");
    }

    #[test]
    fn glue_tables_with_computed_names_are_reported_not_skipped() {
        let t = Template::parse(
            "Resources:\n  T:\n    Type: AWS::Glue::Table\n    Properties:\n      TableInput:\n        \
             Name: !Sub '${P}_ctr'\n",
        )
        .unwrap();
        let err = glue_tables(&t).unwrap_err();
        assert!(err.contains("T: TableInput.Name"), "{err}");
    }
}
