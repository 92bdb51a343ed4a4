//! People's accounts and their sign-ins.
//!
//! An administrator creates an account (a login, a display name, a role and a city for city
//! staff) with a one-time password the person changes at first sign-in. Signing in with the
//! right password gives a **session**: a bearer credential in the tokens' table
//! ([`tokens::issue`]), so that every path that takes a token takes it the same way, named after
//! the person in the audit trail ("张三 (zhangsan)"), ending after an idle and an absolute limit,
//! by signing out, or when an administrator disables the account (every session at once).
//! Wrong passwords earn waits ([`super::passwords::Attempts`]); an unknown login and a wrong
//! password get the same answer.

use std::net::IpAddr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use entity::{CredentialKind, Role, account, api_token};
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};

mod rules;

pub use rules::normal_login;
use rules::{display_name_error, login_error, password_error};

use super::passwords::{AttemptKey, Attempts, Busy, Passwords};
use super::tokens::{self, Issue, NewToken, city_of};
use crate::code::Code;
use crate::domain::write::{At, UserError, Words, words};
use crate::error::{AppError, AppResult};

/// The shortest password a person may choose.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// The longest password (Argon2 takes any length; this bounds the work a request brings).
pub const MAX_PASSWORD_CHARS: usize = 200;
/// The longest login.
pub const MAX_LOGIN_CHARS: usize = 64;
/// The longest display name.
pub const MAX_DISPLAY_NAME_CHARS: usize = 100;

/// How long sessions last: after `idle` without use, and at most `max` after signing in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    /// Seconds without use that end a session.
    pub idle_secs: u32,
    /// Seconds after sign-in that end it whatever its use.
    pub max_secs: u32,
}

/// What accounts need at run time (cheap to clone): the hasher, the waits, the limits.
#[derive(Debug, Clone)]
pub struct Accounts {
    /// The instance's password hasher.
    pub passwords: Passwords,
    /// Wrong sign-ins and their waits.
    pub attempts: Attempts,
    /// How long sessions last.
    pub sessions: SessionLimits,
}

impl Accounts {
    /// One instance's: `concurrency` hashing places, no waits yet, sessions lasting `sessions`.
    pub fn new(concurrency: usize, sessions: SessionLimits) -> Self {
        Self {
            passwords: super::passwords::Passwords::new(concurrency),
            attempts: super::passwords::Attempts,
            sessions,
        }
    }
}

/// A refusal of an account's input, a sign-in or a password change, for its `userErrors`.
pub type Refused = UserError;

fn refused(field: &'static str, code: Code, words: Words) -> Refused {
    At::INPUT.error(field, code, words)
}

impl From<Busy> for Refused {
    fn from(_: Busy) -> Self {
        refused(
            "password",
            Code::Busy,
            words(
                "every place for checking passwords on this server is taken; try again in a few \
                 seconds",
                "服务器正忙于核对其他密码，请几秒后再试",
            ),
        )
    }
}

/// A new account and the one-time password to hand to its person (shown once).
pub struct NewAccount {
    /// As stored.
    pub account: account::Model,
    /// To be changed at first sign-in.
    pub password: String,
}

impl std::fmt::Debug for NewAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAccount")
            .field("account", &self.account)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// A one-time password: 96 random bits, base64url (16 characters).
