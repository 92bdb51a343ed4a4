//! The response cache: anonymous reads answered again without executing, and never with the
//! figures from before an acknowledged write (on this instance) or a delivered event (another
//! instance, PostgreSQL); what is never cached; the bound; ETag and 304; compression. The servers
//! read the database (`database_reads`) where statements tell an execution from a hit (the
//! memory of published figures answers without any; `cold_reads` tests it); the race of readers
//! and writers runs with both on, as in production.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use coverage_api::config::ServeArgs;
use reqwest::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_NONE_MATCH, VARY,
};
use serde_json::{Value, json};

use crate::helpers::{CITIES, TestApp, database_reads, json_of};
use crate::statements::{DASHBOARD, DASHBOARD_STATEMENTS};
use crate::ws_client::{Protocol, WsClient};

const UPDATE: &str = "mutation($input: UpdateCoverageInput!) { updateCoverage(input: $input) {
    coverage { version } userErrors { code message } } }";

const JIAOZUO_2024: &str = "{ city(code: \"410800\") {
    coverage(period: 2024, branchType: ENTERPRISE) { branchCount version } } }";

const SUMMARY_2024: &str = "{ summary(period: 2024) { period byType { branchType
    citiesReporting branchCountSum eligibleCountSum coverageRate fullCoverageCities { code } } } }";

const HISTORY: &str = "query($code: ID!) { city(code: $code) { code history { period branchType
    branchCount eligibleCount version } } }";

/// Writes `branches` into a record of 2024 whose version is `expected`, as `token`.
async fn write(app: &TestApp, token: &str, city: &str, kind: &str, branches: i32, expected: i32) {
    let response = app
        .query_as(
            Some(token),
            UPDATE,
            json!({ "input": { "cityCode": city, "branchType": kind, "period": 2024,
                "branchCount": branches, "eligibleCount": 1000, "expectedVersion": expected,
                "source": "test" } }),
        )
        .await;
    assert_eq!(
        response,
        json!({ "data": { "updateCoverage": {
            "coverage": { "version": expected + 1 }, "userErrors": [] } } }),
        "{city} {kind}"
    );
}

fn jiaozuo(branches: i32, version: i32) -> Value {
    json!({ "data": { "city": { "coverage": [{ "branchCount": branches, "version": version }] } } })
}

/// The statements an anonymous POST of `query` costs, and its answer.
async fn counted(app: &TestApp, query: &str, variables: Value) -> (u64, Value) {
    app.statements_during(app.query_with(query, variables))
        .await
}

