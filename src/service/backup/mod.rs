//! Backups that restore: a consistent snapshot of the whole state (every table but what is
//! derived or lapses, see [`tables`]) in one portable file, restored into an empty database of
//! either kind, and the copy from one database to another that is the two in one step.
//!
//! A backup file is one line of JSON, the [`Header`] (format and version, the schema version,
//! the manifest: rows per table, the newest revision; the body's length and SHA-256), then the
//! body: the tables as JSON. Reading checks all of it before anything is written, so a file
//! that is not a backup, is truncated or corrupt, or was made by a newer release or at another
//! schema version, is refused with its reason and changes nothing.

mod file;
mod tables;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    AccessMode, ConnectionTrait, DbBackend, DbErr, IsolationLevel, Statement, TransactionTrait,
};
use serde::{Deserialize, Serialize};

pub use file::{read, schedule, write};
pub use tables::Tables;

/// What a backup file says it is.
pub const FORMAT: &str = "coverage-api backup";

/// The version of the file format this release writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// Why a backup, a restore or a copy was refused. Nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} is not a coverage-api backup")]
    NotABackup(String),
    #[error(
        "the backup is in format {found}, made by a newer release; this release reads format \
         {FORMAT_VERSION}: restore it with that release"
    )]
    NewerFormat { found: u32 },
    #[error("the backup is truncated: its body has {found} bytes of the {stated} it states")]
    Truncated { stated: u64, found: u64 },
    #[error("the backup is corrupt: its body's SHA-256 is not the one it states")]
    Corrupt,
    #[error("the backup's body does not read as its tables: {0}")]
    Unreadable(String),
    #[error("the backup's manifest says {stated} rows of {table}, and it holds {found}")]
    Manifest {
        table: String,
        stated: u64,
        found: u64,
    },
    #[error("the backup's manifest names {stated} as its newest revision, and it holds {found}")]
    NewestRevision { stated: String, found: String },
    #[error(
        "the backup was made at schema {backup}, and this release's schema is {ours}: restore it \
         with the release that made it (then start this release to migrate)"
    )]
    Schema { backup: String, ours: String },
    #[error(
        "the database is at schema {found}, not this release's {ours}: migrate it first \
         (`coverage-api migrate`), or back it up with the release it was made by"
    )]
    SourceSchema { found: String, ours: String },
    #[error(
        "the database to restore into is not empty ({rows} rows of {table}): a backup restores \
         only into an empty database"
    )]
    NotEmpty { table: String, rows: u64 },
    #[error("the database holds an older schema: a backup restores only into an empty database")]
    OldSchema,
    #[error("database: {0}")]
    Database(#[from] DbErr),
    #[error("{path}: {error}")]
    Io { path: String, error: std::io::Error },
}

/// A backup's first line.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Header {
    /// Always [`FORMAT`].
    pub format: String,
    /// The file format's version ([`FORMAT_VERSION`] when this release wrote it).
    pub format_version: u32,
    /// When the snapshot was taken.
    pub created_at: DateTime<Utc>,
    /// The release that took it.
    pub made_by: String,
    /// The kind of database it was taken from: `sqlite` or `postgres`.
    pub source: String,
    /// The newest migration applied to that database.
    pub schema_version: String,
    /// What the body holds.
    pub manifest: Manifest,
    /// The body's length in bytes.
    pub body_bytes: u64,
    /// The body's SHA-256, in hex.
    pub body_sha256: String,
}

/// What a backup holds, checked on reading and again after a restore.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Rows per table.
    pub tables: BTreeMap<String, u64>,
    /// The newest revision's number (null in a database with none).
    pub newest_revision: Option<i64>,
    /// Rows of `coverage_sums` that count something (a row of zeros, which a write may leave,
    /// is the same as none), which the restore makes again from the published records.
    pub coverage_sums: u64,
}

/// A snapshot: what it is and its tables.
#[derive(Debug, Clone)]
pub struct Backup {
    /// Its header (the body's length and checksum are filled in when it is written).
    pub header: Header,
    /// Its rows.
    pub tables: Tables,
}

/// The newest migration this release knows.
fn our_schema() -> String {
    Migrator::migrations()
        .last()
        .map(|m| m.name().to_owned())
        .unwrap_or_default()
}

fn kind(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => "postgres",
        _ => "sqlite",
    }
}

async fn coverage_sums(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM coverage_sums WHERE cities_with_data <> 0 \
             OR cities_reporting <> 0 OR branch_count_sum <> 0 OR eligible_count_sum <> 0 \
             OR new_branches_cities <> 0 OR new_branches_sum <> 0",
        ))
        .await?;
    let n: i64 = row.map_or(Ok(0), |r| r.try_get("", "n"))?;
    Ok(u64::try_from(n).unwrap_or_default())
}

async fn newest_revision(db: &impl ConnectionTrait) -> Result<Option<i64>, DbErr> {
    use sea_orm::{EntityTrait, QueryOrder, QuerySelect};
    entity::revision::Entity::find()
        .select_only()
        .column(entity::revision::Column::Id)
        .order_by_desc(entity::revision::Column::Id)
        .into_tuple::<i64>()
        .one(db)
        .await
}

