//! Configuration objects read from S3 on the call path of a contact flow: the deny list and the
//! fraud policy.
//!
//! Connect waits for the function's answer while the caller hears silence, so reading such an
//! object must never make a call slow, and must never make it fail:
//!
//! - [`RemoteConfig::get`] loads the object on first use and caches it. A call waits for a load
//!   at most the configured budget; a load that takes longer goes on in the background and the
//!   call proceeds without the object (the caller decides what that means: the deny list fails
//!   open, the fraud router falls back to its built-in policy).
//! - After the TTL, the next call starts a refresh in the background and is answered with the
//!   cached value without waiting.
//! - A failed load (unreachable S3, a missing object, a file that does not parse) keeps the last
//!   good value, is logged and counted as a metric, and is retried after a back-off, during which
//!   calls do not wait at all.
//!
//! In Lambda the environment is frozen between invocations, so a background load can stall while
//! frozen and resumes at the next invocation; the SDK's own timeouts and [`RemoteSettings::load_timeout`]
//! bound it.
//!
//! Where the object comes from is the small [`ConfigSource`] trait, so tests can inject slow or
//! failing sources; [`S3Source`] (feature `s3`) is the real one.
//!
//! Every read names the account that must own the bucket (`ExpectedBucketOwner`), so a bucket
//! name that was deleted and re-created in another account, or a typo that names someone else's
//! bucket, is refused by S3 instead of feeding the functions a stranger's deny list or policy.
//! The owner is `CONFIG_BUCKET_OWNER` when set (a configuration bucket in another account of the
//! organisation), else the function's own account, learned from the invoked function's ARN
//! ([`S3Source::own_account_from_arn`]) before the first read.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::watch;
// tokio's clock: the real one in production, and one tests can pause and advance.
use tokio::time::Instant;

use crate::config::{self, ConfigError, Env, S3Uri, names};
use crate::telemetry::Metrics;

/// A boxed, sendable future, as returned by [`ConfigSource::fetch`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why an object could not be fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    #[error("{uri} could not be read: {message}")]
    Unreadable { uri: String, message: String },
    #[error("{uri} is {size} bytes, more than the {limit} bytes allowed")]
    TooLarge { uri: String, size: u64, limit: u64 },
}

/// Where configuration objects are read from.
pub trait ConfigSource: Send + Sync + 'static {
    /// The object's bytes, at most `max_bytes` of them.
    ///
    /// # Errors
    /// [`SourceError`] when the object cannot be read or is larger than `max_bytes`.
    fn fetch<'a>(&'a self, uri: &'a S3Uri, max_bytes: u64) -> BoxFuture<'a, Result<Vec<u8>, SourceError>>;
}

/// Objects held in memory, by URI, replaceable at any time: for tests, benchmarks and local tools.
#[derive(Debug, Default)]
pub struct MemorySource {
    objects: Mutex<HashMap<String, Vec<u8>>>,
}

impl MemorySource {
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores (or replaces) the object at `uri`.
    pub fn put(&self, uri: &S3Uri, bytes: impl Into<Vec<u8>>) {
        let mut objects = self.objects.lock().unwrap_or_else(PoisonError::into_inner);
        objects.insert(uri.to_string(), bytes.into());
    }

    /// Removes the object at `uri`: later fetches fail as a missing key does.
    pub fn remove(&self, uri: &S3Uri) {
        let mut objects = self.objects.lock().unwrap_or_else(PoisonError::into_inner);
        objects.remove(&uri.to_string());
    }
}

impl ConfigSource for MemorySource {
    fn fetch<'a>(&'a self, uri: &'a S3Uri, max_bytes: u64) -> BoxFuture<'a, Result<Vec<u8>, SourceError>> {
        let result = {
            let objects = self.objects.lock().unwrap_or_else(PoisonError::into_inner);
            match objects.get(&uri.to_string()) {
                None => Err(SourceError::Unreadable {
                    uri: uri.to_string(),
                    message: "NoSuchKey: the object does not exist".into(),
                }),
                Some(bytes) if bytes.len() as u64 > max_bytes => Err(SourceError::TooLarge {
                    uri: uri.to_string(),
                    size: bytes.len() as u64,
                    limit: max_bytes,
                }),
                Some(bytes) => Ok(bytes.clone()),
            }
        };
        Box::pin(std::future::ready(result))
    }
}

