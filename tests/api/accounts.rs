//! People sign in as themselves, through the real server: an administrator makes an account
//! with a one-time password, the person chooses their own at first sign-in and gets a session
//! that every path takes as it takes a token, bound to their city and role, named in the audit
//! trail; sessions end when idle, at their limit, on signing out and when the account is
//! disabled; wrong passwords get one answer, are counted and earn a wait; API tokens expire,
//! rotate and are revoked.

use entity::Role;
use sea_orm::{ConnectionTrait, DbBackend};
use serde_json::{Value, json};

use crate::helpers::{TestApp, token, user_errors};

const CREATE: &str = "mutation($input: CreateAccountInput!) { createAccount(input: $input) {
    account { login displayName role cityCode mustChangePassword disabledAt } initialPassword
    userErrors { field code message } } }";

const SIGN_IN: &str = "mutation($input: SignInInput!) { signIn(input: $input) {
    session { token expiresAt idleSecs } userErrors { field code message messageZh } } }";

const VIEWER: &str = "{ viewer { name role cityCode credential } }";

/// Makes Zhang San's account for Jiaozuo; the one-time password.
async fn zhang_san(app: &TestApp, admin: &str) -> String {
    let created = app
        .query_as(
            Some(admin),
            CREATE,
            json!({ "input": { "login": "ZhangSan", "displayName": "张三", "role": "CITY_STAFF",
                "cityCode": "410800" } }),
        )
        .await;
    let payload = &created["data"]["createAccount"];
    assert_eq!(payload["userErrors"], json!([]), "{created}");
    assert_eq!(
        payload["account"],
        json!({ "login": "zhangsan", "displayName": "张三", "role": "CITY_STAFF",
            "cityCode": "410800", "mustChangePassword": true, "disabledAt": null })
    );
    payload["initialPassword"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// `signIn`'s payload.
async fn sign_in(app: &TestApp, login: &str, password: &str, new_password: Option<&str>) -> Value {
    let input = json!({ "login": login, "password": password, "newPassword": new_password });
    let answer = app.query_as(None, SIGN_IN, json!({ "input": input })).await;
    assert!(answer.get("errors").is_none(), "{answer}");
    answer["data"]["signIn"].clone()
}

/// Signs Zhang San in for the first time (choosing "我的新密码-2024"); the session's secret.
async fn first_sign_in(app: &TestApp, admin: &str) -> String {
    let once = zhang_san(app, admin).await;
    let signed = sign_in(app, "zhangsan", &once, Some("我的新密码-2024")).await;
    assert_eq!(signed["userErrors"], json!([]), "{signed}");
    signed["session"]["token"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn codes(payload: &Value) -> Vec<Value> {
    user_errors(payload).iter().map(|e| e[1].clone()).collect()
}

#[tokio::test]
async fn a_person_chooses_a_password_at_first_sign_in_and_acts_as_themselves_for_their_city_only() {
    let app = TestApp::spawn().await;
    app.open_rounds(&[2024]).await;
    let admin = app.admin_token().await;
    let once = zhang_san(&app, &admin).await;
    assert_eq!(once.len(), 16, "96 random bits");

    // The one-time password signs in only with a password of the person's own.
    let first = sign_in(&app, "zhangsan", &once, None).await;
    assert_eq!(first["session"], Value::Null);
    assert_eq!(codes(&first), [json!("PASSWORD_CHANGE_REQUIRED")]);
    let short = sign_in(&app, "zhangsan", &once, Some("short")).await;
    assert_eq!(codes(&short), [json!("BAD_USER_INPUT")]);
    let signed = sign_in(&app, "ZhangSan", &once, Some("我的新密码-2024")).await;
    assert_eq!(signed["userErrors"], json!([]), "{signed}");
    assert_eq!(signed["session"]["idleSecs"], 1800);
    let session = signed["session"]["token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        session.starts_with("cov_"),
        "a bearer secret like a token's"
    );
    // The one-time password is spent.
    let again = sign_in(&app, "zhangsan", &once, Some("another-new-one")).await;
    assert_eq!(codes(&again), [json!("INVALID_CREDENTIALS")]);

    let viewer = app.query_as(Some(&session), VIEWER, json!({})).await;
    assert_eq!(
        viewer["data"]["viewer"],
        json!({ "name": "张三 (zhangsan)", "role": "CITY_STAFF", "cityCode": "410800",
            "credential": "SESSION" })
    );

    // Over the WebSocket too: the session hears its city's return steps.
    let mut ws = crate::ws_client::WsClient::connect(
        &app.addr.to_string(),
        crate::ws_client::Protocol::TransportWs,
        json!({ "authorization": format!("Bearer {session}") }),
    )
    .await;
    ws.subscribe(
        "r",
        "subscription { returnStatusChanged(period: 2024) { cityReturn { status } } }",
        json!({}),
    )
    .await;
    app.until_subscribers(1).await;

    // Their city's figure: written, and the audit trail names the person.
    let save = "mutation($input: UpdateCoverageInput!) { updateCoverage(input: $input) {
        revision { actor { name } } userErrors { code } } }";
    let figures = |city: &str| {
        json!({ "input": { "cityCode": city, "branchType": "ENTERPRISE", "period": 2024,
            "branchCount": 700, "eligibleCount": 1000, "source": "2024年度年报" } })
    };
    let saved = app.query_as(Some(&session), save, figures("410800")).await;
    assert_eq!(
        saved["data"]["updateCoverage"],
        json!({ "revision": { "actor": { "name": "张三 (zhangsan)" } }, "userErrors": [] })
    );
    assert_eq!(
        ws.payload("r").await,
        json!({ "data": { "returnStatusChanged": { "cityReturn": { "status": "DRAFT" } } } })
    );
    // Another city's, or an administrator's step: refused, on every path.
    let other = app.query_as(Some(&session), save, figures("410900")).await;
    assert_eq!(
        crate::helpers::error_codes(&other),
        [json!("FORBIDDEN")],
        "{other}"
    );
    let open = app
        .query_as(
            Some(&session),
            "mutation { openRound(input: { period: 2025 }) { userErrors { code } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        crate::helpers::error_codes(&open),
        [json!("FORBIDDEN")],
        "{open}"
    );
    let accounts = app
        .query_as(Some(&session), "{ accounts { login } }", json!({}))
        .await;
    assert_eq!(crate::helpers::error_codes(&accounts), [json!("FORBIDDEN")]);
    let (status, _) = crate::sheets::import(
        &app,
        Some(&session),
        "城市代码,组织类型,年度,组织数,应建单位数,来源\n410900,企业科协,2024,1,2,x\n".into(),
        false,
        "other.csv",
    )
    .await;
    assert_eq!(status, 403, "an import of another city's figures");
    let template = app
        .client
        .get(app.url("/export/template.xlsx?city=410900&period=2024"))
        .bearer_auth(&session)
        .send()
        .await
        .unwrap();
    assert_eq!(template.status(), 403, "another city's draft");

    // Signing out ends the session on every path.
    let out = app
        .query_as(Some(&session), "mutation { signOut { done } }", json!({}))
        .await;
    assert_eq!(out["data"]["signOut"]["done"], true, "{out}");
    let after = app.query_as(Some(&session), VIEWER, json!({})).await;
    assert_eq!(
        crate::helpers::error_codes(&after),
        [json!("UNAUTHENTICATED")]
    );
}

#[tokio::test]
async fn wrong_passwords_get_one_answer_are_counted_and_earn_a_wait() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let once = zhang_san(&app, &admin).await;
    let unknown = sign_in(&app, "nobody", "whatever-it-is", None).await;
    let wrong = sign_in(&app, "zhangsan", "not-the-password", None).await;
    assert_eq!(
        unknown, wrong,
        "an unknown login and a wrong password: one answer"
    );
    assert_eq!(
        wrong,
        json!({ "session": null, "userErrors": [{ "field": ["input", "password"],
            "code": "INVALID_CREDENTIALS", "message": "the login or the password is wrong",
            "messageZh": "登录名或密码不正确" }] })
    );
    // The address has failed twice, the account once: three more are free, the next is the
    // sixth of the address and earns a wait, which even the right password then meets.
    for _ in 0..3 {
        let wrong = sign_in(&app, "zhangsan", "not-the-password", None).await;
        assert_eq!(codes(&wrong), [json!("INVALID_CREDENTIALS")]);
    }
    let sixth = sign_in(&app, "zhangsan", "not-the-password", None).await;
    assert_eq!(codes(&sixth), [json!("INVALID_CREDENTIALS")]);
    let right = sign_in(&app, "zhangsan", &once, Some("我的新密码-2024")).await;
    assert_eq!(codes(&right), [json!("TOO_MANY_ATTEMPTS")], "{right}");
    let metrics = crate::metrics::metrics(&app).await;
    let value = |name: &str| {
        metrics
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
            .unwrap_or_default()
    };
    assert!(
        value("coverage_api_sign_ins_total{outcome=\"waiting\"}") >= 1.0,
        "{metrics:?}"
    );
    assert!(value("coverage_api_sign_ins_total{outcome=\"wrong\"}") >= 5.0);
    assert!(value("coverage_api_sign_in_waiting") >= 1.0);
}

#[tokio::test]
async fn two_instances_on_one_database_count_the_same_wrong_sign_ins() {
    let app = TestApp::spawn().await;
    // Two instances share a PostgreSQL database; an in-memory SQLite database has one (the
    // same statements, counted by one instance).
    let second = match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(app.second_instance().await),
        _ => None,
    };
    let other = second.as_ref().unwrap_or(&app);
    let admin = app.admin_token().await;
    let once = zhang_san(&app, &admin).await;
    // Three wrong passwords on each instance, all at once: six in a row for the account and
    // the address, each counted, which earn a wait that both instances then keep, the right
    // password included.
    let wrong = [&app, other, &app, other, &app, other]
        .map(|instance| sign_in(instance, "zhangsan", "not-the-password", None));
    for wrong in async_graphql::futures_util::future::join_all(wrong).await {
        assert_eq!(codes(&wrong), [json!("INVALID_CREDENTIALS")]);
    }
    let counted = app
        .db
        .conn
        .query_one_raw(sea_orm::Statement::from_string(
            app.db.conn.get_database_backend(),
            "SELECT failures FROM sign_in_failures WHERE key = 'login:zhangsan'",
        ))
        .await
        .unwrap()
        .map(|row| row.try_get::<i32>("", "failures").unwrap());
    assert_eq!(counted, Some(6), "every failure counted");
    for instance in [&app, other] {
        let right = sign_in(instance, "zhangsan", &once, Some("我的新密码-2024")).await;
        assert_eq!(
            right["userErrors"][0]["field"],
            json!(["input", "login"]),
            "{right}"
        );
        assert_eq!(codes(&right), [json!("TOO_MANY_ATTEMPTS")], "{right}");
        assert!(
            right["userErrors"][0]["messageZh"]
                .as_str()
                .is_some_and(|m| m.starts_with("登录失败次数过多")),
            "{right}"
        );
    }
    // Once the wait is over, the right password signs in and the account's count starts again.
    app.db
        .conn
        .execute_unprepared("UPDATE sign_in_failures SET wait_until = NULL")
        .await
        .unwrap();
    let right = sign_in(other, "zhangsan", &once, Some("我的新密码-2024")).await;
    assert_eq!(right["userErrors"], json!([]), "{right}");
    let left = failure_keys(&app).await;
    assert_eq!(left, ["address:127.0.0.1"], "the address's count stays");
}

