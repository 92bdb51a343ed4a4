//! The operations behind the API, over any sea-orm connection (`&impl ConnectionTrait`, so a
//! transaction works as well as the pool). Business rules live here; GraphQL lives elsewhere.

pub mod cities;
pub mod coverage;
pub mod pilots;
pub mod summary;

use sea_orm::sea_query::Expr;

/// SQL for the latest period with data: the newest year of any coverage record or province
/// total. Kept as one subquery so "latest" costs no extra round trip; each inner MAX is answered
/// from an index (`ix_coverage_records_period_type`, the province totals' key) rather than a scan.
const LATEST_PERIOD_SQL: &str = "(SELECT MAX(latest) FROM (\
     SELECT MAX(period) AS latest FROM coverage_records \
     UNION ALL SELECT MAX(period) AS latest FROM province_totals) AS latest_periods)";

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
