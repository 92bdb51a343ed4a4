//! Global object identification: every identified object has an opaque `id` made of its natural
//! key (the same strings on SQLite and PostgreSQL, after a restart, across a record's versions),
//! `node` and `nodes` fetch any of them (one statement per kind, whatever the number of ids),
//! malformed ids and oversized batches are refused, and writes and events answer with ids.

use coverage_api::service::tokens;
use entity::Role;
use serde_json::{Value, json};

use crate::helpers::{FreshDatabase, TestApp, binary_token, database_reads, spawn_binary};
use crate::ws_client::{Protocol, WsClient};

// The ids, written out: base64url (no padding) of the text in the comment. They are the same on
// both legs of CI (SQLite and PostgreSQL), which is what "stable across databases" means.
/// `City:410800`
const JIAOZUO: &str = "Q2l0eTo0MTA4MDA";
/// `City:410900`
const PUYANG: &str = "Q2l0eTo0MTA5MDA";
/// `Coverage:410800/ENTERPRISE/2023`
const JIAOZUO_ENTERPRISE_2023: &str = "Q292ZXJhZ2U6NDEwODAwL0VOVEVSUFJJU0UvMjAyMw";
/// `Coverage:410900/ENTERPRISE/2023`
const PUYANG_ENTERPRISE_2023: &str = "Q292ZXJhZ2U6NDEwOTAwL0VOVEVSUFJJU0UvMjAyMw";
/// `Coverage:410800/ENTERPRISE/2024`
const JIAOZUO_ENTERPRISE_2024: &str = "Q292ZXJhZ2U6NDEwODAwL0VOVEVSUFJJU0UvMjAyNA";
/// `PilotProgram:KECHUANG_PILOT`
const KECHUANG: &str = "UGlsb3RQcm9ncmFtOktFQ0hVQU5HX1BJTE9U";
/// `PilotDesignation:410800/KECHUANG_PILOT`
const JIAOZUO_KECHUANG: &str = "UGlsb3REZXNpZ25hdGlvbjo0MTA4MDAvS0VDSFVBTkdfUElMT1Q";
/// `PilotDesignation:410400/HUISHI_HEZUO`
const PINGDINGSHAN_HUISHI: &str = "UGlsb3REZXNpZ25hdGlvbjo0MTA0MDAvSFVJU0hJX0hFWlVP";
/// `ProvinceReport:ENTERPRISE/2023`
const ENTERPRISE_2023_REPORT: &str = "UHJvdmluY2VSZXBvcnQ6RU5URVJQUklTRS8yMDIz";
/// `ProvinceReport:UNIVERSITY/2023`
const UNIVERSITY_2023_REPORT: &str = "UHJvdmluY2VSZXBvcnQ6VU5JVkVSU0lUWS8yMDIz";
/// `Revision:1`
const REVISION_1: &str = "UmV2aXNpb246MQ";
/// `Viewer:1`
const TOKEN_1: &str = "Vmlld2VyOjE";
/// `City:999999`: well formed, names nothing.
const NO_CITY: &str = "Q2l0eTo5OTk5OTk";
/// `Revision:999`: well formed, names nothing.
const NO_REVISION: &str = "UmV2aXNpb246OTk5";

const UPDATE: &str = "mutation($input: UpdateCoverageInput!) { updateCoverage(input: $input) {
    coverage { id version branchCount } revision { id number } userErrors { code } } }";

/// Every kind of identified object the report's data holds, with its id.
const EVERY_KIND: &str = r#"{
    city(code: "410800") { id code
        coverage(period: 2023, branchType: ENTERPRISE) { id }
        pilotDesignations { id program { id code } } }
    summary(period: 2023) { byType { provinceReport { id } } }
    revisions(first: 1) { nodes { id number } }
    viewer { id name } }"#;

