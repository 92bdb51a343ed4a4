//! coverage-api: a GraphQL service over the coverage of the grassroots branches of the Henan
//! Provincial Association for Science and Technology (河南省科协) in the province's 18 cities.
//!
//! The map of the crate, outside in (each arrow points down this list; `cargo test --test
//! house` checks there is none back up, and `docs/layout.md` maps every file):
//! - [`cli`]: the command line (serve, migrate, schema, token, seed-synthetic, export, import).
//! - [`server`]: the process: the state every route shares, the listeners, shutdown.
//! - [`connections`]: accepting TCP connections within their caps and deadlines.
//! - [`http`]: the routes and their layers: GraphQL over HTTP, the response cache's HTTP side,
//!   the pages, the spreadsheets, health and metrics, the WebSocket upgrade.
//! - [`ws`]: GraphQL over WebSocket: the protocol, its deadlines and the executor of a socket.
//! - [`graphql`]: the schema: thin resolvers, the DataLoaders that batch nested fields, and the
//!   admission step every document goes through before it runs (`graphql::admission`).
//! - [`auth`]: a bearer token to an actor.
//! - [`cache`]: the store of finished answers to anonymous reads (no HTTP in it).
//! - [`sheets`]: spreadsheets as a format: bytes to rows within bounds, rows to CSV and XLSX.
//! - [`service`]: the use cases and their SQL (reads, writes, imports, exports); knows nothing
//!   of GraphQL or HTTP.
//! - [`events`]: change events for subscriptions and the data's generation.
//! - [`db`]: connecting (SQLite pragmas, pool sizes), migrating, counting statements.
//! - [`seed`]: the report's facts and the synthetic data generator.
//! - [`metrics`]: Prometheus metrics.
//! - [`telemetry`]: the tracing subscriber, set up once.
//! - [`domain`]: plain types and rules (coverage-rate arithmetic, periods, cursors, who asks,
//!   the steps of the yearly return).
//! - [`code`]: the one table of error codes.
//! - [`error`]: the library's error type.
//! - [`config`]: the one place that reads flags and environment.

pub mod auth;
pub mod cache;
pub mod cli;
pub mod code;
pub mod config;
pub mod connections;
pub mod db;
pub mod domain;
pub mod error;
pub mod events;
pub mod graphql;
pub mod http;
pub mod metrics;
pub mod seed;
pub mod server;
pub mod service;
pub mod sheets;
pub mod telemetry;
pub mod ws;

pub use error::AppError;

/// mimalloc instead of glibc's allocator: a GraphQL response is built from many small
/// allocations, and under load glibc's malloc/free took about 15 % of the server's CPU.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
