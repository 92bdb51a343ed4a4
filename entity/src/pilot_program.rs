//! `pilot_programs`: the pilot programmes and demonstration statuses the report names.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "pilot_programs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub level: crate::ProgramLevel,
    /// Number of member cities the source states, which may exceed the members it names.
    pub stated_size: Option<i32>,
    pub source: Option<String>,
    /// Bumped by every accepted change: the optimistic lock writers send as `expectedVersion`.
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
