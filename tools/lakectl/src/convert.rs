//! Firehose's record format conversion, played locally: curated JSON rows become one Snappy
//! Parquet object with a Glue table's columns.
//!
//! It reads rows as Firehose's `HiveJsonSerDe` deserializer does for our rows:
//! - `YYYY-MM-DD HH:MM:SS.mmm` in a `timestamp` column becomes a timestamp (UTC, milliseconds);
//! - a missing key becomes null, and a key that is not a column is ignored;
//! - ints, doubles, booleans, strings, arrays, maps and structs map one to one, and a scalar
//!   written where a string is declared is read as its text.
//!
//! A row that does not convert (a value of the wrong type, a timestamp in another form, bad JSON)
//! is returned with its reason, for `errors/format-conversion-failed/`, as Firehose does. It is
//! never dropped.

use std::io::BufRead;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_json::ReaderBuilder;
use arrow_schema::{ArrowError, SchemaRef};
use connect_lake::schema::Table;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

/// Rows per Arrow batch; a Parquet row group holds at most 16 batches.
const BATCH_ROWS: usize = 8192;

/// A row group is flushed once its encoded, not yet written data passes this size: what bounds
/// the writer's memory, whatever the object's size.
const ROW_GROUP_BYTES: usize = 24 * 1024 * 1024;

/// A row that did not convert, with its original bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedRow {
    pub row: Vec<u8>,
    pub reason: String,
}

/// The result of converting one object's rows.
#[derive(Debug, Clone, Default)]
pub struct Converted {
    /// The Parquet object, or `None` when no row converted.
    pub parquet: Option<Vec<u8>>,
    pub rows: usize,
    pub failed: Vec<FailedRow>,
}

/// Why a whole conversion failed (not a row's fault).
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("cannot write Parquet for table {table}: {source}")]
    Write {
        table: &'static str,
        source: parquet::errors::ParquetError,
    },
    #[error("cannot read the Parquet object: {0}")]
    Read(String),
    #[error("cannot build Arrow data for table {table}: {source}")]
    Arrow { table: &'static str, source: ArrowError },
}

/// Converts newline-delimited JSON rows (as the transform delivers them) for `table`.
///
/// # Errors
/// [`ConvertError`] only when the Parquet writer itself fails; bad rows are in
/// [`Converted::failed`].
pub fn rows_to_parquet(table: &'static Table, ndjson: &[u8]) -> Result<Converted, ConvertError> {
    let mut reader = ndjson;
    rows_to_parquet_from(table, &mut reader).map_err(|e| match e {
        StreamError::Convert(e) => e,
        // Reading a byte slice cannot fail.
        StreamError::Read(e) => ConvertError::Read(e.to_string()),
    })
}

/// Why a streamed conversion stopped.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error(transparent)]
    Convert(#[from] ConvertError),
    #[error("cannot read the rows: {0}")]
    Read(#[from] std::io::Error),
}

/// Converts newline-delimited JSON rows read from `rows` for `table`, in bounded memory: rows are
/// decoded [`BATCH_ROWS`] at a time, and a row group is flushed once its encoded data passes
/// [`ROW_GROUP_BYTES`], so only the output object (compressed) grows with the input.
///
/// # Errors
/// The writer failing, or `rows` failing to read; bad rows are in [`Converted::failed`].
pub fn rows_to_parquet_from(table: &'static Table, rows: &mut impl BufRead) -> Result<Converted, StreamError> {
    let schema: SchemaRef = Arc::new(table.arrow_schema());
    let mut converted = Converted::default();
    let mut writer: Option<ArrowWriter<Vec<u8>>> = None;
    let mut chunk: Vec<Vec<u8>> = Vec::with_capacity(BATCH_ROWS);
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = rows.read_until(b'\n', &mut line)?;
        if read > 0 {
            while line.last().is_some_and(u8::is_ascii_whitespace) {
                line.pop();
            }
            if !line.is_empty() {
                chunk.push(std::mem::take(&mut line));
            }
        }
        if chunk.len() == BATCH_ROWS || (read == 0 && !chunk.is_empty()) {
            let lines: Vec<&[u8]> = chunk.iter().map(Vec::as_slice).collect();
            if let Some(batch) = decode_keeping_good_rows(table, &schema, &lines, &mut converted.failed)? {
                let w = match &mut writer {
                    Some(w) => w,
                    None => writer.insert(new_writer(table.name, &schema)?),
                };
                let err = |source| ConvertError::Write {
                    table: table.name,
                    source,
                };
                converted.rows += batch.num_rows();
                w.write(&batch).map_err(err)?;
                if w.in_progress_size() > ROW_GROUP_BYTES {
                    w.flush().map_err(err)?;
                }
            }
            chunk.clear();
        }
        if read == 0 {
            break;
        }
    }
    if let Some(w) = writer {
        let out = w.into_inner().map_err(|source| ConvertError::Write {
            table: table.name,
            source,
        })?;
        converted.parquet = Some(out);
    }
    Ok(converted)
}

