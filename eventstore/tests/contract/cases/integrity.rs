use uuid::Uuid;
use vigil_eventstore::chain::{ChainFault, genesis};
use vigil_eventstore::{ExpectedVersion, StoreError};

use super::{bp, request};
use crate::harness::{Backend, TestDb};

async fn seed(db: &TestDb, events: u32) -> vigil_eventstore::EventStore {
    let store = db.open().await;
    for i in 0..events {
        let s = Uuid::from_u128(u128::from(i % 3) + 1);
        store
            .append(request(
                &format!("s-{}", i % 3),
                s,
                ExpectedVersion::Any,
                vec![bp(100 + i, 70)],
            ))
            .await
            .unwrap();
    }
    store
}

pub async fn the_database_refuses_update_and_delete_on_events(db: TestDb) {
    let _store = seed(&db, 3).await;
    for sql in [
        "update events set event_type = 'X' where position = 2",
        "delete from events where position = 3",
    ] {
        let err = db.as_app(sql).await.unwrap_err().to_string();
        match db.backend {
            Backend::Sqlite => assert!(err.contains("append-only"), "{err}"),
            // The application role lacks the grant before any trigger runs.
            Backend::Postgres => assert!(err.contains("permission denied"), "{err}"),
        }
        // Even the owner, who holds every grant, is stopped by the trigger.
        let err = db.as_owner(sql).await.unwrap_err().to_string();
        assert!(err.contains("append-only"), "{err}");
    }
    if db.backend == Backend::Postgres {
        let err = db.as_owner("truncate events").await.unwrap_err().to_string();
        assert!(err.contains("append-only"), "{err}");
    }
}

pub async fn the_key_vault_is_kept_apart_from_the_log(db: TestDb) {
    let _store = seed(&db, 2).await;
    match db.backend {
        Backend::Sqlite => {
            let err = db.as_app("select * from data_keys").await.unwrap_err().to_string();
            assert!(err.contains("no such table"), "{err}");
            assert!(db.sqlite_dir().join("keys.db").exists());
        }
        Backend::Postgres => {
            let err = db
                .as_app("select * from vigil_vault.data_keys")
                .await
                .unwrap_err()
                .to_string();
            assert!(err.contains("permission denied"), "{err}");
        }
    }
}

pub async fn a_ciphertext_moved_to_another_event_fails_to_open(db: TestDb) {
    let store = seed(&db, 4).await;
    // Event 4 belongs to the same subject as event 1 (same key): only the AAD stops the swap.
    db.tamper("update events set ciphertext = (select ciphertext from events where position = 1), nonce = (select nonce from events where position = 1) where position = 4").await;
    let err = store.read_all(4, 1).await.unwrap_err();
    assert!(matches!(err, StoreError::Decrypt { position: 4 }), "{err:?}");
    assert_eq!(store.read_all(1, 3).await.unwrap().len(), 3, "other events still read");
}

pub async fn verify_names_the_position_of_an_edited_ciphertext_byte(db: TestDb) {
    let store = seed(&db, 50).await;
    let report = store.verify_chain(|_, _| {}).await.unwrap().unwrap();
    assert_eq!(report.events, 50);
    db.flip_ciphertext_byte(37).await;
    let broken = store.verify_chain(|_, _| {}).await.unwrap().unwrap_err();
    assert_eq!(broken.position, 37);
    assert_eq!(broken.fault, ChainFault::HashMismatch);
}

pub async fn verify_detects_a_removed_tail_and_a_rewritten_link(db: TestDb) {
    let store = seed(&db, 10).await;
    db.tamper("delete from events where position >= 9").await;
    let broken = store.verify_chain(|_, _| {}).await.unwrap().unwrap_err();
    assert_eq!(broken.fault, ChainFault::Truncated { head_position: 10 });
    assert_eq!(broken.position, 9);

    db.tamper("delete from events where position = 5").await;
    let broken = store.verify_chain(|_, _| {}).await.unwrap().unwrap_err();
    assert_eq!((broken.position, broken.fault), (6, ChainFault::Gap { expected: 5 }));

    let flip = match db.backend {
        Backend::Sqlite => "update events set prev_hash = zeroblob(32) where position = 3",
        Backend::Postgres => "update events set prev_hash = decode(repeat('00', 32), 'hex') where position = 3",
    };
    db.tamper(flip).await;
    let broken = store.verify_chain(|_, _| {}).await.unwrap().unwrap_err();
    assert_eq!((broken.position, broken.fault), (3, ChainFault::BrokenLink));
}

pub async fn a_reopened_store_continues_the_chain(db: TestDb) {
    let store = seed(&db, 5).await;
    store.close().await;
    let store = db.open().await;
    store
        .append(request("s-9", Uuid::now_v7(), ExpectedVersion::Any, vec![bp(1, 0)]))
        .await
        .unwrap();
    let report = store.verify_chain(|_, _| {}).await.unwrap().unwrap();
    assert_eq!(report.events, 6);
    assert_ne!(report.head_hash, genesis());
    let all = store.read_all(1, 100).await.unwrap();
    assert_eq!(all[0].envelope.prev_hash, genesis());
    assert_eq!(all[5].envelope.prev_hash, all[4].envelope.hash);
}
