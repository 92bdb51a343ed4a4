//! The pages in a real browser (headless Chromium through chromedriver, see [`crate::webdriver`]),
//! against the real server on SQLite or PostgreSQL: the dashboard shows the report's figures and
//! follows writes live, the staff page's whole flow, GraphiQL offline with a subscription; every
//! test fails on a request to another origin or an error in the console. One browser at a time
//! (`helpers::exclusive`): two would fight over the two cores and stretch every wait.

use std::time::Duration;

use coverage_api::config::ServeArgs;
use coverage_api::service::tokens;
use entity::Role;
use serde_json::{Value, json};

use crate::helpers::{self, CITIES, FreshDatabase, TestApp, binary_token, spawn_binary};
use crate::webdriver::{Browser, say};

/// Long enough for a first load in a debug build on a busy 2-core machine; only a bound on
/// waiting (the checks are of what the page shows, not of how fast).
pub(crate) const LOAD: Duration = Duration::from_secs(30);

const UPDATE: &str = "mutation($input: UpdateCoverageInput!) { updateCoverage(input: $input) {
    coverage { version branchCount } userErrors { field message code } } }";

const NOT_STATED: &str = "报告未给出 / not stated";

async fn token(app: &TestApp, name: &str, role: Role, city: Option<&str>) -> String {
    tokens::create(&app.db.conn, name, role, city)
        .await
        .unwrap()
        .secret
}

async fn write(app: &TestApp, token: &str, input: Value) {
    let response = app
        .query_as(Some(token), UPDATE, json!({ "input": input }))
        .await;
    assert_eq!(
        response["data"]["updateCoverage"]["userErrors"],
        json!([]),
        "{response}"
    );
}

/// Every cell of the cities' table: `code/TYPE/field` → its figures' texts and tooltips.
const TABLE: &str = r#"
  const cells = {};
  for (const td of document.querySelectorAll('#cities tbody td[data-type]')) {
    const code = td.closest('tr').dataset.city;
    cells[`${code}/${td.dataset.type}/${td.dataset.field}`] = {
      text: td.textContent,
      figures: [...td.querySelectorAll('.fig')].map((f) => [f.textContent, f.dataset.tip]),
    };
  }
  return cells;"#;

fn source(quote: &str) -> String {
    format!("来源: 河南省科协九届七次全委会议工作报告（2024-03-22）: “{quote}”")
}

/// What the table must show for the report's data: the five city figures the report states,
/// "—" with "not stated" everywhere else.
fn expected_table() -> Value {
    let mut cells = serde_json::Map::new();
    let dash = || json!({ "text": "—", "figures": [["—", NOT_STATED]] });
    for (code, ..) in CITIES {
        for t in ["ENTERPRISE", "UNIVERSITY", "TOWNSHIP"] {
            for f in ["branchCount", "eligibleCount", "coverageRate"] {
                cells.insert(format!("{code}/{t}/{f}"), dash());
            }
        }
    }
    let jiaozuo = source("其中焦作市新成立企业科协 193 家");
    cells.insert(
        "410800/ENTERPRISE/branchCount".into(),
        json!({ "text": "— (新建 193)", "figures": [["—", NOT_STATED], ["193", jiaozuo]] }),
    );
    let stated = |code: &str, t: &str, rate: &str, scope: &str, quote: &str| {
        (
            format!("{code}/{t}/coverageRate"),
            json!({ "text": format!("{rate}报告所述 · 口径: {scope}"),
                    "figures": [[rate, source(quote)]] }),
        )
    };
    let township = "完善乡镇（街道）科协组织建设，平顶山、三门峡市实现全覆盖";
    for (key, value) in [
        stated(
            "410900",
            "ENTERPRISE",
            "95%",
            "高新技术企业",
            "濮阳市高新技术企业科协覆盖率达到 95%",
        ),
        stated("410400", "TOWNSHIP", "100%", "乡镇（街道）", township),
        stated("411200", "TOWNSHIP", "100%", "乡镇（街道）", township),
        stated(
            "411500",
            "TOWNSHIP",
            "99%",
            "乡镇（街道）",
            "信阳市覆盖率达到 99%",
        ),
    ] {
        cells.insert(key, value);
    }
    Value::Object(cells)
}

async fn open_dashboard(browser: &Browser, app: &TestApp) {
    browser.goto(&app.url("/")).await;
    browser
        .wait_for(
            "the dashboard is drawn",
            "document.body.dataset.state === 'ready'",
            LOAD,
        )
        .await;
}