/// Decodes one chunk; if something in it is bad, decodes row by row to keep the good rows and
/// return only the bad ones with their reason.
fn decode_keeping_good_rows(
    table: &'static Table,
    schema: &SchemaRef,
    chunk: &[&[u8]],
    failed: &mut Vec<FailedRow>,
) -> Result<Option<RecordBatch>, ConvertError> {
    if let Ok(batch) = decode(schema, chunk) {
        return Ok(Some(batch));
    }
    let mut good: Vec<&[u8]> = Vec::with_capacity(chunk.len());
    for line in chunk {
        match decode(schema, std::slice::from_ref(line)) {
            Ok(_) => good.push(line),
            Err(e) => failed.push(FailedRow {
                row: line.to_vec(),
                reason: reason(&e),
            }),
        }
    }
    if good.is_empty() {
        return Ok(None);
    }
    decode(schema, &good).map(Some).map_err(|source| ConvertError::Arrow {
        table: table.name,
        source,
    })
}

fn decode(schema: &SchemaRef, lines: &[&[u8]]) -> Result<RecordBatch, ArrowError> {
    let mut decoder = ReaderBuilder::new(schema.clone())
        .with_batch_size(lines.len().max(1))
        .with_coerce_primitive(true)
        .with_strict_mode(false)
        .build_decoder()?;
    for line in lines {
        // A row must be one JSON object on one line: anything else is a conversion failure,
        // never a silent null row.
        if serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(line).is_err() {
            return Err(ArrowError::JsonError("the row is not one JSON object".to_owned()));
        }
        let read = decoder.decode(line)?;
        if read != line.len() {
            return Err(ArrowError::JsonError("trailing data after the row".to_owned()));
        }
        decoder.decode(b"\n")?;
    }
    decoder
        .flush()?
        .ok_or_else(|| ArrowError::JsonError("no row decoded".to_owned()))
}

/// The reason recorded with a failed row: Arrow's message, without the row's values.
fn reason(e: &ArrowError) -> String {
    let text = e.to_string();
    // Arrow quotes the offending value in some messages; keep only the part before it so no
    // attribute value (possibly PII) reaches logs or the reason field.
    let cut = text.find(['"', '\'']).unwrap_or(text.len());
    let kept = text.get(..cut).unwrap_or(&text).trim_end_matches([' ', ':']);
    format!("format_conversion_failed: {kept}")
}

fn new_writer(table: &'static str, schema: &SchemaRef) -> Result<ArrowWriter<Vec<u8>>, ConvertError> {
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(BATCH_ROWS * 16))
        .set_created_by("connect-lake (Firehose record format conversion, played locally)".to_owned())
        .build();
    ArrowWriter::try_new(Vec::new(), schema.clone(), Some(props))
        .map_err(|source| ConvertError::Write { table, source })
}

/// One string column of a Parquet object (`None` for nulls), for the demo's own loss check.
///
/// # Errors
/// The object is not Parquet, or has no such string column.
pub fn read_string_column(parquet: Vec<u8>, column: &str) -> Result<Vec<Option<String>>, ConvertError> {
    use arrow_array::cast::AsArray;
    use parquet::arrow::ProjectionMask;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let read_err = |e: parquet::errors::ParquetError| ConvertError::Read(e.to_string());
    let builder = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(parquet)).map_err(read_err)?;
    let index = builder
        .schema()
        .index_of(column)
        .map_err(|e| ConvertError::Read(e.to_string()))?;
    let mask = ProjectionMask::roots(builder.parquet_schema(), [index]);
    let reader = builder.with_projection(mask).build().map_err(read_err)?;
    let mut out = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| ConvertError::Read(e.to_string()))?;
        let values = batch
            .column(0)
            .as_string_opt::<i32>()
            .ok_or_else(|| ConvertError::Read(format!("{column} is not a string column")))?;
        out.extend(values.iter().map(|v| v.map(str::to_owned)));
    }
    Ok(out)
}

