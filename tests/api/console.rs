//! The province's console at `/admin`, in a real browser: the administrator creates a city
//! person's account (the one-time password shown once), the person signs in on `/staff` in
//! another tab and changes a figure, and the console's change feed shows the person's name live; a program's API token is
//! made and revoked from the page; the feed filters by city.

use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn the_console_makes_an_account_and_a_token_and_its_feed_names_the_person_live() {
    let _one = crate::helpers::exclusive().await;
    let Some(mut browser) = crate::webdriver::Browser::start("console").await else {
        return;
    };
    let app = TestApp::spawn().await;
    app.open_rounds(&[2024]).await;
    let admin = app.admin_token().await;
    let load = crate::browser::LOAD;

    browser.goto(&app.url("/admin")).await;
    browser.type_into("#token", &admin).await;
    browser.click("#sign-in").await;
    browser
        .wait_for(
            "the console is read",
            "document.body.dataset.state === 'signed-in' && document.querySelector('#feed tbody tr')",
            load,
        )
        .await;

    browser
        .wait_for(
            "the console follows the changes live",
            "document.getElementById('live-state').textContent === '实时更新中'",
            load,
        )
        .await;

    // A city person's account, with its one-time password shown once.
    browser.type_into("#account-login", "lisi").await;
    browser.type_into("#account-name", "李四").await;
    browser
        .exec(
            "document.getElementById('account-city').value = arguments[0]; return true;",
            json!(["410800"]),
        )
        .await;
    browser.click("#new-account button[type=submit]").await;
    let password = browser
        .wait_for(
            "the account is made",
            "document.getElementById('account-result').dataset.password",
            load,
        )
        .await;
    let password = password.as_str().unwrap_or_default().to_owned();
    assert!(
        browser
            .eval("document.getElementById('account-result').textContent")
            .await
            .as_str()
            .is_some_and(|t| t.contains(&password) && t.starts_with("已新建账户 lisi")),
    );
    assert_eq!(
        browser
            .eval("document.querySelector('#accounts tr[data-login=\"lisi\"]').children[4].textContent")
            .await,
        "待首次登录"
    );

    // The same login again: the server's refusal stands beside the login field, in the page's
    // language, and follows the language switch; the city was not the problem.
    browser.type_into("#account-login", "lisi").await;
    browser.type_into("#account-name", "李四").await;
    browser.click("#new-account button[type=submit]").await;
    let beside = "document.querySelector('#account-login[aria-invalid=\"true\"] + .field-problem') && \
         [document.querySelector('#account-login + .field-problem').textContent, \
          document.querySelectorAll('#new-account .field-problem').length, \
          document.getElementById('account-result').textContent]";
    assert_eq!(
        browser.wait_for("the login is refused", beside, load).await,
        json!(["登录名 lisi 已被使用", 1, "请修改标出的栏目"])
    );
    browser.screenshot("console-refused.png", 700).await;
    browser.click("button[data-lang=\"en\"]").await;
    assert_eq!(
        browser
            .eval("document.querySelector('#account-login + .field-problem').textContent")
            .await,
        "the login lisi is taken"
    );
    browser.click("button[data-lang=\"zh\"]").await;

    // The person signs in on the staff page, in another tab (choosing a password of their own),
    // and changes a figure there: the console's feed names them, live.
    let console = browser.new_tab().await;
    browser.goto(&app.url("/staff")).await;
    browser.type_into("#login", "lisi").await;
    browser.type_into("#password", &password).await;
    browser.click("#sign-in").await;
    browser
        .wait_for(
            "a password of their own is asked for",
            "!document.getElementById('new-password-label').hidden",
            load,
        )
        .await;
    browser
        .type_into("#new-password", "李四的新密码-2024")
        .await;
    browser.click("#sign-in").await;
    browser
        .wait_for(
            "the person is signed in",
            "document.body.dataset.state === 'ready' && \
             document.getElementById('who').textContent.startsWith('李四 (lisi)')",
            load,
        )
        .await;
    for (field, value) in [
        ("branchCount", "5"),
        ("eligibleCount", "6"),
        ("source", "2024年度年报"),
    ] {
        browser
            .type_into(&format!("#UNIVERSITY-{field}"), value)
            .await;
    }
    browser
        .click("form[data-type=\"UNIVERSITY\"] button[type=submit]")
        .await;
    browser
        .wait_for(
            "the figure is saved",
            "document.querySelector('form[data-type=\"UNIVERSITY\"] .result.ok')",
            load,
        )
        .await;
    // The person's session opens no console: the page says whose it is, and shows nothing of it.
    browser.goto(&app.url("/admin")).await;
    assert_eq!(
        browser
            .wait_for(
                "a city person is turned away",
                "document.getElementById('token-problem').textContent",
                load,
            )
            .await,
        "此页面仅供省科协管理员使用"
    );
    assert_eq!(
        browser
            .eval("[document.getElementById('work').hidden, document.body.dataset.state]")
            .await,
        json!([true, "signed-out"])
    );
    browser.switch_to(&console).await;
    let row = browser
        .wait_for(
            "the feed hears the change",
            "(() => { const tr = document.querySelector('#feed tbody tr[data-kind=\"COVERAGE\"]'); \
               return tr && [tr.children[1].textContent, tr.children[2].textContent, tr.children[3].textContent]; })()",
            load,
        )
        .await;
    assert_eq!(
        row,
        json!([
            "李四 (lisi)",
            "焦作 高校科协 2024",
            "组织数: — → 5; 应建单位数: — → 6; 来源: — → 2024年度年报"
        ])
    );

    // A program's token: made (its secret shown once) and revoked from the page.
    browser.type_into("#token-name", "dashboard build").await;
    browser.click("#new-token button[type=submit]").await;
    let made = browser
        .wait_for(
            "the token is made",
            "document.getElementById('token-result').textContent.includes('cov_') && \
             document.getElementById('token-result').textContent",
            load,
        )
        .await;
    assert!(
        made.as_str().is_some_and(|t| t.contains("只显示这一次")),
        "{made}"
    );
    browser.screenshot("console.png", 1100).await;
    let id = browser
        .eval("[...document.querySelectorAll('#tokens tbody tr')].pop().dataset.id")
        .await;
    let id = id.as_str().unwrap_or_default().to_owned();
    browser
        .click(&format!(
            "#tokens tr[data-id=\"{id}\"] button[data-action=\"revoke\"]"
        ))
        .await;
    browser
        .wait_for(
            "the token is revoked",
            &format!(
                "document.querySelector('#tokens tr[data-id=\"{id}\"]').children[4].textContent.startsWith('已撤销')"
            ),
            load,
        )
        .await;
    // Its time reads in China Standard Time, whatever the browser's own zone (UTC here).
    let listed = app
        .query_as(Some(&admin), "{ apiTokens { id revokedAt } }", json!({}))
        .await;
    let revoked_at = listed["data"]["apiTokens"]
        .as_array()
        .and_then(|all| all.iter().find(|t| t["id"] == id.as_str()))
        .and_then(|t| t["revokedAt"].as_str())
        .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
        .map(|at| at.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap()))
        .map(|at| at.format("已撤销 %Y-%m-%d %H:%M").to_string());
    assert_eq!(
        browser
            .eval(&format!(
                "document.querySelector('#tokens tr[data-id=\"{id}\"]').children[4].textContent"
            ))
            .await
            .as_str(),
        revoked_at.as_deref()
    );

    let choose = |id: &str, value: &str| {
        format!("document.getElementById('{id}').value = '{value}'; return true;")
    };
    // A programme made from the console, then its stated size changed on its version: both in
    // the feed, in words.
    browser.type_into("#program-code", "KEPU_2025").await;
    browser
        .type_into("#program-name", "科普示范县（2025）")
        .await;
    browser
        .type_into("#program-name-en", "Science popularisation counties (2025)")
        .await;
    browser
        .exec(&choose("program-level", "NATIONAL"), json!([]))
        .await;
    browser.type_into("#program-size", "4").await;
    browser
        .type_into("#program-source", "中国科协〔2025〕5号")
        .await;
    browser.click("#program-form button[type=submit]").await;
    let row = "#programs tr[data-program=\"KEPU_2025\"]";
    let cells = format!(
        "document.querySelector('{row}') && \
         [...document.querySelector('{row}').children].map((td) => td.textContent)"
    );
    assert_eq!(
        browser
            .wait_for("the programme is listed", &cells, load)
            .await,
        json!([
            "KEPU_2025",
            "科普示范县（2025）",
            "Science popularisation counties (2025)",
            "国家级",
            "4",
            "中国科协〔2025〕5号",
            "1",
            "修改"
        ])
    );
    browser
        .click(&format!("{row} button[data-action=\"edit\"]"))
        .await;
    browser.type_into("#program-size", "5").await;
    browser.click("#program-form button[type=submit]").await;
    browser
        .wait_for(
            "the size is changed, on the stored version",
            "document.getElementById('program-result').textContent === '已保存试点项目 KEPU_2025（版本 2）'",
            load,
        )
        .await;
    assert_eq!(
        browser
            .wait_for(
                "the programme's changes are in the feed, in words",
                "(() => { const rows = [...document.querySelectorAll('#feed tbody tr[data-kind=\"PILOT_PROGRAM\"]')]; \
                   return rows.length === 2 && rows.map((tr) => tr.children[3].textContent); })()",
                load,
            )
            .await,
        json!(["报告所述数量: 4 → 5", "新建试点 科普示范县（2025） (KEPU_2025, 国家级)"])
    );

    // A designation set, its year changed and removed; a province total set: each in the feed.
    browser
        .exec(&choose("designation-city", "410800"), json!([]))
        .await;
    let program = browser
        .eval("document.getElementById('designation-program').options[0].value")
        .await;
    let program = program.as_str().unwrap_or_default().to_owned();
    // A year before any programme, then a valid one: the refusal stands beside the year and
    // leaves with the next answer.
    browser.type_into("#designation-year", "1900").await;
    browser
        .type_into("#designation-source", "河南省科协文件")
        .await;
    browser.click("#new-designation button[type=submit]").await;
    let next_year = chrono::Datelike::year(&chrono::Utc::now()) + 1;
    assert_eq!(
        browser
            .wait_for(
                "the year is refused",
                "document.querySelector('#designation-year + .field-problem') && \
                 document.querySelector('#designation-year + .field-problem').textContent",
                load,
            )
            .await,
        format!("年份须在 1949 到 {next_year} 之间，收到 1900")
    );
    browser.type_into("#designation-year", "2022").await;
    browser.click("#new-designation button[type=submit]").await;
    let designation = format!("#designations tr[data-city=\"410800\"][data-program=\"{program}\"]");
    browser
        .wait_for(
            "the designation is listed",
            &format!("document.querySelector('{designation}') && document.querySelector('{designation}').children[2].textContent === '2022'"),
            load,
        )
        .await;
    assert_eq!(
        browser
            .eval("[document.querySelectorAll('#new-designation .field-problem, #new-designation [aria-invalid]').length, document.getElementById('designation-result').className]")
            .await,
        json!([0, "result ok"])
    );
    browser.type_into("#designation-year", "2021").await;
    browser.click("#new-designation button[type=submit]").await;
    browser
        .wait_for(
            "the year is changed, on the stored version",
            &format!(
                "document.querySelector('{designation}').children[2].textContent === '2021' && \
                      document.querySelector('{designation}').children[4].textContent === '2'"
            ),
            load,
        )
        .await;
    browser
        .click(&format!("{designation} button[data-action=\"remove\"]"))
        .await;
    browser
        .wait_for(
            "the designation is removed",
            &format!("!document.querySelector('{designation}')"),
            load,
        )
        .await;
    browser.type_into("#total-period", "2024").await;
    browser.type_into("#total-value", "1000").await;
    browser.type_into("#total-source", "2024年度工作报告").await;
    browser.click("#province-total button[type=submit]").await;
    browser
        .wait_for(
            "the total is saved",
            "document.getElementById('total-result').textContent === '已保存全省报告数（版本 1）'",
            load,
        )
        .await;
    let kinds = browser
        .wait_for(
            "every change is in the feed, in words",
            "(() => { const rows = [...document.querySelectorAll('#feed tbody tr')]; \
               const words = rows.map((tr) => [tr.dataset.kind, tr.children[3].textContent]); \
               return words.filter(([k]) => k === 'PILOT_DESIGNATION').length === 3 && \
                 words.some(([k]) => k === 'PROVINCE_TOTAL') && words.slice(0, 4); })()",
            load,
        )
        .await;
    assert_eq!(
        kinds[0],
        json!(["PROVINCE_TOTAL", "全省报告数: — → 1000"]),
        "{kinds}"
    );
    assert_eq!(kinds[1][0], "PILOT_DESIGNATION", "{kinds}");
    assert!(
        kinds[1][1].as_str().is_some_and(|t| t.ends_with("已取消")),
        "{kinds}"
    );
    assert!(
        kinds[2][1]
            .as_str()
            .is_some_and(|t| t.ends_with("自 2021 年")),
        "{kinds}"
    );
    browser.screenshot("console-pilots.png", 1400).await;

    // The feed filtered by writer: the person's two changes (the return begun, the figure).
    browser.type_into("#feed-actor", "李四 (lisi)").await;
    browser.click("#feed-filter button[type=submit]").await;
    let writers = browser
        .wait_for(
            "the feed by writer",
            "(() => { const who = [...document.querySelectorAll('#feed tbody tr[data-number]')].map((tr) => tr.children[1].textContent); \
               return who.length === 2 && who; })()",
            load,
        )
        .await;
    assert_eq!(writers, json!(["李四 (lisi)", "李四 (lisi)"]));
    browser.click("#feed-export").await;
    browser.type_into("#feed-actor", "").await;

    // The feed filtered to another city holds none of it.
    browser
        .exec(
            "document.getElementById('feed-city').value = arguments[0]; return true;",
            json!(["410900"]),
        )
        .await;
    browser.click("#feed-filter button[type=submit]").await;
    browser
        .wait_for(
            "the filtered feed",
            "!document.querySelector('#feed tbody tr[data-kind=\"COVERAGE\"]')",
            load,
        )
        .await;
    browser.assert_clean(&app.addr.to_string()).await;
}
