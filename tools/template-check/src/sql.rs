//! Checks a named query's SQL against the shared schema, with a real SQL parser.
//!
//! [`analyze`] parses the text with `sqlparser` and walks the AST scope by scope: every table a
//! query reads must be a table of `connect_lake::schema` or a CTE, and every column it names must
//! be visible where it is named (a column of one of the query's tables, partition keys included,
//! an output column of a CTE or a subquery, an alias of an `UNNEST` or `VALUES` list, an output
//! alias in `ORDER BY`, or a column of an enclosing query). Struct field access
//! (`features.hop_count`) is checked against the column's struct type.
//!
//! It also records what Athena needs to prune: which `year`/`month`/`day` comparisons filter
//! which table reference, and which execution parameter (`?`) each comparison takes, so that the
//! tests can hold every named query to "one pair of parameters per table reference, in order".

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use connect_lake::schema::{self, HiveType, Table};
use sqlparser::ast::{
    BinaryOperator, Expr, GroupByExpr, Ident, JoinConstraint, JoinOperator, ObjectName, ObjectNamePart, OrderByKind,
    Query, Select, SelectItem, SelectItemQualifiedWildcardKind, SetExpr, Statement, TableAlias, TableFactor, Value,
    ValueWithSpan, Visit, Visitor,
};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::{Parser, ParserError};
pub use sqlparser::tokenizer::Location;

/// The partition keys a query can prune on, coarsest first.
pub const PRUNING_KEYS: [&str; 3] = ["year", "month", "day"];

/// One reference to a table of the shared schema (not to a CTE), in the order of the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRef {
    pub table: &'static str,
    /// The alias, or the table name when there is none.
    pub name: String,
    pub at: Location,
}

/// A comparison `key = value` in a `WHERE` clause that filters a table reference by one of its
/// partition keys: the kind of predicate Athena pushes down to Glue to prune partitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionFilter {
    /// Index into [`Analysis::tables`].
    pub table_ref: usize,
    pub key: String,
    /// The compared value as SQL text (`?` for an execution parameter).
    pub value: String,
    /// Where the value is, when it is an execution parameter.
    pub parameter: Option<Location>,
}

/// What [`analyze`] found in one query.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    /// Unknown tables and columns, unsupported constructs: empty for a good query.
    pub problems: Vec<String>,
    /// References to schema tables, in text order.
    pub tables: Vec<TableRef>,
    /// Every execution parameter (`?`), in text order: Athena binds them in this order.
    pub parameters: Vec<Location>,
    pub partition_filters: Vec<PartitionFilter>,
    /// Every function the query calls, lower-cased (`count`, `date_diff`, ...).
    pub functions: BTreeSet<String>,
    /// Lambda expressions (`x -> ...`): Trino-only syntax DataFusion does not read.
    pub lambdas: usize,
}

impl Analysis {
    /// What each execution parameter binds, in order: the table reference and the partition key
    /// it filters, or `None` for a parameter that is not a partition comparison.
    pub fn parameter_bindings(&self) -> Vec<Option<(&TableRef, &str)>> {
        self.parameters
            .iter()
            .map(|at| {
                self.partition_filters
                    .iter()
                    .find(|f| f.parameter == Some(*at))
                    .and_then(|f| Some((self.tables.get(f.table_ref)?, f.key.as_str())))
            })
            .collect()
    }

    /// The partition filters of one table reference.
    pub fn filters_of(&self, table_ref: usize) -> impl Iterator<Item = &PartitionFilter> {
        self.partition_filters.iter().filter(move |f| f.table_ref == table_ref)
    }
}

/// Parses `sql` (one query; Athena's engine is Trino, `GenericDialect` reads its syntax) and
/// checks it against the shared schema.
///
/// # Errors
/// The parser's error when the text is not SQL.
pub fn analyze(sql: &str) -> Result<Analysis, ParserError> {
    let statements = Parser::parse_sql(&GenericDialect {}, sql)?;
    let mut walk = Walk::default();
    if statements.len() != 1 {
        walk.problem(format!("expected one statement, found {}", statements.len()));
    }
    let mut whole = Whole::default();
    for statement in &statements {
        match statement {
            Statement::Query(q) => {
                walk.query(q, &Env::default());
            }
            other => walk.problem(format!("not a query: {other}")),
        }
        let _ = statement.visit(&mut whole);
    }
    let mut analysis = walk.out;
    // Table references are recorded CTEs first, as the text reads; sort to be sure, remapping filters.
    let mut order: Vec<usize> = (0..analysis.tables.len()).collect();
    order.sort_by_key(|&i| analysis.tables[i].at);
    let tables = order.iter().map(|&i| analysis.tables[i].clone()).collect();
    for f in &mut analysis.partition_filters {
        f.table_ref = order.iter().position(|&i| i == f.table_ref).unwrap_or(f.table_ref);
    }
    analysis.tables = tables;
    whole.parameters.sort();
    analysis.parameters = whole.parameters;
    analysis.functions = whole.functions;
    analysis.lambdas = whole.lambdas;
    Ok(analysis)
}

