//! `CityReturn`: a city's return in a round of the yearly return (年报); `cityReturn`, and the
//! steps `submitReturn`, `sendBackReturn`, `approveReturn`, `reopenReturn`. Returns are read by
//! who works on them: a city's staff read their own city's, administrators every city's.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{Role, city_return};

use super::city::City;
use super::error::{GqlResultExt, to_graphql};
use super::node::NodeKey;
use super::revision::Revision;
use super::write::{UserError, write_context};
use super::{db, loaders};
use crate::domain::Actor;
use crate::domain::yearly::Step;
use crate::error::AppError;
use crate::service::returns as svc;
use crate::service::writes::{self, Outcome, Refusal, ReturnInput};

/// Where a city's return stands in its round.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::ReturnStatus")]
pub enum ReturnStatus {
    /// 未报: nothing entered yet.
    NotStarted,
    /// 草稿: the city is editing.
    Draft,
    /// 已报: submitted, waiting for the province's review; locked for edits.
    Submitted,
    /// 已退回: sent back with the province's comment; the city edits and submits again.
    Returned,
    /// 已审核: approved by the province; locked until an administrator reopens it.
    Approved,
}

/// A city's return in a round.
#[derive(Clone)]
pub struct CityReturn(pub city_return::Model);

/// A city's return in a round of the yearly return (年报): where it stands, when it was
/// submitted and by whom, whether late (逾期), and the province's comment.
#[Object]
impl CityReturn {
    /// Opaque, stable global id (Relay's `Node`); the natural key is city and period.
    pub async fn id(&self) -> ID {
        NodeKey::CityReturn(self.0.city_code.clone(), self.0.period).id()
    }

    /// The city.
    async fn city(&self, ctx: &Context<'_>) -> Result<Option<City>> {
        Ok(loaders(ctx)?
            .city_by_code
            .load_one(self.0.city_code.clone())
            .await
            .gql()?
            .map(City::from))
    }

    /// The period (year).
    async fn period(&self) -> i32 {
        self.0.period
    }

    /// Where it stands.
    async fn status(&self) -> ReturnStatus {
        self.0.status.into()
    }

    /// When it was last submitted; null before.
    async fn submitted_at(&self) -> Option<DateTime<Utc>> {
        self.0.submitted_at
    }

    /// Who last submitted it (as revisions name writers); null before.
    async fn submitted_by(&self) -> Option<&str> {
        self.0.submitted_by.as_deref()
    }

    /// 逾期: last submitted after the round's due date.
    async fn late(&self) -> bool {
        self.0.late
    }

    /// The province's comment when it sent the return back, or why it reopened it.
    async fn comment(&self) -> Option<&str> {
        self.0.comment.as_deref()
    }

    /// Bumped by every step: send it as `expectedVersion`.
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// Whether the return's figures as they stand are the published ones (approved, then
    /// published). False again from the moment it is reopened; the figures published before
    /// stay public until the next publication.
    async fn published(&self) -> bool {
        self.0.published
    }

    /// When its figures were last published; null if never.
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.0.published_at
    }

    /// The return's figures as the city entered them (its drafts, one per branch type it has
    /// filled): what the province reviews. Each is a `Coverage` with `draft: true` and an id of
    /// its own; the published figures are `City.coverage`.
    async fn coverage(&self, ctx: &Context<'_>) -> Result<Vec<super::coverage::Coverage>> {
        let mut records = loaders(ctx)?
            .drafts_by_return
            .load_one((self.0.city_code.clone(), self.0.period))
            .await
            .gql()?
            .unwrap_or_default();
        records.sort_by_key(|r| r.branch_type);
        Ok(records
            .into_iter()
            .map(super::coverage::Coverage::of_draft)
            .collect())
    }
}

/// The city whose returns the caller may read: every city for an administrator (`None`), its
/// own for city staff; UNAUTHENTICATED without a token.
pub fn readable_city(ctx: &Context<'_>) -> Result<Option<String>> {
    match ctx.data::<Actor>()? {
        Actor::Token(token) if token.role == Role::Admin => Ok(None),
        Actor::Token(token) => Ok(Some(token.city_code.clone().unwrap_or_default())),
        Actor::Anonymous | Actor::Rejected => Err(to_graphql(&AppError::Unauthenticated(
            "returns are read by the province and each city's own staff: send a token".into(),
        ))),
    }
}

/// Return queries.
#[derive(Default)]
pub struct ReturnQuery;

