//! Every request limit, each with a request just under it (answered) and just over it (refused
//! with its code), and the server answering normally afterwards.

use coverage_api::config::ServeArgs;
use coverage_api::service::tokens;
use entity::Role;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::ws_client::{Protocol, WsClient};

/// POSTs `body` as JSON; the status, headers and JSON body.
async fn post(app: &TestApp, body: &Value) -> (u16, HeaderMap, Value) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.json().await.unwrap())
}

/// The whole response for a request refused before execution with `code`.
fn refused(code: &str, message: &str) -> Value {
    json!({ "data": null, "errors": [{ "message": message, "extensions": { "code": code } }] })
}

async fn still_serves(app: &TestApp) {
    assert_eq!(
        app.query("{ periods }").await,
        json!({ "data": { "periods": [2023] } })
    );
}

#[tokio::test]
async fn depth() {
    let app = TestApp::spawn_with(ServeArgs {
        max_depth: 3,
        ..ServeArgs::default()
    })
    .await;
    assert_eq!(
        app.query("{ cities(first: 1) { nodes { code } } }").await,
        json!({ "data": { "cities": { "nodes": [{ "code": "410100" }] } } })
    );
    assert_eq!(
        app.query("{ cities(first: 1) { nodes { city: pilotPrograms { code } } } }")
            .await,
        refused("QUERY_TOO_DEEP", "fields nest 4 deep; at most 3 is allowed")
    );
    still_serves(&app).await;
}

#[tokio::test]
async fn complexity_counts_the_page_size_requested() {
    let app = TestApp::spawn_with(ServeArgs {
        max_complexity: 50,
        ..ServeArgs::default()
    })
    .await;
    // cities = first × (nodes 1 + code 1 + name 1) + 1: 16 → 49, 17 → 52.
    let query = |first: i32| format!("{{ cities(first: {first}) {{ nodes {{ code name }} }} }}");
    let under = app.query(&query(16)).await;
    assert_eq!(
        under["data"]["cities"]["nodes"].as_array().unwrap().len(),
        16
    );
    assert_eq!(
        app.query(&query(17)).await,
        refused(
            "QUERY_TOO_COMPLEX",
            "the query costs 52; at most 50 is allowed"
        )
    );
    // Without `first`, the default page (20) counts: 20 × 3 + 1 = 61.
    assert_eq!(
        app.query("{ cities { nodes { code name } } }").await,
        refused(
            "QUERY_TOO_COMPLEX",
            "the query costs 61; at most 50 is allowed"
        )
    );
    // A remembered document is measured again with each request's `first`.
    let page = "query($n: Int) { cities(first: $n) { nodes { code name } } }";
    let under = app.query_with(page, json!({ "n": 16 })).await;
    assert_eq!(
        under["data"]["cities"]["nodes"].as_array().unwrap().len(),
        16
    );
    assert_eq!(
        app.query_with(page, json!({ "n": 17 })).await,
        refused(
            "QUERY_TOO_COMPLEX",
            "the query costs 52; at most 50 is allowed"
        )
    );
    still_serves(&app).await;
}

#[tokio::test]
async fn fragment_expansion_counts_every_selection_before_validation() {
    let app = TestApp::spawn_with(ServeArgs {
        max_complexity: 64,
        max_root_fields: 1_000,
        ..ServeArgs::default()
    })
    .await;
    // F0 selects __typename; each next fragment spreads the previous twice: Fk is 2^k fields.
    let doc = |k: usize| {
        let mut doc = format!("{{ ...F{k} }} fragment F0 on Query {{ __typename }}");
        for i in 1..=k {
            doc.push_str(&format!(
                " fragment F{i} on Query {{ ...F{j} ...F{j} }}",
                j = i - 1
            ));
        }
        doc
    };
    assert_eq!(
        app.query(&doc(6)).await,
        json!({ "data": { "__typename": "Query" } })
    );
    assert_eq!(
        app.query(&doc(7)).await,
        refused(
            "QUERY_TOO_COMPLEX",
            "the query selects more than 64 fields once its fragments are expanded"
        )
    );
    // 2^60 selections in under 2 KB: refused at once, counted once per fragment.
    assert_eq!(
        app.query(&doc(60)).await,
        refused(
            "QUERY_TOO_COMPLEX",
            "the query selects more than 64 fields once its fragments are expanded"
        )
    );
    still_serves(&app).await;
}

