//! A collected query result and its renderings: an aligned text table, CSV, and a JSON array
//! of row objects.

use std::time::Duration;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::arrow::util::pretty::pretty_format_batches_with_schema;

use crate::QueryError;

/// The rows of a query, with the time it took from parsing to the last batch.
#[derive(Debug, Clone)]
pub struct QueryResult {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
    pub elapsed: Duration,
}

fn format_error(e: impl std::fmt::Display) -> QueryError {
    QueryError::Format { message: e.to_string() }
}

impl QueryResult {
    /// The number of rows.
    pub fn rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    /// An aligned text table with a header, as `psql` or the Athena console show results.
    ///
    /// # Errors
    /// [`QueryError::Format`] for a value Arrow cannot display.
    pub fn to_table(&self) -> Result<String, QueryError> {
        pretty_format_batches_with_schema(self.schema.clone(), &self.batches)
            .map(|t| t.to_string())
            .map_err(format_error)
    }

    /// CSV with a header row (RFC 4180 quoting); null is an empty field, arrays, maps and
    /// structs are written as Arrow displays them (`[a, b]`, `{k: v}`).
    ///
    /// # Errors
    /// [`QueryError::Format`] for a value Arrow cannot display.
    pub fn to_csv(&self) -> Result<String, QueryError> {
        fn field(out: &mut String, value: &str) {
            if value.contains([',', '"', '\n', '\r']) {
                out.push('"');
                out.push_str(&value.replace('"', "\"\""));
                out.push('"');
            } else {
                out.push_str(value);
            }
        }
        let mut out = String::new();
        for (i, f) in self.schema.fields().iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            field(&mut out, f.name());
        }
        out.push('\n');
        let options = FormatOptions::default().with_null("");
        for batch in &self.batches {
            let formatters = batch
                .columns()
                .iter()
                .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
                .collect::<Result<Vec<_>, _>>()
                .map_err(format_error)?;
            for row in 0..batch.num_rows() {
                for (i, f) in formatters.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    field(&mut out, &f.value(row).try_to_string().map_err(format_error)?);
                }
                out.push('\n');
            }
        }
        Ok(out)
    }

    /// A JSON array with one object per row (null columns left out, arrays, maps and structs
    /// as JSON arrays and objects, timestamps as ISO 8601 strings).
    ///
    /// # Errors
    /// [`QueryError::Format`] for a type the Arrow JSON writer cannot write.
    pub fn to_json(&self) -> Result<String, QueryError> {
        let mut writer = datafusion::arrow::json::ArrayWriter::new(Vec::new());
        let batches: Vec<&RecordBatch> = self.batches.iter().collect();
        writer.write_batches(&batches).map_err(format_error)?;
        writer.finish().map_err(format_error)?;
        let bytes = writer.into_inner();
        if bytes.is_empty() {
            return Ok("[]".to_owned());
        }
        String::from_utf8(bytes).map_err(format_error)
    }
}