/// What is collected from the whole statement at once: `?` placeholders, function names, lambdas.
#[derive(Default)]
struct Whole {
    parameters: Vec<Location>,
    functions: BTreeSet<String>,
    lambdas: usize,
}

impl Visitor for Whole {
    type Break = ();

    fn pre_visit_value(&mut self, value: &ValueWithSpan) -> ControlFlow<()> {
        if matches!(&value.value, Value::Placeholder(p) if p == "?") {
            self.parameters.push(value.span.start);
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        match expr {
            Expr::Function(f) => {
                self.functions.insert(f.name.to_string().to_ascii_lowercase());
            }
            // GenericDialect reads Trino's `x -> f(x)` as the JSON arrow operator.
            Expr::Lambda(_)
            | Expr::BinaryOp {
                op: BinaryOperator::Arrow,
                ..
            } => self.lambdas += 1,
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

/// The column references of an expression, and the queries nested in it (checked as their own
/// scope, with this one as their outer scope).
#[derive(Default)]
struct ExprRefs {
    depth: usize,
    columns: Vec<Vec<Ident>>,
    subqueries: Vec<Query>,
}

impl Visitor for ExprRefs {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        if self.depth == 0 {
            self.subqueries.push(query.clone());
        }
        self.depth += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _query: &Query) -> ControlFlow<()> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        if self.depth == 0 {
            match expr {
                Expr::Identifier(ident) => self.columns.push(vec![ident.clone()]),
                Expr::CompoundIdentifier(parts) => self.columns.push(parts.clone()),
                _ => {}
            }
        }
        ControlFlow::Continue(())
    }
}

/// A column visible in a scope; its type when it comes from the schema.
#[derive(Debug, Clone)]
struct Col {
    name: String,
    kind: Option<HiveType>,
}

/// The output columns of a query. `opaque` when they could not be known (the query reads an
/// unknown table, already reported): anything is accepted from it, so one mistake is one problem.
#[derive(Debug, Clone, Default)]
struct Cols {
    cols: Vec<Col>,
    opaque: bool,
}

impl Cols {
    fn find(&self, name: &str) -> Option<&Col> {
        self.cols.iter().find(|c| c.name == name)
    }

    fn has(&self, name: &str) -> bool {
        self.opaque || self.find(name).is_some()
    }

    /// Renamed by an alias' column list (`AS p(n)`).
    fn renamed(mut self, alias: Option<&TableAlias>) -> Cols {
        if let Some(alias) = alias.filter(|a| !a.columns.is_empty()) {
            for (i, def) in alias.columns.iter().enumerate() {
                let name = lower(&def.name);
                match self.cols.get_mut(i) {
                    Some(c) => c.name = name,
                    None => self.cols.push(Col { name, kind: None }),
                }
            }
        }
        self
    }
}

/// One relation of a `FROM` clause.
#[derive(Debug, Clone)]
struct Relation {
    /// Alias or table name; empty for output columns in `ORDER BY` (not qualifiable).
    name: String,
    cols: Cols,
    /// Index into the analysis' table references, for a schema table.
    table_ref: Option<usize>,
}

/// What a query sees from outside: CTEs in scope (innermost last) and enclosing relations.
#[derive(Debug, Clone, Default)]
struct Env {
    ctes: Vec<(String, Cols)>,
    outer: Vec<Relation>,
}

impl Env {
    fn cte(&self, name: &str) -> Option<&Cols> {
        self.ctes.iter().rev().find(|(n, _)| n == name).map(|(_, c)| c)
    }
}

fn lower(ident: &Ident) -> String {
    ident.value.to_ascii_lowercase()
}

fn schema_cols(table: &Table) -> Cols {
    Cols {
        cols: table
            .columns
            .iter()
            .chain(table.partition_keys())
            .map(|c| Col {
                name: c.name.to_owned(),
                kind: Some(c.kind),
            })
            .collect(),
        opaque: false,
    }
}

/// A single-part name (`ctr`), or the last part of `db.table`.
fn object_name(name: &ObjectName) -> Option<(String, usize)> {
    let parts: Vec<&Ident> = name
        .0
        .iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(i) => Some(i),
            ObjectNamePart::Function(_) => None,
        })
        .collect::<Option<_>>()?;
    Some((lower(parts.last()?), parts.len()))
}

