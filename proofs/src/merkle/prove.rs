//! Proof generation (RFC 9162 §2.1.3.1 inclusion, §2.1.4.1 consistency) and the tree head
//! (§2.1.1 MTH), written over [`SubtreeSource`]: each range the RFC hashes is split into the
//! perfect subtrees it is made of, so a source holding perfect subtrees answers any size in
//! O(log n) lookups. The `nodes_for_*` functions run the same code against a recorder, so the
//! list a caller prefetches is by construction the list the generator asks for. Must not
//! verify (that is `verify.rs`, which shares nothing with this file on purpose).

use std::cell::RefCell;

use super::{Hash, NodeId, SubtreeSource, empty_root, node_hash};

/// A source could not give the hash of this subtree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MissingNode(pub NodeId);

impl std::fmt::Display for MissingNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no hash for subtree level {} index {}", self.0.level, self.0.index)
    }
}

impl std::error::Error for MissingNode {}

/// Where the RFC splits `n > 1` leaves: the largest power of two smaller than `n`.
fn split(n: u64) -> u64 {
    debug_assert!(n > 1);
    1 << (63 - (n - 1).leading_zeros())
}

/// MTH of the leaves `[lo, hi)`, `hi > lo`, `lo` aligned as the RFC's recursion leaves it.
fn range_hash<S: SubtreeSource>(src: &S, lo: u64, hi: u64) -> Result<Hash, S::Error> {
    let n = hi - lo;
    if n.is_power_of_two() && lo.is_multiple_of(n) {
        let level = n.trailing_zeros();
        return src.subtree(NodeId::new(level, lo >> level));
    }
    let k = split(n);
    Ok(node_hash(&range_hash(src, lo, lo + k)?, &range_hash(src, lo + k, hi)?))
}

/// The tree head of the first `size` leaves (MTH, RFC 9162 §2.1.1).
///
/// # Errors
/// The source's, when it lacks a subtree.
pub fn root<S: SubtreeSource>(src: &S, size: u64) -> Result<Hash, S::Error> {
    if size == 0 {
        return Ok(empty_root());
    }
    range_hash(src, 0, size)
}

/// The audit path of leaf `index` (0-based) in the tree of `size` leaves, deepest sibling first
/// (PATH, RFC 9162 §2.1.3.1). The caller checks `index < size`; an index at or beyond `size`
/// yields an empty path, which no verifier accepts.
///
/// # Errors
/// The source's, when it lacks a subtree.
pub fn inclusion_proof<S: SubtreeSource>(src: &S, index: u64, size: u64) -> Result<Vec<Hash>, S::Error> {
    let mut out = Vec::new();
    if index < size {
        path(src, index, 0, size, &mut out)?;
    }
    Ok(out)
}

fn path<S: SubtreeSource>(src: &S, m: u64, lo: u64, hi: u64, out: &mut Vec<Hash>) -> Result<(), S::Error> {
    let n = hi - lo;
    if n <= 1 {
        return Ok(());
    }
    let k = split(n);
    if m < lo + k {
        path(src, m, lo, lo + k, out)?;
        out.push(range_hash(src, lo + k, hi)?);
    } else {
        path(src, m, lo + k, hi, out)?;
        out.push(range_hash(src, lo, lo + k)?);
    }
    Ok(())
}

/// The proof that the tree of `from` leaves is a prefix of the tree of `to` leaves (PROOF,
/// RFC 9162 §2.1.4.1). Empty when `from` is 0 or equals `to`; the caller checks `from <= to`.
///
/// # Errors
/// The source's, when it lacks a subtree.
pub fn consistency_proof<S: SubtreeSource>(src: &S, from: u64, to: u64) -> Result<Vec<Hash>, S::Error> {
    let mut out = Vec::new();
    if from > 0 && from < to {
        subproof(src, from, 0, to, true, &mut out)?;
    }
    Ok(out)
}

fn subproof<S: SubtreeSource>(
    src: &S,
    m: u64,
    lo: u64,
    hi: u64,
    whole: bool,
    out: &mut Vec<Hash>,
) -> Result<(), S::Error> {
    let n = hi - lo;
    if m == n {
        if !whole {
            out.push(range_hash(src, lo, hi)?);
        }
        return Ok(());
    }
    let k = split(n);
    if m <= k {
        subproof(src, m, lo, lo + k, whole, out)?;
        out.push(range_hash(src, lo + k, hi)?);
    } else {
        subproof(src, m - k, lo + k, hi, false, out)?;
        out.push(range_hash(src, lo, lo + k)?);
    }
    Ok(())
}

/// Answers every request with a dummy hash and remembers what was asked.
#[derive(Default)]
struct Recorder(RefCell<Vec<NodeId>>);

impl SubtreeSource for Recorder {
    type Error = std::convert::Infallible;

    fn subtree(&self, node: NodeId) -> Result<Hash, Self::Error> {
        self.0.borrow_mut().push(node);
        Ok([0; 32])
    }
}

fn recorded(run: impl FnOnce(&Recorder)) -> Vec<NodeId> {
    let recorder = Recorder::default();
    run(&recorder);
    let mut nodes = recorder.0.into_inner();
    nodes.sort_unstable();
    nodes.dedup();
    nodes
}

/// The subtrees [`root`] reads for `size` (the binary decomposition of `size`).
pub fn nodes_for_root(size: u64) -> Vec<NodeId> {
    recorded(|r| {
        let _ = root(r, size);
    })
}

/// The subtrees [`inclusion_proof`] reads.
pub fn nodes_for_inclusion(index: u64, size: u64) -> Vec<NodeId> {
    recorded(|r| {
        let _ = inclusion_proof(r, index, size);
    })
}

/// The subtrees [`consistency_proof`] reads.
pub fn nodes_for_consistency(from: u64, to: u64) -> Vec<NodeId> {
    recorded(|r| {
        let _ = consistency_proof(r, from, to);
    })
}
