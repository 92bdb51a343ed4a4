//! Pilot programmes and which cities hold them.

use entity::{city, pilot_designation, pilot_program};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::error::AppResult;

/// Every programme, by code.
pub async fn list(db: &impl ConnectionTrait) -> AppResult<Vec<pilot_program::Model>> {
    Ok(pilot_program::Entity::find()
        .order_by_asc(pilot_program::Column::Code)
        .all(db)
        .await?)
}

/// One programme by code.
pub async fn get(db: &impl ConnectionTrait, code: &str) -> AppResult<Option<pilot_program::Model>> {
    Ok(pilot_program::Entity::find_by_id(code.to_owned())
        .one(db)
        .await?)
}

/// The programmes among `codes` that exist, by code. One statement.
pub async fn by_codes(
    db: &impl ConnectionTrait,
    codes: &[String],
) -> AppResult<Vec<pilot_program::Model>> {
    super::by_codes::<pilot_program::Entity>(db, pilot_program::Column::Code, codes).await
}

/// The designations with these (city code, programme code) keys that exist,
/// [`super::KEYS_PER_STATEMENT`] keys a statement.
pub async fn designations(
    db: &impl ConnectionTrait,
    keys: &[(String, String)],
) -> AppResult<Vec<pilot_designation::Model>> {
    super::find_any::<pilot_designation::Entity, _>(db, keys, |(city, program)| {
        Condition::all()
            .add(pilot_designation::Column::CityCode.eq(city.as_str()))
            .add(pilot_designation::Column::ProgramCode.eq(program.as_str()))
    })
    .await
}

/// The member cities of each of the given programmes, as (designation, city) pairs ordered
/// by city code. One statement (a join), whatever the number of programmes.
pub async fn cities_of_programs(
    db: &impl ConnectionTrait,
    program_codes: &[String],
) -> AppResult<Vec<(pilot_designation::Model, city::Model)>> {
    use pilot_designation::Column::{CityCode, ProgramCode};
    designations_with::<city::Entity>(db, ProgramCode, program_codes, CityCode).await
}

/// The designations whose `key` is among `codes`, each with its related `R` (its programme or
/// its city), ordered by `order`. One statement (a join).
async fn designations_with<R: EntityTrait>(
    db: &impl ConnectionTrait,
    key: pilot_designation::Column,
    codes: &[String],
    order: pilot_designation::Column,
) -> AppResult<Vec<(pilot_designation::Model, R::Model)>>
where
    pilot_designation::Entity: sea_orm::Related<R>,
{
    let rows = pilot_designation::Entity::find()
        .find_also_related(R::default())
        .filter(key.is_in(codes.iter().map(String::as_str)))
        .order_by_asc(order)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(designation, related)| related.map(|r| (designation, r)))
        .collect())
}
