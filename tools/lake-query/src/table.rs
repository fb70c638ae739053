//! A Glue table as a DataFusion [`TableProvider`]: each scan asks Glue for the table's
//! partitions (narrowed by the query's partition-key filters), lists the objects under each
//! partition's location, and reads them as Parquet or JSON lines with the partition values
//! attached as columns. An object in a partition Glue does not list is never read, as in Athena.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_config::SdkConfig;
use datafusion::arrow::array::{Array, BooleanArray, RecordBatch};
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::config::TableParquetOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, DFSchema, Result, ScalarValue, project_schema};
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::listing::helpers::expr_applicable_for_cols;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfigBuilder, FileSource, ParquetSource};
use datafusion::datasource::source::DataSourceExec;
use datafusion::datasource::table_schema::TableSchema;
use datafusion::error::DataFusionError;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{BinaryExpr, Expr, Operator, TableProviderFilterPushDown, TableType};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::union::UnionExec;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStore};

use crate::catalog::{self, Format, GluePartition, GlueTable, S3Location};
use crate::json::HiveJsonSource;
use crate::parquet::KeyedReaderFactory;
use crate::{LocationError, store};

/// How many objects a scan reads at once, at least.
const S3_READ_CONCURRENCY: usize = 16;

/// What every table of one session shares: the Glue client, the database, the SDK config the
/// S3 stores are built from.
#[derive(Debug)]
pub struct Shared {
    pub glue: aws_sdk_glue::Client,
    pub database: String,
    pub config: SdkConfig,
}

/// One Glue table.
#[derive(Debug)]
pub struct GlueTableProvider {
    table: GlueTable,
    schema: SchemaRef,
    shared: Arc<Shared>,
}

impl GlueTableProvider {
    pub fn new(table: GlueTable, shared: Arc<Shared>) -> Self {
        let fields: Vec<_> = table.columns.iter().chain(&table.partition_keys).cloned().collect();
        GlueTableProvider {
            schema: Arc::new(Schema::new(fields)),
            table,
            shared,
        }
    }

    fn partition_key_names(&self) -> Vec<&str> {
        self.table.partition_keys.iter().map(|f| f.name().as_str()).collect()
    }

    /// The partitions the filters can match: Glue narrows by the simple comparisons it
    /// understands, then every partition-only filter is evaluated on the partition values here,
    /// so the pruning is exact.
    async fn partitions(&self, state: &dyn Session, filters: &[Expr]) -> Result<Vec<GluePartition>> {
        if self.table.partition_keys.is_empty() {
            return Ok(vec![GluePartition {
                values: Vec::new(),
                location: self.table.location.clone(),
            }]);
        }
        let names = self.partition_key_names();
        let filters: Vec<Expr> = filters
            .iter()
            .filter(|f| expr_applicable_for_cols(&names, f))
            .map(unqualify)
            .collect::<Result<_>>()?;
        let expression = glue_expression(&filters);
        let partitions = catalog::list_partitions(&self.shared.glue, &self.shared.database, &self.table, expression)
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        self.prune(state, partitions, &filters)
    }

    fn prune(
        &self,
        state: &dyn Session,
        partitions: Vec<GluePartition>,
        filters: &[Expr],
    ) -> Result<Vec<GluePartition>> {
        let Some(predicate) = conjunction(filters.iter().cloned()) else {
            return Ok(partitions);
        };
        if partitions.is_empty() {
            return Ok(partitions);
        }
        let schema = Arc::new(Schema::new(self.table.partition_keys.clone()));
        let columns = self
            .table
            .partition_keys
            .iter()
            .enumerate()
            .map(|(i, key)| {
                let values = partitions
                    .iter()
                    .map(|p| partition_value(&p.values[i], key.data_type()))
                    .collect::<Result<Vec<_>>>()?;
                ScalarValue::iter_to_array(values)
            })
            .collect::<Result<Vec<_>>>()?;
        let batch = RecordBatch::try_new(Arc::clone(&schema), columns)?;
        let df_schema = DFSchema::try_from(schema)?;
        let physical = state.create_physical_expr(predicate, &df_schema)?;
        let mask = physical.evaluate(&batch)?.into_array(batch.num_rows())?;
        let mask = mask
            .as_any()
            .downcast_ref::<BooleanArray>()
            .ok_or_else(|| DataFusionError::Plan("a partition filter is not a boolean expression".to_owned()))?;
        Ok(partitions
            .into_iter()
            .enumerate()
            .filter(|(i, _)| mask.is_valid(*i) && mask.value(*i))
            .map(|(_, p)| p)
            .collect())
    }

