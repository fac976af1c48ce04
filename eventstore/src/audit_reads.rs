//! What an audit bundle's export reads from a [`ReadOnlyLog`] (ADR 0011): recorded checkpoints
//! in a size range and the cosignature lines beside them, the tree's edge, roots and proofs at
//! any recorded size, and pages of full event rows (header, nonce, ciphertext, links). Every
//! read goes through the read-only connections the log was opened with and needs no key.
//! Must not write anything, decrypt anything, or decide what a bundle holds (the API does).

use std::collections::HashMap;

use sqlx::Row;
use vigil_proofs::merkle::{self as tree, CompactRange, Hash, NodeId};

use crate::checkpoints::{RecordedCheckpoint, row_of};
use crate::db::on_db;
use crate::error::{Result, StoreError};
use crate::log::{self, to_i64, to_u64};
use crate::merkle::{PooledConn, subtrees};
use crate::model::Envelope;
use crate::readonly::ReadOnlyLog;

/// One event as stored: its envelope (with `prev_hash` and `hash`), nonce and ciphertext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawEvent {
    /// The clear header and the links.
    pub envelope: Envelope,
    /// The AES-GCM nonce.
    pub nonce: Vec<u8>,
    /// The sealed payload.
    pub ciphertext: Vec<u8>,
}

const COLS: &str = "size, root, note, signed_at";

impl ReadOnlyLog {
    /// The recorded checkpoints with `from <= size <= to`, ascending.
    ///
    /// # Errors
    /// Database errors; `Corrupt` for a malformed row.
    pub async fn checkpoints_between(&self, from: u64, to: u64) -> Result<Vec<RecordedCheckpoint>> {
        let (from, to) = (to_i64(from, "from")?, to_i64(to.min(i64::MAX as u64), "to")?);
        let sql = format!("select {COLS} from checkpoints where size >= $1 and size <= $2 order by size");
        let db = &self.db;
        on_db!(db, p => sqlx::query(sqlx::AssertSqlSafe(sql)).bind(from).bind(to).fetch_all(p).await?
            .iter().map(row_of).collect::<Result<Vec<_>>>())
    }

    /// The largest recorded checkpoint of size at most `size` and the smallest above it: the
    /// nearest recorded sizes, for a refusal to name.
    ///
    /// # Errors
    /// Database errors; `Corrupt` for a malformed row.
    pub async fn checkpoints_around(&self, size: u64) -> Result<(Option<u64>, Option<u64>)> {
        let size = to_i64(size.min(i64::MAX as u64), "size")?;
        let db = &self.db;
        let below: Option<i64> = on_db!(db, p => sqlx::query_scalar("select max(size) from checkpoints where size <= $1")
            .bind(size).fetch_one(p).await?);
        let above: Option<i64> = on_db!(db, p => sqlx::query_scalar("select min(size) from checkpoints where size > $1")
            .bind(size).fetch_one(p).await?);
        Ok((
            below.map(|s| to_u64(s, "checkpoint size")).transpose()?,
            above.map(|s| to_u64(s, "checkpoint size")).transpose()?,
        ))
    }

    /// The newest recorded checkpoint's size, if any.
    ///
    /// # Errors
    /// Database errors.
    pub async fn latest_checkpoint_size(&self) -> Result<Option<u64>> {
        Ok(self.checkpoints_around(u64::MAX).await?.0)
    }

    /// The cosignature lines recorded for checkpoints of sizes `from..=to`, by size then key id
    /// (the order `/checkpoint/{size}` serves them in).
    ///
    /// # Errors
    /// Database errors.
    pub async fn cosignatures_between(&self, from: u64, to: u64) -> Result<Vec<(u64, String)>> {
        const SQL: &str = "select size, line from cosignatures where size >= $1 and size <= $2 order by size, key_id";
        let (from, to) = (to_i64(from, "from")?, to_i64(to.min(i64::MAX as u64), "to")?);
        let db = &self.db;
        on_db!(db, p => sqlx::query(SQL).bind(from).bind(to).fetch_all(p).await?.iter()
            .map(|r| Ok((to_u64(r.try_get("size")?, "cosignature size")?, r.try_get("line")?)))
            .collect::<Result<Vec<_>>>())
    }

    async fn fetch(&self, ids: &[NodeId], size: u64) -> Result<HashMap<NodeId, Hash>> {
        let (head, _) = self.head().await?;
        if size > head {
            return Err(StoreError::TreeSizeBeyondLog { size, tree_size: head });
        }
        let mut conn = PooledConn::acquire(&self.db).await?;
        subtrees(&mut conn.tree(), ids).await
    }

    /// The hashes of the perfect subtrees covering the first `size` leaves, largest first
    /// (the tree's compact range at `size`).
    ///
    /// # Errors
    /// `TreeSizeBeyondLog`, `TreeNodeMissing`; database errors.
    pub async fn edge(&self, size: u64) -> Result<Vec<Hash>> {
        let parts = CompactRange::parts(size);
        let nodes = self.fetch(&parts, size).await?;
        parts
            .iter()
            .map(|p| {
                nodes.get(p).copied().ok_or(StoreError::TreeNodeMissing {
                    level: p.level,
                    index: p.index,
                })
            })
            .collect()
    }

    /// The root of the first `size` events.
    ///
    /// # Errors
    /// `TreeSizeBeyondLog`, `TreeNodeMissing`; database errors.
    pub async fn tree_root(&self, size: u64) -> Result<Hash> {
        let nodes = self.fetch(&tree::nodes_for_root(size), size).await?;
        tree::root(&nodes, size).map_err(missing)
    }

    /// The inclusion proof of leaf `index` in the tree of `size` (RFC 9162 §2.1.3).
    ///
    /// # Errors
    /// `LeafIndexBeyondSize`, `TreeSizeBeyondLog`, `TreeNodeMissing`; database errors.
    pub async fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>> {
        if index >= size {
            return Err(StoreError::LeafIndexBeyondSize { index, size });
        }
        let nodes = self.fetch(&tree::nodes_for_inclusion(index, size), size).await?;
        tree::inclusion_proof(&nodes, index, size).map_err(missing)
    }

    /// The consistency proof from tree `from` to tree `to` (RFC 9162 §2.1.4).
    ///
    /// # Errors
    /// `NoConsistencyProof` unless `0 < from <= to`; `TreeSizeBeyondLog`, `TreeNodeMissing`;
    /// database errors.
    pub async fn consistency_proof(&self, from: u64, to: u64) -> Result<Vec<Hash>> {
        if from == 0 || from > to {
            return Err(StoreError::NoConsistencyProof { from, to });
        }
        let nodes = self.fetch(&tree::nodes_for_consistency(from, to), to).await?;
        tree::consistency_proof(&nodes, from, to).map_err(missing)
    }

    /// Up to `limit` events from position `from` (inclusive), in position order, as stored.
    ///
    /// # Errors
    /// Database errors; `Corrupt` for a malformed row.
    pub async fn read_raw(&self, from: u64, limit: u64) -> Result<Vec<RawEvent>> {
        Ok(log::read_range(&self.db, from, limit)
            .await?
            .into_iter()
            .map(|r| RawEvent {
                envelope: r.env,
                nonce: r.nonce,
                ciphertext: r.ciphertext,
            })
            .collect())
    }
}

fn missing(m: tree::MissingNode) -> StoreError {
    StoreError::TreeNodeMissing {
        level: m.0.level,
        index: m.0.index,
    }
}
