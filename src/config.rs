//! The one place that reads flags and environment: clap parses both, so every setting has a flag,
//! an environment variable and a default, and `--help` documents all three.

use std::net::SocketAddr;

/// Default database: an SQLite file under `data/`, created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/coverage.db?mode=rwc";

/// Default of `--response-cache-bytes`: 8 MiB, a few hundred dashboard answers with their
/// compressed forms (an 18-city dashboard answer is about 6 KiB, 1 KiB compressed).
pub const DEFAULT_RESPONSE_CACHE_BYTES: u64 = 8 * 1024 * 1024;

/// The default bound on the published figures held in memory (`--memory-reads-max-bytes`).
pub const DEFAULT_MEMORY_READS_MAX_BYTES: u64 = 256 * 1024 * 1024;

/// Default of `--metrics-max-pending-samples`: 4,096 samples of 8 bytes (about 40 KiB with the
/// queues' block headers), drained every 700 or so dashboard requests.
pub const DEFAULT_MAX_PENDING_SAMPLES: usize = 4_096;

/// Where the data lives.
#[derive(Debug, Clone, clap::Args)]
pub struct DatabaseArgs {
    /// Database URL: `sqlite://PATH?mode=rwc`, `sqlite::memory:` or `postgres://USER@HOST/DB`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,
    /// Connections in the pool (default: twice the cores, at least 4).
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", global = true)]
    pub database_max_connections: Option<u32>,
}

/// How log lines are written.
#[derive(Debug, Clone, clap::Args)]
pub struct LogArgs {
    /// `text` for a terminal (the default), or `json`: one JSON object per line (time, level,
    /// message, target, and the request's span: id, method, path, operation names, the
    /// caller's kind and city; one `access` line per answer with its status and latency).
    #[arg(
        long,
        env = "COVERAGE_API_LOG_FORMAT",
        value_enum,
        default_value_t,
        global = true
    )]
    pub log_format: LogFormat,
}

/// The forms of log lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// For people at a terminal.
    #[default]
    Text,
    /// For machines: one JSON object per line.
    Json,
}

