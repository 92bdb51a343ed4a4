//! The GraphQL schema: one builder ([`build_schema`]) that wires data, loaders and limits, and
//! one file per area. Resolvers are thin: context → one service call or loader → GraphQL type.

pub mod account;
pub mod admission;
pub mod api_token;
pub mod city;
pub mod city_return;
pub mod connection;
pub mod coverage;
pub mod error;
pub mod loaders;
pub mod mutation;
pub mod node;
pub mod pilot;
pub mod program;
pub mod publication;
pub mod revision;
pub mod round;
pub mod subscription;
pub mod summary;
pub mod viewer;
pub mod write;

use std::sync::Arc;

use async_graphql::parser::types::OperationType;
use async_graphql::{Context, MergedObject, Request, Response, Schema, ValidationMode};

use crate::db::Database;
use crate::domain::Actor;
use crate::events::Events;
use crate::service::memory::{Memory, Snapshot};
pub use admission::DocumentStep;
pub use admission::limits::{DocumentLimits, RequestInfo, Transport};
pub use loaders::Loaders;

/// The root query: the per-area roots merged.
#[derive(MergedObject, Default)]
pub struct Query(
    city::CityQuery,
    pilot::PilotQuery,
    summary::SummaryQuery,
    viewer::ViewerQuery,
    account::AccountQuery,
    api_token::ApiTokenQuery,
    revision::RevisionQuery,
    round::RoundQuery,
    city_return::ReturnQuery,
    publication::PublicationQuery,
    node::NodeQuery,
);

/// The root mutation: the per-area roots merged.
#[derive(MergedObject, Default)]
pub struct Mutation(
    mutation::CoverageMutation,
    mutation::AdminMutation,
    round::RoundMutation,
    city_return::ReturnMutation,
    publication::PublicationMutation,
    account::AccountMutation,
    api_token::ApiTokenMutation,
    program::ProgramMutation,
);

/// The schema type served by the API.
pub type AppSchema = Schema<Query, Mutation, subscription::Subscription>;

/// Limits the resolvers apply.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest page a connection returns.
    pub max_page_size: u64,
}

/// Everything the schema is built with besides its data (see `config::ServeArgs`).
#[derive(Debug, Clone)]
pub struct SchemaSettings {
    /// Limits the resolvers apply.
    pub limits: Limits,
    /// Limits checked before validation.
    pub document: DocumentLimits,
    /// Depth and complexity, checked on every request (remembered documents too).
    pub cost: admission::cost::CostLimits,
    /// "Did you mean …" in validation errors.
    pub field_suggestions: bool,
    /// Whether introspection is answered.
    pub introspection: bool,
    /// Bytes of query text the persisted-query store holds.
    pub persisted_query_bytes: u64,
    /// Who reads the audit trail's personal parts.
    pub privacy: revision::AuditPrivacy,
    /// How long sessions last.
    pub sessions: crate::service::accounts::SessionLimits,
    /// Passwords checked at once.
    pub password_concurrency: usize,
    /// How long API tokens last.
    pub token_lifetimes: api_token::TokenLifetimes,
    /// Who issues the yearly report.
    pub issuer: summary::Issuer,
    /// Bytes the published figures may take in memory; 0: none (see `service::memory`).
    pub memory_reads_max_bytes: u64,
}

impl From<&crate::config::ServeArgs> for SchemaSettings {
    fn from(args: &crate::config::ServeArgs) -> Self {
        Self {
            limits: Limits {
                max_page_size: u64::from(args.max_page_size),
            },
            document: DocumentLimits {
                max_nesting: args.max_nesting,
                max_fields: args.max_complexity,
                max_aliases: args.max_aliases,
                max_root_fields: args.max_root_fields,
                max_directives: args.max_directives,
                introspection: args.introspection,
            },
            cost: admission::cost::CostLimits {
                max_depth: args.max_depth,
                max_complexity: args.max_complexity,
                page_cap: u64::from(args.max_page_size),
            },
            field_suggestions: args.field_suggestions,
            introspection: args.introspection,
            persisted_query_bytes: args.persisted_query_bytes,
            privacy: revision::AuditPrivacy {
                public: args.public_audit_trail,
            },
            sessions: crate::service::accounts::SessionLimits {
                idle_secs: args.session_idle_secs,
                max_secs: args.session_max_secs,
            },
            password_concurrency: args.password_concurrency,
            token_lifetimes: api_token::TokenLifetimes {
                default_days: args.api_token_days,
                max_days: args.api_token_max_days,
            },
            issuer: summary::Issuer {
                name: args.issuing_unit.clone(),
                name_en: args.issuing_unit_en.clone(),
            },
            memory_reads_max_bytes: args.memory_reads_max_bytes,
        }
    }
}

