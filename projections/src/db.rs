//! The read database: `read.db` beside the event log on SQLite, schema `vigil_read` (role
//! `vigil_reader`) on Postgres. One `sqlx::Any` pool serves both, because every read-model
//! column is text, bigint or JSON text, so one SQL text runs on either backend.
//! Must not touch the event log or the key vault: those are the store's.

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor};
use vigil_eventstore::{Location, redact_url};

use crate::error::{ProjectionError, Result};

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
}

impl ReadDb {
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
                            conn.execute(
                                "pragma journal_mode = wal; pragma synchronous = normal; \
                                 pragma busy_timeout = 10000; pragma secure_delete = on; \
                                 pragma temp_store = memory",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?;
                Ok(ReadDb {
                    pool,
                    backend: Backend::Sqlite,
                })
            }
            Location::Postgres(url) => {
                let options = AnyConnectOptions::from_str(url)
                    .map_err(|e| ProjectionError::InvalidInput(format!("database url {}: {e}", redact_url(url))))?
                    .disable_statement_logging();
                let pool = AnyPoolOptions::new()
                    .max_connections(size.max(1))
                    .acquire_timeout(Duration::from_secs(10))
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            // The narrow role can reach read models and nothing else.
                            conn.execute("set role vigil_reader; set search_path to vigil_read")
                                .await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?;
                Ok(ReadDb {
                    pool,
                    backend: Backend::Postgres,
                })
            }
        }
    }

    /// The pool.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
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

    /// Whether the database answers.
    ///
    /// # Errors
    /// Database errors.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("select 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
