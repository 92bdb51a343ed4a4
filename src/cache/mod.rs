//! The response cache: the finished answers to anonymous reads, so that a question asked again
//! is answered without executing, serialising or compressing anything.
//!
//! - **What is cached**: a single query (POST, GET, or a persisted query's hash) without an
//!   `Authorization` header whose answer has no error. Batches, mutations, requests with a token
//!   and the WebSocket are never cached (see `http::cache`, the HTTP side of the store:
//!   which requests, `ETag`, content coding).
//! - **The key** ([`Key`]): the document (the SHA-256 of its text; a persisted query's hash is
//!   that same digest, so a hash alone and the text share one entry), the operation name, the
//!   variables in a canonical JSON form (object keys sorted) and the response's media type.
//! - **The entry** ([`Entry`]): the identity bytes, a validator, and the gzip and brotli forms
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

use bytes::Bytes;
use sha2::Digest;

use crate::events::Generation;

mod key;

pub use key::Key;

/// What an entry costs besides its bytes (the entry, its `Arc`, the table's slot), so that
/// many tiny answers cannot exceed the bound by their bookkeeping.
const ENTRY_OVERHEAD: u64 = 256;

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
    /// The weak validator `W/"<hex>"`, from the first 16 bytes of the SHA-256 of the media type
    /// and the body; made once, shared by every answer from the entry.
    etag: Bytes,
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
        Self {
            generation,
            etag: Bytes::from(format!("W/\"{}\"", hex::encode(&digest[..16]))),
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

    /// The entry's weak `ETag` value: the same for every content coding of the answer
    /// (RFC 9110 §8.8.1).
    pub fn etag(&self) -> &Bytes {
        &self.etag
    }

    /// The answer's length as it is (uncompressed).
    pub fn len(&self) -> usize {
        self.identity.len()
    }

    /// Whether the answer is empty.
    pub fn is_empty(&self) -> bool {
        self.identity.is_empty()
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
    /// A read, not a write, while nothing has committed: every hit passes here, and a write
    /// would make the cores fight over one cache line.
    fn current(&self) -> u64 {
        let now = self.generation.current();
        if self.cleared.load(Ordering::Acquire) != now
            && self.cleared.swap(now, Ordering::SeqCst) != now
        {
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
    pub fn encoded(&self, key: &Key, entry: &Arc<Entry>, encoding: Encoding) -> Bytes {
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

#[cfg(test)]
// A failed expectation in a test should panic with its message: that is the report.
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn a_store_from_before_an_invalidation_is_never_served() {
        let generation = Generation::default();
        let cache = ResponseCache::new(1 << 20, generation.clone());
        let key = Key::of(&async_graphql::Request::new("{ a }"), 0).unwrap();
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
