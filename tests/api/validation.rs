//! Every validation rule of the GraphQL specification (October 2021, section 5): a document that
//! breaks it is refused with GRAPHQL_VALIDATION_FAILED on every path a request can take (POST,
//! GET, a batch, the WebSocket, a persisted query's registration), before it runs.

use serde_json::{Value, json};

use crate::helpers::{TestApp, json_of, wrong_int_variable};
use crate::ws_client::{Protocol, WsClient};

/// One violating document per rule, named by the specification's section.
pub const VIOLATIONS: &[(&str, &str)] = &[
    (
        "5.6.1 an enum literal beside a variable in a list of IDs, in an operation not run",
        "query A { periods } query B($x: ID!) { nodes(ids: [$x, ENTERPRISE]) { id } }",
    ),
    (
        "5.6.1 an unknown enum value beside a variable in a list",
        "query A { periods } query B($d: OrderDirection!) { \
         cities(first: 1, orderBy: { field: NOPE, direction: $d }) { totalCount } }",
    ),
    (
        "5.7.1 directives are defined",
        "{ __typename @nonexistent }",
    ),
    (
        "5.7.2 directives in valid locations",
        "query @skip(if: true) { periods }",
    ),
    (
        "5.7.3 directives are unique per location",
        "{ periods @skip(if: false) @skip(if: true) }",
    ),
    (
        "5.4.1 a directive's arguments are known",
        "{ __typename @skip(if: false, x: 1) }",
    ),
    (
        "5.4.2.1 a directive's required arguments",
        "{ __typename @skip }",
    ),
    (
        "5.8.3 variables in a fragment's directives are defined",
        "query { ...F } fragment F on Query { __typename @include(if: $nope) }",
    ),
    (
        "5.3.1 a field named like our words",
        "{ PersistedQuery cities(first: 1) { totalCount } }",
    ),
    (
        "5.1.1 executable definitions",
        "{ periods } type Extra { a: Int }",
    ),
    (
        "5.2.1.1 operation name uniqueness",
        "query A { periods } query A { periods }",
    ),
    (
        "5.2.2.1 lone anonymous operation",
        "{ periods } query B { periods }",
    ),
    (
        "5.2.3.1 subscription single root field",
        "subscription { coverageChanged { revision { number } } pilotDesignationChanged { action } }",
    ),
    ("5.3.1 field selections", "{ periods nope }"),
    (
        "5.3.2 field selection merging",
        "{ city(code: \"410100\") { x: name x: code } }",
    ),
    ("5.3.3 leaf field selections", "{ city(code: \"410100\") }"),
    (
        "5.4.1 argument names",
        "{ city(code: \"410100\", zip: 1) { code } }",
    ),
    (
        "5.4.2 argument uniqueness",
        "{ city(code: \"410100\", code: \"410200\") { code } }",
    ),
    ("5.4.2.1 required arguments", "{ city { code } }"),
    (
        "5.5.1.1 fragment name uniqueness",
        "{ city(code: \"410100\") { ...F } } fragment F on City { code } fragment F on City { name }",
    ),
    (
        "5.5.1.2 fragment spread type existence",
        "{ city(code: \"410100\") { ...F } } fragment F on Nope { code }",
    ),
    (
        "5.5.1.3 fragments on composite types",
        "{ city(code: \"410100\") { ...F } } fragment F on String { length }",
    ),
    (
        "5.5.1.4 fragments must be used",
        "{ periods } fragment F on City { code }",
    ),
    (
        "5.5.2.1 fragment spread target defined",
        "{ city(code: \"410100\") { ...Nope } }",
    ),
    (
        "5.5.2.2 fragment spreads must not form cycles (direct)",
        "{ city(code: \"410100\") { ...A } } fragment A on City { ...A }",
    ),
    (
        "5.5.2.2 fragment spreads must not form cycles (indirect)",
        "{ city(code: \"410100\") { ...A } } fragment A on City { code ...B } fragment B on City { name ...C } fragment C on City { ...A }",
    ),
    (
        "5.5.2.3 fragment spread is possible",
        "{ city(code: \"410100\") { ...F } } fragment F on PilotProgram { code }",
    ),
    (
        "5.6.1 values of correct type",
        "{ city(code: 410100.5) { code } }",
    ),
    (
        "5.6.2 input object field names",
        "{ cities(filter: { nope: 1 }) { totalCount } }",
    ),
    (
        "5.6.3 input object field uniqueness",
        "{ cities(filter: { kind: PREFECTURE_CITY, kind: DEMONSTRATION_ZONE }) { totalCount } }",
    ),
    (
        "5.6.4 input object required fields",
        "{ cities(filter: { minCoverage: { rate: 0.5 } }) { totalCount } }",
    ),
    ("5.7.1 directives are defined", "{ periods @nope }"),
    (
        "5.7.2 directives are in valid locations",
        "query Q @skip(if: true) { periods }",
    ),
    (
        "5.7.3 directives are unique per location",
        "{ periods @skip(if: false) @skip(if: false) }",
    ),
    (
        "5.8.1 variable uniqueness",
        "query Q($a: ID!, $a: ID!) { city(code: $a) { code } }",
    ),
    (
        "5.8.2 variables are input types",
        "query Q($a: City) { periods }",
    ),
    (
        "5.8.3 all variable uses defined",
        "query Q { city(code: $a) { code } }",
    ),
    (
        "5.8.3 all variable uses defined (in a fragment)",
        "query Q { city(code: \"410100\") { ...F } } fragment F on City { coverage(period: $p) { branchType } }",
    ),
    ("5.8.4 all variables used", "query Q($a: ID) { periods }"),
    (
        "5.8.4 all variables used (unused in fragment too)",
        "query Q($a: ID, $p: Int) { city(code: $a) { ...F } } fragment F on City { code }",
    ),
    (
        "5.8.5 all variable usages are allowed",
        "query Q($a: Int) { city(code: $a) { code } }",
    ),
    (
        "5.7.1 directives are defined (on a fragment spread)",
        "{ city(code: \"410100\") { ...F @nope } } fragment F on City { code }",
    ),
    (
        "5.8.3 all variable uses defined (in a nested fragment of an anonymous query)",
        "{ city(code: \"410100\") { ...F } } fragment F on City { ...G } fragment G on City { code @skip(if: $x) }",
    ),
    // Found by the differential test against graphql-js (tests/conformance/referee).
    (
        "5.8.2 variables are input types (an unknown type with a default: async-graphql panicked)",
        "query($a: [Foo] = [1]) { periods }",
    ),
    (
        "5.3.3 leaf field selections (__typename)",
        "{ __typename { __typename } }",
    ),
    ("5.4.1 argument names (__typename)", "{ __typename(x: 1) }"),
    (
        "5.4.2 argument uniqueness (on a directive)",
        "{ __typename @include(if: true, if: true) }",
    ),
    (
        "5.6.1 values of correct type (an Int literal past 32 bits)",
        "{ revisions(period: 4294967296) { totalCount } }",
    ),
    (
        "5.8.5 all variable usages are allowed (a nullable variable in a directive's if)",
        "query($b: Boolean) { periods @include(if: $b) }",
    ),
    (
        "5.8.5 all variable usages are allowed (inside an input object)",
        "query($p: Int) { cities(filter: { programCode: $p }) { totalCount } }",
    ),
    (
        "5.6.2 input object field names (beside a variable: async-graphql ignored the field)",
        "query($p: ID) { cities(filter: { codes: [$p] }) { totalCount } }",
    ),
    (
        "5.3.2 field selection merging (below the first level)",
        "{ pilotPrograms { x: code } pilotPrograms { x: name } }",
    ),
    (
        "5.3.2 field selection merging (conflicting types on different object types)",
        "{ node(id: \"Q2l0eTo0MTA4MDA=\") { ... on City { v: code } ... on Coverage { v: coverageRate } } }",
    ),
    (
        "5.6.1 values of correct type (a string where an enum stands, in an input object)",
        "mutation { updateCoverage(input: { cityCode: \"410800\", branchType: \"UNIVERSITY\", period: 2023, branchCount: 0, expectedVersion: 0 }) { __typename } }",
    ),
    (
        "graphql-js's introspection depth",
        "{ __type(name: \"City\") { fields { type { fields { type { fields { name } } } } } } }",
    ),
];

