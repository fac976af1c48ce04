//! The Merkle tree over the log (ADR 0009): leaf `i` is the chain hash of the event at
//! position `i + 1`, hashed as RFC 9162 with SHA-256 (`vigil-proofs`). The appender keeps the
//! tree's right edge ([`CompactRange`]) and writes every perfect subtree of level
//! [`STORED_FROM`] or more that a group completes in the group's own statement, under the same
//! head lock as its events, so the tree always covers exactly the committed log. Smaller
//! subtrees are hashed from the events' chain hashes when asked (at most 15 rows). Roots and
//! proofs for any size fetch the O(log n) subtrees they name in a few reads, never a scan.
//! Must not decide what is appended; erasure never touches it (the leaves cover ciphertext).

use std::collections::{BTreeSet, HashMap};

use vigil_proofs::merkle::{self as tree, CompactRange, Hash, NodeId, leaf_hash, node_hash};

use crate::error::{Result, StoreError};
use crate::log::StoredRow;
use crate::store::EventStore;

mod backfill;
pub(crate) mod sql;
mod verify;

pub(crate) use backfill::backfill;
pub(crate) use verify::verify_tree_on;
pub use verify::{TreeBreak, TreeFault, TreeReport};

pub(crate) use sql::{NodeRow, PooledConn, TreeConn};

/// Lowest level stored: subtrees of 16 leaves and more. Lower ones cost a row per leaf or two
/// at append for what one 15-row range read of the events gives back (ADR 0009).
pub(crate) const STORED_FROM: u32 = 4;

/// Adds `rows` (the next positions after the edge, in order) to the edge and returns the
/// nodes to store.
///
/// # Errors
/// `Corrupt` when a row is not the next position.
pub(crate) fn extend(edge: &mut CompactRange, rows: &[StoredRow]) -> Result<Vec<NodeRow>> {
    let mut nodes = Vec::with_capacity(rows.len() / 8 + 1);
    for row in rows {
        if row.env.position != edge.size() + 1 {
            return Err(StoreError::Corrupt(format!(
                "merkle: position {} does not follow the tree's {} leaves",
                row.env.position,
                edge.size()
            )));
        }
        push_leaf(edge, &row.env.hash, &mut nodes);
    }
    Ok(nodes)
}

/// Adds one leaf by its chain hash, collecting the stored nodes it completes.
pub(crate) fn push_leaf(edge: &mut CompactRange, chain_hash: &Hash, nodes: &mut Vec<NodeRow>) {
    edge.push(leaf_hash(chain_hash), |node, hash| {
        if node.level >= STORED_FROM {
            nodes.push((node.level, node.index, *hash));
        }
    });
}

