//! Change events for subscriptions: every committed write becomes an [`Event`] on one
//! process-wide broadcast channel that subscriptions read.
//!
//! How an event gets there depends on the database:
//! - SQLite (one instance per file): the writer publishes after its commit. Commits and
//!   publications pass one lock in turn, so events leave in commit order.
//! - PostgreSQL (any number of instances on one database): the writer `NOTIFY`s inside its
//!   transaction, which PostgreSQL delivers at commit, in commit order, to every session that
//!   `LISTEN`s. Each instance runs one [`listen`] task on a connection of its own that turns the
//!   notifications (the revision's id) into events, its own writes included. When that
//!   connection is lost, the task reconnects and, once it listens again, sends [`Event::Missed`],
//!   since notifications sent meanwhile are gone.
//!
//! Every committed change also moves the data's [`Generation`] on before its event reaches any
//! subscriber, so that no store of finished answers serves one computed before it:
//! [`Events::commit`] does it before answering the writer, the PostgreSQL listener as soon as it
//! hears a notification (a write through another instance), and when the listening connection
//! is lost or back (notifications may have been missed).
//!
//! Events carry the revision the write left: an immutable snapshot of the record as committed,
//! so every subscriber, on every instance, sees the record as that commit left it.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use entity::{RevisionKind, revision};
use sea_orm::sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, EntityTrait, Statement};
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, broadcast};

use crate::db::Database;

/// The PostgreSQL channel every instance listens on.
pub const CHANNEL: &str = "coverage_api_events";

/// What a subscription hears.
#[derive(Debug, Clone)]
pub enum Event {
    /// A coverage record was created or changed.
    Coverage {
        /// The record's id.
        record_id: i64,
        /// The revision the write left (its `after` is the record as committed).
        revision: Arc<revision::Model>,
    },
    /// A pilot designation was granted, changed or revoked.
    Designation {
        /// The revision the write left.
        revision: Arc<revision::Model>,
    },
    /// A province-reported total was set.
    ProvinceTotal {
        /// The revision the write left.
        revision: Arc<revision::Model>,
    },
    /// A round of the yearly return was opened, closed or reopened.
    Round {
        /// The revision the write left.
        revision: Arc<revision::Model>,
    },
    /// A city's return changed status.
    Return {
        /// The revision the step left.
        revision: Arc<revision::Model>,
    },
    /// A pilot programme was created or changed.
    Program {
        /// The revision the write left.
        revision: Arc<revision::Model>,
    },
    /// Events may have been lost (the listening connection was lost and re-established).
    Missed {
        /// For people.
        reason: Arc<str>,
    },
}

/// A committed change, as a write hands it to [`Events::commit`]: the revision it left (its
/// `kind` says which event it becomes) and, for a coverage record, the record's id.
#[derive(Debug, Clone)]
pub struct Change {
    /// The coverage record's id, for coverage changes.
    pub record_id: Option<i64>,
    /// The revision.
    pub revision: revision::Model,
}

/// What a notification carries: ids only (NOTIFY payloads are limited to 8,000 bytes), since
/// the revision itself is immutable and every instance can read it.
#[derive(Debug, Serialize, Deserialize)]
struct Notice {
    /// The revision's id.
    revision: i64,
    /// The coverage record's id, for coverage changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    record: Option<i64>,
}

/// The process's change-event hub (cheap to clone).
#[derive(Clone, Debug)]
pub struct Events {
    tx: broadcast::Sender<Event>,
    /// Held from commit to publication on SQLite, so events leave in commit order.
    order: Arc<Mutex<()>>,
    backend: DbBackend,
    /// Whether events can be heard: always on SQLite; on PostgreSQL while the listener's
    /// connection is up (GET /readyz reports it).
    listening: Arc<AtomicBool>,
    /// Goes up with every committed change (see [`Generation`]).
    generation: Generation,
}

/// The data's generation, shared by the hub and every store of finished answers (the response
/// cache, the exports kept ready): it goes up with every committed change, or one that may have
/// been missed, before and after the commit. A store files an answer under the generation read
/// before computing it and serves it only while that generation is current, so nothing computed
/// before a commit is served after it; the hub knows nothing of the stores.
#[derive(Clone, Debug, Default)]
pub struct Generation(Arc<GenerationInner>);

#[derive(Debug, Default)]
struct GenerationInner {
    value: AtomicU64,
    /// Wakes the one task that keeps a copy of the data in step (`service::memory`).
    moved: tokio::sync::Notify,
}