/// Builds the schema over `db` and `events`, validating in `mode`. Loaders are per request: see
/// [`Api::execute`]. Documents reach it only through [`DocumentStep`] (see [`admission`]).
pub fn build_schema(
    db: Database,
    events: Events,
    settings: &SchemaSettings,
    accounts: crate::service::accounts::Accounts,
    mode: ValidationMode,
) -> AppSchema {
    let mut builder = Schema::build(
        Query::default(),
        Mutation::default(),
        subscription::Subscription,
    )
    .data(db)
    .data(events)
    .data(settings.limits)
    .data(settings.privacy)
    .data(accounts)
    .data(settings.token_lifetimes)
    .data(settings.issuer.clone())
    // No extension: the document step hands async-graphql the parsed, checked document, and
    // any extension would put a hook around every field's resolution (see `document`).
    // No `limit_depth` or `limit_complexity`: the document step holds documents to ours (see
    // `cost`), whose refusals are values.
    .validation_mode(mode);
    if !settings.field_suggestions {
        builder = builder.disable_suggestions();
    }
    if !settings.introspection {
        builder = builder.disable_introspection();
    }
    builder.finish()
}

/// The schema with its database: runs operations for HTTP and for the WebSocket.
#[derive(Clone)]
pub struct Api {
    /// The schema.
    pub schema: AppSchema,
    /// The same schema, validating in async-graphql's `ValidationMode::Fast`: it computes the
    /// cache control and checks fragment cycles, but not the other rules (depth and complexity
    /// are the document step's, on every request). See [`Api::schema_for`].
    remembered: AppSchema,
    /// The database the loaders read.
    pub db: Database,
    /// What every request goes through before the schema runs it.
    pub documents: Arc<DocumentStep>,
    /// The loaders every WebSocket operation shares (see `Loaders::uncached`).
    pub(crate) ws_loaders: Arc<Loaders>,
    /// The published figures in memory, which queries read when they are current.
    pub memory: Memory,
}

/// The snapshot of published figures one query reads (taken once, when it starts, so that its
/// answer is of one commit), or `None`: the database. Mutations and subscriptions read the
/// database: what they read must follow their own writes and later events.
pub(crate) struct Reading(pub Option<Arc<crate::service::memory::Snapshot>>);

impl Api {
    /// The schema over `db` and `events` with its document step.
    pub fn new(db: Database, events: Events, settings: &SchemaSettings) -> Self {
        // One hasher and one record of wrong sign-ins for both schemas: which one runs a request
        // must not change its waits.
        let accounts = crate::service::accounts::Accounts::new(
            settings.password_concurrency,
            settings.sessions,
        );
        let schema = build_schema(
            db.clone(),
            events.clone(),
            settings,
            accounts.clone(),
            ValidationMode::Strict,
        );
        let types = admission::types::SchemaTypes::from_sdl(&schema.sdl());
        let memory = Memory::new(&events, settings.memory_reads_max_bytes);
        Self {
            memory,
            schema,
            remembered: build_schema(db.clone(), events, settings, accounts, ValidationMode::Fast),
            ws_loaders: Arc::new(Loaders::uncached(&db)),
            db,
            documents: Arc::new(DocumentStep::new(
                settings.document,
                settings.cost,
                types,
                settings.persisted_query_bytes,
            )),
        }
    }

    /// The schema that runs `request` once the document step has prepared it. A document the
    /// step remembered (it comes without a `registration`: it passed every check before,
    /// async-graphql's strict validation included) sent without variables runs on `remembered`,
    /// which does not validate it again; everything else on `schema`. The answer is the same
    /// either way: without variables, strict validation depends on the document alone (its one
    /// check of variables, of argument values, looks only at the values sent), so a document
    /// that passed it once, with whatever variables, passes it again without any. Validation
    /// was a twentieth of the dashboard's server time.
    pub(crate) fn schema_for(
        &self,
        request: &Request,
        registration: Option<&admission::Registration>,
    ) -> &AppSchema {
        if registration.is_none() && request.variables.is_empty() {
            &self.remembered
        } else {
            &self.schema
        }
    }

