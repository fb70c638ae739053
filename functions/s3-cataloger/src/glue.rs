//! Glue Data Catalog definitions from the shared schema, and the three thin Glue call sites.
//!
//! The definitions match the tables `template.yaml` declares: Parquet with Snappy through the
//! Hive Parquet SerDe, or gzip JSON lines through the OpenX JSON SerDe, both `EXTERNAL_TABLE`
//! partitioned by the shared `year, month, day, hour` string keys.
//!
//! The call sites only send a request and sort the answer into outcomes; what to do with each
//! outcome is decided in [`crate::Cataloger`]. They are tested against the emulator, and with
//! `aws-smithy-mocks` for what the emulator cannot produce.

use std::collections::HashMap;

use aws_sdk_glue::Client;
use aws_sdk_glue::error::{BuildError, SdkError};
use aws_sdk_glue::operation::batch_create_partition::BatchCreatePartitionError;
use aws_sdk_glue::operation::create_table::CreateTableError;
use aws_sdk_glue::operation::get_table::GetTableError;
use aws_sdk_glue::operation::update_table::UpdateTableError;
use aws_sdk_glue::types::Table as GlueTable;
use aws_sdk_glue::types::{Column, PartitionError, PartitionInput, SerDeInfo, StorageDescriptor, TableInput};
use connect_lake::config::LakeFormat;
use connect_lake::schema::Table;

use crate::plan::PartitionRef;

/// `BatchCreatePartition` accepts at most 100 partitions per call.
pub const MAX_PARTITIONS_PER_CALL: usize = 100;

/// The error code Glue reports, inside `Errors[]`, for a partition that already exists.
pub const ALREADY_EXISTS: &str = "AlreadyExistsException";

struct FormatSpec {
    classification: &'static str,
    input_format: &'static str,
    output_format: &'static str,
    serde: &'static str,
    serde_parameters: &'static [(&'static str, &'static str)],
    table_parameters: &'static [(&'static str, &'static str)],
    compressed: bool,
}

const PARQUET: FormatSpec = FormatSpec {
    classification: "parquet",
    input_format: "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    output_format: "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    serde: "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
    serde_parameters: &[("serialization.format", "1")],
    table_parameters: &[("parquet.compression", "SNAPPY")],
    compressed: false,
};

const JSON: FormatSpec = FormatSpec {
    classification: "json",
    input_format: "org.apache.hadoop.mapred.TextInputFormat",
    output_format: "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
    // The OpenX SerDe reads the rows' "YYYY-MM-DD HH:MM:SS.mmm" timestamps without extra settings.
    serde: "org.openx.data.jsonserde.JsonSerDe",
    serde_parameters: &[("ignore.malformed.json", "FALSE"), ("case.insensitive", "TRUE")],
    table_parameters: &[("compressionType", "gzip")],
    compressed: true,
};

const fn spec(format: LakeFormat) -> &'static FormatSpec {
    match format {
        LakeFormat::Parquet => &PARQUET,
        LakeFormat::Json => &JSON,
    }
}

fn parameters(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn column(c: &connect_lake::schema::Column) -> Result<Column, BuildError> {
    Column::builder()
        .name(c.name)
        .r#type(c.kind.glue_type())
        .comment(c.comment)
        .build()
}

/// The storage descriptor of a curated table at `s3://<bucket>/<table>/` in `format`.
///
/// # Errors
/// A [`BuildError`] if a column lacks a name (the static schema always has one).
pub fn storage_descriptor(table: &Table, bucket: &str, format: LakeFormat) -> Result<StorageDescriptor, BuildError> {
    let spec = spec(format);
    let columns = table.columns.iter().map(column).collect::<Result<Vec<_>, _>>()?;
    Ok(StorageDescriptor::builder()
        .set_columns(Some(columns))
        .location(table.location(bucket))
        .input_format(spec.input_format)
        .output_format(spec.output_format)
        .compressed(spec.compressed)
        .stored_as_sub_directories(false)
        .serde_info(
            SerDeInfo::builder()
                .serialization_library(spec.serde)
                .set_parameters(Some(parameters(spec.serde_parameters)))
                .build(),
        )
        .build())
}

/// The `CreateTable` input of a curated table with the storage descriptor `sd`.
///
/// # Errors
/// A [`BuildError`] if the table or a partition key lacks a name (the static schema always has one).
pub fn table_input(table: &Table, sd: StorageDescriptor, format: LakeFormat) -> Result<TableInput, BuildError> {
    let spec = spec(format);
    let mut params = parameters(spec.table_parameters);
    params.insert("EXTERNAL".to_owned(), "TRUE".to_owned());
    params.insert("classification".to_owned(), spec.classification.to_owned());
    let keys = table
        .partition_keys()
        .iter()
        .map(column)
        .collect::<Result<Vec<_>, _>>()?;
    TableInput::builder()
        .name(table.name)
        .description(table.description)
        .table_type("EXTERNAL_TABLE")
        .set_parameters(Some(params))
        .set_partition_keys(Some(keys))
        .storage_descriptor(sd)
        .build()
}

/// A partition's input: the table's storage descriptor with the partition's own location.
pub fn partition_input(table_sd: &StorageDescriptor, partition: &PartitionRef, bucket: &str) -> PartitionInput {
    let mut sd = table_sd.clone();
    sd.location = Some(partition.location(bucket));
    PartitionInput::builder()
        .set_values(Some(partition.values.to_vec()))
        .storage_descriptor(sd)
        .build()
}

/// What `GetTable` said about a table.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// The table exists, as Glue holds it.
    Found(Box<GlueTable>),
    /// `EntityNotFoundException`: the table, or its whole database, does not exist.
    NotFound,
}

