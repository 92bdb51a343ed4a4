//! The province summary reads every record of one period twice (the sums by type, the fully
//! covered cities). With an index on (period, type) alone, each of the 5,400 records of a period
//! at 1,800 cities cost a lookup in the table as well; this index holds every column the summary
//! reads, so both are answered from the index alone (SQLite; PostgreSQL once the table is
//! vacuumed). It replaces the (period, type) index, of which it is an extension.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum CoverageRecords {
    Table,
    Period,
    BranchType,
    CityCode,
    BranchCount,
    EligibleCount,
    NewBranches,
    StatedRate,
}

/// The index this migration creates.
pub const INDEX: &str = "ix_coverage_records_period_summary";

/// The index it replaces.
const REPLACED: &str = "ix_coverage_records_period_type";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(CoverageRecords::Table)
                    .col(CoverageRecords::Period)
                    .col(CoverageRecords::BranchType)
                    .col(CoverageRecords::CityCode)
                    .col(CoverageRecords::BranchCount)
                    .col(CoverageRecords::EligibleCount)
                    .col(CoverageRecords::NewBranches)
                    .col(CoverageRecords::StatedRate)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name(REPLACED)
                    .table(CoverageRecords::Table)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(REPLACED)
                    .table(CoverageRecords::Table)
                    .col(CoverageRecords::Period)
                    .col(CoverageRecords::BranchType)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name(INDEX)
                    .table(CoverageRecords::Table)
                    .to_owned(),
            )
            .await
    }
}
