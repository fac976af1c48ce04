//! Snapshots of a SQLite store: `VACUUM INTO` copies of `events.db` and `keys.db`, and their
//! load into an empty data dir (the copies carry their own migration state).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use sqlx::ConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};

use super::{ErasedEntry, Part, Snapshot, SnapshotFile};
use crate::db::{SQLITE_LOG_FILE, SQLITE_VAULT_FILE, create_private_dir};
use crate::error::{Result, StoreError};
use crate::log::to_u64;

/// The read database, rebuilt after a load; its presence means the dir is in use.
const SQLITE_READ_FILE: &str = "read.db";

fn existing(path: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(false)
        .busy_timeout(Duration::from_secs(30))
        .disable_statement_logging()
}

async fn pool(options: SqliteConnectOptions) -> Result<SqlitePool> {
    Ok(SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await?)
}

pub(super) async fn take(dir: &Path, into: &Path) -> Result<Snapshot> {
    let mut files = Vec::new();
    // The log first: see the module doc of `snapshot` for why the order matters.
    for (part, name) in [(Part::Log, SQLITE_LOG_FILE), (Part::Vault, SQLITE_VAULT_FILE)] {
        let source = dir.join(name);
        if !source.is_file() {
            return Err(StoreError::invalid(
                "data dir",
                format!("{} holds no {name}", dir.display()),
            ));
        }
        let target = into.join(name);
        let live = pool(existing(&source)).await?;
        let copied = sqlx::query("vacuum into $1")
            .bind(target.to_string_lossy().into_owned())
            .execute(&live)
            .await;
        live.close().await;
        copied?;
        restrict(&target)?;
        files.push(SnapshotFile {
            part,
            name: name.to_owned(),
            path: target,
        });
    }
    let log = pool(existing(&into.join(SQLITE_LOG_FILE)).read_only(true)).await?;
    let vault = pool(existing(&into.join(SQLITE_VAULT_FILE)).read_only(true)).await?;
    let mut tables = count_tables(&log, "log").await?;
    tables.extend(count_tables(&vault, "vault").await?);
    let mut migrations = BTreeMap::new();
    migrations.insert("log".to_owned(), applied(&log).await?);
    migrations.insert("vault".to_owned(), applied(&vault).await?);
    let head = sqlx::query("select last_position, last_hash from chain_head where id = 1")
        .fetch_optional(&log)
        .await?;
    let (head_position, head_hash) = super::chain_head(head)?;
    let erased = ledger(&log).await?;
    log.close().await;
    vault.close().await;
    Ok(Snapshot {
        backend: "sqlite",
        files,
        tables,
        migrations,
        head_position,
        head_hash,
        erased,
    })
}

/// Owner-only, like the data dir the copy came from.
fn restrict(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| StoreError::invalid("snapshot", format!("{}: {e}", path.display())))?;
    }
    Ok(())
}

async fn count_tables(db: &SqlitePool, part: &str) -> Result<BTreeMap<String, u64>> {
    let names: Vec<String> = sqlx::query_scalar(
        "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name",
    )
    .fetch_all(db)
    .await?;
    let mut counts = BTreeMap::new();
    for name in names {
        // The names come from the database's own catalogue, quoted as identifiers.
        let sql = format!("select count(*) from \"{}\"", name.replace('"', "\"\""));
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(db).await?;
        counts.insert(format!("{part}.{name}"), to_u64(n, "row count")?);
    }
    Ok(counts)
}

async fn applied(db: &SqlitePool) -> Result<Vec<i64>> {
    Ok(
        sqlx::query_scalar("select version from _sqlx_migrations where success order by version")
            .fetch_all(db)
            .await?,
    )
}

async fn ledger(db: &SqlitePool) -> Result<Vec<ErasedEntry>> {
    let rows =
        sqlx::query("select subject_id, erased_at, ledger_position from erased_subjects order by ledger_position")
            .fetch_all(db)
            .await?;
    rows.iter().map(super::erased_entry).collect()
}

pub(super) fn is_vacant(dir: &Path) -> bool {
    [SQLITE_LOG_FILE, SQLITE_VAULT_FILE, SQLITE_READ_FILE]
        .iter()
        .all(|name| !dir.join(name).exists())
}

pub(super) async fn load(dir: &Path, from: &Path) -> Result<BTreeMap<String, u64>> {
    if !is_vacant(dir) {
        return Err(StoreError::invalid(
            "restore target",
            format!(
                "{} already holds a store (events.db, keys.db or read.db): restore only into an empty data dir",
                dir.display()
            ),
        ));
    }
    create_private_dir(dir)?;
    for name in [SQLITE_LOG_FILE, SQLITE_VAULT_FILE] {
        let source = from.join(name);
        if !source.is_file() {
            return Err(StoreError::invalid("snapshot", format!("no {name} in the snapshot")));
        }
        // Copied under a temporary name and renamed, so a crash never leaves half a database
        // under the name a store would open.
        let partial = dir.join(format!("{name}.restoring"));
        std::fs::copy(&source, &partial)
            .and_then(|_| std::fs::File::open(&partial)?.sync_all())
            .map_err(|e| StoreError::invalid("restore target", format!("{}: {e}", partial.display())))?;
        restrict(&partial)?;
        std::fs::rename(&partial, dir.join(name))
            .map_err(|e| StoreError::invalid("restore target", format!("{}: {e}", dir.display())))?;
    }
    let log = pool(existing(&dir.join(SQLITE_LOG_FILE)).read_only(true)).await?;
    let vault = pool(existing(&dir.join(SQLITE_VAULT_FILE)).read_only(true)).await?;
    let mut tables = count_tables(&log, "log").await?;
    tables.extend(count_tables(&vault, "vault").await?);
    log.close().await;
    vault.close().await;
    Ok(tables)
}

pub(super) async fn erasure_ledger(dir: &Path) -> Result<Vec<ErasedEntry>> {
    let path = dir.join(SQLITE_LOG_FILE);
    if !path.is_file() {
        return Err(StoreError::invalid(
            "data dir",
            format!("{} holds no event log ({SQLITE_LOG_FILE})", dir.display()),
        ));
    }
    let db = pool(existing(&path).read_only(true)).await?;
    let entries = ledger(&db).await;
    db.close().await;
    entries
}
