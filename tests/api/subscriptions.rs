//! Subscriptions over /graphql/ws: both protocols, events after commit and in commit order,
//! filters, per-connection and per-instance limits, slow subscribers, and (with PostgreSQL) two
//! server processes on one database.

use std::time::Duration;

use coverage_api::config::ServeArgs;
use coverage_api::service::tokens;
use entity::Role;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::ws_client::{Protocol, WsClient};

const COVERAGE_CHANGED: &str = "subscription($city: ID, $type: BranchType) {
    coverageChanged(cityCode: $city, branchType: $type) {
        coverage { city { code name } branchType period branchCount eligibleCount coverageRate
                   version updatedBy }
        revision { kind recordKey actor { name role cityCode } note requestId } } }";

const UPDATE: &str = "mutation($input: UpdateCoverageInput!) {
    updateCoverage(input: $input) { coverage { version } userErrors { code } } }";

const BULK: &str = "mutation($input: [UpdateCoverageInput!]!) {
    bulkUpdateCoverage(input: $input) { coverage { version } userErrors { code message } } }";

async fn admin(app: &TestApp) -> String {
    tokens::create(&app.db.conn, "Province office", Role::Admin, None)
        .await
        .unwrap()
        .secret
}

fn addr(app: &TestApp) -> String {
    app.addr.to_string()
}

/// A new connection to `app` whose operation `id` listens for events, returned once it does.
async fn listening(
    app: &TestApp,
    protocol: Protocol,
    id: &str,
    query: &str,
    variables: Value,
) -> WsClient {
    let mut ws = WsClient::connect(&addr(app), protocol, json!({})).await;
    ws.subscribe(id, query, variables).await;
    app.until_subscribers(1).await;
    ws
}

/// Writes Jiaozuo's (410800) enterprise figures for 2024 through `token`, as version
/// `expected + 1`, with the request id `request`.
async fn write_jiaozuo(app: &TestApp, token: &str, branches: i32, expected: i32, request: &str) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .header("x-request-id", request)
        .json(&json!({ "query": UPDATE, "variables": { "input": {
            "cityCode": "410800", "branchType": "ENTERPRISE", "period": 2024,
            "branchCount": branches, "eligibleCount": 1000, "expectedVersion": expected,
            "source": "quarterly return", "note": "quarterly figures" } } }))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(
        response,
        json!({ "data": { "updateCoverage": {
            "coverage": { "version": expected + 1 }, "userErrors": [] } } })
    );
}

/// Jiaozuo's write as an anonymous subscriber hears it: the writer's name and note are not
/// for anonymous readers (see write_rules.rs for every role).
fn jiaozuo_event(branches: i32, version: i32, request: &str) -> Value {
    json!({ "data": { "coverageChanged": {
        "coverage": { "city": { "code": "410800", "name": "焦作" }, "branchType": "ENTERPRISE",
                      "period": 2024, "branchCount": branches, "eligibleCount": 1000,
                      "coverageRate": f64::from(branches) / 1000.0, "version": version,
                      "updatedBy": null },
        "revision": { "kind": "COVERAGE", "recordKey": "410800/ENTERPRISE/2024",
                      "actor": { "name": null, "role": "ADMIN", "cityCode": null },
                      "note": null, "requestId": request } } } })
}

#[tokio::test]
async fn a_committed_write_reaches_a_graphql_transport_ws_subscriber_in_commit_order() {
    let app = TestApp::spawn().await;
    let token = admin(&app).await;
    let mut ws = listening(
        &app,
        Protocol::TransportWs,
        "1",
        COVERAGE_CHANGED,
        json!({ "city": "410800" }),
    )
    .await;

    // Another city's write is filtered out; Jiaozuo's three writes arrive in commit order.
    let other = app
        .query_as(
            Some(&token),
            UPDATE,
            json!({ "input": { "cityCode": "410900", "branchType": "ENTERPRISE",
                               "period": 2024, "branchCount": 5, "source": "test" } }),
        )
        .await;
    assert_eq!(other["data"]["updateCoverage"]["userErrors"], json!([]));
    for (version, branches) in [(1, 100), (2, 150), (3, 120)] {
        write_jiaozuo(
            &app,
            &token,
            branches,
            version - 1,
            &format!("req-{version}"),
        )
        .await;
    }
    for (version, branches) in [(1, 100), (2, 150), (3, 120)] {
        assert_eq!(
            ws.payload("1").await,
            jiaozuo_event(branches, version, &format!("req-{version}"))
        );
    }

    // Completing the subscription stops it.
    ws.complete("1").await;
    assert_eq!(ws.next().await, json!({ "type": "complete", "id": "1" }));
    write_jiaozuo(&app, &token, 130, 3, "req-4").await;
    assert!(ws.silent_for(Duration::from_millis(300)).await);
}

