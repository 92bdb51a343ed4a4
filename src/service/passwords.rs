//! Passwords and the waits after wrong ones.
//!
//! - **Argon2id** with fixed parameters (m = 19,456 KiB, t = 2, p = 1: OWASP's first choice),
//!   stored as a PHC string. Hashing and checking run on blocking threads, at most
//!   `concurrency` at a time per instance ([`Passwords`]), so that a flood of sign-ins cannot take
//!   every core; one that waits longer than [`PLACE_WAIT`] for a place is answered `BUSY`.
//! - An unknown login is checked against a hash of nothing, so that it costs what a wrong
//!   password costs and the answer (and its time) is the same.
//! - **Waits** ([`Attempts`]): after [`FREE_FAILURES`] wrong sign-ins in a row, an account and a
//!   client address each wait before the next try, the wait doubling from one second up to
//!   [`MAX_WAIT`]; a right password ends the account's wait. Kept in the database, so that
//!   every instance on it counts the same failures (several instances allow no more guesses
//!   than one); a key whose last failure is an hour old is forgotten.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::{DateTime, Utc};
use entity::sign_in_failure::{self as failure, Column as C};
use sea_orm::sea_query::{Expr, ExprTrait as _, OnConflict, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, TransactionTrait,
};
use tokio::sync::Semaphore;

/// Argon2id's memory (KiB), passes and lanes.
pub const ARGON2_PARAMS: (u32, u32, u32) = (19 * 1024, 2, 1);

/// The longest a sign-in waits for a hashing place before it is answered `BUSY`.
pub const PLACE_WAIT: Duration = Duration::from_secs(5);

/// Wrong sign-ins in a row that cost nothing more.
pub const FREE_FAILURES: u32 = 5;

/// The longest wait.
pub const MAX_WAIT: Duration = Duration::from_secs(15 * 60);

/// A key with no failure for this long is forgotten (longer than [`MAX_WAIT`], so that
/// forgetting never ends a wait).
const FORGET_AFTER: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// Every place for hashing on this instance stayed taken for [`PLACE_WAIT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

/// The instance's password hasher (cheap to clone).
#[derive(Clone)]
pub struct Passwords {
    places: Arc<Semaphore>,
    /// A hash of nothing anyone can type, checked for unknown logins.
    decoy: Arc<String>,
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passwords")
            .field("places", &self.places.available_permits())
            .finish_non_exhaustive()
    }
}

fn argon2() -> Argon2<'static> {
    let (m, t, p) = ARGON2_PARAMS;
    // The parameters are constants within Argon2's ranges; the default is the same triple.
    let params = Params::new(m, t, p, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// `password`'s PHC string, on this thread.
fn hash_now(password: &[u8]) -> Option<String> {
    match argon2().hash_password(password) {
        Ok(hash) => Some(hash.to_string()),
        Err(err) => {
            tracing::error!(%err, "a password could not be hashed");
            None
        }
    }
}

impl Passwords {
    /// A hasher with `concurrency` places (at least one).
    pub fn new(concurrency: usize) -> Self {
        let decoy = hash_now(b"\0 no password is this").unwrap_or_default();
        Self {
            places: Arc::new(Semaphore::new(concurrency.max(1))),
            decoy: Arc::new(decoy),
        }
    }

    async fn place(&self) -> Result<tokio::sync::OwnedSemaphorePermit, Busy> {
        let acquire = Arc::clone(&self.places).acquire_owned();
        match tokio::time::timeout(PLACE_WAIT, acquire).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(Busy),
        }
    }

    /// `password`'s PHC string; `None` only if Argon2 failed (logged).
    pub async fn hash(&self, password: String) -> Result<Option<String>, Busy> {
        let permit = self.place().await?;
        let hashed = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            hash_now(password.as_bytes())
        })
        .await
        .unwrap_or(None);
        Ok(hashed)
    }

    /// Whether `password` is the one `stored` hashes; an absent `stored` (an unknown login) is
    /// checked against the decoy, at the same cost, and is never right.
    pub async fn verify(&self, stored: Option<String>, password: String) -> Result<bool, Busy> {
        let permit = self.place().await?;
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| self.decoy.as_ref().clone());
        let right = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            PasswordHash::new(&stored)
                .is_ok_and(|hash| argon2().verify_password(password.as_bytes(), &hash).is_ok())
        })
        .await
        .unwrap_or(false);
        Ok(known && right)
    }
}

/// Who failed: an account's login or a client's address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AttemptKey {
    /// The login as typed (lower-cased), whether or not an account has it.
    Login(String),
    /// The client's address.
    Address(IpAddr),
}

impl AttemptKey {
    /// The key as stored: `login:zhangsan`, `address:10.0.0.1`.
    fn stored(&self) -> String {
        match self {
            AttemptKey::Login(login) => format!("login:{login}"),
            AttemptKey::Address(address) => format!("address:{address}"),
        }
    }
}

