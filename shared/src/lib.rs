//! connect-lake's shared library: what every function needs, and no Lambda wiring.
//!
//! - [`schema`]: the curated tables, defined once.
//! - [`ctr`]: lenient contact-record and agent-event types, flattened into rows.
//! - [`pii`]: HMAC tokenization of phone numbers, emails, card numbers.
//! - [`config`]: typed environment configuration.
//! - [`telemetry`]: JSON logs and Embedded Metric Format metrics.
//! - [`firehose`]: the Firehose data-transformation request and response.
//! - [`s3_event`]: S3, SQS and EventBridge object events, parsed leniently.
//! - [`transcript`]: Transcribe, Call Analytics and Contact Lens transcripts, parsed into turns.
//! - [`contact_flow`]: the lenient Connect contact-flow invocation event.
//! - [`flat_answer`]: the flat, size-bounded answer a contact flow reads.
//! - [`remote_config`]: S3 configuration objects cached and refreshed off the call path.
//! - [`deny_list`]: the caller deny list of the contact-flow functions.
//! - `aws` (feature `aws`): the one place that builds the SDK configuration.
//! - `secrets` (feature `secrets`): the PII token key from Secrets Manager, read once at init.

pub mod config;
pub mod contact_flow;
pub mod deny_list;
pub mod flat_answer;
pub mod pii;
pub mod remote_config;
pub mod s3_event;
pub mod schema;
pub mod telemetry;
pub mod time_fmt;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "secrets")]
pub mod secrets;
