//! The yearly return's whole cycle in a real browser, every step taken on the pages: a city's
//! staff edit a figure on `/staff`, upload a workbook (its findings shown in Chinese, a bad file
//! refused, a good one written to the draft) and submit; the province's `/review` hears it live
//! and sends it back with a comment; the city sees the comment, fixes and submits again; the
//! province approves and publishes; an open dashboard then shows the new figures and how
//! complete the year is. Until then, no anonymous reader sees any of it.

use calamine::Data;
use entity::Role;
use serde_json::json;

use crate::helpers::{TestApp, token};
use crate::sheets::workbook;
use crate::webdriver::Browser;

/// A workbook of Jiaozuo's 2024 university figures, `count` as the branch count cell.
fn university(count: Data) -> Vec<u8> {
    let header = [
        "城市代码",
        "组织类型",
        "年度",
        "组织数",
        "应建单位数",
        "来源",
        "版本",
    ];
    let row = vec![
        Data::String("410800".into()),
        Data::String("高校科协".into()),
        Data::Float(2024.0),
        count,
        Data::Float(6.0),
        Data::String("2024年度年报（焦作）".into()),
        Data::Empty,
    ];
    let header = header.iter().map(|h| Data::String((*h).into())).collect();
    workbook(&[header, row])
}

/// Writes `bytes` to a file of this test's own, for the browser's file input.
fn file(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("coverage-api-cycle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a directory for the uploads");
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write the upload");
    path
}

/// The staff page's return line, once its status is `status`.
async fn return_is(browser: &Browser, status: &str) -> serde_json::Value {
    browser
        .wait_for(
            &format!("the return is {status}"),
            &format!(
                "document.body.dataset.state === 'ready' && \
                 document.getElementById('return').dataset.status === '{status}' && \
                 document.getElementById('return').textContent"
            ),
            crate::browser::LOAD,
        )
        .await
}

/// Saves `value` as the `type`'s `field` on the staff page, and waits for the saved version.
async fn save_on_page(browser: &Browser, r#type: &str, fields: &[(&str, &str)]) {
    for (field, value) in fields {
        browser.type_into(&format!("#{type}-{field}"), value).await;
    }
    browser
        .click(&format!("form[data-type=\"{type}\"] button[type=submit]"))
        .await;
    browser
        .wait_for(
            "the figure is saved",
            &format!("document.querySelector('form[data-type=\"{type}\"] .result.ok')"),
            crate::browser::LOAD,
        )
        .await;
}

