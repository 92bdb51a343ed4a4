//! The write path: permissions, validation, optimistic locking, the audit trail, bulk writes,
//! concurrent writers.

use coverage_api::service::tokens;
use entity::Role;
use sea_orm::{EntityTrait, QueryOrder};
use serde_json::{Value, json};

use crate::helpers::{TestApp, json_of};

const UPDATE: &str = "mutation($input: UpdateCoverageInput!) { updateCoverage(input: $input) {
    coverage { cityCode: city { code } branchType period branchCount eligibleCount newBranches
               statedRate source version updatedBy }
    revision { kind recordKey actor { name role cityCode } note requestId before after }
    userErrors { field message code } } }";

const BULK: &str = "mutation($input: [UpdateCoverageInput!]!) { bulkUpdateCoverage(input: $input) {
    coverage { period version } revisions { recordKey } userErrors { field message code } } }";

struct Tokens {
    jiaozuo: String,
    puyang: String,
    admin: String,
    revoked: String,
}

async fn tokens(app: &TestApp) -> Tokens {
    let db = &app.db.conn;
    let make = |name: &'static str, role, city| async move {
        tokens::create(db, name, role, city).await.unwrap()
    };
    let revoked = make("Old Jiaozuo token", Role::CityStaff, Some("410800")).await;
    tokens::revoke(db, revoked.token.id).await.unwrap();
    Tokens {
        jiaozuo: make("Jiaozuo office", Role::CityStaff, Some("410800"))
            .await
            .secret,
        puyang: make("Puyang office", Role::CityStaff, Some("410900"))
            .await
            .secret,
        admin: make("Province admin", Role::Admin, None).await.secret,
        revoked: revoked.secret,
    }
}

/// Everything a write could change, to compare before and after a refused call.
pub(crate) async fn snapshot(app: &TestApp) -> String {
    let records = entity::coverage_record::Entity::find()
        .order_by_asc(entity::coverage_record::Column::Id)
        .all(&app.db.conn)
        .await
        .unwrap();
    let revisions = entity::revision::Entity::find()
        .all(&app.db.conn)
        .await
        .unwrap();
    format!("{records:?}\n{revisions:?}")
}

/// A coverage input for `city` and `period` with `extra` fields; a source ("test figures")
/// unless `extra` names one, since every write that sets a figure names its source.
fn input(city: &str, period: i32, extra: Value) -> Value {
    let mut base = json!({ "cityCode": city, "branchType": "ENTERPRISE", "period": period,
                           "source": "test figures" });
    if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    base
}

fn top_level_error(response: &Value) -> Option<&str> {
    response["errors"][0]["extensions"]["code"].as_str()
}

