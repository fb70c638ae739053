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
    /// The table exists; its storage descriptor, when it has one.
    Found(Option<Box<StorageDescriptor>>),
    /// `EntityNotFoundException`: the table, or its whole database, does not exist.
    NotFound,
}

/// `GetTable`.
///
/// # Errors
/// Any failure other than the table not existing, after the SDK's retries.
pub async fn get_table(glue: &Client, database: &str, name: &str) -> Result<Lookup, SdkError<GetTableError>> {
    match glue.get_table().database_name(database).name(name).send().await {
        Ok(out) => Ok(Lookup::Found(
            out.table.and_then(|t| t.storage_descriptor).map(Box::new),
        )),
        Err(e)
            if e.as_service_error()
                .is_some_and(GetTableError::is_entity_not_found_exception) =>
        {
            Ok(Lookup::NotFound)
        }
        Err(e) => Err(e),
    }
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