#[tokio::test]
async fn the_legacy_graphql_ws_protocol_carries_the_same_events() {
    let app = TestApp::spawn().await;
    let token = admin(&app).await;
    let mut ws = listening(
        &app,
        Protocol::Legacy,
        "a",
        COVERAGE_CHANGED,
        json!({ "city": "410800", "type": "ENTERPRISE" }),
    )
    .await;
    write_jiaozuo(&app, &token, 100, 0, "legacy-1").await;
    assert_eq!(ws.payload("a").await, jiaozuo_event(100, 1, "legacy-1"));
    ws.complete("a").await;
    assert_eq!(ws.next().await, json!({ "type": "complete", "id": "a" }));
}

#[tokio::test]
async fn a_bulk_write_arrives_as_one_event_per_record_in_input_order() {
    let app = TestApp::spawn().await;
    let token = admin(&app).await;
    let mut ws = listening(
        &app,
        Protocol::TransportWs,
        "1",
        "subscription { coverageChanged(branchType: UNIVERSITY) {
            coverage { city { code } period branchCount version } } }",
        json!({}),
    )
    .await;
    let cities = ["410100", "410200", "410300", "410800"];
    let input: Vec<Value> = cities
        .iter()
        .enumerate()
        .map(|(i, code)| {
            json!({ "cityCode": code, "branchType": "UNIVERSITY", "period": 2025,
                    "branchCount": i, "eligibleCount": 10, "source": "test" })
        })
        .collect();
    let response = app
        .query_as(Some(&token), BULK, json!({ "input": input }))
        .await;
    assert_eq!(
        response["data"]["bulkUpdateCoverage"]["userErrors"],
        json!([])
    );
    for (i, code) in cities.iter().enumerate() {
        assert_eq!(
            ws.payload("1").await,
            json!({ "data": { "coverageChanged": { "coverage": {
                "city": { "code": code }, "period": 2025, "branchCount": i, "version": 1 } } } })
        );
    }
}

#[tokio::test]
async fn a_refused_write_sends_nothing() {
    let app = TestApp::spawn().await;
    let token = admin(&app).await;
    let mut ws = listening(
        &app,
        Protocol::TransportWs,
        "1",
        COVERAGE_CHANGED,
        json!({}),
    )
    .await;
    // Branches above the eligible count: refused, nothing committed, nothing sent.
    let refused = app
        .query_as(
            Some(&token),
            UPDATE,
            json!({ "input": { "cityCode": "410800", "branchType": "ENTERPRISE",
                               "period": 2024, "branchCount": 5, "eligibleCount": 4,
                               "source": "test" } }),
        )
        .await;
    assert_eq!(
        refused["data"]["updateCoverage"]["userErrors"][0]["code"],
        "BAD_USER_INPUT"
    );
    assert!(ws.silent_for(Duration::from_millis(300)).await);
}

#[tokio::test]
async fn designation_changes_are_granted_changed_and_revoked() {
    let app = TestApp::spawn().await;
    let token = admin(&app).await;
    let mut ws = listening(
        &app,
        Protocol::TransportWs,
        "d",
        "subscription { pilotDesignationChanged(programCode: \"INNOVATION_DEMO\") {
            action designation { city { code } program { code } sinceYear source }
            revision { kind recordKey } } }",
        json!({}),
    )
    .await;
    let set = "mutation($input: SetPilotDesignationInput!) {
        setPilotDesignation(input: $input) { userErrors { code } } }";
    let remove = "mutation($input: RemovePilotDesignationInput!) {
        removePilotDesignation(input: $input) { userErrors { code } } }";
    for (query, input) in [
        (
            set,
            json!({ "cityCode": "410100", "programCode": "INNOVATION_DEMO", "sinceYear": 2024,
                    "source": "a test" }),
        ),
        (
            set,
            json!({ "cityCode": "410100", "programCode": "INNOVATION_DEMO", "sinceYear": 2025,
                    "source": "a test", "expectedVersion": 1 }),
        ),
        (
            remove,
            json!({ "cityCode": "410100", "programCode": "INNOVATION_DEMO",
                    "expectedVersion": 2 }),
        ),
    ] {
        let response = app
            .query_as(Some(&token), query, json!({ "input": input }))
            .await;
        assert_eq!(response["errors"], Value::Null, "{response}");
    }
    for (action, year) in [("GRANTED", 2024), ("CHANGED", 2025), ("REVOKED", 2025)] {
        assert_eq!(
            ws.payload("d").await,
            json!({ "data": { "pilotDesignationChanged": {
                "action": action,
                "designation": { "city": { "code": "410100" },
                                 "program": { "code": "INNOVATION_DEMO" },
                                 "sinceYear": year, "source": "a test" },
                "revision": { "kind": "PILOT_DESIGNATION",
                              "recordKey": "410100/INNOVATION_DEMO" } } } })
        );
    }
}

