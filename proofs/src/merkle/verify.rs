//! Proof verification: RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency), in the
//! bit-walking form of transparency-dev/merkle's `proof` package, which computes the same
//! thing as the RFC's loops and rejects every malformed proof by its length alone. Needs
//! nothing but the proof, sizes and roots: no source, no storage. Must not generate proofs.

use super::{Hash, node_hash};

/// Why a proof was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyError {
    /// The leaf index is not below the tree size.
    IndexBeyondSize {
        /// The leaf's index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// The first size is larger than the second.
    SizesOutOfOrder {
        /// The older tree's size.
        from: u64,
        /// The newer tree's size.
        to: u64,
    },
    /// A consistency proof from the empty tree: RFC 9162 §2.1.4 defines them for a first
    /// size above zero only, and every tree extends the empty one anyway.
    FromEmptyTree,
    /// The proof has the wrong number of hashes for these sizes.
    WrongLength {
        /// Hashes given.
        got: usize,
        /// Hashes these sizes need.
        want: usize,
    },
    /// The proof does not lead to the (first, for consistency) root.
    RootMismatch,
    /// A consistency proof leads to the first root but not to the second.
    SecondRootMismatch,
}

impl std::fmt::Display for VerifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VerifyError::IndexBeyondSize { index, size } => write!(f, "leaf index {index} is not below size {size}"),
            VerifyError::SizesOutOfOrder { from, to } => write!(f, "size {from} is larger than size {to}"),
            VerifyError::FromEmptyTree => f.write_str("no consistency proof starts at the empty tree"),
            VerifyError::WrongLength { got, want } => write!(f, "proof has {got} hashes, these sizes need {want}"),
            VerifyError::RootMismatch => f.write_str("the proof does not lead to the root"),
            VerifyError::SecondRootMismatch => f.write_str("the proof does not lead to the second root"),
        }
    }
}

impl std::error::Error for VerifyError {}

/// The number of path hashes below the point where the leaf's path leaves the tree's left,
/// perfect part (`inner`), and the number above, on the tree's right border (`border`).
fn decompose(index: u64, size: u64) -> (usize, usize) {
    let inner = (64 - (index ^ (size - 1)).leading_zeros()) as usize;
    let border = (index >> inner).count_ones() as usize;
    (inner, border)
}

fn chain_inner(mut seed: Hash, proof: &[Hash], index: u64) -> Hash {
    for (i, h) in proof.iter().enumerate() {
        seed = if (index >> i) & 1 == 0 {
            node_hash(&seed, h)
        } else {
            node_hash(h, &seed)
        };
    }
    seed
}

fn chain_inner_right(mut seed: Hash, proof: &[Hash], index: u64) -> Hash {
    for (i, h) in proof.iter().enumerate() {
        if (index >> i) & 1 == 1 {
            seed = node_hash(h, &seed);
        }
    }
    seed
}

fn chain_border_right(mut seed: Hash, proof: &[Hash]) -> Hash {
    for h in proof {
        seed = node_hash(h, &seed);
    }
    seed
}

/// The root an inclusion proof leads to from `leaf_hash` at `index` in a tree of `size`.
///
/// # Errors
/// `IndexBeyondSize`, `WrongLength`.
pub fn root_from_inclusion_proof(index: u64, size: u64, leaf_hash: &Hash, proof: &[Hash]) -> Result<Hash, VerifyError> {
    if index >= size {
        return Err(VerifyError::IndexBeyondSize { index, size });
    }
    let (inner, border) = decompose(index, size);
    if proof.len() != inner + border {
        return Err(VerifyError::WrongLength {
            got: proof.len(),
            want: inner + border,
        });
    }
    let (inner_part, border_part) = proof.split_at(inner);
    Ok(chain_border_right(
        chain_inner(*leaf_hash, inner_part, index),
        border_part,
    ))
}

/// Checks that `leaf_hash` is leaf `index` of the tree of `size` leaves whose root is `root`.
///
/// # Errors
/// Why it is not.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf_hash: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), VerifyError> {
    if root_from_inclusion_proof(index, size, leaf_hash, proof)? == *root {
        Ok(())
    } else {
        Err(VerifyError::RootMismatch)
    }
}

/// Checks that the tree of `from` leaves with root `root1` is a prefix of the tree of `to`
/// leaves with root `root2`. A first size of zero is refused (as transparency-dev/merkle's
/// vectors want): there is nothing to prove.
///
/// # Errors
/// Why it is not.
pub fn verify_consistency(from: u64, to: u64, proof: &[Hash], root1: &Hash, root2: &Hash) -> Result<(), VerifyError> {
    if to < from {
        return Err(VerifyError::SizesOutOfOrder { from, to });
    }
    if from == 0 {
        return Err(VerifyError::FromEmptyTree);
    }
    if from == to {
        if !proof.is_empty() {
            return Err(VerifyError::WrongLength {
                got: proof.len(),
                want: 0,
            });
        }
        return if root1 == root2 {
            Ok(())
        } else {
            Err(VerifyError::RootMismatch)
        };
    }
    let (inner, border) = decompose(from - 1, to);
    let shift = from.trailing_zeros() as usize;
    // `from < to` makes the paths of leaf from-1 in both trees share at least `shift` levels.
    let inner = inner - shift;
    // The proof opens with the subtree of 2^shift leaves that ends the old tree, unless the
    // old tree is that subtree (then its root is the seed).
    let (seed, rest) = if from == 1 << shift {
        (*root1, proof)
    } else {
        match proof.split_first() {
            Some((first, rest)) => (*first, rest),
            None => {
                return Err(VerifyError::WrongLength {
                    got: 0,
                    want: 1 + inner + border,
                });
            }
        }
    };
    if rest.len() != inner + border {
        let opening = proof.len() - rest.len();
        return Err(VerifyError::WrongLength {
            got: proof.len(),
            want: opening + inner + border,
        });
    }
    let (inner_part, border_part) = rest.split_at(inner);
    let mask = (from - 1) >> shift;
    let hash1 = chain_border_right(chain_inner_right(seed, inner_part, mask), border_part);
    if hash1 != *root1 {
        return Err(VerifyError::RootMismatch);
    }
    let hash2 = chain_border_right(chain_inner(seed, inner_part, mask), border_part);
    if hash2 != *root2 {
        return Err(VerifyError::SecondRootMismatch);
    }
    Ok(())
}
