//! What the Glue Data Catalog says about a table: its columns, partition keys, format and
//! location, and its registered partitions. Athena sees exactly this, so the engine does too.

use std::sync::Arc;

use aws_sdk_glue::types::{Column, StorageDescriptor};
use connect_lake::schema::arrow::from_glue_type;
use datafusion::arrow::datatypes::{Field, FieldRef};

use crate::QueryError;

/// How a table's objects are encoded, from its SerDe and InputFormat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `ParquetHiveSerDe` / `MapredParquetInputFormat`.
    Parquet,
    /// A JSON SerDe (OpenX or HCatalog) over `TextInputFormat`: one object per line, `.gz` objects
    /// gzip-compressed.
    JsonLines,
}

/// An `s3://bucket/prefix/` location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    /// The key prefix without leading or trailing `/` (empty for the bucket root).
    pub prefix: String,
}

impl S3Location {
    /// Reads `s3://bucket/prefix` (also `s3a://`, `s3n://`, as Hive writes them).
    ///
    /// # Errors
    /// A message naming what is wrong, for a location that is not an S3 URI or has no bucket.
    pub fn parse(uri: &str) -> Result<Self, String> {
        let rest = ["s3://", "s3a://", "s3n://"]
            .iter()
            .find_map(|scheme| uri.strip_prefix(scheme))
            .ok_or_else(|| format!("location {uri:?} is not an s3:// URI"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(format!("location {uri:?} names no bucket"));
        }
        Ok(S3Location {
            bucket: bucket.to_owned(),
            prefix: prefix.trim_matches('/').to_owned(),
        })
    }

    /// `s3://bucket/prefix/`.
    pub fn uri(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}/", self.bucket)
        } else {
            format!("s3://{}/{}/", self.bucket, self.prefix)
        }
    }
}

/// A Glue table as the engine reads it.
#[derive(Debug, Clone)]
pub struct GlueTable {
    pub name: String,
    /// Data columns, in catalog order, every one nullable.
    pub columns: Vec<FieldRef>,
    /// Partition keys, in catalog order.
    pub partition_keys: Vec<FieldRef>,
    pub format: Format,
    pub location: S3Location,
}

/// One registered partition: its key values (in partition-key order) and where its objects are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GluePartition {
    pub values: Vec<String>,
    pub location: S3Location,
}

fn fields(columns: &[Column]) -> Result<Vec<FieldRef>, String> {
    columns
        .iter()
        .map(|c| {
            let glue_type = c.r#type().ok_or_else(|| format!("column {:?} has no type", c.name()))?;
            let data_type = from_glue_type(glue_type).map_err(|e| format!("column {:?}: {e}", c.name()))?;
            Ok(Arc::new(Field::new(c.name().to_ascii_lowercase(), data_type, true)))
        })
        .collect()
}

fn format_of(sd: &StorageDescriptor) -> Result<Format, String> {
    let serde = sd.serde_info().and_then(|s| s.serialization_library()).unwrap_or("");
    let input = sd.input_format().unwrap_or("");
    if serde.ends_with("ParquetHiveSerDe") || input.ends_with("MapredParquetInputFormat") {
        return Ok(Format::Parquet);
    }
    let json_serde = matches!(
        serde,
        "org.openx.data.jsonserde.JsonSerDe" | "org.apache.hive.hcatalog.data.JsonSerDe"
    );
    if json_serde && (input.is_empty() || input == "org.apache.hadoop.mapred.TextInputFormat") {
        return Ok(Format::JsonLines);
    }
    Err(format!(
        "SerDe {serde:?} with InputFormat {input:?} is not supported; lake-query reads Parquet \
         (ParquetHiveSerDe) and JSON lines (org.openx.data.jsonserde.JsonSerDe or \
         org.apache.hive.hcatalog.data.JsonSerDe over TextInputFormat)"
    ))
}

/// Reads one Glue table definition.
///
/// # Errors
/// A message saying what the engine cannot read: no storage descriptor, a location that is not
/// `s3://bucket/...`, an unsupported SerDe, an unknown column type.
pub fn read_table(table: &aws_sdk_glue::types::Table) -> Result<GlueTable, String> {
    if table.table_type() == Some("VIRTUAL_VIEW") {
        return Err("it is a view (VIRTUAL_VIEW); lake-query reads the lake's tables, not Athena views".to_owned());
    }
    let sd = table
        .storage_descriptor()
        .ok_or_else(|| "the table has no StorageDescriptor".to_owned())?;
    let location = sd
        .location()
        .filter(|l| !l.is_empty())
        .ok_or_else(|| "the table has no Location".to_owned())?;
    Ok(GlueTable {
        location: S3Location::parse(location)?,
        columns: fields(sd.columns())?,
        partition_keys: fields(table.partition_keys())?,
        format: format_of(sd)?,
        name: table.name().to_ascii_lowercase(),
    })
}