#[tokio::test]
async fn the_dashboard_shows_the_18_cities_every_stated_figure_and_a_dash_where_none() {
    let _one = helpers::exclusive().await;
    let Some(mut browser) = Browser::start("dashboard").await else {
        return;
    };
    let app = TestApp::spawn().await;
    open_dashboard(&browser, &app).await;
    browser.screenshot("dashboard.png", 1500).await;

    let rows = browser
        .eval("[...document.querySelectorAll('#cities tbody tr')].map((tr) => [tr.dataset.city, tr.querySelector('th').textContent])")
        .await;
    let cities: Vec<[&str; 2]> = CITIES.iter().map(|c| [c.0, c.1]).collect();
    assert_eq!(rows, json!(cities), "the 18 cities, by code");
    assert_eq!(
        browser.exec(TABLE, json!([])).await,
        expected_table(),
        "every figure the report states, and — where it states none"
    );

    // The province summary: the sums of the cities beside the province's own total.
    let summary = browser
        .eval(
            "Object.fromEntries([...document.querySelectorAll('#summary [data-key]')].map((d) => [d.dataset.key, d.textContent]))",
        )
        .await;
    assert_eq!(
        summary,
        json!({
            "sum/ENTERPRISE/coverageRate": "— (0/18 市)", "sum/ENTERPRISE/sums": "— / —",
            "sum/ENTERPRISE/newBranches": "193", "sum/ENTERPRISE/provinceTotal": "927",
            "sum/ENTERPRISE/full": "—",
            "sum/UNIVERSITY/coverageRate": "— (0/18 市)", "sum/UNIVERSITY/sums": "— / —",
            "sum/UNIVERSITY/newBranches": "—", "sum/UNIVERSITY/provinceTotal": "—",
            "sum/UNIVERSITY/full": "—",
            "sum/TOWNSHIP/coverageRate": "— (0/18 市)", "sum/TOWNSHIP/sums": "— / —",
            "sum/TOWNSHIP/newBranches": "—", "sum/TOWNSHIP/provinceTotal": "—",
            "sum/TOWNSHIP/full": "平顶山 三门峡",
        })
    );
    // The province's totals name their source and their note, the note wholly in the view's
    // language (it is stored "English (中文)", as a stated rate's scope is).
    let total_tips = browser
        .eval("['ENTERPRISE', 'UNIVERSITY'].map((t) => document.querySelector(`[data-key=\"sum/${t}/provinceTotal\"] .fig`).dataset.tip)")
        .await;
    assert_eq!(
        total_tips,
        json!([
            "来源: 河南省科协九届七次全委会议工作报告（2024-03-22）: “全省各级企业科协达到 927 家，较 2022 年新增 300 多家” \
             · 各级企业科协，较 2022 年新增 300 多家",
            format!(
                "{NOT_STATED} · 河南省科协九届七次全委会议工作报告（2024-03-22）: “全年建立高校、医疗卫生机构和科研院所科协 \
                 50 余个，基本实现公立省内本科院校科协组织全覆盖” · 未给出总数：全年建立高校、医疗卫生机构和科研院所科协 50 \
                 余个，基本实现公立省内本科院校科协组织全覆盖"
            ),
        ])
    );

    // The pilot programmes with their members on record; unknown members and sizes are —.
    let pilots = browser
        .eval("Object.fromEntries([...document.querySelectorAll('#pilots li')].map((li) => [li.dataset.program, li.textContent]))")
        .await;
    assert_eq!(
        pilots,
        json!({
            "HUISHI_HEZUO": "“会市合作”战略合作协议 · 省级报告所述数量: 7 市成员城市: 平顶山",
            "INNOVATION_DEMO": "全国创新驱动示范市 · 国家级报告所述数量: —成员城市: 鹤壁、濮阳",
            "KECHUANG_PILOT": "“科创中原”试点城市 · 省级报告所述数量: 3 市成员城市: 新乡、焦作、漯河",
            "QUANYU_KEPU": "全域科普试点 · 省级报告所述数量: 7 市成员城市: — (报告未点名)",
        })
    );

    // A figure shows its source on keyboard focus, not only on hover.
    let focused = browser
        .exec(
            "const fig = document.querySelector('tr[data-city=\"410900\"] td[data-type=\"ENTERPRISE\"][data-field=\"coverageRate\"] .fig');
             fig.focus();
             return [document.activeElement === fig, getComputedStyle(fig, '::after').content];",
            json!([]),
        )
        .await;
    assert_eq!(focused[0], true);
    assert!(
        focused[1]
            .as_str()
            .unwrap()
            .contains("濮阳市高新技术企业科协覆盖率达到 95%"),
        "{focused}"
    );

    // The first load, as the browser received it (compressed), stays under 1 MB.
    let sizes = browser
        .eval(
            "[performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource')).reduce((s, e) => s + e.transferSize, 0),
              performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource')).reduce((s, e) => s + e.decodedBodySize, 0)]",
        )
        .await;
    let transferred = sizes[0].as_u64().unwrap();
    say(&format!(
        "browser: the dashboard's first load transferred {transferred} bytes ({} bytes uncompressed)",
        sizes[1]
    ));
    assert!(transferred > 0 && transferred < 1_000_000, "{sizes}");

    // Sorting by the township rate puts the known rates first, highest first.
    browser
        .click("button.sort[data-sort=\"coverageRate/TOWNSHIP\"]")
        .await;
    browser
        .click("button.sort[data-sort=\"coverageRate/TOWNSHIP\"]")
        .await;
    let order = browser
        .eval("[...document.querySelectorAll('#cities tbody tr')].slice(0, 4).map((tr) => tr.dataset.city)")
        .await;
    assert_eq!(order, json!(["410400", "411200", "411500", "410100"]));

    // At a phone's width nothing but the table scrolls sideways.
    browser.resize(390, 844).await;
    let overflow = browser
        .wait_for(
            "the page fits 390 px",
            "window.innerWidth <= 400 && document.documentElement.scrollWidth <= window.innerWidth && 'fits'",
            LOAD,
        )
        .await;
    assert_eq!(overflow, "fits");
    browser.resize(1366, 768).await;

    // English, remembered across a reload.
    browser.click("button[data-lang=\"en\"]").await;
    let english = "[document.documentElement.lang, document.querySelector('h1').textContent,
        [...document.querySelectorAll('#summary h2')].map((h) => h.textContent),
        document.querySelector('tr[data-city=\"410800\"] th').textContent,
        document.querySelector('tr[data-city=\"410900\"] td[data-type=\"ENTERPRISE\"][data-field=\"coverageRate\"]').textContent,
        document.querySelector('tr[data-city=\"410100\"] td[data-type=\"UNIVERSITY\"][data-field=\"branchCount\"] .fig').dataset.tip,
        document.querySelector('[data-key=\"sum/ENTERPRISE/provinceTotal\"] .fig').dataset.tip.split(' · ').pop()]";
    let expected = json!([
        "en",
        "Coverage of the grassroots science-association branches in Henan",
        [
            "Enterprise branches",
            "University branches",
            "Township branches"
        ],
        "Jiaozuo",
        "95%stated · scope: high-tech enterprises",
        NOT_STATED,
        "enterprise branches at all levels, more than 300 more than in 2022"
    ]);
    assert_eq!(browser.eval(english).await, expected);
    open_dashboard(&browser, &app).await;
    assert_eq!(
        browser.eval(english).await,
        expected,
        "the choice is remembered"
    );

    browser.assert_clean(&app.addr.to_string()).await;
}

