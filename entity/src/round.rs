//! `rounds`: one period's yearly return (年报) across the cities, opened by the province with a
//! due date, closed when no more figures may come in.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "rounds")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub period: i32,
    pub status: crate::RoundStatus,
    /// 截止日期: submissions after it are accepted and marked late.
    pub due_at: Option<DateTimeUtc>,
    pub opened_at: DateTimeUtc,
    pub closed_at: Option<DateTimeUtc>,
    /// Bumped by every accepted change: the optimistic lock writers send as `expectedVersion`.
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
