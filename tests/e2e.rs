//! The end-to-end tests: the real function binaries through the Lambda Runtime API, against the
//! local AWS emulator. One test binary with a module per area (`cargo nextest run -p
//! connect-lake-e2e -E 'test(/^demo::/)'` runs one area), so the functions, lakectl and DataFusion
//! are linked once rather than into every file's own binary.

mod backfill;
mod connect_telemetry;
mod contact_flow;
mod demo;
mod emulator;
mod firehose_transform;
mod log_level;
mod pii;
mod query_cli;
mod reference_queries;
mod report;
mod s3_cataloger;
mod sentiment_enricher;
