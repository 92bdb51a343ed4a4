//! Prometheus metrics through the `metrics` facade: one process-wide recorder, rendered at
//! GET /metrics. What is measured, and where:
//! - `coverage_api_graphql_requests_total{operation,outcome}`,
//!   `coverage_api_graphql_request_duration_seconds{operation}` and
//!   `coverage_api_graphql_errors_total{code}`: [`operation`], once per executed request;
//! - `coverage_api_sql_statements_total{outcome}` and `coverage_api_sql_statement_duration_seconds`:
//!   the database's statement callback (`db::connect`);
//! - `coverage_api_dataloader_batch_size{loader}`: each DataLoader batch (`graphql::loaders`).
//!
//! Memory: the exporter keeps every histogram sample in a queue until it is drained into the
//! histogram's fixed buckets, which rendering does, and so does [`PrometheusHandle::run_upkeep`].
//! A process nobody scrapes would keep every sample (8 bytes each, several a request) for ever.
//! So the recorder installed is [`Bounded`]: the exporter's, plus a count of the samples waiting,
//! which drains the queues once `--metrics-max-pending-samples` wait. Drained histograms are
//! fixed-size (one counter per bucket) and the label sets are bounded (see [`label`]), so the
//! metrics' memory depends on neither traffic nor time.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_graphql::{Response, Value};
use metrics::{
    Counter, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder, SharedString, Unit,
};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

/// Latency buckets, in seconds: a dashboard request takes milliseconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// The operations the service's own pages send: always labels. Any other name is a label only
/// when the operator names it (`--metrics-operations`); the rest count as `other`, so strangers
/// can neither grow the metrics nor crowd out the operations that matter.
pub const PAGE_OPERATIONS: [&str; 10] = [
    "Dashboard",
    "Trend",
    "CityHistory",
    "DashboardCoverage",
    "DashboardPilots",
    "StaffStart",
    "StaffRecords",
    "StaffUpdate",
    "UpdateCoverage",
    "CoverageChanged",
];

/// Operation names that are labels: [`PAGE_OPERATIONS`] and those added by
/// [`label_operations`].
static LABELLED: OnceLock<std::sync::RwLock<HashSet<String>>> = OnceLock::new();

fn labelled() -> &'static std::sync::RwLock<HashSet<String>> {
    LABELLED.get_or_init(|| {
        std::sync::RwLock::new(PAGE_OPERATIONS.iter().map(|n| (*n).to_owned()).collect())
    })
}

/// Makes `names` labels too (`--metrics-operations`; the set only grows, and only from the
/// operator's configuration).
pub fn label_operations(names: &[String]) {
    if let Ok(mut set) = labelled().write() {
        set.extend(names.iter().cloned());
    }
}

use crate::config::DEFAULT_MAX_PENDING_SAMPLES;

/// Histogram samples recorded since the queues were last drained (a drain and concurrent
/// records may overlap by a few).
static PENDING: AtomicUsize = AtomicUsize::new(0);

/// Samples that may wait before they are drained (`--metrics-max-pending-samples`).
static MAX_PENDING: AtomicUsize = AtomicUsize::new(DEFAULT_MAX_PENDING_SAMPLES);

/// Histogram samples recorded since the process started.
static RECORDED: AtomicU64 = AtomicU64::new(0);

/// Drains started because [`MAX_PENDING`] samples waited (renders not counted).
static DRAINS: AtomicU64 = AtomicU64::new(0);

/// Renders of the page since the process started (each drains every queue too).
static RENDERS: AtomicU64 = AtomicU64::new(0);

/// Sets how many histogram samples may wait before they are drained (at least 1). The recorder
/// is process-wide, so the last call wins.
pub fn set_max_pending_samples(samples: usize) {
    MAX_PENDING.store(samples.max(1), Ordering::Relaxed);
}

/// How many histogram samples may wait before they are drained.
pub fn max_pending_samples() -> usize {
    MAX_PENDING.load(Ordering::Relaxed)
}

/// Histogram samples now waiting to be drained: at most about [`max_pending_samples`], whatever
/// the traffic and whether or not anyone reads GET /metrics.
pub fn pending_samples() -> usize {
    PENDING.load(Ordering::Relaxed)
}

/// Histogram samples recorded since the process started.
pub fn samples_recorded() -> u64 {
    RECORDED.load(Ordering::Relaxed)
}

/// Drains made because too many samples waited, since the process started.
pub fn drains() -> u64 {
    DRAINS.load(Ordering::Relaxed)
}

/// Renders of GET /metrics since the process started.
pub fn renders() -> u64 {
    RENDERS.load(Ordering::Relaxed)
}

