//! Spreadsheets in and out: the exports, the template, imports as offices send them (dry run
//! and apply), a corpus of broken files, the bounds, and who may import what.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use coverage_api::config::ServeArgs;
use coverage_api::service::tokens;
use entity::Role;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::hostile_sheets::corpus::zip_of;
use crate::ws_client::{Protocol, WsClient};

pub(crate) async fn token(app: &TestApp, name: &str, role: Role, city: Option<&str>) -> String {
    tokens::create(&app.db.conn, name, role, city)
        .await
        .unwrap()
        .secret
}

pub(crate) async fn download(app: &TestApp, path: &str) -> (reqwest::header::HeaderMap, Vec<u8>) {
    let response = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    let headers = response.headers().clone();
    (headers, response.bytes().await.unwrap().to_vec())
}

/// POSTs `bytes` to /import/coverage; the status and the JSON report.
pub(crate) async fn import(
    app: &TestApp,
    token: Option<&str>,
    bytes: Vec<u8>,
    dry_run: bool,
    name: &str,
) -> (u16, Value) {
    let mut request = app
        .client
        .post(app.url(&format!(
            "/import/coverage?dryRun={dry_run}&filename={name}"
        )))
        .body(bytes);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// Every stored record and revision, to show that a refused import changed nothing.
pub(crate) async fn stored(app: &TestApp) -> String {
    crate::writes::snapshot(app).await
}

pub(crate) fn sheet(bytes: &[u8], index: usize) -> Vec<Vec<Data>> {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec())).unwrap();
    let range = book.worksheet_range_at(index).unwrap().unwrap();
    range.rows().map(<[Data]>::to_vec).collect()
}

/// The rows as a workbook written by a real XLSX writer, numbers as numbers.
pub(crate) fn workbook(rows: &[Vec<Data>]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32, c as u16);
            match cell {
                Data::Float(f) => {
                    sheet.write_number(r, c, *f).unwrap();
                }
                Data::Int(i) => {
                    sheet.write_number(r, c, *i as f64).unwrap();
                }
                Data::String(s) => {
                    sheet.write_string(r, c, s).unwrap();
                }
                Data::Empty => {}
                other => {
                    sheet.write_string(r, c, other.to_string()).unwrap();
                }
            }
        }
    }
    book.save_to_buffer().unwrap()
}

pub(crate) fn text(cell: &Data) -> String {
    match cell {
        Data::String(s) => s.clone(),
        Data::Float(f) => f.to_string(),
        Data::Empty => String::new(),
        other => other.to_string(),
    }
}

