//! Province-reported totals: what the province itself states per branch type and period, set by
//! a province administrator and kept apart from the sum of the cities.

use entity::{RevisionKind, province_total, revision};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};

use super::snapshot::{ProvinceTotalSnapshot, province_total_key, to_json};
use super::{
    At, Outcome, ProvinceTotalInput, Refusal, RevisionOf, UnitOfWork, WriteContext, admin,
};
use crate::domain::write::{check_province_total, version_conflict, words};
use crate::error::AppResult;

/// An accepted province-total write: the total as stored and its revision.
#[derive(Debug, Clone)]
pub struct TotalWritten {
    /// The total after the write.
    pub total: province_total::Model,
    /// The revision the write left.
    pub revision: revision::Model,
}

/// Sets the total the province reports for a branch type and period. Admin only.
pub async fn set_province_total(
    db: &DatabaseConnection,
    ctx: WriteContext<'_>,
    input: ProvinceTotalInput,
) -> AppResult<Outcome<TotalWritten, province_total::Model>> {
    let token = admin(ctx.actor)?;
    let errors = input.validate(At::INPUT);
    super::run(db, &ctx, token.into(), errors, async |uow| {
        apply(uow, input).await
    })
    .await
}

async fn apply(
    uow: &mut UnitOfWork<'_>,
    input: ProvinceTotalInput,
) -> Result<Result<TotalWritten, Refusal<province_total::Model>>, DbErr> {
    let at = At::INPUT;
    let txn = uow.txn();
    let key = (input.branch_type, input.period);
    let stored = province_total::Entity::find_by_id(key).one(txn).await?;
    if let Some(message) =
        version_conflict(stored.as_ref().map(|t| t.version), input.expected_version)
    {
        return Ok(Err(Refusal::conflict(at, message, stored)));
    }
    let next = province_total::Model {
        branch_type: input.branch_type,
        period: input.period,
        total: input.total.apply(stored.as_ref().and_then(|t| t.total)),
        note: stored.as_ref().and_then(|t| t.note.clone()),
        source: input
            .source
            .apply(stored.as_ref().and_then(|t| t.source.clone())),
        updated_at: crate::domain::now(),
        version: stored.as_ref().map_or(1, |t| t.version + 1),
    };
    let errors = check_province_total(at, next.total, next.source.as_deref());
    if !errors.is_empty() {
        return Ok(Err(Refusal {
            errors,
            current: stored.into_iter().collect(),
        }));
    }
    match &stored {
        None => {
            let active: province_total::ActiveModel = next.clone().into();
            active.insert(txn).await?;
        }
        Some(current) => {
            use province_total::Column as C;
            let result = province_total::Entity::update_many()
                .col_expr(C::Total, Expr::value(next.total))
                .col_expr(C::Source, Expr::value(next.source.clone()))
                .col_expr(C::UpdatedAt, Expr::value(next.updated_at))
                .col_expr(C::Version, Expr::value(next.version))
                .filter(C::BranchType.eq(key.0))
                .filter(C::Period.eq(key.1))
                .filter(C::Version.eq(current.version))
                .exec(txn)
                .await?;
            if result.rows_affected != 1 {
                let fresh = province_total::Entity::find_by_id(key).one(txn).await?;
                let message = words(
                    "someone changed the total meanwhile",
                    "其间已有人修改了这项全省数",
                );
                return Ok(Err(Refusal::conflict(at, message, fresh)));
            }
        }
    }
    let snapshot = |t: &province_total::Model| to_json(&ProvinceTotalSnapshot::from(t));
    let mut of = RevisionOf::new(
        RevisionKind::ProvinceTotal,
        province_total_key(input.branch_type, input.period),
        stored.as_ref().map(snapshot).transpose()?,
        Some(snapshot(&next)?),
    );
    of.branch_type = Some(input.branch_type);
    of.period = Some(input.period);
    let revision = uow.revise(of, input.note).await?;
    Ok(Ok(TotalWritten {
        total: next,
        revision,
    }))
}
