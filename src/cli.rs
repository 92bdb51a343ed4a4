//! The command line: `serve` (the default), `migrate`, `schema`, `account`, `token`,
//! `seed-synthetic`, `export`, `import`.

use clap::{Parser, Subcommand};

use crate::config::{DatabaseArgs, LogArgs, ServeArgs};
use crate::service::{backup, tokens};
use crate::{db, graphql, seed, server, telemetry};

/// GraphQL API over the grassroots branch coverage of the Henan science association.
#[derive(Debug, Parser)]
#[command(name = "coverage-api", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    database: DatabaseArgs,
    /// The server's settings without a subcommand (`coverage-api --addr …`); `serve` takes the
    /// same after it, and `import` and `account` read theirs from here (or the environment).
    #[command(flatten)]
    serve: ServeArgs,
    #[command(flatten)]
    log: LogArgs,
}

impl Cli {
    /// The server's settings: `serve`'s own when given, else those before any subcommand.
    fn serve_args(&self) -> &ServeArgs {
        match &self.command {
            Some(Command::Serve(args)) => args,
            _ => &self.serve,
        }
    }

    /// Runtime worker threads asked for, if any (default: one per core).
    pub fn worker_threads(&self) -> Option<usize> {
        self.serve_args().worker_threads.map(usize::from)
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API (the default): migrate, load the report's facts into an empty database,
    /// listen.
    Serve(Box<ServeArgs>),
    /// Apply pending migrations (schema only) and exit.
    Migrate,
    /// Print the GraphQL schema (SDL) and exit.
    Schema,
    /// Manage people's accounts (the first administrator's, on an empty database, too).
    Account {
        #[command(subcommand)]
        command: AccountCommand,
    },
    /// Manage the API tokens writers use (`Authorization: Bearer <secret>`).
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
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
    /// Write the coverage sheet (every city × branch type × period) to a file, as the export
    /// routes do.
    Export {
        /// The file to write: `.xlsx` (with the province summary) or `.csv`.
        out: std::path::PathBuf,
        /// One period (default: every period with data).
        #[arg(long)]
        period: Option<i32>,
        /// Headers and labels in English (default: Chinese).
        #[arg(long)]
        english: bool,
    },
    /// Take a consistent backup of the database into FILE while the server runs and writes:
    /// one portable file with its format version, checksum and manifest, readable by its owner
    /// only (it holds password and token hashes). Prints its header.
    Backup {
        /// The file to write.
        file: std::path::PathBuf,
    },
    /// Restore the backup FILE into the empty database --database-url (either kind), after
    /// checking all of it; a corrupt, truncated or newer-format file, another schema version or
    /// a database with rows are refused and change nothing. Prints what was restored.
    Restore {
        /// The backup file.
        file: std::path::PathBuf,
    },
    /// Copy the whole state of one database into another, empty one (SQLite to PostgreSQL and
    /// back): a backup and its restore in one step. Prints what was copied.
    Copy {
        /// The database to copy.
        #[arg(long)]
        from: String,
        /// The empty database to copy into.
        #[arg(long)]
        to: String,
    },
    /// Import a coverage sheet (XLSX, CSV or TSV) as an administrator on the server; its
    /// revisions name `cli` as the writer. Prints the report (JSON); exits 1 when the file has
    /// errors (nothing is then written).
    Import {
        /// The file.
        file: std::path::PathBuf,
        /// Only check and report what would change; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create a token; its secret is printed once, on the last line of stdout, and never stored.
    Create {
        /// `admin` (province) or `city-staff` (one city office).
        #[arg(long, value_enum)]
        role: RoleArg,
        /// The city a city-staff token may write (administrative code, e.g. 410800).
        #[arg(long)]
        city: Option<String>,
        /// Who holds it, e.g. "Jiaozuo office".
        #[arg(long)]
        name: String,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by id; its history stays readable.
    Revoke {
        /// The token's id, as `token list` shows it.
        id: i64,
    },
}

#[derive(Debug, Subcommand)]
enum AccountCommand {
    /// Create an account; its one-time password is printed once, on the last line of stdout, and
    /// the first sign-in asks the person for their own.
    Create {
        /// The name typed at sign-in: lower-case letters, digits, `.`, `_`, `-`.
        #[arg(long)]
        login: String,
        /// The person's name, as the audit trail shows it, e.g. 张三.
        #[arg(long)]
        display_name: String,
        /// `admin` (province) or `city-staff` (one city office).
        #[arg(long, value_enum)]
        role: RoleArg,
        /// The city of city staff (administrative code, e.g. 410800).
        #[arg(long)]
        city: Option<String>,
    },
    /// List accounts (never their passwords).
    List,
    /// Disable an account: no more sign-ins, and every session of it ends at once.
    Disable {
        /// The login.
        login: String,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum RoleArg {
    Admin,
    CityStaff,
}

impl From<RoleArg> for entity::Role {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::Admin => entity::Role::Admin,
            RoleArg::CityStaff => entity::Role::CityStaff,
        }
    }
}

async fn token(database: &DatabaseArgs, command: TokenCommand) -> anyhow::Result<()> {
    // The same preparation as `serve`, so a city-staff token can be made on a fresh database.
    let db = server::prepare_database(database).await?;
    match command {
        TokenCommand::Create { role, city, name } => {
            let new = tokens::create(&db.conn, &name, role.into(), city.as_deref()).await?;
            println!(
                "created token {} ({}, {}{})",
                new.token.id,
                new.token.name,
                role_name(new.token.role),
                new.token
                    .city_code
                    .as_deref()
                    .map(|c| format!(", city {c}"))
                    .unwrap_or_default()
            );
            println!("the secret is shown once; keep it safe:");
            println!("{}", new.secret);
        }
        TokenCommand::List => {
            println!(
                "{:>4}  {:<9}  {:<10}  {:<6}  {:<19}  {:<19}  {:<19}  {:<19}  name",
                "id", "kind", "role", "city", "created", "expires", "last used", "revoked"
            );
            for t in tokens::list(&db.conn).await? {
                let kind = match t.kind {
                    entity::CredentialKind::ApiToken => "api-token",
                    entity::CredentialKind::Session => "session",
                };
                println!(
                    "{:>4}  {:<9}  {:<10}  {:<6}  {:<19}  {:<19}  {:<19}  {:<19}  {}",
                    t.id,
                    kind,
                    role_name(t.role),
                    t.city_code.as_deref().unwrap_or("-"),
                    when(t.created_at),
                    t.expires_at.map_or("no expiry".to_owned(), when),
                    t.last_used_at.map_or("-".to_owned(), when),
                    t.revoked_at.map_or("-".to_owned(), when),
                    t.name
                );
            }
        }
        TokenCommand::Revoke { id } => {
            let t = tokens::revoke(&db.conn, id).await?;
            println!("revoked token {} ({})", t.id, t.name);
        }
    }
    Ok(())
}

/// A time for a listing's column: UTC, to the second, always 19 characters.
fn when(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

async fn account(
    database: &DatabaseArgs,
    serve: &ServeArgs,
    command: AccountCommand,
) -> anyhow::Result<()> {
    let db = server::prepare_database(database).await?;
    let accounts = crate::service::accounts::Accounts::new(
        1,
        crate::service::accounts::SessionLimits {
            idle_secs: serve.session_idle_secs,
            max_secs: serve.session_max_secs,
        },
    );
    match command {
        AccountCommand::Create {
            login,
            display_name,
            role,
            city,
        } => {
            let new = crate::service::accounts::create(
                &db.conn,
                &accounts,
                &login,
                &display_name,
                role.into(),
                city.as_deref(),
            )
            .await?
            .map_err(crate::service::tokens::refused_input)?;
            println!(
                "created account {} ({}, {}{})",
                new.account.login,
                new.account.display_name,
                role_name(new.account.role),
                new.account
                    .city_code
                    .as_deref()
                    .map(|c| format!(", city {c}"))
                    .unwrap_or_default()
            );
            println!("the one-time password is shown once; the first sign-in asks for a new one:");
            println!("{}", new.password);
        }
        AccountCommand::List => {
            println!(
                "{:<20}  {:<10}  {:<6}  {:<19}  {:<19}  display name",
                "login", "role", "city", "created", "disabled"
            );
            for a in crate::service::accounts::list(&db.conn).await? {
                println!(
                    "{:<20}  {:<10}  {:<6}  {:<19}  {:<19}  {}",
                    a.login,
                    role_name(a.role),
                    a.city_code.as_deref().unwrap_or("-"),
                    when(a.created_at),
                    a.disabled_at.map_or("-".to_owned(), when),
                    a.display_name
                );
            }
        }
        AccountCommand::Disable { login } => {
            let (a, ended) = crate::service::accounts::disable(&db.conn, &login)
                .await?
                .map_err(crate::service::tokens::refused_input)?;
            println!(
                "disabled account {} ({}); {ended} sessions ended",
                a.login, a.display_name
            );
        }
    }
    Ok(())
}

async fn export_file(
    db: &sea_orm::DatabaseConnection,
    out: &std::path::Path,
    period: Option<i32>,
    english: bool,
) -> anyhow::Result<()> {
    use crate::sheets::{Lang, export};
    let lang = if english { Lang::En } else { Lang::Zh };
    let selection = export::Selection {
        period,
        city: None,
        publication: None,
        draft: false,
    };
    let rows = crate::service::export::rows(db, &selection).await?;
    let body = if out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
    {
        export::csv(&rows, lang)?
    } else {
        let summaries = crate::service::export::summaries(db, &rows).await?;
        export::xlsx(&rows, Some(&summaries), lang)?
    };
    std::fs::write(out, body)?;
    println!("wrote {} rows to {}", rows.len(), out.display());
    Ok(())
}

async fn import_file(
    db: &db::Database,
    serve: &ServeArgs,
    file: &std::path::Path,
    dry_run: bool,
) -> anyhow::Result<()> {
    use crate::service::import::{self, Ended, Upload};
    let bytes = std::fs::read(file)?;
    let name = file
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let events = crate::events::Events::new(db.backend(), 16);
    let upload = Upload {
        bytes: bytes.into(),
        name: &name,
        dry_run,
    };
    let writer = crate::service::writes::Writer::server("cli");
    let ended = import::import(
        &db.conn,
        &events,
        None,
        writer,
        upload,
        crate::sheets::report::ImportLimits::of(serve),
    )
    .await?;
    let (Ended::Read(report) | Ended::Unreadable(report) | Ended::Forbidden(report)) = ended;
    println!("{}", serde_json::to_string_pretty(&report)?);
    if !report.errors.is_empty() {
        anyhow::bail!(
            "the file has {} errors; nothing was written",
            report.errors.len()
        );
    }
    Ok(())
}

fn role_name(role: entity::Role) -> &'static str {
    match role {
        entity::Role::Admin => "admin",
        entity::Role::CityStaff => "city-staff",
    }
}

/// Runs what the command line asks.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let command = cli
        .command
        .unwrap_or_else(|| Command::Serve(Box::new(cli.serve.clone())));
    match command {
        Command::Schema => {
            print!("{}", graphql::sdl());
            Ok(())
        }
        Command::Account { command } => {
            telemetry::init(cli.log.log_format);
            account(&cli.database, &cli.serve, command).await
        }
        Command::Token { command } => {
            telemetry::init(cli.log.log_format);
            token(&cli.database, command).await
        }
        Command::Migrate => {
            telemetry::init(cli.log.log_format);
            let db = db::connect(&cli.database).await?;
            db::migrate(&db).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::SeedSynthetic { cities, periods } => {
            telemetry::init(cli.log.log_format);
            let db = db::connect(&cli.database).await?;
            db::migrate(&db).await?;
            let generated = seed::synthetic::generate(&db, cities, periods).await?;
            println!(
                "generated {} synthetic cities and {} coverage records",
                generated.cities, generated.records
            );
            Ok(())
        }
        Command::Export {
            out,
            period,
            english,
        } => {
            telemetry::init(cli.log.log_format);
            let db = server::prepare_database(&cli.database).await?;
            export_file(&db.conn, &out, period, english).await
        }
        Command::Import { file, dry_run } => {
            telemetry::init(cli.log.log_format);
            let db = server::prepare_database(&cli.database).await?;
            import_file(&db, &cli.serve, &file, dry_run).await
        }
        Command::Backup { file } => {
            telemetry::init(cli.log.log_format);
            let db = db::connect(&cli.database).await?;
            let header = backup::write(&backup::take(&db.conn).await?, &file)?;
            println!("{}", serde_json::to_string_pretty(&header)?);
            Ok(())
        }
        Command::Restore { file } => {
            telemetry::init(cli.log.log_format);
            let read = backup::read(&file)?;
            let db = db::connect(&cli.database).await?;
            let restored = backup::restore(&read, &db.conn).await?;
            println!("{}", serde_json::to_string_pretty(&restored)?);
            Ok(())
        }
        Command::Copy { from, to } => {
            telemetry::init(cli.log.log_format);
            let args = |url: String| DatabaseArgs {
                database_url: url,
                database_max_connections: None,
            };
            let (from, to) = (args(from), args(to));
            let (from, to) = (db::connect(&from).await?, db::connect(&to).await?);
            let copied = backup::copy(&from.conn, &to.conn).await?;
            println!("{}", serde_json::to_string_pretty(&copied)?);
            Ok(())
        }
        Command::Serve(serve) => {
            telemetry::init(cli.log.log_format);
            let db = server::prepare_database(&cli.database).await?;
            if let Some(secs) = serve.backup_every {
                tokio::spawn(backup::schedule(
                    db.conn.clone(),
                    serve.backup_dir.clone(),
                    std::time::Duration::from_secs(secs),
                    usize::from(serve.backup_keep),
                ));
            }
            let listener = tokio::net::TcpListener::bind(serve.addr).await?;
            tracing::info!(addr = %listener.local_addr()?, "serving GraphQL at /graphql");
            let state = server::state(db, &serve);
            server::run(listener, state, &serve, server::shutdown_signal()).await?;
            Ok(())
        }
    }
}