/// `CONFIG_BUCKET_OWNER`: the 12-digit account that must own the configuration bucket. `None`
/// when unset: the function's own account is expected (see [`S3Source::own_account_from_arn`]).
///
/// # Errors
/// Names `CONFIG_BUCKET_OWNER` when it is not a 12-digit account id.
pub fn bucket_owner_from_env(env: &impl Env) -> Result<Option<String>, ConfigError> {
    let Some(owner) = config::optional(env, names::CONFIG_BUCKET_OWNER) else {
        return Ok(None);
    };
    if is_account_id(&owner) {
        Ok(Some(owner))
    } else {
        Err(ConfigError::Invalid {
            name: names::CONFIG_BUCKET_OWNER,
            reason: format!("expected a 12-digit AWS account id, got {owner:?}"),
        })
    }
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// The account of an ARN (`arn:aws:lambda:us-east-1:123456789012:function:name`).
pub fn account_of_arn(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| is_account_id(a))
}

/// The real source: `GetObject` with the function's S3 client, naming the bucket's expected owner.
#[cfg(feature = "s3")]
#[derive(Debug, Clone)]
pub struct S3Source {
    client: aws_sdk_s3::Client,
    expected_owner: Arc<std::sync::OnceLock<String>>,
}

#[cfg(feature = "s3")]
impl S3Source {
    /// A source that expects the owner it is given later, by
    /// [`with_expected_bucket_owner`](Self::with_expected_bucket_owner) or
    /// [`own_account_from_arn`](Self::own_account_from_arn). Until then reads name no owner.
    pub fn new(client: aws_sdk_s3::Client) -> Self {
        S3Source {
            client,
            expected_owner: Arc::new(std::sync::OnceLock::new()),
        }
    }

    /// Expects `account` (`CONFIG_BUCKET_OWNER`) to own every bucket read. `None` changes nothing.
    #[must_use]
    pub fn with_expected_bucket_owner(self, account: Option<String>) -> Self {
        if let Some(account) = account {
            let _ = self.expected_owner.set(account);
        }
        self
    }

    /// Expects the account of the invoked function (its ARN, from the invocation context) to own
    /// the buckets, unless an owner is already set. Cheap: call it on every invocation.
    pub fn own_account_from_arn(&self, function_arn: &str) {
        if self.expected_owner.get().is_none()
            && let Some(account) = account_of_arn(function_arn)
        {
            let _ = self.expected_owner.set(account.to_owned());
        }
    }

    /// The account every read expects to own the bucket, once known.
    pub fn expected_bucket_owner(&self) -> Option<&str> {
        self.expected_owner.get().map(String::as_str)
    }
}

#[cfg(feature = "s3")]
impl ConfigSource for S3Source {
    fn fetch<'a>(&'a self, uri: &'a S3Uri, max_bytes: u64) -> BoxFuture<'a, Result<Vec<u8>, SourceError>> {
        Box::pin(async move {
            let unreadable = |message: String| SourceError::Unreadable {
                uri: uri.to_string(),
                message,
            };
            let object = self
                .client
                .get_object()
                .bucket(&uri.bucket)
                .key(&uri.key)
                .set_expected_bucket_owner(self.expected_owner.get().cloned())
                .send()
                .await
                .map_err(|e| unreadable(aws_sdk_s3::error::DisplayErrorContext(&e).to_string()))?;
            let too_large = |size: u64| SourceError::TooLarge {
                uri: uri.to_string(),
                size,
                limit: max_bytes,
            };
            // Checked before downloading when S3 says how big it is, and again after.
            if let Some(len) = object.content_length().and_then(|l| u64::try_from(l).ok())
                && len > max_bytes
            {
                return Err(too_large(len));
            }
            let bytes = object
                .body
                .collect()
                .await
                .map_err(|e| unreadable(format!("reading the body failed: {e}")))?
                .into_bytes();
            let len = bytes.len() as u64;
            if len > max_bytes {
                return Err(too_large(len));
            }
            Ok(bytes.to_vec())
        })
    }
}

