//! Cities: one by code, several by code, and the filtered, ordered, paged list.

use entity::{city, coverage_record, pilot_designation};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, Order, Query, SelectStatement};
use sea_orm::{ActiveEnum, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult};

use super::{period_expr, rate_sql};
use crate::domain::{BranchType, CityKind, Page, PageRequest};
use crate::error::{AppError, AppResult};

/// Which cities a list holds. Every condition given must hold.
#[derive(Debug, Clone, Default)]
pub struct CityFilter {
    /// Cities designated in this programme.
    pub program_code: Option<String>,
    /// Cities of this kind.
    pub kind: Option<CityKind>,
    /// Cities whose coverage rate of a branch type in a period is at least a value.
    pub min_coverage: Option<CoverageThreshold>,
}

/// A lower bound on one branch type's coverage rate in one period.
#[derive(Debug, Clone, Copy)]
pub struct CoverageThreshold {
    /// The branch type whose rate is compared.
    pub branch_type: BranchType,
    /// The period; the latest period with data when `None`.
    pub period: Option<i32>,
    /// The least rate, in [0, 1]. Cities with an unknown rate never pass.
    pub min_rate: f64,
}

/// What a city list is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CityOrderField {
    /// Administrative code.
    Code,
    /// Name, in pinyin order (the order of Chinese dictionaries), the same on every database.
    Name,
    /// Branch count of a branch type in a period.
    BranchCount,
    /// Coverage rate of a branch type in a period.
    CoverageRate,
}

/// How a city list is sorted. Unknown figures sort last in either direction; ties by code.
#[derive(Debug, Clone, Copy)]
pub struct CityOrder {
    /// The key.
    pub field: CityOrderField,
    /// Largest first.
    pub descending: bool,
    /// Required for `BranchCount` and `CoverageRate`.
    pub branch_type: Option<BranchType>,
    /// For `BranchCount` and `CoverageRate`; the latest period with data when `None`.
    pub period: Option<i32>,
}

impl Default for CityOrder {
    fn default() -> Self {
        Self {
            field: CityOrderField::Code,
            descending: false,
            branch_type: None,
            period: None,
        }
    }
}

/// A city row with the size of the whole filtered list, from one statement.
#[derive(Debug, FromQueryResult)]
struct CityRow {
    code: String,
    name: String,
    name_en: String,
    kind: CityKind,
    total_count: i64,
}

/// One city, if the code exists.
pub async fn get(db: &impl ConnectionTrait, code: &str) -> AppResult<Option<city::Model>> {
    Ok(city::Entity::find_by_id(code.to_owned()).one(db).await?)
}

/// The cities among `codes` that exist, by code.
pub async fn by_codes(db: &impl ConnectionTrait, codes: &[String]) -> AppResult<Vec<city::Model>> {
    super::by_codes::<city::Entity>(db, city::Column::Code, codes).await
}

/// One page of the cities that pass `filter`, sorted by `order`. One statement: the total comes
/// from a scalar subquery beside the rows (evaluated once; a `COUNT(*) OVER ()` window would
/// sort every matching city, ten times slower at 1,800 cities); only a page past the end (or of
/// size 0) costs a second, counting statement.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &CityFilter,
    order: &CityOrder,
    page: PageRequest,
) -> AppResult<Page<city::Model>> {
    let base = filtered(filter)?;
    let mut query = base.clone();
    query
        .columns([
            (city::Entity, city::Column::Code),
            (city::Entity, city::Column::Name),
            (city::Entity, city::Column::NameEn),
            (city::Entity, city::Column::Kind),
        ])
        .expr_as(
            Expr::SubQuery(None, Box::new(count_query(base.clone()).into())),
            Alias::new("total_count"),
        )
        .limit(page.limit)
        .offset(page.offset);
    apply_order(&mut query, order, db.get_database_backend())?;
    let rows = CityRow::find_by_statement(db.get_database_backend().build(&query))
        .all(db)
        .await?;
    let total = match rows.first() {
        Some(row) => u64::try_from(row.total_count).unwrap_or_default(),
        None => count(db, base).await?,
    };
    let items = rows
        .into_iter()
        .map(|row| city::Model {
            code: row.code,
            name: row.name,
            name_en: row.name_en,
            kind: row.kind,
        })
        .collect();
    Ok(Page {
        items,
        offset: page.offset,
        total,
    })
}

