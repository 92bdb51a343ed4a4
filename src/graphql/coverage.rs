//! `Coverage`: one city's figures for one branch type and period.

use async_graphql::{Context, Enum, ID, Object, Result};
use chrono::{DateTime, Utc};
use entity::coverage_record;

use super::city::City;
use super::error::{GqlResultExt, to_graphql};
use super::node::NodeKey;
use super::revision::Revision;
use super::{loaders, memory};
use crate::domain::coverage_rate;
use crate::error::AppError;

/// Kind of grassroots branch (基层科协组织).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Hash)]
#[graphql(remote = "entity::BranchType")]
pub enum BranchType {
    /// 企业科协: branches in enterprises; eligible: enterprises expected to have one.
    Enterprise,
    /// 高校科协: branches in universities (with medical and research institutes); eligible:
    /// public undergraduate universities.
    University,
    /// 乡镇（街道）科协: branches in townships and sub-districts; eligible: all of them.
    Township,
}

/// A city's figures for one branch type in one period (a year). Every figure may be unknown
/// (null); `source` says where the known ones come from. The published figure and a city's
/// draft of the same record are two objects with two ids.
pub struct Coverage(pub coverage_record::Model, pub Stage);

/// Which figure a [`Coverage`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The published figure, which everyone reads.
    Published,
    /// A city's working copy in a round of the yearly return, read by its staff and
    /// administrators.
    Draft,
}

impl From<coverage_record::Model> for Coverage {
    /// A published figure.
    fn from(model: coverage_record::Model) -> Self {
        Self(model, Stage::Published)
    }
}

impl Coverage {
    /// A city's draft figure.
    pub fn of_draft(model: coverage_record::Model) -> Self {
        Self(model, Stage::Draft)
    }

    /// The record as a write left it: a draft in a round's period, else published.
    pub fn written(model: coverage_record::Model, public: bool) -> Self {
        Self(
            model,
            if public {
                Stage::Published
            } else {
                Stage::Draft
            },
        )
    }
}

/// A city's figures for one branch type in one period (a year). Every figure may be unknown
/// (null); `source` says where the known ones come from.
#[Object]
impl Coverage {
    /// Opaque, stable global id (Relay's `Node`), the same for every version of the record; the
    /// natural key is city, branch type and period. A draft's id differs from the published
    /// figure's, so that a client cache never puts one where the other belongs.
    pub async fn id(&self) -> ID {
        let (city, branch_type, period) =
            (self.0.city_code.clone(), self.0.branch_type, self.0.period);
        match self.1 {
            Stage::Published => NodeKey::Coverage(city, branch_type, period).id(),
            Stage::Draft => NodeKey::DraftCoverage(city, branch_type, period).id(),
        }
    }

    /// Whether this is a city's draft (its working copy in a round of the yearly return, seen by
    /// its staff and administrators only), not the published figure.
    async fn draft(&self) -> bool {
        self.1 == Stage::Draft
    }

    /// The city.
    async fn city(&self, ctx: &Context<'_>) -> Result<City> {
        if let Some(city) = memory(ctx).and_then(|m| m.city(&self.0.city_code)) {
            return Ok(City::from(city.clone()));
        }
        loaders(ctx)?
            .city_by_code
            .load_one(self.0.city_code.clone())
            .await
            .gql()?
            .map(City::from)
            .ok_or_else(|| to_graphql(&AppError::NotFound("the record's city is missing".into())))
    }

    /// The branch type.
    async fn branch_type(&self) -> BranchType {
        self.0.branch_type.into()
    }

    /// The period: the year the figures describe.
    async fn period(&self) -> i32 {
        self.0.period
    }

    /// Branches (科协组织数) at the end of the period.
    async fn branch_count(&self) -> Option<i32> {
        self.0.branch_count
    }

    /// Organisations that could have a branch (the denominator of the coverage rate).
    async fn eligible_count(&self) -> Option<i32> {
        self.0.eligible_count
    }

    /// Branches newly established (新成立) during the period: a flow, not a total.
    async fn new_branches(&self) -> Option<i32> {
        self.0.new_branches
    }

    /// Coverage rate (覆盖率) in [0, 1]: branchCount ÷ eligibleCount when both are known (and
    /// eligibleCount > 0), else the rate a source states (`rateIsStated`), else null.
    async fn coverage_rate(&self) -> Option<f64> {
        self.rate().value
    }

    /// Whether `coverageRate` is a rate stated by a source without counts.
    async fn rate_is_stated(&self) -> bool {
        self.rate().is_stated
    }

    /// The rate a source states without counts, whether or not counts are also known.
    async fn stated_rate(&self) -> Option<f64> {
        self.0.stated_rate
    }

    /// What a stated rate covers, e.g. "high-tech enterprises (高新技术企业)".
    async fn rate_scope(&self) -> Option<&str> {
        self.0.rate_scope.as_deref()
    }

    /// Where the figures come from (document and quotation, or "synthetic").
    async fn source(&self) -> Option<&str> {
        self.0.source.as_deref()
    }

    /// Version of the record: 1 when created, one more on every accepted change.
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// When the record last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// Who last changed the record: `NAME (token ID)` for a token's writer, or the server's own
    /// label (`seed:report`). A token's name is personal, like a revision's actor name: null
    /// unless the caller is an administrator, or city staff of this city (or the server makes
    /// the audit trail public).
    async fn updated_by(&self, ctx: &Context<'_>) -> Option<&str> {
        self.0.updated_by.as_deref().filter(|label| {
            !crate::domain::write::is_token_label(label)
                || super::revision::may_read_personal(ctx, Some(&self.0.city_code))
        })
    }

    /// Every accepted change to this record, newest first.
    async fn revisions(&self, ctx: &Context<'_>) -> Result<Vec<Revision>> {
        let key = crate::service::writes::snapshot::coverage_key(&self.0);
        let rows = loaders(ctx)?
            .revisions_by_record
            .load_one(key)
            .await
            .gql()?;
        let rows = super::revision::visible(ctx, rows.unwrap_or_default()).await?;
        Ok(rows.into_iter().map(Revision).collect())
    }
}

impl Coverage {
    fn rate(&self) -> crate::domain::CoverageRate {
        coverage_rate(
            self.0.branch_count,
            self.0.eligible_count,
            self.0.stated_rate,
        )
    }
}
