//! Rounds of the yearly return through the real server: an administrator opens, closes and
//! reopens a period's round; a closed round refuses every figure of its period (a save, a bulk
//! save, an import), by anyone, and changes nothing; each step is a revision.

use entity::Role;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_codes, token, user_errors};
use crate::sheets::{import, stored};

const ROUND_FIELDS: &str = "round { id period status dueAt closedAt version }
    revision { kind recordKey note } userErrors { field code }";

async fn step(app: &TestApp, token: &str, mutation: &str, input: Value) -> Value {
    let query = format!(
        "mutation($input: {}Input!) {{ {mutation}(input: $input) {{ {ROUND_FIELDS} }} }}",
        upper_first(mutation)
    );
    let response = app
        .query_as(Some(token), &query, json!({ "input": input }))
        .await;
    assert!(response.get("errors").is_none(), "{response}");
    response["data"][mutation].clone()
}

fn upper_first(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

const SAVE: &str = "mutation($input: UpdateCoverageInput!) { updateCoverage(input: $input) {
    coverage { version branchCount } userErrors { field code } } }";

const BULK: &str = "mutation($input: [UpdateCoverageInput!]!) { bulkUpdateCoverage(input: $input) {
    coverage { version } userErrors { field code } } }";

fn figures(period: i32, count: i32) -> Value {
    json!({ "cityCode": "410800", "branchType": "UNIVERSITY", "period": period,
            "branchCount": count, "eligibleCount": 20, "source": "焦作市2024年度年报" })
}

#[tokio::test]
async fn a_closed_round_refuses_every_figure_of_its_period_by_anyone_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let jiaozuo = token(&app, "焦作市科协", Role::CityStaff, Some("410800")).await;

    let opened = step(
        &app,
        &admin,
        "openRound",
        json!({ "period": 2024, "dueAt": "2025-03-31T16:00:00Z", "note": "2024年度年报" }),
    )
    .await;
    assert_eq!(opened["userErrors"], json!([]));
    assert_eq!(
        opened["round"],
        json!({ "id": opened["round"]["id"], "period": 2024, "status": "OPEN",
                "dueAt": "2025-03-31T16:00:00+00:00", "closedAt": null, "version": 1 })
    );
    assert_eq!(
        opened["revision"],
        json!({ "kind": "ROUND", "recordKey": "2024", "note": "2024年度年报" })
    );
    // An open round takes figures.
    let saved = app
        .query_as(Some(&jiaozuo), SAVE, json!({ "input": figures(2024, 5) }))
        .await;
    assert_eq!(saved["data"]["updateCoverage"]["userErrors"], json!([]));

    let closed = step(
        &app,
        &admin,
        "closeRound",
        json!({ "period": 2024, "expectedVersion": 1 }),
    )
    .await;
    assert_eq!(closed["round"]["status"], "CLOSED");
    assert_eq!(closed["round"]["version"], 2);
    assert!(closed["round"]["closedAt"].is_string());

    let before = stored(&app).await;
    let refused = json!([[["input", "period"], "ROUND_CLOSED"]]);
    for who in [&jiaozuo, &admin] {
        let mut change = figures(2024, 6);
        change["expectedVersion"] = json!(1);
        let response = app
            .query_as(Some(who), SAVE, json!({ "input": change }))
            .await;
        assert_eq!(
            user_errors(&response["data"]["updateCoverage"]),
            refused.as_array().unwrap().clone()
        );
    }
    // A bulk save with a row of a period without a round and one of the closed period: all or
    // nothing, and the closed round is what it is told.
    let bulk = app
        .query_as(
            Some(&jiaozuo),
            BULK,
            json!({ "input": [figures(2022, 3), figures(2024, 7)] }),
        )
        .await;
    assert_eq!(
        user_errors(&bulk["data"]["bulkUpdateCoverage"]),
        vec![json!([["input", "1", "period"], "ROUND_CLOSED"])]
    );
    assert_eq!(bulk["data"]["bulkUpdateCoverage"]["coverage"], json!([]));
    // The same through a spreadsheet.
    let file = "城市代码,组织类型,年度,组织数,应建单位数,来源,版本\n\
                410800,高校科协,2024,8,20,焦作市2024年度年报,1\n";
    let (status, report) = import(
        &app,
        Some(&jiaozuo),
        file.as_bytes().to_vec(),
        false,
        "r.csv",
    )
    .await;
    assert_eq!(status, 422, "{report}");
    assert_eq!(report["errors"][0]["code"], "ROUND_CLOSED", "{report}");
    assert!(
        report["errors"][0]["message_zh"]
            .as_str()
            .unwrap()
            .contains("年报已关闭"),
        "{report}"
    );
    assert_eq!(stored(&app).await, before, "nothing changed");

    // Reopening needs a reason, then takes figures again.
    let blank = step(
        &app,
        &admin,
        "reopenRound",
        json!({ "period": 2024, "reason": " " }),
    )
    .await;
    assert_eq!(
        user_errors(&blank),
        vec![json!([["input", "reason"], "BAD_USER_INPUT"])]
    );
    let reopened = step(
        &app,
        &admin,
        "reopenRound",
        json!({ "period": 2024, "reason": "焦作市更正高校数" }),
    )
    .await;
    assert_eq!(reopened["round"]["status"], "OPEN", "{reopened}");
    assert_eq!(reopened["round"]["closedAt"], Value::Null);
    assert_eq!(reopened["round"]["dueAt"], "2025-03-31T16:00:00+00:00");
    assert_eq!(reopened["revision"]["note"], "焦作市更正高校数");
    let mut change = figures(2024, 6);
    change["expectedVersion"] = json!(1);
    let saved = app
        .query_as(Some(&jiaozuo), SAVE, json!({ "input": change }))
        .await;
    assert_eq!(
        saved["data"]["updateCoverage"],
        json!({ "coverage": { "version": 2, "branchCount": 6 }, "userErrors": [] })
    );
}

