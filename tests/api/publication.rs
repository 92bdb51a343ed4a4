//! Publication, through the real server: a city's draft, its submission and its approval stay
//! out of every public read (GraphQL POST and GET, the response cache, the CSV export, the summary,
//! `coverageChanged`) until an administrator publishes; a publication is numbered and the
//! earlier one is kept; a correction goes through the cycle again; a refused publication changes
//! nothing; city staff write only into an open round.

use std::time::Duration;

use entity::Role;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_codes, token, user_errors};
use crate::ws_client::{Protocol, WsClient};

const SAVE: &str = "mutation($input: UpdateCoverageInput!) { updateCoverage(input: $input) {
    coverage { id draft version branchCount } userErrors { field code message } } }";

/// What an anonymous reader sees of Jiaozuo's 2024 figures and the year's summary.
const PUBLIC: &str = r#"{ city(code: "410800") { coverage(period: 2024) { id draft branchCount version } }
    summary(period: 2024) { byType { branchType citiesWithData } } }"#;

const COVERAGE_CHANGED: &str = "subscription { coverageChanged(cityCode: \"410800\") {
    coverage { period branchCount draft } } }";

/// Jiaozuo's 2024 enterprise figures through `token`, as `branches` of 1,000 (a new record).
async fn save(app: &TestApp, token: &str, branches: i32) -> Value {
    save_over(app, token, branches, None).await
}

/// As [`save`], over the stored record's `version`.
async fn save_over(app: &TestApp, token: &str, branches: i32, version: Option<i32>) -> Value {
    save_city(app, token, "410800", branches, version).await
}

/// `city`'s 2024 enterprise figures through `token`, as `branches` of 1,000, over `version`
/// (none: a new record); the payload.
pub(crate) async fn save_city(
    app: &TestApp,
    token: &str,
    city: &str,
    branches: i32,
    version: Option<i32>,
) -> Value {
    app.query_as(
        Some(token),
        SAVE,
        json!({ "input": { "cityCode": city, "branchType": "ENTERPRISE", "period": 2024,
            "branchCount": branches, "eligibleCount": 1000, "source": "2024年度年报",
            "expectedVersion": version } }),
    )
    .await["data"]["updateCoverage"]
        .clone()
}

/// Takes `mutation` (a return's step or a publication) with `input`; its payload.
pub(crate) async fn step(app: &TestApp, token: &str, mutation: &str, input: Value) -> Value {
    let input_type = match mutation {
        "submitReturn" | "approveReturn" => "ReturnKeyInput".to_owned(),
        _ => format!("{}{}Input", mutation[..1].to_uppercase(), &mutation[1..]),
    };
    let selection = if mutation.starts_with("publish") {
        "publication { number period cities } returns { status published } userErrors { field code }"
    } else {
        "cityReturn { status published } userErrors { field code }"
    };
    let response = app
        .query_as(
            Some(token),
            &format!(
                "mutation($input: {input_type}!) {{ {mutation}(input: $input) {{ {selection} }} }}"
            ),
            json!({ "input": input }),
        )
        .await;
    assert!(response.get("errors").is_none(), "{response}");
    response["data"][mutation].clone()
}

pub(crate) fn jiaozuo(extra: Value) -> Value {
    let mut input = json!({ "cityCode": "410800", "period": 2024 });
    if let (Some(i), Some(e)) = (input.as_object_mut(), extra.as_object()) {
        i.extend(e.clone());
    }
    input
}

async fn open_round(app: &TestApp, admin: &str) {
    let opened = app
        .query_as(
            Some(admin),
            "mutation { openRound(input: { period: 2024 }) { userErrors { code } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        opened["data"]["openRound"]["userErrors"],
        json!([]),
        "{opened}"
    );
}

