//! Publishing (发布) the yearly return: an administrator makes the approved returns of a round,
//! or one approved return, the public's figures. Each publication is numbered, keeps the figures
//! it made public (`published_records`), and leaves a revision on each return it published; the
//! public's records change in the same transaction, and every published record is announced
//! (`coverageChanged`), so open dashboards and the response cache follow at once.

use entity::{ReturnStatus, RevisionKind, city_return, publication, revision, round};
use sea_orm::sea_query::LockType;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::city_return::{lock, write};
use super::{At, Outcome, Refusal, UnitOfWork, WriteContext, admin};
use crate::code::Code;
use crate::domain::write::{period_error, words};
use crate::error::AppResult;

/// What to publish: the approved returns of a round, or one city's.
#[derive(Debug, Clone)]
pub struct PublishInput {
    /// The period (year).
    pub period: i32,
    /// One city's return only; none: every approved return not yet published.
    pub city_code: Option<String>,
}

/// An accepted publication.
#[derive(Debug, Clone)]
pub struct Published {
    /// The publication, numbered.
    pub publication: publication::Model,
    /// The round it belongs to.
    pub round: round::Model,
    /// The returns it published, as they now stand.
    pub returns: Vec<city_return::Model>,
}

/// Publishes the approved, unpublished returns `input` names. Admin only.
pub async fn publish(
    db: &DatabaseConnection,
    ctx: WriteContext<'_>,
    input: PublishInput,
) -> AppResult<Outcome<Published, round::Model>> {
    let token = admin(ctx.actor)?;
    let errors = period_error(At::INPUT, input.period).into_iter().collect();
    super::run(db, &ctx, token.into(), errors, async |uow| {
        apply(uow, input).await
    })
    .await
}

async fn apply(
    uow: &mut UnitOfWork<'_>,
    input: PublishInput,
) -> Result<Result<Published, Refusal<round::Model>>, DbErr> {
    let at = At::INPUT;
    let period = input.period;
    let txn = uow.txn();
    // The round's row lock orders publications of one period.
    let Some(round) = lock(round::Entity::find_by_id(period), txn, LockType::Update)
        .one(txn)
        .await?
    else {
        let message = words(
            format!("there is no round for {period}"),
            format!("{period} 年度年报尚未开启"),
        );
        return Ok(Err(Refusal::new(vec![at.error(
            "period",
            Code::RoundNotOpen,
            message,
        )])));
    };
    let mut query = city_return::Entity::find()
        .filter(city_return::Column::Period.eq(period))
        .filter(city_return::Column::Status.eq(ReturnStatus::Approved))
        .filter(city_return::Column::Published.eq(false))
        .order_by_asc(city_return::Column::CityCode);
    if let Some(city) = &input.city_code {
        query = query.filter(city_return::Column::CityCode.eq(city.as_str()));
    }
    let returns = lock(query, txn, LockType::Update).all(txn).await?;
    if returns.is_empty() {
        let (field, message) = match &input.city_code {
            Some(city) => (
                "cityCode",
                words(
                    format!("{city}'s {period} return is not approved, or is published already"),
                    format!("{city} 的 {period} 年报尚未审核，或已发布"),
                ),
            ),
            None => (
                "period",
                words(
                    format!("no approved return of {period} waits to be published"),
                    format!("{period} 年度没有待发布的已审核年报"),
                ),
            ),
        };
        return Ok(Err(Refusal {
            errors: vec![at.error(field, Code::NothingToPublish, message)],
            current: vec![round],
        }));
    }
    // Publications of every period share one numbering: on PostgreSQL they take their numbers
    // one at a time (SQLite's writer is alone already).
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        txn.execute_unprepared("SELECT pg_advisory_xact_lock(2206)")
            .await?;
    }
    let number = publication::Entity::find()
        .select_only()
        .column_as(publication::Column::Number.max(), "max")
        .into_tuple::<Option<i32>>()
        .one(txn)
        .await?
        .flatten()
        .unwrap_or(0)
        + 1;
    let now = crate::domain::now();
    let cities: Vec<String> = returns.iter().map(|r| r.city_code.clone()).collect();
    let publication = publication::ActiveModel {
        number: Set(number),
        period: Set(period),
        published_at: Set(now),
        published_by: Set(Some(uow.writer().label())),
        cities: Set(i32::try_from(cities.len()).unwrap_or(i32::MAX)),
    }
    .insert(txn)
    .await?;
    let mut sums: Vec<_> = crate::domain::BRANCH_TYPES
        .iter()
        .map(|&branch_type| (period, branch_type))
        .collect();
    sums.sort();
    super::coverage::lock_sums(txn, &sums).await?;
    migration::publish_records(txn, number, period, Some(&cities)).await?;
    announce_records(uow, period, &cities).await?;
    let mut published = Vec::with_capacity(returns.len());
    for current in returns {
        let next = city_return::Model {
            published: true,
            published_at: Some(now),
            version: current.version + 1,
            updated_at: now,
            ..current.clone()
        };
        let note = Some(format!("发布 publication {number}"));
        if write(uow, &current, &next, note).await?.is_none() {
            return Err(DbErr::RecordNotUpdated);
        }
        published.push(next);
    }
    Ok(Ok(Published {
        publication,
        round,
        returns: published,
    }))
}

/// Announces each record now public in `period` for `cities` with the revision that made it what
/// it is (its newest), so that `coverageChanged` subscribers and the response cache follow.
async fn announce_records(
    uow: &mut UnitOfWork<'_>,
    period: i32,
    cities: &[String],
) -> Result<(), DbErr> {
    let revisions = revision::Entity::find()
        .filter(revision::Column::Kind.eq(RevisionKind::Coverage))
        .filter(revision::Column::Period.eq(period))
        .filter(revision::Column::CityCode.is_in(cities.iter().map(String::as_str)))
        .order_by_desc(revision::Column::Id)
        .all(uow.txn())
        .await?;
    let records = entity::coverage_record::Entity::find()
        .filter(entity::coverage_record::Column::Period.eq(period))
        .filter(entity::coverage_record::Column::CityCode.is_in(cities.iter().map(String::as_str)))
        .all(uow.txn())
        .await?;
    for record in records {
        let key = super::snapshot::coverage_key(&record);
        if let Some(newest) = revisions.iter().find(|r| r.record_key == key) {
            uow.announce(record.id, newest.clone());
        }
    }
    Ok(())
}
