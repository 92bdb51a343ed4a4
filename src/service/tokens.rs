//! Bearer credentials: programs' API tokens and people's sessions ([`super::accounts`]), one
//! table. Creation (the secret is shown once and stored only as a hash), listing, rotation,
//! revocation, and authentication of a presented secret: live, not revoked, not expired, and for
//! a session not idle for longer than its limit.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use chrono::{DateTime, Utc};
use entity::{CredentialKind, Role, api_token, city};
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use sha2::{Digest, Sha256};

use crate::code::Code;
use crate::domain::write::{At, UserError, no_such_city, words};
use crate::error::{AppError, AppResult};

/// Every secret starts with this, so a leaked one is recognisable (e.g. by secret scanners).
const SECRET_PREFIX: &str = "cov_";

/// How stale `last_used_at` may get before a request refreshes it: one write a minute per token
/// at most, not one per request.
const LAST_USED_RESOLUTION: Duration = Duration::seconds(60);

/// Longest token name.
const MAX_NAME_CHARS: usize = 200;

/// A new token and its secret, which exists nowhere else.
#[derive(Clone)]
pub struct NewToken {
    /// The stored record.
    pub token: api_token::Model,
    /// The bearer secret: 256 random bits, base64url, prefixed.
    pub secret: String,
}

/// Hand-written so that the secret never reaches a log line or a panic message.
impl std::fmt::Debug for NewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewToken")
            .field("token", &self.token)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// The stored form of a secret: SHA-256, base64url. A fast hash is right here: the secret is
/// 256 random bits, so there is nothing for a slow hash to protect against guessing.
pub fn hash_secret(secret: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(secret.as_bytes()))
}

/// Creates an API token that never expires (the command line's, and tests'). City staff need an
/// existing city; administrators take none.
pub async fn create(
    db: &impl ConnectionTrait,
    name: &str,
    role: Role,
    city_code: Option<&str>,
) -> AppResult<NewToken> {
    create_expiring(db, name, role, city_code, None)
        .await?
        .map_err(refused_input)
}

/// A refusal of the input as the command line and tests see it: an error with its English words.
pub fn refused_input(refusal: UserError) -> AppError {
    match refusal.code {
        Code::NotFound => AppError::NotFound(refusal.message),
        _ => AppError::BadUserInput(refusal.message),
    }
}

/// Creates an API token ending at `expires_at` (none: never), or refuses its input.
pub async fn create_expiring(
    db: &impl ConnectionTrait,
    name: &str,
    role: Role,
    city_code: Option<&str>,
    expires_at: Option<DateTime<Utc>>,
) -> AppResult<Result<NewToken, UserError>> {
    let at = At::INPUT;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Ok(Err(at.bad(
            "name",
            words(
                format!("a token name must have 1 to {MAX_NAME_CHARS} characters"),
                format!("名称须有 1 到 {MAX_NAME_CHARS} 个字符"),
            ),
        )));
    }
    if name.chars().any(char::is_control) {
        return Ok(Err(at.bad(
            "name",
            words(
                "a token name must not contain control characters",
                "名称不能含控制字符",
            ),
        )));
    }
    let city_code = match city_of(db, role, city_code).await? {
        Ok(city_code) => city_code,
        Err(refusal) => return Ok(Err(refusal)),
    };
    if expires_at.is_some_and(|at| at <= crate::domain::now()) {
        return Ok(Err(at.bad(
            "expiresAt",
            words(
                "a token's expiry must be in the future",
                "到期时间须晚于现在",
            ),
        )));
    }
    issue(
        db,
        Issue {
            name,
            role,
            city_code: city_code.as_deref(),
            kind: CredentialKind::ApiToken,
            account_id: None,
            expires_at,
            idle_secs: None,
        },
    )
    .await
    .map(Ok)
}

