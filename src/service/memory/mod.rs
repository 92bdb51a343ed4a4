//! The published figures held in memory: what every reader may see (the cities, their published
//! records and programmes, the province's totals, and each period's summary), read in one
//! transaction into one immutable [`Snapshot`] and answered from there without a database round
//! trip. The database stays the only source of truth:
//!
//! - A snapshot is filed under the data's generation read before its transaction began
//!   (`events::Generation`, which every commit moves on before and after it commits, and the
//!   PostgreSQL listener on every notification from any instance). It is served only while that
//!   generation is current and change events are heard; otherwise reads go to the database, as
//!   they would without it. So nothing committed is ever answered from a snapshot older than it
//!   on the instance that committed it, nor, once its notification arrives, on any other.
//! - One task per instance ([`Memory::spawn`]) follows the generation: when it moves, the task
//!   reads a new snapshot and swaps it in whole (readers hold the one they started with: a
//!   request never sees half a change).
//! - A snapshot larger than `--memory-reads-max-bytes` is not kept (reads then go to the
//!   database, and a warning says so).
//!
//! Only published figures live here; drafts, revisions, accounts and everything that depends on
//! who asks are read from the database.

mod snapshot;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use entity::{
    city, coverage_record, pilot_designation, pilot_program, province_total, public_record,
};
use futures_util::TryStreamExt;
use sea_orm::{AccessMode, DbBackend, EntityTrait, IsolationLevel, TransactionTrait};

use crate::db::Database;
use crate::error::AppResult;
use crate::events::Events;
pub use snapshot::Snapshot;

/// After the generation moves, the follower waits this long before reading, so that a burst
/// of commits (a PostgreSQL write moves it three times: before, after, and when its notification
/// comes back) costs one read of the data, not one each.
const SETTLE: Duration = Duration::from_millis(5);

/// After a failed read, the follower tries again after this long (reads meanwhile go to the
/// database).
const RETRY: Duration = Duration::from_secs(1);

/// The longest a read of the published figures may take before it is given up (and tried again
/// after [`RETRY`]); meanwhile reads go to the database.
const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// The instance's memory of published figures (cheap to clone).
#[derive(Clone, Debug)]
pub struct Memory(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    /// The snapshot last read, if it was kept.
    snapshot: ArcSwapOption<Snapshot>,
    /// The generation and whether events are heard.
    events: Events,
    /// Largest snapshot kept, in bytes; 0 keeps none.
    max_bytes: u64,
    /// Whether the last snapshot read was too large (warned once per crossing).
    too_large: AtomicBool,
}

impl Memory {
    /// A memory following `events`' generation that keeps snapshots up to `max_bytes` (0: the
    /// memory is off and every read goes to the database).
    pub fn new(events: &Events, max_bytes: u64) -> Self {
        Self(Arc::new(Inner {
            snapshot: ArcSwapOption::empty(),
            events: events.clone(),
            max_bytes,
            too_large: AtomicBool::new(false),
        }))
    }

    /// Whether the memory is on.
    pub fn is_on(&self) -> bool {
        self.0.max_bytes > 0
    }

    /// The snapshot, when it is current (see the module's notes); `None`: read the database.
    pub fn current(&self) -> Option<Arc<Snapshot>> {
        let snapshot = self.0.snapshot.load_full()?;
        (self.0.events.is_listening() && snapshot.generation == self.0.events.generation())
            .then_some(snapshot)
    }

    /// Whether the last snapshot read was over the bound (and so not kept).
    pub fn over_bound(&self) -> bool {
        self.0.too_large.load(Ordering::Relaxed)
    }

    /// The bytes the snapshot holds (0 when none is kept).
    pub fn bytes(&self) -> usize {
        self.0.snapshot.load().as_ref().map_or(0, |s| s.bytes())
    }

