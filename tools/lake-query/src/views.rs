//! Amazon Connect's managed-lake tables (`contact_record`, `contact_statistic_record`, ...) as
//! views over the lake's own tables, so dashboards and AWS's reference queries written for the
//! managed lake run here unmodified.
//!
//! Each view is one SQL file in `views/` at the repository root: the single definition. This
//! module registers it with every [`LakeQuery`](crate::LakeQuery) session, and `template-check`
//! generates the template's Glue `VIRTUAL_VIEW` tables (what Athena reads) from the same file and
//! the column types [`view_columns`] plans here. The SQL is Athena (Trino) SQL; where DataFusion
//! needs a rewrite, the session does it (as for any query), never a second copy of the SQL.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, FieldRef, Schema, TimeUnit};
use datafusion::catalog::TableProvider;
use datafusion::catalog::view::ViewTable;
use datafusion::datasource::MemTable;
use datafusion::execution::context::{SessionConfig, SessionContext};
use datafusion::logical_expr::LogicalPlan;
use datafusion::sql::parser::Statement as DfStatement;

use crate::{QueryError, params, trino, unnest};

/// One managed-lake table offered as a view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct View {
    /// The managed lake's table name.
    pub name: &'static str,
    /// The file under `views/` that defines it.
    pub file: &'static str,
    /// The Athena (Trino) SQL, a single `SELECT` over unqualified table names.
    pub sql: &'static str,
    /// What it holds, for the catalog's description.
    pub description: &'static str,
}

/// The views, in dependency order: a view reads only tables and the views listed before it.
pub static VIEWS: &[View] = &[
    View {
        name: "contact_record",
        file: "views/contact_record.sql",
        sql: include_str!("../../../views/contact_record.sql"),
        description: "Amazon Connect managed-lake contact_record: the latest copy of each contact in ctr",
    },
    View {
        name: "contact_statistic_record",
        file: "views/contact_statistic_record.sql",
        sql: include_str!("../../../views/contact_statistic_record.sql"),
        description: "Amazon Connect managed-lake contact_statistic_record: per-contact flags and durations",
    },
    View {
        name: "contact_lens_conversational_analytics",
        file: "views/contact_lens_conversational_analytics.sql",
        sql: include_str!("../../../views/contact_lens_conversational_analytics.sql"),
        description: "Amazon Connect managed-lake contact_lens_conversational_analytics, from contact_sentiment",
    },
    View {
        name: "contact_flow_events",
        file: "views/contact_flow_events.sql",
        sql: include_str!("../../../views/contact_flow_events.sql"),
        description: "Amazon Connect managed-lake contact_flow_events: flow executions from connect_flow_logs",
    },
];

/// The view called `name`.
pub fn view(name: &str) -> Option<&'static View> {
    VIEWS.iter().find(|v| v.name == name)
}

/// Plans a view's SQL in the session, as a query would be planned (Trino rewrites included).
pub(crate) async fn plan(ctx: &SessionContext, view: &View) -> Result<LogicalPlan, QueryError> {
    let mut statement = params::parse(view.sql)?;
    unnest::rewrite(&mut statement);
    ctx.state()
        .statement_to_plan(DfStatement::Statement(Box::new(statement)))
        .await
        .map_err(|e| QueryError::Plan {
            message: format!("view {} ({}): {}", view.name, view.file, e.strip_backtrace()),
        })
}

