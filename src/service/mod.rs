//! The operations behind the API, over any sea-orm connection (`&impl ConnectionTrait`, so a
//! transaction works as well as the pool). Business rules live here; GraphQL lives elsewhere.

pub mod accounts;
pub mod backup;
pub mod cities;
pub mod coverage;
pub mod export;
pub mod import;
pub mod memory;
pub mod passwords;
pub mod pilots;
pub mod publications;
pub mod report;
pub mod returns;
pub mod revisions;
pub mod rounds;
pub mod summary;
pub mod tokens;
pub mod writes;

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveEnum, DbBackend, DbErr};

/// SQL for the latest period with public data: the newest year of any city's published record, or, in
/// a database with no records yet, the newest province total. City figures lead: a province total
/// filed for a new year before any city's figures must not empty every dashboard's default view.
/// One subquery, so "latest" costs no extra round trip; each MAX is answered from an index.
const LATEST_PERIOD_SQL: &str = "COALESCE((SELECT MAX(period) FROM public_records), \
     (SELECT MAX(period) FROM province_totals))";

/// `period`, or the latest period with data when it is `None`.
fn period_expr(period: Option<i32>) -> Expr {
    match period {
        Some(year) => Expr::val(year),
        None => Expr::cust(LATEST_PERIOD_SQL),
    }
}

/// The rows of `E` whose `code` is among `codes`, ordered by it. One statement.
async fn by_codes<E: sea_orm::EntityTrait>(
    db: &impl sea_orm::ConnectionTrait,
    code: E::Column,
    codes: &[String],
) -> crate::error::AppResult<Vec<E::Model>> {
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
    Ok(E::find()
        .filter(code.is_in(codes.iter().map(String::as_str)))
        .order_by_asc(code)
        .all(db)
        .await?)
}

/// Most keys one statement looks up as an OR of conditions. SQLite's parser nests an OR chain
/// one level per term, recursively: a few thousand terms (a DataLoader's batch, bounded only by
/// the document limits, e.g. 20 `nodes` fields of 100 ids) overflow a thread's stack and abort
/// the process. A batch is looked up in statements of at most this many keys.
pub const KEYS_PER_STATEMENT: usize = 100;

/// The rows of `E` that match one of `keys` (each key's condition made by `matches`), in
/// statements of at most [`KEYS_PER_STATEMENT`] keys; none for no keys.
async fn find_any<E: sea_orm::EntityTrait, K>(
    db: &impl sea_orm::ConnectionTrait,
    keys: &[K],
    matches: impl Fn(&K) -> sea_orm::Condition,
) -> crate::error::AppResult<Vec<E::Model>> {
    find_any_into::<E, E::Model, K>(db, keys, matches).await
}

/// [`find_any`], each row read as an `M` (a table of another entity's shape).
async fn find_any_into<E: sea_orm::EntityTrait, M: sea_orm::FromQueryResult, K>(
    db: &impl sea_orm::ConnectionTrait,
    keys: &[K],
    matches: impl Fn(&K) -> sea_orm::Condition,
) -> crate::error::AppResult<Vec<M>> {
    use sea_orm::QueryFilter;
    let mut found = Vec::new();
    for chunk in keys.chunks(KEYS_PER_STATEMENT) {
        let any = chunk
            .iter()
            .fold(sea_orm::Condition::any(), |any, key| any.add(matches(key)));
        found.extend(E::find().filter(any).into_model::<M>().all(db).await?);
    }
    Ok(found)
}

/// The coverage rate of the coverage-record row aliased `alias`, in SQL, following
/// [`crate::domain::coverage_rate`]: counts when both are known and eligible > 0, else the
/// stated rate. The text is the migration's (its partial index of fully covered records uses it).
fn rate_sql(alias: &str) -> Expr {
    Expr::cust(migration::rate_sql(alias))
}

/// A JSON array of JSON arrays of `fields`, one per row, as text: an empty array, or null,
/// when there is no row. The two databases name the same functions differently; both keep
/// `order` (when given) inside the aggregate. Without `order` the rows come as the database
/// reads them. A rate travels as text of 17 significant digits, which reads back as exactly the
/// stored double (SQLite's JSON writes 15).
pub(crate) fn json_rows(backend: DbBackend, fields: &str, order: Option<&str>) -> String {
    let order = order.map(|o| format!(" ORDER BY {o}")).unwrap_or_default();
    match backend {
        DbBackend::Postgres => {
            format!("CAST(json_agg(json_build_array({fields}){order}) AS TEXT)")
        }
        _ => format!("json_group_array(json_array({fields}){order})"),
    }
}

