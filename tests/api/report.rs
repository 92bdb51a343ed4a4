//! The yearly report at `/report`, in a real browser: the 2023 report of the source's figures,
//! drawn from the published figures with the paragraph the server drafts, reached from the
//! dashboard, and printed by Chromium to an A4 PDF whose pages hold every city, the summary and
//! the paragraph, numbered, with nothing of the page's controls.

use serde_json::json;

use crate::helpers::TestApp;

/// The text of every page of `pdf`, one string per page. Chromium embeds CJK fonts as Type 3
/// fonts whose `/Encoding` names glyphs and whose `/ToUnicode` says what they are; the reader
/// prefers `/Encoding`, so it is taken away where a `/ToUnicode` stands.
fn pages(pdf: &[u8]) -> Vec<String> {
    let mut doc = lopdf::Document::load_mem(pdf).expect("a PDF");
    for object in doc.objects.values_mut() {
        if let Ok(font) = object.as_dict_mut()
            && font.has(b"ToUnicode")
        {
            font.remove(b"Encoding");
        }
    }
    let numbers: Vec<u32> = doc.get_pages().keys().copied().collect();
    numbers
        .iter()
        .map(|n| doc.extract_text(&[*n]).expect("the page's text"))
        .collect()
}

/// Whether `text` (a PDF's, whitespace taken out) holds `words`. Chromium's ToUnicode names a
/// CJK glyph by the first code point the font maps to it: a Kangxi radical (⼭ for 山, which
/// NFKC reads back) or a radical of the supplement (⻚ for 页, which nothing reads back, so it
/// stands for any one character).
fn printed(text: &str, words: &str) -> bool {
    use unicode_normalization::UnicodeNormalization;
    let text: Vec<char> = text.nfkc().filter(|c| !c.is_whitespace()).collect();
    let words: Vec<char> = words.nfkc().filter(|c| !c.is_whitespace()).collect();
    text.windows(words.len()).any(|window| {
        window
            .iter()
            .zip(&words)
            .all(|(t, w)| t == w || ('\u{2E80}'..='\u{2EFF}').contains(t))
    })
}

/// 制表日期 as the report writes it for today in China Standard Time: 制表日期：2026年12月6日.
fn made_on() -> String {
    let china = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8");
    chrono::Utc::now()
        .with_timezone(&china)
        .format("制表日期：%Y年%-m月%-d日")
        .to_string()
}

#[tokio::test]
async fn the_2023_report_prints_to_a4_pages_that_hold_every_city_the_summary_and_the_paragraph() {
    let _one = crate::helpers::exclusive().await;
    let Some(mut browser) = crate::webdriver::Browser::start("report").await else {
        return;
    };
    let app = TestApp::spawn().await;
    let load = crate::browser::LOAD;
    let made_before = made_on();
    let answer = app
        .query("{ summary(period: 2023) { paragraph { zh en } } }")
        .await;
    let paragraph = &answer["data"]["summary"]["paragraph"];

    // The dashboard links to the report of the year it shows.
    browser.goto(&app.url("/?period=2023")).await;
    browser
        .wait_for(
            "the dashboard links to its year's report",
            "document.getElementById('report-link').getAttribute('href') === '/report?period=2023'",
            load,
        )
        .await;
    browser.click("#report-link").await;
    browser
        .wait_for(
            "the report is drawn",
            "document.body.dataset.state === 'ready'",
            load,
        )
        .await;
    let seen = browser
        .eval(
            "[document.getElementById('report-title').textContent, \
              document.getElementById('issuer').textContent, \
              document.getElementById('as-of').textContent.startsWith('数据截至 20'), \
              document.getElementById('made-on').textContent, \
              document.getElementById('paragraph').textContent, \
              document.querySelectorAll('#cities tbody tr').length, \
              document.querySelectorAll('#summary tbody tr').length, \
              [...document.querySelectorAll('#summary tbody tr')].map((tr) => [tr.children[4].textContent, tr.children[5].textContent])]",
        )
        .await;
    // The day it is made, in China Standard Time, as running Chinese text writes a date.
    let made = [made_before, made_on()]
        .into_iter()
        .find(|made| seen[3] == json!(made))
        .unwrap_or_else(|| panic!("制表日期 is not today in China: {seen}"));
    assert_eq!(
        seen,
        json!([
            "河南省基层科协组织覆盖情况 · 2023年度",
            "河南省科学技术协会",
            true,
            made,
            paragraph["zh"],
            18,
            3,
            // A sum of the cities says how many it is over; the province's total is its own.
            [["193 (1/18 市)", "927"], ["—", "—"], ["—", "—"]]
        ])
    );
    // A stated rate keeps its scope in a numbered note.
    let notes = browser
        .eval("[...document.querySelectorAll('#notes li')].map((li) => li.textContent)")
        .await;
    assert!(
        notes.as_array().unwrap().contains(&json!(
            "濮阳企业科协：报告所述覆盖率 95%，口径：高新技术企业。"
        )),
        "{notes}"
    );
    browser.screenshot("report.png", 1400).await;

    let pdf = browser.print_to_pdf().await;
    if let Some(dir) = std::env::var_os("COVERAGE_API_SCREENSHOTS") {
        std::fs::write(std::path::Path::new(&dir).join("report.pdf"), &pdf).ok();
    }
    let pages = pages(&pdf);
    let all = pages.concat();
    assert!(
        (1..=3).contains(&pages.len()),
        "{} pages: {all}",
        pages.len()
    );
    for (code, name, _, _) in crate::helpers::CITIES {
        assert!(printed(&all, name), "{code} {name} is not printed: {all}");
    }
    let paragraph_zh = paragraph["zh"].as_str().unwrap_or_default();
    for words in [
        "河南省基层科协组织覆盖情况 · 2023年度",
        "河南省科学技术协会",
        "全省汇总",
        &made,
        paragraph_zh,
    ] {
        assert!(printed(&all, words), "{words} is not printed: {all}");
    }
    // Every page is numbered, of all of them.
    for (i, page) in pages.iter().enumerate() {
        let number = format!("第 {} 页 / 共 {} 页", i + 1, pages.len());
        assert!(printed(page, &number), "{number}: {page}");
    }
    for control in ["打印", "总览", "EN"] {
        assert!(!printed(&all, control), "{control} is printed: {all}");
    }

    // In English, the server's English paragraph and the day as English writes it.
    browser.click("button[data-lang=\"en\"]").await;
    let english = browser
        .eval("[document.getElementById('paragraph').textContent, document.getElementById('made-on').textContent]")
        .await;
    let china = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8");
    let today = chrono::Utc::now().with_timezone(&china);
    assert_eq!(english[0], paragraph["en"]);
    assert!(
        [today, today - chrono::Duration::days(1)]
            .iter()
            .any(|d| english[1] == json!(d.format("Made on %-d %B %Y").to_string())),
        "{english}"
    );
    browser.click("button[data-lang=\"zh\"]").await;
    browser.assert_clean(&app.addr.to_string()).await;
}

