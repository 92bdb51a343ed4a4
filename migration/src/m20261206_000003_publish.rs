//! Publication: the public's figures apart from the working copy.
//!
//! Until now `coverage_records` was both what the cities and the province enter and what everyone
//! reads. This migration renames it `public_records` (keeping its rows, ids, indexes and the
//! triggers that keep `coverage_sums`, so anonymous reads run exactly the statements they ran
//! before) and makes a new `coverage_records` holding the same rows: the working copy, where
//! drafts are written. Publishing copies a city's approved records of a period into
//! `public_records` under the same ids, and keeps each publication's figures in
//! `published_records`, numbered in `publications`.
//!
//! What was public stays public, as published: every period with records becomes a closed round
//! whose cities with records have approved, published returns, and one publication per period
//! ([`publish_as_loaded`], which the seeds use too).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

use crate::m20261130_000001_create_coverage_tables::coverage_records_table;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Publications {
    Table,
    Number,
    Period,
    PublishedAt,
    PublishedBy,
    Cities,
}

#[derive(DeriveIden, Clone, Copy)]
enum PublishedRecords {
    Table,
    Publication,
    RecordId,
    CityCode,
    BranchType,
    Period,
    BranchCount,
    EligibleCount,
    NewBranches,
    StatedRate,
    RateScope,
    Source,
    Version,
    UpdatedAt,
    UpdatedBy,
}

#[derive(DeriveIden, Clone, Copy)]
enum CityReturns {
    Table,
    Published,
    PublishedAt,
}

/// The columns a record has besides its id, in the order both record tables declare them.
pub const RECORD_COLUMNS: &str = "city_code, branch_type, period, branch_count, eligible_count, \
     new_branches, stated_rate, rate_scope, source, version, updated_at, updated_by";

/// The figure columns publishing copies onto a public record (all but the key).
const COPIED: [&str; 9] = [
    "branch_count",
    "eligible_count",
    "new_branches",
    "stated_rate",
    "rate_scope",
    "source",
    "version",
    "updated_at",
    "updated_by",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        // The public table is the old one, with its indexes and the sums' triggers.
        db.execute_unprepared("ALTER TABLE coverage_records RENAME TO public_records")
            .await?;
        manager
            .create_table(coverage_records_table(
                "ux_working_records_city_period_type",
            ))
            .await?;
        db.execute_unprepared(&format!(
            "INSERT INTO coverage_records (id, {RECORD_COLUMNS}) \
             SELECT id, {RECORD_COLUMNS} FROM public_records"
        ))
        .await?;
        if backend == DbBackend::Postgres {
            db.execute_unprepared(
                "SELECT setval(pg_get_serial_sequence('coverage_records', 'id'), \
                 COALESCE((SELECT MAX(id) FROM coverage_records), 0) + 1, false)",
            )
            .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(Publications::Table)
                    .col(
                        ColumnDef::new(Publications::Number)
                            .integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Publications::Period).integer().not_null())
                    .col(
                        ColumnDef::new(Publications::PublishedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Publications::PublishedBy).text().null())
                    .col(ColumnDef::new(Publications::Cities).integer().not_null())
                    .check(Expr::col(Publications::Number).gte(1))
                    .to_owned(),
            )
            .await?;
        let mut published = Table::create();
        published
            .table(PublishedRecords::Table)
            .col(
                ColumnDef::new(PublishedRecords::Publication)
                    .integer()
                    .not_null(),
            )
            .col(
                ColumnDef::new(PublishedRecords::RecordId)
                    .big_integer()
                    .not_null(),
            )
            .col(
                ColumnDef::new(PublishedRecords::CityCode)
                    .string_len(12)
                    .not_null(),
            )
            .col(
                ColumnDef::new(PublishedRecords::BranchType)
                    .string_len(16)
                    .not_null(),
            )
            .col(
                ColumnDef::new(PublishedRecords::Period)
                    .integer()
                    .not_null(),
            );
        for column in [
            PublishedRecords::BranchCount,
            PublishedRecords::EligibleCount,
            PublishedRecords::NewBranches,
        ] {
            published.col(ColumnDef::new(column).integer().null());
        }
        published
            .col(ColumnDef::new(PublishedRecords::StatedRate).double().null())
            .col(ColumnDef::new(PublishedRecords::RateScope).text().null())
            .col(ColumnDef::new(PublishedRecords::Source).text().null())
            .col(
                ColumnDef::new(PublishedRecords::Version)
                    .integer()
                    .not_null(),
            )
            .col(
                ColumnDef::new(PublishedRecords::UpdatedAt)
                    .timestamp_with_time_zone()
                    .not_null(),
            )
            .col(ColumnDef::new(PublishedRecords::UpdatedBy).text().null())
            .primary_key(
                Index::create()
                    .col(PublishedRecords::Publication)
                    .col(PublishedRecords::RecordId),
            )
            .foreign_key(
                ForeignKey::create()
                    .from(PublishedRecords::Table, PublishedRecords::Publication)
                    .to(Publications::Table, Publications::Number)
                    .on_delete(ForeignKeyAction::Restrict),
            );
        manager.create_table(published.to_owned()).await?;
        // A period's publications, in order.
        manager
            .create_index(
                Index::create()
                    .name("ix_publications_period")
                    .table(Publications::Table)
                    .col(Publications::Period)
                    .col(Publications::Number)
                    .to_owned(),
            )
            .await?;
        for column in [
            ColumnDef::new(CityReturns::Published)
                .boolean()
                .not_null()
                .default(false)
                .to_owned(),
            ColumnDef::new(CityReturns::PublishedAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(CityReturns::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        // At the precision both databases keep (PostgreSQL's microseconds), so that a copy of an
        // upgraded SQLite database to PostgreSQL reads the same time back.
        let now = chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 6);
        publish_as_loaded(db, now, "upgrade").await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "publication cannot be undone: restore a backup taken before the upgrade".into(),
        ))
    }
}

