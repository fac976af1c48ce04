//! Properties of the proofs over random trees: every proof generated verifies, and changing
//! any hash of it, the root, the index or a size makes it fail. Also the agreements the
//! storage relies on: the compact range's root is MTH, and the `nodes_for_*` lists hold
//! exactly what the generators read.

// A test crate: a failed expectation should panic with the value in the message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;

use proptest::prelude::*;
use vigil_proofs::merkle::{
    CompactRange, Hash, MemoryTree, NodeId, SubtreeSource, consistency_proof, empty_root, inclusion_proof, leaf_hash,
    node_hash, nodes_for_consistency, nodes_for_inclusion, nodes_for_root, root, verify_consistency, verify_inclusion,
};

fn tree(size: u64) -> MemoryTree {
    let mut t = MemoryTree::new();
    for i in 0..size {
        t.push_hash(leaf_hash(&i.to_be_bytes()));
    }
    t
}

/// MTH straight from RFC 9162 §2.1.1, over leaf hashes: the definition the rest must match.
fn mth(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = 1 << (usize::BITS - 1 - (n - 1).leading_zeros());
            node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
        }
    }
}

fn only(t: &MemoryTree, nodes: &[NodeId]) -> HashMap<NodeId, Hash> {
    nodes.iter().map(|n| (*n, t.subtree(*n).unwrap())).collect()
}

#[test]
fn roots_match_the_rfc_definition_for_every_size_up_to_300() {
    let leaves: Vec<Hash> = (0..300u64).map(|i| leaf_hash(&i.to_be_bytes())).collect();
    let t = tree(300);
    let mut edge = CompactRange::new();
    for size in 0..=300usize {
        let want = mth(&leaves[..size]);
        assert_eq!(root(&t, size as u64).unwrap(), want, "size {size}");
        assert_eq!(edge.root(), want, "compact range at {size}");
        let parts: Vec<Hash> = CompactRange::parts(size as u64)
            .iter()
            .map(|n| t.subtree(*n).unwrap())
            .collect();
        assert_eq!(CompactRange::from_parts(size as u64, parts).unwrap(), edge);
        if let Some(leaf) = leaves.get(size) {
            edge.push(*leaf, |_, _| {});
        }
    }
}

proptest! {
    #[test]
    fn an_inclusion_proof_verifies_and_any_change_fails(size in 1u64..600, pick in any::<u64>(), flip in any::<(usize, u8)>()) {
        let t = tree(size);
        let index = pick % size;
        let r = root(&t, size).unwrap();
        let leaf = t.subtree(NodeId::new(0, index)).unwrap();
        // From the prefetched nodes alone, as storage serves it.
        let p = inclusion_proof(&only(&t, &nodes_for_inclusion(index, size)), index, size).unwrap();
        prop_assert_eq!(&p, &inclusion_proof(&t, index, size).unwrap());
        prop_assert!(verify_inclusion(index, size, &leaf, &p, &r).is_ok());
        let mut bad_root = r;
        bad_root[flip.0 % 32] ^= 1 | flip.1;
        prop_assert!(verify_inclusion(index, size, &leaf, &p, &bad_root).is_err());
        if !p.is_empty() {
            let mut bad = p.clone();
            let at = flip.0 % bad.len();
            bad[at][flip.0 % 32] ^= 1 | flip.1;
            prop_assert!(verify_inclusion(index, size, &leaf, &bad, &r).is_err());
            prop_assert!(verify_inclusion(index, size, &leaf, &p[1..], &r).is_err());
        }
        let mut longer = p.clone();
        longer.push(r);
        prop_assert!(verify_inclusion(index, size, &leaf, &longer, &r).is_err());
        if size > 1 {
            let other = (index + 1 + pick % (size - 1)) % size;
            prop_assert!(verify_inclusion(other, size, &leaf, &p, &r).is_err());
        }
        // A size is bound by the checkpoint that signs it with the root, not by the path: a
        // path verifies for another size only if that size gives paths of the same shape.
        if verify_inclusion(index, size + 1, &leaf, &p, &r).is_ok() {
            prop_assert_eq!(inclusion_proof(&tree(size + 1), index, size + 1).unwrap().len(), p.len());
        }
        prop_assert!(verify_inclusion(size, size, &leaf, &p, &r).is_err());
    }

    #[test]
    fn a_consistency_proof_verifies_and_any_change_fails(to in 1u64..600, pick in any::<u64>(), flip in any::<(usize, u8)>()) {
        let t = tree(to);
        let from = 1 + pick % to;
        let (r1, r2) = (root(&t, from).unwrap(), root(&t, to).unwrap());
        let p = consistency_proof(&only(&t, &nodes_for_consistency(from, to)), from, to).unwrap();
        prop_assert_eq!(&p, &consistency_proof(&t, from, to).unwrap());
        prop_assert!(verify_consistency(from, to, &p, &r1, &r2).is_ok());
        let mut bad = r1;
        bad[flip.0 % 32] ^= 1 | flip.1;
        prop_assert!(verify_consistency(from, to, &p, &bad, &r2).is_err());
        let mut bad = r2;
        bad[flip.0 % 32] ^= 1 | flip.1;
        prop_assert!(verify_consistency(from, to, &p, &r1, &bad).is_err());
        if !p.is_empty() {
            let mut bad = p.clone();
            let at = flip.0 % bad.len();
            bad[at][flip.0 % 32] ^= 1 | flip.1;
            prop_assert!(verify_consistency(from, to, &bad, &r1, &r2).is_err());
            prop_assert!(verify_consistency(from, to, &p[1..], &r1, &r2).is_err());
        }
        if from < to {
            if verify_consistency(from, to + 1, &p, &r1, &r2).is_ok() {
                prop_assert_eq!(consistency_proof(&tree(to + 1), from, to + 1).unwrap().len(), p.len());
            }
            prop_assert!(verify_consistency(to, from, &p, &r2, &r1).is_err());
        }
        let root_nodes = only(&t, &nodes_for_root(to));
        prop_assert_eq!(root(&root_nodes, to).unwrap(), r2);
    }
}