/// The real binary, killed when dropped.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

#[tokio::test]
async fn a_publication_through_the_api_appears_on_an_open_dashboard_within_two_seconds() {
    let _one = helpers::exclusive().await;
    let Some(mut browser) = Browser::start("live").await else {
        return;
    };
    // The real binary, as `cargo run` serves it, on its own database.
    let fresh = FreshDatabase::new("browser_live").await;
    let admin = binary_token(&fresh.url, &["--role", "admin", "--name", "Province admin"]);
    let (child, addr) = spawn_binary(&fresh.url);
    let _server = Server(child);
    let client = reqwest::Client::new();
    let post = |query: &str, variables: Value| {
        let request = client
            .post(format!("http://{addr}/graphql"))
            .bearer_auth(&admin)
            .json(&json!({ "query": query, "variables": variables }));
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    // The report's 2023 is published: a correction goes through the cycle (reopened, edited,
    // submitted, approved), and the page hears it when it is published.
    let key = json!({ "cityCode": "410800", "period": 2023 });
    for (query, variables) in [
        (
            "mutation { reopenRound(input: { period: 2023, reason: \"更正\" }) { userErrors { code } } }",
            json!({}),
        ),
        (
            "mutation { reopenReturn(input: { cityCode: \"410800\", period: 2023, reason: \"更正\" }) { userErrors { code } } }",
            json!({}),
        ),
        (
            UPDATE,
            json!({ "input": { "cityCode": "410800", "branchType": "ENTERPRISE", "period": 2023,
                "branchCount": 250, "eligibleCount": 400, "expectedVersion": 1,
                "source": "Jiaozuo annual return 2023" } }),
        ),
        (
            "mutation($k: ReturnKeyInput!) { submitReturn(input: $k) { userErrors { code } } }",
            json!({ "k": key }),
        ),
        (
            "mutation($k: ReturnKeyInput!) { approveReturn(input: $k) { userErrors { code } } }",
            json!({ "k": key }),
        ),
    ] {
        let response = post(query, variables).await;
        let payload = response["data"].as_object().and_then(|d| d.values().next());
        assert_eq!(
            payload.map(|p| p["userErrors"].clone()),
            Some(json!([])),
            "{response}"
        );
    }
    browser.goto(&format!("http://{addr}/")).await;
    browser
        .wait_for(
            "the dashboard is drawn",
            "document.body.dataset.state === 'ready'",
            LOAD,
        )
        .await;
    // The page's three subscriptions listen (the server's own gauge says so): a write made now
    // is heard.
    let deadline = tokio::time::Instant::now() + LOAD;
    loop {
        let metrics = client
            .get(format!("http://{addr}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if metrics.contains("coverage_api_event_subscribers 3") {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the page never subscribed"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    browser.eval("window.stillTheSamePage = true").await;

    let response = post(
        "mutation($k: PublishReturnInput!) { publishReturn(input: $k) { userErrors { code } } }",
        json!({ "k": key }),
    )
    .await;
    assert_eq!(
        response["data"]["publishReturn"]["userErrors"],
        json!([]),
        "{response}"
    );
    // From the publication's acknowledgement, at most 2 s until the open page shows it.
    let cell = "tr[data-city=\"410800\"] td[data-type=\"ENTERPRISE\"]";
    browser
        .wait_for(
            "the new figures on the open dashboard",
            &format!(
                "document.querySelector('{cell}[data-field=\"branchCount\"] .fig').textContent === '250'
                 && document.querySelector('[data-key=\"sum/ENTERPRISE/coverageRate\"]').textContent === '62.5% (1/18 市)'"
            ),
            Duration::from_secs(2),
        )
        .await;
    let shown = browser
        .eval(&format!(
            "[window.stillTheSamePage === true,
              document.querySelector('{cell}[data-field=\"branchCount\"]').textContent,
              document.querySelector('{cell}[data-field=\"eligibleCount\"]').textContent,
              document.querySelector('{cell}[data-field=\"coverageRate\"]').textContent,
              document.querySelector('{cell}[data-field=\"coverageRate\"] .fig').dataset.tip,
              document.querySelector('{cell}[data-field=\"coverageRate\"]').classList.contains('changed'),
              document.querySelector('[data-key=\"sum/ENTERPRISE/sums\"]').textContent]"
        ))
        .await;
    assert_eq!(
        shown,
        json!([
            true,
            "250 (新建 193)",
            "400",
            "62.5%",
            "来源: Jiaozuo annual return 2023",
            true,
            "250 / 400"
        ]),
        "cells and summary changed without a reload, the changed cell highlighted"
    );
    // The chart follows: Jiaozuo's enterprise bar is 62.5 %.
    let bar = browser
        .eval(
            "(() => { const o = echarts.getInstanceByDom(document.getElementById('chart-rates')).getOption();
                      return o.series[0].data[o.yAxis[0].data.indexOf('焦作')].value; })()",
        )
        .await;
    assert_eq!(bar, json!(62.5));

    // A correction of the province's own total reaches the open dashboard too.
    let corrected = post(
        "mutation($input: SetProvinceReportedTotalInput!) {
            setProvinceReportedTotal(input: $input) { userErrors { code } } }",
        json!({ "input": { "branchType": "ENTERPRISE", "period": 2023, "total": 930,
                           "source": "corrected return", "expectedVersion": 1 } }),
    )
    .await;
    assert_eq!(
        corrected["data"]["setProvinceReportedTotal"]["userErrors"],
        json!([]),
        "{corrected}"
    );
    browser
        .wait_for(
            "the corrected province total on the open dashboard",
            "window.stillTheSamePage === true && \
             document.querySelector('[data-key=\"sum/ENTERPRISE/provinceTotal\"]').textContent === '930'",
            Duration::from_secs(2),
        )
        .await;

    browser.assert_clean(&addr).await;
}

