//! `city_returns`: a city's return in a round of the yearly return (年报): where it stands, when
//! it was submitted and by whom, whether late, the province's comment.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "city_returns")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub city_code: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub period: i32,
    pub status: crate::ReturnStatus,
    pub submitted_at: Option<DateTimeUtc>,
    /// Who submitted it, as revisions name writers.
    pub submitted_by: Option<String>,
    /// 逾期: submitted after the round's due date.
    pub late: bool,
    /// The province's comment when it sent the return back, or why it reopened it.
    pub comment: Option<String>,
    /// Bumped by every step: the optimistic lock.
    pub version: i32,
    pub updated_at: DateTimeUtc,
    /// Whether the return's figures as they stand are the published ones.
    pub published: bool,
    /// When the return's figures were last published.
    pub published_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
