//! `publications`: each time the province made figures public, numbered from 1, with the period,
//! the time, who published and how many cities' figures it holds (`published_records` keeps
//! them).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "publications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub number: i32,
    pub period: i32,
    pub published_at: DateTimeUtc,
    pub published_by: Option<String>,
    pub cities: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
