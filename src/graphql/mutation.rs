//! Mutations: thin over `service::writes`, which checks permissions and validates. Refusals of
//! the input come back as `userErrors` in the payload; refusals of the caller (no token, a bad
//! token, another city) as top-level errors with UNAUTHENTICATED or FORBIDDEN.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};

use super::city::City;
use super::coverage::{BranchType, Coverage};
use super::db;
use super::error::GqlResultExt;
use super::pilot::{PilotDesignation, PilotProgram};
use super::revision::Revision;
use super::summary::ProvinceReport;
use super::write::{UserError, write_context};
use crate::service::writes::{self, CoverageUpdate, Outcome, Patch, Refusal};

/// A city's figures for one branch type and period. Fields left out keep their stored value;
/// an explicit null clears it. A write that sets a figure names its source.
#[derive(InputObject, Debug, Clone)]
pub struct UpdateCoverageInput {
    /// The city (administrative code).
    pub city_code: ID,
    /// The branch type.
    pub branch_type: BranchType,
    /// The period (year), from 2000 to next year.
    pub period: i32,
    /// Branches, 0 to 10,000,000, at most eligibleCount.
    pub branch_count: MaybeUndefined<i32>,
    /// Eligible organisations, 0 to 10,000,000.
    pub eligible_count: MaybeUndefined<i32>,
    /// Branches newly established in the period, 0 to 10,000,000.
    pub new_branches: MaybeUndefined<i32>,
    /// A rate stated without counts, 0 to 1.
    pub stated_rate: MaybeUndefined<f64>,
    /// What a stated rate covers (at most 2,000 characters).
    pub rate_scope: MaybeUndefined<String>,
    /// Where the figures come from: required (non-empty, at most 2,000 characters) when the
    /// write sets a figure; it cannot be cleared while the record holds one.
    pub source: MaybeUndefined<String>,
    /// The version last read: absent or 0 to create the record, else the stored version.
    pub expected_version: Option<i32>,
    /// Why the change is made (at most 2,000 characters); kept in the revision.
    pub note: Option<String>,
}

/// An input field as a write sees it: left out keeps, null clears, a value sets.
pub(super) fn patch<T>(value: MaybeUndefined<T>) -> Patch<T> {
    match value {
        MaybeUndefined::Undefined => Patch::Keep,
        MaybeUndefined::Null => Patch::Clear,
        MaybeUndefined::Value(v) => Patch::Set(v),
    }
}

impl From<UpdateCoverageInput> for CoverageUpdate {
    fn from(i: UpdateCoverageInput) -> Self {
        Self {
            city_code: i.city_code.0,
            branch_type: i.branch_type.into(),
            period: i.period,
            branch_count: patch(i.branch_count),
            eligible_count: patch(i.eligible_count),
            new_branches: patch(i.new_branches),
            stated_rate: patch(i.stated_rate),
            rate_scope: patch(i.rate_scope),
            source: patch(i.source),
            expected_version: i.expected_version,
            note: i.note,
        }
    }
}

/// The result of `updateCoverage`.
#[derive(SimpleObject)]
pub struct UpdateCoveragePayload {
    /// The record as stored after the write; on a VERSION_CONFLICT, the record as the other
    /// writer left it; null when nothing is stored.
    pub coverage: Option<Coverage>,
    /// The revision the write left; null when refused.
    pub revision: Option<Revision>,
    /// Why the input was refused; empty when the write was accepted.
    pub user_errors: Vec<UserError>,
}

/// The result of `bulkUpdateCoverage`: every row written, or none.
#[derive(SimpleObject)]
pub struct BulkUpdateCoveragePayload {
    /// The records as stored, in input order; empty when refused.
    pub coverage: Vec<Coverage>,
    /// The revisions, in input order; empty when refused.
    pub revisions: Vec<Revision>,
    /// Why the input was refused; empty when every row was written.
    pub user_errors: Vec<UserError>,
}

/// Writes.
#[derive(Default)]
pub struct CoverageMutation;

#[Object]
impl CoverageMutation {
    /// Creates or changes one city's figures for one branch type and period. City staff may
    /// write only their own city; every accepted write bumps `version` and leaves a revision.
    async fn update_coverage(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The figures.")] input: UpdateCoverageInput,
    ) -> Result<UpdateCoveragePayload> {
        let outcome = writes::update_coverage(&db(ctx)?.conn, write_context(ctx)?, input.into())
            .await
            .gql()?;
        Ok(match outcome {
            Outcome::Accepted(w) => UpdateCoveragePayload {
                coverage: Some(Coverage::written(w.record, w.public)),
                revision: Some(Revision(w.revision)),
                user_errors: Vec::new(),
            },
            Outcome::Refused(Refusal { errors, current }) => UpdateCoveragePayload {
                coverage: as_stored(ctx, current).await?.into_iter().next(),
                revision: None,
                user_errors: errors.into_iter().map(Into::into).collect(),
            },
        })
    }

