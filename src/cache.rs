//! The response cache: the finished answers to anonymous reads, so that a question asked again
//! is answered without executing, serialising or compressing anything.
//!
//! - **What is cached**: a single query (POST, GET, or a persisted query's hash) without an
//!   `Authorization` header whose answer has no error. Batches, mutations, requests with a token
//!   and the WebSocket are never cached (see `routes`).
//! - **The key** ([`Key`]): the document (the SHA-256 of its text; a persisted query's hash is
//!   that same digest, so a hash alone and the text share one entry), the operation name, the
//!   variables in a canonical JSON form (object keys sorted) and the response's media type.
//! - **The entry** ([`Entry`]): the identity bytes, a weak `ETag`, and the gzip and brotli forms
//!   once a client has asked for them (compressed once, then served as they are).
//! - **Bounded** by `--response-cache-bytes` (bodies, compressed forms and keys); quick_cache
//!   evicts the least recently used (CLOCK-Pro) first.
//! - **Never stale after a commit**: every committed change moves the data's generation on
//!   ([`crate::events::Generation`]). Each entry remembers the generation it was computed in and
//!   is served only while that generation is current, and a read stores its answer only under
//!   the generation it read *before* executing, so a read that began before a commit and
//!   finishes after it stores nothing that is ever served. The first use after a commit empties
//!   the store.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_graphql::{Request, Value as ConstValue};
use axum::body::{Body, Bytes};
use axum::http::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_NONE_MATCH, VARY,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use sha2::Digest;

use crate::events::Generation;
use crate::routes::negotiation::qvalue;

/// What an entry costs besides its bytes (the entry, its `Arc`, the table's slot), so that
/// many tiny answers cannot exceed the bound by their bookkeeping.
const ENTRY_OVERHEAD: u64 = 256;

/// Which request an answer belongs to (see the module's notes).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    document: [u8; 32],
    operation: Option<String>,
    variables: String,
    media: u8,
}

impl Key {
    /// The key of `request` answered in media type number `media`, or `None` when the request
    /// must not be served from the cache: extensions other than a persisted query, or a
    /// persisted query whose hash is malformed or disagrees with its text (the document step
    /// answers those).
    pub fn of(request: &Request, media: u8) -> Option<Self> {
        let mut persisted = None;
        for (name, value) in request.extensions.iter() {
            if name != "persistedQuery" {
                return None;
            }
            persisted = Some(persisted_digest(value)?);
        }
        let document = if request.query.is_empty() {
            persisted?
        } else {
            let digest: [u8; 32] = sha2::Sha256::digest(request.query.as_bytes()).into();
            if persisted.is_some_and(|p| p != digest) {
                return None;
            }
            digest
        };
        // async-graphql keeps the variables in a sorted map; nested objects are sorted below.
        let mut variables = String::new();
        canonical_object(request.variables.iter(), &mut variables);
        Some(Self {
            document,
            operation: request.operation_name.clone(),
            variables,
            media,
        })
    }

    fn weight(&self) -> u64 {
        (32 + self.variables.len() + self.operation.as_ref().map_or(0, String::len)) as u64
    }
}

/// `extensions.persistedQuery.sha256Hash` as 32 bytes, when it is 64 hex digits.
fn persisted_digest(value: &ConstValue) -> Option<[u8; 32]> {
    let ConstValue::Object(fields) = value else {
        return None;
    };
    let Some(ConstValue::String(hex)) = fields.get("sha256Hash") else {
        return None;
    };
    if hex.len() != 64 {
        return None;
    }
    let mut digest = [0u8; 32];
    for (i, byte) in digest.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(digest)
}

/// Writes `value` as JSON with every object's keys sorted: the same variables always give the
/// same text, in whatever order the client wrote them.
fn canonical(value: &ConstValue, out: &mut String) {
    match value {
        ConstValue::Object(fields) => {
            let mut sorted: Vec<_> = fields.iter().collect();
            sorted.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
            canonical_object(sorted.into_iter(), out);
        }
        ConstValue::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(item, out);
            }
            out.push(']');
        }
        ConstValue::String(s) => push_json_string(s, out),
        ConstValue::Enum(name) => push_json_string(name.as_str(), out),
        ConstValue::Number(n) => out.push_str(&n.to_string()),
        ConstValue::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        ConstValue::Null => out.push_str("null"),
        // Not produced by JSON variables; a marker keeps such keys apart from every other.
        ConstValue::Binary(bytes) => {
            out.push_str("#binary:");
            for b in bytes.iter() {
                out.push_str(&format!("{b:02x}"));
            }
        }
    }
}