/// Everything an anonymous reader can see of 2024: GraphQL by POST and by GET, and the CSV.
async fn public_view(app: &TestApp) -> (Value, Value, String) {
    let post = app.query(PUBLIC).await;
    let (status, get) = app
        .get(&format!(
            "/graphql?query={}",
            crate::cache::urlencode(PUBLIC)
        ))
        .await;
    assert_eq!(status, 200, "{get}");
    let (status, csv) = app.get("/export/coverage.csv?period=2024").await;
    assert_eq!(status, 200, "{csv}");
    (post, serde_json::from_str(&get).unwrap_or_default(), csv)
}

/// A city's draft, submission and approval are invisible to anonymous readers on every path;
/// publishing makes them public at once, announced to `coverageChanged` subscribers, and the
/// city's staff see the draft beside the published figure under another id.
#[tokio::test]
async fn a_draft_stays_private_until_published_then_everyone_sees_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let city = token(&app, "焦作市科协", Role::CityStaff, Some("410800")).await;
    open_round(&app, &admin).await;
    let mut ws = WsClient::connect(&app.addr.to_string(), Protocol::TransportWs, json!({})).await;
    ws.subscribe("1", COVERAGE_CHANGED, json!({})).await;
    app.until_subscribers(1).await;

    let before = public_view(&app).await;
    // Read twice so that the response cache holds the anonymous answer.
    assert_eq!(app.query(PUBLIC).await, before.0);
    let saved = save(&app, &city, 700).await;
    assert_eq!(saved["userErrors"], json!([]));
    assert_eq!(saved["coverage"]["draft"], true);
    for (mutation, who) in [("submitReturn", &city), ("approveReturn", &admin)] {
        assert_eq!(
            step(&app, who, mutation, jiaozuo(json!({}))).await["userErrors"],
            json!([])
        );
        assert_eq!(public_view(&app).await, before, "after {mutation}");
    }
    assert_eq!(
        before.0["data"]["city"]["coverage"],
        json!([]),
        "nothing public for 2024 before"
    );
    assert!(!before.2.contains(",700,"), "{}", before.2);
    assert!(
        ws.silent_for(Duration::from_millis(300)).await,
        "no event for a draft"
    );

    let published = step(&app, &admin, "publishRound", json!({ "period": 2024 })).await;
    assert_eq!(
        published,
        json!({ "publication": { "number": 2, "period": 2024, "cities": 1 },
                "returns": [{ "status": "APPROVED", "published": true }], "userErrors": [] }),
        "the report's 2023 is publication 1"
    );
    assert_eq!(
        ws.payload("1").await,
        json!({ "data": { "coverageChanged": { "coverage": {
            "period": 2024, "branchCount": 700, "draft": false } } } })
    );
    let (post, get, csv) = public_view(&app).await;
    assert_eq!(post, get);
    let public = &post["data"]["city"]["coverage"][0];
    assert_eq!(public["branchCount"], 700);
    assert_eq!(public["draft"], false);
    assert_eq!(
        post["data"]["summary"]["byType"][0],
        json!({ "branchType": "ENTERPRISE", "citiesWithData": 1 })
    );
    assert!(csv.contains("700"), "{csv}");

    // The city's staff read their draft beside it, under its own id.
    let mine = app
        .query_as(
            Some(&city),
            r#"{ cityReturn(cityCode: "410800", period: 2024) { published coverage { id draft branchCount } } }"#,
            json!({}),
        )
        .await;
    let draft = &mine["data"]["cityReturn"]["coverage"][0];
    assert_eq!(mine["data"]["cityReturn"]["published"], true);
    assert_eq!(
        (&draft["draft"], &draft["branchCount"]),
        (&json!(true), &json!(700))
    );
    assert_ne!(draft["id"], public["id"]);
    // Each id fetches its own object again; a draft's only for those who may read it.
    let again = |token: Option<String>| {
        let app = &app;
        let ids = json!({ "ids": [public["id"].clone(), draft["id"].clone()] });
        async move {
            app.query_as(
                token.as_deref(),
                "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Coverage { draft } } }",
                ids,
            )
            .await["data"]["nodes"]
                .clone()
        }
    };
    assert_eq!(
        again(Some(city.clone())).await,
        json!([{ "draft": false }, { "draft": true }])
    );
    assert_eq!(again(None).await, json!([{ "draft": false }, null]));
    let rounds = app
        .query("{ round(period: 2024) { publishedCities expectedCities publications { number } } }")
        .await;
    assert_eq!(
        rounds["data"]["round"],
        json!({ "publishedCities": 1, "expectedCities": 18, "publications": [{ "number": 2 }] })
    );
}

