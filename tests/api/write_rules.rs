//! The write rules, the same on every write path: a figure names its source, a left-out field
//! keeps its stored value, every record is versioned (administrators' too), who reads the audit
//! trail's personal parts, and a database of the previous release upgrades in place.

use coverage_api::config::ServeArgs;
use coverage_api::service::tokens;
use entity::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, json_of};
use crate::ws_client::{Protocol, WsClient};

const UPDATE: &str = "mutation($input: UpdateCoverageInput!) { updateCoverage(input: $input) {
    coverage { branchCount source version } userErrors { field code } } }";
const BULK: &str = "mutation($input: [UpdateCoverageInput!]!) { bulkUpdateCoverage(input: $input) {
    coverage { version } userErrors { field code } } }";
const SET_DESIGNATION: &str = "mutation($input: SetPilotDesignationInput!) {
    setPilotDesignation(input: $input) {
      designation { sinceYear source version } userErrors { field code } } }";
const REMOVE_DESIGNATION: &str = "mutation($input: RemovePilotDesignationInput!) {
    removePilotDesignation(input: $input) {
      designation { sinceYear source version } userErrors { field code } } }";
const SET_TOTAL: &str = "mutation($input: SetProvinceReportedTotalInput!) {
    setProvinceReportedTotal(input: $input) {
      provinceReport { total source version } userErrors { field code } } }";

async fn token(app: &TestApp, name: &str, role: Role, city: Option<&str>) -> String {
    tokens::create(&app.db.conn, name, role, city)
        .await
        .unwrap()
        .secret
}

/// The payload of `field`, asserting the call raised no top-level error.
fn payload<'a>(response: &'a Value, field: &str) -> &'a Value {
    assert!(response.get("errors").is_none(), "{response}");
    &response["data"][field]
}

fn source_missing(at: &[&str]) -> Value {
    json!([{ "field": at, "code": "BAD_USER_INPUT" }])
}

#[tokio::test]
async fn a_write_that_sets_a_figure_without_its_source_is_refused_on_every_path() {
    let app = TestApp::spawn().await;
    let admin = token(&app, "Province admin", Role::Admin, None).await;
    // Puyang's 2025 enterprise rate, stated with a source, outside any round.
    app.insert_coverage(
        "410900",
        entity::BranchType::Enterprise,
        2025,
        None,
        None,
        None,
        Some(0.95),
    )
    .await;
    let before = everything(&app).await;
    let coverage = json!({ "cityCode": "410800", "branchType": "ENTERPRISE", "period": 2024,
                           "branchCount": 3 });
    let cases = [
        (
            UPDATE,
            "updateCoverage",
            json!({ "input": coverage }),
            vec!["input", "source"],
        ),
        (
            BULK,
            "bulkUpdateCoverage",
            json!({ "input": [
                { "cityCode": "410900", "branchType": "ENTERPRISE", "period": 2024,
                  "branchCount": 1, "source": "Puyang return" },
                coverage] }),
            vec!["input", "1", "source"],
        ),
        (
            UPDATE,
            "updateCoverage",
            json!({ "input": { "cityCode": "410800", "branchType": "ENTERPRISE", "period": 2024,
                               "branchCount": 3, "source": " " } }),
            vec!["input", "source"],
        ),
        (
            SET_DESIGNATION,
            "setPilotDesignation",
            json!({ "input": { "cityCode": "410800", "programCode": "QUANYU_KEPU",
                               "sinceYear": 2024 } }),
            vec!["input", "source"],
        ),
        (
            SET_TOTAL,
            "setProvinceReportedTotal",
            json!({ "input": { "branchType": "TOWNSHIP", "period": 2024, "total": 2400 } }),
            vec!["input", "source"],
        ),
    ];
    for (query, field, variables, at) in cases {
        let response = app.query_as(Some(&admin), query, variables).await;
        assert_eq!(
            payload(&response, field)["userErrors"],
            source_missing(&at),
            "{field}"
        );
    }
    assert_eq!(
        everything(&app).await,
        before,
        "a refused write changes nothing"
    );

    // Puyang's stated rate has its source: clearing the source while the rate stands is
    // refused; clearing a figure needs no source.
    let clear_source = json!({ "input": { "cityCode": "410900", "branchType": "ENTERPRISE",
        "period": 2025, "source": null, "expectedVersion": 1 } });
    let response = app.query_as(Some(&admin), UPDATE, clear_source).await;
    assert_eq!(
        payload(&response, "updateCoverage")["userErrors"],
        source_missing(&["input", "source"])
    );
    let clear_total = json!({ "input": { "branchType": "ENTERPRISE", "period": 2023,
        "source": null, "expectedVersion": 1 } });
    let response = app.query_as(Some(&admin), SET_TOTAL, clear_total).await;
    assert_eq!(
        payload(&response, "setProvinceReportedTotal")["userErrors"],
        source_missing(&["input", "source"])
    );
    assert_eq!(everything(&app).await, before);
}

