//! Several instances on one PostgreSQL database: a write through one is heard by subscribers of
//! every other (LISTEN/NOTIFY), and an instance whose listening connection is killed reconnects
//! and tells its subscribers that events may have been missed. Real binaries, real database.
//! PostgreSQL only: an SQLite file serves one instance, whose events travel in-process (see
//! `subscriptions`). `.ci/run` runs the suite on PostgreSQL too.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{FreshDatabase, binary_token, json_of, spawn_binary};
use crate::ws_client::{Protocol, WsClient};

const UPDATE: &str = "mutation($input: UpdateCoverageInput!) {
    updateCoverage(input: $input) { coverage { version } userErrors { code } } }";

const SUBSCRIPTION: &str = "subscription { coverageChanged(cityCode: \"410800\") {
    coverage { city { code } period branchCount version } revision { requestId } } }";

/// Kills a child process when the test ends, however it ends.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

/// Polls `url` until it answers 200 with a body that `ok` accepts.
async fn until(client: &reqwest::Client, url: &str, ok: impl Fn(&str) -> bool) {
    for _ in 0..500 {
        if let Ok(response) = client.get(url).send().await
            && response.status().is_success()
            && ok(&response.text().await.unwrap_or_default())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{url} never got ready");
}

/// The value of an unlabelled gauge in a Prometheus text body.
fn gauge(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

async fn write(client: &reqwest::Client, addr: &str, token: &str, branches: i32, expected: i32) {
    let response: Value = client
        .post(format!("http://{addr}/graphql"))
        .bearer_auth(token)
        .header("x-request-id", format!("via-a-{branches}"))
        .json(&json!({ "query": UPDATE, "variables": { "input": {
            "cityCode": "410800", "branchType": "ENTERPRISE", "period": 2024,
            "branchCount": branches, "expectedVersion": expected, "source": "test" } } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        response,
        json!({ "data": { "updateCoverage": {
            "coverage": { "version": expected + 1 }, "userErrors": [] } } })
    );
}

fn event(branches: i32, version: i32) -> Value {
    json!({ "data": { "coverageChanged": {
        "coverage": { "city": { "code": "410800" }, "period": 2024, "branchCount": branches,
                      "version": version },
        "revision": { "requestId": format!("via-a-{branches}") } } } })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_through_a_reaches_a_subscriber_on_b_which_survives_losing_its_connection() {
    let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("cross-instance fan-out needs PostgreSQL: set TEST_DATABASE_URL (.ci/run does)");
        return;
    };
    let _alone = crate::helpers::exclusive().await;
    let fresh = FreshDatabase::new("fanout").await;
    let token = binary_token(&fresh.url, &["--role", "admin", "--name", "fan-out test"]);
    let (a, addr_a) = spawn_binary(&fresh.url);
    let (b, addr_b) = spawn_binary(&fresh.url);
    let (_a, b_pid) = (Server(a), b.id());
    let _b = Server(b);
    let client = reqwest::Client::new();
    for addr in [&addr_a, &addr_b] {
        until(&client, &format!("http://{addr}/readyz"), |_| true).await;
    }

    let mut ws = WsClient::connect(&addr_b, Protocol::TransportWs, json!({})).await;
    ws.subscribe("1", SUBSCRIPTION, json!({})).await;
    until(&client, &format!("http://{addr_b}/metrics"), |m| {
        gauge(m, "coverage_api_event_subscribers") >= 1.0
    })
    .await;

    let started = Instant::now();
    write(&client, &addr_a, &token, 100, 0).await;
    assert_eq!(ws.payload("1").await, event(100, 1));
    eprintln!("write through A to event on B: {:?}", started.elapsed());

    // Kill B's listening connection from the database side.
    let admin = coverage_api::db::connect(&coverage_api::config::DatabaseArgs {
        database_url: admin_url,
        database_max_connections: Some(1),
    })
    .await
    .unwrap();
    let kill = format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = 'coverage-api events {b_pid}'"
    );
    let killed = sea_orm::ConnectionTrait::execute_unprepared(&admin.conn, &kill)
        .await
        .unwrap();
    assert_eq!(
        killed.rows_affected(),
        1,
        "B's listener was found and killed"
    );

    // B's subscriber is told, and the subscription goes on.
    assert_eq!(
        ws.payload("1").await,
        json!({ "data": null, "errors": [{
            "message": "the server's connection to the database was lost and is back; changes \
                        made meanwhile may not have been sent: read the current figures again",
            "locations": [{ "line": 1, "column": 16 }], "path": ["coverageChanged"],
            "extensions": { "code": "EVENTS_MISSED" } }] })
    );
    write(&client, &addr_a, &token, 150, 1).await;
    assert_eq!(ws.payload("1").await, event(150, 2));
    // A write through B itself is heard too, once.
    let response: Value = client
        .post(format!("http://{addr_b}/graphql"))
        .bearer_auth(&token)
        .header("x-request-id", "via-a-175")
        .json(&json!({ "query": UPDATE, "variables": { "input": {
            "cityCode": "410800", "branchType": "ENTERPRISE", "period": 2024,
            "branchCount": 175, "expectedVersion": 2, "source": "test" } } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(response["data"]["updateCoverage"]["userErrors"], json!([]));
    assert_eq!(ws.payload("1").await, event(175, 3));

    // An outage: the database refuses new connections while B's listener is killed. B is not
    // ready while it cannot listen, and says nothing yet; a write through A (whose connections
    // stay open) is not heard by B. Once the database takes connections again, B listens again
    // and only then tells its subscriber, so that reading the figures again on that message
    // finds the write made during the outage.
    let name = fresh.url.rsplit('/').next().unwrap().to_owned();
    let allow = |yes: bool| format!("ALTER DATABASE {name} ALLOW_CONNECTIONS {yes}");
    sea_orm::ConnectionTrait::execute_unprepared(&admin.conn, &allow(false))
        .await
        .unwrap();
    sea_orm::ConnectionTrait::execute_unprepared(&admin.conn, &kill)
        .await
        .unwrap();
    let readyz = format!("http://{addr_b}/readyz");
    let status = || async { client.get(&readyz).send().await.unwrap().status().as_u16() };
    let mut waited = 0;
    while status().await != 503 {
        waited += 1;
        assert!(waited < 500, "B never said it was not ready");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    write(&client, &addr_a, &token, 190, 3).await;
    assert!(
        ws.silent_for(Duration::from_millis(300)).await,
        "nothing is sent while B cannot listen"
    );
    sea_orm::ConnectionTrait::execute_unprepared(&admin.conn, &allow(true))
        .await
        .unwrap();
    assert_eq!(
        ws.payload("1").await["errors"][0]["extensions"]["code"],
        "EVENTS_MISSED"
    );
    assert_eq!(status().await, 200, "B is ready when it says so");
    let dashboard = json!({ "query": "{ city(code: \"410800\") { coverage(period: 2024, branchType: ENTERPRISE) { branchCount version } } }" });
    let reread = json_of(
        client
            .post(format!("http://{addr_b}/graphql"))
            .json(&dashboard),
    )
    .await;
    assert_eq!(
        reread,
        json!({ "data": { "city": { "coverage": [{ "branchCount": 190, "version": 4 }] } } }),
        "reading again on EVENTS_MISSED finds the write made during the outage"
    );
    write(&client, &addr_a, &token, 200, 4).await;
    assert_eq!(ws.payload("1").await, event(200, 5));
    assert!(ws.silent_for(Duration::from_millis(300)).await);
}
