//! s3-cataloger: new lake objects become Glue tables and Hive partitions the moment they land.
//!
//! Triggered by S3 event notifications (directly, or through SQS), or by EventBridge "Object
//! Created" events through SQS. For each object under `<table>/year=YYYY/month=MM/day=DD/hour=HH/`
//! it makes sure the table exists (creating it from the shared schema in the configured format),
//! then registers the partition with `BatchCreatePartition`, so Athena sees new contacts within
//! minutes, with no crawler and no `MSCK REPAIR TABLE`.
//!
//! - Deliveries are at least once and unordered: everything is idempotent. Existing tables and
//!   partitions count as success; partitions are deduplicated within an invocation and remembered
//!   by the warm container, which then makes no Glue call for them at all.
//! - Nothing is dropped silently. With SQS, a message fails (and is retried, then dead-lettered)
//!   when its body cannot be parsed or when any partition it asked for could not be registered.
//!   With a direct S3 event the invocation fails instead, so Lambda's async retries and on-failure
//!   destination apply. Keys that can never be registered (`month=13`) are logged and counted, not
//!   failed: a retry would not help.
//!
//! Where the logic lives: [`plan`] reads the event into the partitions to register (pure), [`glue`]
//! holds the table definitions from the shared schema and the thin Glue call sites, and this file
//! holds [`Cataloger::handle`] (metrics, once per invocation) over [`Cataloger::process`], which
//! decides what each Glue outcome means and keeps the warm container's cache.

mod config;
mod error;
pub mod glue;
pub mod plan;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};

use aws_sdk_glue::types::{PartitionError, StorageDescriptor};
use connect_lake::s3_event::{SqsBatchResponse, Trigger, batch_response, parse_trigger};
use connect_lake::schema::Table;
use connect_lake::telemetry::Metrics;
use lambda_runtime::LambdaEvent;
use serde::Serialize;
use serde_json::Value;

pub use crate::config::Config;
pub use crate::error::CatalogError;
use crate::glue::{ALREADY_EXISTS, Creation, Lookup, MAX_PARTITIONS_PER_CALL};
use crate::plan::{PartitionRef, Plan, Source};

/// The function name, as a metric dimension.
pub const FUNCTION_NAME: &str = "s3-cataloger";

/// How many registered partitions a warm container remembers before it starts over. A year of
/// hourly partitions of ten tables is under 90,000; a backfill may exceed it, which only costs a
/// `BatchCreatePartition` call answered with "already exists".
pub const MAX_CACHED_PARTITIONS: usize = 100_000;

/// What this warm container knows to exist in the catalog.
#[derive(Debug, Default)]
struct Cache {
    /// Tables known to exist, with the storage descriptor their partitions copy.
    tables: HashMap<&'static str, StorageDescriptor>,
    partitions: HashSet<PartitionRef>,
}

impl Cache {
    fn remember(&mut self, partition: &PartitionRef) {
        if self.partitions.len() >= MAX_CACHED_PARTITIONS {
            tracing::debug!(size = self.partitions.len(), "partition cache full; starting over");
            self.partitions.clear();
        }
        self.partitions.insert(partition.clone());
    }

    /// Forgets a table Glue no longer knows (deleted behind our back), and its partitions.
    fn forget_table(&mut self, table: &str) {
        self.tables.remove(table);
        self.partitions.retain(|p| p.table.name != table);
    }
}

/// Partitions waiting to be registered, each with the sources that asked for it.
type Pending<'a> = Vec<(&'a PartitionRef, &'a BTreeSet<Source>)>;

/// What registering the partitions of one plan did.
#[derive(Debug, Default)]
pub struct Registration {
    pub created: u64,
    pub existing: u64,
    pub cached: u64,
    pub failed: u64,
    pub tables_created: u64,
    /// Tables whose columns were extended to the shared schema's.
    pub tables_updated: u64,
    /// Sources that asked for a partition that could not be registered.
    pub failed_sources: BTreeSet<Source>,
    /// The first failure, for the function error of a direct event.
    pub first_error: Option<CatalogError>,
}

impl Registration {
    fn fail(&mut self, sources: &BTreeSet<Source>, error: &CatalogError) {
        self.failed += 1;
        self.failed_sources.extend(sources.iter().copied());
        if self.first_error.is_none() {
            self.first_error = Some(error.clone());
        }
    }
}