#[tokio::test]
async fn the_exponential_fragment_document_is_refused_under_the_default_limits() {
    let app = TestApp::spawn().await;
    let mut doc = "{ cities { nodes { ...F40 } } } fragment F0 on City { code }".to_owned();
    for i in 1..=40 {
        doc.push_str(&format!(
            " fragment F{i} on City {{ ...F{j} ...F{j} }}",
            j = i - 1
        ));
    }
    assert_eq!(
        app.query(&doc).await,
        refused(
            "QUERY_TOO_COMPLEX",
            "the query selects more than 5000 fields once its fragments are expanded"
        )
    );
    still_serves(&app).await;
}

#[tokio::test]
async fn aliases_are_counted_through_fragments() {
    let app = TestApp::spawn_with(ServeArgs {
        max_aliases: 3,
        ..ServeArgs::default()
    })
    .await;
    assert_eq!(
        app.query("{ a: periods b: periods c: periods }").await,
        json!({ "data": { "a": [2023], "b": [2023], "c": [2023] } })
    );
    assert_eq!(
        app.query("{ a: periods b: periods c: periods d: periods }")
            .await,
        refused(
            "TOO_MANY_ALIASES",
            "the document uses 4 aliases once its fragments are expanded; at most 3 are allowed"
        )
    );
    // Two aliases in a fragment spread twice are four.
    assert_eq!(
        app.query(
            "{ cities(first: 1) { nodes { ...F } } latest: cities(first: 1) { nodes { ...F } } }
             fragment F on City { c: code n: name }"
        )
        .await,
        refused(
            "TOO_MANY_ALIASES",
            "the document uses 5 aliases once its fragments are expanded; at most 3 are allowed"
        )
    );
    still_serves(&app).await;
}

#[tokio::test]
async fn root_fields() {
    let app = TestApp::spawn_with(ServeArgs {
        max_root_fields: 2,
        ..ServeArgs::default()
    })
    .await;
    assert_eq!(
        app.query("{ periods __typename }").await,
        json!({ "data": { "periods": [2023], "__typename": "Query" } })
    );
    assert_eq!(
        app.query("{ periods __typename ...on Query { a: periods } }")
            .await,
        refused(
            "TOO_MANY_ROOT_FIELDS",
            "an operation selects 3 root fields; at most 2 are allowed"
        )
    );
    still_serves(&app).await;
}

#[tokio::test]
async fn directives_per_field() {
    let app = TestApp::spawn_with(ServeArgs {
        max_directives: 2,
        ..ServeArgs::default()
    })
    .await;
    assert_eq!(
        app.query("{ periods @include(if: true) @skip(if: false) }")
            .await,
        json!({ "data": { "periods": [2023] } })
    );
    assert_eq!(
        app.query("{ periods @include(if: true) @skip(if: false) @include(if: true) }")
            .await,
        refused(
            "TOO_MANY_DIRECTIVES",
            "a selection carries 3 directives; at most 2 are allowed"
        )
    );
    still_serves(&app).await;
}

#[tokio::test]
async fn bracket_nesting_is_bounded_before_parsing() {
    let app = TestApp::spawn_with(ServeArgs {
        max_nesting: 4,
        ..ServeArgs::default()
    })
    .await;
    // `{ city(code: …) { coverage(…) { version } } }`: braces and parentheses 4 deep.
    let under = "{ city(code: \"410800\") { coverage(branchType: ENTERPRISE) { version } } }";
    assert_eq!(
        app.query(under).await,
        json!({ "data": { "city": { "coverage": [{ "version": 1 }] } } })
    );
    let over = "{ city(code: \"410800\") { coverage(branchType: ENTERPRISE, period: [[2023]]) \
                { version } } }";
    assert_eq!(
        app.query(over).await,
        refused(
            "NESTING_TOO_DEEP",
            "the document nests brackets more than 4 deep"
        )
    );
    still_serves(&app).await;
}

