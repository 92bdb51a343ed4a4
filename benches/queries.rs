//! In-process benchmark of the three queries the dashboards and analysts send most: the
//! dashboard (every city with its latest coverage and programmes), one city's detail, and the
//! province summary, on an SQLite file at 18 cities (the report) and 1,800 (synthetic).
//!
//! `cargo bench` prints, per query and size, requests per second with 16 concurrent clients and
//! the SQL statements per request. No HTTP: this measures the schema, loaders and database; the
//! load script (`scripts/load.sh`) measures the whole server.

// A benchmark that cannot set itself up should stop with the reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use coverage_api::auth::Actor;
use coverage_api::config::{DatabaseArgs, ServeArgs};
use coverage_api::db::{self, Database};
use coverage_api::graphql::{Api, Transport};
use coverage_api::{seed, server};

const CLIENTS: usize = 16;

const QUERIES: [(&str, &str); 3] = [
    (
        "dashboard",
        "{ cities(first: 100) { totalCount nodes { code name nameEn kind coverage { branchType \
         period branchCount eligibleCount newBranches coverageRate rateIsStated rateScope source \
         updatedAt } pilotPrograms { code name } } } }",
    ),
    (
        "city detail",
        "query($code: ID!) { city(code: $code) { code name nameEn kind coverage { branchType \
         period branchCount eligibleCount coverageRate rateIsStated source } history { period \
         branchType branchCount eligibleCount coverageRate } pilotDesignations { sinceYear \
         program { code name level } } } }",
    ),
    (
        "summary",
        "{ summary { period byType { branchType citiesReporting branchCountSum \
         eligibleCountSum coverageRate newBranchesSum provinceReportedTotal \
         fullCoverageCities { code name } } } }",
    ),
];

fn main() {
    // `cargo bench -- dashboard` runs only the queries whose name contains an argument;
    // BENCH_SECONDS sets how long each is measured (default 3).
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let run_for = Duration::from_secs_f64(
        std::env::var("BENCH_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(3.0),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        println!("| query | cities | requests/s ({CLIENTS} clients) | SQL statements/request |");
        println!("|---|---:|---:|---:|");
        for cities in [18usize, 1800] {
            let (db, dir) = database(cities).await;
            let api = server::state(db.clone(), &ServeArgs::default()).api;
            let code = if cities == 18 { "410800" } else { "900001" };
            for (name, query) in QUERIES {
                if !filters.is_empty() && !filters.iter().any(|f| name.contains(f.as_str())) {
                    continue;
                }
                let (rps, statements) = measure(&api, &db, query, code, run_for).await;
                println!("| {name} | {cities} | {rps:.0} | {statements:.1} |");
            }
            db.conn.close_by_ref().await.ok();
            std::fs::remove_dir_all(dir).ok();
        }
    });
}

async fn database(cities: usize) -> (Database, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!(
        "coverage-api-bench-{}-{cities}",
        std::process::id()
    ));
    std::fs::remove_dir_all(&dir).ok();
    let url = format!("sqlite://{}/bench.db?mode=rwc", dir.display());
    let db = db::connect(&DatabaseArgs {
        database_url: url,
        database_max_connections: None,
    })
    .await
    .unwrap();
    db::migrate(&db).await.unwrap();
    if cities == 18 {
        seed::report::load_if_empty(&db.conn).await.unwrap();
    } else {
        seed::synthetic::generate(&db, cities, 5).await.unwrap();
    }
    (db, dir)
}

fn request(query: &str, code: &str) -> async_graphql::Request {
    async_graphql::Request::new(query).variables(async_graphql::Variables::from_json(
        serde_json::json!({ "code": code }),
    ))
}

/// Requests per second over `run_for` with `CLIENTS` concurrent clients, and statements per
/// request measured on one request alone.
async fn measure(
    api: &Api,
    db: &Database,
    query: &str,
    code: &str,
    run_for: Duration,
) -> (f64, f64) {
    let before = db.statement_count();
    let response = api
        .execute(Actor::Anonymous, Transport::Post, request(query, code))
        .await
        .response;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let statements = (db.statement_count() - before) as f64;

    let started = Instant::now();
    let done = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let (api, done) = (api.clone(), Arc::clone(&done));
        let (query, code) = (query.to_owned(), code.to_owned());
        clients.push(tokio::spawn(async move {
            while started.elapsed() < run_for {
                let response = api
                    .execute(Actor::Anonymous, Transport::Post, request(&query, &code))
                    .await
                    .response;
                assert!(response.errors.is_empty());
                done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }));
    }
    for client in clients {
        client.await.unwrap();
    }
    let rps =
        done.load(std::sync::atomic::Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    (rps, statements)
}