/// The counters of one invocation; also the answer to a direct invocation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub objects: u64,
    pub skipped: BTreeMap<&'static str, u64>,
    pub invalid: BTreeMap<&'static str, u64>,
    pub malformed_messages: u64,
    pub failed_messages: u64,
    /// Distinct partitions asked for.
    pub partitions: u64,
    pub partitions_created: u64,
    pub partitions_existing: u64,
    pub partitions_cached: u64,
    pub partitions_failed: u64,
    pub tables_created: u64,
    pub tables_updated: u64,
}

impl Stats {
    fn new(plan: &Plan, registration: &Registration, failed_messages: u64) -> Self {
        Stats {
            objects: plan.objects,
            skipped: by_code(&plan.skipped, plan::SkipReason::code),
            invalid: by_code(&plan.invalid, plan::InvalidReason::code),
            malformed_messages: plan.malformed.len() as u64,
            failed_messages,
            partitions: plan.partitions.len() as u64,
            partitions_created: registration.created,
            partitions_existing: registration.existing,
            partitions_cached: registration.cached,
            partitions_failed: registration.failed,
            tables_created: registration.tables_created,
            tables_updated: registration.tables_updated,
        }
    }

    /// EMF metric sets: the totals, then one per skip and invalid reason with a `Reason` dimension.
    /// Only low-cardinality dimensions: never a table partition, a key or a message id.
    pub fn metrics(&self, namespace: &str) -> Vec<Metrics> {
        let mut totals = Metrics::new(namespace).with_dimension("Function", FUNCTION_NAME);
        totals.count("ObjectsIn", self.objects);
        totals.count("ObjectsSkipped", self.skipped.values().sum());
        totals.count("PartitionsInvalid", self.invalid.values().sum());
        totals.count("PartitionsCreated", self.partitions_created);
        totals.count("PartitionsExisting", self.partitions_existing);
        totals.count("PartitionsCached", self.partitions_cached);
        totals.count("PartitionsFailed", self.partitions_failed);
        totals.count("TablesCreated", self.tables_created);
        totals.count("TablesUpdated", self.tables_updated);
        totals.count("MessagesMalformed", self.malformed_messages);
        totals.count("MessagesFailed", self.failed_messages);
        let mut sets = vec![totals];
        for (metric, reasons) in [("ObjectsSkipped", &self.skipped), ("PartitionsInvalid", &self.invalid)] {
            for (reason, n) in reasons {
                let mut m = Metrics::new(namespace)
                    .with_dimension("Function", FUNCTION_NAME)
                    .with_dimension("Reason", *reason);
                m.count(metric, *n);
                sets.push(m);
            }
        }
        sets
    }
}

fn by_code<K: Copy>(counts: &BTreeMap<K, u64>, code: fn(K) -> &'static str) -> BTreeMap<&'static str, u64> {
    counts.iter().map(|(k, n)| (code(*k), *n)).collect()
}

/// The answer to an invocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Response {
    /// To an SQS event source mapping with `ReportBatchItemFailures`.
    Sqs(SqsBatchResponse),
    /// To a direct invocation (S3 ignores it; `cargo lambda invoke` shows it).
    Direct(Stats),
}

/// The function: configuration, the Glue client, and what this warm container has registered.
pub struct Cataloger {
    glue: aws_sdk_glue::Client,
    config: Config,
    cache: Mutex<Cache>,
}

