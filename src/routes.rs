//! The one list of routes: `/graphql` (POST for operations, GET for reads and GraphiQL),
//! `/graphql/ws` (subscriptions), the pages of [`crate::web`] (`/`, `/staff`, `/assets/…`),
//! `/healthz` (alive), `/readyz` (the database answers and change events are heard) and
//! `/metrics`; and the HTTP layers every route shares: request id,
//! tracing, CORS, compression, timeout, body limit. Responses speak GraphQL over HTTP as its
//! specification says: the media type from `Accept` (see [`negotiation`]), and with
//! `application/graphql-response+json` a request that never executed is a 4xx without `data`.

mod get;
pub(crate) mod negotiation;
mod sheets;
mod websocket;

pub use sheets::Sheets;

use crate::code::Code;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::parser::types::OperationType;
use async_graphql::{BatchRequest, BatchResponse};
use async_graphql_axum::GraphQLBatchRequest;
use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{FromRequest, RawQuery, Request, State};
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, VARY};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use sea_orm::ConnectionTrait;
use tokio::sync::Semaphore;
use tower::util::option_layer;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tracing::Instrument;

use crate::auth;
use crate::cache::{self, NotPrecompressed, ResponseCache};
use crate::db::Database;
use crate::domain::Actor;
use crate::events::Events;
use crate::graphql::mutation::RequestId;
use crate::graphql::{Api, Transport};
use negotiation::{Media, negotiate};

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
    pub import: crate::sheets::import::ImportLimits,
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
        .then(|| middleware::from_fn_with_state(state.clone(), from_cache));
    // The WebSocket route lives outside the timeout: a subscription lasts as long as it likes.
    let ws = Router::new()
        .route("/graphql/ws", get(websocket::graphql_ws))
        .with_state(state.clone());
    let mut api = Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz));
    // With --metrics-addr, /metrics is served there only.
    if limits.public_metrics {
        api = api.route("/metrics", get(metrics));
    }
    api.merge(crate::web::router())
        // GraphQLRequest streams the body, so axum's DefaultBodyLimit would not apply: limit the
        // body itself (413 when over).
        .layer(RequestBodyLimitLayer::new(limits.body_limit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        // Answers from the response cache come compressed already (once, when first asked for).
        .layer(CompressionLayer::new().compress_when(DefaultPredicate::new().and(NotPrecompressed)))
        .with_state(state.clone())
        .merge(ws)
        .merge(sheets::router(state))
        // No origins configured: no CORS layer at all (browsers then refuse cross-origin calls).
        .layer(option_layer(
            (!limits.cors_origins.is_empty()).then(|| cors(&limits.cors_origins)),
        ))
        .layer(middleware::from_fn(json_errors))
        .layer(TraceLayer::new_for_http())
        .layer(middleware::from_fn(with_request_id))
        .layer(option_layer(fast_path))
}

/// Answers an anonymous read from the response cache ahead of every other layer: on a hit
/// nothing else runs (no tracing span, timeout, body limit, compression or extraction), which is
/// what lets a hit approach what the wire allows. The answer is the one the handler would give
/// from the cache, with the same headers (`x-request-id` included). Anything else, a miss
/// included, goes on unchanged, with the body it came with (read whole only when its declared
/// length is within `--body-limit`).
async fn from_cache(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let cacheable = request.uri().path() == "/graphql"
        && (request.method() == Method::POST || request.method() == Method::GET)
        && !request.headers().contains_key(AUTHORIZATION)
        && state.events.is_listening();
    let Ok(media) = negotiate(request.headers()) else {
        return next.run(request).await;
    };
    if !cacheable {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let (operation, body) = if parts.method == Method::GET {
        let operation = parts
            .uri
            .query()
            .filter(|q| !q.is_empty() && q.len() <= state.body_limit)
            .and_then(|q| get::request(q).ok());
        (operation, body)
    } else {
        let declared = parts
            .headers
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if !may_run(&parts.headers) || declared.is_none_or(|n| n > state.body_limit) {
            return next.run(Request::from_parts(parts, body)).await;
        }
        // The same deadline the timeout layer gives every other request's body.
        let read = axum::body::to_bytes(body, state.body_limit);
        let bytes = match tokio::time::timeout(state.request_timeout, read).await {
            Ok(Ok(bytes)) => bytes,
            Err(_) => {
                return json_error(
                    media,
                    StatusCode::REQUEST_TIMEOUT,
                    Code::RequestTimeout,
                    "the request body did not arrive within --request-timeout-secs",
                );
            }
            Ok(Err(_)) => {
                return json_error(
                    media,
                    StatusCode::BAD_REQUEST,
                    Code::BadRequest,
                    "the request body could not be read",
                );
            }
        };
        // A batch (an array) or anything else that is not one operation goes on as it came.
        let operation = serde_json::from_slice::<async_graphql::Request>(&bytes).ok();
        (operation, axum::body::Body::from(bytes))
    };
    let media_code = media_code(media);
    let hit = operation.as_ref().and_then(|operation| {
        let key = cache::Key::of(operation, media_code)?;
        let entry = state.response_cache.peek(&key)?;
        Some((key, entry))
    });
    let Some((key, entry)) = hit else {
        return next.run(Request::from_parts(parts, body)).await;
    };
    let mut response = state.response_cache.respond(
        &key,
        &entry,
        &parts.headers,
        media.content_type(),
        cache_control(state.cache_max_age, true),
    );
    if let Ok(id) = HeaderValue::from_str(&request_id(&parts.headers)) {
        response.headers_mut().insert(X_REQUEST_ID, id);
    }
    response
}

/// The media type's number in a response-cache key.
fn media_code(media: Media) -> u8 {
    match media {
        Media::Json => 0,
        Media::GraphQLResponseJson => 1,
    }
}

/// A JSON body in GraphQL's error shape, with `code`, written in `media`. Never cached: a
/// refusal says nothing about the next request.
pub(crate) fn json_error(media: Media, status: StatusCode, code: Code, message: &str) -> Response {
    let body = serde_json::json!({
        "errors": [{ "message": message, "extensions": { "code": code } }]
    });
    let mut response = (status, axum::Json(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, media.content_type());
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(VARY, HeaderValue::from_static("accept"));
    response
}

/// 406: the client accepts neither of our media types. Written in `application/json`, which the
/// specification makes every server support, so that a person reading it learns why.
fn not_acceptable() -> Response {
    json_error(
        Media::Json,
        StatusCode::NOT_ACCEPTABLE,
        Code::NotAcceptable,
        "accept application/graphql-response+json or application/json",
    )
}

/// Gives the bare 408 and 413 answers of the timeout and body-limit layers a GraphQL error body
/// with a code, like every other refusal.
async fn json_errors(request: Request, next: Next) -> Response {
    // The layers' refusals answer in the negotiated type too; for a client that accepts
    // neither (its handler answers 406), in the type every client must take.
    let media = negotiate(request.headers()).unwrap_or(Media::Json);
    let response = next.run(request).await;
    let json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    match response.status() {
        StatusCode::PAYLOAD_TOO_LARGE if !json => json_error(
            media,
            StatusCode::PAYLOAD_TOO_LARGE,
            Code::PayloadTooLarge,
            "the request body is larger than the server accepts",
        ),
        StatusCode::REQUEST_TIMEOUT if !json => json_error(
            media,
            StatusCode::REQUEST_TIMEOUT,
            Code::RequestTimeout,
            "the request took longer than the server allows",
        ),
        _ => response,
    }
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

async fn graphql_post(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    headers: HeaderMap,
    request: Request,
) -> Response {
    let Ok(media) = negotiate(&headers) else {
        return not_acceptable();
    };
    if !may_run(&headers) {
        return json_error(
            media,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::UnsupportedMediaType,
            "POST /graphql takes a JSON body (content-type: application/json)",
        );
    }
    let batch = match <GraphQLBatchRequest as FromRequest<()>>::from_request(request, &()).await {
        Ok(batch) => batch.into_inner(),
        Err(rejection) => {
            let response = rejection.into_response();
            if response.status() == StatusCode::PAYLOAD_TOO_LARGE {
                return response;
            }
            return json_error(
                media,
                StatusCode::BAD_REQUEST,
                Code::BadRequest,
                "the body is not a GraphQL request: send {\"query\": …} or an array of them",
            );
        }
    };
    let (requests, batch) = match batch {
        BatchRequest::Single(request) => (vec![request], false),
        BatchRequest::Batch(requests)
            if requests.is_empty() || requests.len() > state.max_batch =>
        {
            return json_error(
                media,
                StatusCode::BAD_REQUEST,
                Code::BatchTooLarge,
                &format!(
                    "a batch holds 1 to {} operations, this one {}",
                    state.max_batch,
                    requests.len()
                ),
            );
        }
        BatchRequest::Batch(requests) => (requests, true),
    };
    let call = Call {
        request_id,
        transport: Transport::Post,
        media,
        batch,
    };
    run(&state, &headers, call, requests).await
}

/// GET /graphql: an operation in the query string (`query`, `operationName`, `variables`,
/// `extensions`, as JSON strings), which may be cached; otherwise GraphiQL, opened with the
/// dashboard query in the editor (hand-written: async-graphql's page takes no default query).
async fn graphql_get(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(query) = query.filter(|q| !q.is_empty()) else {
        return crate::web::graphiql(&headers);
    };
    let Ok(media) = negotiate(&headers) else {
        return not_acceptable();
    };
    if query.len() > state.body_limit {
        return json_error(
            media,
            StatusCode::URI_TOO_LONG,
            Code::PayloadTooLarge,
            "the query string is longer than the server accepts",
        );
    }
    match get::request(&query) {
        Ok(request) => {
            let call = Call {
                request_id,
                transport: Transport::Get,
                media,
                batch: false,
            };
            run(&state, &headers, call, vec![request]).await
        }
        Err(err) => json_error(
            media,
            StatusCode::BAD_REQUEST,
            Code::BadRequest,
            &format!("the query string is not a GraphQL request: {err}"),
        ),
    }
}

/// How one HTTP request asks for its operations to be run and answered.
struct Call {
    request_id: RequestId,
    transport: Transport,
    /// The negotiated media type of the answer.
    media: Media,
    /// Whether the operations came as a JSON array (answered as one).
    batch: bool,
}

/// Runs `requests` one after another for the request's actor and answers them in the
/// negotiated media type, as an array when a batch. Successful anonymous reads may be cached
/// for `--cache-max-age` seconds; everything else is `no-store`. A mutation by GET answers 405.
async fn run(
    state: &AppState,
    headers: &HeaderMap,
    call: Call,
    requests: Vec<async_graphql::Request>,
) -> Response {
    // Without a query (or a persisted query's hash) there is nothing to parse: the request is
    // malformed, which the specification answers 400 in either media type ("invalid
    // parameters"), rather than a parse error about an empty document. A blank query counts as
    // none: async-graphql reads an absent one as "".
    let missing = requests
        .iter()
        .position(|r| r.query.trim().is_empty() && !r.extensions.contains_key("persistedQuery"));
    if let Some(at) = missing {
        let message = if call.batch {
            format!("operation {} of the batch has no query", at + 1)
        } else {
            "the request has no query: send {\"query\": …}".to_owned()
        };
        return json_error(
            call.media,
            StatusCode::BAD_REQUEST,
            Code::BadRequest,
            &message,
        );
    }
    // The response cache (see `crate::cache`): a single anonymous operation, while change
    // events are heard. The generation is read before anything executes: an answer is stored
    // only if no commit came in between.
    let cached = cache_key(state, headers, &call, &requests);
    if let Some((key, _)) = &cached
        && let Some(entry) = state.response_cache.get(key)
    {
        return state.response_cache.respond(
            key,
            &entry,
            headers,
            call.media.content_type(),
            cache_control(state.cache_max_age, true),
        );
    }
    let actor = match auth::actor(&state.db.conn, headers).await {
        Ok(actor) => actor,
        Err(err) => {
            // The request as a whole failed: an error without a location in the document.
            let error = crate::graphql::error::to_graphql(&err);
            let mut server_error = async_graphql::ServerError::new(error.message, None);
            server_error.extensions = error.extensions;
            let response = async_graphql::Response::from_errors(vec![server_error]);
            let status = match err {
                crate::AppError::Database(_) => StatusCode::INTERNAL_SERVER_ERROR,
                _ => StatusCode::BAD_REQUEST,
            };
            let mut response =
                graphql_response(call.media, BatchResponse::Single(response), status);
            response
                .headers_mut()
                .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response.headers_mut().insert(VARY, VARY_VALUE);
            return response;
        }
    };
    let mut cacheable = actor == Actor::Anonymous;
    let mut not_allowed = false;
    let mut responses = Vec::with_capacity(requests.len());
    for request in requests {
        let request = request.data(call.request_id.clone());
        let executed = state
            .api
            .execute(actor.clone(), call.transport, request)
            .await;
        cacheable &=
            executed.response.errors.is_empty() && executed.kind == Some(OperationType::Query);
        not_allowed |= executed.refused == Some(Code::MethodNotAllowed);
        responses.push(executed.response);
    }
    if cacheable
        && let Some((key, generation)) = cached
        && let [response] = responses.as_slice()
        && response.http_headers.is_empty()
    {
        match serde_json::to_vec(response) {
            Ok(body) => {
                let entry = state
                    .response_cache
                    .store(key.clone(), generation, body.into());
                return state.response_cache.respond(
                    &key,
                    &entry,
                    headers,
                    call.media.content_type(),
                    cache_control(state.cache_max_age, true),
                );
            }
            Err(err) => tracing::error!(%err, "a GraphQL response did not serialize"),
        }
    }
    let body = if call.batch {
        BatchResponse::Batch(responses)
    } else {
        match responses.pop() {
            Some(response) => BatchResponse::Single(response),
            None => BatchResponse::Batch(Vec::new()),
        }
    };
    let mut response = graphql_response(call.media, body, StatusCode::BAD_REQUEST);
    response
        .headers_mut()
        .insert(CACHE_CONTROL, cache_control(state.cache_max_age, cacheable));
    response.headers_mut().insert(VARY, VARY_VALUE);
    if not_allowed && call.transport == Transport::Get {
        *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
        response
            .headers_mut()
            .insert(axum::http::header::ALLOW, HeaderValue::from_static("POST"));
    }
    response
}

/// `Cache-Control` of an answer: `public, max-age=N` for a successful anonymous read (N from
/// `--cache-max-age`, 0 meaning `no-store`), `no-store` for everything else.
fn cache_control(max_age: u32, cacheable: bool) -> HeaderValue {
    if cacheable && max_age > 0 {
        HeaderValue::from_str(&format!("public, max-age={max_age}"))
            .unwrap_or(HeaderValue::from_static("no-store"))
    } else {
        HeaderValue::from_static("no-store")
    }
}

/// The response-cache key of a call and the generation read before it runs, when the call may
/// be answered from the cache or stored in it: the cache is on, change events are heard (on
/// PostgreSQL a write through another instance would otherwise go unnoticed), one operation
/// (batches are not cached), and no `Authorization` header (only anonymous readers share
/// answers).
fn cache_key(
    state: &AppState,
    headers: &HeaderMap,
    call: &Call,
    requests: &[async_graphql::Request],
) -> Option<(cache::Key, u64)> {
    if !state.response_cache.is_on()
        || call.batch
        || headers.contains_key(AUTHORIZATION)
        || !state.events.is_listening()
    {
        return None;
    }
    let [request] = requests else {
        return None;
    };
    let generation = state.response_cache.generation();
    Some((cache::Key::of(request, media_code(call.media))?, generation))
}

/// A GraphQL answer depends on who asks and on what they accept.
const VARY_VALUE: HeaderValue = HeaderValue::from_static("authorization, accept");

/// The HTTP response for `body` in `media`. With `application/graphql-response+json` a request
/// error (see [`never_executed`]) is `refused` (400, or 500 when our side failed) and has no `data` entry, as
/// the specification asks; with `application/json` everything is 200, the legacy rules. A
/// batch, which the specification does not cover, is 200 with every answer as it is.
fn graphql_response(media: Media, body: BatchResponse, refused: StatusCode) -> Response {
    let extra_headers = body.http_headers();
    let mut status = StatusCode::OK;
    let json = match &body {
        BatchResponse::Single(response)
            if media == Media::GraphQLResponseJson && never_executed(response) =>
        {
            status = refused;
            serde_json::to_vec(&WithoutData {
                errors: &response.errors,
                extensions: &response.extensions,
            })
        }
        body => serde_json::to_vec(body),
    };
    let json = match json {
        Ok(json) => json,
        Err(err) => {
            // Our values always serialize; should one not, the client gets a coded error.
            tracing::error!(%err, "a GraphQL response did not serialize");
            return json_error(
                media,
                StatusCode::INTERNAL_SERVER_ERROR,
                Code::InternalServerError,
                "internal error; it has been logged",
            );
        }
    };
    let mut response = (status, json).into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, media.content_type());
    response.headers_mut().extend(extra_headers);
    response
}

/// A GraphQL response without its `data` entry.
#[derive(serde::Serialize)]
struct WithoutData<'a> {
    errors: &'a [async_graphql::ServerError],
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    extensions: &'a BTreeMap<String, async_graphql::Value>,
}

/// Whether `response` answers a request that never executed: its document did not parse or
/// validate, a bound refused it, its variables could not be coerced, its persisted query is
/// unknown, or who asks could not be looked up. Such a response has no data and errors about no
/// field. A field error that reaches a non-null root field nulls `data` too, but it carries the
/// field's path: the operation ran, and that is a result (200).
fn never_executed(response: &async_graphql::Response) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty())
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

/// `GET /metrics` alone: merged into the API's router, or served on `--metrics-addr`.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .with_state(state)
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    metrics::gauge!("coverage_api_event_subscribers").set(state.events.subscriber_count() as f64);
    state.response_cache.record_size();
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        crate::metrics::render(),
    )
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<AppState>) -> Response {
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
