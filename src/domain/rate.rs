//! Coverage-rate arithmetic. A rate is computed from counts when both are known; a rate the
//! source states without counts is kept as stated and marked so; otherwise it is unknown.

/// A city's coverage rate for one branch type and period, and whether it was stated by a source
/// rather than computed from counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CoverageRate {
    /// The rate in [0, 1], or `None` when it is unknown.
    pub value: Option<f64>,
    /// `true` when `value` is a rate stated by a source without counts.
    pub is_stated: bool,
}

/// branches ÷ eligible when both are known and eligible > 0; else the stated rate; else unknown.
/// Zero eligible organisations give no computed rate (0 ÷ 0 means nothing), so a stated rate,
/// if any, is used instead.
pub fn coverage_rate(
    branch_count: Option<i32>,
    eligible_count: Option<i32>,
    stated_rate: Option<f64>,
) -> CoverageRate {
    match (branch_count, eligible_count) {
        (Some(branches), Some(eligible)) if eligible > 0 => CoverageRate {
            value: Some(f64::from(branches) / f64::from(eligible)),
            is_stated: false,
        },
        _ => CoverageRate {
            value: stated_rate,
            is_stated: stated_rate.is_some(),
        },
    }
}

/// Σ branches ÷ Σ eligible: the province-wide rate over the cities that report both counts.
/// Never an average of city rates, which would weigh a city of 10 townships like one of 200.
pub fn ratio_of_sums(branch_sum: Option<i64>, eligible_sum: Option<i64>) -> Option<f64> {
    match (branch_sum, eligible_sum) {
        (Some(branches), Some(eligible)) if eligible > 0 => Some(branches as f64 / eligible as f64),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_win_over_a_stated_rate() {
        assert_eq!(
            coverage_rate(Some(3), Some(4), Some(0.9)),
            CoverageRate {
                value: Some(0.75),
                is_stated: false
            }
        );
    }

    #[test]
    fn a_stated_rate_is_used_when_a_count_is_missing() {
        assert_eq!(
            coverage_rate(Some(3), None, Some(0.95)),
            CoverageRate {
                value: Some(0.95),
                is_stated: true
            }
        );
    }

    #[test]
    fn zero_eligible_gives_no_computed_rate() {
        assert_eq!(
            coverage_rate(Some(0), Some(0), None),
            CoverageRate {
                value: None,
                is_stated: false
            }
        );
    }

    #[test]
    fn ratio_of_sums_is_not_an_average_of_rates() {
        // 1/10 and 199/200: the average of rates is 0.5475, the ratio of sums 200/210.
        assert_eq!(ratio_of_sums(Some(200), Some(210)), Some(200.0 / 210.0));
        assert_eq!(ratio_of_sums(None, Some(3)), None);
        assert_eq!(ratio_of_sums(Some(0), Some(0)), None);
    }
}