#[tokio::test]
async fn a_left_out_field_keeps_its_stored_value_on_every_write_path() {
    let app = TestApp::spawn().await;
    let admin = token(&app, "Province admin", Role::Admin, None).await;
    // Coverage: a note-only change keeps every figure and the source.
    let created = app
        .query_as(
            Some(&admin),
            UPDATE,
            json!({ "input": { "cityCode": "410800",
            "branchType": "ENTERPRISE", "period": 2024, "branchCount": 3,
            "source": "Jiaozuo return" } }),
        )
        .await;
    assert_eq!(
        payload(&created, "updateCoverage"),
        &json!({ "coverage": { "branchCount": 3, "source": "Jiaozuo return", "version": 1 },
                 "userErrors": [] })
    );
    let noted = app
        .query_as(
            Some(&admin),
            UPDATE,
            json!({ "input": { "cityCode": "410800",
            "branchType": "ENTERPRISE", "period": 2024, "expectedVersion": 1,
            "note": "checked" } }),
        )
        .await;
    assert_eq!(
        payload(&noted, "updateCoverage"),
        &json!({ "coverage": { "branchCount": 3, "source": "Jiaozuo return", "version": 2 },
                 "userErrors": [] })
    );
    // Designation: a change of year keeps the source when it is left out? No: setting the
    // year states a fact, so it names its source; leaving the year out keeps it.
    let granted = app
        .query_as(
            Some(&admin),
            SET_DESIGNATION,
            json!({ "input": { "cityCode": "410800",
            "programCode": "QUANYU_KEPU", "sinceYear": 2024, "source": "notice 1" } }),
        )
        .await;
    assert_eq!(
        payload(&granted, "setPilotDesignation"),
        &json!({ "designation": { "sinceYear": 2024, "source": "notice 1", "version": 1 },
                 "userErrors": [] })
    );
    let resourced = app
        .query_as(
            Some(&admin),
            SET_DESIGNATION,
            json!({ "input": { "cityCode": "410800",
            "programCode": "QUANYU_KEPU", "source": "notice 2", "expectedVersion": 1 } }),
        )
        .await;
    assert_eq!(
        payload(&resourced, "setPilotDesignation"),
        &json!({ "designation": { "sinceYear": 2024, "source": "notice 2", "version": 2 },
                 "userErrors": [] })
    );
    // Province total: a new source alone keeps the stored total (the report's 2023 figure).
    let report = app
        .query(r#"{ summary(period: 2023) { byType { branchType provinceReport { total version } } } }"#)
        .await;
    let enterprise = &report["data"]["summary"]["byType"][0]["provinceReport"];
    let resourced = app
        .query_as(
            Some(&admin),
            SET_TOTAL,
            json!({ "input": { "branchType": "ENTERPRISE",
            "period": 2023, "source": "recounted", "expectedVersion": enterprise["version"] } }),
        )
        .await;
    assert_eq!(
        payload(&resourced, "setProvinceReportedTotal"),
        &json!({ "provinceReport": { "total": enterprise["total"], "source": "recounted",
                 "version": 2 }, "userErrors": [] })
    );
}

#[tokio::test]
async fn a_stale_version_of_an_administrators_record_is_a_conflict_that_shows_the_stored_one() {
    let app = TestApp::spawn().await;
    let admin = token(&app, "Province admin", Role::Admin, None).await;
    let grant = |expected: Value, year: i32| {
        json!({ "input": { "cityCode": "410800", "programCode": "QUANYU_KEPU", "sinceYear": year,
                           "source": "notice", "expectedVersion": expected } })
    };
    let first = app
        .query_as(Some(&admin), SET_DESIGNATION, grant(json!(null), 2023))
        .await;
    assert_eq!(
        payload(&first, "setPilotDesignation")["userErrors"],
        json!([])
    );
    let second = app
        .query_as(Some(&admin), SET_DESIGNATION, grant(json!(1), 2024))
        .await;
    assert_eq!(
        payload(&second, "setPilotDesignation")["userErrors"],
        json!([])
    );
    let before = everything(&app).await;
    let stored = json!({ "sinceYear": 2024, "source": "notice", "version": 2 });
    let conflict = |stored: &Value| {
        json!({ "designation": stored,
                "userErrors": [{ "field": ["input", "expectedVersion"], "code": "VERSION_CONFLICT" }] })
    };
    // Stale, absent (the record exists), and a removal with a stale version.
    for (query, field, variables) in [
        (
            SET_DESIGNATION,
            "setPilotDesignation",
            grant(json!(1), 2025),
        ),
        (
            SET_DESIGNATION,
            "setPilotDesignation",
            grant(json!(null), 2025),
        ),
        (
            REMOVE_DESIGNATION,
            "removePilotDesignation",
            json!({ "input": { "cityCode": "410800", "programCode": "QUANYU_KEPU",
                               "expectedVersion": 1 } }),
        ),
    ] {
        let response = app.query_as(Some(&admin), query, variables).await;
        assert_eq!(payload(&response, field), &conflict(&stored), "{field}");
    }
    // Province totals alike.
    let stale_total = json!({ "input": { "branchType": "ENTERPRISE", "period": 2023,
        "total": 1, "source": "s", "expectedVersion": 7 } });
    let response = app.query_as(Some(&admin), SET_TOTAL, stale_total).await;
    let total = payload(&response, "setProvinceReportedTotal");
    assert_eq!(
        total["userErrors"][0]["code"], "VERSION_CONFLICT",
        "{total}"
    );
    assert_eq!(total["provinceReport"]["version"], 1, "{total}");
    assert_ne!(total["provinceReport"]["total"], 1, "{total}");
    assert_eq!(everything(&app).await, before, "a conflict changes nothing");

    // With the current version, the removal goes through.
    let removed = app
        .query_as(
            Some(&admin),
            REMOVE_DESIGNATION,
            json!({ "input": { "cityCode": "410800",
            "programCode": "QUANYU_KEPU", "expectedVersion": 2 } }),
        )
        .await;
    assert_eq!(
        payload(&removed, "removePilotDesignation"),
        &json!({ "designation": null, "userErrors": [] })
    );
}

/// 32 administrators add one to the same province total at once, each reading the version and
/// retrying on a conflict: every addition lands, one version step and one revision each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_two_administrators_at_once_lose_no_update() {
    let app = TestApp::spawn().await;
    let admin = token(&app, "Province admin", Role::Admin, None).await;
    const READ: &str = "{ summary(period: 2023) { byType { provinceReport { total version } } } }";
    let read = app.query(READ).await;
    let start = read["data"]["summary"]["byType"][0]["provinceReport"].clone();
    let start_total = start["total"].as_i64().unwrap();
    let mut writers = Vec::new();
    for writer in 0..32 {
        let (client, url, admin) = (app.client.clone(), app.url("/graphql"), admin.clone());
        writers.push(tokio::spawn(async move {
            for attempt in 0.. {
                assert!(attempt < 200, "writer {writer} never got through");
                let body = json!({ "query": READ });
                let read = json_of(client.post(&url).json(&body)).await;
                let report = &read["data"]["summary"]["byType"][0]["provinceReport"];
                let input = json!({ "branchType": "ENTERPRISE", "period": 2023,
                    "total": report["total"].as_i64().unwrap() + 1, "source": "counted",
                    "note": format!("writer {writer}"), "expectedVersion": report["version"] });
                let body = json!({ "query": SET_TOTAL, "variables": { "input": input } });
                let response = json_of(client.post(&url).bearer_auth(&admin).json(&body)).await;
                let errors = &payload(&response, "setProvinceReportedTotal")["userErrors"];
                if errors == &json!([]) {
                    return;
                }
                assert_eq!(errors[0]["code"], "VERSION_CONFLICT", "{response}");
            }
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let end = app.query(READ).await;
    assert_eq!(
        end["data"]["summary"]["byType"][0]["provinceReport"],
        json!({ "total": start_total + 32, "version": 33 })
    );
    let trail = app
        .query_as(
            Some(&admin),
            "{ revisions(first: 100) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(trail["data"]["revisions"]["totalCount"], 32);
}

const TRAIL: &str = r#"{
    revisions(first: 10, branchType: ENTERPRISE) { nodes { recordKey actor { name role cityCode } note } }
    city(code: "410800") { coverage(period: 2024, branchType: ENTERPRISE) {
      updatedBy revisions { actor { name } note } } }
    jiaozuo: revisions(cityCode: "410800", branchType: ENTERPRISE) { nodes { after } } }"#;

/// The trail as `reader` sees it after Jiaozuo's office and an administrator each wrote.
async fn trail_as(app: &TestApp, reader: Option<&str>) -> Value {
    let response = app.query_as(reader, TRAIL, json!({})).await;
    assert!(response.get("errors").is_none(), "{response}");
    let mut data = response["data"].clone();
    // Of the snapshot, only the writer's label: the rest is public.
    data["jiaozuo"] = data["jiaozuo"]["nodes"][0]["after"]["updatedBy"].clone();
    data
}

/// The trail as a reader sees it: `personal` says whether it reads Jiaozuo's and the province's
/// names and notes; Jiaozuo's change, made in a round, is in the trail for Jiaozuo's staff and
/// administrators only (`history`): everyone else sees its publication.
fn trail(personal: [bool; 2], history: bool) -> Value {
    let [jiaozuo, province] = personal;
    let name = |visible: bool, name: &str| if visible { json!(name) } else { json!(null) };
    let mut nodes = vec![json!(
        { "recordKey": "ENTERPRISE/2024", "note": name(province, "province note"),
          "actor": { "name": name(province, "Province admin"), "role": "ADMIN", "cityCode": null } })];
    let mut revisions = vec![];
    if history {
        nodes.push(json!(
            { "recordKey": "410800/ENTERPRISE/2024", "note": name(jiaozuo, "call 0391-0000000"),
              "actor": { "name": name(jiaozuo, "Jiaozuo office: Ms Li"), "role": "CITY_STAFF",
                         "cityCode": "410800" } }));
        revisions.push(
            json!({ "actor": { "name": name(jiaozuo, "Jiaozuo office: Ms Li") },
                               "note": name(jiaozuo, "call 0391-0000000") }),
        );
    }
    json!({
        "revisions": { "nodes": nodes },
        "city": { "coverage": [{
            "updatedBy": if jiaozuo { json!("Jiaozuo office: Ms Li (token 1)") } else { json!(null) },
            "revisions": revisions }] },
        "jiaozuo": if history { name(jiaozuo, "Jiaozuo office: Ms Li (token 1)") } else { json!(null) } })
}

async fn write_both(app: &TestApp) -> (String, String, String) {
    let jiaozuo = token(
        app,
        "Jiaozuo office: Ms Li",
        Role::CityStaff,
        Some("410800"),
    )
    .await;
    let puyang = token(app, "Puyang office", Role::CityStaff, Some("410900")).await;
    let admin = token(app, "Province admin", Role::Admin, None).await;
    app.open_rounds(&[2024]).await;
    let response = app
        .query_as(
            Some(&jiaozuo),
            UPDATE,
            json!({ "input": { "cityCode": "410800",
            "branchType": "ENTERPRISE", "period": 2024, "branchCount": 3,
            "source": "Jiaozuo return", "note": "call 0391-0000000" } }),
        )
        .await;
    assert_eq!(
        payload(&response, "updateCoverage")["userErrors"],
        json!([])
    );
    // Published, so that everyone reads the figure and its change.
    app.publish_return(&jiaozuo, &admin, "410800", 2024).await;
    let response = app
        .query_as(
            Some(&admin),
            SET_TOTAL,
            json!({ "input": { "branchType": "ENTERPRISE",
            "period": 2024, "total": 9, "source": "province", "note": "province note" } }),
        )
        .await;
    assert_eq!(
        payload(&response, "setProvinceReportedTotal")["userErrors"],
        json!([])
    );
    (jiaozuo, puyang, admin)
}

#[tokio::test]
async fn the_audit_trails_names_and_notes_are_for_signed_in_callers_of_their_city() {
    let app = TestApp::spawn().await;
    let (jiaozuo, puyang, admin) = write_both(&app).await;
    assert_eq!(
        trail_as(&app, None).await,
        trail([false, false], false),
        "anonymous"
    );
    assert_eq!(
        trail_as(&app, Some(&puyang)).await,
        trail([false, false], false),
        "another city"
    );
    assert_eq!(
        trail_as(&app, Some(&jiaozuo)).await,
        trail([true, false], true),
        "its own city"
    );
    assert_eq!(
        trail_as(&app, Some(&admin)).await,
        trail([true, true], true),
        "an administrator"
    );
    assert_eq!(
        trail_as(&app, Some("cov_not_a_token")).await,
        trail([false, false], false),
        "a rejected token reads as anonymous"
    );
}

#[tokio::test]
async fn a_server_may_make_the_audit_trail_public() {
    let app = TestApp::spawn_with(ServeArgs {
        public_audit_trail: true,
        ..ServeArgs::default()
    })
    .await;
    write_both(&app).await;
    // Names are public; a city's draft history is still its own and the province's.
    assert_eq!(trail_as(&app, None).await, trail([true, true], false));
}

const CHANGED: &str = "subscription { coverageChanged(cityCode: \"410800\") {
    coverage { updatedBy } revision { actor { name role } note } } }";

/// What a subscriber signed in with `token` (or anonymous) hears of Jiaozuo's write.
async fn heard_by(app: &TestApp, token: Option<&str>) -> Value {
    let init = match token {
        Some(token) => json!({ "Authorization": format!("Bearer {token}") }),
        None => json!({}),
    };
    app.open_rounds(&[2024]).await;
    let mut ws = WsClient::connect(&app.addr.to_string(), Protocol::TransportWs, init).await;
    ws.subscribe("1", CHANGED, json!({})).await;
    app.until_subscribers(1).await;
    let writer = tokens::create(
        &app.db.conn,
        "Jiaozuo office: Ms Li",
        Role::CityStaff,
        Some("410800"),
    )
    .await
    .unwrap();
    let response = app
        .query_as(
            Some(&writer.secret),
            UPDATE,
            json!({ "input": { "cityCode": "410800",
            "branchType": "ENTERPRISE", "period": 2024, "branchCount": 3,
            "source": "Jiaozuo return", "note": "call 0391-0000000" } }),
        )
        .await;
    assert_eq!(
        payload(&response, "updateCoverage")["userErrors"],
        json!([])
    );
    // A draft is announced when it is published, with the write that made it.
    let admin = tokens::create(&app.db.conn, "Province admin", Role::Admin, None)
        .await
        .unwrap()
        .secret;
    app.publish_return(&writer.secret, &admin, "410800", 2024)
        .await;
    let heard = ws.payload("1").await;
    // The record's writer label is as personal as the revision's name.
    let label = format!("Jiaozuo office: Ms Li (token {})", writer.token.id);
    let changed = &heard["data"]["coverageChanged"];
    let name = &changed["revision"]["actor"]["name"];
    let expected = if name.is_null() {
        json!(null)
    } else {
        json!(label)
    };
    assert_eq!(changed["coverage"]["updatedBy"], expected, "{heard}");
    changed["revision"].clone()
}

#[tokio::test]
async fn subscribers_hear_names_and_notes_as_their_role_allows() {
    // The published figure reaches everyone; the write behind it, a city's draft history, its
    // own city and the province only.
    let hidden = json!(null);
    let shown = json!({ "actor": { "name": "Jiaozuo office: Ms Li", "role": "CITY_STAFF" },
                        "note": "call 0391-0000000" });
    for (who, role, city, expected) in [
        ("anonymous", None, None, &hidden),
        (
            "another city",
            Some(Role::CityStaff),
            Some("410900"),
            &hidden,
        ),
        (
            "its own city",
            Some(Role::CityStaff),
            Some("410800"),
            &shown,
        ),
        ("an administrator", Some(Role::Admin), None, &shown),
    ] {
        let app = TestApp::spawn().await;
        let reader = match role {
            Some(role) => Some(token(&app, "reader", role, city).await),
            None => None,
        };
        assert_eq!(&heard_by(&app, reader.as_deref()).await, expected, "{who}");
    }
}

/// Every figure a reader can see, for comparing databases: cities with their records,
/// designations and the province's statements.
async fn everything(app: &TestApp) -> Value {
    app.query(EVERYTHING).await
}

const EVERYTHING: &str = r#"{
    cities(first: 100) { nodes { code name pilotDesignations { program { code } sinceYear source version }
      coverage { branchType period branchCount eligibleCount newBranches statedRate rateScope
                 source version } } }
    pilotPrograms { code cities { code } }
    summary(period: 2023) { byType { branchType citiesWithData provinceReport { total note source version } } }
    round(period: 2023) { status expectedCities publishedCities statusCounts { status cities } }
    publications { number period cities } }"#;

/// A database made by the previous release (its migrations, its seed, a designation revision
/// in its shape) upgrades in place when the new binary starts, and reads back whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_of_the_previous_release_upgrades_in_place() {
    use migration::MigratorTrait;
    let fresh = crate::helpers::FreshDatabase::new("upgrade").await;
    let old = coverage_api::db::connect(&crate::helpers::args(&fresh.url))
        .await
        .unwrap();
    migration::Migrator::up(&old.conn, Some(migration::BEFORE_ADMIN_VERSIONS))
        .await
        .unwrap();
    assert!(
        coverage_api::seed::report::load_unpublished_if_empty(&old.conn)
            .await
            .unwrap()
    );
    old.conn.close_by_ref().await.ok();

    let (mut server, addr) = crate::helpers::spawn_binary(&fresh.url);
    let client = reqwest::Client::new();
    let upgraded = json_of(
        client
            .post(format!("http://{addr}/graphql"))
            .json(&json!({ "query": EVERYTHING })),
    )
    .await;
    server.kill().ok();
    server.wait().ok();
    let current = everything(&TestApp::spawn().await).await;
    assert!(upgraded.get("errors").is_none(), "{upgraded}");
    // What was public stays public, as published: 2023 is a closed round whose cities with
    // figures are approved and published, as a new database's seed makes it.
    assert_eq!(upgraded["data"]["round"]["status"], "CLOSED", "{upgraded}");
    assert_eq!(
        upgraded["data"]["publications"],
        json!([{ "number": 1, "period": 2023, "cities": upgraded["data"]["round"]["publishedCities"] }])
    );
    assert_eq!(
        upgraded, current,
        "the upgraded database reads as a new one"
    );
}
