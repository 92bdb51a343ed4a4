//! People sign in as themselves: `accounts` (a login, a display name, a role and city, an
//! Argon2id password hash), and the bearer credentials grow a kind. An `API_TOKEN` is a program's
//! (as every token before: existing tokens stay, with no expiry); a `SESSION` is a person's
//! sign-in, made by `signIn`, tied to its account, ending at `expires_at` (the absolute limit) or
//! after `idle_secs` without use. Both are one table, so that every path that takes a token takes
//! a session exactly the same way.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Accounts {
    Table,
    Id,
    Login,
    DisplayName,
    Role,
    CityCode,
    PasswordHash,
    MustChangePassword,
    CreatedAt,
    DisabledAt,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum ApiTokens {
    Table,
    Kind,
    AccountId,
    ExpiresAt,
    IdleSecs,
}

#[derive(DeriveIden, Clone, Copy)]
enum Cities {
    Table,
    Code,
}

/// The index of a person's sessions (ended together when the account is disabled).
const SESSIONS_BY_ACCOUNT: &str = "api_tokens_by_account";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Accounts::Table)
                    .col(
                        ColumnDef::new(Accounts::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Accounts::Login)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(Accounts::DisplayName)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Accounts::Role).string_len(16).not_null())
                    .col(ColumnDef::new(Accounts::CityCode).string_len(12).null())
                    .col(
                        ColumnDef::new(Accounts::PasswordHash)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Accounts::MustChangePassword)
                            .boolean()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Accounts::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Accounts::DisabledAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Accounts::Version)
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Accounts::Table, Accounts::CityCode)
                            .to(Cities::Table, Cities::Code)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .check(Expr::col(Accounts::Role).is_in(["ADMIN", "CITY_STAFF"]))
                    // As for tokens: city staff belong to exactly one city; administrators to none.
                    .check(
                        Expr::col(Accounts::Role)
                            .eq("ADMIN")
                            .and(Expr::col(Accounts::CityCode).is_null())
                            .or(Expr::col(Accounts::Role)
                                .eq("CITY_STAFF")
                                .and(Expr::col(Accounts::CityCode).is_not_null())),
                    )
                    .to_owned(),
            )
            .await?;
        // SQLite adds one column per statement; every existing token is a program's, for ever.
        let columns = [
            ColumnDef::new(ApiTokens::Kind)
                .string_len(16)
                .not_null()
                .default("API_TOKEN")
                .check(Expr::col(ApiTokens::Kind).is_in(["API_TOKEN", "SESSION"]))
                .to_owned(),
            ColumnDef::new(ApiTokens::AccountId)
                .big_integer()
                .null()
                .to_owned(),
            ColumnDef::new(ApiTokens::ExpiresAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(ApiTokens::IdleSecs)
                .integer()
                .null()
                .to_owned(),
        ];
        for mut column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(ApiTokens::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name(SESSIONS_BY_ACCOUNT)
                    .table(ApiTokens::Table)
                    .col(ApiTokens::AccountId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(SESSIONS_BY_ACCOUNT)
                    .table(ApiTokens::Table)
                    .to_owned(),
            )
            .await?;
        for column in [
            ApiTokens::IdleSecs,
            ApiTokens::ExpiresAt,
            ApiTokens::AccountId,
            ApiTokens::Kind,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ApiTokens::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(Accounts::Table).to_owned())
            .await
    }
}
