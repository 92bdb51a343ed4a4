//! Running the HTTP server: the same code in `main` and in tests. It takes a bound listener and
//! a shutdown future, so tests bind port 0 and never sleep waiting for it.

use std::future::Future;
use std::sync::Arc;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DbBackend, TransactionTrait};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::cache::ResponseCache;
use crate::config::{DatabaseArgs, ServeArgs};
use crate::db::{self, Database};
use crate::events::{self, Events};
use crate::graphql::{Api, SchemaSettings};
use crate::http::{self, AppState, HttpLimits};
use crate::seed;

/// Connects, migrates and, when the database holds no cities, loads the report's facts. On
/// PostgreSQL, where several instances may start at once on one database, both steps run in one
/// transaction under an advisory lock, so exactly one instance migrates and seeds and the others
/// wait and find the work done. (SQLite files serve one instance.)
pub async fn prepare_database(args: &DatabaseArgs) -> anyhow::Result<Database> {
    let db = db::connect(args).await?;
    if db.backend() == DbBackend::Postgres {
        let txn = db.conn.begin().await?;
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({PREPARE_LOCK_KEY})"))
            .await?;
        Migrator::up(&txn, None).await?;
        seed::report::load_if_empty(&txn).await?;
        txn.commit().await?;
    } else {
        db::migrate(&db).await?;
        seed::report::load_if_empty(&db.conn).await?;
    }
    Ok(db)
}

/// The advisory lock key that serialises start-up preparation ("cov" in ASCII).
const PREPARE_LOCK_KEY: i64 = 0x00_63_6f_76;

/// The application state for `db` under `args`; on PostgreSQL, also starts listening for the
/// change events of every instance; and starts keeping the published figures in memory.
pub fn state(db: Database, args: &ServeArgs) -> AppState {
    // Install the metrics recorder before anything records.
    crate::metrics::handle();
    crate::metrics::set_max_pending_samples(args.metrics_max_pending_samples);
    crate::metrics::label_operations(&args.metrics_operations);
    let events = Events::new(db.backend(), args.subscriber_buffer as usize);
    let response_cache = ResponseCache::new(args.response_cache_bytes, events.generations());
    events::spawn_listener(&events, &db);
    let settings = SchemaSettings::from(args);
    let api = Api::new(db.clone(), events.clone(), &settings);
    api.memory.spawn(db.clone());
    AppState {
        api,
        db,
        events,
        ws_connections: Arc::new(Semaphore::new(args.max_ws_connections)),
        max_subscriptions: args.max_subscriptions,
        ws_init_timeout: std::time::Duration::from_secs(args.ws_init_timeout_secs),
        ws_keepalive: (args.ws_keepalive_secs > 0)
            .then(|| std::time::Duration::from_secs(args.ws_keepalive_secs)),
        max_batch: args.max_batch,
        cache_max_age: args.cache_max_age,
        body_limit: args.body_limit,
        ws_read_buffer_size: args.ws_read_buffer_size as usize,
        ws_write_buffer_size: args.ws_write_buffer_size as usize,
        going_away: Arc::new(tokio::sync::watch::channel(false).0),
        import: crate::sheets::report::ImportLimits::of(args),
        sheets_timeout: std::time::Duration::from_secs(args.sheets_timeout_secs),
        response_cache,
        request_timeout: std::time::Duration::from_secs(args.request_timeout_secs),
        ws_clients: Arc::default(),
        max_ws_per_client: args.max_ws_connections_per_client,
        ws_idle: std::time::Duration::from_secs(args.ws_idle_secs),
        sheets: http::Sheets::new(
            args.import_concurrency,
            args.export_concurrency,
            args.export_cache_bytes,
        ),
    }
}

/// Serves `state` on `listener` until `shutdown` completes, then finishes in-flight requests.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    args: &ServeArgs,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = HttpLimits {
        body_limit: args.body_limit,
        request_timeout: std::time::Duration::from_secs(args.request_timeout_secs),
        cors_origins: args.cors_origins.clone(),
        public_metrics: args.metrics_addr.is_none(),
    };
    if let Some(addr) = args.metrics_addr {
        // Its own listener and connection layer; it lives as long as the process.
        let listener = TcpListener::bind(addr).await?;
        tracing::info!(addr = %listener.local_addr()?, "metrics listening");
        let metrics = http::metrics_router(state.clone());
        let connection_limits = crate::connections::ConnectionLimits::of(args);
        tokio::spawn(async move {
            let served = crate::connections::serve(
                listener,
                metrics,
                connection_limits,
                std::future::pending(),
            )
            .await;
            if let Err(err) = served {
                tracing::error!(%err, "the metrics address stopped");
            }
        });
    }
    let going_away = Arc::clone(&state.going_away);
    let shutdown = async move {
        shutdown.await;
        // Upgraded WebSockets are not the server's to drain: tell them to go.
        going_away.send_replace(true);
    };
    crate::connections::serve(
        listener,
        http::router(state, limits),
        crate::connections::ConnectionLimits::of(args),
        shutdown,
    )
    .await
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(%err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
