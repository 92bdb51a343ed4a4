//! Rounds of the yearly return, read: one by period, several by period, all newest first.

use entity::round;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::error::AppResult;

/// The round of `period`, if there is one.
pub async fn get(db: &impl ConnectionTrait, period: i32) -> AppResult<Option<round::Model>> {
    Ok(round::Entity::find_by_id(period).one(db).await?)
}

/// The rounds of these periods that exist.
pub async fn by_periods(
    db: &impl ConnectionTrait,
    periods: &[i32],
) -> AppResult<Vec<round::Model>> {
    Ok(round::Entity::find()
        .filter(round::Column::Period.is_in(periods.iter().copied()))
        .all(db)
        .await?)
}

/// Every round, newest period first.
pub async fn list(db: &impl ConnectionTrait) -> AppResult<Vec<round::Model>> {
    Ok(round::Entity::find()
        .order_by_desc(round::Column::Period)
        .all(db)
        .await?)
}
