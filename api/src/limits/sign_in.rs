//! Sign-in attempts, limited across every server sharing the store: per client address and
//! per account (the email's blind index), because these limits protect accounts against
//! guessing, which N servers must not multiply. Each key holds its GCRA "theoretical arrival
//! time" in the read database (`rate_limits`), moved by one conditional upsert per attempt:
//! the row changes only when the attempt fits, so two servers racing on one key serialise on
//! the row and never admit more than the rate together.

use std::num::NonZeroU32;

use sqlx::Row;
use vigil_projections::read::micros;
use vigil_projections::{Backend, ProjectionError, ReadDb};

use super::rate::Rate;

/// Expired keys are swept at most this often (by whichever attempt comes next).
const SWEEP_EVERY_MICROS: i64 = 60_000_000;

/// The cluster-wide sign-in limit.
pub struct SignInLimit {
    db: ReadDb,
    rate: Rate,
    last_sweep: std::sync::atomic::AtomicI64,
}

impl SignInLimit {
    /// `rate` per key, kept in `db`.
    pub fn new(db: ReadDb, rate: Rate) -> Self {
        SignInLimit {
            db,
            rate,
            last_sweep: std::sync::atomic::AtomicI64::new(0),
        }
    }

    /// Spends `n` attempts of `key` (already a keyed hash); `Ok(Err(seconds))` when they do
    /// not fit.
    ///
    /// # Errors
    /// Database errors (the caller fails closed).
    pub async fn take(&self, key: &str, n: NonZeroU32) -> Result<Result<(), u64>, ProjectionError> {
        let now = micros(time::OffsetDateTime::now_utc());
        let period = i64::try_from(self.rate.period.as_micros()).unwrap_or(i64::MAX);
        let interval = i64::try_from(self.rate.interval().as_micros()).unwrap_or(i64::MAX);
        let cost = interval.saturating_mul(i64::from(n.get()));
        if cost > period {
            // More at once than the whole burst: never allowed.
            return Ok(Err(self.rate.period.as_secs().max(1)));
        }
        self.sweep(now).await?;
        let later = match self.db.backend() {
            Backend::Postgres => "greatest(rate_limits.tat, $2)",
            Backend::Sqlite => "max(rate_limits.tat, $2)",
        };
        let sql = format!(
            "insert into rate_limits (limit_key, tat) values ($1, $2 + $3) \
             on conflict (limit_key) do update set tat = {later} + $3 \
             where {later} + $3 - $2 <= $4 returning tat"
        );
        let moved = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(key.to_owned())
            .bind(now)
            .bind(cost)
            .bind(period)
            .fetch_optional(self.db.pool())
            .await?;
        if moved.is_some() {
            return Ok(Ok(()));
        }
        let tat: i64 = sqlx::query("select tat from rate_limits where limit_key = $1")
            .bind(key.to_owned())
            .fetch_optional(self.db.pool())
            .await?
            .map(|row| row.try_get::<i64, _>("tat"))
            .transpose()?
            .unwrap_or(now);
        let wait = tat
            .max(now)
            .saturating_add(cost)
            .saturating_sub(period)
            .saturating_sub(now);
        let wait = u64::try_from(wait).unwrap_or(0);
        Ok(Err(super::node::seconds(std::time::Duration::from_micros(wait)).max(1)))
    }

    /// Deletes keys whose bucket is full again (their row says nothing any more).
    async fn sweep(&self, now: i64) -> Result<(), ProjectionError> {
        use std::sync::atomic::Ordering;
        let last = self.last_sweep.load(Ordering::Relaxed);
        if now - last < SWEEP_EVERY_MICROS
            || self
                .last_sweep
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return Ok(());
        }
        sqlx::query("delete from rate_limits where tat < $1")
            .bind(now)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }
}
