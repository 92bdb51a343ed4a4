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
    assert!(
        body.contains(r#"src="/assets/vendor/graphiql.min.js""#),
        "loads GraphiQL from the server itself"
    );
    assert!(!body.contains("://"), "no other origin: {body}");
    let (status, script) = app.get("/assets/graphiql.js").await;
    assert_eq!(status, 200);
    assert!(
        script.contains("query Dashboard"),
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
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap(),
        serde_json::json!({ "errors": [{
            "message": "the request body is larger than the server accepts",
            "extensions": { "code": "PAYLOAD_TOO_LARGE" } }] })
    );
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

#[tokio::test]
async fn every_response_carries_a_request_id_echoed_or_made() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::new();
    let id_of = |r: &reqwest::Response| {
        r.headers()
            .get("x-request-id")
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let made = client.get(app.url("/healthz")).send().await.unwrap();
    let made_id = id_of(&made).expect("an id is made");
    assert!(!made_id.is_empty());
    let next = client.get(app.url("/healthz")).send().await.unwrap();
    assert_ne!(id_of(&next).unwrap(), made_id, "each request its own id");
    let echoed = client
        .get(app.url("/healthz"))
        .header("x-request-id", "dash-7")
        .send()
        .await
        .unwrap();
    assert_eq!(id_of(&echoed).as_deref(), Some("dash-7"));
    let junk = "x".repeat(200);
    let replaced = client
        .get(app.url("/healthz"))
        .header("x-request-id", &junk)
        .send()
        .await
        .unwrap();
    let replaced_id = id_of(&replaced).unwrap();
    assert!(
        replaced_id != junk && !replaced_id.is_empty(),
        "an unreasonable id is replaced"
    );
}

fn serve_with_origins(origins: &[&str]) -> coverage_api::config::ServeArgs {
    coverage_api::config::ServeArgs {
        cors_origins: origins.iter().map(|o| (*o).to_owned()).collect(),
        ..Default::default()
    }
}

async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, app.url("/graphql"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type,authorization",
        )
        .send()
        .await
        .unwrap()
}

