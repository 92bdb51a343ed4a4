//! What spreadsheets cost a release server at province scale: the real binary over a synthetic
//! SQLite database of 1,800 cities × 5 periods (27,000 rows), driven over HTTP.
//!
//! `cargo bench --bench sheets` prints:
//! - for every case of the hostile corpus (`benches/corpus`), for the largest honest workbook
//!   (10,000 rows) and the largest honest CSV (10,000 rows, about 5 MB): its size, the answer,
//!   the time, and how far it raised the server's peak memory (VmHWM, reset before each case
//!   through /proc/PID/clear_refs);
//! - the same for each full export, built and then kept ready, beside a repeated GraphQL read;
//! - `/healthz` while four largest imports and four full exports are sent at once: its slowest
//!   and 99th-percentile answer.
//!
//! Linux only (it reads /proc).

// A benchmark that cannot set itself up should stop with the reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "corpus/mod.rs"]
mod corpus;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_coverage-api");

fn run(args: &[&str], url: &str) -> String {
    let out = Command::new(BIN)
        .env_remove("DATABASE_URL")
        .args(args)
        .args(["--database-url", url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The binary serving `url` with `places` import and export places.
fn serve(url: &str, places: usize) -> (Child, String) {
    let mut child = Command::new(BIN)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "info")
        .args(["serve", "--addr", "127.0.0.1:0", "--database-url", url])
        .args(["--import-concurrency", &places.to_string()])
        .args(["--export-concurrency", &places.to_string()])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().unwrap().unwrap();
        if let Some(at) = line.find("addr=") {
            break line[at + 5..].trim().to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (child, addr)
}

/// A field of /proc/PID/status, in KiB.
fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap()
}

/// The server's CPU time so far (user and system), in clock ticks of 10 ms.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// The peak is reset to the current resident size.
fn reset_peak(pid: u32) {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").unwrap();
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

struct Server {
    child: Child,
    pid: u32,
    base: String,
    client: reqwest::Client,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

impl Server {
    /// A fresh server on `url` with `places` places, warmed by a read and a small import (so
    /// that what a case costs is not the first request's set-up).
    async fn start(url: &str, token: &str, places: usize) -> Self {
        let (child, addr) = serve(url, places);
        let server = Server {
            pid: child.id(),
            child,
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
        };
        server
            .import(token, corpus::CSV.into())
            .send()
            .await
            .unwrap();
        server
            .client
            .post(format!("{}/graphql", server.base))
            .json(&serde_json::json!({ "query": "{ periods }" }))
            .send()
            .await
            .unwrap();
        server
    }

    /// Runs `request`, and returns its status, time and the peak's rise above the resident
    /// size before it (MiB).
    async fn measure(&self, request: reqwest::RequestBuilder) -> (u16, Duration, f64, usize) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        reset_peak(self.pid);
        let before = status_kib(self.pid, "VmRSS:");
        let started = Instant::now();
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let body = response.bytes().await.unwrap();
        let elapsed = started.elapsed();
        let peak = status_kib(self.pid, "VmHWM:");
        (
            status,
            elapsed,
            mib(peak.saturating_sub(before)),
            body.len(),
        )
    }

    fn import(&self, token: &str, bytes: Vec<u8>) -> reqwest::RequestBuilder {
        self.client
            .post(format!("{}/import/coverage?dryRun=true", self.base))
            .bearer_auth(token)
            .body(bytes)
    }
}

/// The largest honest CSV: 10,000 rows with long sources, about 5 MB.
fn largest_csv() -> Vec<u8> {
    let mut text = String::from("城市代码,组织类型,年度,组织数,来源\r\n");
    let source = "河南省科协九届七次全委会议工作报告（2024-03-22）附表一：各省辖市企业、高校、乡镇（街道）科协组织覆盖情况统计，数据由各市科协办公室填报、省科协组织人事部审核汇总，口径为截至当年十二月三十一日已经依照章程成立并报备的基层科协组织";
    for i in 0..10_000 {
        text.push_str(&format!(
            "410800,企业科协,{},{},{source}（第{i}行）\r\n",
            2000 + i % 28,
            i % 1000
        ));
    }
    text.into_bytes()
}

#[tokio::main]
async fn main() {
    let dir = std::env::temp_dir().join(format!("coverage-bench-sheets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/bench.db?mode=rwc", dir.display());
    run(
        &["seed-synthetic", "--cities", "1800", "--periods", "5"],
        &url,
    );
    let token = run(
        &["token", "create", "--name", "bench", "--role", "admin"],
        &url,
    )
    .lines()
    .last()
    .unwrap()
    .to_owned();
    // Each import and each export on a fresh server: a peak is then that request's own, not
    // pages an earlier request left with the allocator.
    let resident = Server::start(&url, &token, 1).await;
    println!(
        "server after start and a warm-up: {:.1} MiB resident",
        mib(status_kib(resident.pid, "VmRSS:"))
    );
    drop(resident);
    println!(
        "\n| import (dry run), each on a fresh server | bytes | status | ms | peak rise MiB |"
    );
    println!("|---|---:|---:|---:|---:|");
    let mut cases: Vec<(&str, Vec<u8>)> = corpus::cases()
        .into_iter()
        .map(|c| (c.name, c.bytes))
        .collect();
    cases.push((
        "largest honest workbook (10,000 rows)",
        corpus::largest_honest(10_000),
    ));
    cases.push(("largest honest CSV (10,000 rows)", largest_csv()));
    let mut worst: f64 = 0.0;
    for (name, bytes) in &cases {
        let server = Server::start(&url, &token, 1).await;
        let (status, elapsed, rise, _) = server.measure(server.import(&token, bytes.clone())).await;
        worst = worst.max(rise);
        println!(
            "| {name} | {} | {status} | {:.0} | {rise:.1} |",
            bytes.len(),
            elapsed.as_secs_f64() * 1000.0
        );
    }
    println!("\nworst import peak rise: {worst:.1} MiB");

    println!(
        "\n| export (1,800 cities × 5 periods), each on a fresh server | bytes | status | ms | peak rise MiB |"
    );
    println!("|---|---:|---:|---:|---:|");
    for path in [
        "/export/coverage.xlsx",
        "/export/coverage.csv",
        "/export/coverage.xlsx?lang=en",
    ] {
        let server = Server::start(&url, &token, 1).await;
        for round in ["built", "kept ready"] {
            let request = server.client.get(format!("{}{path}", server.base));
            let (status, elapsed, rise, len) = server.measure(request).await;
            println!(
                "| {path} ({round}) | {len} | {status} | {:.1} | {rise:.1} |",
                elapsed.as_secs_f64() * 1000.0
            );
        }
    }
    let server = Server::start(&url, &token, 1).await;
    for path in ["/export/coverage.xlsx", "/export/coverage.csv"] {
        server
            .client
            .get(format!("{}{path}", server.base))
            .send()
            .await
            .unwrap();
    }
    // A kept export and a cached GraphQL read, 1,000 of each, one after another: the time per
    // request and the server's CPU per request.
    let dashboard =
        serde_json::json!({ "query": "{ cities(first: 18) { totalCount nodes { code name } } }" });
    for (what, make) in [
        ("kept CSV export", 0),
        ("kept XLSX export", 1),
        ("cached GraphQL read", 2),
    ] {
        let (started, ticks) = (Instant::now(), cpu_ticks(server.pid));
        for _ in 0..1000 {
            let request = match make {
                0 => server
                    .client
                    .get(format!("{}/export/coverage.csv", server.base)),
                1 => server
                    .client
                    .get(format!("{}/export/coverage.xlsx", server.base)),
                _ => server
                    .client
                    .post(format!("{}/graphql", server.base))
                    .json(&dashboard),
            };
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200);
            response.bytes().await.unwrap();
        }
        println!(
            "{what}: {:.2} ms per request, server CPU {:.3} ms per request (1,000 in a row)",
            started.elapsed().as_secs_f64() * 1000.0 / 1000.0,
            (cpu_ticks(server.pid) - ticks) as f64 * 10.0 / 1000.0
        );
    }

    drop(server);
    // Four largest imports and four full exports (of files not kept yet) at once, three times,
    // while /healthz is asked every 10 ms; with the default places (one import and one export
    // at a time: the others are answered 503 at once), then with two and four of each.
    println!(
        "\n| places (imports, exports) | answers of the 24 files | /healthz asked | failed | p99 ms | slowest ms | peak rise MiB |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|");
    for places in [1, 2, 4] {
        let server = Server::start(&url, &token, places).await;
        burst(&server, &token, places).await;
    }
    std::fs::remove_dir_all(&dir).ok();
}

async fn burst(server: &Server, token: &str, places: usize) {
    tokio::time::sleep(Duration::from_millis(200)).await;
    reset_peak(server.pid);
    let rss_before = status_kib(server.pid, "VmRSS:");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (client, url, stop) = (
            server.client.clone(),
            format!("{}/healthz", server.base),
            stop.clone(),
        );
        tokio::spawn(async move {
            let mut times = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let started = Instant::now();
                let ok = client
                    .get(&url)
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == 200);
                times.push((started.elapsed(), ok));
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            times
        })
    };
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for round in 0..3 {
        let mut tasks = Vec::new();
        for i in 0..4 {
            let bytes = if i % 2 == 0 {
                corpus::largest_honest(10_000)
            } else {
                largest_csv()
            };
            let request = server.import(token, bytes);
            tasks.push(tokio::spawn(async move {
                // 0: the connection closed before an answer.
                request.send().await.map_or(0, |r| r.status().as_u16())
            }));
            let path = ["/export/coverage.xlsx", "/export/coverage.csv"][i % 2];
            let lang = ["zh", "en", "zh"][round];
            let period = [2019, 2020, 2021, 2022, 2023][(i + round * 2) % 5];
            let request = server.client.get(format!(
                "{}{path}?period={period}&lang={lang}&round={round}",
                server.base
            ));
            tasks.push(tokio::spawn(async move {
                request.send().await.map_or(0, |r| r.status().as_u16())
            }));
        }
        for task in tasks {
            *statuses.entry(task.await.unwrap()).or_default() += 1;
        }
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut times = watcher.await.unwrap();
    let failed = times.iter().filter(|(_, ok)| !ok).count();
    times.sort();
    let p99 = times[times.len() * 99 / 100].0;
    let max = times.last().unwrap().0;
    println!(
        "| {places}, {places} | {statuses:?} | {} | {failed} | {:.1} | {:.1} | {:.1} |",
        times.len(),
        p99.as_secs_f64() * 1000.0,
        max.as_secs_f64() * 1000.0,
        mib(status_kib(server.pid, "VmHWM:").saturating_sub(rss_before))
    );
}