/// A correction after publication: the administrator reopens the return, the city edits and
/// submits again; the public keeps the published figure until the correction is approved and
/// published as a new publication, and the first publication's figures are kept as they were
/// and read back as published.
#[tokio::test]
async fn a_correction_is_a_new_publication_and_the_earlier_one_is_kept() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let city = token(&app, "焦作市科协", Role::CityStaff, Some("410800")).await;
    open_round(&app, &admin).await;
    assert_eq!(save(&app, &city, 700).await["userErrors"], json!([]));
    step(&app, &city, "submitReturn", jiaozuo(json!({}))).await;
    step(&app, &admin, "approveReturn", jiaozuo(json!({}))).await;
    step(&app, &admin, "publishReturn", jiaozuo(json!({}))).await;

    let reopened = step(
        &app,
        &admin,
        "reopenReturn",
        jiaozuo(json!({ "reason": "企业数有误" })),
    )
    .await;
    assert_eq!(
        reopened,
        json!({ "cityReturn": { "status": "DRAFT", "published": false }, "userErrors": [] })
    );
    assert_eq!(
        save_over(&app, &city, 720, Some(1)).await["userErrors"],
        json!([])
    );
    step(&app, &city, "submitReturn", jiaozuo(json!({}))).await;
    assert_eq!(
        branches(&app).await,
        700,
        "the published figure stands meanwhile"
    );
    step(&app, &admin, "approveReturn", jiaozuo(json!({}))).await;
    let again = step(&app, &admin, "publishReturn", jiaozuo(json!({}))).await;
    assert_eq!(again["publication"]["number"], 3);
    assert_eq!(branches(&app).await, 720);

    let kept = app
        .db
        .conn
        .query_all_raw(sea_orm::Statement::from_string(
            app.db.conn.get_database_backend(),
            "SELECT publication, branch_count FROM published_records \
             WHERE city_code = '410800' AND period = 2024 ORDER BY publication",
        ))
        .await
        .unwrap();
    let kept: Vec<(i32, Option<i32>)> = kept
        .iter()
        .map(|row| {
            (
                row.try_get("", "publication").unwrap(),
                row.try_get("", "branch_count").unwrap(),
            )
        })
        .collect();
    assert_eq!(kept, [(2, Some(700)), (3, Some(720))]);

    // Read as published: after each publication, at a time before any, and each publication's
    // own figures.
    let as_published = app
        .query(
            r#"{ first: publishedCoverage(period: 2024, publication: 2) { publication cityCode branchType branchCount coverageRate }
                 now: publishedCoverage(period: 2024) { publication branchCount }
                 before: publishedCoverage(period: 2024, at: "2000-01-01T00:00:00Z") { publication }
                 publications(period: 2024) { number coverage { branchCount } } }"#,
        )
        .await;
    assert_eq!(
        as_published["data"],
        json!({
            "first": [{ "publication": 2, "cityCode": "410800", "branchType": "ENTERPRISE",
                        "branchCount": 700, "coverageRate": 0.7 }],
            "now": [{ "publication": 3, "branchCount": 720 }],
            "before": [],
            "publications": [{ "number": 3, "coverage": [{ "branchCount": 720 }] },
                             { "number": 2, "coverage": [{ "branchCount": 700 }] }] }),
        "{as_published}"
    );
    // The drafts behind the publications (700 sent on, 720 after the reopening) are the city's
    // and the province's history: the public reads the publications instead.
    let trail = app
        .query(
            r#"{ revisions(cityCode: "410800", period: 2024) { totalCount }
                    city(code: "410800") { coverage(period: 2024) { revisions { id } } } }"#,
        )
        .await;
    assert_eq!(trail["data"]["revisions"]["totalCount"], 0, "{trail}");
    assert_eq!(trail["data"]["city"]["coverage"][0]["revisions"], json!([]));
    let own = app
        .query_as(
            Some(&city),
            r#"{ revisions(cityCode: "410800", period: 2024, branchType: ENTERPRISE) { totalCount } }"#,
            json!({}),
        )
        .await;
    assert_eq!(own["data"]["revisions"]["totalCount"], 2, "{own}");
    // The export as published: the figures of then, named for the publication.
    let (headers, csv) =
        crate::sheets::download(&app, "/export/coverage.csv?period=2024&publication=2").await;
    let csv = String::from_utf8(csv).unwrap();
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"coverage-2024-publication-2.csv\""
    );
    assert!(csv.contains(",700,") && !csv.contains(",720,"), "{csv}");
    let (status, body) = app.get("/export/coverage.csv?publication=2").await;
    assert_eq!(status, 400, "{body}");
}

