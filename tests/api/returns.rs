//! Cities' returns in a round of the yearly return, through the real server: the city edits
//! (DRAFT), submits (late after the due date), the province sends back with a comment or
//! approves, and reopens with a reason; a submitted or approved return refuses edits and changes
//! nothing; returns are read by the city's own staff and administrators only; two steps at once
//! leave one outcome and one revision.

use entity::Role;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_codes, token, user_errors};
use crate::sheets::stored;

const RETURN: &str = "cityReturn { status late comment submittedBy version city { code } }";

/// Takes `mutation` on Jiaozuo's 2024 return with `extra` input fields; the payload.
async fn step(app: &TestApp, token: &str, mutation: &str, input_type: &str, extra: Value) -> Value {
    let mut input = json!({ "cityCode": "410800", "period": 2024 });
    if let (Some(i), Some(e)) = (input.as_object_mut(), extra.as_object()) {
        i.extend(e.clone());
    }
    let query = format!(
        "mutation($input: {input_type}!) {{ {mutation}(input: $input) {{ {RETURN}
         revision {{ kind recordKey note }} userErrors {{ field code }} }} }}"
    );
    let response = app
        .query_as(Some(token), &query, json!({ "input": input }))
        .await;
    assert!(response.get("errors").is_none(), "{response}");
    response["data"][mutation].clone()
}

const SAVE: &str = "mutation($input: UpdateCoverageInput!) { updateCoverage(input: $input) {
    coverage { version } userErrors { field code } } }";

async fn save(app: &TestApp, token: &str, count: i32, version: i32) -> Value {
    let input = json!({ "cityCode": "410800", "branchType": "UNIVERSITY", "period": 2024,
        "branchCount": count, "eligibleCount": 20, "source": "焦作市2024年度年报",
        "expectedVersion": version });
    app.query_as(Some(token), SAVE, json!({ "input": input }))
        .await["data"]["updateCoverage"]
        .clone()
}

async fn read(app: &TestApp, token: &str) -> Value {
    let response = app
        .query_as(
            Some(token),
            "{ cityReturn(cityCode: \"410800\", period: 2024) { status late comment version } }",
            json!({}),
        )
        .await;
    response["data"]["cityReturn"].clone()
}

async fn open_round(app: &TestApp, admin: &str, due: &str) {
    let opened = app
        .query_as(
            Some(admin),
            "mutation($due: DateTime) { openRound(input: { period: 2024, dueAt: $due }) {
               userErrors { code } } }",
            json!({ "due": due }),
        )
        .await;
    assert_eq!(
        opened["data"]["openRound"]["userErrors"],
        json!([]),
        "{opened}"
    );
}

