//! `pilot_designations`: which city holds which programme's status, since when.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "pilot_designations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub city_code: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub program_code: String,
    pub since_year: Option<i32>,
    pub source: Option<String>,
    /// Bumped by every accepted write: the optimistic lock writers send as `expectedVersion`.
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::city::Entity",
        from = "Column::CityCode",
        to = "super::city::Column::Code"
    )]
    City,
    #[sea_orm(
        belongs_to = "super::pilot_program::Entity",
        from = "Column::ProgramCode",
        to = "super::pilot_program::Column::Code"
    )]
    PilotProgram,
}

impl Related<super::city::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::City.def()
    }
}

impl Related<super::pilot_program::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::PilotProgram.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
