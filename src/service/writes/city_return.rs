//! Cities' returns in the rounds of the yearly return (年报): made when a round opens, moved to
//! DRAFT by the city's first edit (or its first after being sent back), submitted by the city,
//! sent back or approved by the province, reopened by the province with a reason. The rules are
//! `domain::yearly`'s; each step is an update under the return's version with its revision, in
//! one transaction, so two steps at once leave one outcome and one revision.

use std::collections::HashSet;

use entity::{ReturnStatus, RevisionKind, Role, city_return, coverage_record, revision, round};
use sea_orm::sea_query::{Expr, LockType};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, Statement,
};

use super::snapshot::{ReturnSnapshot, return_key, to_json};
use super::{
    At, CoverageUpdate, Outcome, Refusal, RevisionOf, UnitOfWork, UserError, WriteContext,
    may_write_city, writer,
};
use crate::domain::write::{MAX_TEXT_CHARS, words};
use crate::domain::yearly::{self, Step};
use crate::error::{AppError, AppResult};

/// A step on a city's return, as its sender sends it.
#[derive(Debug, Clone)]
pub struct ReturnInput {
    /// The city.
    pub city_code: String,
    /// The period (year).
    pub period: i32,
    /// What to do.
    pub step: Step,
    /// The version read; none skips the check (each step is valid from one status only).
    pub expected_version: Option<i32>,
}

/// An accepted step: the return as stored and its revision.
#[derive(Debug, Clone)]
pub struct ReturnWritten {
    /// The return after the step.
    pub city_return: city_return::Model,
    /// The revision the step left.
    pub revision: revision::Model,
}

/// Takes a step on a city's return: city staff submit their own city's; administrators take
/// any step on any city's.
pub async fn step_return(
    db: &DatabaseConnection,
    ctx: WriteContext<'_>,
    input: ReturnInput,
) -> AppResult<Outcome<ReturnWritten, city_return::Model>> {
    let token = writer(ctx.actor)?;
    let who: super::Writer = token.into();
    may_write_city(&who, &input.city_code)?;
    let role = match token.role {
        Role::Admin => yearly::Role::Admin,
        Role::CityStaff => yearly::Role::CityStaff,
    };
    if role != yearly::Role::Admin && !matches!(input.step, Step::Submit | Step::Edit) {
        return Err(AppError::Forbidden(
            "only a province administrator reviews returns".into(),
        ));
    }
    if let Step::SendBack { comment: text } | Step::Reopen { reason: text } = &input.step
        && text.chars().count() > MAX_TEXT_CHARS
    {
        let field = words_field(&input.step);
        let message = words(
            format!("at most {MAX_TEXT_CHARS} characters"),
            format!("最多 {MAX_TEXT_CHARS} 个字符"),
        );
        return Ok(Outcome::Refused(Refusal::new(vec![
            At::INPUT.bad(field, message),
        ])));
    }
    let mut uow = UnitOfWork::begin(db, ctx.events, ctx.request_id, who).await?;
    let applied = apply(&mut uow, input, role).await;
    uow.finish(applied, At::INPUT).await
}

fn words_field(step: &Step) -> &'static str {
    match step {
        Step::Reopen { .. } => "reason",
        _ => "comment",
    }
}

/// A refusal of the rules as a user error on the field it concerns.
fn refusal_error(refusal: &yearly::Refusal, step: &Step) -> UserError {
    let field = match refusal {
        yearly::Refusal::RoundNotOpen | yearly::Refusal::RoundClosed => "period",
        yearly::Refusal::WordsNeeded => words_field(step),
        _ => "cityCode",
    };
    At::INPUT.error(field, refusal.code(), refusal.into())
}

