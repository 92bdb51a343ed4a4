//! Publishing the yearly return (发布): `Publication`, `publications`, and the administrators'
//! `publishRound` and `publishReturn`. What a publication makes public is what every reader of
//! `City.coverage`, the summary, the exports and `coverageChanged` sees.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::publication;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::city_return::CityReturn;
use super::db;
use super::error::GqlResultExt;
use super::round::Round;
use super::write::{UserError, write_context};
use crate::error::AppError;
use crate::service::writes::{self, Outcome, PublishInput, Refusal};

/// One time the province made figures public, numbered from 1 across every period.
pub struct Publication(pub publication::Model);

/// One time the province made figures public (发布), numbered from 1 across every period.
#[Object]
impl Publication {
    /// Its number: 1 for the first publication, one more for each after.
    async fn number(&self) -> i32 {
        self.0.number
    }

    /// The period (year) whose figures it published.
    async fn period(&self) -> i32 {
        self.0.period
    }

    /// When.
    async fn published_at(&self) -> DateTime<Utc> {
        self.0.published_at
    }

    /// How many cities' returns it published.
    async fn cities(&self) -> i32 {
        self.0.cities
    }

    /// The figures it made public, as they stood then, in city and branch type order.
    async fn coverage(&self, ctx: &Context<'_>) -> Result<Vec<PublishedCoverage>> {
        let rows = crate::service::publications::figures_of(&db(ctx)?.conn, self.0.number)
            .await
            .gql()?;
        Ok(rows.into_iter().map(PublishedCoverage).collect())
    }

    /// Who published it (as revisions name writers): for administrators only, like every
    /// personal name; null for others.
    async fn published_by(&self, ctx: &Context<'_>) -> Option<&str> {
        self.0.published_by.as_deref().filter(|label| {
            !crate::domain::write::is_token_label(label)
                || super::revision::may_read_personal(ctx, None)
        })
    }
}

/// A city's figures for one branch type and period as a publication made them public: the
/// record then, never changed since. Not a `Node`: the same record today is a `Coverage`.
pub struct PublishedCoverage(pub entity::published_record::Model);

/// A city's figures for one branch type and period as a publication made them public.
#[Object]
impl PublishedCoverage {
    /// The number of the publication that made them public.
    async fn publication(&self) -> i32 {
        self.0.publication
    }

    /// The city's administrative code.
    async fn city_code(&self) -> &str {
        &self.0.city_code
    }

    /// The branch type.
    async fn branch_type(&self) -> super::coverage::BranchType {
        self.0.branch_type.into()
    }

    /// The period (year).
    async fn period(&self) -> i32 {
        self.0.period
    }

    /// Branches (科协组织数).
    async fn branch_count(&self) -> Option<i32> {
        self.0.branch_count
    }

    /// Organisations that could have a branch.
    async fn eligible_count(&self) -> Option<i32> {
        self.0.eligible_count
    }

    /// Branches newly established during the period.
    async fn new_branches(&self) -> Option<i32> {
        self.0.new_branches
    }

    /// Coverage rate in [0, 1], as `Coverage.coverageRate` computes it.
    async fn coverage_rate(&self) -> Option<f64> {
        crate::domain::coverage_rate(
            self.0.branch_count,
            self.0.eligible_count,
            self.0.stated_rate,
        )
        .value
    }

    /// The rate a source states without counts.
    async fn stated_rate(&self) -> Option<f64> {
        self.0.stated_rate
    }

    /// What a stated rate covers.
    async fn rate_scope(&self) -> Option<&str> {
        self.0.rate_scope.as_deref()
    }

    /// Where the figures come from.
    async fn source(&self) -> Option<&str> {
        self.0.source.as_deref()
    }

    /// The record's version when published.
    async fn version(&self) -> i32 {
        self.0.version
    }
}

/// Reading publications.
#[derive(Default)]
pub struct PublicationQuery;

