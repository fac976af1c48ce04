//! The test kit shared by vigil's test suites: a fresh database on the throwaway PostgreSQL
//! that `ops/test.sh` starts, the outside tools it installs, and a search of SQLite files for
//! erased bytes. Dev-only; no
//! production crate depends on it.

// A test kit: a broken test environment must stop the test loudly, with the reason.
#![allow(clippy::panic, clippy::expect_used)]

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Executor};

/// The superuser URL of the throwaway cluster, or `None` outside CI (the caller skips). With
/// `CI=true` a missing Postgres is a failure, never a skip.
///
/// # Panics
/// When `CI=true` and `VIGIL_TEST_PG_URL` is unset.
pub fn pg_url() -> Option<String> {
    match std::env::var("VIGIL_TEST_PG_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but VIGIL_TEST_PG_URL is not set: the Postgres suite must run (use ops/test.sh)")
        }
        _ => {
            eprintln!("VIGIL_TEST_PG_URL not set: skipping a Postgres case (ops/test.sh runs them all)");
            None
        }
    }
}

/// An outside tool a test checks with: the path in `var` (set by `ops/test.sh`), else what
/// `script` (an `ops/ci/ensure-*.sh`, relative to the repository) installs and prints; `None`
/// outside CI when it cannot be had (the caller skips those checks and says so).
///
/// # Panics
/// When `CI=true` and the tool cannot be had.
pub fn outside_tool(var: &str, script: &str, what: &str) -> Option<std::path::PathBuf> {
    if let Ok(path) = std::env::var(var)
        && !path.is_empty()
    {
        return Some(path.into());
    }
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(script);
    match std::process::Command::new(script).output() {
        Ok(out) if out.status.success() => Some(String::from_utf8_lossy(&out.stdout).trim().into()),
        other if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but {what} could not be installed: {other:?}")
        }
        other => {
            eprintln!("{what} is unavailable, its checks skipped: {other:?}");
            None
        }
    }
}

/// Creates an empty database for one test and returns its URL (`None`: skip, see [`pg_url`]).
///
/// # Panics
/// When the throwaway cluster is configured but unreachable.
pub async fn fresh_pg_database() -> Option<String> {
    let url = pg_url()?;
    let name = format!("vigil_t_{}", uuid::Uuid::new_v4().simple());
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .expect("connect to test postgres");
    admin
        .execute(sqlx::AssertSqlSafe(format!("create database {name}")))
        .await
        .expect("create test database");
    admin.close().await;
    let options: PgConnectOptions = url.parse().expect("test postgres url");
    Some(options.database(&name).to_url_lossy().to_string())
}

/// Whether `needle` occurs anywhere in the SQLite database `file` inside `dir` or in its WAL:
/// what erasure tests search for, since a deleted row can outlive its delete in either.
pub fn in_sqlite_files(dir: &std::path::Path, file: &str, needle: &[u8]) -> bool {
    [file.to_owned(), format!("{file}-wal")].iter().any(|name| {
        std::fs::read(dir.join(name))
            .map(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
            .unwrap_or(false)
    })
}

/// The throwaway Postgres cluster's data directory (its tables, indexes and WAL as files),
/// after a `CHECKPOINT`: every page changed in memory is then on disk, so a search of the
/// files sees what the cluster keeps, not what it has yet to write.
///
/// # Panics
/// When the cluster is configured but does not answer.
pub async fn pg_data_directory() -> Option<std::path::PathBuf> {
    let url = pg_url()?;
    let mut admin = PgPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .expect("connect to test postgres")
        .acquire()
        .await
        .expect("a connection");
    sqlx::query("checkpoint")
        .execute(&mut *admin)
        .await
        .expect("checkpoint");
    let dir: String = sqlx::query_scalar("show data_directory")
        .fetch_one(&mut *admin)
        .await
        .expect("the data directory");
    Some(dir.into())
}

/// Every file under `root` (recursively) that holds `needle`, relative to `root`.
pub fn files_containing(root: &std::path::Path, needle: &[u8]) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if std::fs::read(&path).is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle)) {
                found.push(path.strip_prefix(root).unwrap_or(&path).to_path_buf());
            }
        }
    }
    found
}
