//! The Athena named queries, parsed as SQL and held to the shared schema and to partition pruning.
//!
//! Every query must name only tables of `connect_lake::schema` (or its own CTEs) and only columns
//! those tables have; it must prune each table it reads to one month with `year = ? AND month = ?`
//! (bare partition columns, which Athena pushes down to Glue), parameters in that order, one pair
//! per table reference, as its Description says; and it must stay inside the SQL that both Athena
//! (Trino) and `lakectl query` (DataFusion) run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should say where

use template_check::sql::{Analysis, analyze};
use template_check::{NamedQuery, Template, named_queries};

fn queries() -> Vec<NamedQuery> {
    let template = Template::load().unwrap();
    let queries = named_queries(&template).unwrap();
    assert!(queries.len() >= 6, "the template's named queries: {}", queries.len());
    queries
}

fn query(logical_id: &str) -> String {
    queries()
        .into_iter()
        .find(|q| q.logical_id == logical_id)
        .unwrap_or_else(|| panic!("no named query {logical_id}"))
        .query
}

fn problems(sql: &str) -> Vec<String> {
    analyze(sql)
        .unwrap_or_else(|e| panic!("does not parse: {e}\n{sql}"))
        .problems
}

/// `text` with `from` replaced once; panics if `from` is not there (a mutation that changes nothing
/// would make its test pass for the wrong reason).
fn mutate(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "`{from}` is not in the query:\n{text}");
    text.replacen(from, to, 1)
}

/// What is wrong with a query's partition pruning and its parameters.
fn pruning_problems(q: &NamedQuery, a: &Analysis) -> Vec<String> {
    let mut out = Vec::new();
    if a.tables.is_empty() {
        out.push("reads no table of the schema".to_owned());
    }
    let bindings: Vec<String> = a
        .parameter_bindings()
        .iter()
        .map(|b| match b {
            Some((t, key)) => format!("{}.{key}", t.name),
            None => "? that is not a partition comparison".to_owned(),
        })
        .collect();
    let expected: Vec<String> = a
        .tables
        .iter()
        .flat_map(|t| [format!("{}.year", t.name), format!("{}.month", t.name)])
        .collect();
    if bindings != expected {
        out.push(format!("parameters bind {bindings:?}, expected {expected:?}"));
    }
    for (i, t) in a.tables.iter().enumerate() {
        for f in a.filters_of(i) {
            if f.parameter.is_none() {
                out.push(format!(
                    "{}.{} = {}: a fixed value, not a parameter",
                    t.name, f.key, f.value
                ));
            }
        }
    }
    let pairs = q.description.matches("year 'YYYY', month 'MM'").count();
    if !q.description.contains("Parameters: ") || pairs != a.tables.len() {
        out.push(format!(
            "the Description must say `Parameters: year 'YYYY', month 'MM'` once per table reference \
             ({} of them), it says it {pairs} times",
            a.tables.len()
        ));
    }
    out
}

/// Functions both engines have: standard SQL aggregates and scalars, and the Trino functions
/// `lakectl query` registers.
const PORTABLE_FUNCTIONS: &[&str] = &[
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "round",
    "abs",
    "coalesce",
    "nullif",
    "concat",
    "lower",
    "upper",
    "row_number",
    "rank",
    "dense_rank",
    "count_if",
    "date_diff",
    "approx_percentile",
    "from_iso8601_timestamp",
    "date_format",
    "cardinality",
    "slice",
    "element_at",
    "contains",
    "to_unixtime",
    "json_extract_scalar",
];