/// Counts one histogram sample just recorded, and drains the queues when enough wait. The
/// drain runs on the record that crosses the bound rather than on a timer: the bound then holds
/// at any request rate, and an idle process does no work. Only the caller that takes the count
/// back to zero drains, so concurrent records do not drain twice.
fn sampled() {
    RECORDED.fetch_add(1, Ordering::Relaxed);
    let max = MAX_PENDING.load(Ordering::Relaxed);
    if PENDING.fetch_add(1, Ordering::Relaxed) + 1 >= max
        && PENDING.swap(0, Ordering::AcqRel) >= max
        && let Some(handle) = handle()
    {
        DRAINS.fetch_add(1, Ordering::Relaxed);
        handle.run_upkeep();
    }
}

/// The exporter's recorder, whose histograms count their samples (see the module's notes).
/// Every histogram recorded anywhere in the process goes through it, so none escapes the bound.
struct Bounded(PrometheusRecorder);

/// One histogram of [`Bounded`].
struct Counted(Histogram);

impl HistogramFn for Counted {
    fn record(&self, value: f64) {
        self.0.record(value);
        sampled();
    }
}

impl Recorder for Bounded {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.0.describe_counter(key, unit, description);
    }

    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.0.describe_gauge(key, unit, description);
    }

    fn describe_histogram(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.0.describe_histogram(key, unit, description);
    }

    fn register_counter(&self, key: &Key, metadata: &Metadata<'_>) -> Counter {
        self.0.register_counter(key, metadata)
    }

    fn register_gauge(&self, key: &Key, metadata: &Metadata<'_>) -> Gauge {
        self.0.register_gauge(key, metadata)
    }

    fn register_histogram(&self, key: &Key, metadata: &Metadata<'_>) -> Histogram {
        Histogram::from_arc(Arc::new(Counted(self.0.register_histogram(key, metadata))))
    }
}

/// The process's Prometheus handle, installing the recorder on first use. `None` when another
/// recorder was installed first (then there is nothing of ours to render).
pub fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = match PrometheusBuilder::new().set_buckets(&BUCKETS) {
                Ok(builder) => builder,
                Err(err) => {
                    tracing::warn!(%err, "metrics buckets refused; rendering summaries");
                    PrometheusBuilder::new()
                }
            };
            // `build_recorder`, not `install`: the page is served by our own route, and
            // `install`'s upkeep runs on a timer (see `sampled` for why a count instead).
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            match metrics::set_global_recorder(Bounded(recorder)) {
                Ok(()) => Some(handle),
                Err(err) => {
                    tracing::warn!(%err, "no metrics recorder installed");
                    None
                }
            }
        })
        .as_ref()
}

/// The text GET /metrics serves.
pub fn render() -> String {
    // Rendering drains every queue.
    RENDERS.fetch_add(1, Ordering::Relaxed);
    PENDING.store(0, Ordering::Relaxed);
    handle().map(PrometheusHandle::render).unwrap_or_default()
}

/// Records one SQL statement.
pub fn sql_statement(seconds: f64, failed: bool) {
    let outcome = if failed { "error" } else { "ok" };
    metrics::counter!("coverage_api_sql_statements_total", "outcome" => outcome).increment(1);
    metrics::histogram!("coverage_api_sql_statement_duration_seconds").record(seconds);
}

/// Records the size of one DataLoader batch.
pub fn loader_batch(loader: &'static str, keys: usize) {
    metrics::histogram!("coverage_api_dataloader_batch_size", "loader" => loader)
        .record(keys as f64);
}

/// Records one executed GraphQL operation: count by name and outcome, latency, errors by code.
/// Called once per request from `graphql::execute`, rather than as an async-graphql extension:
/// any extension puts a hook around every field's resolution, which cost the dashboard query
/// several per cent of its throughput.
pub fn operation(name: Option<&str>, elapsed: Duration, response: &Response) {
    let operation = label(name);
    let outcome = if response.errors.is_empty() {
        "ok"
    } else {
        "error"
    };
    metrics::counter!("coverage_api_graphql_requests_total",
        "operation" => operation.clone(), "outcome" => outcome)
    .increment(1);
    metrics::histogram!("coverage_api_graphql_request_duration_seconds", "operation" => operation)
        .record(elapsed.as_secs_f64());
    for error in &response.errors {
        let code = match error.extensions.as_ref().and_then(|e| e.get("code")) {
            Some(Value::String(code)) => code.clone(),
            _ => "NONE".to_owned(),
        };
        metrics::counter!("coverage_api_graphql_errors_total", "code" => code).increment(1);
    }
}

/// A bounded label for a client-chosen operation name: the name when it is one the pages send
/// or the operator named, `anonymous` without one, `invalid` for a name that is no GraphQL
/// name of at most 64 characters, `other` for any other.
fn label(name: Option<&str>) -> String {
    let Some(name) = name else {
        return "anonymous".into();
    };
    let sane = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !sane {
        return "invalid".into();
    }
    match labelled().read() {
        Ok(set) if set.contains(name) => name.to_owned(),
        _ => "other".into(),
    }
}
