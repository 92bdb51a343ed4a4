//! Publications of the yearly return, read: a period's figures exactly as the public saw them
//! after a given publication, or at a given time.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{publication, published_record};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::error::AppResult;

/// The figures of `period` as published after publication `upto` (every publication when
/// `None`) and at or before `at` (any time when `None`): for each city, the records of the newest
/// such publication that holds the city. In city and branch type order. Two statements.
pub async fn as_published(
    db: &impl ConnectionTrait,
    period: i32,
    upto: Option<i32>,
    at: Option<DateTime<Utc>>,
) -> AppResult<Vec<published_record::Model>> {
    let mut bound = upto;
    if let Some(at) = at {
        // Numbers grow with time: the newest publication made by then.
        let by_then: Option<i32> = publication::Entity::find()
            .select_only()
            .column_as(publication::Column::Number.max(), "max")
            .filter(publication::Column::PublishedAt.lte(at))
            .into_tuple::<Option<i32>>()
            .one(db)
            .await?
            .flatten();
        let Some(by_then) = by_then else {
            return Ok(Vec::new());
        };
        bound = Some(bound.map_or(by_then, |n| n.min(by_then)));
    }
    let mut query = published_record::Entity::find()
        .filter(published_record::Column::Period.eq(period))
        .order_by_asc(published_record::Column::CityCode);
    if let Some(bound) = bound {
        query = query.filter(published_record::Column::Publication.lte(bound));
    }
    let rows = query.all(db).await?;
    let mut newest: HashMap<&str, i32> = HashMap::new();
    for r in &rows {
        let n = newest.entry(r.city_code.as_str()).or_insert(r.publication);
        *n = (*n).max(r.publication);
    }
    let newest: HashMap<String, i32> = newest
        .into_iter()
        .map(|(city, n)| (city.to_owned(), n))
        .collect();
    let mut kept: Vec<published_record::Model> = rows
        .into_iter()
        .filter(|r| newest.get(&r.city_code) == Some(&r.publication))
        .collect();
    kept.sort_by(|a, b| (&a.city_code, a.branch_type).cmp(&(&b.city_code, b.branch_type)));
    Ok(kept)
}

/// The figures publication `number` made public, in city and branch type order.
pub async fn figures_of(
    db: &impl ConnectionTrait,
    number: i32,
) -> AppResult<Vec<published_record::Model>> {
    let mut rows = published_record::Entity::find()
        .filter(published_record::Column::Publication.eq(number))
        .all(db)
        .await?;
    rows.sort_by(|a, b| (&a.city_code, a.branch_type).cmp(&(&b.city_code, b.branch_type)));
    Ok(rows)
}
