//! The read database: `read.db` beside the event log on SQLite, schema `vigil_read` on
//! Postgres (role `vigil_projector` for the runner and authentication state, `vigil_reader`
//! with row-level security for health reads, ADR 0006). One `sqlx::Any` pool serves both, because every read-model
//! column is text, bigint or JSON text, so one SQL text runs on either backend.
//! Must not touch the event log or the key vault: those are the store's.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor};
use vigil_eventstore::{FALLBACK_AUTOCHECKPOINT_PAGES, Location, WalCheckpointer, redact_url};

use crate::error::{ProjectionError, Result};
use crate::read::{MintSlot, SubjectMint};

/// Migrations of `read.db`. On Postgres the read schema ships with the store's migrations.
pub static SQLITE_READ_MIGRATOR: Migrator = sqlx::migrate!("../migrations/sqlite/read");

/// Which SQL dialect the pool speaks, for the few statements that differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A pool on the read database.
#[derive(Debug, Clone)]
pub struct ReadDb {
    pool: AnyPool,
    backend: Backend,
    /// `read.db` and its background WAL checkpointer (SQLite only).
    file: Option<(PathBuf, Arc<WalCheckpointer>)>,
    /// The one [`SubjectMint`] of this database, for the access gate.
    mint: MintSlot,
    /// Postgres: connections as `vigil_reader`, for reads scoped to one subject (row-level
    /// security); everything else uses `pool`, as `vigil_projector`.
    subjects: Option<AnyPool>,
    /// Postgres: how to connect as the tables' owner (no `set role`), for the vacuum after an
    /// erasure: only a table's owner may vacuum it.
    owner: Option<AnyConnectOptions>,
}

impl ReadDb {
    /// The only [`SubjectMint`] of this database and its clones: `Some` once, then `None`.
    /// Whoever takes it decides who reads whose health data (the api's access gate).
    pub fn take_subject_mint(&self) -> Option<SubjectMint> {
        self.mint.take()
    }

