//! The CloudWatch metrics the project's code emits, read from its source.
//!
//! Metrics are EMF values added through `connect_lake::telemetry::Metrics::count` and `::add`,
//! always with a string literal name (`totals.count("PartitionsFailed", n)`). Reading those calls
//! from the source means a metric added to the code is a metric the alarm test knows about, with
//! no list to keep in step by hand.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The methods of `Metrics` that name a metric in their first argument.
const METHODS: [&str; 2] = [".count(\"", ".add(\""];

/// Metric names in one source text: the string literal opening each `.count("` or `.add("` call,
/// up to the first `#[cfg(test)]` (unit tests emit made-up names).
pub fn metric_names(source: &str) -> BTreeSet<String> {
    let code = source.split("#[cfg(test)]").next().unwrap_or_default();
    let mut out = BTreeSet::new();
    for method in METHODS {
        let mut rest = code;
        while let Some(at) = rest.find(method) {
            rest = &rest[at + method.len()..];
            if let Some(end) = rest.find('"') {
                let name = &rest[..end];
                if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()) {
                    out.insert(name.to_owned());
                }
            }
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            if name != "tests" {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") && name != "tests.rs" {
            out.push(path);
        }
    }
}

/// Every metric the deployed code emits, with who emits it: a function's crate name
/// (`functions/<name>/src`) or `shared` (the common crate, emitted by whichever function uses it).
pub fn emitted_metrics(repo_root: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut sources: Vec<(String, PathBuf)> = vec![("shared".to_owned(), repo_root.join("shared/src"))];
    if let Ok(entries) = std::fs::read_dir(repo_root.join("functions")) {
        for entry in entries.flatten() {
            sources.push((
                entry.file_name().to_string_lossy().into_owned(),
                entry.path().join("src"),
            ));
        }
    }
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (emitter, dir) in sources {
        let mut files = Vec::new();
        rust_files(&dir, &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            for name in metric_names(&text) {
                out.entry(name).or_default().insert(emitter.clone());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_count_and_add_calls_outside_unit_tests() {
        let source = r#"
            totals.count("RecordsIn", n);
            totals.add("BytesIn", Unit::Bytes, b);
            m.count(metric, *n);
            let s = format!("{}", x.count("not a metric name"));
            #[cfg(test)]
            mod tests { fn t() { m.count("Fake", 1); } }
        "#;
        let names: Vec<String> = metric_names(source).into_iter().collect();
        assert_eq!(names, ["BytesIn", "RecordsIn"]);
    }
}
