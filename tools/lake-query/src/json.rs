//! JSON-lines objects as the Hive JSON SerDes read them: one object per line, read with the Glue
//! table's schema (a key that is not a column is ignored, a missing key is null, a
//! `YYYY-MM-DD HH:MM:SS.mmm` string in a `timestamp` column is a timestamp), and an object whose
//! key ends in `.gz` is gzip, as Firehose writes the log-shipped tables.
//!
//! DataFusion's own JSON source only decompresses with its `compression` feature, which builds
//! C xz, zstd and bzip2 libraries; this source reads gzip with `flate2` instead. Objects are read
//! whole (they are Firehose buffers, megabytes at most), so a file is never split into ranges.

use std::fmt;
use std::io::{BufReader, Cursor, Read};
use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::json::ReaderBuilder;
use datafusion::common::Result;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{FileOpenFuture, FileOpener, FileScanConfig, FileSource};
use datafusion::datasource::projection::{ProjectionOpener, SplitProjection};
use datafusion::datasource::table_schema::TableSchema;
use datafusion::error::DataFusionError;
use datafusion::physical_expr::projection::ProjectionExprs;
use datafusion::physical_plan::PhysicalExpr;
use datafusion::physical_plan::metrics::ExecutionPlanMetricsSet;
use futures::{FutureExt, StreamExt};
use object_store::{ObjectStore, ObjectStoreExt};

use crate::ObjectError;

/// A [`FileSource`] for Hive-style JSON lines, plain or gzip.
#[derive(Clone)]
pub struct HiveJsonSource {
    table_schema: TableSchema,
    batch_size: Option<usize>,
    metrics: ExecutionPlanMetricsSet,
    projection: SplitProjection,
    /// `s3://bucket`, to name objects in errors.
    store_url: String,
}

impl HiveJsonSource {
    pub fn new(table_schema: TableSchema, store_url: String) -> Self {
        HiveJsonSource {
            projection: SplitProjection::unprojected(&table_schema),
            table_schema,
            batch_size: None,
            metrics: ExecutionPlanMetricsSet::new(),
            store_url,
        }
    }
}

impl FileSource for HiveJsonSource {
    fn create_file_opener(
        &self,
        object_store: Arc<dyn ObjectStore>,
        _base_config: &FileScanConfig,
        _partition: usize,
    ) -> Result<Arc<dyn FileOpener>> {
        let file_schema = self.table_schema.file_schema();
        let opener = Arc::new(HiveJsonOpener {
            batch_size: self.batch_size.unwrap_or(8192),
            schema: Arc::new(file_schema.project(&self.projection.file_indices)?),
            store: object_store,
            store_url: self.store_url.clone(),
        });
        ProjectionOpener::try_new(self.projection.clone(), opener, file_schema)
    }

    fn table_schema(&self) -> &TableSchema {
        &self.table_schema
    }

    fn with_batch_size(&self, batch_size: usize) -> Arc<dyn FileSource> {
        let mut source = self.clone();
        source.batch_size = Some(batch_size);
        Arc::new(source)
    }

    fn try_pushdown_projection(&self, projection: &ProjectionExprs) -> Result<Option<Arc<dyn FileSource>>> {
        let mut source = self.clone();
        let merged = self.projection.source.try_merge(projection)?;
        source.projection = SplitProjection::new(self.table_schema.file_schema(), &merged);
        Ok(Some(Arc::new(source)))
    }

    fn projection(&self) -> Option<&ProjectionExprs> {
        Some(&self.projection.source)
    }

    fn metrics(&self) -> &ExecutionPlanMetricsSet {
        &self.metrics
    }

    fn file_type(&self) -> &str {
        "json"
    }

    fn supports_repartitioning(&self) -> bool {
        false
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        datafusion::physical_plan::execution_plan::apply_expression_roots(self.projection.source.iter(), f)
    }
}

impl fmt::Debug for HiveJsonSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HiveJsonSource")
            .field("store_url", &self.store_url)
            .finish()
    }
}

/// Lines read to learn how a file spells its keys.
const SPELLING_LINES: usize = 64;

