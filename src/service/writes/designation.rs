//! Pilot designations: which city holds which programme's status, granted, changed or removed
//! by a province administrator.

use entity::{RevisionKind, city, pilot_designation, pilot_program, revision};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};

use super::snapshot::{DesignationSnapshot, designation_key, to_json};
use super::{At, DesignationInput, Outcome, Refusal, RevisionOf, UnitOfWork, WriteContext, admin};
use crate::domain::write::{no_such_city, version_conflict, words};
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
    let apply = async |uow: &mut UnitOfWork<'_>| apply(uow, input, remove).await;
    super::run(db, &ctx, token.into(), errors, apply).await
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
        let message = no_such_city(&input.city_code);
        return Ok(Err(Refusal::not_found(at, "cityCode", message)));
    };
    let Some(program) = pilot_program::Entity::find_by_id(input.program_code.clone())
        .one(txn)
        .await?
    else {
        let message = words(
            format!("there is no programme with code {}", input.program_code),
            format!("没有代码为 {} 的试点项目", input.program_code),
        );
        return Ok(Err(Refusal::not_found(at, "programCode", message)));
    };
    let key = (input.city_code.clone(), input.program_code.clone());
    let stored = pilot_designation::Entity::find_by_id(key.clone())
        .one(txn)
        .await?;
    if remove && stored.is_none() {
        let message = words(
            format!(
                "{} is not designated in {}",
                input.city_code, input.program_code
            ),
            format!("{} 不在 {} 试点之列", input.city_code, input.program_code),
        );
        return Ok(Err(Refusal::not_found(at, "programCode", message)));
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
            let update = pilot_designation::Entity::update_many()
                .col_expr(C::SinceYear, Expr::value(next.since_year))
                .col_expr(C::Source, Expr::value(next.source.clone()))
                .col_expr(C::Version, Expr::value(next.version));
            at_version(update, current).exec(txn).await?.rows_affected == 1
        }
        (Some(current), None) => {
            let delete = pilot_designation::Entity::delete_many();
            at_version(delete, current).exec(txn).await?.rows_affected == 1
        }
        (None, None) => false,
    };
    if !written {
        // Another administrator changed or removed it since it was read.
        let fresh = pilot_designation::Entity::find_by_id(key).one(txn).await?;
        let message = words(
            "someone changed the designation meanwhile",
            "其间已有人修改了这项试点",
        );
        return Ok(Err(Refusal::conflict(at, message, fresh)));
    }
    let snapshot = |d: &pilot_designation::Model| to_json(&DesignationSnapshot::from(d));
    let mut of = RevisionOf::new(
        RevisionKind::PilotDesignation,
        designation_key(&input.city_code, &input.program_code),
        stored.as_ref().map(snapshot).transpose()?,
        after.as_ref().map(snapshot).transpose()?,
    );
    of.city_code = Some(input.city_code);
    of.program_code = Some(input.program_code);
    let revision = uow.revise(of, input.note).await?;
    Ok(Ok(DesignationWritten {
        designation: after,
        program,
        city,
        revision,
    }))
}

/// `query` restricted to `current`'s row while it is still at `current`'s version: the version
/// in the WHERE clause is the lock, so a writer that lost the race changes nothing.
fn at_version<Q: QueryFilter>(query: Q, current: &pilot_designation::Model) -> Q {
    use pilot_designation::Column as C;
    query
        .filter(C::CityCode.eq(current.city_code.as_str()))
        .filter(C::ProgramCode.eq(current.program_code.as_str()))
        .filter(C::Version.eq(current.version))
}
