//! What every answer of the HTTP side shares: a refusal in GraphQL's error shape, the
//! `Cache-Control` of a GraphQL answer, and the one `If-None-Match` check (cached answers,
//! exports, pages).

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, VARY};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use headers::{ETag, HeaderMapExt, IfNoneMatch};

use super::negotiation::Media;
use crate::code::Code;

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
pub(super) fn not_acceptable() -> Response {
    json_error(
        Media::Json,
        StatusCode::NOT_ACCEPTABLE,
        Code::NotAcceptable,
        "accept application/graphql-response+json or application/json",
    )
}
/// `Cache-Control` of an answer: `public, max-age=N` for a successful anonymous read (N from
/// `--cache-max-age`, 0 meaning `no-store`), `no-store` for everything else.
pub(super) fn cache_control(max_age: u32, cacheable: bool) -> HeaderValue {
    if cacheable && max_age > 0 {
        HeaderValue::from_str(&format!("public, max-age={max_age}"))
            .unwrap_or(HeaderValue::from_static("no-store"))
    } else {
        HeaderValue::from_static("no-store")
    }
}

/// Whether `If-None-Match` names `etag` (weak comparison, RFC 9110 §13.1.2), or is `*`: the
/// one check of every answer with a validator (cached answers, exports, pages).
pub(super) fn if_none_match(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let Some(condition) = headers.typed_get::<IfNoneMatch>() else {
        return false;
    };
    let Some(tag) = etag.to_str().ok().and_then(|t| t.parse::<ETag>().ok()) else {
        return false;
    };
    !condition.precondition_passes(&tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_compares_weakly() {
        let tag = HeaderValue::from_static("W/\"abc\"");
        let with = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(
                axum::http::header::IF_NONE_MATCH,
                HeaderValue::from_static(v),
            );
            if_none_match(&h, &tag)
        };
        assert!(with("W/\"abc\""));
        assert!(with("\"abc\""));
        assert!(with("\"x\", W/\"abc\""));
        assert!(with("*"));
        assert!(!with("\"abd\""));
        assert!(!if_none_match(&HeaderMap::new(), &tag));
    }
}