/// How one configuration object is read and cached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteSettings {
    pub uri: S3Uri,
    /// Age after which a call starts a background refresh.
    pub ttl: Duration,
    /// The longest a call waits for a load when nothing is cached yet.
    pub budget: Duration,
    /// The longest one load may take before it counts as failed.
    pub load_timeout: Duration,
    /// The largest object accepted.
    pub max_bytes: u64,
}

impl RemoteSettings {
    /// Settings with the defaults for everything but the location: TTL 300 s, budget 300 ms, load
    /// timeout 5 s, 16 MiB.
    pub fn new(uri: S3Uri) -> Self {
        RemoteSettings {
            uri,
            ttl: Duration::from_secs(300),
            budget: Duration::from_millis(300),
            load_timeout: Duration::from_secs(5),
            max_bytes: 16 * 1024 * 1024,
        }
    }
}

/// Turns the fetched bytes into the value, or says why they are not acceptable.
pub type Parser<T> = Box<dyn Fn(&[u8]) -> Result<T, String> + Send + Sync>;

/// Counters of loads since start-up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadStats {
    pub loaded: u64,
    pub failed: u64,
}

#[derive(Debug)]
struct Snapshot<T> {
    value: Option<Arc<T>>,
    /// Finished load attempts, successful or not: what waiting calls watch for.
    attempts: u64,
}

impl<T> Clone for Snapshot<T> {
    fn clone(&self) -> Self {
        Snapshot {
            value: self.value.clone(),
            attempts: self.attempts,
        }
    }
}

#[derive(Debug, Default)]
struct Control {
    in_flight: bool,
    loaded_at: Option<Instant>,
    /// After a failure, no new attempt before this.
    retry_at: Option<Instant>,
    consecutive_failures: u32,
}

struct Inner<T> {
    name: &'static str,
    settings: RemoteSettings,
    source: Arc<dyn ConfigSource>,
    parse: Parser<T>,
    metrics_namespace: String,
    control: Mutex<Control>,
    snapshot: watch::Sender<Snapshot<T>>,
    loaded: AtomicU64,
    failed: AtomicU64,
}

/// A configuration object from S3, cached and refreshed in the background. Cheap to clone.
pub struct RemoteConfig<T> {
    inner: Arc<Inner<T>>,
}

