//! Coverage records: a city's figures for one branch type and period, written one at a time or
//! up to [`MAX_BULK_ROWS`] at once, all or nothing.

use std::collections::HashSet;

use crate::code::Code;
use entity::{RevisionKind, city, coverage_record, revision};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, ConnectionTrait,
    DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, EntityTrait, QueryFilter, Statement,
};

use super::snapshot::{CoverageSnapshot, coverage_key, to_json};
use super::{
    At, CoverageUpdate, Outcome, Refusal, RevisionOf, UnitOfWork, WriteContext, Writer,
    is_unique_violation, may_write_city, writer,
};
use crate::domain::BranchType;
use crate::domain::write::{MAX_BULK_ROWS, check_coverage, no_such_city, version_conflict, words};
use crate::error::{AppError, AppResult};
use crate::events::Events;

/// An accepted coverage write: the record as stored and its revision.
#[derive(Debug, Clone)]
pub struct Written {
    /// The record after the write.
    pub record: coverage_record::Model,
    /// The revision the write left.
    pub revision: revision::Model,
    /// Whether the record is public as written (an administrator's figure outside any round);
    /// else it is a draft, public once published.
    pub public: bool,
}

/// What a refused coverage write shows: the stored records the errors concern.
pub type CoverageOutcome<T> = Outcome<T, coverage_record::Model>;

/// Creates or changes one coverage record.
pub async fn update_coverage(
    db: &DatabaseConnection,
    ctx: WriteContext<'_>,
    input: CoverageUpdate,
) -> AppResult<CoverageOutcome<Written>> {
    let batch = Batch::of(ctx, vec![(At::INPUT, input)])?;
    match write_batch(db, batch).await? {
        Outcome::Accepted(mut written) => match written.pop() {
            Some(one) => Ok(Outcome::Accepted(one)),
            None => Err(AppError::Database(DbErr::Custom("no row written".into()))),
        },
        Outcome::Refused(refusal) => Ok(Outcome::Refused(refusal)),
    }
}

/// Creates or changes several records, all or nothing, in one transaction; error paths name
/// the row (`["input", "3", "branchCount"]`).
pub async fn bulk_update_coverage(
    db: &DatabaseConnection,
    ctx: WriteContext<'_>,
    inputs: Vec<CoverageUpdate>,
) -> AppResult<CoverageOutcome<Vec<Written>>> {
    let rows = inputs
        .into_iter()
        .enumerate()
        .map(|(i, input)| (At::row(i), input))
        .collect();
    write_batch(db, Batch::of(ctx, rows)?).await
}

/// Coverage rows one writer sends at once: a mutation's, or a spreadsheet's.
pub struct Batch<'a> {
    /// Who writes.
    pub writer: Writer,
    /// Where the committed changes are announced.
    pub events: &'a Events,
    /// The request's id, kept in the revisions.
    pub request_id: Option<&'a str>,
    /// The rows, each with where it sits in the request (the path its errors name).
    pub rows: Vec<(At, CoverageUpdate)>,
    /// Most rows accepted.
    pub max_rows: usize,
    /// Roll everything back at the end: the outcome is what the write would have been.
    pub dry_run: bool,
}

impl<'a> Batch<'a> {
    /// A mutation's rows, by the caller's token (UNAUTHENTICATED without one), at most
    /// [`MAX_BULK_ROWS`].
    fn of(ctx: WriteContext<'a>, rows: Vec<(At, CoverageUpdate)>) -> AppResult<Self> {
        Ok(Self {
            writer: writer(ctx.actor)?.into(),
            events: ctx.events,
            request_id: ctx.request_id,
            rows,
            max_rows: MAX_BULK_ROWS,
            dry_run: false,
        })
    }
}

