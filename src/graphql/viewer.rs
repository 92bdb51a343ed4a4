//! `viewer`: who the API takes the caller to be.

use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};

use super::error::to_graphql;
use crate::auth::Actor;
use crate::error::AppError;

/// What a token may do.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::Role")]
pub enum Role {
    /// Province administrator (省科协): may write anything.
    Admin,
    /// A city office (市科协): may write its own city's figures only.
    CityStaff,
}

/// The caller, as its token identifies it.
#[derive(SimpleObject)]
pub struct Viewer {
    /// The token's name, e.g. "Jiaozuo office".
    pub name: String,
    /// The token's role.
    pub role: Role,
    /// The city a CITY_STAFF token may write; null for ADMIN.
    pub city_code: Option<ID>,
}

/// Identity queries.
#[derive(Default)]
pub struct ViewerQuery;

#[Object]
impl ViewerQuery {
    /// Who the caller is: null without a token; an UNAUTHENTICATED error for a token that is
    /// malformed, unknown or revoked.
    async fn viewer(&self, ctx: &Context<'_>) -> Result<Option<Viewer>> {
        match ctx.data::<Actor>()? {
            Actor::Anonymous => Ok(None),
            Actor::Rejected => Err(to_graphql(&AppError::Unauthenticated(
                "the bearer token is malformed, unknown or revoked".into(),
            ))),
            Actor::Token(token) => Ok(Some(Viewer {
                name: token.name.clone(),
                role: token.role.into(),
                city_code: token.city_code.clone().map(ID),
            })),
        }
    }
}
