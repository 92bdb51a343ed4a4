//! What a revision keeps of a record: a typed snapshot per kind, stored as JSON in the
//! revision's `before` and `after` (API names, every column), and read back from it by the
//! subscriptions. One place for each kind's key and shape.

use crate::domain::branch_type_name;
use chrono::{DateTime, Utc};
use entity::{BranchType, coverage_record, pilot_designation, pilot_program, province_total};
use serde::{Deserialize, Serialize};

mod branch_type {
    use crate::domain::branch_type_name;
    use entity::BranchType;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &BranchType, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(branch_type_name(*t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BranchType, D::Error> {
        let name = String::deserialize(d)?;
        [
            BranchType::Enterprise,
            BranchType::University,
            BranchType::Township,
        ]
        .into_iter()
        .find(|t| branch_type_name(*t) == name)
        .ok_or_else(|| serde::de::Error::custom(format!("unknown branch type {name}")))
    }
}

/// Times as `to_rfc3339` writes them (`+00:00`), as every revision has kept them.
mod rfc3339 {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.to_rfc3339())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        DateTime::<Utc>::deserialize(d)
    }
}

/// A coverage record as a revision keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CoverageSnapshot {
    city_code: String,
    #[serde(with = "branch_type")]
    branch_type: BranchType,
    period: i32,
    branch_count: Option<i32>,
    eligible_count: Option<i32>,
    new_branches: Option<i32>,
    stated_rate: Option<f64>,
    rate_scope: Option<String>,
    source: Option<String>,
    version: i32,
    #[serde(with = "rfc3339")]
    updated_at: DateTime<Utc>,
    updated_by: Option<String>,
}

/// The key revisions use for a coverage record: `CITY/TYPE/PERIOD`.
pub fn coverage_key(r: &coverage_record::Model) -> String {
    format!(
        "{}/{}/{}",
        r.city_code,
        branch_type_name(r.branch_type),
        r.period
    )
}

impl From<&coverage_record::Model> for CoverageSnapshot {
    fn from(r: &coverage_record::Model) -> Self {
        Self {
            city_code: r.city_code.clone(),
            branch_type: r.branch_type,
            period: r.period,
            branch_count: r.branch_count,
            eligible_count: r.eligible_count,
            new_branches: r.new_branches,
            stated_rate: r.stated_rate,
            rate_scope: r.rate_scope.clone(),
            source: r.source.clone(),
            version: r.version,
            updated_at: r.updated_at,
            updated_by: r.updated_by.clone(),
        }
    }
}

impl CoverageSnapshot {
    /// The record a revision's JSON holds, with the record's `id`.
    pub fn read(id: i64, json: &str) -> Option<coverage_record::Model> {
        let s: Self = serde_json::from_str(json).ok()?;
        Some(coverage_record::Model {
            id,
            city_code: s.city_code,
            branch_type: s.branch_type,
            period: s.period,
            branch_count: s.branch_count,
            eligible_count: s.eligible_count,
            new_branches: s.new_branches,
            stated_rate: s.stated_rate,
            rate_scope: s.rate_scope,
            source: s.source,
            version: s.version,
            updated_at: s.updated_at,
            updated_by: s.updated_by,
        })
    }
}

/// A pilot designation as a revision keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DesignationSnapshot {
    city_code: String,
    program_code: String,
    since_year: Option<i32>,
    source: Option<String>,
    /// Absent in revisions written before designations were versioned.
    #[serde(default = "first_version")]
    version: i32,
}

fn first_version() -> i32 {
    1
}

/// The key revisions use for a designation: `CITY/PROGRAMME`.
pub fn designation_key(city_code: &str, program_code: &str) -> String {
    format!("{city_code}/{program_code}")
}

impl From<&pilot_designation::Model> for DesignationSnapshot {
    fn from(d: &pilot_designation::Model) -> Self {
        Self {
            city_code: d.city_code.clone(),
            program_code: d.program_code.clone(),
            since_year: d.since_year,
            source: d.source.clone(),
            version: d.version,
        }
    }
}

impl DesignationSnapshot {
    /// The designation a revision's JSON holds.
    pub fn read(json: &str) -> Option<pilot_designation::Model> {
        let s: Self = serde_json::from_str(json).ok()?;
        Some(pilot_designation::Model {
            city_code: s.city_code,
            program_code: s.program_code,
            since_year: s.since_year,
            source: s.source,
            version: s.version,
        })
    }
}

/// A pilot programme as a revision keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProgramSnapshot {
    code: String,
    name: String,
    name_en: String,
    level: String,
    stated_size: Option<i32>,
    source: Option<String>,
    version: i32,
}

impl From<&pilot_program::Model> for ProgramSnapshot {
    fn from(p: &pilot_program::Model) -> Self {
        use sea_orm::ActiveEnum;
        Self {
            code: p.code.clone(),
            name: p.name.clone(),
            name_en: p.name_en.clone(),
            level: p.level.to_value(),
            stated_size: p.stated_size,
            source: p.source.clone(),
            version: p.version,
        }
    }
}