#[tokio::test]
async fn city_staff_create_then_update_their_own_figures_and_every_change_is_a_revision() {
    let app = TestApp::spawn().await;
    let t = tokens(&app).await;
    app.open_rounds(&[2024]).await;
    let created = app
        .query_as(
            Some(&t.jiaozuo),
            UPDATE,
            json!({ "input": input("410800", 2024, json!({
                "branchCount": 250, "eligibleCount": 400, "newBranches": 57,
                "source": "Jiaozuo annual return 2024", "note": "yearly figures" })) }),
        )
        .await;
    assert_eq!(
        created["data"]["updateCoverage"]["coverage"],
        json!({ "cityCode": { "code": "410800" }, "branchType": "ENTERPRISE", "period": 2024,
                "branchCount": 250, "eligibleCount": 400, "newBranches": 57, "statedRate": null,
                "source": "Jiaozuo annual return 2024", "version": 1,
                "updatedBy": format!("Jiaozuo office (token 2)") })
    );
    let revision = &created["data"]["updateCoverage"]["revision"];
    assert_eq!(revision["kind"], "COVERAGE");
    assert_eq!(revision["recordKey"], "410800/ENTERPRISE/2024");
    assert_eq!(
        revision["actor"],
        json!({ "name": "Jiaozuo office", "role": "CITY_STAFF", "cityCode": "410800" })
    );
    assert_eq!(revision["note"], "yearly figures");
    assert!(
        revision["requestId"]
            .as_str()
            .is_some_and(|id| !id.is_empty())
    );
    assert_eq!(revision["before"], Value::Null, "a creation has no before");
    assert_eq!(revision["after"]["branchCount"], 250);
    assert_eq!(created["data"]["updateCoverage"]["userErrors"], json!([]));

    // Left out: kept. Explicit null: cleared. Version steps by one.
    let updated = app
        .query_as(
            Some(&t.jiaozuo),
            UPDATE,
            json!({ "input": input("410800", 2024, json!({
                "branchCount": 260, "newBranches": null, "expectedVersion": 1 })) }),
        )
        .await;
    let coverage = &updated["data"]["updateCoverage"]["coverage"];
    assert_eq!(
        (
            coverage["branchCount"].clone(),
            coverage["eligibleCount"].clone(),
            coverage["newBranches"].clone(),
            coverage["version"].clone()
        ),
        (json!(260), json!(400), Value::Null, json!(2))
    );
    let revision = &updated["data"]["updateCoverage"]["revision"];
    assert_eq!(revision["before"]["branchCount"], 250);
    assert_eq!(revision["before"]["version"], 1);
    assert_eq!(revision["after"]["branchCount"], 260);
    assert_eq!(revision["after"]["newBranches"], Value::Null);

    // The city's staff read their draft and its history; the public sees neither (see
    // publication.rs) until the province publishes.
    let history = app
        .query_as(Some(&t.jiaozuo), r#"{ revisions(cityCode: "410800", branchType: ENTERPRISE, period: 2024) { totalCount nodes { after } }
                   cityReturn(cityCode: "410800", period: 2024) { coverage { version coverageRate revisions { recordKey } } } }"#, json!({}))
        .await;
    assert_eq!(history["data"]["revisions"]["totalCount"], 2);
    assert_eq!(
        history["data"]["revisions"]["nodes"][0]["after"]["version"], 2,
        "newest first"
    );
    let public = app
        .query(r#"{ revisions(cityCode: "410800", branchType: ENTERPRISE, period: 2024) { totalCount } }"#)
        .await;
    assert_eq!(public["data"]["revisions"]["totalCount"], 0);
    assert_eq!(
        history["data"]["cityReturn"]["coverage"],
        json!([{ "version": 2, "coverageRate": 0.65, "revisions": [
            { "recordKey": "410800/ENTERPRISE/2024" }, { "recordKey": "410800/ENTERPRISE/2024" }
        ] }])
    );
    // Revoking the token keeps its history readable: the two writes and the return's move to
    // DRAFT that the first began.
    tokens::revoke(&app.db.conn, 2).await.unwrap();
    let trail = app
        .query_as(
            Some(&t.admin),
            r#"{ revisions(cityCode: "410800") { nodes { kind actor { name role } } } }"#,
            json!({}),
        )
        .await;
    let jiaozuo = json!({ "name": "Jiaozuo office", "role": "CITY_STAFF" });
    assert_eq!(
        trail["data"]["revisions"]["nodes"],
        json!([{ "kind": "COVERAGE", "actor": jiaozuo }, { "kind": "CITY_RETURN", "actor": jiaozuo },
               { "kind": "COVERAGE", "actor": jiaozuo }])
    );
}

#[tokio::test]
async fn the_request_id_sent_by_the_client_is_kept_in_the_revision() {
    let app = TestApp::spawn().await;
    let t = tokens(&app).await;
    let response: Value = reqwest::Client::new()
        .post(app.url("/graphql"))
        .bearer_auth(&t.admin)
        .header("x-request-id", "dashboard-42")
        .json(&json!({ "query": UPDATE, "variables": { "input": input("410100", 2024, json!({ "branchCount": 1 })) } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        response["data"]["updateCoverage"]["revision"]["requestId"],
        "dashboard-42"
    );
}

#[tokio::test]
async fn every_caller_is_allowed_or_refused_as_its_role_says_and_a_refusal_changes_nothing() {
    let app = TestApp::spawn().await;
    let t = tokens(&app).await;
    app.open_rounds(&[2024, 2025]).await;
    let cases: [(&str, Option<&str>, &str, Option<&str>); 8] = [
        ("anonymous", None, "410800", Some("UNAUTHENTICATED")),
        (
            "unknown token",
            Some("cov_nonsense"),
            "410800",
            Some("UNAUTHENTICATED"),
        ),
        (
            "revoked token",
            Some(&t.revoked),
            "410800",
            Some("UNAUTHENTICATED"),
        ),
        (
            "staff of another city",
            Some(&t.puyang),
            "410800",
            Some("FORBIDDEN"),
        ),
        (
            "staff writing another city in bulk",
            Some(&t.jiaozuo),
            "410900",
            Some("FORBIDDEN"),
        ),
        ("staff of the same city", Some(&t.jiaozuo), "410800", None),
        ("puyang staff on puyang", Some(&t.puyang), "410900", None),
        ("admin", Some(&t.admin), "411100", None),
    ];
    for (who, token, city, refusal) in cases {
        for (query, variables, field) in [
            (
                UPDATE,
                json!({ "input": input(city, 2024, json!({ "branchCount": 1 })) }),
                "updateCoverage",
            ),
            (
                BULK,
                json!({ "input": [input(city, 2025, json!({ "branchCount": 1 }))] }),
                "bulkUpdateCoverage",
            ),
        ] {
            let before = snapshot(&app).await;
            let response = app.query_as(token, query, variables).await;
            match refusal {
                Some(code) => {
                    assert_eq!(
                        top_level_error(&response),
                        Some(code),
                        "{who}, {field}: {response}"
                    );
                    assert_eq!(response["data"], Value::Null, "{who}, {field}");
                    assert_eq!(
                        snapshot(&app).await,
                        before,
                        "{who}, {field}: a refusal changes nothing"
                    );
                }
                None => {
                    assert!(
                        response.get("errors").is_none(),
                        "{who}, {field}: {response}"
                    );
                    assert_eq!(
                        response["data"][field]["userErrors"],
                        json!([]),
                        "{who}, {field}"
                    );
                    assert_ne!(snapshot(&app).await, before, "{who}, {field}: written");
                }
            }
        }
    }
}

#[tokio::test]
async fn bad_input_gets_user_errors_with_a_path_and_a_code_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let t = tokens(&app).await;
    let long = "x".repeat(2001);
    let next_year = chrono::Datelike::year(&chrono::Utc::now()) + 1;
    let cases = [
        (
            json!({ "branchCount": -1 }),
            vec!["input", "branchCount"],
            "BAD_USER_INPUT",
        ),
        (
            json!({ "eligibleCount": 10_000_001 }),
            vec!["input", "eligibleCount"],
            "BAD_USER_INPUT",
        ),
        (
            json!({ "newBranches": -5 }),
            vec!["input", "newBranches"],
            "BAD_USER_INPUT",
        ),
        (
            json!({ "branchCount": 11, "eligibleCount": 10 }),
            vec!["input", "branchCount"],
            "BAD_USER_INPUT",
        ),
        (
            json!({ "statedRate": 1.01 }),
            vec!["input", "statedRate"],
            "BAD_USER_INPUT",
        ),
        (
            json!({ "statedRate": -0.1 }),
            vec!["input", "statedRate"],
            "BAD_USER_INPUT",
        ),
        (
            json!({ "period": 1999 }),
            vec!["input", "period"],
            "BAD_USER_INPUT",
        ),
        (
            json!({ "period": next_year + 1 }),
            vec!["input", "period"],
            "BAD_USER_INPUT",
        ),
        (
            json!({ "note": long }),
            vec!["input", "note"],
            "BAD_USER_INPUT",
        ),
        (
            json!({ "source": long }),
            vec!["input", "source"],
            "BAD_USER_INPUT",
        ),
        (
            json!({ "source": "bad\u{0000}text" }),
            vec!["input", "source"],
            "BAD_USER_INPUT",
        ),
        (
            json!({ "expectedVersion": -1 }),
            vec!["input", "expectedVersion"],
            "BAD_USER_INPUT",
        ),
        (
            json!({ "cityCode": "999999" }),
            vec!["input", "cityCode"],
            "NOT_FOUND",
        ),
    ];
    for (extra, field, code) in cases {
        let before = snapshot(&app).await;
        let response = app
            .query_as(
                Some(&t.admin),
                UPDATE,
                json!({ "input": input("410800", 2024, extra.clone()) }),
            )
            .await;
        let payload = &response["data"]["updateCoverage"];
        assert_eq!(
            payload["userErrors"][0]["field"],
            json!(field),
            "{extra}: {response}"
        );
        assert_eq!(payload["userErrors"][0]["code"], code, "{extra}");
        assert!(
            payload["userErrors"][0]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
        assert_eq!(payload["revision"], Value::Null, "{extra}");
        assert_eq!(snapshot(&app).await, before, "{extra}: nothing written");
    }
    // Staying within the bounds is fine: 10,000,000 and a rate of exactly 1.
    let ok = app
        .query_as(Some(&t.admin), UPDATE, json!({ "input": input("410800", next_year, json!({ "eligibleCount": 10_000_000, "statedRate": 1.0 })) }))
        .await;
    assert_eq!(
        ok["data"]["updateCoverage"]["userErrors"],
        json!([]),
        "{ok}"
    );
}

#[tokio::test]
async fn a_stale_version_is_a_conflict_that_shows_the_other_writers_record() {
    let app = TestApp::spawn().await;
    let t = tokens(&app).await;
    app.open_rounds(&[2024]).await;
    // Jiaozuo's 2024 enterprise record, at version 1.
    let created = app
        .query_as(
            Some(&t.jiaozuo),
            UPDATE,
            json!({ "input": input("410800", 2024, json!({ "branchCount": 500 })) }),
        )
        .await;
    assert_eq!(created["data"]["updateCoverage"]["coverage"]["version"], 1);
    let first = app
        .query_as(Some(&t.jiaozuo), UPDATE, json!({ "input": input("410800", 2024, json!({ "branchCount": 600, "expectedVersion": 1 })) }))
        .await;
    assert_eq!(first["data"]["updateCoverage"]["coverage"]["version"], 2);
    let before = snapshot(&app).await;
    let stale = app
        .query_as(Some(&t.admin), UPDATE, json!({ "input": input("410800", 2024, json!({ "branchCount": 700, "expectedVersion": 1 })) }))
        .await;
    let payload = &stale["data"]["updateCoverage"];
    assert_eq!(payload["userErrors"][0]["code"], "VERSION_CONFLICT");
    assert_eq!(
        payload["userErrors"][0]["field"],
        json!(["input", "expectedVersion"])
    );
    assert_eq!(
        payload["coverage"]["branchCount"], 600,
        "the other writer's record"
    );
    assert_eq!(payload["coverage"]["version"], 2);
    let missing = app
        .query_as(
            Some(&t.admin),
            UPDATE,
            json!({ "input": input("410800", 2024, json!({ "branchCount": 700 })) }),
        )
        .await;
    assert_eq!(
        missing["data"]["updateCoverage"]["userErrors"][0]["code"],
        "VERSION_CONFLICT"
    );
    let create_with_version = app
        .query_as(Some(&t.admin), UPDATE, json!({ "input": input("410800", 2020, json!({ "branchCount": 1, "expectedVersion": 3 })) }))
        .await;
    assert_eq!(
        create_with_version["data"]["updateCoverage"]["userErrors"][0]["code"],
        "VERSION_CONFLICT"
    );
    assert_eq!(snapshot(&app).await, before, "conflicts write nothing");
}

#[tokio::test]
async fn a_bulk_update_writes_every_row_or_none() {
    let app = TestApp::spawn().await;
    let t = tokens(&app).await;
    app.open_rounds(&[2021, 2022, 2024]).await;
    let rows = |bad: bool| {
        json!([
            input(
                "410800",
                2021,
                json!({ "branchCount": 10, "eligibleCount": 20 })
            ),
            input(
                "410800",
                2022,
                json!({ "branchCount": if bad { 30 } else { 15 }, "eligibleCount": 20 })
            ),
            input("410800", 2024, json!({ "branchCount": 25 })),
        ])
    };
    let before = snapshot(&app).await;
    let refused = app
        .query_as(Some(&t.jiaozuo), BULK, json!({ "input": rows(true) }))
        .await;
    assert_eq!(
        refused["data"]["bulkUpdateCoverage"],
        json!({ "coverage": [], "revisions": [], "userErrors": [{
            "field": ["input", "1", "branchCount"],
            "message": "branchCount (30) cannot exceed eligibleCount (20)",
            "code": "BAD_USER_INPUT" }] })
    );
    assert_eq!(snapshot(&app).await, before, "one bad row, nothing written");
    let accepted = app
        .query_as(Some(&t.jiaozuo), BULK, json!({ "input": rows(false) }))
        .await;
    assert_eq!(
        accepted["data"]["bulkUpdateCoverage"],
        json!({
            "coverage": [{ "period": 2021, "version": 1 }, { "period": 2022, "version": 1 }, { "period": 2024, "version": 1 }],
            "revisions": [{ "recordKey": "410800/ENTERPRISE/2021" }, { "recordKey": "410800/ENTERPRISE/2022" }, { "recordKey": "410800/ENTERPRISE/2024" }],
            "userErrors": []
        })
    );
    let too_many: Vec<Value> = (0..501).map(|_| input("410800", 2021, json!({}))).collect();
    let before = snapshot(&app).await;
    let refused = app
        .query_as(Some(&t.jiaozuo), BULK, json!({ "input": too_many }))
        .await;
    assert_eq!(
        refused["data"]["bulkUpdateCoverage"]["userErrors"][0]["message"],
        "at most 500 rows in one bulk update, got 501"
    );
    assert_eq!(snapshot(&app).await, before);
}

/// 32 writers, three rounds each, all on one record (Jiaozuo's 2024 enterprise figures, which an
/// administrator writes outside any round, so public at once): read the version, write with it.
async fn race(graphql_url: String, token: String) {
    let client = reqwest::Client::new();
    let post = move |body: Value| {
        let (client, url, token) = (client.clone(), graphql_url.clone(), token.clone());
        async move {
            let response = client
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            response.json::<Value>().await.unwrap()
        }
    };
    let created = post(json!({ "query": UPDATE,
        "variables": { "input": input("410800", 2024, json!({ "branchCount": 0 })) } }))
    .await;
    assert_eq!(
        created["data"]["updateCoverage"]["coverage"]["version"], 1,
        "{created}"
    );
    let mut writers = Vec::new();
    for writer in 0..32 {
        let post = post.clone();
        writers.push(tokio::spawn(async move {
            let mut results = Vec::new();
            for attempt in 0..3 {
                let read = post(json!({ "query": r#"{ city(code: "410800") { coverage(period: 2024) { version } } }"# })).await;
                let version = read["data"]["city"]["coverage"][0]["version"].as_i64().unwrap();
                let value = writer * 10 + attempt;
                let input = input("410800", 2024, json!({ "branchCount": value, "expectedVersion": version }));
                let response = post(json!({ "query": UPDATE, "variables": { "input": input } })).await;
                results.push((value, response["data"]["updateCoverage"].clone()));
            }
            results
        }));
    }
    let mut accepted = Vec::new();
    let mut refused = 0;
    for writer in writers {
        for (value, payload) in writer.await.unwrap() {
            if payload["userErrors"] == json!([]) {
                accepted.push((payload["coverage"]["version"].as_i64().unwrap(), value));
            } else {
                assert_eq!(
                    payload["userErrors"][0]["code"], "VERSION_CONFLICT",
                    "{payload}"
                );
                refused += 1;
            }
        }
    }
    assert_eq!(accepted.len() + refused, 96);
    accepted.sort();
    let versions: Vec<i64> = accepted.iter().map(|a| a.0).collect();
    let expected: Vec<i64> = (2..2 + accepted.len() as i64).collect();
    assert_eq!(
        versions, expected,
        "every accepted write is exactly one version step"
    );
    let stored = post(json!({ "query": r#"{ city(code: "410800") { coverage(period: 2024) { version branchCount revisions { id } } } }"# })).await;
    let record = &stored["data"]["city"]["coverage"][0];
    assert_eq!(record["version"], 1 + accepted.len() as i64);
    assert_eq!(
        record["branchCount"],
        accepted.last().unwrap().1,
        "the last accepted write stands"
    );
    assert_eq!(
        record["revisions"].as_array().unwrap().len(),
        accepted.len() + 1,
        "one revision each, and the creation's"
    );
}

#[tokio::test]
async fn thirty_two_racing_writers_lose_no_update() {
    let app = TestApp::spawn().await;
    let t = tokens(&app).await;
    race(app.url("/graphql"), t.admin).await;
}

/// The same race against the release-shaped server: the binary on an SQLite file (WAL, a pool
/// of connections, write transactions that queue on the file lock) or on PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_two_racing_writers_lose_no_update_on_the_real_binary() {
    let fresh = crate::helpers::FreshDatabase::new("race").await;
    let token = crate::helpers::binary_token(&fresh.url, &["--role", "admin", "--name", "race"]);
    let (mut server, addr) = crate::helpers::spawn_binary(&fresh.url);
    race(format!("http://{addr}/graphql"), token).await;
    server.kill().ok();
    server.wait().ok();
}

const SET_DESIGNATION: &str =
    "mutation($input: SetPilotDesignationInput!) { setPilotDesignation(input: $input) {
    designation { city { code } program { code } sinceYear source }
    revision { kind recordKey before after actor { role } } userErrors { field message code } } }";
const REMOVE_DESIGNATION: &str = "mutation($input: RemovePilotDesignationInput!) { removePilotDesignation(input: $input) {
    designation { sinceYear } revision { kind recordKey before after } userErrors { field message code } } }";
const SET_TOTAL: &str = "mutation($input: SetProvinceReportedTotalInput!) { setProvinceReportedTotal(input: $input) {
    provinceReport { total note source } revision { kind recordKey before after } userErrors { field message code } } }";

#[tokio::test]
async fn admin_mutations_refuse_everyone_but_administrators_and_change_nothing_when_they_do() {
    let app = TestApp::spawn().await;
    let t = tokens(&app).await;
    let designation = json!({ "input": { "cityCode": "410800", "programCode": "QUANYU_KEPU",
                                          "sinceYear": 2024, "source": "notice" } });
    let removal = json!({ "input": { "cityCode": "410800", "programCode": "KECHUANG_PILOT",
                                      "expectedVersion": 1 } });
    let total = json!({ "input": { "branchType": "TOWNSHIP", "period": 2024, "total": 2400,
                                    "source": "province" } });
    let mutations = [
        (SET_DESIGNATION, &designation, "setPilotDesignation"),
        (REMOVE_DESIGNATION, &removal, "removePilotDesignation"),
        (SET_TOTAL, &total, "setProvinceReportedTotal"),
    ];
    let refused: [(&str, Option<&str>, &str); 5] = [
        ("anonymous", None, "UNAUTHENTICATED"),
        ("unknown token", Some("cov_nonsense"), "UNAUTHENTICATED"),
        ("revoked token", Some(&t.revoked), "UNAUTHENTICATED"),
        ("staff of the city concerned", Some(&t.jiaozuo), "FORBIDDEN"),
        ("staff of another city", Some(&t.puyang), "FORBIDDEN"),
    ];
    for (query, variables, field) in mutations {
        for (who, token, code) in refused {
            let before = snapshot(&app).await;
            let designations = app.query("{ pilotPrograms { code cities { code } } summary(period: 2024) { byType { provinceReportedTotal } } }").await;
            let response = app.query_as(token, query, variables.clone()).await;
            assert_eq!(
                top_level_error(&response),
                Some(code),
                "{who}, {field}: {response}"
            );
            assert_eq!(snapshot(&app).await, before, "{who}, {field}");
            let after = app.query("{ pilotPrograms { code cities { code } } summary(period: 2024) { byType { provinceReportedTotal } } }").await;
            assert_eq!(
                after, designations,
                "{who}, {field}: a refusal changes nothing"
            );
        }
        let response = app.query_as(Some(&t.admin), query, variables.clone()).await;
        assert_eq!(
            response["data"][field]["userErrors"],
            json!([]),
            "admin, {field}: {response}"
        );
        assert_eq!(
            response["data"][field]["revision"]["before"].is_null(),
            field != "removePilotDesignation"
        );
    }
}

#[tokio::test]
async fn designations_and_province_totals_change_with_a_revision_each() {
    let app = TestApp::spawn().await;
    let t = tokens(&app).await;
    let set = app
        .query_as(
            Some(&t.admin),
            SET_DESIGNATION,
            json!({ "input": {
            "cityCode": "410100", "programCode": "QUANYU_KEPU", "sinceYear": 2024,
            "source": "provincial notice 2024", "note": "first named member" } }),
        )
        .await;
    assert_eq!(
        set["data"]["setPilotDesignation"],
        json!({
            "designation": { "city": { "code": "410100" }, "program": { "code": "QUANYU_KEPU" }, "sinceYear": 2024, "source": "provincial notice 2024" },
            "revision": { "kind": "PILOT_DESIGNATION", "recordKey": "410100/QUANYU_KEPU", "before": null,
                "after": { "cityCode": "410100", "programCode": "QUANYU_KEPU", "sinceYear": 2024, "source": "provincial notice 2024", "version": 1 },
                "actor": { "role": "ADMIN" } },
            "userErrors": []
        })
    );
    let members = app
        .query(r#"{ city(code: "410100") { pilotPrograms { code } } }"#)
        .await;
    assert_eq!(
        members["data"]["city"]["pilotPrograms"],
        json!([{ "code": "QUANYU_KEPU" }])
    );

    let removed = app
        .query_as(
            Some(&t.admin),
            REMOVE_DESIGNATION,
            json!({ "input": { "cityCode": "410100", "programCode": "QUANYU_KEPU",
                               "expectedVersion": 1 } }),
        )
        .await;
    assert_eq!(
        removed["data"]["removePilotDesignation"]["designation"],
        Value::Null
    );
    assert_eq!(
        removed["data"]["removePilotDesignation"]["revision"]["after"],
        Value::Null
    );
    assert_eq!(
        removed["data"]["removePilotDesignation"]["revision"]["before"]["sinceYear"],
        2024
    );
    let again = app
        .query_as(
            Some(&t.admin),
            REMOVE_DESIGNATION,
            json!({ "input": { "cityCode": "410100", "programCode": "QUANYU_KEPU" } }),
        )
        .await;
    assert_eq!(
        again["data"]["removePilotDesignation"]["userErrors"],
        json!([{ "field": ["input", "programCode"], "message": "410100 is not designated in QUANYU_KEPU", "code": "NOT_FOUND" }])
    );
    let unknown = app
        .query_as(
            Some(&t.admin),
            SET_DESIGNATION,
            json!({ "input": { "cityCode": "410100", "programCode": "NOPE", "source": "s" } }),
        )
        .await;
    assert_eq!(
        unknown["data"]["setPilotDesignation"]["userErrors"][0]["code"],
        "NOT_FOUND"
    );
    assert_eq!(
        unknown["data"]["setPilotDesignation"]["userErrors"][0]["field"],
        json!(["input", "programCode"])
    );

    let total = app
        .query_as(Some(&t.admin), SET_TOTAL, json!({ "input": { "branchType": "ENTERPRISE", "period": 2023, "total": 930, "source": "correction", "note": "recount", "expectedVersion": 1 } }))
        .await;
    let payload = &total["data"]["setProvinceReportedTotal"];
    assert_eq!(payload["provinceReport"]["total"], 930);
    assert_eq!(payload["revision"]["recordKey"], "ENTERPRISE/2023");
    assert_eq!(payload["revision"]["before"]["total"], 927);
    assert_eq!(payload["revision"]["after"]["total"], 930);
    let bad = app
        .query_as(
            Some(&t.admin),
            SET_TOTAL,
            json!({ "input": { "branchType": "ENTERPRISE", "period": 2023, "total": -1 } }),
        )
        .await;
    assert_eq!(
        bad["data"]["setProvinceReportedTotal"]["userErrors"][0]["field"],
        json!(["input", "total"])
    );
    let summary = app
        .query("{ summary(period: 2023) { byType { provinceReportedTotal } } }")
        .await;
    assert_eq!(
        summary["data"]["summary"]["byType"][0]["provinceReportedTotal"],
        930
    );
    let trail = app
        .query("{ revisions { totalCount nodes { kind } } }")
        .await;
    assert_eq!(
        trail["data"]["revisions"],
        json!({ "totalCount": 3, "nodes": [{ "kind": "PROVINCE_TOTAL" }, { "kind": "PILOT_DESIGNATION" }, { "kind": "PILOT_DESIGNATION" }] })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administrators_creating_the_same_record_at_once_get_a_conflict_never_an_internal_error() {
    let app = TestApp::spawn().await;
    let admin = tokens(&app).await.admin;
    let cases = [
        (
            SET_DESIGNATION,
            "setPilotDesignation",
            json!({ "input": { "cityCode": "410800", "programCode": "QUANYU_KEPU", "sinceYear": 2024,
                               "source": "notice" } }),
        ),
        (
            SET_TOTAL,
            "setProvinceReportedTotal",
            json!({ "input": { "branchType": "TOWNSHIP", "period": 2024, "total": 2400,
                               "source": "province" } }),
        ),
    ];
    for (query, field, variables) in cases {
        let mut writers = Vec::new();
        for _ in 0..32 {
            let (client, url, admin) = (app.client.clone(), app.url("/graphql"), admin.clone());
            let body = json!({ "query": query, "variables": variables });
            writers.push(tokio::spawn(async move {
                json_of(client.post(url).bearer_auth(admin).json(&body)).await
            }));
        }
        let mut accepted = 0;
        for writer in writers {
            let response = writer.await.unwrap();
            assert!(response.get("errors").is_none(), "{field}: {response}");
            let errors = &response["data"][field]["userErrors"];
            if errors == &json!([]) {
                accepted += 1;
            } else {
                assert_eq!(errors[0]["code"], "VERSION_CONFLICT", "{field}: {response}");
            }
        }
        assert_eq!(
            accepted, 1,
            "{field}: one writer created it, the others were told"
        );
    }
}
