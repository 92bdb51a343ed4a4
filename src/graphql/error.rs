//! Where GraphQL errors get their code (`extensions.code`, from the one table in [`crate::code`]). Clients branch on these
//! codes; messages are for people. Internal causes are logged here and never sent.

use async_graphql::{Error, ErrorExtensions};

use crate::code::Code;
use crate::error::AppError;

/// Most errors one response carries; the rest are counted in one `TOO_MANY_ERRORS` error.
pub const MAX_ERRORS: usize = 20;
/// Longest error message sent, in characters; longer ones are cut.
pub const MAX_MESSAGE_CHARS: usize = 1_000;

/// An error with `code`.
pub fn coded(code: Code, message: impl Into<String>) -> Error {
    Error::new(message.into()).extend_with(|_, ext| ext.set("code", code))
}

/// A request-level error with `code` (no location: it concerns the whole request).
pub fn server_error(code: Code, message: impl Into<String>) -> async_graphql::ServerError {
    let mut error = async_graphql::ServerError::new(message, None);
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code);
    error
}

/// A request refused before it ran (by the document step, or a bound on the request): the
/// refusal's code as a value, for whoever decides what follows (a status, whether to remember
/// the document), and the error the client sees, which carries the same code.
#[derive(Debug, Clone)]
pub struct Refused {
    /// Why, for programs.
    pub code: Code,
    /// What the client is told (boxed: a refusal travels up many `Result`s).
    pub error: Box<async_graphql::ServerError>,
}

impl Refused {
    /// A refusal of the whole request (no location in the document).
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self::at(code, message, Vec::new())
    }

    /// A refusal pointing at `locations` in the document.
    pub fn at(code: Code, message: impl Into<String>, locations: Vec<async_graphql::Pos>) -> Self {
        let mut error = server_error(code, message);
        error.locations = locations;
        Self {
            code,
            error: Box::new(error),
        }
    }

    /// A validation failure (`GRAPHQL_VALIDATION_FAILED`) at `locations`.
    pub fn invalid(message: impl Into<String>, locations: Vec<async_graphql::Pos>) -> Self {
        Self::at(Code::GraphqlValidationFailed, message, locations)
    }

    /// A response holding only this refusal.
    pub fn into_response(self) -> async_graphql::Response {
        async_graphql::Response::from_errors(vec![*self.error])
    }
}

/// A response holding only an error with `code`.
pub fn error_response(code: Code, message: impl Into<String>) -> async_graphql::Response {
    async_graphql::Response::from_errors(vec![server_error(code, message)])
}

/// The GraphQL error a client sees for `err`.
pub fn to_graphql(err: &AppError) -> Error {
    let (code, message) = match err {
        AppError::BadUserInput(message) => (Code::BadUserInput, message.clone()),
        AppError::NotFound(message) => (Code::NotFound, message.clone()),
        AppError::Unauthenticated(message) => (Code::Unauthenticated, message.clone()),
        AppError::Forbidden(message) => (Code::Forbidden, message.clone()),
        AppError::Database(cause) => {
            tracing::error!(error = %cause, "database error while answering a request");
            (
                Code::InternalServerError,
                "internal error; it has been logged".to_owned(),
            )
        }
        AppError::Internal(cause) => {
            tracing::error!(error = %cause, "internal error while answering a request");
            (
                Code::InternalServerError,
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
            (false, _) => Code::BadUserInput,
            (true, false) => Code::GraphqlValidationFailed,
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
            Code::TooManyErrors,
            format!("{more} more errors were left out"),
        ));
    }
}
