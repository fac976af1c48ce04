//! The compact range of a tree: the hashes of the perfect subtrees that the first `size`
//! leaves break into (one per set bit of `size`, largest first). It is all an appender needs
//! to add leaves and to know every perfect subtree each new leaf completes, so the tree grows
//! in O(log n) work and memory per leaf, never by reading the log again. Must not store or
//! read anything: the caller keeps the nodes it is handed.

use super::{Hash, NodeId, empty_root, node_hash};

/// The right edge of a tree: enough to extend it and to give its root.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CompactRange {
    size: u64,
    /// One hash per set bit of `size`, from the highest bit (the leftmost subtree) down.
    hashes: Vec<Hash>,
}

impl CompactRange {
    /// The range of the empty tree.
    pub fn new() -> Self {
        CompactRange::default()
    }

    /// The perfect subtrees the first `size` leaves break into, left to right.
    pub fn parts(size: u64) -> Vec<NodeId> {
        let mut out = Vec::new();
        let mut start = 0u64;
        for level in (0..64u32).rev() {
            if (size >> level) & 1 == 1 {
                out.push(NodeId::new(level, start >> level));
                start += 1 << level;
            }
        }
        out
    }

    /// A range from the hashes of [`CompactRange::parts`]`(size)`, in that order; `None` when
    /// their number does not fit `size`.
    pub fn from_parts(size: u64, hashes: Vec<Hash>) -> Option<Self> {
        (hashes.len() == size.count_ones() as usize).then_some(CompactRange { size, hashes })
    }

    /// Leaves covered.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Adds the leaf whose leaf hash is `leaf` (already `SHA-256(0x00 ‖ …)`), and hands
    /// `completed` every perfect subtree it completes, the leaf itself (level 0) first, then
    /// upwards.
    pub fn push(&mut self, leaf: Hash, mut completed: impl FnMut(NodeId, &Hash)) {
        let index = self.size;
        let mut hash = leaf;
        completed(NodeId::new(0, index), &hash);
        let mut level = 0;
        while (index >> level) & 1 == 1 {
            let Some(left) = self.hashes.pop() else { break };
            hash = node_hash(&left, &hash);
            level += 1;
            // `index + 1` is a multiple of 2^level here, so the subtree's index is this.
            completed(NodeId::new(level, index >> level), &hash);
        }
        self.hashes.push(hash);
        self.size += 1;
    }

    /// The tree head of the covered leaves (MTH): the parts folded from the right.
    pub fn root(&self) -> Hash {
        let mut parts = self.hashes.iter().rev();
        let Some(last) = parts.next() else {
            return empty_root();
        };
        parts.fold(*last, |right, left| node_hash(left, &right))
    }
}