    fn store(&self, state: &dyn Session, bucket: &str) -> Result<(ObjectStoreUrl, Arc<dyn ObjectStore>)> {
        let url = ObjectStoreUrl::parse(format!("s3://{bucket}"))?;
        let runtime = state.runtime_env();
        if let Ok(existing) = runtime.object_store(&url) {
            return Ok((url, existing));
        }
        let built = store::s3_store(&self.shared.config, bucket).map_err(|e| {
            DataFusionError::External(Box::new(LocationError {
                table: self.table.name.clone(),
                location: format!("s3://{bucket}/"),
                message: format!("cannot configure S3 access: {e}"),
            }))
        })?;
        runtime.register_object_store(url.as_ref(), Arc::clone(&built));
        Ok((url, built))
    }

    /// The data objects of one partition: every object under its location, subfolders included
    /// (as Athena reads them), without zero-byte "folder" markers and without what Hive treats as
    /// hidden: any file or folder below the location whose name starts with `_` or `.`
    /// (`_SUCCESS`, `_temporary/`, `.crc` files).
    async fn files(&self, store: Arc<dyn ObjectStore>, partition: GluePartition) -> Result<Vec<PartitionedFile>> {
        let prefix = Path::from(partition.location.prefix.as_str());
        let objects: Vec<ObjectMeta> = store.list(Some(&prefix)).try_collect().await.map_err(|e| {
            DataFusionError::External(Box::new(LocationError {
                table: self.table.name.clone(),
                location: partition.location.uri(),
                message: listing_problem(&e, &partition.location),
            }))
        })?;
        let values = self
            .table
            .partition_keys
            .iter()
            .zip(&partition.values)
            .map(|(key, value)| partition_value(value, key.data_type()))
            .collect::<Result<Vec<_>>>()?;
        let visible = |o: &ObjectMeta| {
            o.size > 0
                && o.location.prefix_match(&prefix).is_some_and(|mut parts| {
                    parts.all(|part| !part.as_ref().starts_with('_') && !part.as_ref().starts_with('.'))
                })
        };
        Ok(objects
            .into_iter()
            .filter(visible)
            .map(|o| PartitionedFile::new_from_meta(o).with_partition_values(values.clone()))
            .collect())
    }
}

/// A partition value as the key's type. Hive writes `__HIVE_DEFAULT_PARTITION__` for null.
fn partition_value(value: &str, data_type: &datafusion::arrow::datatypes::DataType) -> Result<ScalarValue> {
    if value == "__HIVE_DEFAULT_PARTITION__" {
        return ScalarValue::try_from(data_type);
    }
    ScalarValue::try_from_string(value.to_owned(), data_type)
}

fn listing_problem(err: &object_store::Error, location: &S3Location) -> String {
    let text = catalog::aws_error_chain(err);
    if text.contains("NoSuchBucket") || text.contains("specified bucket does not exist") {
        format!("bucket {:?} does not exist", location.bucket)
    } else {
        format!("cannot list the objects: {text}")
    }
}

/// The filter with its column references stripped of table qualifiers, so it can be evaluated
/// against the bare partition-key schema.
fn unqualify(expr: &Expr) -> Result<Expr> {
    expr.clone()
        .transform(|e| match e {
            Expr::Column(c) => Ok(Transformed::yes(Expr::Column(Column::new_unqualified(c.name)))),
            other => Ok(Transformed::no(other)),
        })
        .map(|t| t.data)
}

/// The part of the filters Glue's `GetPartitions` expression language can say: comparisons of a
/// string partition key with a string literal, and `IN` lists of them, joined with `AND`.
/// Everything else is left to the exact local evaluation.
fn glue_expression(filters: &[Expr]) -> Option<String> {
    fn quote(value: &ScalarValue) -> Option<String> {
        match value {
            ScalarValue::Utf8(Some(s)) | ScalarValue::LargeUtf8(Some(s)) | ScalarValue::Utf8View(Some(s)) => {
                Some(format!("'{}'", s.replace('\'', "''")))
            }
            _ => None,
        }
    }
    fn term(expr: &Expr) -> Option<String> {
        match expr {
            Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
                let op = match op {
                    Operator::Eq => "=",
                    Operator::NotEq => "<>",
                    Operator::Lt => "<",
                    Operator::LtEq => "<=",
                    Operator::Gt => ">",
                    Operator::GtEq => ">=",
                    Operator::And => {
                        return Some(format!("({}) AND ({})", term(left)?, term(right)?));
                    }
                    _ => return None,
                };
                match (left.as_ref(), right.as_ref()) {
                    (Expr::Column(c), Expr::Literal(v, _)) => Some(format!("{} {op} {}", c.name, quote(v)?)),
                    (Expr::Literal(v, _), Expr::Column(c)) => {
                        let flipped = match op {
                            "<" => ">",
                            "<=" => ">=",
                            ">" => "<",
                            ">=" => "<=",
                            same => same,
                        };
                        Some(format!("{} {flipped} {}", c.name, quote(v)?))
                    }
                    _ => None,
                }
            }
            Expr::InList(list) if !list.negated => {
                let Expr::Column(c) = list.expr.as_ref() else {
                    return None;
                };
                let values = list
                    .list
                    .iter()
                    .map(|v| match v {
                        Expr::Literal(v, _) => quote(v),
                        _ => None,
                    })
                    .collect::<Option<Vec<_>>>()?;
                Some(format!("{} IN ({})", c.name, values.join(", ")))
            }
            _ => None,
        }
    }
    let terms: Vec<String> = filters.iter().filter_map(term).collect();
    (!terms.is_empty()).then(|| terms.join(" AND "))
}

