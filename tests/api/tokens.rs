//! Tokens and `viewer`: who the API takes the caller to be.

use std::process::Command;

use coverage_api::service::tokens;
use entity::Role;
use sea_orm::EntityTrait;
use serde_json::json;

use crate::helpers::TestApp;

const VIEWER: &str = "{ viewer { name role cityCode } }";

#[tokio::test]
async fn viewer_names_the_token_holder_and_is_null_without_a_token() {
    let app = TestApp::spawn().await;
    let staff = tokens::create(
        &app.db.conn,
        "Jiaozuo office",
        Role::CityStaff,
        Some("410800"),
    )
    .await
    .unwrap();
    let admin = tokens::create(&app.db.conn, "Province admin", Role::Admin, None)
        .await
        .unwrap();
    assert_eq!(
        app.query_as(Some(&staff.secret), VIEWER, json!({})).await,
        json!({ "data": { "viewer": { "name": "Jiaozuo office", "role": "CITY_STAFF", "cityCode": "410800" } } })
    );
    assert_eq!(
        app.query_as(Some(&admin.secret), VIEWER, json!({})).await,
        json!({ "data": { "viewer": { "name": "Province admin", "role": "ADMIN", "cityCode": null } } })
    );
    assert_eq!(
        app.query(VIEWER).await,
        json!({ "data": { "viewer": null } })
    );
}

#[tokio::test]
async fn an_unknown_malformed_or_revoked_token_is_unauthenticated_but_may_still_read() {
    let app = TestApp::spawn().await;
    let staff = tokens::create(
        &app.db.conn,
        "Jiaozuo office",
        Role::CityStaff,
        Some("410800"),
    )
    .await
    .unwrap();
    tokens::revoke(&app.db.conn, staff.token.id).await.unwrap();
    let unauthenticated = json!({
        // async-graphql leaves a nullable field that errored out of `data`.
        "data": { "periods": [2023] },
        "errors": [{
            "message": "the bearer token is malformed, unknown or revoked",
            "locations": [{ "line": 1, "column": 3 }],
            "path": ["viewer"],
            "extensions": { "code": "UNAUTHENTICATED" }
        }]
    });
    for token in [staff.secret.as_str(), "cov_not-a-real-token", " "] {
        assert_eq!(
            app.query_as(Some(token), "{ viewer { name } periods }", json!({}))
                .await,
            unauthenticated,
            "token {token:?}"
        );
    }
}

#[tokio::test]
async fn only_a_hash_of_the_secret_is_stored() {
    let app = TestApp::spawn().await;
    let new = tokens::create(
        &app.db.conn,
        "Zhengzhou office",
        Role::CityStaff,
        Some("410100"),
    )
    .await
    .unwrap();
    assert!(
        new.secret.starts_with("cov_") && new.secret.len() >= 40,
        "256 random bits, base64url"
    );
    let stored = entity::api_token::Entity::find_by_id(new.token.id)
        .one(&app.db.conn)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(stored.secret_hash, new.secret);
    assert_eq!(stored.secret_hash, tokens::hash_secret(&new.secret));
    let other = tokens::create(
        &app.db.conn,
        "Zhengzhou office",
        Role::CityStaff,
        Some("410100"),
    )
    .await
    .unwrap();
    assert_ne!(other.secret, new.secret, "every token is random");
}

#[tokio::test]
async fn a_city_staff_token_needs_an_existing_city_and_an_admin_token_none() {
    let app = TestApp::spawn().await;
    let err = tokens::create(&app.db.conn, "Nowhere", Role::CityStaff, Some("999999"))
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "there is no city with code 999999");
    let err = tokens::create(&app.db.conn, "Nowhere", Role::CityStaff, None)
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "city staff need their city's code");
    let err = tokens::create(&app.db.conn, "Admin", Role::Admin, Some("410100"))
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "an administrator is not bound to a city");
    let err = tokens::create(&app.db.conn, "  ", Role::Admin, None)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "a token name must have 1 to 200 characters"
    );
}

#[test]
fn the_token_commands_create_list_and_revoke_without_showing_secrets_again() {
    let dir = std::env::temp_dir().join(format!("coverage-api-test-{}-tokens", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    let url = format!("sqlite://{}/coverage.db?mode=rwc", dir.display());
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_coverage-api"))
            .env_remove("DATABASE_URL")
            .args(args)
            .args(["--database-url", &url])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let created = run(&[
        "token",
        "create",
        "--role",
        "city-staff",
        "--city",
        "410800",
        "--name",
        "Jiaozuo office",
    ]);
    let secret = created.lines().last().unwrap();
    assert!(
        secret.starts_with("cov_"),
        "the secret is the last line: {created}"
    );
    assert!(
        created.starts_with("created token 1 (Jiaozuo office, city-staff, city 410800)\n"),
        "{created}"
    );
    let admin = run(&[
        "token",
        "create",
        "--role",
        "admin",
        "--name",
        "Province admin",
    ]);
    let list = run(&["token", "list"]);
    assert!(!list.contains(secret) && !list.contains(admin.lines().last().unwrap()));
    assert!(
        !list.contains(&tokens::hash_secret(secret)),
        "not even the hash"
    );
    let rows: Vec<&str> = list.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{list}");
    assert!(
        rows[0].contains("city-staff")
            && rows[0].contains("410800")
            && rows[0].ends_with("Jiaozuo office")
    );
    assert!(rows[1].contains("admin") && rows[1].ends_with("Province admin"));
    assert_eq!(
        run(&["token", "revoke", "1"]),
        "revoked token 1 (Jiaozuo office)\n"
    );
    let list = run(&["token", "list"]);
    // The columns are aligned: the revoked time stands under its header, 19 characters, UTC.
    let mut lines = list.lines();
    let header = lines.next().unwrap();
    let at = header.find("revoked").unwrap();
    let revoked_column = &lines.next().unwrap()[at..at + 19];
    assert!(
        chrono::NaiveDateTime::parse_from_str(revoked_column, "%Y-%m-%d %H:%M:%S").is_ok(),
        "{list}"
    );
    std::fs::remove_dir_all(dir).ok();
}
