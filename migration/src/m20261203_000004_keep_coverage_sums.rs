//! The province summary's sums per period and branch type, kept by the database itself.
//!
//! At 1,800 cities the summary summed the 5,400 records of a period on every request, which made
//! it cost twice as much as a page of 100 cities. `coverage_sums` holds one row per (period, branch
//! type) with what the summary reports (how many cities have data, how many report both counts,
//! the sums over those, how many state new branches and their sum), and triggers on
//! `coverage_records` add each row's share on insert, take it away on delete and both on update.
//! Triggers rather than the write path: every way a record changes (the API, an import, the
//! seeds, an operator's SQL) keeps the sums, and they change in the writing transaction, so a
//! reader sees sums and records of the same commit. Each change adds or subtracts (`x = x + d`),
//! which PostgreSQL applies under the row's lock, so concurrent writers never lose one another's
//! share. The share of a record is written once, in [`shares`], for the triggers of both
//! databases and for the first fill.
//!
//! Also a partial index of the fully covered records, which the summary lists: it reads only
//! those instead of every record of the period.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The table this migration creates.
pub const TABLE: &str = "coverage_sums";

/// The partial index of fully covered records.
pub const FULL_COVERAGE_INDEX: &str = "ix_coverage_records_full_coverage";

/// The coverage rate of record `alias` in SQL: branches ÷ eligible when both are known and some
/// unit is eligible, else the stated rate. Written once, here, for the service's filters and
/// sorting and for this migration's index (the Rust twin is `domain::coverage_rate`, and a test
/// requires the two to agree on both databases).
pub fn rate(alias: &str) -> String {
    format!(
        "(CASE WHEN {a}.branch_count IS NOT NULL AND {a}.eligible_count > 0 \
         THEN CAST({a}.branch_count AS DOUBLE PRECISION) / {a}.eligible_count \
         ELSE {a}.stated_rate END)",
        a = alias
    )
}

/// The condition of a fully covered record (a rate of 1 or more), with the 1 written out: the
/// summary writes its condition with this function, so both databases see that it is the
/// index's own (a bound 1 would not do).
pub fn fully_covered(alias: &str) -> String {
    format!("{} >= 1", rate(alias))
}

