//! `TestApp`: the real router on a real database, bound to a free port. In-memory SQLite by
//! default; with `TEST_DATABASE_URL` (a PostgreSQL server URL) each app gets a fresh database of
//! its own, dropped when the app is.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};

use chrono::Utc;
use coverage_api::cache::ResponseCache;
use coverage_api::config::{DatabaseArgs, ServeArgs};
use coverage_api::db::{self, Database};
use coverage_api::events::Events;
use coverage_api::{seed, server};
use entity::{BranchType, api_token, coverage_record};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::NotSet, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};
use tokio::sync::oneshot;

static NEXT_DB: AtomicU32 = AtomicU32::new(0);

/// Taken by the tests that load the machine hardest (sockets full of events, extra server
/// processes) and by the one whose statement count depends on DataLoader timing, so that they do
/// not run at the same time: on 2 cores the load stretches the loaders' 1 ms batching window.
pub async fn exclusive() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

/// A running server and a handle on its database.
pub struct TestApp {
    /// Where the server listens.
    pub addr: SocketAddr,
    /// The server's database (its statement counter included).
    pub db: Database,
    /// The server's change-event hub.
    pub events: Events,
    /// The server's response cache.
    pub response_cache: ResponseCache,
    /// The server's places for imports and exports, and its exports kept ready.
    pub sheets: coverage_api::http::Sheets,
    /// The server's memory of published figures.
    pub memory: coverage_api::service::memory::Memory,
    /// An HTTP client.
    pub client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    postgres: Option<PostgresDb>,
}

struct PostgresDb {
    admin_url: String,
    name: String,
}

impl TestApp {
    /// The secret of a new administrator's token, made in the app's database.
    pub async fn admin_token(&self) -> String {
        coverage_api::service::tokens::create(
            &self.db.conn,
            "Province admin",
            entity::Role::Admin,
            None,
        )
        .await
        .expect("create an administrator's token")
        .secret
    }

    /// A server over the report's facts, as a fresh `serve` loads them.
    pub async fn spawn() -> Self {
        let app = Self::spawn_empty().await;
        seed::report::load_if_empty(&app.db.conn)
            .await
            .expect("load the report");
        // Written beside the server, not through it: say so (see `insert_coverage`).
        app.events.changed();
        app
    }

    /// A server over the report's facts as figures entered outside the yearly return (public,
    /// no rounds), as an administrator may enter a year's figures: for the tests of pages and
    /// subscriptions that write the report's year directly.
    pub async fn spawn_outside_rounds() -> Self {
        Self::spawn_outside_rounds_with(ServeArgs::default()).await
    }

    /// [`TestApp::spawn_outside_rounds`] with these HTTP settings.
    pub async fn spawn_outside_rounds_with(serve: ServeArgs) -> Self {
        let app = Self::spawn_on(serve).await;
        seed::report::load_unpublished_if_empty(&app.db.conn)
            .await
            .expect("load the report");
        migration::make_all_public(&app.db.conn)
            .await
            .expect("make it public");
        app.events.changed();
        app
    }

    /// A server over a synthetic data set of `cities` cities and `periods` periods.
    pub async fn spawn_synthetic(cities: usize, periods: usize) -> Self {
        Self::spawn_synthetic_with(cities, periods, ServeArgs::default()).await
    }

    /// [`TestApp::spawn_synthetic`] with these settings.
    pub async fn spawn_synthetic_with(cities: usize, periods: usize, serve: ServeArgs) -> Self {
        let app = Self::spawn_on(serve).await;
        seed::synthetic::generate(&app.db, cities, periods)
            .await
            .expect("generate");
        app.events.changed();
        app
    }

    /// A server over the report's facts with these HTTP settings.
    pub async fn spawn_with(serve: ServeArgs) -> Self {
        let app = Self::spawn_on(serve).await;
        seed::report::load_if_empty(&app.db.conn)
            .await
            .expect("load the report");
        // Written beside the server, not through it: say so (see `insert_coverage`).
        app.events.changed();
        app
    }

    /// A server over a migrated database holding nothing.
    pub async fn spawn_empty() -> Self {
        Self::spawn_on(ServeArgs::default()).await
    }

