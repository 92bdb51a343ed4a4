//! The response cache's HTTP adapter: which requests may be answered from the store
//! ([`eligible`], the one rule both lookups follow), the fast path ahead of every layer
//! ([`from_cache`]), the key of a call ([`key`]), and the answer from an entry ([`respond`]):
//! `ETag` and `If-None-Match`, the content coding, `Vary`, `Cache-Control`. The store itself is
//! [`crate::cache`], which knows nothing of HTTP.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{
    ACCEPT_ENCODING, AUTHORIZATION, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, VARY,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use super::negotiation::{Media, negotiate, qvalue};
use super::{AppState, X_REQUEST_ID};
use crate::cache::{Encoding, Entry, Key, ResponseCache};
use crate::code::Code;

/// Whether a request with `headers` may be answered from the cache or stored in it: the cache is
/// on, change events are heard (on PostgreSQL a write through another instance would otherwise
/// go unnoticed), and no `Authorization` header (only anonymous readers share answers).
fn eligible(state: &AppState, headers: &HeaderMap) -> bool {
    state.response_cache.is_on()
        && !headers.contains_key(AUTHORIZATION)
        && state.events.is_listening()
}

/// Answers an anonymous read from the response cache ahead of every other layer: on a hit
/// nothing else runs (no tracing span, timeout, body limit, compression or extraction), which is
/// what lets a hit approach what the wire allows. The answer is the one the handler would give
/// from the cache, with the same headers (`x-request-id` included). Anything else, a miss
/// included, goes on unchanged, with the body it came with (read whole only when its declared
/// length is within `--body-limit`).
pub(super) async fn from_cache(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let cacheable = request.uri().path() == "/graphql"
        && (request.method() == Method::POST || request.method() == Method::GET)
        && eligible(&state, request.headers());
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
            .and_then(|q| super::get::request(q).ok());
        (operation, body)
    } else {
        let declared = parts
            .headers
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if !super::negotiation::may_run(&parts.headers)
            || declared.is_none_or(|n| n > state.body_limit)
        {
            return next.run(Request::from_parts(parts, body)).await;
        }
        // The same deadline the timeout layer gives every other request's body.
        let read = axum::body::to_bytes(body, state.body_limit);
        let bytes = match tokio::time::timeout(state.request_timeout, read).await {
            Ok(Ok(bytes)) => bytes,
            Err(_) => {
                return super::answer::json_error(
                    media,
                    StatusCode::REQUEST_TIMEOUT,
                    Code::RequestTimeout,
                    "the request body did not arrive within --request-timeout-secs",
                );
            }
            Ok(Err(_)) => {
                return super::answer::json_error(
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
        let key = Key::of(operation, media_code)?;
        let entry = state.response_cache.peek(&key)?;
        Some((key, entry))
    });
    let Some((key, entry)) = hit else {
        return next.run(Request::from_parts(parts, body)).await;
    };
    let mut response = respond(
        &state.response_cache,
        &key,
        &entry,
        &parts.headers,
        media.content_type(),
        super::answer::cache_control(state.cache_max_age, true),
    );
    if let Ok(id) = HeaderValue::from_str(&super::middleware::request_id_of(&parts.headers)) {
        response.headers_mut().insert(X_REQUEST_ID, id);
    }
    response
}

/// The response-cache key of a call and the generation read before it runs, when the call may
/// be answered from the cache or stored in it: [`eligible`], and one operation (batches are not
/// cached).
pub(super) fn key(
    state: &AppState,
    headers: &HeaderMap,
    batch: bool,
    media: Media,
    requests: &[async_graphql::Request],
) -> Option<(Key, u64)> {
    if batch || !eligible(state, headers) {
        return None;
    }
    let [request] = requests else {
        return None;
    };
    let generation = state.response_cache.generation();
    Some((Key::of(request, media_code(media))?, generation))
}

/// The media type's number in a response-cache key.
fn media_code(media: Media) -> u8 {
    match media {
        Media::Json => 0,
        Media::GraphQLResponseJson => 1,
    }
}

/// The answer to a request with `headers` from `entry`: 304 when `If-None-Match` names its
/// tag, else its bytes in the negotiated coding; `content_type` and `cache_control` as a
/// miss would send them. Responses built here are marked [`Precompressed`], so the
/// compression layer leaves them alone.
pub(super) fn respond(
    cache: &ResponseCache,
    key: &Key,
    entry: &Arc<Entry>,
    headers: &HeaderMap,
    content_type: HeaderValue,
    cache_control: HeaderValue,
) -> Response {
    let etag = etag(entry);
    let mut response = if super::answer::if_none_match(headers, &etag) {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        response
    } else {
        // Below the compression layer's threshold nothing is compressed, as on every other
        // answer.
        let encoding = if entry.len() < MIN_COMPRESSED_SIZE {
            Encoding::Identity
        } else {
            encoding(headers)
        };
        let bytes = cache.encoded(key, entry, encoding);
        let mut response = Response::new(Body::from(bytes));
        if let Some(value) = content_encoding(encoding) {
            response.headers_mut().insert(CONTENT_ENCODING, value);
        }
        response.headers_mut().insert(CONTENT_TYPE, content_type);
        response
    };
    let out = response.headers_mut();
    out.insert(ETAG, etag);
    out.insert(CACHE_CONTROL, cache_control);
    out.insert(
        VARY,
        if entry.len() < MIN_COMPRESSED_SIZE {
            VARY_SMALL
        } else {
            VARY_CACHED
        },
    );
    response.extensions_mut().insert(Precompressed);
    response
}

/// The entry's `ETag`, sharing the entry's bytes (no copy per answer).
fn etag(entry: &Entry) -> HeaderValue {
    HeaderValue::from_maybe_shared(entry.etag().clone())
        .unwrap_or_else(|_| HeaderValue::from_static("W/\"-\""))
}

/// The coding a client with `headers` gets: the acceptable one with the highest weight
/// (`Accept-Encoding`, `*` included), brotli before gzip before identity on a tie, as the
/// compression layer chooses for every other answer. Written here because tower-http keeps
/// its negotiation private, and the cache must choose before the layer sees the answer.
fn encoding(headers: &HeaderMap) -> Encoding {
    let mut gzip = None;
    let mut br = None;
    let mut wildcard = None;
    for line in headers
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
    {
        for item in line.split(',') {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let weight = match parts.next().map(str::trim) {
                None => 1000,
                Some(q) => match q
                    .strip_prefix("q=")
                    .or_else(|| q.strip_prefix("Q="))
                    .and_then(qvalue)
                {
                    Some(w) => w,
                    None => continue,
                },
            };
            if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") {
                gzip = Some(weight);
            } else if name.eq_ignore_ascii_case("br") {
                br = Some(weight);
            } else if name == "*" {
                wildcard = Some(weight);
            }
        }
    }
    let gzip = gzip.or(wildcard).unwrap_or(0);
    let br = br.or(wildcard).unwrap_or(0);
    match (br, gzip) {
        (0, 0) => Encoding::Identity,
        (br, gzip) if br >= gzip => Encoding::Brotli,
        _ => Encoding::Gzip,
    }
}

