//! The WebSocket and write side of `scripts/soak.sh` (wrk does the anonymous reads), against a
//! running server whose process id it is given, so that it can read the server's memory:
//! - `soak connections`: opens N WebSocket connections that only initialise, then subscribes each
//!   and has every one receive an event, reading the server's resident memory before, with the
//!   idle connections, with the subscribed ones, once each has received the event, and after
//!   closing them: the memory per connection;
//! - `soak load`: for S seconds, a writer per city (each with its own city-staff token) that
//!   updates one record every W ms with its version, subscribers that come and go, and
//!   connections that open, initialise and close; then checks that every acknowledged write is
//!   in the database (lost writes) and prints what it did as `key=value` lines.
//!
//! A tool, not the service: it panics on what should not happen, and counts what may (errors
//! the server answers under load).

// A driver that cannot reach its server has nothing to measure: it stops with the reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_graphql::futures_util::{SinkExt, StreamExt};
use clap::Parser;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

#[derive(Parser)]
struct Args {
    /// The server's address.
    #[arg(long)]
    addr: String,
    /// The server's process id (its memory is read from /proc).
    #[arg(long)]
    pid: u32,
    #[command(subcommand)]
    phase: Phase,
}

#[derive(clap::Subcommand)]
enum Phase {
    /// Memory per idle and per active WebSocket connection.
    Connections {
        /// Connections to open.
        #[arg(long, default_value_t = 500)]
        count: usize,
        /// A city-staff token of `city`, to make the event the active connections receive.
        #[arg(long)]
        token: String,
        /// Its city.
        #[arg(long)]
        city: String,
        /// Each connection subscribes to a staff page's selection (the record, its city and
        /// the revision) instead of the dashboard's two subscriptions.
        #[arg(long)]
        full_selection: bool,
    },
    /// Writers, subscribers and connection churn.
    Load {
        /// How long.
        #[arg(long)]
        seconds: u64,
        /// A file of `CITY TOKEN` lines: one writer each.
        #[arg(long)]
        tokens: std::path::PathBuf,
        /// Milliseconds between one writer's writes.
        #[arg(long, default_value_t = 500)]
        write_interval_ms: u64,
        /// Subscribers at any time; each stays 2–10 s, then another takes its place.
        #[arg(long, default_value_t = 20)]
        subscribers: usize,
        /// Tasks that open, initialise and close connections, one every 100 ms each.
        #[arg(long, default_value_t = 4)]
        churners: usize,
    },
}

#[derive(Default)]
struct Counts {
    writes_acknowledged: AtomicU64,
    write_errors: AtomicU64,
    ws_connections: AtomicU64,
    ws_errors: AtomicU64,
    subscriptions: AtomicU64,
    events_received: AtomicU64,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    match args.phase {
        Phase::Connections {
            count,
            token,
            city,
            full_selection,
        } => {
            let subscriptions: &[&str] = if full_selection {
                &[FULL_SELECTION]
            } else {
                &DASHBOARD
            };
            connections(&args.addr, args.pid, count, &token, &city, subscriptions).await;
        }
        Phase::Load {
            seconds,
            tokens,
            write_interval_ms,
            subscribers,
            churners,
        } => {
            let tokens = std::fs::read_to_string(tokens).expect("the tokens file");
            let writers: Vec<(String, String)> = tokens
                .lines()
                .filter_map(|l| l.split_once(' '))
                .map(|(c, t)| (c.to_owned(), t.to_owned()))
                .collect();
            load(
                &args.addr,
                Duration::from_secs(seconds),
                writers,
                Duration::from_millis(write_interval_ms),
                subscribers,
                churners,
            )
            .await;
        }
    }
}

/// The server's resident memory, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the server runs");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

async fn settle_rss(pid: u32) -> u64 {
    tokio::time::sleep(Duration::from_secs(2)).await;
    rss_kib(pid)
}

/// What the dashboard page subscribes to, on one connection (`web/dashboard.js`).
const DASHBOARD: [&str; 2] = [
    "subscription DashboardCoverage { coverageChanged { coverage { id } } }",
    "subscription DashboardPilots { pilotDesignationChanged { action } }",
];

/// A larger selection: the record with its city, and the revision.
const FULL_SELECTION: &str = "subscription { coverageChanged { coverage { city { code name } branchType period branchCount eligibleCount coverageRate version } revision { id note at requestId } } }";