#[tokio::test]
async fn a_return_goes_from_nothing_to_approved_and_is_locked_where_the_rules_say() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let jiaozuo = token(&app, "焦作市科协", Role::CityStaff, Some("410800")).await;
    // Due at the start of 2024: any submission now is late.
    open_round(&app, &admin, "2024-01-01T00:00:00Z").await;
    assert_eq!(
        read(&app, &jiaozuo).await,
        json!({ "status": "NOT_STARTED", "late": false, "comment": null, "version": 1 })
    );
    let input = "ReturnKeyInput";
    let empty = step(&app, &jiaozuo, "submitReturn", input, json!({})).await;
    assert_eq!(
        user_errors(&empty),
        vec![json!([["input", "cityCode"], "RETURN_EMPTY"])]
    );
    // A city the round does not know.
    let unknown = app
        .query_as(
            Some(&admin),
            "mutation { approveReturn(input: { cityCode: \"419999\", period: 2024 }) {
               cityReturn { status } userErrors { field code } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        unknown["data"]["approveReturn"],
        json!({ "cityReturn": null,
                "userErrors": [{ "field": ["input", "cityCode"], "code": "NOT_FOUND" }] })
    );

    // The first edit begins the draft.
    assert_eq!(save(&app, &jiaozuo, 5, 0).await["userErrors"], json!([]));
    assert_eq!(read(&app, &jiaozuo).await["status"], "DRAFT");
    let submitted = step(&app, &jiaozuo, "submitReturn", input, json!({})).await;
    assert_eq!(
        submitted["cityReturn"],
        json!({ "status": "SUBMITTED", "late": true, "comment": null,
                "submittedBy": submitted["cityReturn"]["submittedBy"], "version": 3,
                "city": { "code": "410800" } })
    );
    assert!(
        submitted["cityReturn"]["submittedBy"]
            .as_str()
            .unwrap()
            .starts_with("焦作市科协 (token ")
    );
    assert_eq!(
        submitted["revision"],
        json!({ "kind": "CITY_RETURN", "recordKey": "410800/2024", "note": null })
    );
    let timeliness = app
        .query("{ round(period: 2024) { expectedCities receivedCities lateCities } }")
        .await;
    assert_eq!(
        timeliness["data"]["round"],
        json!({ "expectedCities": 18, "receivedCities": 1, "lateCities": 1 })
    );

    // Submitted: locked for everyone, nothing changes.
    let before = stored(&app).await;
    for who in [&jiaozuo, &admin] {
        assert_eq!(
            user_errors(&save(&app, who, 6, 1).await),
            vec![json!([["input", "period"], "RETURN_SUBMITTED"])]
        );
    }
    assert_eq!(stored(&app).await, before);

    // Only the province reviews, and never without words.
    let forbidden = app
        .query_as(
            Some(&jiaozuo),
            "mutation { approveReturn(input: { cityCode: \"410800\", period: 2024 }) { userErrors { code } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_codes(&forbidden), vec![json!("FORBIDDEN")]);
    let send_back = "SendBackReturnInput";
    let blank = step(
        &app,
        &admin,
        "sendBackReturn",
        send_back,
        json!({ "comment": "  " }),
    )
    .await;
    assert_eq!(
        user_errors(&blank),
        vec![json!([["input", "comment"], "BAD_USER_INPUT"])]
    );
    let returned = step(
        &app,
        &admin,
        "sendBackReturn",
        send_back,
        json!({ "comment": "高校数与上年不符，请核实", "expectedVersion": 3 }),
    )
    .await;
    assert_eq!(returned["cityReturn"]["status"], "RETURNED");
    assert_eq!(returned["revision"]["note"], "高校数与上年不符，请核实");
    // The city sees the comment, fixes and submits again.
    assert_eq!(
        read(&app, &jiaozuo).await,
        json!({ "status": "RETURNED", "late": true, "comment": "高校数与上年不符，请核实",
                "version": 4 })
    );
    assert_eq!(save(&app, &jiaozuo, 6, 1).await["userErrors"], json!([]));
    assert_eq!(read(&app, &jiaozuo).await["status"], "DRAFT");
    step(&app, &jiaozuo, "submitReturn", input, json!({})).await;
    let stale = step(
        &app,
        &admin,
        "approveReturn",
        input,
        json!({ "expectedVersion": 3 }),
    )
    .await;
    assert_eq!(
        user_errors(&stale),
        vec![json!([["input", "expectedVersion"], "VERSION_CONFLICT"])]
    );
    let approved = step(&app, &admin, "approveReturn", input, json!({})).await;
    assert_eq!(approved["cityReturn"]["status"], "APPROVED");
    assert_eq!(
        user_errors(&save(&app, &admin, 7, 2).await),
        vec![json!([["input", "period"], "RETURN_APPROVED"])]
    );
    let again = step(&app, &admin, "approveReturn", input, json!({})).await;
    assert_eq!(
        user_errors(&again),
        vec![json!([["input", "cityCode"], "RETURN_NOT_SUBMITTED"])]
    );

    // Reopened with a reason: a draft again, the reason shown to the city.
    let reopen = "ReopenReturnInput";
    let reopened = step(
        &app,
        &admin,
        "reopenReturn",
        reopen,
        json!({ "reason": "更正已审核数据" }),
    )
    .await;
    assert_eq!(reopened["cityReturn"]["status"], "DRAFT");
    assert_eq!(reopened["cityReturn"]["comment"], "更正已审核数据");
    assert_eq!(save(&app, &jiaozuo, 7, 2).await["userErrors"], json!([]));

    let revisions = entity::revision::Entity::find()
        .filter(entity::revision::Column::Kind.eq(entity::RevisionKind::CityReturn))
        .all(&app.db.conn)
        .await
        .unwrap();
    // draft, submit, send back, draft, submit, approve, reopen.
    assert_eq!(revisions.len(), 7);
}