/// The right edge of the tree of `size` leaves, read from storage.
///
/// # Errors
/// `TreeNodeMissing` when the stored tree lacks a part; database errors.
pub(crate) async fn load_edge(conn: &mut TreeConn<'_>, size: u64) -> Result<CompactRange> {
    let parts = CompactRange::parts(size);
    let hashes = subtrees(conn, &parts).await?;
    let ordered = parts
        .iter()
        .map(|p| {
            hashes.get(p).copied().ok_or(StoreError::TreeNodeMissing {
                level: p.level,
                index: p.index,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    CompactRange::from_parts(size, ordered)
        .ok_or_else(|| StoreError::Corrupt("merkle: edge does not fit its size".into()))
}

/// The tree's edge at `size` (the head a group is planned on): `remembered` if it is at that
/// size, else read through `tree` (the group's own connection or transaction) and remembered.
/// Nodes below a committed head never change, so an edge read outside the lock is right for
/// its size; the group's write is refused anyway if the head has moved.
///
/// # Errors
/// As [`load_edge`].
pub(crate) async fn edge_at(
    remembered: &mut Option<CompactRange>,
    tree: &mut TreeConn<'_>,
    size: u64,
) -> Result<CompactRange> {
    if let Some(edge) = remembered.as_ref().filter(|e| e.size() == size) {
        return Ok(edge.clone());
    }
    let edge = load_edge(tree, size).await?;
    *remembered = Some(edge.clone());
    Ok(edge)
}

/// The hashes of perfect subtrees `ids`: stored ones read by key, smaller ones hashed from the
/// chain hashes under them (one range read per run of 16 leaves).
///
/// # Errors
/// `TreeNodeMissing` for a stored subtree that is absent, `Corrupt` for a leaf that is;
/// database errors.
pub(crate) async fn subtrees(conn: &mut TreeConn<'_>, ids: &[NodeId]) -> Result<HashMap<NodeId, Hash>> {
    let (stored, low): (Vec<NodeId>, Vec<NodeId>) = ids.iter().partition(|n| n.level >= STORED_FROM);
    let mut out = conn.nodes(&stored).await?;
    if let Some(missing) = stored.iter().find(|n| !out.contains_key(n)) {
        return Err(StoreError::TreeNodeMissing {
            level: missing.level,
            index: missing.index,
        });
    }
    // Each low subtree lies inside one aligned run of 2^STORED_FROM leaves: read each run once.
    let runs: BTreeSet<u64> = low.iter().map(|n| n.first_leaf() >> STORED_FROM).collect();
    let mut leaves: HashMap<u64, Hash> = HashMap::new();
    for run in runs {
        let first = run << STORED_FROM;
        let in_run = low.iter().filter(|n| n.first_leaf() >> STORED_FROM == run);
        let end = in_run.map(|n| n.end_leaf()).max().unwrap_or(first);
        for (position, chain) in conn.chain_hashes(first, end).await? {
            leaves.insert(position - 1, leaf_hash(&chain));
        }
    }
    for node in low {
        let mut level: Vec<Hash> = (node.first_leaf()..node.end_leaf())
            .map(|i| {
                leaves
                    .get(&i)
                    .copied()
                    .ok_or_else(|| StoreError::Corrupt(format!("merkle: no event at position {}", i + 1)))
            })
            .collect::<Result<_>>()?;
        while level.len() > 1 {
            level = level
                .chunks(2)
                .map(|pair| node_hash(&pair[0], &pair[pair.len() - 1]))
                .collect();
        }
        if let Some(hash) = level.first() {
            out.insert(node, *hash);
        }
    }
    Ok(out)
}

impl EventStore {
    /// Leaves in the Merkle tree: every committed event, so the head position.
    ///
    /// # Errors
    /// Database errors.
    pub async fn tree_size(&self) -> Result<u64> {
        self.head_position().await
    }

    /// The root (RFC 9162 tree head) of the first `size` events.
    ///
    /// # Errors
    /// `TreeSizeBeyondLog`; `TreeNodeMissing`; database errors.
    pub async fn tree_root(&self, size: u64) -> Result<Hash> {
        self.check_size(size).await?;
        let nodes = self.fetch_subtrees(&tree::nodes_for_root(size)).await?;
        tree::root(&nodes, size).map_err(missing)
    }

    /// The audit path of leaf `leaf_index` (the event at position `leaf_index + 1`) in the tree
    /// of the first `size` events, deepest sibling first (RFC 9162 §2.1.3).
    ///
    /// # Errors
    /// `LeafIndexBeyondSize`, `TreeSizeBeyondLog`; `TreeNodeMissing`; database errors.
    pub async fn inclusion_proof(&self, leaf_index: u64, size: u64) -> Result<Vec<Hash>> {
        if leaf_index >= size {
            return Err(StoreError::LeafIndexBeyondSize {
                index: leaf_index,
                size,
            });
        }
        self.check_size(size).await?;
        let nodes = self
            .fetch_subtrees(&tree::nodes_for_inclusion(leaf_index, size))
            .await?;
        tree::inclusion_proof(&nodes, leaf_index, size).map_err(missing)
    }

    /// The proof that the tree of the first `from` events is a prefix of the tree of the
    /// first `to` (RFC 9162 §2.1.4); empty when `from == to`.
    ///
    /// # Errors
    /// `NoConsistencyProof` unless `0 < from <= to`; `TreeSizeBeyondLog`; `TreeNodeMissing`;
    /// database errors.
    pub async fn consistency_proof(&self, from: u64, to: u64) -> Result<Vec<Hash>> {
        if from == 0 || from > to {
            return Err(StoreError::NoConsistencyProof { from, to });
        }
        self.check_size(to).await?;
        let nodes = self.fetch_subtrees(&tree::nodes_for_consistency(from, to)).await?;
        tree::consistency_proof(&nodes, from, to).map_err(missing)
    }

    async fn check_size(&self, size: u64) -> Result<()> {
        let tree_size = self.tree_size().await?;
        if size > tree_size {
            return Err(StoreError::TreeSizeBeyondLog { size, tree_size });
        }
        Ok(())
    }

    async fn fetch_subtrees(&self, ids: &[NodeId]) -> Result<HashMap<NodeId, Hash>> {
        let mut conn = PooledConn::acquire(self.log_db()).await?;
        subtrees(&mut conn.tree(), ids).await
    }
}

fn missing(m: tree::MissingNode) -> StoreError {
    StoreError::TreeNodeMissing {
        level: m.0.level,
        index: m.0.index,
    }
}

/// The leaf hash of a chain hash, for callers that hold events (tests, the bench).
pub fn leaf_of(chain_hash: &Hash) -> Hash {
    leaf_hash(chain_hash)
}