/// A province total as a revision keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvinceTotalSnapshot {
    #[serde(with = "branch_type")]
    branch_type: BranchType,
    period: i32,
    total: Option<i32>,
    note: Option<String>,
    source: Option<String>,
    #[serde(with = "rfc3339")]
    updated_at: DateTime<Utc>,
    /// Absent in revisions written before province totals were versioned.
    #[serde(default = "first_version")]
    version: i32,
}

/// The key revisions use for a province total: `TYPE/PERIOD`.
pub fn province_total_key(branch_type: BranchType, period: i32) -> String {
    format!("{}/{period}", branch_type_name(branch_type))
}

impl From<&province_total::Model> for ProvinceTotalSnapshot {
    fn from(t: &province_total::Model) -> Self {
        Self {
            branch_type: t.branch_type,
            period: t.period,
            total: t.total,
            note: t.note.clone(),
            source: t.source.clone(),
            updated_at: t.updated_at,
            version: t.version,
        }
    }
}

impl ProvinceTotalSnapshot {
    /// The province total a revision's JSON holds.
    pub fn read(json: &str) -> Option<province_total::Model> {
        let s: Self = serde_json::from_str(json).ok()?;
        Some(province_total::Model {
            branch_type: s.branch_type,
            period: s.period,
            total: s.total,
            note: s.note,
            source: s.source,
            updated_at: s.updated_at,
            version: s.version,
        })
    }
}

/// A round of the yearly return as a revision keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoundSnapshot {
    period: i32,
    status: String,
    due_at: Option<DateTime<Utc>>,
    #[serde(with = "rfc3339")]
    opened_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
    version: i32,
}

/// The key revisions use for a round: its period.
pub fn round_key(period: i32) -> String {
    period.to_string()
}

impl From<&entity::round::Model> for RoundSnapshot {
    fn from(r: &entity::round::Model) -> Self {
        use sea_orm::ActiveEnum;
        Self {
            period: r.period,
            status: r.status.to_value(),
            due_at: r.due_at,
            opened_at: r.opened_at,
            closed_at: r.closed_at,
            version: r.version,
        }
    }
}

/// A city's return as a revision keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnSnapshot {
    city_code: String,
    period: i32,
    status: String,
    submitted_at: Option<DateTime<Utc>>,
    submitted_by: Option<String>,
    late: bool,
    comment: Option<String>,
    version: i32,
    #[serde(default)]
    published: bool,
    #[serde(default)]
    published_at: Option<DateTime<Utc>>,
}

/// The key revisions use for a city's return: `CITY/PERIOD`.
pub fn return_key(city_code: &str, period: i32) -> String {
    format!("{city_code}/{period}")
}

impl ReturnSnapshot {
    /// The return a revision's JSON holds, as of `at` (the revision's time).
    pub fn read(json: &str, at: DateTime<Utc>) -> Option<entity::city_return::Model> {
        use sea_orm::ActiveEnum;
        let s: Self = serde_json::from_str(json).ok()?;
        Some(entity::city_return::Model {
            city_code: s.city_code,
            period: s.period,
            status: entity::ReturnStatus::try_from_value(&s.status).ok()?,
            submitted_at: s.submitted_at,
            submitted_by: s.submitted_by,
            late: s.late,
            comment: s.comment,
            version: s.version,
            updated_at: at,
            published: s.published,
            published_at: s.published_at,
        })
    }
}

impl From<&entity::city_return::Model> for ReturnSnapshot {
    fn from(r: &entity::city_return::Model) -> Self {
        use sea_orm::ActiveEnum;
        Self {
            city_code: r.city_code.clone(),
            period: r.period,
            status: r.status.to_value(),
            submitted_at: r.submitted_at,
            submitted_by: r.submitted_by.clone(),
            late: r.late,
            comment: r.comment.clone(),
            version: r.version,
            published: r.published,
            published_at: r.published_at,
        }
    }
}

/// A snapshot as the JSON text a revision stores.
pub fn to_json(snapshot: &impl Serialize) -> Result<String, sea_orm::DbErr> {
    serde_json::to_string(snapshot)
        .map_err(|err| sea_orm::DbErr::Custom(format!("revision snapshot: {err}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_designation_revision_from_before_versions_reads_as_version_1() {
        let old =
            r#"{"cityCode":"410100","programCode":"QUANYU_KEPU","sinceYear":null,"source":"s"}"#;
        assert_eq!(DesignationSnapshot::read(old).map(|d| d.version), Some(1));
    }

    #[test]
    fn a_coverage_record_reads_back_as_written() {
        let record = coverage_record::Model {
            id: 7,
            city_code: "410800".into(),
            branch_type: BranchType::University,
            period: 2023,
            branch_count: Some(3),
            eligible_count: None,
            new_branches: Some(1),
            stated_rate: Some(0.5),
            rate_scope: Some("scope".into()),
            source: Some("source".into()),
            version: 4,
            updated_at: crate::domain::now(),
            updated_by: Some("seed".into()),
        };
        let json = to_json(&CoverageSnapshot::from(&record)).ok();
        assert_eq!(
            json.and_then(|j| CoverageSnapshot::read(7, &j)),
            Some(record)
        );
    }
}