/// The columns of `coverage_sums` after its key, each with a record's share of it (`r` stands
/// for the record: `NEW`, `OLD` or the table itself).
fn shares(r: &str) -> [(&'static str, String); 6] {
    let both = format!("{r}.branch_count IS NOT NULL AND {r}.eligible_count IS NOT NULL");
    [
        ("cities_with_data", "1".to_owned()),
        (
            "cities_reporting",
            format!("CASE WHEN {both} THEN 1 ELSE 0 END"),
        ),
        (
            "branch_count_sum",
            format!("CASE WHEN {both} THEN {r}.branch_count ELSE 0 END"),
        ),
        (
            "eligible_count_sum",
            format!("CASE WHEN {both} THEN {r}.eligible_count ELSE 0 END"),
        ),
        (
            "new_branches_cities",
            format!("CASE WHEN {r}.new_branches IS NOT NULL THEN 1 ELSE 0 END"),
        ),
        ("new_branches_sum", format!("COALESCE({r}.new_branches, 0)")),
    ]
}

/// Adds (`sign` "+") or takes away ("-") the share of record `r` (`NEW` or `OLD`).
fn apply(r: &str, sign: &str) -> String {
    let shares = shares(r);
    let names: Vec<&str> = shares.iter().map(|(name, _)| *name).collect();
    let values: Vec<String> = shares
        .iter()
        .map(|(_, share)| format!("{sign}({share})"))
        .collect();
    let sets: Vec<String> = names
        .iter()
        .map(|n| format!("{n} = {TABLE}.{n} + excluded.{n}"))
        .collect();
    format!(
        "INSERT INTO {TABLE} (period, branch_type, {names}) \
         VALUES ({r}.period, {r}.branch_type, {values}) \
         ON CONFLICT (period, branch_type) DO UPDATE SET {sets}",
        names = names.join(", "),
        values = values.join(", "),
        sets = sets.join(", "),
    )
}

/// The columns whose change changes a record's share.
const WATCHED: &str = "period, branch_type, branch_count, eligible_count, new_branches";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = Table::create();
        table
            .table(Alias::new(TABLE))
            .col(ColumnDef::new(Alias::new("period")).integer().not_null())
            .col(
                ColumnDef::new(Alias::new("branch_type"))
                    .string_len(16)
                    .not_null(),
            );
        for (name, _) in shares("r") {
            table.col(
                ColumnDef::new(Alias::new(name))
                    .big_integer()
                    .not_null()
                    .default(0),
            );
        }
        table.primary_key(
            Index::create()
                .col(Alias::new("period"))
                .col(Alias::new("branch_type")),
        );
        manager.create_table(table.to_owned()).await?;

        let db = manager.get_connection();
        let shares = shares("coverage_records");
        db.execute_unprepared(&format!(
            "INSERT INTO {TABLE} (period, branch_type, {names}) \
             SELECT period, branch_type, {sums} FROM coverage_records \
             GROUP BY period, branch_type",
            names = shares
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", "),
            sums = shares
                .iter()
                .map(|(_, s)| format!("SUM({s})"))
                .collect::<Vec<_>>()
                .join(", "),
        ))
        .await?;

        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(&format!(
                    "CREATE FUNCTION coverage_sums_apply() RETURNS trigger LANGUAGE plpgsql AS $$ \
                     BEGIN \
                       IF TG_OP IN ('UPDATE', 'DELETE') THEN {old}; END IF; \
                       IF TG_OP IN ('INSERT', 'UPDATE') THEN {new}; END IF; \
                       RETURN NULL; \
                     END $$",
                    old = apply("OLD", "-"),
                    new = apply("NEW", "+"),
                ))
                .await?;
                db.execute_unprepared(&format!(
                    "CREATE TRIGGER coverage_sums_apply \
                     AFTER INSERT OR DELETE OR UPDATE OF {WATCHED} ON coverage_records \
                     FOR EACH ROW EXECUTE FUNCTION coverage_sums_apply()"
                ))
                .await?;
            }
            _ => {
                for statement in [
                    format!(
                        "CREATE TRIGGER coverage_sums_insert AFTER INSERT ON coverage_records \
                         BEGIN {}; END",
                        apply("NEW", "+")
                    ),
                    format!(
                        "CREATE TRIGGER coverage_sums_delete AFTER DELETE ON coverage_records \
                         BEGIN {}; END",
                        apply("OLD", "-")
                    ),
                    format!(
                        "CREATE TRIGGER coverage_sums_update AFTER UPDATE OF {WATCHED} \
                         ON coverage_records BEGIN {}; {}; END",
                        apply("OLD", "-"),
                        apply("NEW", "+")
                    ),
                ] {
                    db.execute_unprepared(&statement).await?;
                }
            }
        }

        db.execute_unprepared(&format!(
            "CREATE INDEX {FULL_COVERAGE_INDEX} ON coverage_records (period, branch_type, city_code) \
             WHERE {}",
            fully_covered("coverage_records")
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(&format!("DROP INDEX {FULL_COVERAGE_INDEX}"))
            .await?;
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared("DROP TRIGGER coverage_sums_apply ON coverage_records")
                    .await?;
                db.execute_unprepared("DROP FUNCTION coverage_sums_apply()")
                    .await?;
            }
            _ => {
                for name in ["insert", "delete", "update"] {
                    db.execute_unprepared(&format!("DROP TRIGGER coverage_sums_{name}"))
                        .await?;
                }
            }
        }
        manager
            .drop_table(Table::drop().table(Alias::new(TABLE)).to_owned())
            .await
    }
}