fn header(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

#[tokio::test]
async fn cors_admits_the_configured_origins_only() {
    let app = TestApp::spawn_with(serve_with_origins(&["https://dash.example"])).await;
    let allowed = preflight(&app, "https://dash.example").await;
    assert_eq!(allowed.status(), 200);
    assert_eq!(
        header(&allowed, "access-control-allow-origin").as_deref(),
        Some("https://dash.example")
    );
    assert!(
        header(&allowed, "access-control-allow-headers")
            .unwrap()
            .contains("authorization")
    );
    let refused = preflight(&app, "https://evil.example").await;
    assert_eq!(header(&refused, "access-control-allow-origin"), None);
    // The default: no origin at all.
    let closed = TestApp::spawn().await;
    assert_eq!(
        header(
            &preflight(&closed, "https://dash.example").await,
            "access-control-allow-origin"
        ),
        None
    );
}

#[tokio::test]
async fn a_wildcard_origin_may_read_but_not_send_tokens() {
    let app = TestApp::spawn_with(serve_with_origins(&["*"])).await;
    let response = preflight(&app, "https://anywhere.example").await;
    assert_eq!(
        header(&response, "access-control-allow-origin").as_deref(),
        Some("*")
    );
    assert!(
        !header(&response, "access-control-allow-headers")
            .unwrap_or_default()
            .contains("authorization")
    );
}

#[tokio::test]
async fn responses_are_compressed_for_clients_that_ask() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::new();
    let body =
        serde_json::json!({ "query": "{ cities(first: 100) { nodes { code name nameEn } } }" });
    let gzip = client
        .post(app.url("/graphql"))
        .header("accept-encoding", "gzip")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(header(&gzip, "content-encoding").as_deref(), Some("gzip"));
    let br = client
        .post(app.url("/graphql"))
        .header("accept-encoding", "br")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(header(&br, "content-encoding").as_deref(), Some("br"));
    let plain = client
        .post(app.url("/graphql"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(header(&plain, "content-encoding"), None);
}

#[tokio::test]
async fn a_post_a_browser_could_send_cross_site_without_preflight_runs_nothing() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::new();
    let body = r#"{"query":"{ periods }"}"#;
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let response = client
            .post(app.url("/graphql"))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 415, "{content_type}");
        assert_eq!(
            response.json::<serde_json::Value>().await.unwrap(),
            serde_json::json!({ "errors": [{
                "message": "POST /graphql takes a JSON body (content-type: application/json)",
                "extensions": { "code": "UNSUPPORTED_MEDIA_TYPE" } }] })
        );
    }
    let no_type = client
        .post(app.url("/graphql"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(no_type.status(), 415);
    for (name, value) in [
        ("content-type", "application/json; charset=utf-8"),
        ("apollo-require-preflight", "true"),
    ] {
        let response = client
            .post(app.url("/graphql"))
            .header(name, value)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{name}");
        assert_eq!(
            response.json::<serde_json::Value>().await.unwrap(),
            serde_json::json!({ "data": { "periods": [2023] } })
        );
    }
}

#[tokio::test]
async fn persisted_queries_miss_then_register_then_hit() {
    use sha2::Digest;
    let app = TestApp::spawn().await;
    let query = "{ periods cities(first: 1) { nodes { code } } }";
    let hash: String = sha2::Sha256::digest(query.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let persisted = serde_json::json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
    let client = reqwest::Client::new();
    let post = |body: serde_json::Value| {
        let request = client.post(app.url("/graphql")).json(&body);
        async move {
            request
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    let miss = post(serde_json::json!({ "extensions": persisted })).await;
    assert_eq!(
        miss,
        serde_json::json!({ "data": null, "errors": [{
            "message": "PersistedQueryNotFound",
            "extensions": { "code": "PERSISTED_QUERY_NOT_FOUND" } }] })
    );
    let expected = serde_json::json!({ "data": { "periods": [2023], "cities": { "nodes": [{ "code": "410100" }] } } });
    assert_eq!(
        post(serde_json::json!({ "query": query, "extensions": persisted })).await,
        expected
    );
    assert_eq!(
        post(serde_json::json!({ "extensions": persisted })).await,
        expected,
        "the hash alone now answers"
    );
    let wrong = serde_json::json!({ "persistedQuery": { "version": 1, "sha256Hash": "00" } });
    let mismatch = post(serde_json::json!({ "query": query, "extensions": wrong })).await;
    assert_eq!(
        mismatch["errors"][0]["extensions"]["code"],
        "BAD_USER_INPUT"
    );
    // A dashboard can send the hash by GET, which a CDN may cache for a few seconds.
    let url = reqwest::Url::parse_with_params(
        &app.url("/graphql"),
        [("extensions", persisted.to_string())],
    )
    .unwrap();
    let response = client.get(url).send().await.unwrap();
    assert_eq!(response.headers()["cache-control"], "public, max-age=5");
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap(),
        expected
    );
}

/// A body a little over the limit (as much as a reverse proxy with a slightly larger limit of
/// its own passes on), sent whole before the answer is read, is read into nothing and answered
/// 413 in full, five times over: closing on its unread bytes would reset the connection under
/// its sender, and nginx or Caddy would then answer 502. A client that waits for `100 Continue`
/// is refused before it sends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_limit_sent_whole_gets_its_413_not_a_reset_connection() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn().await;
    let length = 256 * 1024 + 64 * 1024;
    for round in 0..5 {
        let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
        let head = format!(
            "POST /graphql HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n\
             connection: close\r\ncontent-length: {length}\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        // A proxy that cannot write the whole body answers 502, whatever came back.
        let sent = stream.write_all(&vec![b' '; length]).await;
        assert!(
            sent.is_ok(),
            "round {round}: the body could not be sent: {sent:?}"
        );
        let mut answer = Vec::new();
        let read = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            stream.read_to_end(&mut answer),
        )
        .await
        .expect("the answer, then the end of the connection");
        let answer = String::from_utf8_lossy(&answer);
        assert!(read.is_ok(), "round {round}: {read:?} after {answer:?}");
        assert!(
            answer.starts_with("HTTP/1.1 413 "),
            "round {round}: {answer}"
        );
        assert!(
            answer.contains("PAYLOAD_TOO_LARGE"),
            "round {round}: {answer}"
        );
    }

    // With `expect: 100-continue` the refusal comes before the body is sent.
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST /graphql HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n\
         expect: 100-continue\r\ncontent-length: {length}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut first = vec![0u8; 64];
    let n = tokio::time::timeout(std::time::Duration::from_secs(2), stream.read(&mut first))
        .await
        .expect("answered without the body")
        .unwrap();
    let first = String::from_utf8_lossy(&first[..n]);
    assert!(first.starts_with("HTTP/1.1 413 "), "{first}");
}
