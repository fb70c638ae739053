//! Starting the Amazon Transcribe job of a call recording.
//!
//! One job per contact, named after the contact id: a replayed recording event asks for the same
//! job again, and Transcribe's `ConflictException` says it exists, which is success. Channel
//! identification keeps agent and customer apart (Connect records them on separate channels).
//!
//! Where Transcribe can redact PII in a batch job (US English and US Spanish), the job asks for it
//! and for the redacted transcript only: no verbatim card numbers, addresses or names ever land
//! under `transcripts/`. For other languages Transcribe rejects redaction, so the job runs without
//! it; `STORE_TRANSCRIPT_TEXT` then stores no text for them (see the crate's `stored_texts`).

use aws_sdk_transcribe::Client;
use aws_sdk_transcribe::types::{
    ContentRedaction, JobExecutionSettings, LanguageCode, Media, MediaFormat, RedactionOutput, RedactionType, Settings,
};

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
    /// The KMS key Transcribe encrypts the transcript with (`TRANSCRIBE_OUTPUT_KMS_KEY_ID`).
    pub output_kms_key: Option<String>,
}

/// The languages whose batch transcripts Transcribe can redact PII from ("Redacting PII in your
/// batch job", Amazon Transcribe developer guide). Redaction is not available with language
/// identification, which these jobs do not use.
pub const REDACTION_LANGUAGES: &[&str] = &["en-US", "es-US"];

/// Whether jobs in `language` ask Transcribe to redact PII.
pub fn redacts(language: &str) -> bool {
    REDACTION_LANGUAGES.iter().any(|l| l.eq_ignore_ascii_case(language))
}

/// PII redaction, redacted transcript only: Transcribe writes no unredacted copy.
fn content_redaction() -> Option<ContentRedaction> {
    ContentRedaction::builder()
        .redaction_type(RedactionType::Pii)
        .redaction_output(RedactionOutput::Redacted)
        .build()
        .ok()
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
        // Without a key Transcribe writes SSE-S3, which the lake bucket's policy refuses: every
        // upload there must use the lake key.
        .set_output_encryption_kms_key_id(spec.output_kms_key.clone())
        .settings(Settings::builder().channel_identification(true).build());
    if redacts(&spec.language) {
        request = request.set_content_redaction(content_redaction());
    }
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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use aws_sdk_transcribe::config::interceptors::BeforeTransmitInterceptorContextRef;
    use aws_sdk_transcribe::config::{BehaviorVersion, ConfigBag, Credentials, Intercept, Region, RuntimeComponents};
    use aws_sdk_transcribe::error::BoxError;
    use lambda_harness::Emulator;
    use serde_json::Value;

    use super::*;

    /// The JSON body of every `StartTranscriptionJob` request that goes over the wire.
    #[derive(Debug, Clone, Default)]
    struct Bodies(Arc<Mutex<Vec<Value>>>);

    impl Intercept for Bodies {
        fn name(&self) -> &'static str {
            "Bodies"
        }

        fn read_before_transmit(
            &self,
            context: &BeforeTransmitInterceptorContextRef<'_>,
            _components: &RuntimeComponents,
            _cfg: &mut ConfigBag,
        ) -> Result<(), BoxError> {
            let body = context.request().body().bytes().unwrap_or_default();
            self.0.lock().unwrap().push(serde_json::from_slice(body)?);
            Ok(())
        }
    }

    const LAKE_KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    fn spec(contact: &str, language: &str) -> JobSpec {
        JobSpec {
            job_name: format!("connect-lake-{contact}"),
            media_uri: format!("s3://lake/connect/CallRecordings/2026/03/08/{contact}_20260308T10:21_UTC.wav"),
            language: language.to_owned(),
            output_bucket: "lake".to_owned(),
            output_key: format!("transcripts/{contact}_20260308T1021Z.json"),
            role_arn: None,
            output_kms_key: Some(LAKE_KEY.to_owned()),
        }
    }

    #[test]
    fn only_the_documented_batch_languages_ask_for_redaction() {
        assert!(redacts("en-US") && redacts("es-US") && redacts("en-us"));
        for other in ["en-GB", "es-ES", "de-DE", "fr-CA", "ja-JP", ""] {
            assert!(!redacts(other), "{other}");
        }
    }

    #[tokio::test]
    async fn a_job_asks_for_pii_redaction_where_supported_and_the_lake_key_for_its_output() {
        let emulator = Emulator::start().await.expect("moto starts (make tools installs it)");
        let bodies = Bodies::default();
        let client = Client::from_conf(
            aws_sdk_transcribe::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .endpoint_url(emulator.endpoint())
                .region(Region::new("us-east-1"))
                .credentials_provider(Credentials::new("testing", "testing", None, None, "emulator"))
                .interceptor(bodies.clone())
                .build(),
        );
        for (contact, language) in [("c-en", "en-US"), ("c-es", "es-US"), ("c-de", "de-DE")] {
            assert_eq!(
                start_job(&client, &spec(contact, language)).await,
                Ok(JobStart::Started)
            );
        }
        let no_key = JobSpec {
            output_kms_key: None,
            ..spec("c-nokey", "en-US")
        };
        assert_eq!(start_job(&client, &no_key).await, Ok(JobStart::Started));
        let bodies = bodies.0.lock().unwrap().clone();
        assert_eq!(bodies.len(), 4);
        for body in &bodies[..3] {
            // The bucket policy refuses uploads not encrypted with the lake key.
            assert_eq!(body["OutputEncryptionKMSKeyId"], LAKE_KEY, "{body}");
            assert_eq!(body["OutputBucketName"], "lake", "{body}");
        }
        assert!(bodies[3].get("OutputEncryptionKMSKeyId").is_none(), "{}", bodies[3]);
        for body in &bodies[..2] {
            assert_eq!(body["ContentRedaction"]["RedactionType"], "PII", "{body}");
            assert_eq!(body["ContentRedaction"]["RedactionOutput"], "redacted", "{body}");
            // Redaction and channel identification go together: the agent stays apart.
            assert_eq!(body["Settings"]["ChannelIdentification"], true);
        }
        assert!(bodies[2].get("ContentRedaction").is_none(), "{}", bodies[2]);
        // The emulator took all four jobs.
        let jobs = client.list_transcription_jobs().send().await.unwrap();
        assert_eq!(jobs.transcription_job_summaries().len(), 4);
    }
}
