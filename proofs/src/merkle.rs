//! The Merkle tree over the event log (RFC 9162 §2.1): leaf and node hashing, the root of any
//! size, and inclusion and consistency proofs, generated from a source of subtree hashes and
//! verified from nothing but the proof.
//!
//! Hashing is RFC 9162's with SHA-256 (ADR 0009, `docs/merkle.md`): a leaf is `SHA-256(0x00 ‖
//! leaf)`, an interior node `SHA-256(0x01 ‖ left ‖ right)`. A leaf's bytes are the event's chain
//! hash, so a tree node covers ciphertext only and no erasure ever changes one. Storage answers
//! [`SubtreeSource`] (the hash of one perfect subtree) and the generators ask it only for the
//! O(log n) subtrees a proof names; the `nodes_for_*` functions list them up front so storage
//! can fetch them in one read. Must not do I/O: storage, serving and signing live elsewhere.

use sha2::{Digest, Sha256};

mod compact;
mod memory;
mod prove;
mod verify;

pub use compact::CompactRange;
pub use memory::MemoryTree;
pub use prove::{
    MissingNode, consistency_proof, inclusion_proof, nodes_for_consistency, nodes_for_inclusion, nodes_for_root, root,
};
pub use verify::{VerifyError, root_from_inclusion_proof, verify_consistency, verify_inclusion};

/// A SHA-256 digest: a leaf hash, a node hash or a root.
pub type Hash = [u8; 32];

/// The root of the empty tree: `SHA-256()` of nothing (RFC 9162 §2.1.1).
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The hash of a leaf whose bytes are `leaf`: `SHA-256(0x00 ‖ leaf)`.
pub fn leaf_hash(leaf: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(leaf);
    h.finalize().into()
}

/// The hash of an interior node: `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// A perfect subtree: the `2^level` leaves from `index << level` (0-based leaf indices).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    /// Height above the leaves (0: a leaf).
    pub level: u32,
    /// Position among the subtrees of this height, from the left.
    pub index: u64,
}

impl NodeId {
    /// The subtree at `level` and `index`.
    pub fn new(level: u32, index: u64) -> Self {
        NodeId { level, index }
    }

    /// The first leaf it covers (0-based).
    pub fn first_leaf(self) -> u64 {
        self.index << self.level
    }

    /// One past the last leaf it covers.
    pub fn end_leaf(self) -> u64 {
        (self.index + 1) << self.level
    }
}

/// Whatever can answer the hash of a perfect subtree: storage (a node table, leaves under it),
/// or a map filled from one read of the nodes a proof needs.
pub trait SubtreeSource {
    /// Why a hash could not be given.
    type Error;

    /// The hash of the perfect subtree `node` (for level 0, the leaf hash).
    ///
    /// # Errors
    /// When the source does not hold it.
    fn subtree(&self, node: NodeId) -> Result<Hash, Self::Error>;
}

impl SubtreeSource for std::collections::HashMap<NodeId, Hash> {
    type Error = MissingNode;

    fn subtree(&self, node: NodeId) -> Result<Hash, MissingNode> {
        self.get(&node).copied().ok_or(MissingNode(node))
    }
}