pub(crate) fn decode_error(what: &str, err: impl std::fmt::Display) -> DbErr {
    DbErr::Type(format!("{what} of a city page: {err}"))
}

/// The JSON array of one city's records; null is none.
pub(crate) fn json_items<T: serde::de::DeserializeOwned>(
    what: &str,
    json: Option<&str>,
) -> Result<Vec<T>, DbErr> {
    match json {
        None => Ok(Vec::new()),
        Some(text) => serde_json::from_str(text).map_err(|e| decode_error(what, e)),
    }
}

/// Cities as `json_rows` writes `cities.code, cities.name, cities.name_en, cities.kind`.
fn cities_from_json(json: Option<&str>) -> Result<Vec<entity::city::Model>, DbErr> {
    json_items::<(String, String, String, String)>("cities", json)?
        .into_iter()
        .map(|(code, name, name_en, kind)| {
            Ok(entity::city::Model {
                code,
                name,
                name_en,
                kind: entity::CityKind::try_from_value(&kind)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a test: a failed step is a failed test

    use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};

    use super::rate_sql;
    use crate::config::DatabaseArgs;
    use crate::domain::coverage_rate;

    /// Counts and stated rates as records hold them: unknowns, zeros, equal and unequal counts.
    fn generated() -> Vec<(Option<i32>, Option<i32>, Option<f64>)> {
        let counts = [None, Some(0), Some(1), Some(3), Some(7), Some(10_000_000)];
        let rates = [None, Some(0.0), Some(0.95), Some(1.0)];
        let mut rows = Vec::new();
        for branches in counts {
            for eligible in counts {
                for rate in rates {
                    if let (Some(b), Some(e)) = (branches, eligible)
                        && b > e
                    {
                        continue; // never stored: branches cannot exceed eligible units
                    }
                    rows.push((branches, eligible, rate));
                }
            }
        }
        rows
    }

    /// The rate formula is written twice, in Rust (`domain::coverage_rate`, for each record) and
    /// in SQL (`rate_sql`, for filters, sorting and full coverage): both give the same rate for
    /// every record, on SQLite and (with TEST_DATABASE_URL) on PostgreSQL.
    #[tokio::test]
    async fn the_sql_rate_is_the_rust_rate() {
        let mut urls = vec!["sqlite::memory:".to_owned()];
        urls.extend(
            std::env::var("TEST_DATABASE_URL")
                .ok()
                .filter(|u| !u.is_empty()),
        );
        for url in urls {
            let db = crate::db::connect(&DatabaseArgs {
                database_url: url,
                database_max_connections: Some(1),
            })
            .await
            .unwrap();
            let backend = db.backend();
            let txn = db.conn.begin().await.unwrap();
            txn.execute_unprepared(
                "CREATE TEMPORARY TABLE rate_check (id INTEGER PRIMARY KEY, branch_count INTEGER, \
                 eligible_count INTEGER, stated_rate DOUBLE PRECISION)",
            )
            .await
            .unwrap();
            let rows = generated();
            for (id, (b, e, r)) in rows.iter().enumerate() {
                let sql = match backend {
                    DbBackend::Postgres => "INSERT INTO rate_check VALUES ($1, $2, $3, $4)",
                    _ => "INSERT INTO rate_check VALUES (?, ?, ?, ?)",
                };
                let id = i32::try_from(id).unwrap();
                txn.execute_raw(Statement::from_sql_and_values(
                    backend,
                    sql,
                    [id.into(), (*b).into(), (*e).into(), (*r).into()],
                ))
                .await
                .unwrap();
            }
            let select = sea_orm::sea_query::Query::select()
                .expr(rate_sql("c"))
                .from_as(
                    sea_orm::sea_query::Alias::new("rate_check"),
                    sea_orm::sea_query::Alias::new("c"),
                )
                .order_by(
                    sea_orm::sea_query::Alias::new("id"),
                    sea_orm::sea_query::Order::Asc,
                )
                .to_owned();
            let answered = txn.query_all(&select).await.unwrap();
            assert_eq!(answered.len(), rows.len());
            for (row, (b, e, r)) in answered.iter().zip(&rows) {
                let sql: Option<f64> = row.try_get_by_index(0).unwrap();
                let rust = coverage_rate(*b, *e, *r).value;
                assert_eq!(
                    sql, rust,
                    "{backend:?}: branches {b:?}, eligible {e:?}, stated {r:?}"
                );
            }
            txn.rollback().await.unwrap();
        }
    }
}