fn join_constraint(op: &JoinOperator) -> Option<&JoinConstraint> {
    match op {
        JoinOperator::Join(c)
        | JoinOperator::Inner(c)
        | JoinOperator::Left(c)
        | JoinOperator::LeftOuter(c)
        | JoinOperator::Right(c)
        | JoinOperator::RightOuter(c)
        | JoinOperator::FullOuter(c)
        | JoinOperator::CrossJoin(c)
        | JoinOperator::Semi(c)
        | JoinOperator::LeftSemi(c)
        | JoinOperator::RightSemi(c)
        | JoinOperator::Anti(c)
        | JoinOperator::LeftAnti(c)
        | JoinOperator::RightAnti(c)
        | JoinOperator::StraightJoin(c) => Some(c),
        JoinOperator::AsOf { constraint, .. } => Some(constraint),
        JoinOperator::CrossApply
        | JoinOperator::OuterApply
        | JoinOperator::ArrayJoin
        | JoinOperator::LeftArrayJoin
        | JoinOperator::InnerArrayJoin => None,
    }
}

/// `a AND b AND c` as `[a, b, c]`.
fn conjuncts(expr: &Expr) -> Vec<&Expr> {
    match expr {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            let mut out = conjuncts(left);
            out.extend(conjuncts(right));
            out
        }
        Expr::Nested(inner) => conjuncts(inner),
        other => vec![other],
    }
}

/// Where a column reference resolved.
struct Resolved {
    /// Index of the relation in the scope searched (`None` for an outer or output column).
    relation: Option<usize>,
    column: String,
}

#[derive(Default)]
struct Walk {
    out: Analysis,
}

impl Walk {
    fn problem(&mut self, message: String) {
        self.out.problems.push(message);
    }

    fn query(&mut self, q: &Query, env: &Env) -> Cols {
        let mut env = env.clone();
        if let Some(with) = &q.with {
            for cte in &with.cte_tables {
                let cols = self.query(&cte.query, &env).renamed(Some(&cte.alias));
                env.ctes.push((lower(&cte.alias.name), cols));
            }
        }
        let (outputs, mut scope) = self.set_expr(&q.body, &env);
        if let Some(order_by) = &q.order_by
            && let OrderByKind::Expressions(items) = &order_by.kind
        {
            // ORDER BY sees the output aliases first, then the FROM clause.
            scope.insert(
                0,
                Relation {
                    name: String::new(),
                    cols: outputs.clone(),
                    table_ref: None,
                },
            );
            for item in items {
                self.expr(&item.expr, &scope, &env, true);
            }
        }
        outputs
    }

    fn set_expr(&mut self, body: &SetExpr, env: &Env) -> (Cols, Vec<Relation>) {
        match body {
            SetExpr::Select(select) => self.select(select, env),
            SetExpr::Query(q) => (self.query(q, env), Vec::new()),
            SetExpr::SetOperation { left, right, .. } => {
                let (cols, _) = self.set_expr(left, env);
                self.set_expr(right, env);
                (cols, Vec::new())
            }
            SetExpr::Values(values) => {
                for row in &values.rows {
                    for e in &row.content {
                        self.expr(e, &[], env, false);
                    }
                }
                let width = values.rows.first().map_or(0, |r| r.content.len());
                let cols = (1..=width)
                    .map(|i| Col {
                        name: format!("column{i}"),
                        kind: None,
                    })
                    .collect();
                (Cols { cols, opaque: false }, Vec::new())
            }
            other => {
                self.problem(format!("unsupported query body: {other}"));
                (
                    Cols {
                        cols: Vec::new(),
                        opaque: true,
                    },
                    Vec::new(),
                )
            }
        }
    }