/// Documents graphql-js accepts that the server once refused or answered wrongly (found by the
/// differential test), with their answers: the same on every path.
const ACCEPTED: &[(&str, &str, &str)] = &[
    (
        "a variable used only in a directive on __typename is used",
        "query($if: Boolean! = false) { __typename @skip(if: $if) }",
        r#"{ "data": { "__typename": "Query" } }"#,
    ),
    (
        "the Int literal -0",
        "{ summary(period: -0) { period } }",
        r#"{ "data": { "summary": { "period": 0 } } }"#,
    ),
    (
        "an operation whose only field is skipped answers empty data, never null without an error",
        "{ periods @skip(if: true) }",
        r#"{ "data": {} }"#,
    ),
];

#[tokio::test]
async fn documents_graphql_js_accepts_answer_alike_on_every_path() {
    let app = TestApp::spawn().await;
    for (what, doc, answer) in ACCEPTED {
        let answer: Value = serde_json::from_str(answer).unwrap();
        for path in PATHS {
            for attempt in 0..2 {
                assert_eq!(
                    send(&app, path, doc).await,
                    answer,
                    "{what} through {path}, attempt {attempt}"
                );
            }
        }
    }
}

/// GET names the operation to run with `operationName`, as the GraphQL over HTTP specification
/// says (async-graphql's reader looked for `operation_name`).
#[tokio::test]
async fn get_runs_the_operation_it_names() {
    let app = TestApp::spawn().await;
    let url = reqwest::Url::parse_with_params(
        &app.url("/graphql"),
        [
            ("query", "query A { __typename } query B { periods }"),
            ("operationName", "B"),
        ],
    )
    .unwrap();
    assert_eq!(
        json_of(app.client.get(url)).await,
        json!({ "data": { "periods": [2023] } })
    );
}

