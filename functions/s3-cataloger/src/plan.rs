//! From object events to the partitions to register: pure, no I/O.
//!
//! Each object event is classified once ([`classify`]): registered, skipped (with a reason), or
//! invalid (under a table prefix but not a real date and hour). [`Plan`] then deduplicates the
//! partitions of the whole invocation and remembers which sources (SQS messages, or the one direct
//! notification) asked for each, so a failure can be charged to exactly those sources.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};

use connect_lake::s3_event::{EventError, Notification, ObjectEvent, ObjectEventKind};
use connect_lake::schema::{KeyError, PartitionValues, Table, parse_object_key};

/// Prefixes Firehose writes failed records under: the template's `errors/` error output prefix, and
/// Firehose's defaults when no error prefix is configured. Never data of a curated table.
pub const ERROR_PREFIXES: [&str; 3] = ["errors/", "processing-failed/", "format-conversion-failed/"];

/// Why an object event registers nothing. The codes are stable: they are metric dimensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkipReason {
    /// `s3:TestEvent`, sent when a notification configuration is saved.
    TestEvent,
    /// `ObjectRemoved:*` or EventBridge `Object Deleted`: partitions are never dropped on delete.
    ObjectRemoved,
    /// Restore, replication, tagging and other events that create no new data.
    OtherEvent,
    /// An object in another bucket than `LAKE_BUCKET`: a partition must point where its data is.
    OtherBucket,
    /// Firehose's error output (`errors/`, `processing-failed/`, ...).
    ErrorPrefix,
    /// `.write_access_check_file.temp`, Transcribe's and Firehose's permission probe.
    WriteAccessProbe,
    /// A zero-byte folder marker (`.../` or `_$folder$`).
    FolderMarker,
    /// A key outside every table prefix of the shared schema.
    UnknownPrefix,
}

impl SkipReason {
    pub const fn code(self) -> &'static str {
        match self {
            SkipReason::TestEvent => "test_event",
            SkipReason::ObjectRemoved => "object_removed",
            SkipReason::OtherEvent => "other_event",
            SkipReason::OtherBucket => "other_bucket",
            SkipReason::ErrorPrefix => "error_prefix",
            SkipReason::WriteAccessProbe => "write_access_probe",
            SkipReason::FolderMarker => "folder_marker",
            SkipReason::UnknownPrefix => "unknown_prefix",
        }
    }
}

/// Why a key under a table prefix names no valid partition. A retry would not help, so these are
/// logged and counted, never failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum InvalidReason {
    /// Not `<table>/year=YYYY/month=MM/day=DD/hour=HH/<file>`.
    NotPartitioned,
    /// The layout is right but the values are not a real date and hour (`month=13`).
    InvalidValue,
}

impl InvalidReason {
    pub const fn code(self) -> &'static str {
        match self {
            InvalidReason::NotPartitioned => "not_partitioned",
            InvalidReason::InvalidValue => "invalid_value",
        }
    }
}

/// One partition of one curated table.
#[derive(Debug, Clone)]
pub struct PartitionRef {
    pub table: &'static Table,
    pub values: PartitionValues,
}

impl PartitionRef {
    fn key(&self) -> (&'static str, &PartitionValues) {
        (self.table.name, &self.values)
    }

    /// `s3://<bucket>/<table>/year=YYYY/month=MM/day=DD/hour=HH/`: where the partition's objects are.
    pub fn location(&self, bucket: &str) -> String {
        format!("s3://{bucket}/{}", self.values.prefix(self.table.name))
    }
}

impl std::fmt::Display for PartitionRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = &self.values;
        write!(
            f,
            "{}/year={}/month={}/day={}/hour={}",
            self.table.name, v.year, v.month, v.day, v.hour
        )
    }
}

