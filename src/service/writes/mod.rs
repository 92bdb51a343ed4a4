//! The write path. Every write, whatever it changes, has one shape:
//!
//! 1. **who may**: the caller's token and its permission ([`writer`], [`admin`],
//!    [`may_write_city`]), refused as UNAUTHENTICATED or FORBIDDEN;
//! 2. **what is valid**: the input's rules that need no database (`domain::write`), refused as
//!    user errors before a transaction begins;
//! 3. **apply**: in one [`UnitOfWork`], read what is stored, check the version and the merged
//!    record, write the change and its typed revision ([`UnitOfWork::revise`]);
//! 4. **finish** ([`UnitOfWork::finish`]): commit and announce the changes as events, or roll
//!    back everything when any part was refused. A unique-key race (two writers creating the
//!    same record) is a VERSION_CONFLICT, never an internal error.
//!
//! One module per aggregate: [`coverage`] (single and bulk), [`designation`],
//! [`province_total`], [`round`], [`city_return`]; [`snapshot`] holds what revisions keep of
//! each.

pub mod city_return;
pub mod coverage;
pub mod designation;
pub mod program;
pub mod province_total;
pub mod publish;
pub mod round;
pub mod snapshot;

use crate::code::Code;
use entity::{RevisionKind, Role, api_token, revision};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, DatabaseConnection, DatabaseTransaction, DbErr, Set,
    SqlErr, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

use crate::domain::Actor;
pub use crate::domain::write::{
    At, CoverageUpdate, DesignationInput, Patch, ProgramInput, ProvinceTotalInput, UserError,
    Words, words,
};
use crate::error::{AppError, AppResult};
use crate::events::{Change, Events};

pub use city_return::{ReturnInput, ReturnWritten, step_return};
pub use coverage::{Written, bulk_update_coverage, update_coverage};
pub use designation::{DesignationWritten, remove_designation, set_designation};
pub use program::{ProgramWritten, set_program};
pub use province_total::{TotalWritten, set_province_total};
pub use publish::{PublishInput, Published, publish};
pub use round::{RoundInput, RoundStep, RoundWritten, step_round};

/// What became of a write: accepted, or refused with nothing written.
#[derive(Debug, Clone)]
pub enum Outcome<T, C> {
    /// Written and committed.
    Accepted(T),
    /// Nothing written.
    Refused(Refusal<C>),
}

/// Why a write was refused, and the stored records the errors concern (for a version
/// conflict: what the other writer saved).
#[derive(Debug, Clone)]
pub struct Refusal<C> {
    /// Why.
    pub errors: Vec<UserError>,
    /// The stored records, where the errors concern them.
    pub current: Vec<C>,
}

impl<C> Refusal<C> {
    /// Refused for `errors`, with no stored record to show.
    pub fn new(errors: Vec<UserError>) -> Self {
        Self {
            errors,
            current: Vec::new(),
        }
    }

    /// A NOT_FOUND on `at`'s `field`.
    pub fn not_found(at: At, field: &str, words: Words) -> Self {
        Self::new(vec![at.error(field, Code::NotFound, words)])
    }

    /// A VERSION_CONFLICT on `at`'s `expectedVersion`, showing `current`.
    pub fn conflict(at: At, words: Words, current: Option<C>) -> Self {
        Self {
            errors: vec![at.error("expectedVersion", Code::VersionConflict, words)],
            current: current.into_iter().collect(),
        }
    }
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

/// FORBIDDEN unless `writer` may write `city_code`'s figures.
pub fn may_write_city(writer: &Writer, city_code: &str) -> AppResult<()> {
    match writer.role {
        Role::Admin => Ok(()),
        Role::CityStaff if writer.city_code.as_deref() == Some(city_code) => Ok(()),
        Role::CityStaff => Err(AppError::Forbidden(format!(
            "a {} token may write only its own city's figures, not {city_code}'s",
            writer.city_code.as_deref().unwrap_or("city-staff")
        ))),
    }
}

/// Who a write's revisions name: a token's holder, or the server itself (the command line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Writer {
    /// The token's id; none for the server.
    pub token_id: Option<i64>,
    /// The token's name, or the server's label (`cli`).
    pub name: String,
    /// What the writer may do.
    pub role: Role,
    /// A city-staff writer's city.
    pub city_code: Option<String>,
}

impl From<&api_token::Model> for Writer {
    fn from(token: &api_token::Model) -> Self {
        Self {
            token_id: Some(token.id),
            name: token.name.clone(),
            role: token.role,
            city_code: token.city_code.clone(),
        }
    }
}

impl Writer {
    /// The server itself, with an administrator's rights: the command line on the server.
    pub fn server(label: &str) -> Self {
        Self {
            token_id: None,
            name: label.to_owned(),
            role: Role::Admin,
            city_code: None,
        }
    }