/// Jiaozuo's published 2024 enterprise branches, as anyone reads them.
async fn branches(app: &TestApp) -> Value {
    app.query(r#"{ city(code: "410800") { coverage(period: 2024) { branchCount } } }"#)
        .await["data"]["city"]["coverage"][0]["branchCount"]
        .clone()
}

/// Publishing what is not approved, a period without a round, or as anyone but an
/// administrator is refused and changes nothing.
#[tokio::test]
async fn a_refused_publication_changes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let city = token(&app, "焦作市科协", Role::CityStaff, Some("410800")).await;
    open_round(&app, &admin).await;
    assert_eq!(save(&app, &city, 700).await["userErrors"], json!([]));
    let before = public_view(&app).await;

    let nothing = step(&app, &admin, "publishRound", json!({ "period": 2024 })).await;
    assert_eq!(
        user_errors(&nothing),
        [json!([["input", "period"], "NOTHING_TO_PUBLISH"])]
    );
    step(&app, &city, "submitReturn", jiaozuo(json!({}))).await;
    let submitted_only = step(&app, &admin, "publishReturn", jiaozuo(json!({}))).await;
    assert_eq!(
        user_errors(&submitted_only),
        [json!([["input", "cityCode"], "NOTHING_TO_PUBLISH"])]
    );
    let no_round = step(&app, &admin, "publishRound", json!({ "period": 2026 })).await;
    assert_eq!(
        user_errors(&no_round),
        [json!([["input", "period"], "ROUND_NOT_OPEN"])]
    );
    step(&app, &admin, "approveReturn", jiaozuo(json!({}))).await;
    for (who, code) in [
        (Some(city.as_str()), "FORBIDDEN"),
        (None, "UNAUTHENTICATED"),
    ] {
        let response = app
            .query_as(
                who,
                "mutation { publishRound(input: { period: 2024 }) { userErrors { code } } }",
                json!({}),
            )
            .await;
        assert_eq!(error_codes(&response), [json!(code)], "{response}");
    }
    assert_eq!(public_view(&app).await, before);
    let publications = app.query("{ publications { number period } }").await;
    assert_eq!(
        publications["data"]["publications"],
        json!([{ "number": 1, "period": 2023 }])
    );
}

