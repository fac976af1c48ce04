//! Connections to the two backends and their migrations. The log and the vault each get their
//! own pool: on SQLite two files, on Postgres two schemas reached through two roles, so neither
//! connection can read the other's tables. Must not know about events or keys beyond that.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Executor};

use crate::error::{Result, StoreError};

/// Migrations of the SQLite event log (`events.db`).
pub static SQLITE_EVENTS_MIGRATOR: Migrator = sqlx::migrate!("../migrations/sqlite/events");
/// Migrations of the SQLite key vault (`keys.db`).
pub static SQLITE_VAULT_MIGRATOR: Migrator = sqlx::migrate!("../migrations/sqlite/vault");
/// Migrations of the Postgres log and vault schemas.
pub static PG_MIGRATOR: Migrator = sqlx::migrate!("../migrations/postgres");

/// The SQLite event log's file name inside the data dir.
pub(crate) const SQLITE_LOG_FILE: &str = "events.db";
/// The SQLite key vault's file name inside the data dir.
pub(crate) const SQLITE_VAULT_FILE: &str = "keys.db";

/// Where the store lives.
#[derive(Clone)]
pub enum Location {
    /// Embedded: `events.db` and `keys.db` inside this directory.
    Sqlite(PathBuf),
    /// A PostgreSQL database URL (secrets inside it are never printed).
    Postgres(String),
}

impl std::fmt::Debug for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Sqlite(dir) => write!(f, "Sqlite({})", dir.display()),
            Location::Postgres(url) => write!(f, "Postgres({})", redact_url(url)),
        }
    }
}

/// A URL with its password replaced, safe for logs and error messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}://{}:***@{}", &url[..scheme_end], user, &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

/// A pool on either backend; queries are written once where the SQL is portable.
#[derive(Clone, Debug)]
pub(crate) enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to whichever concrete pool `$db` holds. The body is
/// compiled once per backend, so portable SQL stays written once.
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_db;

impl Db {
    pub(crate) fn is_postgres(&self) -> bool {
        matches!(self, Db::Postgres(_))
    }

    pub(crate) async fn close(&self) {
        on_db!(self, p => p.close().await)
    }
}

/// The pair of pools a store uses.
pub(crate) struct Pools {
    pub log: Db,
    pub vault: Db,
}

/// How long the first connection to Postgres may take before start-up gives up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Creates or upgrades the schema at `location`. Safe to run concurrently and repeatedly.
///
/// # Errors
/// `InvalidInput` for an unusable location, `Migrate`/`Database` when the database fails.
pub async fn migrate(location: &Location) -> Result<()> {
    match location {
        Location::Sqlite(dir) => {
            create_private_dir(dir)?;
            let _only_we_migrate = migration_lock(dir).await?;
            let log = pool_of(sqlite_options(&dir.join(SQLITE_LOG_FILE)), 1).await?;
            SQLITE_EVENTS_MIGRATOR.run(&log).await?;
            log.close().await;
            let vault = sqlite_vault_pool(&dir.join(SQLITE_VAULT_FILE), 1).await?;
            SQLITE_VAULT_MIGRATOR.run(&vault).await?;
            vault.close().await;
        }
        Location::Postgres(url) => {
            // The first connection of a process: a URL pointing at nothing fails here, in
            // seconds and naming where it tried, rather than after sqlx's 30 s default.
            let admin = PgPoolOptions::new()
                .max_connections(1)
                .acquire_timeout(CONNECT_TIMEOUT)
                .connect_with(pg_options(url)?)
                .await
                .map_err(|e| StoreError::Unreachable {
                    url: redact_url(url),
                    reason: e.to_string(),
                })?;
            PG_MIGRATOR.run(&admin).await?;
            admin.close().await;
        }
    }
    Ok(())
}

/// The lock file that serialises schema migrations of a SQLite data dir.
pub const SQLITE_MIGRATION_LOCK: &str = "migrate.lock";

/// Waits for, then holds until dropped, the data dir's migration lock. SQLite migrations
/// take no lock of their own: two processes starting at once on a fresh dir would both
/// create the first tables, and one would fail. An advisory `flock` on a file beside the
/// databases makes them take turns (the second then finds nothing to do). Postgres
/// migrations hold an advisory lock of sqlx's already.
///
/// # Errors
/// `InvalidInput` when the lock file cannot be opened or locked.
pub async fn migration_lock(dir: &Path) -> Result<std::fs::File> {
    let path = dir.join(SQLITE_MIGRATION_LOCK);
    let failed = move |e: std::io::Error| StoreError::invalid("data dir", format!("migration lock: {e}"));
    tokio::task::spawn_blocking(move || {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        file.lock()?;
        Ok::<_, std::io::Error>(file)
    })
    .await
    .map_err(|e| failed(std::io::Error::other(e)))?
    .map_err(failed)
}

/// Creates a data dir (and missing parents) readable by its owner only: besides the sealed
/// log it holds the key vault and, beside them, the plaintext read models. An existing dir
/// open to others is left as it is, with a warning.
///
/// # Errors
/// `InvalidInput` when the dir cannot be created or read.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    let failed = |e: std::io::Error| StoreError::invalid("data dir", format!("{}: {e}", dir.display()));
    if !dir.exists() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir).map_err(failed)?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir).map_err(failed)?.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(
                dir = %dir.display(),
                mode = format!("{:o}", mode & 0o777),
                "the data dir is open to other users; `chmod 700` it"
            );
        }
    }
    Ok(())
}

