//! Snapshots of a Postgres store: every table of the `vigil` (log) and `vigil_vault` schemas
//! copied out in `COPY … (FORMAT binary)` within one repeatable-read transaction, and loaded
//! back into a database that has no vigil schema yet.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use futures_util::TryStreamExt;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnection, PgPoolOptions};
use sqlx::{Connection, Executor, Row};
use tokio::io::AsyncWriteExt;

use super::{ErasedEntry, Part, Snapshot, SnapshotFile};
use crate::db::{PG_MIGRATOR, pg_options, redact_url};
use crate::error::{Result, StoreError};
use crate::log::to_u64;

/// The schemas a snapshot copies, and the archive each belongs in. The read schema
/// (`vigil_read`) is left out: it holds plaintext and is rebuilt from the log.
const SCHEMAS: [(&str, Part); 2] = [("vigil", Part::Log), ("vigil_vault", Part::Vault)];

async fn connect(url: &str) -> Result<PgConnection> {
    let options = pg_options(url)?;
    tokio::time::timeout(Duration::from_secs(10), PgConnection::connect_with(&options))
        .await
        .map_err(|_| StoreError::Unreachable {
            url: redact_url(url),
            reason: "timed out".into(),
        })?
        .map_err(|e| StoreError::Unreachable {
            url: redact_url(url),
            reason: e.to_string(),
        })
}

fn file_name(schema: &str, table: &str) -> String {
    format!("{schema}.{table}.copy")
}

/// `"schema"."table"`, quoted; names come from the catalogue or from the snapshot's file names,
/// which are checked against the catalogue first.
fn qualified(schema: &str, table: &str) -> String {
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    format!("{}.{}", quote(schema), quote(table))
}

async fn tables(conn: &mut PgConnection) -> Result<Vec<(String, String)>> {
    let rows = sqlx::query(
        "select schemaname::text as s, tablename::text as t from pg_tables \
         where schemaname in ('vigil', 'vigil_vault') order by 1, 2",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("s")?, r.try_get("t")?))).collect()
}

async fn counts(conn: &mut PgConnection) -> Result<BTreeMap<String, u64>> {
    let mut counts = BTreeMap::new();
    for (schema, table) in tables(conn).await? {
        let sql = format!("select count(*) from {}", qualified(&schema, &table));
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut *conn)
            .await?;
        counts.insert(format!("{schema}.{table}"), to_u64(n, "row count")?);
    }
    Ok(counts)
}

async fn applied(conn: &mut PgConnection) -> Result<Vec<i64>> {
    Ok(
        sqlx::query_scalar("select version from _sqlx_migrations where success order by version")
            .fetch_all(&mut *conn)
            .await?,
    )
}

