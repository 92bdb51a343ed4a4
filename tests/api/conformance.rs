//! GraphQL over HTTP as its specification says: the media type from `Accept`, the status codes
//! of `application/graphql-response+json` (request errors 400 without `data`) and of
//! `application/json` (200 with errors), 406 for neither; and what the clients we know of send
//! and get. The full audit of the `graphql-http` package runs in CI (`tests/conformance/`).

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{TestApp, wrong_int_variable};

const GQL: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

/// Status, content type and body of a POST of `body` with `accept` (none when `None`: reqwest
/// would otherwise send `*/*`).
async fn post(app: &TestApp, accept: Option<&str>, body: &Value) -> (u16, String, Value) {
    let mut request = app.client.post(app.url("/graphql")).json(body);
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    answer(request.send().await.unwrap()).await
}

/// Status, content type and body of a GET of /graphql with `params` and `accept`.
async fn get(app: &TestApp, accept: &str, params: &[(&str, &str)]) -> (u16, String, Value) {
    let url = reqwest::Url::parse_with_params(&app.url("/graphql"), params).unwrap();
    let response = app
        .client
        .get(url)
        .header("accept", accept)
        .send()
        .await
        .unwrap();
    answer(response).await
}

async fn answer(response: reqwest::Response) -> (u16, String, Value) {
    let status = response.status().as_u16();
    let content_type = header(&response, "content-type");
    (status, content_type, response.json().await.unwrap())
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get_all(name)
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect::<Vec<_>>()
        .join(", ")
}

fn query(text: &str) -> Value {
    json!({ "query": text })
}

/// `{ zzzz }`: a document that does not validate.
fn unknown_field() -> Value {
    query("{ zzzz }")
}

fn unknown_field_errors() -> Value {
    json!([{
        "message": "Unknown field \"zzzz\" on type \"Query\".",
        "locations": [{ "line": 1, "column": 3 }],
        "extensions": { "code": "GRAPHQL_VALIDATION_FAILED" }
    }])
}

fn periods() -> Value {
    json!({ "data": { "periods": [2023] } })
}

fn coded(code: &str, message: &str) -> Value {
    json!({ "errors": [{ "message": message, "extensions": { "code": code } }] })
}

#[tokio::test]
async fn a_client_accepting_only_json_gets_json_and_200_even_for_a_request_error() {
    let app = TestApp::spawn().await;
    assert_eq!(
        post(&app, Some(JSON), &query("{ periods }")).await,
        (200, JSON.to_owned(), periods())
    );
    assert_eq!(
        post(&app, Some(JSON), &unknown_field()).await,
        (
            200,
            JSON.to_owned(),
            json!({ "data": null, "errors": unknown_field_errors() })
        )
    );
}

#[tokio::test]
async fn no_accept_or_any_type_gets_json() {
    let app = TestApp::spawn().await;
    for accept in [None, Some("*/*"), Some("application/*")] {
        assert_eq!(
            post(&app, accept, &unknown_field()).await,
            (
                200,
                JSON.to_owned(),
                json!({ "data": null, "errors": unknown_field_errors() })
            ),
            "{accept:?}"
        );
    }
}

#[tokio::test]
async fn a_request_without_any_accept_header_gets_json() {
    // reqwest always sends an Accept header; this request is written by hand.
    let app = TestApp::spawn().await;
    let body = r#"{"query":"{ periods }"}"#;
    let request = format!(
        "POST /graphql HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        app.addr,
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await.unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("\r\ncontent-type: application/json\r\n"),
        "{head}"
    );
    assert_eq!(serde_json::from_str::<Value>(body).unwrap(), periods());
}

