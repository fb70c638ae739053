//! Stable, content-free descriptions of SDK errors, for logs, metrics and error messages.

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

/// The service's error code (`ThrottlingException`, `NoSuchKey`), or the kind of failure when the
/// request never got a modeled answer (`Timeout`, `DispatchFailure`). Never the request content.
pub fn error_code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> String {
    match err {
        SdkError::ServiceError(_) => err.code().unwrap_or("ServiceError").to_owned(),
        SdkError::TimeoutError(_) => "Timeout".to_owned(),
        SdkError::DispatchFailure(_) => "DispatchFailure".to_owned(),
        SdkError::ResponseError(_) => "ResponseError".to_owned(),
        SdkError::ConstructionFailure(_) => "ConstructionFailure".to_owned(),
        _ => "Unknown".to_owned(),
    }
}