    /// Connects (and on SQLite migrates `read.db`). On Postgres the store's migrations must
    /// have run, which opening an `EventStore` does.
    ///
    /// # Errors
    /// Connection and migration errors; a malformed URL as `InvalidInput`.
    pub async fn open(location: &Location, size: u32) -> Result<Self> {
        sqlx::any::install_default_drivers();
        match location {
            Location::Sqlite(dir) => {
                let path = dir.join("read.db");
                let native = SqliteConnectOptions::new()
                    .filename(&path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .busy_timeout(Duration::from_secs(10));
                let _only_we_migrate = vigil_eventstore::migration_lock(dir).await?;
                let migrate_pool = SqlitePoolOptions::new().max_connections(1).connect_with(native).await?;
                SQLITE_READ_MIGRATOR.run(&migrate_pool).await?;
                migrate_pool.close().await;
                let url = format!("sqlite://{}", path.display());
                let options = AnyConnectOptions::from_str(&url)
                    .map_err(|e| ProjectionError::InvalidInput(format!("read database path: {e}")))?
                    .disable_statement_logging();
                let pool = AnyPoolOptions::new()
                    .max_connections(size.max(1))
                    .acquire_timeout(Duration::from_secs(10))
                    // No liveness ping per acquire: an embedded file cannot hang up, and
                    // the ping is a round trip through the connection's worker thread.
                    .test_before_acquire(false)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            // NORMAL is enough: read models are rebuilt from the log, and WAL
                            // keeps them consistent with their checkpoint after a crash.
                            // secure_delete overwrites an erased person's rows on disk.
                            // temp_store: statement journals (copies of plaintext read-model
                            // pages) and sort spills stay in memory, never in temporary files.
                            // Checkpoints are the background checkpointer's; the runner's
                            // commits only fall back to one if it stalls.
                            conn.execute(sqlx::AssertSqlSafe(format!(
                                "pragma journal_mode = wal; pragma synchronous = normal; \
                                 pragma busy_timeout = 10000; pragma secure_delete = on; \
                                 pragma temp_store = memory; \
                                 pragma wal_autocheckpoint = {FALLBACK_AUTOCHECKPOINT_PAGES}"
                            )))
                            .await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?;
                let checkpointer = Arc::new(WalCheckpointer::spawn(path.clone()));
                Ok(ReadDb {
                    pool,
                    backend: Backend::Sqlite,
                    file: Some((path, checkpointer)),
                    mint: MintSlot::default(),
                    subjects: None,
                    owner: None,
                })
            }
            Location::Postgres(url) => {
                let options = AnyConnectOptions::from_str(url)
                    .map_err(|e| ProjectionError::InvalidInput(format!("database url {}: {e}", redact_url(url))))?
                    .disable_statement_logging();
                // The runner and the authentication state: every row (ADR 0006).
                let pool = pg_pool(
                    options.clone(),
                    size,
                    "set role vigil_projector; set search_path to vigil_read",
                )
                .await?;
                // Health reads, each in a transaction scoped to one subject (see `read::subject`).
                let subjects = pg_pool(
                    options.clone(),
                    size,
                    "set role vigil_reader; set search_path to vigil_read",
                )
                .await?;
                Ok(ReadDb {
                    pool,
                    backend: Backend::Postgres,
                    file: None,
                    mint: MintSlot::default(),
                    subjects: Some(subjects),
                    owner: Some(options),
                })
            }
        }
    }

    /// The pool.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Postgres: the pool of `vigil_reader` connections for subject-scoped reads.
    pub(crate) fn subject_pool(&self) -> Option<&AnyPool> {
        self.subjects.as_ref()
    }

    /// The data dir holding `read.db` (SQLite only), for lock files beside it.
    pub fn sqlite_dir(&self) -> Option<&std::path::Path> {
        self.file.as_ref().and_then(|(path, _)| path.parent())
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Starts a write transaction. SQLite takes the write lock up front so two writers never
    /// deadlock upgrading read locks.
    ///
    /// # Errors
    /// Database errors.
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("begin immediate").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// Starts the write transaction of a projection batch: rows the log rebuilds, and the
    /// checkpoints that say how far. On Postgres its commit does not wait for the WAL flush
    /// (`synchronous_commit = off`, this transaction only): the rows are visible to every
    /// session at commit, as before, and what a crash can lose is only the last such
    /// commits, as a whole, checkpoints included (the WAL is one sequence), which the runner
    /// then applies again from the log, whose commits stay durable. A later durable commit
    /// (a revoked session, a claim) flushes the WAL through its own record, so nothing that
    /// exists only here can outlive a batch it was written after. SQLite's read database
    /// already commits with `synchronous = normal`, for the same reason.
    ///
    /// # Errors
    /// Database errors.
    pub async fn begin_derived(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.begin_write().await?,
            // One simple-query message: the setting costs no round trip of its own.
            Backend::Postgres => {
                self.pool
                    .begin_with("begin; set local synchronous_commit = off")
                    .await?
            }
        })
    }

    /// Runs `query` so that its commit survives power loss on SQLite too. The read database
    /// commits with `synchronous = normal` because read models are rebuilt from the log, but
    /// a few rows exist nowhere else and must not come back after a crash: a revoked session
    /// (logout, a reused refresh token, a password change) and a used refresh token. Such a
    /// statement runs with `synchronous = full` on its connection, which syncs the WAL at
    /// its commit (and with it every earlier commit). On Postgres commits are durable
    /// already.
    ///
    /// # Errors
    /// Database errors.
    pub async fn execute_durably(
        &self,
        query: sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments>,
    ) -> Result<sqlx::any::AnyQueryResult> {
        if self.backend == Backend::Postgres {
            return Ok(query.execute(&self.pool).await?);
        }
        let mut conn = self.pool.acquire().await?;
        conn.execute("pragma synchronous = full").await?;
        let result = query.execute(&mut *conn).await;
        // Back to the pool's setting even when the statement failed. Should this reset
        // fail, the connection is closed rather than returned with an unknown setting.
        if let Err(e) = conn.execute("pragma synchronous = normal").await {
            conn.close_on_drop();
            return Err(e.into());
        }
        Ok(result?)
    }

