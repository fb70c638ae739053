//! The template's Glue views are generated from `views/*.sql`: the block in `template.yaml` is
//! exactly what `glue-views` prints, so Athena's views and `lakectl query`'s are one definition.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should say where

use template_check::{Template, glue_tables, glue_views, repo_root, views};

fn template_text() -> String {
    std::fs::read_to_string(repo_root().join("template.yaml")).unwrap_or_else(|e| panic!("template.yaml: {e}"))
}

#[test]
fn template_views_are_the_generated_block() {
    let text = template_text();
    let generated = views::template_block().unwrap_or_else(|e| panic!("{e}"));
    let declared = views::block_in(&text).unwrap_or_else(|| {
        panic!(
            "template.yaml has no block between {:?} and {:?}; run `{}`",
            views::BEGIN,
            views::END,
            views::COMMAND
        )
    });
    let first_difference = declared
        .lines()
        .zip(generated.lines())
        .find(|(d, g)| d != g)
        .map(|(d, g)| format!("\n  template:  {d}\n  generated: {g}"));
    assert!(
        declared == generated,
        "template.yaml's Glue views differ from views/*.sql; regenerate the block with `{}`{}",
        views::COMMAND,
        first_difference.unwrap_or_default()
    );
}

#[test]
fn every_view_is_declared_once_and_is_not_checked_as_a_table() {
    let template = Template::parse(&template_text()).unwrap_or_else(|e| panic!("{e}"));
    let mut declared: Vec<String> = glue_views(&template).into_iter().map(|(_, name)| name).collect();
    declared.sort();
    let mut expected: Vec<String> = lake_query::views::VIEWS.iter().map(|v| v.name.to_owned()).collect();
    expected.sort();
    assert_eq!(declared, expected);
    let tables = glue_tables(&template).unwrap_or_else(|e| panic!("{e}"));
    assert!(tables.iter().all(|t| !expected.contains(&t.name)));
}

#[test]
fn a_changed_view_is_reported_as_drift() {
    let text = template_text();
    let edited = text.replacen("Name: contact_record\n", "Name: contact_records\n", 1);
    let generated = views::template_block().unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(views::block_in(&edited), Some(generated.as_str()));
}
