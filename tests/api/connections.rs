//! The connection layer as a stranger meets it: half-sent headers and idle keep-alives are
//! closed at `--header-read-timeout-secs`, a half-sent body on the response cache's fast path is
//! answered 408, and one client address cannot hold more than its cap of connections while
//! another client is still served (nor the instance more than its own). Timings are the
//! bench's: these wait generously and assert what happened.

use std::time::Duration;

use coverage_api::config::ServeArgs;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::helpers::TestApp;

/// A connection to `app` from the loopback address `from` (127.0.0.x: another client).
async fn connect_from(app: &TestApp, from: [u8; 4]) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket
        .bind((std::net::Ipv4Addr::from(from), 0).into())
        .unwrap();
    socket.connect(app.addr).await.unwrap()
}

/// What the server sends until it closes the connection (within `wait`), or `None` if it is
/// still open then.
async fn until_closed(socket: &mut TcpStream, wait: Duration) -> Option<String> {
    let mut received = Vec::new();
    let read = tokio::time::timeout(wait, async {
        let mut buf = [0u8; 4096];
        loop {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok()
        .map(|()| String::from_utf8_lossy(&received).into_owned())
}

async fn healthz_from(app: &TestApp, from: [u8; 4]) -> Option<String> {
    let mut socket = connect_from(app, from).await;
    socket
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .ok()?;
    until_closed(&mut socket, Duration::from_secs(10)).await
}

#[tokio::test]
async fn half_sent_headers_and_idle_keep_alives_are_closed_at_the_header_deadline() {
    let app = TestApp::spawn_with(ServeArgs {
        header_read_timeout_secs: 1,
        ..ServeArgs::default()
    })
    .await;
    let mut half = connect_from(&app, [127, 0, 0, 1]).await;
    half.write_all(b"POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: applic")
        .await
        .unwrap();
    let sent = until_closed(&mut half, Duration::from_secs(10)).await;
    assert!(sent.is_some(), "half-sent headers: closed");
    let mut idle = connect_from(&app, [127, 0, 0, 1]).await;
    idle.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let sent = until_closed(&mut idle, Duration::from_secs(10)).await;
    let sent = sent.expect("an idle keep-alive: closed");
    assert!(sent.starts_with("HTTP/1.1 200"), "answered first: {sent}");
    let mut silent = connect_from(&app, [127, 0, 0, 1]).await;
    assert!(
        until_closed(&mut silent, Duration::from_secs(10))
            .await
            .is_some(),
        "a connection that never sends: closed"
    );
}

#[tokio::test]
async fn a_half_sent_body_on_the_cache_fast_path_is_answered_408() {
    let app = TestApp::spawn_with(ServeArgs {
        request_timeout_secs: 1,
        ..ServeArgs::default()
    })
    .await;
    assert!(app.response_cache.is_on(), "the fast path is in front");
    let mut socket = connect_from(&app, [127, 0, 0, 1]).await;
    socket
        .write_all(
            b"POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
              content-length: 100\r\nconnection: close\r\n\r\n{\"query\":",
        )
        .await
        .unwrap();
    let answer = until_closed(&mut socket, Duration::from_secs(10))
        .await
        .expect("answered and closed");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let body: Value =
        serde_json::from_str(&answer[answer.find("\r\n\r\n").unwrap() + 4..]).unwrap();
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "REQUEST_TIMEOUT",
        "{body}"
    );
}

#[tokio::test]
async fn one_client_cannot_hold_more_than_its_cap_and_another_is_still_served() {
    let app = TestApp::spawn_with(ServeArgs {
        max_connections_per_client: 3,
        max_connections: 5,
        ..ServeArgs::default()
    })
    .await;
    let stranger = [127, 0, 0, 2];
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(connect_from(&app, stranger).await);
    }
    // The server counts a connection once it has accepted it: a fourth is closed unanswered
    // as soon as the first three are counted.
    let mut refused = None;
    for _ in 0..50 {
        let mut fourth = connect_from(&app, stranger).await;
        fourth
            .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .ok();
        if let Some(sent) = until_closed(&mut fourth, Duration::from_millis(500)).await {
            refused = Some(sent);
            break;
        }
        held.push(fourth);
    }
    assert_eq!(
        refused.as_deref(),
        Some(""),
        "the fourth: closed before any answer"
    );
    assert_eq!(held.len(), 3);
    let served = healthz_from(&app, [127, 0, 0, 3]).await.expect("served");
    assert!(
        served.starts_with("HTTP/1.1 200"),
        "another client: {served}"
    );
    // The instance's cap: 3 held + 2 more from a third address fill it; a sixth is refused.
    let mut others = vec![
        connect_from(&app, [127, 0, 0, 4]).await,
        connect_from(&app, [127, 0, 0, 4]).await,
    ];
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut sixth = connect_from(&app, [127, 0, 0, 5]).await;
    sixth
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .ok();
    assert_eq!(
        until_closed(&mut sixth, Duration::from_secs(5))
            .await
            .as_deref(),
        Some(""),
        "over the instance's cap: closed unanswered"
    );
    // Places come back as connections close.
    held.clear();
    others.clear();
    let mut served = None;
    for _ in 0..50 {
        served = healthz_from(&app, stranger).await.filter(|s| !s.is_empty());
        if served.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(served.unwrap().starts_with("HTTP/1.1 200"));
    let metrics = app.get("/metrics").await.1;
    for reason in ["client", "instance"] {
        assert!(
            metrics.contains(&format!(
                "coverage_api_connections_refused_total{{reason=\"{reason}\"}}"
            )),
            "{reason} refusals are counted"
        );
    }
}

/// Waits for the server to close `ws`, skipping what comes before; the close code.
async fn close_code(ws: &mut crate::ws_client::WsClient) -> Option<u16> {
    for _ in 0..20 {
        match ws.next_or_close().await {
            Ok(_) => continue,
            Err(frame) => return frame.map(|f| u16::from(f.code)),
        }
    }
    None
}

#[tokio::test]
async fn a_revoked_token_closes_its_sockets_at_the_next_tick_or_operation() {
    use crate::ws_client::{Protocol, WsClient};
    use coverage_api::service::tokens;
    use serde_json::json;
    let app = TestApp::spawn_with(ServeArgs {
        ws_keepalive_secs: 1,
        ..ServeArgs::default()
    })
    .await;
    let addr = app.addr.to_string();
    let db = &app.db.conn;
    let make = || {
        tokens::create(
            db,
            "Jiaozuo office",
            entity::Role::CityStaff,
            Some("410800"),
        )
    };
    // A socket that listens: closed with 4403 within a keep-alive period of the revocation.
    let listening = make().await.unwrap();
    let payload = json!({ "authorization": format!("Bearer {}", listening.secret) });
    let mut ws = WsClient::connect(&addr, Protocol::TransportWs, payload).await;
    ws.subscribe(
        "1",
        "subscription { coverageChanged { revision { note } } }",
        json!({}),
    )
    .await;
    app.until_subscribers(1).await;
    tokens::revoke(db, listening.token.id).await.unwrap();
    assert_eq!(
        close_code(&mut ws).await,
        Some(coverage_api::ws::CLOSE_REVOKED)
    );
    // A socket that asks again: its next operation runs nothing and closes it.
    let app = TestApp::spawn().await;
    let db = &app.db.conn;
    let asking = tokens::create(db, "Puyang office", entity::Role::CityStaff, Some("410900"))
        .await
        .unwrap();
    let payload = json!({ "authorization": format!("Bearer {}", asking.secret) });
    let mut ws = WsClient::connect(&app.addr.to_string(), Protocol::TransportWs, payload).await;
    ws.subscribe("v", "{ viewer { name } }", json!({})).await;
    assert_eq!(
        ws.payload("v").await,
        json!({ "data": { "viewer": { "name": "Puyang office" } } })
    );
    tokens::revoke(db, asking.token.id).await.unwrap();
    ws.subscribe("w", "{ viewer { name } }", json!({})).await;
    let mut saw_refusal = false;
    let code = loop {
        match ws.next_or_close().await {
            Ok(message) => {
                if message["id"] == "w" && message["type"] == "next" {
                    assert_eq!(
                        message["payload"]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
                        "{message}"
                    );
                    assert!(message["payload"]["data"].is_null(), "{message}");
                    saw_refusal = true;
                }
            }
            Err(frame) => break frame.map(|f| u16::from(f.code)),
        }
    };
    assert!(saw_refusal || code.is_some());
    assert_eq!(code, Some(coverage_api::ws::CLOSE_REVOKED));
}

#[tokio::test]
async fn a_socket_that_listens_to_nothing_is_closed_and_one_address_holds_at_most_its_cap() {
    use crate::ws_client::{Protocol, WsClient};
    use serde_json::json;
    let app = TestApp::spawn_with(ServeArgs {
        ws_idle_secs: 1,
        max_ws_connections_per_client: 2,
        ..ServeArgs::default()
    })
    .await;
    let addr = app.addr.to_string();
    let subscription = "subscription { coverageChanged { revision { kind } } }";
    // Acknowledged, then nothing: closed with 4410.
    let mut idle = WsClient::connect(&addr, Protocol::TransportWs, json!({})).await;
    assert_eq!(
        close_code(&mut idle).await,
        Some(coverage_api::ws::CLOSE_IDLE)
    );
    // A listener stays.
    let mut listener = WsClient::connect(&addr, Protocol::TransportWs, json!({})).await;
    listener.subscribe("1", subscription, json!({})).await;
    assert!(
        listener.silent_for(Duration::from_secs(3)).await,
        "a listener is not closed"
    );
    // One address: two sockets, and a third is refused while both are open.
    let mut second = WsClient::connect(&addr, Protocol::TransportWs, json!({})).await;
    second.subscribe("1", subscription, json!({})).await;
    app.until_subscribers(2).await;
    let refused = WsClient::upgrade(&addr, Protocol::TransportWs)
        .await
        .err()
        .expect("a third socket from the address is refused");
    assert_eq!(refused.status, 503);
    assert_eq!(
        refused.body["errors"][0]["extensions"]["code"],
        "TOO_MANY_CONNECTIONS"
    );
    drop(second);
    app.until_subscribers(1).await;
    let mut again = None;
    for _ in 0..50 {
        if let Ok(ws) = WsClient::upgrade(&addr, Protocol::TransportWs).await {
            again = Some(ws);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(again.is_some(), "the place came back when a socket closed");
}
