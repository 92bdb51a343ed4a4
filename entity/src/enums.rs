//! The closed vocabularies stored as text columns. The database guards them with CHECK
//! constraints (see the migration); these enums are their Rust side.

use sea_orm::entity::prelude::*;

/// Kind of grassroots branch (基层科协组织) counted by the report.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    EnumIter,
    DeriveActiveEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum BranchType {
    /// 企业科协: branches in enterprises.
    #[sea_orm(string_value = "ENTERPRISE")]
    Enterprise,
    /// 高校科协: branches in universities (with medical and research institutes).
    #[sea_orm(string_value = "UNIVERSITY")]
    University,
    /// 乡镇（街道）科协: branches in townships and urban sub-districts.
    #[sea_orm(string_value = "TOWNSHIP")]
    Township,
}

/// Administrative kind of one of the 18 cities.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
pub enum CityKind {
    /// 省辖市: prefecture-level city.
    #[sea_orm(string_value = "PREFECTURE_CITY")]
    PrefectureCity,
    /// 示范区: demonstration zone (济源示范区), counted among the 18.
    #[sea_orm(string_value = "DEMONSTRATION_ZONE")]
    DemonstrationZone,
}

/// Level of a pilot programme.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ProgramLevel {
    /// 国家级: national.
    #[sea_orm(string_value = "NATIONAL")]
    National,
    /// 省级: provincial.
    #[sea_orm(string_value = "PROVINCIAL")]
    Provincial,
}

/// What a token may do.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Role {
    /// Province administrator: may write anything.
    #[sea_orm(string_value = "ADMIN")]
    Admin,
    /// A city office: may write its own city's figures only.
    #[sea_orm(string_value = "CITY_STAFF")]
    CityStaff,
}

/// What kind of bearer credential: a program's token or a person's sign-in.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum CredentialKind {
    /// An API token, made by an administrator for a program (a dashboard build, a script).
    #[sea_orm(string_value = "API_TOKEN")]
    ApiToken,
    /// A session: a person signed in with an account's login and password.
    #[sea_orm(string_value = "SESSION")]
    Session,
}

/// What kind of record a revision changed.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
pub enum RevisionKind {
    /// A city's coverage record.
    #[sea_orm(string_value = "COVERAGE")]
    Coverage,
    /// A city's designation in a pilot programme.
    #[sea_orm(string_value = "PILOT_DESIGNATION")]
    PilotDesignation,
    /// A total the province itself reports.
    #[sea_orm(string_value = "PROVINCE_TOTAL")]
    ProvinceTotal,
    /// A round of the yearly return (opened, closed, reopened).
    #[sea_orm(string_value = "ROUND")]
    Round,
    /// A city's return in a round (edited, submitted, sent back, approved, reopened).
    #[sea_orm(string_value = "CITY_RETURN")]
    CityReturn,
    /// A pilot programme (created or changed).
    #[sea_orm(string_value = "PILOT_PROGRAM")]
    PilotProgram,
}

/// Where a city's return stands in its round.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ReturnStatus {
    /// 未报: nothing entered yet.
    #[sea_orm(string_value = "NOT_STARTED")]
    NotStarted,
    /// 草稿: the city is editing.
    #[sea_orm(string_value = "DRAFT")]
    Draft,
    /// 已报: submitted, waiting for the province's review.
    #[sea_orm(string_value = "SUBMITTED")]
    Submitted,
    /// 已退回: sent back with the province's comment.
    #[sea_orm(string_value = "RETURNED")]
    Returned,
    /// 已审核: approved by the province.
    #[sea_orm(string_value = "APPROVED")]
    Approved,
}

/// Whether a round of the yearly return takes figures.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum RoundStatus {
    /// 进行中: cities enter and submit figures.
    #[sea_orm(string_value = "OPEN")]
    Open,
    /// 已关闭: no figures until the province reopens it.
    #[sea_orm(string_value = "CLOSED")]
    Closed,
}
