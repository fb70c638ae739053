//! Starting the Amazon Transcribe job of a call recording.
//!
//! One job per contact, named after the contact id: a replayed recording event asks for the same
//! job again, and Transcribe's `ConflictException` says it exists, which is success. Channel
//! identification keeps agent and customer apart (Connect records them on separate channels).

use aws_sdk_transcribe::Client;
use aws_sdk_transcribe::types::{JobExecutionSettings, LanguageCode, Media, MediaFormat, Settings};

use crate::aws_error::error_code;

/// Everything one `StartTranscriptionJob` call needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobSpec {
    pub job_name: String,
    pub media_uri: String,
    pub language: String,
    pub output_bucket: String,
    pub output_key: String,
    /// The data access role Transcribe assumes to read and write S3 (`TRANSCRIBE_ROLE_ARN`).
    pub role_arn: Option<String>,
}

/// The outcome of asking for a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStart {
    Started,
    /// A job with this name exists: an earlier delivery of the same event started it.
    AlreadyStarted,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("StartTranscriptionJob failed: {code}")]
pub struct TranscribeError {
    pub code: String,
}

/// Starts the job, treating an existing job of the same name as started.
///
/// # Errors
/// [`TranscribeError`] for any other failure (throttling after retries, a bad request, ...).
pub async fn start_job(client: &Client, spec: &JobSpec) -> Result<JobStart, TranscribeError> {
    let mut request = client
        .start_transcription_job()
        .transcription_job_name(&spec.job_name)
        .language_code(LanguageCode::from(spec.language.as_str()))
        .media_format(MediaFormat::Wav)
        .media(Media::builder().media_file_uri(&spec.media_uri).build())
        .output_bucket_name(&spec.output_bucket)
        .output_key(&spec.output_key)
        .settings(Settings::builder().channel_identification(true).build());
    if let Some(role) = &spec.role_arn {
        // Transcribe requires deferred execution whenever a data access role is given; it also
        // queues jobs instead of failing them when the account's concurrency limit is reached.
        request = request.job_execution_settings(
            JobExecutionSettings::builder()
                .allow_deferred_execution(true)
                .data_access_role_arn(role)
                .build(),
        );
    }
    match request.send().await {
        Ok(_) => Ok(JobStart::Started),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_conflict_exception()) => Ok(JobStart::AlreadyStarted),
        Err(e) => Err(TranscribeError { code: error_code(&e) }),
    }
}
