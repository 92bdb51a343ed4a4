//! coverage-api: a GraphQL service over the coverage of the grassroots branches of the Henan
//! Provincial Association for Science and Technology (河南省科协) in the province's 18 cities.
//!
//! The map of the crate, outside in:
//! - [`cli`]: the command line (serve, migrate, schema, token, seed-synthetic) and what each runs.
//! - [`config`]: the one place that reads flags and environment.
//! - [`telemetry`]: the tracing subscriber, set up once.
//! - [`cache`]: finished answers to anonymous reads, emptied by every committed write.
//! - [`server`] and [`routes`]: the HTTP server and its one list of routes.
//! - [`graphql`]: the schema; thin resolvers and the DataLoaders that batch nested fields.
//! - [`service`]: the read operations and their SQL; knows nothing of GraphQL.
//! - [`domain`]: plain types and rules (coverage-rate arithmetic, periods, cursors).
//! - [`db`]: connecting (SQLite pragmas, pool sizes), migrating, counting statements.
//! - [`seed`]: the report's facts and the synthetic data generator.
//! - [`error`]: the library's error type.
//! - [`metrics`]: Prometheus metrics (GET /metrics).
//! - [`auth`]: bearer tokens to actors.
//! - [`events`]: change events for subscriptions (in-process, or PostgreSQL LISTEN/NOTIFY).
//! - [`ws`]: GraphQL over WebSocket (`/graphql/ws`).
//! - [`web`]: the pages (dashboard `/`, `/staff`, GraphiQL) and their assets, compiled in.

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
