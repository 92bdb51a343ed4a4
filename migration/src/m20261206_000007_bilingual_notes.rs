//! The two notes the seed wrote on the province's reported totals become wholly bilingual, in the
//! form a stated rate's scope already has ("English (中文)"), so that the Chinese view shows a
//! wholly Chinese note and the English view an English one. Only a note still as the seed wrote
//! it is changed: a note an administrator has since edited is theirs and stays.

use sea_orm_migration::prelude::*;

/// Each seeded note: as earlier releases wrote it, and as it reads from now on.
const NOTES: [(&str, &str); 2] = [
    (
        "enterprise branches at all levels; more than 300 more than in 2022 (较 2022 年新增 300 多家)",
        "enterprise branches at all levels, more than 300 more than in 2022 (各级企业科协，较 2022 年新增 300 多家)",
    ),
    (
        "no total stated: more than 50 university, medical and research-institute branches newly \
         established in 2023 (50 余个); public undergraduate universities basically all covered",
        "no total stated: more than 50 university, medical and research-institute branches \
         established in 2023, public undergraduate universities in the province basically all \
         covered (未给出总数：全年建立高校、医疗卫生机构和科研院所科协 50 余个，基本实现公立省内本科院校\
         科协组织全覆盖)",
    ),
];

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum ProvinceTotals {
    Table,
    Note,
}

impl Migration {
    async fn rewrite(manager: &SchemaManager<'_>, from_old: bool) -> Result<(), DbErr> {
        for (old, new) in NOTES {
            let (from, to) = if from_old { (old, new) } else { (new, old) };
            let update = Query::update()
                .table(ProvinceTotals::Table)
                .value(ProvinceTotals::Note, to)
                .and_where(Expr::col(ProvinceTotals::Note).eq(from))
                .to_owned();
            manager.exec_stmt(update).await?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        Self::rewrite(manager, true).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        Self::rewrite(manager, false).await
    }
}