#[tokio::test]
async fn returns_are_read_by_their_city_and_the_province_only() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let jiaozuo = token(&app, "焦作市科协", Role::CityStaff, Some("410800")).await;
    let zhengzhou = token(&app, "郑州市科协", Role::CityStaff, Some("410100")).await;
    open_round(&app, &admin, "2030-01-01T00:00:00Z").await;
    let one = "{ cityReturn(cityCode: \"410800\", period: 2024) { id status } }";
    let anonymous = app.query(one).await;
    assert_eq!(error_codes(&anonymous), vec![json!("UNAUTHENTICATED")]);
    let other = app.query_as(Some(&zhengzhou), one, json!({})).await;
    assert_eq!(error_codes(&other), vec![json!("FORBIDDEN")]);
    let own = app.query_as(Some(&jiaozuo), one, json!({})).await;
    assert_eq!(own["data"]["cityReturn"]["status"], "NOT_STARTED");

    let all = "{ round(period: 2024) { returns { city { code } status } } }";
    let listed = |response: &Value| -> Vec<String> {
        response["data"]["round"]["returns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["city"]["code"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        listed(&app.query_as(Some(&zhengzhou), all, json!({})).await),
        ["410100"]
    );
    assert_eq!(
        listed(&app.query_as(Some(&admin), all, json!({})).await).len(),
        18
    );
    assert_eq!(
        error_codes(&app.query(all).await),
        vec![json!("UNAUTHENTICATED")]
    );

    // By id: only to those who may read it.
    let id = own["data"]["cityReturn"]["id"].clone();
    let node = "query($id: ID!) { node(id: $id) { __typename } }";
    let vars = json!({ "id": id });
    assert_eq!(
        app.query_with(node, vars.clone()).await["data"]["node"],
        Value::Null
    );
    assert_eq!(
        app.query_as(Some(&zhengzhou), node, vars.clone()).await["data"]["node"],
        Value::Null
    );
    assert_eq!(
        app.query_as(Some(&jiaozuo), node, vars).await["data"]["node"],
        json!({ "__typename": "CityReturn" })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_administrators_approving_and_sending_back_at_once_leave_one_outcome() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let other = app.admin_token().await;
    let jiaozuo = token(&app, "焦作市科协", Role::CityStaff, Some("410800")).await;
    open_round(&app, &admin, "2030-01-01T00:00:00Z").await;
    assert_eq!(save(&app, &jiaozuo, 5, 0).await["userErrors"], json!([]));
    step(&app, &jiaozuo, "submitReturn", "ReturnKeyInput", json!({})).await;
    let (approved, sent_back) = tokio::join!(
        step(&app, &admin, "approveReturn", "ReturnKeyInput", json!({})),
        step(
            &app,
            &other,
            "sendBackReturn",
            "SendBackReturnInput",
            json!({ "comment": "请核实" })
        ),
    );
    let taken: Vec<&Value> = [&approved, &sent_back]
        .into_iter()
        .filter(|p| p["userErrors"] == json!([]))
        .collect();
    assert_eq!(taken.len(), 1, "{approved} {sent_back}");
    let refused = if approved["userErrors"] == json!([]) {
        &sent_back
    } else {
        &approved
    };
    assert_eq!(user_errors(refused)[0][1], "RETURN_NOT_SUBMITTED");
    let status = read(&app, &admin).await["status"].clone();
    assert_eq!(status, taken[0]["cityReturn"]["status"]);
    let reviews = entity::revision::Entity::find()
        .filter(entity::revision::Column::Kind.eq(entity::RevisionKind::CityReturn))
        .all(&app.db.conn)
        .await
        .unwrap();
    // draft, submit, and exactly one review.
    assert_eq!(reviews.len(), 3);
}

#[tokio::test]
async fn a_round_opened_after_figures_were_filed_begins_that_city_s_return_as_a_draft() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    // The province's own figure for Jiaozuo, before any round (cities file only in one).
    assert_eq!(save(&app, &admin, 5, 0).await["userErrors"], json!([]));
    open_round(&app, &admin, "2030-01-01T00:00:00Z").await;
    let statuses = app
        .query_as(
            Some(&admin),
            "{ round(period: 2024) { returns { city { code } status } } }",
            json!({}),
        )
        .await;
    for r in statuses["data"]["round"]["returns"].as_array().unwrap() {
        let expected = if r["city"]["code"] == "410800" {
            "DRAFT"
        } else {
            "NOT_STARTED"
        };
        assert_eq!(r["status"], expected, "{r}");
    }
}

