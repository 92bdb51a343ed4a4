//! The HTTP side: the one list of routes, `/graphql` (POST for operations, GET for reads and
//! GraphiQL), `/graphql/ws` (subscriptions), the pages of [`pages`] (`/`, `/staff`,
//! `/assets/…`), the spreadsheets (`/import`, `/export`), `/healthz` (alive), `/readyz` (the
//! database answers and change events are heard) and `/metrics`; and the layers every route
//! shares: request id, tracing, CORS, compression, timeout, body limit. Each concern has its
//! file: GraphQL over HTTP ([`graphql`]), the response cache's adapter ([`cache`]), the
//! layers written here ([`middleware`]), health and metrics ([`health`]), the media types
//! ([`negotiation`]), GET's query string ([`get`]), the WebSocket upgrade ([`websocket`]) and
//! the spreadsheets ([`sheets`]).

mod answer;
mod cache;
mod feed;
mod get;
mod graphql;
mod health;
mod middleware;
pub(crate) mod negotiation;
pub mod pages;
mod sheets;
mod upload;
mod websocket;

pub use health::metrics_router;
pub use sheets::Sheets;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, StatusCode};
use axum::routing::get;
use tokio::sync::Semaphore;
use tower::util::option_layer;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::cache::ResponseCache;
use crate::db::Database;
use crate::events::Events;
use crate::graphql::Api;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The schema and its database.
    pub api: Api,
    /// The database, for readiness checks.
    pub db: Database,
    /// The change-event hub, for readiness checks.
    pub events: Events,
    /// Places left for WebSocket connections.
    pub ws_connections: Arc<Semaphore>,
    /// Operations one WebSocket connection may run at once.
    pub max_subscriptions: usize,
    /// Time a WebSocket connection has to send `connection_init`.
    pub ws_init_timeout: Duration,
    /// Time between keep-alive pings on a WebSocket connection; `None`: no pings.
    pub ws_keepalive: Option<Duration>,
    /// The bounds of a spreadsheet import.
    pub import: crate::sheets::report::ImportLimits,
    /// Time an import or export may take.
    pub sheets_timeout: Duration,
    /// Most operations in one batch.
    pub max_batch: usize,
    /// Seconds anonymous reads may be cached; 0 for none.
    pub cache_max_age: u32,
    /// Largest accepted request body (also the largest WebSocket message).
    pub body_limit: usize,
    /// Initial read buffer of a WebSocket connection (`--ws-read-buffer-size`).
    pub ws_read_buffer_size: usize,
    /// Bytes a WebSocket connection gathers before writing (`--ws-write-buffer-size`).
    pub ws_write_buffer_size: usize,
    /// Set to true when the server shuts down: WebSocket connections then close (1001).
    pub going_away: Arc<tokio::sync::watch::Sender<bool>>,
    /// Finished answers to anonymous reads (see [`crate::cache`]).
    pub response_cache: ResponseCache,
    /// Places for imports and exports, and the exports kept ready.
    pub sheets: Sheets,
    /// Time a request may take (`--request-timeout-secs`); the response cache's fast path
    /// gives a body the same.
    pub request_timeout: Duration,
    /// Open WebSocket connections by client address.
    pub ws_clients: Arc<crate::connections::PerClient>,
    /// WebSocket connections one client address may hold (`--max-ws-connections-per-client`).
    pub max_ws_per_client: usize,
    /// Time an acknowledged WebSocket may hold no operation (`--ws-idle-secs`).
    pub ws_idle: Duration,
}

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    /// Largest accepted request body, in bytes.
    pub body_limit: usize,
    /// Time a request may take.
    pub request_timeout: Duration,
    /// Origins browsers may call the API from: none (no CORS headers), a list, or `*` (any
    /// origin, reads only: the `authorization` header is then not allowed across origins).
    pub cors_origins: Vec<String>,
    /// Whether `/metrics` is served here (no `--metrics-addr`).
    pub public_metrics: bool,
}

/// The request-id header: taken from the client when sensible, else made; echoed in the
/// response, recorded in every log line of the request and in revisions.
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The router with every route and layer.
pub fn router(state: AppState, limits: HttpLimits) -> Router {
    // Repeated anonymous reads are answered before any other layer (see `from_cache`); with CORS
    // configured they go through the CORS layer and are answered in the handler instead.
    let fast_path = (limits.cors_origins.is_empty() && state.response_cache.is_on())
        .then(|| axum::middleware::from_fn_with_state(state.clone(), cache::from_cache));
    // The WebSocket route lives outside the timeout: a subscription lasts as long as it likes.
    let ws = Router::new()
        .route("/graphql/ws", get(websocket::graphql_ws))
        .with_state(state.clone());
    let mut api = Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz));
    // With --metrics-addr, /metrics is served there only.
    if limits.public_metrics {
        api = api.route("/metrics", get(health::metrics));
    }
    api.merge(pages::router())
        // GraphQLRequest streams the body, so axum's DefaultBodyLimit would not apply: limit the
        // body itself (413 when over).
        .layer(RequestBodyLimitLayer::new(limits.body_limit))
        .layer(axum::middleware::from_fn_with_state(
            limits.body_limit,
            middleware::read_refused_body,
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        // Answers from the response cache come compressed already (once, when first asked for).
        .layer(
            CompressionLayer::new()
                .compress_when(DefaultPredicate::new().and(cache::NotPrecompressed)),
        )
        .with_state(state.clone())
        .merge(ws)
        .merge(feed::router(state.clone()))
        .merge(sheets::router(state))
        // No origins configured: no CORS layer at all (browsers then refuse cross-origin calls).
        .layer(option_layer(
            (!limits.cors_origins.is_empty()).then(|| middleware::cors(&limits.cors_origins)),
        ))
        .layer(axum::middleware::from_fn(middleware::json_errors))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(middleware::span)
                .on_response(middleware::access),
        )
        .layer(PropagateRequestIdLayer::new(X_REQUEST_ID))
        .layer(SetRequestIdLayer::new(X_REQUEST_ID, middleware::RequestIds))
        .layer(axum::middleware::map_request(
            middleware::drop_unusable_request_id,
        ))
        .layer(option_layer(fast_path))
}