#[tokio::test]
async fn a_city_files_by_page_and_workbook_and_the_province_publishes_it_all_in_a_browser() {
    let _one = crate::helpers::exclusive().await;
    let Some(mut browser) = Browser::start("cycle").await else {
        return;
    };
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let city = token(&app, "焦作市科协", Role::CityStaff, Some("410800")).await;
    let opened = app
        .query_as(
            Some(&admin),
            r#"mutation { openRound(input: { period: 2024, dueAt: "2099-03-31T16:00:00Z" }) { userErrors { code } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        opened["data"]["openRound"]["userErrors"],
        json!([]),
        "{opened}"
    );
    let load = crate::browser::LOAD;
    let public =
        r#"{ city(code: "410800") { coverage(period: 2024) { branchType branchCount } } }"#;

    // The province's review page, open throughout.
    browser.goto(&app.url("/review")).await;
    browser.type_into("#token", &admin).await;
    browser.click("#sign-in").await;
    let row = |status: &str| {
        format!(
            "document.body.dataset.state === 'ready' && \
             document.querySelector('#returns tr[data-city=\"410800\"]').dataset.status === '{status}'"
        )
    };
    browser
        .wait_for("the round is read", &row("NOT_STARTED"), load)
        .await;
    let review = browser.handle().await;

    // The city's staff page, in another tab: the open round's year is chosen for them.
    browser.new_tab().await;
    browser.goto(&app.url("/staff")).await;
    browser.type_into("#token", &city).await;
    browser.click("#sign-in").await;
    return_is(&browser, "NOT_STARTED").await;
    assert_eq!(
        browser
            .eval("document.getElementById('period').value")
            .await,
        "2024"
    );
    let staff = browser.handle().await;

    // An edit on the page begins the draft.
    save_on_page(
        &browser,
        "ENTERPRISE",
        &[
            ("branchCount", "700"),
            ("eligibleCount", "1000"),
            ("source", "2024年度年报（焦作）"),
        ],
    )
    .await;
    return_is(&browser, "DRAFT").await;

    // A workbook with a count that is not a number: the check shows why, in Chinese, and
    // offers nothing to write.
    // Chromium logs the check's 422 (the answer for a file with errors) as a console error.
    browser.expect_console_error(
        "/import/coverage - Failed to load resource: the server responded with a status of 422",
    );
    let bad = file("bad.xlsx", &university(Data::String("五".into())));
    browser.choose_file("#upload-file", &bad).await;
    browser.click("#upload-check").await;
    let refused = browser
        .wait_for(
            "the bad file's findings",
            "document.getElementById('upload-report').dataset.outcome === 'refused' && \
             document.getElementById('upload-report').textContent",
            load,
        )
        .await;
    let refused = refused.as_str().unwrap_or_default().to_owned();
    assert!(
        refused.contains("文件有 1 处问题，未写入任何数据"),
        "{refused}"
    );
    assert!(refused.contains("第 2 行"), "{refused}");
    assert_eq!(
        browser
            .eval("document.getElementById('upload-apply').hidden")
            .await,
        true
    );
    browser.screenshot("staff-upload-refused.png", 1100).await;

    // The good workbook: checked (nothing written yet), then written to the draft.
    let good = file("good.xlsx", &university(Data::Float(5.0)));
    browser.choose_file("#upload-file", &good).await;
    browser.click("#upload-check").await;
    let ready = browser
        .wait_for(
            "the good file's findings",
            "document.getElementById('upload-report').dataset.outcome === 'ready' && \
             document.getElementById('upload-report').textContent",
            load,
        )
        .await;
    assert!(
        ready
            .as_str()
            .is_some_and(|t| t.contains("检查通过，将修改 1 条记录") && t.contains("高校科协")),
        "{ready}"
    );
    browser.screenshot("staff-upload-ready.png", 1100).await;
    let draft = r#"{ cityReturn(cityCode: "410800", period: 2024) { coverage { branchType branchCount } } }"#;
    let before = app.query_as(Some(&city), draft, json!({})).await;
    assert_eq!(
        before["data"]["cityReturn"]["coverage"],
        json!([{ "branchType": "ENTERPRISE", "branchCount": 700 }]),
        "a check writes nothing"
    );
    browser.click("#upload-apply").await;
    browser
        .wait_for(
            "the upload is written and the figures read again",
            "document.getElementById('upload-report').dataset.outcome === 'applied' && \
             document.getElementById('UNIVERSITY-branchCount').value === '5'",
            load,
        )
        .await;

    // Submitted from the page; the review page hears it.
    browser.click("#submit-return").await;
    return_is(&browser, "SUBMITTED").await;
    browser.switch_to(&review).await;
    browser
        .wait_for("the submission is heard", &row("SUBMITTED"), load)
        .await;
    assert_eq!(
        app.query(public).await["data"]["city"]["coverage"],
        json!([]),
        "not public yet"
    );

    // Sent back with a comment.
    browser
        .click("#returns tr[data-city=\"410800\"] button")
        .await;
    let changed = browser
        .eval("[...document.querySelectorAll('#detail-figures tr.changed')].map((tr) => tr.dataset.key)")
        .await;
    for key in ["ENTERPRISE/branchCount", "UNIVERSITY/branchCount"] {
        assert!(
            changed
                .as_array()
                .is_some_and(|all| all.contains(&json!(key))),
            "{changed}"
        );
    }
    browser.type_into("#comment", "高校数请核实").await;
    browser.click("#send-back").await;
    browser.wait_for("sent back", &row("RETURNED"), load).await;

    // The city sees the comment, fixes the figure and submits again.
    browser.switch_to(&staff).await;
    browser.goto(&app.url("/staff")).await;
    let line = return_is(&browser, "RETURNED").await;
    assert!(
        line.as_str()
            .is_some_and(|t| t.contains("已退回") && t.contains("省科协意见: 高校数请核实")),
        "{line}"
    );
    browser.screenshot("staff-returned.png", 1100).await;
    save_on_page(&browser, "UNIVERSITY", &[("branchCount", "6")]).await;
    return_is(&browser, "DRAFT").await;
    browser.click("#submit-return").await;
    return_is(&browser, "SUBMITTED").await;

    // Approved and published from the review page.
    browser.switch_to(&review).await;
    browser
        .wait_for("submitted again", &row("SUBMITTED"), load)
        .await;
    browser.click("#approve").await;
    browser.wait_for("approved", &row("APPROVED"), load).await;
    assert_eq!(
        app.query(public).await["data"]["city"]["coverage"],
        json!([]),
        "approved is not public"
    );
    browser.click("#publish-return").await;
    browser
        .wait_for(
            "published",
            "document.querySelector('#returns tr[data-city=\"410800\"] td.published').textContent === '✓'",
            load,
        )
        .await;

    // An open dashboard shows the new figures and how complete the year is.
    browser.switch_to(&staff).await;
    browser.goto(&app.url("/?period=2024")).await;
    browser
        .wait_for(
            "the dashboard shows the publication",
            "document.body.dataset.state === 'ready' && \
             document.querySelector('tr[data-city=\"410800\"] td[data-type=\"UNIVERSITY\"]').textContent.includes('6')",
            load,
        )
        .await;
    assert_eq!(
        browser
            .eval("document.getElementById('completeness').textContent")
            .await,
        "已发布 1/18 市"
    );
    assert_eq!(
        app.query(public).await["data"]["city"]["coverage"],
        json!([
            { "branchType": "ENTERPRISE", "branchCount": 700 },
            { "branchType": "UNIVERSITY", "branchCount": 6 }
        ])
    );
    browser.assert_clean(&app.addr.to_string()).await;
}