#[tokio::test]
async fn a_login_longer_than_any_account_s_is_a_wrong_sign_in_counted_under_the_address() {
    let app = TestApp::spawn().await;
    let long = "登".repeat(5_000);
    let wrong = sign_in(&app, &long, "whatever-it-is", None).await;
    assert_eq!(
        wrong,
        json!({ "session": null, "userErrors": [{ "field": ["input", "password"],
            "code": "INVALID_CREDENTIALS", "message": "the login or the password is wrong",
            "messageZh": "登录名或密码不正确" }] })
    );
    let keys = failure_keys(&app).await;
    assert_eq!(keys, ["address:127.0.0.1"]);
}

/// Sets a column of credential `secret`'s row (by its hash) to `value` (SQL).
async fn set_credential(app: &TestApp, secret: &str, column: &str, value: &str) {
    // The hash is base64url: nothing in it needs quoting.
    let hash = coverage_api::service::tokens::hash_secret(secret);
    app.db
        .conn
        .execute_unprepared(&format!(
            "UPDATE api_tokens SET {column} = {value} WHERE secret_hash = '{hash}'"
        ))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_session_ends_when_idle_at_its_limit_and_when_the_account_is_disabled() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let session = first_sign_in(&app, &admin).await;
    let works = |s: String| {
        let app = &app;
        async move {
            let v = app.query_as(Some(&s), VIEWER, json!({})).await;
            v["data"]["viewer"]["credential"] == "SESSION"
        }
    };
    assert!(works(session.clone()).await);
    let past = if app.db.conn.get_database_backend() == DbBackend::Postgres {
        "now() - interval '31 minutes'"
    } else {
        "strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now', '-31 minutes')"
    };
    // Unused for 31 minutes (the idle limit is 30): ended.
    set_credential(&app, &session, "last_used_at", past).await;
    assert!(!works(session.clone()).await, "idle too long");

    // Past its absolute limit: ended, however recently used.
    let again = sign_in(&app, "zhangsan", "我的新密码-2024", None).await;
    let second = again["session"]["token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(works(second.clone()).await);
    set_credential(&app, &second, "expires_at", past).await;
    assert!(!works(second).await, "past its limit");

    // Disabled: every session ends at once, and no sign-in works.
    let third = sign_in(&app, "zhangsan", "我的新密码-2024", None).await;
    let third = third["session"]["token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let fourth = sign_in(&app, "zhangsan", "我的新密码-2024", None).await;
    let fourth = fourth["session"]["token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let disabled = app
        .query_as(
            Some(&admin),
            "mutation { disableAccount(input: { login: \"zhangsan\" }) { endedSessions userErrors { code } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        disabled["data"]["disableAccount"],
        json!({ "endedSessions": 4, "userErrors": [] }),
        "every session not revoked before, the two that had lapsed included"
    );
    assert!(!works(third).await && !works(fourth).await);
    let refused = sign_in(&app, "zhangsan", "我的新密码-2024", None).await;
    assert_eq!(codes(&refused), [json!("ACCOUNT_DISABLED")]);
}

#[tokio::test]
async fn api_tokens_expire_rotate_and_are_revoked_and_old_ones_never_expire() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let old = token(&app, "Old dashboard build", Role::CityStaff, Some("410800")).await;
    let create = "mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) {
        apiToken { id name role cityCode expiresAt } secret userErrors { field code } } }";
    let too_late = app
        .query_as(
            Some(&admin),
            create,
            json!({ "input": { "name": "script", "role": "ADMIN", "expiresAt": "2999-01-01T00:00:00Z" } }),
        )
        .await;
    assert_eq!(
        too_late["data"]["createApiToken"]["userErrors"],
        json!([{ "field": ["input", "expiresAt"], "code": "BAD_USER_INPUT" }])
    );
    let made = app
        .query_as(
            Some(&admin),
            create,
            json!({ "input": { "name": "Jiaozuo script", "role": "CITY_STAFF", "cityCode": "410800" } }),
        )
        .await;
    let payload = &made["data"]["createApiToken"];
    assert_eq!(payload["userErrors"], json!([]), "{made}");
    let id = payload["apiToken"]["id"].clone();
    let secret = payload["secret"].as_str().unwrap_or_default().to_owned();
    let expires = payload["apiToken"]["expiresAt"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let in_90_days = (chrono::Utc::now() + chrono::Duration::days(90)).to_rfc3339();
    assert_eq!(&expires[..10], &in_90_days[..10], "90 days by default");
    let viewer = app.query_as(Some(&secret), VIEWER, json!({})).await;
    assert_eq!(viewer["data"]["viewer"]["credential"], "API_TOKEN");

    // Rotated: the new secret works, the old one no longer does.
    let rotated = app
        .query_as(
            Some(&admin),
            "mutation($id: ID!) { rotateApiToken(input: { id: $id }) { secret userErrors { code } } }",
            json!({ "id": id }),
        )
        .await;
    let fresh = rotated["data"]["rotateApiToken"]["secret"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(fresh.starts_with("cov_") && fresh != secret, "{rotated}");
    let stale = app.query_as(Some(&secret), VIEWER, json!({})).await;
    assert_eq!(
        crate::helpers::error_codes(&stale),
        [json!("UNAUTHENTICATED")]
    );
    assert_eq!(
        app.query_as(Some(&fresh), VIEWER, json!({})).await["data"]["viewer"]["credential"],
        "API_TOKEN"
    );
    // Listed with their expiries: the token made before expiries existed has none.
    let listed = app
        .query_as(
            Some(&admin),
            "{ apiTokens { id name expiresAt revokedAt } }",
            json!({}),
        )
        .await;
    let tokens = listed["data"]["apiTokens"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let old_one = tokens.iter().find(|t| t["name"] == "Old dashboard build");
    assert_eq!(
        old_one.map(|t| t["expiresAt"].clone()),
        Some(Value::Null),
        "{listed}"
    );
    assert!(app.query_as(Some(&old), VIEWER, json!({})).await["data"]["viewer"].is_object());

    // Expired: refused.
    let past = if app.db.conn.get_database_backend() == DbBackend::Postgres {
        "now() - interval '1 second'"
    } else {
        "strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now', '-1 second')"
    };
    set_credential(&app, &fresh, "expires_at", past).await;
    let expired = app.query_as(Some(&fresh), VIEWER, json!({})).await;
    assert_eq!(
        crate::helpers::error_codes(&expired),
        [json!("UNAUTHENTICATED")]
    );

    // Revoked: refused.
    let old_id = old_one.map(|t| t["id"].clone()).unwrap_or_default();
    let revoked = app
        .query_as(
            Some(&admin),
            "mutation($id: ID!) { revokeApiToken(input: { id: $id }) { userErrors { code } } }",
            json!({ "id": old_id }),
        )
        .await;
    assert_eq!(
        revoked["data"]["revokeApiToken"]["userErrors"],
        json!([]),
        "{revoked}"
    );
    let gone = app.query_as(Some(&old), VIEWER, json!({})).await;
    assert_eq!(
        crate::helpers::error_codes(&gone),
        [json!("UNAUTHENTICATED")]
    );
}

/// In a real browser: the person signs in on the staff page with the one-time password, is asked
/// for a password of their own, changes a figure, and the page's revisions name them; signing out
/// ends the session on the server, not only in the page.
#[tokio::test]
async fn a_person_signs_in_on_the_staff_page_and_the_revisions_name_them() {
    let _one = crate::helpers::exclusive().await;
    let Some(mut browser) = crate::webdriver::Browser::start("accounts").await else {
        return;
    };
    let app = TestApp::spawn().await;
    app.open_rounds(&[2024]).await;
    let admin = app.admin_token().await;
    let once = zhang_san(&app, &admin).await;
    let load = crate::browser::LOAD;

    browser.goto(&app.url("/staff")).await;
    browser.type_into("#login", "zhangsan").await;
    browser.type_into("#password", &once).await;
    browser.click("#sign-in").await;
    let asked = browser
        .wait_for(
            "a password of their own is asked for",
            "!document.getElementById('new-password-label').hidden && \
             document.getElementById('token-problem').textContent",
            load,
        )
        .await;
    assert!(
        asked
            .as_str()
            .is_some_and(|t| t.ends_with("(PASSWORD_CHANGE_REQUIRED)")),
        "{asked}"
    );
    browser
        .screenshot("staff-sign-in-first-time.png", 500)
        .await;
    browser.type_into("#new-password", "我的新密码-2024").await;
    browser.click("#sign-in").await;
    browser
        .wait_for(
            "signed in",
            "document.body.dataset.state === 'ready' && document.getElementById('who').textContent",
            load,
        )
        .await;
    assert_eq!(
        browser
            .eval("document.getElementById('who').textContent")
            .await,
        "张三 (zhangsan) · 市科协 (CITY_STAFF) · 焦作"
    );
    for (field, value) in [
        ("branchCount", "700"),
        ("eligibleCount", "1000"),
        ("source", "2024年度年报"),
    ] {
        browser
            .type_into(&format!("#ENTERPRISE-{field}"), value)
            .await;
    }
    browser
        .click("form[data-type=\"ENTERPRISE\"] button[type=submit]")
        .await;
    let named = browser
        .wait_for(
            "the revision names the person",
            "document.querySelector('#revisions tbody tr[data-number]') && \
             document.querySelector('#revisions tbody tr[data-number]').children[1].textContent",
            load,
        )
        .await;
    assert_eq!(named, "张三 (zhangsan) (CITY_STAFF)");
    browser.screenshot("staff-signed-in-person.png", 900).await;

    let session = browser
        .eval("sessionStorage.getItem('coverage-api.token')")
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(session.starts_with("cov_"));
    browser.click("#sign-out").await;
    browser
        .wait_for(
            "signed out",
            "document.body.dataset.state === 'signed-out'",
            load,
        )
        .await;
    // The page's sign-out reached the server before the secret is tried again.
    let mut ended = false;
    for _ in 0..40 {
        let viewer = app.query_as(Some(&session), VIEWER, json!({})).await;
        if viewer.get("errors").is_some() {
            assert_eq!(
                crate::helpers::error_codes(&viewer),
                [json!("UNAUTHENTICATED")]
            );
            ended = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(ended, "signing out ends the session on the server");
    browser.assert_clean(&app.addr.to_string()).await;
}

/// The audit trail filtered by writer (administrators only: a name is personal), and the same
/// feed as a workbook for administrators only.
#[tokio::test]
async fn the_feed_filters_by_writer_and_exports_for_administrators_only() {
    let app = TestApp::spawn().await;
    app.open_rounds(&[2024]).await;
    let admin = app.admin_token().await;
    let session = first_sign_in(&app, &admin).await;
    let save = "mutation($input: UpdateCoverageInput!) { updateCoverage(input: $input) { userErrors { code } } }";
    let saved = app
        .query_as(
            Some(&session),
            save,
            json!({ "input": { "cityCode": "410800", "branchType": "ENTERPRISE", "period": 2024,
                "branchCount": 700, "eligibleCount": 1000, "source": "2024年度年报" } }),
        )
        .await;
    assert_eq!(
        saved["data"]["updateCoverage"]["userErrors"],
        json!([]),
        "{saved}"
    );
    let by =
        "query($a: String) { revisions(actor: $a, first: 10) { nodes { kind actor { name } } } }";
    let mine = app
        .query_as(Some(&admin), by, json!({ "a": "张三 (zhangsan)" }))
        .await;
    let kinds: Vec<Value> = mine["data"]["revisions"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|n| json!([n["kind"], n["actor"]["name"]]))
        .collect();
    assert_eq!(
        kinds,
        [
            json!(["CITY_RETURN", "张三 (zhangsan)"]),
            json!(["COVERAGE", "张三 (zhangsan)"])
        ],
        "{mine}"
    );
    for who in [Some(session.as_str()), None] {
        let refused = app
            .query_as(who, by, json!({ "a": "张三 (zhangsan)" }))
            .await;
        assert_eq!(
            crate::helpers::error_codes(&refused),
            [json!("FORBIDDEN")],
            "{refused}"
        );
    }

    let export = |who: Option<String>| {
        let mut request = app.client.get(
            app.url("/export/revisions.xlsx?city=410800&actor=%E5%BC%A0%E4%B8%89%20(zhangsan)"),
        );
        if let Some(who) = who {
            request = request.bearer_auth(who);
        }
        request.send()
    };
    let file = export(Some(admin.clone())).await.unwrap();
    assert_eq!(file.status(), 200);
    assert_eq!(file.headers()["cache-control"], "private, no-store");
    let rows = crate::sheets::sheet(&file.bytes().await.unwrap(), 0);
    assert_eq!(rows.len(), 3, "the header and the person's two revisions");
    assert_eq!(crate::sheets::text(&rows[0][2]), "修改人");
    assert_eq!(crate::sheets::text(&rows[1][2]), "张三 (zhangsan)");
    // Times in China Standard Time, said so in the header and by the offset.
    assert_eq!(crate::sheets::text(&rows[0][1]), "时间（北京时间）");
    let at = crate::sheets::text(&rows[1][1]);
    assert!(at.ends_with(" +08:00") && at.len() == 26, "{at}");
    assert_eq!(export(Some(session)).await.unwrap().status(), 403);
    assert_eq!(export(None).await.unwrap().status(), 401);
}

/// The answer's `userErrors` for `query` sent by the administrator with `input`.
async fn refusals(app: &TestApp, admin: &str, query: &str, input: Value) -> Value {
    let answer = app
        .query_as(Some(admin), query, json!({ "input": input }))
        .await;
    assert!(answer.get("errors").is_none(), "{answer}");
    let payload = answer["data"].as_object().and_then(|d| d.values().next());
    payload.map_or(Value::Null, |p| p["userErrors"].clone())
}

#[tokio::test]
async fn every_refusal_of_an_account_or_a_token_stands_on_its_field_in_both_languages() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    zhang_san(&app, &admin).await;
    let create = "mutation($input: CreateAccountInput!) { createAccount(input: $input) {
        account { login } userErrors { field code message messageZh } } }";
    let person = |login: &str, name: &str, role: &str, city: Option<&str>| json!({ "login": login, "displayName": name, "role": role, "cityCode": city });
    let one = |field: &str, code: &str, en: &str, zh: &str| json!([{ "field": ["input", field], "code": code, "message": en, "messageZh": zh }]);
    for (input, expected) in [
        (
            person("Li Si", "李四", "CITY_STAFF", Some("410800")),
            one(
                "login",
                "BAD_USER_INPUT",
                "a login has 2 to 64 characters: lower-case letters, digits, `.`, `_` and `-`",
                "登录名须有 2 到 64 个字符：小写字母、数字、“.”、“_”和“-”",
            ),
        ),
        (
            person("lisi", " ", "CITY_STAFF", Some("410800")),
            one(
                "displayName",
                "BAD_USER_INPUT",
                "a display name has 1 to 100 characters and no control characters",
                "姓名须有 1 到 100 个字符，不能含控制字符",
            ),
        ),
        (
            person("lisi", "李四", "CITY_STAFF", None),
            one(
                "cityCode",
                "BAD_USER_INPUT",
                "city staff need their city's code",
                "市级填报人员须选择所属城市",
            ),
        ),
        (
            person("lisi", "李四", "ADMIN", Some("410800")),
            one(
                "cityCode",
                "BAD_USER_INPUT",
                "an administrator is not bound to a city",
                "省级管理员不属于某个城市：请不要选城市",
            ),
        ),
        (
            person("lisi", "李四", "CITY_STAFF", Some("999999")),
            one(
                "cityCode",
                "NOT_FOUND",
                "there is no city with code 999999",
                "没有代码为 999999 的城市",
            ),
        ),
        (
            person("zhangsan", "张三", "CITY_STAFF", Some("410800")),
            one(
                "login",
                "BAD_USER_INPUT",
                "the login zhangsan is taken",
                "登录名 zhangsan 已被使用",
            ),
        ),
    ] {
        assert_eq!(refusals(&app, &admin, create, input).await, expected);
    }
    let disable = "mutation($input: AccountKeyInput!) { disableAccount(input: $input) {
        userErrors { field code message messageZh } } }";
    assert_eq!(
        refusals(&app, &admin, disable, json!({ "login": "nobody" })).await,
        one(
            "login",
            "NOT_FOUND",
            "there is no account with the login nobody",
            "没有登录名为 nobody 的账号",
        )
    );
    let make = "mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) {
        secret userErrors { field code message messageZh } } }";
    assert_eq!(
        refusals(&app, &admin, make, json!({ "name": "", "role": "ADMIN" })).await,
        one(
            "name",
            "BAD_USER_INPUT",
            "a token name must have 1 to 200 characters",
            "名称须有 1 到 200 个字符",
        )
    );
    assert_eq!(
        refusals(
            &app,
            &admin,
            make,
            json!({ "name": "script", "role": "CITY_STAFF" })
        )
        .await,
        one(
            "cityCode",
            "BAD_USER_INPUT",
            "city staff need their city's code",
            "市级填报人员须选择所属城市",
        )
    );
    let rotate = "mutation($input: ApiTokenKeyInput!) { rotateApiToken(input: $input) {
        secret userErrors { field code message messageZh } } }";
    assert_eq!(
        refusals(&app, &admin, rotate, json!({ "id": "999" })).await,
        one(
            "id",
            "NOT_FOUND",
            "there is no API token with id 999",
            "没有编号为 999 的令牌",
        )
    );
    // The write path's refusals speak both languages too.
    let next_year = chrono::Datelike::year(&chrono::Utc::now()) + 1;
    let save = "mutation($input: UpdateCoverageInput!) { updateCoverage(input: $input) {
        userErrors { field code message messageZh } } }";
    assert_eq!(
        refusals(
            &app,
            &admin,
            save,
            json!({ "cityCode": "410800", "branchType": "ENTERPRISE", "period": 1999,
                "branchCount": 5, "eligibleCount": 3, "source": "test" }),
        )
        .await,
        json!([
            { "field": ["input", "branchCount"], "code": "BAD_USER_INPUT",
              "message": "branchCount (5) cannot exceed eligibleCount (3)",
              "messageZh": "已建数（5）不能大于应建数（3）" },
            { "field": ["input", "period"], "code": "BAD_USER_INPUT",
              "message": format!("period must be between 2000 and {next_year}, got 1999"),
              "messageZh": format!("年份须在 2000 到 {next_year} 之间，收到 1999") },
        ])
    );
}

/// The keys the sign-in failures are counted under, in order.
async fn failure_keys(app: &TestApp) -> Vec<String> {
    app.db
        .conn
        .query_all_raw(sea_orm::Statement::from_string(
            app.db.conn.get_database_backend(),
            "SELECT key FROM sign_in_failures ORDER BY key",
        ))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get("", "key").unwrap())
        .collect()
}
