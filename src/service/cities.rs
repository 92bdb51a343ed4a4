//! Cities: one by code, several by code, and the filtered, ordered, paged list.

use entity::{city, coverage_record, pilot_designation, pilot_program};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, Order, Query, SelectStatement};
use sea_orm::{ActiveEnum, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryResult};

use super::{decode_error, json_items, json_rows, period_expr, rate_sql};
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

/// What a page of cities brings along for each of its cities, in the page's own statement.
#[derive(Debug, Clone, Default)]
pub struct Along {
    /// Coverage records of one (period, branch type) pair per entry; a `None` period is the
    /// latest period with data, a `None` type every type.
    pub coverage: Vec<(Option<i32>, Option<BranchType>)>,
    /// The programmes each city holds, with its designations.
    pub programs: bool,
}

/// A city of a page with what [`Along`] asked for.
#[derive(Debug, Clone)]
pub struct CityWith {
    /// The city.
    pub city: city::Model,
    /// One list of records per entry of `Along::coverage`, in its order; each list in no
    /// particular order.
    pub coverage: Vec<Vec<coverage_record::Model>>,
    /// The designations with their programmes, by programme code, when `Along::programs`.
    pub programs: Option<Vec<(pilot_designation::Model, pilot_program::Model)>>,
}

/// One city, if the code exists.
pub async fn get(db: &impl ConnectionTrait, code: &str) -> AppResult<Option<city::Model>> {
    Ok(city::Entity::find_by_id(code.to_owned()).one(db).await?)
}

/// The cities among `codes` that exist, by code.
pub async fn by_codes(db: &impl ConnectionTrait, codes: &[String]) -> AppResult<Vec<city::Model>> {
    super::by_codes::<city::Entity>(db, city::Column::Code, codes).await
}

/// One page of the cities that pass `filter`, sorted by `order`, each with what `along` asks
/// for. One statement: the total comes from a scalar subquery beside the rows (evaluated once; a
/// `COUNT(*) OVER ()` window would sort every matching city, ten times slower at 1,800 cities),
/// and each child is a correlated subquery that returns the city's rows as one JSON text (an
/// array of arrays): one row per city, whatever the children. A statement costs the dashboard
/// far more than its rows do (on SQLite each is a round trip to the connection's thread, and a
/// second one when the connection goes back to the pool), so the page, its coverage and its
/// programmes in one statement answer twice as fast as three statements did. Only a page past
/// the end (or of size 0) costs a second, counting statement.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &CityFilter,
    order: &CityOrder,
    page: PageRequest,
    along: &Along,
) -> AppResult<Page<CityWith>> {
    let backend = db.get_database_backend();
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
        );
    for (i, (period, branch_type)) in along.coverage.iter().enumerate() {
        query.expr_as(
            coverage_json(backend, *period, *branch_type),
            Alias::new(format!("coverage_{i}")),
        );
    }
    if along.programs {
        query.expr_as(programs_json(backend), Alias::new("programs"));
    }
    apply_order(&mut query, order, backend)?;
    // LIMIT and OFFSET are written as numbers, not bound: SQLite plans a LIMIT by its value, so
    // a bound one makes it parse and plan the whole statement again on every execution (a sixth
    // of the dashboard's SQL time). Both are integers of ours, so nothing of a request's text
    // enters the SQL, and the statement cache holds one entry per page size and offset in use.
    let mut statement = backend.build(&query);
    statement.sql = format!(
        "{} LIMIT {} OFFSET {}",
        statement.sql, page.limit, page.offset
    );
    let rows = db.query_all_raw(statement).await?;
    let total = match rows.first() {
        Some(row) => u64::try_from(row.try_get_by_index::<i64>(4)?).unwrap_or_default(),
        None => count(db, base).await?,
    };
    let items = rows
        .iter()
        .map(|row| city_with(row, along))
        .collect::<Result<Vec<_>, DbErr>>()?;
    Ok(Page {
        items,
        offset: page.offset,
        total,
    })
}

/// One row of [`list`]'s statement.
/// Read by position, in the order `list` selects them (code, name, name_en, kind, total_count,
/// then one column per coverage entry, then the programmes): a look-up by name costs each
/// column a search of the row's names.
fn city_with(row: &QueryResult, along: &Along) -> Result<CityWith, DbErr> {
    let city = city::Model {
        code: row.try_get_by_index(0)?,
        name: row.try_get_by_index(1)?,
        name_en: row.try_get_by_index(2)?,
        kind: row.try_get_by_index(3)?,
    };
    let first_child = 5;
    let coverage = (0..along.coverage.len())
        .map(|i| {
            let json: Option<String> = row.try_get_by_index(first_child + i)?;
            coverage_from_json(&city.code, json.as_deref())
        })
        .collect::<Result<_, _>>()?;
    let programs = if along.programs {
        let json: Option<String> = row.try_get_by_index(first_child + along.coverage.len())?;
        Some(programs_from_json(&city.code, json.as_deref())?)
    } else {
        None
    };
    Ok(CityWith {
        city,
        coverage,
        programs,
    })
}