/// Writes `fields`, already in key order, as a JSON object.
fn canonical_object<'a>(
    fields: impl Iterator<Item = (&'a async_graphql::Name, &'a ConstValue)>,
    out: &mut String,
) {
    out.push('{');
    for (i, (name, value)) in fields.enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_string(name.as_str(), out);
        out.push(':');
        canonical(value, out);
    }
    out.push('}');
}

fn push_json_string(s: &str, out: &mut String) {
    match serde_json::to_string(s) {
        Ok(quoted) => out.push_str(&quoted),
        // Strings always serialise; should one not, a marker keeps the key unambiguous.
        Err(_) => out.push_str("#unserialisable"),
    }
}

/// A content coding of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Encoding {
    /// As it is.
    Identity,
    /// gzip (flate2, level 6).
    Gzip,
    /// brotli (quality 5: close to its best ratio for a few KiB of JSON, compressed once).
    Brotli,
}

impl Encoding {
    /// The coding a client with `headers` gets: the acceptable one with the highest weight
    /// (`Accept-Encoding`, `*` included), brotli before gzip before identity on a tie, as the
    /// compression layer chooses for every other answer. Written here because tower-http keeps
    /// its negotiation private, and the cache must choose before the layer sees the answer.
    pub fn negotiate(headers: &HeaderMap) -> Self {
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
            (0, 0) => Self::Identity,
            (br, gzip) if br >= gzip => Self::Brotli,
            _ => Self::Gzip,
        }
    }

    fn header(self) -> Option<HeaderValue> {
        match self {
            Self::Identity => None,
            Self::Gzip => Some(HeaderValue::from_static("gzip")),
            Self::Brotli => Some(HeaderValue::from_static("br")),
        }
    }

    fn compress(self, bytes: &[u8]) -> std::io::Result<Bytes> {
        match self {
            Self::Identity => Ok(Bytes::copy_from_slice(bytes)),
            Self::Gzip => {
                let mut encoder = flate2::write::GzEncoder::new(
                    Vec::with_capacity(bytes.len() / 4),
                    flate2::Compression::default(),
                );
                encoder.write_all(bytes)?;
                Ok(encoder.finish()?.into())
            }
            Self::Brotli => {
                let mut out = Vec::with_capacity(bytes.len() / 4);
                {
                    let mut encoder = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
                    encoder.write_all(bytes)?;
                    encoder.flush()?;
                }
                Ok(out.into())
            }
        }
    }
}

/// A finished answer: its bytes, its validator and the compressed forms served so far.
#[derive(Debug, Clone)]
pub struct Entry {
    generation: u64,
    etag: HeaderValue,
    identity: Bytes,
    gzip: Option<Bytes>,
    brotli: Option<Bytes>,
}

impl Entry {
    /// An entry for `body`, computed in `generation`, whose `ETag` also names `media`.
    fn new(generation: u64, media: u8, body: Bytes) -> Self {
        let mut hash = sha2::Sha256::new();
        hash.update([media]);
        hash.update(&body);
        let digest = hash.finalize();
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        // Weak: the same tag names every content coding of the answer (RFC 9110 §8.8.1).
        let etag = HeaderValue::from_str(&format!("W/\"{hex}\""))
            .unwrap_or_else(|_| HeaderValue::from_static("W/\"-\""));
        Self {
            generation,
            etag,
            identity: body,
            gzip: None,
            brotli: None,
        }
    }

    fn form(&self, encoding: Encoding) -> Option<&Bytes> {
        match encoding {
            Encoding::Identity => Some(&self.identity),
            Encoding::Gzip => self.gzip.as_ref(),
            Encoding::Brotli => self.brotli.as_ref(),
        }
    }

    fn weight(&self) -> u64 {
        let len = |b: &Option<Bytes>| b.as_ref().map_or(0, Bytes::len);
        (self.identity.len() + len(&self.gzip) + len(&self.brotli)) as u64 + ENTRY_OVERHEAD
    }

    /// The entry's `ETag`.
    pub fn etag(&self) -> &HeaderValue {
        &self.etag
    }
}

#[derive(Clone)]
struct Weigh;

impl quick_cache::Weighter<Key, Arc<Entry>> for Weigh {
    fn weight(&self, key: &Key, entry: &Arc<Entry>) -> u64 {
        key.weight() + entry.weight()
    }
}

