//! Backups, restores and copies through the real binary (`coverage-api backup`, `restore`,
//! `copy` and the server's own `--backup-every`), on the run's database and across kinds, and
//! the server's JSON log lines.

use std::path::{Path, PathBuf};
use std::process::Output;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::helpers::{FreshDatabase, binary_token, json_of, spawn_binary, spawn_binary_with};

/// The binary with `args`, its log kept to warnings.
fn run(args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_coverage-api"))
        .env_remove("DATABASE_URL")
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .env("RUST_LOG", "warn")
        .args(args)
        .output()
        .expect("run the binary")
}

fn ok(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the command prints JSON")
}

/// A file in a directory of its own, removed with it.
struct Scratch(PathBuf);

impl Scratch {
    fn new(label: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "coverage-api-backup-{}-{label}",
            std::process::id()
        ));
        std::fs::remove_dir_all(&dir).ok();
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        Self(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

fn text(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

/// Every read the API offers, as an administrator sees it: the answers must be the same on a
/// database and on its restored or copied twin.
const READS: [&str; 8] = [
    "{ cities(first: 100) { totalCount nodes { id code name nameEn kind
        coverage { id draft branchType period branchCount eligibleCount newBranches coverageRate
          rateIsStated statedRate rateScope source version updatedAt updatedBy }
        history { branchType period branchCount coverageRate }
        pilotDesignations { id sinceYear source version program { code } } } } }",
    "{ pilotPrograms { id code name nameEn level statedSize source version cities { code } } }",
    "{ periods summary(period: 2024) { period } s23: summary(period: 2023) { period paragraph { zh en }
        byType { branchType citiesReporting citiesWithData branchCountSum eligibleCountSum coverageRate
          newBranchesSum provinceReportedTotal fullCoverageCities { code }
          provinceReport { id total note source version } } } }",
    "{ accounts { login displayName role cityCode mustChangePassword createdAt disabledAt } }",
    "{ apiTokens { id name role cityCode createdAt expiresAt revokedAt } }",
    "{ revisions(first: 100) { totalCount nodes { id number kind recordKey cityCode branchType period
        at note requestId before after actor { tokenId name role cityCode } } } }",
    "{ rounds { id period status dueAt openedAt closedAt version expectedCities receivedCities
        lateCities publishedCities returns { id period status submittedAt late comment version
          updatedAt published publishedAt } } }",
    "{ publications { number period publishedAt cities publishedBy } issuer { name nameEn } }",
];

async fn answers(addr: &str, token: &str) -> Vec<Value> {
    let client = reqwest::Client::new();
    let mut all = Vec::new();
    for query in READS {
        let answer = json_of(
            client
                .post(format!("http://{addr}/graphql"))
                .bearer_auth(token)
                .json(&json!({ "query": query })),
        )
        .await;
        assert!(answer.get("errors").is_none(), "{query}: {answer}");
        all.push(answer);
    }
    all
}

async fn write(addr: &str, token: &str, query: &str, variables: Value) -> Value {
    let answer = json_of(
        reqwest::Client::new()
            .post(format!("http://{addr}/graphql"))
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": variables })),
    )
    .await;
    assert!(answer.get("errors").is_none(), "{answer}");
    answer
}

const UPDATE: &str = "mutation($input: UpdateCoverageInput!) {
    updateCoverage(input: $input) { coverage { version } revision { number } userErrors { code } } }";

fn update(city: &str, period: i32, branches: i32, version: i32) -> Value {
    json!({ "input": { "cityCode": city, "branchType": "ENTERPRISE", "period": period,
        "branchCount": branches, "eligibleCount": 1000, "expectedVersion": version,
        "source": format!("{city} {period} 年报") } })
}

