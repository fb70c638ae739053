//! lakectl: connect-lake's local driver.
//!
//! - [`generate`]: synthetic, seeded contact-center traffic.
//! - [`firehose`]: Firehose's buffering, contract checks and partition grouping, played locally.
//! - [`stream`]: the demo's stream, and the results the transform must return for its batches.
//! - [`convert`]: Firehose's record format conversion (JSON rows to Snappy Parquet), played locally.
//! - [`demo`]: the whole pipeline through the real function binaries.
//! - [`metrics`]: `lakectl metrics backfill`, Connect's CloudWatch metrics of the past 15 days.
//! - [`query`]: `lakectl query`, SQL and the template's named queries over the lake through Glue.
//! - [`report`]: `lakectl report`, the contact center at a glance as one self-contained HTML page.
//! - [`bench`], [`bench_lake`]: the benchmarks behind `make bench`.

/// The demo's PII token key: never use it for real data.
pub const DEMO_PII_KEY: &str = "connect-lake-demo-key-not-for-production-use";

#[cfg(feature = "backfill")]
pub mod aws_error;
#[cfg(feature = "backfill")]
pub mod backfill;
pub mod bench;
#[cfg(feature = "aws")]
pub mod bench_lake;
#[cfg(feature = "backfill")]
pub mod convert;
#[cfg(feature = "aws")]
pub mod demo;
pub mod firehose;
pub mod generate;
#[cfg(feature = "backfill")]
pub mod lake;
#[cfg(feature = "aws")]
pub mod metrics;
#[cfg(feature = "aws")]
pub mod query;
#[cfg(feature = "aws")]
pub mod report;
pub mod stream;
