//! The binary's subcommands and its life cycle.

use std::process::Command;

fn temp_sqlite(name: &str) -> (std::path::PathBuf, String) {
    let dir = std::env::temp_dir().join(format!("coverage-api-test-{}-{name}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    let url = format!("sqlite://{}/coverage.db?mode=rwc", dir.display());
    (dir, url)
}

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_coverage-api"));
    command.env_remove("DATABASE_URL").env("RUST_LOG", "info");
    command
}

#[test]
fn seed_synthetic_fills_an_empty_database_and_refuses_a_full_one() {
    let (dir, url) = temp_sqlite("synthetic");
    let first = binary()
        .args([
            "seed-synthetic",
            "--cities",
            "7",
            "--periods",
            "2",
            "--database-url",
            &url,
        ])
        .output()
        .unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&first.stdout),
        "generated 7 synthetic cities and 42 coverage records\n"
    );
    let second = binary()
        .args(["seed-synthetic", "--cities", "7", "--database-url", &url])
        .output()
        .unwrap();
    assert!(!second.status.success());
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("already holds cities"),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn migrate_creates_the_schema_without_data() {
    let (dir, url) = temp_sqlite("migrate");
    let out = binary()
        .args(["migrate", "--database-url", &url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.join("coverage.db").exists());
    std::fs::remove_dir_all(dir).ok();
}

#[cfg(unix)]
#[tokio::test]
async fn serve_creates_and_seeds_a_fresh_file_then_stops_on_sigterm() {
    let (dir, url) = temp_sqlite("serve");
    let (mut child, addr) = crate::helpers::spawn_binary(&url);
    let body: serde_json::Value = reqwest::Client::new()
        .post(format!("http://{addr}/graphql"))
        .json(&serde_json::json!({ "query": "{ cities { totalCount } pilotPrograms { code } }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["data"]["cities"]["totalCount"], 18);
    assert_eq!(body["data"]["pilotPrograms"].as_array().unwrap().len(), 4);
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "a graceful shutdown exits 0, got {status}"
    );
    std::fs::remove_dir_all(dir).ok();
}

/// Several instances may start at once on one PostgreSQL database: exactly one migrates and
/// seeds, the others find the work done. On SQLite (one instance per file) preparing twice in a
/// row must seed once.
#[tokio::test]
async fn instances_starting_together_seed_the_report_once() {
    use coverage_api::config::DatabaseArgs;
    use sea_orm::{EntityTrait, PaginatorTrait};
    let fresh = crate::helpers::FreshDatabase::new("start").await;
    let args = DatabaseArgs {
        database_url: fresh.url.clone(),
        database_max_connections: Some(2),
    };
    let db = if fresh.url.starts_with("postgres") {
        let (a, b) = tokio::join!(
            coverage_api::server::prepare_database(&args),
            coverage_api::server::prepare_database(&args)
        );
        b.unwrap().conn.close_by_ref().await.ok();
        a.unwrap()
    } else {
        coverage_api::server::prepare_database(&args).await.unwrap();
        coverage_api::server::prepare_database(&args).await.unwrap()
    };
    assert_eq!(
        entity::city::Entity::find().count(&db.conn).await.unwrap(),
        18
    );
    assert_eq!(
        entity::coverage_record::Entity::find()
            .count(&db.conn)
            .await
            .unwrap(),
        5
    );
    db.conn.close_by_ref().await.ok();
}

#[test]
fn every_command_shows_its_own_description_in_help() {
    let help = |args: &[&str]| {
        let output = binary().args(args).output().unwrap();
        assert!(output.status.success(), "{args:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let token = help(&["token", "--help"]);
    assert!(
        token.starts_with("Manage the API tokens writers use"),
        "{token}"
    );
    let seed = help(&["seed-synthetic", "--help"]);
    assert!(
        seed.starts_with("Migrate the database and fill it with a synthetic data set"),
        "{seed}"
    );
    // Each subcommand lists its own options (and the database's), not the server's.
    for args in [
        &["token", "create", "--help"][..],
        &["account", "create", "--help"],
        &["seed-synthetic", "--help"],
        &["export", "--help"],
    ] {
        let text = help(args);
        assert!(text.contains("--database-url"), "{args:?}: {text}");
        for server_flag in ["--max-page-size", "--addr", "--session-idle-secs"] {
            assert!(
                !text.contains(server_flag),
                "{args:?} lists {server_flag}: {text}"
            );
        }
    }
    let create = help(&["account", "create", "--help"]);
    for own in ["--login", "--display-name", "--role", "--city"] {
        assert!(create.contains(own), "{create}");
    }
    let serve = help(&["serve", "--help"]);
    for server_flag in ["--max-page-size", "--addr", "--session-idle-secs"] {
        assert!(serve.contains(server_flag), "{serve}");
    }
}

#[test]
fn export_and_import_run_on_the_server_and_name_the_cli_in_the_revisions() {
    let (dir, url) = temp_sqlite("sheets");
    std::fs::create_dir_all(&dir).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // The report's 2023 is a closed, published round: the file edits Jiaozuo's 2024 figures, an
    // administrator's outside any round (public as written), stated with new branches only.
    rt.block_on(async {
        use sea_orm::{ActiveValue::NotSet, EntityTrait, Set};
        let db = coverage_api::db::connect(&crate::helpers::args(&url))
            .await
            .unwrap();
        coverage_api::db::migrate(&db).await.unwrap();
        coverage_api::seed::report::load_if_empty(&db.conn)
            .await
            .unwrap();
        let record =
            entity::coverage_record::Entity::insert(entity::coverage_record::ActiveModel {
                id: NotSet,
                city_code: Set("410800".into()),
                branch_type: Set(entity::BranchType::Enterprise),
                period: Set(2024),
                branch_count: Set(None),
                eligible_count: Set(None),
                new_branches: Set(Some(193)),
                stated_rate: Set(None),
                rate_scope: Set(None),
                source: Set(Some("test".into())),
                version: Set(1),
                updated_at: Set(chrono::Utc::now()),
                updated_by: Set(Some("test".into())),
            })
            .exec(&db.conn)
            .await
            .unwrap();
        migration::make_public(&db.conn, &[record.last_insert_id])
            .await
            .unwrap();
        db.conn.close_by_ref().await.ok();
    });
    let csv = dir.join("coverage.csv");
    let export = binary()
        .args([
            "export",
            "--period",
            "2024",
            "--english",
            "--database-url",
            &url,
        ])
        .arg(&csv)
        .output()
        .unwrap();
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&export.stdout),
        format!("wrote 54 rows to {}\n", csv.display())
    );
    // Jiaozuo's enterprise row gets a branch count; everything else is sent back as it was.
    let text = std::fs::read_to_string(&csv).unwrap();
    let edited = text.replacen(
        "410800,Jiaozuo,enterprise branches,2024,,,193,",
        "410800,Jiaozuo,enterprise branches,2024,250,,193,",
        1,
    );
    assert_ne!(edited, text);
    std::fs::write(&csv, edited).unwrap();
    let run = |dry_run: bool| {
        let mut command = binary();
        command.args(["import", "--database-url", &url]).arg(&csv);
        if dry_run {
            command.arg("--dry-run");
        }
        let output = command.output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&output.stdout).unwrap()
    };
    let dry = run(true);
    assert_eq!(
        (
            dry["applied"].clone(),
            dry["changes"].as_array().unwrap().len()
        ),
        (false.into(), 1)
    );
    let applied = run(true);
    assert_eq!(
        applied["changes"][0]["before"]["version"], 1,
        "a dry run wrote nothing"
    );
    let applied = run(false);
    assert_eq!(applied["applied"], true);
    assert_eq!(applied["changes"][0]["after"]["branchCount"], 250);
    assert_eq!(applied["changes"][0]["after"]["version"], 2);
    // The revision names the command line, with no token.
    let schema = binary()
        .args(["import", "--dry-run", "--database-url", &url])
        .arg(&csv)
        .output()
        .unwrap();
    let again: serde_json::Value = serde_json::from_slice(&schema.stdout).unwrap();
    assert_eq!(
        again["changes"],
        serde_json::json!([]),
        "applied once, no change the second time"
    );
    rt.block_on(async {
        use sea_orm::EntityTrait;
        let db = coverage_api::db::connect(&crate::helpers::args(&url))
            .await
            .unwrap();
        let revisions = entity::revision::Entity::find()
            .all(&db.conn)
            .await
            .unwrap();
        assert_eq!(revisions.len(), 1);
        assert_eq!(revisions[0].actor_name, "cli");
        assert_eq!(revisions[0].actor_token_id, None);
        assert_eq!(revisions[0].actor_role, entity::Role::Admin);
        assert!(
            revisions[0]
                .note
                .as_deref()
                .unwrap_or("")
                .starts_with("import: coverage.csv (sha256 ")
        );
    });
    std::fs::remove_dir_all(&dir).ok();
}

/// The first administrator is made on the server, on an empty database: `account create` prints
/// a one-time password on its last line, and the person signs in with it, choosing their own.
/// `account list` and `token list` print aligned columns; an old token lists with "no expiry".
#[tokio::test]
async fn the_first_administrator_is_made_on_the_command_line_and_signs_in() {
    let (dir, url) = temp_sqlite("account");
    let made = binary()
        .args([
            "account",
            "create",
            "--login",
            "admin",
            "--display-name",
            "省科协管理员",
        ])
        .args(["--role", "admin", "--database-url", &url])
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let stdout = String::from_utf8_lossy(&made.stdout).to_string();
    let password = stdout.lines().last().unwrap_or_default().to_owned();
    assert_eq!(password.len(), 16, "{stdout}");
    crate::helpers::binary_token(
        &url,
        &[
            "--role",
            "city-staff",
            "--city",
            "410800",
            "--name",
            "Jiaozuo office",
        ],
    );
    for (what, header) in [("account", "login"), ("token", "  id")] {
        let listed = binary()
            .args([what, "list", "--database-url", &url])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&listed.stdout).to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines.len() >= 2 && lines[0].starts_with(header), "{text}");
        // Aligned: every column but the last starts where the header's does.
        let last = lines[0].rfind("  ").unwrap_or_default();
        for line in &lines[1..] {
            assert_eq!(&line[last..last + 2], "  ", "{text}");
        }
        if what == "token" {
            assert!(lines[1].contains("no expiry"), "{text}");
        }
    }

    let (mut child, addr) = crate::helpers::spawn_binary(&url);
    let sign_in = serde_json::json!({
        "query": "mutation($i: SignInInput!) { signIn(input: $i) { session { token } userErrors { code } } }",
        "variables": { "i": { "login": "admin", "password": password, "newPassword": "省科协的新密码-2026" } }
    });
    let body: serde_json::Value = reqwest::Client::new()
        .post(format!("http://{addr}/graphql"))
        .json(&sign_in)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let session = body["data"]["signIn"]["session"]["token"]
        .as_str()
        .unwrap_or_default();
    assert!(session.starts_with("cov_"), "{body}");
    let viewer: serde_json::Value = reqwest::Client::new()
        .post(format!("http://{addr}/graphql"))
        .bearer_auth(session)
        .json(&serde_json::json!({ "query": "{ viewer { name role credential } }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        viewer["data"]["viewer"],
        serde_json::json!({ "name": "省科协管理员 (admin)", "role": "ADMIN", "credential": "SESSION" })
    );
    child.kill().ok();
    child.wait().ok();
    std::fs::remove_dir_all(dir).ok();
}

/// No secret reaches a log line: the server, logging at `debug`, is sent a sign-in, a wrong
/// password, a password change and a token's use; its whole log holds none of the passwords,
/// the session or the token.
#[tokio::test]
async fn no_password_session_or_token_reaches_the_log() {
    use std::io::Read;
    let (dir, url) = temp_sqlite("secrets");
    let made = binary()
        .args([
            "account",
            "create",
            "--login",
            "wangwu",
            "--display-name",
            "王五",
        ])
        .args([
            "--role",
            "city-staff",
            "--city",
            "410800",
            "--database-url",
            &url,
        ])
        .output()
        .unwrap();
    let once = String::from_utf8_lossy(&made.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .to_owned();
    let token =
        crate::helpers::binary_token(&url, &["--role", "admin", "--name", "Province admin"]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_coverage-api"))
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "debug")
        .args(["serve", "--addr", "127.0.0.1:0", "--database-url", &url])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The address is in the log's "serving" line.
    let mut stderr = child.stderr.take().unwrap();
    let mut log = Vec::new();
    let addr = loop {
        let mut chunk = [0u8; 4096];
        let n = stderr.read(&mut chunk).unwrap();
        assert!(n > 0, "the server ended: {}", String::from_utf8_lossy(&log));
        log.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&log).to_string();
        if let Some(at) = text.find("serving GraphQL at /graphql") {
            let line = text[..at]
                .rsplit('\n')
                .next()
                .unwrap_or_default()
                .to_owned()
                + text[at..].split('\n').next().unwrap_or_default();
            if let Some(addr) = line.split("addr=").nth(1) {
                break addr
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
            }
        }
    };
    let client = reqwest::Client::new();
    let post = |secret: Option<&str>, body: serde_json::Value| {
        let mut request = client.post(format!("http://{addr}/graphql")).json(&body);
        if let Some(secret) = secret {
            request = request.bearer_auth(secret);
        }
        request.send()
    };
    let sign_in = "mutation($i: SignInInput!) { signIn(input: $i) { session { token } userErrors { code } } }";
    let new_password = "王五的新密码-2024-很长";
    post(
        None,
        serde_json::json!({ "query": sign_in,
        "variables": { "i": { "login": "wangwu", "password": "wrong-password-123" } } }),
    )
    .await
    .unwrap();
    let signed: serde_json::Value = post(None, serde_json::json!({ "query": sign_in,
        "variables": { "i": { "login": "wangwu", "password": once, "newPassword": new_password } } }))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let session = signed["data"]["signIn"]["session"]["token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(session.starts_with("cov_"), "{signed}");
    let changed = "mutation($i: ChangePasswordInput!) { changePassword(input: $i) { done } }";
    post(Some(&session), serde_json::json!({ "query": changed,
        "variables": { "i": { "oldPassword": new_password, "newPassword": "又一个新密码-2025-很长" } } }))
        .await
        .unwrap();
    post(
        Some(&token),
        serde_json::json!({ "query": "{ viewer { name } }" }),
    )
    .await
    .unwrap();
    post(
        Some("cov_not-a-token-at-all"),
        serde_json::json!({ "query": "{ viewer { name } }" }),
    )
    .await
    .unwrap();
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    stderr.read_to_end(&mut log).unwrap();
    child.wait().unwrap();
    let log = String::from_utf8_lossy(&log);
    assert!(
        log.contains("request"),
        "the log was written at debug: {log}"
    );
    for secret in [
        once.as_str(),
        "wrong-password-123",
        new_password,
        "又一个新密码-2025-很长",
        session.as_str(),
        token.as_str(),
        "cov_not-a-token-at-all",
    ] {
        assert!(!log.contains(secret), "the log holds a secret ({secret})");
    }
    std::fs::remove_dir_all(dir).ok();
}