    /// Executes one request for `actor` with a fresh set of loaders; completes the error codes,
    /// bounds the errors and records the operation's metrics.
    pub async fn execute(
        &self,
        actor: Actor,
        transport: Transport,
        mut request: Request,
    ) -> Executed {
        let started = std::time::Instant::now();
        let info = RequestInfo::new(transport, request.operation_name.clone());
        let (mut response, registration, refused) =
            match self.documents.prepare(&mut request, &info) {
                Ok(registration) => {
                    let reading = match info.operation_type.get() {
                        Some(OperationType::Query) => self.memory.current(),
                        _ => None,
                    };
                    let response = self
                        .schema_for(&request, registration.as_ref())
                        .execute(
                            request
                                .data(Arc::new(Loaders::new(&self.db)))
                                .data(actor)
                                .data(Reading(reading))
                                .data(Arc::clone(&info)),
                        )
                        .await;
                    (response, registration, None)
                }
                Err(refused) => (
                    Response::from_errors(vec![*refused.error]),
                    None,
                    Some(refused.code),
                ),
            };
        // Before `finish` codes async-graphql's own errors (see `Registration::complete`).
        if let Some(registration) = registration {
            registration.complete(&self.documents, &response);
        }
        error::finish(&mut response);
        crate::metrics::operation(info.operation_name.as_deref(), started.elapsed(), &response);
        Executed {
            response,
            kind: info.operation_type.get().copied(),
            refused,
        }
    }
}

/// What executing one request came to.
#[derive(Debug)]
pub struct Executed {
    /// The answer.
    pub response: Response,
    /// The operation's type, once the document step found the operation.
    pub kind: Option<OperationType>,
    /// Why the document step refused the request, if it did (then nothing ran).
    pub refused: Option<crate::code::Code>,
}

/// The schema's SDL, as `coverage-api schema` prints it and `schema.graphql` holds it.
pub fn sdl() -> String {
    Schema::build(
        Query::default(),
        Mutation::default(),
        subscription::Subscription,
    )
    .finish()
    .sdl()
}

fn db<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Database> {
    ctx.data::<Database>()
}

/// The snapshot this query reads, when it reads one (see [`Reading`]).
fn memory<'a>(ctx: &Context<'a>) -> Option<&'a Snapshot> {
    ctx.data_opt::<Reading>()?.0.as_deref()
}

fn loaders<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Loaders> {
    ctx.data::<Arc<Loaders>>().map(AsRef::as_ref)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a test: a failed step is a failed test

    use super::*;
    use crate::config::{DatabaseArgs, ServeArgs};

    /// The document step's memory picks the schema: a document it remembers, sent without
    /// variables, runs on the schema that does not validate it again; the same document with
    /// variables, or a document checked for the first time, on the strict one.
    #[tokio::test]
    async fn only_a_remembered_document_without_variables_skips_strict_validation() {
        let db = crate::db::connect(&DatabaseArgs {
            database_url: "sqlite::memory:".to_owned(),
            database_max_connections: Some(1),
        })
        .await
        .unwrap();
        let events = Events::new(db.backend(), 16);
        let api = Api::new(db, events, &SchemaSettings::from(&ServeArgs::default()));
        let text = "query Page($first: Int) { cities(first: $first) { totalCount } }";
        let info = RequestInfo::new(Transport::Post, None);

        let mut first = Request::new(text);
        let registration = api.documents.prepare(&mut first, &info).unwrap();
        let schema = api.schema_for(&first, registration.as_ref());
        assert!(std::ptr::eq(schema, &api.schema));
        registration
            .unwrap()
            .complete(&api.documents, &Response::default());

        let mut again = Request::new(text);
        let registration = api.documents.prepare(&mut again, &info).unwrap();
        assert!(registration.is_none(), "remembered");
        let schema = api.schema_for(&again, registration.as_ref());
        assert!(std::ptr::eq(schema, &api.remembered));

        let variables = async_graphql::Variables::from_json(serde_json::json!({ "first": 1 }));
        let mut with_variables = Request::new(text).variables(variables);
        let registration = api.documents.prepare(&mut with_variables, &info).unwrap();
        let schema = api.schema_for(&with_variables, registration.as_ref());
        assert!(std::ptr::eq(schema, &api.schema));
    }
}
