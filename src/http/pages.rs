//! The pages people use, served from files compiled into the binary (`web/pages/`): the live
//! dashboard at `/`, the city-staff page at `/staff`, the province's review page at `/review`,
//! the province's console at `/admin`, the printable yearly report at `/report`, a page per city at
//! `/city/{code}`, GraphiQL at `GET /graphql` (served by [`super`] through
//! [`graphiql`]) and their scripts, styles and vendored third-party
//! bundles at `/assets/…` (`web/assets/`). Nothing is fetched from another origin: every page
//! carries a `Content-Security-Policy` that says so. The pages are clients of the public GraphQL
//! API like any other; there is no private endpoint for them.
//!
//! memory-serve (with `build.rs`) keeps the files: each with its SHA-256 `ETag` answered by a 304,
//! and the text files compressed once (brotli at build time in a release build, gzip at start)
//! and sent in the encoding the client prefers. Every file is revalidated on use (`no-cache`), so
//! a new binary's files are never mistaken for the old ones. This module adds what memory-serve
//! does not know: the charset of our text files, `nosniff`, and each page's policy.

use std::convert::Infallible;
use std::sync::LazyLock;

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::http::header::{
    CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use memory_serve::{CacheControl, MemoryServe};
use tower::ServiceExt;

/// The policy of the dashboard and the staff page: scripts, styles, data and the WebSocket from
/// this origin only (`'self'` covers `ws:`/`wss:` to the same host), no inline script or style,
/// no plugins, not framed.
pub const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self'; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// GraphiQL's policy: the same origin only, but its editor and menus (CodeMirror 5, Radix UI)
/// set inline styles, and its stylesheet embeds its fonts and icons as `data:` URLs; the bundle
/// is published that way and is served unmodified.
pub const GRAPHIQL_CSP: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
     connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// `web/pages/`: `/index.html`, `/staff.html`, `/review.html`, `/graphiql.html`, reached only
/// through their routes below (never by file name), each with its policy.
static PAGES: LazyLock<Router> = LazyLock::new(|| files(memory_serve::load!("pages")));

/// `web/assets/`, served under `/assets/`.
static ASSETS: LazyLock<Router> = LazyLock::new(|| files(memory_serve::load!("assets")));

/// The files of one directory as a router of their own (made once per process: memory-serve
/// keeps the decompressed and gzip copies for the life of the process).
fn files(served: MemoryServe) -> Router {
    served
        .index_file(None)
        .html_cache_control(CacheControl::NoCache)
        .cache_control(CacheControl::NoCache)
        .enable_brotli(true)
        .enable_gzip(true)
        .into_router()
}

/// The routes of the pages and their assets; merged into [`super::router`], so they
/// share its layers (compression, request ids, tracing, timeout).
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    // Made here, at start, rather than by the first visitor.
    LazyLock::force(&PAGES);
    LazyLock::force(&ASSETS);
    Router::new()
        .route(
            "/",
            get(|h: HeaderMap| serve(&PAGES, "/index.html", h, Some(PAGE_CSP))),
        )
        .route(
            "/staff",
            get(|h: HeaderMap| serve(&PAGES, "/staff.html", h, Some(PAGE_CSP))),
        )
        .route(
            "/review",
            get(|h: HeaderMap| serve(&PAGES, "/review.html", h, Some(PAGE_CSP))),
        )
        .route(
            "/admin",
            get(|h: HeaderMap| serve(&PAGES, "/admin.html", h, Some(PAGE_CSP))),
        )
        .route(
            "/report",
            get(|h: HeaderMap| serve(&PAGES, "/report.html", h, Some(PAGE_CSP))),
        )
        // One page for every city: it reads the code from its own address.
        .route(
            "/city/{code}",
            get(|h: HeaderMap| serve(&PAGES, "/city.html", h, Some(PAGE_CSP))),
        )
        .route(
            "/assets/{*name}",
            get(|Path(name): Path<String>, h: HeaderMap| async move {
                serve(&ASSETS, &format!("/{name}"), h, None).await
            }),
        )
        // Browsers ask for it whatever the page says.
        .route(
            "/favicon.ico",
            get(|h: HeaderMap| serve(&ASSETS, "/favicon.svg", h, None)),
        )
}

/// GraphiQL, for `GET /graphql` without an operation.
pub async fn graphiql(headers: HeaderMap) -> Response {
    serve(&PAGES, "/graphiql.html", headers, Some(GRAPHIQL_CSP)).await
}

/// The file at `path` of `files`, answered for a request with `headers`; a page gets its `policy`.
async fn serve(
    files: &'static LazyLock<Router>,
    path: &str,
    headers: HeaderMap,
    policy: Option<&'static str>,
) -> Response {
    // A name that is no path (`/assets/a b`) names no file.
    let Ok(uri) = path.parse::<Uri>() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut request = Request::new(Body::empty());
    *request.uri_mut() = uri;
    *request.headers_mut() = headers;
    let answered: Result<Response, Infallible> = Router::clone(files).oneshot(request).await;
    let mut response = answered.unwrap_or_else(|never| match never {});
    let h = response.headers_mut();
    // Every text file of web/ is UTF-8 (the pages are Chinese); memory-serve names the type
    // from the extension alone.
    if let Some(utf8) = h
        .get(CONTENT_TYPE)
        .and_then(|t| t.to_str().ok())
        .filter(|t| t.starts_with("text/") && !t.contains("charset"))
        .and_then(|t| HeaderValue::from_str(&format!("{t}; charset=utf-8")).ok())
    {
        h.insert(CONTENT_TYPE, utf8);
    }
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if let Some(policy) = policy {
        h.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(policy));
        h.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    }
    response
}