/// Takes a consistent snapshot of `db` while others write: every table is read in one
/// transaction (PostgreSQL: repeatable read, read only; SQLite: one read transaction, which
/// WAL keeps at one snapshot).
pub async fn take(db: &sea_orm::DatabaseConnection) -> Result<Backup, BackupError> {
    let backend = db.get_database_backend();
    let txn = match backend {
        DbBackend::Postgres => {
            db.begin_with_config(
                Some(IsolationLevel::RepeatableRead),
                Some(AccessMode::ReadOnly),
            )
            .await?
        }
        _ => db.begin().await?,
    };
    // The schema is read in the snapshot too: no migration comes between it and the rows.
    let applied = Migrator::get_applied_migrations_read_only(&txn).await?;
    let found = applied
        .last()
        .map(|m| m.name().to_owned())
        .unwrap_or_default();
    let ours = our_schema();
    if found != ours {
        return Err(BackupError::SourceSchema { found, ours });
    }
    let tables = Tables::read(&txn).await?;
    let coverage_sums = coverage_sums(&txn).await?;
    txn.commit().await?;
    let manifest = Manifest {
        tables: tables.counts(),
        newest_revision: tables.revisions.iter().map(|r| r.id).max(),
        coverage_sums,
    };
    Ok(Backup {
        header: Header {
            format: FORMAT.to_owned(),
            format_version: FORMAT_VERSION,
            created_at: crate::domain::now(),
            made_by: format!("coverage-api {}", env!("CARGO_PKG_VERSION")),
            source: kind(backend).to_owned(),
            schema_version: found,
            manifest,
            body_bytes: 0,
            body_sha256: String::new(),
        },
        tables,
    })
}

/// Restores `backup` into `db`, which must be empty (no tables yet, or migrated with no rows):
/// migrates it, inserts every row in one transaction, sets PostgreSQL's sequences past the
/// restored ids, and checks every table's count (and the derived sums') against the manifest
/// before committing. Returns the manifest it checked.
pub async fn restore(
    backup: &Backup,
    db: &sea_orm::DatabaseConnection,
) -> Result<Manifest, BackupError> {
    check_schema(&backup.header)?;
    let applied = Migrator::get_applied_migrations_read_only(db).await?;
    if !applied.is_empty() && applied.len() != Migrator::migrations().len() {
        return Err(BackupError::OldSchema);
    }
    Migrator::up(db, None).await?;
    if let Some((table, rows)) = tables::counts_in(db)
        .await?
        .into_iter()
        .find(|(_, rows)| *rows > 0)
    {
        return Err(BackupError::NotEmpty { table, rows });
    }
    let txn = db.begin().await?;
    backup.tables.insert(&txn).await?;
    if txn.get_database_backend() == DbBackend::Postgres {
        advance_sequences(&txn).await?;
    }
    let restored = Manifest {
        tables: tables::counts_in(&txn).await?.into_iter().collect(),
        newest_revision: newest_revision(&txn).await?,
        coverage_sums: coverage_sums(&txn).await?,
    };
    if let Some(error) = differs(&backup.header.manifest, &restored) {
        return Err(error); // the transaction is dropped: rolled back
    }
    txn.commit().await?;
    Ok(restored)
}

/// Whether this release can restore a backup of `header`'s schema: only of its own.
pub(super) fn check_schema(header: &Header) -> Result<(), BackupError> {
    let ours = our_schema();
    if header.schema_version == ours {
        return Ok(());
    }
    Err(BackupError::Schema {
        backup: header.schema_version.clone(),
        ours,
    })
}

/// Copies the whole state of `from` into `to` (empty): a snapshot of one, restored into the
/// other, either kind to either kind.
pub async fn copy(
    from: &sea_orm::DatabaseConnection,
    to: &sea_orm::DatabaseConnection,
) -> Result<Manifest, BackupError> {
    let backup = take(from).await?;
    restore(&backup, to).await
}

/// The first difference between what a manifest states and what was found.
fn differs(stated: &Manifest, found: &Manifest) -> Option<BackupError> {
    let tables = stated.tables.keys().chain(found.tables.keys());
    let derived = std::iter::once(("coverage_sums", stated.coverage_sums, found.coverage_sums));
    tables
        .map(|t| {
            let of = |m: &Manifest| m.tables.get(t).copied().unwrap_or_default();
            (t.as_str(), of(stated), of(found))
        })
        .chain(derived)
        .find(|(_, s, f)| s != f)
        .map(|(table, stated, found)| BackupError::Manifest {
            table: table.to_owned(),
            stated,
            found,
        })
        .or_else(|| {
            let named = |n: Option<i64>| n.map_or("none".to_owned(), |n| format!("number {n}"));
            (stated.newest_revision != found.newest_revision).then(|| BackupError::NewestRevision {
                stated: named(stated.newest_revision),
                found: named(found.newest_revision),
            })
        })
}

/// Sets every PostgreSQL sequence behind an `id` column past the largest id restored.
async fn advance_sequences(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT table_name::text AS t, pg_get_serial_sequence(quote_ident(table_name), 'id') AS s \
             FROM information_schema.columns \
             WHERE table_schema = current_schema() AND column_name = 'id'",
        ))
        .await?;
    for row in rows {
        let table: String = row.try_get("", "t")?;
        let Some(sequence) = row.try_get::<Option<String>>("", "s")? else {
            continue;
        };
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "SELECT setval($1::regclass, COALESCE((SELECT MAX(id) FROM \"{}\"), 0) + 1, false)",
                table.replace('"', "\"\"")
            ),
            [sequence.into()],
        ))
        .await?;
    }
    Ok(())
}