impl Generation {
    /// The generation now.
    pub fn current(&self) -> u64 {
        self.0.value.load(Ordering::SeqCst)
    }

    /// Something committed (or may have).
    pub(crate) fn advance(&self) {
        self.0.value.fetch_add(1, Ordering::SeqCst);
        // A permit is kept when nobody waits, so no advance goes unnoticed.
        self.0.moved.notify_one();
    }

    /// Resolves once the generation has moved on since the last call returned (at once when it
    /// moved meanwhile). For one follower: a second would take the first's wake-ups.
    pub async fn moved(&self) {
        self.0.moved.notified().await;
    }
}

impl Events {
    /// A hub for `backend` where a subscriber may fall `capacity` events behind.
    pub fn new(backend: DbBackend, capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity.max(1));
        Self {
            tx,
            order: Arc::new(Mutex::new(())),
            backend,
            listening: Arc::new(AtomicBool::new(backend != DbBackend::Postgres)),
            generation: Generation::default(),
        }
    }

    /// The data's generation: read it before computing an answer from the data, keep the
    /// answer for later only while it is unchanged (see [`Events::generation`]'s field).
    pub fn generation(&self) -> u64 {
        self.generation.current()
    }

    /// The generation itself, for a store of finished answers to follow.
    pub fn generations(&self) -> Generation {
        self.generation.clone()
    }

    /// Something committed (or may have, unheard): no finished answer computed before now is
    /// served again.
    fn invalidate(&self) {
        self.generation.advance();
    }

    /// Something was committed without [`Events::commit`] (a test's direct insert, a tool on
    /// the same process): no answer computed before it may be served again.
    pub fn changed(&self) {
        self.invalidate();
    }

    /// A new receiver of every event published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }

    /// Subscriptions listening now (also the `coverage_api_event_subscribers` gauge).
    pub fn subscriber_count(&self) -> usize {
        self.tx.receiver_count()
    }

    /// Whether events are being heard (see [`Events::listening`]).
    pub fn is_listening(&self) -> bool {
        self.listening.load(Ordering::Acquire)
    }

    /// Sends `event` to every current subscriber of this instance.
    pub fn publish(&self, event: Event) {
        let kind = match &event {
            Event::Coverage { .. } => "coverage",
            Event::Designation { .. } => "designation",
            Event::ProvinceTotal { .. } => "province_total",
            Event::Round { .. } => "round",
            Event::Return { .. } => "return",
            Event::Program { .. } => "program",
            Event::Missed { .. } => "missed",
        };
        metrics::counter!("coverage_api_events_published_total", "kind" => kind).increment(1);
        // An error only means nobody is subscribed.
        let _ = self.tx.send(event);
    }

    /// Commits `txn` and makes `changes` events, in commit order (see the module's notes).
    pub async fn commit(
        &self,
        txn: DatabaseTransaction,
        changes: Vec<Change>,
    ) -> Result<(), DbErr> {
        if self.backend == DbBackend::Postgres {
            for change in &changes {
                let notice = Notice {
                    revision: change.revision.id,
                    record: change.record_id,
                };
                let payload = serde_json::to_string(&notice)
                    .map_err(|err| DbErr::Custom(format!("event payload: {err}")))?;
                txn.execute_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT pg_notify($1, $2)",
                    [CHANNEL.into(), payload.into()],
                ))
                .await?;
            }
            // Before: a read from now on stores nothing (its generation will be stale); after:
            // nothing computed before the commit is served once the writer is answered. The
            // listener empties it again when the notification comes back.
            self.invalidate();
            let committed = txn.commit().await;
            self.invalidate();
            return committed;
        }
        let _order = self.order.lock().await;
        self.invalidate();
        let committed = txn.commit().await;
        self.invalidate();
        committed?;
        for event in changes.into_iter().filter_map(event_of) {
            self.publish(event);
        }
        Ok(())
    }
}

fn event_of(change: Change) -> Option<Event> {
    event(change.record_id, Arc::new(change.revision))
}

/// The event a revision becomes; none for a coverage revision without its record's id.
fn event(record_id: Option<i64>, revision: Arc<revision::Model>) -> Option<Event> {
    Some(match revision.kind {
        RevisionKind::Coverage => Event::Coverage {
            record_id: record_id?,
            revision,
        },
        RevisionKind::PilotDesignation => Event::Designation { revision },
        RevisionKind::ProvinceTotal => Event::ProvinceTotal { revision },
        RevisionKind::Round => Event::Round { revision },
        RevisionKind::CityReturn => Event::Return { revision },
        RevisionKind::PilotProgram => Event::Program { revision },
    })
}