    /// Writes up to 500 records in one transaction: all of them, or none when any row is
    /// refused.
    async fn bulk_update_coverage(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The rows, at most 500.")] input: Vec<UpdateCoverageInput>,
    ) -> Result<BulkUpdateCoveragePayload> {
        let inputs = input.into_iter().map(Into::into).collect();
        let outcome = writes::bulk_update_coverage(&db(ctx)?.conn, write_context(ctx)?, inputs)
            .await
            .gql()?;
        Ok(match outcome {
            Outcome::Accepted(rows) => {
                let (coverage, revisions) = rows
                    .into_iter()
                    .map(|w| (Coverage::written(w.record, w.public), Revision(w.revision)))
                    .unzip();
                BulkUpdateCoveragePayload {
                    coverage,
                    revisions,
                    user_errors: Vec::new(),
                }
            }
            Outcome::Refused(Refusal { errors, current }) => BulkUpdateCoveragePayload {
                coverage: as_stored(ctx, current).await?,
                revisions: Vec::new(),
                user_errors: errors.into_iter().map(Into::into).collect(),
            },
        })
    }
}

/// The stored records a refusal concerns, each a draft where its period has a round of the
/// yearly return (the working copy there is the city's draft), else the published figure.
async fn as_stored(
    ctx: &Context<'_>,
    records: Vec<entity::coverage_record::Model>,
) -> Result<Vec<Coverage>> {
    if records.is_empty() {
        return Ok(Vec::new());
    }
    let periods: Vec<i32> = records.iter().map(|r| r.period).collect();
    let rounds: std::collections::HashSet<i32> =
        crate::service::rounds::by_periods(&db(ctx)?.conn, &periods)
            .await
            .gql()?
            .into_iter()
            .map(|r| r.period)
            .collect();
    Ok(records
        .into_iter()
        .map(|r| {
            let public = !rounds.contains(&r.period);
            Coverage::written(r, public)
        })
        .collect())
}

/// Designates a city in a pilot programme, or changes a designation. Fields left out keep their
/// stored value; an explicit null clears it.
#[derive(InputObject, Debug, Clone)]
pub struct SetPilotDesignationInput {
    /// The city (administrative code).
    pub city_code: ID,
    /// The programme's code, e.g. QUANYU_KEPU.
    pub program_code: ID,
    /// The year the city joined, when known (1949 to next year).
    pub since_year: MaybeUndefined<i32>,
    /// Where the designation comes from: required, non-empty, at most 2,000 characters.
    pub source: MaybeUndefined<String>,
    /// The version last read: absent or 0 to designate, else the stored version.
    pub expected_version: Option<i32>,
    /// Why (at most 2,000 characters); kept in the revision.
    pub note: Option<String>,
}

/// Removes a city's designation in a pilot programme.
#[derive(InputObject, Debug, Clone)]
pub struct RemovePilotDesignationInput {
    /// The city (administrative code).
    pub city_code: ID,
    /// The programme's code.
    pub program_code: ID,
    /// The designation's version last read.
    pub expected_version: Option<i32>,
    /// Why (at most 2,000 characters); kept in the revision.
    pub note: Option<String>,
}

/// The total the province reports for a branch type and period. Fields left out keep their
/// stored value; an explicit null clears it.
#[derive(InputObject, Debug, Clone)]
pub struct SetProvinceReportedTotalInput {
    /// The branch type.
    pub branch_type: BranchType,
    /// The period (year).
    pub period: i32,
    /// The total, 0 to 10,000,000; null when the province states none.
    pub total: MaybeUndefined<i32>,
    /// Where it comes from: required (non-empty, at most 2,000 characters) when the write sets
    /// the total; it cannot be cleared while a total stands.
    pub source: MaybeUndefined<String>,
    /// The version last read: absent or 0 to create the statement, else the stored version.
    pub expected_version: Option<i32>,
    /// Why (at most 2,000 characters); kept in the revision.
    pub note: Option<String>,
}

