//! The write path for coverage figures: permissions (checked here, on every write), validation
//! (as user errors: nothing is written when any input is bad), optimistic locking on `version`,
//! and a revision written in the same transaction as the change it records.

use chrono::Datelike;
use entity::{
    BranchType, Role, api_token, city, coverage_record, pilot_designation, pilot_program,
    province_total, revision,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, DatabaseConnection, DatabaseTransaction,
    DbErr, EntityTrait, QueryFilter, Set, SqlErr, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};
use serde_json::json;

use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::events::{Change, Events};

/// Largest count accepted.
pub const MAX_COUNT: i32 = 10_000_000;
/// Longest note, source or scope, in characters.
pub const MAX_TEXT_CHARS: usize = 2_000;
/// Most rows in one bulk update.
pub const MAX_BULK_ROWS: usize = 500;
/// Earliest period accepted.
pub const MIN_PERIOD: i32 = 2000;

/// Machine-readable codes of user errors.
pub mod codes {
    /// An input value is out of range or malformed.
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    /// The city named does not exist.
    pub const NOT_FOUND: &str = "NOT_FOUND";
    /// `expectedVersion` is not the stored version.
    pub const VERSION_CONFLICT: &str = "VERSION_CONFLICT";
}

/// A field of an update: leave it as stored, clear it, or set it.
#[derive(Debug, Clone, PartialEq)]
pub enum Patch<T> {
    /// Left out of the input: the stored value stays.
    Keep,
    /// An explicit null: the stored value is cleared.
    Clear,
    /// A new value.
    Set(T),
}

impl<T: Clone> Patch<T> {
    fn apply(&self, current: Option<T>) -> Option<T> {
        match self {
            Patch::Keep => current,
            Patch::Clear => None,
            Patch::Set(v) => Some(v.clone()),
        }
    }

    fn value(&self) -> Option<&T> {
        match self {
            Patch::Set(v) => Some(v),
            _ => None,
        }
    }
}

/// One city's figures for one branch type and period, as a writer submits them.
#[derive(Debug, Clone)]
pub struct CoverageUpdate {
    /// The city.
    pub city_code: String,
    /// The branch type.
    pub branch_type: BranchType,
    /// The period (year).
    pub period: i32,
    /// Branches.
    pub branch_count: Patch<i32>,
    /// Eligible organisations.
    pub eligible_count: Patch<i32>,
    /// Branches newly established in the period.
    pub new_branches: Patch<i32>,
    /// A rate stated without counts.
    pub stated_rate: Patch<f64>,
    /// What a stated rate covers.
    pub rate_scope: Patch<String>,
    /// Where the figures come from.
    pub source: Patch<String>,
    /// The version the writer last saw: absent or 0 to create.
    pub expected_version: Option<i32>,
    /// Why the change is made.
    pub note: Option<String>,
}

/// A refused input: where, why, and a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserError {
    /// Path to the field, e.g. `["input", "branchCount"]`.
    pub field: Vec<String>,
    /// For people.
    pub message: String,
    /// For programs: one of [`codes`].
    pub code: &'static str,
}

/// What became of a write.
#[derive(Debug, Clone)]
pub enum Outcome<T> {
    /// Written and committed.
    Accepted(T),
    /// Nothing written. `current` holds the stored records the errors refer to (for a version
    /// conflict: what the other writer saved).
    Refused {
        /// Why.
        errors: Vec<UserError>,
        /// The stored records, where the errors concern them.
        current: Vec<coverage_record::Model>,
    },
}

/// An accepted coverage write: the record as stored and its revision.
#[derive(Debug, Clone)]
pub struct Written {
    /// The record after the write.
    pub record: coverage_record::Model,
    /// The revision the write left.
    pub revision: revision::Model,
}

/// Who writes, and in which request.
#[derive(Debug, Clone, Copy)]
pub struct WriteContext<'a> {
    /// The caller.
    pub actor: &'a Actor,
    /// The request's id, kept in the revision.
    pub request_id: Option<&'a str>,
    /// Where committed changes are announced to subscriptions.
    pub events: &'a Events,
}