async fn connections(
    addr: &str,
    pid: u32,
    count: usize,
    token: &str,
    city: &str,
    subscriptions: &[&str],
) {
    let before = settle_rss(pid).await;
    let mut sockets = Vec::with_capacity(count);
    for _ in 0..count {
        sockets.push(open(addr).await.expect("a connection"));
    }
    let idle = settle_rss(pid).await;
    for socket in &mut sockets {
        for (id, query) in subscriptions.iter().enumerate() {
            let subscribe = json!({ "type": "subscribe", "id": (id + 1).to_string(),
                "payload": { "query": query } });
            socket
                .send(Message::Text(subscribe.to_string().into()))
                .await
                .expect("subscribe");
        }
    }
    // Every subscription must listen before the write, or some would miss the event.
    let subscribed = settle_rss(pid).await;
    let client = reqwest::Client::new();
    let version = current_version(&client, addr, city).await;
    let acknowledged = write(&client, addr, token, city, version, 1).await;
    assert!(acknowledged, "the write that makes the event is accepted");
    let mut received = 0;
    for socket in &mut sockets {
        if let Some(message) = next_json(socket, Duration::from_secs(10)).await
            && message["type"] == "next"
        {
            received += 1;
        }
    }
    let active = settle_rss(pid).await;
    for mut socket in sockets {
        socket.close(None).await.ok();
    }
    let closed = settle_rss(pid).await;
    let per = |a: u64, b: u64| (a.saturating_sub(b)) as f64 / count as f64;
    println!("connections={count}");
    println!("events_received={received}");
    println!("rss_before_kib={before}");
    println!("rss_idle_kib={idle}");
    println!("rss_subscribed_kib={subscribed}");
    println!("rss_active_kib={active}");
    println!("rss_closed_kib={closed}");
    println!("kib_per_idle_connection={:.1}", per(idle, before));
    println!(
        "kib_per_subscribed_connection={:.1}",
        per(subscribed, before)
    );
    println!("kib_per_active_connection={:.1}", per(active, before));
}

/// A connection that has been acknowledged (`graphql-transport-ws`, no token).
async fn open(addr: &str) -> Option<Socket> {
    let mut request = format!("ws://{addr}/graphql/ws")
        .into_client_request()
        .ok()?;
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.ok()?;
    let init = json!({ "type": "connection_init", "payload": {} });
    socket
        .send(Message::Text(init.to_string().into()))
        .await
        .ok()?;
    let ack = next_json(&mut socket, Duration::from_secs(10)).await?;
    (ack["type"] == "connection_ack").then_some(socket)
}

/// The next JSON message within `wait`, pings skipped; `None` on a close, an error or silence.
async fn next_json(socket: &mut Socket, wait: Duration) -> Option<Value> {
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        match tokio::time::timeout(left, socket.next()).await.ok()?? {
            Ok(Message::Text(text)) => return serde_json::from_str(&text).ok(),
            Ok(Message::Ping(_) | Message::Pong(_)) => {}
            Ok(_) | Err(_) => return None,
        }
    }
}

const UPDATE: &str = "mutation($input: UpdateCoverageInput!) { updateCoverage(input: $input) {
    coverage { version } userErrors { code } } }";

/// The version of `city`'s 2024 enterprise record (0: none yet).
async fn current_version(client: &reqwest::Client, addr: &str, city: &str) -> i64 {
    let query = "query($c: ID!) { city(code: $c) { coverage(period: 2024, branchType: ENTERPRISE) { version } } }";
    let body: Value = client
        .post(format!("http://{addr}/graphql"))
        .json(&json!({ "query": query, "variables": { "c": city } }))
        .send()
        .await
        .expect("the server answers")
        .json()
        .await
        .expect("JSON");
    body["data"]["city"]["coverage"][0]["version"]
        .as_i64()
        .unwrap_or(0)
}

/// Writes `branch_count` into `city`'s 2024 enterprise record at `version`; true when the
/// server acknowledged it.
async fn write(
    client: &reqwest::Client,
    addr: &str,
    token: &str,
    city: &str,
    version: i64,
    branch_count: i64,
) -> bool {
    let input = json!({ "cityCode": city, "branchType": "ENTERPRISE", "period": 2024,
        "branchCount": branch_count, "eligibleCount": 10_000_000,
        "source": "soak test", "expectedVersion": version });
    let Ok(response) = client
        .post(format!("http://{addr}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": UPDATE, "variables": { "input": input } }))
        .send()
        .await
    else {
        return false;
    };
    let Ok(body) = response.json::<Value>().await else {
        return false;
    };
    body["errors"].is_null() && body["data"]["updateCoverage"]["userErrors"] == json!([])
}