/// The staff page shows the city's return (its status, the province's comment) and submits it;
/// a submitted return locks the page's forms until the province sends it back.
#[tokio::test]
async fn the_staff_page_submits_the_return_and_shows_the_province_s_comment() {
    let _one = crate::helpers::exclusive().await;
    let Some(mut browser) = crate::webdriver::Browser::start("returns").await else {
        return;
    };
    let app = TestApp::spawn_outside_rounds().await;
    let admin = app.admin_token().await;
    let jiaozuo = token(&app, "焦作市科协", Role::CityStaff, Some("410800")).await;
    // The report's 2023 figures are there: Jiaozuo's return begins as a draft.
    let opened = app
        .query_as(
            Some(&admin),
            "mutation { openRound(input: { period: 2023 }) { userErrors { code } } }",
            json!({}),
        )
        .await;
    assert_eq!(opened["data"]["openRound"]["userErrors"], json!([]));
    let page = "[document.getElementById('return').textContent, \
                document.getElementById('submit-return').hidden, \
                [...document.querySelectorAll('#records fieldset')].map((f) => f.disabled)]";
    crate::browser::sign_in(&browser, &app, &jiaozuo).await;
    assert_eq!(
        browser.eval(page).await,
        json!(["本市年报: 草稿", false, [false, false, false]])
    );

    browser.click("#submit-return").await;
    browser
        .wait_for(
            "the return submitted",
            "document.getElementById('return').dataset.status === 'SUBMITTED'",
            crate::browser::LOAD,
        )
        .await;
    assert_eq!(
        browser.eval(page).await,
        json!(["本市年报: 已报，等待省科协审核", true, [true, true, true]])
    );

    let sent_back = app
        .query_as(
            Some(&admin),
            "mutation { sendBackReturn(input: { cityCode: \"410800\", period: 2023,
               comment: \"企业科协数请注明口径\" }) { userErrors { code } } }",
            json!({}),
        )
        .await;
    assert_eq!(sent_back["data"]["sendBackReturn"]["userErrors"], json!([]));
    browser.goto(&app.url("/staff")).await;
    browser
        .wait_for(
            "signed in again, the return read",
            "document.body.dataset.state === 'ready' && document.getElementById('return').dataset.status === 'RETURNED'",
            crate::browser::LOAD,
        )
        .await;
    assert_eq!(
        browser.eval(page).await,
        json!([
            "本市年报: 已退回 · 省科协意见: 企业科协数请注明口径",
            false,
            [false, false, false]
        ])
    );
    browser.screenshot("staff-return-sent-back.png", 900).await;
    browser.click("button[data-lang=\"en\"]").await;
    assert_eq!(
        browser
            .eval("[document.getElementById('return').textContent, document.getElementById('submit-return').textContent]")
            .await,
        json!([
            "The city's return: sent back · Province's comment: 企业科协数请注明口径",
            "Submit the return"
        ])
    );
    browser.assert_clean(&app.addr.to_string()).await;
}

/// Steps on returns reach, live, the province and the city whose return it is, and no one else.
#[tokio::test]
async fn return_steps_are_heard_live_by_the_province_and_the_city_only() {
    use crate::ws_client::{Protocol, WsClient};
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let jiaozuo = token(&app, "焦作市科协", Role::CityStaff, Some("410800")).await;
    let zhengzhou = token(&app, "郑州市科协", Role::CityStaff, Some("410100")).await;
    open_round(&app, &admin, "2030-01-01T00:00:00Z").await;
    let addr = app.addr.to_string();
    let subscription = "subscription { returnStatusChanged(period: 2024) {
        cityReturn { city { code } status } revision { kind } } }";
    let listen = |secret: Option<String>| {
        let addr = addr.clone();
        async move {
            let payload = match secret {
                Some(s) => json!({ "authorization": format!("Bearer {s}") }),
                None => json!({}),
            };
            let mut ws = WsClient::connect(&addr, Protocol::TransportWs, payload).await;
            ws.subscribe("r", subscription, json!({})).await;
            ws
        }
    };
    let mut anonymous = listen(None).await;
    let refused = anonymous.next().await;
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{refused}"
    );
    let mut province = listen(Some(admin.clone())).await;
    let mut city = listen(Some(jiaozuo.clone())).await;
    let mut other = listen(Some(zhengzhou.clone())).await;
    app.until_subscribers(3).await;

    assert_eq!(save(&app, &jiaozuo, 5, 0).await["userErrors"], json!([]));
    step(&app, &jiaozuo, "submitReturn", "ReturnKeyInput", json!({})).await;
    step(&app, &admin, "approveReturn", "ReturnKeyInput", json!({})).await;
    for ws in [&mut province, &mut city] {
        for status in ["DRAFT", "SUBMITTED", "APPROVED"] {
            assert_eq!(
                ws.payload("r").await,
                json!({ "data": { "returnStatusChanged": {
                    "cityReturn": { "city": { "code": "410800" }, "status": status },
                    "revision": { "kind": "CITY_RETURN" } } } })
            );
        }
    }
    assert!(
        other
            .silent_for(std::time::Duration::from_millis(300))
            .await
    );
}

