//! The library's error type. Internal causes (database errors) are logged where they are turned
//! into GraphQL errors (`graphql::error`) and never sent to clients.

use sea_orm::DbErr;

/// Every failure a service call can report.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The caller sent something unusable: a bad cursor, a negative page size, an unknown code.
    #[error("{0}")]
    BadUserInput(String),
    /// The thing asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The caller's credentials are missing, malformed, unknown or revoked.
    #[error("{0}")]
    Unauthenticated(String),
    /// The caller is known but may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The database failed; the cause is logged, the client sees a generic message.
    #[error("database error: {0}")]
    Database(#[from] DbErr),
    /// Something else failed on our side (the cause is logged, the client sees a generic
    /// message).
    #[error("internal error: {0}")]
    Internal(String),
}

/// Result alias for service calls.
pub type AppResult<T> = Result<T, AppError>;
