//! API tokens: creation (the secret is shown once and stored only as a hash), listing,
//! revocation, and authentication of a presented secret.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use entity::{Role, api_token, city};
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use sha2::{Digest, Sha256};

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

/// Creates a token. City staff need an existing city; administrators take none.
pub async fn create(
    db: &impl ConnectionTrait,
    name: &str,
    role: Role,
    city_code: Option<&str>,
) -> AppResult<NewToken> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(AppError::BadUserInput(format!(
            "a token name must have 1 to {MAX_NAME_CHARS} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(AppError::BadUserInput(
            "a token name must not contain control characters".into(),
        ));
    }
    let city_code = match (role, city_code) {
        (Role::Admin, None) => None,
        (Role::Admin, Some(_)) => {
            return Err(AppError::BadUserInput(
                "an admin token is not bound to a city".into(),
            ));
        }
        (Role::CityStaff, None) => {
            return Err(AppError::BadUserInput(
                "a city-staff token needs --city".into(),
            ));
        }
        (Role::CityStaff, Some(code)) => {
            if city::Entity::find_by_id(code.to_owned())
                .one(db)
                .await?
                .is_none()
            {
                return Err(AppError::NotFound(format!(
                    "there is no city with code {code}"
                )));
            }
            Some(code.to_owned())
        }
    };
    let mut bytes = [0u8; 32];
    StdRng::from_os_rng().fill_bytes(&mut bytes);
    let secret = format!("{SECRET_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let token = api_token::ActiveModel {
        id: NotSet,
        name: Set(name.to_owned()),
        role: Set(role),
        city_code: Set(city_code),
        secret_hash: Set(hash_secret(&secret)),
        created_at: Set(crate::domain::now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(NewToken { token, secret })
}

/// Every token, oldest first (hashes included; callers show what they need).
pub async fn list(db: &impl ConnectionTrait) -> AppResult<Vec<api_token::Model>> {
    Ok(api_token::Entity::find()
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

/// Whether token `id` exists and is not revoked.
pub async fn is_live(db: &impl ConnectionTrait, id: i64) -> AppResult<bool> {
    Ok(api_token::Entity::find_by_id(id)
        .one(db)
        .await?
        .is_some_and(|token| token.revoked_at.is_none()))
}

/// The live (not revoked) token whose secret this is, if any. Refreshes `last_used_at` at most
/// once a minute.
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
    if token
        .last_used_at
        .is_none_or(|at| now - at > LAST_USED_RESOLUTION)
    {
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
