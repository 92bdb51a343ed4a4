//! Cities: one by code, several by code, and the filtered, ordered, paged list.

use std::collections::HashMap;

use entity::{city, coverage_record, pilot_designation, pilot_program};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, Order, Query, SelectStatement};
use sea_orm::{ActiveEnum, ConnectionTrait, DbBackend, DbErr, EntityTrait};

use super::{LATEST_PERIOD_SQL, decode_error, json_items, json_rows, period_expr, rate_sql};
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

/// A designation with its programme.
pub type DesignatedProgram = (pilot_designation::Model, pilot_program::Model);

/// A city of a page with what [`Along`] asked for.
#[derive(Debug, Clone)]
pub struct CityWith {
    /// The city.
    pub city: city::Model,
    /// One list of records per entry of `Along::coverage`, in its order; each list in no
    /// particular order.
    pub coverage: Vec<Vec<coverage_record::Model>>,
    /// The designations with their programmes, by programme code, when `Along::programs`.
    pub programs: Option<Vec<DesignatedProgram>>,
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
/// for: one statement, one row, whatever the page asks of its cities.
///
/// The statement names the page once (`WITH page AS (…)`: the cities, sorted and limited, with
/// their sort keys and the total from a scalar subquery, evaluated once; a `COUNT(*) OVER ()`
/// window would sort every matching city, ten times slower at 1,800 cities), then selects one
/// JSON text per list: the page's cities in its order, and for each child (coverage per set of
/// arguments, programmes) the rows of every city of the page at once, each naming its city.
/// Each list is one pass over its table, where a subquery per city costs PostgreSQL a scan and
/// an aggregate per city. A statement costs the dashboard far more than its rows (on SQLite each
/// is a round trip to the connection's thread; on PostgreSQL, to the server; and a second one
/// when the connection goes back to the pool), and a row costs the driver more than its bytes.
/// Only a page past the end (or of size 0) costs a second, counting statement.
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
    let mut page_order = Vec::new();
    for (i, (key, descending)) in order_keys(&mut query, order, backend)?
        .into_iter()
        .enumerate()
    {
        let name = format!("sort_{i}");
        query.expr_as(key.clone(), Alias::new(&name));
        let (direction, sql) = if descending {
            (Order::Desc, "DESC")
        } else {
            (Order::Asc, "ASC")
        };
        query.order_by_expr(key, direction);
        page_order.push(format!("page.{name} {sql}"));
    }
    let mut lists = vec![format!(
        "(SELECT {} FROM page)",
        json_rows(
            backend,
            "page.code, page.name, page.name_en, page.kind, page.total_count",
            Some(&page_order.join(", "))
        )
    )];
    lists.extend(
        along
            .coverage
            .iter()
            .map(|(period, branch_type)| coverage_sql(backend, *period, *branch_type)),
    );
    if along.programs {
        lists.push(programs_sql(backend));
    }
    // LIMIT and OFFSET are written as numbers, not bound, like the period and the branch type
    // of the coverage lists: SQLite plans by such values, so bound ones make it parse and plan
    // the whole statement again on every execution (a sixth of the dashboard's SQL time). All
    // are values of ours (integers, or a branch type's own name), so nothing of a request's text
    // enters the SQL, and the statement cache holds one entry per set of them in use.
    let mut statement = backend.build(&query);
    statement.sql = format!(
        "WITH page AS ({} LIMIT {} OFFSET {}) SELECT {}",
        statement.sql,
        page.limit,
        page.offset,
        lists.join(", ")
    );
    let Some(row) = db.query_one_raw(statement).await? else {
        return Err(decode_error("the page", "no row").into());
    };
    let text = |i: usize| row.try_get_by_index::<Option<String>>(i);
    let cities =
        json_items::<(String, String, String, String, i64)>("the cities", text(0)?.as_deref())?;
    let total = match cities.first() {
        Some(city) => u64::try_from(city.4).unwrap_or_default(),
        None => count(db, base).await?,
    };
    let mut coverage = Vec::with_capacity(along.coverage.len());
    for i in 0..along.coverage.len() {
        coverage.push(coverage_by_city(text(1 + i)?.as_deref())?);
    }
    let mut programs = if along.programs {
        Some(programs_by_city(
            text(1 + along.coverage.len())?.as_deref(),
        )?)
    } else {
        None
    };
    let items = cities
        .into_iter()
        .map(|(code, name, name_en, kind, _)| {
            let city = city::Model {
                kind: CityKind::try_from_value(&kind)?,
                code,
                name,
                name_en,
            };
            Ok(CityWith {
                coverage: coverage
                    .iter_mut()
                    .map(|by_city| by_city.remove(&city.code).unwrap_or_default())
                    .collect(),
                programs: programs
                    .as_mut()
                    .map(|by_city| by_city.remove(&city.code).unwrap_or_default()),
                city,
            })
        })
        .collect::<Result<Vec<_>, DbErr>>()?;
    Ok(Page {
        items,
        offset: page.offset,
        total,
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

/// The coverage records of the page's cities in `period`, of `branch_type` or all, as
/// [`coverage_by_city`] reads them.
fn coverage_sql(
    backend: DbBackend,
    period: Option<i32>,
    branch_type: Option<BranchType>,
) -> String {
    let fields = format!(
        "r.city_code, r.id, r.branch_type, r.period, r.branch_count, r.eligible_count, \
         r.new_branches, {}, r.rate_scope, r.source, r.version, r.updated_at, r.updated_by",
        exact_real(backend, "r.stated_rate")
    );
    let period = match period {
        Some(year) => year.to_string(),
        None => LATEST_PERIOD_SQL.to_owned(),
    };
    let branch_type = branch_type
        .map(|t| format!(" AND r.branch_type = '{}'", t.to_value()))
        .unwrap_or_default();
    format!(
        "(SELECT {} FROM coverage_records r WHERE r.city_code IN (SELECT code FROM page) \
         AND r.period = {period}{branch_type})",
        json_rows(backend, &fields, None)
    )
}

/// The designations of the page's cities with their programmes, as [`programs_by_city`] reads
/// them.
fn programs_sql(backend: DbBackend) -> String {
    let fields = "d.city_code, d.program_code, d.since_year, d.source, d.version, \
                  p.name, p.name_en, p.level, p.stated_size, p.source";
    format!(
        "(SELECT {} FROM pilot_designations d JOIN pilot_programs p ON p.code = d.program_code \
         WHERE d.city_code IN (SELECT code FROM page))",
        json_rows(backend, fields, None)
    )
}

/// A record as [`coverage_sql`] writes it.
type CoverageItem = (
    String,
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

/// A designation and its programme as [`programs_sql`] writes them.
type ProgramItem = (
    String,
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

/// The records of [`coverage_sql`] by city code.
fn coverage_by_city(
    json: Option<&str>,
) -> Result<HashMap<String, Vec<coverage_record::Model>>, DbErr> {
    let mut by_city: HashMap<String, Vec<coverage_record::Model>> = HashMap::new();
    for item in json_items::<CoverageItem>("the coverage", json)? {
        let rate = item.7;
        let record = coverage_record::Model {
            id: item.1,
            branch_type: BranchType::try_from_value(&item.2)?,
            period: item.3,
            branch_count: item.4,
            eligible_count: item.5,
            new_branches: item.6,
            stated_rate: rate
                .map(|r| {
                    r.parse::<f64>()
                        .map_err(|e| decode_error("a stated rate", e))
                })
                .transpose()?,
            rate_scope: item.8,
            source: item.9,
            version: item.10,
            updated_at: chrono::DateTime::parse_from_rfc3339(&item.11)
                .map_err(|e| decode_error("a time of update", e))?
                .to_utc(),
            updated_by: item.12,
            city_code: item.0,
        };
        by_city
            .entry(record.city_code.clone())
            .or_default()
            .push(record);
    }
    Ok(by_city)
}

/// The designations of [`programs_sql`] with their programmes by city code, each city's by
/// programme code.
fn programs_by_city(json: Option<&str>) -> Result<HashMap<String, Vec<DesignatedProgram>>, DbErr> {
    let mut by_city: HashMap<String, Vec<DesignatedProgram>> = HashMap::new();
    for item in json_items::<ProgramItem>("the programmes", json)? {
        let program = pilot_program::Model {
            code: item.1.clone(),
            name: item.5,
            name_en: item.6,
            level: entity::ProgramLevel::try_from_value(&item.7)?,
            stated_size: item.8,
            source: item.9,
        };
        let designation = pilot_designation::Model {
            city_code: item.0,
            program_code: item.1,
            since_year: item.2,
            source: item.3,
            version: item.4,
        };
        by_city
            .entry(designation.city_code.clone())
            .or_default()
            .push((designation, program));
    }
    for designations in by_city.values_mut() {
        designations.sort_unstable_by(|a, b| a.0.program_code.cmp(&b.0.program_code));
    }
    Ok(by_city)
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

/// The keys that sort a page by `order`, each with whether it runs largest first, joining what
/// they need to `query`: unknown figures last in either direction, ties by code.
fn order_keys(
    query: &mut SelectStatement,
    order: &CityOrder,
    backend: DbBackend,
) -> AppResult<Vec<(Expr, bool)>> {
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
    let mut keys = Vec::with_capacity(3);
    if let Some(key) = key {
        // Portable NULLS LAST: SQLite sorts NULL first ascending, PostgreSQL last.
        keys.push((key.clone().is_null(), false));
        keys.push((key, order.descending));
    }
    let code_descending = order.field == CityOrderField::Code && order.descending;
    keys.push((
        Expr::col((city::Entity, city::Column::Code)),
        code_descending,
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
