//! Who is asking: a bearer token (`Authorization: Bearer <secret>`) resolved to an [`Actor`].
//! Reads need no token; writes (a later issue) check the actor in the service layer.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use sea_orm::ConnectionTrait;

pub use crate::domain::Actor;
use crate::error::AppResult;
use crate::service::tokens;

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