/// The token behind a write; UNAUTHENTICATED without a live one.
pub fn writer(actor: &Actor) -> AppResult<&api_token::Model> {
    match actor {
        Actor::Token(token) => Ok(token),
        Actor::Anonymous => Err(AppError::Unauthenticated(
            "writing needs a token: send `Authorization: Bearer <token>`".into(),
        )),
        Actor::Rejected => Err(AppError::Unauthenticated(
            "the bearer token is malformed, unknown or revoked".into(),
        )),
    }
}

/// FORBIDDEN unless `token` may write `city_code`'s figures.
pub fn may_write_city(token: &api_token::Model, city_code: &str) -> AppResult<()> {
    match token.role {
        Role::Admin => Ok(()),
        Role::CityStaff if token.city_code.as_deref() == Some(city_code) => Ok(()),
        Role::CityStaff => Err(AppError::Forbidden(format!(
            "a {} token may write only its own city's figures, not {city_code}'s",
            token.city_code.as_deref().unwrap_or("city-staff")
        ))),
    }
}

/// Creates or changes one coverage record.
pub async fn update_coverage(
    db: &DatabaseConnection,
    ctx: WriteContext<'_>,
    input: CoverageUpdate,
) -> AppResult<Outcome<Written>> {
    match bulk_update_coverage(db, ctx, vec![input], false).await? {
        Outcome::Accepted(mut written) => match written.pop() {
            Some(one) => Ok(Outcome::Accepted(one)),
            None => Err(AppError::Database(DbErr::Custom("no row written".into()))),
        },
        Outcome::Refused { errors, current } => Ok(Outcome::Refused { errors, current }),
    }
}

/// Creates or changes several records, all or nothing, in one transaction. `indexed` puts the
/// row's index in error paths (`["input", "3", "branchCount"]`).
pub async fn bulk_update_coverage(
    db: &DatabaseConnection,
    ctx: WriteContext<'_>,
    inputs: Vec<CoverageUpdate>,
    indexed: bool,
) -> AppResult<Outcome<Vec<Written>>> {
    let token = writer(ctx.actor)?;
    for input in &inputs {
        may_write_city(token, &input.city_code)?;
    }
    let path = |i: usize, field: &str| {
        let mut p = vec!["input".to_owned()];
        if indexed {
            p.push(i.to_string());
        }
        p.push(field.to_owned());
        p
    };
    if inputs.len() > MAX_BULK_ROWS {
        return Ok(refused(vec![UserError {
            field: vec!["input".into()],
            message: format!(
                "at most {MAX_BULK_ROWS} rows in one bulk update, got {}",
                inputs.len()
            ),
            code: codes::BAD_USER_INPUT,
        }]));
    }
    let mut errors = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        errors.extend(validate(input, &|f| path(i, f)));
    }
    for (i, input) in inputs.iter().enumerate() {
        let duplicate = inputs[..i].iter().any(|o| {
            o.city_code == input.city_code
                && o.branch_type == input.branch_type
                && o.period == input.period
        });
        if duplicate {
            errors.push(UserError {
                field: path(i, "cityCode"),
                message: "the same city, branch type and period appear twice".into(),
                code: codes::BAD_USER_INPUT,
            });
        }
    }
    if !errors.is_empty() {
        return Ok(refused(errors));
    }

    let txn = begin_write(db).await?;
    let mut written = Vec::with_capacity(inputs.len());
    let mut errors = Vec::new();
    let mut current = Vec::new();
    for (i, input) in inputs.into_iter().enumerate() {
        match write_one(&txn, token, ctx, input, &|f| path(i, f)).await {
            Ok(Ok(w)) => written.push(w),
            Ok(Err((errs, cur))) => {
                errors.extend(errs);
                current.extend(cur);
            }
            Err(err) if is_unique_violation(&err) => {
                // Another writer created the same record first; the transaction is spent.
                txn.rollback().await?;
                return Ok(Outcome::Refused {
                    errors: vec![UserError {
                        field: path(i, "expectedVersion"),
                        message: "another writer created this record first".into(),
                        code: codes::VERSION_CONFLICT,
                    }],
                    current: Vec::new(),
                });
            }
            Err(err) => return Err(err.into()),
        }
    }
    if errors.is_empty() {
        let changes = written
            .iter()
            .map(|w| Change::Coverage {
                record_id: w.record.id,
                revision: w.revision.clone(),
            })
            .collect();
        ctx.events.commit(txn, changes).await?;
        Ok(Outcome::Accepted(written))
    } else {
        txn.rollback().await?;
        Ok(Outcome::Refused { errors, current })
    }
}