    /// Whether the database answers.
    ///
    /// # Errors
    /// Database errors.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("select 1").execute(&self.pool).await?;
        Ok(())
    }

    /// After an erasure, leaves no image of the deleted rows in the read database's table and
    /// index files. On SQLite, folds the WAL into `read.db` (where `secure_delete` zeroed the
    /// deleted rows) and truncates it. On Postgres, vacuums each of `tables` (those a person
    /// has rows in): vacuum's pruning compacts every page that held a dead tuple, so its bytes
    /// leave the table and its indexes; it runs as the tables' owner (only an owner may vacuum),
    /// on a connection of its own (vacuum cannot run inside a transaction). What Postgres
    /// still keeps (its WAL, until segments are recycled and overwritten) is in ADR 0008.
    ///
    /// # Errors
    /// Database errors.
    pub async fn purge_after_erasure(&self, tables: &[&str]) -> Result<()> {
        if let Some((path, _)) = &self.file {
            vigil_eventstore::truncate_wal_file(path).await?;
        }
        if let Some(owner) = &self.owner {
            let mut conn = owner.connect().await?;
            let mut pending: Vec<String> = tables.iter().map(|t| (*t).to_owned()).collect();
            // Vacuum cannot prune a page another backend holds pinned at that moment, nor a dead
            // row an older snapshot may still see; it counts those as dead rows left. A table
            // that reports some gets another pass, a moment later, a few times at most (a busy
            // table may always have fresh dead rows of other people: that is not a reason to
            // spin).
            for pass in 0..PURGE_PASSES {
                if pass > 0 {
                    tokio::time::sleep(Duration::from_millis(50 * u64::from(pass))).await;
                }
                for table in &pending {
                    // Names come from the fixed catalogue in `projection`, never from input.
                    // `skip_locked`: a table another vacuum holds (another server's runner,
                    // autovacuum) is being purged already; waiting in line for it cost erasures
                    // tens of seconds under load. It is looked at again on the next pass.
                    conn.execute(sqlx::AssertSqlSafe(format!("vacuum (skip_locked) vigil_read.{table}")))
                        .await?;
                }
                pending = sqlx::query_scalar(
                    "select relname::text from pg_stat_user_tables \
                     where schemaname = 'vigil_read' and relname = any(string_to_array($1, ',')) and n_dead_tup > 0",
                )
                .bind(pending.join(","))
                .fetch_all(&mut conn)
                .await?;
                if pending.is_empty() {
                    break;
                }
            }
            if !pending.is_empty() {
                tracing::debug!(tables = ?pending, "dead rows left after the erasure's vacuum passes");
            }
            sqlx::Connection::close(conn).await?;
        }
        Ok(())
    }

    /// [`purge_after_erasure`](Self::purge_after_erasure) of every table a person can have
    /// rows in: what the runner does after applying an erasure, for a caller that must not
    /// answer before it is done (the runner that applied it may be another server's).
    ///
    /// # Errors
    /// Database errors.
    pub async fn purge_erased_files(&self) -> Result<()> {
        self.purge_after_erasure(&crate::runner::personal_tables()).await
    }

    /// Stops the background checkpointer and closes the pool.
    pub async fn close(&self) {
        if let Some((_, checkpointer)) = &self.file {
            checkpointer.stop().await;
        }
        self.pool.close().await;
        if let Some(subjects) = &self.subjects {
            subjects.close().await;
        }
    }
}

/// Vacuum passes over the tables an erasure touched, at most (see `purge_after_erasure`).
const PURGE_PASSES: u32 = 3;