#[tokio::test]
async fn a_deeply_nested_list_literal_does_not_take_the_server_down() {
    let app = TestApp::spawn().await;
    // 100,000 nested lists in 200 KB: enough to exhaust a parser's stack.
    let literal = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
    let query = format!("{{ city(code: {literal}) {{ name }} }}");
    assert_eq!(
        app.query(&query).await,
        refused(
            "NESTING_TOO_DEEP",
            "the document nests brackets more than 64 deep"
        )
    );
    still_serves(&app).await;
}

#[tokio::test]
async fn batches_hold_up_to_max_batch_operations_each_checked_alone() {
    let app = TestApp::spawn_with(ServeArgs {
        max_batch: 3,
        max_complexity: 50,
        ..ServeArgs::default()
    })
    .await;
    let op = json!({ "query": "{ periods }" });
    let (status, _, body) = post(&app, &json!([op, op, op])).await;
    assert_eq!(status, 200);
    let one = json!({ "data": { "periods": [2023] } });
    assert_eq!(body, json!([one, one, one]));
    let (status, _, body) = post(&app, &json!([op, op, op, op])).await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({ "errors": [{
        "message": "a batch holds 1 to 3 operations, this one 4",
        "extensions": { "code": "BATCH_TOO_LARGE" } }] })
        )
    );
    // Each operation of a batch meets every limit on its own.
    let (status, _, body) = post(
        &app,
        &json!([op, { "query": "{ cities(first: 17) { nodes { code name } } }" }]),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!([
            one,
            refused(
                "QUERY_TOO_COMPLEX",
                "the query costs 52; at most 50 is allowed"
            )
        ])
    );
}

#[tokio::test]
async fn errors_are_bounded_in_number_and_size() {
    let app = TestApp::spawn().await;
    let fields: Vec<String> = (0..50).map(|i| format!("unknown{i}")).collect();
    let response = app
        .query(&format!(
            "{{ cities {{ nodes {{ {} }} }} }}",
            fields.join(" ")
        ))
        .await;
    let errors = response["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 20);
    assert_eq!(
        errors[0],
        json!({ "message": "Unknown field \"unknown0\" on type \"City\".",
                "locations": [{ "line": 1, "column": 20 }],
                "extensions": { "code": "GRAPHQL_VALIDATION_FAILED" } })
    );
    assert_eq!(
        errors[19],
        json!({ "message": "31 more errors were left out",
                "extensions": { "code": "TOO_MANY_ERRORS" } })
    );
    let long = "x".repeat(5_000);
    let response = app.query(&format!("{{ {long} }}")).await;
    let message = response["errors"][0]["message"].as_str().unwrap();
    assert_eq!(message.chars().count(), 1_001);
    assert!(message.ends_with('…'));
}

#[tokio::test]
async fn field_suggestions_can_be_switched_off() {
    let on = TestApp::spawn().await;
    assert_eq!(
        on.query("{ period }").await,
        json!({ "data": null, "errors": [{
            "message": "Unknown field \"period\" on type \"Query\". Did you mean \"periods\"?",
            "locations": [{ "line": 1, "column": 3 }],
            "extensions": { "code": "GRAPHQL_VALIDATION_FAILED" } }] })
    );
    let off = TestApp::spawn_with(ServeArgs {
        field_suggestions: false,
        ..ServeArgs::default()
    })
    .await;
    assert_eq!(
        off.query("{ period }").await,
        json!({ "data": null, "errors": [{
            "message": "Unknown field \"period\" on type \"Query\".",
            "locations": [{ "line": 1, "column": 3 }],
            "extensions": { "code": "GRAPHQL_VALIDATION_FAILED" } }] })
    );
}

#[tokio::test]
async fn introspection_is_on_by_default_and_can_be_switched_off() {
    let query = "{ __schema { queryType { name } } }";
    let on = TestApp::spawn().await;
    assert_eq!(
        on.query(query).await,
        json!({ "data": { "__schema": { "queryType": { "name": "Query" } } } })
    );
    let off = TestApp::spawn_with(ServeArgs {
        introspection: false,
        ..ServeArgs::default()
    })
    .await;
    let off_message = refused(
        "INTROSPECTION_DISABLED",
        "introspection is switched off on this server",
    );
    assert_eq!(off.query(query).await, off_message);
    assert_eq!(
        off.query("{ ...on Query { t: __type(name: \"City\") { name } } }")
            .await,
        off_message
    );
    // __typename is not introspection.
    assert_eq!(
        off.query("{ __typename }").await,
        json!({ "data": { "__typename": "Query" } })
    );
}

#[tokio::test]
async fn get_runs_reads_that_may_be_cached_and_never_mutations() {
    let app = TestApp::spawn().await;
    let get = |query: &str| {
        let url = reqwest::Url::parse_with_params(&app.url("/graphql"), [("query", query)]);
        app.client.get(url.unwrap()).send()
    };
    let response = get("{ periods }").await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "public, max-age=5");
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({ "data": { "periods": [2023] } })
    );
    let mutation = "mutation { setProvinceReportedTotal(input: { branchType: ENTERPRISE, \
                    period: 2023, total: 1 }) { userErrors { code } } }";
    let response = get(mutation).await.unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        refused(
            "METHOD_NOT_ALLOWED",
            "mutations are accepted only by POST /graphql"
        )
    );
    // GET meets the same limits as POST.
    let deep = format!(
        "{{ city(code: {}1{}) {{ name }} }}",
        "[".repeat(100),
        "]".repeat(100)
    );
    assert_eq!(
        get(&deep).await.unwrap().json::<Value>().await.unwrap(),
        refused(
            "NESTING_TOO_DEEP",
            "the document nests brackets more than 64 deep"
        )
    );
}

