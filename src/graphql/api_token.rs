//! Programs' API tokens, for administrators: `createApiToken` (the secret in the answer once),
//! `rotateApiToken`, `revokeApiToken` and `apiTokens`. Each has an expiry: by default
//! `--api-token-days` ahead, at most `--api-token-max-days`; tokens made before expiries
//! existed have none.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::api_token;

use super::account::{actor, db};
use super::error::to_graphql;
use super::viewer::Role;
use super::write::UserError;
use crate::code::Code;
use crate::domain::write::{At, words};
use crate::error::AppError;
use crate::service::tokens;
use crate::service::writes::admin;

/// How long API tokens last: the default and the most an administrator may give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenLifetimes {
    /// Days a token lasts when `expiresAt` is not given.
    pub default_days: u32,
    /// The most days ahead `expiresAt` may be.
    pub max_days: u32,
}

/// A program's API token (never its secret).
pub struct ApiToken(pub api_token::Model);

/// A program's API token (never its secret).
#[Object]
impl ApiToken {
    /// Its number, as `token list` and the audit trail show it.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Its name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// What it may do.
    async fn role(&self) -> Role {
        self.0.role.into()
    }
    /// The city of a city-staff token.
    async fn city_code(&self) -> Option<ID> {
        self.0.city_code.clone().map(ID)
    }
    /// When it was made.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it stops working; null: never (tokens made before expiries existed).
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }
    /// When it was last used (to the minute).
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at
    }
    /// When it was revoked; null while it works.
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
}

/// What the API-token mutations answer.
#[derive(SimpleObject)]
pub struct ApiTokenPayload {
    /// The token as stored.
    api_token: Option<ApiToken>,
    /// `createApiToken` and `rotateApiToken`: the secret, shown once.
    secret: Option<String>,
    /// Why not.
    user_errors: Vec<UserError>,
}

/// A new API token.
#[derive(InputObject)]
pub struct CreateApiTokenInput {
    /// What it is for, e.g. "dashboard build".
    name: String,
    /// What it may do.
    role: Role,
    /// The city of a city-staff token.
    city_code: Option<ID>,
    /// When it stops working (default and most: the server's `--api-token-days` and
    /// `--api-token-max-days`).
    expires_at: Option<DateTime<Utc>>,
}

/// An API token, by id.
#[derive(InputObject)]
pub struct ApiTokenKeyInput {
    /// Its id.
    id: ID,
}

/// API tokens, for administrators.
#[derive(Default)]
pub struct ApiTokenQuery;

#[Object]
impl ApiTokenQuery {
    /// Every API token (not people's sessions), oldest first. ADMIN only.
    async fn api_tokens(&self, ctx: &Context<'_>) -> Result<Vec<ApiToken>> {
        admin(actor(ctx)?).map_err(|e| to_graphql(&e))?;
        let all = tokens::list_api_tokens(db(ctx)?)
            .await
            .map_err(|e| to_graphql(&e))?;
        Ok(all.into_iter().map(ApiToken).collect())
    }
}

/// API tokens' mutations.
#[derive(Default)]
pub struct ApiTokenMutation;

#[Object]
impl ApiTokenMutation {
    /// Makes an API token for a program; the secret is in this answer only. ADMIN only.
    async fn create_api_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Its name, role, city and expiry.")] input: CreateApiTokenInput,
    ) -> Result<ApiTokenPayload> {
        admin(actor(ctx)?).map_err(|e| to_graphql(&e))?;
        let lifetimes = ctx.data::<TokenLifetimes>()?;
        let now = crate::domain::now();
        let latest = now + chrono::Duration::days(i64::from(lifetimes.max_days));
        let expires_at = input
            .expires_at
            .unwrap_or(now + chrono::Duration::days(i64::from(lifetimes.default_days)));
        if expires_at > latest {
            let days = lifetimes.max_days;
            return Ok(token_refused(UserError::from(At::INPUT.bad(
                "expiresAt",
                words(
                    format!("a token lasts at most {days} days: expiresAt must be before {latest}"),
                    format!(
                        "令牌最长有效 {days} 天：到期时间须早于 {}",
                        crate::domain::china_time(latest)
                    ),
                ),
            ))));
        }
        let made = tokens::create_expiring(
            db(ctx)?,
            &input.name,
            input.role.into(),
            input.city_code.as_deref().map(String::as_str),
            Some(expires_at),
        )
        .await
        .map_err(|e| to_graphql(&e))?;
        Ok(answer(made.map(|new| (new.token, Some(new.secret)))))
    }

    /// Gives an API token a new secret (in this answer only); the old one stops working. ADMIN
    /// only.
    async fn rotate_api_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The token's id.")] input: ApiTokenKeyInput,
    ) -> Result<ApiTokenPayload> {
        admin(actor(ctx)?).map_err(|e| to_graphql(&e))?;
        let id = match input.stored_id() {
            Ok(id) => id,
            Err(refused) => return Ok(token_refused(refused)),
        };
        let rotated = tokens::rotate(db(ctx)?, id)
            .await
            .map_err(|e| to_graphql(&e))?;
        Ok(answer(rotated.map(|new| (new.token, Some(new.secret)))))
    }

    /// Revokes an API token (its revisions stay readable). ADMIN only.
    async fn revoke_api_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The token's id.")] input: ApiTokenKeyInput,
    ) -> Result<ApiTokenPayload> {
        admin(actor(ctx)?).map_err(|e| to_graphql(&e))?;
        let id = match input.stored_id() {
            Ok(id) => id,
            Err(refused) => return Ok(token_refused(refused)),
        };
        let revoked = match tokens::revoke(db(ctx)?, id).await {
            Ok(token) => Ok((token, None)),
            Err(AppError::NotFound(_)) => Err(tokens::no_such_token(id)),
            Err(err) => return Err(to_graphql(&err)),
        };
        Ok(answer(revoked))
    }
}

impl ApiTokenKeyInput {
    /// The id as stored, or the refusal of one that names no token.
    fn stored_id(&self) -> std::result::Result<i64, UserError> {
        self.id.parse().map_err(|_| not_a_token(&self.id))
    }
}

/// A token step's answer: the token (and its secret, when new), or the refusal of its input.
fn answer(
    done: Result<(api_token::Model, Option<String>), impl Into<UserError>>,
) -> ApiTokenPayload {
    match done {
        Ok((token, secret)) => ApiTokenPayload {
            api_token: Some(ApiToken(token)),
            secret,
            user_errors: Vec::new(),
        },
        Err(refusal) => token_refused(refusal.into()),
    }
}

fn token_refused(error: UserError) -> ApiTokenPayload {
    ApiTokenPayload {
        api_token: None,
        secret: None,
        user_errors: vec![error],
    }
}

fn not_a_token(id: &ID) -> UserError {
    let id = id.as_str();
    At::INPUT
        .error(
            "id",
            Code::NotFound,
            words(
                format!("there is no API token with id {id}"),
                format!("没有编号为 {id} 的令牌"),
            ),
        )
        .into()
}
