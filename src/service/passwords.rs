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
//!   [`MAX_WAIT`]; a right password ends the account's wait. Kept per instance, in memory, for
//!   at most [`MAX_KEYS`] accounts and addresses.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

/// Argon2id's memory (KiB), passes and lanes.
pub const ARGON2_PARAMS: (u32, u32, u32) = (19 * 1024, 2, 1);

/// The longest a sign-in waits for a hashing place before it is answered `BUSY`.
pub const PLACE_WAIT: Duration = Duration::from_secs(5);

/// Wrong sign-ins in a row that cost nothing more.
pub const FREE_FAILURES: u32 = 5;

/// The longest wait.
pub const MAX_WAIT: Duration = Duration::from_secs(15 * 60);

/// A key with no failure for this long is forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);

/// The most accounts and addresses remembered at once.
pub const MAX_KEYS: usize = 100_000;

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

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
    until: Option<Instant>,
}

/// Wrong sign-ins per account and per address, and the waits they earned (cheap to clone).
#[derive(Debug, Clone, Default)]
pub struct Attempts {
    keys: Arc<Mutex<HashMap<AttemptKey, Failures>>>,
}

impl Attempts {
    /// How long the longest-waiting of `keys` must still wait at `now`; `None`: try now.
    pub fn wait(&self, keys: &[AttemptKey], now: Instant) -> Option<Duration> {
        let Ok(map) = self.keys.lock() else {
            return None;
        };
        keys.iter()
            .filter_map(|key| map.get(key)?.until)
            .filter_map(|until| until.checked_duration_since(now))
            .filter(|left| !left.is_zero())
            .max()
    }

    /// One more wrong sign-in for each of `keys`, at `now`.
    pub fn failed(&self, keys: &[AttemptKey], now: Instant) {
        let Ok(mut map) = self.keys.lock() else {
            return;
        };
        if map.len() >= MAX_KEYS {
            map.retain(|_, f| now.duration_since(f.last) < FORGET_AFTER);
        }
        for key in keys {
            if map.len() >= MAX_KEYS && !map.contains_key(key) {
                // Full of recent failures: this key is not remembered (the others still are).
                metrics::counter!("coverage_api_sign_in_keys_dropped_total").increment(1);
                continue;
            }
            let entry = map.entry(key.clone()).or_insert(Failures {
                count: 0,
                last: now,
                until: None,
            });
            if now.duration_since(entry.last) >= FORGET_AFTER {
                entry.count = 0;
            }
            entry.count += 1;
            entry.last = now;
            entry.until = (entry.count > FREE_FAILURES).then(|| now + wait_after(entry.count));
        }
        metrics::gauge!("coverage_api_sign_in_waiting").set(waiting(&map, now) as f64);
    }

    /// A right password for `key`: its failures are forgotten.
    pub fn succeeded(&self, key: &AttemptKey, now: Instant) {
        if let Ok(mut map) = self.keys.lock() {
            map.remove(key);
            metrics::gauge!("coverage_api_sign_in_waiting").set(waiting(&map, now) as f64);
        }
    }
}

/// The wait after the `count`th failure in a row: 1 s after the first beyond the free ones,
/// doubling, at most [`MAX_WAIT`].
pub fn wait_after(count: u32) -> Duration {
    let over = count.saturating_sub(FREE_FAILURES + 1).min(20);
    Duration::from_secs(1u64 << over).min(MAX_WAIT)
}

fn waiting(map: &HashMap<AttemptKey, Failures>, now: Instant) -> usize {
    map.values()
        .filter(|f| f.until.is_some_and(|until| until > now))
        .count()
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

    #[test]
    fn an_account_waits_after_its_failures_until_a_right_password() {
        let attempts = Attempts::default();
        let now = Instant::now();
        let keys = [
            AttemptKey::Login("zhangsan".into()),
            AttemptKey::Address(IpAddr::from([10, 0, 0, 1])),
        ];
        for _ in 0..FREE_FAILURES {
            attempts.failed(&keys, now);
        }
        assert_eq!(attempts.wait(&keys, now), None, "the free failures");
        attempts.failed(&keys, now);
        assert_eq!(attempts.wait(&keys, now), Some(Duration::from_secs(1)));
        assert_eq!(
            attempts.wait(&keys[..1], now + Duration::from_secs(2)),
            None
        );
        attempts.succeeded(&keys[0], now);
        assert_eq!(
            attempts.wait(&keys[..1], now),
            None,
            "the account's wait ends"
        );
        assert_eq!(
            attempts.wait(&keys[1..], now),
            Some(Duration::from_secs(1)),
            "the address still waits"
        );
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