#[tokio::test]
async fn graphql_response_json_answers_request_errors_400_without_data() {
    let app = TestApp::spawn().await;
    let accept = Some(GQL);
    assert_eq!(
        post(&app, accept, &query("{ periods }")).await,
        (200, GQL.to_owned(), periods()),
        "a result"
    );
    assert_eq!(
        post(&app, accept, &query("{")).await,
        (
            400,
            GQL.to_owned(),
            json!({ "errors": [{
                "message": " --> 1:2\n  |\n1 | {\n  |  ^---\n  |\n  = expected selection",
                "locations": [{ "line": 1, "column": 2 }],
                "extensions": { "code": "GRAPHQL_PARSE_FAILED" } }] })
        ),
        "a document that does not parse"
    );
    assert_eq!(
        post(&app, accept, &unknown_field()).await,
        (
            400,
            GQL.to_owned(),
            json!({ "errors": unknown_field_errors() })
        ),
        "a document that does not validate"
    );
    let cities = "query Q($first: Int!) { cities(first: $first) { totalCount } }";
    let validation = |message: &str, column: u32| {
        json!({ "errors": [{
            "message": message,
            "locations": [{ "line": 1, "column": column }],
            "extensions": { "code": "GRAPHQL_VALIDATION_FAILED" } }] })
    };
    assert_eq!(
        post(&app, accept, &json!({ "query": cities })).await,
        (
            400,
            GQL.to_owned(),
            validation(
                "Variable \"$first\" of required type \"Int!\" was not provided.",
                9
            )
        ),
        "a required variable left out"
    );
    let wrong_type = json!({ "query": cities, "variables": { "first": "x" } });
    assert_eq!(
        post(&app, accept, &wrong_type).await,
        (
            400,
            GQL.to_owned(),
            json!({ "errors": wrong_int_variable(32) })
        ),
        "a variable of the wrong type"
    );
    let deep = format!(
        "{{ city(code: {}1{}) {{ name }} }}",
        "[".repeat(100),
        "]".repeat(100)
    );
    assert_eq!(
        post(&app, accept, &query(&deep)).await,
        (
            400,
            GQL.to_owned(),
            coded(
                "NESTING_TOO_DEEP",
                "the document nests brackets more than 64 deep"
            )
        ),
        "a document over a bound"
    );
    assert_eq!(
        post(
            &app,
            accept,
            &query("subscription { pilotDesignationChanged { action } }")
        )
        .await,
        (
            400,
            GQL.to_owned(),
            coded(
                "METHOD_NOT_ALLOWED",
                "subscriptions are served over the WebSocket at /graphql/ws"
            )
        ),
        "a subscription over HTTP"
    );
}

#[tokio::test]
async fn a_field_error_is_a_result_answered_200_with_its_data_in_either_type() {
    // On an empty database `summary` (non-null) fails: the operation ran, `data` is null.
    let app = TestApp::spawn_empty().await;
    let expected = json!({
        "data": null,
        "errors": [{
            "message": "there is no data for any period yet",
            "locations": [{ "line": 1, "column": 3 }],
            "path": ["summary"],
            "extensions": { "code": "NOT_FOUND" }
        }]
    });
    for accept in [GQL, JSON] {
        assert_eq!(
            post(&app, Some(accept), &query("{ summary { period } }")).await,
            (200, accept.to_owned(), expected.clone()),
            "{accept}"
        );
    }
}