/// Signs in on /staff with `secret` and waits for the city's records.
pub(crate) async fn sign_in(browser: &Browser, app: &TestApp, secret: &str) {
    browser.goto(&app.url("/staff")).await;
    browser.type_into("#token", secret).await;
    browser.click("#sign-in").await;
    browser
        .wait_for(
            "signed in, the records read",
            "document.body.dataset.state === 'ready'",
            LOAD,
        )
        .await;
}

const ENTERPRISE: &str = "form[data-type=\"ENTERPRISE\"]";

async fn fill(browser: &Browser, figures: &[(&str, &str)]) {
    for (name, value) in figures {
        browser
            .type_into(&format!("{ENTERPRISE} input[name=\"{name}\"]"), value)
            .await;
    }
}

/// Jiaozuo's 2023 enterprise figures as its return holds them (its draft).
async fn stored(app: &TestApp) -> Value {
    use entity::coverage_record::{Column, Entity};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let r = Entity::find()
        .filter(Column::CityCode.eq("410800"))
        .filter(Column::BranchType.eq(entity::BranchType::Enterprise))
        .filter(Column::Period.eq(2023))
        .one(&app.db.conn)
        .await
        .unwrap()
        .unwrap();
    json!({ "branchCount": r.branch_count, "eligibleCount": r.eligible_count,
            "newBranches": r.new_branches, "source": r.source, "version": r.version })
}