/// City staff write only into an open round (a figure outside the yearly return is the
/// province's own): refused with ROUND_NOT_OPEN and nothing changes; an administrator's figure
/// for a period without a round is public at once.
#[tokio::test]
async fn city_staff_write_only_into_an_open_round() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let city = token(&app, "焦作市科协", Role::CityStaff, Some("410800")).await;
    let before = public_view(&app).await;
    let refused = save(&app, &city, 700).await;
    assert_eq!(refused["coverage"], json!(null));
    assert_eq!(
        user_errors(&refused),
        [json!([["input", "period"], "ROUND_NOT_OPEN"])]
    );
    assert_eq!(public_view(&app).await, before);
    let saved = save(&app, &admin, 650).await;
    assert_eq!(saved["userErrors"], json!([]));
    assert_eq!(saved["coverage"]["draft"], false);
    let public = app.query(PUBLIC).await;
    assert_eq!(public["data"]["city"]["coverage"][0]["branchCount"], 650);
    assert_eq!(
        public["data"]["city"]["coverage"][0]["id"],
        saved["coverage"]["id"]
    );
}

/// The dashboard shows published figures only: a year with a round says how complete it is
/// (已发布 1/18 市), a city's unpublished draft is a dash, and the chosen year is kept in the URL,
/// so that a link or a reload shows the same year.
#[tokio::test]
async fn the_dashboard_shows_published_figures_how_complete_the_year_is_and_keeps_it_in_the_url() {
    let _one = crate::helpers::exclusive().await;
    let Some(mut browser) = crate::webdriver::Browser::start("published").await else {
        return;
    };
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let jiaozuo = token(&app, "焦作市科协", Role::CityStaff, Some("410800")).await;
    let puyang = token(&app, "濮阳市科协", Role::CityStaff, Some("410900")).await;
    open_round(&app, &admin).await;
    assert_eq!(save(&app, &jiaozuo, 700).await["userErrors"], json!([]));
    app.publish_return(&jiaozuo, &admin, "410800", 2024).await;
    let draft = save_city(&app, &puyang, "410900", 600, None).await;
    assert_eq!(draft["userErrors"], json!([]));

    browser.goto(&app.url("/?period=2023")).await;
    let drawn = "document.body.dataset.state === 'ready'";
    browser
        .wait_for("the dashboard is drawn", drawn, crate::browser::LOAD)
        .await;
    assert_eq!(
        browser
            .eval("document.getElementById('period').value")
            .await,
        "2023"
    );
    // The newest year, chosen: the URL follows.
    browser
        .eval(
            "(() => { const s = document.getElementById('period'); s.value = '2024'; \
               s.dispatchEvent(new Event('change')); return true; })()",
        )
        .await;
    browser
        .wait_for(
            "2024 is drawn",
            "document.body.dataset.state === 'ready' && \
             document.getElementById('completeness').textContent.includes('1/18')",
            crate::browser::LOAD,
        )
        .await;
    assert_eq!(browser.eval("window.location.search").await, "?period=2024");
    let seen = browser
        .eval(
            "[document.getElementById('completeness').textContent, \
              document.querySelector('tr[data-city=\"410800\"] td[data-type=\"ENTERPRISE\"]').textContent, \
              document.querySelector('tr[data-city=\"410900\"] td[data-type=\"ENTERPRISE\"]').textContent]",
        )
        .await;
    assert_eq!(seen[0], "已发布 1/18 市");
    assert!(seen[1].as_str().is_some_and(|t| t.contains("70")), "{seen}");
    assert!(
        seen[2].as_str().is_some_and(|t| t.starts_with('—')),
        "Puyang's draft is not public: {seen}"
    );
    browser.screenshot("dashboard-published.png", 900).await;
    // A reload (or the link sent) shows the same year.
    browser.goto(&app.url("/?period=2024")).await;
    browser
        .wait_for("the dashboard is drawn again", drawn, crate::browser::LOAD)
        .await;
    assert_eq!(
        browser
            .eval("document.getElementById('period').value")
            .await,
        "2024"
    );
    // The trend's points say how complete their year is: 2024's enterprise rate is over
    // Jiaozuo's published figures alone (Puyang's draft is no part of it).
    let tooltip = |period: &str| {
        format!(
            "(() => {{ const chart = echarts.getInstanceByDom(document.getElementById('chart-trend'));                const o = chart.getOption(); const i = o.xAxis[0].data.indexOf('{period}');                return o.tooltip[0].formatter(o.series.map((s) => ({{ name: '{period}', seriesName: s.name, data: s.data[i] }}))); }})()"
        )
    };
    assert_eq!(
        browser.eval(&tooltip("2024")).await,
        "2024 · 已发布 1/18 市\n企业科协: 70% (1/18 市)"
    );
    // The report's 2023 gives no city both counts of a type: no rate, only the year's line.
    assert_eq!(
        browser.eval(&tooltip("2023")).await,
        "2023 · 已发布 5/18 市"
    );
    browser
        .eval(
            "echarts.getInstanceByDom(document.getElementById('chart-trend'))\
               .dispatchAction({ type: 'showTip', seriesIndex: 0, dataIndex: 1 })",
        )
        .await;
    browser.screenshot("dashboard-trend-tooltip.png", 900).await;
    browser.assert_clean(&app.addr.to_string()).await;
}

