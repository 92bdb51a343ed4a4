//! `setPilotProgram`: an administrator creates a pilot programme or changes its names, level or
//! stated size, each change versioned and revised (see `service::writes::program`).

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};

use super::db;
use super::error::GqlResultExt;
use super::mutation::patch;
use super::pilot::{PilotProgram, ProgramLevel};
use super::revision::Revision;
use super::write::{UserError, write_context};
use crate::service::writes::{self, Outcome, Refusal};

/// A pilot programme to create, or the changes to one. Fields left out keep their stored value;
/// a write that states a fact (a name, the level, the stated size) names its source.
#[derive(InputObject, Debug, Clone)]
pub struct SetPilotProgramInput {
    /// The programme's stable code: 2 to 40 upper-case letters, digits and `_` (e.g.
    /// KECHUANG_PILOT); a new code creates a programme.
    pub code: ID,
    /// The Chinese name (1 to 200 characters); required for a new programme.
    pub name: MaybeUndefined<String>,
    /// The English name (1 to 200 characters); required for a new programme.
    pub name_en: MaybeUndefined<String>,
    /// National or provincial; required for a new programme.
    pub level: Option<ProgramLevel>,
    /// The number of member cities a source states (0 to 10,000,000); null when none is stated.
    pub stated_size: MaybeUndefined<i32>,
    /// Where the programme's facts come from: required (non-empty, at most 2,000 characters)
    /// when the write states one.
    pub source: MaybeUndefined<String>,
    /// The version last read: absent or 0 to create the programme, else the stored version.
    pub expected_version: Option<i32>,
    /// Why (at most 2,000 characters); kept in the revision.
    pub note: Option<String>,
}

/// The result of `setPilotProgram`.
#[derive(SimpleObject)]
pub struct PilotProgramPayload {
    /// The programme as stored; on a VERSION_CONFLICT, as the other writer left it; null when
    /// refused with nothing stored.
    pub program: Option<PilotProgram>,
    /// The revision the change left; null when refused.
    pub revision: Option<Revision>,
    /// Why the input was refused; empty when accepted.
    pub user_errors: Vec<UserError>,
}

/// Programmes' mutations.
#[derive(Default)]
pub struct ProgramMutation;

#[Object]
impl ProgramMutation {
    /// Creates a pilot programme, or changes its names, level, stated size or source. ADMIN
    /// only.
    async fn set_pilot_program(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The programme.")] input: SetPilotProgramInput,
    ) -> Result<PilotProgramPayload> {
        let input = writes::ProgramInput {
            code: input.code.0,
            name: patch(input.name),
            name_en: patch(input.name_en),
            level: input.level.map(Into::into),
            stated_size: patch(input.stated_size),
            source: patch(input.source),
            expected_version: input.expected_version,
            note: input.note,
        };
        let outcome = writes::set_program(&db(ctx)?.conn, write_context(ctx)?, input)
            .await
            .gql()?;
        Ok(match outcome {
            Outcome::Accepted(w) => PilotProgramPayload {
                program: Some(PilotProgram(w.program)),
                revision: Some(Revision(w.revision)),
                user_errors: Vec::new(),
            },
            Outcome::Refused(Refusal { errors, current }) => PilotProgramPayload {
                program: current.into_iter().next().map(PilotProgram),
                revision: None,
                user_errors: errors.into_iter().map(Into::into).collect(),
            },
        })
    }
}