#[tokio::test]
async fn a_city_page_shows_its_years_with_changes_sources_and_designations_linked_from_the_dashboard()
 {
    let _one = crate::helpers::exclusive().await;
    let Some(mut browser) = crate::webdriver::Browser::start("city").await else {
        return;
    };
    // Jiaozuo's enterprise figures for two years beside the report's: a change of 5 points.
    let app = TestApp::spawn_outside_rounds().await;
    let admin = app.admin_token().await;
    for (period, branches, version) in [(2024, 200, 0), (2025, 220, 0)] {
        let saved = app
            .query_as(
                Some(&admin),
                "mutation($input: UpdateCoverageInput!) { updateCoverage(input: $input) { userErrors { code } } }",
                json!({ "input": { "cityCode": "410800", "branchType": "ENTERPRISE", "period": period,
                    "branchCount": branches, "eligibleCount": 400, "expectedVersion": version,
                    "source": format!("焦作市科协 {period} 年报") } }),
            )
            .await;
        assert_eq!(
            saved["data"]["updateCoverage"]["userErrors"],
            json!([]),
            "{saved}"
        );
    }
    // A stated rate whose scope is not "English (中文)" is shown whole, in either language.
    let township = app
        .query_as(
            Some(&admin),
            "mutation($input: UpdateCoverageInput!) { updateCoverage(input: $input) { userErrors { code } } }",
            json!({ "input": { "cityCode": "410800", "branchType": "TOWNSHIP", "period": 2025,
                "statedRate": 0.9, "rateScope": "townships on the list (2024)", "expectedVersion": 0,
                "source": "焦作市科协 2025 年报" } }),
        )
        .await;
    assert_eq!(
        township["data"]["updateCoverage"]["userErrors"],
        json!([]),
        "{township}"
    );
    let load = crate::browser::LOAD;

    // From the dashboard's table, at the year it shows.
    browser.goto(&app.url("/?period=2025")).await;
    let link = "#cities tr[data-city=\"410800\"] th.name a";
    browser
        .wait_for(
            "the dashboard's table links the city",
            &format!("document.querySelector('{link}') && document.querySelector('{link}').getAttribute('href') === '/city/410800?period=2025'"),
            load,
        )
        .await;
    browser.click(link).await;
    browser
        .wait_for(
            "the city's page",
            "document.body.dataset.state === 'ready'",
            load,
        )
        .await;
    let seen = browser
        .eval(
            "[document.getElementById('city-title').textContent, \
              [...document.querySelectorAll('#history tbody tr')].map((tr) => tr.dataset.period), \
              document.querySelector('#history tbody tr.marked').dataset.period, \
              [...document.querySelectorAll('#history tbody tr')].map((tr) => [...tr.children].slice(1, 6).map((td) => td.textContent)), \
              [...document.querySelectorAll('#designations li')].map((li) => li.textContent), \
              [...document.querySelectorAll('#sources li')].map((li) => li.textContent)]",
        )
        .await;
    assert_eq!(
        seen,
        json!([
            "焦作 · 历年覆盖情况",
            ["2025", "2024", "2023"],
            "2025",
            [
                ["220", "400", "—", "55%[1]", "+5 个百分点"],
                ["200", "400", "—", "50%[2]", "—"],
                ["—", "—", "193", "—[3]", "—"]
            ],
            ["“科创中原”试点城市 (省级) · 起始年份 2023"],
            [
                "焦作市科协 2025 年报",
                "焦作市科协 2024 年报",
                "河南省科协九届七次全委会议工作报告（2024-03-22）: “其中焦作市新成立企业科协 193 家”"
            ]
        ])
    );
    assert_eq!(
        browser
            .eval("[...document.querySelectorAll('#history td[title]')].map((td) => td.title)")
            .await,
        json!(["口径: townships on the list (2024)"])
    );
    browser.screenshot("city.png", 900).await;
    // A code that is no city says so.
    browser.goto(&app.url("/city/999999")).await;
    assert_eq!(
        browser
            .wait_for(
                "an unknown city",
                "document.body.dataset.state === 'empty' && document.getElementById('status').textContent",
                load,
            )
            .await,
        "没有代码为 999999 的城市"
    );
    browser.assert_clean(&app.addr.to_string()).await;
}

