//! Nothing acknowledged is lost: the real binary, killed with SIGKILL in the middle of a write
//! load, restarts with every acknowledged write and its revision.

use serde_json::{Value, json};

use crate::helpers::{FreshDatabase, binary_token, spawn_binary};

const UPDATE: &str = "mutation($input: UpdateCoverageInput!) { updateCoverage(input: $input) {
    coverage { version branchCount } userErrors { code } } }";

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_write_survives_a_sigkill() {
    let _alone = crate::helpers::exclusive().await;
    let fresh = FreshDatabase::new("crash").await;
    let token = binary_token(&fresh.url, &["--role", "admin", "--name", "crash test"]);
    let (mut server, addr) = spawn_binary(&fresh.url);
    let client = reqwest::Client::new();
    let cities = ["410100", "410200", "410300", "410400"];
    // Four writers, each on its own record, each write waiting for the previous one's answer.
    // `started` counts the writers that have had a write acknowledged.
    let started = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut writers = Vec::new();
    for city in cities {
        let (client, addr, token) = (client.clone(), addr.clone(), token.clone());
        let started = std::sync::Arc::clone(&started);
        writers.push(tokio::spawn(async move {
            let mut acknowledged: Vec<(i64, i64)> = Vec::new();
            for value in 0..100_000i64 {
                let expected = acknowledged.last().map_or(0, |a| a.0);
                let input = json!({ "cityCode": city, "branchType": "TOWNSHIP", "period": 2024,
                                    "branchCount": value, "expectedVersion": expected,
                                    "source": "crash test" });
                let sent = client
                    .post(format!("http://{addr}/graphql"))
                    .bearer_auth(&token)
                    .json(&json!({ "query": UPDATE, "variables": { "input": input } }))
                    .send()
                    .await;
                let Ok(response) = sent else { break };
                let Ok(body) = response.json::<Value>().await else {
                    break;
                };
                let payload = &body["data"]["updateCoverage"];
                assert_eq!(payload["userErrors"], json!([]), "{body}");
                acknowledged.push((payload["coverage"]["version"].as_i64().unwrap(), value));
                if acknowledged.len() == 1 {
                    started.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
            }
            (city, acknowledged)
        }));
    }
    // Let the load run until every writer is under way (a busy machine may take a while to
    // answer a writer's first write), a little longer, then kill the server without warning.
    for _ in 0..600 {
        if started.load(std::sync::atomic::Ordering::SeqCst) == cities.len() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    server.kill().unwrap();
    server.wait().unwrap();
    let mut acknowledged = Vec::new();
    for writer in writers {
        acknowledged.push(writer.await.unwrap());
    }
    assert!(
        acknowledged.iter().all(|(_, acks)| !acks.is_empty()),
        "the load ran"
    );

    let (mut server, addr) = spawn_binary(&fresh.url);
    for (city, acks) in acknowledged {
        let query = format!(
            r#"{{ city(code: "{city}") {{ coverage(period: 2024, branchType: TOWNSHIP) {{
                 version branchCount revisions {{ after }} }} }} }}"#
        );
        let body: Value = client
            .post(format!("http://{addr}/graphql"))
            .json(&json!({ "query": query }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let record = &body["data"]["city"]["coverage"][0];
        let (last_version, last_value) = *acks.last().unwrap();
        let stored = record["version"].as_i64().unwrap();
        // A write may have committed without its answer arriving: at most one more.
        assert!(
            stored == last_version || stored == last_version + 1,
            "{city}: {stored} vs {last_version}"
        );
        if stored == last_version {
            assert_eq!(record["branchCount"], last_value, "{city}");
        }
        let revisions: Vec<(i64, i64)> = record["revisions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["after"]["version"].as_i64().unwrap(),
                    r["after"]["branchCount"].as_i64().unwrap(),
                )
            })
            .collect();
        for ack in &acks {
            assert!(
                revisions.contains(ack),
                "{city}: acknowledged {ack:?} has no revision"
            );
        }
        assert_eq!(
            revisions.len() as i64,
            stored,
            "{city}: one revision per version"
        );
    }
    server.kill().ok();
    server.wait().ok();
}
