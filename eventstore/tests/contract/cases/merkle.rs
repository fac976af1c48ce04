//! The Merkle tree kept by the store: roots and proofs for every size match a tree built in
//! memory from the log's chain hashes, whatever mix of single, batched, grouped and
//! two-instance appends built it; a log without a tree gets one at open; shredding changes
//! no node; `verify_tree` names a missing or altered node.

use uuid::Uuid;
use vigil_eventstore::tree::{
    MemoryTree, consistency_proof, inclusion_proof, root, verify_consistency, verify_inclusion,
};
use vigil_eventstore::{EventStore, ExpectedVersion, Metadata, StoreError, TreeFault, leaf_of};

use super::{bp, request};
use crate::harness::{Backend, TestDb};

/// The tree of the log as it stands, built in memory from its chain hashes. A page may end
/// early (this instance's own recent rows come from memory, and another instance may have
/// appended after them), so read on to the head.
async fn reference(store: &EventStore) -> MemoryTree {
    let head = store.head_position().await.unwrap();
    let mut tree = MemoryTree::new();
    while tree.size() < head {
        let page = store.read_envelopes(tree.size() + 1, 1_000_000).await.unwrap();
        assert!(!page.is_empty(), "no rows after {} of {head}", tree.size());
        for env in page {
            assert_eq!(env.position, tree.size() + 1);
            tree.push_hash(leaf_of(&env.hash));
        }
    }
    tree
}

/// Every root, and proofs at a spread of indexes and sizes, against the reference.
async fn assert_matches(store: &EventStore, tree: &MemoryTree) {
    let n = tree.size();
    assert_eq!(store.tree_size().await.unwrap(), n);
    for size in 0..=n {
        assert_eq!(
            store.tree_root(size).await.unwrap(),
            root(tree, size).unwrap(),
            "root at {size}"
        );
    }
    let sizes: Vec<u64> = [1, 2, 15, 16, 17, 31, 32, 33, 64, 100, n - 1, n]
        .into_iter()
        .filter(|s| (1..=n).contains(s))
        .collect();
    for &size in &sizes {
        let r = root(tree, size).unwrap();
        for index in [0, 1, size / 2, size.saturating_sub(17), size - 1] {
            if index >= size {
                continue;
            }
            let proof = store.inclusion_proof(index, size).await.unwrap();
            assert_eq!(
                proof,
                inclusion_proof(tree, index, size).unwrap(),
                "inclusion {index} in {size}"
            );
            let leaf =
                vigil_eventstore::tree::SubtreeSource::subtree(tree, vigil_eventstore::tree::NodeId::new(0, index))
                    .unwrap();
            verify_inclusion(index, size, &leaf, &proof, &r).unwrap();
        }
        for &to in &sizes {
            if size <= to {
                let proof = store.consistency_proof(size, to).await.unwrap();
                assert_eq!(
                    proof,
                    consistency_proof(tree, size, to).unwrap(),
                    "consistency {size} -> {to}"
                );
                verify_consistency(size, to, &proof, &r, &root(tree, to).unwrap()).unwrap();
            }
        }
    }
    assert_eq!(
        store.verify_tree(|_, _| {}).await.unwrap().unwrap().root,
        tree.current_root()
    );
}

