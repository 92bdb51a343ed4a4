//! The pages people use, served from files compiled into the binary (`web/`): the live dashboard
//! at `/`, the city-staff page at `/staff`, GraphiQL at `GET /graphql` (served by
//! [`super`] through [`graphiql`]) and their scripts, styles and vendored third-party
//! bundles at `/assets/…`. Nothing is fetched from another origin: every page carries a
//! `Content-Security-Policy` that says so. The pages are clients of the public GraphQL API like
//! any other; there is no private endpoint for them.

use std::sync::OnceLock;

use axum::Router;
use axum::extract::Path;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, REFERRER_POLICY,
    X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

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

/// A file of `web/`, compiled in.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $type:expr) => {
        Asset {
            name: $name,
            content_type: $type,
            body: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/web/", $name)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const HTML: &str = "text/html; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";
const SVG: &str = "image/svg+xml";

/// Everything under `/assets/`, by name. The pages themselves are served by their routes.
const ASSETS: [Asset; 19] = [
    asset!("app.css", CSS),
    asset!("favicon.svg", SVG),
    asset!("common.js", JS),
    asset!("dashboard.js", JS),
    asset!("staff.js", JS),
    asset!("graphiql.js", JS),
    asset!("graphiql-page.css", CSS),
    asset!("vendor/react.production.min.js", JS),
    asset!("vendor/react-dom.production.min.js", JS),
    asset!("vendor/graphiql.min.js", JS),
    asset!("vendor/graphiql.min.css", CSS),
    asset!("vendor/echarts.common.min.js", JS),
    asset!("vendor/manifest.txt", TEXT),
    asset!("vendor/licenses/react.LICENSE", TEXT),
    asset!("vendor/licenses/react-dom.LICENSE", TEXT),
    asset!("vendor/licenses/graphiql.LICENSE", TEXT),
    asset!("vendor/licenses/echarts.LICENSE", TEXT),
    asset!("vendor/licenses/echarts.NOTICE", TEXT),
    asset!("vendor/licenses/echarts.LICENSE-d3", TEXT),
];

const DASHBOARD: Asset = asset!("index.html", HTML);
const STAFF: Asset = asset!("staff.html", HTML);
const GRAPHIQL: Asset = asset!("graphiql.html", HTML);

/// The routes of the pages and their assets; merged into [`super::router`], so they
/// share its layers (compression, request ids, tracing, timeout).
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(
            "/",
            get(|h: HeaderMap| async move { page(&DASHBOARD, PAGE_CSP, &h) }),
        )
        .route(
            "/staff",
            get(|h: HeaderMap| async move { page(&STAFF, PAGE_CSP, &h) }),
        )
        .route("/assets/{*name}", get(asset))
        // Browsers ask for it whatever the page says.
        .route(
            "/favicon.ico",
            get(|h: HeaderMap| asset(Path("favicon.svg".to_owned()), h)),
        )
}

/// GraphiQL, for `GET /graphql` without an operation.
pub fn graphiql(headers: &HeaderMap) -> Response {
    page(&GRAPHIQL, GRAPHIQL_CSP, headers)
}

async fn asset(Path(name): Path<String>, headers: HeaderMap) -> Response {
    match ASSETS.iter().find(|a| a.name == name) {
        Some(asset) => serve(asset, &headers),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}

fn page(asset: &Asset, csp: &'static str, headers: &HeaderMap) -> Response {
    let mut response = serve(asset, headers);
    let h = response.headers_mut();
    h.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

/// The asset with a strong `ETag` (its SHA-256), revalidated on every use (`no-cache`): a new
/// binary's files are never mistaken for the old ones, and an unchanged file costs a 304.
fn serve(asset: &Asset, headers: &HeaderMap) -> Response {
    let tag = HeaderValue::from_str(etag(asset)).ok();
    let fresh = tag
        .as_ref()
        .is_some_and(|tag| super::answer::if_none_match(headers, tag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        asset.body.into_response()
    };
    let h = response.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if let Some(tag) = tag {
        h.insert(ETAG, tag);
    }
    response
}

/// `"<first 16 bytes of the SHA-256, hex>"`, computed once per file.
fn etag(asset: &Asset) -> &'static str {
    static TAGS: OnceLock<Vec<(&'static str, String)>> = OnceLock::new();
    let tags = TAGS.get_or_init(|| {
        ASSETS
            .iter()
            .chain([&DASHBOARD, &STAFF, &GRAPHIQL])
            .map(|a| {
                let digest = Sha256::digest(a.body);
                (a.name, format!("\"{}\"", hex::encode(&digest[..16])))
            })
            .collect()
    });
    tags.iter()
        .find(|(name, _)| *name == asset.name)
        .map_or("\"0\"", |(_, tag)| tag.as_str())
}