    async fn spawn_on(serve: ServeArgs) -> Self {
        let (url, postgres) = match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.is_empty() => {
                let name = format!(
                    "coverage_test_{}_{}",
                    std::process::id(),
                    NEXT_DB.fetch_add(1, Ordering::Relaxed)
                );
                let admin = db::connect(&args(&admin_url))
                    .await
                    .expect("connect to PostgreSQL");
                admin
                    .conn
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}"))
                    .await
                    .expect("drop an old test database");
                admin
                    .conn
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create a test database");
                admin.conn.close_by_ref().await.ok();
                (
                    database_url(&admin_url, &name),
                    Some(PostgresDb { admin_url, name }),
                )
            }
            _ => ("sqlite::memory:".to_owned(), None),
        };
        let db = db::connect(&args(&url)).await.expect("connect");
        db::migrate(&db).await.expect("migrate");
        Self::serve(db, serve, postgres).await
    }

    /// Another instance on this app's database (PostgreSQL: two instances sharing one
    /// database, as behind a load balancer). The database is dropped with the first app.
    pub async fn second_instance(&self) -> Self {
        self.second_instance_with(ServeArgs::default()).await
    }

    /// [`TestApp::second_instance`] with these settings.
    pub async fn second_instance_with(&self, serve: ServeArgs) -> Self {
        let db = db::connect(&args(self.db.url())).await.expect("connect");
        Self::serve(db, serve, None).await
    }

    async fn serve(db: Database, serve: ServeArgs, postgres: Option<PostgresDb>) -> Self {
        let state = server::state(db.clone(), &serve);
        let events = state.events.clone();
        let response_cache = state.response_cache.clone();
        let sheets = state.sheets.clone();
        let memory = state.api.memory.clone();
        // On PostgreSQL the instance is ready once it listens for change events.
        for _ in 0..500 {
            if events.is_listening() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            server::run(listener, state, &serve, async {
                rx.await.ok();
            })
            .await
            .expect("server");
        });
        Self {
            addr,
            db,
            events,
            response_cache,
            sheets,
            memory,
            client: reqwest::Client::new(),
            shutdown: Some(tx),
            postgres,
        }
    }

    /// A server over the database at `url` (migrated here) with these settings; the database
    /// is the caller's (a [`FreshDatabase`]).
    pub async fn spawn_on_url(url: &str, serve: ServeArgs) -> Self {
        let db = db::connect(&args(url)).await.expect("connect");
        db::migrate(&db).await.expect("migrate");
        Self::serve(db, serve, None).await
    }

    /// Waits until the memory of published figures is current and the data's generation has
    /// stood still for a moment (on PostgreSQL a write's own notification moves it once more,
    /// after the writer is answered).
    pub async fn until_memory_current(&self) {
        let mut still = 0;
        let mut generation = self.events.generation();
        for _ in 0..1000 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            let now = self.events.generation();
            if now == generation && self.memory.current().is_some() {
                still += 1;
                if still == 10 {
                    return;
                }
            } else {
                still = 0;
                generation = now;
            }
        }
        panic!("the memory of published figures never became current");
    }

    /// Shuts the server down gracefully, as SIGTERM does.
    pub fn shut_down(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            tx.send(()).ok();
        }
    }

    /// Waits until `n` subscriptions listen for events (and, on PostgreSQL, the instance's
    /// listener is connected), so that a write made next is heard.
    pub async fn until_subscribers(&self, n: usize) {
        for _ in 0..500 {
            if self.events.subscriber_count() >= n && self.events.is_listening() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("{n} subscribers never listened");
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// POSTs `query` to /graphql and returns the whole JSON response.
    pub async fn query(&self, query: &str) -> Value {
        self.query_with(query, json!({})).await
    }

    /// POSTs `query` with `variables` to /graphql and returns the whole JSON response.
    pub async fn query_with(&self, query: &str, variables: Value) -> Value {
        self.query_as(None, query, variables).await
    }

    /// POSTs `query` with `variables` and, when given, `Authorization: Bearer {token}`.
    pub async fn query_as(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut request = self.client.post(self.url("/graphql"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), 200, "GraphQL answers 200");
        response.json().await.expect("JSON body")
    }

    /// GETs `path`; returns status and body.
    pub async fn get(&self, path: &str) -> (u16, String) {
        let response = self.client.get(self.url(path)).send().await.expect("send");
        (
            response.status().as_u16(),
            response.text().await.expect("body"),
        )
    }

    /// Statements the database runs while `f` runs (nothing else uses it meanwhile). Every
    /// token's last use is first stamped a day ahead, so that no request in `f` spends a statement
    /// refreshing it: a token last used more than a minute ago would, and on a loaded machine the
    /// test may well have taken that long to get here.
    pub async fn statements_during<F: std::future::Future>(&self, f: F) -> (u64, F::Output) {
        api_token::Entity::update_many()
            .col_expr(
                api_token::Column::LastUsedAt,
                Expr::value(Utc::now() + chrono::Duration::days(1)),
            )
            .exec(&self.db.conn)
            .await
            .expect("stamp tokens' last use");
        let before = self.db.statement_count();
        let out = f.await;
        (self.db.statement_count() - before, out)
    }

    /// Opens the round of the yearly return for each of `periods` with every city's return, as
    /// `openRound` does (without its revision and token), so that city staff may write their
    /// figures there: as drafts, public once published.
    pub async fn open_rounds(&self, periods: &[i32]) {
        use sea_orm::TransactionTrait;
        for &period in periods {
            let now = Utc::now();
            let txn = self.db.conn.begin().await.expect("begin");
            entity::round::Entity::insert(entity::round::ActiveModel {
                period: Set(period),
                status: Set(entity::RoundStatus::Open),
                due_at: Set(None),
                opened_at: Set(now),
                closed_at: Set(None),
                version: Set(1),
            })
            .exec(&txn)
            .await
            .expect("open the round");
            coverage_api::service::writes::city_return::open_returns(&txn, period, now)
                .await
                .expect("open the returns");
            txn.commit().await.expect("commit");
        }
    }

    /// Takes `city`'s `period` return from its draft to published, as its staff (`staff`, who
    /// submits) and an administrator (`admin`, who approves and publishes) do.
    pub async fn publish_return(&self, staff: &str, admin: &str, city: &str, period: i32) {
        for (who, mutation) in [
            (staff, "submitReturn"),
            (admin, "approveReturn"),
            (admin, "publishReturn"),
        ] {
            let input_type = if mutation == "publishReturn" {
                "PublishReturnInput"
            } else {
                "ReturnKeyInput"
            };
            let response = self
                .query_as(
                    Some(who),
                    &format!(
                        "mutation($input: {input_type}!) {{ {mutation}(input: $input) {{ userErrors {{ code }} }} }}"
                    ),
                    json!({ "input": { "cityCode": city, "period": period } }),
                )
                .await;
            assert_eq!(
                response["data"][mutation]["userErrors"],
                json!([]),
                "{mutation}: {response}"
            );
        }
    }

    /// Inserts a coverage record straight into the database, published.
    #[allow(clippy::too_many_arguments)] // one argument per figure reads best in the tests
    pub async fn insert_coverage(
        &self,
        city: &str,
        branch_type: BranchType,
        period: i32,
        branch_count: Option<i32>,
        eligible_count: Option<i32>,
        new_branches: Option<i32>,
        stated_rate: Option<f64>,
    ) {
        coverage_record::Entity::insert(coverage_record::ActiveModel {
            id: NotSet,
            city_code: Set(city.into()),
            branch_type: Set(branch_type),
            period: Set(period),
            branch_count: Set(branch_count),
            eligible_count: Set(eligible_count),
            new_branches: Set(new_branches),
            stated_rate: Set(stated_rate),
            rate_scope: Set(None),
            source: Set(Some("test".into())),
            version: Set(1),
            updated_at: Set(Utc::now()),
            updated_by: Set(Some("test".into())),
        })
        .exec(&self.db.conn)
        .await
        .expect("insert coverage");
        // Published as it stands, as an administrator's figure outside the yearly return is.
        let id: i64 = coverage_record::Entity::find()
            .filter(coverage_record::Column::CityCode.eq(city))
            .filter(coverage_record::Column::BranchType.eq(branch_type))
            .filter(coverage_record::Column::Period.eq(period))
            .one(&self.db.conn)
            .await
            .expect("read the record back")
            .expect("the record")
            .id;
        migration::make_public(&self.db.conn, &[id])
            .await
            .expect("publish the record");
        // A write that bypasses the service (and so `Events::commit`) must say so, or the
        // response cache would go on answering with the figures from before it.
        self.events.changed();
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            tx.send(()).ok();
        }
        if let Some(pg) = self.postgres.take() {
            drop_postgres(pg);
        }
    }
}

