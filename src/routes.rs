//! The one list of routes: `/graphql` (POST for operations, GET for GraphiQL), `/healthz`
//! (alive) and `/readyz` (the database answers).

use std::time::Duration;

use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use sea_orm::ConnectionTrait;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

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
#[derive(Debug, Clone, Copy)]
pub struct HttpLimits {
    /// Largest accepted request body, in bytes.
    pub body_limit: usize,
    /// Time a request may take.
    pub request_timeout: Duration,
}

/// The router with every route and layer.
pub fn router(state: AppState, limits: HttpLimits) -> Router {
    Router::new()
        .route("/graphql", get(graphiql).post(graphql))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        // GraphQLRequest streams the body, so axum's DefaultBodyLimit would not apply: limit the
        // body itself (413 when over).
        .layer(RequestBodyLimitLayer::new(limits.body_limit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn graphql(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> GraphQLResponse {
    let actor = match auth::actor(&state.db.conn, &headers).await {
        Ok(actor) => actor,
        Err(err) => {
            let error = graphql::error::to_graphql(&err);
            return async_graphql::Response::from_errors(vec![
                error.into_server_error(async_graphql::Pos::default()),
            ])
            .into();
        }
    };
    let request = request.into_inner().data(RequestId(request_id(&headers)));
    graphql::execute(&state.schema, &state.db, actor, request)
        .await
        .into()
}

/// The client's `x-request-id` when it is a sensible one (1 to 128 visible ASCII characters),
/// else a new one: a random per-process prefix and a counter, unique without a syscall per
/// request.
fn request_id(headers: &HeaderMap) -> String {
    static PREFIX: OnceLock<String> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(1);
    if let Some(id) = headers.get("x-request-id").and_then(|v| v.to_str().ok())
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
