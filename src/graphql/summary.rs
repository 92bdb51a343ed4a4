//! The province-wide summary and the list of periods.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use entity::province_total;

use super::city::City;
use super::coverage::BranchType;
use super::error::GqlResultExt;
use super::node::NodeKey;
use super::{db, memory};
use crate::service::{coverage as coverage_svc, report as report_svc, summary as svc};

/// The province's coverage in one period.
pub struct CoverageSummary(svc::Summary);

/// The province's coverage in one period.
#[Object]
impl CoverageSummary {
    /// The period summarised.
    async fn period(&self) -> i32 {
        self.0.period
    }

    /// One entry per branch type (ENTERPRISE, UNIVERSITY, TOWNSHIP), present even when nothing
    /// is known of it.
    async fn by_type(&self) -> Vec<TypeSummary> {
        self.0.by_type.iter().cloned().map(TypeSummary).collect()
    }

    /// The coverage paragraph of the yearly report, drafted from the published figures in both
    /// languages: the province's rate over the cities that report both counts (saying how many),
    /// compared with the year before only when the same cities report; the province's own
    /// totals; new branches; full coverage and stated rates, each with its scope.
    async fn paragraph(&self, ctx: &Context<'_>) -> Result<Paragraph> {
        let p = report_svc::coverage_paragraph(&db(ctx)?.conn, self.0.period)
            .await
            .gql()?;
        Ok(Paragraph { zh: p.zh, en: p.en })
    }
}

/// Who issues the yearly report, as `--issuing-unit` and `--issuing-unit-en` name it.
#[derive(SimpleObject, Debug, Clone)]
pub struct Issuer {
    /// 中文, e.g. 河南省科学技术协会.
    pub name: String,
    /// English.
    pub name_en: String,
}

/// A paragraph in both languages.
#[derive(SimpleObject)]
pub struct Paragraph {
    /// 中文.
    pub zh: String,
    /// English.
    pub en: String,
}

/// One branch type across the province in a period. The rate is a ratio of sums over the cities
/// that report both counts — never an average of city rates — and the province's own reported
/// total stands beside the cities' sum: the two need not agree.
pub struct TypeSummary(svc::TypeSummary);

/// One branch type across the province in a period: the cities' sums, their ratio-of-sums
/// rate, the province's own reported total and the fully covered cities.
#[Object]
impl TypeSummary {
    /// The branch type.
    async fn branch_type(&self) -> BranchType {
        self.0.branch_type.into()
    }

    /// Cities that report both the branch count and the eligible count: the rate's base.
    async fn cities_reporting(&self) -> i64 {
        self.0.cities_reporting
    }

    /// Cities with any record of this type in the period (counts, a stated rate or new branches).
    async fn cities_with_data(&self) -> i64 {
        self.0.cities_with_data
    }

    /// Σ branchCount over the reporting cities; null when no city reports.
    async fn branch_count_sum(&self) -> Option<i64> {
        self.0.branch_count_sum
    }

    /// Σ eligibleCount over the reporting cities; null when no city reports.
    async fn eligible_count_sum(&self) -> Option<i64> {
        self.0.eligible_count_sum
    }

    /// branchCountSum ÷ eligibleCountSum; null when no city reports (or none is eligible).
    async fn coverage_rate(&self) -> Option<f64> {
        self.0.coverage_rate
    }

    /// Σ newBranches over the cities that state it; null when none does.
    async fn new_branches_sum(&self) -> Option<i64> {
        self.0.new_branches_sum
    }

    /// The total the province itself reports (省级报告数), e.g. 927 enterprise branches in 2023.
    async fn province_reported_total(&self) -> Option<i32> {
        self.0.province_total.as_ref().and_then(|t| t.total)
    }

    /// The province's own statement for this type and period, with its note and source.
    async fn province_report(&self) -> Option<ProvinceReport> {
        self.0.province_total.clone().map(ProvinceReport::from)
    }

    /// Cities at 100 % coverage (全覆盖), computed or stated, by code.
    async fn full_coverage_cities(&self) -> Vec<City> {
        // The summary's own statement brought the cities along (see `service::summary`).
        self.0
            .full_coverage_cities
            .iter()
            .cloned()
            .map(City::from)
            .collect()
    }
}

/// What the province reports for a branch type and period, apart from the cities' figures.
pub struct ProvinceReport(province_total::Model);

impl From<province_total::Model> for ProvinceReport {
    fn from(m: province_total::Model) -> Self {
        Self(m)
    }
}

/// What the province reports for a branch type and period, apart from the cities' figures.
#[Object]
impl ProvinceReport {
    /// Opaque, stable global id (Relay's `Node`); the natural key is branch type and period.
    pub async fn id(&self) -> ID {
        NodeKey::ProvinceReport(self.0.branch_type, self.0.period).id()
    }

    /// The branch type.
    async fn branch_type(&self) -> BranchType {
        self.0.branch_type.into()
    }

    /// The period (year).
    async fn period(&self) -> i32 {
        self.0.period
    }

    /// The total stated, if the statement gives one.
    async fn total(&self) -> Option<i32> {
        self.0.total
    }

    /// What the statement says beyond the number.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }

    /// Where it comes from.
    async fn source(&self) -> Option<&str> {
        self.0.source.as_deref()
    }

    /// Version of the statement: 1 when created, one more on every accepted change; send it as
    /// `expectedVersion` to change it.
    async fn version(&self) -> i32 {
        self.0.version
    }
}

/// Summary queries.
#[derive(Default)]
pub struct SummaryQuery;

#[Object]
impl SummaryQuery {
    /// The province's coverage in `period` (default: the latest period with data). An error
    /// with code NOT_FOUND when the database holds no data at all.
    async fn summary(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The period (year); default: the latest period with data.")]
        period: Option<i32>,
    ) -> Result<CoverageSummary> {
        let summary = match memory(ctx) {
            Some(memory) => memory.summary(period),
            None => svc::summary(&db(ctx)?.conn, period).await,
        };
        Ok(CoverageSummary(summary.gql()?))
    }

    /// Who issues the yearly report (the report page's issuing unit).
    async fn issuer(&self, ctx: &Context<'_>) -> Result<Issuer> {
        Ok(ctx.data::<Issuer>()?.clone())
    }

    /// Every period (year) with data, oldest first.
    async fn periods(&self, ctx: &Context<'_>) -> Result<Vec<i32>> {
        if let Some(memory) = memory(ctx) {
            return Ok(memory.periods());
        }
        coverage_svc::periods(&db(ctx)?.conn).await.gql()
    }
}
