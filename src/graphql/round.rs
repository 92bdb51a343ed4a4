//! `Round`: one period's yearly return (年报) across the cities; `round(period)`, `rounds`, and
//! the administrators' `openRound`, `closeRound` and `reopenRound`.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::round;

use super::error::GqlResultExt;
use super::node::NodeKey;
use super::revision::Revision;
use super::write::{UserError, write_context};
use super::{db, loaders};
use crate::service::returns::StatusCount;
use crate::service::rounds as svc;
use crate::service::writes::{self, Outcome, Refusal, RoundInput, RoundStep};

/// Whether a round takes figures.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::RoundStatus")]
pub enum RoundStatus {
    /// 进行中: cities enter figures for the period.
    Open,
    /// 已关闭: no figures for the period until an administrator reopens the round.
    Closed,
}

/// One period's yearly return (年报) across the cities: opened by the province with a due date
/// (截止日期), closed when no more figures may come in. While a round is closed, every write of
/// a figure for its period is refused with ROUND_CLOSED.
#[derive(Clone)]
pub struct Round(pub round::Model);

/// One period's yearly return (年报) across the cities: opened by the province with a due date
/// (截止日期), closed when no more figures may come in. While a round is closed, every write of
/// a figure for its period is refused with ROUND_CLOSED.
#[Object]
impl Round {
    /// Opaque, stable global id (Relay's `Node`); the natural key is `period`.
    pub async fn id(&self) -> ID {
        NodeKey::Round(self.0.period).id()
    }

    /// The period (year).
    async fn period(&self) -> i32 {
        self.0.period
    }

    /// Open or closed.
    async fn status(&self) -> RoundStatus {
        self.0.status.into()
    }

    /// 截止日期: returns submitted after it are accepted and marked late; null when none is set.
    async fn due_at(&self) -> Option<DateTime<Utc>> {
        self.0.due_at
    }

    /// When the round was opened.
    async fn opened_at(&self) -> DateTime<Utc> {
        self.0.opened_at
    }

    /// When it was closed; null while it is open.
    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.0.closed_at
    }

    /// Bumped by every step: send it as `expectedVersion`.
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// Completeness (完成情况): how many cities' returns stand at each status, every status
    /// listed, in the order of the cycle (NOT_STARTED, DRAFT, SUBMITTED, RETURNED, APPROVED).
    async fn status_counts(&self, ctx: &Context<'_>) -> Result<Vec<ReturnStatusCount>> {
        let counts = self.counts(ctx).await?;
        Ok(STATUSES
            .iter()
            .map(|status| ReturnStatusCount {
                status: (*status).into(),
                cities: counts
                    .iter()
                    .find(|c| c.status == *status)
                    .map_or(0, |c| c.cities),
            })
            .collect())
    }

    /// The cities expected to file: every city with a return in this round.
    async fn expected_cities(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(self.counts(ctx).await?.iter().map(|c| c.cities).sum())
    }

    /// The cities whose return is in (submitted or approved), of `expectedCities`.
    async fn received_cities(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(self.received(ctx).await?.map(|c| c.cities).sum())
    }

    /// Timeliness (及时性): of the returns in, those submitted after the due date (逾期).
    async fn late_cities(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(self.received(ctx).await?.map(|c| c.late).sum())
    }

    /// The cities whose figures for this period are public (published at least once), of
    /// `expectedCities`: how complete the public's view of the period is (已发布 12/18 市).
    async fn published_cities(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(self.counts(ctx).await?.iter().map(|c| c.published).sum())
    }

    /// The publications of this round, newest first.
    async fn publications(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<super::publication::Publication>> {
        super::publication::of_period(ctx, Some(self.0.period)).await
    }

    /// The cities' returns in this round, in city order: every city's for an administrator,
    /// its own for city staff; a token is needed (UNAUTHENTICATED without one).
    async fn returns(&self, ctx: &Context<'_>) -> Result<Vec<super::city_return::CityReturn>> {
        super::city_return::of_round(ctx, self.0.period).await
    }
}

/// The statuses of a return, in the order of the cycle.
const STATUSES: [entity::ReturnStatus; 5] = [
    entity::ReturnStatus::NotStarted,
    entity::ReturnStatus::Draft,
    entity::ReturnStatus::Submitted,
    entity::ReturnStatus::Returned,
    entity::ReturnStatus::Approved,
];

impl Round {
    async fn counts(&self, ctx: &Context<'_>) -> Result<Vec<StatusCount>> {
        Ok(loaders(ctx)?
            .return_counts
            .load_one(self.0.period)
            .await
            .gql()?
            .unwrap_or_default())
    }

    async fn received(&self, ctx: &Context<'_>) -> Result<impl Iterator<Item = StatusCount>> {
        Ok(self.counts(ctx).await?.into_iter().filter(|c| {
            matches!(
                c.status,
                entity::ReturnStatus::Submitted | entity::ReturnStatus::Approved
            )
        }))
    }
}