/// The city a `role` is bound to, checked: city staff need an existing city, administrators none.
/// A refusal concerns the input's `cityCode`.
pub async fn city_of(
    db: &impl ConnectionTrait,
    role: Role,
    city_code: Option<&str>,
) -> AppResult<Result<Option<String>, UserError>> {
    let at = At::INPUT;
    Ok(match (role, city_code) {
        (Role::Admin, None) => Ok(None),
        (Role::Admin, Some(_)) => Err(at.bad(
            "cityCode",
            words(
                "an administrator is not bound to a city",
                "省级管理员不属于某个城市：请不要选城市",
            ),
        )),
        (Role::CityStaff, None) => Err(at.bad(
            "cityCode",
            words(
                "city staff need their city's code",
                "市级填报人员须选择所属城市",
            ),
        )),
        (Role::CityStaff, Some(code)) => {
            if city::Entity::find_by_id(code.to_owned())
                .one(db)
                .await?
                .is_none()
            {
                Err(at.error("cityCode", Code::NotFound, no_such_city(code)))
            } else {
                Ok(Some(code.to_owned()))
            }
        }
    })
}

/// A credential to store, its fields checked by the caller.
pub struct Issue<'a> {
    /// Its name, as the audit trail shows it.
    pub name: &'a str,
    /// What it may do.
    pub role: Role,
    /// The city of city staff.
    pub city_code: Option<&'a str>,
    /// A program's token or a person's session.
    pub kind: CredentialKind,
    /// The session's account.
    pub account_id: Option<i64>,
    /// When it ends (none: never).
    pub expires_at: Option<DateTime<Utc>>,
    /// A session's idle limit.
    pub idle_secs: Option<i32>,
}

/// A new random secret: 256 bits, base64url, prefixed.
fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    StdRng::from_os_rng().fill_bytes(&mut bytes);
    format!("{SECRET_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Stores `issue` with a new secret; the secret is returned once.
pub async fn issue(db: &impl ConnectionTrait, issue: Issue<'_>) -> AppResult<NewToken> {
    let secret = new_secret();
    let token = api_token::ActiveModel {
        id: NotSet,
        name: Set(issue.name.to_owned()),
        role: Set(issue.role),
        city_code: Set(issue.city_code.map(str::to_owned)),
        secret_hash: Set(hash_secret(&secret)),
        created_at: Set(crate::domain::now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
        kind: Set(issue.kind),
        account_id: Set(issue.account_id),
        expires_at: Set(issue.expires_at),
        idle_secs: Set(issue.idle_secs),
    }
    .insert(db)
    .await?;
    Ok(NewToken { token, secret })
}

/// Gives API token `id` a new secret (shown once); the old one stops working at once. A revoked
/// or expired token, or a session, cannot be rotated: refusals concern the input's `id`.
pub async fn rotate(db: &impl ConnectionTrait, id: i64) -> AppResult<Result<NewToken, UserError>> {
    let Some(token) = api_token::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|t| t.kind == CredentialKind::ApiToken)
    else {
        return Ok(Err(no_such_token(id)));
    };
    if !is_valid(&token, crate::domain::now()) {
        return Ok(Err(At::INPUT.bad(
            "id",
            words(
                format!("token {id} is revoked or expired: make a new one"),
                format!("令牌 {id} 已撤销或过期：请新建一个"),
            ),
        )));
    }
    let secret = new_secret();
    let mut active: api_token::ActiveModel = token.into();
    active.secret_hash = Set(hash_secret(&secret));
    let token = active.update(db).await?;
    Ok(Ok(NewToken { token, secret }))
}

/// The refusal of an unknown token id.
pub fn no_such_token(id: i64) -> UserError {
    At::INPUT.error(
        "id",
        Code::NotFound,
        words(
            format!("there is no API token with id {id}"),
            format!("没有编号为 {id} 的令牌"),
        ),
    )
}

/// Whether `token` works at `now`: not revoked, not expired, and (a session) not idle too long.
pub fn is_valid(token: &api_token::Model, now: DateTime<Utc>) -> bool {
    let idle_ok = token.idle_secs.is_none_or(|secs| {
        let last = token.last_used_at.unwrap_or(token.created_at);
        now - last < Duration::seconds(i64::from(secs))
    });
    token.revoked_at.is_none() && token.expires_at.is_none_or(|at| now < at) && idle_ok
}

/// Every token, oldest first (hashes included; callers show what they need).
pub async fn list(db: &impl ConnectionTrait) -> AppResult<Vec<api_token::Model>> {
    Ok(api_token::Entity::find()
        .order_by_asc(api_token::Column::Id)
        .all(db)
        .await?)
}

/// Every API token (programs' credentials, not people's sessions, which accumulate), oldest
/// first: one statement.
pub async fn list_api_tokens(db: &impl ConnectionTrait) -> AppResult<Vec<api_token::Model>> {
    Ok(api_token::Entity::find()
        .filter(api_token::Column::Kind.eq(CredentialKind::ApiToken))
        .order_by_asc(api_token::Column::Id)
        .all(db)
        .await?)
}

/// Revokes a token; revoking twice keeps the first time. Its history stays readable.
pub async fn revoke(db: &impl ConnectionTrait, id: i64) -> AppResult<api_token::Model> {
    let token = api_token::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("there is no token with id {id}")))?;
    if token.revoked_at.is_some() {
        return Ok(token);
    }
    let mut active: api_token::ActiveModel = token.into();
    active.revoked_at = Set(Some(crate::domain::now()));
    Ok(active.update(db).await?)
}

