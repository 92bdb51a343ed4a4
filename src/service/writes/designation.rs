//! Pilot designations: which city holds which programme's status, granted, changed or removed
//! by a province administrator.

use entity::{RevisionKind, city, pilot_designation, pilot_program, revision};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};

use super::snapshot::{DesignationSnapshot, designation_key, to_json};
use super::{
    At, DesignationInput, Outcome, Refusal, RevisionOf, UnitOfWork, WriteContext, admin, codes,
};
use crate::domain::write::version_conflict;
use crate::error::AppResult;

/// An accepted designation change: the designation as stored (none after a removal), its city
/// and programme, and the revision.
#[derive(Debug, Clone)]
pub struct DesignationWritten {
    /// The designation after the change; `None` after a removal.
    pub designation: Option<pilot_designation::Model>,
    /// Its programme.
    pub program: pilot_program::Model,
    /// Its city.
    pub city: city::Model,
    /// The revision.
    pub revision: revision::Model,
}

/// What a designation write becomes; a refusal shows the stored designation.
pub type DesignationOutcome = Outcome<DesignationWritten, pilot_designation::Model>;

/// Designates a city in a programme, or changes the designation's year or source. Admin only.
pub async fn set_designation(
    db: &DatabaseConnection,
    ctx: WriteContext<'_>,
    input: DesignationInput,
) -> AppResult<DesignationOutcome> {
    change(db, ctx, input, false).await
}

/// Removes a city's designation. Admin only.
pub async fn remove_designation(
    db: &DatabaseConnection,
    ctx: WriteContext<'_>,
    input: DesignationInput,
) -> AppResult<DesignationOutcome> {
    change(db, ctx, input, true).await
}

async fn change(
    db: &DatabaseConnection,
    ctx: WriteContext<'_>,
    input: DesignationInput,
    remove: bool,
) -> AppResult<DesignationOutcome> {
    let token = admin(ctx.actor)?;
    let errors = input.validate(At::INPUT, remove);
    if !errors.is_empty() {
        return Ok(Outcome::Refused(Refusal::new(errors)));
    }
    let mut uow = UnitOfWork::begin(db, ctx, token).await?;
    let applied = apply(&mut uow, input, remove).await;
    uow.finish(applied, At::INPUT).await
}

async fn apply(
    uow: &mut UnitOfWork<'_>,
    input: DesignationInput,
    remove: bool,
) -> Result<Result<DesignationWritten, Refusal<pilot_designation::Model>>, DbErr> {
    let at = At::INPUT;
    let txn = uow.txn();
    let Some(city) = city::Entity::find_by_id(input.city_code.clone())
        .one(txn)
        .await?
    else {
        let message = format!("there is no city with code {}", input.city_code);
        return Ok(Err(Refusal::new(vec![at.error(
            "cityCode",
            codes::NOT_FOUND,
            message,
        )])));
    };
    let Some(program) = pilot_program::Entity::find_by_id(input.program_code.clone())
        .one(txn)
        .await?
    else {
        let message = format!("there is no programme with code {}", input.program_code);
        return Ok(Err(Refusal::new(vec![at.error(
            "programCode",
            codes::NOT_FOUND,
            message,
        )])));
    };
    let key = (input.city_code.clone(), input.program_code.clone());
    let stored = pilot_designation::Entity::find_by_id(key.clone())
        .one(txn)
        .await?;
    if remove && stored.is_none() {
        let message = format!(
            "{} is not designated in {}",
            input.city_code, input.program_code
        );
        return Ok(Err(Refusal::new(vec![at.error(
            "programCode",
            codes::NOT_FOUND,
            message,
        )])));
    }
    if let Some(message) =
        version_conflict(stored.as_ref().map(|d| d.version), input.expected_version)
    {
        return Ok(Err(Refusal::conflict(at, message, stored)));
    }
    let after = if remove {
        None
    } else {
        Some(pilot_designation::Model {
            city_code: input.city_code.clone(),
            program_code: input.program_code.clone(),
            since_year: input
                .since_year
                .apply(stored.as_ref().and_then(|d| d.since_year)),
            source: input
                .source
                .apply(stored.as_ref().and_then(|d| d.source.clone())),
            version: stored.as_ref().map_or(1, |d| d.version + 1),
        })
    };
    let written = match (&stored, &after) {
        (None, Some(new)) => {
            let active: pilot_designation::ActiveModel = new.clone().into();
            active.insert(txn).await?;
            true
        }
        (Some(current), Some(next)) => {
            use pilot_designation::Column as C;
            pilot_designation::Entity::update_many()
                .col_expr(C::SinceYear, Expr::value(next.since_year))
                .col_expr(C::Source, Expr::value(next.source.clone()))
                .col_expr(C::Version, Expr::value(next.version))
                .filter(C::CityCode.eq(key.0.as_str()))
                .filter(C::ProgramCode.eq(key.1.as_str()))
                .filter(C::Version.eq(current.version))
                .exec(txn)
                .await?
                .rows_affected
                == 1
        }
        (Some(current), None) => {
            use pilot_designation::Column as C;
            pilot_designation::Entity::delete_many()
                .filter(C::CityCode.eq(key.0.as_str()))
                .filter(C::ProgramCode.eq(key.1.as_str()))
                .filter(C::Version.eq(current.version))
                .exec(txn)
                .await?
                .rows_affected
                == 1
        }
        (None, None) => false,
    };
    if !written {
        // Another administrator changed or removed it since it was read.
        let fresh = pilot_designation::Entity::find_by_id(key).one(txn).await?;
        let message = "someone changed the designation meanwhile".to_owned();
        return Ok(Err(Refusal::conflict(at, message, fresh)));
    }
    let snapshot = |d: &pilot_designation::Model| to_json(&DesignationSnapshot::from(d));
    let revision = uow
        .revise(
            RevisionOf {
                kind: RevisionKind::PilotDesignation,
                record_key: designation_key(&input.city_code, &input.program_code),
                city_code: Some(input.city_code.clone()),
                branch_type: None,
                period: None,
                program_code: Some(input.program_code.clone()),
                before: stored.as_ref().map(snapshot).transpose()?,
                after: after.as_ref().map(snapshot).transpose()?,
                record_id: None,
            },
            input.note,
        )
        .await?;
    Ok(Ok(DesignationWritten {
        designation: after,
        program,
        city,
        revision,
    }))
}
