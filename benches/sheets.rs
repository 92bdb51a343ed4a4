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

fn serve(url: &str) -> (Child, String) {
    let mut child = Command::new(BIN)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn,coverage_api::server=info")
        .args(["serve", "--addr", "127.0.0.1:0", "--database-url", url])
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

/// The peak is reset to the current resident size.
fn reset_peak(pid: u32) {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").unwrap();
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

struct Server {
    pid: u32,
    base: String,
    client: reqwest::Client,
}

impl Server {
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
    let (mut child, addr) = serve(&url);
    let server = Server {
        pid: child.id(),
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
    };
    println!(
        "server at start: {:.1} MiB resident",
        mib(status_kib(server.pid, "VmRSS:"))
    );
    println!("\n| import (dry run) | bytes | status | ms | peak rise MiB |");
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
        let (status, elapsed, rise, _) = server.measure(server.import(&token, bytes.clone())).await;
        worst = worst.max(rise);
        println!(
            "| {name} | {} | {status} | {:.0} | {rise:.1} |",
            bytes.len(),
            elapsed.as_secs_f64() * 1000.0
        );
    }
    println!("\nworst import peak rise: {worst:.1} MiB");

    println!("\n| export (1,800 cities × 5 periods) | bytes | status | ms | peak rise MiB |");
    println!("|---|---:|---:|---:|---:|");
    for path in ["/export/coverage.xlsx", "/export/coverage.csv"] {
        for round in ["built", "kept ready"] {
            let request = server.client.get(format!("{}{path}", server.base));
            let (status, elapsed, rise, len) = server.measure(request).await;
            println!(
                "| {path} ({round}) | {len} | {status} | {:.1} | {rise:.1} |",
                elapsed.as_secs_f64() * 1000.0
            );
        }
    }
    // A kept export and a cached GraphQL read, 200 of each, one after another.
    let dashboard =
        serde_json::json!({ "query": "{ cities(first: 18) { totalCount nodes { code name } } }" });
    for (what, make) in [
        ("kept CSV export", 0),
        ("kept XLSX export", 1),
        ("cached GraphQL read", 2),
    ] {
        let started = Instant::now();
        for _ in 0..200 {
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
            "{what}: {:.2} ms per request (200 in a row)",
            started.elapsed().as_secs_f64() * 1000.0 / 200.0
        );
    }

    // Four largest imports and four full exports (of four files not kept yet) at once, while
    // /healthz is asked every 10 ms.
    let fresh_periods = ["2019", "2020", "2021", "2022"];
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
    let mut tasks = Vec::new();
    for i in 0..4 {
        let bytes = if i % 2 == 0 {
            corpus::largest_honest(10_000)
        } else {
            largest_csv()
        };
        let request = server.import(&token, bytes);
        tasks.push(tokio::spawn(async move {
            request.send().await.unwrap().status().as_u16()
        }));
        let path = ["/export/coverage.xlsx", "/export/coverage.csv"][i % 2];
        let request = server
            .client
            .get(format!("{}{path}?period={}", server.base, fresh_periods[i]));
        tasks.push(tokio::spawn(async move {
            request.send().await.unwrap().status().as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut times = watcher.await.unwrap();
    let failed = times.iter().filter(|(_, ok)| !ok).count();
    times.sort();
    let p99 = times[times.len() * 99 / 100].0;
    let max = times.last().unwrap().0;
    println!(
        "\nfour imports and four exports at once: statuses {statuses:?}; /healthz asked {} times, \
         {failed} failed, p99 {:.1} ms, slowest {:.1} ms; peak rise {:.1} MiB",
        times.len(),
        p99.as_secs_f64() * 1000.0,
        max.as_secs_f64() * 1000.0,
        mib(status_kib(server.pid, "VmHWM:").saturating_sub(rss_before))
    );
    child.kill().ok();
    child.wait().ok();
    std::fs::remove_dir_all(&dir).ok();
}