fn refused<T>(errors: Vec<UserError>) -> Outcome<T> {
    Outcome::Refused {
        errors,
        current: Vec::new(),
    }
}

/// A creation that failed: when another writer created the same record first (PostgreSQL lets
/// two transactions both find it missing), a conflict on `field` for the client to read and
/// retry, never an internal error; anything else is an error. The transaction is spent.
async fn lost_creation_race<T>(
    txn: DatabaseTransaction,
    err: DbErr,
    field: Vec<String>,
) -> AppResult<Outcome<T>> {
    if !is_unique_violation(&err) {
        return Err(err.into());
    }
    txn.rollback().await?;
    Ok(refused(vec![UserError {
        field,
        message: "another writer created this record first; read it and send the change again"
            .into(),
        code: codes::VERSION_CONFLICT,
    }]))
}

fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

type OneResult = Result<Written, (Vec<UserError>, Option<coverage_record::Model>)>;

async fn write_one(
    txn: &DatabaseTransaction,
    token: &api_token::Model,
    ctx: WriteContext<'_>,
    input: CoverageUpdate,
    path: &(dyn Fn(&str) -> Vec<String> + Sync),
) -> Result<OneResult, DbErr> {
    let error = |field: &str, message: String, code| UserError {
        field: path(field),
        message,
        code,
    };
    if city::Entity::find_by_id(input.city_code.clone())
        .one(txn)
        .await?
        .is_none()
    {
        let message = format!("there is no city with code {}", input.city_code);
        return Ok(Err((
            vec![error("cityCode", message, codes::NOT_FOUND)],
            None,
        )));
    }
    let stored = coverage_record::Entity::find()
        .filter(coverage_record::Column::CityCode.eq(input.city_code.as_str()))
        .filter(coverage_record::Column::BranchType.eq(input.branch_type))
        .filter(coverage_record::Column::Period.eq(input.period))
        .one(txn)
        .await?;
    let conflict = |message: String, current: Option<coverage_record::Model>| {
        Ok(Err((
            vec![error("expectedVersion", message, codes::VERSION_CONFLICT)],
            current,
        )))
    };
    let expected = input.expected_version.unwrap_or(0);
    match &stored {
        None if expected != 0 => {
            return conflict(
                format!(
                    "there is no record yet, so expectedVersion must be absent or 0, not {expected}"
                ),
                None,
            );
        }
        Some(cur) if input.expected_version.is_none() => {
            return conflict(
                format!(
                    "the record exists at version {}: send it as expectedVersion",
                    cur.version
                ),
                stored.clone(),
            );
        }
        Some(cur) if cur.version != expected => {
            return conflict(
                format!(
                    "the record is at version {}, not {expected}: someone changed it meanwhile",
                    cur.version
                ),
                stored.clone(),
            );
        }
        _ => {}
    }
    let base = stored.clone();
    let branch_count = input
        .branch_count
        .apply(base.as_ref().and_then(|r| r.branch_count));
    let eligible_count = input
        .eligible_count
        .apply(base.as_ref().and_then(|r| r.eligible_count));
    if let (Some(b), Some(e)) = (branch_count, eligible_count)
        && b > e
    {
        let message = format!("branchCount ({b}) cannot exceed eligibleCount ({e})");
        return Ok(Err((
            vec![error("branchCount", message, codes::BAD_USER_INPUT)],
            stored,
        )));
    }
    let now = crate::domain::now();
    let actor_label = format!("{} (token {})", token.name, token.id);
    let record = match &stored {
        None => {
            coverage_record::ActiveModel {
                id: NotSet,
                city_code: Set(input.city_code.clone()),
                branch_type: Set(input.branch_type),
                period: Set(input.period),
                branch_count: Set(branch_count),
                eligible_count: Set(eligible_count),
                new_branches: Set(input.new_branches.apply(None)),
                stated_rate: Set(input.stated_rate.apply(None)),
                rate_scope: Set(input.rate_scope.apply(None)),
                source: Set(input.source.apply(None)),
                version: Set(1),
                updated_at: Set(now),
                updated_by: Set(Some(actor_label)),
            }
            .insert(txn)
            .await?
        }
        Some(cur) => {
            let next = coverage_record::Model {
                branch_count,
                eligible_count,
                new_branches: input.new_branches.apply(cur.new_branches),
                stated_rate: input.stated_rate.apply(cur.stated_rate),
                rate_scope: input.rate_scope.apply(cur.rate_scope.clone()),
                source: input.source.apply(cur.source.clone()),
                version: cur.version + 1,
                updated_at: now,
                updated_by: Some(actor_label),
                ..cur.clone()
            };
            // The version in the WHERE clause is the lock: a writer that lost the race updates
            // nothing (PostgreSQL re-checks it after the winner commits).
            let result = coverage_record::Entity::update_many()
                .col_expr(
                    coverage_record::Column::BranchCount,
                    Expr::value(next.branch_count),
                )
                .col_expr(
                    coverage_record::Column::EligibleCount,
                    Expr::value(next.eligible_count),
                )
                .col_expr(
                    coverage_record::Column::NewBranches,
                    Expr::value(next.new_branches),
                )
                .col_expr(
                    coverage_record::Column::StatedRate,
                    Expr::value(next.stated_rate),
                )
                .col_expr(
                    coverage_record::Column::RateScope,
                    Expr::value(next.rate_scope.clone()),
                )
                .col_expr(
                    coverage_record::Column::Source,
                    Expr::value(next.source.clone()),
                )
                .col_expr(coverage_record::Column::Version, Expr::value(next.version))
                .col_expr(
                    coverage_record::Column::UpdatedAt,
                    Expr::value(next.updated_at),
                )
                .col_expr(
                    coverage_record::Column::UpdatedBy,
                    Expr::value(next.updated_by.clone()),
                )
                .filter(coverage_record::Column::Id.eq(cur.id))
                .filter(coverage_record::Column::Version.eq(cur.version))
                .exec(txn)
                .await?;
            if result.rows_affected != 1 {
                let fresh = coverage_record::Entity::find_by_id(cur.id).one(txn).await?;
                return conflict("someone changed the record meanwhile".into(), fresh);
            }
            next
        }
    };
    let revision = insert_revision(
        txn,
        token,
        ctx,
        RevisionOf {
            kind: "COVERAGE",
            record_key: record_key(&record),
            city_code: Some(record.city_code.clone()),
            branch_type: Some(record.branch_type),
            period: Some(record.period),
            program_code: None,
            before: stored.as_ref().map(record_json),
            after: Some(record_json(&record)),
        },
        input.note.clone(),
    )
    .await?;
    Ok(Ok(Written { record, revision }))
}

