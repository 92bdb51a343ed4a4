//! `sign_in_failures`: wrong sign-ins in a row per login and per client address, shared by every
//! instance on the database, and the wait each has earned.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "sign_in_failures")]
pub struct Model {
    /// `login:<login as typed, lower-cased>` or `address:<client address>`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// Wrong sign-ins in a row.
    pub failures: i32,
    pub last_failed_at: DateTimeUtc,
    /// No sign-in for this key before this time.
    pub wait_until: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