/// Counts evictions (entries pushed out by the bound, or too large to enter).
#[derive(Clone)]
struct CountEvictions;

impl quick_cache::Lifecycle<Key, Arc<Entry>> for CountEvictions {
    // Evicted entries are dropped after the shard's lock is released.
    type RequestState = Vec<Arc<Entry>>;

    fn on_evict(&self, state: &mut Self::RequestState, _key: Key, entry: Arc<Entry>) {
        metrics::counter!("coverage_api_response_cache_evictions_total").increment(1);
        state.push(entry);
    }
}

type Entries = quick_cache::sync::Cache<
    Key,
    Arc<Entry>,
    Weigh,
    quick_cache::DefaultHashBuilder,
    CountEvictions,
>;

struct Inner {
    entries: Entries,
    generation: Generation,
    /// The generation the entries were last emptied in.
    cleared: AtomicU64,
    capacity: u64,
}

impl Inner {
    /// The current generation; empties the entries the first time it is read after a commit.
    fn current(&self) -> u64 {
        let now = self.generation.current();
        if self.cleared.swap(now, Ordering::SeqCst) != now {
            self.entries.clear();
        }
        now
    }
}

/// The process's response cache (cheap to clone); off when built with 0 bytes.
#[derive(Clone)]
pub struct ResponseCache(Option<Arc<Inner>>);

impl std::fmt::Debug for ResponseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            None => f.write_str("ResponseCache(off)"),
            Some(inner) => f
                .debug_struct("ResponseCache")
                .field("capacity", &inner.capacity)
                .field("entries", &inner.entries.len())
                .field("generation", &inner.generation.current())
                .finish(),
        }
    }
}

impl Default for ResponseCache {
    fn default() -> Self {
        Self::off()
    }
}

impl ResponseCache {
    /// A cache holding at most `bytes` (0: off).
    pub fn new(bytes: u64, generation: Generation) -> Self {
        if bytes == 0 {
            return Self::off();
        }
        // The item estimate only sizes the tables; quick_cache halves the shards until each
        // expects 32 items, so a small bound is one shard and holds what it says.
        let items = usize::try_from(bytes / 4096).unwrap_or(usize::MAX).max(1);
        let options = quick_cache::OptionsBuilder::new()
            .estimated_items_capacity(items)
            .weight_capacity(bytes)
            .shards(4)
            .build();
        let Ok(options) = options else {
            tracing::warn!(bytes, "response cache options refused; the cache is off");
            return Self::off();
        };
        Self(Some(Arc::new(Inner {
            entries: Entries::with_options(
                options,
                Weigh,
                quick_cache::DefaultHashBuilder::default(),
                CountEvictions,
            ),
            cleared: AtomicU64::new(generation.current()),
            generation,
            capacity: bytes,
        })))
    }

    /// A cache that holds nothing.
    pub fn off() -> Self {
        Self(None)
    }

    /// Whether the cache may hold anything.
    pub fn is_on(&self) -> bool {
        self.0.is_some()
    }

    /// The current generation: read it before executing, store under it (see [`Self::store`]).
    pub fn generation(&self) -> u64 {
        self.0.as_ref().map_or(0, |inner| inner.current())
    }

    /// The current answer for `key`, counting a hit or a miss.
    pub fn get(&self, key: &Key) -> Option<Arc<Entry>> {
        let inner = self.0.as_ref()?;
        let found = inner
            .entries
            .get(key)
            .filter(|entry| entry.generation == inner.current());
        let outcome = if found.is_some() { "hit" } else { "miss" };
        metrics::counter!("coverage_api_response_cache_requests_total", "outcome" => outcome)
            .increment(1);
        found
    }

    /// The current answer for `key`, counting only a hit: the fast path looks first, and a
    /// miss is counted once, by the handler that then runs the request.
    pub fn peek(&self, key: &Key) -> Option<Arc<Entry>> {
        let inner = self.0.as_ref()?;
        let found = inner
            .entries
            .get(key)
            .filter(|entry| entry.generation == inner.current())?;
        metrics::counter!("coverage_api_response_cache_requests_total", "outcome" => "hit")
            .increment(1);
        Some(found)
    }

    /// The entry for `body`, computed by a read that began in `generation`; stored for later
    /// requests only when no commit came in between.
    pub fn store(&self, key: Key, generation: u64, body: Bytes) -> Arc<Entry> {
        let media = key.media;
        let entry = Arc::new(Entry::new(generation, media, body));
        if let Some(inner) = &self.0
            && inner.current() == generation
        {
            inner.entries.insert(key, Arc::clone(&entry));
        }
        entry
    }