#[tokio::test]
async fn steps_out_of_turn_are_refused_with_their_codes_and_only_administrators_take_any() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let jiaozuo = token(&app, "焦作市科协", Role::CityStaff, Some("410800")).await;

    let forbidden = app
        .query_as(
            Some(&jiaozuo),
            "mutation { openRound(input: { period: 2024 }) { round { period } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_codes(&forbidden), vec![json!("FORBIDDEN")]);
    let anonymous = app
        .query("mutation { closeRound(input: { period: 2024 }) { round { period } } }")
        .await;
    assert_eq!(error_codes(&anonymous), vec![json!("UNAUTHENTICATED")]);

    let period = |code: &str| vec![json!([["input", "period"], code])];
    let none = step(&app, &admin, "closeRound", json!({ "period": 2024 })).await;
    assert_eq!(user_errors(&none), period("ROUND_NOT_OPEN"));
    assert_eq!(none["round"], Value::Null);
    step(&app, &admin, "openRound", json!({ "period": 2024 })).await;
    let twice = step(&app, &admin, "openRound", json!({ "period": 2024 })).await;
    assert_eq!(user_errors(&twice), period("ROUND_EXISTS"));
    assert_eq!(twice["round"]["status"], "OPEN");
    let open = step(
        &app,
        &admin,
        "reopenRound",
        json!({ "period": 2024, "reason": "r" }),
    )
    .await;
    assert_eq!(user_errors(&open), period("ROUND_OPEN"));
    let stale = step(
        &app,
        &admin,
        "closeRound",
        json!({ "period": 2024, "expectedVersion": 7 }),
    )
    .await;
    assert_eq!(
        user_errors(&stale),
        vec![json!([["input", "expectedVersion"], "VERSION_CONFLICT"])]
    );
    step(&app, &admin, "closeRound", json!({ "period": 2024 })).await;
    let again = step(&app, &admin, "closeRound", json!({ "period": 2024 })).await;
    assert_eq!(user_errors(&again), period("ROUND_CLOSED"));
    let early = step(&app, &admin, "openRound", json!({ "period": 1999 })).await;
    assert_eq!(user_errors(&early)[0][1], "BAD_USER_INPUT");

    // Read back: by period, all of them, by id; and the audit trail holds each step taken.
    step(&app, &admin, "openRound", json!({ "period": 2025 })).await;
    let read = app
        .query(
            "{ round(period: 2024) { id status version } none: round(period: 2030) { id }
               rounds { period status } }",
        )
        .await;
    assert_eq!(read["data"]["round"]["status"], "CLOSED");
    assert_eq!(read["data"]["round"]["version"], 2);
    assert_eq!(read["data"]["none"], Value::Null);
    assert_eq!(
        read["data"]["rounds"],
        json!([{ "period": 2025, "status": "OPEN" }, { "period": 2024, "status": "CLOSED" },
               { "period": 2023, "status": "CLOSED" }]),
        "the report's 2023 is a closed, published round"
    );
    let id = read["data"]["round"]["id"].as_str().unwrap();
    let node = app
        .query_with(
            "query($id: ID!) { node(id: $id) { __typename ... on Round { period } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        node["data"]["node"],
        json!({ "__typename": "Round", "period": 2024 })
    );
    let rounds = entity::revision::Entity::find()
        .filter(entity::revision::Column::Kind.eq(entity::RevisionKind::Round))
        .all(&app.db.conn)
        .await
        .unwrap();
    let keys: Vec<&str> = rounds.iter().map(|r| r.record_key.as_str()).collect();
    assert_eq!(keys, ["2024", "2024", "2025"]);
}