/// Where the tooltip of every source in the dashboard's table falls outside the table's scrolling
/// box (which would cut it off), as `code: [left, top, right, bottom]` of the overflow.
const TOOLTIPS_OUTSIDE: &str = "(() => {
  const out = [];
  for (const fig of document.querySelectorAll('#cities tbody .fig[data-tip]')) {
    // An unknown figure shows its tip on hover only; focus shows the same box, measurably.
    const focusable = fig.hasAttribute('tabindex');
    fig.tabIndex = 0;
    fig.focus();
    // Measured after the focus, which scrolls the page.
    const wrap = document.getElementById('cities').closest('.table-wrap').getBoundingClientRect();
    const box = fig.getBoundingClientRect();
    const tip = getComputedStyle(fig, '::after');
    const px = (v) => parseFloat(v) || 0;
    // A fixed tooltip (a phone's) stands on the screen, not in the table.
    const fixed = tip.position === 'fixed';
    const within = fixed ? { left: 0, top: 0, right: innerWidth, bottom: innerHeight } : wrap;
    const left = (fixed ? 0 : box.left) + px(tip.left);
    const top = (fixed ? 0 : box.top) + px(tip.top);
    const width = px(tip.width) + px(tip.paddingLeft) + px(tip.paddingRight);
    const height = px(tip.height) + px(tip.paddingTop) + px(tip.paddingBottom);
    if (left < within.left - 1 || left + width > within.right + 1 || top < within.top - 1 || top + height > within.bottom + 1) {
      out.push(`${fig.closest('tr').dataset.city}: ${[left - within.left, top - within.top, within.right - left - width, within.bottom - top - height].map(Math.round)}`);
    }
    fig.blur();
    if (!focusable) fig.removeAttribute('tabindex');
  }
  return out;
})()";

#[tokio::test]
async fn the_dashboard_keeps_every_tooltip_inside_its_table_and_its_city_column_on_a_phone() {
    let _one = crate::helpers::exclusive().await;
    let Some(mut browser) = crate::webdriver::Browser::start("phone").await else {
        return;
    };
    let app = TestApp::spawn().await;
    let load = crate::browser::LOAD;
    browser.goto(&app.url("/?period=2023")).await;
    browser
        .wait_for(
            "the dashboard",
            "document.body.dataset.state === 'ready'",
            load,
        )
        .await;
    assert_eq!(
        browser.eval(TOOLTIPS_OUTSIDE).await,
        json!([]),
        "on a desktop"
    );

    browser.resize(390, 844).await;
    browser.goto(&app.url("/?period=2023")).await;
    browser
        .wait_for(
            "the dashboard on a phone",
            "document.body.dataset.state === 'ready'",
            load,
        )
        .await;
    let name = "(() => { const wrap = document.querySelector('#cities').closest('.table-wrap'); \
                 const th = document.querySelector('#cities tbody tr[data-city=\"410800\"] th.name'); \
                 return [wrap.scrollWidth > wrap.clientWidth, \
                         Math.round(th.getBoundingClientRect().left - wrap.getBoundingClientRect().left), \
                         th.textContent]; })()";
    let before = browser.eval(name).await;
    browser
        .exec(
            "document.querySelector('#cities').closest('.table-wrap').scrollLeft = 600; return true;",
            json!([]),
        )
        .await;
    let after = browser.eval(name).await;
    assert_eq!(
        before[0],
        json!(true),
        "the table scrolls sideways on a phone"
    );
    assert_eq!(
        after, before,
        "the city's name stays in place while the figures scroll"
    );
    browser.screenshot("phone.png", 844).await;
    assert_eq!(
        browser.eval(TOOLTIPS_OUTSIDE).await,
        json!([]),
        "on a phone"
    );
    browser.resize(1366, 768).await;
    browser.assert_clean(&app.addr.to_string()).await;
}
