//! lakectl: connect-lake's local driver.
//!
//! - [`generate`]: synthetic, seeded contact-center traffic.
//! - [`firehose`]: Firehose's buffering, contract checks and partition grouping, played locally.
//! - [`demo`]: the whole pipeline through the real function binaries.
//! - [`bench`]: the benchmarks behind `make bench`.

/// The demo's PII token key: never use it for real data.
pub const DEMO_PII_KEY: &str = "connect-lake-demo-key-not-for-production-use";

#[cfg(feature = "aws")]
pub mod backfill;
pub mod bench;
#[cfg(feature = "aws")]
pub mod demo;
pub mod firehose;
pub mod generate;
#[cfg(feature = "aws")]
pub mod lake;