#[tokio::test]
async fn a_province_total_is_heard_when_it_is_set_for_the_period_asked() {
    let app = TestApp::spawn().await;
    let token = admin(&app).await;
    let mut ws = listening(
        &app,
        Protocol::TransportWs,
        "t",
        "subscription { provinceTotalChanged(period: 2023) {
            provinceReport { branchType period total source version }
            revision { kind recordKey } } }",
        json!({}),
    )
    .await;
    let set = "mutation($input: SetProvinceReportedTotalInput!) {
        setProvinceReportedTotal(input: $input) { userErrors { code } } }";
    for input in [
        // Another period's total is not this subscription's.
        json!({ "branchType": "UNIVERSITY", "period": 2024, "total": 60, "source": "a test" }),
        json!({ "branchType": "ENTERPRISE", "period": 2023, "total": 930, "source": "corrected",
                "expectedVersion": 1 }),
    ] {
        let response = app
            .query_as(Some(&token), set, json!({ "input": input }))
            .await;
        assert_eq!(
            response["data"]["setProvinceReportedTotal"]["userErrors"],
            json!([]),
            "{response}"
        );
    }
    assert_eq!(
        ws.payload("t").await,
        json!({ "data": { "provinceTotalChanged": {
            "provinceReport": { "branchType": "ENTERPRISE", "period": 2023, "total": 930,
                                "source": "corrected", "version": 2 },
            "revision": { "kind": "PROVINCE_TOTAL", "recordKey": "ENTERPRISE/2023" } } } })
    );
    assert!(ws.silent_for(Duration::from_millis(300)).await);
}

#[tokio::test]
async fn the_connection_init_token_is_the_connections_actor_and_mutations_need_post() {
    let app = TestApp::spawn().await;
    let token = admin(&app).await;
    let mut ws = WsClient::connect(
        &addr(&app),
        Protocol::TransportWs,
        json!({ "authorization": format!("Bearer {token}") }),
    )
    .await;
    ws.subscribe("v", "{ viewer { name role } }", json!({}))
        .await;
    assert_eq!(
        ws.payload("v").await,
        json!({ "data": { "viewer": { "name": "Province office", "role": "ADMIN" } } })
    );
    ws.next().await;
    ws.subscribe(
        "m",
        UPDATE,
        json!({ "input": { "cityCode": "410800", "branchType": "ENTERPRISE", "period": 2024,
                           "branchCount": 1, "source": "test" } }),
    )
    .await;
    assert_eq!(
        ws.payload("m").await,
        json!({ "data": null, "errors": [{
            "message": "mutations are accepted only by POST /graphql",
            "extensions": { "code": "METHOD_NOT_ALLOWED" } }] })
    );
    ws.next().await;
    // Nothing was written.
    assert_eq!(
        app.query("{ revisions { totalCount } }").await,
        json!({ "data": { "revisions": { "totalCount": 0 } } })
    );
}

#[tokio::test]
async fn subscriptions_over_http_are_refused() {
    let app = TestApp::spawn().await;
    assert_eq!(
        app.query("subscription { coverageChanged { coverage { version } } }")
            .await,
        json!({ "data": null, "errors": [{
            "message": "subscriptions are served over the WebSocket at /graphql/ws",
            "extensions": { "code": "METHOD_NOT_ALLOWED" } }] })
    );
}

