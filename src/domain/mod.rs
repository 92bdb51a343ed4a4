//! Plain types and rules of the domain, free of GraphQL and SQL: the coverage-rate arithmetic,
//! page requests and their cursors, the write rules, who asks, the steps of the yearly return.

mod actor;
mod page;
pub mod paragraph;
mod rate;
pub mod summary;
pub mod write;
pub mod yearly;

pub use actor::Actor;
pub use entity::{BranchType, CityKind, ProgramLevel};
pub use page::{DEFAULT_PAGE_SIZE, Page, PageRequest, decode_cursor, encode_cursor};
pub use rate::{CoverageRate, coverage_rate, ratio_of_sums};

/// The current time at the precision both databases keep (PostgreSQL's `timestamptz` holds
/// microseconds), so a stored time reads back the same everywhere.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}

/// A time as the province reads it: China Standard Time (UTC+8, no daylight saving),
/// `2026-12-06 08:15`.
pub fn china_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&CHINA).format("%Y-%m-%d %H:%M").to_string()
}

/// A time as the exports write it: China Standard Time to the second, with its offset,
/// `2026-12-06 08:15:03 +08:00`.
pub fn china_timestamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&CHINA)
        .format("%Y-%m-%d %H:%M:%S %:z")
        .to_string()
}

/// UTC+8, checked when the crate is compiled.
const CHINA: chrono::FixedOffset = match chrono::FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+8 is an offset"),
};

/// Branch types in the order the API lists them.
pub const BRANCH_TYPES: [BranchType; 3] = [
    BranchType::Enterprise,
    BranchType::University,
    BranchType::Township,
];

/// A branch type as the API and the snapshots spell it.
pub fn branch_type_name(t: BranchType) -> &'static str {
    match t {
        BranchType::Enterprise => "ENTERPRISE",
        BranchType::University => "UNIVERSITY",
        BranchType::Township => "TOWNSHIP",
    }
}
