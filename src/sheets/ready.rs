//! Exports kept ready: a finished export (per kind, period, city, language) is kept until the
//! next commit, so that a repeated download costs a lookup, not a workbook.
//!
//! - **Never stale**: an entry is filed under the data's generation ([`crate::events::Events::generation`])
//!   read before its rows were; the generation goes up with every commit on any instance (the
//!   same moments the response cache is emptied), so an entry from before a commit is never
//!   found again, and the first lookup in a new generation empties the store. While an
//!   instance cannot hear other instances' commits nothing is kept (the caller says so).
//! - **Built once**: concurrent requests for one missing export wait for the one that builds it
//!   (quick_cache's placeholders); a failed build leaves the next waiter to try.
//! - **Bounded** by `--export-cache-bytes` (bodies and keys), least recently used first.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use sha2::Digest;

use super::Lang;

/// Which file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExportKind {
    /// Every city as a workbook, with the province summary.
    Xlsx,
    /// Every city as CSV.
    Csv,
    /// One city's return, pre-filled.
    Template,
}

/// Which export.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExportKey {
    /// The file.
    pub kind: ExportKind,
    /// One period, or every period.
    pub period: Option<i32>,
    /// One city (templates).
    pub city: Option<String>,
    /// As after this publication (with `period`).
    pub publication: Option<i32>,
    /// The language of headers and labels.
    pub lang: Lang,
}

/// A finished export.
#[derive(Debug)]
pub struct Finished {
    /// The file.
    pub body: Bytes,
    /// Its validator (a weak `ETag`'s value: `W/"…"`).
    pub etag: String,
}

impl Finished {
    /// `body` with its validator.
    pub fn new(body: Vec<u8>) -> Self {
        let digest = sha2::Sha256::digest(&body);
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        Self {
            body: body.into(),
            etag: format!("W/\"{hex}\""),
        }
    }
}

/// What an entry costs besides its body.
const ENTRY_OVERHEAD: u64 = 256;

#[derive(Clone)]
struct Weigh;

impl quick_cache::Weighter<(u64, ExportKey), Arc<Finished>> for Weigh {
    fn weight(&self, _key: &(u64, ExportKey), entry: &Arc<Finished>) -> u64 {
        entry.body.len() as u64 + ENTRY_OVERHEAD
    }
}

struct Inner {
    entries: quick_cache::sync::Cache<(u64, ExportKey), Arc<Finished>, Weigh>,
    /// The newest generation a lookup has seen.
    seen: AtomicU64,
}

/// The instance's finished exports (cheap to clone); off when built with 0 bytes.
#[derive(Clone)]
pub struct ReadyExports(Option<Arc<Inner>>);

impl std::fmt::Debug for ReadyExports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadyExports")
            .field("entries", &self.0.as_ref().map_or(0, |i| i.entries.len()))
            .finish()
    }
}

impl ReadyExports {
    /// A store of at most `bytes` (0: off).
    pub fn new(bytes: u64) -> Self {
        if bytes == 0 {
            return Self(None);
        }
        let options = quick_cache::OptionsBuilder::new()
            .estimated_items_capacity(64)
            .weight_capacity(bytes)
            .shards(1)
            .build();
        let Ok(options) = options else {
            tracing::warn!(
                bytes,
                "export cache options refused; exports are built every time"
            );
            return Self(None);
        };
        Self(Some(Arc::new(Inner {
            entries: quick_cache::sync::Cache::with_options(
                options,
                Weigh,
                quick_cache::DefaultHashBuilder::default(),
                Default::default(),
            ),
            seen: AtomicU64::new(0),
        })))
    }

    /// The export `key` of `generation` (read before `build` reads anything): kept, or built by
    /// `build` and kept when `keep` (the instance hears every commit). Requests for one missing
    /// export wait for the one that builds it.
    pub async fn get_or_build<E>(
        &self,
        key: ExportKey,
        generation: u64,
        keep: bool,
        build: impl Future<Output = Result<Finished, E>>,
    ) -> Result<Arc<Finished>, E> {
        let Some(inner) = self.0.as_ref().filter(|_| keep) else {
            return build.await.map(Arc::new);
        };
        if inner.seen.fetch_max(generation, Ordering::SeqCst) < generation {
            // A commit since the last lookup: what is kept is from before it.
            inner.entries.clear();
        }
        let outcome = inner
            .entries
            .get_or_insert_async(&(generation, key), async { build.await.map(Arc::new) })
            .await;
        let kind = if outcome.is_ok() { "ok" } else { "failed" };
        metrics::counter!("coverage_api_export_lookups_total", "outcome" => kind).increment(1);
        outcome
    }

    /// Exports kept now.
    pub fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |inner| inner.entries.len())
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
// A failed expectation in a test should panic with its message: that is the report.
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn key() -> ExportKey {
        ExportKey {
            kind: ExportKind::Csv,
            period: Some(2023),
            city: None,
            publication: None,
            lang: Lang::Zh,
        }
    }

    async fn get(ready: &ReadyExports, generation: u64, body: &str) -> Arc<Finished> {
        let body = body.as_bytes().to_vec();
        ready
            .get_or_build(key(), generation, true, async move {
                Ok::<_, ()>(Finished::new(body))
            })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn an_export_is_built_once_per_generation() {
        let ready = ReadyExports::new(1 << 20);
        assert_eq!(&get(&ready, 1, "a").await.body[..], b"a");
        assert_eq!(&get(&ready, 1, "b").await.body[..], b"a", "kept");
        assert_eq!(&get(&ready, 2, "c").await.body[..], b"c", "a commit came");
        assert_eq!(ready.len(), 1, "the older generation's entry is gone");
        let not_kept = ready
            .get_or_build(key(), 2, false, async {
                Ok::<_, ()>(Finished::new(b"d".to_vec()))
            })
            .await
            .unwrap();
        assert_eq!(
            &not_kept.body[..],
            b"d",
            "not listening: built, not read from the store"
        );
    }
}
