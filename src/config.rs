//! The one place that reads flags and environment: clap parses both, so every setting has a flag,
//! an environment variable and a default, and `--help` documents all three.

use std::net::SocketAddr;

/// Default database: an SQLite file under `data/`, created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/coverage.db?mode=rwc";

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

/// How the HTTP server behaves.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(
        long,
        env = "COVERAGE_API_ADDR",
        default_value = "127.0.0.1:8000",
        global = true
    )]
    pub addr: SocketAddr,
    /// Largest `first` a connection accepts; larger values are capped to it.
    #[arg(
        long,
        env = "COVERAGE_API_MAX_PAGE_SIZE",
        default_value_t = 100,
        global = true
    )]
    pub max_page_size: u32,
    /// Seconds a request may take before it is answered with 408.
    #[arg(
        long,
        env = "COVERAGE_API_REQUEST_TIMEOUT",
        default_value_t = 10,
        global = true
    )]
    pub request_timeout_secs: u64,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "COVERAGE_API_BODY_LIMIT", default_value_t = 256 * 1024, global = true)]
    pub body_limit: usize,
    /// Origins browsers may call the API from, comma-separated (default: none). `*` allows any
    /// origin for reads only: browsers then may not send `authorization` across origins.
    #[arg(
        long,
        env = "COVERAGE_API_CORS_ORIGINS",
        value_delimiter = ',',
        global = true
    )]
    pub cors_origins: Vec<String>,
    /// Async runtime worker threads (default: one per core).
    #[arg(long, env = "COVERAGE_API_WORKER_THREADS", global = true, value_parser = clap::value_parser!(u16).range(1..))]
    pub worker_threads: Option<u16>,
}

impl Default for ServeArgs {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 8000)),
            max_page_size: 100,
            request_timeout_secs: 10,
            body_limit: 256 * 1024,
            worker_threads: None,
            cors_origins: Vec::new(),
        }
    }
}
