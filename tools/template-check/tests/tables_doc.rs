//! `docs/tables.md` is generated from `connect_lake::schema::TABLES`; it must not go stale.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should say where

use template_check::{repo_root, tables_doc};

#[test]
fn docs_tables_md_equals_what_the_schema_generates() {
    let path = repo_root().join("docs/tables.md");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let generated = tables_doc::tables_markdown();
    assert!(
        committed == generated,
        "docs/tables.md is stale (or missing): it differs from the schema in shared/src/schema.rs. \
         Regenerate it with `{}` and commit it.",
        tables_doc::COMMAND
    );
}

#[test]
fn the_generated_page_lists_every_table_and_column_with_its_glue_type() {
    let page = tables_doc::tables_markdown();
    for table in connect_lake::schema::TABLES {
        assert!(
            page.contains(&format!("## `{}`", table.name)),
            "no section for {}",
            table.name
        );
        for c in table.columns {
            let row = format!("| `{}` | `{}` |", c.name, c.kind.glue_type().replace('|', "\\|"));
            assert!(page.contains(&row), "{}.{} missing: {row}", table.name, c.name);
        }
    }
}
