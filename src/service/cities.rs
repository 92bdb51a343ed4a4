//! Cities: one by code, several by code, and the filtered, ordered, paged list.

use entity::{city, coverage_record, pilot_designation};
use sea_orm::sea_query::{
    Alias, Expr, ExprTrait, JoinType, Order, Query, SelectStatement, WindowStatement,
};
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, IdenStatic, Iterable,
    QueryFilter, QueryOrder,
};

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

impl CityRow {
    fn into_model(self) -> city::Model {
        city::Model {
            code: self.code,
            name: self.name,
            name_en: self.name_en,
            kind: self.kind,
        }
    }
}

/// One city, if the code exists.
pub async fn get(db: &impl ConnectionTrait, code: &str) -> AppResult<Option<city::Model>> {
    Ok(city::Entity::find_by_id(code.to_owned()).one(db).await?)
}

/// The cities among `codes` that exist, by code.
pub async fn by_codes(db: &impl ConnectionTrait, codes: &[String]) -> AppResult<Vec<city::Model>> {
    Ok(city::Entity::find()
        .filter(city::Column::Code.is_in(codes.iter().map(String::as_str)))
        .order_by_asc(city::Column::Code)
        .all(db)
        .await?)
}

/// Which coverage records to bring along with a page of cities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoverageSpec {
    /// The period; the latest period with data when `None`.
    pub period: Option<i32>,
    /// One branch type, or all.
    pub branch_type: Option<BranchType>,
}

/// A page of cities and, when asked for, the page's coverage records.
#[derive(Debug, Clone)]
pub struct CityPage {
    /// The cities.
    pub page: Page<city::Model>,
    /// The records of the page's cities that match the [`CoverageSpec`] given, if one was.
    pub coverage: Option<Vec<coverage_record::Model>>,
}

/// One page of the cities that pass `filter`, sorted by `order`, with their coverage records
/// when `coverage` says which. One statement: the total comes from a window function beside the
/// rows, and the records are joined to the page (each statement costs a round trip through the
/// pool and the driver, which dominates a dashboard request). Only a page past the end (or of
/// size 0) costs a second, counting statement.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &CityFilter,
    order: &CityOrder,
    page: PageRequest,
    coverage: Option<CoverageSpec>,
) -> AppResult<CityPage> {
    let base = filtered(filter)?;
    let mut query = base.clone();
    let keys = order_keys(&mut query, order)?;
    query
        .columns([
            (city::Entity, city::Column::Code),
            (city::Entity, city::Column::Name),
            (city::Entity, city::Column::NameEn),
            (city::Entity, city::Column::Kind),
        ])
        .expr_as(Expr::cust("COUNT(*) OVER ()"), Alias::new("total_count"))
        .limit(page.limit)
        .offset(page.offset);
    for (key, direction) in &keys {
        query.order_by_expr(key.clone(), direction.clone());
    }
    let (items, total, records) = match coverage {
        None => {
            let rows = CityRow::find_by_statement(db.get_database_backend().build(&query))
                .all(db)
                .await?;
            let total = rows.first().map(|r| r.total_count);
            (
                rows.into_iter()
                    .map(CityRow::into_model)
                    .collect::<Vec<_>>(),
                total,
                None,
            )
        }
        Some(spec) => {
            let (cities, total, records) = with_coverage(db, query, &keys, spec).await?;
            (cities, total, Some(records))
        }
    };
    let total = match total {
        Some(n) => u64::try_from(n).unwrap_or_default(),
        None => count(db, base).await?,
    };
    Ok(CityPage {
        page: Page {
            items,
            offset: page.offset,
            total,
        },
        coverage: records,
    })
}

/// Runs the page `query` as a subquery numbered in its own order, with the matching coverage
/// records left-joined; splits the rows back into cities (in order) and records.
async fn with_coverage(
    db: &impl ConnectionTrait,
    mut query: SelectStatement,
    keys: &[(Expr, Order)],
    spec: CoverageSpec,
) -> AppResult<(Vec<city::Model>, Option<i64>, Vec<coverage_record::Model>)> {
    let mut window = WindowStatement::new();
    for (key, direction) in keys {
        window.order_by_expr(key.clone(), direction.clone());
    }
    query.expr_window_as(Expr::cust("ROW_NUMBER()"), window, Alias::new("position"));
    let page = Alias::new("page");
    let cov = Alias::new("page_cov");
    let mut on = Expr::col((cov.clone(), coverage_record::Column::CityCode))
        .equals((page.clone(), city::Column::Code))
        .and(
            Expr::col((cov.clone(), coverage_record::Column::Period)).eq(period_expr(spec.period)),
        );
    if let Some(branch_type) = spec.branch_type {
        on = on.and(
            Expr::col((cov.clone(), coverage_record::Column::BranchType))
                .eq(branch_type.to_value()),
        );
    }
    let mut outer = Query::select();
    outer
        .columns([
            (page.clone(), Alias::new("code")),
            (page.clone(), Alias::new("name")),
            (page.clone(), Alias::new("name_en")),
            (page.clone(), Alias::new("kind")),
            (page.clone(), Alias::new("total_count")),
        ])
        .from_subquery(query, page.clone())
        .join_as(JoinType::LeftJoin, coverage_record::Entity, cov.clone(), on)
        .order_by((page, Alias::new("position")), Order::Asc);
    for column in coverage_record::Column::iter() {
        let name = column.as_str();
        outer.expr_as(
            Expr::col((cov.clone(), column)),
            Alias::new(format!("{COVERAGE_PREFIX}{name}")),
        );
    }
    let rows = db.query_all(&outer).await?;
    let mut cities: Vec<city::Model> = Vec::new();
    let mut records = Vec::new();
    let mut total = None;
    for row in &rows {
        let city = CityRow::from_query_result(row, "")?;
        total = Some(city.total_count);
        if cities.last().is_none_or(|c| c.code != city.code) {
            cities.push(city.into_model());
        }
        if let Some(record) =
            coverage_record::Model::from_query_result_optional(row, COVERAGE_PREFIX)?
        {
            records.push(record);
        }
    }
    Ok((cities, total, records))
}

/// Prefix of the joined coverage columns, as sea-orm's `from_query_result` expects it.
const COVERAGE_PREFIX: &str = "page_cov_";

async fn count(db: &impl ConnectionTrait, mut base: SelectStatement) -> AppResult<u64> {
    base.column((city::Entity, city::Column::Code));
    let query = Query::select()
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
        .from_subquery(base, Alias::new("matching"))
        .to_owned();
    let n: i64 = match db.query_one(&query).await? {
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

/// The ORDER BY keys of `order` (adding the join they need to `query`): the key itself with
/// unknown values last in either direction (SQLite sorts NULL first ascending, PostgreSQL last,
/// so the portable form sorts on `key IS NULL` first), then the code as tie-breaker.
fn order_keys(query: &mut SelectStatement, order: &CityOrder) -> AppResult<Vec<(Expr, Order)>> {
    let direction = if order.descending {
        Order::Desc
    } else {
        Order::Asc
    };
    let key = match order.field {
        CityOrderField::Code => None,
        CityOrderField::Name => Some(Expr::col((city::Entity, city::Column::NameEn))),
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
    let mut keys = Vec::with_capacity(3);
    if let Some(key) = key {
        keys.push((key.clone().is_null(), Order::Asc));
        keys.push((key, direction.clone()));
    }
    let code_direction = if order.field == CityOrderField::Code {
        direction
    } else {
        Order::Asc
    };
    keys.push((
        Expr::col((city::Entity, city::Column::Code)),
        code_direction,
    ));
    Ok(keys)
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
