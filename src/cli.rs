//! The command line: `serve` (the default), `migrate`, `schema`, `seed-synthetic`.

use clap::{Parser, Subcommand};

use crate::config::{DatabaseArgs, ServeArgs};
use crate::{db, graphql, seed, server, telemetry};

/// GraphQL API over the grassroots branch coverage of the Henan science association.
#[derive(Debug, Parser)]
#[command(name = "coverage-api", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    database: DatabaseArgs,
    #[command(flatten)]
    serve: ServeArgs,
}

impl Cli {
    /// Runtime worker threads asked for, if any (default: one per core).
    pub fn worker_threads(&self) -> Option<usize> {
        self.serve.worker_threads
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API (the default): migrate, load the report's facts into an empty database,
    /// listen.
    Serve,
    /// Apply pending migrations (schema only) and exit.
    Migrate,
    /// Print the GraphQL schema (SDL) and exit.
    Schema,
    /// Migrate the database and fill it with a synthetic data set (benchmarks, demos). Refuses
    /// a database that already holds cities.
    SeedSynthetic {
        /// Cities to generate.
        #[arg(long, default_value_t = 1800)]
        cities: usize,
        /// Periods (years) per city, ending in 2023.
        #[arg(long, default_value_t = 5)]
        periods: usize,
    },
}

/// Runs what the command line asks.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Schema => {
            print!("{}", graphql::sdl());
            Ok(())
        }
        Command::Migrate => {
            telemetry::init();
            let db = db::connect(&cli.database).await?;
            db::migrate(&db).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::SeedSynthetic { cities, periods } => {
            telemetry::init();
            let db = db::connect(&cli.database).await?;
            db::migrate(&db).await?;
            let generated = seed::synthetic::generate(&db, cities, periods).await?;
            println!(
                "generated {} synthetic cities and {} coverage records",
                generated.cities, generated.records
            );
            Ok(())
        }
        Command::Serve => {
            telemetry::init();
            let db = server::prepare_database(&cli.database).await?;
            let listener = tokio::net::TcpListener::bind(cli.serve.addr).await?;
            tracing::info!(addr = %listener.local_addr()?, "serving GraphQL at /graphql");
            let state = server::state(db, &cli.serve);
            server::run(listener, state, &cli.serve, server::shutdown_signal()).await?;
            Ok(())
        }
    }
}