fn every_kind_answer() -> Value {
    json!({ "data": {
        "city": { "id": JIAOZUO, "code": "410800",
            "coverage": [{ "id": JIAOZUO_ENTERPRISE_2023 }],
            "pilotDesignations": [{ "id": JIAOZUO_KECHUANG,
                "program": { "id": KECHUANG, "code": "KECHUANG_PILOT" } }] },
        "summary": { "byType": [
            { "provinceReport": { "id": ENTERPRISE_2023_REPORT } },
            { "provinceReport": { "id": UNIVERSITY_2023_REPORT } },
            { "provinceReport": null }] },
        "revisions": { "nodes": [{ "id": REVISION_1, "number": 1 }] },
        "viewer": { "id": TOKEN_1, "name": "test" } } })
}

/// Jiaozuo's 2024 enterprise figures, written over `expected` (0: made), by an administrator
/// outside any round: public at once.
fn jiaozuo_2024(branches: i32, expected: i32) -> Value {
    json!({ "input": { "cityCode": "410800", "branchType": "ENTERPRISE", "period": 2024,
        "branchCount": branches, "eligibleCount": 400, "expectedVersion": expected,
        "source": "test" } })
}

async fn admin(app: &TestApp) -> String {
    tokens::create(&app.db.conn, "test", Role::Admin, None)
        .await
        .unwrap()
        .secret
}