#[tokio::test]
async fn city_staff_edit_their_city_see_the_revision_meet_a_conflict_and_cannot_edit_another_city()
{
    let _one = helpers::exclusive().await;
    let Some(mut browser) = Browser::start("staff").await else {
        return;
    };
    // The report's figures entered outside the yearly return, then a round for the year:
    // Jiaozuo's return begins as a draft of them, which its staff edit.
    let app = TestApp::spawn_outside_rounds().await;
    app.open_rounds(&[2023]).await;
    let jiaozuo = token(&app, "Jiaozuo office", Role::CityStaff, Some("410800")).await;
    // A token the server does not know: its words for why.
    browser.goto(&app.url("/staff")).await;
    browser.type_into("#token", "cov_unknown").await;
    browser.click("#sign-in").await;
    assert_eq!(
        browser
            .wait_for(
                "the token refused",
                "document.getElementById('token-problem').textContent",
                LOAD,
            )
            .await,
        "the bearer token is malformed, unknown or revoked (UNAUTHENTICATED)"
    );
    sign_in(&browser, &app, &jiaozuo).await;
    let who = browser
        .eval("[document.getElementById('who').textContent, document.getElementById('city').value, document.getElementById('period').value]")
        .await;
    assert_eq!(
        who,
        json!([
            "Jiaozuo office · 市科协 (CITY_STAFF) · 焦作",
            "410800",
            "2023"
        ])
    );
    let meta = format!("document.querySelector('{ENTERPRISE} [data-field=\"meta\"]').textContent");
    assert!(
        browser
            .eval(&meta)
            .await
            .as_str()
            .unwrap()
            .starts_with("版本 1"),
        "the version read"
    );

    // What the server refuses is shown beside the fields in the server's own words, in the
    // page's language (the page keeps no copy of its rules), and nothing is stored.
    fill(
        &browser,
        &[
            ("branchCount", "500"),
            ("eligibleCount", "400"),
            ("source", ""),
        ],
    )
    .await;
    browser
        .click(&format!("{ENTERPRISE} button[type=\"submit\"]"))
        .await;
    let problems = "[...document.querySelectorAll('form[data-type=\"ENTERPRISE\"] .problem')].map((p) => p.textContent)";
    // Beside branchCount, eligibleCount, newBranches, statedRate, rateScope, source and note.
    let refused = json!([
        "已建数（500）不能大于应建数（400）",
        "",
        "",
        "",
        "",
        "来源不能为空：请写明数字从何而来",
        ""
    ]);
    assert_eq!(
        browser
            .wait_for(
                "the server's refusal",
                &format!(
                    "document.querySelector('{ENTERPRISE} [aria-invalid=\"true\"]') && {problems}"
                ),
                LOAD,
            )
            .await,
        refused
    );
    assert_eq!(stored(&app).await["version"], 1, "nothing was stored");
    // The labels follow the language, and so do the server's words (it sent both).
    browser.click("button[data-lang=\"en\"]").await;
    let label = format!("document.querySelector('{ENTERPRISE} label').textContent");
    assert_eq!(browser.eval(&label).await, "Branch count");
    assert_eq!(
        browser.eval(problems).await,
        json!([
            "branchCount (500) cannot exceed eligibleCount (400)",
            "",
            "",
            "",
            "",
            "source must not be empty: name where the figures come from",
            ""
        ])
    );
    browser.click("button[data-lang=\"zh\"]").await;
    // A count that is no number goes to the server as typed; the server says what it expected
    // (a 400 answer, which Chromium logs on the console).
    browser.expect_console_error(
        "/graphql - Failed to load resource: the server responded with a status of 400",
    );
    fill(&browser, &[("newBranches", "abc"), ("source", "x")]).await;
    browser
        .click(&format!("{ENTERPRISE} button[type=\"submit\"]"))
        .await;
    let result = format!(
        "document.querySelector('{ENTERPRISE} .result.bad') && document.querySelector('{ENTERPRISE} .result').textContent"
    );
    assert_eq!(
        browser.wait_for("the server's answer", &result, LOAD).await,
        "Invalid value for argument \"input.newBranches\", expected type \"Int\" (GRAPHQL_VALIDATION_FAILED)"
    );
    assert_eq!(stored(&app).await["version"], 1, "nothing was stored");
    fill(&browser, &[("newBranches", "193")]).await;

    // A valid edit is saved with the version read, and leaves a revision.
    fill(
        &browser,
        &[
            ("branchCount", "250"),
            ("eligibleCount", "400"),
            ("source", "焦作市科协 2023 年报"),
            ("note", "年度数据"),
        ],
    )
    .await;
    browser
        .click(&format!("{ENTERPRISE} button[type=\"submit\"]"))
        .await;
    browser
        .wait_for(
            "saved",
            &format!(
                "document.querySelector('{ENTERPRISE} .result').textContent === '已保存 · 版本 2'"
            ),
            LOAD,
        )
        .await;
    assert_eq!(
        stored(&app).await,
        json!({ "branchCount": 250, "eligibleCount": 400, "newBranches": 193,
                "source": "焦作市科协 2023 年报", "version": 2 })
    );
    let revision = browser
        .wait_for(
            "the revision listed",
            "document.querySelector('#revisions tbody tr[data-number]') && [...document.querySelector('#revisions tbody tr').children].slice(1).map((td) => td.textContent)",
            LOAD,
        )
        .await;
    assert_eq!(
        revision,
        json!([
            "Jiaozuo office (CITY_STAFF)",
            "企业科协 2023",
            "组织数: — → 250; 应建单位数: — → 400; 来源: 河南省科协九届七次全委会议工作报告（2024-03-22）: “其中焦作市新成立企业科协 193 家” → 焦作市科协 2023 年报",
            "年度数据"
        ])
    );

    // A second tab reads version 2; the first saves version 3; the second's save conflicts.
    let first = browser.new_tab().await;
    sign_in(&browser, &app, &jiaozuo).await;
    let second = browser.handle().await;
    browser.switch_to(&first).await;
    fill(
        &browser,
        &[("branchCount", "260"), ("source", "第一个标签页")],
    )
    .await;
    browser
        .click(&format!("{ENTERPRISE} button[type=\"submit\"]"))
        .await;
    browser
        .wait_for(
            "saved from the first tab",
            &format!(
                "document.querySelector('{ENTERPRISE} .result').textContent === '已保存 · 版本 3'"
            ),
            LOAD,
        )
        .await;
    browser.switch_to(&second).await;
    fill(
        &browser,
        &[("branchCount", "270"), ("source", "第二个标签页")],
    )
    .await;
    browser
        .click(&format!("{ENTERPRISE} button[type=\"submit\"]"))
        .await;
    let conflict = browser
        .wait_for(
            "the conflict shown",
            "document.querySelector('.conflict') && [document.querySelector('.conflict p').textContent,
              [...document.querySelectorAll('.conflict tr[data-field]')].map((tr) => [tr.dataset.field, tr.children[1].textContent, tr.children[2].textContent])]",
            LOAD,
        )
        .await;
    assert!(
        conflict[0]
            .as_str()
            .unwrap()
            .starts_with("此记录已被 Jiaozuo office (token 1) 于"),
        "{conflict}"
    );
    assert!(conflict[0].as_str().unwrap().ends_with("修改（版本 3）"));
    assert_eq!(
        conflict[1],
        json!([
            ["branchCount", "260", "270"],
            ["eligibleCount", "400", "400"],
            ["newBranches", "193", "193"],
            ["statedRate", "—", "—"],
            ["rateScope", "—", "—"],
            ["source", "第一个标签页", "第二个标签页"]
        ])
    );
    assert_eq!(
        stored(&app).await["branchCount"],
        260,
        "the conflict wrote nothing"
    );
    browser.screenshot("staff.png", 1250).await;
    browser.click("button[data-action=\"send-mine\"]").await;
    browser
        .wait_for(
            "saved on their version",
            &format!(
                "document.querySelector('{ENTERPRISE} .result').textContent === '已保存 · 版本 4'"
            ),
            LOAD,
        )
        .await;
    assert_eq!(stored(&app).await["branchCount"], 270);

    // Another city is read-only.
    browser.click("#city option[value=\"410900\"]").await;
    let other = browser
        .wait_for(
            "Puyang's records",
            "document.body.dataset.state === 'ready' && document.getElementById('city').value === '410900'
             && [document.getElementById('access').textContent,
                 [...document.querySelectorAll('#records fieldset')].every((f) => f.disabled),
                 [...document.querySelectorAll('#records button[type=\"submit\"]')].every((b) => b.hidden)]",
            LOAD,
        )
        .await;
    assert_eq!(other, json!(["只读：只能修改本市的数据", true, true]));

    // An administrator may edit any city.
    let admin = token(&app, "Province admin", Role::Admin, None).await;
    let staff_tab = browser.new_tab().await;
    sign_in(&browser, &app, &admin).await;
    browser.click("#city option[value=\"410900\"]").await;
    let any = browser
        .wait_for(
            "Puyang's records for the administrator",
            "document.body.dataset.state === 'ready' && document.getElementById('city').value === '410900'
             && [document.getElementById('who').textContent, document.getElementById('access').textContent,
                 [...document.querySelectorAll('#records fieldset')].every((f) => !f.disabled)]",
            LOAD,
        )
        .await;
    assert_eq!(
        any,
        json!([
            "Province admin · 省科协管理员 (ADMIN)",
            "管理员可修改任何城市",
            true
        ])
    );
    browser.switch_to(&staff_tab).await;

    // The token lives in this tab only.
    let kept = browser
        .eval("[document.cookie, JSON.stringify(localStorage).includes('cov_'), sessionStorage.getItem('coverage-api.token') !== null]")
        .await;
    assert_eq!(kept, json!(["", false, true]));

    browser.assert_clean(&app.addr.to_string()).await;
}

