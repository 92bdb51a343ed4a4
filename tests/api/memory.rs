//! Memory that must not grow with requests: histogram samples when nobody reads GET /metrics,
//! and WebSocket connections with small buffers that still take large messages. (The soak,
//! `scripts/soak.sh`, measures the process's memory; these catch the regressions quickly.)

use serde_json::json;

use crate::helpers::TestApp;
use crate::metrics::sample;
use crate::ws_client::{Protocol, WsClient};

/// Samples another test may record between a count crossing the bound and the drain.
const SLACK: usize = 256;

#[tokio::test]
async fn histogram_samples_are_drained_when_nobody_reads_the_metrics() {
    use coverage_api::metrics::{
        drains, max_pending_samples, pending_samples, renders, samples_recorded,
    };
    // The database's path: each operation records a statement's sample too (see below).
    let app = TestApp::spawn_with(coverage_api::config::ServeArgs {
        metrics_operations: vec!["MemoryProbe".into()],
        ..crate::helpers::database_reads()
    })
    .await;
    let max = max_pending_samples();
    let batch: Vec<_> = (0..10)
        .map(|_| json!({ "query": "query MemoryProbe { periods summary { period } }", "operationName": "MemoryProbe" }))
        .collect();
    let mut operations = 0;
    // Other tests read /metrics, which drains too: an attempt during which one did proves
    // nothing, so it is made again.
    let mut attempts = 0;
    loop {
        attempts += 1;
        assert!(
            attempts <= 5,
            "other tests read /metrics during every attempt"
        );
        let (renders_before, recorded_before, drains_before) =
            (renders(), samples_recorded(), drains());
        let mut most_pending = 0;
        // One and a half times the bound, so that without draining the samples would pile up
        // past it (and past the slack).
        let mut sent = 0;
        while samples_recorded() - recorded_before < (max + max / 2) as u64 {
            let response = app
                .client
                .post(app.url("/graphql"))
                .json(&batch)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            sent += batch.len();
            most_pending = most_pending.max(pending_samples());
            // Each operation records at least two samples (its latency, a statement's).
            assert!(sent < max, "requests record histogram samples");
        }
        operations += sent;
        if renders() != renders_before {
            continue;
        }
        assert!(
            most_pending <= max + SLACK,
            "{most_pending} samples waited, over the bound of {max}"
        );
        assert!(drains() > drains_before, "the samples were drained");
        break;
    }
    // Drained samples are in the histograms: none was lost.
    let (_, page) = app.get("/metrics").await;
    let samples = crate::metrics::parse(&page);
    assert_eq!(
        sample(
            &samples,
            r#"coverage_api_graphql_request_duration_seconds_count{operation="MemoryProbe"}"#
        ),
        operations as f64
    );
}

#[tokio::test]
async fn a_websocket_message_larger_than_the_read_buffer_is_read_whole() {
    let app = TestApp::spawn_with(coverage_api::config::ServeArgs {
        ws_read_buffer_size: 256,
        ..Default::default()
    })
    .await;
    let mut ws = WsClient::connect(&app.addr.to_string(), Protocol::TransportWs, json!({})).await;
    // A 20 KB comment: eighty times the read buffer.
    let query = format!("# {}\n{{ periods }}", "x".repeat(20_000));
    ws.send(json!({ "type": "subscribe", "id": "1", "payload": { "query": query } }))
        .await;
    let message = ws.next().await;
    assert_eq!(message["type"], "next", "{message}");
    assert!(
        message["payload"]["data"]["periods"].is_array(),
        "{message}"
    );
}

/// Resident memory of process `pid`, in KiB.
fn resident_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap()
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_s_distinct_large_documents_grow_the_process_by_no_more_than_the_store_s_bound()
{
    use crate::helpers::{FreshDatabase, spawn_binary};
    let _alone = crate::helpers::exclusive().await;
    let fresh = FreshDatabase::new("documents").await;
    let (mut server, addr) = spawn_binary(&fresh.url);
    let client = reqwest::Client::new();
    // About 8 KB of text each, 1,500 selections: a parsed document of some 400 KB.
    let selections = "code ".repeat(1_500);
    let send = |n: usize| {
        let (client, addr) = (client.clone(), addr.clone());
        let query = format!("query Q{n} {{ cities(first: 1) {{ nodes {{ {selections} }} }} }}");
        async move {
            let request = client
                .post(format!("http://{addr}/graphql"))
                .json(&json!({ "query": query }));
            let answer = crate::helpers::json_of(request).await;
            assert!(answer["errors"].is_null(), "{answer}");
        }
    };
    // Warm: the store is full of such documents, the allocator has its pages.
    for n in 0..100 {
        send(n).await;
    }
    let before = resident_kib(server.id());
    for n in 100..1_100 {
        send(n).await;
    }
    let grown = resident_kib(server.id()).saturating_sub(before);
    server.kill().ok();
    server.wait().ok();
    // The store's bound (`--persisted-query-bytes`, 4 MiB by default) and a few MiB of the
    // allocator's: before the store weighed documents by their memory, a thousand such
    // documents grew the process by about 140 MiB.
    println!("a thousand distinct 8 KB documents grew the server by {grown} KiB");
    assert!(grown < 4 * 1024 + 8 * 1024, "grew by {grown} KiB");
}