// Identity is the table name and the values (tables are statics, compared by name).
impl PartialEq for PartitionRef {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl Eq for PartitionRef {}
impl Hash for PartitionRef {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}
impl PartialOrd for PartitionRef {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for PartitionRef {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

/// What to do with one object event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    Register(PartitionRef),
    Skip(SkipReason),
    Invalid(InvalidReason, KeyError),
}

/// Classifies one object event for the lake bucket `lake_bucket`.
pub fn classify(event: &ObjectEvent, lake_bucket: &str) -> Disposition {
    match event.kind {
        ObjectEventKind::Created => {}
        ObjectEventKind::Removed => return Disposition::Skip(SkipReason::ObjectRemoved),
        ObjectEventKind::Other(_) => return Disposition::Skip(SkipReason::OtherEvent),
    }
    if event.bucket != lake_bucket {
        return Disposition::Skip(SkipReason::OtherBucket);
    }
    if ERROR_PREFIXES.iter().any(|p| event.key.starts_with(p)) {
        return Disposition::Skip(SkipReason::ErrorPrefix);
    }
    if event.is_write_access_probe() {
        return Disposition::Skip(SkipReason::WriteAccessProbe);
    }
    if event.is_folder_marker() {
        return Disposition::Skip(SkipReason::FolderMarker);
    }
    match parse_object_key(&event.key) {
        Ok((table, values)) => Disposition::Register(PartitionRef { table, values }),
        Err(KeyError::UnknownTable) => Disposition::Skip(SkipReason::UnknownPrefix),
        Err(KeyError::Folder) => Disposition::Skip(SkipReason::FolderMarker),
        Err(e @ KeyError::NotPartitioned) => Disposition::Invalid(InvalidReason::NotPartitioned, e),
        Err(e @ KeyError::InvalidValue { .. }) => Disposition::Invalid(InvalidReason::InvalidValue, e),
    }
}

/// The source of an object event: the index of its SQS message in the batch (0 for a direct event).
pub type Source = usize;

/// The work of one invocation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Each distinct partition, with the sources that asked for it.
    pub partitions: BTreeMap<PartitionRef, BTreeSet<Source>>,
    /// Sources whose body could not be parsed: each is a failure on its own.
    pub malformed: BTreeSet<Source>,
    pub objects: u64,
    pub skipped: BTreeMap<SkipReason, u64>,
    pub invalid: BTreeMap<InvalidReason, u64>,
}

impl Plan {
    /// Plans the notifications of one invocation, each with its source.
    pub fn new<'a>(
        notifications: impl IntoIterator<Item = (Source, &'a Result<Notification, EventError>)>,
        lake_bucket: &str,
    ) -> Self {
        let mut plan = Plan::default();
        for (source, notification) in notifications {
            match notification {
                Err(error) => {
                    tracing::warn!(source, %error, "message body is not an object event; failing it");
                    plan.malformed.insert(source);
                }
                Ok(Notification::TestEvent) => {
                    tracing::debug!(source, reason = SkipReason::TestEvent.code(), "skipped");
                    *plan.skipped.entry(SkipReason::TestEvent).or_default() += 1;
                }
                Ok(Notification::Objects(events)) => {
                    for event in events {
                        plan.add(source, event, lake_bucket);
                    }
                }
            }
        }
        plan
    }

    fn add(&mut self, source: Source, event: &ObjectEvent, lake_bucket: &str) {
        self.objects += 1;
        match classify(event, lake_bucket) {
            Disposition::Register(partition) => {
                self.partitions.entry(partition).or_default().insert(source);
            }
            Disposition::Skip(reason) => {
                // Object keys of the lake are Firehose file names and table paths, not contact data.
                tracing::debug!(source, reason = reason.code(), bucket = %event.bucket, key = %event.key, "skipped");
                *self.skipped.entry(reason).or_default() += 1;
            }
            Disposition::Invalid(reason, error) => {
                tracing::warn!(
                    source,
                    reason = reason.code(),
                    key = %event.key,
                    %error,
                    "object key names no valid partition; not registered"
                );
                *self.invalid.entry(reason).or_default() += 1;
            }
        }
    }
}