/// The SHA-256 of `text` in lowercase hex, as automatic persisted queries name a document.
pub fn sha256_hex(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The paths a request can take.
pub const PATHS: &[&str] = &["POST", "GET", "batch", "WebSocket", "persisted"];

/// Sends `doc` by `path` and returns its answer: the response body (for a batch, the answer to
/// `doc`, sent after a valid operation; for the WebSocket, the first payload; for a persisted
/// query, the registration's answer, after checking that the hash alone is still unknown if it
/// was refused).
pub async fn send(app: &TestApp, path: &str, doc: &str) -> Value {
    let client = &app.client;
    let url = app.url("/graphql");
    match path {
        "POST" => json_of(client.post(&url).json(&json!({ "query": doc }))).await,
        "GET" => {
            let url = reqwest::Url::parse_with_params(&url, [("query", doc)]).unwrap();
            json_of(client.get(url)).await
        }
        "batch" => {
            let batch = json!([{ "query": "{ periods }" }, { "query": doc }]);
            let answers = json_of(client.post(&url).json(&batch)).await;
            assert_eq!(answers[0], json!({ "data": { "periods": [2023] } }));
            answers[1].clone()
        }
        "WebSocket" => {
            let mut ws =
                WsClient::connect(&app.addr.to_string(), Protocol::TransportWs, json!({})).await;
            ws.subscribe("1", doc, json!({})).await;
            ws.payload("1").await
        }
        "persisted" => {
            let hash = sha256_hex(doc);
            let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
            let registration = json!({ "query": doc, "extensions": extensions });
            let registered = json_of(client.post(&url).json(&registration)).await;
            if registered["data"].is_null() {
                let replay =
                    json_of(client.post(&url).json(&json!({ "extensions": extensions }))).await;
                assert_eq!(
                    replay["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_FOUND",
                    "a refused document is not stored: {registered}"
                );
            }
            registered
        }
        other => panic!("no path {other}"),
    }
}

fn codes_of(response: &Value) -> Vec<&str> {
    response["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["extensions"]["code"].as_str())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn every_rule_of_the_specification_holds_on_every_path() {
    let app = TestApp::spawn().await;
    for (rule, doc) in VIOLATIONS {
        for path in PATHS {
            let response = send(&app, path, doc).await;
            let codes = codes_of(&response);
            assert!(
                response["data"].is_null()
                    && !codes.is_empty()
                    && codes
                        .iter()
                        .all(|code| *code == "GRAPHQL_VALIDATION_FAILED"),
                "{rule} through {path}: {response}"
            );
        }
    }
    assert_eq!(
        app.query("{ periods }").await,
        json!({ "data": { "periods": [2023] } })
    );
}

/// A refused document is refused again, with the same answer, whichever way it comes back: a
/// refusal is never remembered as a pass (before, `{ PersistedQuery … }` was refused once, then
/// answered and cached as public), and `data: null` never goes out without an error.
#[tokio::test]
async fn a_refused_document_stays_refused_on_every_path_however_often_it_is_sent() {
    let app = TestApp::spawn().await;
    for (rule, doc) in VIOLATIONS {
        for path in PATHS {
            let first = send(&app, path, doc).await;
            let second = send(&app, path, doc).await;
            assert_eq!(first, second, "{rule} through {path}");
            assert!(
                first["data"].is_null() && !codes_of(&first).is_empty(),
                "{rule} through {path}: {first}"
            );
        }
        let anonymous = app
            .client
            .post(app.url("/graphql"))
            .json(&json!({ "query": doc }));
        let again = json_of(anonymous).await;
        assert!(again["data"].is_null(), "{rule}, cached: {again}");
    }
}

#[tokio::test]
async fn fragment_cycles_are_refused_naming_the_cycle() {
    let app = TestApp::spawn().await;
    assert_eq!(
        app.query(
            "{ city(code: \"410100\") { ...A } }\n\
             fragment A on City { code ...B }\n\
             fragment B on City { ... on City { ...A } }"
        )
        .await,
        json!({ "data": null, "errors": [{
            "message": "Cannot spread fragment \"A\" within itself via \"B\".",
            "locations": [{ "line": 2, "column": 27 }, { "line": 3, "column": 36 }],
            "extensions": { "code": "GRAPHQL_VALIDATION_FAILED" } }] })
    );
}

#[tokio::test]
async fn parser_findings_that_are_rules_read_as_graphql_js_says_them() {
    let app = TestApp::spawn().await;
    let message = |doc: &'static str| {
        let app = &app;
        async move { app.query(doc).await["errors"][0]["message"].clone() }
    };
    assert_eq!(
        message("query A { periods } query A { periods }").await,
        "There can be only one operation named \"A\"."
    );
    assert_eq!(
        message("{ periods } query B { periods }").await,
        "This anonymous operation must be the only defined operation."
    );
    assert_eq!(
        message("{ periods } type Extra { a: Int }").await,
        "The \"Extra\" definition is not executable."
    );
    assert_eq!(
        message(
            "{ cities(filter: { kind: PREFECTURE_CITY, kind: DEMONSTRATION_ZONE }) { totalCount } }"
        )
        .await,
        "There can be only one input field named \"kind\"."
    );
}

#[tokio::test]
async fn valid_documents_still_answer_on_every_path() {
    let app = TestApp::spawn().await;
    let doc = "query Q { city(code: \"410900\") { ...F } } \
               fragment F on City { code ... on City { name } }";
    for path in PATHS {
        assert_eq!(
            send(&app, path, doc).await,
            json!({ "data": { "city": { "code": "410900", "name": "濮阳" } } }),
            "{path}"
        );
    }
}

/// A document the server remembers as checked (it answered it before) is validated again in
/// full whenever it comes with variables: a value of the wrong type is still a validation
/// error, exactly as the first time, and never reaches a resolver. Without variables it answers
/// as a document the server has never seen.
#[tokio::test]
async fn a_remembered_document_is_validated_again_when_variables_come_with_it() {
    let app = TestApp::spawn().await;
    let doc = "query Page($first: Int) { cities(first: $first) { totalCount nodes { code } } }";
    let wrong = json!({ "first": "many" });
    let refused = app.query_with(doc, wrong.clone()).await;
    assert_eq!(
        refused,
        json!({ "data": null, "errors": wrong_int_variable(34) })
    );
    let answered = app.query_with(doc, json!({ "first": 2 })).await;
    assert_eq!(
        answered,
        json!({ "data": { "cities": {
            "totalCount": 18,
            "nodes": [{ "code": "410100" }, { "code": "410200" }]
        } } })
    );
    // Now remembered: the same wrong value is refused the same way.
    assert_eq!(app.query_with(doc, wrong).await, refused);
    // Without variables: the same answer as the same document sent for the first time (a
    // trailing space makes a text the server has not seen).
    let remembered = app.query(doc).await;
    assert_eq!(remembered, app.query(&format!("{doc} ")).await);
    assert_eq!(
        remembered["data"]["cities"]["totalCount"], 18,
        "{remembered}"
    );
}