/// A database made by the release before rounds keeps every revision through the migration
/// that widens the kinds a revision may record (SQLite makes the table again), and new
/// revisions number on from the last.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_trail_of_the_previous_release_survives_the_upgrade_whole() {
    use migration::MigratorTrait;
    let fresh = crate::helpers::FreshDatabase::new("rounds_upgrade").await;
    let old = coverage_api::db::connect(&crate::helpers::args(&fresh.url))
        .await
        .unwrap();
    migration::Migrator::up(&old.conn, Some(migration::BEFORE_ROUNDS))
        .await
        .unwrap();
    coverage_api::seed::report::load_unpublished_if_empty(&old.conn)
        .await
        .unwrap();
    // A token in that release's shape (no kind, no expiry): it keeps working after the upgrade.
    let admin = "cov_an-administrator-of-the-previous-release";
    let hash = coverage_api::service::tokens::hash_secret(admin);
    let now = if old.conn.get_database_backend() == sea_orm::DbBackend::Postgres {
        "now()"
    } else {
        "strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')"
    };
    old.conn
        .execute_unprepared(&format!(
            "INSERT INTO api_tokens (name, role, city_code, secret_hash, created_at) \
             VALUES ('admin', 'ADMIN', NULL, '{hash}', {now})"
        ))
        .await
        .unwrap();
    // That release's seeded notes, half English: the upgrade makes them wholly bilingual, and
    // leaves a note an administrator wrote as it is.
    old.conn
        .execute_unprepared(
            "UPDATE province_totals SET note = CASE branch_type \
             WHEN 'ENTERPRISE' THEN 'enterprise branches at all levels; more than 300 more than \
             in 2022 (较 2022 年新增 300 多家)' ELSE 'a note of the province''s own' END",
        )
        .await
        .unwrap();
    let before = entity::revision::Entity::find()
        .all(&old.conn)
        .await
        .unwrap();
    old.conn.close_by_ref().await.ok();

    let (mut server, addr) = crate::helpers::spawn_binary(&fresh.url);
    let client = reqwest::Client::new();
    let send = |query: &str| {
        client
            .post(format!("http://{addr}/graphql"))
            .bearer_auth(admin)
            .json(&json!({ "query": query }))
    };
    let opened = crate::helpers::json_of(send(
        "mutation { openRound(input: { period: 2024 }) { revision { number } userErrors { code } } }",
    ))
    .await;
    // The report's programmes came through at version 1, and a revision may record one.
    let programme = crate::helpers::json_of(send(
        "mutation { setPilotProgram(input: { code: \"QUANYU_KEPU\", statedSize: 8, \
         source: \"2025 notice\", expectedVersion: 1 }) { program { version } revision { kind } \
         userErrors { code } } }",
    ))
    .await;
    let viewer = crate::helpers::json_of(send("{ viewer { credential expiresAt } }")).await;
    assert_eq!(
        viewer["data"]["viewer"],
        json!({ "credential": "API_TOKEN", "expiresAt": null }),
        "an old token is a program's, with no expiry"
    );
    server.kill().ok();
    server.wait().ok();
    assert_eq!(
        opened["data"]["openRound"]["userErrors"],
        json!([]),
        "{opened}"
    );
    assert_eq!(
        programme["data"]["setPilotProgram"],
        json!({ "program": { "version": 2 }, "revision": { "kind": "PILOT_PROGRAM" }, "userErrors": [] }),
        "{programme}"
    );
    let last = before.iter().map(|r| r.id).max().unwrap_or_default();
    assert_eq!(
        opened["data"]["openRound"]["revision"]["number"],
        json!(last + 1),
        "numbers go on from the last"
    );
    let new = coverage_api::db::connect(&crate::helpers::args(&fresh.url))
        .await
        .unwrap();
    let after = entity::revision::Entity::find()
        .all(&new.conn)
        .await
        .unwrap();
    assert_eq!(
        after[..before.len()],
        before[..],
        "every revision kept as it was"
    );
    let notes: Vec<_> = entity::province_total::Entity::find()
        .order_by_asc(entity::province_total::Column::BranchType)
        .all(&new.conn)
        .await
        .unwrap()
        .into_iter()
        .map(|t| (t.branch_type, t.note))
        .collect();
    assert_eq!(
        notes,
        [
            (
                entity::BranchType::Enterprise,
                Some(
                    "enterprise branches at all levels, more than 300 more than in 2022 \
                     (各级企业科协，较 2022 年新增 300 多家)"
                        .into()
                )
            ),
            (
                entity::BranchType::University,
                Some("a note of the province's own".into())
            ),
        ]
    );
}