/// On PostgreSQL, starts the task that turns this instance's notifications into events (see
/// the module's notes); on SQLite, does nothing. The task's connection is named
/// `coverage-api events <pid>` in `pg_stat_activity`.
pub fn spawn_listener(events: &Events, db: &Database) {
    if db.backend() != DbBackend::Postgres {
        return;
    }
    let events = events.clone();
    let db = db.clone();
    tokio::spawn(async move { listen(events, db).await });
}

/// What subscribers are told once the listening connection, lost, is back: one message, sent
/// when reading the figures again catches every change made meanwhile.
const LOST: &str = "the server's connection to the database was lost and is back; changes made \
                    meanwhile may not have been sent: read the current figures again";

/// Delay between attempts to reach the database when it does not answer.
const RETRY: Duration = Duration::from_secs(1);

async fn listen(events: Events, db: Database) {
    let options = match PgConnectOptions::from_str(db.url()) {
        Ok(options) => {
            options.application_name(&format!("coverage-api events {}", std::process::id()))
        }
        Err(err) => {
            tracing::error!(%err, "change events disabled: the database URL does not parse");
            return;
        }
    };
    // A pool of one of its own, so the listener never takes a connection from requests; the
    // listener uses it to reconnect.
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_lazy_with(options);
    let mut listener = connect(&pool).await;
    events.listening.store(true, Ordering::Release);
    // Writes made before this instance listened were never heard.
    events.invalidate();
    tracing::info!(channel = CHANNEL, "listening for change events");
    loop {
        match listener.try_recv().await {
            Ok(Some(notification)) => {
                // Another instance (or this one) committed: no stored answer is current any
                // more, before the revision is read and the event sent.
                events.invalidate();
                match load(&db, notification.payload()).await {
                    Ok(Some(event)) => events.publish(event),
                    Ok(None) => {}
                    Err(err) => {
                        tracing::warn!(%err, "a change event could not be read");
                        events
                            .publish(missed("a change event could not be read from the database"));
                    }
                }
            }
            // The connection was lost (Ok(None): sqlx would reconnect on the next call; Err:
            // it could not). Either way: not ready until a new listener is up, and subscribers
            // are told only then, so that a client that reads the figures again on that message
            // reads them after the listener is back and misses no write made meanwhile.
            lost @ (Ok(None) | Err(_)) => {
                events.listening.store(false, Ordering::Release);
                // Until it listens again the response cache is bypassed (see `http`); what it
                // holds may already miss a write made since the connection died.
                events.invalidate();
                let cause = lost.err().map(|err| err.to_string()).unwrap_or_default();
                tracing::warn!(%cause, "the change-event connection was lost; reconnecting");
                drop(listener);
                listener = connect(&pool).await;
                events.listening.store(true, Ordering::Release);
                events.invalidate();
                tracing::info!(channel = CHANNEL, "listening for change events again");
                events.publish(missed(LOST));
            }
        }
    }
}

/// A listener on [`CHANNEL`], retrying every [`RETRY`] until the database answers.
async fn connect(pool: &sea_orm::sqlx::PgPool) -> PgListener {
    loop {
        match try_connect(pool).await {
            Ok(listener) => return listener,
            Err(err) => {
                tracing::warn!(%err, "cannot listen for change events yet; retrying");
                tokio::time::sleep(RETRY).await;
            }
        }
    }
}

async fn try_connect(pool: &sea_orm::sqlx::PgPool) -> Result<PgListener, sea_orm::sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

fn missed(reason: &str) -> Event {
    Event::Missed {
        reason: reason.into(),
    }
}

/// The event a notification announces, read from the revision it names.
async fn load(db: &Database, payload: &str) -> Result<Option<Event>, DbErr> {
    let notice: Notice = match serde_json::from_str(payload) {
        Ok(notice) => notice,
        Err(err) => {
            tracing::warn!(%err, payload, "ignoring a malformed change notification");
            return Ok(None);
        }
    };
    let Some(revision) = revision::Entity::find_by_id(notice.revision)
        .one(&db.conn)
        .await?
    else {
        return Ok(None);
    };
    Ok(event(notice.record, Arc::new(revision)))
}
