//! A city files by spreadsheet from the page: the import takes a browser's
//! `multipart/form-data` form exactly as it takes the file itself (its bound counting every byte
//! sent), a form that is not one file is refused and changes nothing, and the city's template
//! holds its draft and the draft's versions for its own staff, so that a template filled in
//! during a round goes back without a version conflict.

use calamine::Data;
use coverage_api::config::ServeArgs;
use entity::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, token};
use crate::publication::save_city;
use crate::sheets::{sheet, stored, text, workbook};

const BOUNDARY: &str = "----coverageFormBoundary7MA4YWxk";

/// A form body as a browser writes it: `(name, file name, bytes)` per part.
fn form(parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, file, bytes) in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        let disposition = match file {
            Some(f) => format!(
                "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            ),
            None => format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n"),
        };
        body.extend_from_slice(disposition.as_bytes());
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// POSTs `body` as a form (`content_type` overrides the form's); the status and the report.
async fn send_form(
    app: &TestApp,
    token: &str,
    query: &str,
    body: Vec<u8>,
    content_type: Option<&str>,
) -> (u16, Value) {
    let content_type = content_type
        .map(str::to_owned)
        .unwrap_or_else(|| format!("multipart/form-data; boundary={BOUNDARY}"));
    let response = app
        .client
        .post(app.url(&format!("/import/coverage{query}")))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// A one-row CSV of Jiaozuo's 2024 enterprise figures: `branches` of 1,000, over `version`
/// (empty: a new record).
fn jiaozuo_csv(branches: i32, version: Option<i32>) -> Vec<u8> {
    let version = version.map(|v| v.to_string()).unwrap_or_default();
    format!(
        "城市代码,组织类型,年度,组织数,应建单位数,来源,版本\n\
         410800,企业科协,2024,{branches},1000,2024年度年报,{version}\n"
    )
    .into_bytes()
}

/// A change's city, type, year and figures, as the report shows them.
fn changes(report: &Value) -> Vec<Value> {
    report["changes"]
        .as_array()
        .map(|all| {
            all.iter()
                .map(|c| {
                    json!([
                        c["cityCode"],
                        c["branchType"],
                        c["period"],
                        c["before"]["branchCount"],
                        c["after"]["branchCount"]
                    ])
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_browser_form_is_read_like_the_file_itself_dry_run_first() {
    let app = TestApp::spawn().await;
    app.open_rounds(&[2024]).await;
    let city = token(&app, "焦作市科协", Role::CityStaff, Some("410800")).await;
    let file = jiaozuo_csv(640, None);
    let before = stored(&app).await;

    // No dryRun anywhere: a dry run, as for the file itself.
    let (status, dry) = send_form(
        &app,
        &city,
        "",
        form(&[("file", Some("焦作2024.csv"), &file)]),
        None,
    )
    .await;
    assert_eq!(status, 200, "{dry}");
    assert_eq!(dry["applied"], false);
    assert_eq!(
        changes(&dry),
        vec![json!(["410800", "ENTERPRISE", 2024, null, 640])]
    );
    assert_eq!(stored(&app).await, before, "a dry run writes nothing");

    // The form's own dryRun part says to write.
    let (status, applied) = send_form(
        &app,
        &city,
        "",
        form(&[
            ("dryRun", None, b"false"),
            ("file", Some("焦作2024.csv"), &file),
        ]),
        None,
    )
    .await;
    assert_eq!(status, 200, "{applied}");
    assert_eq!(applied["applied"], true);
    assert_eq!(changes(&applied), changes(&dry));

    // The draft holds it, under the name the form gave the file.
    let read = app
        .query_as(
            Some(&city),
            r#"{ cityReturn(cityCode: "410800", period: 2024) { status coverage { branchCount draft } }
                 revisions(cityCode: "410800", first: 3) { nodes { kind note } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        read["data"]["cityReturn"],
        json!({ "status": "DRAFT", "coverage": [{ "branchCount": 640, "draft": true }] })
    );
    let revisions = &read["data"]["revisions"]["nodes"];
    let note = revisions
        .as_array()
        .and_then(|all| all.iter().find(|r| r["kind"] == "COVERAGE")?["note"].as_str());
    assert!(
        note.is_some_and(|n| n.starts_with("import: 焦作2024.csv (sha256 ")),
        "{revisions}"
    );

    // The same form again is no change; the query string's dryRun wins over the form's.
    let again = form(&[
        ("dryRun", None, b"false"),
        ("file", Some("a.csv"), &jiaozuo_csv(650, Some(1))),
    ]);
    let (status, dry_again) = send_form(&app, &city, "?dryRun=true", again, None).await;
    assert_eq!(status, 200, "{dry_again}");
    assert_eq!(dry_again["applied"], false);
    assert_eq!(
        changes(&dry_again),
        vec![json!(["410800", "ENTERPRISE", 2024, 640, 650])]
    );
}

#[tokio::test]
async fn a_form_that_is_not_one_file_is_refused_in_both_languages_and_changes_nothing() {
    let app = TestApp::spawn().await;
    app.open_rounds(&[2024]).await;
    let city = token(&app, "焦作市科协", Role::CityStaff, Some("410800")).await;
    let file = jiaozuo_csv(640, None);
    let before = stored(&app).await;
    let cases: Vec<(&str, Vec<u8>, Option<&str>)> = vec![
        ("no file part", form(&[("dryRun", None, b"false")]), None),
        (
            "two files",
            form(&[
                ("file", Some("a.csv"), &file),
                ("file", Some("b.csv"), &file),
            ]),
            None,
        ),
        (
            "a part of another name",
            form(&[("file", Some("a.csv"), &file), ("comment", None, b"hi")]),
            None,
        ),
        (
            "a dryRun that is not true or false",
            form(&[("dryRun", None, b"no"), ("file", Some("a.csv"), &file)]),
            None,
        ),
        (
            "a form without its boundary",
            form(&[("file", Some("a.csv"), &file)]),
            Some("multipart/form-data"),
        ),
        (
            "a form cut short",
            form(&[("file", Some("a.csv"), &file)])[..80].to_vec(),
            None,
        ),
    ];
    for (what, body, content_type) in cases {
        let (status, report) = send_form(&app, &city, "?dryRun=false", body, content_type).await;
        assert_eq!(status, 400, "{what}: {report}");
        assert_eq!(report["applied"], false, "{what}");
        assert_eq!(
            report["errors"].as_array().map(Vec::len),
            Some(1),
            "{what}: {report}"
        );
        assert_eq!(report["errors"][0]["code"], "UNREADABLE_FILE", "{what}");
        for language in ["message_zh", "message_en"] {
            assert!(
                report["errors"][0][language]
                    .as_str()
                    .is_some_and(|m| !m.is_empty()),
                "{what}: {report}"
            );
        }
    }
    assert_eq!(stored(&app).await, before, "nothing changed");
}

/// The bound counts every byte of the form, declared or streamed; a stranger's form is refused
/// from its headers.
#[tokio::test]
async fn a_form_meets_the_import_s_bound_and_its_token_before_any_work() {
    let app = TestApp::spawn_with(ServeArgs {
        import_max_bytes: 10_000,
        ..ServeArgs::default()
    })
    .await;
    app.open_rounds(&[2024]).await;
    let city = token(&app, "焦作市科协", Role::CityStaff, Some("410800")).await;
    let before = stored(&app).await;
    // The file alone is under the bound; with the form around it, over.
    let mut file = jiaozuo_csv(640, None);
    file.resize(9_950, b'\n');
    let (status, report) = send_form(
        &app,
        &city,
        "",
        form(&[("file", Some("a.csv"), &file)]),
        None,
    )
    .await;
    assert_eq!(status, 413, "{report}");
    assert_eq!(report["errors"][0]["code"], "TOO_LARGE");

    let response = app
        .client
        .post(app.url("/import/coverage?dryRun=false"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(form(&[("file", Some("a.csv"), &jiaozuo_csv(640, None))]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let report: Value = response.json().await.unwrap();
    assert_eq!(report["errors"][0]["code"], "UNAUTHENTICATED");
    // The Chinese words are Chinese.
    assert_eq!(
        report["errors"][0]["message_zh"],
        "请先登录：令牌或登录状态缺失、无效、已过期或已撤销"
    );
    assert_eq!(stored(&app).await, before, "nothing changed");
}

/// GET the template as `token` (none: anonymous); the status, headers and body.
async fn template(
    app: &TestApp,
    token: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let mut request = app
        .client
        .get(app.url("/export/template.xlsx?city=410800&period=2024"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.bytes().await.unwrap().to_vec())
}

/// The enterprise row's branch count and version in a template.
fn enterprise(body: &[u8]) -> (Data, Data) {
    let rows = sheet(body, 0);
    let row = rows
        .iter()
        .find(|r| text(&r[0]) == "410800" && text(&r[2]) == "企业科协")
        .cloned()
        .unwrap_or_default();
    (row[4].clone(), row[11].clone())
}

#[tokio::test]
async fn the_city_s_template_holds_its_draft_for_its_own_staff_and_goes_back_without_a_conflict() {
    let app = TestApp::spawn().await;
    app.open_rounds(&[2024]).await;
    let admin = app.admin_token().await;
    let city = token(&app, "焦作市科协", Role::CityStaff, Some("410800")).await;
    let other = token(&app, "安阳市科协", Role::CityStaff, Some("410500")).await;
    let saved = save_city(&app, &city, "410800", 700, None).await;
    assert_eq!(saved["userErrors"], json!([]), "{saved}");

    // Anonymous: the published figures (none for 2024), kept ready and shared.
    let (status, headers, public) = template(&app, None).await;
    assert_eq!(status, 200);
    assert_eq!(enterprise(&public), (Data::Empty, Data::Empty));
    assert_eq!(headers["cache-control"], "no-cache");
    assert_eq!(headers["vary"], "authorization");

    // The city's staff and the province: the draft and its version, kept by no shared cache.
    for who in [&city, &admin] {
        let (status, headers, draft) = template(&app, Some(who)).await;
        assert_eq!(status, 200);
        assert_eq!(enterprise(&draft), (Data::Float(700.0), Data::Float(1.0)));
        assert_eq!(headers["cache-control"], "private, no-cache");
        assert_eq!(
            headers["content-disposition"],
            "attachment; filename=\"return-410800-2024-draft.xlsx\""
        );
    }
    // Another city's staff and a wrong token are refused, in the report's format.
    let (status, _, body) = template(&app, Some(&other)).await;
    assert_eq!(status, 403);
    let report: Value = serde_json::from_slice(&body).unwrap_or_default();
    assert_eq!(report["errors"][0]["code"], "FORBIDDEN");
    let (status, _, _) = template(&app, Some("cov_nonsense")).await;
    assert_eq!(status, 401);

    // Filled in and sent back as a form: it meets the draft's version, no conflict.
    let (_, _, draft) = template(&app, Some(&city)).await;
    let mut rows = sheet(&draft, 0);
    let row = rows
        .iter()
        .position(|r| text(&r[0]) == "410800" && text(&r[2]) == "企业科协")
        .unwrap_or_default();
    rows[row][4] = Data::Float(720.0);
    let filled = workbook(&rows);
    let (status, report) = send_form(
        &app,
        &city,
        "",
        form(&[
            ("dryRun", None, b"false"),
            ("file", Some("return.xlsx"), &filled),
        ]),
        None,
    )
    .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["applied"], true);
    assert_eq!(
        changes(&report),
        vec![json!(["410800", "ENTERPRISE", 2024, 700, 720])]
    );
    let (_, _, public_after) = template(&app, None).await;
    assert_eq!(
        enterprise(&public_after),
        (Data::Empty, Data::Empty),
        "still a draft"
    );
}