/// The whole cycle through the province's review page: it shows the round's returns and updates
/// live as a city submits; the administrator opens the return beside the published figures
/// (the changed figure marked) and sends it back with a comment; the city sees the comment,
/// fixes and submits again; the administrator approves and publishes from the page; an open
/// dashboard then shows the new figure and how complete the year is.
#[tokio::test]
async fn the_review_page_follows_a_return_from_submission_to_publication() {
    let _one = crate::helpers::exclusive().await;
    let Some(mut browser) = crate::webdriver::Browser::start("review").await else {
        return;
    };
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let city = token(&app, "焦作市科协", Role::CityStaff, Some("410800")).await;
    open_round(&app, &admin).await;
    assert_eq!(save(&app, &city, 700).await["userErrors"], json!([]));
    let load = crate::browser::LOAD;

    browser.goto(&app.url("/review")).await;
    browser.type_into("#token", &admin).await;
    browser.click("#sign-in").await;
    browser
        .wait_for(
            "the round is read",
            "document.body.dataset.state === 'ready'",
            load,
        )
        .await;
    let row = |status: &str| {
        format!(
            "document.querySelector('#returns tr[data-city=\"410800\"]').dataset.status === '{status}'"
        )
    };
    assert_eq!(browser.eval(&row("DRAFT")).await, true);
    assert_eq!(
        browser
            .eval("document.querySelectorAll('#returns tbody tr').length")
            .await,
        18
    );
    // The city submits: the page hears it.
    step(&app, &city, "submitReturn", jiaozuo(json!({}))).await;
    browser
        .wait_for("the submission is heard", &row("SUBMITTED"), load)
        .await;
    browser
        .click("#returns tr[data-city=\"410800\"] button")
        .await;
    let changed = browser
        .eval("[...document.querySelectorAll('#detail-figures tr.changed')].map((tr) => tr.dataset.key)")
        .await;
    assert_eq!(
        changed,
        json!([
            "ENTERPRISE/branchCount",
            "ENTERPRISE/eligibleCount",
            "ENTERPRISE/source"
        ]),
        "the figures the return changes, beside the published ones (none for 2024)"
    );
    browser.screenshot("review-return.png", 900).await;
    browser.type_into("#comment", "企业数请核实").await;
    browser.click("#send-back").await;
    browser.wait_for("sent back", &row("RETURNED"), load).await;

    // The city sees the comment, fixes and submits again.
    let returned = app
        .query_as(
            Some(&city),
            r#"{ cityReturn(cityCode: "410800", period: 2024) { status comment } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        returned["data"]["cityReturn"],
        json!({ "status": "RETURNED", "comment": "企业数请核实" })
    );
    assert_eq!(
        save_over(&app, &city, 720, Some(1)).await["userErrors"],
        json!([])
    );
    step(&app, &city, "submitReturn", jiaozuo(json!({}))).await;
    browser
        .wait_for("submitted again", &row("SUBMITTED"), load)
        .await;
    browser.click("#approve").await;
    browser.wait_for("approved", &row("APPROVED"), load).await;
    browser.click("#publish-return").await;
    browser
        .wait_for(
            "published",
            "document.querySelector('#returns tr[data-city=\"410800\"] td.published').textContent === '✓'",
            load,
        )
        .await;
    assert!(
        browser
            .eval("document.getElementById('round').textContent")
            .await
            .as_str()
            .is_some_and(|t| t.contains("已发布 1/18 市")),
    );

    browser.goto(&app.url("/?period=2024")).await;
    browser
        .wait_for(
            "the dashboard shows the publication",
            "document.body.dataset.state === 'ready' && \
             document.querySelector('tr[data-city=\"410800\"] td[data-type=\"ENTERPRISE\"]').textContent.includes('72')",
            load,
        )
        .await;
    assert_eq!(
        browser
            .eval("document.getElementById('completeness').textContent")
            .await,
        "已发布 1/18 市"
    );
    browser.assert_clean(&app.addr.to_string()).await;
}

