//! connect-lake's shared library: what every function needs, and no Lambda wiring.
//!
//! - [`schema`]: the curated tables, defined once.
//! - [`ctr`]: lenient contact-record and agent-event types, flattened into rows.
//! - [`pii`]: HMAC tokenization of phone numbers, emails, card numbers.
//! - [`config`]: typed environment configuration.
//! - [`telemetry`]: JSON logs and Embedded Metric Format metrics.
//! - [`firehose`]: the Firehose data-transformation request and response.
//! - [`s3_event`]: S3, SQS and EventBridge object events, parsed leniently.
//! - `aws` (feature `aws`): the one place that builds the SDK configuration.

pub mod config;
pub mod ctr;
pub mod firehose;
pub mod pii;
pub mod s3_event;
pub mod schema;
pub mod telemetry;
pub mod time_fmt;

#[cfg(feature = "aws")]
pub mod aws;