/// `SELECT COUNT(*)` of the cities `base` selects.
fn count_query(mut base: SelectStatement) -> SelectStatement {
    base.column((city::Entity, city::Column::Code));
    Query::select()
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
        .from_subquery(base, Alias::new("matching"))
        .to_owned()
}

async fn count(db: &impl ConnectionTrait, base: SelectStatement) -> AppResult<u64> {
    let n: i64 = match db.query_one(&count_query(base)).await? {
        Some(row) => row.try_get("", "n")?,
        None => 0,
    };
    Ok(u64::try_from(n).unwrap_or_default())
}

/// `FROM cities` with the filter's joins and conditions, no columns yet.
fn filtered(filter: &CityFilter) -> AppResult<SelectStatement> {
    let mut query = Query::select();
    query.from(city::Entity);
    if let Some(kind) = filter.kind {
        query.and_where(Expr::col((city::Entity, city::Column::Kind)).eq(kind.to_value()));
    }
    if let Some(program) = &filter.program_code {
        query.and_where(
            Expr::col((city::Entity, city::Column::Code)).in_subquery(
                Query::select()
                    .column(pilot_designation::Column::CityCode)
                    .from(pilot_designation::Entity)
                    .and_where(
                        Expr::col(pilot_designation::Column::ProgramCode).eq(program.as_str()),
                    )
                    .to_owned(),
            ),
        );
    }
    if let Some(threshold) = filter.min_coverage {
        if !(0.0..=1.0).contains(&threshold.min_rate) {
            return Err(AppError::BadUserInput(format!(
                "minCoverage.rate must be between 0 and 1, got {}",
                threshold.min_rate
            )));
        }
        join_coverage(
            &mut query,
            "filter_cov",
            threshold.branch_type,
            threshold.period,
            JoinType::InnerJoin,
        );
        query.and_where(rate_sql("filter_cov").gte(threshold.min_rate));
    }
    Ok(query)
}

fn apply_order(
    query: &mut SelectStatement,
    order: &CityOrder,
    backend: DbBackend,
) -> AppResult<()> {
    let direction = if order.descending {
        Order::Desc
    } else {
        Order::Asc
    };
    let key = match order.field {
        CityOrderField::Code => None,
        // Byte order on both databases: PostgreSQL would otherwise use its locale's collation.
        CityOrderField::Name => Some(match backend {
            DbBackend::Postgres => Expr::cust("\"cities\".\"name_en\" COLLATE \"C\""),
            _ => Expr::col((city::Entity, city::Column::NameEn)),
        }),
        CityOrderField::BranchCount | CityOrderField::CoverageRate => {
            let branch_type = order.branch_type.ok_or_else(|| {
                AppError::BadUserInput(
                    "ordering by BRANCH_COUNT or COVERAGE_RATE needs orderBy.branchType".into(),
                )
            })?;
            join_coverage(
                query,
                "order_cov",
                branch_type,
                order.period,
                JoinType::LeftJoin,
            );
            Some(if order.field == CityOrderField::BranchCount {
                Expr::col((
                    Alias::new("order_cov"),
                    coverage_record::Column::BranchCount,
                ))
            } else {
                rate_sql("order_cov")
            })
        }
    };
    if let Some(key) = key {
        // Portable NULLS LAST: SQLite sorts NULL first ascending, PostgreSQL last.
        query.order_by_expr(key.clone().is_null(), Order::Asc);
        query.order_by_expr(key, direction.clone());
    }
    let code_direction = if order.field == CityOrderField::Code {
        direction
    } else {
        Order::Asc
    };
    query.order_by((city::Entity, city::Column::Code), code_direction);
    Ok(())
}

/// Joins the coverage record of each city for `branch_type` in `period` as `alias`.
fn join_coverage(
    query: &mut SelectStatement,
    alias: &str,
    branch_type: BranchType,
    period: Option<i32>,
    join: JoinType,
) {
    let a = Alias::new(alias);
    query.join_as(
        join,
        coverage_record::Entity,
        a.clone(),
        Expr::col((a.clone(), coverage_record::Column::CityCode))
            .equals((city::Entity, city::Column::Code))
            .and(
                Expr::col((a.clone(), coverage_record::Column::BranchType))
                    .eq(branch_type.to_value()),
            )
            .and(Expr::col((a, coverage_record::Column::Period)).eq(period_expr(period))),
    );
}
