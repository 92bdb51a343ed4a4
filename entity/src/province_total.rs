//! `province_totals`: totals the province itself reports per (branch type, period), kept apart
//! from the sum of the cities' figures because the two need not agree.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "province_totals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub branch_type: crate::BranchType,
    #[sea_orm(primary_key, auto_increment = false)]
    pub period: i32,
    pub total: Option<i32>,
    /// What the source says beyond the number (e.g. "more than 300 more than in 2022").
    pub note: Option<String>,
    pub source: Option<String>,
    pub updated_at: DateTimeUtc,
    /// Bumped by every accepted write: the optimistic lock writers send as `expectedVersion`.
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