/// The key revisions use for a coverage record: `CITY/TYPE/PERIOD`.
pub fn record_key(r: &coverage_record::Model) -> String {
    format!(
        "{}/{}/{}",
        r.city_code,
        branch_type_name(r.branch_type),
        r.period
    )
}

fn branch_type_name(t: BranchType) -> &'static str {
    match t {
        BranchType::Enterprise => "ENTERPRISE",
        BranchType::University => "UNIVERSITY",
        BranchType::Township => "TOWNSHIP",
    }
}

/// A coverage record as a revision keeps it: every column, API names.
pub fn record_json(r: &coverage_record::Model) -> serde_json::Value {
    json!({
        "cityCode": r.city_code,
        "branchType": branch_type_name(r.branch_type),
        "period": r.period,
        "branchCount": r.branch_count,
        "eligibleCount": r.eligible_count,
        "newBranches": r.new_branches,
        "statedRate": r.stated_rate,
        "rateScope": r.rate_scope,
        "source": r.source,
        "version": r.version,
        "updatedAt": r.updated_at.to_rfc3339(),
        "updatedBy": r.updated_by,
    })
}

/// The record a revision's `after` holds (the inverse of [`record_json`]), with its `id`.
pub fn record_from_json(id: i64, json: &str) -> Option<coverage_record::Model> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Stored {
        city_code: String,
        branch_type: String,
        period: i32,
        branch_count: Option<i32>,
        eligible_count: Option<i32>,
        new_branches: Option<i32>,
        stated_rate: Option<f64>,
        rate_scope: Option<String>,
        source: Option<String>,
        version: i32,
        updated_at: chrono::DateTime<chrono::Utc>,
        updated_by: Option<String>,
    }
    let r: Stored = serde_json::from_str(json).ok()?;
    let branch_type = [
        BranchType::Enterprise,
        BranchType::University,
        BranchType::Township,
    ]
    .into_iter()
    .find(|t| branch_type_name(*t) == r.branch_type)?;
    Some(coverage_record::Model {
        id,
        city_code: r.city_code,
        branch_type,
        period: r.period,
        branch_count: r.branch_count,
        eligible_count: r.eligible_count,
        new_branches: r.new_branches,
        stated_rate: r.stated_rate,
        rate_scope: r.rate_scope,
        source: r.source,
        version: r.version,
        updated_at: r.updated_at,
        updated_by: r.updated_by,
    })
}