async fn load(
    addr: &str,
    length: Duration,
    writers: Vec<(String, String)>,
    interval: Duration,
    subscribers: usize,
    churners: usize,
) {
    let counts = Arc::new(Counts::default());
    let deadline = Instant::now() + length;
    let client = reqwest::Client::new();
    let mut tasks = Vec::new();
    let mut started = Vec::new();
    for (city, token) in writers {
        let version = current_version(&client, addr, &city).await;
        started.push((city.clone(), version));
        let (client, addr, counts) = (client.clone(), addr.to_owned(), Arc::clone(&counts));
        tasks.push(tokio::spawn(async move {
            let mut version = version;
            let mut ticks = tokio::time::interval(interval);
            while Instant::now() < deadline {
                ticks.tick().await;
                if write(&client, &addr, &token, &city, version, version + 1).await {
                    version += 1;
                    counts.writes_acknowledged.fetch_add(1, Ordering::Relaxed);
                } else {
                    counts.write_errors.fetch_add(1, Ordering::Relaxed);
                    version = current_version(&client, &addr, &city).await;
                }
            }
        }));
    }
    for n in 0..subscribers {
        let (addr, counts) = (addr.to_owned(), Arc::clone(&counts));
        tasks.push(tokio::spawn(async move {
            let mut rng = rand::rngs::StdRng::seed_from_u64(n as u64);
            while Instant::now() < deadline {
                subscribe_for(
                    &addr,
                    &counts,
                    Duration::from_millis(rng.random_range(2_000..10_000)),
                )
                .await;
            }
        }));
    }
    for _ in 0..churners {
        let (addr, counts) = (addr.to_owned(), Arc::clone(&counts));
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                match open(&addr).await {
                    Some(mut socket) => {
                        counts.ws_connections.fetch_add(1, Ordering::Relaxed);
                        socket.close(None).await.ok();
                    }
                    None => {
                        counts.ws_errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }));
    }
    for task in tasks {
        task.await.expect("a task of the driver");
    }
    // Every acknowledged write must have bumped its record's version by one.
    let mut committed = 0i64;
    for (city, first) in started {
        committed += current_version(&client, addr, &city).await - first;
    }
    let acknowledged = counts.writes_acknowledged.load(Ordering::Relaxed) as i64;
    let lost = acknowledged - committed;
    println!("writes_acknowledged={acknowledged}");
    println!(
        "write_errors={}",
        counts.write_errors.load(Ordering::Relaxed)
    );
    println!("lost_writes={lost}");
    println!(
        "ws_connections={}",
        counts.ws_connections.load(Ordering::Relaxed)
    );
    println!(
        "subscriptions={}",
        counts.subscriptions.load(Ordering::Relaxed)
    );
    println!(
        "events_received={}",
        counts.events_received.load(Ordering::Relaxed)
    );
    println!("ws_errors={}", counts.ws_errors.load(Ordering::Relaxed));
}

/// One subscriber: connects, subscribes to every coverage change, takes events for `stay`,
/// completes and closes.
async fn subscribe_for(addr: &str, counts: &Counts, stay: Duration) {
    let Some(mut socket) = open(addr).await else {
        counts.ws_errors.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(500)).await;
        return;
    };
    counts.ws_connections.fetch_add(1, Ordering::Relaxed);
    let subscribe = json!({ "type": "subscribe", "id": "1", "payload": {
        "query": "subscription { coverageChanged { coverage { branchCount version } revision { id recordKey at } } }" } });
    if socket
        .send(Message::Text(subscribe.to_string().into()))
        .await
        .is_err()
    {
        counts.ws_errors.fetch_add(1, Ordering::Relaxed);
        return;
    }
    counts.subscriptions.fetch_add(1, Ordering::Relaxed);
    let until = Instant::now() + stay;
    while let Some(left) = until.checked_duration_since(Instant::now()) {
        match tokio::time::timeout(left, socket.next()).await {
            Err(_) => break,
            Ok(Some(Ok(Message::Text(text)))) => {
                let message: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                if message["type"] == "next" && message["payload"]["errors"].is_null() {
                    counts.events_received.fetch_add(1, Ordering::Relaxed);
                } else {
                    counts.ws_errors.fetch_add(1, Ordering::Relaxed);
                }
            }
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(_)) | None) => {
                counts.ws_errors.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
    }
    let complete = json!({ "type": "complete", "id": "1" });
    socket
        .send(Message::Text(complete.to_string().into()))
        .await
        .ok();
    socket.close(None).await.ok();
}