/// Plans every view in order and hands each to `register`. A view over a table the catalog lacks
/// (a lake with contact records but no sentiment yet) is left out, as the table is: it cannot be
/// planned, and listing it would break `SHOW TABLES` and `information_schema` for the others.
pub(crate) async fn register_all(ctx: &SessionContext, mut register: impl FnMut(&'static str, Arc<dyn TableProvider>)) {
    for view in VIEWS {
        match plan(ctx, view).await {
            Ok(plan) => register(view.name, Arc::new(ViewTable::new(plan, Some(view.sql.to_owned())))),
            Err(e) => tracing::debug!(view = view.name, error = %e, "view not offered: a table it reads is missing"),
        }
    }
}

/// The columns of every view, as DataFusion plans it over the tables of the shared schema
/// (`connect_lake::schema::TABLES`, partition keys included): the names and types the template's
/// Glue views declare.
///
/// # Errors
/// [`QueryError::Plan`] or [`QueryError::Syntax`] when a view's SQL does not plan over the shared
/// schema (an unknown column or table, a function the engine lacks).
pub fn view_columns() -> Result<Vec<(&'static View, Vec<FieldRef>)>, QueryError> {
    futures::executor::block_on(async {
        let ctx =
            SessionContext::new_with_config(SessionConfig::new().set_str("datafusion.sql_parser.dialect", "generic"));
        trino::register(&ctx);
        for table in connect_lake::schema::TABLES {
            let fields: Vec<FieldRef> = table
                .columns
                .iter()
                .chain(table.partition_keys())
                .map(|c| {
                    Arc::new(datafusion::arrow::datatypes::Field::new(
                        c.name,
                        c.kind.arrow_type(),
                        true,
                    ))
                })
                .collect();
            let provider =
                MemTable::try_new(Arc::new(Schema::new(fields)), vec![vec![]]).map_err(|e| QueryError::Plan {
                    message: format!("table {}: {e}", table.name),
                })?;
            ctx.register_table(table.name, Arc::new(provider))
                .map_err(|e| QueryError::Plan { message: e.to_string() })?;
        }
        let mut out = Vec::new();
        for view in VIEWS {
            let plan = plan(&ctx, view).await?;
            let fields: Vec<FieldRef> = plan.schema().fields().iter().cloned().collect();
            let provider = ViewTable::new(plan, Some(view.sql.to_owned()));
            ctx.register_table(view.name, Arc::new(provider))
                .map_err(|e| QueryError::Plan { message: e.to_string() })?;
            out.push((view, fields));
        }
        Ok(out)
    })
}

/// A column type as Glue (Hive DDL) and as a Presto view's JSON spell it, for the types views
/// produce; `None` for a type the views must not produce (the template check then fails).
pub fn glue_and_presto_type(data_type: &DataType) -> Option<(String, String)> {
    let pair = |glue: &str, presto: &str| Some((glue.to_owned(), presto.to_owned()));
    match data_type {
        DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 => pair("string", "varchar"),
        DataType::Int64 => pair("bigint", "bigint"),
        DataType::Int32 => pair("int", "integer"),
        DataType::Float64 => pair("double", "double"),
        DataType::Boolean => pair("boolean", "boolean"),
        DataType::Timestamp(TimeUnit::Millisecond, None) => pair("timestamp", "timestamp(3)"),
        DataType::Map(entries, _) => {
            let DataType::Struct(fields) = entries.data_type() else {
                return None;
            };
            let [key, value] = fields.iter().collect::<Vec<_>>()[..] else {
                return None;
            };
            let (key_glue, key_presto) = glue_and_presto_type(key.data_type())?;
            let (value_glue, value_presto) = glue_and_presto_type(value.data_type())?;
            Some((
                format!("map<{key_glue},{value_glue}>"),
                format!("map({key_presto},{value_presto})"),
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// The views' names with the tables each reads directly, for messages.
    fn dependencies() -> BTreeMap<&'static str, Vec<&'static str>> {
        VIEWS
            .iter()
            .map(|v| {
                let reads = connect_lake::schema::TABLES
                    .iter()
                    .map(|t| t.name)
                    .chain(VIEWS.iter().map(|w| w.name))
                    .filter(|name| *name != v.name && mentions(v.sql, name))
                    .collect();
                (v.name, reads)
            })
            .collect()
    }

    /// Whether `sql` names `table` as a whole word (after FROM or JOIN).
    fn mentions(sql: &str, table: &str) -> bool {
        let lower = sql.to_ascii_lowercase();
        ["from ", "join "].iter().any(|kw| {
            lower.contains(&format!("{kw}{table}")) && {
                let needle = format!("{kw}{table}");
                lower.match_indices(&needle).any(|(i, _)| {
                    lower[i + needle.len()..]
                        .chars()
                        .next()
                        .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'))
                })
            }
        })
    }

    #[test]
    fn every_view_plans_over_the_shared_schema_with_types_glue_can_declare() {
        let views = view_columns().unwrap();
        assert_eq!(views.len(), VIEWS.len());
        for (view, fields) in views {
            for f in &fields {
                assert!(
                    glue_and_presto_type(f.data_type()).is_some(),
                    "{}.{}: {}",
                    view.name,
                    f.name(),
                    f.data_type()
                );
            }
            let names: Vec<&str> = fields.iter().map(|f| f.name().as_str()).collect();
            for key in ["year", "month", "day", "hour"] {
                assert!(names.contains(&key), "{} exposes the partition column {key}", view.name);
            }
        }
    }

    #[test]
    fn views_read_only_tables_and_earlier_views() {
        let deps = dependencies();
        assert_eq!(deps["contact_record"], ["ctr"]);
        assert_eq!(deps["contact_statistic_record"], ["contact_record"]);
        assert_eq!(
            deps["contact_lens_conversational_analytics"],
            ["contact_sentiment", "contact_record"]
        );
        assert_eq!(deps["contact_flow_events"], ["connect_flow_logs", "contact_record"]);
        for (i, v) in VIEWS.iter().enumerate() {
            for dep in &deps[v.name] {
                if let Some(j) = VIEWS.iter().position(|w| w.name == *dep) {
                    assert!(j < i, "{} reads {dep}, which must come before it", v.name);
                }
            }
        }
    }

    #[test]
    fn managed_lake_types_map_to_glue_and_presto() {
        assert_eq!(
            glue_and_presto_type(&DataType::Timestamp(TimeUnit::Millisecond, None)),
            Some(("timestamp".to_owned(), "timestamp(3)".to_owned()))
        );
        let map = connect_lake::schema::HiveType::Map(
            &connect_lake::schema::HiveType::String,
            &connect_lake::schema::HiveType::String,
        )
        .arrow_type();
        assert_eq!(
            glue_and_presto_type(&map),
            Some(("map<string,string>".to_owned(), "map(varchar,varchar)".to_owned()))
        );
        assert_eq!(glue_and_presto_type(&DataType::UInt64), None);
    }
}