/// `schema` with each column named as the file's top-level keys spell it, when they spell it in
/// another case: the catalog's JSON SerDe matches keys to columns case-insensitively
/// (`case.insensitive`), and Connect's own records (its flow logs) use PascalCase keys. The
/// spelling is learned from the first lines; `schema` itself is returned when nothing differs.
fn schema_as_spelled(schema: &SchemaRef, text: &[u8]) -> SchemaRef {
    let mut spelled: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    for line in text
        .split(|b| *b == b'\n')
        .filter(|l| !l.trim_ascii().is_empty())
        .take(SPELLING_LINES)
    {
        let Ok(object) = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(line) else {
            continue;
        };
        for key in object.keys().filter(|k| k.bytes().any(|b| b.is_ascii_uppercase())) {
            spelled.entry(key.to_ascii_lowercase()).or_insert_with(|| key.clone());
        }
    }
    if !schema.fields().iter().any(|f| spelled.contains_key(f.name())) {
        return Arc::clone(schema);
    }
    let fields: Vec<_> = schema
        .fields()
        .iter()
        .map(|f| match spelled.get(f.name()) {
            Some(key) => Arc::new(f.as_ref().clone().with_name(key)),
            None => Arc::clone(f),
        })
        .collect();
    Arc::new(datafusion::arrow::datatypes::Schema::new_with_metadata(
        fields,
        schema.metadata().clone(),
    ))
}

struct HiveJsonOpener {
    batch_size: usize,
    /// The file columns this scan reads, in order.
    schema: SchemaRef,
    store: Arc<dyn ObjectStore>,
    store_url: String,
}

impl FileOpener for HiveJsonOpener {
    fn open(&self, file: PartitionedFile) -> Result<FileOpenFuture> {
        let store = Arc::clone(&self.store);
        let schema = Arc::clone(&self.schema);
        let batch_size = self.batch_size;
        let location = file.object_meta.location.clone();
        let uri = format!("{}/{}", self.store_url, location);
        Ok(async move {
            let object_error = |message: String| {
                DataFusionError::External(Box::new(ObjectError {
                    uri: uri.clone(),
                    message,
                }))
            };
            let bytes = store
                .get(&location)
                .await
                .map_err(|e| object_error(format!("cannot read the object: {e}")))?
                .bytes()
                .await
                .map_err(|e| object_error(format!("cannot read the object: {e}")))?;
            let plain: bytes::Bytes = if location.as_ref().ends_with(".gz") {
                let mut plain = Vec::new();
                flate2::read::MultiGzDecoder::new(&bytes[..])
                    .read_to_end(&mut plain)
                    .map_err(|e| object_error(format!("not valid gzip: {e}")))?;
                plain.into()
            } else {
                bytes
            };
            let spelled = schema_as_spelled(&schema, &plain);
            let text: Box<dyn Read + Send> = Box::new(Cursor::new(plain));
            let reader = ReaderBuilder::new(Arc::clone(&spelled))
                .with_batch_size(batch_size)
                .build(BufReader::new(text))
                .map_err(|e| object_error(format!("cannot read JSON lines: {e}")))?;
            let batches = reader.map(move |batch| -> Result<datafusion::arrow::record_batch::RecordBatch> {
                let batch = batch.map_err(|e| {
                    DataFusionError::External(Box::new(ObjectError {
                        uri: uri.clone(),
                        message: format!("not JSON lines of this table's schema: {e}"),
                    }))
                })?;
                if Arc::ptr_eq(&spelled, &schema) {
                    return Ok(batch);
                }
                // Back to the catalog's (lower-case) column names.
                Ok(datafusion::arrow::record_batch::RecordBatch::try_new(
                    Arc::clone(&schema),
                    batch.columns().to_vec(),
                )?)
            });
            Ok(futures::stream::iter(batches).boxed())
        }
        .boxed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    #[test]
    fn pascal_case_keys_are_matched_to_lower_case_columns_as_the_openx_serde_does() {
        let schema: SchemaRef = Arc::new(Schema::new(vec![
            Field::new("contactid", DataType::Utf8, true),
            Field::new("results", DataType::Utf8, true),
            Field::new("year", DataType::Utf8, true),
        ]));
        let text = b"{\"ContactId\":\"c-1\",\"Results\":\"Error\"}\n\n{\"ContactId\":\"c-2\"}\n";
        let spelled = schema_as_spelled(&schema, text);
        let names: Vec<&str> = spelled.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names, ["ContactId", "Results", "year"]);
        let lower = schema_as_spelled(&schema, b"{\"contactid\":\"c-1\",\"Other\":1}\n");
        assert!(Arc::ptr_eq(&lower, &schema), "nothing to rename: the schema itself");
    }
}
