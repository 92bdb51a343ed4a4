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
/// The document is not GraphQL.
pub const GRAPHQL_PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
/// The document does not fit the schema (unknown field, wrong argument type…).
pub const GRAPHQL_VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
/// A mutation sent by GET or over the WebSocket: mutations are POST-only.
pub const METHOD_NOT_ALLOWED: &str = "METHOD_NOT_ALLOWED";
/// Brackets, selections or fragment spreads nest deeper than `--max-nesting`.
pub const NESTING_TOO_DEEP: &str = "NESTING_TOO_DEEP";
/// Selections nest deeper than `--max-depth`.
pub const QUERY_TOO_DEEP: &str = "QUERY_TOO_DEEP";
/// The query costs more than `--max-complexity`.
pub const QUERY_TOO_COMPLEX: &str = "QUERY_TOO_COMPLEX";
/// More aliases than `--max-aliases`.
pub const TOO_MANY_ALIASES: &str = "TOO_MANY_ALIASES";
/// More root fields than `--max-root-fields`.
pub const TOO_MANY_ROOT_FIELDS: &str = "TOO_MANY_ROOT_FIELDS";
/// More directives on one field than `--max-directives`.
pub const TOO_MANY_DIRECTIVES: &str = "TOO_MANY_DIRECTIVES";
/// `__schema` or `__type` asked of a server started with `--introspection false`.
pub const INTROSPECTION_DISABLED: &str = "INTROSPECTION_DISABLED";
/// A batch holds more operations than `--max-batch`, or none.
pub const BATCH_TOO_LARGE: &str = "BATCH_TOO_LARGE";
/// The request body is larger than `--body-limit`.
pub const PAYLOAD_TOO_LARGE: &str = "PAYLOAD_TOO_LARGE";
/// The request took longer than `--request-timeout`.
pub const REQUEST_TIMEOUT: &str = "REQUEST_TIMEOUT";
/// The body is not JSON (see POST /graphql).
pub const UNSUPPORTED_MEDIA_TYPE: &str = "UNSUPPORTED_MEDIA_TYPE";
/// The client accepts neither `application/graphql-response+json` nor `application/json` (406).
pub const NOT_ACCEPTABLE: &str = "NOT_ACCEPTABLE";
/// The request body or query string is not a GraphQL request.
pub const BAD_REQUEST: &str = "BAD_REQUEST";
/// The response's errors were cut to [`MAX_ERRORS`]; this last error says how many more.
pub const TOO_MANY_ERRORS: &str = "TOO_MANY_ERRORS";
/// The instance holds `--max-ws-connections` WebSocket connections already.
pub const TOO_MANY_CONNECTIONS: &str = "TOO_MANY_CONNECTIONS";
/// The connection has `--max-subscriptions` operations open already.
pub const TOO_MANY_SUBSCRIPTIONS: &str = "TOO_MANY_SUBSCRIPTIONS";
/// The subscriber fell more than `--subscriber-buffer` events behind and is dropped.
pub const SUBSCRIBER_TOO_SLOW: &str = "SUBSCRIBER_TOO_SLOW";
/// Change events may have been lost (the server's database connection was re-established):
/// read the current figures again.
pub const EVENTS_MISSED: &str = "EVENTS_MISSED";

/// Most errors one response carries; the rest are counted in one [`TOO_MANY_ERRORS`] error.
pub const MAX_ERRORS: usize = 20;
/// Longest error message sent, in characters; longer ones are cut.
pub const MAX_MESSAGE_CHARS: usize = 1_000;

/// An error with `code`.
pub fn coded(code: &'static str, message: impl Into<String>) -> Error {
    Error::new(message.into()).extend_with(|_, ext| ext.set("code", code))
}

/// A request-level error with `code` (no location: it concerns the whole request).
pub fn server_error(code: &'static str, message: impl Into<String>) -> async_graphql::ServerError {
    let mut error = async_graphql::ServerError::new(message, None);
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code);
    error
}

/// A response holding only an error with `code`.
pub fn error_response(code: &'static str, message: impl Into<String>) -> async_graphql::Response {
    async_graphql::Response::from_errors(vec![server_error(code, message)])
}

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

/// Completes a response before it goes out: gives a code to the errors async-graphql raises
/// itself without one, so that every error a client sees carries `extensions.code`; gives an
/// operation that ran and selected nothing (all skipped) its empty `data`, never `null` without
/// an error; then bounds the errors' number and size (see [`MAX_ERRORS`],
/// [`MAX_MESSAGE_CHARS`]). Our resolvers code every error they make (`to_graphql`, `coded`), and
/// the document step every refusal. What async-graphql adds without a code is told apart by
/// where it was raised, not by its message: with a `path`, while a field ran (its arguments'
/// values could not be used: `BAD_USER_INPUT`); without one and with no data, before anything
/// ran (validation, or the coercion of the variables: `GRAPHQL_VALIDATION_FAILED`).
pub fn finish(response: &mut async_graphql::Response) {
    let ran = !matches!(response.data, async_graphql::Value::Null);
    if !ran && response.errors.is_empty() {
        response.data = async_graphql::Value::Object(Default::default());
    }
    for error in &mut response.errors {
        let code = match (error.path.is_empty(), ran) {
            (false, _) => BAD_USER_INPUT,
            (true, false) => GRAPHQL_VALIDATION_FAILED,
            (true, true) => continue,
        };
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", code);
        }
    }
    for error in &mut response.errors {
        if let Some((cut, _)) = error.message.char_indices().nth(MAX_MESSAGE_CHARS) {
            error.message.truncate(cut);
            error.message.push('…');
        }
    }
    if response.errors.len() > MAX_ERRORS {
        let more = response.errors.len() - (MAX_ERRORS - 1);
        response.errors.truncate(MAX_ERRORS - 1);
        response.errors.push(server_error(
            TOO_MANY_ERRORS,
            format!("{more} more errors were left out"),
        ));
    }
}
