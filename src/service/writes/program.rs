//! Pilot programmes: created and changed by a province administrator (the names in both
//! languages, the level, the size a source states), each change versioned and revised like any
//! other record. A programme is not removed: its designations and their history refer to it.

use entity::{RevisionKind, pilot_program, revision};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};

use super::snapshot::{ProgramSnapshot, to_json};
use super::{At, Outcome, Refusal, RevisionOf, UnitOfWork, WriteContext, admin};
use crate::domain::write::{ProgramInput, version_conflict, words};
use crate::error::AppResult;

/// An accepted programme change: the programme as stored, and the revision.
#[derive(Debug, Clone)]
pub struct ProgramWritten {
    /// The programme after the change.
    pub program: pilot_program::Model,
    /// The revision.
    pub revision: revision::Model,
}

/// What a programme write becomes; a refusal shows the stored programme.
pub type ProgramOutcome = Outcome<ProgramWritten, pilot_program::Model>;

/// Creates a programme, or changes one. Admin only.
pub async fn set_program(
    db: &DatabaseConnection,
    ctx: WriteContext<'_>,
    mut input: ProgramInput,
) -> AppResult<ProgramOutcome> {
    let token = admin(ctx.actor)?;
    for name in [&mut input.name, &mut input.name_en] {
        if let super::Patch::Set(text) = name {
            *text = text.trim().to_owned();
        }
    }
    let errors = input.validate(At::INPUT);
    super::run(db, &ctx, token.into(), errors, async |uow| {
        apply(uow, input).await
    })
    .await
}

async fn apply(
    uow: &mut UnitOfWork<'_>,
    input: ProgramInput,
) -> Result<Result<ProgramWritten, Refusal<pilot_program::Model>>, DbErr> {
    let at = At::INPUT;
    let txn = uow.txn();
    let stored = pilot_program::Entity::find_by_id(input.code.clone())
        .one(txn)
        .await?;
    if let Some(message) =
        version_conflict(stored.as_ref().map(|p| p.version), input.expected_version)
    {
        return Ok(Err(Refusal::conflict(at, message, stored)));
    }
    let next = match &stored {
        None => {
            let errors = input.check_new(at);
            let (Some(name), Some(name_en), Some(level), true) = (
                input.name.value(),
                input.name_en.value(),
                input.level,
                errors.is_empty(),
            ) else {
                return Ok(Err(Refusal::new(errors)));
            };
            let program = pilot_program::Model {
                code: input.code.clone(),
                name: name.clone(),
                name_en: name_en.clone(),
                level,
                stated_size: input.stated_size.apply(None),
                source: input.source.apply(None),
                version: 1,
            };
            let active: pilot_program::ActiveModel = program.clone().into();
            active.insert(txn).await?;
            program
        }
        Some(current) => {
            let next = pilot_program::Model {
                code: current.code.clone(),
                name: input
                    .name
                    .apply(Some(current.name.clone()))
                    .unwrap_or_default(),
                name_en: input
                    .name_en
                    .apply(Some(current.name_en.clone()))
                    .unwrap_or_default(),
                level: input.level.unwrap_or(current.level),
                stated_size: input.stated_size.apply(current.stated_size),
                source: input.source.apply(current.source.clone()),
                version: current.version + 1,
            };
            use pilot_program::Column as C;
            let written = pilot_program::Entity::update_many()
                .col_expr(C::Name, Expr::value(next.name.clone()))
                .col_expr(C::NameEn, Expr::value(next.name_en.clone()))
                .col_expr(C::Level, Expr::value(next.level))
                .col_expr(C::StatedSize, Expr::value(next.stated_size))
                .col_expr(C::Source, Expr::value(next.source.clone()))
                .col_expr(C::Version, Expr::value(next.version))
                .filter(C::Code.eq(current.code.as_str()))
                .filter(C::Version.eq(current.version))
                .exec(txn)
                .await?
                .rows_affected
                == 1;
            if !written {
                let fresh = pilot_program::Entity::find_by_id(input.code.clone())
                    .one(txn)
                    .await?;
                let message = words(
                    "someone changed the programme meanwhile",
                    "其间已有人修改了这个试点",
                );
                return Ok(Err(Refusal::conflict(at, message, fresh)));
            }
            next
        }
    };
    let snapshot = |p: &pilot_program::Model| to_json(&ProgramSnapshot::from(p));
    let mut of = RevisionOf::new(
        RevisionKind::PilotProgram,
        input.code.clone(),
        stored.as_ref().map(snapshot).transpose()?,
        Some(snapshot(&next)?),
    );
    of.program_code = Some(input.code);
    let revision = uow.revise(of, input.note).await?;
    Ok(Ok(ProgramWritten {
        program: next,
        revision,
    }))
}