async fn post(addr: &str, token: &str, query: &str, variables: Value) -> Value {
    reqwest::Client::new()
        .post(format!("http://{addr}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn every_kind_of_object_has_an_id_made_of_its_natural_key_the_same_on_every_database() {
    let app = TestApp::spawn().await;
    let token = admin(&app).await;
    let written = app
        .query_as(Some(&token), UPDATE, jiaozuo_2024(250, 0))
        .await;
    assert_eq!(
        written,
        json!({ "data": { "updateCoverage": {
            "coverage": { "id": JIAOZUO_ENTERPRISE_2024, "version": 1, "branchCount": 250 },
            "revision": { "id": REVISION_1, "number": 1 }, "userErrors": [] } } })
    );
    let response = app.query_as(Some(&token), EVERY_KIND, json!({})).await;
    assert_eq!(response, every_kind_answer());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_are_the_same_after_the_real_binary_restarts() {
    let fresh = FreshDatabase::new("node_restart").await;
    let token = binary_token(&fresh.url, &["--role", "admin", "--name", "test"]);
    let (mut first, addr) = spawn_binary(&fresh.url);
    let written = post(&addr, &token, UPDATE, jiaozuo_2024(250, 0)).await;
    assert_eq!(written["data"]["updateCoverage"]["userErrors"], json!([]));
    let before = post(&addr, &token, EVERY_KIND, json!({})).await;
    first.kill().ok();
    first.wait().ok();

    let (mut second, addr) = spawn_binary(&fresh.url);
    let after = post(&addr, &token, EVERY_KIND, json!({})).await;
    second.kill().ok();
    second.wait().ok();
    assert_eq!(before, every_kind_answer());
    assert_eq!(after, every_kind_answer());
}

#[tokio::test]
async fn a_coverage_record_keeps_its_id_from_creation_through_every_version() {
    let app = TestApp::spawn().await;
    let token = admin(&app).await;
    for (expected, branches) in [(0, 10), (1, 20), (2, 30)] {
        let input = jiaozuo_2024(branches, expected);
        let response = app.query_as(Some(&token), UPDATE, input).await;
        assert_eq!(
            response["data"]["updateCoverage"]["coverage"],
            json!({ "id": JIAOZUO_ENTERPRISE_2024, "version": expected + 1, "branchCount": branches })
        );
    }
}

#[tokio::test]
async fn node_fetches_every_kind_of_object_by_its_id() {
    let app = TestApp::spawn().await;
    let token = admin(&app).await;
    app.query_as(Some(&token), UPDATE, jiaozuo_2024(250, 0))
        .await;
    let query = "query($id: ID!) { node(id: $id) { __typename id
        ... on City { code nameEn }
        ... on Coverage { branchType period branchCount version city { code } }
        ... on PilotProgram { code statedSize }
        ... on PilotDesignation { sinceYear designated: city { code } program { code } }
        ... on ProvinceReport { branchType period total }
        ... on Revision { number kind recordKey }
        ... on Viewer { name role } } }";
    let cases = [
        (
            JIAOZUO,
            json!({ "__typename": "City", "id": JIAOZUO, "code": "410800", "nameEn": "Jiaozuo" }),
        ),
        (
            JIAOZUO_ENTERPRISE_2024,
            json!({ "__typename": "Coverage", "id": JIAOZUO_ENTERPRISE_2024,
                "branchType": "ENTERPRISE", "period": 2024, "branchCount": 250, "version": 1,
                "city": { "code": "410800" } }),
        ),
        (
            KECHUANG,
            json!({ "__typename": "PilotProgram", "id": KECHUANG, "code": "KECHUANG_PILOT",
                "statedSize": 3 }),
        ),
        (
            JIAOZUO_KECHUANG,
            json!({ "__typename": "PilotDesignation", "id": JIAOZUO_KECHUANG, "sinceYear": 2023,
                "designated": { "code": "410800" }, "program": { "code": "KECHUANG_PILOT" } }),
        ),
        (
            ENTERPRISE_2023_REPORT,
            json!({ "__typename": "ProvinceReport", "id": ENTERPRISE_2023_REPORT,
                "branchType": "ENTERPRISE", "period": 2023, "total": 927 }),
        ),
        (
            REVISION_1,
            json!({ "__typename": "Revision", "id": REVISION_1, "number": 1,
                "kind": "COVERAGE", "recordKey": "410800/ENTERPRISE/2024" }),
        ),
        (
            TOKEN_1,
            json!({ "__typename": "Viewer", "id": TOKEN_1, "name": "test", "role": "ADMIN" }),
        ),
    ];
    for (id, node) in cases {
        let response = app.query_as(Some(&token), query, json!({ "id": id })).await;
        assert_eq!(response, json!({ "data": { "node": node } }), "{id}");
    }
}

#[tokio::test]
async fn an_unknown_id_is_null_and_a_token_answers_only_to_its_holder() {
    let app = TestApp::spawn().await;
    let holder = admin(&app).await;
    let other = tokens::create(&app.db.conn, "other", Role::CityStaff, Some("410800"))
        .await
        .unwrap()
        .secret;
    let query = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }";
    let ids = json!({ "ids": [NO_CITY, NO_REVISION, TOKEN_1, JIAOZUO] });
    let as_holder = app.query_as(Some(&holder), query, ids.clone()).await;
    assert_eq!(
        as_holder,
        json!({ "data": { "nodes": [null, null, { "id": TOKEN_1 }, { "id": JIAOZUO }] } })
    );
    for token in [Some(other.as_str()), None] {
        let response = app.query_as(token, query, ids.clone()).await;
        assert_eq!(
            response,
            json!({ "data": { "nodes": [null, null, null, { "id": JIAOZUO }] } })
        );
    }
}

#[tokio::test]
async fn a_malformed_id_is_bad_user_input() {
    let app = TestApp::spawn().await;
    let node = "query($id: ID!) { node(id: $id) { id } }";
    // Not base64url; padded; a type the API does not have; a key that is not canonical.
    for (id, shown) in [
        ("410800", "410800"),
        ("Q2l0eTo0MTA4MDA=", "Q2l0eTo0MTA4MDA="),
        ("Tm9wZTox", "Tm9wZTox"),
        ("UmV2aXNpb246MDE", "UmV2aXNpb246MDE"),
    ] {
        let response = app.query_with(node, json!({ "id": id })).await;
        assert_eq!(
            response,
            json!({ "data": null, "errors": [{
                "message": format!("`{shown}` is not an id of this API"),
                "locations": [{ "line": 1, "column": 19 }], "path": ["node"],
                "extensions": { "code": "BAD_USER_INPUT" } }] }),
            "{id}"
        );
    }
    let nodes = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }";
    let response = app
        .query_with(nodes, json!({ "ids": [JIAOZUO, "nope!"] }))
        .await;
    assert_eq!(
        response,
        json!({ "data": null, "errors": [{
            "message": "`nope!` is not an id of this API",
            "locations": [{ "line": 1, "column": 23 }], "path": ["nodes"],
            "extensions": { "code": "BAD_USER_INPUT" } }] })
    );
}

