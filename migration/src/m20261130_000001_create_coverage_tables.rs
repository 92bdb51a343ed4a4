//! Cities, coverage records, pilot programmes and designations, province totals; with keys,
//! foreign keys and CHECK constraints so that the database itself refuses impossible figures.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Cities {
    Table,
    Code,
    Name,
    NameEn,
    Kind,
}

#[derive(DeriveIden, Clone, Copy)]
enum CoverageRecords {
    Table,
    Id,
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
enum PilotPrograms {
    Table,
    Code,
    Name,
    NameEn,
    Level,
    StatedSize,
    Source,
}

#[derive(DeriveIden, Clone, Copy)]
enum PilotDesignations {
    Table,
    CityCode,
    ProgramCode,
    SinceYear,
    Source,
}

#[derive(DeriveIden, Clone, Copy)]
enum ProvinceTotals {
    Table,
    BranchType,
    Period,
    Total,
    Note,
    Source,
    UpdatedAt,
}

const BRANCH_TYPES: [&str; 3] = ["ENTERPRISE", "UNIVERSITY", "TOWNSHIP"];

/// `col IS NULL OR col >= 0`: a count may be unknown but never negative.
fn non_negative_or_null<T: IntoIden + Copy + 'static>(col: T) -> SimpleExpr {
    Expr::col(col).is_null().or(Expr::col(col).gte(0))
}

/// Period years the schema accepts; the API narrows this further on writes.
fn plausible_year<T: IntoIden + Copy + 'static>(col: T) -> SimpleExpr {
    Expr::col(col).between(1949, 2999)
}

