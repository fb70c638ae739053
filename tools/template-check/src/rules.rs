//! An interpreter of the CloudFormation rule functions, to test a template's `Rules` section.
//!
//! CloudFormation evaluates `Rules` before it touches any resource; the functions it offers there
//! are `Fn::Equals`, `Fn::Not`, `Fn::Or`, `Fn::And`, `Fn::Contains` and `Ref` (plus `Fn::EachMember*`
//! and `Fn::ValueOf*` for AWS-specific parameter types, which the template does not use). Tests
//! evaluate the rules over parameter combinations to prove they reject exactly what they should.

use std::collections::HashMap;

use crate::{Template, Value, intrinsic, plain_str};

/// A value of a rule expression.
#[derive(Debug, Clone, PartialEq)]
pub enum V {
    Bool(bool),
    Str(String),
    List(Vec<String>),
}

/// Evaluates a rule expression with these parameter values.
///
/// # Errors
/// A message for a function CloudFormation does not offer in `Rules`, a `Ref` to an unknown
/// parameter, or arguments of the wrong shape.
pub fn eval(v: &Value, params: &HashMap<String, String>) -> Result<V, String> {
    if let Some((name, arg)) = intrinsic(v) {
        let args = || arg.as_sequence().ok_or_else(|| format!("Fn::{name} takes a list"));
        let boolean = |v: &Value| match eval(v, params)? {
            V::Bool(b) => Ok(b),
            other => Err(format!("expected a condition, got {other:?}")),
        };
        return Ok(match name.as_str() {
            "Ref" => V::Str(
                params
                    .get(plain_str(arg).unwrap_or_default())
                    .cloned()
                    .ok_or_else(|| format!("Ref to unknown parameter {arg:?}"))?,
            ),
            "Equals" => match args()?.as_slice() {
                [a, b] => V::Bool(eval(a, params)? == eval(b, params)?),
                _ => return Err("Fn::Equals takes two values".to_owned()),
            },
            "Not" => match args()?.as_slice() {
                [a] => V::Bool(!boolean(a)?),
                _ => return Err("Fn::Not takes one condition".to_owned()),
            },
            "Or" => V::Bool(
                args()?
                    .iter()
                    .map(boolean)
                    .collect::<Result<Vec<_>, _>>()?
                    .contains(&true),
            ),
            "And" => V::Bool(
                !args()?
                    .iter()
                    .map(boolean)
                    .collect::<Result<Vec<_>, _>>()?
                    .contains(&false),
            ),
            "Contains" => match args()?.as_slice() {
                [list, item] => match (eval(list, params)?, eval(item, params)?) {
                    (V::List(l), V::Str(s)) => V::Bool(l.contains(&s)),
                    other => return Err(format!("Fn::Contains takes a list and a string, got {other:?}")),
                },
                _ => return Err("Fn::Contains takes two values".to_owned()),
            },
            other => return Err(format!("unsupported rule function Fn::{other}")),
        });
    }
    match v {
        Value::String(s) => Ok(V::Str(s.clone())),
        Value::Number(n) => Ok(V::Str(n.to_string())),
        Value::Sequence(items) => items
            .iter()
            .map(|i| match eval(i, params)? {
                V::Str(s) => Ok(s),
                other => Err(format!("a list holds strings, got {other:?}")),
            })
            .collect::<Result<_, _>>()
            .map(V::List),
        other => Err(format!("unsupported value {other:?}")),
    }
}

/// The assertions (`<rule>: <AssertDescription>`) of the template's `Rules` that fail for these
/// parameter values; a rule whose `RuleCondition` is false is skipped.
///
/// # Errors
/// As [`eval`].
pub fn rejected_by(t: &Template, params: &HashMap<String, String>) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let rules = t.section("Rules").and_then(Value::as_mapping).into_iter().flatten();
    for (name, rule) in rules {
        let applies = match rule.get("RuleCondition") {
            Some(c) => eval(c, params)? == V::Bool(true),
            None => true,
        };
        if !applies {
            continue;
        }
        for assertion in rule
            .get("Assertions")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
        {
            let ok = eval(assertion.get("Assert").ok_or("an assertion without Assert")?, params)?;
            if ok != V::Bool(true) {
                let what = assertion.get("AssertDescription").and_then(plain_str).unwrap_or("?");
                out.push(format!("{}: {what}", name.as_str().unwrap_or("?")));
            }
        }
    }
    Ok(out)
}

/// Every parameter's default value as a string (empty when it has none).
pub fn parameter_defaults(t: &Template) -> HashMap<String, String> {
    t.section("Parameters")
        .and_then(Value::as_mapping)
        .into_iter()
        .flatten()
        .filter_map(|(k, p)| {
            let value = match p.get("Default") {
                Some(Value::Number(n)) => n.to_string(),
                Some(other) => plain_str(other).unwrap_or_default().to_owned(),
                None => String::new(),
            };
            Some((k.as_str()?.to_owned(), value))
        })
        .collect()
}
