//! Who is asking: a bearer token (`Authorization: Bearer <secret>`) resolved to an [`Actor`].
//! Reads need no token; writes (a later issue) check the actor in the service layer.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use entity::{Role, api_token};
use sea_orm::ConnectionTrait;

use crate::error::AppResult;
use crate::service::tokens;

/// The caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// No credentials: may read.
    Anonymous,
    /// Credentials that are malformed, unknown or revoked: may read, and every field that needs
    /// an identity answers UNAUTHENTICATED, so a client learns its token is bad.
    Rejected,
    /// A live token.
    Token(api_token::Model),
}

impl Actor {
    /// The role, for a live token.
    pub fn role(&self) -> Option<Role> {
        match self {
            Actor::Token(token) => Some(token.role),
            _ => None,
        }
    }
}

/// The actor of a request with these headers. A database failure is an error; bad credentials
/// are [`Actor::Rejected`].
pub async fn actor(db: &impl ConnectionTrait, headers: &HeaderMap) -> AppResult<Actor> {
    match headers.get(AUTHORIZATION) {
        None => Ok(Actor::Anonymous),
        Some(value) => match value.to_str() {
            Ok(value) => actor_from_authorization(db, value).await,
            Err(_) => Ok(Actor::Rejected),
        },
    }
}

/// The actor for an `Authorization` value (`Bearer <secret>`), from a header or a WebSocket's
/// `connection_init` payload.
pub async fn actor_from_authorization(db: &impl ConnectionTrait, value: &str) -> AppResult<Actor> {
    let Some(secret) = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|s| !s.is_empty())
    else {
        return Ok(Actor::Rejected);
    };
    Ok(tokens::authenticate(db, secret)
        .await?
        .map_or(Actor::Rejected, Actor::Token))
}