/// Settings whose reads all go to the database (no published figures in memory): for the
/// tests that count the statements of the database's path, which serves whenever the memory is
/// not current (after every write, until it is read again) and every mutation.
pub fn database_reads() -> ServeArgs {
    ServeArgs {
        memory_reads_max_bytes: 0,
        ..ServeArgs::default()
    }
}

pub fn args(url: &str) -> DatabaseArgs {
    DatabaseArgs {
        database_url: url.to_owned(),
        database_max_connections: Some(4),
    }
}

/// `admin_url` with its database name replaced by `name`.
fn database_url(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (admin_url, String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_part = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    format!("{host_part}/{name}{query}")
}

/// The 18 cities as DOMAIN.md lists them: code, name, pinyin, kind. Written out here, apart
/// from the seed, so that a slip in either shows.
pub const CITIES: [(&str, &str, &str, &str); 18] = [
    ("410100", "郑州", "Zhengzhou", "PREFECTURE_CITY"),
    ("410200", "开封", "Kaifeng", "PREFECTURE_CITY"),
    ("410300", "洛阳", "Luoyang", "PREFECTURE_CITY"),
    ("410400", "平顶山", "Pingdingshan", "PREFECTURE_CITY"),
    ("410500", "安阳", "Anyang", "PREFECTURE_CITY"),
    ("410600", "鹤壁", "Hebi", "PREFECTURE_CITY"),
    ("410700", "新乡", "Xinxiang", "PREFECTURE_CITY"),
    ("410800", "焦作", "Jiaozuo", "PREFECTURE_CITY"),
    ("410900", "濮阳", "Puyang", "PREFECTURE_CITY"),
    ("411000", "许昌", "Xuchang", "PREFECTURE_CITY"),
    ("411100", "漯河", "Luohe", "PREFECTURE_CITY"),
    ("411200", "三门峡", "Sanmenxia", "PREFECTURE_CITY"),
    ("411300", "南阳", "Nanyang", "PREFECTURE_CITY"),
    ("411400", "商丘", "Shangqiu", "PREFECTURE_CITY"),
    ("411500", "信阳", "Xinyang", "PREFECTURE_CITY"),
    ("411600", "周口", "Zhoukou", "PREFECTURE_CITY"),
    ("411700", "驻马店", "Zhumadian", "PREFECTURE_CITY"),
    ("419001", "济源", "Jiyuan", "DEMONSTRATION_ZONE"),
];

/// The codes of a `cities { nodes { code } }` response.
/// Sends `request` and reads its JSON body, whatever the status.
pub async fn json_of(request: reqwest::RequestBuilder) -> Value {
    request
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("a JSON body")
}

/// The secret of a new token of `role` (and `city`), named `name`, made in the app's database.
pub async fn token(app: &TestApp, name: &str, role: entity::Role, city: Option<&str>) -> String {
    coverage_api::service::tokens::create(&app.db.conn, name, role, city)
        .await
        .expect("create a token")
        .secret
}

/// A payload's `userErrors` as `[field, code]` pairs.
pub fn user_errors(payload: &Value) -> Vec<Value> {
    payload["userErrors"]
        .as_array()
        .expect("userErrors")
        .iter()
        .map(|e| json!([e["field"], e["code"]]))
        .collect()
}

/// The codes of a response's top-level errors.
pub fn error_codes(response: &Value) -> Vec<Value> {
    response["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["extensions"]["code"].clone())
        .collect()
}

pub fn codes(response: &Value) -> Vec<String> {
    response["data"]["cities"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["code"].as_str().expect("code").to_owned())
        .collect()
}

/// The response a single top-level error with `code` gives for the field at `path`.
pub fn error_response(message: &str, line: u32, column: u32, path: &str, code: &str) -> Value {
    json!({
        "data": null,
        "errors": [{
            "message": message,
            "locations": [{ "line": line, "column": column }],
            "path": [path],
            "extensions": { "code": code }
        }]
    })
}

/// An empty database for a test that runs the real binary or prepares a database itself: a
/// temporary SQLite file, or a fresh PostgreSQL database when `TEST_DATABASE_URL` is set;
/// removed on drop.
pub struct FreshDatabase {
    /// Its URL.
    pub url: String,
    dir: Option<std::path::PathBuf>,
    postgres: Option<PostgresDb>,
}

impl FreshDatabase {
    /// A new empty database named after `label`.
    pub async fn new(label: &str) -> Self {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.is_empty() => {
                let name = format!("coverage_test_{label}_{}", std::process::id());
                let admin = db::connect(&args(&admin_url))
                    .await
                    .expect("connect to PostgreSQL");
                for sql in [
                    format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                    format!("CREATE DATABASE {name}"),
                ] {
                    admin
                        .conn
                        .execute_unprepared(&sql)
                        .await
                        .expect("prepare a test database");
                }
                admin.conn.close_by_ref().await.ok();
                let url = database_url(&admin_url, &name);
                Self {
                    url,
                    dir: None,
                    postgres: Some(PostgresDb { admin_url, name }),
                }
            }
            _ => Self::sqlite(label),
        }
    }

    /// A new empty SQLite file named after `label`, whatever the test run's database.
    pub fn sqlite(label: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("coverage-api-test-{}-{label}", std::process::id()));
        std::fs::remove_dir_all(&dir).ok();
        let url = format!("sqlite://{}/coverage.db?mode=rwc", dir.display());
        Self {
            url,
            dir: Some(dir),
            postgres: None,
        }
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        if let Some(dir) = self.dir.take() {
            std::fs::remove_dir_all(dir).ok();
        }
        if let Some(pg) = self.postgres.take() {
            drop_postgres(pg);
        }
    }
}