#[tokio::test]
async fn graphiql_renders_offline_runs_the_dashboard_query_and_receives_a_subscription_event() {
    let _one = helpers::exclusive().await;
    let Some(mut browser) = Browser::start("graphiql").await else {
        return;
    };
    let app = TestApp::spawn_outside_rounds().await;
    let admin = token(&app, "Province admin", Role::Admin, None).await;
    browser.goto(&app.url("/graphql")).await;
    let tabs = browser
        .wait_for(
            "GraphiQL with its tabs",
            "document.querySelector('.graphiql-execute-button') && [...document.querySelectorAll('.graphiql-tab-button')].map((t) => t.textContent)",
            LOAD,
        )
        .await;
    assert_eq!(
        tabs,
        json!([
            "Dashboard",
            "CityHistory",
            "CoverageChanged",
            "UpdateCoverage"
        ])
    );
    let result = "(() => { const cm = document.querySelector('.result-window .CodeMirror'); return cm ? cm.CodeMirror.getValue() : ''; })()";
    browser.click(".graphiql-execute-button").await;
    let answer = browser
        .wait_for(
            "the dashboard query's answer",
            &format!("{result}.includes('\"name\": \"焦作\"') && {result}"),
            LOAD,
        )
        .await;
    let answer: Value = serde_json::from_str(answer.as_str().unwrap()).unwrap();
    assert_eq!(answer["data"]["cities"]["totalCount"], 18);
    browser.screenshot("graphiql.png", 768).await;

    browser
        .eval("document.querySelectorAll('.graphiql-tab-button')[2].click()")
        .await;
    browser
        .wait_for(
            "the subscription tab",
            "document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.getValue().includes('subscription CoverageChanged')",
            LOAD,
        )
        .await;
    // GraphiQL re-reads a tab's operations from its editor on a debounce after a tab switch; a
    // Run inside that window sends the previous tab's operation name ("Dashboard") over HTTP,
    // which the server refuses as it must (Unknown operation). A person never clicks that fast;
    // the test runs again, only while nothing is subscribed, until the subscription is on.
    for _ in 0..5 {
        browser.click(".graphiql-execute-button").await;
        for _ in 0..100 {
            if app.events.subscriber_count() >= 1 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        if app.events.subscriber_count() >= 1 {
            break;
        }
    }
    app.until_subscribers(1).await;
    write(
        &app,
        &admin,
        json!({ "cityCode": "410800", "branchType": "ENTERPRISE", "period": 2023,
                "branchCount": 250, "eligibleCount": 400, "expectedVersion": 1,
                "source": "Jiaozuo annual return 2023" }),
    )
    .await;
    let event = browser
        .wait_for(
            "the subscription's event",
            &format!("{result}.includes('\"branchCount\": 250') && {result}"),
            LOAD,
        )
        .await;
    let event: Value = serde_json::from_str(event.as_str().unwrap()).unwrap();
    assert_eq!(
        event["data"]["coverageChanged"]["coverage"]["city"],
        json!({ "code": "410800", "name": "焦作" })
    );
    // The other tabs run as shipped: the city's history, and the update, which the server
    // refuses for its placeholder token (a header a browser sends: ASCII only).
    for (tab, name, expected) in [
        (1, "query CityHistory", "\"name\": \"焦作\""),
        (3, "mutation UpdateCoverage", "UNAUTHENTICATED"),
    ] {
        browser
            .eval(&format!(
                "document.querySelectorAll('.graphiql-tab-button')[{tab}].click()"
            ))
            .await;
        browser
            .wait_for(
                name,
                &format!("document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.getValue().includes('{name}')"),
                LOAD,
            )
            .await;
        // As above: a Run inside GraphiQL's debounce after a tab switch sends the previous
        // tab's operation name; run again until the tab's own answer is shown.
        let mut answered = false;
        for _ in 0..10 {
            browser.click(".graphiql-execute-button").await;
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            let shown = browser.eval(result).await;
            if shown.as_str().is_some_and(|text| text.contains(expected)) {
                answered = true;
                break;
            }
        }
        assert!(answered, "the {name} tab answers with {expected}");
    }
    let requests = browser.requests().await;
    let ws = format!("ws://{}/graphql/ws", app.addr);
    assert!(
        requests.contains(&ws),
        "the subscription ran over {ws}: {requests:?}"
    );

    browser.assert_clean(&app.addr.to_string()).await;
}

#[tokio::test]
async fn the_dashboard_and_the_staff_page_show_every_city_of_1_800_page_after_page() {
    let _one = helpers::exclusive().await;
    let Some(mut browser) = Browser::start("many").await else {
        return;
    };
    // More cities than one page holds (the server's connections give at most 100 a page).
    let app = TestApp::spawn_synthetic(1800, 1).await;
    open_dashboard(&browser, &app).await;
    let shown = browser
        .eval(
            "(() => { const rows = [...document.querySelectorAll('#cities tbody tr')].map((tr) => tr.dataset.city);
                      return [rows.length, new Set(rows).size, rows[0], rows[rows.length - 1],
                              echarts.getInstanceByDom(document.getElementById('chart-rates')).getOption().yAxis[0].data.length]; })()",
        )
        .await;
    assert_eq!(
        shown,
        json!([1800, 1800, "900001", "901800", 1800]),
        "every city once, in the table and the chart"
    );
    let admin = app.admin_token().await;
    sign_in(&browser, &app, &admin).await;
    let options = browser
        .eval("(() => { const o = [...document.querySelectorAll('#city option')].map((o) => o.value); return [o.length, new Set(o).size, o[o.length - 1]]; })()")
        .await;
    assert_eq!(
        options,
        json!([1800, 1800, "901800"]),
        "every city to choose from"
    );
    browser.assert_clean(&app.addr.to_string()).await;
}

