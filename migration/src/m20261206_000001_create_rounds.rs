//! Rounds of the yearly return (年报): one per period, opened by the province with a due date,
//! closed when no more figures may come in, reopened with a reason. A revision may now record a
//! round (`ROUND`) or a city's return (`CITY_RETURN`, for the steps of the return that follow), so
//! the kinds the revisions' CHECK admits grow by those two.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{self, ConnectionTrait, DbBackend, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Rounds {
    Table,
    Period,
    Status,
    DueAt,
    OpenedAt,
    ClosedAt,
    Version,
}

/// The kinds a revision may record, before and after this migration.
const KINDS_BEFORE: &str = "'COVERAGE', 'PILOT_DESIGNATION', 'PROVINCE_TOTAL'";
pub(crate) const KINDS_AFTER: &str =
    "'COVERAGE', 'PILOT_DESIGNATION', 'PROVINCE_TOTAL', 'ROUND', 'CITY_RETURN'";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Rounds::Table)
                    .col(
                        ColumnDef::new(Rounds::Period)
                            .integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Rounds::Status).string_len(16).not_null())
                    .col(
                        ColumnDef::new(Rounds::DueAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Rounds::OpenedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Rounds::ClosedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Rounds::Version)
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .check(Expr::col(Rounds::Status).is_in(["OPEN", "CLOSED"]))
                    .check(Expr::col(Rounds::Version).gte(1))
                    .check(Expr::col(Rounds::Period).between(1949, 2100))
                    .to_owned(),
            )
            .await?;
        revision_kinds(manager, KINDS_BEFORE, KINDS_AFTER).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        revision_kinds(manager, KINDS_AFTER, KINDS_BEFORE).await?;
        manager
            .drop_table(Table::drop().table(Rounds::Table).to_owned())
            .await
    }
}

/// Replaces the list of kinds the revisions' CHECK admits. PostgreSQL alters the constraint;
/// SQLite cannot, so the table is made again from its own stored definition with the new list,
/// its rows copied, and its indexes made again from theirs.
pub(crate) async fn revision_kinds(
    manager: &SchemaManager<'_>,
    from: &str,
    to: &str,
) -> Result<(), DbErr> {
    let db = manager.get_connection();
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let found = db
                .query_one_raw(Statement::from_string(
                    DbBackend::Postgres,
                    "SELECT conname FROM pg_constraint WHERE conrelid = 'revisions'::regclass \
                     AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%PROVINCE_TOTAL%'",
                ))
                .await?
                .ok_or_else(|| DbErr::Migration("the revisions' kind CHECK is missing".into()))?;
            let name: String = found.try_get_by_index(0)?;
            db.execute_unprepared(&format!(
                "ALTER TABLE revisions DROP CONSTRAINT \"{name}\", \
                 ADD CONSTRAINT revisions_kind_check CHECK (kind IN ({to}))"
            ))
            .await?;
        }
        _ => {
            let sql = |row: sea_orm::QueryResult| row.try_get_by_index::<String>(0);
            let table = db
                .query_one_raw(Statement::from_string(
                    DbBackend::Sqlite,
                    "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'revisions'",
                ))
                .await?
                .ok_or_else(|| DbErr::Migration("no revisions table".into()))
                .and_then(sql)?;
            let indexes = db
                .query_all_raw(Statement::from_string(
                    DbBackend::Sqlite,
                    "SELECT sql FROM sqlite_master WHERE type = 'index' \
                     AND tbl_name = 'revisions' AND sql IS NOT NULL",
                ))
                .await?
                .into_iter()
                .map(sql)
                .collect::<Result<Vec<_>, _>>()?;
            // The list as sea-query wrote it: `"kind" IN ('COVERAGE', …)`.
            if !table.contains(from) {
                return Err(DbErr::Migration(format!(
                    "the revisions' kind CHECK is not the expected one: {table}"
                )));
            }
            let renewed =
                table
                    .replacen(from, to, 1)
                    .replacen("\"revisions\"", "\"revisions_renewed\"", 1);
            // One batch, on one connection: made, filled, swapped, indexed.
            let mut batch = vec![
                renewed,
                "INSERT INTO revisions_renewed SELECT * FROM revisions".to_owned(),
                "DROP TABLE revisions".to_owned(),
                "ALTER TABLE revisions_renewed RENAME TO revisions".to_owned(),
            ];
            batch.extend(indexes);
            db.execute_unprepared(&batch.join(";\n")).await?;
        }
    }
    Ok(())
}