/// `GetTable`.
///
/// # Errors
/// Any failure other than the table not existing, after the SDK's retries.
pub async fn get_table(glue: &Client, database: &str, name: &str) -> Result<Lookup, SdkError<GetTableError>> {
    match glue.get_table().database_name(database).name(name).send().await {
        Ok(out) => Ok(out.table.map_or(Lookup::NotFound, |t| Lookup::Found(Box::new(t)))),
        Err(e)
            if e.as_service_error()
                .is_some_and(GetTableError::is_entity_not_found_exception) =>
        {
            Ok(Lookup::NotFound)
        }
        Err(e) => Err(e),
    }
}

/// The columns of `ours` (the shared schema's) that `existing` (a table's columns in Glue) lacks,
/// matched by name without regard to case, as Glue stores them lower-cased. A column both have is
/// never changed, even when its type differs: Glue's readers keep what they were given.
pub fn missing_columns(existing: &[Column], ours: &[Column]) -> Vec<Column> {
    ours.iter()
        .filter(|c| !existing.iter().any(|e| e.name.eq_ignore_ascii_case(&c.name)))
        .cloned()
        .collect()
}

/// The `UpdateTable` input that appends `added` to `table`'s columns and keeps everything else it
/// has: its parameters, partition keys, storage format and location, whoever created it.
///
/// # Errors
/// A [`BuildError`] if Glue's table has no name (Glue always gives one).
pub fn appended_table_input(table: &GlueTable, added: Vec<Column>) -> Result<TableInput, BuildError> {
    let mut sd = table
        .storage_descriptor
        .clone()
        .unwrap_or_else(|| StorageDescriptor::builder().build());
    sd.columns.get_or_insert_with(Vec::new).extend(added);
    TableInput::builder()
        .name(table.name())
        .set_description(table.description.clone())
        .set_owner(table.owner.clone())
        .retention(table.retention)
        .storage_descriptor(sd)
        .set_partition_keys(table.partition_keys.clone())
        .set_view_original_text(table.view_original_text.clone())
        .set_view_expanded_text(table.view_expanded_text.clone())
        .set_table_type(table.table_type.clone())
        .set_parameters(table.parameters.clone())
        .set_target_table(table.target_table.clone())
        .build()
}

/// `UpdateTable`.
///
/// # Errors
/// Any failure, after the SDK's retries.
pub async fn update_table(glue: &Client, database: &str, input: TableInput) -> Result<(), SdkError<UpdateTableError>> {
    glue.update_table()
        .database_name(database)
        .table_input(input)
        .send()
        .await
        .map(|_| ())
}

/// What `CreateTable` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Creation {
    Created,
    /// `AlreadyExistsException`: a concurrent creator (another container, the template) won.
    AlreadyExisted,
    /// `EntityNotFoundException`: the database does not exist.
    DatabaseMissing,
}

/// `CreateTable`.
///
/// # Errors
/// Any other failure, after the SDK's retries.
pub async fn create_table(
    glue: &Client,
    database: &str,
    input: TableInput,
) -> Result<Creation, SdkError<CreateTableError>> {
    match glue
        .create_table()
        .database_name(database)
        .table_input(input)
        .send()
        .await
    {
        Ok(_) => Ok(Creation::Created),
        Err(e) => match e.as_service_error() {
            Some(s) if s.is_already_exists_exception() => Ok(Creation::AlreadyExisted),
            Some(s) if s.is_entity_not_found_exception() => Ok(Creation::DatabaseMissing),
            _ => Err(e),
        },
    }
}

/// `BatchCreatePartition` of at most [`MAX_PARTITIONS_PER_CALL`] partitions: the per-partition
/// errors of a successful call (existing partitions are among them).
///
/// # Errors
/// The call as a whole failing, after the SDK's retries.
pub async fn batch_create_partition(
    glue: &Client,
    database: &str,
    table: &str,
    partitions: Vec<PartitionInput>,
) -> Result<Vec<PartitionError>, SdkError<BatchCreatePartitionError>> {
    debug_assert!(partitions.len() <= MAX_PARTITIONS_PER_CALL);
    let out = glue
        .batch_create_partition()
        .database_name(database)
        .table_name(table)
        .set_partition_input_list(Some(partitions))
        .send()
        .await?;
    Ok(out.errors.unwrap_or_default())
}
