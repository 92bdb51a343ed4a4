//! Wrong sign-ins, in the database: every instance counts the same failures and makes the same
//! waits, so that several instances on one PostgreSQL database allow no more guesses than one.
//! A row per login and per client address (`key`: `login:zhangsan`, `address:10.0.0.1`), with
//! its failures in a row, the last one's time and the wait it earned; rows whose last failure is
//! old are forgotten by the server.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum SignInFailures {
    Table,
    Key,
    Failures,
    LastFailedAt,
    WaitUntil,
}

/// The index by which old failures are forgotten.
const BY_LAST_FAILURE: &str = "sign_in_failures_by_last_failure";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SignInFailures::Table)
                    .col(
                        ColumnDef::new(SignInFailures::Key)
                            .string_len(100)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(SignInFailures::Failures)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SignInFailures::LastFailedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SignInFailures::WaitUntil)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(BY_LAST_FAILURE)
                    .table(SignInFailures::Table)
                    .col(SignInFailures::LastFailedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SignInFailures::Table).to_owned())
            .await
    }
}
