//! The local lake: what `template.yaml` provisions, provisioned in the emulator with the same
//! names and layout, plus the parts of AWS the demo plays (Firehose's delivery to S3, the SQS
//! event source mapping that feeds functions).

use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_sqs::types::DeleteMessageBatchRequestEntry;
use connect_lake::config::LakeFormat;
use connect_lake::s3_event::SqsBatchResponse;
use lambda_harness::{Emulator, LocalFunction};
use serde_json::{Value, json};

use crate::aws_error::{AwsCallError, aws};
use crate::firehose::Delivery;

/// Names, as the template gives them (bucket names in the emulator need no account suffix).
#[derive(Debug, Clone)]
pub struct LakeNames {
    pub bucket: String,
    pub database: String,
    pub catalog_queue: String,
    pub enrich_queue: String,
    pub recordings_prefix: String,
    pub transcripts_prefix: String,
    pub deny_list_key: String,
    pub policy_key: String,
    /// The Secrets Manager secret holding the PII token key.
    pub pii_key_secret: String,
}

impl Default for LakeNames {
    fn default() -> Self {
        LakeNames {
            bucket: "connect-lake-demo-lake".into(),
            database: "connect_lake".into(),
            catalog_queue: "connect-lake-demo-s3-cataloger".into(),
            enrich_queue: "connect-lake-demo-sentiment-enricher".into(),
            recordings_prefix: "connect/".into(),
            transcripts_prefix: "transcripts/".into(),
            deny_list_key: "config/deny-list.txt".into(),
            policy_key: "config/fraud-policy.json".into(),
            pii_key_secret: "connect-lake/pii-token-key".into(),
        }
    }
}

/// What [`Lake::deliver`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delivered {
    pub objects: usize,
    /// Rows that failed Parquet conversion (under `errors/format-conversion-failed/`).
    pub conversion_failed: u64,
}

/// Curated table prefixes, one per table of the shared schema: new objects there are cataloged
/// (the template's `CuratedObjectCreatedRule`).
pub fn cataloged_prefixes() -> Vec<String> {
    connect_lake::schema::TABLES
        .iter()
        .map(|t| format!("{}/", t.name))
        .collect()
}

/// Where Contact Lens writes its analysis files when the instance's storage has no prefix (the
/// template's `MediaObjectCreatedRule` routes it to the enricher beside recordings and transcripts).
pub const CONTACT_LENS_PREFIX: &str = "Analysis/";

/// Receives before a message moves to its queue's dead-letter queue, as the template's queues.
pub const MAX_RECEIVE_COUNT: u32 = 5;