/// The staff page says where the chosen year's round stands: none, open with its due date, or
/// closed, in which case its forms are locked.
#[tokio::test]
async fn the_staff_page_shows_the_round_and_locks_its_forms_while_it_is_closed() {
    let _one = crate::helpers::exclusive().await;
    let Some(mut browser) = crate::webdriver::Browser::start("rounds").await else {
        return;
    };
    let app = TestApp::spawn_outside_rounds().await;
    let admin = app.admin_token().await;
    let jiaozuo = token(&app, "焦作市科协", Role::CityStaff, Some("410800")).await;
    let round = "[document.getElementById('round').textContent, \
                 document.getElementById('round').dataset.status, \
                 [...document.querySelectorAll('#records fieldset')].map((f) => f.disabled)]";

    crate::browser::sign_in(&browser, &app, &jiaozuo).await;
    assert_eq!(
        browser.eval(round).await,
        json!(["本年度尚未开启年报", "NONE", [true, true, true]]),
        "a city files only in an open round"
    );

    step(
        &app,
        &admin,
        "openRound",
        json!({ "period": 2023, "dueAt": "2024-03-31T16:00:00Z" }),
    )
    .await;
    reload(&browser, &app).await;
    let open = browser.eval(round).await;
    let text = open[0].as_str().unwrap();
    assert!(
        text.starts_with("本年度年报进行中 · 截止日期 2024"),
        "{open}"
    );
    assert_eq!(
        (&open[1], &open[2]),
        (&json!("OPEN"), &json!([false, false, false]))
    );

    step(&app, &admin, "closeRound", json!({ "period": 2023 })).await;
    reload(&browser, &app).await;
    assert_eq!(
        browser.eval(round).await,
        json!([
            "本年度年报已关闭：省科协重新开启前不能填报",
            "CLOSED",
            [true, true, true]
        ])
    );
    browser.screenshot("staff-round-closed.png", 900).await;
    browser.click("button[data-lang=\"en\"]").await;
    assert_eq!(
        browser
            .eval("document.getElementById('round').textContent")
            .await,
        "This year's return is closed: no figures until the province reopens it"
    );
    browser.assert_clean(&app.addr.to_string()).await;
}

/// Opens the staff page again; it signs in with the token this tab keeps.
async fn reload(browser: &crate::webdriver::Browser, app: &TestApp) {
    browser.goto(&app.url("/staff")).await;
    browser
        .wait_for(
            "signed in again, the records read",
            "document.body.dataset.state === 'ready' && document.getElementById('round').dataset.status",
            crate::browser::LOAD,
        )
        .await;
}

/// An administrator's figures for a period without a round are public at once; a round opened
/// at the same moment must not let one through after it: a figure is public exactly when its
/// write came before the round's opening (in the audit trail's order), whatever the race.
#[tokio::test]
async fn a_write_racing_the_opening_of_its_round_is_public_only_if_it_came_first() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let cities = ["410100", "410200", "410300", "410400", "410500", "410600"];
    for period in 2010..2015 {
        let writes = cities.map(|city| {
            let mut input = figures(period, 5);
            input["cityCode"] = json!(city);
            app.query_as(Some(&admin), SAVE, json!({ "input": input }))
        });
        let open = app.query_as(
            Some(&admin),
            "mutation($period: Int!) { openRound(input: { period: $period }) { userErrors { code } } }",
            json!({ "period": period }),
        );
        let (opened, written) =
            tokio::join!(open, async_graphql::futures_util::future::join_all(writes));
        assert_eq!(
            opened["data"]["openRound"]["userErrors"],
            json!([]),
            "{opened}"
        );
        for w in &written {
            assert_eq!(w["data"]["updateCoverage"]["userErrors"], json!([]), "{w}");
        }
        let trail = app
            .query_as(
                Some(&admin),
                "query($period: Int!) { revisions(period: $period, first: 100) { nodes { number kind cityCode } } }",
                json!({ "period": period }),
            )
            .await;
        let nodes = trail["data"]["revisions"]["nodes"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let opened_at = nodes
            .iter()
            .find(|r| r["kind"] == "ROUND")
            .and_then(|r| r["number"].as_i64())
            .unwrap_or_else(|| panic!("the opening's revision: {trail}"));
        for city in cities {
            let written_at = nodes
                .iter()
                .find(|r| r["kind"] == "COVERAGE" && r["cityCode"] == city)
                .and_then(|r| r["number"].as_i64())
                .unwrap_or_else(|| panic!("{city}'s revision: {trail}"));
            let public = app
                .query_as(
                    None,
                    "query($city: ID!, $period: Int!) { city(code: $city) { coverage(period: $period) { branchCount } } }",
                    json!({ "city": city, "period": period }),
                )
                .await;
            let is_public = public["data"]["city"]["coverage"] != json!([]);
            assert_eq!(
                is_public,
                written_at < opened_at,
                "{period} {city}: written as revision {written_at}, the round opened as {opened_at}"
            );
        }
    }
}