/// A database with more than the report in it: figures of a second year, a province total, a
/// person's account and a program's token, each with its revision.
async fn lived_in(url: &str) -> String {
    let admin = binary_token(url, &["--role", "admin", "--name", "省科协"]);
    let (mut server, addr) = spawn_binary(url);
    for (city, branches) in [("410800", 240), ("410900", 310), ("411200", 75)] {
        write(&addr, &admin, UPDATE, update(city, 2024, branches, 0)).await;
    }
    write(
        &addr,
        &admin,
        "mutation($input: SetProvinceReportedTotalInput!) { setProvinceReportedTotal(input: $input) { userErrors { code } } }",
        json!({ "input": { "branchType": "ENTERPRISE", "period": 2024, "total": 1100,
            "note": "a total of the province's own", "source": "省科协 2024 年报", "expectedVersion": 0 } }),
    )
    .await;
    write(
        &addr,
        &admin,
        "mutation { createAccount(input: { login: \"zhang.san\", displayName: \"张三\", role: CITY_STAFF, cityCode: \"410800\" }) { userErrors { code } } }",
        json!({}),
    )
    .await;
    write(
        &addr,
        &admin,
        "mutation { createApiToken(input: { name: \"dashboard build\", role: CITY_STAFF, cityCode: \"410900\" }) { userErrors { code } } }",
        json!({}),
    )
    .await;
    // A year's return published: on PostgreSQL this leaves sums of zeros for the types the
    // city has no figures of, which a restore does not make again (and need not).
    write(
        &addr,
        &admin,
        "mutation { openRound(input: { period: 2025 }) { userErrors { code } } }",
        json!({}),
    )
    .await;
    write(&addr, &admin, UPDATE, update("410800", 2025, 260, 0)).await;
    for step in ["submitReturn", "approveReturn", "publishReturn"] {
        let input = if step == "publishReturn" {
            "PublishReturnInput"
        } else {
            "ReturnKeyInput"
        };
        let query = format!(
            "mutation($input: {input}!) {{ {step}(input: $input) {{ userErrors {{ code }} }} }}"
        );
        let input = json!({ "input": { "cityCode": "410800", "period": 2025 } });
        let done = write(&addr, &admin, &query, input).await;
        assert_eq!(
            done["data"][step]["userErrors"],
            json!([]),
            "{step}: {done}"
        );
    }
    server.kill().ok();
    server.wait().ok();
    admin
}

/// A backup restored into an empty database of the run's kind, and a copy to the other kind
/// and back, answer every read as the source does, and take new writes after the restored
/// ones (PostgreSQL's sequences are set past the restored ids).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_backup_and_a_copy_there_and_back_answer_every_read_as_the_source() {
    let scratch = Scratch::new("restore");
    let source = FreshDatabase::new("backup_source").await;
    let admin = lived_in(&source.url).await;
    let (mut server, addr) = spawn_binary(&source.url);
    let before = answers(&addr, &admin).await;
    server.kill().ok();
    server.wait().ok();

    let file = scratch.path("coverage.backup");
    let header = ok(&run(&[
        "backup",
        text(&file),
        "--database-url",
        &source.url,
    ]));
    assert_eq!(header["format"], "coverage-api backup");
    assert_eq!(header["formatVersion"], 1);
    assert_eq!(header["manifest"]["tables"]["cities"], 18);
    assert_eq!(header["manifest"]["tables"]["publications"], 2);
    let revisions = header["manifest"]["tables"]["revisions"].as_i64().unwrap();
    assert!(revisions >= 9, "{header}");
    assert_eq!(header["manifest"]["newestRevision"], revisions);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "a backup is its owner's only");
    }

    let restored = FreshDatabase::new("backup_restored").await;
    let manifest = ok(&run(&[
        "restore",
        text(&file),
        "--database-url",
        &restored.url,
    ]));
    assert_eq!(manifest, header["manifest"]);
    let (mut server, addr) = spawn_binary(&restored.url);
    assert_eq!(answers(&addr, &admin).await, before, "restored");
    let next = write(&addr, &admin, UPDATE, update("410100", 2024, 90, 0)).await;
    assert_eq!(
        next["data"]["updateCoverage"]["revision"]["number"],
        revisions + 1,
        "{next}"
    );
    server.kill().ok();
    server.wait().ok();

    // To the other kind and back (SQLite to a second SQLite file on a run without PostgreSQL).
    let other = FreshDatabase::sqlite("backup_other");
    let copied = ok(&run(&["copy", "--from", &source.url, "--to", &other.url]));
    assert_eq!(copied, header["manifest"]);
    let back = FreshDatabase::new("backup_back").await;
    ok(&run(&["copy", "--from", &other.url, "--to", &back.url]));
    for url in [&other.url, &back.url] {
        let (mut server, addr) = spawn_binary(url);
        assert_eq!(answers(&addr, &admin).await, before, "copied to {url}");
        server.kill().ok();
        server.wait().ok();
    }
}

