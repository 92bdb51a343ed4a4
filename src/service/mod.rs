//! The operations behind the API, over any sea-orm connection (`&impl ConnectionTrait`, so a
//! transaction works as well as the pool). Business rules live here; GraphQL lives elsewhere.

pub mod cities;
pub mod coverage;
pub mod pilots;
pub mod revisions;
pub mod summary;
pub mod tokens;
pub mod writes;

use sea_orm::sea_query::Expr;

/// SQL for the latest period with data: the newest year of any city's coverage record, or, in
/// a database with no records yet, the newest province total. City figures lead: a province total
/// filed for a new year before any city's figures must not empty every dashboard's default view.
/// One subquery, so "latest" costs no extra round trip; each MAX is answered from an index.
const LATEST_PERIOD_SQL: &str = "COALESCE((SELECT MAX(period) FROM coverage_records), \
     (SELECT MAX(period) FROM province_totals))";

/// `period`, or the latest period with data when it is `None`.
fn period_expr(period: Option<i32>) -> Expr {
    match period {
        Some(year) => Expr::val(year),
        None => Expr::cust(LATEST_PERIOD_SQL),
    }
}

/// The coverage rate of the coverage-record row aliased `alias`, in SQL, following
/// [`crate::domain::coverage_rate`]: counts when both are known and eligible > 0, else the
/// stated rate.
fn rate_sql(alias: &str) -> Expr {
    Expr::cust(format!(
        "(CASE WHEN {a}.branch_count IS NOT NULL AND {a}.eligible_count > 0 \
         THEN CAST({a}.branch_count AS DOUBLE PRECISION) / {a}.eligible_count \
         ELSE {a}.stated_rate END)",
        a = alias
    ))
}