#[tokio::test]
async fn a_connection_may_hold_max_subscriptions_operations_and_no_more() {
    let app = TestApp::spawn_with(ServeArgs {
        max_subscriptions: 2,
        ..ServeArgs::default()
    })
    .await;
    let mut ws = listening(
        &app,
        Protocol::TransportWs,
        "1",
        COVERAGE_CHANGED,
        json!({}),
    )
    .await;
    ws.subscribe("2", COVERAGE_CHANGED, json!({})).await;
    ws.subscribe("3", COVERAGE_CHANGED, json!({})).await;
    let refused = json!({ "data": null, "errors": [{
        "message": "this connection has 2 operations open already; complete one first",
        "extensions": { "code": "TOO_MANY_SUBSCRIPTIONS" } }] });
    assert_eq!(ws.payload("3").await, refused);
    assert_eq!(ws.next().await, json!({ "type": "complete", "id": "3" }));
    // Completing one makes room for one.
    ws.complete("1").await;
    assert_eq!(ws.next().await, json!({ "type": "complete", "id": "1" }));
    ws.subscribe("4", COVERAGE_CHANGED, json!({})).await;
    ws.subscribe("5", COVERAGE_CHANGED, json!({})).await;
    assert_eq!(ws.payload("5").await, refused);
    let token = admin(&app).await;
    write_jiaozuo(&app, &token, 100, 0, "limit").await;
    let mut ids = vec![
        ws.next().await["id"].clone(),
        ws.next().await["id"].clone(),
        ws.next().await["id"].clone(),
    ];
    ids.sort_by_key(|v| v.to_string());
    // "5" completes; "2" and "4" each hear the write.
    assert_eq!(ids, vec![json!("2"), json!("4"), json!("5")]);
}

#[tokio::test]
async fn an_instance_holds_max_ws_connections_and_refuses_more_with_503() {
    let app = TestApp::spawn_with(ServeArgs {
        max_ws_connections: 1,
        ..ServeArgs::default()
    })
    .await;
    let first = WsClient::connect(&addr(&app), Protocol::TransportWs, json!({})).await;
    let refused = WsClient::upgrade(&addr(&app), Protocol::TransportWs)
        .await
        .err()
        .expect("refused");
    assert_eq!(refused.status, 503);
    assert_eq!(
        refused.body,
        json!({ "errors": [{
            "message": "this instance holds as many WebSocket connections as it may; try again later",
            "extensions": { "code": "TOO_MANY_CONNECTIONS" } }] })
    );
    drop(first);
    // The place is freed once the server sees the connection go.
    let mut attempts = 0;
    loop {
        match WsClient::upgrade(&addr(&app), Protocol::TransportWs).await {
            Ok(_) => break,
            Err(refused) if attempts < 100 => {
                assert_eq!(refused.status, 503);
                attempts += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(refused) => panic!("still refused: {refused:?}"),
        }
    }
}

/// Rows for a bulk write of every city's `types` for `periods`, each with a long source.
fn rows(periods: std::ops::Range<i32>, source: &str) -> Vec<Value> {
    let mut rows = Vec::new();
    for period in periods {
        for (code, ..) in crate::helpers::CITIES {
            for branch_type in ["ENTERPRISE", "UNIVERSITY", "TOWNSHIP"] {
                rows.push(json!({ "cityCode": code, "branchType": branch_type,
                                  "period": period, "branchCount": 1, "eligibleCount": 2,
                                  "source": source }));
            }
        }
    }
    rows
}

/// Some 66 KB per event: the source (3 KB) twenty times, and in the revision twice.
const FAT: &str = "subscription { coverageChanged {
    coverage { s1: source s2: source s3: source s4: source s5: source s6: source s7: source s8: source s9: source s10: source s11: source s12: source s13: source s14: source s15: source s16: source s17: source s18: source s19: source s20: source }
    revision { before after } } }";

#[tokio::test]
async fn a_subscriber_within_its_buffer_hears_every_event_of_a_burst() {
    let app = TestApp::spawn_with(ServeArgs {
        subscriber_buffer: 64,
        ..ServeArgs::default()
    })
    .await;
    let token = admin(&app).await;
    let mut ws = WsClient::connect(&addr(&app), Protocol::TransportWs, json!({})).await;
    ws.subscribe(
        "1",
        "subscription { coverageChanged { coverage { version } } }",
        json!({}),
    )
    .await;
    // 54 events at once, within a buffer of 64.
    let response = app
        .query_as(
            Some(&token),
            BULK,
            json!({ "input": rows(2024..2025, "s") }),
        )
        .await;
    assert_eq!(
        response["data"]["bulkUpdateCoverage"]["userErrors"],
        json!([])
    );
    for _ in 0..54 {
        assert_eq!(
            ws.payload("1").await,
            json!({ "data": { "coverageChanged": { "coverage": { "version": 1 } } } })
        );
    }
    assert!(ws.silent_for(Duration::from_millis(200)).await);
}