/// A backup taken while eight writers write is one snapshot: every restored revision is the
/// source's, and every restored record is at the version its restored revisions say, with the
/// figures of its newest one: no record without its revision, no revision without its record.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_while_eight_writers_write_restores_one_moment_of_the_source() {
    let scratch = Scratch::new("writers");
    let source = FreshDatabase::new("backup_writers").await;
    let admin = binary_token(&source.url, &["--role", "admin", "--name", "省科协"]);
    let (mut server, addr) = spawn_binary(&source.url);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = crate::helpers::CITIES[..8]
        .iter()
        .map(|(code, ..)| {
            let (addr, admin, stop) = (addr.clone(), admin.clone(), stop.clone());
            let code = code.to_string();
            tokio::spawn(async move {
                let mut version = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let answer = write(
                        &addr,
                        &admin,
                        UPDATE,
                        update(&code, 2024, version + 1, version),
                    )
                    .await;
                    assert_eq!(
                        answer["data"]["updateCoverage"]["userErrors"],
                        json!([]),
                        "{answer}"
                    );
                    version += 1;
                }
                version
            })
        })
        .collect();
    let db = coverage_api::db::connect(&crate::helpers::args(&source.url))
        .await
        .unwrap();
    let revisions = || async {
        entity::revision::Entity::find()
            .order_by_asc(entity::revision::Column::Id)
            .all(&db.conn)
            .await
            .unwrap()
    };
    while revisions().await.len() < 40 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let file = scratch.path("during.backup");
    let path = text(&file).to_owned();
    let url = source.url.clone();
    let header =
        tokio::task::spawn_blocking(move || ok(&run(&["backup", &path, "--database-url", &url])))
            .await
            .unwrap();
    let newest = header["manifest"]["newestRevision"].as_i64().unwrap();
    while revisions().await.len() < usize::try_from(newest).unwrap() + 40 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut written = 0;
    for writer in writers {
        written += writer.await.unwrap();
    }
    server.kill().ok();
    server.wait().ok();
    let all = revisions().await;
    assert_eq!(all.len(), usize::try_from(written).unwrap());

    let restored = FreshDatabase::new("backup_writers_restored").await;
    ok(&run(&[
        "restore",
        text(&file),
        "--database-url",
        &restored.url,
    ]));
    let twin = coverage_api::db::connect(&crate::helpers::args(&restored.url))
        .await
        .unwrap();
    let kept = entity::revision::Entity::find()
        .order_by_asc(entity::revision::Column::Id)
        .all(&twin.conn)
        .await
        .unwrap();
    // Each restored revision is the source's, whole. (On PostgreSQL a revision's number is
    // drawn before its transaction waits for the sums' lock, so a snapshot may hold a number
    // without a smaller one whose transaction committed later: a snapshot is of commits.)
    for revision in &kept {
        assert!(all.contains(revision), "not the source's: {revision:?}");
    }
    assert_eq!(kept.iter().map(|r| r.id).max(), Some(newest));
    let records = entity::coverage_record::Entity::find()
        .filter(entity::coverage_record::Column::Period.eq(2024))
        .all(&twin.conn)
        .await
        .unwrap();
    // A writer that had not written by the snapshot has no record there, and no revision.
    let written: std::collections::BTreeSet<_> =
        kept.iter().filter_map(|r| r.city_code.clone()).collect();
    let held: std::collections::BTreeSet<_> = records.iter().map(|r| r.city_code.clone()).collect();
    assert_eq!(held, written);
    assert!(held.len() >= 4, "{held:?}");
    for record in records {
        let theirs: Vec<_> = kept
            .iter()
            .filter(|r| r.city_code.as_deref() == Some(record.city_code.as_str()))
            .collect();
        assert_eq!(
            usize::try_from(record.version).unwrap(),
            theirs.len(),
            "{}: one revision per version",
            record.city_code
        );
        let after: Value = serde_json::from_str(
            theirs
                .last()
                .and_then(|r| r.after.as_deref())
                .expect("a revision's after"),
        )
        .unwrap();
        assert_eq!(
            after["branchCount"].as_i64(),
            record.branch_count.map(i64::from),
            "{}: the figures of its newest revision",
            record.city_code
        );
    }
}

