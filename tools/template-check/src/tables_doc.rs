//! `docs/tables.md`, generated from the one schema (`connect_lake::schema::TABLES`).
//!
//! The page is reference material a reader looks up, so it is generated rather than written:
//! `cargo run -p template-check --bin tables-doc > docs/tables.md` rewrites it, and the
//! `tables_doc` test fails while the committed file differs from [`tables_markdown`].

use std::fmt::Write as _;

use connect_lake::schema::{Storage, TABLES, Table};

/// The command that regenerates `docs/tables.md`.
pub const COMMAND: &str = "cargo run -p template-check --bin tables-doc > docs/tables.md";

/// How a table's objects are stored, as a reader of the catalog sees it.
fn storage_text(storage: Storage) -> &'static str {
    match storage {
        Storage::Delivered => {
            "written by Firehose. `LakeFormat=parquet` (the default): Snappy Parquet after Firehose's \
             record format conversion (Hive Parquet SerDe). `LakeFormat=json`: gzip JSON lines \
             (OpenX JSON SerDe)."
        }
        Storage::JsonLines => {
            "JSON lines (OpenX JSON SerDe) whatever `LakeFormat` says: a function writes them, not Firehose."
        }
        Storage::LogShipped => {
            "gzip JSON lines (OpenX JSON SerDe) whatever `LakeFormat` says: the function's log records, \
             shipped by a CloudWatch Logs subscription through Firehose, partitioned by arrival hour."
        }
    }
}

/// A table cell: `|` escaped, line breaks folded.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn write_table(out: &mut String, table: &Table) {
    let _ = writeln!(out, "## `{}`\n", table.name);
    let _ = writeln!(out, "{}.\n", table.description);
    let _ = writeln!(
        out,
        "- Location: `s3://<lake bucket>/{}/year=YYYY/month=MM/day=DD/hour=HH/`",
        table.name
    );
    let _ = writeln!(out, "- Storage: {}", storage_text(table.storage));
    let keys: Vec<String> = table
        .partition_keys()
        .iter()
        .map(|k| format!("`{}` {}", k.name, k.kind.glue_type()))
        .collect();
    let _ = writeln!(out, "- Partition keys: {}\n", keys.join(", "));
    out.push_str("| column | Glue type | comment |\n|---|---|---|\n");
    for c in table.columns {
        let _ = writeln!(
            out,
            "| `{}` | `{}` | {} |",
            c.name,
            cell(&c.kind.glue_type()),
            cell(c.comment)
        );
    }
    out.push('\n');
}

/// The whole of `docs/tables.md`.
pub fn tables_markdown() -> String {
    let mut out = String::new();
    out.push_str("<!-- Generated from shared/src/schema.rs. Do not edit: run\n");
    let _ = writeln!(out, "     {COMMAND} -->\n");
    out.push_str("# The lake's tables\n\n");
    out.push_str(
        "Every curated table is defined once, in `shared/src/schema.rs` (`connect_lake::schema::TABLES`). The\n\
         rows the functions write, the Glue tables the cataloger creates and the tables declared in\n\
         `template.yaml` are all tested against that definition; this page is generated from it.\n\n",
    );
    out.push_str(
        "All tables live in the one lake bucket, in the Glue database `GLUE_DATABASE` (`connect_lake` by\n\
         default), partitioned by `year`, `month`, `day`, `hour`: zero-padded strings, UTC. Filter on them\n\
         (`year = '2026' AND month = '03'`) so that Athena reads only those partitions.\n\n",
    );
    out.push_str(
        "PII never reaches a table in the clear. Columns named `*_token` (`ctr.customer_endpoint_token`,\n\
         `ctr.system_endpoint_token`, `ctr.transferred_to_endpoint_token`,\n\
         `contact_flow_logs.customer_token`, `fraud_decisions.features.caller_token`) hold HMAC-SHA256\n\
         tokens (`ph_…`) keyed by `PII_TOKEN_KEY`: the same number gives the same token in every table,\n\
         so tables join on them, but the number cannot be read back. `ctr.attributes` keeps attribute\n\
         values with anything that looks like a phone number, an email or a card number tokenized, and\n\
         so do `ctr.tags`, `ctr.contact_details` and the values of `ctr.references`;\n\
         `fraud_decisions.call_attributes` keeps the telephony attributes a decision read with every\n\
         number in them as its `ph_` token. One number is in clear: `ctr.system_endpoint_address`, the\n\
         business's own number that the customer dialled (or the caller id of an outbound call), which\n\
         identifies no person and which queries group by.\n\n",
    );
    out.push_str("| table | what it holds |\n|---|---|\n");
    for t in TABLES {
        let _ = writeln!(out, "| [`{}`](#{}) | {} |", t.name, t.name, cell(t.description));
    }
    out.push('\n');
    for t in TABLES {
        write_table(&mut out, t);
    }
    // One trailing newline, as an editor saves it.
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}
