//! Health and metrics: `/healthz` (alive), `/readyz` (the database answers and change events are
//! heard) and `/metrics` (Prometheus text, here or on `--metrics-addr`).

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sea_orm::ConnectionTrait;

use super::AppState;

/// `GET /metrics` alone: merged into the API's router, or served on `--metrics-addr`.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .with_state(state)
}

pub(super) async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    metrics::gauge!("coverage_api_event_subscribers").set(state.events.subscriber_count() as f64);
    state.response_cache.record_size();
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        crate::metrics::render(),
    )
}

pub(super) async fn healthz() -> &'static str {
    "ok"
}

pub(super) async fn readyz(State(state): State<AppState>) -> Response {
    if let Err(err) = state.db.conn.execute_unprepared("SELECT 1").await {
        tracing::warn!(%err, "readiness check failed");
        return (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response();
    }
    if !state.events.is_listening() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "not listening for change events yet",
        )
            .into_response();
    }
    (StatusCode::OK, "ready").into_response()
}
