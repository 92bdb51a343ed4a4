//! The province-wide summary of one period: per branch type, the sums over the cities, the
//! ratio-of-sums coverage rate, the province's own reported total and the fully covered cities.

use entity::{city, province_total, public_record};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter};

use super::{cities_from_json, coverage::latest_period, period_expr};
use crate::domain::summary::Sums;
use crate::domain::{BRANCH_TYPES, BranchType};
use crate::error::{AppError, AppResult};

pub use crate::domain::summary::{Summary, TypeSummary};

/// A row of `coverage_sums` (see the migration that keeps it).
#[derive(Debug, FromQueryResult)]
struct Aggregate {
    period: i32,
    branch_type: BranchType,
    cities_with_data: i64,
    cities_reporting: i64,
    branch_count_sum: i64,
    eligible_count_sum: i64,
    new_branches_cities: i64,
    new_branches_sum: i64,
    /// The fully covered cities, as `super::json_rows` writes them.
    full_coverage: Option<String>,
}

/// The summary of `period`, or of the latest period with data; `NotFound` when there is none.
///
/// Two statements, run together, each naming the period by value or by the "latest" subquery
/// (answered from an index): the period's sums by type, which the database keeps in
/// `coverage_sums` as records change (three rows, whatever the number of cities), each with its
/// fully covered cities (read from the partial index of fully covered records); the province's
/// totals. Only a database without coverage records costs a third, to learn the latest period.
pub async fn summary(db: &impl ConnectionTrait, period: Option<i32>) -> AppResult<Summary> {
    let backend = db.get_database_backend();
    let mut aggregate = Query::select()
        .columns(
            [
                "period",
                "branch_type",
                "cities_with_data",
                "cities_reporting",
                "branch_count_sum",
                "eligible_count_sum",
                "new_branches_cities",
                "new_branches_sum",
            ]
            .map(Alias::new),
        )
        .from(Alias::new(migration::COVERAGE_SUMS))
        .and_where(Expr::col(Alias::new("period")).eq(period_expr(period)))
        .and_where(Expr::col(Alias::new("cities_with_data")).gt(0))
        .to_owned();
    // Each type's fully covered cities ride along as one JSON text (an array of arrays), read
    // from the partial index of fully covered records: at 1,800 cities, 490 rows handed over one
    // by one cost a summary more than all the rest of it.
    let r = Alias::new("r");
    let full = Query::select()
        .expr(Expr::cust(super::json_rows(
            backend,
            "cities.code, cities.name, cities.name_en, cities.kind",
            Some("cities.code"),
        )))
        .from_as(public_record::Entity, r.clone())
        .inner_join(
            city::Entity,
            Expr::col((city::Entity, city::Column::Code))
                .equals((r.clone(), public_record::Column::CityCode)),
        )
        .and_where(Expr::cust(format!(
            "r.period = {sums}.period AND r.branch_type = {sums}.branch_type",
            sums = migration::COVERAGE_SUMS
        )))
        .and_where(Expr::cust(migration::fully_covered("r")))
        .to_owned();
    aggregate.expr_as(
        Expr::SubQuery(None, Box::new(full.into())),
        Alias::new("full_coverage"),
    );
    let totals = province_total::Entity::find()
        .filter(Expr::col(province_total::Column::Period).eq(period_expr(period)));
    let (aggregates, totals) = tokio::try_join!(
        Aggregate::find_by_statement(backend.build(&aggregate)).all(db),
        totals.all(db),
    )?;

    let period = match period {
        Some(p) => p,
        None => match (aggregates.first(), totals.first()) {
            (Some(a), _) => a.period,
            (None, Some(t)) => t.period,
            (None, None) => latest_period(db)
                .await?
                .ok_or_else(|| AppError::NotFound("there is no data for any period yet".into()))?,
        },
    };

    let mut full_coverage = Vec::with_capacity(aggregates.len());
    for a in &aggregates {
        full_coverage.push((a.branch_type, cities_from_json(a.full_coverage.as_deref())?));
    }
    let by_type = BRANCH_TYPES
        .iter()
        .map(|&branch_type| {
            let sums = aggregates
                .iter()
                .find(|a| a.branch_type == branch_type)
                .map(|a| Sums {
                    cities_with_data: a.cities_with_data,
                    cities_reporting: a.cities_reporting,
                    branch_count_sum: a.branch_count_sum,
                    eligible_count_sum: a.eligible_count_sum,
                    new_branches_cities: a.new_branches_cities,
                    new_branches_sum: a.new_branches_sum,
                });
            TypeSummary::of(
                branch_type,
                sums.as_ref(),
                totals
                    .iter()
                    .find(|t| t.branch_type == branch_type)
                    .cloned(),
                full_coverage
                    .iter_mut()
                    .find(|(t, _)| *t == branch_type)
                    .map(|(_, cities)| std::mem::take(cities))
                    .unwrap_or_default(),
            )
        })
        .collect();
    Ok(Summary { period, by_type })
}

/// The province totals with these (branch type, period) keys that exist,
/// [`super::KEYS_PER_STATEMENT`] keys a statement.
pub async fn province_totals(
    db: &impl ConnectionTrait,
    keys: &[(BranchType, i32)],
) -> AppResult<Vec<province_total::Model>> {
    super::find_any::<province_total::Entity, _>(db, keys, |(branch_type, period)| {
        Condition::all()
            .add(province_total::Column::BranchType.eq(*branch_type))
            .add(province_total::Column::Period.eq(*period))
    })
    .await
}