#[derive(Debug, thiserror::Error)]
pub enum LakeError {
    #[error(transparent)]
    Aws(#[from] AwsCallError),
    /// A step the demo plays in place of AWS (gzip, record format conversion, a writer task).
    #[error("{step} failed: {message}")]
    Local { step: &'static str, message: String },
    #[error("function {0} failed: {1}")]
    Function(&'static str, String),
}

fn local<E: std::fmt::Display>(step: &'static str) -> impl FnOnce(E) -> LakeError {
    move |e| LakeError::Local {
        step,
        message: e.to_string(),
    }
}

/// The format of a table the catalog already has, read from its SerDe (Athena reads one format per
/// table, so whatever writes to it must follow), with the SerDe's library name; `None` when the
/// catalog has no such table. `backfill` and `metrics backfill` decide their format with it.
///
/// # Errors
/// A GetTable call that fails for another reason than a missing table.
pub async fn table_format(
    glue: &aws_sdk_glue::Client,
    database: &str,
    table: &str,
) -> Result<Option<(LakeFormat, String)>, AwsCallError> {
    match glue.get_table().database_name(database).name(table).send().await {
        Ok(out) => {
            let serde = out
                .table()
                .and_then(|t| t.storage_descriptor())
                .and_then(|sd| sd.serde_info())
                .and_then(|s| s.serialization_library())
                .unwrap_or_default()
                .to_owned();
            let format = if serde.to_ascii_lowercase().contains("parquet") {
                LakeFormat::Parquet
            } else {
                LakeFormat::Json
            };
            Ok(Some((format, serde)))
        }
        Err(e) if e.as_service_error().is_some_and(|s| s.is_entity_not_found_exception()) => Ok(None),
        Err(e) => Err(aws("GetTable")(e)),
    }
}

/// Clients against one endpoint (the emulator, or real AWS).
pub struct Lake {
    pub names: LakeNames,
    pub s3: aws_sdk_s3::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub glue: aws_sdk_glue::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub endpoint: Option<String>,
}

/// SDK configuration for an emulator, without touching the process environment.
pub async fn emulator_config(emulator: &Emulator) -> SdkConfig {
    let creds = aws_sdk_s3::config::Credentials::new("testing", "testing", None, None, "connect-lake-emulator");
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(emulator.endpoint())
        .credentials_provider(creds)
        .load()
        .await
}

impl Lake {
    pub fn new(config: &SdkConfig, names: LakeNames) -> Self {
        Lake {
            names,
            s3: connect_lake::aws::s3_client(config),
            sqs: aws_sdk_sqs::Client::new(config),
            glue: aws_sdk_glue::Client::new(config),
            secrets: aws_sdk_secretsmanager::Client::new(config),
            endpoint: config.endpoint_url().map(str::to_owned),
        }
    }

    pub fn deny_list_uri(&self) -> String {
        format!("s3://{}/{}", self.names.bucket, self.names.deny_list_key)
    }

    pub fn policy_uri(&self) -> String {
        format!("s3://{}/{}", self.names.bucket, self.names.policy_key)
    }

    async fn queue(&self, name: &str) -> Result<(String, String), LakeError> {
        let dlq = self
            .sqs
            .create_queue()
            .queue_name(format!("{name}-dlq"))
            .send()
            .await
            .map_err(aws("CreateQueue"))?;
        let dlq_url = dlq.queue_url().unwrap_or_default().to_owned();
        let dlq_arn = self.queue_arn(&dlq_url).await?;
        let redrive =
            json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVE_COUNT.to_string()}).to_string();
        let q = self
            .sqs
            .create_queue()
            .queue_name(name)
            .attributes(aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy, redrive)
            .attributes(aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout, "30")
            .send()
            .await
            .map_err(aws("CreateQueue"))?;
        let url = q.queue_url().unwrap_or_default().to_owned();
        let arn = self.queue_arn(&url).await?;
        Ok((url, arn))
    }

    async fn queue_arn(&self, url: &str) -> Result<String, LakeError> {
        let attrs = self
            .sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(aws("GetQueueAttributes"))?;
        Ok(attrs
            .attributes()
            .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
            .cloned()
            .unwrap_or_default())
    }

    pub async fn queue_url(&self, name: &str) -> Result<String, LakeError> {
        let out = self
            .sqs
            .get_queue_url()
            .queue_name(name)
            .send()
            .await
            .map_err(aws("GetQueueUrl"))?;
        Ok(out.queue_url().unwrap_or_default().to_owned())
    }

    /// The bucket, the Glue database, the two queues (each with a DLQ) fed by bucket
    /// notifications, and the deny list and fraud policy objects: what `template.yaml` provisions,
    /// as `tests/demo.rs` (`the_demos_provisioning_matches_the_template`) checks.
    pub async fn provision(&self, deny_list: &str, policy: &str) -> Result<(), LakeError> {
        use aws_sdk_s3::types::{
            Event, FilterRule, FilterRuleName, NotificationConfiguration, NotificationConfigurationFilter,
            QueueConfiguration, S3KeyFilter,
        };
        let n = &self.names;
        self.s3
            .create_bucket()
            .bucket(&n.bucket)
            .send()
            .await
            .map_err(aws("CreateBucket"))?;
        let db = aws_sdk_glue::types::DatabaseInput::builder()
            .name(&n.database)
            .description("connect-lake curated tables")
            .build()
            .map_err(aws("DatabaseInput"))?;
        self.glue
            .create_database()
            .database_input(db)
            .send()
            .await
            .map_err(aws("CreateDatabase"))?;
        let (_, catalog_arn) = self.queue(&n.catalog_queue).await?;
        let (_, enrich_arn) = self.queue(&n.enrich_queue).await?;
        let rule = |prefix: &str, arn: &str| -> Result<QueueConfiguration, AwsCallError> {
            let filter = NotificationConfigurationFilter::builder()
                .key(
                    S3KeyFilter::builder()
                        .filter_rules(FilterRule::builder().name(FilterRuleName::Prefix).value(prefix).build())
                        .build(),
                )
                .build();
            QueueConfiguration::builder()
                .queue_arn(arn)
                .events(Event::S3ObjectCreated)
                .filter(filter)
                .build()
                .map_err(aws("QueueConfiguration"))
        };
        let mut configs = Vec::new();
        for prefix in cataloged_prefixes() {
            configs.push(rule(&prefix, &catalog_arn)?);
        }
        for prefix in [
            n.transcripts_prefix.as_str(),
            n.recordings_prefix.as_str(),
            CONTACT_LENS_PREFIX,
        ] {
            configs.push(rule(prefix, &enrich_arn)?);
        }
        self.s3
            .put_bucket_notification_configuration()
            .bucket(&n.bucket)
            .notification_configuration(
                NotificationConfiguration::builder()
                    .set_queue_configurations(Some(configs))
                    .build(),
            )
            .send()
            .await
            .map_err(aws("PutBucketNotificationConfiguration"))?;
        self.put(&n.deny_list_key, deny_list.as_bytes().to_vec()).await?;
        self.put(&n.policy_key, policy.as_bytes().to_vec()).await?;
        Ok(())
    }

    /// The PII token key as the template provisions it: a Secrets Manager secret. Returns its
    /// ARN, the functions' `PII_TOKEN_SECRET_ARN`; the key itself is never in their environment.
    pub async fn put_pii_key(&self, key: &str) -> Result<String, LakeError> {
        let out = self
            .secrets
            .create_secret()
            .name(&self.names.pii_key_secret)
            .secret_string(key)
            .send()
            .await
            .map_err(aws("CreateSecret"))?;
        Ok(out.arn().unwrap_or_default().to_owned())
    }

    pub async fn put(&self, key: &str, body: Vec<u8>) -> Result<(), LakeError> {
        self.s3
            .put_object()
            .bucket(&self.names.bucket)
            .key(key)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(aws("PutObject"))?;
        Ok(())
    }

    /// Writes what Firehose would after one transformation: one object per dynamic partition,
    /// named as Firehose names them, and the failed records under `errors/processing-failed/`
    /// in Firehose's error-record format. With [`LakeFormat::Parquet`] each partition's rows go
    /// through Firehose's record format conversion first ([`crate::convert`]): the object is
    /// Snappy Parquet with the table's columns, and rows that do not convert go to
    /// `errors/format-conversion-failed/`.
    ///
    /// # Errors
    /// An S3 call that fails, or a Parquet writer failure.
    pub async fn deliver(
        &self,
        delivery: &Delivery,
        stream: &str,
        batch: usize,
        format: LakeFormat,
    ) -> Result<Delivered, LakeError> {
        let stamp = "2026-03-08-23-59-59";
        let mut delivered = Delivered::default();
        let mut objects: Vec<(String, Vec<u8>)> = Vec::with_capacity(delivery.partitions.len());
        let mut conversion_errors = Vec::new();
        for (i, ((table, prefix), rows)) in delivery.partitions.iter().enumerate() {
            let name = format!("{prefix}{stream}-1-{stamp}-{batch:08x}-0000-4000-8000-{i:012x}");
            let schema_table = connect_lake::schema::table(table).filter(|t| t.format(format) == LakeFormat::Parquet);
            let Some(schema_table) = schema_table else {
                objects.push((name, rows.clone()));
                continue;
            };
            let converted =
                crate::convert::rows_to_parquet(schema_table, rows).map_err(local("record format conversion"))?;
            delivered.conversion_failed += converted.failed.len() as u64;
            for failed in &converted.failed {
                let line = crate::convert::error_record(failed, table, 1_772_928_000_000);
                conversion_errors.extend_from_slice(line.to_string().as_bytes());
                conversion_errors.push(b'\n');
            }
            if let Some(parquet) = converted.parquet {
                objects.push((format!("{name}.parquet"), parquet));
            }
        }
        delivered.objects = self.put_all(objects).await?;
        if !conversion_errors.is_empty() {
            let key = format!(
                "errors/format-conversion-failed/year=2026/month=03/day=08/hour=23/{stream}-1-{stamp}-{batch:08x}"
            );
            self.put(&key, conversion_errors).await?;
            delivered.objects += 1;
        }
        if !delivery.failed_records.is_empty() {
            let mut body = Vec::new();
            for (record_id, raw) in &delivery.failed_records {
                let line = json!({
                    "attemptsMade": 1,
                    "arrivalTimestamp": 1_772_928_000_000u64,
                    "errorCode": "Lambda.ProcessingFailed",
                    "errorMessage": "The Lambda function returned ProcessingFailed for this record",
                    "attemptEndingTimestamp": 1_772_928_001_000u64,
                    "rawData": raw,
                    "lambdaArn": "arn:aws:lambda:us-east-1:012345678901:function:firehose-transform",
                    "recordId": record_id,
                });
                body.extend_from_slice(line.to_string().as_bytes());
                body.push(b'\n');
            }
            let key =
                format!("errors/processing-failed/year=2026/month=03/day=08/hour=23/{stream}-1-{stamp}-{batch:08x}");
            self.put(&key, body).await?;
            delivered.objects += 1;
        }
        Ok(delivered)
    }

    /// Plays a CloudWatch Logs subscription into a Firehose delivery stream without a transform
    /// (decompression and message extraction only, as `template.yaml` builds the flow-record
    /// streams): the function's JSON log records, grouped by the arrival hour Firehose partitions
    /// by, one gzip JSON-lines object per hour. Returns the objects written.
    ///
    /// # Errors
    /// An S3 call that fails.
    pub async fn ship_log_records(
        &self,
        table: &str,
        stream: &str,
        records: &[(time::OffsetDateTime, Vec<u8>)],
    ) -> Result<usize, LakeError> {
        use std::io::Write as _;
        let mut hours: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        for (arrival, line) in records {
            let prefix = connect_lake::schema::PartitionValues::for_instant(*arrival).prefix(table);
            let body = hours.entry(prefix).or_default();
            body.extend_from_slice(line);
            body.push(b'\n');
        }
        let mut objects = Vec::with_capacity(hours.len());
        for (i, (prefix, body)) in hours.into_iter().enumerate() {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            gz.write_all(&body).and_then(|()| gz.flush()).map_err(local("gzip"))?;
            let bytes = gz.finish().map_err(local("gzip"))?;
            objects.push((format!("{prefix}{stream}-1-2026-03-08-23-59-59-{i:012x}.gz"), bytes));
        }
        self.put_all(objects).await
    }

    /// Puts objects eight at a time, as Firehose's parallel writers would.
    pub async fn put_all(&self, objects: Vec<(String, Vec<u8>)>) -> Result<usize, LakeError> {
        let mut set = tokio::task::JoinSet::new();
        let mut written = 0;
        for (key, body) in objects {
            if set.len() >= 8
                && let Some(done) = set.join_next().await
            {
                done.map_err(local("PutObject task"))??;
                written += 1;
            }
            let s3 = self.s3.clone();
            let bucket = self.names.bucket.clone();
            set.spawn(async move {
                s3.put_object()
                    .bucket(bucket)
                    .key(key)
                    .body(ByteStream::from(body))
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(aws("PutObject"))
            });
        }
        while let Some(done) = set.join_next().await {
            done.map_err(local("PutObject task"))??;
            written += 1;
        }
        Ok(written)
    }

    /// Plays an SQS event source mapping with `ReportBatchItemFailures`: receives up to ten
    /// messages at a time, invokes the function with them, deletes those it did not report as
    /// failures, and stops when the queue stays empty. Failed messages are left to become visible
    /// again (and reach the DLQ after [`MAX_RECEIVE_COUNT`] receives), as in AWS.
    pub async fn drain(
        &self,
        queue: &str,
        name: &'static str,
        function: &LocalFunction,
    ) -> Result<DrainStats, LakeError> {
        let url = self.queue_url(queue).await?;
        let arn = self.queue_arn(&url).await?;
        let mut stats = DrainStats::default();
        let mut empty = 0;
        while empty < 2 {
            let out = self
                .sqs
                .receive_message()
                .queue_url(&url)
                .max_number_of_messages(10)
                .visibility_timeout(60)
                .send()
                .await
                .map_err(aws("ReceiveMessage"))?;
            let messages = out.messages();
            if messages.is_empty() {
                empty += 1;
                tokio::time::sleep(Duration::from_millis(30)).await;
                continue;
            }
            empty = 0;
            let records: Vec<Value> = messages
                .iter()
                .map(|m| {
                    json!({
                        "messageId": m.message_id(),
                        "receiptHandle": m.receipt_handle(),
                        "body": m.body(),
                        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1772928000000"},
                        "messageAttributes": {},
                        "md5OfBody": m.md5_of_body(),
                        "eventSource": "aws:sqs",
                        "eventSourceARN": arn,
                        "awsRegion": "us-east-1",
                    })
                })
                .collect();
            let event = json!({ "Records": records });
            let invocation = function
                .invoke_json(&event, Duration::from_secs(120))
                .await
                .map_err(|e| LakeError::Function(name, e.to_string()))?;
            stats.invocations += 1;
            stats.messages += messages.len() as u64;
            stats.function_time += invocation.round_trip;
            let failed: Vec<String> = match invocation.response() {
                Ok(body) => serde_json::from_slice::<SqsBatchResponse>(body)
                    .map(|r| r.batch_item_failures.into_iter().map(|f| f.item_identifier).collect())
                    .unwrap_or_default(),
                // A function error fails the whole batch: every message is retried.
                Err(_) => messages
                    .iter()
                    .filter_map(|m| m.message_id().map(str::to_owned))
                    .collect(),
            };
            stats.failed += failed.len() as u64;
            let done: Vec<DeleteMessageBatchRequestEntry> = messages
                .iter()
                .filter(|m| m.message_id().is_some_and(|id| !failed.iter().any(|f| f == id)))
                .enumerate()
                .filter_map(|(i, m)| {
                    DeleteMessageBatchRequestEntry::builder()
                        .id(format!("m{i}"))
                        .receipt_handle(m.receipt_handle().unwrap_or_default())
                        .build()
                        .ok()
                })
                .collect();
            if !done.is_empty() {
                self.sqs
                    .delete_message_batch()
                    .queue_url(&url)
                    .set_entries(Some(done))
                    .send()
                    .await
                    .map_err(aws("DeleteMessageBatch"))?;
            }
        }
        Ok(stats)
    }

    /// Partitions registered per table in the Glue database.
    pub async fn glue_partitions(&self) -> Result<BTreeMap<String, usize>, LakeError> {
        let mut out = BTreeMap::new();
        let tables = self
            .glue
            .get_tables()
            .database_name(&self.names.database)
            .send()
            .await
            .map_err(aws("GetTables"))?;
        for t in tables.table_list() {
            let name = t.name().to_owned();
            let mut count = 0;
            let mut token = None;
            loop {
                let page = self
                    .glue
                    .get_partitions()
                    .database_name(&self.names.database)
                    .table_name(&name)
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(aws("GetPartitions"))?;
                count += page.partitions().len();
                token = page.next_token().map(str::to_owned);
                if token.is_none() {
                    break;
                }
            }
            out.insert(name, count);
        }
        Ok(out)
    }

    /// Keys under a prefix.
    pub async fn keys(&self, prefix: &str) -> Result<Vec<String>, LakeError> {
        let mut keys = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .s3
                .list_objects_v2()
                .bucket(&self.names.bucket)
                .prefix(prefix)
                .set_continuation_token(token)
                .send()
                .await
                .map_err(aws("ListObjectsV2"))?;
            keys.extend(page.contents().iter().filter_map(|o| o.key().map(str::to_owned)));
            token = page.next_continuation_token().map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
        Ok(keys)
    }

    /// An object's bytes.
    pub async fn get(&self, key: &str) -> Result<Vec<u8>, LakeError> {
        let out = self
            .s3
            .get_object()
            .bucket(&self.names.bucket)
            .key(key)
            .send()
            .await
            .map_err(aws("GetObject"))?;
        let body = out.body.collect().await.map_err(aws("GetObject body"))?;
        Ok(body.into_bytes().to_vec())
    }
}

/// What draining one queue did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DrainStats {
    pub messages: u64,
    pub failed: u64,
    pub invocations: u64,
    /// Time inside the function's invocations (the rest is the emulator's SQS).
    pub function_time: Duration,
}
