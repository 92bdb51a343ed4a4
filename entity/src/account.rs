//! `accounts`: people who sign in (a login and a password) to act as the province's
//! administrators or a city's staff. Only an Argon2id hash of the password is stored.

use sea_orm::entity::prelude::*;

#[derive(Clone, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "accounts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The name typed at sign-in: unique, lower-case letters, digits, `.`, `_` and `-`.
    pub login: String,
    /// The person's name as the audit trail shows it, e.g. 张三.
    pub display_name: String,
    pub role: crate::Role,
    /// The city a `CITY_STAFF` account acts for; null for `ADMIN`.
    pub city_code: Option<String>,
    /// Argon2id, in the PHC string format (parameters and salt included).
    pub password_hash: String,
    /// Set for a password the person did not choose (made by an administrator): sign-in asks
    /// for a new one.
    pub must_change_password: bool,
    pub created_at: DateTimeUtc,
    /// Set when an administrator disabled the account: no sign-in, every session ended.
    pub disabled_at: Option<DateTimeUtc>,
    /// Bumped by every accepted change.
    pub version: i32,
}

/// Hand-written so that the password's hash never reaches a log line or a panic message.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("id", &self.id)
            .field("login", &self.login)
            .field("display_name", &self.display_name)
            .field("role", &self.role)
            .field("city_code", &self.city_code)
            .field("password_hash", &"<redacted>")
            .field("must_change_password", &self.must_change_password)
            .field("disabled_at", &self.disabled_at)
            .finish()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
