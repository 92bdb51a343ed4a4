//! Benchmark of a spreadsheet import at province scale: a workbook of 1,800 cities × 3 branch
//! types (5,400 rows, every row changed), read, checked and written through the write path, as a
//! dry run and then applied; on an SQLite file and, when `BENCH_POSTGRES_URL` names a server
//! (`postgres://postgres@127.0.0.1:5432/postgres`), on a fresh PostgreSQL database.
//!
//! `cargo bench --bench import` prints, per database, the workbook's size and the time of the
//! dry run and of the apply (the median of three runs each; each apply changes every row).

// A benchmark that cannot set itself up should stop with the reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use coverage_api::config::{DatabaseArgs, ServeArgs};
use coverage_api::db::{self, Database};
use coverage_api::events::Events;
use coverage_api::seed;
use coverage_api::service::import::{self, Ended, Upload};
use coverage_api::service::writes::Writer;
use coverage_api::sheets::Lang;
use coverage_api::sheets::export::{self, Selection};
use sea_orm::ConnectionTrait;

const CITIES: usize = 1_800;
const RUNS: usize = 3;

async fn database(url: String) -> Database {
    let db = db::connect(&DatabaseArgs {
        database_url: url,
        database_max_connections: None,
    })
    .await
    .unwrap();
    db::migrate(&db).await.unwrap();
    seed::synthetic::generate(&db, CITIES, 1).await.unwrap();
    db
}

/// The export of the one period with every row's source changed to `source`: a change to
/// every record that breaks no rule.
async fn workbook(db: &Database, source: &str) -> Vec<u8> {
    let mut rows = coverage_api::service::export::rows(&db.conn, &Selection::default())
        .await
        .unwrap();
    for row in &mut rows {
        if let Some(record) = row.record.as_mut() {
            record.source = Some(source.to_owned());
        }
    }
    export::xlsx(&rows, None, Lang::Zh).unwrap()
}

async fn run(db: &Database, bytes: &[u8], dry_run: bool) -> (Duration, usize) {
    let events = Events::new(db.backend(), 16);
    let limits = coverage_api::sheets::report::ImportLimits::of(&ServeArgs::default());
    let started = Instant::now();
    let ended = import::import(
        &db.conn,
        &events,
        None,
        Writer::server("bench"),
        Upload {
            bytes: bytes.to_vec().into(),
            name: "bench.xlsx",
            dry_run,
        },
        limits,
    )
    .await
    .unwrap();
    let elapsed = started.elapsed();
    let Ended::Read(report) = ended else {
        panic!("the workbook was not read: {ended:?}");
    };
    assert!(report.errors.is_empty(), "{:?}", &report.errors[..1]);
    (elapsed, report.changes.len())
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

async fn bench(label: &str, db: Database) {
    let mut dry = Vec::new();
    let mut applied = Vec::new();
    let mut size = 0;
    for i in 0..RUNS {
        let bytes = workbook(&db, &format!("benchmark return {i}")).await;
        size = bytes.len();
        let (time, changes) = run(&db, &bytes, true).await;
        assert_eq!(changes, CITIES * 3);
        dry.push(time);
        let (time, changes) = run(&db, &bytes, false).await;
        assert_eq!(changes, CITIES * 3);
        applied.push(time);
    }
    println!(
        "{label:<10} workbook {:>7} KiB, {} rows: dry run {:>6.0} ms, apply {:>6.0} ms",
        size / 1024,
        CITIES * 3,
        median(dry).as_secs_f64() * 1000.0,
        median(applied).as_secs_f64() * 1000.0
    );
}

#[tokio::main]
async fn main() {
    let dir =
        std::env::temp_dir().join(format!("coverage-api-bench-import-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    let sqlite = database(format!("sqlite://{}/bench.db?mode=rwc", dir.display())).await;
    bench("SQLite", sqlite).await;
    std::fs::remove_dir_all(&dir).ok();
    if let Ok(admin_url) = std::env::var("BENCH_POSTGRES_URL") {
        let admin = db::connect(&DatabaseArgs {
            database_url: admin_url.clone(),
            database_max_connections: Some(1),
        })
        .await
        .unwrap();
        let name = "coverage_bench_import";
        for sql in [
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            format!("CREATE DATABASE {name}"),
        ] {
            admin.conn.execute_unprepared(&sql).await.unwrap();
        }
        let url = match admin_url.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{name}"),
            None => panic!("BENCH_POSTGRES_URL has no database name"),
        };
        bench("PostgreSQL", database(url).await).await;
        admin
            .conn
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await
            .unwrap();
    }
}
