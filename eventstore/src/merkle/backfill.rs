//! Builds the stored tree of a log that has events but no tree yet (a store created before
//! the tree existed), when the store opens and before its appender starts. It holds the chain
//! head's lock for the whole build (Postgres `for update`, SQLite `begin immediate`), so no
//! process appends meanwhile and a second opener waits and then finds the tree built; it is
//! one transaction, so a crash leaves no half tree. Memory stays bounded: chain hashes are
//! read a page at a time and nodes written in batches. Must not run while appends go on
//! outside the head lock (none do).

use sqlx::{Connection, Row};
use vigil_proofs::merkle::CompactRange;

use super::{NodeRow, STORED_FROM, TreeConn, push_leaf};
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::log::{self, to_u64};

/// Chain hashes read per page.
const PAGE: u64 = 50_000;
/// Nodes written per insert.
const BATCH: usize = 20_000;

/// Builds the tree if the log has leaves the stored tree lacks; returns how many leaves it
/// hashed (0 when the tree was complete).
///
/// # Errors
/// Database errors; `Corrupt` for a log with holes.
pub(crate) async fn backfill(db: &Db) -> Result<u64> {
    match db {
        Db::Postgres(pool) => {
            let mut conn = pool.acquire().await?;
            let mut tx = conn.begin().await?;
            let size = log::lock_head_pg(&mut tx).await?.position;
            let built = build(&mut TreeConn::Pg(&mut tx), size).await?;
            tx.commit().await?;
            Ok(built)
        }
        Db::Sqlite(pool) => {
            let mut conn = pool.acquire().await?;
            let mut tx = conn.begin_with("begin immediate").await?;
            let row = sqlx::query("select last_position from chain_head where id = 1")
                .fetch_one(&mut *tx)
                .await?;
            let size = to_u64(row.try_get("last_position")?, "head position")?;
            let built = build(&mut TreeConn::Sqlite(&mut tx), size).await?;
            tx.commit().await?;
            Ok(built)
        }
    }
}

async fn build(conn: &mut TreeConn<'_>, size: u64) -> Result<u64> {
    // A tree this small stores nothing; otherwise its largest part is written by the append
    // (or backfill) that completed it, so its presence says the tree is there.
    let Some(top) = CompactRange::parts(size)
        .first()
        .copied()
        .filter(|p| p.level >= STORED_FROM)
    else {
        return Ok(0);
    };
    if !conn.nodes(&[top]).await?.is_empty() {
        return Ok(0);
    }
    tracing::info!(events = size, "building the Merkle tree over the existing log");
    let mut edge = CompactRange::new();
    let mut nodes: Vec<NodeRow> = Vec::with_capacity(BATCH);
    while edge.size() < size {
        let first = edge.size();
        let page = conn.chain_hashes(first, (first + PAGE).min(size)).await?;
        if page.is_empty() {
            return Err(StoreError::Corrupt(format!(
                "merkle backfill: no event at position {}",
                first + 1
            )));
        }
        for (position, chain) in page {
            if position != edge.size() + 1 {
                return Err(StoreError::Corrupt(format!(
                    "merkle backfill: position {} is missing",
                    edge.size() + 1
                )));
            }
            push_leaf(&mut edge, &chain, &mut nodes);
        }
        if nodes.len() >= BATCH {
            conn.insert(&nodes).await?;
            nodes.clear();
        }
    }
    conn.insert(&nodes).await?;
    tracing::info!(events = size, "the Merkle tree is built");
    Ok(size)
}
