//! Versions for the administrators' records: pilot designations and province totals get the
//! optimistic lock coverage records have (`version`, sent back as `expectedVersion`). Existing
//! rows start at version 1, as a coverage record does when it is created.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum PilotDesignations {
    Table,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum ProvinceTotals {
    Table,
    Version,
}

fn version<T: Iden + Copy + 'static>(column: T) -> ColumnDef {
    ColumnDef::new(column)
        .integer()
        .not_null()
        .default(1)
        .check(Expr::col(column).gte(1))
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(PilotDesignations::Table)
                    .add_column(version(PilotDesignations::Version))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ProvinceTotals::Table)
                    .add_column(version(ProvinceTotals::Version))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(PilotDesignations::Table)
                    .drop_column(PilotDesignations::Version)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ProvinceTotals::Table)
                    .drop_column(ProvinceTotals::Version)
                    .to_owned(),
            )
            .await
    }
}
