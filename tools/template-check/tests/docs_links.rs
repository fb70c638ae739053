//! The README and the docs hold up: every relative link names a file or folder that exists, and
//! the README keeps its lines readable (at most 120 characters outside code blocks).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should say where

use std::path::{Path, PathBuf};

use template_check::repo_root;

/// The Markdown pages a reader reaches from the README.
fn pages() -> Vec<PathBuf> {
    let root = repo_root();
    let mut pages = vec![root.join("README.md"), root.join("functions/README.md")];
    for dir in ["docs", "functions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "md") {
                pages.push(path);
            } else if path.join("README.md").is_file() {
                pages.push(path.join("README.md"));
            }
        }
    }
    pages.sort();
    pages.dedup();
    pages
}

/// The targets of `[text](target)` links and `[label]: target` definitions outside code blocks.
fn link_targets(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        if let Some(definition) = line.strip_prefix('[').and_then(|l| l.split_once("]: ")) {
            targets.push(definition.1.trim().to_owned());
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find("](") {
            rest = &rest[at + 2..];
            if let Some(end) = rest.find(')') {
                targets.push(rest[..end].trim().to_owned());
                rest = &rest[end..];
            }
        }
    }
    targets
}

fn is_external(target: &str) -> bool {
    target.starts_with('#') || target.contains("://") || target.starts_with("mailto:")
}

fn broken_links(page: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(page).unwrap_or_default();
    let dir = page.parent().unwrap_or(Path::new("."));
    link_targets(&text)
        .into_iter()
        .filter(|t| !is_external(t))
        .filter(|t| {
            let file = t.split('#').next().unwrap_or_default();
            !dir.join(file).exists()
        })
        .collect()
}

#[test]
fn every_relative_link_in_the_readme_and_docs_resolves() {
    let pages = pages();
    assert!(
        pages.iter().any(|p| p.ends_with("docs/deploy.md")),
        "docs/deploy.md is missing"
    );
    let broken: Vec<String> = pages
        .iter()
        .flat_map(|p| {
            broken_links(p)
                .into_iter()
                .map(move |t| format!("{}: {t}", p.display()))
        })
        .collect();
    assert!(
        broken.is_empty(),
        "links to files that do not exist:\n{}",
        broken.join("\n")
    );
}

#[test]
fn a_link_to_a_missing_file_is_found() {
    let dir = std::env::temp_dir().join(format!("docs-links-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let page = dir.join("page.md");
    std::fs::write(
        &page,
        "[here](page.md) [gone](nope.md#x) [web](https://example.com) [a](#top)\n[d]: gone.md\n```\n[c](no.md)\n```\n",
    )
    .unwrap();
    assert_eq!(broken_links(&page), ["nope.md#x", "gone.md"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn readme_lines_outside_code_blocks_are_at_most_120_characters() {
    let text = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let mut in_code = false;
    let long: Vec<String> = text
        .lines()
        .enumerate()
        .filter(|(_, line)| {
            if line.trim_start().starts_with("```") {
                in_code = !in_code;
                return false;
            }
            !in_code && line.chars().count() > 120
        })
        .map(|(i, line)| format!("README.md:{}: {} characters", i + 1, line.chars().count()))
        .collect();
    assert!(long.is_empty(), "lines over 120 characters:\n{}", long.join("\n"));
}
