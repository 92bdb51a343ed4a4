//! The GraphQL schema: one builder ([`build_schema`]) that wires data, loaders and limits, and
//! one file per area. Resolvers are thin: context → one service call or loader → GraphQL type.

pub mod city;
pub mod connection;
pub mod coverage;
pub mod error;
pub mod loaders;
pub mod mutation;
pub mod pilot;
pub mod revision;
pub mod summary;
pub mod viewer;

use async_graphql::{Context, EmptySubscription, MergedObject, Request, Response, Schema};

use async_graphql::extensions::apollo_persisted_queries::{
    ApolloPersistedQueries, LruCacheStorage,
};

use crate::auth::Actor;
use crate::db::Database;
pub use loaders::Loaders;

/// The root query: the per-area roots merged.
#[derive(MergedObject, Default)]
pub struct Query(
    city::CityQuery,
    pilot::PilotQuery,
    summary::SummaryQuery,
    viewer::ViewerQuery,
    revision::RevisionQuery,
);

/// The root mutation: the per-area roots merged.
#[derive(MergedObject, Default)]
pub struct Mutation(mutation::CoverageMutation, mutation::AdminMutation);

/// The schema type served by the API.
pub type AppSchema = Schema<Query, Mutation, EmptySubscription>;

/// Limits the resolvers apply.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest page a connection returns.
    pub max_page_size: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_page_size: 100 }
    }
}

/// Persisted queries kept (least recently used go first).
const PERSISTED_QUERIES: usize = 1024;

/// Query depth allowed: GraphiQL's own introspection query nests about 13 deep.
const MAX_DEPTH: usize = 15;

/// Builds the schema over `db`: data and limits in one place. Loaders are per request: see
/// [`execute`].
pub fn build_schema(db: Database, limits: Limits) -> AppSchema {
    Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        .data(db)
        .data(limits)
        // Automatic persisted queries: dashboards send a hash instead of the text; the parsed
        // document is kept, so a known hash also skips parsing.
        .extension(ApolloPersistedQueries::new(LruCacheStorage::new(
            PERSISTED_QUERIES,
        )))
        .limit_depth(MAX_DEPTH)
        .finish()
}

/// Executes one GraphQL request for `actor`, with a fresh set of loaders; then completes the
/// error codes and records the operation's metrics.
pub async fn execute(
    schema: &AppSchema,
    db: &Database,
    actor: Actor,
    request: Request,
) -> Response {
    let started = std::time::Instant::now();
    let operation = request.operation_name.clone();
    let mut response = schema
        .execute(request.data(Loaders::new(db)).data(actor))
        .await;
    error::add_missing_codes(&mut response);
    crate::metrics::operation(operation.as_deref(), started.elapsed(), &response);
    response
}

/// The schema's SDL, as `coverage-api schema` prints it and `schema.graphql` holds it.
pub fn sdl() -> String {
    Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        .finish()
        .sdl()
}

fn db<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Database> {
    ctx.data::<Database>()
}

fn loaders<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Loaders> {
    ctx.data::<Loaders>()
}
