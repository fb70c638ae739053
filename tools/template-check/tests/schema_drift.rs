//! The Glue tables declared in template.yaml (those Firehose's Parquet conversion reads its schema
//! from) must equal the shared schema, column for column, in order, with the same types and the
//! same partition keys. Either side may be the one to fix: the failure says what differs and
//! prints the template's columns as they should read.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should say where

use connect_lake::schema::{self, Column, PARTITION_KEYS, TABLES};
use template_check::{DeclaredColumn, DeclaredTable, Template, glue_tables};

/// The tables Firehose converts to Parquet: they must exist in the template before any data lands.
const FIREHOSE_TABLES: [&str; 2] = ["ctr", "agent_events"];

fn declared_tables() -> Vec<DeclaredTable> {
    let template = Template::load().unwrap_or_else(|e| panic!("{e}"));
    glue_tables(&template).unwrap_or_else(|e| panic!("{e}"))
}

fn expected_yaml(columns: &[Column]) -> String {
    columns
        .iter()
        .map(|c| {
            format!(
                "            - {{ Name: {}, Type: {}, Comment: \"{}\" }}\n",
                c.name,
                c.kind.glue_type(),
                c.comment
            )
        })
        .collect()
}

/// Differences between declared and expected columns, by position, both ways.
fn column_differences(declared: &[DeclaredColumn], expected: &[Column]) -> Vec<String> {
    let mut out = Vec::new();
    for (i, e) in expected.iter().enumerate() {
        match declared.get(i) {
            None => out.push(format!(
                "#{i} `{}` ({}) is in the schema but not in the template",
                e.name, e.kind
            )),
            Some(d) if d.name != e.name => {
                out.push(format!("#{i} template has `{}`, schema has `{}`", d.name, e.name));
            }
            Some(d) if d.kind != e.kind.glue_type() => {
                out.push(format!(
                    "#{i} `{}`: template type {}, schema type {}",
                    e.name,
                    d.kind,
                    e.kind.glue_type()
                ));
            }
            Some(_) => {}
        }
    }
    for (i, d) in declared.iter().enumerate().skip(expected.len()) {
        out.push(format!(
            "#{i} `{}` ({}) is in the template but not in the schema",
            d.name, d.kind
        ));
    }
    out
}

#[test]
fn firehose_tables_are_declared_in_the_template() {
    let declared = declared_tables();
    for name in FIREHOSE_TABLES {
        assert!(schema::table(name).is_some(), "shared schema has no table `{name}`");
        let count = declared.iter().filter(|t| t.name == name).count();
        assert_eq!(
            count, 1,
            "template.yaml must declare the Glue table `{name}` exactly once (found {count})"
        );
    }
}

#[test]
fn every_template_table_is_a_table_of_the_shared_schema() {
    for table in declared_tables() {
        assert!(
            schema::table(&table.name).is_some(),
            "template.yaml declares Glue table `{}` ({}) but the shared schema has no such table; known: {:?}",
            table.name,
            table.logical_id,
            TABLES.iter().map(|t| t.name).collect::<Vec<_>>()
        );
    }
}

#[test]
fn template_columns_match_the_shared_schema_in_name_order_and_type() {
    let mut failures = Vec::new();
    for table in declared_tables() {
        let Some(expected) = schema::table(&table.name) else {
            continue;
        };
        let diffs = column_differences(&table.columns, expected.columns);
        if !diffs.is_empty() {
            failures.push(format!(
                "table `{}` ({}) drifted from shared/src/schema.rs:\n  {}\n  the template's Columns should read:\n{}",
                table.name,
                table.logical_id,
                diffs.join("\n  "),
                expected_yaml(expected.columns)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn template_partition_keys_are_the_shared_partition_keys() {
    for table in declared_tables() {
        let diffs = column_differences(&table.partition_keys, &PARTITION_KEYS);
        assert!(
            diffs.is_empty(),
            "table `{}` ({}): PartitionKeys drifted from schema::PARTITION_KEYS:\n  {}\n  they should read:\n{}",
            table.name,
            table.logical_id,
            diffs.join("\n  "),
            expected_yaml(&PARTITION_KEYS)
        );
    }
}

#[test]
fn template_column_comments_match_the_shared_schema() {
    let mut failures = Vec::new();
    for table in declared_tables() {
        let Some(expected) = schema::table(&table.name) else {
            continue;
        };
        let pairs = table
            .columns
            .iter()
            .zip(expected.columns)
            .chain(table.partition_keys.iter().zip(PARTITION_KEYS.iter()));
        for (declared, column) in pairs {
            if declared.name == column.name && declared.comment.as_deref() != Some(column.comment) {
                failures.push(format!(
                    "{}.{}: template comment {:?}, schema comment {:?}",
                    table.name, column.name, declared.comment, column.comment
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "column comments drifted (Athena shows them):\n{}",
        failures.join("\n")
    );
}

#[test]
fn a_drifted_column_list_is_reported_in_both_directions() {
    // The comparison itself must be able to fail: a missing, a renamed, a retyped and an extra
    // column are each reported.
    let expected = &schema::CTR.columns[..3];
    let mut declared: Vec<DeclaredColumn> = expected
        .iter()
        .map(|c| DeclaredColumn {
            name: c.name.into(),
            kind: c.kind.glue_type(),
            comment: None,
        })
        .collect();
    assert!(column_differences(&declared, expected).is_empty());
    declared[1].kind = "int".into();
    declared.push(DeclaredColumn {
        name: "extra".into(),
        kind: "string".into(),
        comment: None,
    });
    let diffs = column_differences(&declared, expected);
    assert_eq!(diffs.len(), 2, "{diffs:?}");
    assert!(diffs[0].contains("template type int"), "{diffs:?}");
    assert!(diffs[1].contains("`extra`"), "{diffs:?}");
    declared.truncate(1);
    declared[0].name = "renamed".into();
    let diffs = column_differences(&declared, expected);
    assert_eq!(diffs.len(), 3, "{diffs:?}");
    assert!(diffs[0].contains("template has `renamed`"), "{diffs:?}");
    assert!(diffs[1].contains("not in the template"), "{diffs:?}");
}
