//! A whole tree in memory: every level of every perfect subtree. The reference the storage
//! tests compare against, and the source the vector and property tests prove from. Must not
//! be used for the log itself (its memory grows with the log; storage keeps the log's tree).

use super::{CompactRange, Hash, MissingNode, NodeId, SubtreeSource};

/// Every perfect subtree of a tree, level by level.
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    /// `levels[l][i]`: the subtree of level `l` and index `i`.
    levels: Vec<Vec<Hash>>,
    edge: CompactRange,
}

impl MemoryTree {
    /// An empty tree.
    pub fn new() -> Self {
        MemoryTree::default()
    }

    /// Adds a leaf by its leaf hash.
    pub fn push_hash(&mut self, leaf: Hash) {
        let levels = &mut self.levels;
        self.edge.push(leaf, |node, hash| {
            let level = node.level as usize;
            if levels.len() <= level {
                levels.resize_with(level + 1, Vec::new);
            }
            levels[level].push(*hash);
        });
    }

    /// Leaves held.
    pub fn size(&self) -> u64 {
        self.edge.size()
    }

    /// The root of all the leaves.
    pub fn current_root(&self) -> Hash {
        self.edge.root()
    }
}

impl SubtreeSource for MemoryTree {
    type Error = MissingNode;

    fn subtree(&self, node: NodeId) -> Result<Hash, MissingNode> {
        let found = self
            .levels
            .get(node.level as usize)
            .and_then(|l| usize::try_from(node.index).ok().and_then(|i| l.get(i)));
        found.copied().ok_or(MissingNode(node))
    }
}