/// Whether token `id` exists and works now (not revoked, not expired).
pub async fn is_live(db: &impl ConnectionTrait, id: i64) -> AppResult<bool> {
    let now = crate::domain::now();
    Ok(api_token::Entity::find_by_id(id)
        .one(db)
        .await?
        .is_some_and(|token| {
            // A socket is in use while it is open: its session's idle limit does not apply.
            token.revoked_at.is_none() && token.expires_at.is_none_or(|at| now < at)
        }))
}

/// The working credential whose secret this is, if any ([`is_valid`]). Refreshes `last_used_at`
/// at most once a minute (for a session, at most once a quarter of its idle limit).
pub async fn authenticate(
    db: &impl ConnectionTrait,
    secret: &str,
) -> AppResult<Option<api_token::Model>> {
    let Some(token) = api_token::Entity::find()
        .filter(api_token::Column::SecretHash.eq(hash_secret(secret)))
        .filter(api_token::Column::RevokedAt.is_null())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let now = crate::domain::now();
    if !is_valid(&token, now) {
        return Ok(None);
    }
    let resolution = token.idle_secs.map_or(LAST_USED_RESOLUTION, |secs| {
        LAST_USED_RESOLUTION.min(Duration::seconds(i64::from(secs) / 4))
    });
    if token.last_used_at.is_none_or(|at| now - at > resolution) {
        api_token::Entity::update_many()
            .col_expr(api_token::Column::LastUsedAt, Expr::value(now))
            .filter(api_token::Column::Id.eq(token.id))
            .exec(db)
            .await?;
    }
    Ok(Some(token))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_new_tokens_debug_form_hides_the_secret() {
        let new = super::NewToken {
            token: entity::api_token::Model {
                id: 1,
                name: "Jiaozuo office".into(),
                secret_hash: "hash".into(),
                role: entity::Role::CityStaff,
                city_code: Some("410800".into()),
                created_at: chrono::Utc::now(),
                last_used_at: None,
                revoked_at: None,
                kind: entity::CredentialKind::ApiToken,
                account_id: None,
                expires_at: None,
                idle_secs: None,
            },
            secret: "cov_secret".into(),
        };
        let shown = format!("{new:?}");
        assert!(
            !shown.contains("cov_secret") && shown.contains("<redacted>"),
            "{shown}"
        );
    }
}