/// Firehose's record for a row that failed format conversion, as it writes them under
/// `errors/format-conversion-failed/`: the original row (base64) and why.
pub fn error_record(failed: &FailedRow, table: &str, arrival_ms: u64) -> serde_json::Value {
    serde_json::json!({
        "attemptsMade": 1,
        "arrivalTimestamp": arrival_ms,
        "lastErrorCode": "DataFormatConversion.MalformedData",
        "lastErrorMessage": failed.reason,
        "attemptEndingTimestamp": arrival_ms,
        "rawData": base64_simd::STANDARD.encode_to_string(&failed.row),
        "sequenceNumber": "",
        "subSequenceNumber": null,
        "dataCatalogTable": {"catalogId": null, "databaseName": null, "tableName": table, "region": null, "versionId": "LATEST", "roleArn": null},
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::Array as _;
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Int32Type, Int64Type, TimestampMillisecondType};
    use connect_lake::schema::{CONTACT_FLOW_LOGS, CTR, FRAUD_DECISIONS};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    fn read_back(bytes: Vec<u8>) -> Vec<RecordBatch> {
        let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes))
            .unwrap()
            .build()
            .unwrap();
        reader.collect::<Result<Vec<_>, _>>().unwrap()
    }

    #[test]
    fn rows_become_snappy_parquet_with_the_tables_columns_and_types() {
        let rows = br#"{"contact_id":"c1","handle_time_s":797,"number_of_holds":2,"initiation_timestamp":"2026-03-08 00:55:06.000","contact_lens_enabled":true,"not_a_column":"x"}
{"contact_id":"c2"}
"#;
        let out = rows_to_parquet(&CTR, rows).unwrap();
        assert_eq!((out.rows, out.failed.len()), (2, 0));
        let bytes = out.parquet.unwrap();
        let meta = parquet::file::reader::SerializedFileReader::new(bytes::Bytes::from(bytes.clone())).unwrap();
        use parquet::file::reader::FileReader;
        let rg = meta.metadata().row_group(0);
        assert!(rg.columns().iter().all(|c| c.compression() == Compression::SNAPPY));
        let batches = read_back(bytes);
        let b = &batches[0];
        assert_eq!(b.schema().fields().len(), CTR.columns.len(), "every column, no extra");
        let ts = b
            .column_by_name("initiation_timestamp")
            .unwrap()
            .as_primitive::<TimestampMillisecondType>();
        assert_eq!(ts.value(0), 1_772_931_306_000, "2026-03-08 00:55:06 UTC");
        assert!(ts.is_null(1), "a missing key is null");
        let ht = b.column_by_name("handle_time_s").unwrap().as_primitive::<Int64Type>();
        assert_eq!(ht.value(0), 797);
        let holds = b.column_by_name("number_of_holds").unwrap().as_primitive::<Int32Type>();
        assert_eq!(holds.value(0), 2);
    }

    #[test]
    fn nested_columns_convert_to_lists_maps_and_structs() {
        let decision = br#"{"record":"fraud_decision","risk_score":80,"reasons":["deny_list","jip_mismatch"],"features":{"caller":"number","hop_count":3,"pai_matches":false}}"#;
        let out = rows_to_parquet(&FRAUD_DECISIONS, decision).unwrap();
        assert_eq!((out.rows, out.failed.len()), (1, 0));
        let b = &read_back(out.parquet.unwrap())[0];
        let reasons = b.column_by_name("reasons").unwrap().as_list::<i32>();
        assert_eq!(reasons.value(0).len(), 2);
        let features = b.column_by_name("features").unwrap().as_struct();
        let hops = features
            .column_by_name("hop_count")
            .unwrap()
            .as_primitive::<Int64Type>();
        assert_eq!(hops.value(0), 3);

        let log = br#"{"record":"contact_flow_log","parameters":{"flow":"Main","step":"greeting"},"attribute_keys":["a","b"]}"#;
        let out = rows_to_parquet(&CONTACT_FLOW_LOGS, log).unwrap();
        assert_eq!((out.rows, out.failed.len()), (1, 0));
        let b = &read_back(out.parquet.unwrap())[0];
        let params = b.column_by_name("parameters").unwrap().as_map();
        assert_eq!(params.value(0).len(), 2);
    }

    #[test]
    fn rows_that_do_not_convert_are_returned_with_a_reason_and_the_rest_convert() {
        let rows = br#"{"contact_id":"ok1","handle_time_s":10}
{"contact_id":"bad-type","handle_time_s":"ten minutes"}
{"contact_id":"bad-ts","initiation_timestamp":"yesterday at noon"}
not json at all
["an","array"]
{"contact_id":"ok2"}
"#;
        let out = rows_to_parquet(&CTR, rows).unwrap();
        assert_eq!(out.rows, 2, "the good rows convert");
        assert_eq!(out.failed.len(), 4, "{:?}", out.failed);
        for f in &out.failed {
            assert!(f.reason.starts_with("format_conversion_failed"), "{}", f.reason);
            assert!(
                !f.reason.contains("ten minutes") && !f.reason.contains("noon"),
                "no values: {}",
                f.reason
            );
            assert!(
                rows.windows(f.row.len()).any(|w| w == f.row.as_slice()),
                "the original row is kept"
            );
        }
        let ids: Vec<String> = read_back(out.parquet.unwrap())[0]
            .column_by_name("contact_id")
            .unwrap()
            .as_string::<i32>()
            .iter()
            .map(|v| v.unwrap().to_owned())
            .collect();
        assert_eq!(ids, ["ok1", "ok2"]);
        let record = error_record(&out.failed[0], "ctr", 1);
        assert_eq!(record["dataCatalogTable"]["tableName"], "ctr");
    }

    #[test]
    fn an_input_with_no_good_row_writes_no_object() {
        let out = rows_to_parquet(&CTR, b"{\"handle_time_s\":\"x\"}\n").unwrap();
        assert!(out.parquet.is_none());
        assert_eq!(out.failed.len(), 1);
        let out = rows_to_parquet(&CTR, b"\n\n").unwrap();
        assert!(out.parquet.is_none() && out.failed.is_empty());
    }
}
