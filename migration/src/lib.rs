//! Schema migrations, oldest first. Migrations create the schema only; the report's facts are
//! loaded by the application (`src/seed`), so an operator can migrate an empty database.

pub use sea_orm_migration::prelude::*;

mod m20261130_000001_create_coverage_tables;
mod m20261130_000002_create_api_tokens;
mod m20261130_000003_create_revisions;
mod m20261203_000001_index_revisions_by_record;
mod m20261203_000002_version_admin_records;
mod m20261203_000003_cover_summary_by_period;
mod m20261203_000004_keep_coverage_sums;
mod m20261206_000001_create_rounds;
mod m20261206_000002_create_city_returns;
mod m20261206_000003_publish;
mod m20261206_000004_accounts;
mod m20261206_000005_sign_in_failures;
mod m20261206_000006_version_programs;
mod m20261206_000007_bilingual_notes;

pub use m20261203_000001_index_revisions_by_record::INDEX as REVISIONS_BY_RECORD_INDEX;
pub use m20261203_000003_cover_summary_by_period::INDEX as SUMMARY_BY_PERIOD_INDEX;
pub use m20261203_000004_keep_coverage_sums::{
    FULL_COVERAGE_INDEX, TABLE as COVERAGE_SUMS, fully_covered, rate as rate_sql,
};
pub use m20261206_000003_publish::{
    make_all_public, make_public, publish_as_loaded, publish_records,
};

/// Migrations in the release before versioned administrators' records (pilot designations
/// and province totals): the upgrade test builds such a database, then migrates it.
pub const BEFORE_ADMIN_VERSIONS: u32 = 4;

/// Migrations in the release before rounds of the yearly return: the upgrade test builds such a
/// database, then migrates it.
pub const BEFORE_ROUNDS: u32 = 7;

/// Migrations in the release before publication (one table of records, read by everyone): the
/// upgrade test builds such a database, then migrates it.
pub const BEFORE_PUBLICATION: u32 = 9;

/// Migrations in the release before accounts and sessions: the upgrade test builds such a
/// database, then migrates it.
pub const BEFORE_ACCOUNTS: u32 = 10;

/// The project's migrator: `Migrator::up(&db, None)` applies everything pending.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261130_000001_create_coverage_tables::Migration),
            Box::new(m20261130_000002_create_api_tokens::Migration),
            Box::new(m20261130_000003_create_revisions::Migration),
            Box::new(m20261203_000001_index_revisions_by_record::Migration),
            Box::new(m20261203_000002_version_admin_records::Migration),
            Box::new(m20261203_000003_cover_summary_by_period::Migration),
            Box::new(m20261203_000004_keep_coverage_sums::Migration),
            Box::new(m20261206_000001_create_rounds::Migration),
            Box::new(m20261206_000002_create_city_returns::Migration),
            Box::new(m20261206_000003_publish::Migration),
            Box::new(m20261206_000004_accounts::Migration),
            Box::new(m20261206_000005_sign_in_failures::Migration),
            Box::new(m20261206_000006_version_programs::Migration),
            Box::new(m20261206_000007_bilingual_notes::Migration),
        ]
    }
}
