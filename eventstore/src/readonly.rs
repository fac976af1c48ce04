//! `ReadOnlyLog`: the event log opened to be checked, by an auditor or by `vigil verify`. The
//! chain covers ciphertext, so checking it needs no key: this opens no vault, runs no
//! migration, finishes no interrupted shred and starts no appender.
//! Must not write anything, anywhere: on SQLite it reads `events.db` through read-only
//! connections (a copy without a write-ahead log as `immutable`, so SQLite creates no file
//! and takes no lock); on Postgres its sessions are read-only transactions that only select.

use std::path::Path;
use std::time::Duration;

use sqlx::Executor;
use sqlx::postgres::PgPoolOptions;

use crate::chain::{ChainBreak, ChainReport};
use crate::db::{self, Db, Location, SQLITE_LOG_FILE, redact_url};
use crate::error::{Result, StoreError};
use crate::log;
use crate::scan::Scanner;
use crate::verify::{Pages, walk};

/// The log, read-only, without any key.
pub struct ReadOnlyLog {
    pages: Pages,
}

impl std::fmt::Debug for ReadOnlyLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReadOnlyLog")
    }
}

/// Whether the SQLite log may have content outside `events.db`: a write-ahead log with
/// frames in it, or its shared-memory index (a live store, or a copy taken while one ran).
/// An empty `-wal` left without an index holds nothing, and the file alone is the log.
fn has_write_ahead_log(path: &Path) -> bool {
    let beside = |suffix: &str| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        std::path::PathBuf::from(name)
    };
    beside("-shm").exists() || std::fs::metadata(beside("-wal")).is_ok_and(|m| m.len() > 0)
}

impl ReadOnlyLog {
    /// Opens the log at `location` read-only.
    ///
    /// On SQLite, a directory without `events.db` is refused (nothing is created). A log with
    /// no write-ahead log beside it is opened `immutable`: nothing at all is written. A log
    /// with one (a running store) is read through SQLite's shared-memory index, like any
    /// reader of a live database, so that the newest events count; the database files
    /// themselves are never written.
    ///
    /// # Errors
    /// `InvalidInput` when there is no log at `location`; `Unreachable` when Postgres cannot
    /// be reached.
    pub async fn open(location: &Location) -> Result<ReadOnlyLog> {
        let pages = match location {
            Location::Sqlite(dir) => {
                let path = dir.join(SQLITE_LOG_FILE);
                if !path.is_file() {
                    return Err(StoreError::invalid(
                        "data dir",
                        format!("{} holds no event log ({SQLITE_LOG_FILE})", dir.display()),
                    ));
                }
                let scanner = if has_write_ahead_log(&path) {
                    Scanner::new(path)
                } else {
                    Scanner::immutable(path)
                };
                Pages::Scanner(scanner)
            }
            Location::Postgres(url) => {
                let pool = PgPoolOptions::new()
                    .max_connections(2)
                    .acquire_timeout(Duration::from_secs(10))
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            // No role is assumed (an auditor connects as itself, with SELECT on
                            // the log); every transaction of the session is read-only.
                            conn.execute(
                                "set search_path to vigil; set session characteristics as transaction read only",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect_with(db::pg_options(url)?)
                    .await
                    .map_err(|e| StoreError::Unreachable {
                        url: redact_url(url),
                        reason: e.to_string(),
                    })?;
                Pages::Db(Db::Postgres(pool))
            }
        };
        Ok(ReadOnlyLog { pages })
    }

    async fn head(&self) -> Result<(u64, [u8; 32])> {
        match &self.pages {
            Pages::Scanner(scanner) => scanner.head().await,
            Pages::Db(db) => {
                let head = log::read_head(db).await?;
                Ok((head.position, head.hash))
            }
        }
    }

    /// The last position the log records (0 for an empty log).
    ///
    /// # Errors
    /// Database errors.
    pub async fn head_position(&self) -> Result<u64> {
        Ok(self.head().await?.0)
    }

    /// Verifies the whole chain exactly as [`crate::EventStore::verify_chain`] does.
    ///
    /// # Errors
    /// Database errors only; a broken chain is the `Ok(Err(ChainBreak))` case.
    pub async fn verify_chain(&self, progress: impl FnMut(u64, u64)) -> Result<Result<ChainReport, ChainBreak>> {
        let (position, hash) = self.head().await?;
        walk(&self.pages, position, hash, progress).await
    }

    /// Closes the connections.
    pub async fn close(&self) {
        match &self.pages {
            Pages::Scanner(scanner) => scanner.close(),
            Pages::Db(db) => db.close().await,
        }
    }
}