/// A sheet of every city's figures, in an open round, begins every city's return in one write
/// (the returns it touches are found with two lists, not a condition per city, which SQLite
/// would nest past its depth limit).
#[tokio::test]
async fn a_sheet_of_1200_cities_begins_every_city_s_return() {
    let app = TestApp::spawn_synthetic(1200, 1).await;
    let admin = app.admin_token().await;
    let opened = app
        .query_as(
            Some(&admin),
            "mutation { openRound(input: { period: 2025 }) { userErrors { code } } }",
            json!({}),
        )
        .await;
    assert_eq!(opened["data"]["openRound"]["userErrors"], json!([]));
    let mut file = String::from("城市代码,组织类型,年度,组织数,应建单位数,来源,版本\n");
    for i in 1..=1200 {
        file.push_str(&format!("{},企业科协,2025,1,2,s,\n", 900_000 + i));
    }
    let (status, report) =
        crate::sheets::import(&app, Some(&admin), file.into_bytes(), false, "all.csv").await;
    assert_eq!(status, 200, "{}", report["errors"]);
    assert_eq!(report["applied"], true);
    let counts = app
        .query("{ round(period: 2025) { statusCounts { status cities } } }")
        .await;
    assert_eq!(
        counts["data"]["round"]["statusCounts"][1],
        json!({ "status": "DRAFT", "cities": 1200 })
    );
}

/// A write of a period without a round reads no returns: an administrator's update there is the
/// rounds of its period, the city, the record, its update, its revision and its public copy;
/// the same update in an open round's period reads the returns as well.
#[tokio::test]
async fn a_write_outside_any_round_reads_no_returns() {
    // Counted statements: no memory of published figures reading them again after each write.
    let app = TestApp::spawn_with(crate::helpers::database_reads()).await;
    let admin = app.admin_token().await;
    let update = |period: i32, version: i32| {
        json!({ "input": { "cityCode": "410800", "branchType": "UNIVERSITY", "period": period,
            "branchCount": 5 + version, "eligibleCount": 20, "source": "焦作市年度年报",
            "expectedVersion": version } })
    };
    let created = app.query_as(Some(&admin), SAVE, update(2025, 0)).await;
    assert_eq!(created["data"]["updateCoverage"]["userErrors"], json!([]));
    let (outside, saved) = app
        .statements_during(app.query_as(Some(&admin), SAVE, update(2025, 1)))
        .await;
    assert_eq!(saved["data"]["updateCoverage"]["userErrors"], json!([]));
    // On PostgreSQL the count also holds the NOTIFY and, at whatever moment it arrives, the
    // listener's read of the change: exact on SQLite only.
    if app.db.backend() != sea_orm::DbBackend::Sqlite {
        return;
    }
    assert_eq!(outside, 6);
    open_round(&app, &admin, "2030-01-01T00:00:00Z").await;
    let created = app.query_as(Some(&admin), SAVE, update(2024, 0)).await;
    assert_eq!(created["data"]["updateCoverage"]["userErrors"], json!([]));
    let (in_round, saved) = app
        .statements_during(app.query_as(Some(&admin), SAVE, update(2024, 1)))
        .await;
    assert_eq!(saved["data"]["updateCoverage"]["userErrors"], json!([]));
    assert!(
        in_round > outside,
        "in a round {in_round}, outside {outside}"
    );
}
