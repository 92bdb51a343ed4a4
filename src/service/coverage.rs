//! Published coverage records (`public_records`, the figures every caller reads): by natural
//! key, per city across periods, and the list of periods (a city's records of one period are read
//! with the city, `service::cities`). Drafts are read only through a city's return.

use std::collections::BTreeSet;

use entity::{coverage_record, province_total, public_record};
use sea_orm::sea_query::{Alias, Expr, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::LATEST_PERIOD_SQL;
use crate::domain::BranchType;
use crate::error::AppResult;

/// The natural key of a coverage record: city, branch type, period.
pub type RecordKey = (String, BranchType, i32);

/// The records with these natural keys that exist: an OR of the keys (row-value `IN` is not
/// portable across the two databases' query builders), [`super::KEYS_PER_STATEMENT`] at a time.
pub async fn by_keys(
    db: &impl ConnectionTrait,
    keys: &[RecordKey],
) -> AppResult<Vec<coverage_record::Model>> {
    super::find_any_into::<public_record::Entity, coverage_record::Model, _>(
        db,
        keys,
        |(city, branch_type, period)| {
            Condition::all()
                .add(public_record::Column::CityCode.eq(city.as_str()))
                .add(public_record::Column::BranchType.eq(*branch_type))
                .add(public_record::Column::Period.eq(*period))
        },
    )
    .await
}

/// The working records (cities' drafts in a round's period) with these natural keys that exist.
pub async fn drafts_by_keys(
    db: &impl ConnectionTrait,
    keys: &[RecordKey],
) -> AppResult<Vec<coverage_record::Model>> {
    super::find_any::<coverage_record::Entity, _>(db, keys, |(city, branch_type, period)| {
        Condition::all()
            .add(coverage_record::Column::CityCode.eq(city.as_str()))
            .add(coverage_record::Column::BranchType.eq(*branch_type))
            .add(coverage_record::Column::Period.eq(*period))
    })
    .await
}

/// The working records of these cities in `period` (their returns' figures). One statement.
pub async fn drafts_of(
    db: &impl ConnectionTrait,
    city_codes: &[String],
    period: i32,
) -> AppResult<Vec<coverage_record::Model>> {
    Ok(coverage_record::Entity::find()
        .filter(coverage_record::Column::CityCode.is_in(city_codes.iter().map(String::as_str)))
        .filter(coverage_record::Column::Period.eq(period))
        .all(db)
        .await?)
}

/// Every period's records of the given cities, of one branch type or all, oldest first.
pub async fn history(
    db: &impl ConnectionTrait,
    city_codes: &[String],
    branch_type: Option<BranchType>,
) -> AppResult<Vec<coverage_record::Model>> {
    let mut query = public_record::Entity::find()
        .filter(public_record::Column::CityCode.is_in(city_codes.iter().map(String::as_str)))
        .order_by_asc(public_record::Column::Period);
    if let Some(branch_type) = branch_type {
        query = query.filter(public_record::Column::BranchType.eq(branch_type));
    }
    Ok(query.into_model::<coverage_record::Model>().all(db).await?)
}

/// Every period with public data (published records or province totals), oldest first.
pub async fn periods(db: &impl ConnectionTrait) -> AppResult<Vec<i32>> {
    let from_records = distinct::<public_record::Entity>(db, public_record::Column::Period);
    let from_totals = distinct::<province_total::Entity>(db, province_total::Column::Period);
    let all: BTreeSet<i32> = from_records
        .await?
        .into_iter()
        .chain(from_totals.await?)
        .collect();
    Ok(all.into_iter().collect())
}

/// The distinct values of `E`'s integer `column`.
async fn distinct<E: EntityTrait>(
    db: &impl ConnectionTrait,
    column: E::Column,
) -> AppResult<Vec<i32>> {
    Ok(E::find()
        .select_only()
        .column(column)
        .distinct()
        .into_tuple()
        .all(db)
        .await?)
}

/// The latest period with public data, if there is any data.
pub async fn latest_period(db: &impl ConnectionTrait) -> AppResult<Option<i32>> {
    let query = Query::select()
        .expr_as(Expr::cust(LATEST_PERIOD_SQL), Alias::new("latest"))
        .to_owned();
    Ok(match db.query_one(&query).await? {
        Some(row) => row.try_get::<Option<i32>>("", "latest")?,
        None => None,
    })
}