#[tokio::test]
async fn a_client_accepting_neither_type_gets_406_and_nothing_runs() {
    let app = TestApp::spawn().await;
    let refusal = coded(
        "NOT_ACCEPTABLE",
        "accept application/graphql-response+json or application/json",
    );
    for accept in ["text/html", "application/json;q=0, */*;q=0"] {
        assert_eq!(
            post(&app, Some(accept), &query("{ periods }")).await,
            (406, JSON.to_owned(), refusal.clone()),
            "{accept}"
        );
        assert_eq!(
            get(&app, accept, &[("query", "{ periods }")]).await,
            (406, JSON.to_owned(), refusal.clone()),
            "{accept}"
        );
    }
    // A browser opening /graphql still gets GraphiQL.
    let page = app
        .client
        .get(app.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8");
}

#[tokio::test]
async fn a_request_without_a_query_is_400_in_either_type() {
    let app = TestApp::spawn().await;
    let refusal = coded(
        "BAD_REQUEST",
        "the request has no query: send {\"query\": …}",
    );
    for accept in [GQL, JSON] {
        for body in [json!({ "qeury": "{ periods }" }), json!({ "query": "  " })] {
            assert_eq!(
                post(&app, Some(accept), &body).await,
                (400, accept.to_owned(), refusal.clone()),
                "{accept} {body}"
            );
        }
        assert_eq!(
            get(&app, accept, &[("variables", "{}")]).await,
            (400, accept.to_owned(), refusal.clone()),
            "{accept}"
        );
    }
    let batch = json!([{ "query": "{ periods }" }, { "operationName": "Q" }]);
    assert_eq!(
        post(&app, Some(GQL), &batch).await,
        (
            400,
            GQL.to_owned(),
            coded("BAD_REQUEST", "operation 2 of the batch has no query")
        )
    );
}

#[tokio::test]
async fn invalid_parameters_are_400_in_either_type() {
    let app = TestApp::spawn().await;
    let refusal = coded(
        "BAD_REQUEST",
        "the body is not a GraphQL request: send {\"query\": …} or an array of them",
    );
    for accept in [GQL, JSON] {
        for body in [
            json!({ "query": 0 }),
            json!({ "query": "{ periods }", "operationName": false }),
            json!({ "query": "{ periods }", "variables": ["array"] }),
            json!({ "query": "{ periods }", "extensions": "string" }),
        ] {
            assert_eq!(
                post(&app, Some(accept), &body).await,
                (400, accept.to_owned(), refusal.clone()),
                "{accept} {body}"
            );
        }
    }
}

#[tokio::test]
async fn get_answers_in_the_negotiated_type_and_a_mutation_by_get_stays_405() {
    let app = TestApp::spawn().await;
    assert_eq!(
        get(&app, GQL, &[("query", "{ periods }")]).await,
        (200, GQL.to_owned(), periods())
    );
    assert_eq!(
        get(&app, GQL, &[("query", "{ zzzz }")]).await,
        (
            400,
            GQL.to_owned(),
            json!({ "errors": unknown_field_errors() })
        )
    );
    assert_eq!(
        get(&app, JSON, &[("query", "{ zzzz }")]).await,
        (
            200,
            JSON.to_owned(),
            json!({ "data": null, "errors": unknown_field_errors() })
        )
    );
    let mutation = "mutation { removePilotDesignation(cityCode: \"410800\", programCode: \"X\") \
                    { userErrors { code } } }";
    let refusal = coded(
        "METHOD_NOT_ALLOWED",
        "mutations are accepted only by POST /graphql",
    );
    assert_eq!(
        get(&app, GQL, &[("query", mutation)]).await,
        (405, GQL.to_owned(), refusal)
    );
    let (status, content_type, body) = get(&app, JSON, &[("query", mutation)]).await;
    assert_eq!((status, content_type.as_str()), (405, JSON));
    assert_eq!(
        body["data"],
        Value::Null,
        "the legacy type keeps its data entry"
    );
}

#[tokio::test]
async fn an_unknown_persisted_query_is_a_request_error_in_graphql_response_json() {
    let app = TestApp::spawn().await;
    let hash = "0".repeat(64);
    let body = json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } });
    let miss = coded("PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound");
    assert_eq!(
        post(&app, Some(GQL), &body).await,
        (400, GQL.to_owned(), miss.clone())
    );
    let mut legacy = miss;
    legacy["data"] = Value::Null;
    assert_eq!(
        post(&app, Some(JSON), &body).await,
        (200, JSON.to_owned(), legacy)
    );
}

#[tokio::test]
async fn a_batch_answers_200_with_every_answer_as_it_is() {
    let app = TestApp::spawn().await;
    let batch = json!([{ "query": "{ periods }" }, { "query": "{ zzzz }" }]);
    for accept in [GQL, JSON] {
        assert_eq!(
            post(&app, Some(accept), &batch).await,
            (
                200,
                accept.to_owned(),
                json!([periods(), { "data": null, "errors": unknown_field_errors() }])
            ),
            "{accept}"
        );
    }
}