    /// `entry`'s bytes in `encoding`: compressed once, then kept with the entry (while it is
    /// current and the bound lets it).
    fn form(&self, key: &Key, entry: &Arc<Entry>, encoding: Encoding) -> Bytes {
        if let Some(bytes) = entry.form(encoding) {
            return bytes.clone();
        }
        let compressed = match encoding.compress(&entry.identity) {
            Ok(bytes) => bytes,
            Err(err) => {
                tracing::warn!(%err, "compressing a cached answer failed; sent as it is");
                return entry.identity.clone();
            }
        };
        let mut richer = Entry::clone(entry);
        match encoding {
            Encoding::Identity => {}
            Encoding::Gzip => richer.gzip = Some(compressed.clone()),
            Encoding::Brotli => richer.brotli = Some(compressed.clone()),
        }
        if let Some(inner) = &self.0
            && inner.current() == entry.generation
        {
            inner.entries.insert(key.clone(), Arc::new(richer));
        }
        compressed
    }

    /// The answer to a request with `headers` from `entry`: 304 when `If-None-Match` names its
    /// tag, else its bytes in the negotiated coding; `content_type` and `cache_control` as a
    /// miss would send them. Responses built here are marked [`Precompressed`], so the
    /// compression layer leaves them alone.
    pub fn respond(
        &self,
        key: &Key,
        entry: &Arc<Entry>,
        headers: &HeaderMap,
        content_type: HeaderValue,
        cache_control: HeaderValue,
    ) -> Response {
        let mut response = if matches_etag(headers, &entry.etag) {
            let mut response = Response::new(Body::empty());
            *response.status_mut() = StatusCode::NOT_MODIFIED;
            response
        } else {
            // Below the compression layer's threshold nothing is compressed, as on every other
            // answer.
            let encoding = if entry.identity.len() < MIN_COMPRESSED_SIZE {
                Encoding::Identity
            } else {
                Encoding::negotiate(headers)
            };
            let bytes = self.form(key, entry, encoding);
            let mut response = Response::new(Body::from(bytes));
            if let Some(value) = encoding.header() {
                response.headers_mut().insert(CONTENT_ENCODING, value);
            }
            response.headers_mut().insert(CONTENT_TYPE, content_type);
            response
        };
        let out = response.headers_mut();
        out.insert(ETAG, entry.etag.clone());
        out.insert(CACHE_CONTROL, cache_control);
        out.insert(
            VARY,
            if entry.identity.len() < MIN_COMPRESSED_SIZE {
                VARY_SMALL
            } else {
                VARY_CACHED
            },
        );
        response.extensions_mut().insert(Precompressed);
        response
    }

