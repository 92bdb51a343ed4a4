//! Cities' returns in the rounds of the yearly return: one row per city and round, made when the
//! round opens, holding where the city's return stands (未报 NOT_STARTED, 草稿 DRAFT, 已报
//! SUBMITTED, 已退回 RETURNED, 已审核 APPROVED), when it was submitted and by whom, whether late,
//! the province's comment, and a version for the optimistic lock every step takes.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum CityReturns {
    Table,
    CityCode,
    Period,
    Status,
    SubmittedAt,
    SubmittedBy,
    Late,
    Comment,
    Version,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Cities {
    Table,
    Code,
}

#[derive(DeriveIden)]
enum Rounds {
    Table,
    Period,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CityReturns::Table)
                    .col(
                        ColumnDef::new(CityReturns::CityCode)
                            .string_len(12)
                            .not_null(),
                    )
                    .col(ColumnDef::new(CityReturns::Period).integer().not_null())
                    .col(
                        ColumnDef::new(CityReturns::Status)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CityReturns::SubmittedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(CityReturns::SubmittedBy)
                            .string_len(200)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(CityReturns::Late)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(ColumnDef::new(CityReturns::Comment).text().null())
                    .col(
                        ColumnDef::new(CityReturns::Version)
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .col(
                        ColumnDef::new(CityReturns::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(CityReturns::CityCode)
                            .col(CityReturns::Period),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CityReturns::Table, CityReturns::CityCode)
                            .to(Cities::Table, Cities::Code)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CityReturns::Table, CityReturns::Period)
                            .to(Rounds::Table, Rounds::Period)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .check(Expr::col(CityReturns::Status).is_in([
                        "NOT_STARTED",
                        "DRAFT",
                        "SUBMITTED",
                        "RETURNED",
                        "APPROVED",
                    ]))
                    .check(Expr::col(CityReturns::Version).gte(1))
                    .to_owned(),
            )
            .await?;
        // A round's returns, in city order.
        manager
            .create_index(
                Index::create()
                    .name("ix_city_returns_period")
                    .table(CityReturns::Table)
                    .col(CityReturns::Period)
                    .col(CityReturns::CityCode)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CityReturns::Table).to_owned())
            .await
    }
}