#[tokio::test]
async fn refusals_before_graphql_speak_the_negotiated_type_and_are_not_cached() {
    let app = TestApp::spawn().await;
    let unsupported = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "text/plain")
        .header("accept", GQL)
        .body(r#"{"query":"{ periods }"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(header(&unsupported, "cache-control"), "no-store");
    assert_eq!(header(&unsupported, "vary"), "accept, accept-encoding");
    assert_eq!(
        answer(unsupported).await,
        (
            415,
            GQL.to_owned(),
            coded(
                "UNSUPPORTED_MEDIA_TYPE",
                "POST /graphql takes a JSON body (content-type: application/json)"
            )
        )
    );
    let padding = " ".repeat(256 * 1024);
    let too_large = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .header("accept", GQL)
        .body(format!(r#"{{"query":"{{ periods }}{padding}"}}"#))
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer(too_large).await,
        (
            413,
            GQL.to_owned(),
            coded(
                "PAYLOAD_TOO_LARGE",
                "the request body is larger than the server accepts"
            )
        )
    );
    let not_json = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .header("accept", JSON)
        .body("{ \"not a JSON")
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer(not_json).await,
        (
            400,
            JSON.to_owned(),
            coded(
                "BAD_REQUEST",
                "the body is not a GraphQL request: send {\"query\": …} or an array of them"
            )
        )
    );
}

#[tokio::test]
async fn a_graphql_answer_varies_by_authorization_and_accept_and_reads_may_be_cached() {
    let app = TestApp::spawn().await;
    for accept in [GQL, JSON] {
        let response = app
            .client
            .post(app.url("/graphql"))
            .header("accept", accept)
            .json(&query("{ periods }"))
            .send()
            .await
            .unwrap();
        assert_eq!(header(&response, "cache-control"), "public, max-age=5");
        // (No `accept-encoding` here: a body this small is never compressed.)
        assert_eq!(header(&response, "vary"), "authorization, accept");
        assert_eq!(answer(response).await, (200, accept.to_owned(), periods()));
    }
}

/// What a client sending `accept` gets for a read and for a document that does not validate.
async fn client_reads(accept: &str, expect: &str) {
    let app = TestApp::spawn().await;
    assert_eq!(
        post(&app, Some(accept), &query("{ periods }")).await,
        (200, expect.to_owned(), periods())
    );
    let refused = if expect == GQL {
        (
            400,
            GQL.to_owned(),
            json!({ "errors": unknown_field_errors() }),
        )
    } else {
        (
            200,
            JSON.to_owned(),
            json!({ "data": null, "errors": unknown_field_errors() }),
        )
    };
    assert_eq!(post(&app, Some(accept), &unknown_field()).await, refused);
}

#[tokio::test]
async fn apollo_client_3_accepts_anything_and_reads_errors_from_a_200_json_body() {
    // @apollo/client 3.14 link/http/selectHttpOptionsAndBody.js: `accept: "*/*"`.
    client_reads("*/*", JSON).await;
}

#[tokio::test]
async fn apollo_client_3_deferring_gets_json_and_reads_errors_from_a_200_body() {
    // @apollo/client 3.14 link/http/createHttpLink.js, for @defer (subscriptions differ only in
    // the multipart parameters).
    client_reads("multipart/mixed;deferSpec=20220824,application/json", JSON).await;
}

#[tokio::test]
async fn apollo_client_4_prefers_graphql_response_json_and_reads_errors_from_a_400_body() {
    // @apollo/client 4.3 link/http/selectHttpOptionsAndBody.js; with that content type its
    // parseAndCheckHttpResponse reads the body whatever the status.
    client_reads(
        "application/graphql-response+json,application/json;q=0.9",
        GQL,
    )
    .await;
}

#[tokio::test]
async fn graphql_request_names_both_types_and_gets_graphql_response_json() {
    // graphql-request 7.4 legacy/helpers/runRequest.js: both types, equal weight.
    client_reads("application/graphql-response+json, application/json", GQL).await;
}

#[tokio::test]
async fn graphiql_gets_json_and_reads_errors_from_a_200_body() {
    // @graphiql/toolkit 0.11 (GraphiQL 3, our page) and 0.12 (GraphiQL 5): the default
    // multipart fetcher.
    client_reads("application/json, multipart/mixed", JSON).await;
}

#[tokio::test]
async fn graphiql_5_without_incremental_delivery_gets_graphql_response_json() {
    // @graphiql/toolkit 0.12 createSimpleFetcher (`enableIncrementalDelivery: false`); it reads
    // the body whatever the status.
    client_reads(
        "application/graphql-response+json, application/json;q=0.9",
        GQL,
    )
    .await;
}