    /// Starts the task that keeps the snapshot in step with the database (nothing when off).
    pub fn spawn(&self, db: Database) {
        if !self.is_on() {
            return;
        }
        let memory = self.clone();
        // Supervised: should the follower ever panic, reads go to the database (its snapshot
        // goes stale with the next commit) until it is started again.
        tokio::spawn(async move {
            loop {
                let follower = tokio::spawn(memory.clone().follow(db.clone()));
                if let Err(err) = follower.await {
                    tracing::error!(%err, "the follower of the published figures stopped; starting it again");
                    tokio::time::sleep(RETRY).await;
                }
            }
        });
    }

    async fn follow(self, db: Database) {
        let generations = self.0.events.generations();
        loop {
            // A snapshot read while events are not heard could miss a write unheard; the
            // listener moves the generation on once it hears again.
            if self.0.events.is_listening() {
                let generation = generations.current();
                let started = std::time::Instant::now();
                let read = tokio::time::timeout(READ_TIMEOUT, read(&db, generation))
                    .await
                    .unwrap_or_else(|_| {
                        Err(crate::error::AppError::Internal(
                            "reading the published figures timed out".into(),
                        ))
                    });
                match read {
                    Ok(snapshot) => {
                        tracing::debug!(
                            bytes = snapshot.bytes(),
                            ms = started.elapsed().as_millis(),
                            "published figures read into memory"
                        );
                        self.keep(snapshot);
                    }
                    Err(err) => {
                        tracing::warn!(%err, "the published figures could not be read into memory; reading them from the database meanwhile");
                        tokio::time::sleep(RETRY).await;
                        continue;
                    }
                }
                // Until the generation moves past the one just read: a wake-up kept from before
                // the read (the commit it already holds) costs a look, not another read.
                while generations.current() == generation {
                    generations.moved().await;
                }
            } else {
                generations.moved().await;
            }
            tokio::time::sleep(SETTLE).await;
        }
    }

    /// Swaps `snapshot` in, or drops the one held when it is over the bound.
    fn keep(&self, snapshot: Snapshot) {
        let bytes = snapshot.bytes() as u64;
        metrics::gauge!("coverage_api_memory_reads_bytes").set(bytes as f64);
        if bytes > self.0.max_bytes {
            self.0.snapshot.store(None);
            if !self.0.too_large.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    bytes,
                    max_bytes = self.0.max_bytes,
                    "the published figures are larger than --memory-reads-max-bytes; reading them from the database"
                );
            }
            return;
        }
        self.0.too_large.store(false, Ordering::Relaxed);
        self.0.snapshot.store(Some(Arc::new(snapshot)));
    }
}

/// Reads every published figure in one transaction (PostgreSQL: repeatable read, read only;
/// SQLite: one read transaction, which WAL keeps at one snapshot) into a snapshot of
/// `generation`.
pub async fn read(db: &Database, generation: u64) -> AppResult<Snapshot> {
    let txn = match db.backend() {
        DbBackend::Postgres => {
            db.conn
                .begin_with_config(
                    Some(IsolationLevel::RepeatableRead),
                    Some(AccessMode::ReadOnly),
                )
                .await?
        }
        _ => db.conn.begin().await?,
    };
    // The records one by one: `all` would hold every row as the driver read it beside the
    // models made of them (at 90,000 records, about 100 MiB more at the peak).
    let mut records = Vec::new();
    {
        let mut stream = public_record::Entity::find()
            .into_model::<coverage_record::Model>()
            .stream(&txn)
            .await?;
        while let Some(record) = stream.try_next().await? {
            records.push(record);
        }
    }
    let rows = snapshot::Rows {
        cities: city::Entity::find().all(&txn).await?,
        records,
        designations: pilot_designation::Entity::find().all(&txn).await?,
        programs: pilot_program::Entity::find().all(&txn).await?,
        totals: province_total::Entity::find().all(&txn).await?,
    };
    txn.commit().await?;
    Ok(Snapshot::new(generation, rows))
}
