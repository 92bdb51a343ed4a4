//! Cities' returns in the rounds of the yearly return, read.

use entity::city_return;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::error::AppResult;

/// The returns with these (city, period) keys that exist.
pub async fn by_keys(
    db: &impl ConnectionTrait,
    keys: &[(String, i32)],
) -> AppResult<Vec<city_return::Model>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let any = keys.iter().fold(Condition::any(), |any, (city, period)| {
        any.add(
            Condition::all()
                .add(city_return::Column::CityCode.eq(city.as_str()))
                .add(city_return::Column::Period.eq(*period)),
        )
    });
    Ok(city_return::Entity::find().filter(any).all(db).await?)
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
