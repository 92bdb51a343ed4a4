//! Plain HTTP routes.

use crate::helpers::TestApp;

#[tokio::test]
async fn healthz_says_the_process_is_alive() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/healthz").await, (200, "ok".to_owned()));
}

#[tokio::test]
async fn readyz_says_the_database_answers() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/readyz").await, (200, "ready".to_owned()));
}

#[tokio::test]
async fn get_graphql_opens_graphiql_with_the_dashboard_query() {
    let app = TestApp::spawn().await;
    let (status, body) = app.get("/graphql").await;
    assert_eq!(status, 200);
    assert!(body.contains("graphiql.min.js"), "loads GraphiQL");
    assert!(
        body.contains("query Dashboard"),
        "puts the dashboard query in the editor"
    );
}

#[tokio::test]
async fn an_unknown_path_is_404() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/nope").await.0, 404);
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_413() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::new();
    let padding = " ".repeat(256 * 1024);
    let body = format!(r#"{{"query":"{{ periods }}{padding}"}}"#);
    let response = client
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let small = format!(r#"{{"query":"{{ periods }}{}"}}"#, " ".repeat(200 * 1024));
    let response = client
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body(small)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap(),
        serde_json::json!({ "data": { "periods": [2023] } })
    );
}