#[tokio::test]
async fn a_subscription_the_server_refuses_shows_its_words_and_the_page_still_follows_the_other() {
    let _one = helpers::exclusive().await;
    let Some(mut browser) = Browser::start("refused").await else {
        return;
    };
    // One operation per connection: the dashboard's other subscriptions (the pilots' and the
    // province totals') are refused with TOO_MANY_SUBSCRIPTIONS (an event holding only the
    // error, then `complete`), said once.
    let app = TestApp::spawn_outside_rounds_with(ServeArgs {
        max_subscriptions: 1,
        ..ServeArgs::default()
    })
    .await;
    open_dashboard(&browser, &app).await;
    let banner = browser
        .wait_for(
            "the refusal shown",
            "!document.getElementById('banner').hidden && document.getElementById('banner').textContent",
            LOAD,
        )
        .await;
    assert_eq!(
        banner,
        "部分实时更新已停止: this connection has 1 operations open already; complete one first (TOO_MANY_SUBSCRIPTIONS)"
    );
    // The refused one is not asked for again (that would only be refused again), and the
    // coverage subscription goes on: a write still appears.
    app.until_subscribers(1).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(app.events.subscriber_count(), 1);
    let admin = app.admin_token().await;
    write(
        &app,
        &admin,
        json!({ "cityCode": "410800", "branchType": "ENTERPRISE", "period": 2023,
                "branchCount": 250, "eligibleCount": 400, "expectedVersion": 1,
                "source": "Jiaozuo annual return 2023" }),
    )
    .await;
    browser
        .wait_for(
            "the write on the dashboard",
            "document.querySelector('tr[data-city=\"410800\"] td[data-type=\"ENTERPRISE\"][data-field=\"branchCount\"] .fig').textContent === '250'",
            LOAD,
        )
        .await;
    assert_eq!(
        browser
            .eval("document.getElementById('banner').textContent")
            .await,
        banner,
        "the refusal stays shown"
    );
    browser.assert_clean(&app.addr.to_string()).await;
}

/// What a scripted /graphql/ws (see [`scripted_front`]) was asked: each subscription's query.
type Asked = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