    fn select(&mut self, s: &Select, env: &Env) -> (Cols, Vec<Relation>) {
        let mut scope: Vec<Relation> = Vec::new();
        for from in &s.from {
            self.table_factor(&from.relation, &mut scope, env);
            for join in &from.joins {
                self.table_factor(&join.relation, &mut scope, env);
                match join_constraint(&join.join_operator) {
                    Some(JoinConstraint::On(on)) => self.expr(on, &scope, env, false),
                    Some(JoinConstraint::Using(columns)) => {
                        for c in columns {
                            if let Some((name, 1)) = object_name(c)
                                && !scope.iter().any(|r| r.cols.has(&name))
                            {
                                self.problem(format!("unknown column `{name}` in USING"));
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        if let Some(selection) = &s.selection {
            self.expr(selection, &scope, env, false);
            self.partition_filters(selection, &scope, env);
        }
        let mut outputs = Cols::default();
        for (i, item) in s.projection.iter().enumerate() {
            match item {
                SelectItem::UnnamedExpr(e) => {
                    self.expr(e, &scope, env, false);
                    let (name, kind) = match e {
                        Expr::Identifier(ident) => (lower(ident), self.kind_of(std::slice::from_ref(ident), &scope)),
                        Expr::CompoundIdentifier(parts) => {
                            (parts.last().map(lower).unwrap_or_default(), self.kind_of(parts, &scope))
                        }
                        _ => (format!("_col{i}"), None),
                    };
                    outputs.cols.push(Col { name, kind });
                }
                SelectItem::ExprWithAlias { expr, alias } => {
                    self.expr(expr, &scope, env, false);
                    let kind = match expr {
                        Expr::Identifier(ident) => self.kind_of(std::slice::from_ref(ident), &scope),
                        Expr::CompoundIdentifier(parts) => self.kind_of(parts, &scope),
                        _ => None,
                    };
                    outputs.cols.push(Col {
                        name: lower(alias),
                        kind,
                    });
                }
                SelectItem::Wildcard(_) => {
                    for r in &scope {
                        outputs.cols.extend(r.cols.cols.iter().cloned());
                        outputs.opaque |= r.cols.opaque;
                    }
                }
                SelectItem::QualifiedWildcard(SelectItemQualifiedWildcardKind::ObjectName(name), _) => {
                    let found = object_name(name).and_then(|(n, _)| scope.iter().find(|r| r.name == n));
                    match found {
                        Some(r) => {
                            outputs.cols.extend(r.cols.cols.iter().cloned());
                            outputs.opaque |= r.cols.opaque;
                        }
                        None => {
                            self.problem(format!("`{name}.*` names no table of the FROM clause"));
                            outputs.opaque = true;
                        }
                    }
                }
                other => {
                    self.problem(format!("unsupported select item: {other}"));
                    outputs.opaque = true;
                }
            }
        }
        match &s.group_by {
            GroupByExpr::Expressions(exprs, _) => {
                for e in exprs {
                    self.expr(e, &scope, env, false);
                }
            }
            GroupByExpr::All(_) => {}
        }
        for e in s.having.iter().chain(&s.qualify) {
            self.expr(e, &scope, env, false);
        }
        (outputs, scope)
    }

    fn table_factor(&mut self, factor: &TableFactor, scope: &mut Vec<Relation>, env: &Env) {
        match factor {
            TableFactor::Table {
                name,
                alias,
                args: None,
                ..
            } => {
                let Some((table_name, parts)) = object_name(name) else {
                    self.problem(format!("unsupported table name {name}"));
                    return;
                };
                let relation_name = alias.as_ref().map_or_else(|| table_name.clone(), |a| lower(&a.name));
                let cte = if parts == 1 { env.cte(&table_name) } else { None };
                let (cols, table_ref) = match (cte, schema::table(&table_name)) {
                    (Some(cols), _) => (cols.clone(), None),
                    (None, Some(table)) => {
                        let at = match name.0.last() {
                            Some(ObjectNamePart::Identifier(i)) => i.span.start,
                            _ => Location::empty(),
                        };
                        self.out.tables.push(TableRef {
                            table: table.name,
                            name: relation_name.clone(),
                            at,
                        });
                        (schema_cols(table), Some(self.out.tables.len() - 1))
                    }
                    (None, None) => {
                        self.problem(format!(
                            "unknown table `{table_name}`: not in the shared schema, nor a CTE"
                        ));
                        (
                            Cols {
                                cols: Vec::new(),
                                opaque: true,
                            },
                            None,
                        )
                    }
                };
                scope.push(Relation {
                    name: relation_name,
                    cols: cols.renamed(alias.as_ref()),
                    table_ref,
                });
            }
            TableFactor::Derived {
                lateral,
                subquery,
                alias,
                ..
            } => {
                let inner_env = if *lateral {
                    let mut e = env.clone();
                    e.outer.splice(0..0, scope.iter().cloned());
                    e
                } else {
                    env.clone()
                };
                let cols = self.query(subquery, &inner_env).renamed(alias.as_ref());
                scope.push(Relation {
                    name: alias.as_ref().map(|a| lower(&a.name)).unwrap_or_default(),
                    cols,
                    table_ref: None,
                });
            }
            TableFactor::UNNEST { alias, array_exprs, .. } => {
                // UNNEST sees the relations to its left (Trino's implicit lateral join).
                for e in array_exprs {
                    self.expr(e, scope, env, false);
                }
                scope.push(Relation {
                    name: alias.as_ref().map(|a| lower(&a.name)).unwrap_or_default(),
                    cols: Cols::default().renamed(alias.as_ref()),
                    table_ref: None,
                });
            }
            TableFactor::NestedJoin { table_with_joins, .. } => {
                self.table_factor(&table_with_joins.relation, scope, env);
                for join in &table_with_joins.joins {
                    self.table_factor(&join.relation, scope, env);
                    if let Some(JoinConstraint::On(on)) = join_constraint(&join.join_operator) {
                        self.expr(on, scope, env, false);
                    }
                }
            }
            other => {
                self.problem(format!("unsupported FROM item: {other}"));
                scope.push(Relation {
                    name: String::new(),
                    cols: Cols {
                        cols: Vec::new(),
                        opaque: true,
                    },
                    table_ref: None,
                });
            }
        }
    }

    /// Checks every column reference of `expr` in `scope` (then the enclosing scopes), and
    /// each subquery in it as a scope of its own. `outputs_first`: the first relation of `scope`
    /// holds output aliases, which win over input columns of the same name (ORDER BY).
    fn expr(&mut self, expr: &Expr, scope: &[Relation], env: &Env, outputs_first: bool) {
        let mut refs = ExprRefs::default();
        let _ = expr.visit(&mut refs);
        for parts in &refs.columns {
            if let Err(problem) = self.resolve(parts, scope, env, outputs_first) {
                self.problem(problem);
            }
        }
        if !refs.subqueries.is_empty() {
            let mut inner = env.clone();
            inner
                .outer
                .splice(0..0, scope.iter().filter(|r| !r.name.is_empty()).cloned());
            for q in &refs.subqueries {
                self.query(q, &inner);
            }
        }
    }

    fn kind_of(&self, parts: &[Ident], scope: &[Relation]) -> Option<HiveType> {
        let names: Vec<String> = parts.iter().map(lower).collect();
        let (relation, column, fields) = match names.as_slice() {
            [column, fields @ ..] if scope.iter().any(|r| r.cols.find(column).is_some()) => {
                (scope.iter().find(|r| r.cols.find(column).is_some())?, column, fields)
            }
            [qualifier, column, fields @ ..] => (scope.iter().find(|r| &r.name == qualifier)?, column, fields),
            _ => return None,
        };
        let mut kind = relation.cols.find(column)?.kind?;
        for f in fields {
            match kind {
                HiveType::Struct(members) => kind = members.iter().find(|m| m.name == f)?.kind,
                _ => return None,
            }
        }
        Some(kind)
    }

    fn resolve(&self, parts: &[Ident], scope: &[Relation], env: &Env, outputs_first: bool) -> Result<Resolved, String> {
        let names: Vec<String> = parts.iter().map(lower).collect();
        let dotted = names.join(".");
        let Some(first) = names.first() else {
            return Err("empty identifier".to_owned());
        };
        // An output alias in ORDER BY.
        if outputs_first && names.len() == 1 && scope.first().is_some_and(|r| r.cols.has(first)) {
            return Ok(Resolved {
                relation: None,
                column: first.clone(),
            });
        }
        let local = if outputs_first {
            scope.get(1..).unwrap_or_default()
        } else {
            scope
        };
        let offset = scope.len() - local.len();
        // A qualified reference `t.col[.field...]`: the qualifier names a relation.
        if names.len() >= 2 {
            let qualified = local
                .iter()
                .position(|r| &r.name == first)
                .map(|i| (Some(i + offset), &local[i]))
                .or_else(|| env.outer.iter().find(|r| &r.name == first).map(|r| (None, r)));
            if let Some((relation, r)) = qualified {
                let column = &names[1];
                if !r.cols.has(column) {
                    return Err(format!("unknown column `{dotted}`: `{first}` has no column `{column}`"));
                }
                check_fields(r.cols.find(column).and_then(|c| c.kind), &names[2..], &dotted)?;
                return Ok(Resolved {
                    relation,
                    column: column.clone(),
                });
            }
        }
        // An unqualified column (with struct fields after it).
        let matches: Vec<usize> = (0..local.len()).filter(|&i| local[i].cols.has(first)).collect();
        let known: Vec<usize> = matches.iter().copied().filter(|&i| !local[i].cols.opaque).collect();
        if known.len() > 1 {
            let owners: BTreeSet<&str> = known.iter().map(|&i| local[i].name.as_str()).collect();
            return Err(format!(
                "ambiguous column `{dotted}`: in {}",
                owners.into_iter().collect::<Vec<_>>().join(", ")
            ));
        }
        if let Some(&i) = matches.first() {
            check_fields(local[i].cols.find(first).and_then(|c| c.kind), &names[1..], &dotted)?;
            return Ok(Resolved {
                relation: Some(i + offset),
                column: first.clone(),
            });
        }
        if let Some(r) = env.outer.iter().find(|r| r.cols.has(first)) {
            check_fields(r.cols.find(first).and_then(|c| c.kind), &names[1..], &dotted)?;
            return Ok(Resolved {
                relation: None,
                column: first.clone(),
            });
        }
        if names.len() >= 2 {
            Err(format!(
                "unknown column `{dotted}`: no table or column `{first}` in scope"
            ))
        } else {
            Err(format!("unknown column `{dotted}`: no table of the query has it"))
        }
    }

    /// Records `key = value` conjuncts of a WHERE clause on the partition keys of a schema table.
    fn partition_filters(&mut self, selection: &Expr, scope: &[Relation], env: &Env) {
        for conjunct in conjuncts(selection) {
            let Expr::BinaryOp {
                left,
                op: BinaryOperator::Eq,
                right,
            } = conjunct
            else {
                continue;
            };
            let (column, value) = match (left.as_ref(), right.as_ref()) {
                (Expr::Identifier(_) | Expr::CompoundIdentifier(_), v) => (left.as_ref(), v),
                (v, Expr::Identifier(_) | Expr::CompoundIdentifier(_)) => (right.as_ref(), v),
                _ => continue,
            };
            let parts: Vec<Ident> = match column {
                Expr::Identifier(i) => vec![i.clone()],
                Expr::CompoundIdentifier(p) => p.clone(),
                _ => continue,
            };
            let Ok(Resolved {
                relation: Some(i),
                column,
            }) = self.resolve(&parts, scope, env, false)
            else {
                continue;
            };
            let Some(table_ref) = scope.get(i).and_then(|r| r.table_ref) else {
                continue;
            };
            if !PRUNING_KEYS.contains(&column.as_str()) {
                continue;
            }
            let parameter = match value {
                Expr::Value(ValueWithSpan {
                    value: Value::Placeholder(p),
                    span,
                }) if p == "?" => Some(span.start),
                _ => None,
            };
            self.out.partition_filters.push(PartitionFilter {
                table_ref,
                key: column,
                value: value.to_string(),
                parameter,
            });
        }
    }
}

/// Struct field access after a column: each field must be a field of the struct before it.
fn check_fields(kind: Option<HiveType>, fields: &[String], dotted: &str) -> Result<(), String> {
    let Some(mut kind) = kind else {
        return Ok(());
    };
    for f in fields {
        match kind {
            HiveType::Struct(members) => match members.iter().find(|m| m.name == f) {
                Some(m) => kind = m.kind,
                None => return Err(format!("unknown field `{dotted}`: the struct has no field `{f}`")),
            },
            other => return Err(format!("`{dotted}`: field `{f}` of a non-struct column ({other})")),
        }
    }
    Ok(())
}
