//! The transparency-dev/merkle test vectors (`testdata/merkle/`, Apache-2.0, see its README):
//! every inclusion and consistency case must be accepted or rejected as its `wantErr` says,
//! and every happy path's proof must be what our generator produces for the RFC 6962 test tree.

// A test crate: a failed expectation should panic with the value in the message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::Value;
use vigil_proofs::merkle::{
    Hash, MemoryTree, consistency_proof, inclusion_proof, leaf_hash, root, verify_consistency, verify_inclusion,
};

/// The leaves of the tree the vectors' happy paths are taken from (RFC 6962's reference tests).
const LEAVES: [&[u8]; 8] = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
];

fn cases(kind: &str) -> Vec<(PathBuf, Value)> {
    let base = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/testdata/merkle")
        .join(kind);
    let mut out = Vec::new();
    let mut dirs = vec![base];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                let json = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
                out.push((path, json));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// A base64 hash; `None` for an empty one (no hash at all). Our hashes are typed 32-byte
/// values, so a few cases' placeholder strings ("don't care") of another length stand in as a
/// digest of their bytes: equal strings stay equal and different ones different, which is all
/// those cases test.
fn hash(v: &Value) -> Option<Hash> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(v.as_str()?).ok()?;
    if bytes.is_empty() {
        return None;
    }
    Some(match <Hash>::try_from(bytes.as_slice()) {
        Ok(h) => h,
        Err(_) => leaf_hash(&bytes),
    })
}

fn proof(v: &Value) -> Option<Vec<Hash>> {
    match v {
        Value::Null => Some(Vec::new()),
        Value::Array(items) => items.iter().map(hash).collect(),
        _ => None,
    }
}

fn reference_tree() -> MemoryTree {
    let mut tree = MemoryTree::new();
    for leaf in LEAVES {
        tree.push_hash(leaf_hash(leaf));
    }
    tree
}

#[test]
fn every_inclusion_vector_is_judged_as_it_expects() {
    let all = cases("inclusion");
    assert!(all.len() > 50, "vectors missing: {}", all.len());
    let tree = reference_tree();
    for (path, c) in all {
        let want_err = c["wantErr"].as_bool().unwrap();
        let index = c["leafIdx"].as_u64().unwrap();
        let size = c["treeSize"].as_u64().unwrap();
        let parsed = (hash(&c["leafHash"]), proof(&c["proof"]), hash(&c["root"]));
        let accepted = match &parsed {
            (Some(leaf), Some(p), Some(r)) => verify_inclusion(index, size, leaf, p, r).is_ok(),
            _ => false,
        };
        assert_eq!(accepted, !want_err, "{}", path.display());
        if path.ends_with("happy-path.json") {
            let (_, Some(p), Some(r)) = parsed else {
                panic!("{}", path.display())
            };
            assert_eq!(inclusion_proof(&tree, index, size).unwrap(), p, "{}", path.display());
            assert_eq!(root(&tree, size).unwrap(), r, "{}", path.display());
        }
    }
}

#[test]
fn every_consistency_vector_is_judged_as_it_expects() {
    let all = cases("consistency");
    assert!(all.len() > 50, "vectors missing: {}", all.len());
    let tree = reference_tree();
    for (path, c) in all {
        let want_err = c["wantErr"].as_bool().unwrap();
        let from = c["size1"].as_u64().unwrap();
        let to = c["size2"].as_u64().unwrap();
        let parsed = (proof(&c["proof"]), hash(&c["root1"]), hash(&c["root2"]));
        let accepted = match &parsed {
            (Some(p), Some(r1), Some(r2)) => verify_consistency(from, to, p, r1, r2).is_ok(),
            _ => false,
        };
        assert_eq!(accepted, !want_err, "{}", path.display());
        if path.ends_with("happy-path.json") {
            let (Some(p), Some(r1), Some(r2)) = parsed else {
                panic!("{}", path.display())
            };
            assert_eq!(consistency_proof(&tree, from, to).unwrap(), p, "{}", path.display());
            assert_eq!((root(&tree, from).unwrap(), root(&tree, to).unwrap()), (r1, r2));
        }
    }
}
