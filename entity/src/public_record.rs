//! `public_records`: the figures the public sees, one row per (city, branch type, period), under
//! the id of the working record (`coverage_records`) they were published from. Written only by
//! publishing (and by an administrator's figure for a period outside the yearly return); read by
//! every public read into a `coverage_record::Model`, the shape the two tables share.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "public_records")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i64,
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