/// Writes a batch, all or nothing, in one transaction: FORBIDDEN as a whole when the writer
/// may not write one of its cities; refused with every row's errors when any row is bad.
pub async fn write_batch(
    db: &DatabaseConnection,
    batch: Batch<'_>,
) -> AppResult<CoverageOutcome<Vec<Written>>> {
    for (_, input) in &batch.rows {
        may_write_city(&batch.writer, &input.city_code)?;
    }
    if batch.rows.len() > batch.max_rows {
        let (max, got) = (batch.max_rows, batch.rows.len());
        return Ok(Outcome::Refused(Refusal::new(vec![super::UserError {
            field: vec!["input".into()],
            message: format!("at most {max} rows in one bulk update, got {got}"),
            message_zh: format!("一次最多修改 {max} 行，收到 {got} 行"),
            code: Code::BadUserInput,
        }])));
    }
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    for (at, input) in &batch.rows {
        errors.extend(input.validate(*at));
        if !seen.insert((&input.city_code, input.branch_type, input.period)) {
            errors.push(at.bad(
                "cityCode",
                words(
                    "the same city, branch type and period appear twice",
                    "同一城市、类型和年份出现了两次",
                ),
            ));
        }
    }
    if !errors.is_empty() {
        return Ok(Outcome::Refused(Refusal::new(errors)));
    }
    let mut uow = UnitOfWork::begin(db, batch.events, batch.request_id, batch.writer).await?;
    let mut sums: Vec<(i32, BranchType)> = batch
        .rows
        .iter()
        .map(|(_, input)| (input.period, input.branch_type))
        .collect();
    sums.sort();
    sums.dedup();
    let mut periods: Vec<i32> = sums.iter().map(|(period, _)| *period).collect();
    periods.dedup();
    let applied = apply_in_rounds(&mut uow, &sums, &periods, batch.rows).await;
    uow.end(applied, At::INPUT, batch.dry_run).await
}

/// Applies the rows where the yearly return allows: none in a closed round's period, none of a
/// submitted or approved return, none of city staff outside a round; the returns the rows begin
/// or resume move to DRAFT. Rows in a round's period are drafts, public once published; an
/// administrator's rows outside any round are the province's own figures, public at once.
async fn apply_in_rounds(
    uow: &mut UnitOfWork<'_>,
    sums: &[(i32, BranchType)],
    periods: &[i32],
    rows: Vec<(At, CoverageUpdate)>,
) -> Result<Result<Vec<Written>, Refusal<coverage_record::Model>>, DbErr> {
    let rounds = super::round::rounds_of(uow.txn(), periods).await?;
    let closed: HashSet<i32> = rounds
        .iter()
        .filter(|r| r.status == entity::RoundStatus::Closed)
        .map(|r| r.period)
        .collect();
    if !closed.is_empty() {
        return Ok(Err(in_closed_rounds(&rows, &closed)));
    }
    let in_round: HashSet<i32> = rounds.iter().map(|r| r.period).collect();
    if uow.writer().role != entity::Role::Admin {
        let outside = outside_rounds(&rows, &in_round);
        if !outside.errors.is_empty() {
            return Ok(Err(outside));
        }
    }
    let public_sums: Vec<(i32, BranchType)> = sums
        .iter()
        .filter(|(period, _)| !in_round.contains(period))
        .copied()
        .collect();
    lock_sums(uow.txn(), &public_sums).await?;
    // Returns exist only in a round's period: a write of no such period reads none.
    let returns = if in_round.is_empty() {
        Vec::new()
    } else {
        match super::city_return::before_edit(uow.txn(), &rows).await? {
            Ok(returns) => returns,
            Err(errors) => return Ok(Err(Refusal::new(errors))),
        }
    };
    let written = apply_all(uow, rows, &in_round).await?;
    if let Ok(written) = &written {
        super::city_return::to_draft(uow, returns).await?;
        let public: Vec<i64> = written
            .iter()
            .filter(|w| !in_round.contains(&w.record.period))
            .map(|w| w.record.id)
            .collect();
        migration::make_public(uow.txn(), &public).await?;
    }
    Ok(written)
}

/// The refusal of city staff's rows in periods without a round: one error per such row.
fn outside_rounds(
    rows: &[(At, CoverageUpdate)],
    in_round: &HashSet<i32>,
) -> Refusal<coverage_record::Model> {
    let refusal = crate::domain::yearly::Refusal::RoundNotOpen;
    Refusal::new(
        rows.iter()
            .filter(|(_, input)| !in_round.contains(&input.period))
            .map(|(at, input)| {
                at.error(
                    "period",
                    refusal.code(),
                    words(
                        format!(
                            "no round of the yearly return is open for {}: the province opens \
                             one before cities file their figures",
                            input.period
                        ),
                        format!(
                            "{} 年度年报尚未开启：省科协开启后各市才能填报",
                            input.period
                        ),
                    ),
                )
            })
            .collect(),
    )
}