    /// The writer as records keep it in `updatedBy`: `NAME (token ID)` for a token's holder
    /// (see [`crate::domain::write::is_token_label`]), the server's label otherwise.
    pub fn label(&self) -> String {
        match self.token_id {
            Some(id) => format!("{} (token {id})", self.name),
            None => self.name.clone(),
        }
    }
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

/// What a revision records, besides who and when.
#[derive(Debug, Clone)]
pub struct RevisionOf {
    /// The kind of record.
    pub kind: RevisionKind,
    /// The record's key (see [`snapshot`]).
    pub record_key: String,
    /// The record's city, if it has one.
    pub city_code: Option<String>,
    /// The record's branch type, if it has one.
    pub branch_type: Option<entity::BranchType>,
    /// The record's period, if it has one.
    pub period: Option<i32>,
    /// The record's programme, if it has one.
    pub program_code: Option<String>,
    /// The snapshot before, as JSON; none for a creation.
    pub before: Option<String>,
    /// The snapshot after, as JSON; none for a removal.
    pub after: Option<String>,
    /// The coverage record's id, for coverage changes (subscribers receive it).
    pub record_id: Option<i64>,
}

impl RevisionOf {
    /// A change of kind `kind` to the record `record_key`, from `before` to `after`; the
    /// record's city, type, period, programme and id are set by the caller where it has them.
    pub fn new(
        kind: RevisionKind,
        record_key: String,
        before: Option<String>,
        after: Option<String>,
    ) -> Self {
        Self {
            kind,
            record_key,
            city_code: None,
            branch_type: None,
            period: None,
            program_code: None,
            before,
            after,
            record_id: None,
        }
    }
}

/// One write's transaction, its revisions and the events they become once committed.
pub struct UnitOfWork<'a> {
    txn: DatabaseTransaction,
    events: &'a Events,
    request_id: Option<&'a str>,
    writer: Writer,
    changes: Vec<Change>,
}

/// One write by `writer`: refused with `errors` when there are any (nothing begins), else
/// `apply` in a new unit of work, finished: committed and announced, or rolled back with its
/// refusal.
pub async fn run<T, C>(
    db: &DatabaseConnection,
    ctx: &WriteContext<'_>,
    writer: Writer,
    errors: Vec<UserError>,
    apply: impl AsyncFnOnce(&mut UnitOfWork<'_>) -> Result<Result<T, Refusal<C>>, DbErr>,
) -> AppResult<Outcome<T, C>> {
    if !errors.is_empty() {
        return Ok(Outcome::Refused(Refusal::new(errors)));
    }
    let mut uow = UnitOfWork::begin(db, ctx.events, ctx.request_id, writer).await?;
    let applied = apply(&mut uow).await;
    uow.finish(applied, At::INPUT).await
}

impl<'a> UnitOfWork<'a> {
    /// Begins a write transaction for `writer`, announced through `events`. SQLite: takes the
    /// write lock at BEGIN, so a transaction that read never has to upgrade (which fails at once
    /// under contention instead of waiting). PostgreSQL ignores the mode.
    pub async fn begin(
        db: &DatabaseConnection,
        events: &'a Events,
        request_id: Option<&'a str>,
        writer: Writer,
    ) -> Result<Self, DbErr> {
        let txn = db
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await?;
        Ok(Self {
            txn,
            events,
            request_id,
            writer,
            changes: Vec::new(),
        })
    }

    /// The transaction, to read and write in.
    pub fn txn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    /// Who writes.
    pub fn writer(&self) -> &Writer {
        &self.writer
    }

    /// Writes the revision of a change, to be announced once the unit commits.
    pub async fn revise(
        &mut self,
        of: RevisionOf,
        note: Option<String>,
    ) -> Result<revision::Model, DbErr> {
        let revision = revision::ActiveModel {
            id: NotSet,
            kind: Set(of.kind),
            record_key: Set(of.record_key),
            city_code: Set(of.city_code),
            branch_type: Set(of.branch_type),
            period: Set(of.period),
            program_code: Set(of.program_code),
            before: Set(of.before),
            after: Set(of.after),
            actor_token_id: Set(self.writer.token_id),
            actor_name: Set(self.writer.name.clone()),
            actor_role: Set(self.writer.role),
            actor_city_code: Set(self.writer.city_code.clone()),
            at: Set(crate::domain::now()),
            note: Set(note),
            request_id: Set(self.request_id.map(str::to_owned)),
        }
        .insert(&self.txn)
        .await?;
        self.changes.push(Change {
            record_id: of.record_id,
            revision: revision.clone(),
        });
        Ok(revision)
    }

    /// Announces, once the unit commits, that coverage record `record_id` changed as `revision`
    /// (an earlier write's) says: publishing makes a draft public without changing it.
    pub fn announce(&mut self, record_id: i64, revision: revision::Model) {
        self.changes.push(Change {
            record_id: Some(record_id),
            revision,
        });
    }

    /// Ends the unit: commits and announces every change when `applied` is accepted; rolls
    /// everything back when it was refused or failed. A unique-key violation (another writer
    /// created the same record first; PostgreSQL lets two transactions both find it missing)
    /// becomes a VERSION_CONFLICT on `race_at`'s `expectedVersion`.
    pub async fn finish<T, C>(
        self,
        applied: Result<Result<T, Refusal<C>>, DbErr>,
        race_at: At,
    ) -> AppResult<Outcome<T, C>> {
        self.end(applied, race_at, false).await
    }

    /// As [`UnitOfWork::finish`], but a `dry_run` rolls an accepted write back too: the
    /// outcome is what the write would have been, and nothing is kept or announced.
    pub async fn end<T, C>(
        self,
        applied: Result<Result<T, Refusal<C>>, DbErr>,
        race_at: At,
        dry_run: bool,
    ) -> AppResult<Outcome<T, C>> {
        match applied {
            Ok(Ok(value)) if dry_run => {
                self.txn.rollback().await?;
                Ok(Outcome::Accepted(value))
            }
            Ok(Ok(value)) => {
                self.events.commit(self.txn, self.changes).await?;
                Ok(Outcome::Accepted(value))
            }
            Ok(Err(refusal)) => {
                self.txn.rollback().await?;
                Ok(Outcome::Refused(refusal))
            }
            Err(err) if is_unique_violation(&err) => {
                self.txn.rollback().await?;
                Ok(Outcome::Refused(Refusal::conflict(
                    race_at,
                    words(
                        "another writer created this record first; read it and send the change again",
                        "另一位填报人已先建立这条记录；请重新读取后再提交修改",
                    ),
                    None,
                )))
            }
            Err(err) => Err(err.into()),
        }
    }
}

fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}
