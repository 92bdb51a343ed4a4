//! The layers written here: the GraphQL error body of the timeout's and the body limit's bare
//! refusals, the CORS policy, and the request id (tower-http sets and echoes it; here is how one
//! is made, which client ids are kept, and the span that carries it into every log line).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::Request;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestId, RequestId};

use super::X_REQUEST_ID;
use super::answer::json_error;
use super::negotiation::{Media, negotiate};
use crate::code::Code;

/// Gives the bare 408 and 413 answers of the timeout and body-limit layers a GraphQL error body
/// with a code, like every other refusal.
pub(super) async fn json_errors(request: Request, next: Next) -> Response {
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
pub(super) fn cors(origins: &[String]) -> CorsLayer {
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

/// Removes a client's `x-request-id` that is not a sensible one (1 to 128 visible ASCII
/// characters), so that [`RequestIds`] makes one instead.
pub(super) async fn drop_unusable_request_id(mut request: Request) -> Request {
    let usable = request
        .headers()
        .get(X_REQUEST_ID)
        .is_none_or(|id| usable(id.as_bytes()));
    if !usable {
        request.headers_mut().remove(X_REQUEST_ID);
    }
    request
}

fn usable(id: &[u8]) -> bool {
    (1..=128).contains(&id.len()) && id.iter().all(u8::is_ascii_graphic)
}

/// Makes request ids: a random per-process prefix and a counter, unique without a syscall per
/// request.
#[derive(Debug, Clone, Copy)]
pub(super) struct RequestIds;

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _request: &axum::http::Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&new_request_id())
            .ok()
            .map(RequestId::new)
    }
}

/// The request's id: the client's when sensible (see [`drop_unusable_request_id`]), else a new
/// one. For answers given before the layers run (the response cache's fast path).
pub(super) fn request_id_of(headers: &HeaderMap) -> String {
    match headers.get(X_REQUEST_ID).and_then(|v| v.to_str().ok()) {
        Some(id) if usable(id.as_bytes()) => id.to_owned(),
        _ => new_request_id(),
    }
}

fn new_request_id() -> String {
    static PREFIX: OnceLock<String> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let prefix = PREFIX.get_or_init(|| {
        use rand::{RngCore, SeedableRng};
        format!("{:016x}", rand::rngs::StdRng::from_os_rng().next_u64())
    });
    format!("{prefix}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// The id as the write path keeps it in revisions.
pub(super) fn request_id(id: &RequestId) -> crate::graphql::write::RequestId {
    crate::graphql::write::RequestId(id.header_value().to_str().unwrap_or_default().to_owned())
}

/// The span of one request: its id, method and path, carried into every log line it writes.
pub(super) fn span<B>(request: &axum::http::Request<B>) -> tracing::Span {
    let id = request
        .headers()
        .get(X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        // The path only: a query string may carry a GraphQL document with its values.
        path = %request.uri().path(),
        operation = tracing::field::Empty,
        actor = tracing::field::Empty,
        city = tracing::field::Empty,
    )
}

/// The `access` line of every answer, in its request's span: status and latency.
pub(super) fn access<B>(
    response: &axum::http::Response<B>,
    latency: std::time::Duration,
    _span: &tracing::Span,
) {
    tracing::info!(
        target: "access",
        status = response.status().as_u16(),
        latency_ms = latency.as_secs_f64() * 1000.0,
        "answered"
    );
}

/// Names the request's operations on its span: those that are GraphQL names of at most 64
/// characters (what a client sends is logged only once it has a name's shape), `?` for others.
pub(super) fn record_operations<'a>(operations: impl Iterator<Item = &'a str>) {
    let span = tracing::Span::current();
    // Nothing is made for a span no log keeps (the default filter's, under load).
    if span.is_disabled() {
        return;
    }
    let shaped = |name: &&str| {
        name.len() <= 64
            && name.starts_with(|c: char| c == '_' || c.is_ascii_alphabetic())
            && name.chars().all(|c| c == '_' || c.is_ascii_alphanumeric())
    };
    let names: Vec<&str> = operations
        .map(|name| if shaped(&name) { name } else { "?" })
        .collect();
    if !names.is_empty() {
        span.record("operation", names.join(",").as_str());
    }
}

/// Names the request's caller on its span: the kind of credential and role, and the city;
/// never who, nor any secret.
pub(super) fn record_caller(actor: &crate::domain::Actor) {
    use crate::domain::Actor;
    let span = tracing::Span::current();
    if span.is_disabled() {
        return;
    }
    let kind = match actor {
        Actor::Anonymous => "anonymous",
        Actor::Rejected => "rejected",
        Actor::Token(token) => match (token.kind, token.role) {
            (entity::CredentialKind::Session, entity::Role::Admin) => "session:admin",
            (entity::CredentialKind::Session, _) => "session:city-staff",
            (_, entity::Role::Admin) => "token:admin",
            (_, _) => "token:city-staff",
        },
    };
    span.record("actor", kind);
    if let Actor::Token(token) = actor
        && let Some(city) = &token.city_code
    {
        span.record("city", city.as_str());
    }
}

/// The most of a refused body's bytes read into nothing before the refusal is sent: a reverse
/// proxy passes a body on whole, and one whose own limit is a little above ours would find the
/// connection reset under it and answer 502 instead of our 413.
pub(super) const LINGER_BYTES: u64 = 1024 * 1024;

/// How long a refused body is read into nothing at most.
const LINGER_FOR: Duration = Duration::from_secs(5);

/// Reads and drops up to `max` bytes of `body`, for at most [`LINGER_FOR`].
pub(super) async fn discard(mut body: axum::body::Body, max: u64) {
    use http_body_util::BodyExt;
    let drain = async {
        let mut read = 0u64;
        while let Some(Ok(frame)) = body.frame().await {
            read += frame.data_ref().map_or(0, |d| d.len() as u64);
            if read > max {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(LINGER_FOR, drain).await;
}

/// The length a request declares for its body, when it declares one.
pub(super) fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}

/// Whether a body declared over `limit` is read into nothing before its refusal: when it is at
/// most [`LINGER_BYTES`] over, and its client sends it without waiting for `100 Continue` (one
/// that waits is refused before it sends anything).
pub(super) fn lingers(headers: &HeaderMap, limit: u64) -> Option<u64> {
    let declared = declared_length(headers)?;
    let waits = headers
        .get(axum::http::header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    (declared > limit && declared <= limit.saturating_add(LINGER_BYTES) && !waits)
        .then_some(declared)
}

/// Before the body limit refuses a body declared over `limit` (413), reads it into nothing
/// when [`lingers`] says so, so that its sender reads the refusal.
pub(super) async fn read_refused_body(
    axum::extract::State(limit): axum::extract::State<usize>,
    request: Request,
    next: Next,
) -> Response {
    let Some(declared) = lingers(request.headers(), limit as u64) else {
        return next.run(request).await;
    };
    let (parts, body) = request.into_parts();
    discard(body, declared).await;
    next.run(Request::from_parts(parts, axum::body::Body::empty()))
        .await
}