/// The refusal of a batch with rows in closed rounds: one error per such row.
fn in_closed_rounds(
    rows: &[(At, CoverageUpdate)],
    closed: &HashSet<i32>,
) -> Refusal<coverage_record::Model> {
    Refusal::new(
        rows.iter()
            .filter(|(_, input)| closed.contains(&input.period))
            .map(|(at, input)| {
                at.error(
                    "period",
                    Code::RoundClosed,
                    words(
                        format!(
                            "the {} round is closed: no figures for {} until the province \
                             reopens it",
                            input.period, input.period
                        ),
                        format!("{} 年度年报已关闭：省科协重新开启前不能填报", input.period),
                    ),
                )
            })
            .collect(),
    )
}

/// Takes the lock on each (period, branch type) row of `coverage_sums` that a batch will change,
/// in one order for every writer. The triggers that keep those sums lock each row as the batch
/// reaches a record of its type (see the migration); two batches that reached two types in
/// opposite orders would each wait for the other, and PostgreSQL would end one of them after a
/// second with a deadlock error. A batch of one type locks nothing more than it would anyway.
/// (SQLite has one writer at a time, and its transaction already holds the write lock.)
pub(super) async fn lock_sums(
    txn: &DatabaseTransaction,
    sums: &[(i32, BranchType)],
) -> Result<(), DbErr> {
    if sums.len() < 2 || txn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    for (period, branch_type) in sums {
        // The first record of a new period has no row yet: make it, or lock the one there.
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "INSERT INTO {} (period, branch_type) VALUES ($1, $2) \
                 ON CONFLICT (period, branch_type) DO UPDATE SET period = excluded.period",
                migration::COVERAGE_SUMS
            ),
            [(*period).into(), branch_type.to_value().into()],
        ))
        .await?;
    }
    Ok(())
}

/// Applies every row; the refusals of all rows together, or every row written. Rows of the
/// `drafts` periods (a round's) are drafts: they announce no change to the public.
async fn apply_all(
    uow: &mut UnitOfWork<'_>,
    rows: Vec<(At, CoverageUpdate)>,
    drafts: &HashSet<i32>,
) -> Result<Result<Vec<Written>, Refusal<coverage_record::Model>>, DbErr> {
    let mut written = Vec::with_capacity(rows.len());
    let mut refused = Refusal::new(Vec::new());
    for (at, input) in rows {
        let public = !drafts.contains(&input.period);
        match apply(uow, input, at, public).await {
            Ok(Ok(w)) => written.push(w),
            Ok(Err(r)) => {
                refused.errors.extend(r.errors);
                refused.current.extend(r.current);
            }
            // Another writer created the same record first; the transaction is spent.
            Err(err) if is_unique_violation(&err) => {
                return Ok(Err(Refusal::conflict(
                    at,
                    words(
                        "another writer created this record first",
                        "另一位填报人已先建立这条记录",
                    ),
                    None,
                )));
            }
            Err(err) => return Err(err),
        }
    }
    Ok(if refused.errors.is_empty() {
        Ok(written)
    } else {
        Err(refused)
    })
}