impl Cataloger {
    pub fn new(glue: aws_sdk_glue::Client, config: Config) -> Self {
        Cataloger {
            glue,
            config,
            cache: Mutex::new(Cache::default()),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    // The lock is never held across an await; a panic while holding it (there is no code path
    // that can) would leave a cache that is still consistent, so poisoning is ignored.
    fn cache(&self) -> MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The Lambda handler: processes the event, emits its metrics (the one place this function
    /// does) and logs a summary.
    ///
    /// # Errors
    /// For a direct event, when it has no known shape or any partition was not registered. An SQS
    /// batch never fails as a whole: failures are batch item failures.
    pub async fn handle(&self, event: LambdaEvent<Value>) -> Result<Response, CatalogError> {
        let (result, stats) = self.process(&event.payload).await;
        connect_lake::telemetry::emit(&stats.metrics(&self.config.metrics_namespace));
        match &result {
            Ok(_) => tracing::info!(
                objects = stats.objects,
                partitions = stats.partitions,
                created = stats.partitions_created,
                existing = stats.partitions_existing,
                cached = stats.partitions_cached,
                failed = stats.partitions_failed,
                tables_created = stats.tables_created,
                tables_updated = stats.tables_updated,
                failed_messages = stats.failed_messages,
                "invocation done"
            ),
            Err(error) => tracing::error!(error_type = error.error_type(), %error, "invocation failed"),
        }
        result
    }

    /// Processes one invocation event, without emitting anything: the answer and the counters.
    pub async fn process(&self, event: &Value) -> (Result<Response, CatalogError>, Stats) {
        let trigger = match parse_trigger(event) {
            Ok(trigger) => trigger,
            Err(error) => {
                let stats = Stats {
                    malformed_messages: 1,
                    ..Stats::default()
                };
                return (Err(error.into()), stats);
            }
        };
        let bucket = self.config.lake_bucket.as_str();
        match trigger {
            Trigger::Direct(notification) => {
                let body = Ok(notification);
                let plan = Plan::new([(0, &body)], bucket);
                let mut registration = self.register(&plan).await;
                let stats = Stats::new(&plan, &registration, 0);
                let result = match registration.first_error.take() {
                    None => Ok(Response::Direct(stats.clone())),
                    Some(first) => Err(CatalogError::PartitionsFailed {
                        failed: registration.failed,
                        total: plan.partitions.len() as u64,
                        first: Box::new(first),
                    }),
                };
                (result, stats)
            }
            Trigger::Sqs(messages) => {
                let plan = Plan::new(messages.iter().enumerate().map(|(i, m)| (i, &m.body)), bucket);
                let registration = self.register(&plan).await;
                let failed: BTreeSet<Source> = plan.malformed.union(&registration.failed_sources).copied().collect();
                let mut ids = Vec::with_capacity(failed.len());
                for (index, message) in failed.iter().filter_map(|&i| Some((i, messages.get(i)?))) {
                    let reason = if plan.malformed.contains(&index) {
                        "malformed_body"
                    } else {
                        "partition_not_registered"
                    };
                    tracing::warn!(
                        message_id = %message.message_id,
                        source = index,
                        reason,
                        "message reported as a batch item failure"
                    );
                    ids.push(message.message_id.clone());
                }
                let stats = Stats::new(&plan, &registration, ids.len() as u64);
                (Ok(Response::Sqs(batch_response(ids))), stats)
            }
        }
    }

    /// Registers the partitions of a plan: the cached ones are skipped without a call, the tables
    /// of the others are made sure of, then `BatchCreatePartition` runs in chunks of at most 100.
    pub async fn register(&self, plan: &Plan) -> Registration {
        let mut out = Registration::default();
        let mut by_table: BTreeMap<&'static str, (&'static Table, Pending<'_>)> = BTreeMap::new();
        {
            let cache = self.cache();
            for (partition, sources) in &plan.partitions {
                if cache.partitions.contains(partition) {
                    out.cached += 1;
                } else {
                    by_table
                        .entry(partition.table.name)
                        .or_insert_with(|| (partition.table, Vec::new()))
                        .1
                        .push((partition, sources));
                }
            }
        }
        for (table, pending) in by_table.into_values() {
            let sd = match self.ensure_table(table, &mut out).await {
                Ok(sd) => sd,
                Err(error) => {
                    tracing::error!(
                        table = table.name,
                        partitions = pending.len(),
                        error_type = error.error_type(),
                        %error,
                        "table unavailable; its partitions are not registered"
                    );
                    for (_, sources) in &pending {
                        out.fail(sources, &error);
                    }
                    continue;
                }
            };
            for chunk in pending.chunks(MAX_PARTITIONS_PER_CALL) {
                self.create_partitions(table, &sd, chunk, &mut out).await;
            }
        }
        out
    }

    /// The storage descriptor of a table that exists: from the cache, from `GetTable`, or from
    /// the shared schema after creating it. At most one `GetTable` per table per warm container.
    async fn ensure_table(
        &self,
        table: &'static Table,
        out: &mut Registration,
    ) -> Result<StorageDescriptor, CatalogError> {
        if let Some(sd) = self.cache().tables.get(table.name) {
            return Ok(sd.clone());
        }
        let Config {
            lake_bucket,
            database,
            format,
            ..
        } = &self.config;
        // Function-written tables are JSON lines whatever LAKE_FORMAT says.
        let format = &table.format(*format);
        let definition = |e: aws_sdk_glue::error::BuildError| CatalogError::Definition {
            table: table.name,
            message: e.to_string(),
        };
        let ours = glue::storage_descriptor(table, lake_bucket, *format).map_err(definition)?;
        let sd = match glue::get_table(&self.glue, database, table.name).await {
            Ok(Lookup::Found(found)) => match found.storage_descriptor.clone() {
                Some(sd) => self.add_missing_columns(table, &found, sd, &ours, out).await?,
                None => {
                    tracing::warn!(
                        table = table.name,
                        "table has no storage descriptor; partitions use the shared schema's"
                    );
                    ours
                }
            },
            Ok(Lookup::NotFound) => {
                let input = glue::table_input(table, ours.clone(), *format).map_err(definition)?;
                match glue::create_table(&self.glue, database, input).await {
                    Ok(Creation::Created) => {
                        out.tables_created += 1;
                        tracing::info!(table = table.name, format = ?format, "table created");
                        ours
                    }
                    Ok(Creation::AlreadyExisted) => {
                        tracing::debug!(table = table.name, "table created concurrently");
                        ours
                    }
                    Ok(Creation::DatabaseMissing) => {
                        return Err(CatalogError::DatabaseMissing {
                            database: database.clone(),
                        });
                    }
                    Err(e) => return Err(CatalogError::glue("CreateTable", table.name, &e)),
                }
            }
            Err(e) => return Err(CatalogError::glue("GetTable", table.name, &e)),
        };
        self.cache().tables.insert(table.name, sd.clone());
        Ok(sd)
    }

    /// A table that exists but lacks columns the shared schema has gained since it was created
    /// (a deployed lake after an upgrade) gets them appended with `UpdateTable`, so readers see the
    /// new fields and the partitions registered from now on carry them. Columns are only ever
    /// added: a column Glue has is kept as it is, and nothing else of the table changes. Returns
    /// the storage descriptor partitions are registered with.
    async fn add_missing_columns(
        &self,
        table: &'static Table,
        found: &aws_sdk_glue::types::Table,
        sd: StorageDescriptor,
        ours: &StorageDescriptor,
        out: &mut Registration,
    ) -> Result<StorageDescriptor, CatalogError> {
        let added = glue::missing_columns(sd.columns(), ours.columns());
        if added.is_empty() {
            return Ok(sd);
        }
        let names: Vec<String> = added.iter().map(|c| c.name.clone()).collect();
        let input = glue::appended_table_input(found, added).map_err(|e| CatalogError::Definition {
            table: table.name,
            message: e.to_string(),
        })?;
        let updated = input.storage_descriptor.clone().unwrap_or(sd);
        glue::update_table(&self.glue, &self.config.database, input)
            .await
            .map_err(|e| CatalogError::glue("UpdateTable", table.name, &e))?;
        out.tables_updated += 1;
        tracing::info!(table = table.name, columns = ?names, "columns added to the table");
        Ok(updated)
    }

    /// One `BatchCreatePartition` call, and what became of each partition in it.
    async fn create_partitions(
        &self,
        table: &'static Table,
        sd: &StorageDescriptor,
        chunk: &[(&PartitionRef, &BTreeSet<Source>)],
        out: &mut Registration,
    ) {
        let bucket = &self.config.lake_bucket;
        let inputs = chunk
            .iter()
            .map(|(p, _)| glue::partition_input(sd, p, bucket))
            .collect();
        let errors = match glue::batch_create_partition(&self.glue, &self.config.database, table.name, inputs).await {
            Ok(errors) => errors,
            Err(e) => {
                if e.as_service_error().is_some_and(|s| s.is_entity_not_found_exception()) {
                    // Deleted since we looked: the next invocation (the SQS retry) creates it again.
                    self.cache().forget_table(table.name);
                }
                let error = CatalogError::glue("BatchCreatePartition", table.name, &e);
                tracing::error!(
                    table = table.name,
                    partitions = chunk.len(),
                    error_type = error.error_type(),
                    %error,
                    "partitions not registered"
                );
                for (_, sources) in chunk {
                    out.fail(sources, &error);
                }
                return;
            }
        };
        let errors: HashMap<&[String], &PartitionError> = errors.iter().map(|e| (e.partition_values(), e)).collect();
        let mut cache = self.cache();
        for (partition, sources) in chunk {
            let values = partition.values.to_vec();
            let detail = errors.get(values.as_slice()).map(|e| e.error_detail());
            let code = detail.map(|d| d.and_then(|d| d.error_code()).unwrap_or("UnknownError"));
            match code {
                None => {
                    out.created += 1;
                    cache.remember(partition);
                    tracing::debug!(partition = %partition, "partition created");
                }
                Some(ALREADY_EXISTS) => {
                    out.existing += 1;
                    cache.remember(partition);
                }
                Some(code) => {
                    let message = detail.flatten().and_then(|d| d.error_message()).unwrap_or_default();
                    let error = CatalogError::Partition {
                        partition: partition.to_string(),
                        code: code.to_owned(),
                        message: message.to_owned(),
                    };
                    tracing::error!(partition = %partition, %error, "partition not registered");
                    out.fail(sources, &error);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