fn content_encoding(encoding: Encoding) -> Option<HeaderValue> {
    match encoding {
        Encoding::Identity => None,
        Encoding::Gzip => Some(HeaderValue::from_static("gzip")),
        Encoding::Brotli => Some(HeaderValue::from_static("br")),
    }
}

/// A cached answer depends on who asks (none but anonymous readers are served from the cache,
/// but a shared cache must know), on the media type and on the content coding.
const VARY_CACHED: HeaderValue = HeaderValue::from_static("authorization, accept, accept-encoding");

/// An answer this small is never compressed (tower-http's default predicate's threshold).
const MIN_COMPRESSED_SIZE: usize = 32;

/// The `Vary` of an answer too small to compress: the same as an uncached one's.
const VARY_SMALL: HeaderValue = HeaderValue::from_static("authorization, accept");

/// Marks a response whose body is already in its final coding.
#[derive(Debug, Clone, Copy)]
pub struct Precompressed;

/// A compression predicate that leaves [`Precompressed`] responses alone.
#[derive(Debug, Clone, Copy, Default)]
pub struct NotPrecompressed;

impl tower_http::compression::Predicate for NotPrecompressed {
    fn should_compress<B>(&self, response: &axum::http::Response<B>) -> bool
    where
        B: axum::body::HttpBody,
    {
        response.extensions().get::<Precompressed>().is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_follow_accept_encoding() {
        let with = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(ACCEPT_ENCODING, HeaderValue::from_static(v));
            encoding(&h)
        };
        assert_eq!(encoding(&HeaderMap::new()), Encoding::Identity);
        assert_eq!(with("gzip"), Encoding::Gzip);
        assert_eq!(with("gzip, deflate, br"), Encoding::Brotli);
        assert_eq!(with("br;q=0.5, gzip"), Encoding::Gzip);
        assert_eq!(with("*"), Encoding::Brotli);
        assert_eq!(with("gzip;q=0, br;q=0"), Encoding::Identity);
        assert_eq!(with("identity"), Encoding::Identity);
    }
}
