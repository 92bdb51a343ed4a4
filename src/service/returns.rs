//! Cities' returns in the rounds of the yearly return, read.

use entity::city_return;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::error::AppResult;

/// The returns with these (city, period) keys that exist, [`super::KEYS_PER_STATEMENT`] keys a
/// statement.
pub async fn by_keys(
    db: &impl ConnectionTrait,
    keys: &[(String, i32)],
) -> AppResult<Vec<city_return::Model>> {
    super::find_any::<city_return::Entity, _>(db, keys, |(city, period)| {
        Condition::all()
            .add(city_return::Column::CityCode.eq(city.as_str()))
            .add(city_return::Column::Period.eq(*period))
    })
    .await
}

/// The returns of the rounds of these periods, in city order; of one city only when given.
pub async fn of_periods(
    db: &impl ConnectionTrait,
    periods: &[i32],
    city: Option<&str>,
) -> AppResult<Vec<city_return::Model>> {
    let mut query = city_return::Entity::find()
        .filter(city_return::Column::Period.is_in(periods.iter().copied()))
        .order_by_asc(city_return::Column::CityCode);
    if let Some(city) = city {
        query = query.filter(city_return::Column::CityCode.eq(city));
    }
    Ok(query.all(db).await?)
}

/// How many returns of a round stand at a status, and how many of those were submitted late.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusCount {
    /// The status.
    pub status: entity::ReturnStatus,
    /// Returns at it.
    pub cities: i64,
    /// Of those, submitted after the due date.
    pub late: i64,
    /// Of those, with figures published (now or before a reopening).
    pub published: i64,
}

/// The returns of the rounds of these periods counted by status: one statement.
pub async fn counts(
    db: &impl ConnectionTrait,
    periods: &[i32],
) -> AppResult<Vec<(i32, StatusCount)>> {
    use sea_orm::QuerySelect;
    use sea_orm::sea_query::{Expr, ExprTrait, Func};
    let late = Expr::case(Expr::col(city_return::Column::Late).eq(true), 1).finally(0);
    let published =
        Expr::case(Expr::col(city_return::Column::PublishedAt).is_not_null(), 1).finally(0);
    // Period, status, cities, late, published.
    type Row = (i32, entity::ReturnStatus, i64, Option<i64>, Option<i64>);
    let rows: Vec<Row> = city_return::Entity::find()
        .select_only()
        .column(city_return::Column::Period)
        .column(city_return::Column::Status)
        .column_as(Expr::col(city_return::Column::CityCode).count(), "cities")
        .column_as(Expr::from(Func::sum(late)), "late")
        .column_as(Expr::from(Func::sum(published)), "published")
        .filter(city_return::Column::Period.is_in(periods.iter().copied()))
        .group_by(city_return::Column::Period)
        .group_by(city_return::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(period, status, cities, late, published)| {
            (
                period,
                StatusCount {
                    status,
                    cities,
                    late: late.unwrap_or_default(),
                    published: published.unwrap_or_default(),
                },
            )
        })
        .collect())
}
