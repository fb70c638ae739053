//! The template's Glue views (Athena's copy of the managed-lake views), generated from the one
//! SQL definition of each view (`views/*.sql`, [`lake_query::views::VIEWS`]).
//!
//! Athena reads a Glue table with `TableType: VIRTUAL_VIEW`, `ViewExpandedText: /* Presto View */`
//! and `ViewOriginalText: /* Presto View: <base64 of a JSON document> */`, the JSON holding the
//! SQL (`originalSql`), the catalog and database it resolves names in, and the columns with their
//! Trino types; the Glue columns carry the Hive types. The template builds the base64 at deploy
//! time (`Fn::Base64` of an `Fn::Sub` that fills in the database name). The column types are the
//! ones DataFusion plans for the SQL over the shared schema, the engine `lakectl query` runs it in.
//!
//! `cargo run -q -p template-check --bin glue-views` prints the block; the `glue_views` test fails
//! while the block in `template.yaml` differs from [`template_block`].

use std::fmt::Write as _;

use lake_query::views::{View, glue_and_presto_type, view_columns};

/// The command that prints the block.
pub const COMMAND: &str = "cargo run -q -p template-check --bin glue-views";

/// The first line of the generated block in `template.yaml`.
pub const BEGIN: &str = "  # BEGIN managed-lake views: generated from views/*.sql by";
/// The last line of the generated block.
pub const END: &str = "  # END managed-lake views";

/// `contact_record` → `ContactRecordView`.
pub fn logical_id(view: &View) -> String {
    let mut id: String = view
        .name
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect();
    id.push_str("View");
    id
}

/// A YAML single-quoted scalar.
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The Presto view document of a view, with `${GlueDatabase}` where the database name goes.
///
/// # Errors
/// A message when the SQL contains `${` (which `Fn::Sub` would read as a substitution) or a column
/// has a type a Glue view cannot declare.
pub fn presto_view_json(view: &View, columns: &[(String, String, String)]) -> Result<String, String> {
    if view.sql.contains("${") {
        return Err(format!("{}: `${{` would be read by Fn::Sub", view.file));
    }
    // Written key by key, in a fixed order: a `json!` map's order depends on whether some crate
    // in the build enables serde_json's `preserve_order`, and the template must not.
    let text = |s: &str| serde_json::Value::from(s).to_string();
    let columns: Vec<String> = columns
        .iter()
        .map(|(name, _, presto)| format!(r#"{{"name":{},"type":{}}}"#, text(name), text(presto)))
        .collect();
    Ok(format!(
        r#"{{"catalog":"awsdatacatalog","columns":[{}],"originalSql":{},"schema":"${{GlueDatabase}}"}}"#,
        columns.join(","),
        text(view.sql.trim_end())
    ))
}

/// The generated block of `template.yaml`: one `AWS::Glue::Table` view per [`View`], between the
/// [`BEGIN`] and [`END`] lines.
///
/// # Errors
/// A message when a view does not plan over the shared schema or has a column type a Glue view
/// cannot declare.
pub fn template_block() -> Result<String, String> {
    let views = view_columns().map_err(|e| e.to_string())?;
    let mut out = String::new();
    let _ = writeln!(out, "{BEGIN} `{COMMAND}`.");
    out.push_str("  # Do not edit: change the SQL file and run the command. lakectl query registers the same SQL.\n");
    for (view, fields) in views {
        let columns = fields
            .iter()
            .map(|f| {
                let (glue, presto) = glue_and_presto_type(f.data_type()).ok_or_else(|| {
                    format!(
                        "{}.{}: type {} has no Glue spelling",
                        view.name,
                        f.name(),
                        f.data_type()
                    )
                })?;
                Ok((f.name().clone(), glue, presto))
            })
            .collect::<Result<Vec<_>, String>>()?;
        let json = presto_view_json(view, &columns)?;
        let _ = writeln!(out, "\n  {}:", logical_id(view));
        out.push_str("    Type: AWS::Glue::Table\n    Properties:\n");
        out.push_str("      CatalogId: !Ref AWS::AccountId\n      DatabaseName: !Ref GlueDatabase\n");
        out.push_str("      TableInput:\n");
        let _ = writeln!(out, "        Name: {}", view.name);
        let _ = writeln!(out, "        Description: {}", quoted(view.description));
        out.push_str("        TableType: VIRTUAL_VIEW\n");
        out.push_str("        Parameters:\n          presto_view: \"true\"\n          comment: Presto View\n");
        out.push_str("        ViewExpandedText: /* Presto View */\n");
        out.push_str("        ViewOriginalText: !Join\n          - \"\"\n");
        out.push_str("          - - \"/* Presto View: \"\n");
        let _ = writeln!(out, "            - Fn::Base64: !Sub {}", quoted(&json));
        out.push_str("            - \" */\"\n");
        out.push_str("        StorageDescriptor:\n          SerdeInfo: {}\n          Columns:\n");
        for (name, glue, _) in &columns {
            let _ = writeln!(out, "            - {{ Name: {name}, Type: {} }}", quoted(glue));
        }
    }
    out.push_str(END);
    out.push('\n');
    Ok(out)
}

/// The generated block as `template.yaml` holds it: from the [`BEGIN`] line through the [`END`]
/// line, or `None` when the markers are missing.
pub fn block_in(template_text: &str) -> Option<&str> {
    let start = template_text.find(BEGIN)?;
    let end = start + template_text[start..].find(END)? + END.len();
    let end = template_text[end..]
        .find('\n')
        .map_or(template_text.len(), |n| end + n + 1);
    Some(&template_text[start..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logical_ids_are_pascal_case() {
        let v = lake_query::views::view("contact_statistic_record").unwrap();
        assert_eq!(logical_id(v), "ContactStatisticRecordView");
    }

    #[test]
    fn the_block_is_found_between_its_markers() {
        let text = format!("a\n{BEGIN} x\n  body\n{END}\nb\n");
        assert_eq!(block_in(&text), Some(&text[2..text.len() - 2]));
        assert_eq!(block_in("no markers"), None);
    }
}