async fn ledger(conn: &mut PgConnection) -> Result<Vec<ErasedEntry>> {
    let rows = sqlx::query(
        "select subject_id, erased_at, ledger_position from vigil.erased_subjects order by ledger_position",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(super::erased_entry).collect()
}

pub(super) async fn take(url: &str, into: &Path) -> Result<Snapshot> {
    let mut conn = connect(url).await?;
    conn.execute("begin isolation level repeatable read, read only").await?;
    let listed = tables(&mut conn).await?;
    if !listed.iter().any(|(s, t)| s == "vigil" && t == "events") {
        return Err(StoreError::invalid("database", "no vigil event log in this database"));
    }
    let mut files = Vec::new();
    for (schema, table) in &listed {
        let part = SCHEMAS
            .iter()
            .find(|(s, _)| s == schema)
            .map(|(_, p)| *p)
            .ok_or_else(|| StoreError::Corrupt(format!("unexpected schema {schema}")))?;
        let name = file_name(schema, table);
        let path = into.join(&name);
        // Buffered: the stream yields one chunk per message, and each write to a tokio file
        // is a trip to the blocking pool.
        let mut out = tokio::io::BufWriter::with_capacity(1 << 20, private_file(&path).await?);
        let sql = format!("copy {} to stdout (format binary)", qualified(schema, table));
        {
            let mut stream = conn.copy_out_raw(&sql).await?;
            while let Some(chunk) = stream.try_next().await? {
                out.write_all(&chunk).await.map_err(|e| io(&path, e))?;
            }
        }
        out.flush().await.map_err(|e| io(&path, e))?;
        out.get_ref().sync_all().await.map_err(|e| io(&path, e))?;
        files.push(SnapshotFile { part, name, path });
    }
    let tables = counts(&mut conn).await?;
    let mut migrations = BTreeMap::new();
    migrations.insert("log".to_owned(), applied(&mut conn).await?);
    let head = sqlx::query("select last_position, last_hash from vigil.chain_head where id = 1")
        .fetch_optional(&mut conn)
        .await?;
    let (head_position, head_hash) = super::chain_head(head)?;
    let erased = ledger(&mut conn).await?;
    conn.execute("commit").await?;
    conn.close().await?;
    Ok(Snapshot {
        backend: "postgres",
        files,
        tables,
        migrations,
        head_position,
        head_hash,
        erased,
    })
}

async fn private_file(path: &Path) -> Result<tokio::fs::File> {
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    options.open(path).await.map_err(|e| io(path, e))
}

fn io(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::invalid("snapshot", format!("{}: {e}", path.display()))
}

pub(super) async fn is_vacant(url: &str) -> Result<bool> {
    let mut conn = connect(url).await?;
    let n: i64 =
        sqlx::query_scalar("select count(*) from pg_namespace where nspname in ('vigil', 'vigil_vault', 'vigil_read')")
            .fetch_one(&mut conn)
            .await?;
    conn.close().await?;
    Ok(n == 0)
}

pub(super) async fn load(
    url: &str,
    from: &Path,
    migrations: &BTreeMap<String, Vec<i64>>,
) -> Result<BTreeMap<String, u64>> {
    if !is_vacant(url).await? {
        return Err(StoreError::invalid(
            "restore target",
            format!(
                "{} already has vigil schemas: restore only into a new, empty database",
                redact_url(url)
            ),
        ));
    }
    let wanted = migrations.get("log").cloned().unwrap_or_default();
    let known: Vec<i64> = PG_MIGRATOR.migrations.iter().map(|m| m.version).collect();
    if let Some(v) = wanted.iter().find(|v| !known.contains(v)) {
        return Err(StoreError::invalid(
            "snapshot",
            format!("it was taken at migration {v}, which this vigil does not know: restore with a newer vigil"),
        ));
    }
    // The schema as it was when the copy was taken, so the binary rows fit their columns.
    let at_snapshot = Migrator {
        migrations: Cow::Owned(
            PG_MIGRATOR
                .migrations
                .iter()
                .filter(|m| wanted.contains(&m.version))
                .cloned()
                .collect(),
        ),
        ..Migrator::DEFAULT
    };
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(pg_options(url)?)
        .await?;
    let migrated = at_snapshot.run(&pool).await;
    pool.close().await;
    migrated?;

    let mut conn = connect(url).await?;
    let present = tables(&mut conn).await?;
    let mut order = load_order(&mut conn, &present).await?;
    order.retain(|(s, _)| SCHEMAS.iter().any(|(name, _)| name == s));
    for (schema, table) in &order {
        if !from.join(file_name(schema, table)).is_file() {
            return Err(StoreError::invalid(
                "snapshot",
                format!("it has no copy of {schema}.{table}"),
            ));
        }
    }
    let mut tx = conn.begin().await?;
    for (schema, table) in &order {
        let path = from.join(file_name(schema, table));
        let file = tokio::fs::File::open(&path).await.map_err(|e| io(&path, e))?;
        let sql = format!("copy {} from stdin (format binary)", qualified(schema, table));
        let mut copy = tx.copy_in_raw(&sql).await?;
        if let Err(e) = copy.read_from(file).await {
            copy.abort(e.to_string()).await?;
            return Err(e.into());
        }
        copy.finish().await?;
    }
    let loaded = counts(&mut tx).await?;
    tx.commit().await?;
    conn.close().await?;
    Ok(loaded)
}

/// The tables in an order that loads every referenced table before the tables referring to it.
async fn load_order(conn: &mut PgConnection, tables: &[(String, String)]) -> Result<Vec<(String, String)>> {
    let edges: Vec<(String, String)> = sqlx::query_as(
        "select c.conrelid::regclass::text, c.confrelid::regclass::text from pg_constraint c \
         where c.contype = 'f'",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut left: Vec<(String, String)> = tables.to_vec();
    let mut order = Vec::new();
    while !left.is_empty() {
        let before = left.len();
        let mut i = 0;
        while i < left.len() {
            let (s, t) = &left[i];
            let me = format!("{s}.{t}");
            let waits = edges.iter().any(|(child, parent)| {
                child == &me && parent != &me && left.iter().any(|(ps, pt)| &format!("{ps}.{pt}") == parent)
            });
            if waits {
                i += 1;
            } else {
                order.push(left.remove(i));
            }
        }
        if left.len() == before {
            return Err(StoreError::Corrupt("foreign keys form a cycle".into()));
        }
    }
    Ok(order)
}

pub(super) async fn erasure_ledger(url: &str) -> Result<Vec<ErasedEntry>> {
    let mut conn = connect(url).await?;
    let entries = ledger(&mut conn).await;
    conn.close().await?;
    entries
}
