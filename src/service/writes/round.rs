//! Rounds of the yearly return (年报): a province administrator opens one per period with a due
//! date (截止日期), closes it (no more figures for the period), and reopens it with a reason. The
//! rules of each step are `domain::yearly`'s; a closed round's period refuses every coverage
//! write (see [`rounds_of`]).

use entity::{RevisionKind, RoundStatus, revision, round};
use sea_orm::sea_query::{Expr, LockType};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    DbBackend, DbErr, EntityTrait, QueryFilter, QuerySelect,
};

use super::snapshot::{RoundSnapshot, round_key, to_json};
use super::{At, Outcome, Refusal, RevisionOf, UnitOfWork, WriteContext, admin};
use crate::code::Code;
use crate::domain::write::{MAX_TEXT_CHARS, Words, period_error, version_conflict, words};
use crate::error::AppResult;

/// A step on a round.
#[derive(Debug, Clone)]
pub enum RoundStep {
    /// Open the period's round, due at `due_at` (none: no due date).
    Open {
        /// 截止日期.
        due_at: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// Close the open round.
    Close,
    /// Open the closed round again, saying why; `due_at` replaces the due date when given.
    Reopen {
        /// Why (kept in the revision).
        reason: String,
        /// A new due date.
        due_at: Option<chrono::DateTime<chrono::Utc>>,
    },
}

/// A step on the round of `period`, as an administrator sends it.
#[derive(Debug, Clone)]
pub struct RoundInput {
    /// The period (year).
    pub period: i32,
    /// What to do.
    pub step: RoundStep,
    /// The version read (closing and reopening); none skips the check.
    pub expected_version: Option<i32>,
    /// A note for the audit trail (a reopening's reason is its note).
    pub note: Option<String>,
}

/// An accepted step: the round as stored and its revision.
#[derive(Debug, Clone)]
pub struct RoundWritten {
    /// The round after the step.
    pub round: round::Model,
    /// The revision the step left.
    pub revision: revision::Model,
}

/// Takes a step on a round. Admin only.
pub async fn step_round(
    db: &DatabaseConnection,
    ctx: WriteContext<'_>,
    input: RoundInput,
) -> AppResult<Outcome<RoundWritten, round::Model>> {
    let token = admin(ctx.actor)?;
    let at = At::INPUT;
    let mut errors: Vec<_> = period_error(at, input.period).into_iter().collect();
    if let RoundStep::Reopen { reason, .. } = &input.step
        && reason.trim().is_empty()
    {
        errors.push(at.bad(
            "reason",
            words("say why the round opens again", "请说明重新开启的原因"),
        ));
    }
    let reason = match &input.step {
        RoundStep::Reopen { reason, .. } => Some(("reason", reason)),
        _ => None,
    };
    for (field, text) in reason
        .into_iter()
        .chain(input.note.iter().map(|n| ("note", n)))
    {
        if text.chars().count() > MAX_TEXT_CHARS {
            errors.push(at.bad(
                field,
                words(
                    format!("at most {MAX_TEXT_CHARS} characters"),
                    format!("最多 {MAX_TEXT_CHARS} 个字符"),
                ),
            ));
        }
    }
    super::run(db, &ctx, token.into(), errors, async |uow| {
        apply(uow, input).await
    })
    .await
}

/// The advisory lock's first key on PostgreSQL: with the period as its second, it orders a
/// round's steps after (or before) every coverage write of its period ([`rounds_of`]).
const PERIOD_LOCK: i32 = 2207;

async fn apply(
    uow: &mut UnitOfWork<'_>,
    input: RoundInput,
) -> Result<Result<RoundWritten, Refusal<round::Model>>, DbErr> {
    let at = At::INPUT;
    let txn = uow.txn();
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared(&format!(
            "SELECT pg_advisory_xact_lock({PERIOD_LOCK}, {})",
            input.period
        ))
        .await?;
    }
    let stored = round::Entity::find_by_id(input.period).one(txn).await?;
    // Absent, the version is not checked: each step is valid from one state only, so a step
    // sent twice is refused by its state anyway.
    if let Some(expected) = input.expected_version
        && let Some(message) = version_conflict(stored.as_ref().map(|r| r.version), Some(expected))
    {
        return Ok(Err(Refusal::conflict(at, message, stored)));
    }
    let now = crate::domain::now();
    let refuse = |code: Code, words: Words, stored: Option<round::Model>| {
        Ok(Err(Refusal {
            errors: vec![at.error("period", code, words)],
            current: stored.into_iter().collect(),
        }))
    };
    let period = input.period;
    let (next, note) = match (&input.step, &stored) {
        (RoundStep::Open { due_at }, None) => (
            round::Model {
                period,
                status: RoundStatus::Open,
                due_at: *due_at,
                opened_at: now,
                closed_at: None,
                version: 1,
            },
            input.note,
        ),
        (RoundStep::Open { .. }, Some(_)) => {
            let message = words(
                format!("the {period} round exists already; reopen it if it is closed"),
                format!("{period} 年度年报已开启过；如已关闭，请重新开启"),
            );
            return refuse(Code::RoundExists, message, stored);
        }
        (RoundStep::Close, Some(r)) if r.status == RoundStatus::Open => (
            round::Model {
                status: RoundStatus::Closed,
                closed_at: Some(now),
                version: r.version + 1,
                ..r.clone()
            },
            input.note,
        ),
        (RoundStep::Reopen { reason, due_at }, Some(r)) if r.status == RoundStatus::Closed => (
            round::Model {
                status: RoundStatus::Open,
                closed_at: None,
                due_at: due_at.or(r.due_at),
                version: r.version + 1,
                ..r.clone()
            },
            Some(reason.trim().to_owned()),
        ),
        (RoundStep::Close | RoundStep::Reopen { .. }, None) => {
            return refuse(
                Code::RoundNotOpen,
                words(
                    format!("there is no {period} round"),
                    format!("{period} 年度年报尚未开启"),
                ),
                None,
            );
        }
        (RoundStep::Close, Some(_)) => {
            let message = words(
                format!("the {period} round is closed already"),
                format!("{period} 年度年报已经关闭"),
            );
            return refuse(Code::RoundClosed, message, stored);
        }
        (RoundStep::Reopen { .. }, Some(_)) => {
            let message = words(
                format!("the {period} round is open"),
                format!("{period} 年度年报正在进行"),
            );
            return refuse(Code::RoundOpen, message, stored);
        }
    };
    match &stored {
        None => {
            let active: round::ActiveModel = next.clone().into();
            active.insert(txn).await?;
            super::city_return::open_returns(txn, period, now).await?;
        }
        Some(current) => {
            use round::Column as C;
            let result = round::Entity::update_many()
                .col_expr(C::Status, Expr::value(next.status))
                .col_expr(C::DueAt, Expr::value(next.due_at))
                .col_expr(C::ClosedAt, Expr::value(next.closed_at))
                .col_expr(C::Version, Expr::value(next.version))
                .filter(C::Period.eq(period))
                .filter(C::Version.eq(current.version))
                .exec(txn)
                .await?;
            if result.rows_affected != 1 {
                let fresh = round::Entity::find_by_id(period).one(txn).await?;
                let message = words(
                    "someone changed the round meanwhile",
                    "其间已有人修改了本期年报",
                );
                return Ok(Err(Refusal::conflict(at, message, fresh)));
            }
        }
    }
    let snapshot = |r: &round::Model| to_json(&RoundSnapshot::from(r));
    let mut of = RevisionOf::new(
        RevisionKind::Round,
        round_key(period),
        stored.as_ref().map(snapshot).transpose()?,
        Some(snapshot(&next)?),
    );
    of.period = Some(period);
    let revision = uow.revise(of, note).await?;
    Ok(Ok(RoundWritten {
        round: next,
        revision,
    }))
}

/// The rounds of `periods` that exist, read in a write's transaction. On PostgreSQL they are
/// share-locked until the write commits, so a round cannot close under a write that found it
/// open (SQLite's write transaction holds the only write lock already).
pub async fn rounds_of(
    txn: &DatabaseTransaction,
    periods: &[i32],
) -> Result<Vec<round::Model>, DbErr> {
    // A round not opened yet has no row to lock: the period's lock, shared here, keeps an
    // `openRound` of it waiting until this write commits (or this write waiting for it), so a
    // write never goes public in a period whose round opened meanwhile. SQLite's writes are
    // one at a time already.
    if txn.get_database_backend() == DbBackend::Postgres {
        let mut sorted = periods.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        for period in sorted {
            txn.execute_unprepared(&format!(
                "SELECT pg_advisory_xact_lock_shared({PERIOD_LOCK}, {period})"
            ))
            .await?;
        }
    }
    let mut query =
        round::Entity::find().filter(round::Column::Period.is_in(periods.iter().copied()));
    if txn.get_database_backend() == DbBackend::Postgres {
        query = query.lock(LockType::Share);
    }
    query.all(txn).await
}
