//! `ReadOnlyLog`: the event log opened to be checked, by an auditor or by `vigil verify`. The
//! chain covers ciphertext, so checking it needs no key: this opens no vault, runs no
//! migration, finishes no interrupted shred and starts no appender.
//! Must not write anything, anywhere: on SQLite it reads `events.db` through read-only
//! connections (a copy without a write-ahead log as `immutable`, so SQLite creates no file
//! and takes no lock); on Postgres its sessions are read-only transactions that only select.

use std::path::Path;
use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{ConnectOptions, Executor};

use crate::chain::{ChainBreak, ChainReport};
use crate::db::{self, Db, Location, SQLITE_LOG_FILE, redact_url};
use crate::error::{Result, StoreError};
use crate::log;
use crate::merkle::{TreeBreak, TreeReport, verify_tree_on};
use crate::scan::Scanner;
use crate::verify::{Pages, walk};

/// The log, read-only, without any key.
pub struct ReadOnlyLog {
    pages: Pages,
    /// A pool for the audit reads (`audit_reads`): the Postgres pool itself, or on SQLite
    /// read-only connections opened like the scanner's, lazily (no file is touched until used).
    pub(crate) db: Db,
    /// The SQLite log file and whether it is opened `immutable`, for the tree check's own
    /// read-only connections (the chain walk reads through the scanner).
    sqlite: Option<(std::path::PathBuf, bool)>,
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
        let mut sqlite = None;
        let mut reads = None;
        let pages = match location {
            Location::Sqlite(dir) => {
                let path = dir.join(SQLITE_LOG_FILE);
                if !path.is_file() {
                    return Err(StoreError::invalid(
                        "data dir",
                        format!("{} holds no event log ({SQLITE_LOG_FILE})", dir.display()),
                    ));
                }
                let immutable = !has_write_ahead_log(&path);
                sqlite = Some((path.clone(), immutable));
                reads = Some(Db::Sqlite(
                    SqlitePoolOptions::new()
                        .max_connections(2)
                        .connect_lazy_with(read_only_options(&path, immutable)),
                ));
                let scanner = if immutable {
                    Scanner::immutable(path)
                } else {
                    Scanner::new(path)
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
        let db = match (reads, &pages) {
            (Some(db), _) => db,
            (None, Pages::Db(db)) => db.clone(),
            (None, Pages::Scanner(_)) => return Err(StoreError::Corrupt("read-only log without a pool".into())),
        };
        Ok(ReadOnlyLog { pages, db, sqlite })
    }

    pub(crate) async fn head(&self) -> Result<(u64, [u8; 32])> {
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

    /// Verifies the stored Merkle tree against the chain hashes exactly as
    /// [`crate::EventStore::verify_tree`] does, through read-only connections: on SQLite two
    /// of its own, opened like the scanner's (read-only, `immutable` on a copy without a
    /// write-ahead log), closed before it returns.
    ///
    /// # Errors
    /// Database errors only; a bad tree is the `Ok(Err(TreeBreak))` case.
    pub async fn verify_tree(&self, progress: impl FnMut(u64, u64)) -> Result<Result<TreeReport, TreeBreak>> {
        match (&self.pages, &self.sqlite) {
            (Pages::Db(db), _) => verify_tree_on(db, progress).await,
            (Pages::Scanner(_), Some((path, immutable))) => {
                let options = read_only_options(path, *immutable);
                // Two: the walk holds one while the check for nodes beyond the log reads.
                let pool = SqlitePoolOptions::new()
                    .max_connections(2)
                    .connect_with(options)
                    .await?;
                let db = Db::Sqlite(pool);
                let result = verify_tree_on(&db, progress).await;
                db.close().await;
                result
            }
            (Pages::Scanner(_), None) => Err(StoreError::Corrupt("read-only log without its file".into())),
        }
    }

    /// Closes the connections.
    pub async fn close(&self) {
        match &self.pages {
            Pages::Scanner(scanner) => {
                scanner.close();
                self.db.close().await;
            }
            Pages::Db(db) => db.close().await,
        }
    }
}

/// A read-only SQLite connection to the log file (`immutable` for a copy without a
/// write-ahead log), creating nothing.
fn read_only_options(path: &Path, immutable: bool) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .immutable(immutable)
        .create_if_missing(false)
        .busy_timeout(Duration::from_secs(10))
        .pragma("query_only", "on")
        .disable_statement_logging()
}