/// Wrong sign-ins per account and per address, and the waits they earned: in the database
/// (`sign_in_failures`), so that every instance on it counts the same failures.
#[derive(Debug, Clone, Copy, Default)]
pub struct Attempts;

impl Attempts {
    /// How long the longest-waiting of `keys` must still wait at `now`; `None`: try now.
    pub async fn wait(
        &self,
        db: &impl ConnectionTrait,
        keys: &[AttemptKey],
        now: DateTime<Utc>,
    ) -> Result<Option<Duration>, DbErr> {
        let waiting = failure::Entity::find()
            .filter(C::Key.is_in(keys.iter().map(AttemptKey::stored)))
            .filter(C::WaitUntil.gt(now))
            .all(db)
            .await?;
        Ok(waiting
            .iter()
            .filter_map(|f| (f.wait_until? - now).to_std().ok())
            .filter(|left| !left.is_zero())
            .max())
    }

    /// One more wrong sign-in for each of `keys`, at `now`, each counted by one statement that
    /// holds its row, so that failures on several instances at once are all counted.
    pub async fn failed(
        &self,
        db: &DatabaseConnection,
        keys: &[AttemptKey],
        now: DateTime<Utc>,
    ) -> Result<(), DbErr> {
        let forget = now - FORGET_AFTER;
        // Rows whose last failure is older than the longest wait hold nothing anyone waits for.
        failure::Entity::delete_many()
            .filter(C::LastFailedAt.lt(forget))
            .exec(db)
            .await?;
        for key in keys {
            let txn = db.begin().await?;
            let stored = key.stored();
            let counted = Expr::case(
                Expr::col((failure::Entity, C::LastFailedAt)).lt(forget),
                Expr::val(1),
            )
            .finally(Expr::col((failure::Entity, C::Failures)).add(1));
            let mut insert = Query::insert();
            insert
                .into_table(failure::Entity)
                .columns([C::Key, C::Failures, C::LastFailedAt])
                .values([stored.clone().into(), 1.into(), now.into()])
                .map_err(|e| DbErr::Custom(e.to_string()))?
                .on_conflict(
                    OnConflict::column(C::Key)
                        .value(C::Failures, counted)
                        .value(C::LastFailedAt, now)
                        .to_owned(),
                )
                .returning_col(C::Failures);
            let row = txn
                .query_one_raw(txn.get_database_backend().build(&insert))
                .await?;
            let count: i32 = match row {
                Some(row) => row.try_get("", "failures")?,
                None => 1,
            };
            let count = u32::try_from(count).unwrap_or(0);
            let until = (count > FREE_FAILURES).then(|| now + wait_after(count));
            failure::Entity::update_many()
                .col_expr(C::WaitUntil, Expr::value(until))
                .filter(C::Key.eq(stored))
                .exec(&txn)
                .await?;
            txn.commit().await?;
        }
        let waiting = failure::Entity::find()
            .filter(C::WaitUntil.gt(now))
            .count(db)
            .await?;
        metrics::gauge!("coverage_api_sign_in_waiting").set(waiting as f64);
        Ok(())
    }

    /// A right password for `key`: its failures are forgotten.
    pub async fn succeeded(
        &self,
        db: &impl ConnectionTrait,
        key: &AttemptKey,
    ) -> Result<(), DbErr> {
        failure::Entity::delete_by_id(key.stored()).exec(db).await?;
        Ok(())
    }
}

/// The wait after the `count`th failure in a row: 1 s after the first beyond the free ones,
/// doubling, at most [`MAX_WAIT`].
pub fn wait_after(count: u32) -> Duration {
    let over = Ord::min(count.saturating_sub(FREE_FAILURES + 1), 20);
    Duration::from_secs(1u64 << over).min(MAX_WAIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_begin_after_the_free_failures_double_and_stop_at_the_most() {
        assert_eq!(wait_after(6), Duration::from_secs(1));
        assert_eq!(wait_after(7), Duration::from_secs(2));
        assert_eq!(wait_after(10), Duration::from_secs(16));
        assert_eq!(wait_after(40), MAX_WAIT);
    }

    #[tokio::test]
    async fn a_password_checks_against_its_hash_and_an_unknown_login_never_does() {
        let passwords = Passwords::new(1);
        let hash = passwords.hash("correct horse".into()).await.ok().flatten();
        let hash = hash.unwrap_or_default();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        let right = passwords
            .verify(Some(hash.clone()), "correct horse".into())
            .await;
        let wrong = passwords.verify(Some(hash), "correct horses".into()).await;
        let unknown = passwords
            .verify(None, "\0 no password is this".into())
            .await;
        assert_eq!((right, wrong, unknown), (Ok(true), Ok(false), Ok(false)));
    }
}
