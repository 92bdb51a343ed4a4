//! The SQL of the city list: the filter, the sort keys with their tie-breakers, the count, and
//! the one statement each that brings every listed city's figures and programmes.

use std::collections::HashMap;

use entity::{city, coverage_record, pilot_designation, pilot_program, public_record};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, Query, SelectStatement};
use sea_orm::{ActiveEnum, ConnectionTrait, DbBackend, DbErr};

use super::*;
use crate::domain::BranchType;
use crate::error::AppResult;
use crate::service::{
    LATEST_PERIOD_SQL, decode_error, json_items, json_rows, period_expr, rate_sql,
};

/// A rate column as text that reads back as the same double, or null.
pub(super) fn exact_real(backend: DbBackend, column: &str) -> String {
    match backend {
        // PostgreSQL 12 and later print the shortest text that reads back exactly.
        DbBackend::Postgres => format!("CAST({column} AS TEXT)"),
        _ => format!("CASE WHEN {column} IS NULL THEN NULL ELSE printf('%!.17g', {column}) END"),
    }
}

/// The coverage records of the page's cities in `period`, of `branch_type` or all, as
/// [`coverage_by_city`] reads them.
pub(super) fn coverage_sql(
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
        "(SELECT {} FROM public_records r WHERE r.city_code IN (SELECT code FROM page) \
         AND r.period = {period}{branch_type})",
        json_rows(backend, &fields, None)
    )
}

/// The designations of the page's cities with their programmes, as [`programs_by_city`] reads
/// them.
pub(super) fn programs_sql(backend: DbBackend) -> String {
    let fields = "d.city_code, d.program_code, d.since_year, d.source, d.version, \
                  p.name, p.name_en, p.level, p.stated_size, p.source, p.version";
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
    i32,
);

/// The records of [`coverage_sql`] by city code.
pub(super) fn coverage_by_city(
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
pub(super) fn programs_by_city(
    json: Option<&str>,
) -> Result<HashMap<String, Vec<DesignatedProgram>>, DbErr> {
    let mut by_city: HashMap<String, Vec<DesignatedProgram>> = HashMap::new();
    for item in json_items::<ProgramItem>("the programmes", json)? {
        let program = pilot_program::Model {
            code: item.1.clone(),
            name: item.5,
            name_en: item.6,
            level: entity::ProgramLevel::try_from_value(&item.7)?,
            stated_size: item.8,
            source: item.9,
            version: item.10,
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
pub(super) fn count_query(mut base: SelectStatement) -> SelectStatement {
    base.column((city::Entity, city::Column::Code));
    Query::select()
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
        .from_subquery(base, Alias::new("matching"))
        .to_owned()
}

pub(super) async fn count(db: &impl ConnectionTrait, base: SelectStatement) -> AppResult<u64> {
    let n: i64 = match db.query_one(&count_query(base)).await? {
        Some(row) => row.try_get("", "n")?,
        None => 0,
    };
    Ok(u64::try_from(n).unwrap_or_default())
}

/// `FROM cities` with the filter's joins and conditions, no columns yet.
pub(super) fn filtered(filter: &CityFilter) -> AppResult<SelectStatement> {
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
    filter.check()?;
    if let Some(threshold) = filter.min_coverage {
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
pub(super) fn order_keys(
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
            let branch_type = order.figure_type()?;
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

/// Joins the published coverage record of each city for `branch_type` in `period` as `alias`.
pub(super) fn join_coverage(
    query: &mut SelectStatement,
    alias: &str,
    branch_type: BranchType,
    period: Option<i32>,
    join: JoinType,
) {
    let a = Alias::new(alias);
    query.join_as(
        join,
        public_record::Entity,
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