#[tokio::test]
async fn nodes_takes_up_to_the_page_cap_of_100_ids_and_refuses_101() {
    let app = TestApp::spawn().await;
    let query = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }";
    let hundred = vec![JIAOZUO; 100];
    let response = app.query_with(query, json!({ "ids": hundred })).await;
    assert_eq!(
        response,
        json!({ "data": { "nodes": vec![json!({ "id": JIAOZUO }); 100] } })
    );
    let response = app
        .query_with(query, json!({ "ids": vec![JIAOZUO; 101] }))
        .await;
    assert_eq!(
        response,
        json!({ "data": null, "errors": [{
            "message": "nodes takes at most 100 ids, got 101",
            "locations": [{ "line": 1, "column": 23 }], "path": ["nodes"],
            "extensions": { "code": "BAD_USER_INPUT" } }] })
    );
}

#[tokio::test]
async fn a_batch_of_nodes_costs_one_statement_per_kind_whatever_the_number_of_ids() {
    let app = TestApp::spawn_synthetic_with(100, 1, database_reads()).await;
    let query = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }";
    let id = |plain: String| {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(plain)
    };
    let city = |i: usize| id(format!("City:{}", 900_001 + i));
    let record = |i: usize| id(format!("Coverage:{}/TOWNSHIP/2023", 900_001 + i));
    // One id of a kind, then 50 of it: one statement either way.
    for n in [1, 50] {
        let ids: Vec<String> = (0..n).map(city).collect();
        let (statements, response) = app
            .statements_during(app.query_with(query, json!({ "ids": ids })))
            .await;
        let expected: Vec<Value> = ids
            .iter()
            .map(|id| json!({ "__typename": "City", "id": id }))
            .collect();
        assert_eq!(response, json!({ "data": { "nodes": expected } }));
        assert_eq!(statements, 1, "{n} cities");
    }
    // 100 ids of two kinds, interleaved: two statements, answers in the order asked.
    let ids: Vec<String> = (0..50).flat_map(|i| [city(i), record(i)]).collect();
    let (statements, response) = app
        .statements_during(app.query_with(query, json!({ "ids": ids })))
        .await;
    let expected: Vec<Value> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let typename = if i % 2 == 0 { "City" } else { "Coverage" };
            json!({ "__typename": typename, "id": id })
        })
        .collect();
    assert_eq!(response, json!({ "data": { "nodes": expected } }));
    assert_eq!(statements, 2);
}

#[tokio::test]
async fn a_batch_of_every_kind_costs_one_statement_per_kind() {
    let app = TestApp::spawn().await;
    let token = admin(&app).await;
    app.query_as(Some(&token), UPDATE, jiaozuo_2024(250, 0))
        .await;
    // On PostgreSQL the write's change event is read back through the pool when its
    // notification arrives: wait until the pool is quiet, so that it is not counted here.
    let mut last = app.db.statement_count();
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let now = app.db.statement_count();
        if now == last {
            break;
        }
        last = now;
    }
    let query = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }";
    let ids = [
        JIAOZUO,
        PUYANG,
        JIAOZUO_ENTERPRISE_2023,
        PUYANG_ENTERPRISE_2023,
        KECHUANG,
        JIAOZUO_KECHUANG,
        PINGDINGSHAN_HUISHI,
        ENTERPRISE_2023_REPORT,
        UNIVERSITY_2023_REPORT,
        REVISION_1,
    ];
    let (statements, response) = app
        .statements_during(app.query_with(query, json!({ "ids": ids })))
        .await;
    let typenames = [
        "City",
        "City",
        "Coverage",
        "Coverage",
        "PilotProgram",
        "PilotDesignation",
        "PilotDesignation",
        "ProvinceReport",
        "ProvinceReport",
        "Revision",
    ];
    let expected: Vec<Value> = ids
        .iter()
        .zip(typenames)
        .map(|(id, typename)| json!({ "__typename": typename, "id": id }))
        .collect();
    assert_eq!(response, json!({ "data": { "nodes": expected } }));
    // Cities, records, programmes, designations, province totals, revisions, and the returns
    // that say whether an anonymous reader may see a change to a figure (published yet?).
    assert_eq!(statements, 7);
}

