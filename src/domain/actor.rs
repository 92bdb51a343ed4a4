//! Who asks: the caller of one request, as the services see it (resolved from a bearer token by
//! `auth`).

use entity::{Role, api_token};

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