/// A designation as a revision keeps it: every column, API names.
pub fn designation_json(d: &pilot_designation::Model) -> serde_json::Value {
    json!({
        "cityCode": d.city_code,
        "programCode": d.program_code,
        "sinceYear": d.since_year,
        "source": d.source,
    })
}

/// The designation a revision's `before` or `after` holds (the inverse of [`designation_json`]).
pub fn designation_from_json(json: &str) -> Option<pilot_designation::Model> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Stored {
        city_code: String,
        program_code: String,
        since_year: Option<i32>,
        source: Option<String>,
    }
    let d: Stored = serde_json::from_str(json).ok()?;
    Some(pilot_designation::Model {
        city_code: d.city_code,
        program_code: d.program_code,
        since_year: d.since_year,
        source: d.source,
    })
}

/// Every rule that needs no database, as user errors.
fn validate(input: &CoverageUpdate, path: &(dyn Fn(&str) -> Vec<String> + Sync)) -> Vec<UserError> {
    let mut errors = Vec::new();
    let mut bad = |field: &str, message: String| {
        errors.push(UserError {
            field: path(field),
            message,
            code: codes::BAD_USER_INPUT,
        });
    };
    for (field, value) in [
        ("branchCount", input.branch_count.value()),
        ("eligibleCount", input.eligible_count.value()),
        ("newBranches", input.new_branches.value()),
    ] {
        if let Some(&v) = value
            && !(0..=MAX_COUNT).contains(&v)
        {
            bad(
                field,
                format!("{field} must be between 0 and {MAX_COUNT}, got {v}"),
            );
        }
    }
    if let (Some(&b), Some(&e)) = (input.branch_count.value(), input.eligible_count.value())
        && b > e
        && e >= 0
    {
        bad(
            "branchCount",
            format!("branchCount ({b}) cannot exceed eligibleCount ({e})"),
        );
    }
    if let Some(&rate) = input.stated_rate.value()
        && !(rate.is_finite() && (0.0..=1.0).contains(&rate))
    {
        bad(
            "statedRate",
            format!("statedRate must be between 0 and 1, got {rate}"),
        );
    }
    if let Some(v) = input.expected_version
        && v < 0
    {
        bad(
            "expectedVersion",
            format!("expectedVersion must be 0 or more, got {v}"),
        );
    }
    errors.extend(period_error(path, input.period));
    errors.extend(text_errors(
        path,
        &[
            ("note", input.note.as_deref()),
            ("source", input.source.value().map(String::as_str)),
            ("rateScope", input.rate_scope.value().map(String::as_str)),
        ],
    ));
    errors
}

