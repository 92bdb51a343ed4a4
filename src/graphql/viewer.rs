//! `viewer`: who the API takes the caller to be.

use async_graphql::{Context, Enum, ID, Object, Result};
use entity::api_token;

use super::error::to_graphql;
use super::node::NodeKey;
use crate::domain::Actor;
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

/// A bearer credential's kind.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::CredentialKind")]
pub enum Credential {
    /// An API token, for a program.
    ApiToken,
    /// A person's sign-in.
    Session,
}

/// The caller, as its credential identifies it.
pub struct Viewer {
    token_id: i64,
    name: String,
    role: Role,
    city_code: Option<String>,
    credential: Credential,
    ends_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<&api_token::Model> for Viewer {
    fn from(token: &api_token::Model) -> Self {
        Self {
            token_id: token.id,
            name: token.name.clone(),
            role: token.role.into(),
            city_code: token.city_code.clone(),
            credential: token.kind.into(),
            ends_at: crate::service::accounts::ends_at(token, crate::domain::now()),
        }
    }
}

/// The caller, as its token identifies it.
#[Object]
impl Viewer {
    /// Opaque, stable global id (Relay's `Node`) of the caller's token; `node(id:)` answers it
    /// to the token's holder only.
    pub async fn id(&self) -> ID {
        NodeKey::Viewer(self.token_id).id()
    }

    /// Who: a person signed in as "display name (login)", e.g. "张三 (zhangsan)"; an API
    /// token's name, e.g. "Jiaozuo office".
    async fn name(&self) -> &str {
        &self.name
    }

    /// How the caller signed in: a person's session or a program's API token.
    async fn credential(&self) -> Credential {
        self.credential
    }

    /// When the credential stops working at the latest, if unused from now on (a session's
    /// idle limit or its absolute one, a token's expiry); null: never.
    async fn expires_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.ends_at
    }

    /// The token's role.
    async fn role(&self) -> Role {
        self.role
    }

    /// The city a CITY_STAFF token may write; null for ADMIN.
    async fn city_code(&self) -> Option<ID> {
        self.city_code.clone().map(ID)
    }
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
            Actor::Token(token) => Ok(Some(Viewer::from(token))),
        }
    }
}
