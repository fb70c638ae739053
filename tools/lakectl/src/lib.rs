//! lakectl: connect-lake's local driver.
//!
//! - [`generate`]: synthetic, seeded contact-center traffic.
//! - [`firehose`]: Firehose's buffering, contract checks and partition grouping, played locally.
//! - [`demo`]: the whole pipeline through the real function binaries.
//! - [`bench`]: the benchmarks behind `make bench`.

pub mod bench;
pub mod demo;
pub mod firehose;
pub mod generate;
