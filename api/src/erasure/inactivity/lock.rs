//! One runner of the inactivity check at a time among every process sharing the store.
//! - **Postgres**: `pg_try_advisory_lock` on a connection taken out of the pool for the run.
//!   The lock belongs to the database session, so the connection is never given back to the
//!   pool (it would carry the lock into whatever borrows it next, and every node's check
//!   would find it taken until that connection closed): it is closed after the run, and the
//!   lock with it, also when the run fails or its task is dropped.
//! - **SQLite**: an exclusive `flock` on `inactivity.lock` in the data dir (as migrations do
//!   with `migrate.lock`); the kernel drops it with the file, also when the process dies.
//!
//! Owns the lock only. Must not wait for it: a node that finds it taken skips this round, since
//! the runner holding it does the same work.

use std::fs::{File, TryLockError};

use sqlx::Any;
use sqlx::pool::PoolConnection;
use vigil_projections::{Backend, ReadDb};

use crate::service::{ApiError, ApiResult};

/// The advisory lock's key: any constant other code does not use ("vigil-inactivity").
const ADVISORY_KEY: i64 = 0x7669_6769_6c2d_696e;
/// The lock file in a SQLite data dir.
pub const LOCK_FILE: &str = "inactivity.lock";

/// Held while the check runs; dropping it releases the lock. The backup job takes one of its
/// own the same way ([`RunLock::try_take_for`]).
pub(crate) enum RunLock {
    Postgres(PoolConnection<Any>, i64),
    Sqlite {
        /// Open while the lock is held; never read.
        _file: File,
    },
}

impl RunLock {
    /// The lock, or `None` when another runner holds it.
    ///
    /// # Errors
    /// Database and file errors.
    pub(super) async fn try_take(db: &ReadDb) -> ApiResult<Option<RunLock>> {
        Self::try_take_for(db, ADVISORY_KEY, LOCK_FILE).await
    }

    /// The lock of another one-at-a-time job: its own advisory key and lock file name.
    ///
    /// # Errors
    /// Database and file errors.
    pub(crate) async fn try_take_for(db: &ReadDb, key: i64, file_name: &'static str) -> ApiResult<Option<RunLock>> {
        match db.backend() {
            Backend::Postgres => {
                let mut conn = db.pool().acquire().await.map_err(ApiError::internal)?;
                conn.close_on_drop();
                let taken: bool = sqlx::query_scalar("select pg_try_advisory_lock($1)")
                    .bind(key)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(ApiError::internal)?;
                Ok(taken.then_some(RunLock::Postgres(conn, key)))
            }
            Backend::Sqlite => {
                let dir = db
                    .sqlite_dir()
                    .ok_or_else(|| ApiError::internal(anyhow::anyhow!("the read database has no data dir")))?;
                let path = dir.join(file_name);
                let file = tokio::task::spawn_blocking(move || {
                    let file = std::fs::OpenOptions::new()
                        .create(true)
                        .truncate(false)
                        .write(true)
                        .open(&path)?;
                    match file.try_lock() {
                        Ok(()) => Ok(Some(file)),
                        Err(TryLockError::WouldBlock) => Ok(None),
                        Err(TryLockError::Error(e)) => Err(e),
                    }
                })
                .await
                .map_err(ApiError::internal)?
                .map_err(ApiError::internal)?;
                Ok(file.map(|file| RunLock::Sqlite { _file: file }))
            }
        }
    }

    /// Releases the lock now (dropping does too, a moment later on Postgres, where the
    /// connection closes on a task of sqlx's).
    pub(crate) async fn release(self) {
        if let RunLock::Postgres(mut conn, key) = self {
            // Closing the connection would release it as well; unlocking first lets the next
            // runner in without waiting for the close.
            let _ = sqlx::query("select pg_advisory_unlock($1)")
                .bind(key)
                .execute(&mut *conn)
                .await;
        }
    }
}