/// The table of coverage records (its unique index named `unique_index`): made here for the
/// first release, and again by the migration that keeps the published figures apart from the
/// working copy (`m20261206_000003_publish`).
pub(crate) fn coverage_records_table(unique_index: &str) -> TableCreateStatement {
    Table::create()
        .table(CoverageRecords::Table)
        .col(
            ColumnDef::new(CoverageRecords::Id)
                .big_integer()
                .not_null()
                .auto_increment()
                .primary_key(),
        )
        .col(
            ColumnDef::new(CoverageRecords::CityCode)
                .string_len(12)
                .not_null(),
        )
        .col(
            ColumnDef::new(CoverageRecords::BranchType)
                .string_len(16)
                .not_null(),
        )
        .col(ColumnDef::new(CoverageRecords::Period).integer().not_null())
        .col(
            ColumnDef::new(CoverageRecords::BranchCount)
                .integer()
                .null(),
        )
        .col(
            ColumnDef::new(CoverageRecords::EligibleCount)
                .integer()
                .null(),
        )
        .col(
            ColumnDef::new(CoverageRecords::NewBranches)
                .integer()
                .null(),
        )
        .col(ColumnDef::new(CoverageRecords::StatedRate).double().null())
        .col(ColumnDef::new(CoverageRecords::RateScope).text().null())
        .col(ColumnDef::new(CoverageRecords::Source).text().null())
        .col(
            ColumnDef::new(CoverageRecords::Version)
                .integer()
                .not_null()
                .default(1),
        )
        .col(
            ColumnDef::new(CoverageRecords::UpdatedAt)
                .timestamp_with_time_zone()
                .not_null(),
        )
        .col(ColumnDef::new(CoverageRecords::UpdatedBy).text().null())
        .foreign_key(
            ForeignKey::create()
                .from(CoverageRecords::Table, CoverageRecords::CityCode)
                .to(Cities::Table, Cities::Code)
                .on_delete(ForeignKeyAction::Restrict),
        )
        .check(Expr::col(CoverageRecords::BranchType).is_in(BRANCH_TYPES))
        .check(plausible_year(CoverageRecords::Period))
        .check(non_negative_or_null(CoverageRecords::BranchCount))
        .check(non_negative_or_null(CoverageRecords::EligibleCount))
        .check(non_negative_or_null(CoverageRecords::NewBranches))
        .check(
            Expr::col(CoverageRecords::StatedRate)
                .is_null()
                .or(Expr::col(CoverageRecords::StatedRate).between(0.0, 1.0)),
        )
        .check(
            Expr::col(CoverageRecords::BranchCount)
                .is_null()
                .or(Expr::col(CoverageRecords::EligibleCount).is_null())
                .or(Expr::col(CoverageRecords::BranchCount)
                    .lte(Expr::col(CoverageRecords::EligibleCount))),
        )
        .check(Expr::col(CoverageRecords::Version).gte(1))
        // One record per (city, type, period). City and period lead: the loaders ask
        // for `city_code IN (…) AND period = …`, and a city's history in period order.
        .index(
            Index::create()
                .name(unique_index)
                .col(CoverageRecords::CityCode)
                .col(CoverageRecords::Period)
                .col(CoverageRecords::BranchType)
                .unique(),
        )
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Cities::Table)
                    .col(
                        ColumnDef::new(Cities::Code)
                            .string_len(12)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Cities::Name).string_len(64).not_null())
                    .col(ColumnDef::new(Cities::NameEn).string_len(64).not_null())
                    .col(ColumnDef::new(Cities::Kind).string_len(24).not_null())
                    .check(Expr::col(Cities::Kind).is_in(["PREFECTURE_CITY", "DEMONSTRATION_ZONE"]))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(coverage_records_table(
                "ux_coverage_records_city_period_type",
            ))
            .await?;
        // Period-first lookups: the latest period, the summary of one period, ordering by a
        // period's figures.
        manager
            .create_index(
                Index::create()
                    .name("ix_coverage_records_period_type")
                    .table(CoverageRecords::Table)
                    .col(CoverageRecords::Period)
                    .col(CoverageRecords::BranchType)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PilotPrograms::Table)
                    .col(
                        ColumnDef::new(PilotPrograms::Code)
                            .string_len(32)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(PilotPrograms::Name)
                            .string_len(128)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PilotPrograms::NameEn)
                            .string_len(128)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PilotPrograms::Level)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(PilotPrograms::StatedSize).integer().null())
                    .col(ColumnDef::new(PilotPrograms::Source).text().null())
                    .check(Expr::col(PilotPrograms::Level).is_in(["NATIONAL", "PROVINCIAL"]))
                    .check(non_negative_or_null(PilotPrograms::StatedSize))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PilotDesignations::Table)
                    .col(
                        ColumnDef::new(PilotDesignations::CityCode)
                            .string_len(12)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PilotDesignations::ProgramCode)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PilotDesignations::SinceYear)
                            .integer()
                            .null(),
                    )
                    .col(ColumnDef::new(PilotDesignations::Source).text().null())
                    .primary_key(
                        Index::create()
                            .col(PilotDesignations::CityCode)
                            .col(PilotDesignations::ProgramCode),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(PilotDesignations::Table, PilotDesignations::CityCode)
                            .to(Cities::Table, Cities::Code)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(PilotDesignations::Table, PilotDesignations::ProgramCode)
                            .to(PilotPrograms::Table, PilotPrograms::Code)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .check(
                        Expr::col(PilotDesignations::SinceYear)
                            .is_null()
                            .or(plausible_year(PilotDesignations::SinceYear)),
                    )
                    .to_owned(),
            )
            .await?;
        // PilotProgram.cities looks designations up by programme.
        manager
            .create_index(
                Index::create()
                    .name("ix_pilot_designations_program")
                    .table(PilotDesignations::Table)
                    .col(PilotDesignations::ProgramCode)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ProvinceTotals::Table)
                    .col(
                        ColumnDef::new(ProvinceTotals::BranchType)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(ProvinceTotals::Period).integer().not_null())
                    .col(ColumnDef::new(ProvinceTotals::Total).integer().null())
                    .col(ColumnDef::new(ProvinceTotals::Note).text().null())
                    .col(ColumnDef::new(ProvinceTotals::Source).text().null())
                    .col(
                        ColumnDef::new(ProvinceTotals::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(ProvinceTotals::BranchType)
                            .col(ProvinceTotals::Period),
                    )
                    .check(Expr::col(ProvinceTotals::BranchType).is_in(BRANCH_TYPES))
                    .check(plausible_year(ProvinceTotals::Period))
                    .check(non_negative_or_null(ProvinceTotals::Total))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ProvinceTotals::Table.into_iden(),
            PilotDesignations::Table.into_iden(),
            PilotPrograms::Table.into_iden(),
            CoverageRecords::Table.into_iden(),
            Cities::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
