//! Prometheus metrics through the `metrics` facade: one process-wide recorder, rendered at
//! GET /metrics. What is measured, and where:
//! - `coverage_api_graphql_requests_total{operation,outcome}`,
//!   `coverage_api_graphql_request_duration_seconds{operation}` and
//!   `coverage_api_graphql_errors_total{code}`: [`operation`], once per executed request;
//! - `coverage_api_sql_statements_total{outcome}` and `coverage_api_sql_statement_duration_seconds`:
//!   the database's statement callback (`db::connect`);
//! - `coverage_api_dataloader_batch_size{loader}`: each DataLoader batch (`graphql::loaders`).

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use async_graphql::{Response, Value};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Latency buckets, in seconds: a dashboard request takes milliseconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// Distinct operation names kept as labels; later ones count as `other`, so clients cannot grow
/// the metrics without bound by inventing names.
const MAX_OPERATION_NAMES: usize = 200;

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
            match builder.install_recorder() {
                Ok(handle) => Some(handle),
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

/// A bounded label for a client-chosen operation name.
fn label(name: Option<&str>) -> String {
    static NAMES: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let Some(name) = name else {
        return "anonymous".into();
    };
    let sane = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !sane {
        return "invalid".into();
    }
    let Ok(mut names) = NAMES.get_or_init(Default::default).lock() else {
        return "other".into();
    };
    if names.contains(name) || names.len() < MAX_OPERATION_NAMES {
        names.insert(name.to_owned());
        name.to_owned()
    } else {
        "other".into()
    }
}
