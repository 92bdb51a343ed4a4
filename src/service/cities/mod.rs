//! Cities: one by code, several by code, and the filtered, ordered, paged list.

use entity::{city, coverage_record, pilot_designation, pilot_program};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query};
use sea_orm::{ActiveEnum, ConnectionTrait, DbErr, EntityTrait, Statement};

mod sql;

use super::{decode_error, json_items, json_rows};
use crate::domain::{BranchType, CityKind, Page, PageRequest};
use crate::error::{AppError, AppResult};
use sql::*;

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

impl CityFilter {
    /// Refuses a filter no city could be measured against (whichever store answers).
    pub(crate) fn check(&self) -> AppResult<()> {
        match self.min_coverage {
            Some(threshold) if !(0.0..=1.0).contains(&threshold.min_rate) => {
                Err(AppError::BadUserInput(format!(
                    "minCoverage.rate must be between 0 and 1, got {}",
                    threshold.min_rate
                )))
            }
            _ => Ok(()),
        }
    }
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

impl CityOrder {
    /// The branch type whose figure orders the list: required by `BranchCount` and
    /// `CoverageRate` (call it for those only).
    pub(crate) fn figure_type(&self) -> AppResult<BranchType> {
        self.branch_type.ok_or_else(|| {
            AppError::BadUserInput(
                "ordering by BRANCH_COUNT or COVERAGE_RATE needs orderBy.branchType".into(),
            )
        })
    }
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
    // LIMIT and OFFSET are written as numbers, not bound, like the period and the branch type
    // of the coverage lists: SQLite plans by such values, so bound ones make it parse and plan
    // the whole statement again on every execution (a sixth of the dashboard's SQL time). All
    // are values of ours (integers, or a branch type's own name), so nothing of a request's text
    // enters the SQL, and the statement cache holds one entry per set of them in use.
    let mut statement = backend.build(&query);
    statement.sql = format!(
        "{} LIMIT {} OFFSET {}",
        statement.sql, page.limit, page.offset
    );
    let (items, first_total) = read(db, statement, &page_order.join(", "), along).await?;
    let total = match first_total {
        Some(total) => u64::try_from(total).unwrap_or_default(),
        None => count(db, base).await?,
    };
    Ok(Page {
        items,
        offset: page.offset,
        total,
    })
}

/// The cities among `codes` that exist, by code, each with what `along` asks for: the list's
/// own statement over these cities instead of a page. This is how a city reached otherwise
/// (`city(code)`, `node(id)`, a designation's city) gets its children, batched by the
/// DataLoaders: one way to read a city's children, whichever way the city was reached.
pub async fn with_children(
    db: &impl ConnectionTrait,
    codes: &[String],
    along: &Along,
) -> AppResult<Vec<CityWith>> {
    if codes.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = Query::select();
    query
        .columns([
            city::Column::Code,
            city::Column::Name,
            city::Column::NameEn,
            city::Column::Kind,
        ])
        .expr_as(Expr::cust("0"), Alias::new("total_count"))
        .from(city::Entity)
        .and_where(Expr::col(city::Column::Code).is_in(codes.iter().map(String::as_str)));
    let statement = db.get_database_backend().build(&query);
    Ok(read(db, statement, "page.code ASC", along).await?.0)
}

/// The cities `page` selects (`code, name, name_en, kind, total_count`, sorted by `page_order`
/// over its columns), each with what `along` asks for, in one statement that names the page
/// once (`WITH page AS (…)`) and selects one JSON text per list; and the first city's
/// `total_count`.
async fn read(
    db: &impl ConnectionTrait,
    page: Statement,
    page_order: &str,
    along: &Along,
) -> AppResult<(Vec<CityWith>, Option<i64>)> {
    let backend = db.get_database_backend();
    let mut lists = vec![format!(
        "(SELECT {} FROM page)",
        json_rows(
            backend,
            "page.code, page.name, page.name_en, page.kind, page.total_count",
            Some(page_order)
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
    let statement = Statement {
        sql: format!("WITH page AS ({}) SELECT {}", page.sql, lists.join(", ")),
        ..page
    };
    let Some(row) = db.query_one_raw(statement).await? else {
        return Err(decode_error("the page", "no row").into());
    };
    let text = |i: usize| row.try_get_by_index::<Option<String>>(i);
    let cities =
        json_items::<(String, String, String, String, i64)>("the cities", text(0)?.as_deref())?;
    let first_total = cities.first().map(|city| city.4);
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
    Ok((items, first_total))
}