#[tokio::test]
async fn a_repeated_anonymous_read_is_answered_from_the_cache_with_the_headers_of_the_first() {
    let app = TestApp::spawn_with(database_reads()).await;
    let post = || {
        app.client
            .post(app.url("/graphql"))
            .json(&json!({ "query": DASHBOARD }))
    };
    let (first_statements, first) = app.statements_during(post().send()).await;
    let first = first.unwrap();
    assert_eq!(first_statements, DASHBOARD_STATEMENTS);
    let (statements, second) = app.statements_during(post().send()).await;
    let second = second.unwrap();
    assert_eq!(statements, 0, "the second is answered from the cache");
    assert!(second.headers().contains_key("x-request-id"));
    for name in [CONTENT_TYPE, CACHE_CONTROL, VARY, ETAG] {
        assert_eq!(
            first.headers().get(&name),
            second.headers().get(&name),
            "{name}"
        );
    }
    assert_eq!(first.headers()[CACHE_CONTROL], "public, max-age=5");
    assert_eq!(first.headers()[CONTENT_TYPE], "application/json");
    assert!(first.headers()[ETAG].to_str().unwrap().starts_with("W/\""));
    let (first, second) = (first.bytes().await.unwrap(), second.bytes().await.unwrap());
    assert_eq!(first, second);
    let body: Value = serde_json::from_slice(&first).unwrap();
    assert_eq!(body["data"]["cities"]["totalCount"], 18);

    // GET, and the same variables in another order, reach the same answer.
    let (statements, _) = counted(&app, HISTORY, json!({ "code": "410800" })).await;
    assert!(statements > 0);
    let url = format!(
        "/graphql?query={}&variables={}",
        urlencode(HISTORY),
        urlencode(r#"{"code":"410800"}"#)
    );
    let (statements, (status, _)) = app.statements_during(app.get(&url)).await;
    assert_eq!((status, statements), (200, 0));

    // Hits are counted in /metrics, with the cache's size.
    let (_, metrics) = app.get("/metrics").await;
    let hits = metrics
        .lines()
        .find_map(|l| {
            l.strip_prefix("coverage_api_response_cache_requests_total{outcome=\"hit\"} ")
        })
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or_default();
    assert!(hits >= 2.0, "{metrics}");
    let bytes = metrics
        .lines()
        .find_map(|l| l.strip_prefix("coverage_api_response_cache_bytes "))
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or_default();
    assert!(bytes > 0.0, "{metrics}");
    assert!(metrics.contains("coverage_api_response_cache_requests_total{outcome=\"miss\"}"));
}

/// `text` percent-encoded for a query string.
pub(crate) fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn a_read_after_an_acknowledged_write_never_returns_the_figures_from_before_it() {
    let app = TestApp::spawn_with(database_reads()).await;
    let admin = app.admin_token().await;
    assert_eq!(
        app.query(JIAOZUO_2024).await,
        json!({ "data": { "city": { "coverage": [] } } })
    );
    for version in 1..=5 {
        // Cached before the write: a read executes nothing. (On PostgreSQL the previous
        // write's own notification empties the cache once more when it comes back.)
        let mut tries = 0;
        while counted(&app, JIAOZUO_2024, json!({})).await.0 > 0 {
            tries += 1;
            assert!(tries < 100, "never answered from the cache");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let (statements, _) = counted(&app, SUMMARY_2024, json!({})).await;
        assert!(statements <= 5);
        write(
            &app,
            &admin,
            "410800",
            "ENTERPRISE",
            100 + version,
            version - 1,
        )
        .await;
        assert_eq!(
            app.query(JIAOZUO_2024).await,
            jiaozuo(100 + version, version)
        );
        let summary = app.query(SUMMARY_2024).await;
        assert_eq!(
            summary["data"]["summary"]["byType"][0]["branchCountSum"],
            100 + version
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_through_another_instance_empties_the_cache_once_its_event_is_delivered() {
    if std::env::var("TEST_DATABASE_URL").is_err() {
        eprintln!("two instances on one database need PostgreSQL: set TEST_DATABASE_URL");
        return;
    }
    let a = TestApp::spawn_with(database_reads()).await;
    let b = a.second_instance_with(database_reads()).await;
    let admin = a.admin_token().await;
    let mut ws = WsClient::connect(&b.addr.to_string(), Protocol::TransportWs, json!({})).await;
    ws.subscribe(
        "1",
        "subscription { coverageChanged(cityCode: \"410800\") { coverage { branchCount version } } }",
        json!({}),
    )
    .await;
    b.until_subscribers(1).await;
    let mut last = json!({ "data": { "city": { "coverage": [] } } });
    for version in 1..=3 {
        // B holds the answer from before the write.
        assert_eq!(b.query(JIAOZUO_2024).await, last);
        let (statements, answer) = counted(&b, JIAOZUO_2024, json!({})).await;
        assert_eq!((statements, &answer), (0, &last), "served from B's cache");
        write(
            &a,
            &admin,
            "410800",
            "ENTERPRISE",
            200 + version,
            version - 1,
        )
        .await;
        assert_eq!(
            ws.payload("1").await,
            json!({ "data": { "coverageChanged": { "coverage": {
                "branchCount": 200 + version, "version": version } } } })
        );
        last = jiaozuo(200 + version, version);
        assert_eq!(
            b.query(JIAOZUO_2024).await,
            last,
            "B, once it heard the event"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_racing_32_writers_leaves_no_stale_answer_behind() {
    // The production default: the response cache and the memory of published figures both on.
    let app = Arc::new(TestApp::spawn().await);
    let admin = app.admin_token().await;
    let records: Vec<(&str, &str)> = CITIES
        .iter()
        .flat_map(|(code, ..)| {
            ["ENTERPRISE", "TOWNSHIP"]
                .into_iter()
                .map(move |kind| (*code, kind))
        })
        .take(32)
        .collect();
    let queries: Vec<(&str, Value)> = vec![
        (DASHBOARD, json!({})),
        (SUMMARY_2024, json!({})),
        (JIAOZUO_2024, json!({})),
        (HISTORY, json!({ "code": "410100" })),
        (HISTORY, json!({ "code": "410800" })),
    ];
    let done = Arc::new(AtomicBool::new(false));
    let mut readers = Vec::new();
    for _ in 0..3 {
        let (app, done, queries) = (Arc::clone(&app), Arc::clone(&done), queries.clone());
        readers.push(tokio::spawn(async move {
            let mut reads = 0u32;
            while !done.load(Ordering::Relaxed) {
                for (query, variables) in &queries {
                    let answer = app.query_with(query, variables.clone()).await;
                    assert!(answer.get("errors").is_none(), "{answer}");
                    reads += 1;
                }
            }
            reads
        }));
    }
    let mut writers = Vec::new();
    for (i, (city, kind)) in records.into_iter().enumerate() {
        let (app, admin) = (Arc::clone(&app), admin.clone());
        writers.push(tokio::spawn(async move {
            for version in 0..3 {
                let branches = i32::try_from(i).unwrap() * 10 + version;
                write(&app, &admin, city, kind, branches, version).await;
            }
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    done.store(true, Ordering::Relaxed);
    let mut reads = 0;
    for reader in readers {
        reads += reader.await.unwrap();
    }
    assert!(reads > 0);
    // Whatever the race stored, every answer served now is what executing gives (a request
    // with a token is never answered from the cache).
    for (query, variables) in &queries {
        let cached = app.query_with(query, variables.clone()).await;
        let again = app.query_with(query, variables.clone()).await;
        let fresh = app
            .query_as(Some("not-a-token"), query, variables.clone())
            .await;
        assert_eq!(cached, fresh, "{query}");
        assert_eq!(again, fresh, "{query}");
    }
    let summary = app.query(SUMMARY_2024).await;
    let sums: i64 = summary["data"]["summary"]["byType"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["branchCountSum"].as_i64().unwrap_or_default())
        .sum();
    // Every record's last write: 10 i + 2 for i in 0..32.
    assert_eq!(sums, (0..32).map(|i| 10 * i + 2).sum::<i64>());
}

#[tokio::test]
async fn requests_with_a_token_mutations_errors_and_batches_are_never_cached() {
    let app = TestApp::spawn_with(database_reads()).await;
    let admin = app.admin_token().await;
    for token in [Some(admin.as_str()), Some("not-a-token")] {
        for _ in 0..2 {
            let (statements, answer) = app
                .statements_during(app.query_as(token, DASHBOARD, json!({})))
                .await;
            assert!(answer.get("errors").is_none());
            // Executed every time (the token's look-up comes on top).
            assert!(statements >= DASHBOARD_STATEMENTS, "{statements}");
        }
    }
    assert!(app.response_cache.is_empty());

    let mutation = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&admin)
        .json(&json!({ "query": UPDATE, "variables": { "input": {
            "cityCode": "410800", "branchType": "ENTERPRISE", "period": 2024, "branchCount": 1,
            "source": "test" } } }))
        .send()
        .await
        .unwrap();
    assert_eq!(mutation.headers()[CACHE_CONTROL], "no-store");
    assert!(mutation.headers().get(ETAG).is_none());
    assert!(app.response_cache.is_empty());

    // An anonymous mutation (refused), an answer with data and an error, a document that
    // does not validate.
    for (query, error) in [
        (
            "mutation { removePilotDesignation(cityCode: \"410800\", programCode: \"KECHUANG_PILOT\") { userErrors { code } } }",
            false,
        ),
        (
            "{ cities(first: 1) { totalCount } bad: cities(first: 1000) { totalCount } }",
            true,
        ),
        ("{ nope }", true),
    ] {
        for _ in 0..2 {
            let response = app
                .client
                .post(app.url("/graphql"))
                .json(&json!({ "query": query }))
                .send()
                .await
                .unwrap();
            assert_eq!(response.headers()[CACHE_CONTROL], "no-store", "{query}");
            assert!(response.headers().get(ETAG).is_none());
            let answer: Value = response.json().await.unwrap();
            assert!(!error || answer.get("errors").is_some(), "{answer}");
        }
    }
    assert!(app.response_cache.is_empty());

    // A batch runs every time.
    for _ in 0..2 {
        let (statements, answer) = app
            .statements_during(json_of(
                app.client
                    .post(app.url("/graphql"))
                    .json(&json!([{ "query": DASHBOARD }])),
            ))
            .await;
        assert_eq!(answer[0]["data"]["cities"]["totalCount"], 18);
        assert_eq!(statements, DASHBOARD_STATEMENTS);
    }
    assert!(app.response_cache.is_empty());
}

#[tokio::test]
async fn the_cache_holds_no_more_than_its_bound() {
    let bound = 4 * 1024;
    let app = TestApp::spawn_with(ServeArgs {
        response_cache_bytes: bound,
        ..database_reads()
    })
    .await;
    let mut stored = 0;
    for (code, ..) in CITIES {
        for _ in 0..2 {
            let answer = app.query_with(HISTORY, json!({ "code": code })).await;
            assert_eq!(answer["data"]["city"]["code"], code);
            assert!(
                app.response_cache.weight() <= bound,
                "{} bytes held",
                app.response_cache.weight()
            );
        }
        stored = stored.max(app.response_cache.len());
    }
    assert!(stored >= 1, "something fits");
    assert!(
        app.response_cache.len() < CITIES.len(),
        "not everything fits"
    );
    let (_, metrics) = app.get("/metrics").await;
    assert!(
        metrics.contains("coverage_api_response_cache_evictions_total"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_matching_if_none_match_is_answered_304_on_a_hit_and_on_a_miss() {
    let app = TestApp::spawn_with(database_reads()).await;
    let url = format!(
        "/graphql?query={}",
        urlencode(SUMMARY_2024.replace("2024", "2023").as_str())
    );
    let first = app.client.get(app.url(&url)).send().await.unwrap();
    assert_eq!(first.status(), 200);
    let etag = first.headers()[ETAG].clone();
    let body = first.bytes().await.unwrap();

    let conditional = |tag: reqwest::header::HeaderValue| {
        app.client
            .get(app.url(&url))
            .header(IF_NONE_MATCH, tag)
            .send()
    };
    let (statements, hit) = app.statements_during(conditional(etag.clone())).await;
    let hit = hit.unwrap();
    assert_eq!((hit.status().as_u16(), statements), (304, 0));
    assert_eq!(hit.headers()[ETAG], etag);
    assert_eq!(hit.headers()[CACHE_CONTROL], "public, max-age=5");
    assert!(hit.bytes().await.unwrap().is_empty());

    // Emptied (as a write would): the answer is computed again, is the same, and is not sent.
    app.events.changed();
    let (statements, miss) = app.statements_during(conditional(etag.clone())).await;
    let miss = miss.unwrap();
    assert_eq!(miss.status(), 304);
    assert!(statements > 0);

    let other = conditional(reqwest::header::HeaderValue::from_static("W/\"other\""))
        .await
        .unwrap();
    assert_eq!(other.status(), 200);
    assert_eq!(other.bytes().await.unwrap(), body);
}

#[tokio::test]
async fn compressed_answers_are_compressed_once_and_sent_again_as_they_are() {
    use std::io::Read;
    let app = TestApp::spawn_with(database_reads()).await;
    let identity = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": DASHBOARD }))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    for encoding in ["gzip", "br"] {
        let mut bodies = Vec::new();
        for _ in 0..2 {
            let (statements, response) = app
                .statements_during(
                    app.client
                        .post(app.url("/graphql"))
                        .header(ACCEPT_ENCODING, encoding)
                        .json(&json!({ "query": DASHBOARD }))
                        .send(),
                )
                .await;
            let response = response.unwrap();
            assert_eq!(statements, 0);
            assert_eq!(response.headers()[CONTENT_ENCODING], encoding);
            assert_eq!(
                response.headers()[VARY],
                "authorization, accept, accept-encoding"
            );
            bodies.push(response.bytes().await.unwrap());
        }
        assert_eq!(bodies[0], bodies[1]);
        let mut plain = Vec::new();
        if encoding == "gzip" {
            flate2::read::GzDecoder::new(&bodies[0][..])
                .read_to_end(&mut plain)
                .unwrap();
        } else {
            brotli::BrotliDecompress(&mut &bodies[0][..], &mut plain).unwrap();
        }
        assert_eq!(plain, identity);
    }
}

#[tokio::test]
async fn zero_bytes_switches_the_cache_off() {
    let app = TestApp::spawn_with(ServeArgs {
        response_cache_bytes: 0,
        ..database_reads()
    })
    .await;
    for _ in 0..2 {
        let (statements, response) = app
            .statements_during(
                app.client
                    .post(app.url("/graphql"))
                    .json(&json!({ "query": DASHBOARD }))
                    .send(),
            )
            .await;
        let response = response.unwrap();
        assert_eq!(statements, DASHBOARD_STATEMENTS);
        assert!(response.headers().get(ETAG).is_none());
        assert_eq!(response.headers()[CACHE_CONTROL], "public, max-age=5");
    }
}

#[tokio::test]
async fn with_cors_configured_hits_carry_the_cors_headers_too() {
    let app = TestApp::spawn_with(ServeArgs {
        cors_origins: vec!["https://dashboard.example".into()],
        ..database_reads()
    })
    .await;
    let mut answers = Vec::new();
    for _ in 0..2 {
        let (statements, response) = app
            .statements_during(
                app.client
                    .post(app.url("/graphql"))
                    .header("origin", "https://dashboard.example")
                    .json(&json!({ "query": DASHBOARD }))
                    .send(),
            )
            .await;
        let response = response.unwrap();
        assert_eq!(
            response.headers()["access-control-allow-origin"],
            "https://dashboard.example"
        );
        answers.push((statements, response.headers()[ETAG].clone()));
    }
    assert_eq!(answers[0].0, DASHBOARD_STATEMENTS);
    assert_eq!(answers[1].0, 0, "answered from the cache");
    assert_eq!(answers[0].1, answers[1].1);
}
