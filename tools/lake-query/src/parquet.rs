//! Parquet objects read by DataFusion's reader, with every read or footer error naming the
//! object (`s3://bucket/key`): "Corrupt footer" alone does not say which of a partition's files
//! to look at.

use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use datafusion::common::Result;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::ParquetFileReaderFactory;
use datafusion::datasource::physical_plan::parquet::DefaultParquetFileReaderFactory;
use datafusion::parquet::arrow::arrow_reader::ArrowReaderOptions;
use datafusion::parquet::arrow::async_reader::AsyncFileReader;
use datafusion::parquet::errors::ParquetError;
use datafusion::parquet::file::metadata::ParquetMetaData;
use datafusion::physical_plan::metrics::ExecutionPlanMetricsSet;
use futures::FutureExt;
use futures::future::BoxFuture;
use object_store::ObjectStore;

use crate::ObjectError;

/// DataFusion's default reader factory, with errors that name the object.
#[derive(Debug)]
pub struct KeyedReaderFactory {
    inner: DefaultParquetFileReaderFactory,
    /// `s3://bucket`.
    store_url: String,
}

impl KeyedReaderFactory {
    pub fn new(store: Arc<dyn ObjectStore>, store_url: String) -> Self {
        KeyedReaderFactory {
            inner: DefaultParquetFileReaderFactory::new(store),
            store_url,
        }
    }
}

impl ParquetFileReaderFactory for KeyedReaderFactory {
    fn create_reader(
        &self,
        partition_index: usize,
        file: PartitionedFile,
        metadata_size_hint: Option<usize>,
        metrics: &ExecutionPlanMetricsSet,
    ) -> Result<Box<dyn AsyncFileReader + Send>> {
        let uri = format!("{}/{}", self.store_url, file.object_meta.location);
        let inner = self
            .inner
            .create_reader(partition_index, file, metadata_size_hint, metrics)?;
        Ok(Box::new(KeyedReader { inner, uri }))
    }
}

struct KeyedReader {
    inner: Box<dyn AsyncFileReader + Send>,
    uri: String,
}

fn keyed(uri: &str, err: ParquetError) -> ParquetError {
    ParquetError::External(Box::new(ObjectError {
        uri: uri.to_owned(),
        message: format!("not a readable Parquet file: {err}"),
    }))
}

impl AsyncFileReader for KeyedReader {
    fn get_bytes(&mut self, range: Range<u64>) -> BoxFuture<'_, datafusion::parquet::errors::Result<Bytes>> {
        let uri = self.uri.clone();
        self.inner
            .get_bytes(range)
            .map(move |r| r.map_err(|e| keyed(&uri, e)))
            .boxed()
    }

    fn get_byte_ranges(
        &mut self,
        ranges: Vec<Range<u64>>,
    ) -> BoxFuture<'_, datafusion::parquet::errors::Result<Vec<Bytes>>> {
        let uri = self.uri.clone();
        self.inner
            .get_byte_ranges(ranges)
            .map(move |r| r.map_err(|e| keyed(&uri, e)))
            .boxed()
    }

    fn get_metadata<'a>(
        &'a mut self,
        options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, datafusion::parquet::errors::Result<Arc<ParquetMetaData>>> {
        let uri = self.uri.clone();
        self.inner
            .get_metadata(options)
            .map(move |r| r.map_err(|e| keyed(&uri, e)))
            .boxed()
    }
}