/// A Postgres pool whose connections run `setup` first (role and search path).
async fn pg_pool(options: AnyConnectOptions, size: u32, setup: &'static str) -> Result<AnyPool> {
    Ok(AnyPoolOptions::new()
        .max_connections(size.max(1))
        .acquire_timeout(Duration::from_secs(10))
        .after_connect(move |conn, _| {
            Box::pin(async move {
                conn.execute(setup).await?;
                Ok(())
            })
        })
        .connect_with(options)
        .await?)
}

#[cfg(test)]
mod tests {
    use sqlx::Row;

    use super::*;

    async fn synchronous(db: &ReadDb) -> i64 {
        let row = sqlx::query("pragma synchronous")
            .fetch_one(db.pool())
            .await
            .expect("pragma");
        row.try_get::<i64, _>(0).expect("a number")
    }

    #[tokio::test]
    async fn a_durable_write_applies_and_leaves_its_connection_at_the_pools_setting() {
        let dir = tempfile::tempdir().expect("temp dir");
        // One connection: the one the durable writes used is the one read back.
        let db = ReadDb::open(&Location::Sqlite(dir.path().to_owned()), 1)
            .await
            .expect("open");
        assert_eq!(synchronous(&db).await, 1, "NORMAL to begin with");
        db.execute_durably(sqlx::query(
            "insert into projection_checkpoints (name, position, updated_at) values ('durable-test', 7, 0)",
        ))
        .await
        .expect("durable insert");
        assert_eq!(synchronous(&db).await, 1, "back to NORMAL after a write");
        let failed = db
            .execute_durably(sqlx::query(
                "insert into projection_checkpoints (name, position, updated_at) values ('durable-test', 8, 0)",
            ))
            .await;
        assert!(failed.is_err(), "a duplicate name is refused");
        assert_eq!(synchronous(&db).await, 1, "back to NORMAL after a failed write");
        let position: i64 = sqlx::query("select position from projection_checkpoints where name = 'durable-test'")
            .fetch_one(db.pool())
            .await
            .expect("row")
            .try_get(0)
            .expect("position");
        assert_eq!(position, 7);
    }

    async fn synchronous_commit(conn: &mut sqlx::AnyConnection) -> String {
        let row = sqlx::query("select current_setting('synchronous_commit')")
            .fetch_one(conn)
            .await
            .expect("setting");
        row.try_get::<String, _>(0).expect("text")
    }

    /// A projection batch's commit skips the WAL flush, and only its own: the pool's next
    /// transaction on the same connection (a revoked session, a claim) commits durably.
    #[tokio::test]
    async fn only_a_derived_transaction_commits_without_waiting_for_the_flush_on_postgres() {
        let Some(url) = vigil_tests::fresh_pg_database().await else {
            return;
        };
        // The test cluster turns synchronous_commit off server-wide; this database gets the
        // production default back, so a setting that leaked would show.
        let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
            .await
            .expect("connect");
        let name: String = sqlx::query("select current_database()")
            .fetch_one(&mut admin)
            .await
            .expect("name")
            .try_get(0)
            .expect("text");
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "alter database \"{name}\" set synchronous_commit = on"
        )))
        .execute(&mut admin)
        .await
        .expect("alter database");
        sqlx::Connection::close(admin).await.expect("close");
        // One connection: the one the derived batch used is the one read back.
        let db = ReadDb::open(&Location::Postgres(url), 1).await.expect("open");
        let mut tx = db.begin_derived().await.expect("begin");
        assert_eq!(synchronous_commit(&mut tx).await, "off");
        tx.commit().await.expect("commit");
        let mut tx = db.begin_write().await.expect("begin");
        assert_eq!(
            synchronous_commit(&mut tx).await,
            "on",
            "SET LOCAL ended with its transaction"
        );
        tx.rollback().await.expect("rollback");
        let mut conn = db.pool().acquire().await.expect("conn");
        assert_eq!(synchronous_commit(&mut conn).await, "on");
    }
}
