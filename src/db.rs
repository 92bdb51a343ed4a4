//! Connecting to the database (SQLite file, in-memory SQLite, or PostgreSQL), migrating it, and
//! counting the SQL statements it runs (for tests, benchmarks and the DataLoader budget).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database as SeaDatabase, DatabaseConnection, DbBackend, DbErr};

use crate::config::DatabaseArgs;

/// A connection pool and the number of statements it has run.
#[derive(Clone, Debug)]
pub struct Database {
    /// The sea-orm pool.
    pub conn: DatabaseConnection,
    statements: Arc<AtomicU64>,
    url: Arc<str>,
}

impl Database {
    /// Statements run through this pool since it was opened.
    pub fn statement_count(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// The URL the pool was opened on (the change-event listener opens its own connection).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The backend (SQLite or PostgreSQL).
    pub fn backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }
}

/// Opens a pool on `args.database_url`. SQLite files get WAL, `synchronous=FULL` (a commit is
/// durable before it is acknowledged), foreign keys and a busy timeout; an in-memory SQLite
/// database gets exactly one connection that is never recycled, since each connection to
/// `:memory:` would otherwise see a database of its own.
pub async fn connect(args: &DatabaseArgs) -> Result<Database, DbErr> {
    let url = args.database_url.as_str();
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10));
    let is_sqlite = url.starts_with("sqlite:");
    let in_memory = is_sqlite && url.contains(":memory:") || url.contains("mode=memory");
    // sqlx pings a connection on every checkout by default, and again when it is returned: for
    // a statement of the dashboard that is three round trips to the database (or, on SQLite, to
    // the connection's worker thread) instead of two, and the two pings cost about a third of
    // the dashboard's CPU time on SQLite. An embedded database has no server or proxy that could
    // drop a connection, so SQLite never pings on checkout; on PostgreSQL only a connection idle
    // for PING_IF_IDLE_FOR is pinged, the usual way a connection dies (a proxy, a firewall or
    // the server closing it). A connection broken while busy fails its statement, and the ping
    // sqlx makes on return then drops it from the pool.
    if is_sqlite {
        opts.test_before_acquire(false);
    } else {
        opts.test_before_acquire_if_idle_for(PING_IF_IDLE_FOR);
    }
    if in_memory {
        opts.max_connections(1)
            .min_connections(1)
            .idle_timeout(None::<Duration>)
            .max_lifetime(None::<Duration>);
    } else {
        opts.max_connections(
            args.database_max_connections
                .unwrap_or_else(default_pool_size),
        );
    }
    if is_sqlite {
        opts.map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5))
        });
        if !in_memory {
            create_parent_dir(url);
        }
    }
    let mut conn = SeaDatabase::connect(opts).await?;
    let statements = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&statements);
    conn.set_metric_callback(move |info| {
        counter.fetch_add(1, Ordering::Relaxed);
        crate::metrics::sql_statement(info.elapsed.as_secs_f64(), info.failed);
        tracing::trace!(
            sql = %info.statement.sql,
            elapsed_us = info.elapsed.as_micros() as u64,
            failed = info.failed,
            "statement"
        );
    });
    Ok(Database {
        conn,
        statements,
        url: url.into(),
    })
}

/// How long a PostgreSQL connection may stay idle in the pool before it is pinged on checkout.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(30);

/// Twice the cores, at least 4. Measured with `scripts/load.sh postgres 16` on 2 cores: a pool
/// of 4 answered 2,530–2,670 dashboard requests/s, 8 about 2,540, 16 only 2,350–2,430: more
/// connections than the cores can serve only add context switches between server, driver and
/// database processes.
fn default_pool_size() -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    u32::try_from(cores * 2).unwrap_or(u32::MAX).max(4)
}

/// `sqlite://data/coverage.db?mode=rwc` needs `data/` to exist before SQLite can create the file.
fn create_parent_dir(url: &str) {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    if let Some(parent) = std::path::Path::new(path).parent()
        && !parent.as_os_str().is_empty()
        && let Err(err) = std::fs::create_dir_all(parent)
    {
        tracing::warn!(%err, dir = %parent.display(), "could not create the database directory");
    }
}

/// Applies every pending migration (schema only).
pub async fn migrate(db: &Database) -> Result<(), DbErr> {
    Migrator::up(&db.conn, None).await
}
