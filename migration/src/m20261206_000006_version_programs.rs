//! Pilot programmes become the administrators' to create and change from the console, so they
//! get the optimistic lock every other record has (`version`, sent back as `expectedVersion`).
//! Existing programmes start at version 1, and the revisions' kinds grow by `PILOT_PROGRAM`.

use sea_orm_migration::prelude::*;

use crate::m20261206_000001_create_rounds::{KINDS_AFTER as KINDS_BEFORE, revision_kinds};

/// The kinds a revision may record after this migration.
const KINDS_AFTER: &str =
    "'COVERAGE', 'PILOT_DESIGNATION', 'PROVINCE_TOTAL', 'ROUND', 'CITY_RETURN', 'PILOT_PROGRAM'";

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum PilotPrograms {
    Table,
    Version,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(PilotPrograms::Table)
                    .add_column(
                        ColumnDef::new(PilotPrograms::Version)
                            .integer()
                            .not_null()
                            .default(1)
                            .check(Expr::col(PilotPrograms::Version).gte(1)),
                    )
                    .to_owned(),
            )
            .await?;
        revision_kinds(manager, KINDS_BEFORE, KINDS_AFTER).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        revision_kinds(manager, KINDS_AFTER, KINDS_BEFORE).await?;
        manager
            .alter_table(
                Table::alter()
                    .table(PilotPrograms::Table)
                    .drop_column(PilotPrograms::Version)
                    .to_owned(),
            )
            .await
    }
}
