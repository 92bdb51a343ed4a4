//! The account rules that need no database.

use super::*;

#[test]
fn an_account_and_its_one_time_password_never_show_in_debug() {
    let new = NewAccount {
        account: account::Model {
            id: 1,
            login: "zhangsan".into(),
            display_name: "张三".into(),
            role: Role::CityStaff,
            city_code: Some("410800".into()),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            must_change_password: true,
            created_at: chrono::Utc::now(),
            disabled_at: None,
            version: 1,
        },
        password: "one-time-secret".into(),
    };
    let shown = format!("{new:?}");
    assert!(
        shown.contains("zhangsan") && shown.contains("<redacted>"),
        "{shown}"
    );
    assert!(
        !shown.contains("one-time-secret") && !shown.contains("argon2id"),
        "{shown}"
    );
}

#[test]
fn logins_are_lower_case_letters_digits_and_three_marks() {
    assert_eq!(normal_login("  ZhangSan "), "zhangsan");
    assert!(login_error("zhang.san_1-a").is_none());
    for bad in ["z", "张三", "zhang san", "a@b", &"x".repeat(65)] {
        assert!(login_error(bad).is_some(), "{bad}");
    }
    assert!(password_error("short").is_some());
    assert!(password_error("long enough").is_none());
}