#[tokio::test]
async fn a_subscriber_that_does_not_read_is_dropped_with_close_code_4008() {
    let _alone = crate::helpers::exclusive().await;
    let app = TestApp::spawn_with(ServeArgs {
        subscriber_buffer: 4,
        ..ServeArgs::default()
    })
    .await;
    let token = admin(&app).await;
    let before = crate::metrics::metrics(&app).await;
    let mut ws = listening(&app, Protocol::TransportWs, "1", FAT, json!({})).await;
    // The client stops reading while 270 events of some 66 KB each (18 MB) are committed: far
    // more than its socket holds, so the server falls more than 4 events behind.
    let source = "河".repeat(1_000);
    for period in 2017..2022 {
        let response = app
            .query_as(
                Some(&token),
                BULK,
                json!({ "input": rows(period..period + 1, &source) }),
            )
            .await;
        assert_eq!(
            response["data"]["bulkUpdateCoverage"]["userErrors"],
            json!([])
        );
    }
    // Reading again: some events, then the reason, then the close frame.
    let mut events = 0;
    let close = loop {
        match ws.next_or_close().await {
            Ok(message) if message["payload"].get("data").is_some() => events += 1,
            Ok(message) => {
                assert_eq!(message["type"], "next");
                let error = &message["payload"]["errors"][0];
                assert_eq!(error["extensions"]["code"], "SUBSCRIBER_TOO_SLOW");
                assert!(
                    error["message"]
                        .as_str()
                        .unwrap()
                        .starts_with("subscriber too slow: "),
                    "{message}"
                );
            }
            Err(close) => break close.expect("a close frame"),
        }
    };
    assert!(events < 270, "{events} events before the drop");
    assert_eq!(u16::from(close.code), 4008);
    assert!(
        close.reason.starts_with("subscriber too slow: "),
        "{close:?}"
    );
    let after = crate::metrics::metrics(&app).await;
    let moved =
        |name: &str| crate::metrics::sample(&after, name) - crate::metrics::sample(&before, name);
    assert!(moved("coverage_api_events_dropped_total") >= 1.0);
    assert!(moved(r#"coverage_api_ws_dropped_total{reason="too_slow"}"#) >= 1.0);
    // The server carries on.
    assert_eq!(
        app.query("{ periods }").await,
        json!({ "data": { "periods": [2017, 2018, 2019, 2020, 2021, 2023] } })
    );
}

#[tokio::test]
async fn a_connection_that_never_initialises_is_closed_with_4408() {
    let app = TestApp::spawn_with(ServeArgs {
        ws_init_timeout_secs: 1,
        ..ServeArgs::default()
    })
    .await;
    // Initialised within the time: served past it.
    let mut on_time = WsClient::connect(&addr(&app), Protocol::TransportWs, json!({})).await;
    let mut silent = WsClient::upgrade(&addr(&app), Protocol::TransportWs)
        .await
        .expect("upgrade");
    let close = silent
        .next_or_close()
        .await
        .expect_err("closed")
        .expect("a frame");
    assert_eq!(
        (u16::from(close.code), close.reason.as_str()),
        (4408, "Connection initialisation timeout")
    );
    on_time.subscribe("q", "{ periods }", json!({})).await;
    assert_eq!(
        on_time.payload("q").await,
        json!({ "data": { "periods": [2023] } })
    );
}

#[tokio::test]
async fn shutting_down_closes_websockets_with_1001() {
    let mut app = TestApp::spawn().await;
    let mut ws = listening(
        &app,
        Protocol::TransportWs,
        "1",
        COVERAGE_CHANGED,
        json!({}),
    )
    .await;
    app.shut_down();
    let close = ws
        .next_or_close()
        .await
        .expect_err("closed")
        .expect("a frame");
    assert_eq!(
        (u16::from(close.code), close.reason.as_str()),
        (1001, "the server is shutting down")
    );
}
