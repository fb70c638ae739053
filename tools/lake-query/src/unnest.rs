//! Trino's array flattening, `FROM t CROSS JOIN UNNEST(t.arr) AS u(x)` (or `FROM t, UNNEST(...)`),
//! which DataFusion 55 parses but cannot execute (a lateral reference to `t`). The join is
//! rewritten in the parsed statement to the select-list form DataFusion runs:
//!
//! ```sql
//! FROM (SELECT t.*, unnest(t.arr) AS x FROM t) AS t
//! ```
//!
//! and `u.x` references become `t.x`. Both drop rows whose array is empty or null, as Trino's
//! CROSS JOIN does. Only one array with one column alias, right after the table it reads, is
//! rewritten; other forms are left to DataFusion (which explains what it does not support).

use datafusion::sql::sqlparser::ast::{
    Expr, Ident, JoinOperator, Query, Select, SetExpr, Statement, TableFactor, visit_expressions_mut,
};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;
use std::ops::ControlFlow;

/// `u.x` is now `t.x`.
struct Rename {
    unnest_alias: Ident,
    column: Ident,
    table: Ident,
}

/// Rewrites every rewritable `CROSS JOIN UNNEST` of the statement.
pub fn rewrite(statement: &mut Statement) {
    let mut renames = Vec::new();
    if let Statement::Query(q) = statement {
        query(q, &mut renames);
    }
    if renames.is_empty() {
        return;
    }
    let _ = visit_expressions_mut(statement, |e| {
        if let Expr::CompoundIdentifier(parts) = e
            && let [first, second] = parts.as_slice()
            && let Some(r) = renames
                .iter()
                .find(|r| same(first, &r.unnest_alias) && same(second, &r.column))
        {
            *e = Expr::CompoundIdentifier(vec![r.table.clone(), r.column.clone()]);
        }
        ControlFlow::<()>::Continue(())
    });
}

fn same(a: &Ident, b: &Ident) -> bool {
    a.value.eq_ignore_ascii_case(&b.value)
}

fn query(q: &mut Query, renames: &mut Vec<Rename>) {
    if let Some(with) = q.with.as_mut() {
        for cte in &mut with.cte_tables {
            query(&mut cte.query, renames);
        }
    }
    set_expr(&mut q.body, renames);
}

fn set_expr(s: &mut SetExpr, renames: &mut Vec<Rename>) {
    match s {
        SetExpr::Select(select_box) => select(select_box, renames),
        SetExpr::Query(q) => query(q, renames),
        SetExpr::SetOperation { left, right, .. } => {
            set_expr(left, renames);
            set_expr(right, renames);
        }
        _ => {}
    }
}

fn factor(f: &mut TableFactor, renames: &mut Vec<Rename>) {
    if let TableFactor::Derived { subquery, .. } = f {
        query(subquery, renames);
    }
}

fn select(s: &mut Select, renames: &mut Vec<Rename>) {
    for from in &mut s.from {
        factor(&mut from.relation, renames);
        for join in &mut from.joins {
            factor(&mut join.relation, renames);
        }
    }
    // `t CROSS JOIN UNNEST(...)`: the UNNEST is the first join of t.
    for from in &mut s.from {
        while from
            .joins
            .first()
            .is_some_and(|j| matches!(j.join_operator, JoinOperator::CrossJoin(_)))
        {
            let Some(replaced) = flattened(&from.relation, &from.joins[0].relation) else {
                break;
            };
            from.joins.remove(0);
            from.relation = replaced.0;
            renames.push(replaced.1);
        }
    }
    // `t, UNNEST(...)`.
    let mut i = 0;
    while i + 1 < s.from.len() {
        let rewritten = (s.from[i].joins.is_empty() && s.from[i + 1].joins.is_empty())
            .then(|| flattened(&s.from[i].relation, &s.from[i + 1].relation))
            .flatten();
        match rewritten {
            Some((relation, rename)) => {
                s.from.remove(i + 1);
                s.from[i].relation = relation;
                renames.push(rename);
            }
            None => i += 1,
        }
    }
}

/// `(SELECT t.*, unnest(expr) AS x FROM t) AS t`, for a table `t` followed by
/// `UNNEST(expr) AS u(x)`.
fn flattened(table: &TableFactor, unnest: &TableFactor) -> Option<(TableFactor, Rename)> {
    let TableFactor::UNNEST {
        alias: Some(alias),
        array_exprs,
        with_offset: false,
        with_offset_alias: None,
        with_ordinality: false,
    } = unnest
    else {
        return None;
    };
    let ([array], [column]) = (array_exprs.as_slice(), alias.columns.as_slice()) else {
        return None;
    };
    let name = match table {
        TableFactor::Table { alias: Some(a), .. } | TableFactor::Derived { alias: Some(a), .. } => a.name.clone(),
        TableFactor::Table { name, alias: None, .. } => name.0.last()?.as_ident()?.clone(),
        _ => return None,
    };
    let sql = format!(
        "SELECT * FROM (SELECT {name}.*, unnest({array}) AS {column} FROM {table}) AS {name}",
        column = column.name
    );
    let mut parsed = Parser::parse_sql(&GenericDialect {}, &sql).ok()?;
    let Some(Statement::Query(q)) = parsed.pop() else {
        return None;
    };
    let SetExpr::Select(select) = *q.body else {
        return None;
    };
    let relation = select.from.into_iter().next()?.relation;
    Some((
        relation,
        Rename {
            unnest_alias: alias.name.clone(),
            column: column.name.clone(),
            table: name,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::parse;

    fn rewritten(sql: &str) -> String {
        let mut s = parse(sql).unwrap();
        rewrite(&mut s);
        s.to_string()
    }

    #[test]
    fn cross_join_unnest_becomes_a_select_list_unnest() {
        assert_eq!(
            rewritten("SELECT d.contact_id, t.reason FROM fraud_decisions d CROSS JOIN UNNEST(d.reasons) AS t(reason)"),
            "SELECT d.contact_id, d.reason FROM (SELECT d.*, unnest(d.reasons) AS reason FROM fraud_decisions d) AS d"
        );
        assert_eq!(
            rewritten("SELECT reason FROM fraud_decisions, UNNEST(reasons) AS t (reason) ORDER BY t.reason"),
            "SELECT reason FROM (SELECT fraud_decisions.*, unnest(reasons) AS reason FROM fraud_decisions) AS \
             fraud_decisions ORDER BY fraud_decisions.reason"
        );
    }

    #[test]
    fn forms_it_cannot_rewrite_are_left_alone() {
        for sql in [
            "SELECT * FROM t CROSS JOIN UNNEST(a, b) AS u(x, y)",
            "SELECT * FROM t CROSS JOIN UNNEST(a) WITH ORDINALITY AS u(x, n)",
            "SELECT * FROM t CROSS JOIN u",
        ] {
            assert_eq!(rewritten(sql), parse(sql).unwrap().to_string(), "{sql}");
        }
    }
}
