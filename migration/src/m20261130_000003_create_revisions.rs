//! Revisions: the append-only audit trail. Every accepted write adds one, in the same
//! transaction; nothing in the API edits or deletes them.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Revisions {
    Table,
    Id,
    Kind,
    RecordKey,
    CityCode,
    BranchType,
    Period,
    ProgramCode,
    Before,
    After,
    ActorTokenId,
    ActorName,
    ActorRole,
    ActorCityCode,
    At,
    Note,
    RequestId,
}

#[derive(DeriveIden, Clone, Copy)]
enum ApiTokens {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Revisions::Table)
                    .col(
                        ColumnDef::new(Revisions::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Revisions::Kind).string_len(24).not_null())
                    .col(
                        ColumnDef::new(Revisions::RecordKey)
                            .string_len(128)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Revisions::CityCode).string_len(12).null())
                    .col(ColumnDef::new(Revisions::BranchType).string_len(16).null())
                    .col(ColumnDef::new(Revisions::Period).integer().null())
                    .col(ColumnDef::new(Revisions::ProgramCode).string_len(32).null())
                    .col(ColumnDef::new(Revisions::Before).text().null())
                    .col(ColumnDef::new(Revisions::After).text().null())
                    .col(ColumnDef::new(Revisions::ActorTokenId).big_integer().null())
                    .col(
                        ColumnDef::new(Revisions::ActorName)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Revisions::ActorRole)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Revisions::ActorCityCode)
                            .string_len(12)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Revisions::At)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Revisions::Note).text().null())
                    .col(ColumnDef::new(Revisions::RequestId).string_len(128).null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Revisions::Table, Revisions::ActorTokenId)
                            .to(ApiTokens::Table, ApiTokens::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .check(Expr::col(Revisions::Kind).is_in([
                        "COVERAGE",
                        "PILOT_DESIGNATION",
                        "PROVINCE_TOTAL",
                    ]))
                    .to_owned(),
            )
            .await?;
        // Revisions of one coverage record, newest first.
        manager
            .create_index(
                Index::create()
                    .name("ix_revisions_city_type_period")
                    .table(Revisions::Table)
                    .col(Revisions::CityCode)
                    .col(Revisions::BranchType)
                    .col(Revisions::Period)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Revisions::Table).to_owned())
            .await
    }
}