/// A rate column as text that reads back as the same double, or null.
fn exact_real(backend: DbBackend, column: &str) -> String {
    match backend {
        // PostgreSQL 12 and later print the shortest text that reads back exactly.
        DbBackend::Postgres => format!("CAST({column} AS TEXT)"),
        _ => format!("CASE WHEN {column} IS NULL THEN NULL ELSE printf('%!.17g', {column}) END"),
    }
}

/// The coverage records of the outer query's city in `period`, of `branch_type` or all, as
/// [`coverage_from_json`] reads them.
fn coverage_json(backend: DbBackend, period: Option<i32>, branch_type: Option<BranchType>) -> Expr {
    let fields = format!(
        "r.id, r.branch_type, r.period, r.branch_count, r.eligible_count, r.new_branches, {}, \
         r.rate_scope, r.source, r.version, r.updated_at, r.updated_by",
        exact_real(backend, "r.stated_rate")
    );
    let r = Alias::new("r");
    let mut query = Query::select();
    query
        .expr(Expr::cust(json_rows(backend, &fields, "r.branch_type")))
        .from_as(coverage_record::Entity, r.clone())
        .and_where(
            Expr::col((r.clone(), coverage_record::Column::CityCode))
                .equals((city::Entity, city::Column::Code)),
        )
        .and_where(Expr::col((r.clone(), coverage_record::Column::Period)).eq(period_expr(period)));
    if let Some(branch_type) = branch_type {
        query.and_where(
            Expr::col((r, coverage_record::Column::BranchType)).eq(branch_type.to_value()),
        );
    }
    Expr::SubQuery(None, Box::new(query.into()))
}

/// The designations of the outer query's city with their programmes, as
/// [`programs_from_json`] reads them.
fn programs_json(backend: DbBackend) -> Expr {
    let fields = "d.program_code, d.since_year, d.source, d.version, \
                  p.name, p.name_en, p.level, p.stated_size, p.source";
    let (d, p) = (Alias::new("d"), Alias::new("p"));
    let query = Query::select()
        .expr(Expr::cust(json_rows(backend, fields, "d.program_code")))
        .from_as(pilot_designation::Entity, d.clone())
        .join_as(
            JoinType::InnerJoin,
            pilot_program::Entity,
            p.clone(),
            Expr::col((p, pilot_program::Column::Code))
                .equals((d.clone(), pilot_designation::Column::ProgramCode)),
        )
        .and_where(
            Expr::col((d, pilot_designation::Column::CityCode))
                .equals((city::Entity, city::Column::Code)),
        )
        .to_owned();
    Expr::SubQuery(None, Box::new(query.into()))
}

/// A record as [`coverage_json`] writes it.
type CoverageItem = (
    i64,
    String,
    i32,
    Option<i32>,
    Option<i32>,
    Option<i32>,
    Option<String>,
    Option<String>,
    Option<String>,
    i32,
    String,
    Option<String>,
);

/// A designation and its programme as [`programs_json`] writes them.
type ProgramItem = (
    String,
    Option<i32>,
    Option<String>,
    i32,
    String,
    String,
    String,
    Option<i32>,
    Option<String>,
);

fn coverage_from_json(
    city_code: &str,
    json: Option<&str>,
) -> Result<Vec<coverage_record::Model>, DbErr> {
    json_items::<CoverageItem>("coverage", json)?
        .into_iter()
        .map(|item| {
            let (id, branch_type, period, branch_count, eligible_count, new_branches, rate) =
                (item.0, item.1, item.2, item.3, item.4, item.5, item.6);
            Ok(coverage_record::Model {
                id,
                city_code: city_code.to_owned(),
                branch_type: BranchType::try_from_value(&branch_type)?,
                period,
                branch_count,
                eligible_count,
                new_branches,
                stated_rate: rate
                    .map(|r| {
                        r.parse::<f64>()
                            .map_err(|e| decode_error("a stated rate", e))
                    })
                    .transpose()?,
                rate_scope: item.7,
                source: item.8,
                version: item.9,
                updated_at: chrono::DateTime::parse_from_rfc3339(&item.10)
                    .map_err(|e| decode_error("a time of update", e))?
                    .to_utc(),
                updated_by: item.11,
            })
        })
        .collect()
}

fn programs_from_json(
    city_code: &str,
    json: Option<&str>,
) -> Result<Vec<(pilot_designation::Model, pilot_program::Model)>, DbErr> {
    json_items::<ProgramItem>("programmes", json)?
        .into_iter()
        .map(|item| {
            let (program_code, since_year, source, version) = (item.0, item.1, item.2, item.3);
            let program = pilot_program::Model {
                code: program_code.clone(),
                name: item.4,
                name_en: item.5,
                level: entity::ProgramLevel::try_from_value(&item.6)?,
                stated_size: item.7,
                source: item.8,
            };
            let designation = pilot_designation::Model {
                city_code: city_code.to_owned(),
                program_code,
                since_year,
                source,
                version,
            };
            Ok((designation, program))
        })
        .collect()
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