/// How many cities' returns stand at a status.
#[derive(SimpleObject)]
pub struct ReturnStatusCount {
    /// The status.
    pub status: super::city_return::ReturnStatus,
    /// How many cities' returns stand at it.
    pub cities: i64,
}

/// Round queries.
#[derive(Default)]
pub struct RoundQuery;

#[Object]
impl RoundQuery {
    /// The round of a period; null when none was opened.
    async fn round(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The period (year).")] period: i32,
    ) -> Result<Option<Round>> {
        Ok(loaders(ctx)?
            .round_by_period
            .load_one(period)
            .await
            .gql()?
            .map(Round))
    }

    /// Every round, newest period first.
    async fn rounds(&self, ctx: &Context<'_>) -> Result<Vec<Round>> {
        Ok(svc::list(&db(ctx)?.conn)
            .await
            .gql()?
            .into_iter()
            .map(Round)
            .collect())
    }
}

/// Open the round of a period.
#[derive(InputObject, Debug, Clone)]
pub struct OpenRoundInput {
    /// The period (year), from 2000 to next year.
    pub period: i32,
    /// 截止日期 (RFC 3339); none: no due date.
    pub due_at: Option<DateTime<Utc>>,
    /// Kept in the revision (at most 2,000 characters).
    pub note: Option<String>,
}

/// Close the open round of a period.
#[derive(InputObject, Debug, Clone)]
pub struct CloseRoundInput {
    /// The period (year).
    pub period: i32,
    /// The round's version as read; absent skips the check.
    pub expected_version: Option<i32>,
    /// Kept in the revision (at most 2,000 characters).
    pub note: Option<String>,
}

/// Open a closed round again.
#[derive(InputObject, Debug, Clone)]
pub struct ReopenRoundInput {
    /// The period (year).
    pub period: i32,
    /// Why (required, at most 2,000 characters); kept in the revision.
    pub reason: String,
    /// A new due date; absent keeps the one set.
    pub due_at: Option<DateTime<Utc>>,
    /// The round's version as read; absent skips the check.
    pub expected_version: Option<i32>,
}

/// The result of a step on a round.
#[derive(SimpleObject)]
pub struct RoundPayload {
    /// The round after the step; when refused, the round as stored (null when there is none).
    pub round: Option<Round>,
    /// The revision the step left; null when refused.
    pub revision: Option<Revision>,
    /// Why the step was refused: ROUND_EXISTS, ROUND_NOT_OPEN, ROUND_CLOSED, ROUND_OPEN,
    /// VERSION_CONFLICT or BAD_USER_INPUT; empty when it was taken.
    pub user_errors: Vec<UserError>,
}

/// The administrators' steps on rounds.
#[derive(Default)]
pub struct RoundMutation;

#[Object]
impl RoundMutation {
    /// Opens the round of a period, with a due date. ADMIN only.
    async fn open_round(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The period and its due date.")] input: OpenRoundInput,
    ) -> Result<RoundPayload> {
        step(
            ctx,
            RoundInput {
                period: input.period,
                step: RoundStep::Open {
                    due_at: input.due_at,
                },
                expected_version: None,
                note: input.note,
            },
        )
        .await
    }

    /// Closes the open round of a period: no figure for the period is written until it is
    /// reopened. ADMIN only.
    async fn close_round(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The period.")] input: CloseRoundInput,
    ) -> Result<RoundPayload> {
        step(
            ctx,
            RoundInput {
                period: input.period,
                step: RoundStep::Close,
                expected_version: input.expected_version,
                note: input.note,
            },
        )
        .await
    }

    /// Opens a closed round again, saying why. ADMIN only.
    async fn reopen_round(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The period and the reason.")] input: ReopenRoundInput,
    ) -> Result<RoundPayload> {
        step(
            ctx,
            RoundInput {
                period: input.period,
                step: RoundStep::Reopen {
                    reason: input.reason,
                    due_at: input.due_at,
                },
                expected_version: input.expected_version,
                note: None,
            },
        )
        .await
    }
}

async fn step(ctx: &Context<'_>, input: RoundInput) -> Result<RoundPayload> {
    let outcome = writes::step_round(&db(ctx)?.conn, write_context(ctx)?, input)
        .await
        .gql()?;
    Ok(match outcome {
        Outcome::Accepted(w) => RoundPayload {
            round: Some(Round(w.round)),
            revision: Some(Revision(w.revision)),
            user_errors: Vec::new(),
        },
        Outcome::Refused(Refusal { errors, current }) => RoundPayload {
            round: current.into_iter().next().map(Round),
            revision: None,
            user_errors: errors.into_iter().map(Into::into).collect(),
        },
    })
}