/// The result of a designation change.
#[derive(SimpleObject)]
pub struct PilotDesignationPayload {
    /// The designation as stored; on a VERSION_CONFLICT, as the other writer left it; null
    /// after a removal, or when refused with nothing stored.
    pub designation: Option<PilotDesignation>,
    /// The designation's city as it stands after the change (ask for its `id` and
    /// `pilotDesignations`, and a client cache's list follows a removal too); null when refused.
    pub city: Option<City>,
    /// The designation's programme as it stands after the change (its `cities` included); null
    /// when refused.
    pub program: Option<PilotProgram>,
    /// The revision the change left; null when refused.
    pub revision: Option<Revision>,
    /// Why the input was refused; empty when accepted.
    pub user_errors: Vec<UserError>,
}

/// The result of `setProvinceReportedTotal`.
#[derive(SimpleObject)]
pub struct ProvinceReportedTotalPayload {
    /// The province's statement as stored; on a VERSION_CONFLICT, as the other writer left it;
    /// null when refused with nothing stored.
    pub province_report: Option<ProvinceReport>,
    /// The revision the change left; null when refused.
    pub revision: Option<Revision>,
    /// Why the input was refused; empty when accepted.
    pub user_errors: Vec<UserError>,
}

/// Province administrators' writes.
#[derive(Default)]
pub struct AdminMutation;

#[Object]
impl AdminMutation {
    /// Designates a city in a programme, or changes the designation's year or source. ADMIN only.
    async fn set_pilot_designation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The designation.")] input: SetPilotDesignationInput,
    ) -> Result<PilotDesignationPayload> {
        let input = writes::DesignationInput {
            city_code: input.city_code.0,
            program_code: input.program_code.0,
            since_year: patch(input.since_year),
            source: patch(input.source),
            expected_version: input.expected_version,
            note: input.note,
        };
        let outcome = writes::set_designation(&db(ctx)?.conn, write_context(ctx)?, input)
            .await
            .gql()?;
        Ok(designation_payload(outcome))
    }

    /// Removes a city's designation in a programme. ADMIN only.
    async fn remove_pilot_designation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which designation.")] input: RemovePilotDesignationInput,
    ) -> Result<PilotDesignationPayload> {
        let input = writes::DesignationInput {
            city_code: input.city_code.0,
            program_code: input.program_code.0,
            since_year: Patch::Keep,
            source: Patch::Keep,
            expected_version: input.expected_version,
            note: input.note,
        };
        let outcome = writes::remove_designation(&db(ctx)?.conn, write_context(ctx)?, input)
            .await
            .gql()?;
        Ok(designation_payload(outcome))
    }

    /// Sets the total the province itself reports for a branch type and period, kept apart from
    /// the cities' figures. ADMIN only.
    async fn set_province_reported_total(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The total.")] input: SetProvinceReportedTotalInput,
    ) -> Result<ProvinceReportedTotalPayload> {
        let input = writes::ProvinceTotalInput {
            branch_type: input.branch_type.into(),
            period: input.period,
            total: patch(input.total),
            source: patch(input.source),
            expected_version: input.expected_version,
            note: input.note,
        };
        let outcome = writes::set_province_total(&db(ctx)?.conn, write_context(ctx)?, input)
            .await
            .gql()?;
        Ok(match outcome {
            Outcome::Accepted(w) => ProvinceReportedTotalPayload {
                province_report: Some(w.total.into()),
                revision: Some(Revision(w.revision)),
                user_errors: Vec::new(),
            },
            Outcome::Refused(Refusal { errors, current }) => ProvinceReportedTotalPayload {
                province_report: current.into_iter().next().map(Into::into),
                revision: None,
                user_errors: errors.into_iter().map(Into::into).collect(),
            },
        })
    }
}

fn designation_payload(
    outcome: writes::designation::DesignationOutcome,
) -> PilotDesignationPayload {
    match outcome {
        Outcome::Accepted(w) => PilotDesignationPayload {
            designation: w.designation.map(|designation| {
                PilotDesignation::new(designation)
                    .with(Some(w.city.clone()), Some(w.program.clone()))
            }),
            city: Some(City::from(w.city)),
            program: Some(PilotProgram(w.program)),
            revision: Some(Revision(w.revision)),
            user_errors: Vec::new(),
        },
        Outcome::Refused(Refusal { errors, current }) => PilotDesignationPayload {
            designation: current.into_iter().next().map(PilotDesignation::new),
            city: None,
            program: None,
            revision: None,
            user_errors: errors.into_iter().map(Into::into).collect(),
        },
    }
}