#[tokio::test]
async fn the_csv_export_has_every_city_type_and_year_with_unknown_cells_empty() {
    let app = TestApp::spawn().await;
    let (headers, body) = download(&app, "/export/coverage.csv?period=2023").await;
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"coverage-2023.csv\""
    );
    assert!(
        body.starts_with(b"\xEF\xBB\xBF"),
        "a byte-order mark for Excel"
    );
    let text = String::from_utf8(body[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(
        lines[0],
        "城市代码,城市,组织类型,年度,组织数,应建单位数,新建数,覆盖率,报告所述覆盖率,口径,来源,版本,更新时间,更新人"
    );
    assert_eq!(lines.len(), 1 + 18 * 3, "18 cities × 3 types");
    // Puyang's stated rate, with its scope; Jiaozuo's new branches; unknown counts empty.
    let puyang = lines
        .iter()
        .find(|l| l.starts_with("410900,濮阳,企业科协,2023"))
        .unwrap();
    assert!(
        puyang.starts_with(
            "410900,濮阳,企业科协,2023,,,,95%,95%,high-tech enterprises (高新技术企业),"
        ),
        "{puyang}"
    );
    let jiaozuo = lines
        .iter()
        .find(|l| l.starts_with("410800,焦作,企业科协,2023"))
        .unwrap();
    assert!(
        jiaozuo.starts_with("410800,焦作,企业科协,2023,,,193,,,,"),
        "{jiaozuo}"
    );
    let none = lines
        .iter()
        .find(|l| l.starts_with("410800,焦作,高校科协,2023"))
        .unwrap();
    assert_eq!(
        *none, "410800,焦作,高校科协,2023,,,,,,,,,,",
        "no record: every figure empty"
    );

    let (_, english) = download(&app, "/export/coverage.csv?period=2023&lang=en").await;
    let english = String::from_utf8(english[3..].to_vec()).unwrap();
    assert!(english.starts_with(
        "City code,City,Branch type,Year,Branch count,Eligible count,New branches,Coverage rate,\
         Rate stated,Rate scope,Source,Version,Updated at,Updated by\r\n"
    ));
    assert!(english.contains("410900,Puyang,enterprise branches,2023,"));
}

#[tokio::test]
async fn the_xlsx_export_holds_numbers_a_frozen_header_and_the_province_summary() {
    let app = TestApp::spawn().await;
    let (headers, body) = download(&app, "/export/coverage.xlsx?lang=en").await;
    assert_eq!(
        headers["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"coverage-all.xlsx\""
    );
    let book: Xlsx<_> = Xlsx::new(Cursor::new(body.clone())).unwrap();
    assert_eq!(book.sheet_names(), ["Coverage", "Province summary"]);
    let rows = sheet(&body, 0);
    assert_eq!(rows.len(), 1 + 18 * 3);
    let puyang = rows
        .iter()
        .find(|r| text(&r[0]) == "410900" && text(&r[2]) == "enterprise branches")
        .unwrap();
    assert_eq!(puyang[3], Data::Float(2023.0), "the year is a number");
    assert_eq!(puyang[4], Data::Empty, "an unknown count is empty, never 0");
    assert_eq!(
        puyang[8],
        Data::Float(0.95),
        "a rate is a number (shown as a percentage)"
    );
    assert_eq!(puyang[11], Data::Float(1.0), "the version");
    let summary = sheet(&body, 1);
    assert_eq!(text(&summary[0][6]), "Province-reported total");
    assert_eq!(text(&summary[1][1]), "enterprise branches");
    assert_eq!(summary[1][6], Data::Float(927.0));
    assert_eq!(
        summary[2][6],
        Data::Empty,
        "no university total stated: empty"
    );
}

/// The text of the part `name` of a workbook.
fn part(body: &[u8], name: &str) -> String {
    let mut zip = zip::ZipArchive::new(Cursor::new(body)).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut zip.by_name(name).unwrap(), &mut text).unwrap();
    text
}

#[tokio::test]
async fn the_xlsx_prints_on_a4_one_page_wide_with_its_header_on_every_page_and_a_title() {
    let app = TestApp::spawn().await;
    let (_, body) = download(&app, "/export/coverage.xlsx?period=2023").await;
    for sheet in ["xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml"] {
        let xml = part(&body, sheet);
        assert!(
            xml.contains(r#"<pageSetup paperSize="9" fitToHeight="0" orientation="landscape""#),
            "A4 landscape, one page wide: {sheet}"
        );
        assert!(xml.contains(r#"<pageSetUpPr fitToPage="1"/>"#), "{sheet}");
        assert!(
            xml.contains("<oddFooter>&amp;C第 &amp;P 页 / 共 &amp;N 页</oddFooter>"),
            "page numbers: {sheet}"
        );
    }
    let book = part(&body, "xl/workbook.xml");
    assert!(
        book.contains(r#"<definedName name="_xlnm.Print_Titles" localSheetId="0">覆盖情况!$1:$1</definedName>"#)
            && book.contains(r#"<definedName name="_xlnm.Print_Titles" localSheetId="1">全省汇总!$1:$1</definedName>"#),
        "the header row repeated on every page"
    );
    assert!(
        part(&body, "docProps/core.xml")
            .contains("<dc:title>河南省基层科协组织覆盖情况 2023</dc:title>"),
        "the document's title"
    );
    // Times are China Standard Time, with the offset said.
    let rows = sheet(&body, 0);
    let updated = rows
        .iter()
        .skip(1)
        .map(|r| text(&r[12]))
        .find(|t| !t.is_empty())
        .unwrap_or_default();
    assert!(
        updated.ends_with(" +08:00") && updated.len() == 26,
        "{updated}"
    );
}

#[tokio::test]
async fn an_export_imported_back_changes_nothing_in_either_format() {
    let app = TestApp::spawn().await;
    let admin = token(&app, "Province admin", Role::Admin, None).await;
    let before = stored(&app).await;
    for path in ["/export/coverage.xlsx", "/export/coverage.csv?lang=en"] {
        let (_, file) = download(&app, path).await;
        for dry_run in [true, false] {
            let (status, report) = import(&app, Some(&admin), file.clone(), dry_run, "back").await;
            assert_eq!(status, 200, "{path}: {report}");
            assert_eq!(
                report,
                json!({ "applied": false, "changes": [], "errors": [], "warnings": [] }),
                "{path}"
            );
        }
    }
    assert_eq!(stored(&app).await, before);
}

#[tokio::test]
async fn editing_one_cell_of_the_workbook_changes_exactly_that_figure_with_its_revision_and_event()
{
    let app = TestApp::spawn().await;
    // An administrator's figures outside any round, public as written (a city's edits are
    // drafts, announced when published: see publication.rs).
    let jiaozuo = app.admin_token().await;
    app.insert_coverage(
        "410800",
        entity::BranchType::Enterprise,
        2024,
        None,
        None,
        Some(193),
        None,
    )
    .await;
    let mut ws = WsClient::connect(&app.addr.to_string(), Protocol::TransportWs, json!({})).await;
    ws.subscribe(
        "1",
        "subscription { coverageChanged { coverage { branchCount version } revision { recordKey } } }",
        json!({}),
    )
    .await;
    app.until_subscribers(1).await;
    let (_, body) = download(&app, "/export/coverage.xlsx?period=2024").await;
    let mut rows = sheet(&body, 0);
    let row = rows
        .iter()
        .position(|r| text(&r[0]) == "410800" && text(&r[2]) == "企业科协")
        .unwrap();
    rows[row][4] = Data::Float(250.0);
    let edited = workbook(&rows);

    let (status, dry) = import(&app, Some(&jiaozuo), edited.clone(), true, "jiaozuo.xlsx").await;
    assert_eq!(status, 200, "{dry}");
    assert_eq!(dry["applied"], false);
    assert_eq!(dry["changes"].as_array().unwrap().len(), 1, "{dry}");
    assert!(
        ws.silent_for(std::time::Duration::from_millis(300)).await,
        "a dry run announces nothing"
    );

    let (status, applied) =
        import(&app, Some(&jiaozuo), edited.clone(), false, "jiaozuo.xlsx").await;
    assert_eq!(status, 200, "{applied}");
    let change = &applied["changes"][0];
    assert_eq!(applied["applied"], true);
    assert_eq!(applied["changes"].as_array().unwrap().len(), 1);
    assert_eq!(change["row"], row + 1);
    assert_eq!(change["cityCode"], "410800");
    assert_eq!(change["branchType"], "ENTERPRISE");
    assert_eq!(change["period"], 2024);
    assert_eq!(change["before"]["branchCount"], Value::Null);
    assert_eq!(change["before"]["version"], 1);
    assert_eq!(change["after"]["branchCount"], 250);
    assert_eq!(change["after"]["newBranches"], 193);
    assert_eq!(change["after"]["version"], 2);
    assert_eq!(
        change["after"]["source"], change["before"]["source"],
        "the source stays"
    );
    assert_eq!(
        applied["warnings"],
        json!([]),
        "the other rows are as stored"
    );
    let heard = ws.payload("1").await;
    assert_eq!(
        heard,
        json!({ "data": { "coverageChanged": { "coverage": { "branchCount": 250, "version": 2 },
                "revision": { "recordKey": "410800/ENTERPRISE/2024" } } } })
    );
    let revision = app
        .query_as(
            Some(&jiaozuo),
            r#"{ revisions(cityCode: "410800", first: 1) { nodes { note actor { name } } } }"#,
            json!({}),
        )
        .await;
    let note = revision["data"]["revisions"]["nodes"][0]["note"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(note.starts_with("import: jiaozuo.xlsx (sha256 "), "{note}");
    assert_eq!(note.len(), "import: jiaozuo.xlsx (sha256 )".len() + 64);

    // The same file again: the row's version is no longer current, but it is what is stored.
    let (status, again) = import(&app, Some(&jiaozuo), edited, false, "jiaozuo.xlsx").await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["changes"], json!([]));
}

/// A file as a city office makes it: a title row, Chinese headers in its own order, a total
/// row, city names, "—" for unknown, thousands separators and full-width digits.
const OFFICE_RETURN: &str = "焦作市2024年基层科协组织建设情况统计表,,,,,,\n\
城市,年度,组织类型,组织数,应建单位数,来源,备注\n\
焦作市,2024,企业科协,\"1,250\",１６００,焦作市科协2024年报,\n\
焦作,2024,高校科协,—,—,焦作市科协2024年报,\n\
焦作市,2024,乡镇（街道）科协,98,100,焦作市科协2024年报,\n\
合计,,,,,,\n";

#[tokio::test]
async fn a_gbk_csv_as_offices_make_it_is_read_as_meant() {
    let app = TestApp::spawn().await;
    let jiaozuo = token(&app, "Jiaozuo office", Role::CityStaff, Some("410800")).await;
    app.open_rounds(&[2024]).await;
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(OFFICE_RETURN);
    assert!(!unmappable);
    let (status, report) = import(&app, Some(&jiaozuo), gbk.to_vec(), true, "return.csv").await;
    assert_eq!(status, 200, "{report}");
    let changes: Vec<Value> = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            json!([
                c["row"],
                c["branchType"],
                c["after"]["branchCount"],
                c["after"]["eligibleCount"]
            ])
        })
        .collect();
    // The university row holds only unknowns where nothing is stored: no change.
    assert_eq!(
        changes,
        vec![
            json!([3, "ENTERPRISE", 1250, 1600]),
            json!([5, "TOWNSHIP", 98, 100])
        ]
    );
    let codes: Vec<(&Value, &str)> = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (&w["column"], w["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        codes,
        vec![
            (&json!("备注"), "IGNORED_COLUMN"),
            (&Value::Null, "TOTAL_ROW")
        ]
    );

    // The same table as Excel's "Unicode text": UTF-16 with a byte-order mark, tab-separated.
    let tsv = OFFICE_RETURN
        .replace(",\"1,250\",", "\t1250\t")
        .replace(',', "\t");
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(tsv.encode_utf16().flat_map(u16::to_le_bytes));
    let (status, again) = import(&app, Some(&jiaozuo), utf16, false, "return.txt").await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["applied"], true);
    assert_eq!(again["changes"].as_array().unwrap().len(), 2);
    // The city's draft, as its staff read it.
    let read = app
        .query_as(Some(&jiaozuo), r#"{ cityReturn(cityCode: "410800", period: 2024) { coverage { branchType branchCount eligibleCount source version } } }"#, json!({}))
        .await;
    assert_eq!(
        read["data"]["cityReturn"]["coverage"],
        json!([
            { "branchType": "ENTERPRISE", "branchCount": 1250, "eligibleCount": 1600, "source": "焦作市科协2024年报", "version": 1 },
            { "branchType": "TOWNSHIP", "branchCount": 98, "eligibleCount": 100, "source": "焦作市科协2024年报", "version": 1 }
        ])
    );
}

#[tokio::test]
async fn bad_rows_are_errors_on_their_cells_and_the_file_changes_nothing() {
    let app = TestApp::spawn().await;
    let admin = token(&app, "Province admin", Role::Admin, None).await;
    let file = "城市代码,组织类型,年度,组织数,应建单位数,来源,版本\n\
                410800,企业科协,2024,5,4,s,\n\
                999999,企业科协,2024,1,2,s,\n\
                410100,高校科协,2024,3,,,\n\
                410100,高校科协,2024,3,4,s,\n\
                410100,企业科协,2024,-1,4,s,\n\
                410900,企业科协,2023,1,2,s,7\n";
    let before = stored(&app).await;
    let (status, report) = import(
        &app,
        Some(&admin),
        file.as_bytes().to_vec(),
        false,
        "bad.csv",
    )
    .await;
    assert_eq!(status, 422, "{report}");
    assert_eq!(report["applied"], false);
    assert_eq!(report["changes"], json!([]));
    let errors: Vec<Value> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| json!([e["row"], e["column"], e["code"]]))
        .collect();
    assert_eq!(
        errors,
        vec![
            json!([2, "组织数", "BAD_USER_INPUT"]),
            json!([3, "城市代码", "BAD_USER_INPUT"]),
            json!([4, "来源", "BAD_USER_INPUT"]),
            json!([5, "城市代码", "BAD_USER_INPUT"]),
            json!([6, "组织数", "BAD_USER_INPUT"]),
            json!([7, "版本", "VERSION_CONFLICT"]),
        ],
        "{report}"
    );
    for e in report["errors"].as_array().unwrap() {
        assert!(!e["message_zh"].as_str().unwrap().is_empty());
        assert!(!e["message_en"].as_str().unwrap().is_empty());
    }
    // The write rules alone (every problem in one answer, on its cell), in a dry run.
    let file = "城市代码,组织类型,年度,组织数,应建单位数,来源,版本\n\
                410800,企业科协,2024,5,4,s,\n\
                410100,高校科协,2024,3,,,\n\
                410900,企业科协,2023,1,2,s,7\n";
    let (status, report) = import(
        &app,
        Some(&admin),
        file.as_bytes().to_vec(),
        true,
        "bad.csv",
    )
    .await;
    assert_eq!(status, 422, "{report}");
    let errors: Vec<Value> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| json!([e["row"], e["column"], e["code"]]))
        .collect();
    assert_eq!(
        errors,
        vec![
            json!([2, "组织数", "BAD_USER_INPUT"]),
            json!([3, "来源", "BAD_USER_INPUT"]),
            json!([4, "版本", "VERSION_CONFLICT"]),
        ],
        "{report}"
    );
    assert_eq!(stored(&app).await, before, "nothing changed");
}

#[tokio::test]
async fn broken_files_get_a_clear_error_change_nothing_and_leave_the_server_fine() {
    let app = TestApp::spawn_with(ServeArgs {
        import_max_bytes: 200_000,
        import_max_rows: 10,
        import_max_cell_chars: 100,
        import_max_uncompressed_bytes: 1_000_000,
        import_max_entries: 20,
        ..ServeArgs::default()
    })
    .await;
    let admin = token(&app, "Province admin", Role::Admin, None).await;
    let (_, export) = download(&app, "/export/template.xlsx?city=410800&period=2024").await;
    let header = "城市代码,组织类型,年度,组织数\n";
    let rows = |n: usize| {
        let mut file = header.to_owned();
        for i in 0..n {
            file.push_str(&format!("410800,企业科协,{},{}\n", 2000 + i, i));
        }
        file.into_bytes()
    };
    let random: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let mut encrypted = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    encrypted.extend([0u8; 504]);
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("random bytes", random, 400, "UNREADABLE_FILE"),
        ("an empty file", Vec::new(), 400, "UNREADABLE_FILE"),
        (
            "a truncated workbook",
            export[..export.len() / 2].to_vec(),
            400,
            "UNREADABLE_FILE",
        ),
        (
            "a password-protected workbook",
            encrypted,
            400,
            "UNREADABLE_FILE",
        ),
        (
            "Latin-1 text",
            b"Stadt,Typ,Jahr\n\xe9\xff\xfe,\xff\xff,\x80\n".to_vec(),
            400,
            "UNREADABLE_FILE",
        ),
        (
            "no header row",
            "a,b,c\n1,2,3\n".as_bytes().to_vec(),
            400,
            "UNREADABLE_FILE",
        ),
        (
            "a zip bomb",
            zip_of(&[("xl/worksheets/sheet1.xml", vec![b'0'; 1_000_001])]),
            413,
            "TOO_LARGE",
        ),
        (
            "too many entries",
            zip_of(
                &(0..21)
                    .map(|i| (["e", &i.to_string()].concat().leak() as &str, vec![1u8]))
                    .collect::<Vec<_>>(),
            ),
            413,
            "TOO_LARGE",
        ),
        ("rows over the bound", rows(11), 413, "TOO_LARGE"),
        (
            "a cell over the bound",
            format!("{header}410800,企业科协,2024,{}\n", "9".repeat(101)).into_bytes(),
            413,
            "TOO_LARGE",
        ),
    ];
    let before = stored(&app).await;
    for (what, bytes, status, code) in cases {
        let (got, report) = import(&app, Some(&admin), bytes, false, "broken").await;
        assert_eq!(
            (got, report["errors"][0]["code"].as_str()),
            (status, Some(code)),
            "{what}: {report}"
        );
        assert_eq!(report["applied"], false, "{what}");
        assert!(
            !report["errors"][0]["message_en"]
                .as_str()
                .unwrap()
                .is_empty(),
            "{what}"
        );
        assert!(
            !report["errors"][0]["message_zh"]
                .as_str()
                .unwrap()
                .is_empty(),
            "{what}"
        );
        let alive = app.query("{ periods }").await;
        assert_eq!(alive, json!({ "data": { "periods": [2023] } }), "{what}");
    }
    // Just under the bounds: read.
    let (status, report) = import(&app, Some(&admin), rows(10), true, "ok").await;
    assert_eq!(
        status, 422,
        "read, and refused for its missing sources only: {report}"
    );
    assert!(
        report["errors"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["column"] == json!(null) || e["code"] == "BAD_USER_INPUT")
    );
    // A body over the byte bound: 413 from the body limit.
    let (status, _) = import(&app, Some(&admin), vec![b' '; 200_001], false, "big").await;
    assert_eq!(status, 413);
    assert_eq!(stored(&app).await, before);
}

#[tokio::test]
async fn city_staff_may_send_back_the_whole_export_but_change_only_their_own_city() {
    let app = TestApp::spawn().await;
    let jiaozuo = token(&app, "Jiaozuo office", Role::CityStaff, Some("410800")).await;
    // The province reopens the 2023 round and Jiaozuo's return, for a correction.
    let admin = app.admin_token().await;
    for (mutation, input, value) in [
        (
            "reopenRound",
            "ReopenRoundInput",
            json!({ "period": 2023, "reason": "更正" }),
        ),
        (
            "reopenReturn",
            "ReopenReturnInput",
            json!({ "cityCode": "410800", "period": 2023, "reason": "更正" }),
        ),
    ] {
        let reopened = app
            .query_as(
                Some(&admin),
                &format!("mutation($input: {input}!) {{ {mutation}(input: $input) {{ userErrors {{ code }} }} }}"),
                json!({ "input": value }),
            )
            .await;
        assert_eq!(
            reopened["data"][mutation]["userErrors"],
            json!([]),
            "{reopened}"
        );
    }
    let (_, body) = download(&app, "/export/coverage.xlsx?period=2023").await;
    let mut rows = sheet(&body, 0);
    let find = |rows: &[Vec<Data>], code: &str| {
        rows.iter()
            .position(|r| text(&r[0]) == code && text(&r[2]) == "企业科协")
            .unwrap()
    };
    let own = find(&rows, "410800");
    rows[own][6] = Data::Float(200.0);
    let (status, report) = import(&app, Some(&jiaozuo), workbook(&rows), false, "all.xlsx").await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["changes"].as_array().unwrap().len(), 1);
    let warned: Vec<&str> = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap())
        .collect();
    assert_eq!(warned.len(), 17, "one warning per other city: {report}");
    assert!(warned.iter().all(|c| *c == "OTHER_CITY"));

    // A change to another city's row refuses the whole file.
    let before = stored(&app).await;
    let (_, body) = download(&app, "/export/coverage.xlsx?period=2023").await;
    let mut rows = sheet(&body, 0);
    let own = find(&rows, "410800");
    rows[own][6] = Data::Float(201.0);
    let other = find(&rows, "410900");
    rows[other][4] = Data::Float(5.0);
    let (status, report) = import(&app, Some(&jiaozuo), workbook(&rows), false, "all.xlsx").await;
    assert_eq!(status, 403, "{report}");
    assert_eq!(report["errors"][0]["code"], "FORBIDDEN");
    assert_eq!(report["errors"][0]["row"], other + 1);
    assert_eq!(report["changes"], json!([]));
    assert_eq!(stored(&app).await, before);

    // Anonymous and bad tokens cannot import at all.
    let (status, report) = import(&app, None, workbook(&rows), true, "x").await;
    assert_eq!(
        (status, report["errors"][0]["code"].as_str()),
        (401, Some("UNAUTHENTICATED"))
    );
    let (status, _) = import(&app, Some("cov_nonsense"), workbook(&rows), true, "x").await;
    assert_eq!(status, 401);
    assert_eq!(stored(&app).await, before);
}

#[tokio::test]
async fn a_template_is_a_citys_return_prefilled_with_its_figures_and_versions() {
    let app = TestApp::spawn().await;
    let (headers, body) = download(&app, "/export/template.xlsx?city=410900&period=2023").await;
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"return-410900-2023.xlsx\""
    );
    let book: Xlsx<_> = Xlsx::new(Cursor::new(body.clone())).unwrap();
    assert_eq!(book.sheet_names(), ["覆盖情况"]);
    let rows = sheet(&body, 0);
    assert_eq!(rows.len(), 4);
    assert_eq!(text(&rows[1][0]), "410900");
    assert_eq!(rows[1][8], Data::Float(0.95));
    assert_eq!(rows[1][11], Data::Float(1.0));
    assert_eq!(rows[2][11], Data::Empty, "no record: no version");
    let response = app
        .client
        .get(app.url("/export/template.xlsx?city=999999&period=2023"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}