/// A file that is not a backup, a truncated or corrupt one, one of a newer format or of another
/// schema, and a database that is not empty are each refused with their reason, and change
/// nothing: the empty target stays without tables, the full one as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_backups_and_full_databases_are_refused_and_change_nothing() {
    let scratch = Scratch::new("refused");
    let source = FreshDatabase::new("backup_refused_source").await;
    lived_in(&source.url).await;
    let good = scratch.path("good.backup");
    ok(&run(&[
        "backup",
        text(&good),
        "--database-url",
        &source.url,
    ]));
    let bytes = std::fs::read(&good).unwrap();
    let split = bytes.iter().position(|b| *b == b'\n').unwrap();
    let header: Value = serde_json::from_slice(&bytes[..split]).unwrap();
    let with_header = |change: &dyn Fn(&mut Value)| {
        let mut header = header.clone();
        change(&mut header);
        let mut out = serde_json::to_vec(&header).unwrap();
        out.extend_from_slice(&bytes[split..]);
        out
    };
    let mut corrupt = bytes.clone();
    let at = corrupt.len() - 40;
    corrupt[at] = if corrupt[at] == b'1' { b'2' } else { b'1' };
    let cases: Vec<(&str, Vec<u8>, String)> = vec![
        (
            "not-a-backup",
            b"city,branch type\n410800,ENTERPRISE\n".to_vec(),
            "is not a coverage-api backup".into(),
        ),
        (
            "truncated",
            bytes[..bytes.len() - 100].to_vec(),
            format!(
                "the backup is truncated: its body has {} bytes of the {} it states",
                header["bodyBytes"].as_u64().unwrap() - 100,
                header["bodyBytes"]
            ),
        ),
        (
            "corrupt",
            corrupt,
            "the backup is corrupt: its body's SHA-256 is not the one it states".into(),
        ),
        (
            "newer",
            with_header(&|h| h["formatVersion"] = json!(2)),
            "the backup is in format 2, made by a newer release; this release reads format 1"
                .into(),
        ),
        (
            "schema",
            with_header(&|h| h["schemaVersion"] = json!("m20991231_000001_from_the_future")),
            "the backup was made at schema m20991231_000001_from_the_future".into(),
        ),
        (
            "manifest",
            with_header(&|h| h["manifest"]["tables"]["cities"] = json!(17)),
            "the backup's manifest says 17 rows of cities, and it holds 18".into(),
        ),
        (
            "newest",
            with_header(&|h| h["manifest"]["newestRevision"] = json!(1)),
            format!(
                "the backup's manifest names number 1 as its newest revision, and it holds number {}",
                header["manifest"]["newestRevision"]
            ),
        ),
    ];
    let empty = FreshDatabase::new("backup_refused_empty").await;
    for (name, content, reason) in cases {
        let file = scratch.path(&format!("{name}.backup"));
        std::fs::write(&file, content).unwrap();
        let out = run(&["restore", text(&file), "--database-url", &empty.url]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
        assert!(stderr.contains(&reason), "{name}: {stderr}");
        assert!(out.stdout.is_empty(), "{name}");
    }
    // Nothing was made in the empty database: not even the migrations' table.
    let db = coverage_api::db::connect(&crate::helpers::args(&empty.url))
        .await
        .unwrap();
    use migration::MigratorTrait;
    assert_eq!(
        migration::Migrator::get_applied_migrations_read_only(&db.conn)
            .await
            .unwrap()
            .len(),
        0
    );
    db.conn.close_by_ref().await.ok();

    // A database with rows is not restored into, and keeps them all.
    let before = ok(&run(&[
        "backup",
        text(&scratch.path("before.backup")),
        "--database-url",
        &source.url,
    ]));
    let out = run(&["restore", text(&good), "--database-url", &source.url]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(
            "the database to restore into is not empty (18 rows of cities): a backup restores only into an empty database"
        ),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = ok(&run(&[
        "backup",
        text(&scratch.path("after.backup")),
        "--database-url",
        &source.url,
    ]));
    assert_eq!(before["manifest"], after["manifest"]);
    assert_eq!(before["bodySha256"], after["bodySha256"], "the same rows");
}

/// The server takes its own backups on time and keeps the newest `--backup-keep`; each one
/// restores.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_takes_its_own_backups_and_keeps_the_newest() {
    let scratch = Scratch::new("scheduled");
    let source = FreshDatabase::new("backup_scheduled").await;
    let dir = scratch.path("backups");
    let (mut server, _addr) = spawn_binary_with(
        &source.url,
        &[
            "--backup-every",
            "1",
            "--backup-keep",
            "2",
            "--backup-dir",
            text(&dir),
        ],
    );
    let listed = || -> Vec<PathBuf> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        // A backup being written is a `.partial` until it is whole.
        names.retain(|p| p.extension().is_some_and(|e| e == "backup"));
        names.sort();
        names
    };
    // Three seconds: three backups at least, of which two are kept.
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..100 {
        seen.extend(listed());
        if seen.len() >= 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    server.kill().ok();
    server.wait().ok();
    assert!(seen.len() >= 3, "{seen:?}");
    let kept = listed();
    assert_eq!(kept.len(), 2, "{kept:?}");
    for file in &kept {
        let name = file.file_name().unwrap().to_str().unwrap();
        assert!(
            name.starts_with("coverage-") && name.ends_with("Z.backup"),
            "{name}"
        );
    }
    let restored = FreshDatabase::sqlite("backup_scheduled_restored");
    let manifest = ok(&run(&[
        "restore",
        text(&kept[1]),
        "--database-url",
        &restored.url,
    ]));
    assert_eq!(manifest["tables"]["cities"], 18);
}

