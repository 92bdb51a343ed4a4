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