/// Appends `count` events through `tasks` concurrent writers (so the appender groups them),
/// each append carrying 1 to 5 events.
pub(crate) async fn append_mixed(store: &EventStore, tasks: usize, appends_each: u32) {
    let handles: Vec<_> = (0..tasks)
        .map(|t| {
            let store = store.clone();
            tokio::spawn(async move {
                let s = Uuid::now_v7();
                for k in 0..appends_each {
                    let events = (0..=(k + t as u32) % 5).map(|i| bp(100 + k, i)).collect();
                    store
                        .append(request(&format!("m-{t}-{s}"), s, ExpectedVersion::Any, events))
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.await.unwrap();
    }
}

pub async fn the_stored_tree_answers_every_size_as_a_tree_built_in_memory(db: TestDb) {
    let store = db.open().await;
    assert_eq!(store.tree_root(0).await.unwrap(), vigil_eventstore::tree::empty_root());
    // One by one, then one large batch, then grouped concurrent appends.
    append_mixed(&store, 1, 20).await;
    let s = Uuid::now_v7();
    store
        .append(request(
            "batch",
            s,
            ExpectedVersion::Any,
            (0..70).map(|i| bp(i, 0)).collect(),
        ))
        .await
        .unwrap();
    append_mixed(&store, 12, 6).await;
    let tree = reference(&store).await;
    assert!(tree.size() > 200, "{}", tree.size());
    assert_matches(&store, &tree).await;
}

pub async fn two_instances_on_one_database_keep_one_tree(db: TestDb) {
    let a = db.open().await;
    let b = db.open().await;
    let (x, y) = (a.clone(), b.clone());
    let (ra, rb) = tokio::join!(
        tokio::spawn(async move { append_mixed(&x, 6, 8).await }),
        tokio::spawn(async move { append_mixed(&y, 6, 8).await })
    );
    ra.unwrap();
    rb.unwrap();
    let tree = reference(&a).await;
    assert_matches(&a, &tree).await;
    assert_matches(&b, &tree).await;
}

/// Removes every stored node behind the store's back: a log from before the tree existed.
async fn drop_the_tree(db: &TestDb) {
    match db.backend {
        Backend::Sqlite => {
            db.tamper("drop trigger merkle_nodes_refuse_delete; delete from merkle_nodes")
                .await;
        }
        Backend::Postgres => db.tamper("delete from merkle_nodes").await,
    }
}

pub async fn a_log_without_a_tree_gets_it_built_when_the_store_opens(db: TestDb) {
    let store = db.open().await;
    append_mixed(&store, 4, 25).await;
    drop_the_tree(&db).await;
    let broken = store.verify_tree(|_, _| {}).await.unwrap().unwrap_err();
    assert_eq!((broken.position, broken.fault), (1, TreeFault::Missing));
    store.close().await;

    let store = db.open().await;
    let tree = reference(&store).await;
    assert_matches(&store, &tree).await;
    // And it grows on from there.
    append_mixed(&store, 3, 5).await;
    let tree = reference(&store).await;
    assert_matches(&store, &tree).await;
}

pub async fn shredding_changes_no_node_and_earlier_proofs_still_verify(db: TestDb) {
    let store = db.open().await;
    let (alice, bob) = (Uuid::now_v7(), Uuid::now_v7());
    for i in 0..30 {
        store
            .append(request("alice", alice, ExpectedVersion::Any, vec![bp(i, 1)]))
            .await
            .unwrap();
        store
            .append(request("bob", bob, ExpectedVersion::Any, vec![bp(i, 2)]))
            .await
            .unwrap();
    }
    let size = store.tree_size().await.unwrap();
    let old_root = store.tree_root(size).await.unwrap();
    let before = reference(&store).await;
    let proofs: Vec<_> = [0, 2, 17, 40, 59].iter().map(|&i| (i, size)).collect();
    let mut old = Vec::new();
    for &(i, n) in &proofs {
        old.push(store.inclusion_proof(i, n).await.unwrap());
    }

    store.shred(alice, Metadata::actor("user:admin")).await.unwrap();
    store
        .append(request("bob", bob, ExpectedVersion::Any, vec![bp(99, 2)]))
        .await
        .unwrap();

    assert_eq!(store.tree_root(size).await.unwrap(), old_root);
    let leaves = reference(&store).await;
    for (&(i, n), proof) in proofs.iter().zip(&old) {
        assert_eq!(&store.inclusion_proof(i, n).await.unwrap(), proof);
        let leaf =
            vigil_eventstore::tree::SubtreeSource::subtree(&leaves, vigil_eventstore::tree::NodeId::new(0, i)).unwrap();
        verify_inclusion(i, n, &leaf, proof, &old_root).unwrap();
    }
    let new_size = store.tree_size().await.unwrap();
    let new_root = store.tree_root(new_size).await.unwrap();
    let step = store.consistency_proof(size, new_size).await.unwrap();
    verify_consistency(size, new_size, &step, &old_root, &new_root).unwrap();
    assert_eq!(root(&before, size).unwrap(), old_root);
    assert_eq!(store.verify_tree(|_, _| {}).await.unwrap().unwrap().leaves, new_size);
}

pub async fn verify_tree_names_the_first_altered_node_and_proofs_refuse_bad_sizes(db: TestDb) {
    let store = db.open().await;
    append_mixed(&store, 2, 30).await;
    let n = store.tree_size().await.unwrap();
    assert!(matches!(
        store.tree_root(n + 1).await.unwrap_err(),
        StoreError::TreeSizeBeyondLog { size, tree_size } if size == n + 1 && tree_size == n
    ));
    assert!(matches!(
        store.inclusion_proof(n, n).await.unwrap_err(),
        StoreError::LeafIndexBeyondSize { .. }
    ));
    assert!(matches!(
        store.inclusion_proof(0, n + 1).await.unwrap_err(),
        StoreError::TreeSizeBeyondLog { .. }
    ));
    assert!(matches!(
        store.consistency_proof(0, n).await.unwrap_err(),
        StoreError::NoConsistencyProof { .. }
    ));
    assert!(matches!(
        store.consistency_proof(n, n - 1).await.unwrap_err(),
        StoreError::NoConsistencyProof { .. }
    ));

    match db.backend {
        Backend::Sqlite => {
            db.tamper("drop trigger merkle_nodes_refuse_update; update merkle_nodes set hash = zeroblob(32) where level = 4 and idx = 1")
                .await;
        }
        Backend::Postgres => {
            db.tamper("update merkle_nodes set hash = decode(repeat('00', 32), 'hex') where level = 4 and idx = 1")
                .await;
        }
    }
    let broken = store.verify_tree(|_, _| {}).await.unwrap().unwrap_err();
    assert_eq!(
        (broken.position, broken.level, broken.index, broken.fault),
        (17, 4, 1, TreeFault::Mismatch)
    );
}