/// A user error when `period` is not between [`MIN_PERIOD`] and next year.
fn period_error(path: &(dyn Fn(&str) -> Vec<String> + Sync), period: i32) -> Option<UserError> {
    let next_year = crate::domain::now().year() + 1;
    (!(MIN_PERIOD..=next_year).contains(&period)).then(|| UserError {
        field: path("period"),
        message: format!("period must be between {MIN_PERIOD} and {next_year}, got {period}"),
        code: codes::BAD_USER_INPUT,
    })
}

/// User errors for the texts (field, value) that break [`check_text`].
fn text_errors(
    path: &(dyn Fn(&str) -> Vec<String> + Sync),
    texts: &[(&str, Option<&str>)],
) -> Vec<UserError> {
    texts
        .iter()
        .filter_map(|&(field, text)| {
            let message = check_text(field, text?).err()?;
            Some(UserError {
                field: path(field),
                message,
                code: codes::BAD_USER_INPUT,
            })
        })
        .collect()
}

/// At most [`MAX_TEXT_CHARS`] characters, no control characters but tab and line breaks (NUL,
/// for one, cannot be stored in PostgreSQL text).
fn check_text(field: &str, text: &str) -> Result<(), String> {
    let chars = text.chars().count();
    if chars > MAX_TEXT_CHARS {
        return Err(format!(
            "{field} must have at most {MAX_TEXT_CHARS} characters, got {chars}"
        ));
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(format!("{field} must not contain control characters"));
    }
    Ok(())
}

/// Requires an administrator: city staff are FORBIDDEN, no or a bad token UNAUTHENTICATED.
pub fn admin(actor: &Actor) -> AppResult<&api_token::Model> {
    let token = writer(actor)?;
    match token.role {
        Role::Admin => Ok(token),
        Role::CityStaff => Err(AppError::Forbidden(
            "only a province administrator may do this".into(),
        )),
    }
}

/// A designation as an administrator sets it.
#[derive(Debug, Clone)]
pub struct DesignationInput {
    /// The city.
    pub city_code: String,
    /// The programme.
    pub program_code: String,
    /// The year the city joined, when known.
    pub since_year: Option<i32>,
    /// Where the designation comes from.
    pub source: Option<String>,
    /// Why.
    pub note: Option<String>,
}

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

/// Designates a city in a programme, or changes the designation's year or source. Admin only.
pub async fn set_designation(
    db: &DatabaseConnection,
    ctx: WriteContext<'_>,
    input: DesignationInput,
) -> AppResult<Outcome<DesignationWritten>> {
    change_designation(db, ctx, input, false).await
}

/// Removes a city's designation. Admin only.
pub async fn remove_designation(
    db: &DatabaseConnection,
    ctx: WriteContext<'_>,
    input: DesignationInput,
) -> AppResult<Outcome<DesignationWritten>> {
    change_designation(db, ctx, input, true).await
}

