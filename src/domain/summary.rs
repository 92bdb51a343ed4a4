//! The province-wide summary of one period, as plain values (computed by `service::summary`).

use entity::{city, province_total};

use super::BranchType;

/// The summary of one period.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The period summarised.
    pub period: i32,
    /// One entry per branch type, in the API's order, present even when nothing is known.
    pub by_type: Vec<TypeSummary>,
}

/// One branch type's figures in a period.
#[derive(Debug, Clone)]
pub struct TypeSummary {
    /// The branch type.
    pub branch_type: BranchType,
    /// Cities with a record of this type in the period, whatever it holds.
    pub cities_with_data: i64,
    /// Cities that report both the branch and the eligible count: the base of the rate.
    pub cities_reporting: i64,
    /// Σ branches over the reporting cities; `None` when no city reports.
    pub branch_count_sum: Option<i64>,
    /// Σ eligible over the reporting cities; `None` when no city reports.
    pub eligible_count_sum: Option<i64>,
    /// Σ newly established branches over the cities that state them.
    pub new_branches_sum: Option<i64>,
    /// Σ branches ÷ Σ eligible over the reporting cities.
    pub coverage_rate: Option<f64>,
    /// What the province itself reported, if anything.
    pub province_total: Option<province_total::Model>,
    /// Cities whose coverage rate (computed or stated) is 100 %, by code.
    pub full_coverage_cities: Vec<city::Model>,
}
