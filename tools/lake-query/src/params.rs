//! Athena "execution parameters": `?` placeholders bound positionally to string literals, in
//! the parsed statement (never by editing the SQL text, so a value cannot change the query).

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{Expr, Statement, Value, visit_expressions, visit_expressions_mut};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;

use crate::QueryError;

/// Parses exactly one statement with the dialect the engine uses (DataFusion's `generic`, the
/// closest to Trino: `INTERVAL '7' DAY`, `FILTER (WHERE ...)`, `||`, `map['key']`, `ARRAY[...]`).
///
/// # Errors
/// [`QueryError::Syntax`] for SQL that does not parse, no statement, or more than one.
pub fn parse(sql: &str) -> Result<Statement, QueryError> {
    let mut statements =
        Parser::parse_sql(&GenericDialect {}, sql).map_err(|e| QueryError::Syntax { message: e.to_string() })?;
    match statements.len() {
        1 => Ok(statements.remove(0)),
        0 => Err(QueryError::Syntax {
            message: "no SQL statement given".to_owned(),
        }),
        n => Err(QueryError::Syntax {
            message: format!("{n} statements given; run one at a time"),
        }),
    }
}

fn is_placeholder(expr: &Expr) -> bool {
    matches!(expr, Expr::Value(v) if matches!(&v.value, Value::Placeholder(p) if p == "?"))
}

/// The number of `?` placeholders in the statement.
pub fn count(statement: &Statement) -> usize {
    let mut n = 0;
    let _ = visit_expressions(statement, |e| {
        if is_placeholder(e) {
            n += 1;
        }
        ControlFlow::<()>::Continue(())
    });
    n
}

/// Replaces the `?` placeholders, in order, with the values as SQL string literals.
///
/// # Errors
/// [`QueryError::Params`] when the number of values is not the number of placeholders.
pub fn bind(statement: &mut Statement, values: &[String]) -> Result<(), QueryError> {
    let expected = count(statement);
    if expected != values.len() {
        return Err(QueryError::Params {
            expected,
            given: values.len(),
        });
    }
    let mut values = values.iter();
    let _ = visit_expressions_mut(statement, |e| {
        if is_placeholder(e)
            && let Some(value) = values.next()
        {
            *e = Expr::Value(Value::SingleQuotedString(value.clone()).into());
        }
        ControlFlow::<()>::Continue(())
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_quoted_literals_in_order() {
        let mut s = parse("SELECT * FROM t WHERE a = ? AND b IN (?, 'x') LIMIT 3").unwrap();
        assert_eq!(count(&s), 2);
        bind(&mut s, &["it's".to_owned(), "2".to_owned()]).unwrap();
        assert_eq!(
            s.to_string(),
            "SELECT * FROM t WHERE a = 'it''s' AND b IN ('2', 'x') LIMIT 3"
        );
    }

    #[test]
    fn a_question_mark_inside_a_string_is_not_a_placeholder() {
        let mut s = parse("SELECT '?' AS q").unwrap();
        assert_eq!(count(&s), 0);
        let err = bind(&mut s, &["1".to_owned()]).unwrap_err();
        assert!(matches!(err, QueryError::Params { expected: 0, given: 1 }), "{err}");
    }
}