async fn change_designation(
    db: &DatabaseConnection,
    ctx: WriteContext<'_>,
    input: DesignationInput,
    remove: bool,
) -> AppResult<Outcome<DesignationWritten>> {
    let token = admin(ctx.actor)?;
    let field = |f: &str| vec!["input".to_owned(), f.to_owned()];
    let mut errors = Vec::new();
    let next_year = crate::domain::now().year() + 1;
    if let Some(year) = input.since_year
        && !(1949..=next_year).contains(&year)
    {
        errors.push(bad(
            field("sinceYear"),
            format!("sinceYear must be between 1949 and {next_year}, got {year}"),
        ));
    }
    errors.extend(text_errors(
        &field,
        &[
            ("note", input.note.as_deref()),
            ("source", input.source.as_deref()),
        ],
    ));
    if !errors.is_empty() {
        return Ok(refused(errors));
    }
    let txn = begin_write(db).await?;
    let city = city::Entity::find_by_id(input.city_code.clone())
        .one(&txn)
        .await?;
    let program = pilot_program::Entity::find_by_id(input.program_code.clone())
        .one(&txn)
        .await?;
    let (Some(city), Some(program)) = (city, program) else {
        txn.rollback().await?;
        let (f, what, code) = if city::Entity::find_by_id(input.city_code.clone())
            .one(db)
            .await?
            .is_none()
        {
            ("cityCode", "city", &input.city_code)
        } else {
            ("programCode", "programme", &input.program_code)
        };
        return Ok(refused(vec![UserError {
            field: field(f),
            message: format!("there is no {what} with code {code}"),
            code: codes::NOT_FOUND,
        }]));
    };
    let stored = pilot_designation::Entity::find_by_id((
        input.city_code.clone(),
        input.program_code.clone(),
    ))
    .one(&txn)
    .await?;
    let after = if remove {
        let Some(existing) = &stored else {
            txn.rollback().await?;
            return Ok(refused(vec![UserError {
                field: field("programCode"),
                message: format!(
                    "{} is not designated in {}",
                    input.city_code, input.program_code
                ),
                code: codes::NOT_FOUND,
            }]));
        };
        pilot_designation::Entity::delete_by_id((
            existing.city_code.clone(),
            existing.program_code.clone(),
        ))
        .exec(&txn)
        .await?;
        None
    } else {
        let model = pilot_designation::Model {
            city_code: input.city_code.clone(),
            program_code: input.program_code.clone(),
            since_year: input.since_year,
            source: input.source.clone(),
        };
        let active = pilot_designation::ActiveModel {
            city_code: Set(model.city_code.clone()),
            program_code: Set(model.program_code.clone()),
            since_year: Set(model.since_year),
            source: Set(model.source.clone()),
        };
        if stored.is_some() {
            active.update(&txn).await?;
        } else if let Err(err) = active.insert(&txn).await {
            return lost_creation_race(txn, err, field("programCode")).await;
        }
        Some(model)
    };
    let revision = insert_revision(
        &txn,
        token,
        ctx,
        RevisionOf {
            kind: "PILOT_DESIGNATION",
            record_key: format!("{}/{}", input.city_code, input.program_code),
            city_code: Some(input.city_code.clone()),
            branch_type: None,
            period: None,
            program_code: Some(input.program_code.clone()),
            before: stored.as_ref().map(designation_json),
            after: after.as_ref().map(designation_json),
        },
        input.note.clone(),
    )
    .await?;
    let change = Change::Designation {
        revision: revision.clone(),
    };
    ctx.events.commit(txn, vec![change]).await?;
    Ok(Outcome::Accepted(DesignationWritten {
        designation: after,
        program,
        city,
        revision,
    }))
}

/// A province-reported total as an administrator sets it.
#[derive(Debug, Clone)]
pub struct ProvinceTotalInput {
    /// The branch type.
    pub branch_type: BranchType,
    /// The period.
    pub period: i32,
    /// The total, or none stated.
    pub total: Option<i32>,
    /// Where it comes from.
    pub source: Option<String>,
    /// Why.
    pub note: Option<String>,
}