#[tokio::test]
async fn designation_writes_answer_with_the_city_and_programme_as_they_stand_after() {
    let app = TestApp::spawn().await;
    let token = admin(&app).await;
    let query = "mutation($input: RemovePilotDesignationInput!) {
        removePilotDesignation(input: $input) { designation { id }
            city { id pilotDesignations { id } } program { id cities { id } }
            revision { id } userErrors { code } } }";
    let response = app
        .query_as(
            Some(&token),
            query,
            json!({ "input": { "cityCode": "410800", "programCode": "KECHUANG_PILOT",
                               "expectedVersion": 1 } }),
        )
        .await;
    // Luohe and Xinxiang stay in the programme.
    assert_eq!(
        response,
        json!({ "data": { "removePilotDesignation": {
            "designation": null,
            "city": { "id": JIAOZUO, "pilotDesignations": [] },
            "program": { "id": KECHUANG, "cities": [
                { "id": "Q2l0eTo0MTA3MDA" }, { "id": "Q2l0eTo0MTExMDA" }] },
            "revision": { "id": REVISION_1 }, "userErrors": [] } } })
    );
}

#[tokio::test]
async fn a_subscription_event_carries_the_ids_of_the_changed_objects() {
    let app = TestApp::spawn().await;
    let token = admin(&app).await;
    let mut ws = WsClient::connect(&app.addr.to_string(), Protocol::TransportWs, json!({})).await;
    ws.subscribe(
        "1",
        "subscription { coverageChanged { coverage { id version branchCount city { id } }
            revision { id } } }",
        json!({}),
    )
    .await;
    app.until_subscribers(1).await;
    app.query_as(Some(&token), UPDATE, jiaozuo_2024(250, 0))
        .await;
    assert_eq!(
        ws.next().await,
        json!({ "type": "next", "id": "1", "payload": { "data": { "coverageChanged": {
            "coverage": { "id": JIAOZUO_ENTERPRISE_2024, "version": 1, "branchCount": 250,
                          "city": { "id": JIAOZUO } },
            "revision": { "id": REVISION_1 } } } } })
    );
}

#[tokio::test]
async fn the_graphiql_default_query_asks_for_ids_and_runs_without_errors() {
    let app = TestApp::spawn().await;
    let page = include_str!("../../web/assets/graphiql.js");
    let start = page.find("const dashboardQuery = `").unwrap() + "const dashboardQuery = `".len();
    let end = start + page[start..].find("`;").unwrap();
    let query = page[start..end].replace("\\`", "`");
    let response = app.query(&query).await;
    assert!(response.get("errors").is_none(), "{response}");
    let jiaozuo = &response["data"]["cities"]["nodes"][7];
    assert_eq!(jiaozuo["id"], JIAOZUO);
    assert_eq!(jiaozuo["coverage"][0]["id"], JIAOZUO_ENTERPRISE_2023);
    assert_eq!(jiaozuo["pilotPrograms"][0]["id"], KECHUANG);
    assert_eq!(
        response["data"]["summary"]["byType"][0]["provinceReport"]["id"],
        ENTERPRISE_2023_REPORT
    );
}