fn catalog_error(database: &str, action: &str, err: impl std::error::Error) -> QueryError {
    QueryError::Catalog {
        database: database.to_owned(),
        message: format!("{action}: {}", aws_error_chain(&err)),
    }
}

/// The error and its sources on one line: the SDK's top-level message alone ("service error",
/// "dispatch failure") does not say what went wrong.
pub(crate) fn aws_error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = s.source();
    }
    text
}

/// Every table of the database (`GetTables`, all pages), each read or with the reason it cannot be.
///
/// # Errors
/// [`QueryError::Catalog`] when the catalog cannot be reached or the database does not exist.
pub async fn list_tables(
    glue: &aws_sdk_glue::Client,
    database: &str,
) -> Result<Vec<(String, Result<GlueTable, String>)>, QueryError> {
    let mut tables = Vec::new();
    let mut token: Option<String> = None;
    // A page token that does not change would loop forever; stop at it.
    let mut previous: Option<String> = None;
    loop {
        let page = glue
            .get_tables()
            .database_name(database)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| catalog_error(database, "GetTables failed", e))?;
        for t in page.table_list() {
            tables.push((t.name().to_ascii_lowercase(), read_table(t)));
        }
        match page.next_token() {
            Some(next) if !next.is_empty() && previous.as_deref() != Some(next) => {
                previous = Some(next.to_owned());
                token = previous.clone();
            }
            _ => break,
        }
    }
    Ok(tables)
}

/// The registered partitions of a table (`GetPartitions`, all pages), optionally narrowed by a
/// Glue partition `expression`. A partition without its own location is where Hive puts it:
/// `<table location>/k1=v1/k2=v2/`.
///
/// # Errors
/// [`QueryError::Catalog`] when the call fails, or a partition's location is not an S3 URI.
pub async fn list_partitions(
    glue: &aws_sdk_glue::Client,
    database: &str,
    table: &GlueTable,
    expression: Option<String>,
) -> Result<Vec<GluePartition>, QueryError> {
    let mut partitions = Vec::new();
    let mut token: Option<String> = None;
    // A page token that does not change would loop forever; stop at it.
    let mut previous: Option<String> = None;
    loop {
        let page = glue
            .get_partitions()
            .database_name(database)
            .table_name(&table.name)
            .set_expression(expression.clone())
            // Only the locations are needed; the columns are the table's.
            .exclude_column_schema(true)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| catalog_error(database, &format!("GetPartitions of table {:?} failed", table.name), e))?;
        for p in page.partitions() {
            let values = p.values().to_vec();
            if values.len() != table.partition_keys.len() {
                return Err(QueryError::Catalog {
                    database: database.to_owned(),
                    message: format!(
                        "a partition of table {:?} has {} values {values:?} for {} partition keys",
                        table.name,
                        values.len(),
                        table.partition_keys.len()
                    ),
                });
            }
            let location = match p.storage_descriptor().and_then(|sd| sd.location()) {
                Some(uri) if !uri.is_empty() => S3Location::parse(uri).map_err(|e| QueryError::Catalog {
                    database: database.to_owned(),
                    message: format!("partition {values:?} of table {:?}: {e}", table.name),
                })?,
                _ => {
                    let mut prefix = table.location.prefix.clone();
                    for (key, value) in table.partition_keys.iter().zip(&values) {
                        if !prefix.is_empty() {
                            prefix.push('/');
                        }
                        prefix.push_str(&format!("{}={value}", key.name()));
                    }
                    S3Location {
                        bucket: table.location.bucket.clone(),
                        prefix,
                    }
                }
            };
            partitions.push(GluePartition { values, location });
        }
        match page.next_token() {
            Some(next) if !next.is_empty() && previous.as_deref() != Some(next) => {
                previous = Some(next.to_owned());
                token = previous.clone();
            }
            _ => break,
        }
    }
    Ok(partitions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_locations_keep_bucket_and_prefix_and_reject_the_rest() {
        let l = S3Location::parse("s3://lake/ctr/year=2026/").unwrap();
        assert_eq!((l.bucket.as_str(), l.prefix.as_str()), ("lake", "ctr/year=2026"));
        assert_eq!(l.uri(), "s3://lake/ctr/year=2026/");
        assert_eq!(S3Location::parse("s3a://lake").unwrap().prefix, "");
        assert!(S3Location::parse("s3:///ctr/").unwrap_err().contains("no bucket"));
        assert!(S3Location::parse("/tmp/ctr").unwrap_err().contains("not an s3:// URI"));
    }
}