/// Publishes what was loaded outside the yearly return (an upgrade's existing figures, a seed):
/// for every period holding working records and no publication, a closed round (unless one
/// exists), an approved and published return for each city with records there (the other
/// cities' returns not started), one publication, and the records copied into the public table
/// and the publication's. Returns already present are left as they are.
pub async fn publish_as_loaded<C: ConnectionTrait>(
    db: &C,
    at: chrono::DateTime<chrono::Utc>,
    by: &str,
) -> Result<(), DbErr> {
    let at = Value::from(at);
    let backend = db.get_database_backend();
    let statement =
        |sql: &str, values: Vec<Value>| Statement::from_sql_and_values(backend, sql, values);
    let periods: Vec<i32> = {
        let rows = db
            .query_all_raw(statement(
                "SELECT DISTINCT period FROM coverage_records r WHERE NOT EXISTS \
                 (SELECT 1 FROM publications p WHERE p.period = r.period) ORDER BY period",
                vec![],
            ))
            .await?;
        rows.iter()
            .map(|row| row.try_get::<i32>("", "period"))
            .collect::<Result<_, _>>()?
    };
    let p = |n: usize| match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => format!("?{n}"),
    };
    for period in periods {
        db.execute_raw(statement(
            &format!(
                "INSERT INTO rounds (period, status, opened_at, closed_at, version) \
                 SELECT {0}, 'CLOSED', {1}, {1}, 1 WHERE NOT EXISTS \
                 (SELECT 1 FROM rounds WHERE period = {0})",
                p(1),
                p(2)
            ),
            vec![period.into(), at.clone()],
        ))
        .await?;
        let has_records = format!(
            "EXISTS (SELECT 1 FROM coverage_records r WHERE r.city_code = c.code AND r.period = {})",
            p(1)
        );
        db.execute_raw(statement(
            &format!(
                "INSERT INTO city_returns (city_code, period, status, late, version, updated_at, \
                 published, published_at) \
                 SELECT c.code, {0}, CASE WHEN {has_records} THEN 'APPROVED' ELSE 'NOT_STARTED' END, \
                 FALSE, 1, {1}, {has_records}, CASE WHEN {has_records} THEN {1} END \
                 FROM cities c WHERE NOT EXISTS \
                 (SELECT 1 FROM city_returns x WHERE x.city_code = c.code AND x.period = {0})",
                p(1),
                p(2)
            ),
            vec![period.into(), at.clone()],
        ))
        .await?;
        let number: i32 = db
            .query_one_raw(statement(
                "SELECT COALESCE(MAX(number), 0) + 1 AS next FROM publications",
                vec![],
            ))
            .await?
            .map(|row| row.try_get::<i32>("", "next"))
            .transpose()?
            .unwrap_or(1);
        db.execute_raw(statement(
            &format!(
                "INSERT INTO publications (number, period, published_at, published_by, cities) \
                 SELECT {0}, {1}, {2}, {3}, COUNT(DISTINCT city_code) FROM coverage_records \
                 WHERE period = {1}",
                p(1),
                p(2),
                p(3),
                p(4)
            ),
            vec![number.into(), period.into(), at.clone(), by.into()],
        ))
        .await?;
        publish_records(db, number, period, None).await?;
    }
    Ok(())
}

