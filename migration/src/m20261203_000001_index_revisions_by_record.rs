//! An index for a coverage record's revisions (`Coverage.revisions`), which are found by kind
//! and record key and read newest first: without it, each lookup scans the whole audit trail,
//! so its cost grew with every write ever made rather than with the record's own history.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Revisions {
    Table,
    Id,
    Kind,
    RecordKey,
}

/// The index's name, which tests look for in query plans.
pub const INDEX: &str = "ix_revisions_kind_record_key_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(Revisions::Table)
                    .col(Revisions::Kind)
                    .col(Revisions::RecordKey)
                    .col(Revisions::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(INDEX).table(Revisions::Table).to_owned())
            .await
    }
}
