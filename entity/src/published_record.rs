//! `published_records`: the figures each publication made public, one row per (publication,
//! record), as the record stood when published. Written once, never changed: "as published"
//! reads read here.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "published_records")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub publication: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub record_id: i64,
    pub city_code: String,
    pub branch_type: crate::BranchType,
    pub period: i32,
    pub branch_count: Option<i32>,
    pub eligible_count: Option<i32>,
    pub new_branches: Option<i32>,
    pub stated_rate: Option<f64>,
    pub rate_scope: Option<String>,
    pub source: Option<String>,
    pub version: i32,
    pub updated_at: DateTimeUtc,
    pub updated_by: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
