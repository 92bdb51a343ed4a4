//! What every mutation shares: the request's id (kept in revisions), the context a write runs
//! in, and `UserError`, the payloads' refusals.

use async_graphql::{Context, Result, SimpleObject};

use crate::domain::Actor;
use crate::events::Events;
use crate::service::writes::{self, WriteContext};

/// The id of the HTTP request being served, kept in revisions.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Why an input was refused.
#[derive(SimpleObject, Debug, Clone)]
pub struct UserError {
    /// Path to the field, e.g. ["input", "branchCount"] or ["input", "3", "period"].
    pub field: Vec<String>,
    /// For people, in English.
    pub message: String,
    /// For people, in Chinese: the same refusal in the words the pages show first.
    pub message_zh: String,
    /// For programs: BAD_USER_INPUT, NOT_FOUND, VERSION_CONFLICT, or a step's own code.
    pub code: String,
}

impl From<writes::UserError> for UserError {
    fn from(e: writes::UserError) -> Self {
        Self {
            field: e.field,
            message: e.message,
            message_zh: e.message_zh,
            code: e.code.as_str().to_owned(),
        }
    }
}

/// Who writes, in which request, announced where.
pub(super) fn write_context<'a>(ctx: &Context<'a>) -> Result<WriteContext<'a>> {
    Ok(WriteContext {
        actor: ctx.data::<Actor>()?,
        request_id: ctx.data_opt::<RequestId>().map(|r| r.0.as_str()),
        events: ctx.data::<Events>()?,
    })
}
