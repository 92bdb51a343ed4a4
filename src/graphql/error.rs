//! The only place GraphQL error codes (`extensions.code`) are written. Clients branch on these
//! codes; messages are for people. Internal causes are logged here and never sent.

use async_graphql::{Error, ErrorExtensions};

use crate::error::AppError;

/// The input was unusable (bad cursor, negative `first`, a rate out of range…).
pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
/// The thing asked for does not exist.
pub const NOT_FOUND: &str = "NOT_FOUND";
/// Credentials are needed, or the ones given are malformed, unknown or revoked.
pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
/// The caller may not do this.
pub const FORBIDDEN: &str = "FORBIDDEN";
/// An automatic persisted query's hash is not known (yet): send the query with its hash.
pub const PERSISTED_QUERY_NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";
/// Something failed on our side; the log has the cause.
pub const INTERNAL_SERVER_ERROR: &str = "INTERNAL_SERVER_ERROR";

/// The GraphQL error a client sees for `err`.
pub fn to_graphql(err: &AppError) -> Error {
    let (code, message) = match err {
        AppError::BadUserInput(message) => (BAD_USER_INPUT, message.clone()),
        AppError::NotFound(message) => (NOT_FOUND, message.clone()),
        AppError::Unauthenticated(message) => (UNAUTHENTICATED, message.clone()),
        AppError::Forbidden(message) => (FORBIDDEN, message.clone()),
        AppError::Database(cause) => {
            tracing::error!(error = %cause, "database error while answering a request");
            (
                INTERNAL_SERVER_ERROR,
                "internal error; it has been logged".to_owned(),
            )
        }
    };
    Error::new(message).extend_with(|_, ext| ext.set("code", code))
}

/// `.gql()?` in resolvers: a service result into a GraphQL result with its code.
pub trait GqlResultExt<T> {
    /// Converts the error with [`to_graphql`].
    fn gql(self) -> async_graphql::Result<T>;
}

impl<T> GqlResultExt<T> for Result<T, AppError> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(|e| to_graphql(&e))
    }
}

impl<T> GqlResultExt<T> for Result<T, std::sync::Arc<AppError>> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(|e| to_graphql(&e))
    }
}

/// Gives a code to the errors async-graphql raises itself without one, so that every error a
/// client sees carries `extensions.code`: the persisted-query errors (Apollo clients resend the
/// full query on PERSISTED_QUERY_NOT_FOUND).
pub fn add_missing_codes(response: &mut async_graphql::Response) {
    for error in &mut response.errors {
        if error
            .extensions
            .as_ref()
            .is_some_and(|e| e.get("code").is_some())
        {
            continue;
        }
        let code = match error.message.as_str() {
            "PersistedQueryNotFound" => PERSISTED_QUERY_NOT_FOUND,
            m if m.contains("PersistedQuery") || m == "provided sha does not match query" => {
                BAD_USER_INPUT
            }
            _ => continue,
        };
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", code);
    }
}