#[tokio::test]
async fn only_successful_anonymous_reads_may_be_cached() {
    let app = TestApp::spawn().await;
    let cache = |headers: &HeaderMap| headers["cache-control"].to_str().unwrap().to_owned();
    let (_, headers, _) = post(&app, &json!({ "query": "{ periods }" })).await;
    assert_eq!(cache(&headers), "public, max-age=5");
    assert_eq!(headers["vary"], "authorization, accept");
    let (_, headers, _) = post(&app, &json!({ "query": "{ period }" })).await;
    assert_eq!(cache(&headers), "no-store");
    let token = tokens::create(&app.db.conn, "Province office", Role::Admin, None)
        .await
        .unwrap()
        .secret;
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&token)
        .json(&json!({ "query": "{ periods }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["cache-control"], "no-store");

    let uncached = TestApp::spawn_with(ServeArgs {
        cache_max_age: 0,
        ..ServeArgs::default()
    })
    .await;
    let (_, headers, _) = post(&uncached, &json!({ "query": "{ periods }" })).await;
    assert_eq!(cache(&headers), "no-store");
}

#[tokio::test]
async fn websocket_operations_meet_the_same_limits() {
    let app = TestApp::spawn_with(ServeArgs {
        max_complexity: 50,
        ..ServeArgs::default()
    })
    .await;
    let mut ws = WsClient::connect(&app.addr.to_string(), Protocol::TransportWs, json!({})).await;
    ws.subscribe(
        "1",
        "{ cities(first: 17) { nodes { code name } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        ws.payload("1").await,
        refused(
            "QUERY_TOO_COMPLEX",
            "the query costs 52; at most 50 is allowed"
        )
    );
}

#[tokio::test]
async fn a_request_over_its_time_gets_408_with_a_code() {
    use sea_orm::{ConnectionTrait, DbBackend, TransactionTrait};
    let app = TestApp::spawn_with(ServeArgs {
        request_timeout_secs: 1,
        // The second request must execute (and wait for the database), not be answered from
        // the response cache or from the published figures in memory.
        response_cache_bytes: 0,
        ..crate::helpers::database_reads()
    })
    .await;
    let query = json!({ "query": "{ cities { totalCount } }" });
    // Under: answered.
    let (status, _, _) = post(&app, &query).await;
    assert_eq!(status, 200);
    // Over: the test holds what the request needs (in-memory SQLite: the pool's one connection;
    // PostgreSQL: a lock on the cities) for longer than the request may take.
    let txn = app.db.conn.begin().await.unwrap();
    if app.db.backend() == DbBackend::Postgres {
        txn.execute_unprepared("LOCK TABLE cities IN ACCESS EXCLUSIVE MODE")
            .await
            .unwrap();
    }
    let (status, _, body) = post(&app, &query).await;
    assert_eq!(
        (status, body),
        (
            408,
            json!({ "errors": [{
            "message": "the request took longer than the server allows",
            "extensions": { "code": "REQUEST_TIMEOUT" } }] })
        )
    );
    txn.rollback().await.unwrap();
    still_serves(&app).await;
}

/// GraphiQL's own introspection query (graphql-js `getIntrospectionQuery`, every option on).
const INTROSPECTION: &str = "query IntrospectionQuery { __schema { description
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description isRepeatable locations
                 args(includeDeprecated: true) { ...InputValue } } } }
  fragment FullType on __Type { kind name description specifiedByURL
    fields(includeDeprecated: true) { name description args(includeDeprecated: true) {
      ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
    inputFields(includeDeprecated: true) { ...InputValue }
    interfaces { ...TypeRef }
    enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
    possibleTypes { ...TypeRef } }
  fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue
    isDeprecated deprecationReason }
  fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType {
    kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name } } } } } } } } }";