fn drop_postgres(pg: PostgresDb) {
    // Drop runs outside async code; a thread with its own runtime removes the database.
    let handle = std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(async {
            if let Ok(admin) = db::connect(&args(&pg.admin_url)).await {
                let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", pg.name);
                admin.conn.execute_unprepared(&sql).await.ok();
            }
        });
    });
    handle.join().ok();
}

/// The real binary serving `database_url` on a free port, and its address once it listens.
pub fn spawn_binary(database_url: &str) -> (std::process::Child, String) {
    spawn_binary_with(database_url, &[])
}

/// [`spawn_binary`] with more flags after `serve`.
pub fn spawn_binary_with(database_url: &str, more: &[&str]) -> (std::process::Child, String) {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_coverage-api"))
        .env_remove("DATABASE_URL")
        // Info, but not a line per answer: the servers of the tests answer thousands, and a
        // log pipe that fills stalls the server that writes to it.
        .env("RUST_LOG", "info,access=warn")
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--database-url",
            database_url,
        ])
        .args(more)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the binary");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("the server logs its address")
            .expect("a log line");
        if let Some(at) = line.find("addr=") {
            break line[at + 5..].trim().to_owned();
        }
    };
    // Keep draining the log so the server never blocks on a full pipe; what went wrong in the
    // server (a panic, an error) is passed on to the test's output, where a failure shows it.
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            if line.contains("panicked") || line.contains("ERROR") {
                eprintln!("server: {line}");
            }
        }
    });
    (child, addr)
}

/// The secret of a new token made with the binary's `token create` on `database_url`.
pub fn binary_token(database_url: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_coverage-api"))
        .env_remove("DATABASE_URL")
        .args(["token", "create"])
        .args(args)
        .args(["--database-url", database_url])
        .output()
        .expect("run token create");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .expect("the secret")
        .to_owned()
}

/// The error of strict validation for the `Int` argument `first` (at `argument_column`, line
/// 1) given a variable of the wrong type.
pub fn wrong_int_variable(argument_column: u32) -> Value {
    json!([{
        "message": "Invalid value for argument \"first\", expected type \"Int\"",
        "locations": [{ "line": 1, "column": argument_column }],
        "extensions": { "code": "GRAPHQL_VALIDATION_FAILED" }
    }])
}
