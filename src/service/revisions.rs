//! Reading the audit trail, newest first. Nothing here (or anywhere) edits or deletes it.

use entity::revision;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::domain::{BranchType, Page, PageRequest};
use crate::error::AppResult;

/// Which revisions to list.
#[derive(Debug, Clone, Default)]
pub struct RevisionFilter {
    /// Of this city's records.
    pub city_code: Option<String>,
    /// Of this branch type's records.
    pub branch_type: Option<BranchType>,
    /// Of this period's records.
    pub period: Option<i32>,
    /// By this writer, named as the audit trail names them ("张三 (zhangsan)", a token's name):
    /// for administrators only (a name is a personal part of the trail).
    pub actor: Option<String>,
    /// The changes to the figures of the yearly return, and its steps, that the reader may see.
    pub reader: ReturnReader,
}

/// Who reads the audit trail, as far as the yearly return goes: a city's return steps and the
/// changes to its figures in a round's period (drafts, figures sent back) are for the city's
/// staff and administrators; everyone else sees the publications instead.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ReturnReader {
    /// An administrator: everything.
    All,
    /// Staff of this city: their city's everything, the published rest.
    City(String),
    /// Anyone else.
    #[default]
    Public,
}

/// The condition of a revision that everyone may see: not a return's step, and not a change to
/// a figure of a period with a round (its drafts, and the figures sent back, are never public;
/// what was published is, as `publications` and `publishedCoverage`).
const PUBLIC_REVISION_SQL: &str = "(revisions.kind <> 'CITY_RETURN' AND (revisions.kind <> \
     'COVERAGE' OR NOT EXISTS (SELECT 1 FROM rounds r WHERE r.period = revisions.period)))";

/// The revisions with these numbers that exist. One statement.
pub async fn by_ids(db: &impl ConnectionTrait, ids: &[i64]) -> AppResult<Vec<revision::Model>> {
    Ok(revision::Entity::find()
        .filter(revision::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

/// Every revision of the coverage records with these keys (`CITY/TYPE/PERIOD`), newest first.
pub async fn of_coverage_records(
    db: &impl ConnectionTrait,
    record_keys: &[String],
) -> AppResult<Vec<revision::Model>> {
    Ok(of_coverage_records_query(record_keys).all(db).await?)
}

/// The query [`of_coverage_records`] runs (the index `migration::REVISIONS_BY_RECORD_INDEX`
/// serves it: a test reads its plan).
pub fn of_coverage_records_query(record_keys: &[String]) -> sea_orm::Select<revision::Entity> {
    revision::Entity::find()
        .filter(revision::Column::Kind.eq(entity::RevisionKind::Coverage))
        .filter(revision::Column::RecordKey.is_in(record_keys.iter().map(String::as_str)))
        .order_by_desc(revision::Column::Id)
}

/// One page of revisions, newest first, with the total.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &RevisionFilter,
    page: PageRequest,
) -> AppResult<Page<revision::Model>> {
    let mut query = revision::Entity::find();
    match &filter.reader {
        ReturnReader::All => {}
        ReturnReader::City(own) => {
            query = query.filter(
                sea_orm::Condition::any()
                    .add(sea_orm::sea_query::Expr::cust(PUBLIC_REVISION_SQL))
                    .add(revision::Column::CityCode.eq(own.as_str())),
            );
        }
        ReturnReader::Public => {
            query = query.filter(sea_orm::sea_query::Expr::cust(PUBLIC_REVISION_SQL));
        }
    }
    if let Some(city) = &filter.city_code {
        query = query.filter(revision::Column::CityCode.eq(city.as_str()));
    }
    if let Some(branch_type) = filter.branch_type {
        query = query.filter(revision::Column::BranchType.eq(branch_type));
    }
    if let Some(period) = filter.period {
        query = query.filter(revision::Column::Period.eq(period));
    }
    if let Some(actor) = &filter.actor {
        query = query.filter(revision::Column::ActorName.eq(actor.as_str()));
    }
    let total = query.clone().count(db).await?;
    let items = query
        .order_by_desc(revision::Column::Id)
        .offset(page.offset)
        .limit(page.limit)
        .all(db)
        .await?;
    Ok(Page {
        items,
        offset: page.offset,
        total,
    })
}