async fn apply(
    uow: &mut UnitOfWork<'_>,
    input: CoverageUpdate,
    at: At,
    public: bool,
) -> Result<Result<Written, Refusal<coverage_record::Model>>, DbErr> {
    let txn = uow.txn();
    if city::Entity::find_by_id(input.city_code.clone())
        .one(txn)
        .await?
        .is_none()
    {
        let message = no_such_city(&input.city_code);
        return Ok(Err(Refusal::not_found(at, "cityCode", message)));
    }
    let stored = coverage_record::Entity::find()
        .filter(coverage_record::Column::CityCode.eq(input.city_code.as_str()))
        .filter(coverage_record::Column::BranchType.eq(input.branch_type))
        .filter(coverage_record::Column::Period.eq(input.period))
        .one(txn)
        .await?;
    if let Some(message) =
        version_conflict(stored.as_ref().map(|r| r.version), input.expected_version)
    {
        return Ok(Err(Refusal::conflict(at, message, stored)));
    }
    let next = merge(&input, stored.as_ref(), uow.writer().label());
    let errors = check_coverage(at, &next);
    if !errors.is_empty() {
        return Ok(Err(Refusal {
            errors,
            current: stored.into_iter().collect(),
        }));
    }
    let record = match &stored {
        None => {
            let mut active: coverage_record::ActiveModel = next.into();
            active.id = NotSet;
            active.insert(uow.txn()).await?
        }
        Some(current) => {
            if !update(uow, current, &next).await? {
                let fresh = coverage_record::Entity::find_by_id(current.id)
                    .one(uow.txn())
                    .await?;
                let message = words(
                    "someone changed the record meanwhile",
                    "其间已有人修改了这条记录",
                );
                return Ok(Err(Refusal::conflict(at, message, fresh)));
            }
            next
        }
    };
    let snapshot = |r: &coverage_record::Model| to_json(&CoverageSnapshot::from(r));
    let mut of = RevisionOf::new(
        RevisionKind::Coverage,
        coverage_key(&record),
        stored.as_ref().map(snapshot).transpose()?,
        Some(snapshot(&record)?),
    );
    of.city_code = Some(record.city_code.clone());
    of.branch_type = Some(record.branch_type);
    of.period = Some(record.period);
    // A coverage event needs the record's id: a draft's revision becomes none.
    of.record_id = public.then_some(record.id);
    let revision = uow.revise(of, input.note).await?;
    Ok(Ok(Written {
        record,
        revision,
        public,
    }))
}

/// The record as the write leaves it: the input over what is stored, the version bumped.
fn merge(
    input: &CoverageUpdate,
    stored: Option<&coverage_record::Model>,
    actor_label: String,
) -> coverage_record::Model {
    let keep = |f: fn(&coverage_record::Model) -> Option<i32>| stored.and_then(f);
    coverage_record::Model {
        id: stored.map_or(0, |r| r.id),
        city_code: input.city_code.clone(),
        branch_type: input.branch_type,
        period: input.period,
        branch_count: input.branch_count.apply(keep(|r| r.branch_count)),
        eligible_count: input.eligible_count.apply(keep(|r| r.eligible_count)),
        new_branches: input.new_branches.apply(keep(|r| r.new_branches)),
        stated_rate: input.stated_rate.apply(stored.and_then(|r| r.stated_rate)),
        rate_scope: input
            .rate_scope
            .apply(stored.and_then(|r| r.rate_scope.clone())),
        source: input.source.apply(stored.and_then(|r| r.source.clone())),
        version: stored.map_or(1, |r| r.version + 1),
        updated_at: crate::domain::now(),
        updated_by: Some(actor_label),
    }
}

/// Writes `next` over `current` if it is still at `current`'s version: the version in the WHERE
/// clause is the lock, so a writer that lost the race updates nothing (PostgreSQL re-checks it
/// after the winner commits). Whether the row was written.
async fn update(
    uow: &UnitOfWork<'_>,
    current: &coverage_record::Model,
    next: &coverage_record::Model,
) -> Result<bool, DbErr> {
    use coverage_record::Column as C;
    let result = coverage_record::Entity::update_many()
        .col_expr(C::BranchCount, Expr::value(next.branch_count))
        .col_expr(C::EligibleCount, Expr::value(next.eligible_count))
        .col_expr(C::NewBranches, Expr::value(next.new_branches))
        .col_expr(C::StatedRate, Expr::value(next.stated_rate))
        .col_expr(C::RateScope, Expr::value(next.rate_scope.clone()))
        .col_expr(C::Source, Expr::value(next.source.clone()))
        .col_expr(C::Version, Expr::value(next.version))
        .col_expr(C::UpdatedAt, Expr::value(next.updated_at))
        .col_expr(C::UpdatedBy, Expr::value(next.updated_by.clone()))
        .filter(C::Id.eq(current.id))
        .filter(C::Version.eq(current.version))
        .exec(uow.txn())
        .await?;
    Ok(result.rows_affected == 1)
}
