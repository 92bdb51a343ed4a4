//! GET /metrics: Prometheus text that parses, and counters that move with the traffic. The
//! recorder is process-wide, so tests compare before and after rather than absolute values.

use serde_json::json;

use crate::helpers::TestApp;

/// Every sample of a Prometheus text page, as (name with labels, value); panics on a line that
/// is neither a comment nor a sample.
pub fn parse(text: &str) -> Vec<(String, f64)> {
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| {
            let (name, value) = line
                .rsplit_once(' ')
                .unwrap_or_else(|| panic!("not a sample: {line}"));
            let value: f64 = value
                .parse()
                .unwrap_or_else(|_| panic!("not a number: {line}"));
            (name.to_owned(), value)
        })
        .collect()
}

pub fn sample(samples: &[(String, f64)], name: &str) -> f64 {
    samples
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| *v)
        .sum()
}

/// POSTs a query with its `operationName`, as GraphQL clients send it.
async fn named(app: &TestApp, name: &str, query: &str, variables: serde_json::Value) {
    let response = reqwest::Client::new()
        .post(app.url("/graphql"))
        .json(&json!({ "query": query, "operationName": name, "variables": variables }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

pub async fn metrics(app: &TestApp) -> Vec<(String, f64)> {
    let (status, body) = app.get("/metrics").await;
    assert_eq!(status, 200);
    parse(&body)
}

#[tokio::test]
async fn metrics_parse_and_move_with_requests_errors_statements_and_batches() {
    // The database's path: the reads below must run statements for their counter to move.
    let app = TestApp::spawn_with(coverage_api::config::ServeArgs {
        metrics_operations: vec!["MetricsDashboard".into(), "MetricsBadCursor".into()],
        ..crate::helpers::database_reads()
    })
    .await;
    named(
        &app,
        "MetricsWarmUp",
        "query MetricsWarmUp { periods }",
        json!({}),
    )
    .await;
    let before = metrics(&app).await;
    let dashboard = "query MetricsDashboard { cities(first: 100) { nodes { code coverage { period } } } \
                     pilotPrograms { cities { code } } }";
    named(&app, "MetricsDashboard", dashboard, json!({})).await;
    let bad = "query MetricsBadCursor($a: String) { cities(after: $a) { totalCount } }";
    named(&app, "MetricsBadCursor", bad, json!({ "a": "nope" })).await;
    let after = metrics(&app).await;
    let moved = |name: &str| sample(&after, name) - sample(&before, name);
    assert_eq!(
        moved(r#"coverage_api_graphql_requests_total{operation="MetricsDashboard",outcome="ok"}"#),
        1.0
    );
    assert_eq!(
        moved(
            r#"coverage_api_graphql_requests_total{operation="MetricsBadCursor",outcome="error"}"#
        ),
        1.0
    );
    assert!(moved(r#"coverage_api_graphql_errors_total{code="BAD_USER_INPUT"}"#) >= 1.0);
    // The page with its coverage, the programmes, their cities.
    assert!(moved(r#"coverage_api_sql_statements_total{outcome="ok"}"#) >= 3.0);
    assert!(
        moved(
            r#"coverage_api_graphql_request_duration_seconds_count{operation="MetricsDashboard"}"#
        ) >= 1.0
    );
    assert!(
        moved(r#"coverage_api_dataloader_batch_size_count{loader="cities_by_program"}"#) >= 1.0
    );
    assert!(sample(&after, "coverage_api_sql_statement_duration_seconds_count") > 0.0);
}

#[tokio::test]
async fn named_operations_are_labels_and_a_stranger_s_names_count_as_other() {
    let app = TestApp::spawn_with(coverage_api::config::ServeArgs {
        metrics_operations: vec!["Weird_Name_That_Is_Fine".into()],
        ..Default::default()
    })
    .await;
    named(&app, "Dashboard", "query Dashboard { periods }", json!({})).await;
    named(
        &app,
        "StrangersOwnName123",
        "query StrangersOwnName123 { periods }",
        json!({}),
    )
    .await;
    named(
        &app,
        "Weird_Name_That_Is_Fine",
        "query Weird_Name_That_Is_Fine { periods }",
        json!({}),
    )
    .await;
    let long = "L".repeat(70);
    named(
        &app,
        &long,
        &format!("query {long} {{ periods }}"),
        json!({}),
    )
    .await;
    let text = app.get("/metrics").await.1;
    assert!(text.contains(r#"operation="Weird_Name_That_Is_Fine""#));
    assert!(
        text.contains(r#"operation="Dashboard""#),
        "the pages' names are labels"
    );
    assert!(
        !text.contains("StrangersOwnName123"),
        "a name nobody configured is no label"
    );
    assert!(text.contains(r#"operation="other""#));
    assert!(!text.contains(&long), "a 70-character name is not a label");
    assert!(text.contains(r#"operation="invalid""#));
}

#[tokio::test]
async fn with_a_metrics_address_the_metrics_are_served_there_only() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let metrics_addr = free.local_addr().unwrap();
    drop(free);
    let app = TestApp::spawn_with(coverage_api::config::ServeArgs {
        metrics_addr: Some(metrics_addr),
        ..Default::default()
    })
    .await;
    assert_eq!(app.get("/metrics").await.0, 404, "not on the API's address");
    let mut text = None;
    for _ in 0..100 {
        if let Ok(response) = app
            .client
            .get(format!("http://{metrics_addr}/metrics"))
            .send()
            .await
        {
            text = Some((response.status().as_u16(), response.text().await.unwrap()));
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let (status, text) = text.expect("the metrics address answers");
    assert_eq!(status, 200);
    assert!(text.contains("coverage_api_"), "{text}");
}

#[tokio::test]
async fn websocket_connections_operations_and_events_are_counted() {
    use crate::ws_client::{Protocol, WsClient};
    let app = TestApp::spawn().await;
    let before = metrics(&app).await;
    let mut ws = WsClient::connect(&app.addr.to_string(), Protocol::TransportWs, json!({})).await;
    ws.subscribe(
        "1",
        "subscription { coverageChanged { coverage { version } } }",
        json!({}),
    )
    .await;
    app.until_subscribers(1).await;
    let token = coverage_api::service::tokens::create(
        &app.db.conn,
        "Province office",
        entity::Role::Admin,
        None,
    )
    .await
    .unwrap()
    .secret;
    let response = app
        .query_as(
            Some(&token),
            "mutation { updateCoverage(input: { cityCode: \"410800\", branchType: ENTERPRISE,
                 period: 2024, branchCount: 1, source: \"test\" }) { userErrors { code } } }",
            json!({}),
        )
        .await;
    assert_eq!(response["data"]["updateCoverage"]["userErrors"], json!([]));
    ws.payload("1").await;
    let during = metrics(&app).await;
    let moved = |name: &str| sample(&during, name) - sample(&before, name);
    assert!(moved(r#"coverage_api_events_published_total{kind="coverage"}"#) >= 1.0);
    // Gauges are process-wide and other tests run alongside: at least this test's own.
    assert!(sample(&during, "coverage_api_ws_connections") >= 1.0);
    assert!(sample(&during, "coverage_api_ws_operations") >= 1.0);
    assert!(sample(&during, "coverage_api_event_subscribers") >= 1.0);
}
