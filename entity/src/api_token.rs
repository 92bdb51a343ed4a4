//! `api_tokens`: bearer credentials: programs' API tokens and people's sessions (see `kind`). The
//! secret itself is never stored, only its SHA-256.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "api_tokens")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub role: crate::Role,
    /// The city a `CITY_STAFF` token may write; null for `ADMIN`.
    pub city_code: Option<String>,
    /// SHA-256 of the secret, base64url without padding.
    pub secret_hash: String,
    pub created_at: DateTimeUtc,
    pub last_used_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    /// A program's token or a person's session.
    pub kind: crate::CredentialKind,
    /// The account a session signed in to; null for an API token.
    pub account_id: Option<i64>,
    /// When it stops working; null: never (tokens made before expiries existed).
    pub expires_at: Option<DateTimeUtc>,
    /// A session ends after this many seconds without use; null: no idle limit.
    pub idle_secs: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
