//! Helpers shared by the end-to-end tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should say where

use std::path::PathBuf;

use lambda_harness::{binary_path, workspace_root};

/// The debug build of a function binary (`make test` builds them before running the tests).
pub fn function_binary(name: &str) -> PathBuf {
    binary_path(name, "debug")
}

/// The request files in `events/<function>/` (not the `expected/` folder), sorted.
pub fn event_files(function: &str) -> Vec<PathBuf> {
    let dir = workspace_root().join("events").join(function);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

/// A 32-byte-plus key for tests.
pub const TEST_PII_KEY: &str = "e2e-test-key-0123456789abcdefghijkl";
