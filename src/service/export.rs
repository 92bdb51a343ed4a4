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

/// The rows of `selection` (published figures unless it asks for the working copy), by period,
/// city code and branch type. Two statements; the records are read as a stream, so that a
/// province-wide export never holds the database's rows and the models at once.
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
    if let (Some(number), Some(period)) = (selection.publication, selection.period) {
        let published =
            crate::service::publications::as_published(db, period, Some(number), None).await?;
        for p in published {
            let r = as_record(p);
            stored.insert((r.city_code.clone(), r.branch_type, r.period), r);
        }
    } else if selection.draft {
        // The working copy: drafts where a round has them, the published figures elsewhere.
        let mut drafts = coverage_record::Entity::find()
            .filter(coverage_record::Column::Period.is_in(periods.clone()));
        if let Some(code) = &selection.city {
            drafts = drafts.filter(coverage_record::Column::CityCode.eq(code.as_str()));
        }
        let mut stream = drafts.stream(db).await?;
        while let Some(r) = stream.try_next().await? {
            stored.insert((r.city_code.clone(), r.branch_type, r.period), r);
        }
    } else {
        let mut stream = records
            .into_model::<coverage_record::Model>()
            .stream(db)
            .await?;
        while let Some(r) = stream.try_next().await? {
            stored.insert((r.city_code.clone(), r.branch_type, r.period), r);
        }
    }
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

/// A published figure in the shape of a record (its id the record's).
fn as_record(p: entity::published_record::Model) -> coverage_record::Model {
    coverage_record::Model {
        id: p.record_id,
        city_code: p.city_code,
        branch_type: p.branch_type,
        period: p.period,
        branch_count: p.branch_count,
        eligible_count: p.eligible_count,
        new_branches: p.new_branches,
        stated_rate: p.stated_rate,
        rate_scope: p.rate_scope,
        source: p.source,
        version: p.version,
        updated_at: p.updated_at,
        updated_by: p.updated_by,
    }
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