#[test]
fn every_named_query_reads_only_schema_tables_and_their_columns() {
    let mut failures = Vec::new();
    for q in queries() {
        match analyze(&q.query) {
            Ok(a) => failures.extend(a.problems.iter().map(|p| format!("{}: {p}", q.logical_id))),
            Err(e) => failures.push(format!("{}: does not parse: {e}", q.logical_id)),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn every_named_query_prunes_each_table_it_reads_to_the_month_its_parameters_name() {
    let mut failures = Vec::new();
    for q in queries() {
        let a = analyze(&q.query).unwrap();
        failures.extend(
            pruning_problems(&q, &a)
                .into_iter()
                .map(|p| format!("{}: {p}", q.logical_id)),
        );
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn every_named_query_uses_only_functions_both_engines_have_and_no_lambdas() {
    for q in queries() {
        let a = analyze(&q.query).unwrap();
        let foreign: Vec<&String> = a
            .functions
            .iter()
            .filter(|f| !PORTABLE_FUNCTIONS.contains(&f.as_str()))
            .collect();
        assert!(foreign.is_empty(), "{}: {foreign:?}", q.logical_id);
        assert_eq!(a.lambdas, 0, "{}", q.logical_id);
    }
}

#[test]
fn every_table_the_lake_catalogs_has_a_named_query_except_the_sentiment_summary() {
    let read: std::collections::BTreeSet<&str> = queries()
        .iter()
        .flat_map(|q| analyze(&q.query).unwrap().tables)
        .map(|t| t.table)
        .collect();
    for table in ["ctr", "sentiment_turns", "fraud_decisions", "contact_flow_logs"] {
        assert!(read.contains(table), "no named query reads {table}: {read:?}");
    }
}

// ─── the check fails on mutated queries ────────────────────────────────────────────────────────

#[test]
fn an_unknown_table_is_reported() {
    let sql = mutate(
        &query("FraudDecisionsQuery"),
        "FROM fraud_decisions d",
        "FROM fraud_decision d",
    );
    let p = problems(&sql);
    assert!(p.iter().any(|p| p.contains("unknown table `fraud_decision`")), "{p:?}");
    assert_eq!(p.len(), 1, "one mistake, one problem: {p:?}");
}

#[test]
fn an_unknown_unqualified_column_is_reported() {
    let sql = mutate(
        &query("AverageHandleTimeQuery"),
        "avg(handle_time_s)",
        "avg(handling_time_s)",
    );
    let p = problems(&sql);
    assert_eq!(p, ["unknown column `handling_time_s`: no table of the query has it"]);
}

#[test]
fn a_misspelled_qualified_column_is_reported() {
    let sql = mutate(
        &query("SentimentByAgentQuery"),
        "SELECT l.agent_username,",
        "SELECT l.agent_usename,",
    );
    let p = problems(&sql);
    assert_eq!(
        p,
        ["unknown column `l.agent_usename`: `l` has no column `agent_usename`"]
    );
}

#[test]
fn a_column_of_the_table_but_not_of_the_cte_is_reported() {
    // `latest` in this query keeps only contact_id, agent_username and copy_rank.
    let sql = mutate(
        &query("SentimentByAgentQuery"),
        "AND l.agent_username IS NOT NULL",
        "AND l.queue_name IS NOT NULL",
    );
    assert_eq!(
        problems(&sql),
        ["unknown column `l.queue_name`: `l` has no column `queue_name`"]
    );
}

#[test]
fn an_unknown_qualifier_is_reported() {
    let sql = mutate(
        &query("DenyListHitsQuery"),
        "count_if(f.deny_list",
        "count_if(g.deny_list",
    );
    assert_eq!(
        problems(&sql),
        ["unknown column `g.deny_list`: no table or column `g` in scope"]
    );
}

#[test]
fn a_struct_field_the_schema_lacks_is_reported() {
    let ok = "SELECT d.features.oli_class, features.hop_count FROM fraud_decisions d";
    assert!(problems(ok).is_empty(), "{:?}", problems(ok));
    let p = problems("SELECT d.features.oli_klass FROM fraud_decisions d");
    assert_eq!(
        p,
        ["unknown field `d.features.oli_klass`: the struct has no field `oli_klass`"]
    );
}

#[test]
fn a_filter_on_concatenated_partition_columns_fails_the_pruning_check() {
    let q = queries()
        .into_iter()
        .find(|q| q.logical_id == "LatestContactsQuery")
        .unwrap();
    let a = analyze(&q.query).unwrap();
    assert!(pruning_problems(&q, &a).is_empty());
    let mut pinned = q.clone();
    pinned.query = mutate(
        &q.query,
        "c.year = ? AND c.month = ?",
        "concat(c.year, c.month, c.day) >= date_format(current_date - INTERVAL '7' DAY, '%Y%m%d')",
    );
    let a = analyze(&pinned.query).unwrap();
    assert!(a.problems.is_empty(), "{:?}", a.problems);
    let p = pruning_problems(&pinned, &a);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].contains(r#"parameters bind [], expected ["c.year", "c.month"]"#),
        "{p:?}"
    );
}

#[test]
fn parameters_out_of_order_or_fixed_values_fail_the_pruning_check() {
    let q = queries()
        .into_iter()
        .find(|q| q.logical_id == "SentimentByAgentQuery")
        .unwrap();
    let swapped = NamedQuery {
        query: mutate(&q.query, "c.year = ? AND c.month = ?", "c.month = ? AND c.year = ?"),
        ..q.clone()
    };
    let p = pruning_problems(&swapped, &analyze(&swapped.query).unwrap());
    assert!(
        p.iter()
            .any(|p| p.contains(r#"parameters bind ["c.month", "c.year", "t.year", "t.month"]"#)),
        "{p:?}"
    );
    let fixed = NamedQuery {
        query: mutate(
            &q.query,
            "t.year = ? AND t.month = ?",
            "t.year = '2026' AND t.month = ?",
        ),
        ..q.clone()
    };
    let p = pruning_problems(&fixed, &analyze(&fixed.query).unwrap());
    assert!(p.iter().any(|p| p.contains("t.year = '2026': a fixed value")), "{p:?}");
    let undocumented = NamedQuery {
        description: "no parameters said".to_owned(),
        ..q
    };
    let p = pruning_problems(&undocumented, &analyze(&undocumented.query).unwrap());
    assert!(p.iter().any(|p| p.contains("Description")), "{p:?}");
}

#[test]
fn a_trino_only_lambda_or_function_is_caught() {
    let a = analyze("SELECT transform(reasons, x -> upper(x)) FROM fraud_decisions").unwrap();
    assert_eq!(a.lambdas, 1);
    assert!(a.functions.contains("transform"));
    assert!(!PORTABLE_FUNCTIONS.contains(&"transform"));
    assert!(
        a.problems.iter().any(|p| p.starts_with("unknown column `x`")),
        "{:?}",
        a.problems
    );
    let a =
        analyze("SELECT try(CAST(risk_score AS int)), format_datetime(now(), 'yyyy') FROM fraud_decisions").unwrap();
    assert!(a.functions.contains("try") && a.functions.contains("format_datetime"));
}

// ─── scoping rules of the check itself ─────────────────────────────────────────────────────────

#[test]
fn cte_projections_subquery_aliases_and_output_aliases_are_columns_where_sql_says_so() {
    let good = [
        // A CTE's projection, including an inner alias, with the CTE renamed.
        "WITH x AS (SELECT contact_id, count(*) AS n FROM ctr GROUP BY contact_id) SELECT y.n FROM x y",
        // CTE column list.
        "WITH x (id) AS (SELECT contact_id FROM ctr) SELECT id FROM x",
        // A derived table's alias and column list; VALUES.
        "SELECT p.n, q.k FROM (VALUES (1), (2)) AS p (n) JOIN (SELECT queue_name AS k FROM ctr) q ON q.k = 'x'",
        // UNNEST with a column alias sees the table to its left.
        "SELECT r.reason FROM fraud_decisions d CROSS JOIN UNNEST(d.reasons) AS r (reason)",
        // An output alias in ORDER BY; partition keys are columns.
        "SELECT concat(year, month) AS ym FROM ctr WHERE day = '01' ORDER BY ym",
        // A correlated subquery sees the outer table.
        "SELECT contact_id FROM ctr c WHERE EXISTS (SELECT 1 FROM sentiment_turns t WHERE t.contact_id = c.contact_id)",
        // A wildcard through a CTE keeps the table's columns.
        "WITH x AS (SELECT * FROM contact_flow_logs) SELECT parameters, attribute_keys FROM x",
        // A quoted reserved word.
        "SELECT from_iso8601_timestamp(\"timestamp\") FROM fraud_decisions",
    ];
    for sql in good {
        assert_eq!(problems(sql), Vec::<String>::new(), "{sql}");
    }
    let bad = [
        (
            "SELECT count(*) AS n FROM ctr WHERE n > 1",
            "unknown column `n`: no table of the query has it",
        ),
        (
            "WITH x AS (SELECT contact_id FROM ctr) SELECT queue_name FROM x",
            "unknown column `queue_name`: no table of the query has it",
        ),
        (
            "SELECT contact_id FROM ctr c JOIN sentiment_turns t ON t.contact_id = c.contact_id",
            "ambiguous column `contact_id`: in c, t",
        ),
        (
            "SELECT x.queue_name FROM (SELECT contact_id FROM ctr) x",
            "unknown column `x.queue_name`: `x` has no column `queue_name`",
        ),
        ("SELECT * FROM lake.not_a_table", "unknown table `not_a_table`"),
        (
            "SELECT reason FROM fraud_decisions d CROSS JOIN UNNEST(d.reason) AS r (reason)",
            "unknown column `d.reason`: `d` has no column `reason`",
        ),
    ];
    for (sql, expected) in bad {
        let p = problems(sql);
        assert!(p.iter().any(|p| p.starts_with(expected)), "{sql}: {p:?}");
    }
}

#[test]
fn text_that_is_not_sql_is_an_error_not_a_pass() {
    assert!(analyze("SELEC contact_id FROM ctr").is_err());
    assert!(!problems("DELETE FROM ctr").is_empty());
}