async fn apply(
    uow: &mut UnitOfWork<'_>,
    input: ReturnInput,
    role: yearly::Role,
) -> Result<Result<ReturnWritten, Refusal<city_return::Model>>, DbErr> {
    let at = At::INPUT;
    let txn = uow.txn();
    let (city, period) = (input.city_code.as_str(), input.period);
    let round = lock(round::Entity::find_by_id(period), txn, LockType::Share)
        .one(txn)
        .await?;
    let stored = lock(
        city_return::Entity::find_by_id((city.to_owned(), period)),
        txn,
        LockType::Update,
    )
    .one(txn)
    .await?;
    if let (Some(expected), Some(current)) = (input.expected_version, &stored)
        && expected != current.version
    {
        let message = words(
            format!(
                "expectedVersion {expected} is not the stored version {}",
                current.version
            ),
            format!(
                "年报已是第 {} 版，不是第 {expected} 版：其间已有人修改",
                current.version
            ),
        );
        return Ok(Err(Refusal::conflict(at, message, stored)));
    }
    // Every city has its return from the moment its round opens: in a round, none is no city.
    let no_return = || {
        let message = words(
            format!("{city} has no return in the {period} round"),
            format!("{city} 在 {period} 年度年报中没有报表"),
        );
        Ok(Err(Refusal::not_found(at, "cityCode", message)))
    };
    if round.is_some() && stored.is_none() {
        return no_return();
    }
    let has_figures = coverage_record::Entity::find()
        .filter(coverage_record::Column::CityCode.eq(city))
        .filter(coverage_record::Column::Period.eq(period))
        .count(txn)
        .await?
        > 0;
    let status = stored
        .as_ref()
        .map_or(ReturnStatus::NotStarted, |r| r.status);
    let next_status = match yearly::step(
        round.as_ref().map(|r| r.status),
        status,
        &input.step,
        role,
        has_figures,
    ) {
        Ok(next) => next,
        Err(refusal) => {
            return Ok(Err(Refusal {
                errors: vec![refusal_error(&refusal, &input.step)],
                current: stored.into_iter().collect(),
            }));
        }
    };
    // Without a round the step was refused above.
    let Some(current) = stored else {
        return no_return();
    };
    let now = crate::domain::now();
    // Whatever the step, the return's figures as they now stand are not published (an approval
    // makes them publishable; publishing sets this).
    let mut next = city_return::Model {
        status: next_status,
        version: current.version + 1,
        updated_at: now,
        published: false,
        ..current.clone()
    };
    let note = match &input.step {
        Step::Submit => {
            next.submitted_at = Some(now);
            next.submitted_by = Some(uow.writer().label());
            next.late = yearly::late(round.and_then(|r| r.due_at), now);
            None
        }
        Step::SendBack { comment } => {
            next.comment = Some(comment.trim().to_owned());
            next.comment.clone()
        }
        Step::Reopen { reason } => {
            next.comment = Some(reason.trim().to_owned());
            next.comment.clone()
        }
        Step::Approve | Step::Edit => None,
    };
    let revision = match write(uow, &current, &next, note).await? {
        Some(revision) => revision,
        None => {
            let fresh = city_return::Entity::find_by_id((city.to_owned(), period))
                .one(uow.txn())
                .await?;
            let message = words(
                "someone changed the return meanwhile",
                "其间已有人修改了年报",
            );
            return Ok(Err(Refusal::conflict(at, message, fresh)));
        }
    };
    Ok(Ok(ReturnWritten {
        city_return: next,
        revision,
    }))
}

/// `query` with a row lock on PostgreSQL (SQLite's write transaction holds the only write lock).
pub(super) fn lock<E: EntityTrait>(
    query: sea_orm::Select<E>,
    txn: &DatabaseTransaction,
    kind: LockType,
) -> sea_orm::Select<E> {
    if txn.get_database_backend() == DbBackend::Postgres {
        query.lock(kind)
    } else {
        query
    }
}

/// Stores `next` over `current` if `current` is still the stored version, with its revision;
/// none when another step came first.
pub(super) async fn write(
    uow: &mut UnitOfWork<'_>,
    current: &city_return::Model,
    next: &city_return::Model,
    note: Option<String>,
) -> Result<Option<revision::Model>, DbErr> {
    use city_return::Column as C;
    let result = city_return::Entity::update_many()
        .col_expr(C::Status, Expr::value(next.status))
        .col_expr(C::SubmittedAt, Expr::value(next.submitted_at))
        .col_expr(C::SubmittedBy, Expr::value(next.submitted_by.clone()))
        .col_expr(C::Late, Expr::value(next.late))
        .col_expr(C::Comment, Expr::value(next.comment.clone()))
        .col_expr(C::Version, Expr::value(next.version))
        .col_expr(C::UpdatedAt, Expr::value(next.updated_at))
        .col_expr(C::Published, Expr::value(next.published))
        .col_expr(C::PublishedAt, Expr::value(next.published_at))
        .filter(C::CityCode.eq(current.city_code.as_str()))
        .filter(C::Period.eq(current.period))
        .filter(C::Version.eq(current.version))
        .exec(uow.txn())
        .await?;
    if result.rows_affected != 1 {
        return Ok(None);
    }
    let snapshot = |r: &city_return::Model| to_json(&ReturnSnapshot::from(r));
    let mut of = RevisionOf::new(
        RevisionKind::CityReturn,
        return_key(&current.city_code, current.period),
        Some(snapshot(current)?),
        Some(snapshot(next)?),
    );
    of.city_code = Some(current.city_code.clone());
    of.period = Some(current.period);
    Ok(Some(uow.revise(of, note).await?))
}

