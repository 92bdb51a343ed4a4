//! `revisions`: the append-only audit trail of accepted writes.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "revisions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: crate::RevisionKind,
    /// The record's key, e.g. `410800/ENTERPRISE/2023`.
    pub record_key: String,
    pub city_code: Option<String>,
    pub branch_type: Option<crate::BranchType>,
    pub period: Option<i32>,
    pub program_code: Option<String>,
    /// The whole record before, as JSON; null for a creation.
    pub before: Option<String>,
    /// The whole record after, as JSON; null for a removal.
    pub after: Option<String>,
    pub actor_token_id: Option<i64>,
    pub actor_name: String,
    pub actor_role: crate::Role,
    pub actor_city_code: Option<String>,
    pub at: DateTimeUtc,
    pub note: Option<String>,
    pub request_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