/// How the HTTP server behaves.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "COVERAGE_API_ADDR", default_value = "127.0.0.1:8000")]
    pub addr: SocketAddr,
    /// Largest `first` a connection accepts; larger values are capped to it.
    #[arg(long, env = "COVERAGE_API_MAX_PAGE_SIZE", default_value_t = 100)]
    pub max_page_size: u32,
    /// Seconds a request may take before it is answered with 408.
    #[arg(long, env = "COVERAGE_API_REQUEST_TIMEOUT", default_value_t = 10)]
    pub request_timeout_secs: u64,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "COVERAGE_API_BODY_LIMIT", default_value_t = 256 * 1024)]
    pub body_limit: usize,
    /// Origins browsers may call the API from, comma-separated (default: none). `*` allows any
    /// origin for reads only: browsers then may not send `authorization` across origins.
    #[arg(long, env = "COVERAGE_API_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// Deepest selection nesting a query may have. GraphiQL's own introspection query nests
    /// about 13 deep.
    #[arg(long, env = "COVERAGE_API_MAX_DEPTH", default_value_t = 15)]
    pub max_depth: usize,
    /// Largest query complexity: each field counts 1 plus its selections, and a connection's
    /// selections count `first` times (20 when `first` is not given). Also the most fields a
    /// query may select once its fragments are expanded.
    #[arg(long, env = "COVERAGE_API_MAX_COMPLEXITY", default_value_t = 5_000)]
    pub max_complexity: usize,
    /// Most aliased fields in one document, counted after fragments are expanded.
    #[arg(long, env = "COVERAGE_API_MAX_ALIASES", default_value_t = 30)]
    pub max_aliases: usize,
    /// Most fields at the root of an operation, counted after fragments are expanded.
    #[arg(long, env = "COVERAGE_API_MAX_ROOT_FIELDS", default_value_t = 20)]
    pub max_root_fields: usize,
    /// Most directives on one field.
    #[arg(long, env = "COVERAGE_API_MAX_DIRECTIVES", default_value_t = 5)]
    pub max_directives: usize,
    /// Deepest nesting of brackets (`{`, `[`, `(`) in a document, checked before it is parsed:
    /// deeply nested list or object literals would otherwise exhaust the parser's stack.
    #[arg(long, env = "COVERAGE_API_MAX_NESTING", default_value_t = 64)]
    pub max_nesting: usize,
    /// Most operations in one batched request (a JSON array of operations).
    #[arg(long, env = "COVERAGE_API_MAX_BATCH", default_value_t = 10)]
    pub max_batch: usize,
    /// Whether validation errors suggest field names ("did you mean …").
    #[arg(long, env = "COVERAGE_API_FIELD_SUGGESTIONS", default_value_t = true, action = clap::ArgAction::Set)]
    pub field_suggestions: bool,
    /// Whether the schema answers introspection (GraphiQL needs it).
    #[arg(long, env = "COVERAGE_API_INTROSPECTION", default_value_t = true, action = clap::ArgAction::Set)]
    pub introspection: bool,
    /// `Cache-Control: public, max-age=N` on successful anonymous reads; 0 sends `no-store`.
    #[arg(long, env = "COVERAGE_API_CACHE_MAX_AGE", default_value_t = 5)]
    pub cache_max_age: u32,
    /// Most open WebSocket connections per instance; more are answered 503.
    #[arg(long, env = "COVERAGE_API_MAX_WS_CONNECTIONS", default_value_t = 1_000)]
    pub max_ws_connections: usize,
    /// Most operations (subscriptions) open at once on one WebSocket connection.
    #[arg(long, env = "COVERAGE_API_MAX_SUBSCRIPTIONS", default_value_t = 20)]
    pub max_subscriptions: usize,
    /// Seconds a new WebSocket connection has to send `connection_init` before it is closed
    /// (code 4408).
    #[arg(long, env = "COVERAGE_API_WS_INIT_TIMEOUT", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub ws_init_timeout_secs: u64,
    /// Seconds between keep-alive pings on a WebSocket connection, which is also the time a
    /// peer has to answer one before it is closed (code 4504); 0 sends none. Keep it under the
    /// idle timeout of any proxy in front (nginx: 60 s).
    #[arg(long, env = "COVERAGE_API_WS_KEEPALIVE", default_value_t = 25)]
    pub ws_keepalive_secs: u64,
    /// Bytes of memory the documents the server remembers may hold (automatic persisted queries
    /// and checked texts, weighed parsed, as they are kept; least recently used go first); 0
    /// keeps none.
    #[arg(
        long,
        env = "COVERAGE_API_PERSISTED_QUERY_BYTES",
        default_value_t = 4 * 1024 * 1024
    )]
    pub persisted_query_bytes: u64,
    /// Bytes the response cache may hold: finished answers to anonymous reads (with their
    /// compressed forms), emptied by every committed write; 0 switches it off.
    #[arg(
        long,
        env = "COVERAGE_API_RESPONSE_CACHE_BYTES",
        default_value_t = DEFAULT_RESPONSE_CACHE_BYTES
    )]
    pub response_cache_bytes: u64,
    /// Bytes the published figures may take in memory, where reads of them are answered without
    /// the database (read again whole after every commit); a larger set is read from the
    /// database instead. 0 switches the memory off.
    #[arg(
        long,
        env = "COVERAGE_API_MEMORY_READS_MAX_BYTES",
        default_value_t = DEFAULT_MEMORY_READS_MAX_BYTES
    )]
    pub memory_reads_max_bytes: u64,
    /// Change events a subscriber may fall behind before it is dropped (close code 4008).
    #[arg(long, env = "COVERAGE_API_SUBSCRIBER_BUFFER", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=65_536))]
    pub subscriber_buffer: u32,
    /// Initial size, in bytes, of each WebSocket connection's read buffer, and the most read from
    /// the socket at once. Clients send small messages (`connection_init`, `subscribe`: a
    /// dashboard's are under 200 bytes); a larger one (up to `--body-limit`) grows the buffer
    /// while it is read. 1 KiB rather than 4 saves 2 KiB of every connection's memory.
    #[arg(long, env = "COVERAGE_API_WS_READ_BUFFER", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(256..=1 << 24))]
    pub ws_read_buffer_size: u32,
    /// Bytes a WebSocket connection gathers before writing to the socket. 0 writes each message
    /// at once, which is what happens anyway: the server flushes after every message it sends.
    #[arg(long, env = "COVERAGE_API_WS_WRITE_BUFFER", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=1 << 24))]
    pub ws_write_buffer_size: u32,
    /// Histogram samples that may wait before they are drained into their buckets, whether or
    /// not anyone reads GET /metrics (each sample takes 8 bytes while it waits).
    #[arg(long, env = "COVERAGE_API_METRICS_MAX_PENDING_SAMPLES", default_value_t = DEFAULT_MAX_PENDING_SAMPLES, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1 << 24))]
    pub metrics_max_pending_samples: usize,
    /// Whether everyone may read the personal parts of the audit trail: the writer's name on
    /// revisions and records (`actor.name`, `updatedBy`) and revision notes. By default only an
    /// administrator (all) and city staff (their own city's) read them.
    #[arg(long, env = "COVERAGE_API_PUBLIC_AUDIT_TRAIL", default_value_t = false, action = clap::ArgAction::Set)]
    pub public_audit_trail: bool,
    /// Seconds without use after which a person's sign-in (a session) ends.
    #[arg(long, env = "COVERAGE_API_SESSION_IDLE_SECS", default_value_t = 1_800, value_parser = clap::value_parser!(u32).range(1..=86_400 * 30))]
    pub session_idle_secs: u32,
    /// Seconds after signing in at which a session ends, used or not.
    #[arg(long, env = "COVERAGE_API_SESSION_MAX_SECS", default_value_t = 43_200, value_parser = clap::value_parser!(u32).range(1..=86_400 * 366))]
    pub session_max_secs: u32,
    /// Passwords checked at once on this instance (Argon2id takes 19 MiB and a core's tens of
    /// milliseconds each): a flood of sign-ins waits for these places, the rest of the API does not.
    #[arg(long, env = "COVERAGE_API_PASSWORD_CONCURRENCY", default_value_t = 1, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=64))]
    pub password_concurrency: usize,
    /// Days an API token made in the console or by `createApiToken` lasts when no expiry is given.
    #[arg(long, env = "COVERAGE_API_API_TOKEN_DAYS", default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..=3_660))]
    pub api_token_days: u32,
    /// The most days ahead an API token's expiry may be.
    #[arg(long, env = "COVERAGE_API_API_TOKEN_MAX_DAYS", default_value_t = 366, value_parser = clap::value_parser!(u32).range(1..=3_660))]
    pub api_token_max_days: u32,
    /// The issuing unit the yearly report names (`/report`), in Chinese.
    #[arg(
        long,
        env = "COVERAGE_API_ISSUING_UNIT",
        default_value = "河南省科学技术协会"
    )]
    pub issuing_unit: String,
    /// The issuing unit the yearly report names, in English.
    #[arg(
        long,
        env = "COVERAGE_API_ISSUING_UNIT_EN",
        default_value = "Henan Association for Science and Technology"
    )]
    pub issuing_unit_en: String,
    /// Largest spreadsheet an import accepts, in bytes (`POST /import/coverage` and the
    /// `import` command).
    #[arg(long, env = "COVERAGE_API_IMPORT_MAX_BYTES", default_value_t = 5 * 1024 * 1024)]
    pub import_max_bytes: usize,
    /// Most data rows in an imported sheet (1,800 cities × 3 types fit).
    #[arg(long, env = "COVERAGE_API_IMPORT_MAX_ROWS", default_value_t = 10_000)]
    pub import_max_rows: usize,
    /// Most columns in an imported sheet (the template has 14).
    #[arg(
        long,
        env = "COVERAGE_API_IMPORT_MAX_COLUMNS",
        default_value_t = 32,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=16_384)
    )]
    pub import_max_columns: usize,
    /// Longest cell in an imported sheet, in characters.
    #[arg(
        long,
        env = "COVERAGE_API_IMPORT_MAX_CELL_CHARS",
        default_value_t = 2_000
    )]
    pub import_max_cell_chars: usize,
    /// Most bytes an imported workbook may inflate to (a zip bomb is refused at this bound).
    #[arg(long, env = "COVERAGE_API_IMPORT_MAX_UNCOMPRESSED_BYTES", default_value_t = 64 * 1024 * 1024)]
    pub import_max_uncompressed_bytes: u64,
    /// Most entries (parts) in an imported workbook.
    #[arg(long, env = "COVERAGE_API_IMPORT_MAX_ENTRIES", default_value_t = 64)]
    pub import_max_entries: usize,
    /// Imports this instance reads at once (each on a blocking thread); more are answered 503
    /// with `Retry-After`.
    #[arg(
        long,
        env = "COVERAGE_API_IMPORT_CONCURRENCY",
        default_value_t = 1,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=64)
    )]
    pub import_concurrency: usize,
    /// Exports this instance builds at once (each on a blocking thread); a finished export is
    /// kept until the next commit, so only the first request after a change builds one.
    #[arg(
        long,
        env = "COVERAGE_API_EXPORT_CONCURRENCY",
        default_value_t = 1,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=64)
    )]
    pub export_concurrency: usize,
    /// Bytes the finished exports kept in memory may take.
    #[arg(
        long,
        env = "COVERAGE_API_EXPORT_CACHE_BYTES",
        default_value_t = 32 * 1024 * 1024
    )]
    pub export_cache_bytes: u64,
    /// Seconds an import or export request may take before it is answered with 408.
    #[arg(long, env = "COVERAGE_API_SHEETS_TIMEOUT", default_value_t = 120)]
    pub sheets_timeout_secs: u64,
    /// Open connections per instance; more are closed at once (counted in /metrics).
    #[arg(
        long,
        env = "COVERAGE_API_MAX_CONNECTIONS",
        default_value_t = 10_000,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
    )]
    pub max_connections: usize,
    /// Open connections per client address (a reverse proxy in --trusted-proxies excepted).
    #[arg(
        long,
        env = "COVERAGE_API_MAX_CONNECTIONS_PER_CLIENT",
        default_value_t = 256,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
    )]
    pub max_connections_per_client: usize,
    /// Seconds a client has to send a request's headers, and to send the next request on a
    /// kept-alive connection; then the connection is closed.
    #[arg(
        long,
        env = "COVERAGE_API_HEADER_READ_TIMEOUT",
        default_value_t = 10,
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub header_read_timeout_secs: u64,
    /// Addresses of reverse proxies in front of the server (comma-separated): each carries
    /// many clients, so it is held to --max-connections only.
    #[arg(long, env = "COVERAGE_API_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// WebSocket connections one client address may hold (more: 503 TOO_MANY_CONNECTIONS).
    #[arg(
        long,
        env = "COVERAGE_API_MAX_WS_CONNECTIONS_PER_CLIENT",
        default_value_t = 32,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
    )]
    pub max_ws_connections_per_client: usize,
    /// Seconds an acknowledged WebSocket connection may hold no operation before it is closed
    /// (4410).
    #[arg(
        long,
        env = "COVERAGE_API_WS_IDLE",
        default_value_t = 10,
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub ws_idle_secs: u64,
    /// Serve `GET /metrics` on this address instead (e.g. 127.0.0.1:9100, reachable only by the
    /// monitoring host); the API's address then answers it 404.
    #[arg(long, env = "COVERAGE_API_METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,
    /// Operation names counted under their own label in /metrics besides the pages' own
    /// (comma-separated); every other name counts as `other`.
    #[arg(long, env = "COVERAGE_API_METRICS_OPERATIONS", value_delimiter = ',')]
    pub metrics_operations: Vec<String>,
    /// Take a backup of the database every this many seconds (at most a year) into
    /// --backup-dir (off unless given; `coverage-api backup FILE` takes one by hand).
    #[arg(long, env = "COVERAGE_API_BACKUP_EVERY", value_parser = clap::value_parser!(u64).range(1..=31_536_000))]
    pub backup_every: Option<u64>,
    /// Where the server's own backups go (made if missing).
    #[arg(long, env = "COVERAGE_API_BACKUP_DIR", default_value = "data/backups")]
    pub backup_dir: std::path::PathBuf,
    /// How many of its own backups the server keeps; the oldest beyond go.
    #[arg(long, env = "COVERAGE_API_BACKUP_KEEP", default_value_t = 7, value_parser = clap::value_parser!(u16).range(1..))]
    pub backup_keep: u16,
    /// Async runtime worker threads (default: one per core).
    #[arg(long, env = "COVERAGE_API_WORKER_THREADS", value_parser = clap::value_parser!(u16).range(1..))]
    pub worker_threads: Option<u16>,
}

impl Default for ServeArgs {
    /// The defaults the attributes above declare, whatever the environment holds: each default
    /// is written once, there, and tests that say "the default" read the real one.
    fn default() -> Self {
        use clap::{Args, FromArgMatches};
        let command = Self::augment_args(clap::Command::new("defaults"))
            .mut_args(|arg| arg.env(None::<&'static str>));
        let parsed = command
            .try_get_matches_from(["defaults"])
            .and_then(|matches| Self::from_arg_matches(&matches));
        match parsed {
            Ok(args) => args,
            // Only a default that does not parse gets here: a programming error that the
            // `defaults_parse` test catches before any release.
            Err(err) => panic!("the declared defaults of ServeArgs do not parse: {err}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse() {
        let defaults = ServeArgs::default();
        assert_eq!(defaults.addr, SocketAddr::from(([127, 0, 0, 1], 8000)));
        assert_eq!(defaults.max_page_size, 100);
        assert_eq!(defaults.persisted_query_bytes, 4 * 1024 * 1024);
        assert!(!defaults.public_audit_trail);
    }
}