/// A server in front of `app` for the pages: every request goes on to `app`, except
/// /graphql/ws, which speaks graphql-transport-ws from a script: it refuses the pilots'
/// subscription with an `error` message (which this server never sends itself) and ends the
/// first coverage subscription with `complete`. Returns its address and what it was asked.
async fn scripted_front(app: &TestApp) -> (String, Asked) {
    use axum::extract::ws::{Message, WebSocketUpgrade};
    use axum::extract::{Request, State};
    use axum::response::{IntoResponse, Response};

    #[derive(Clone)]
    struct Front {
        upstream: String,
        client: reqwest::Client,
        asked: Asked,
    }

    async fn script(ws: WebSocketUpgrade, State(front): State<Front>) -> Response {
        ws.protocols(["graphql-transport-ws"])
            .on_upgrade(move |mut socket| async move {
                while let Some(Ok(message)) = socket.recv().await {
                    let Message::Text(text) = message else {
                        continue;
                    };
                    let message: Value = serde_json::from_str(&text).unwrap();
                    let id = message["id"].clone();
                    let answer = match message["type"].as_str() {
                        Some("connection_init") => json!({ "type": "connection_ack" }),
                        Some("subscribe") => {
                            let query = message["payload"]["query"].as_str().unwrap().to_owned();
                            let first = {
                                let mut asked = front.asked.lock().unwrap();
                                asked.push(query.clone());
                                asked.iter().filter(|q| **q == query).count() == 1
                            };
                            if query.contains("pilotDesignationChanged") {
                                json!({ "type": "error", "id": id, "payload": [{
                                    "message": "scripted: the pilots' subscription is refused",
                                    "extensions": { "code": "SCRIPTED" } }] })
                            } else if first {
                                json!({ "type": "complete", "id": id })
                            } else {
                                continue;
                            }
                        }
                        _ => continue,
                    };
                    if socket
                        .send(Message::Text(answer.to_string().into()))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            })
    }

    async fn forward(State(front): State<Front>, request: Request) -> Response {
        let path = request
            .uri()
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        let mut outgoing = front.client.request(
            request.method().clone(),
            format!("{}{path}", front.upstream),
        );
        for name in ["content-type", "accept", "authorization", "if-none-match"] {
            if let Some(value) = request.headers().get(name) {
                outgoing = outgoing.header(name, value);
            }
        }
        let body = axum::body::to_bytes(request.into_body(), 1 << 20)
            .await
            .unwrap();
        let answer = outgoing.body(body).send().await.unwrap();
        let status = answer.status();
        let mut headers = answer.headers().clone();
        for name in ["content-length", "transfer-encoding", "connection"] {
            headers.remove(name);
        }
        let bytes = answer.bytes().await.unwrap();
        (status, headers, bytes).into_response()
    }

    let front = Front {
        upstream: app.url(""),
        client: reqwest::Client::new(),
        asked: Asked::default(),
    };
    let asked = front.asked.clone();
    let router = axum::Router::new()
        .route("/graphql/ws", axum::routing::get(script))
        .fallback(forward)
        .with_state(front);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move { axum::serve(listener, router).await.ok() });
    (addr, asked)
}

#[tokio::test]
async fn the_dashboard_shows_a_websocket_error_and_subscribes_again_after_a_complete() {
    let _one = helpers::exclusive().await;
    let Some(mut browser) = Browser::start("scripted").await else {
        return;
    };
    let app = TestApp::spawn().await;
    let (addr, asked) = scripted_front(&app).await;
    browser.goto(&format!("http://{addr}/")).await;
    browser
        .wait_for(
            "the dashboard is drawn",
            "document.body.dataset.state === 'ready'",
            LOAD,
        )
        .await;
    let banner = browser
        .wait_for(
            "the error shown",
            "!document.getElementById('banner').hidden && document.getElementById('banner').textContent",
            LOAD,
        )
        .await;
    assert_eq!(
        banner,
        "部分实时更新已停止: scripted: the pilots' subscription is refused (SCRIPTED)"
    );
    // The completed subscriptions (coverage, totals) are asked for again, and the page reads again (what
    // happened while it was not subscribed was not heard); the refused one is not asked again.
    browser
        .wait_for(
            "a read after the subscription was renewed",
            "Number(document.body.dataset.reads) >= 2",
            LOAD,
        )
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let asked: Vec<String> = asked
        .lock()
        .unwrap()
        .iter()
        .map(|q| q.split_whitespace().nth(1).unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        asked,
        [
            "DashboardCoverage",
            "DashboardPilots",
            "DashboardTotals",
            "DashboardCoverage",
            "DashboardTotals"
        ]
    );
    assert_eq!(
        browser
            .eval("[document.body.dataset.live, document.getElementById('banner').textContent]")
            .await,
        json!(["open", banner])
    );
    browser.assert_clean(&addr).await;
}

#[tokio::test]
async fn a_late_answer_for_an_earlier_choice_of_city_does_not_replace_the_current_one() {
    let _one = helpers::exclusive().await;
    let Some(mut browser) = Browser::start("late").await else {
        return;
    };
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    sign_in(&browser, &app, &admin).await;
    // What each city's enterprise record shows when read alone.
    let meta = format!(
        "document.body.dataset.state === 'ready' && document.querySelector('{ENTERPRISE} [data-field=\"meta\"]').textContent"
    );
    let mut shown = Vec::new();
    for code in ["410900", "410100"] {
        browser
            .click(&format!("#city option[value=\"{code}\"]"))
            .await;
        shown.push(
            browser
                .wait_for(&format!("{code}'s records"), &meta, LOAD)
                .await,
        );
    }
    assert_ne!(shown[0], shown[1], "the two cities' records differ");
    // Puyang's answer now comes 1.5 s late; Zhengzhou is chosen while it is on its way.
    browser
        .eval(
            "(() => { const real = window.fetch;
                      window.fetch = (url, init) => (init && String(init.body).includes('\"code\":\"410900\"')
                        ? new Promise((done) => setTimeout(done, 1500)).then(() => real(url, init))
                        : real(url, init)); })()",
        )
        .await;
    browser.click("#city option[value=\"410900\"]").await;
    browser.click("#city option[value=\"410100\"]").await;
    let current = browser.wait_for("Zhengzhou's records", &meta, LOAD).await;
    assert_eq!(current, shown[1]);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        browser
            .eval(&format!("[document.getElementById('city').value, {meta}]"))
            .await,
        json!(["410100", shown[1]]),
        "Puyang's late answer was dropped"
    );
    browser.assert_clean(&app.addr.to_string()).await;
}