/// A file that names another city's figures is compared with that city's published figures,
/// never its draft: guessing the draft right or wrong gets the same answer, so an import tells
/// nothing of another city's unpublished figures.
#[tokio::test]
async fn an_import_tells_nothing_of_another_city_s_draft() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let jiaozuo = token(&app, "焦作市科协", Role::CityStaff, Some("410800")).await;
    let puyang = token(&app, "濮阳市科协", Role::CityStaff, Some("410900")).await;
    open_round(&app, &admin).await;
    let draft = save_city(&app, &puyang, "410900", 600, None).await;
    assert_eq!(draft["userErrors"], json!([]));
    let answer = |branches: i32| {
        let file = format!(
            "城市代码,组织类型,年度,组织数,应建单位数,来源,版本\n\
             410900,企业科协,2024,{branches},1000,2024年度年报,1\n"
        );
        let (app, jiaozuo) = (&app, &jiaozuo);
        async move {
            let (status, report) =
                crate::sheets::import(app, Some(jiaozuo), file.into_bytes(), true, "guess.csv")
                    .await;
            (status, report["errors"][0]["code"].clone())
        }
    };
    assert_eq!(
        answer(600).await,
        (403, json!("FORBIDDEN")),
        "the draft's own figure"
    );
    assert_eq!(
        answer(601).await,
        (403, json!("FORBIDDEN")),
        "another figure"
    );
}

/// Two administrators publishing two cities at once get two publications, numbered one after
/// the other, never the same number or a refusal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publications_at_once_are_numbered_one_after_the_other() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let cities = [("410800", "焦作市科协"), ("410900", "濮阳市科协")];
    open_round(&app, &admin).await;
    for (code, name) in cities {
        let staff = token(&app, name, Role::CityStaff, Some(code)).await;
        let saved = save_city(&app, &staff, code, 1, None).await;
        assert_eq!(saved["userErrors"], json!([]));
        let key = json!({ "cityCode": code, "period": 2024 });
        step(&app, &staff, "submitReturn", key.clone()).await;
        step(&app, &admin, "approveReturn", key).await;
    }
    let publish = |code: &'static str| {
        let (app, admin) = (&app, &admin);
        async move {
            step(
                app,
                admin,
                "publishReturn",
                json!({ "cityCode": code, "period": 2024 }),
            )
            .await
        }
    };
    let (a, b) = tokio::join!(publish("410800"), publish("410900"));
    assert_eq!(
        (&a["userErrors"], &b["userErrors"]),
        (&json!([]), &json!([]))
    );
    let mut numbers = [
        a["publication"]["number"].as_i64(),
        b["publication"]["number"].as_i64(),
    ];
    numbers.sort();
    assert_eq!(numbers, [Some(2), Some(3)]);
}
