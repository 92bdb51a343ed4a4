//! API tokens: who may write. Only a hash of each secret is stored.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum ApiTokens {
    Table,
    Id,
    Name,
    Role,
    CityCode,
    SecretHash,
    CreatedAt,
    LastUsedAt,
    RevokedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Cities {
    Table,
    Code,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ApiTokens::Table)
                    .col(
                        ColumnDef::new(ApiTokens::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(ApiTokens::Name).string_len(200).not_null())
                    .col(ColumnDef::new(ApiTokens::Role).string_len(16).not_null())
                    .col(ColumnDef::new(ApiTokens::CityCode).string_len(12).null())
                    .col(
                        ColumnDef::new(ApiTokens::SecretHash)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(ApiTokens::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ApiTokens::LastUsedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(ApiTokens::RevokedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ApiTokens::Table, ApiTokens::CityCode)
                            .to(Cities::Table, Cities::Code)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .check(Expr::col(ApiTokens::Role).is_in(["ADMIN", "CITY_STAFF"]))
                    // City staff are bound to exactly one city; administrators to none.
                    .check(
                        Expr::col(ApiTokens::Role)
                            .eq("ADMIN")
                            .and(Expr::col(ApiTokens::CityCode).is_null())
                            .or(Expr::col(ApiTokens::Role)
                                .eq("CITY_STAFF")
                                .and(Expr::col(ApiTokens::CityCode).is_not_null())),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ApiTokens::Table).to_owned())
            .await
    }
}
