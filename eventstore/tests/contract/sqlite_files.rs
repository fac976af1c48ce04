//! SQLite only: what the files on disk still hold after a shredding or a master-key rotation.
//! Deleting a row is not enough there: SQLite leaves a deleted cell's bytes in the page's free
//! space, and the WAL keeps images of pages from before the delete. A wrapped data key left in
//! either is readable by whoever holds the master key that wraps it. Also: closing the store
//! leaves no WAL behind.

use sqlx::ConnectOptions;
use uuid::Uuid;
use vigil_eventstore::{ExpectedVersion, MasterKey, Metadata};

use crate::cases::{bp, request};
use crate::harness::{Backend, TestDb};

/// The wrapped keys the vault holds for `subject`, read behind the store's back.
async fn wrapped_keys(db: &TestDb, subject: Uuid) -> Vec<Vec<u8>> {
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(db.sqlite_dir().join("keys.db"))
        .connect()
        .await
        .expect("raw vault connection");
    let keys = sqlx::query_scalar("select wrapped from data_keys where subject_id = $1")
        .bind(subject)
        .fetch_all(&mut conn)
        .await
        .expect("wrapped keys");
    sqlx::Connection::close(conn).await.expect("close");
    keys
}

/// Whether `needle` occurs anywhere in the vault's database file or its WAL.
fn on_disk(db: &TestDb, needle: &[u8]) -> bool {
    vigil_tests::in_sqlite_files(&db.sqlite_dir(), "keys.db", needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shredded_and_rewrapped_keys_leave_no_bytes_in_the_vault_files() {
    let db = TestDb::new(Backend::Sqlite).await.expect("sqlite");
    let store = db.open().await;
    let (gone, kept) = (Uuid::now_v7(), Uuid::now_v7());
    for (stream, subject) in [("gone", gone), ("kept", kept)] {
        store
            .append(request(stream, subject, ExpectedVersion::Any, vec![bp(120, 80)]))
            .await
            .expect("append");
    }
    store.rotate_subject_key(gone).await.expect("second key version");
    let (gone_keys, kept_keys) = (wrapped_keys(&db, gone).await, wrapped_keys(&db, kept).await);
    assert_eq!(gone_keys.len(), 2);
    assert!(
        gone_keys
            .iter()
            .chain(&kept_keys)
            .all(|k| k.len() >= 32 && on_disk(&db, k))
    );

    store.shred(gone, Metadata::actor("user:admin")).await.expect("shred");
    for key in &gone_keys {
        assert!(
            !on_disk(&db, key),
            "a shredded subject's wrapped key is still in the vault files"
        );
    }
    assert!(
        kept_keys.iter().all(|k| on_disk(&db, k)),
        "other subjects keep their keys"
    );

    let mut next = [0u8; 32];
    getrandom::fill(&mut next).expect("rng");
    store
        .rotate_master(MasterKey::from_bytes(&next).expect("key"))
        .await
        .expect("rotate");
    for key in &kept_keys {
        assert!(
            !on_disk(&db, key),
            "a key wrapped by the retired master key is still in the vault files"
        );
    }
    assert_eq!(wrapped_keys(&db, kept).await.len(), 1, "re-wrapped, not lost");
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_the_store_folds_the_logs_wal_back_into_its_file() {
    let db = TestDb::new(Backend::Sqlite).await.expect("sqlite");
    let store = db.open().await;
    store
        .append(request("s", Uuid::now_v7(), ExpectedVersion::Any, vec![bp(120, 80)]))
        .await
        .expect("append");
    // A bulk read leaves idle connections of its own, beside the checkpointer's.
    assert_eq!(store.read_all(1, 100).await.expect("bulk read").len(), 1);
    store.close().await;
    // The last connection to close folds the WAL back and removes it, if it is the last.
    assert!(
        !db.sqlite_dir().join("events.db-wal").exists(),
        "the log's WAL outlived close"
    );
}
