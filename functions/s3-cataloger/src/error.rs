//! The cataloger's errors: what went wrong, in words an operator can act on.

use aws_sdk_glue::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use connect_lake::s3_event::EventError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    #[error("the event is not an S3 notification, an EventBridge S3 event or an SQS batch of them: {0}")]
    Event(#[from] EventError),
    #[error(
        "Glue database {database:?} (GLUE_DATABASE) does not exist; the SAM template creates it: deploy the \
         stack, or set GLUE_DATABASE to an existing database"
    )]
    DatabaseMissing { database: String },
    #[error("Glue {operation} for table {table} failed: {message}")]
    Glue {
        operation: &'static str,
        table: &'static str,
        /// The service's error code, when the service answered (`InternalServiceException`, ...).
        code: Option<String>,
        message: String,
    },
    #[error("the Glue definition of table {table} could not be built: {message}")]
    Definition { table: &'static str, message: String },
    #[error("partition {partition} was not registered: {code}: {message}")]
    Partition {
        partition: String,
        code: String,
        message: String,
    },
    #[error("{failed} of {total} partitions were not registered; the first failure: {first}")]
    PartitionsFailed {
        failed: u64,
        total: u64,
        first: Box<CatalogError>,
    },
}

impl CatalogError {
    /// A stable error type for CloudWatch and the Lambda error response.
    pub fn error_type(&self) -> &'static str {
        match self {
            CatalogError::Event(_) => "InvalidEvent",
            CatalogError::DatabaseMissing { .. } => "GlueDatabaseMissing",
            CatalogError::Glue { .. } => "GlueCallFailed",
            CatalogError::Definition { .. } => "TableDefinitionInvalid",
            CatalogError::Partition { .. } => "PartitionNotRegistered",
            // The cause is what an operator needs to see first.
            CatalogError::PartitionsFailed { first, .. } => first.error_type(),
        }
    }

    /// A Glue call that failed after the SDK's retries.
    pub(crate) fn glue<E>(operation: &'static str, table: &'static str, error: &SdkError<E>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let code = error.code().map(str::to_owned);
        let message = match (error.code(), error.message()) {
            (Some(code), Some(message)) => format!("{code}: {message}"),
            (Some(code), None) => code.to_owned(),
            // Timeouts, connection failures, unparseable responses: the whole chain says which.
            _ => DisplayErrorContext(error).to_string(),
        };
        CatalogError::Glue {
            operation,
            table,
            code,
            message,
        }
    }
}

impl From<CatalogError> for lambda_runtime::Diagnostic {
    fn from(e: CatalogError) -> Self {
        lambda_runtime::Diagnostic {
            error_type: e.error_type().to_owned(),
            error_message: e.to_string(),
        }
    }
}