#[Object]
impl PublicationQuery {
    /// A period's figures exactly as the public saw them: after publication `publication`, or
    /// at time `at` (both: whichever is earlier; neither: now). For each city, the records of
    /// the newest publication by then that holds it; none before its first.
    async fn published_coverage(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The period (year).")] period: i32,
        #[graphql(desc = "As after this publication.")] publication: Option<i32>,
        #[graphql(desc = "As at this time.")] at: Option<DateTime<Utc>>,
    ) -> Result<Vec<PublishedCoverage>> {
        let rows =
            crate::service::publications::as_published(&db(ctx)?.conn, period, publication, at)
                .await
                .gql()?;
        Ok(rows.into_iter().map(PublishedCoverage).collect())
    }

    /// The publications of a period, or of every period, newest first.
    async fn publications(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "One period only.")] period: Option<i32>,
    ) -> Result<Vec<Publication>> {
        of_period(ctx, period).await
    }
}

/// The publications of `period` (of every period when `None`), newest first.
pub async fn of_period(ctx: &Context<'_>, period: Option<i32>) -> Result<Vec<Publication>> {
    let mut query = publication::Entity::find().order_by_desc(publication::Column::Number);
    if let Some(period) = period {
        query = query.filter(publication::Column::Period.eq(period));
    }
    let rows = query
        .all(&db(ctx)?.conn)
        .await
        .map_err(AppError::from)
        .gql()?;
    Ok(rows.into_iter().map(Publication).collect())
}

/// Publishes a round's approved returns.
#[derive(InputObject, Debug, Clone)]
pub struct PublishRoundInput {
    /// The period (year).
    pub period: i32,
}

/// Publishes one city's approved return.
#[derive(InputObject, Debug, Clone)]
pub struct PublishReturnInput {
    /// The city's administrative code.
    pub city_code: async_graphql::ID,
    /// The period (year).
    pub period: i32,
}

/// The result of publishing.
#[derive(SimpleObject)]
pub struct PublishPayload {
    /// The publication made; null when refused.
    pub publication: Option<Publication>,
    /// The round, as it stands.
    pub round: Option<Round>,
    /// The returns published.
    pub returns: Vec<CityReturn>,
    /// Why nothing was published: NOTHING_TO_PUBLISH (no approved return waits),
    /// ROUND_NOT_OPEN (no round for the period) or BAD_USER_INPUT; empty when published.
    pub user_errors: Vec<UserError>,
}

/// The administrators' publishing.
#[derive(Default)]
pub struct PublicationMutation;

#[Object]
impl PublicationMutation {
    /// Publishes every approved return of a round not yet published: their figures become the
    /// public ones, as one numbered publication. ADMIN only.
    async fn publish_round(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The period.")] input: PublishRoundInput,
    ) -> Result<PublishPayload> {
        publish(
            ctx,
            PublishInput {
                period: input.period,
                city_code: None,
            },
        )
        .await
    }

    /// Publishes one city's approved return: its figures become the public ones, as one
    /// numbered publication. ADMIN only.
    async fn publish_return(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The city and period.")] input: PublishReturnInput,
    ) -> Result<PublishPayload> {
        publish(
            ctx,
            PublishInput {
                period: input.period,
                city_code: Some(input.city_code.0),
            },
        )
        .await
    }
}

async fn publish(ctx: &Context<'_>, input: PublishInput) -> Result<PublishPayload> {
    let outcome = writes::publish(&db(ctx)?.conn, write_context(ctx)?, input)
        .await
        .gql()?;
    Ok(match outcome {
        Outcome::Accepted(p) => PublishPayload {
            publication: Some(Publication(p.publication)),
            round: Some(Round(p.round)),
            returns: p.returns.into_iter().map(CityReturn).collect(),
            user_errors: Vec::new(),
        },
        Outcome::Refused(Refusal { errors, current }) => PublishPayload {
            publication: None,
            round: current.into_iter().next().map(Round),
            returns: Vec::new(),
            user_errors: errors.into_iter().map(Into::into).collect(),
        },
    })
}