/// Opens both pools, after migrating.
pub(crate) async fn connect(location: &Location, pool_size: u32) -> Result<Pools> {
    migrate(location).await?;
    match location {
        Location::Sqlite(dir) => Ok(Pools {
            log: Db::Sqlite(sqlite_pool(&dir.join(SQLITE_LOG_FILE), pool_size).await?),
            vault: Db::Sqlite(sqlite_vault_pool(&dir.join(SQLITE_VAULT_FILE), 2).await?),
        }),
        Location::Postgres(url) => Ok(Pools {
            log: Db::Postgres(pg_role_pool(url, pool_size, "vigil_log_writer", "vigil").await?),
            vault: Db::Postgres(pg_role_pool(url, 2, "vigil_key_keeper", "vigil_vault").await?),
        }),
    }
}

pub(crate) fn pg_options(url: &str) -> Result<PgConnectOptions> {
    let options = PgConnectOptions::from_str(url)
        .map_err(|e| StoreError::invalid("database url", format!("{}: {e}", redact_url(url))))?;
    // Statements carry nothing personal (payloads are bound, and sealed), but bound values
    // can appear in slow-statement logs; logs are for operators, not for data.
    Ok(options.disable_statement_logging())
}

async fn pg_role_pool(url: &str, size: u32, role: &'static str, schema: &'static str) -> Result<PgPool> {
    let pool = PgPoolOptions::new()
        .max_connections(size)
        .acquire_timeout(Duration::from_secs(10))
        .after_connect(move |conn, _| {
            Box::pin(async move {
                // Dropping to the narrow role makes the grants, not only the code, enforce
                // append-only history and key separation.
                conn.execute(sqlx::AssertSqlSafe(format!(
                    "set role {role}; set search_path to {schema}"
                )))
                .await?;
                Ok(())
            })
        })
        .connect_with(pg_options(url)?)
        .await?;
    Ok(pool)
}

/// A pool on the SQLite event log with the store's pragmas (WAL, `synchronous=FULL`, busy
/// timeout, foreign keys), whose own automatic checkpoints only back up the store's
/// [`crate::WalCheckpointer`]. Public so benchmarks measure their raw baselines through the
/// very same client path.
///
/// # Errors
/// When the file cannot be opened.
pub async fn sqlite_pool(path: &Path, size: u32) -> Result<SqlitePool> {
    let options = sqlite_options(path).pragma(
        "wal_autocheckpoint",
        crate::wal::FALLBACK_AUTOCHECKPOINT_PAGES.to_string(),
    );
    pool_of(options, size).await
}

/// A pool on the SQLite key vault: the store's pragmas plus `secure_delete`, so a shredded
/// data key's bytes are overwritten in the file, not left in a freed cell.
async fn sqlite_vault_pool(path: &Path, size: u32) -> Result<SqlitePool> {
    pool_of(sqlite_options(path).pragma("secure_delete", "on"), size).await
}

fn sqlite_options(path: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // FULL: an acknowledged append survives power loss, not only a process crash.
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true)
        // Statement journals and temporary tables stay in memory: a multi-row insert's
        // sub-journal passes SQLite's 64 KiB spill size and was created, written and
        // unlinked as a temporary file on every group commit.
        .pragma("temp_store", "memory")
        .disable_statement_logging()
}

async fn pool_of(options: SqliteConnectOptions, size: u32) -> Result<SqlitePool> {
    let pool = SqlitePoolOptions::new()
        .max_connections(size.max(1))
        // An embedded database cannot hang up, and sqlx's liveness ping costs a round trip
        // through the connection's worker thread on every acquire.
        .test_before_acquire(false)
        .connect_with(options)
        .await?;
    Ok(pool)
}

/// The few statements whose SQL differs between backends.
pub(crate) trait Dialect {
    /// Starts a write transaction. SQLite must take the write lock up front (IMMEDIATE), or
    /// two writers deadlock upgrading their read locks.
    const BEGIN_WRITE: &'static str;
}

impl Dialect for SqlitePool {
    const BEGIN_WRITE: &'static str = "begin immediate";
}

impl Dialect for PgPool {
    const BEGIN_WRITE: &'static str = "begin";
}

pub(crate) fn begin_write<P: Dialect>(_: &P) -> &'static str {
    P::BEGIN_WRITE
}

/// Whether a SQLite data dir already has a master key registered in its vault. A dev key may
/// only be generated when it has none; otherwise the vault's keys would be orphaned.
///
/// # Errors
/// When the vault file exists but cannot be read.
pub async fn sqlite_vault_has_master_key(dir: &Path) -> Result<bool> {
    let path = dir.join(SQLITE_VAULT_FILE);
    if !path.exists() {
        return Ok(false);
    }
    let pool = sqlite_vault_pool(&path, 1).await?;
    let exists: i64 = sqlx::query_scalar("select count(*) from sqlite_master where type = 'table' and name = 'kek'")
        .fetch_one(&pool)
        .await?;
    let registered: i64 = if exists > 0 {
        sqlx::query_scalar("select count(*) from kek").fetch_one(&pool).await?
    } else {
        0
    };
    pool.close().await;
    Ok(registered > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[tokio::test]
    async fn a_new_data_dir_and_its_databases_are_readable_by_their_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().join("new").join("data");
        migrate(&Location::Sqlite(dir.clone())).await.expect("migrate");
        let mode = |path: &std::path::Path| std::fs::metadata(path).expect("exists").permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        // The files SQLite creates, too (a build flag in .cargo/config.toml).
        for file in ["events.db", "keys.db"] {
            assert_eq!(mode(&dir.join(file)), 0o600, "{file}");
        }
    }

    #[test]
    fn database_passwords_never_print() {
        let loc = Location::Postgres("postgres://vigil:s3cret@db:5432/vigil".into());
        let shown = format!("{loc:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("vigil:***@db:5432/vigil"), "{shown}");
    }
}
