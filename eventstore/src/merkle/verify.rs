//! `verify_tree`: recomputes the Merkle tree from the chain hashes in the log, page by page,
//! and compares every stored subtree with its recomputation, naming the first position whose
//! subtree is missing or differs. A stored node beyond the log is reported too. Memory stays
//! bounded (one page of hashes, the tree's edge). Must not repair anything: it reports.

use std::fmt;

use sqlx::Row;
use vigil_proofs::merkle::{CompactRange, Hash, NodeId};

use super::{NodeRow, PooledConn, push_leaf};
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::log::{self, to_i64};
use crate::store::EventStore;

/// Chain hashes read per page.
const PAGE: u64 = 50_000;

/// What is wrong with the stored tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TreeFault {
    /// A subtree the log has completed is not stored.
    Missing,
    /// A stored subtree differs from the one the chain hashes give.
    Mismatch,
    /// A subtree is stored beyond the end of the log.
    BeyondLog,
    /// The log has no event at this position (`verify_chain` says more).
    NoEvent,
}

impl fmt::Display for TreeFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TreeFault::Missing => "a Merkle subtree starting here is missing",
            TreeFault::Mismatch => "a stored Merkle subtree starting here differs from the chain hashes",
            TreeFault::BeyondLog => "Merkle subtrees are stored beyond the end of the log",
            TreeFault::NoEvent => "no event at this position",
        })
    }
}

/// The first fault found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeBreak {
    /// The first position (1-based) the faulty subtree covers.
    pub position: u64,
    /// The subtree's level (0 for a position without event).
    pub level: u32,
    /// The subtree's index at its level.
    pub index: u64,
    /// What is wrong.
    pub fault: TreeFault,
}

/// An intact tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeReport {
    /// Leaves checked (the head position when the walk started).
    pub leaves: u64,
    /// Their root.
    pub root: Hash,
}

fn broken(node: NodeId, fault: TreeFault) -> TreeBreak {
    TreeBreak {
        position: node.first_leaf() + 1,
        level: node.level,
        index: node.index,
        fault,
    }
}

impl EventStore {
    /// Recomputes the Merkle tree from the chain hashes up to the head recorded when it starts
    /// and compares it with the stored nodes. `progress(done, total)` is called after each page.
    ///
    /// # Errors
    /// Database errors only; a bad tree is the `Ok(Err(TreeBreak))` case.
    pub async fn verify_tree(&self, progress: impl FnMut(u64, u64)) -> Result<Result<TreeReport, TreeBreak>> {
        verify_tree_on(self.log_db(), progress).await
    }
}

/// [`EventStore::verify_tree`] on any pool of the log: the store's, or the read-only one of
/// [`crate::ReadOnlyLog`]. Only selects.
pub(crate) async fn verify_tree_on(
    db: &Db,
    mut progress: impl FnMut(u64, u64),
) -> Result<Result<TreeReport, TreeBreak>> {
    let size = log::read_head(db).await?.position;
    let mut conn = PooledConn::acquire(db).await?;
    let mut edge = CompactRange::new();
    while edge.size() < size {
        let first = edge.size();
        let end = (first + PAGE).min(size);
        let (page, stored) = {
            let mut expected: Vec<NodeRow> = Vec::new();
            let page = conn.tree().chain_hashes(first, end).await?;
            for (position, chain) in &page {
                if *position != edge.size() + 1 {
                    return Ok(Err(broken(NodeId::new(0, edge.size()), TreeFault::NoEvent)));
                }
                push_leaf(&mut edge, chain, &mut expected);
            }
            let ids: Vec<NodeId> = expected.iter().map(|(l, i, _)| NodeId::new(*l, *i)).collect();
            let found = conn.tree().nodes(&ids).await?;
            (expected, found)
        };
        if edge.size() < end {
            return Ok(Err(broken(NodeId::new(0, edge.size()), TreeFault::NoEvent)));
        }
        for (level, index, hash) in page {
            let node = NodeId::new(level, index);
            match stored.get(&node) {
                None => return Ok(Err(broken(node, TreeFault::Missing))),
                Some(h) if *h != hash => return Ok(Err(broken(node, TreeFault::Mismatch))),
                Some(_) => {}
            }
        }
        progress(edge.size(), size);
    }
    // Nodes beyond the log can be told from a racing append only while the head stands.
    if log::read_head(db).await?.position == size && beyond(db, size).await? > 0 {
        return Ok(Err(TreeBreak {
            position: size + 1,
            level: 0,
            index: size,
            fault: TreeFault::BeyondLog,
        }));
    }
    Ok(Ok(TreeReport {
        leaves: size,
        root: edge.root(),
    }))
}

async fn beyond(db: &Db, size: u64) -> Result<i64> {
    const SQL: &str = "select count(*) as n from merkle_nodes where ((idx + 1) << level) > $1";
    let size = to_i64(size, "size")?;
    let row = match db {
        Db::Postgres(p) => sqlx::query(SQL).bind(size).fetch_one(p).await?.try_get::<i64, _>("n")?,
        Db::Sqlite(p) => sqlx::query(SQL).bind(size).fetch_one(p).await?.try_get::<i64, _>("n")?,
    };
    if row < 0 {
        return Err(StoreError::Corrupt("negative count".into()));
    }
    Ok(row)
}