impl<T> Clone for RemoteConfig<T> {
    fn clone(&self) -> Self {
        RemoteConfig {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<T> std::fmt::Debug for RemoteConfig<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteConfig")
            .field("name", &self.inner.name)
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

/// The first retry after a failure comes after this; each further failure doubles it, up to the TTL
/// (and at most [`MAX_RETRY_DELAY`]).
const FIRST_RETRY_DELAY: Duration = Duration::from_secs(1);
const MAX_RETRY_DELAY: Duration = Duration::from_secs(60);

fn retry_delay(consecutive_failures: u32, ttl: Duration) -> Duration {
    let doubled = FIRST_RETRY_DELAY.saturating_mul(1u32 << consecutive_failures.saturating_sub(1).min(16));
    doubled.min(ttl.max(FIRST_RETRY_DELAY)).min(MAX_RETRY_DELAY)
}

impl<T: Send + Sync + 'static> RemoteConfig<T> {
    /// A cache of the object named by `settings.uri`. `name` (`deny_list`, `fraud_policy`) labels
    /// its logs and its metrics' `Config` dimension. Nothing is loaded until the first [`get`](Self::get).
    pub fn new(
        name: &'static str,
        settings: RemoteSettings,
        source: Arc<dyn ConfigSource>,
        parse: Parser<T>,
        metrics_namespace: impl Into<String>,
    ) -> Self {
        let (snapshot, _) = watch::channel(Snapshot {
            value: None,
            attempts: 0,
        });
        RemoteConfig {
            inner: Arc::new(Inner {
                name,
                settings,
                source,
                parse,
                metrics_namespace: metrics_namespace.into(),
                control: Mutex::new(Control::default()),
                snapshot,
                loaded: AtomicU64::new(0),
                failed: AtomicU64::new(0),
            }),
        }
    }

    pub fn settings(&self) -> &RemoteSettings {
        &self.inner.settings
    }

    /// The cached value, without loading, refreshing or waiting.
    pub fn current(&self) -> Option<Arc<T>> {
        self.inner.snapshot.borrow().value.clone()
    }

    pub fn stats(&self) -> LoadStats {
        LoadStats {
            loaded: self.inner.loaded.load(Ordering::Relaxed),
            failed: self.inner.failed.load(Ordering::Relaxed),
        }
    }

    /// The value for this call. Starts a load when none was made yet or the cached value is older
    /// than the TTL (and no failure back-off is running). With a cached value it returns at once;
    /// without one it waits for the load at most the budget. `None`: nothing could be loaded
    /// within the budget (or ever).
    ///
    /// Must be called within a tokio runtime (loads are spawned tasks).
    pub async fn get(&self) -> Option<Arc<T>> {
        let inner = &self.inner;
        let mut rx = inner.snapshot.subscribe();
        let (cached, seen) = {
            let s = rx.borrow_and_update();
            (s.value.clone(), s.attempts)
        };
        let now = Instant::now();
        let (start, in_flight) = {
            let mut c = inner.control.lock().unwrap_or_else(PoisonError::into_inner);
            let stale = c
                .loaded_at
                .is_none_or(|at| now.duration_since(at) >= inner.settings.ttl);
            let may_retry = c.retry_at.is_none_or(|at| now >= at);
            let start = stale && may_retry && !c.in_flight;
            if start {
                c.in_flight = true;
            }
            (start, c.in_flight)
        };
        if start {
            tokio::spawn(Self::load(Arc::clone(inner)));
        }
        if cached.is_some() {
            return cached;
        }
        if !in_flight {
            // Backing off after a failure, or a load finished since the snapshot above.
            return self.current();
        }
        let budget = inner.settings.budget;
        match tokio::time::timeout(budget, rx.wait_for(|s| s.attempts > seen)).await {
            Ok(Ok(s)) => s.value.clone(),
            // The sender lives in `inner`, which this call holds: closed cannot happen.
            Ok(Err(_)) => None,
            Err(_) => {
                tracing::warn!(
                    config = inner.name,
                    budget_ms = budget.as_millis() as u64,
                    "no {} within the time budget; answering without it while the load goes on",
                    inner.name
                );
                self.current()
            }
        }
    }

    async fn load(inner: Arc<Inner<T>>) {
        let started = Instant::now();
        let settings = &inner.settings;
        let fetched = tokio::time::timeout(
            settings.load_timeout,
            inner.source.fetch(&settings.uri, settings.max_bytes),
        )
        .await;
        let result = match fetched {
            Err(_) => Err(format!("timed out after {} ms", settings.load_timeout.as_millis())),
            Ok(Err(e)) => Err(e.to_string()),
            Ok(Ok(bytes)) => (inner.parse)(&bytes).map_err(|e| format!("{} is not valid: {e}", settings.uri)),
        };
        let elapsed_ms = started.elapsed().as_millis() as u64;
        let mut metrics = Metrics::new(inner.metrics_namespace.as_str()).with_dimension("Config", inner.name);
        match result {
            Ok(value) => {
                {
                    let mut c = inner.control.lock().unwrap_or_else(PoisonError::into_inner);
                    c.in_flight = false;
                    c.loaded_at = Some(Instant::now());
                    c.retry_at = None;
                    c.consecutive_failures = 0;
                }
                inner.loaded.fetch_add(1, Ordering::Relaxed);
                inner.snapshot.send_modify(|s| {
                    s.value = Some(Arc::new(value));
                    s.attempts += 1;
                });
                tracing::info!(config = inner.name, uri = %settings.uri, elapsed_ms, "configuration loaded");
                metrics.count("ConfigLoaded", 1);
            }
            Err(error) => {
                let (failures, retry_in) = {
                    let mut c = inner.control.lock().unwrap_or_else(PoisonError::into_inner);
                    c.in_flight = false;
                    c.consecutive_failures = c.consecutive_failures.saturating_add(1);
                    let delay = retry_delay(c.consecutive_failures, settings.ttl);
                    c.retry_at = Some(Instant::now() + delay);
                    (c.consecutive_failures, delay)
                };
                inner.failed.fetch_add(1, Ordering::Relaxed);
                let keeping_last_good = inner.snapshot.borrow().value.is_some();
                inner.snapshot.send_modify(|s| s.attempts += 1);
                tracing::warn!(
                    config = inner.name,
                    error = %error,
                    keeping_last_good,
                    consecutive_failures = failures,
                    retry_in_ms = retry_in.as_millis() as u64,
                    elapsed_ms,
                    "configuration load failed"
                );
                metrics.count("ConfigLoadFailed", 1);
            }
        }
        metrics.emit();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    /// One scripted fetch: its delay and its result.
    type Step = (Duration, Result<Vec<u8>, SourceError>);

    /// A source whose answers the test scripts: a queue of results, each after a delay.
    #[derive(Default)]
    struct Scripted {
        script: Mutex<Vec<Step>>,
        calls: AtomicUsize,
    }

    impl Scripted {
        fn new(script: Vec<(Duration, Result<&str, &str>)>) -> Arc<Self> {
            let script = script
                .into_iter()
                .rev()
                .map(|(d, r)| {
                    let r = r.map(|b| b.as_bytes().to_vec()).map_err(|m| SourceError::Unreadable {
                        uri: "s3://b/k".into(),
                        message: m.into(),
                    });
                    (d, r)
                })
                .collect();
            Arc::new(Scripted {
                script: Mutex::new(script),
                calls: AtomicUsize::new(0),
            })
        }
        fn calls(&self) -> usize {
            self.calls.load(Ordering::SeqCst)
        }
    }

    impl ConfigSource for Scripted {
        fn fetch<'a>(&'a self, _: &'a S3Uri, _: u64) -> BoxFuture<'a, Result<Vec<u8>, SourceError>> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let next = self.script.lock().unwrap().pop();
            Box::pin(async move {
                let (delay, result) = next.unwrap_or((Duration::from_secs(3600), Ok(Vec::new())));
                tokio::time::sleep(delay).await;
                result
            })
        }
    }

    fn settings(ttl_ms: u64, budget_ms: u64) -> RemoteSettings {
        RemoteSettings {
            ttl: Duration::from_millis(ttl_ms),
            budget: Duration::from_millis(budget_ms),
            load_timeout: Duration::from_secs(2),
            ..RemoteSettings::new("s3://b/k".parse().unwrap())
        }
    }

    fn text_config(source: Arc<Scripted>, s: RemoteSettings) -> RemoteConfig<String> {
        let parse: Parser<String> = Box::new(|b: &[u8]| {
            let s = std::str::from_utf8(b).map_err(|e| e.to_string())?;
            if s == "bad" {
                Err("bad content".into())
            } else {
                Ok(s.to_owned())
            }
        });
        RemoteConfig::new("test", s, source, parse, "Test")
    }

    const MS: Duration = Duration::from_millis(1);

    #[tokio::test(start_paused = true)]
    async fn the_first_call_waits_for_a_quick_load_and_later_calls_use_the_cache() {
        let source = Scripted::new(vec![(MS * 50, Ok("v1"))]);
        let config = text_config(source.clone(), settings(300_000, 300));
        let started = tokio::time::Instant::now();
        assert_eq!(config.get().await.as_deref().map(String::as_str), Some("v1"));
        assert_eq!(started.elapsed(), MS * 50);
        assert_eq!(config.get().await.as_deref().map(String::as_str), Some("v1"));
        assert_eq!(source.calls(), 1, "cached within the TTL");
        assert_eq!(config.stats(), LoadStats { loaded: 1, failed: 0 });
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_first_load_costs_a_call_no_more_than_the_budget_and_lands_later() {
        let source = Scripted::new(vec![(MS * 2000, Ok("v1"))]);
        let config = text_config(source.clone(), settings(300_000, 300));
        let started = tokio::time::Instant::now();
        assert_eq!(config.get().await, None);
        assert_eq!(started.elapsed(), MS * 300, "waited exactly the budget");
        // A call while the load is still running waits the budget again, not longer.
        let started = tokio::time::Instant::now();
        assert_eq!(config.get().await, None);
        assert_eq!(started.elapsed(), MS * 300);
        tokio::time::sleep(MS * 2000).await;
        let started = tokio::time::Instant::now();
        assert_eq!(config.get().await.as_deref().map(String::as_str), Some("v1"));
        assert_eq!(started.elapsed(), Duration::ZERO);
        assert_eq!(source.calls(), 1, "one load, not one per call");
    }

    #[tokio::test(start_paused = true)]
    async fn a_load_that_never_answers_times_out_and_is_retried_after_a_back_off() {
        let source = Scripted::new(vec![(Duration::from_secs(3600), Ok("never")), (MS * 10, Ok("v2"))]);
        let config = text_config(source.clone(), settings(300_000, 100));
        assert_eq!(config.get().await, None);
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(config.stats().failed, 1, "the load timeout ended the first attempt");
        // Within the back-off no call waits and no load starts.
        let started = tokio::time::Instant::now();
        assert_eq!(config.get().await, None);
        assert_eq!(started.elapsed(), Duration::ZERO);
        assert_eq!(source.calls(), 1);
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(config.get().await.as_deref().map(String::as_str), Some("v2"));
        assert_eq!(source.calls(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn after_the_ttl_a_call_refreshes_in_the_background_without_waiting() {
        let source = Scripted::new(vec![(MS, Ok("v1")), (MS * 200, Ok("v2"))]);
        let config = text_config(source.clone(), settings(1000, 300));
        assert_eq!(config.get().await.as_deref().map(String::as_str), Some("v1"));
        tokio::time::sleep(MS * 1000).await;
        let started = tokio::time::Instant::now();
        assert_eq!(
            config.get().await.as_deref().map(String::as_str),
            Some("v1"),
            "stale but served"
        );
        assert_eq!(started.elapsed(), Duration::ZERO, "no wait for the refresh");
        assert_eq!(config.get().await.as_deref().map(String::as_str), Some("v1"));
        tokio::task::yield_now().await;
        assert_eq!(source.calls(), 2, "one refresh in flight at a time");
        tokio::time::sleep(MS * 201).await;
        assert_eq!(config.get().await.as_deref().map(String::as_str), Some("v2"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_or_invalid_refresh_keeps_the_last_good_value() {
        let source = Scripted::new(vec![(MS, Ok("v1")), (MS, Err("AccessDenied")), (MS, Ok("bad"))]);
        let config = text_config(source.clone(), settings(1000, 300));
        assert_eq!(config.get().await.as_deref().map(String::as_str), Some("v1"));
        tokio::time::sleep(MS * 1000).await;
        config.get().await;
        tokio::time::sleep(MS * 10).await;
        assert_eq!(config.stats(), LoadStats { loaded: 1, failed: 1 });
        assert_eq!(config.get().await.as_deref().map(String::as_str), Some("v1"));
        tokio::time::sleep(MS * 1000).await;
        config.get().await;
        tokio::time::sleep(MS * 10).await;
        assert_eq!(
            config.stats(),
            LoadStats { loaded: 1, failed: 2 },
            "an invalid file is a failed load"
        );
        assert_eq!(config.current().as_deref().map(String::as_str), Some("v1"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_quick_failure_releases_a_waiting_call_before_the_budget() {
        let source = Scripted::new(vec![(MS * 20, Err("NoSuchKey"))]);
        let config = text_config(source, settings(300_000, 300));
        let started = tokio::time::Instant::now();
        assert_eq!(config.get().await, None);
        assert_eq!(started.elapsed(), MS * 20);
    }

    #[tokio::test]
    async fn the_memory_source_serves_replaces_and_loses_objects() {
        let uri: S3Uri = "s3://cfg/list.txt".parse().unwrap();
        let source = MemorySource::new();
        assert!(matches!(
            source.fetch(&uri, 100).await,
            Err(SourceError::Unreadable { .. })
        ));
        source.put(&uri, "v1");
        assert_eq!(source.fetch(&uri, 100).await.unwrap(), b"v1");
        assert_eq!(
            source.fetch(&uri, 1).await,
            Err(SourceError::TooLarge {
                uri: uri.to_string(),
                size: 2,
                limit: 1
            })
        );
        source.remove(&uri);
        assert!(source.fetch(&uri, 100).await.is_err());
    }

    #[test]
    fn retry_delays_double_up_to_the_ttl_and_a_minute() {
        let ttl = Duration::from_secs(300);
        let secs: Vec<u64> = (1..=9).map(|n| retry_delay(n, ttl).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(retry_delay(5, Duration::from_secs(5)), Duration::from_secs(5));
        assert_eq!(retry_delay(u32::MAX, ttl), Duration::from_secs(60));
    }

    #[test]
    fn the_bucket_owner_is_an_account_id_from_the_environment_or_the_function_arn() {
        assert_eq!(bucket_owner_from_env(&[("X", "")]).unwrap(), None);
        assert_eq!(
            bucket_owner_from_env(&[("CONFIG_BUCKET_OWNER", " 111122223333 ")]).unwrap(),
            Some("111122223333".to_owned())
        );
        for bad in ["1111-2222-3333", "11112222333", "arn:aws:iam::111122223333:root"] {
            let err = bucket_owner_from_env(&[("CONFIG_BUCKET_OWNER", bad)]).unwrap_err();
            assert!(err.to_string().contains("CONFIG_BUCKET_OWNER"), "{err}");
        }
        assert_eq!(
            account_of_arn("arn:aws:lambda:us-east-1:123456789012:function:connect-lake-logger"),
            Some("123456789012")
        );
        assert_eq!(account_of_arn("arn:aws:lambda:us-east-1::function:x"), None);
        assert_eq!(account_of_arn("not an arn"), None);
    }

    /// A one-request HTTP server that answers `body` and hands back the request's head.
    #[cfg(feature = "s3")]
    async fn one_request_server(body: &'static str) -> (String, tokio::task::JoinHandle<String>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut head = Vec::new();
            let mut buf = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = socket.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                head.extend_from_slice(&buf[..n]);
            }
            let reply = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len());
            socket.write_all(reply.as_bytes()).await.unwrap();
            String::from_utf8_lossy(&head).to_ascii_lowercase()
        });
        (endpoint, server)
    }

    #[cfg(feature = "s3")]
    fn client(endpoint: &str) -> aws_sdk_s3::Client {
        use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
        aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .endpoint_url(endpoint)
                .region(Region::new("us-east-1"))
                .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
                .force_path_style(true)
                .build(),
        )
    }

    #[cfg(feature = "s3")]
    #[tokio::test]
    async fn s3_reads_name_the_configured_owner_or_else_the_functions_own_account() {
        let uri: S3Uri = "s3://cfg/deny-list.txt".parse().unwrap();
        let (endpoint, server) = one_request_server("+12025550143\n").await;
        let source = S3Source::new(client(&endpoint)).with_expected_bucket_owner(Some("111122223333".into()));
        source.own_account_from_arn("arn:aws:lambda:us-east-1:999999999999:function:f");
        assert_eq!(
            source.expected_bucket_owner(),
            Some("111122223333"),
            "the variable wins"
        );
        assert_eq!(source.fetch(&uri, 1024).await.unwrap(), b"+12025550143\n");
        let head = server.await.unwrap();
        assert!(head.contains("x-amz-expected-bucket-owner: 111122223333"), "{head}");

        let (endpoint, server) = one_request_server("{}").await;
        let source = S3Source::new(client(&endpoint)).with_expected_bucket_owner(None);
        source.own_account_from_arn("arn:aws:lambda:us-east-1:123456789012:function:f");
        source.fetch(&uri, 1024).await.unwrap();
        let head = server.await.unwrap();
        assert!(head.contains("x-amz-expected-bucket-owner: 123456789012"), "{head}");
    }
}