#[Object]
impl ReturnQuery {
    /// A city's return in the round of a period; null when the period has no round. City staff
    /// read their own city's (another city's is FORBIDDEN), administrators any; a token is needed.
    async fn city_return(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The city (administrative code).")] city_code: ID,
        #[graphql(desc = "The period (year).")] period: i32,
    ) -> Result<Option<CityReturn>> {
        if let Some(own) = readable_city(ctx)?
            && own != city_code.0
        {
            return Err(to_graphql(&AppError::Forbidden(format!(
                "city staff read their own city's return, not {}'s",
                city_code.0
            ))));
        }
        Ok(loaders(ctx)?
            .return_by_key
            .load_one((city_code.0, period))
            .await
            .gql()?
            .map(CityReturn))
    }
}

/// A city's return, named.
#[derive(InputObject, Debug, Clone)]
pub struct ReturnKeyInput {
    /// The city.
    pub city_code: ID,
    /// The period (year).
    pub period: i32,
    /// The return's version as read; absent skips the check.
    pub expected_version: Option<i32>,
}

impl ReturnKeyInput {
    /// `step` taken on the return this names.
    fn step(self, step: Step) -> ReturnInput {
        ReturnInput {
            city_code: self.city_code.0,
            period: self.period,
            step,
            expected_version: self.expected_version,
        }
    }
}

/// A return sent back, with what to fix.
#[derive(InputObject, Debug, Clone)]
pub struct SendBackReturnInput {
    /// The return: its city, period and version as read.
    #[graphql(flatten)]
    pub key: ReturnKeyInput,
    /// What the city should fix (required, at most 2,000 characters; shown to the city).
    pub comment: String,
}

/// An approved return opened again, with why.
#[derive(InputObject, Debug, Clone)]
pub struct ReopenReturnInput {
    /// The return: its city, period and version as read.
    #[graphql(flatten)]
    pub key: ReturnKeyInput,
    /// Why (required, at most 2,000 characters; shown to the city).
    pub reason: String,
}

/// The result of a step on a city's return.
#[derive(SimpleObject)]
pub struct CityReturnPayload {
    /// The return after the step; when refused, the return as stored.
    pub city_return: Option<CityReturn>,
    /// The revision the step left; null when refused.
    pub revision: Option<Revision>,
    /// Why the step was refused (ROUND_NOT_OPEN, ROUND_CLOSED, RETURN_EMPTY, RETURN_SUBMITTED,
    /// RETURN_APPROVED, RETURN_NOT_SUBMITTED, RETURN_NOT_APPROVED, VERSION_CONFLICT,
    /// BAD_USER_INPUT); empty when it was taken.
    pub user_errors: Vec<UserError>,
}

/// The steps on cities' returns.
#[derive(Default)]
pub struct ReturnMutation;

#[Object]
impl ReturnMutation {
    /// Hands a city's return in for review. The city's staff or an administrator; a return
    /// with no figures cannot be submitted; after the due date it is marked late.
    async fn submit_return(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which return.")] input: ReturnKeyInput,
    ) -> Result<CityReturnPayload> {
        take(ctx, input.step(Step::Submit)).await
    }

    /// Sends a submitted return back to its city with what to fix. ADMIN only.
    async fn send_back_return(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which return, and why.")] input: SendBackReturnInput,
    ) -> Result<CityReturnPayload> {
        let step = Step::SendBack {
            comment: input.comment,
        };
        take(ctx, input.key.step(step)).await
    }

    /// Approves a submitted return: it is locked until an administrator reopens it. ADMIN only.
    async fn approve_return(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which return.")] input: ReturnKeyInput,
    ) -> Result<CityReturnPayload> {
        take(ctx, input.step(Step::Approve)).await
    }

    /// Opens an approved return again (back to DRAFT), saying why. ADMIN only.
    async fn reopen_return(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which return, and why.")] input: ReopenReturnInput,
    ) -> Result<CityReturnPayload> {
        let step = Step::Reopen {
            reason: input.reason,
        };
        take(ctx, input.key.step(step)).await
    }
}

/// Takes a step on a city's return, as `input` says.
async fn take(ctx: &Context<'_>, input: ReturnInput) -> Result<CityReturnPayload> {
    let outcome = writes::step_return(&db(ctx)?.conn, write_context(ctx)?, input)
        .await
        .gql()?;
    Ok(match outcome {
        Outcome::Accepted(w) => CityReturnPayload {
            city_return: Some(CityReturn(w.city_return)),
            revision: Some(Revision(w.revision)),
            user_errors: Vec::new(),
        },
        Outcome::Refused(Refusal { errors, current }) => CityReturnPayload {
            city_return: current.into_iter().next().map(CityReturn),
            revision: None,
            user_errors: errors.into_iter().map(Into::into).collect(),
        },
    })
}

/// The returns of a round the caller may read, in city order.
pub async fn of_round(ctx: &Context<'_>, period: i32) -> Result<Vec<CityReturn>> {
    let city = readable_city(ctx)?;
    Ok(svc::of_periods(&db(ctx)?.conn, &[period], city.as_deref())
        .await
        .gql()?
        .into_iter()
        .map(CityReturn)
        .collect())
}
