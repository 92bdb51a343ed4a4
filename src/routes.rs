//! The one list of routes: `/graphql` (POST for operations, GET for GraphiQL), `/healthz`
//! (alive) and `/readyz` (the database answers); and the HTTP layers every route shares: request
//! id, tracing, CORS, compression, timeout, body limit.

use std::time::Duration;

use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{FromRequest, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use sea_orm::ConnectionTrait;
use tower::util::option_layer;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tracing::Instrument;

use crate::auth;
use crate::db::Database;
use crate::graphql::mutation::RequestId;
use crate::graphql::{self, AppSchema};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The GraphQL schema (which carries the loaders).
    pub schema: AppSchema,
    /// The database, for readiness checks.
    pub db: Database,
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
}

/// The request-id header: taken from the client when sensible, else made; echoed in the
/// response, recorded in every log line of the request and in revisions.
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The router with every route and layer.
pub fn router(state: AppState, limits: HttpLimits) -> Router {
    Router::new()
        .route("/graphql", get(graphiql).post(graphql))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        // GraphQLRequest streams the body, so axum's DefaultBodyLimit would not apply: limit the
        // body itself (413 when over).
        .layer(RequestBodyLimitLayer::new(limits.body_limit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        .layer(CompressionLayer::new())
        // No origins configured: no CORS layer at all (browsers then refuse cross-origin calls).
        .layer(option_layer(
            (!limits.cors_origins.is_empty()).then(|| cors(&limits.cors_origins)),
        ))
        .layer(TraceLayer::new_for_http())
        .layer(middleware::from_fn(with_request_id))
        .with_state(state)
}

/// The CORS policy for `origins` (see [`HttpLimits::cors_origins`]).
fn cors(origins: &[String]) -> CorsLayer {
    let base = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST])
        .expose_headers([X_REQUEST_ID])
        .max_age(Duration::from_secs(600));
    if origins.iter().any(|o| o == "*") {
        return base
            .allow_origin(AllowOrigin::any())
            .allow_headers([CONTENT_TYPE, X_REQUEST_ID]);
    }
    let list: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    base.allow_origin(AllowOrigin::list(list)).allow_headers([
        CONTENT_TYPE,
        AUTHORIZATION,
        X_REQUEST_ID,
    ])
}

/// Gives the request its id (see [`X_REQUEST_ID`]), runs it inside a span that carries the id,
/// and echoes the id in the response.
async fn with_request_id(mut request: Request, next: Next) -> Response {
    let id = request_id(request.headers());
    let value = HeaderValue::from_str(&id).ok();
    if let Some(value) = &value {
        request.headers_mut().insert(X_REQUEST_ID, value.clone());
    }
    request.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!("request", request_id = %id);
    let mut response = next.run(request).instrument(span).await;
    if let Some(value) = value {
        response.headers_mut().insert(X_REQUEST_ID, value);
    }
    response
}

/// A POST that a browser would send cross-site without a CORS preflight (an HTML form,
/// `text/plain`) must not run an operation: the body must be JSON, or the request must carry a
/// header no simple cross-site request can (`apollo-require-preflight`, `x-apollo-operation-name`).
/// Answered 415 otherwise, before anything is parsed.
fn may_run(headers: &HeaderMap) -> bool {
    let json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| {
            let mime = mime.trim();
            mime.eq_ignore_ascii_case("application/json")
                || mime.eq_ignore_ascii_case("application/graphql-response+json")
        });
    json || headers.contains_key("apollo-require-preflight")
        || headers.contains_key("x-apollo-operation-name")
}

async fn graphql(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    headers: HeaderMap,
    request: Request,
) -> Response {
    if !may_run(&headers) {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "POST /graphql takes a JSON body (content-type: application/json)",
        )
            .into_response();
    }
    let request = match <GraphQLRequest as FromRequest<()>>::from_request(request, &()).await {
        Ok(request) => request,
        Err(rejection) => return rejection.into_response(),
    };
    let actor = match auth::actor(&state.db.conn, &headers).await {
        Ok(actor) => actor,
        Err(err) => {
            let error = graphql::error::to_graphql(&err);
            return GraphQLResponse::from(async_graphql::Response::from_errors(vec![
                error.into_server_error(async_graphql::Pos::default()),
            ]))
            .into_response();
        }
    };
    let request = request.into_inner().data(request_id);
    GraphQLResponse::from(graphql::execute(&state.schema, &state.db, actor, request).await)
        .into_response()
}

/// The client's `x-request-id` when it is a sensible one (1 to 128 visible ASCII characters),
/// else a new one: a random per-process prefix and a counter, unique without a syscall per
/// request.
fn request_id(headers: &HeaderMap) -> String {
    static PREFIX: OnceLock<String> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(1);
    if let Some(id) = headers.get(X_REQUEST_ID).and_then(|v| v.to_str().ok())
        && (1..=128).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_graphic())
    {
        return id.to_owned();
    }
    let prefix = PREFIX.get_or_init(|| {
        use rand::{RngCore, SeedableRng};
        format!("{:016x}", rand::rngs::StdRng::from_os_rng().next_u64())
    });
    format!("{prefix}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// GraphiQL, opened with the dashboard query in the editor. Hand-written because async-graphql's
/// GraphiQL page cannot be given a default query.
async fn graphiql() -> Html<&'static str> {
    Html(include_str!("graphiql.html"))
}

async fn metrics() -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        crate::metrics::render(),
    )
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.db.conn.execute_unprepared("SELECT 1").await {
        Ok(_) => (StatusCode::OK, "ready"),
        Err(err) => {
            tracing::warn!(%err, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}