/// Makes the working records with these ids public as they stand (an administrator's figures
/// for a period outside the yearly return). One statement; none for no ids.
pub async fn make_public<C: ConnectionTrait>(db: &C, ids: &[i64]) -> Result<(), DbErr> {
    if ids.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
    db.execute_unprepared(&upsert_public(&format!("id IN ({})", list.join(", "))))
        .await?;
    Ok(())
}

/// Makes every working record public as it stands, outside any round (a generated data set).
pub async fn make_all_public<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    db.execute_unprepared(&upsert_public("TRUE")).await?;
    Ok(())
}

/// The statement that copies the working records matching `which` into the public table under
/// their ids, over what is there.
fn upsert_public(which: &str) -> String {
    let sets: Vec<String> = COPIED
        .iter()
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    // The SELECT's WHERE keeps SQLite from reading `ON CONFLICT` as a join's `ON`.
    format!(
        "INSERT INTO public_records (id, {RECORD_COLUMNS}) \
         SELECT id, {RECORD_COLUMNS} FROM coverage_records WHERE {which} \
         ON CONFLICT (id) DO UPDATE SET {}",
        sets.join(", ")
    )
}

/// Copies the working records of `period` (of these cities, or of every city when `cities` is
/// `None`) into the public table under their ids, and into publication `number`'s figures. Two
/// statements.
pub async fn publish_records<C: ConnectionTrait>(
    db: &C,
    number: i32,
    period: i32,
    cities: Option<&[String]>,
) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let p = |n: usize| match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => format!("?{n}"),
    };
    let mut values: Vec<Value> = vec![period.into()];
    let mut which = format!("period = {}", p(1));
    if let Some(cities) = cities {
        let marks: Vec<String> = (0..cities.len()).map(|i| p(i + 2)).collect();
        which.push_str(&format!(" AND city_code IN ({})", marks.join(", ")));
        values.extend(cities.iter().map(|c| Value::from(c.as_str())));
    }
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        upsert_public(&which),
        values.clone(),
    ))
    .await?;
    let number_at = p(values.len() + 1);
    values.push(number.into());
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        format!(
            "INSERT INTO published_records (publication, record_id, {RECORD_COLUMNS}) \
             SELECT {number_at}, id, {RECORD_COLUMNS} FROM coverage_records WHERE {which}"
        ),
        values,
    ))
    .await?;
    Ok(())
}
