use std::time::Instant;

use uuid::Uuid;
use vigil_eventstore::{ERASURE_LEDGER, ExpectedVersion, Metadata, Payload, SYSTEM_SUBJECT, StoreError};

use super::{bp, request};
use crate::harness::TestDb;

pub async fn shredding_erases_one_subject_and_keeps_the_chain_verifiable(db: TestDb) {
    let store = db.open().await;
    let (alice, bob) = (Uuid::now_v7(), Uuid::now_v7());
    for i in 0..20 {
        store
            .append(request(
                "alice-health",
                alice,
                ExpectedVersion::Any,
                vec![bp(120 + i, 80)],
            ))
            .await
            .unwrap();
        store
            .append(request("bob-health", bob, ExpectedVersion::Any, vec![bp(130 + i, 85)]))
            .await
            .unwrap();
    }
    let before = store.verify_chain(|_, _| {}).await.unwrap().unwrap();

    let report = store.shred(alice, Metadata::actor("user:admin")).await.unwrap();
    assert_eq!(report.keys_destroyed, 1);
    assert_eq!(report.ledger_position, 41);

    let alice_events = store.read_stream("alice-health", 1, 100).await.unwrap();
    assert_eq!(alice_events.len(), 20, "events stay, payloads go");
    assert!(alice_events.iter().all(|e| e.payload == Payload::Erased));
    assert!(alice_events[0].decode::<serde_json::Value>().unwrap().is_none());
    let bob_events = store.read_stream("bob-health", 1, 100).await.unwrap();
    assert!(
        bob_events.iter().all(|e| matches!(e.payload, Payload::Json { .. })),
        "other subjects untouched"
    );

    let ledger = store.read_stream(ERASURE_LEDGER, 1, 10).await.unwrap();
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].envelope.subject, SYSTEM_SUBJECT);
    assert_eq!(
        ledger[0].decode::<serde_json::Value>().unwrap().unwrap()["subject"],
        alice.to_string()
    );

    let after = store.verify_chain(|_, _| {}).await.unwrap().unwrap();
    assert_eq!(
        after.events,
        before.events + 1,
        "the chain covers ciphertext, so it still verifies"
    );

    // Shredding again is idempotent and reports the original ledger entry.
    let again = store.shred(alice, Metadata::actor("user:admin")).await.unwrap();
    assert_eq!((again.ledger_position, again.keys_destroyed), (41, 0));
    assert_eq!(store.head_position().await.unwrap(), 41);

    // A fresh process (no cache) sees the same.
    store.close().await;
    let store = db.open().await;
    assert!(
        store
            .read_stream("alice-health", 1, 100)
            .await
            .unwrap()
            .iter()
            .all(|e| e.payload == Payload::Erased)
    );
    assert!(matches!(
        store
            .shred(SYSTEM_SUBJECT, Metadata::actor("user:admin"))
            .await
            .unwrap_err(),
        StoreError::InvalidInput { .. }
    ));
}

pub async fn appending_to_an_erased_subject_is_refused(db: TestDb) {
    let store = db.open().await;
    let carol = Uuid::now_v7();
    store
        .append(request("carol", carol, ExpectedVersion::Any, vec![bp(1, 0)]))
        .await
        .unwrap();
    store.shred(carol, Metadata::actor("user:admin")).await.unwrap();
    let err = store
        .append(request("carol", carol, ExpectedVersion::Any, vec![bp(1, 0)]))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::SubjectErased { subject } if subject == carol),
        "{err:?}"
    );
    let err = store
        .append(request("carol-new-stream", carol, ExpectedVersion::Any, vec![bp(1, 0)]))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::SubjectErased { .. }),
        "a new key is never minted: {err:?}"
    );

    // A subject shredded before it ever wrote is fenced too.
    let dave = Uuid::now_v7();
    store.shred(dave, Metadata::actor("user:admin")).await.unwrap();
    let err = store
        .append(request("dave", dave, ExpectedVersion::Any, vec![bp(1, 0)]))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::SubjectErased { .. }), "{err:?}");

    // Another process that still had carol's key cached is refused by the log-side fence.
    let other = db.open().await;
    let erin = Uuid::now_v7();
    other
        .append(request("erin", erin, ExpectedVersion::Any, vec![bp(1, 0)]))
        .await
        .unwrap();
    store.shred(erin, Metadata::actor("user:admin")).await.unwrap();
    let err = other
        .append(request("erin", erin, ExpectedVersion::Any, vec![bp(1, 0)]))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::SubjectErased { .. }), "{err:?}");
}

pub async fn shredding_destroys_every_key_version(db: TestDb) {
    let store = db.open().await;
    // A first shred mints the system key for the erasure ledger; count keys after it.
    store
        .shred(Uuid::now_v7(), Metadata::actor("user:admin"))
        .await
        .unwrap();
    let s = Uuid::now_v7();
    store
        .append(request("k", s, ExpectedVersion::Any, vec![bp(1, 0)]))
        .await
        .unwrap();
    assert_eq!(store.rotate_subject_key(s).await.unwrap(), 2);
    store
        .append(request("k", s, ExpectedVersion::Any, vec![bp(2, 0)]))
        .await
        .unwrap();
    let events = store.read_stream("k", 1, 10).await.unwrap();
    assert_ne!(events[0].envelope.key_id, events[1].envelope.key_id);
    assert!(
        events.iter().all(|e| matches!(e.payload, Payload::Json { .. })),
        "both versions readable"
    );
    let keys_before = store.live_key_count().await.unwrap();
    let report = store.shred(s, Metadata::actor("user:admin")).await.unwrap();
    assert_eq!(report.keys_destroyed, 2);
    assert_eq!(store.live_key_count().await.unwrap(), keys_before - 2);
    assert!(
        store
            .read_stream("k", 1, 10)
            .await
            .unwrap()
            .iter()
            .all(|e| e.payload == Payload::Erased)
    );
}

/// Shredding touches keys and one ledger entry, never the subject's events: its cost does not
/// grow with their number. Timing is only reported here (benchmarks live in `vigil bench`);
/// the assertion is on what was written.
pub async fn shred_cost_is_independent_of_event_count(db: TestDb) {
    let store = db.open().await;
    let (small, large) = (Uuid::now_v7(), Uuid::now_v7());
    store
        .append(request("small", small, ExpectedVersion::Any, vec![bp(1, 0)]))
        .await
        .unwrap();
    for _ in 0..10 {
        let events = (0..500).map(|i| bp(i, 0)).collect();
        store
            .append(request("large", large, ExpectedVersion::Any, events))
            .await
            .unwrap();
    }
    let head = store.head_position().await.unwrap();
    let t = Instant::now();
    store.shred(large, Metadata::actor("user:admin")).await.unwrap();
    eprintln!("shred of 5000 events took {:?}", t.elapsed());
    assert_eq!(
        store.head_position().await.unwrap(),
        head + 1,
        "one ledger entry, nothing per event"
    );
}
