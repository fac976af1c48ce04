//! WAL housekeeping for SQLite files: checkpoints in the background, and a truncating
//! checkpoint after erasures.
//!
//! SQLite's automatic checkpoint runs inside whichever commit pushes the WAL past its
//! threshold, so that one writer also copies the WAL into the database file and syncs it (in
//! `bench api`, moving that off the writers lowered the write p99 by 1.5–2 ms; ADR 0001).
//! A [`WalCheckpointer`] checkpoints PASSIVE (it never waits for, or blocks, a reader or a
//! writer) from its own connection on a short interval, and the writers' own threshold is
//! raised to [`FALLBACK_AUTOCHECKPOINT_PAGES`], which only bounds the WAL should this task stall.
//!
//! After an erasure, the WAL may still hold images of pages from before the delete (a wrapped
//! data key, a read-model row). [`truncate_wal_file`] folds everything into the database file
//! (whose freed space `secure_delete` zeroes) and truncates the WAL to zero bytes.
//!
//! Must not write anything but checkpoints.

use std::path::PathBuf;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode};
use sqlx::{ConnectOptions, Connection, Row};

use crate::error::Result;

/// The writers' automatic-checkpoint threshold where a [`WalCheckpointer`] runs (about 40 MiB
/// of 4 KiB pages, against SQLite's default of 1000 pages).
pub const FALLBACK_AUTOCHECKPOINT_PAGES: u32 = 10_000;

/// How often the background task checkpoints. A checkpoint ends with an fsync of the
/// database file, and a commit's WAL sync that meets it waits for it: the more pages it
/// copied, the longer. Measured in `vigil bench api` (3 interleaved runs each): at 100 ms,
/// write p99 19.2-20.1 ms; at 20 ms, 17.2-17.9 ms, at the same throughput; at 10 ms the
/// checkpoints' own cost shows (throughput -8 %); at 1 s, 26-30 ms. A checkpoint of an
/// idle WAL costs a lock and a header read.
const INTERVAL: Duration = Duration::from_millis(20);

/// Checkpoints one SQLite file in the background until stopped (or dropped).
#[derive(Debug)]
pub struct WalCheckpointer {
    stop: tokio::sync::watch::Sender<bool>,
    task: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl WalCheckpointer {
    /// Starts checkpointing the database at `path` (already in WAL mode) every 100 ms.
    #[must_use]
    pub fn spawn(path: PathBuf) -> WalCheckpointer {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        WalCheckpointer {
            stop,
            task: std::sync::Mutex::new(Some(tokio::spawn(run(path, stopped)))),
        }
    }

    /// Stops the task and waits until its connection is closed, so that the last of the
    /// database's connections to close can fold the WAL back and remove it.
    pub async fn stop(&self) {
        let _ = self.stop.send(true);
        let task = self.task.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

impl Drop for WalCheckpointer {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

async fn run(path: PathBuf, mut stopped: tokio::sync::watch::Receiver<bool>) {
    let mut ticks = tokio::time::interval(INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut conn: Option<SqliteConnection> = None;
    let mut failing = false;
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stopped.wait_for(|stop| *stop) => break,
        }
        let result = async {
            let c = match conn.as_mut() {
                Some(c) => c,
                None => conn.insert(connect(&path).await?),
            };
            checkpoint(c, "passive").await
        }
        .await;
        match result {
            Ok(_) => failing = false,
            Err(e) => {
                // Once per failure streak: a stalled checkpointer shows in the log without
                // flooding it; the writers' fallback threshold bounds the WAL meanwhile.
                if !failing {
                    tracing::warn!(error = %e, file = %path.display(), "background WAL checkpoint failed");
                }
                failing = true;
                if let Some(c) = conn.take() {
                    let _ = c.close().await;
                }
            }
        }
    }
    if let Some(c) = conn.take() {
        let _ = c.close().await;
    }
}

async fn connect(path: &std::path::Path) -> Result<SqliteConnection> {
    Ok(SqliteConnectOptions::new()
        .filename(path)
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(Duration::from_secs(10))
        .disable_statement_logging()
        .connect()
        .await?)
}

/// Runs a checkpoint; whether SQLite reported it blocked (by a reader or writer).
async fn checkpoint(conn: &mut SqliteConnection, mode: &'static str) -> Result<bool> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("pragma wal_checkpoint({mode})")))
        .fetch_one(&mut *conn)
        .await?;
    Ok(row.try_get::<i64, _>(0)? != 0)
}

/// Copies every WAL frame into the database file and truncates the WAL to zero bytes, waiting
/// (up to the connection's busy timeout) for readers and writers to finish with it. Used after
/// an erasure so the WAL keeps no image of a page from before the delete.
///
/// `Ok(false)` when SQLite still reports the checkpoint blocked after about a second of
/// attempts (a reader outlasted the busy timeout, or checkpoints kept colliding): the old frames then stay until later commits overwrite them, and a warning says so.
///
/// # Errors
/// Database errors.
pub(crate) async fn truncate_wal(conn: &mut SqliteConnection) -> Result<bool> {
    // While another connection checkpoints (the background task does, every few
    // milliseconds), SQLite answers "blocked" at once instead of calling the busy handler:
    // the other checkpoint holds its lock for milliseconds, so try again.
    for _ in 0..TRUNCATE_ATTEMPTS {
        if !checkpoint(conn, "truncate").await? {
            return Ok(true);
        }
        tokio::time::sleep(TRUNCATE_RETRY).await;
    }
    tracing::warn!("a truncating WAL checkpoint was blocked; the WAL will be overwritten by later commits");
    Ok(false)
}

/// Attempts of a truncating checkpoint, [`TRUNCATE_RETRY`] apart (about a second in all).
const TRUNCATE_ATTEMPTS: usize = 100;
const TRUNCATE_RETRY: Duration = Duration::from_millis(10);

/// [`truncate_wal`] on the SQLite file at `path`, from a connection of its own.
///
/// # Errors
/// When the file cannot be opened; database errors.
pub async fn truncate_wal_file(path: &std::path::Path) -> Result<bool> {
    let mut conn = connect(path).await?;
    let truncated = truncate_wal(&mut conn).await;
    let _ = conn.close().await;
    truncated
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used)]

    use sqlx::Connection;

    use super::*;

    /// The background task checkpoints every few milliseconds; an erasure's truncating
    /// checkpoint that meets one must still truncate, not give up.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_truncating_checkpoint_succeeds_while_background_checkpoints_run() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.db");
        let mut writer = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .connect()
            .await
            .expect("create");
        sqlx::query("create table t (v blob)")
            .execute(&mut writer)
            .await
            .expect("create");
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let busy = {
            let path = path.clone();
            tokio::spawn(async move {
                let mut conn = connect(&path).await.expect("open");
                while !*stopped.borrow() {
                    checkpoint(&mut conn, "passive").await.expect("checkpoint");
                }
                let _ = conn.close().await;
            })
        };
        for _ in 0..100 {
            for _ in 0..20 {
                sqlx::query("insert into t (v) values (randomblob(4000))")
                    .execute(&mut writer)
                    .await
                    .expect("insert");
            }
            assert!(truncate_wal_file(&path).await.expect("truncate"), "truncated");
        }
        let _ = stop.send(true);
        busy.await.expect("checkpointer");
        let _ = writer.close().await;
    }
}
