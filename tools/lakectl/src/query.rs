//! `lakectl query`: SQL over the lake through the Glue catalog (the [`lake_query`] engine), and
//! the template's Athena named queries, run unmodified.
//!
//! ```text
//! lakectl query [--database D] [--output table|csv|json] 'SQL'
//! lakectl query [--database D] [--output ...] --named NAME (--month YYYY-MM | --param V ...)
//! lakectl query --list
//! ```
//!
//! The named queries take Athena execution parameters (`?`): the year and month of each table
//! they read, in order. `--month 2026-03` fills every pair; `--param` gives them one by one.

use std::time::Duration;

use aws_config::SdkConfig;
use lake_query::{LakeQuery, QueryError, QueryResult};

/// The template the named queries come from, as this binary was built with it.
pub const TEMPLATE: &str = include_str!("../../../template.yaml");

/// An Athena named query of the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedQuery {
    pub name: String,
    pub description: String,
    pub sql: String,
}

/// Why `lakectl query` failed. Every message says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum QueryCliError {
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error("no named query {name:?} in template.yaml; known: {known}")]
    UnknownNamed { name: String, known: String },
    #[error("template.yaml: {0}")]
    Template(String),
    #[error("--month must be YYYY-MM, got {0:?}")]
    BadMonth(String),
    #[error("named query {name} takes {takes} parameters (year, month per table it reads); --month fills them")]
    OddParameters { name: String, takes: usize },
}

/// The output format of a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Output {
    #[default]
    Table,
    Csv,
    Json,
}

impl std::str::FromStr for Output {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "table" => Ok(Output::Table),
            "csv" => Ok(Output::Csv),
            "json" => Ok(Output::Json),
            other => Err(format!("expected table, csv or json, got {other:?}")),
        }
    }
}

/// Renders a result in `output` form.
///
/// # Errors
/// A value the formatter cannot render.
pub fn render(result: &QueryResult, output: Output) -> Result<String, QueryError> {
    match output {
        Output::Table => result.to_table(),
        Output::Csv => result.to_csv(),
        Output::Json => result.to_json(),
    }
}

/// Every `AWS::Athena::NamedQuery` of a template's text, in template order.
///
/// # Errors
/// The text is not YAML, or a named query's fields are not plain strings.
pub fn named_queries(template: &str) -> Result<Vec<NamedQuery>, QueryCliError> {
    let parsed = template_check::Template::parse(template).map_err(|e| QueryCliError::Template(e.to_string()))?;
    let queries = template_check::named_queries(&parsed).map_err(QueryCliError::Template)?;
    Ok(queries
        .into_iter()
        .map(|q| NamedQuery {
            name: q.name,
            description: q.description,
            sql: q.query,
        })
        .collect())
}

/// The schema tables a query reads (not its CTEs), by the same SQL analysis `template-check`
/// holds the named queries to. Empty when the SQL does not parse.
pub fn tables_read(sql: &str) -> Vec<&'static str> {
    let mut tables: Vec<&'static str> = template_check::sql::analyze(sql)
        .map(|a| a.tables.iter().map(|t| t.table).collect())
        .unwrap_or_default();
    tables.sort_unstable();
    tables.dedup();
    tables
}

/// The schema tables `sql` reads that are not among `have` (a catalog's table names).
pub fn missing_tables(sql: &str, have: &[String]) -> Vec<&'static str> {
    tables_read(sql)
        .into_iter()
        .filter(|t| !have.iter().any(|h| h == t))
        .collect()
}

/// The named query called `name`.
///
/// # Errors
/// [`QueryCliError::UnknownNamed`], listing the known names.
pub fn named(template: &str, name: &str) -> Result<NamedQuery, QueryCliError> {
    let all = named_queries(template)?;
    let known = all.iter().map(|q| q.name.as_str()).collect::<Vec<_>>().join(", ");
    all.into_iter()
        .find(|q| q.name == name)
        .ok_or_else(|| QueryCliError::UnknownNamed {
            name: name.to_owned(),
            known,
        })
}

