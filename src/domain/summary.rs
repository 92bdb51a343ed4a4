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

/// What a period's records of one branch type add up to (the database keeps these in
/// `coverage_sums`; the memory of published figures counts them itself).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sums {
    /// Records of the type in the period.
    pub cities_with_data: i64,
    /// Records with both counts.
    pub cities_reporting: i64,
    /// Σ branches over the records with both counts.
    pub branch_count_sum: i64,
    /// Σ eligible over the records with both counts.
    pub eligible_count_sum: i64,
    /// Records that state newly established branches.
    pub new_branches_cities: i64,
    /// Σ newly established branches.
    pub new_branches_sum: i64,
}

impl Sums {
    /// Adds one record's share.
    pub fn add(
        &mut self,
        branch_count: Option<i32>,
        eligible_count: Option<i32>,
        new: Option<i32>,
    ) {
        self.cities_with_data += 1;
        if let (Some(branches), Some(eligible)) = (branch_count, eligible_count) {
            self.cities_reporting += 1;
            self.branch_count_sum += i64::from(branches);
            self.eligible_count_sum += i64::from(eligible);
        }
        if let Some(new) = new {
            self.new_branches_cities += 1;
            self.new_branches_sum += i64::from(new);
        }
    }
}

impl TypeSummary {
    /// One type's summary from its sums (none: nothing is known of it), the province's own
    /// total and the fully covered cities.
    pub fn of(
        branch_type: BranchType,
        sums: Option<&Sums>,
        province_total: Option<province_total::Model>,
        full_coverage_cities: Vec<city::Model>,
    ) -> Self {
        let reporting = sums.map_or(0, |s| s.cities_reporting);
        let (branch_sum, eligible_sum) = match sums {
            Some(s) if reporting > 0 => (Some(s.branch_count_sum), Some(s.eligible_count_sum)),
            _ => (None, None),
        };
        Self {
            branch_type,
            cities_with_data: sums.map_or(0, |s| s.cities_with_data),
            cities_reporting: reporting,
            branch_count_sum: branch_sum,
            eligible_count_sum: eligible_sum,
            new_branches_sum: sums
                .filter(|s| s.new_branches_cities > 0)
                .map(|s| s.new_branches_sum),
            coverage_rate: super::ratio_of_sums(branch_sum, eligible_sum),
            province_total,
            full_coverage_cities,
        }
    }
}