fn one_time_password() -> String {
    let mut bytes = [0u8; 12];
    StdRng::from_os_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Creates an account with a one-time password, or refuses its input (each refusal on the
/// field it concerns: `login`, `displayName`, `cityCode`).
pub async fn create(
    db: &impl ConnectionTrait,
    accounts: &Accounts,
    login: &str,
    display_name: &str,
    role: Role,
    city_code: Option<&str>,
) -> AppResult<Result<NewAccount, Refused>> {
    let login = normal_login(login);
    if let Some(problem) = login_error(&login) {
        return Ok(Err(refused("login", Code::BadUserInput, problem)));
    }
    let display_name = display_name.trim();
    if let Some(problem) = display_name_error(display_name) {
        return Ok(Err(refused("displayName", Code::BadUserInput, problem)));
    }
    let city_code = match city_of(db, role, city_code).await? {
        Ok(city_code) => city_code,
        Err(refusal) => return Ok(Err(refusal)),
    };
    if account::Entity::find()
        .filter(account::Column::Login.eq(login.as_str()))
        .one(db)
        .await?
        .is_some()
    {
        return Ok(Err(refused(
            "login",
            Code::BadUserInput,
            words(
                format!("the login {login} is taken"),
                format!("登录名 {login} 已被使用"),
            ),
        )));
    }
    let password = one_time_password();
    let hash = match accounts.passwords.hash(password.clone()).await {
        Ok(Some(hash)) => hash,
        Ok(None) => return Err(not_hashed()),
        Err(busy) => return Ok(Err(busy.into())),
    };
    let account = account::ActiveModel {
        id: NotSet,
        login: Set(login),
        display_name: Set(display_name.to_owned()),
        role: Set(role),
        city_code: Set(city_code),
        password_hash: Set(hash),
        must_change_password: Set(true),
        created_at: Set(crate::domain::now()),
        disabled_at: Set(None),
        version: Set(1),
    }
    .insert(db)
    .await?;
    Ok(Ok(NewAccount { account, password }))
}

/// Every account, oldest first.
pub async fn list(db: &impl ConnectionTrait) -> AppResult<Vec<account::Model>> {
    Ok(account::Entity::find()
        .order_by_asc(account::Column::Id)
        .all(db)
        .await?)
}

/// The account with `login`, if any.
pub async fn by_login(db: &impl ConnectionTrait, login: &str) -> AppResult<Option<account::Model>> {
    Ok(account::Entity::find()
        .filter(account::Column::Login.eq(normal_login(login)))
        .one(db)
        .await?)
}

/// A sign-in as a person sends it.
pub struct SignIn<'a> {
    /// The login.
    pub login: &'a str,
    /// The password.
    pub password: &'a str,
    /// A new password, required when the account's is one-time.
    pub new_password: Option<&'a str>,
    /// The client's address, when known.
    pub client: Option<IpAddr>,
}

/// Signs in: a session, or why not.
pub async fn sign_in(
    db: &sea_orm::DatabaseConnection,
    accounts: &Accounts,
    input: SignIn<'_>,
) -> AppResult<Result<NewToken, Refused>> {
    let login = normal_login(input.login);
    // A login longer than any account's names none: it is counted under the address only, so
    // that what a stranger types never grows the table's keys.
    let possible = login.chars().count() <= MAX_LOGIN_CHARS;
    let mut keys: Vec<AttemptKey> = possible
        .then(|| AttemptKey::Login(login.clone()))
        .into_iter()
        .collect();
    keys.extend(input.client.map(AttemptKey::Address));
    let now = crate::domain::now();
    if let Some(left) = accounts.attempts.wait(db, &keys, now).await? {
        metrics::counter!("coverage_api_sign_ins_total", "outcome" => "waiting").increment(1);
        let secs = left.as_secs().max(1);
        return Ok(Err(refused(
            "login",
            Code::TooManyAttempts,
            words(
                format!("too many wrong sign-ins: try again in {secs} seconds"),
                format!("登录失败次数过多：请 {secs} 秒后再试"),
            ),
        )));
    }
    if !possible || input.password.chars().count() > MAX_PASSWORD_CHARS {
        // Never hashed (it bounds the work a request brings), but counted like any wrong one.
        accounts.attempts.failed(db, &keys, now).await?;
        return Ok(Err(wrong()));
    }
    let account = by_login(db, &login).await?;
    let stored = account.as_ref().map(|a| a.password_hash.clone());
    let right = match accounts
        .passwords
        .verify(stored, input.password.to_owned())
        .await
    {
        Ok(right) => right,
        Err(busy) => return Ok(Err(busy.into())),
    };
    let Some(account) = account.filter(|_| right) else {
        accounts.attempts.failed(db, &keys, now).await?;
        metrics::counter!("coverage_api_sign_ins_total", "outcome" => "wrong").increment(1);
        return Ok(Err(wrong()));
    };
    if let Some(key) = keys.first() {
        accounts.attempts.succeeded(db, key).await?;
    }
    if account.disabled_at.is_some() {
        metrics::counter!("coverage_api_sign_ins_total", "outcome" => "disabled").increment(1);
        return Ok(Err(refused(
            "login",
            Code::AccountDisabled,
            words(
                "this account is disabled: ask the province's administrator",
                "该账号已停用：请联系省科协管理员",
            ),
        )));
    }
    let account = if account.must_change_password {
        let Some(new_password) = input.new_password else {
            return Ok(Err(refused(
                "newPassword",
                Code::PasswordChangeRequired,
                words(
                    "this password was made for you: choose your own (newPassword) to sign in",
                    "这是为您生成的初始密码：请设置自己的新密码后登录",
                ),
            )));
        };
        match set_password(db, accounts, account, input.password, new_password).await? {
            Ok(account) => account,
            Err(refusal) => return Ok(Err(refusal)),
        }
    } else {
        account
    };
    let session = issue_session(db, accounts.sessions, &account).await?;
    metrics::counter!("coverage_api_sign_ins_total", "outcome" => "ok").increment(1);
    Ok(Ok(session))
}

fn wrong() -> Refused {
    refused(
        "password",
        Code::InvalidCredentials,
        words("the login or the password is wrong", "登录名或密码不正确"),
    )
}

/// A session for `account`: named after the person, bound to its role and city.
async fn issue_session(
    db: &impl ConnectionTrait,
    limits: SessionLimits,
    account: &account::Model,
) -> AppResult<NewToken> {
    let now = crate::domain::now();
    tokens::issue(
        db,
        Issue {
            name: &session_name(account),
            role: account.role,
            city_code: account.city_code.as_deref(),
            kind: CredentialKind::Session,
            account_id: Some(account.id),
            expires_at: Some(now + chrono::Duration::seconds(i64::from(limits.max_secs))),
            idle_secs: i32::try_from(limits.idle_secs).ok(),
        },
    )
    .await
}

/// A hash that could not be made: Argon2 refuses only parameters or lengths this service never
/// gives it, so it is our failure, not the caller's.
fn not_hashed() -> AppError {
    AppError::Internal("the password could not be hashed".into())
}

/// How the audit trail names a person: "张三 (zhangsan)".
pub fn session_name(account: &account::Model) -> String {
    format!("{} ({})", account.display_name, account.login)
}

/// Checks `new` and stores its hash for `account` (the old one no longer needed); ends no session.
async fn set_password(
    db: &impl ConnectionTrait,
    accounts: &Accounts,
    account: account::Model,
    old: &str,
    new: &str,
) -> AppResult<Result<account::Model, Refused>> {
    if let Some(problem) = password_error(new) {
        return Ok(Err(refused("newPassword", Code::BadUserInput, problem)));
    }
    if new == old {
        return Ok(Err(refused(
            "newPassword",
            Code::BadUserInput,
            words(
                "choose a password other than the one you have",
                "新密码不能与原密码相同",
            ),
        )));
    }
    let hash = match accounts.passwords.hash(new.to_owned()).await {
        Ok(Some(hash)) => hash,
        Ok(None) => return Err(not_hashed()),
        Err(busy) => return Ok(Err(busy.into())),
    };
    let version = account.version;
    let mut active: account::ActiveModel = account.into();
    active.password_hash = Set(hash);
    active.must_change_password = Set(false);
    active.version = Set(version + 1);
    Ok(Ok(active.update(db).await?))
}

/// Changes the signed-in person's password (`session` is their credential); their other sessions
/// end, this one stays.
pub async fn change_password(
    db: &impl ConnectionTrait,
    accounts: &Accounts,
    session: &api_token::Model,
    old: &str,
    new: &str,
) -> AppResult<Result<account::Model, Refused>> {
    let Some(account) = session_account(db, session).await? else {
        return Err(AppError::Forbidden(
            "only a person signed in (a session) has a password to change".into(),
        ));
    };
    let stored = Some(account.password_hash.clone());
    match accounts.passwords.verify(stored, old.to_owned()).await {
        Ok(true) => {}
        Ok(false) => {
            return Ok(Err(refused(
                "oldPassword",
                Code::InvalidCredentials,
                words("the current password is wrong", "原密码不正确"),
            )));
        }
        Err(busy) => return Ok(Err(busy.into())),
    }
    let changed = set_password(db, accounts, account, old, new).await?;
    if let Ok(account) = &changed {
        end_sessions(db, account.id, Some(session.id)).await?;
    }
    Ok(changed)
}

/// The account a session belongs to (none for an API token).
pub async fn session_account(
    db: &impl ConnectionTrait,
    credential: &api_token::Model,
) -> AppResult<Option<account::Model>> {
    match (credential.kind, credential.account_id) {
        (CredentialKind::Session, Some(id)) => Ok(account::Entity::find_by_id(id).one(db).await?),
        _ => Ok(None),
    }
}

/// Ends every live session of account `id` but `keep`.
async fn end_sessions(db: &impl ConnectionTrait, id: i64, keep: Option<i64>) -> AppResult<u64> {
    let mut ended = api_token::Entity::update_many()
        .col_expr(
            api_token::Column::RevokedAt,
            Expr::value(crate::domain::now()),
        )
        .filter(api_token::Column::AccountId.eq(id))
        .filter(api_token::Column::Kind.eq(CredentialKind::Session))
        .filter(api_token::Column::RevokedAt.is_null());
    if let Some(keep) = keep {
        ended = ended.filter(api_token::Column::Id.ne(keep));
    }
    Ok(ended.exec(db).await?.rows_affected)
}

/// Disables the account with `login` and ends every session of it, at once and together; with
/// the number of sessions ended.
pub async fn disable(
    db: &sea_orm::DatabaseConnection,
    login: &str,
) -> AppResult<Result<(account::Model, u64), Refused>> {
    let txn = db.begin().await?;
    let Some(account) = by_login(&txn, login).await? else {
        let login = normal_login(login);
        return Ok(Err(refused(
            "login",
            Code::NotFound,
            words(
                format!("there is no account with the login {login}"),
                format!("没有登录名为 {login} 的账号"),
            ),
        )));
    };
    let account = if account.disabled_at.is_some() {
        account
    } else {
        let version = account.version;
        let mut active: account::ActiveModel = account.into();
        active.disabled_at = Set(Some(crate::domain::now()));
        active.version = Set(version + 1);
        active.update(&txn).await?
    };
    let ended = end_sessions(&txn, account.id, None).await?;
    txn.commit().await?;
    Ok(Ok((account, ended)))
}

/// When a session ends at the latest, for `viewer`: its absolute limit or its idle limit from
/// now, whichever comes first; a token's expiry.
pub fn ends_at(credential: &api_token::Model, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let idle = credential
        .idle_secs
        .map(|secs| now + chrono::Duration::seconds(i64::from(secs)));
    match (credential.expires_at, idle) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests;