/// The parameters of a named query for one month: (`YYYY`, `MM`) repeated once per table the
/// query reads.
///
/// # Errors
/// A month not in `YYYY-MM` form, or a query whose parameters do not come in pairs.
pub fn month_params(query: &NamedQuery, month: &str) -> Result<Vec<String>, QueryCliError> {
    let bad = || QueryCliError::BadMonth(month.to_owned());
    let (year, mm) = month.split_once('-').ok_or_else(bad)?;
    let valid = year.len() == 4
        && mm.len() == 2
        && year.bytes().chain(mm.bytes()).all(|b| b.is_ascii_digit())
        && matches!(mm.parse::<u8>(), Ok(1..=12));
    if !valid {
        return Err(bad());
    }
    let takes = LakeQuery::parameter_count(&query.sql)?;
    if !takes.is_multiple_of(2) {
        return Err(QueryCliError::OddParameters {
            name: query.name.clone(),
            takes,
        });
    }
    Ok((0..takes / 2).flat_map(|_| [year.to_owned(), mm.to_owned()]).collect())
}

/// One named query's run, for the demo's consumption stage.
#[derive(Debug, Clone)]
pub struct NamedRun {
    pub name: String,
    pub rows: usize,
    pub elapsed: Duration,
    /// The result as a text table, at most `preview_rows` rows.
    pub preview: String,
    /// The result as JSON rows, for checks.
    pub json: String,
}

/// A named query the lake cannot answer yet: it reads a table the catalog does not have (the
/// demo feeds no CloudWatch metric stream and no native flow logs, so `connect_metrics` and
/// `connect_flow_logs` are absent there, as they are in a deployment before their data arrives).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedSkip {
    pub name: String,
    pub missing_tables: Vec<&'static str>,
}

/// Runs every named query of `template` for `month` against the lake, except those that read a
/// table the catalog lacks, which are returned as [`NamedSkip`]s, never silently dropped.
///
/// # Errors
/// The first query that fails, named.
pub async fn run_all_named(
    config: &SdkConfig,
    database: &str,
    template: &str,
    month: &str,
    preview_rows: usize,
) -> Result<(Vec<NamedRun>, Vec<NamedSkip>), QueryCliError> {
    let lake = LakeQuery::connect(config, database).await?;
    let have = lake.tables();
    let mut runs = Vec::new();
    let mut skipped = Vec::new();
    for query in named_queries(template)? {
        let missing_tables = missing_tables(&query.sql, &have);
        if !missing_tables.is_empty() {
            skipped.push(NamedSkip {
                name: query.name,
                missing_tables,
            });
            continue;
        }
        let params = month_params(&query, month)?;
        let result = lake.sql_with_params(&query.sql, &params).await?;
        let table = result.to_table()?;
        // The table has three border/header lines above the rows and one below.
        let lines: Vec<&str> = table.lines().collect();
        let preview = if lines.len() > preview_rows + 4 {
            let mut kept: Vec<&str> = lines.iter().take(preview_rows + 3).copied().collect();
            kept.extend(lines.last().copied());
            format!("{}\n({} more rows)", kept.join("\n"), result.rows() - preview_rows)
        } else {
            table.clone()
        };
        runs.push(NamedRun {
            name: query.name,
            rows: result.rows(),
            elapsed: result.elapsed,
            preview,
            json: result.to_json()?,
        });
    }
    Ok((runs, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_templates_named_queries_are_found_and_take_year_month_pairs() {
        let all = named_queries(TEMPLATE).unwrap();
        assert!(all.len() >= 5, "{all:?}");
        for q in &all {
            let params = month_params(q, "2026-03").unwrap();
            assert!(!params.is_empty(), "{} is windowed by parameters", q.name);
            assert_eq!(params[..2], ["2026".to_owned(), "03".to_owned()]);
        }
        let fraud = named(TEMPLATE, "fraud-decisions-by-level").unwrap();
        assert!(fraud.sql.contains("fraud_decisions"));
    }

    #[test]
    fn bad_names_and_months_are_clear_errors() {
        let err = named(TEMPLATE, "no-such-query").unwrap_err().to_string();
        assert!(
            err.contains("no-such-query") && err.contains("fraud-decisions-by-level"),
            "{err}"
        );
        let q = named(TEMPLATE, "fraud-decisions-by-level").unwrap();
        for bad in ["2026", "2026-13", "26-03", "2026-3", "march"] {
            assert!(
                matches!(month_params(&q, bad), Err(QueryCliError::BadMonth(_))),
                "{bad}"
            );
        }
        assert!("xml".parse::<Output>().is_err());
        assert!(named_queries("Resources: [").is_err());
    }
}