/// Makes every city's return of a round that opens: DRAFT where the city has figures for the
/// period already, NOT_STARTED elsewhere. One statement.
pub async fn open_returns(
    txn: &DatabaseTransaction,
    period: i32,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    let backend = txn.get_database_backend();
    let at = match backend {
        DbBackend::Postgres => "$1",
        _ => "?",
    };
    // The period is an integer of ours: written as a number, like the city list's.
    let sql = format!(
        "INSERT INTO city_returns (city_code, period, status, late, version, updated_at) \
         SELECT c.code, {period}, CASE WHEN EXISTS (SELECT 1 FROM coverage_records r \
         WHERE r.city_code = c.code AND r.period = {period}) THEN 'DRAFT' ELSE 'NOT_STARTED' END, \
         false, 1, {at} FROM cities c"
    );
    txn.execute_raw(Statement::from_sql_and_values(backend, sql, [now.into()]))
        .await?;
    Ok(())
}

/// The returns a batch of figures edits, checked before it writes: a submitted or approved
/// return refuses its rows (RETURN_SUBMITTED, RETURN_APPROVED); the others are handed back to
/// be moved to DRAFT once the figures are written ([`to_draft`]). Returns exist only in periods
/// with a round; rows of other periods pass.
pub async fn before_edit(
    txn: &DatabaseTransaction,
    rows: &[(At, CoverageUpdate)],
) -> Result<Result<Vec<city_return::Model>, Vec<UserError>>, DbErr> {
    // Two IN lists rather than an OR per (city, period): SQLite nests an OR chain one level per
    // term, and a sheet of every city would pass its depth limit. Returns of pairs no row
    // names (a city of the sheet in another of its periods) are passed over below.
    let keys: HashSet<(&str, i32)> = rows
        .iter()
        .map(|(_, input)| (input.city_code.as_str(), input.period))
        .collect();
    let cities: HashSet<&str> = keys.iter().map(|(city, _)| *city).collect();
    let periods: HashSet<i32> = keys.iter().map(|(_, period)| *period).collect();
    let any = Condition::all()
        .add(city_return::Column::CityCode.is_in(cities))
        .add(city_return::Column::Period.is_in(periods));
    let returns = lock(
        city_return::Entity::find().filter(any),
        txn,
        LockType::Update,
    )
    .all(txn)
    .await?;
    let by_key: std::collections::HashMap<(&str, i32), &city_return::Model> = returns
        .iter()
        .map(|r| ((r.city_code.as_str(), r.period), r))
        .collect();
    let mut errors = Vec::new();
    for (at, input) in rows {
        let Some(stored) = by_key.get(&(input.city_code.as_str(), input.period)) else {
            continue;
        };
        let refusal = match stored.status {
            ReturnStatus::Submitted => yearly::Refusal::ReturnSubmitted,
            ReturnStatus::Approved => yearly::Refusal::ReturnApproved,
            _ => continue,
        };
        errors.push(at.error("period", refusal.code(), (&refusal).into()));
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    Ok(Ok(returns
        .into_iter()
        .filter(|r| keys.contains(&(r.city_code.as_str(), r.period)))
        .filter(|r| matches!(r.status, ReturnStatus::NotStarted | ReturnStatus::Returned))
        .collect()))
}

/// Moves the returns an edit began or resumed to DRAFT, each with its revision.
pub async fn to_draft(
    uow: &mut UnitOfWork<'_>,
    returns: Vec<city_return::Model>,
) -> Result<(), DbErr> {
    let now = crate::domain::now();
    for current in returns {
        let next = city_return::Model {
            status: ReturnStatus::Draft,
            version: current.version + 1,
            updated_at: now,
            published: false,
            ..current.clone()
        };
        if write(uow, &current, &next, None).await?.is_none() {
            return Err(DbErr::RecordNotUpdated);
        }
    }
    Ok(())
}