    /// Entries held now.
    pub fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |inner| inner.entries.len())
    }

    /// Whether no entry is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes held now (what the bound counts).
    pub fn weight(&self) -> u64 {
        self.0.as_ref().map_or(0, |inner| inner.entries.weight())
    }

    /// The bound, in bytes (0: off).
    pub fn capacity(&self) -> u64 {
        self.0.as_ref().map_or(0, |inner| inner.capacity)
    }

    /// Sets the size gauges (`/metrics` calls it before rendering).
    pub fn record_size(&self) {
        metrics::gauge!("coverage_api_response_cache_bytes").set(self.weight() as f64);
        metrics::gauge!("coverage_api_response_cache_entries").set(self.len() as f64);
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

/// Whether `If-None-Match` names `etag` (weak comparison, as RFC 9110 §13.1.2 asks), or is `*`.
/// A few lines by hand rather than the `headers` crate (and its dependencies) for one header.
pub(crate) fn matches_etag(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let ours = opaque(etag.as_bytes());
    headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .flat_map(|value| value.as_bytes().split(|b| *b == b','))
        .map(<[u8]>::trim_ascii)
        .any(|tag| tag == b"*" || opaque(tag) == ours)
}

fn opaque(tag: &[u8]) -> &[u8] {
    tag.strip_prefix(b"W/").unwrap_or(tag)
}

#[cfg(test)]
// A failed expectation in a test should panic with its message: that is the report.
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn request(query: &str, variables: serde_json::Value) -> Request {
        Request::new(query).variables(async_graphql::Variables::from_json(variables))
    }

    #[test]
    fn variables_in_any_order_give_one_key() {
        let a = request(
            "query($a: Int, $b: Int) { x }",
            serde_json::json!({ "a": 1, "b": { "y": 2, "x": [1, "z"] } }),
        );
        let b = request(
            "query($a: Int, $b: Int) { x }",
            serde_json::json!({ "b": { "x": [1, "z"], "y": 2 }, "a": 1 }),
        );
        assert_eq!(Key::of(&a, 0), Key::of(&b, 0));
        assert_ne!(
            Key::of(&a, 0),
            Key::of(&a, 1),
            "the media type is part of it"
        );
        let c = request(
            "query($a: Int, $b: Int) { x }",
            serde_json::json!({ "a": 2, "b": { "x": [1, "z"], "y": 2 } }),
        );
        assert_ne!(Key::of(&a, 0), Key::of(&c, 0));
    }

    #[test]
    fn a_persisted_hash_and_its_text_share_a_key_and_a_wrong_hash_has_none() {
        let text = "{ cities { totalCount } }";
        let hex: String = sha2::Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let mut by_hash = Request::new("");
        by_hash.extensions.insert(
            "persistedQuery".into(),
            ConstValue::from_json(serde_json::json!({ "version": 1, "sha256Hash": hex }))
                .unwrap_or_default(),
        );
        let by_text = Request::new(text);
        assert_eq!(Key::of(&by_hash, 0), Key::of(&by_text, 0));
        assert!(Key::of(&by_hash, 0).is_some());
        let mut wrong = Request::new("{ cities { nodes { code } } }");
        wrong.extensions = by_hash.extensions.clone();
        assert_eq!(Key::of(&wrong, 0), None);
    }

    #[test]
    fn encodings_follow_accept_encoding() {
        let with = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(ACCEPT_ENCODING, HeaderValue::from_static(v));
            Encoding::negotiate(&h)
        };
        assert_eq!(Encoding::negotiate(&HeaderMap::new()), Encoding::Identity);
        assert_eq!(with("gzip"), Encoding::Gzip);
        assert_eq!(with("gzip, deflate, br"), Encoding::Brotli);
        assert_eq!(with("br;q=0.5, gzip"), Encoding::Gzip);
        assert_eq!(with("*"), Encoding::Brotli);
        assert_eq!(with("gzip;q=0, br;q=0"), Encoding::Identity);
        assert_eq!(with("identity"), Encoding::Identity);
    }

    #[test]
    fn if_none_match_compares_weakly() {
        let tag = HeaderValue::from_static("W/\"abc\"");
        let with = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(IF_NONE_MATCH, HeaderValue::from_static(v));
            matches_etag(&h, &tag)
        };
        assert!(with("W/\"abc\""));
        assert!(with("\"abc\""));
        assert!(with("\"x\", W/\"abc\""));
        assert!(with("*"));
        assert!(!with("\"abd\""));
        assert!(!matches_etag(&HeaderMap::new(), &tag));
    }

    #[test]
    fn a_store_from_before_an_invalidation_is_never_served() {
        let generation = Generation::default();
        let cache = ResponseCache::new(1 << 20, generation.clone());
        let key = Key::of(&Request::new("{ a }"), 0).unwrap();
        let before = cache.generation();
        generation.advance();
        cache.store(key.clone(), before, Bytes::from_static(b"old"));
        assert!(cache.get(&key).is_none());
        let now = cache.generation();
        cache.store(key.clone(), now, Bytes::from_static(b"new"));
        assert_eq!(
            cache.get(&key).map(|e| e.identity.clone()),
            Some(Bytes::from_static(b"new"))
        );
        generation.advance();
        assert!(cache.get(&key).is_none());
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn compressed_forms_decompress_to_the_answer() {
        let body = br#"{"data":{"cities":{"totalCount":18}}}"#.repeat(20);
        for encoding in [Encoding::Gzip, Encoding::Brotli] {
            let packed = encoding.compress(&body).unwrap_or_default();
            assert!(packed.len() < body.len());
            let mut out = Vec::new();
            match encoding {
                Encoding::Gzip => {
                    std::io::Read::read_to_end(
                        &mut flate2::read::GzDecoder::new(&packed[..]),
                        &mut out,
                    )
                    .unwrap_or_default();
                }
                _ => {
                    brotli::BrotliDecompress(&mut &packed[..], &mut out).unwrap_or_default();
                }
            }
            assert_eq!(out, body);
        }
    }
}