/// `--log-format json`: every line the server writes is one JSON object; an answer's `access`
/// line carries its request's id, operation, caller kind and city, status and latency, and no
/// line carries the secret it was sent with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_parse_line_by_line_and_carry_the_request_id() {
    use std::io::{BufRead, BufReader};
    let source = FreshDatabase::new("backup_json_logs").await;
    let staff = binary_token(
        &source.url,
        &["--role", "city-staff", "--city", "410800", "--name", "焦作"],
    );
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_coverage-api"))
        .env_remove("DATABASE_URL")
        .env_remove("RUST_LOG")
        .args(["--log-format", "json", "serve", "--addr", "127.0.0.1:0"])
        .args(["--database-url", &source.url])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the binary");
    let (lines_tx, lines) = std::sync::mpsc::channel::<String>();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            lines_tx.send(line).ok();
        }
    });
    let mut seen = Vec::new();
    let addr = loop {
        let line = lines
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("the server logs its address");
        let parsed: Value = serde_json::from_str(&line).expect("a JSON line");
        seen.push(line);
        if let Some(addr) = parsed["addr"].as_str() {
            break addr.to_owned();
        }
    };
    let answer = reqwest::Client::new()
        .post(format!("http://{addr}/graphql"))
        .bearer_auth(&staff)
        .header("x-request-id", "logs-test-0001")
        .json(&json!({ "query": "query Who { viewer { cityCode } }", "operationName": "Who" }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    // A query string is not logged: it may carry a document's values.
    let by_get = reqwest::Client::new()
        .get(format!(
            "http://{addr}/graphql?query=%7B%20periods%20%7D%20%23a-personal-note-7731"
        ))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(by_get.status(), 200);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let access = loop {
        let line = lines
            .recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
            .expect("an access line");
        let parsed: Value = serde_json::from_str(&line).expect("a JSON line");
        seen.push(line);
        if parsed["target"] == "access" && parsed["span"]["request_id"] == "logs-test-0001" {
            break parsed;
        }
    };
    // Until the GET's own access line, so that every line it wrote has been seen.
    loop {
        let line = lines
            .recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
            .expect("the GET's access line");
        let parsed: Value = serde_json::from_str(&line).expect("a JSON line");
        seen.push(line);
        if parsed["target"] == "access" && parsed["span"]["method"] == "GET" {
            assert_eq!(parsed["span"]["path"], "/graphql");
            break;
        }
    }
    child.kill().ok();
    child.wait().ok();
    assert_eq!(access["level"], "INFO");
    assert_eq!(access["message"], "answered");
    assert_eq!(access["status"], 200);
    assert!(access["latency_ms"].as_f64().is_some(), "{access}");
    assert!(access["timestamp"].as_str().is_some(), "{access}");
    assert_eq!(access["span"]["operation"], "Who");
    assert_eq!(access["span"]["actor"], "token:city-staff");
    assert_eq!(access["span"]["city"], "410800");
    for line in &seen {
        assert!(!line.contains(&staff), "a secret in the log: {line}");
        assert!(
            !line.contains("a-personal-note"),
            "a query string in the log: {line}"
        );
    }
}