/// Sets the total the province reports for a branch type and period. Admin only.
pub async fn set_province_total(
    db: &DatabaseConnection,
    ctx: WriteContext<'_>,
    input: ProvinceTotalInput,
) -> AppResult<Outcome<(province_total::Model, revision::Model)>> {
    let token = admin(ctx.actor)?;
    let field = |f: &str| vec!["input".to_owned(), f.to_owned()];
    let mut errors = Vec::new();
    if let Some(total) = input.total
        && !(0..=MAX_COUNT).contains(&total)
    {
        errors.push(bad(
            field("total"),
            format!("total must be between 0 and {MAX_COUNT}, got {total}"),
        ));
    }
    errors.extend(period_error(&field, input.period));
    errors.extend(text_errors(
        &field,
        &[
            ("note", input.note.as_deref()),
            ("source", input.source.as_deref()),
        ],
    ));
    if !errors.is_empty() {
        return Ok(refused(errors));
    }
    let txn = begin_write(db).await?;
    let stored = province_total::Entity::find_by_id((input.branch_type, input.period))
        .one(&txn)
        .await?;
    let model = province_total::Model {
        branch_type: input.branch_type,
        period: input.period,
        total: input.total,
        note: stored.as_ref().and_then(|s| s.note.clone()),
        source: input.source.clone(),
        updated_at: crate::domain::now(),
    };
    let active = province_total::ActiveModel {
        branch_type: Set(model.branch_type),
        period: Set(model.period),
        total: Set(model.total),
        note: Set(model.note.clone()),
        source: Set(model.source.clone()),
        updated_at: Set(model.updated_at),
    };
    if stored.is_some() {
        active.update(&txn).await?;
    } else if let Err(err) = active.insert(&txn).await {
        return lost_creation_race(txn, err, field("period")).await;
    }
    let total_json = |t: &province_total::Model| {
        json!({ "branchType": branch_type_name(t.branch_type), "period": t.period, "total": t.total,
                "note": t.note, "source": t.source, "updatedAt": t.updated_at.to_rfc3339() })
    };
    let revision = insert_revision(
        &txn,
        token,
        ctx,
        RevisionOf {
            kind: "PROVINCE_TOTAL",
            record_key: format!("{}/{}", branch_type_name(input.branch_type), input.period),
            city_code: None,
            branch_type: Some(input.branch_type),
            period: Some(input.period),
            program_code: None,
            before: stored.as_ref().map(total_json),
            after: Some(total_json(&model)),
        },
        input.note.clone(),
    )
    .await?;
    txn.commit().await?;
    Ok(Outcome::Accepted((model, revision)))
}

fn bad(field: Vec<String>, message: String) -> UserError {
    UserError {
        field,
        message,
        code: codes::BAD_USER_INPUT,
    }
}

/// A write transaction. SQLite: take the write lock at BEGIN, so a transaction that read never
/// has to upgrade (which fails at once under contention instead of waiting). PostgreSQL ignores
/// the mode.
async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// What a revision records.
struct RevisionOf {
    kind: &'static str,
    record_key: String,
    city_code: Option<String>,
    branch_type: Option<BranchType>,
    period: Option<i32>,
    program_code: Option<String>,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
}

async fn insert_revision(
    txn: &DatabaseTransaction,
    token: &api_token::Model,
    ctx: WriteContext<'_>,
    of: RevisionOf,
    note: Option<String>,
) -> Result<revision::Model, DbErr> {
    revision::ActiveModel {
        id: NotSet,
        kind: Set(of.kind.into()),
        record_key: Set(of.record_key),
        city_code: Set(of.city_code),
        branch_type: Set(of.branch_type),
        period: Set(of.period),
        program_code: Set(of.program_code),
        before: Set(of.before.map(|v| v.to_string())),
        after: Set(of.after.map(|v| v.to_string())),
        actor_token_id: Set(Some(token.id)),
        actor_name: Set(token.name.clone()),
        actor_role: Set(token.role),
        actor_city_code: Set(token.city_code.clone()),
        at: Set(crate::domain::now()),
        note: Set(note),
        request_id: Set(ctx.request_id.map(str::to_owned)),
    }
    .insert(txn)
    .await
}
