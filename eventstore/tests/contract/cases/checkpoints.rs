//! Recorded checkpoints: recording is idempotent (the same note twice, or from two instances
//! at once, is one row), a second root for a size is a typed conflict that changes nothing,
//! reads give the newest, one size, the smallest covering a position and pages, and the
//! database refuses to change or delete a recorded checkpoint.

use vigil_eventstore::{Recorded, StoreError};

use super::merkle::append_mixed;
use crate::harness::TestDb;

pub async fn checkpoints_are_recorded_once_per_size_and_never_rewritten(db: TestDb) {
    let store = db.open().await;
    assert_eq!(store.latest_checkpoint().await.unwrap(), None);
    append_mixed(&store, 2, 10).await;
    let size = store.tree_size().await.unwrap();
    let root = store.tree_root(size).await.unwrap();
    let other = db.open().await;
    // Two instances recording the same note at once: one row, both succeed.
    let (a, b) = tokio::join!(
        store.record_checkpoint(size, root, "note"),
        other.record_checkpoint(size, root, "note")
    );
    let mut outcomes = [a.unwrap(), b.unwrap()];
    outcomes.sort_by_key(|r| *r != Recorded::Inserted);
    assert_eq!(outcomes, [Recorded::Inserted, Recorded::AlreadyRecorded]);
    assert_eq!(
        store.record_checkpoint(size, root, "another key's note").await.unwrap(),
        Recorded::OtherNote
    );
    let forked = store.record_checkpoint(size, [9; 32], "note").await.unwrap_err();
    assert!(
        matches!(forked, StoreError::CheckpointConflict { size: s } if s == size),
        "{forked}"
    );
    let beyond = store.record_checkpoint(size + 1, root, "n").await.unwrap_err();
    assert!(matches!(beyond, StoreError::TreeSizeBeyondLog { .. }), "{beyond}");
    assert!(store.record_checkpoint(0, root, "n").await.is_err());

    let small = store.tree_root(5).await.unwrap();
    store.record_checkpoint(5, small, "five").await.unwrap();
    let latest = store.latest_checkpoint().await.unwrap().unwrap();
    assert_eq!((latest.size, latest.root, latest.note.as_str()), (size, root, "note"));
    assert_eq!(store.checkpoint_at(5).await.unwrap().unwrap().note, "five");
    assert_eq!(store.checkpoint_at(6).await.unwrap(), None);
    assert_eq!(store.checkpoint_covering(3).await.unwrap().unwrap().size, 5);
    assert_eq!(store.checkpoint_covering(6).await.unwrap().unwrap().size, size);
    assert_eq!(store.checkpoint_covering(size + 1).await.unwrap(), None);
    let page: Vec<u64> = store
        .checkpoints_before(None, 10)
        .await
        .unwrap()
        .iter()
        .map(|c| c.size)
        .collect();
    assert_eq!(page, [size, 5]);
    assert_eq!(store.checkpoints_before(Some(size), 10).await.unwrap().len(), 1);

    assert!(
        db.as_owner("update checkpoints set note = 'x' where size = 5")
            .await
            .is_err()
    );
    assert!(db.as_owner("delete from checkpoints where size = 5").await.is_err());
    assert_eq!(other.checkpoint_at(5).await.unwrap().unwrap().note, "five");
    other.close().await;
}
