//! Exports: the rows of a selection and the summaries of their periods, read for
//! [`crate::sheets::export`] to write as CSV or XLSX.

use std::sync::Arc;

use entity::{BranchType, city, coverage_record, public_record};
use futures_util::TryStreamExt;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, StreamTrait};

use crate::domain::BRANCH_TYPES;
use crate::error::{AppError, AppResult};
use crate::service::summary::{Summary, summary};
use crate::sheets::export::{Row, Selection};

/// The rows of `selection`, by period, city code and branch type. Two statements; the records
/// are read as a stream, so that a province-wide export never holds the database's rows and
/// the models at once.
pub async fn rows(
    db: &(impl ConnectionTrait + StreamTrait),
    selection: &Selection,
) -> AppResult<Vec<Row>> {
    let periods = match selection.period {
        Some(p) => vec![p],
        None => crate::service::coverage::periods(db).await?,
    };
    let mut cities = city::Entity::find().order_by_asc(city::Column::Code);
    // Published figures: an export is a public read.
    let mut records =
        public_record::Entity::find().filter(public_record::Column::Period.is_in(periods.clone()));
    if let Some(code) = &selection.city {
        cities = cities.filter(city::Column::Code.eq(code.as_str()));
        records = records.filter(public_record::Column::CityCode.eq(code.as_str()));
    }
    let cities: Vec<Arc<city::Model>> = cities.all(db).await?.into_iter().map(Arc::new).collect();
    if selection.city.is_some() && cities.is_empty() {
        return Err(AppError::NotFound("there is no city with that code".into()));
    }
    let mut stored: std::collections::HashMap<(String, BranchType, i32), coverage_record::Model> =
        std::collections::HashMap::new();
    let mut stream = records
        .into_model::<coverage_record::Model>()
        .stream(db)
        .await?;
    while let Some(r) = stream.try_next().await? {
        stored.insert((r.city_code.clone(), r.branch_type, r.period), r);
    }
    drop(stream);
    let mut rows = Vec::with_capacity(periods.len() * cities.len() * BRANCH_TYPES.len());
    for &period in &periods {
        for city in &cities {
            for branch_type in BRANCH_TYPES {
                let record = stored.remove(&(city.code.clone(), branch_type, period));
                rows.push(Row {
                    city: Arc::clone(city),
                    branch_type,
                    period,
                    record,
                });
            }
        }
    }
    Ok(rows)
}

/// The summaries of the periods the rows cover.
pub async fn summaries(db: &impl ConnectionTrait, rows: &[Row]) -> AppResult<Vec<Summary>> {
    let mut periods: Vec<i32> = rows.iter().map(|r| r.period).collect();
    periods.dedup();
    let mut out = Vec::with_capacity(periods.len());
    for period in periods {
        out.push(summary(db, Some(period)).await?);
    }
    Ok(out)
}
