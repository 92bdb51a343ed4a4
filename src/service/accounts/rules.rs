//! What an account's login, display name and password must be, with the words of each refusal
//! in both languages.

use super::{MAX_DISPLAY_NAME_CHARS, MAX_LOGIN_CHARS, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS};
use crate::domain::write::{Words, words};

/// The login as stored and compared: trimmed, lower-case.
pub fn normal_login(login: &str) -> String {
    login.trim().to_lowercase()
}

pub(super) fn login_error(login: &str) -> Option<Words> {
    let fine = (2..=MAX_LOGIN_CHARS).contains(&login.chars().count())
        && login
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    (!fine).then(|| {
        words(
            format!(
                "a login has 2 to {MAX_LOGIN_CHARS} characters: lower-case letters, digits, \
                 `.`, `_` and `-`"
            ),
            format!("登录名须有 2 到 {MAX_LOGIN_CHARS} 个字符：小写字母、数字、“.”、“_”和“-”"),
        )
    })
}

pub(super) fn password_error(password: &str) -> Option<Words> {
    let n = password.chars().count();
    (!(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&n)).then(|| {
        words(
            format!("a password has {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"),
            format!("密码须有 {MIN_PASSWORD_CHARS} 到 {MAX_PASSWORD_CHARS} 个字符"),
        )
    })
}

/// Why a display name (trimmed) is refused, if it is.
pub(super) fn display_name_error(display_name: &str) -> Option<Words> {
    let fine = !display_name.is_empty()
        && display_name.chars().count() <= MAX_DISPLAY_NAME_CHARS
        && !display_name.chars().any(char::is_control);
    (!fine).then(|| {
        words(
            format!(
                "a display name has 1 to {MAX_DISPLAY_NAME_CHARS} characters and no control \
                 characters"
            ),
            format!("姓名须有 1 到 {MAX_DISPLAY_NAME_CHARS} 个字符，不能含控制字符"),
        )
    })
}