#[tokio::test]
async fn the_playgrounds_introspection_query_fits_the_default_limits() {
    let app = TestApp::spawn().await;
    let response = app.query(INTROSPECTION).await;
    assert_eq!(response["errors"], Value::Null, "{response}");
    assert_eq!(
        response["data"]["__schema"]["subscriptionType"],
        json!({ "name": "Subscription" })
    );
}

#[tokio::test]
async fn idle_websockets_are_pinged_and_a_peer_that_never_answers_is_closed() {
    let app = TestApp::spawn_with(ServeArgs {
        ws_keepalive_secs: 1,
        max_ws_connections: 1,
        ..ServeArgs::default()
    })
    .await;
    let addr = app.addr.to_string();
    // A client that reads (and so answers the ping frames, as every WebSocket client does) is
    // pinged in its protocol every interval and stays connected.
    for (protocol, ping) in [
        (Protocol::TransportWs, json!({ "type": "ping" })),
        (Protocol::Legacy, json!({ "type": "ka" })),
    ] {
        let mut ws = connect_when_free(&addr, protocol).await;
        for _ in 0..3 {
            assert_eq!(ws.next().await, ping, "{protocol:?}");
        }
        ws.subscribe("1", "{ periods }", json!({})).await;
        assert_eq!(
            ws.payload("1").await,
            json!({ "data": { "periods": [2023] } })
        );
    }
    // A peer that stops reading answers nothing: it is closed after an unanswered ping, and its
    // place, the only one, is free again.
    let silent = connect_when_free(&addr, Protocol::TransportWs).await;
    let refused = WsClient::upgrade(&addr, Protocol::TransportWs).await.err();
    assert_eq!(
        refused.map(|r| r.status),
        Some(503),
        "the one place is taken"
    );
    let mut waited = 0;
    while WsClient::upgrade(&addr, Protocol::TransportWs)
        .await
        .is_err()
    {
        waited += 1;
        assert!(waited < 100, "the silent peer was never closed");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    drop(silent);
    let metrics = app.get("/metrics").await.1;
    assert!(
        metrics.contains("coverage_api_ws_dropped_total{reason=\"unresponsive\"} 1"),
        "{metrics}"
    );
}

/// A connection, once the instance has a place for it (a closed one frees its place a moment
/// after the client lets go).
async fn connect_when_free(addr: &str, protocol: Protocol) -> WsClient {
    for _ in 0..100 {
        if let Ok(mut ws) = WsClient::upgrade(addr, protocol).await {
            ws.send(json!({ "type": "connection_init", "payload": {} }))
                .await;
            assert_eq!(ws.next().await, json!({ "type": "connection_ack" }));
            return ws;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no place for a WebSocket connection");
}
