//! Every machine-readable error code the service sends, in one table: GraphQL errors'
//! `extensions.code`, a mutation's `userErrors[].code`, and the `code` of a spreadsheet report's
//! problems. Clients branch on these; messages are for people. Code is made where an error is
//! made, as a [`Code`], and becomes text only when it is written out.

use std::fmt;

macro_rules! codes {
    ($($(#[doc = $doc:literal])+ $variant:ident = $text:literal,)+) => {
        /// A machine-readable error code (see the module's notes).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $($(#[doc = $doc])+ $variant,)+
        }

        impl Code {
            /// Every code, in the table's order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)+];

            /// The code as clients see it, e.g. `"BAD_USER_INPUT"`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $text,)+
                }
            }
        }
    };
}

codes! {
    /// The input was unusable (bad cursor, negative `first`, a rate out of range…).
    BadUserInput = "BAD_USER_INPUT",
    /// The thing asked for does not exist.
    NotFound = "NOT_FOUND",
    /// Credentials are needed, or the ones given are malformed, unknown or revoked.
    Unauthenticated = "UNAUTHENTICATED",
    /// The caller may not do this.
    Forbidden = "FORBIDDEN",
    /// `expectedVersion` is not the stored version.
    VersionConflict = "VERSION_CONFLICT",
    /// An automatic persisted query's hash is not known (yet): send the query with its hash.
    PersistedQueryNotFound = "PERSISTED_QUERY_NOT_FOUND",
    /// Something failed on our side; the log has the cause.
    InternalServerError = "INTERNAL_SERVER_ERROR",
    /// The document is not GraphQL.
    GraphqlParseFailed = "GRAPHQL_PARSE_FAILED",
    /// The document does not fit the schema (unknown field, wrong argument type…).
    GraphqlValidationFailed = "GRAPHQL_VALIDATION_FAILED",
    /// A mutation sent by GET or over the WebSocket: mutations are POST-only.
    MethodNotAllowed = "METHOD_NOT_ALLOWED",
    /// Brackets, selections or fragment spreads nest deeper than `--max-nesting`.
    NestingTooDeep = "NESTING_TOO_DEEP",
    /// Selections nest deeper than `--max-depth`.
    QueryTooDeep = "QUERY_TOO_DEEP",
    /// The query costs more than `--max-complexity`.
    QueryTooComplex = "QUERY_TOO_COMPLEX",
    /// More aliases than `--max-aliases`.
    TooManyAliases = "TOO_MANY_ALIASES",
    /// More root fields than `--max-root-fields`.
    TooManyRootFields = "TOO_MANY_ROOT_FIELDS",
    /// More directives on one field than `--max-directives`.
    TooManyDirectives = "TOO_MANY_DIRECTIVES",
    /// `__schema` or `__type` asked of a server started with `--introspection false`.
    IntrospectionDisabled = "INTROSPECTION_DISABLED",
    /// A batch holds more operations than `--max-batch`, or none.
    BatchTooLarge = "BATCH_TOO_LARGE",
    /// The request body is larger than `--body-limit`.
    PayloadTooLarge = "PAYLOAD_TOO_LARGE",
    /// The request took longer than `--request-timeout`.
    RequestTimeout = "REQUEST_TIMEOUT",
    /// The body is not JSON (see POST /graphql).
    UnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE",
    /// The client accepts neither `application/graphql-response+json` nor `application/json` (406).
    NotAcceptable = "NOT_ACCEPTABLE",
    /// The request body or query string is not a GraphQL request.
    BadRequest = "BAD_REQUEST",
    /// The response's errors were cut to their bound; this last error says how many more.
    TooManyErrors = "TOO_MANY_ERRORS",
    /// The instance holds `--max-ws-connections` WebSocket connections already.
    TooManyConnections = "TOO_MANY_CONNECTIONS",
    /// The connection has `--max-subscriptions` operations open already.
    TooManySubscriptions = "TOO_MANY_SUBSCRIPTIONS",
    /// The subscriber fell more than `--subscriber-buffer` events behind and is dropped.
    SubscriberTooSlow = "SUBSCRIBER_TOO_SLOW",
    /// Change events may have been lost (the server's database connection was re-established):
    /// read the current figures again.
    EventsMissed = "EVENTS_MISSED",
    /// The yearly return: no round is open for the period.
    RoundNotOpen = "ROUND_NOT_OPEN",
    /// The yearly return: the round is closed (no edits or submissions until it is reopened).
    RoundClosed = "ROUND_CLOSED",
    /// The yearly return: the round is open (only a closed round can be reopened).
    RoundOpen = "ROUND_OPEN",
    /// The yearly return: the period has a round already (open or closed).
    RoundExists = "ROUND_EXISTS",
    /// The yearly return: the return is submitted and waits for the province's review.
    ReturnSubmitted = "RETURN_SUBMITTED",
    /// The yearly return: the return is approved; an administrator must reopen it first.
    ReturnApproved = "RETURN_APPROVED",
    /// The yearly return: only a submitted return can be approved or sent back.
    ReturnNotSubmitted = "RETURN_NOT_SUBMITTED",
    /// The yearly return: only an approved return can be reopened.
    ReturnNotApproved = "RETURN_NOT_APPROVED",
    /// The yearly return: a return with no figures cannot be submitted.
    ReturnEmpty = "RETURN_EMPTY",
    /// The yearly return: no approved return waits to be published.
    NothingToPublish = "NOTHING_TO_PUBLISH",
    /// Signing in: the login or the password is wrong (one answer for both).
    InvalidCredentials = "INVALID_CREDENTIALS",
    /// Signing in: too many wrong sign-ins for this account or address; wait and try again.
    TooManyAttempts = "TOO_MANY_ATTEMPTS",
    /// Signing in: the password was made for the person; send a new one of their own.
    PasswordChangeRequired = "PASSWORD_CHANGE_REQUIRED",
    /// Signing in: an administrator disabled the account.
    AccountDisabled = "ACCOUNT_DISABLED",
    /// A spreadsheet cannot be read at all.
    UnreadableFile = "UNREADABLE_FILE",
    /// A spreadsheet is over one of the import's bounds.
    TooLarge = "TOO_LARGE",
    /// A column the import does not know (a warning).
    IgnoredColumn = "IGNORED_COLUMN",
    /// A total row, skipped (a warning).
    TotalRow = "TOTAL_ROW",
    /// Another city's row, left as it is (a warning).
    OtherCity = "OTHER_CITY",
    /// Every place for imports or exports on this instance is taken: try again shortly.
    Busy = "BUSY",
    /// A spreadsheet could not be made; the log has the cause.
    Internal = "INTERNAL",
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl From<Code> for async_graphql::Value {
    fn from(code: Code) -> Self {
        async_graphql::Value::String(code.as_str().to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::Code;

    #[test]
    fn codes_are_distinct_screaming_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "{text} twice");
            assert!(
                text.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'),
                "{text}"
            );
        }
    }
}
