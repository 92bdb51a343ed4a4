//! The province-wide summary of one period: per branch type, the sums over the cities, the
//! ratio-of-sums coverage rate, the province's own reported total and the fully covered cities.

use entity::{city, coverage_record, province_total};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter};

use super::{coverage::latest_period, period_expr, rate_sql};
use crate::domain::{BRANCH_TYPES, BranchType, CityKind, ratio_of_sums};
use crate::error::{AppError, AppResult};

/// The summary of one period.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The period summarised.
    pub period: i32,
    /// One entry per branch type, in the API's order, present even when nothing is known.
    pub by_type: Vec<TypeSummary>,
}

/// One branch type's figures in a period.
#[derive(Debug, Clone)]
pub struct TypeSummary {
    /// The branch type.
    pub branch_type: BranchType,
    /// Cities with a record of this type in the period, whatever it holds.
    pub cities_with_data: i64,
    /// Cities that report both the branch and the eligible count: the base of the rate.
    pub cities_reporting: i64,
    /// Σ branches over the reporting cities; `None` when no city reports.
    pub branch_count_sum: Option<i64>,
    /// Σ eligible over the reporting cities; `None` when no city reports.
    pub eligible_count_sum: Option<i64>,
    /// Σ newly established branches over the cities that state them.
    pub new_branches_sum: Option<i64>,
    /// Σ branches ÷ Σ eligible over the reporting cities.
    pub coverage_rate: Option<f64>,
    /// What the province itself reported, if anything.
    pub province_total: Option<province_total::Model>,
    /// Cities whose coverage rate (computed or stated) is 100 %, by code.
    pub full_coverage_cities: Vec<city::Model>,
}

#[derive(Debug, FromQueryResult)]
struct Aggregate {
    period: i32,
    branch_type: BranchType,
    cities_with_data: i64,
    cities_reporting: i64,
    branch_count_sum: Option<i64>,
    eligible_count_sum: Option<i64>,
    new_branches_sum: Option<i64>,
}

/// A fully covered city of the period, with the city itself.
#[derive(Debug, FromQueryResult)]
struct FullRow {
    branch_type: BranchType,
    code: String,
    name: String,
    name_en: String,
    kind: CityKind,
}

/// The summary of `period`, or of the latest period with data; `NotFound` when there is none.
///
/// Three statements, run together, each naming the period by value or by the "latest" subquery
/// (answered from an index): the sums by type, the fully covered cities with their names (so
/// that listing them costs no further statement), the province's totals. Both scans of the
/// period's records read only the covering index `ix_coverage_records_period_summary`. Only a
/// database without coverage records costs a fourth, to learn the latest period.
pub async fn summary(db: &impl ConnectionTrait, period: Option<i32>) -> AppResult<Summary> {
    let backend = db.get_database_backend();
    let both = "branch_count IS NOT NULL AND eligible_count IS NOT NULL";
    // CAST: PostgreSQL's SUM(integer) is bigint already, SQLite's is integer; both decode as i64.
    let aggregate = Query::select()
        .column(coverage_record::Column::Period)
        .column(coverage_record::Column::BranchType)
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("cities_with_data"))
        .expr_as(
            Expr::cust(format!(
                "CAST(SUM(CASE WHEN {both} THEN 1 ELSE 0 END) AS BIGINT)"
            )),
            Alias::new("cities_reporting"),
        )
        .expr_as(
            Expr::cust(format!(
                "CAST(SUM(CASE WHEN {both} THEN branch_count END) AS BIGINT)"
            )),
            Alias::new("branch_count_sum"),
        )
        .expr_as(
            Expr::cust(format!(
                "CAST(SUM(CASE WHEN {both} THEN eligible_count END) AS BIGINT)"
            )),
            Alias::new("eligible_count_sum"),
        )
        .expr_as(
            Expr::cust("CAST(SUM(new_branches) AS BIGINT)"),
            Alias::new("new_branches_sum"),
        )
        .from(coverage_record::Entity)
        .and_where(Expr::col(coverage_record::Column::Period).eq(period_expr(period)))
        .group_by_col(coverage_record::Column::Period)
        .group_by_col(coverage_record::Column::BranchType)
        .to_owned();
    let r = Alias::new("r");
    let full = Query::select()
        .column((r.clone(), coverage_record::Column::BranchType))
        .columns([
            (city::Entity, city::Column::Code),
            (city::Entity, city::Column::Name),
            (city::Entity, city::Column::NameEn),
            (city::Entity, city::Column::Kind),
        ])
        .from_as(coverage_record::Entity, r.clone())
        .inner_join(
            city::Entity,
            Expr::col((city::Entity, city::Column::Code))
                .equals((r.clone(), coverage_record::Column::CityCode)),
        )
        .and_where(Expr::col((r.clone(), coverage_record::Column::Period)).eq(period_expr(period)))
        .and_where(rate_sql("r").gte(1.0))
        // The covering index's own order after the period: ordered by the city alone, SQLite
        // walked the whole table in the unique index's order instead (9 ms at 1,800 cities,
        // against 1 ms this way).
        .order_by(
            (r.clone(), coverage_record::Column::BranchType),
            sea_orm::sea_query::Order::Asc,
        )
        .order_by(
            (r, coverage_record::Column::CityCode),
            sea_orm::sea_query::Order::Asc,
        )
        .to_owned();
    let totals = province_total::Entity::find()
        .filter(Expr::col(province_total::Column::Period).eq(period_expr(period)));
    let (aggregates, full_rows, totals) = tokio::try_join!(
        Aggregate::find_by_statement(backend.build(&aggregate)).all(db),
        FullRow::find_by_statement(backend.build(&full)).all(db),
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

    let by_type = BRANCH_TYPES
        .iter()
        .map(|&branch_type| {
            let agg = aggregates.iter().find(|a| a.branch_type == branch_type);
            let reporting = agg.map_or(0, |a| a.cities_reporting);
            let (branch_sum, eligible_sum) = if reporting > 0 {
                (
                    agg.and_then(|a| a.branch_count_sum),
                    agg.and_then(|a| a.eligible_count_sum),
                )
            } else {
                (None, None)
            };
            TypeSummary {
                branch_type,
                cities_with_data: agg.map_or(0, |a| a.cities_with_data),
                cities_reporting: reporting,
                branch_count_sum: branch_sum,
                eligible_count_sum: eligible_sum,
                new_branches_sum: agg.and_then(|a| a.new_branches_sum),
                coverage_rate: ratio_of_sums(branch_sum, eligible_sum),
                province_total: totals
                    .iter()
                    .find(|t| t.branch_type == branch_type)
                    .cloned(),
                full_coverage_cities: full_rows
                    .iter()
                    .filter(|row| row.branch_type == branch_type)
                    .map(|row| city::Model {
                        code: row.code.clone(),
                        name: row.name.clone(),
                        name_en: row.name_en.clone(),
                        kind: row.kind,
                    })
                    .collect(),
            }
        })
        .collect();
    Ok(Summary { period, by_type })
}

/// The province totals with these (branch type, period) keys that exist. One statement,
/// whatever the number of keys.
pub async fn province_totals(
    db: &impl ConnectionTrait,
    keys: &[(BranchType, i32)],
) -> AppResult<Vec<province_total::Model>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let any = keys
        .iter()
        .fold(Condition::any(), |any, (branch_type, period)| {
            any.add(
                Condition::all()
                    .add(province_total::Column::BranchType.eq(*branch_type))
                    .add(province_total::Column::Period.eq(*period)),
            )
        });
    Ok(province_total::Entity::find().filter(any).all(db).await?)
}