#[async_trait::async_trait]
impl TableProvider for GlueTableProvider {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> Result<Vec<TableProviderFilterPushDown>> {
        let names = self.partition_key_names();
        Ok(filters
            .iter()
            .map(|f| {
                if !names.is_empty() && expr_applicable_for_cols(&names, f) {
                    TableProviderFilterPushDown::Exact
                } else {
                    TableProviderFilterPushDown::Unsupported
                }
            })
            .collect())
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let partitions = self.partitions(state, filters).await?;
        tracing::debug!(table = %self.table.name, partitions = partitions.len(), "partitions to read");

        // Partitions may live in other buckets than the table: one scan per bucket.
        let mut by_bucket: BTreeMap<String, Vec<GluePartition>> = BTreeMap::new();
        for p in partitions {
            by_bucket.entry(p.location.bucket.clone()).or_default().push(p);
        }
        // Reading objects waits on S3 far more than on the CPU: read up to 16 at a time even on
        // a 2-core machine (DataFusion's target is the core count).
        let target = state.config().target_partitions().max(S3_READ_CONCURRENCY);
        let mut scans: Vec<Arc<dyn ExecutionPlan>> = Vec::new();
        for (bucket, partitions) in by_bucket {
            let (url, store) = self.store(state, &bucket)?;
            let files: Vec<PartitionedFile> = futures::stream::iter(partitions)
                .map(|p| self.files(Arc::clone(&store), p))
                .buffered(16)
                .try_concat()
                .await?;
            if files.is_empty() {
                continue;
            }
            let mut groups: Vec<Vec<PartitionedFile>> = vec![Vec::new(); target.min(files.len())];
            let group_count = groups.len();
            for (i, f) in files.into_iter().enumerate() {
                groups[i % group_count].push(f);
            }
            let file_schema = Arc::new(Schema::new(self.table.columns.clone()));
            let table_schema = TableSchema::builder(file_schema)
                .with_table_partition_cols(self.table.partition_keys.clone())
                .build();
            let source: Arc<dyn FileSource> = match self.table.format {
                Format::Parquet => {
                    let options = TableParquetOptions {
                        global: state.config_options().execution.parquet.clone(),
                        ..Default::default()
                    };
                    let readers = KeyedReaderFactory::new(Arc::clone(&store), format!("s3://{bucket}"));
                    Arc::new(
                        ParquetSource::new(table_schema)
                            .with_table_parquet_options(options)
                            .with_parquet_file_reader_factory(Arc::new(readers)),
                    )
                }
                Format::JsonLines => Arc::new(HiveJsonSource::new(table_schema, format!("s3://{bucket}"))),
            };
            let config = FileScanConfigBuilder::new(url, source)
                .with_file_groups(groups.into_iter().map(FileGroup::new).collect())
                .with_projection_indices(projection.cloned())?
                .with_limit(limit)
                .build();
            scans.push(DataSourceExec::from_data_source(config));
        }
        match scans.len() {
            0 => Ok(Arc::new(EmptyExec::new(project_schema(&self.schema, projection)?))),
            1 => Ok(scans.remove(0)),
            _ => Ok(UnionExec::try_new(scans)?),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::logical_expr::{col, lit};

    #[test]
    fn glue_expression_keeps_simple_string_comparisons_only() {
        let filters = vec![
            col("year").eq(lit("2026")),
            lit("05").lt_eq(col("month")),
            col("day").in_list(vec![lit("01"), lit("0'2")], false),
            col("hour").eq(lit(3)),
        ];
        assert_eq!(
            glue_expression(&filters).as_deref(),
            Some("year = '2026' AND month >= '05' AND day IN ('01', '0''2')")
        );
        assert_eq!(glue_expression(&[col("hour").eq(lit(3))]), None);
    }
}
