//! Sign-in lockout: 5 failed attempts (password or second factor) on one account within 15
//! minutes lock it for 15 minutes. The counter lives in the shared read database, so every
//! node sees one count, and it survives a restart. Each step is one conditional statement,
//! so two nodes counting at once neither lose a failure nor both announce the lock.
//!
//! Unknown emails get a counter too (keyed by the email's blind index), so an attempt on an
//! unknown account does the same database work as one on a real account.
//! Must not say why a sign-in failed: callers answer every failure alike.

use time::{Duration, OffsetDateTime};
use uuid::Uuid;
use vigil_projections::ReadDb;
use vigil_projections::read::micros;

use crate::service::{ApiError, ApiResult};

/// Failures that lock an account.
pub const MAX_FAILURES: i64 = 5;
/// The window they are counted in.
pub const WINDOW: Duration = Duration::minutes(15);
/// How long a lock lasts.
pub const LOCK: Duration = Duration::minutes(15);

/// Whose failures count together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThrottleKey {
    /// A real account.
    Account(Uuid),
    /// An email with no account behind it (its blind index).
    UnknownEmail(String),
    /// Text that is not an email at all.
    Malformed,
}

impl ThrottleKey {
    /// The stored key.
    pub fn key(&self) -> String {
        match self {
            ThrottleKey::Account(user) => format!("u:{user}"),
            ThrottleKey::UnknownEmail(index) => format!("e:{index}"),
            ThrottleKey::Malformed => "x:malformed".into(),
        }
    }

    fn user(&self) -> Option<String> {
        match self {
            ThrottleKey::Account(user) => Some(user.to_string()),
            _ => None,
        }
    }
}

/// Whether `key` is locked at `now`.
///
/// # Errors
/// Database errors.
pub async fn locked(db: &ReadDb, key: &ThrottleKey, now: OffsetDateTime) -> ApiResult<bool> {
    let until: Option<i64> = sqlx::query_scalar("select locked_until from login_throttle where throttle_key = $1")
        .bind(key.key())
        .fetch_optional(db.pool())
        .await
        .map_err(ApiError::internal)?;
    Ok(until.is_some_and(|u| u > micros(now)))
}

/// Counts one failure; returns the end of the lock when this failure started one.
///
/// One statement whatever the state, so a failure against a locked account costs what any
/// other costs: a window that ended starts again at 1; the failure that reaches the limit on
/// an unlocked account starts the lock and the count again (so attempts while locked do not
/// renew it); the lock's end comes back, and equals ours only if this statement set it.
///
/// # Errors
/// Database errors.
pub async fn record_failure(db: &ReadDb, key: &ThrottleKey, now: OffsetDateTime) -> ApiResult<Option<OffsetDateTime>> {
    let now_us = micros(now);
    let until = now + LOCK;
    let until_us = micros(until);
    let locked_until: i64 = sqlx::query_scalar(
        "insert into login_throttle (throttle_key, user_id, window_start, failures, locked_until) \
         values ($1, $2, $3, 1, 0) on conflict (throttle_key) do update set \
         locked_until = case when login_throttle.locked_until <= $3 and \
             (case when login_throttle.window_start <= $4 then 1 else login_throttle.failures + 1 end) >= $6 \
             then $5 else login_throttle.locked_until end, \
         failures = case when login_throttle.locked_until <= $3 and \
             (case when login_throttle.window_start <= $4 then 1 else login_throttle.failures + 1 end) >= $6 \
             then 0 when login_throttle.window_start <= $4 then 1 else login_throttle.failures + 1 end, \
         window_start = case when login_throttle.window_start <= $4 or (login_throttle.locked_until <= $3 and \
             (case when login_throttle.window_start <= $4 then 1 else login_throttle.failures + 1 end) >= $6) \
             then $3 else login_throttle.window_start end \
         returning locked_until",
    )
    .bind(key.key())
    .bind(key.user())
    .bind(now_us)
    .bind(micros(now - WINDOW))
    .bind(until_us)
    .bind(MAX_FAILURES)
    .fetch_one(db.pool())
    .await
    .map_err(ApiError::internal)?;
    Ok((locked_until == until_us).then_some(until))
}

/// Forgets the failures of `key` after a successful sign-in (a lock stays until it ends).
///
/// # Errors
/// Database errors.
pub async fn clear_failures(db: &ReadDb, key: &ThrottleKey, now: OffsetDateTime) -> ApiResult<()> {
    sqlx::query("delete from login_throttle where throttle_key = $1 and locked_until <= $2")
        .bind(key.key())
        .bind(micros(now))
        .execute(db.pool())
        .await
        .map_err(ApiError::internal)?;
    Ok(())
}

/// Lifts a lock early (staff); returns whether there was one.
///
/// # Errors
/// Database errors.
pub async fn unlock(db: &ReadDb, user: Uuid, now: OffsetDateTime) -> ApiResult<bool> {
    let lifted = sqlx::query("delete from login_throttle where throttle_key = $1 and locked_until > $2")
        .bind(ThrottleKey::Account(user).key())
        .bind(micros(now))
        .execute(db.pool())
        .await
        .map_err(ApiError::internal)?;
    Ok(lifted.rows_affected() > 0)
}

/// Drops counters of unknown emails whose window and lock ended (they name no account and
/// would otherwise pile up).
///
/// # Errors
/// Database errors.
pub async fn prune(db: &ReadDb, now: OffsetDateTime) -> ApiResult<()> {
    sqlx::query("delete from login_throttle where user_id is null and window_start <= $1 and locked_until <= $2")
        .bind(micros(now - WINDOW))
        .bind(micros(now))
        .execute(db.pool())
        .await
        .map_err(ApiError::internal)?;
    Ok(())
}
