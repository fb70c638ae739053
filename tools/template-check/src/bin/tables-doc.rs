//! Prints `docs/tables.md`, the lake's tables and columns, generated from the shared schema:
//! `cargo run -p template-check --bin tables-doc > docs/tables.md`.

fn main() {
    print!("{}", template_check::tables_doc::tables_markdown());
}
