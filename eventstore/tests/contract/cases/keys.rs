use uuid::Uuid;
use vigil_eventstore::{ExpectedVersion, MasterKey, NewEvent, Payload, StoreError, Upcasters};

use super::{bp, request};
use crate::harness::TestDb;

pub async fn rotating_the_master_key_rewraps_keys_without_touching_events(db: TestDb) {
    let store = db.open().await;
    let subjects: Vec<Uuid> = (0..5).map(|_| Uuid::now_v7()).collect();
    for s in &subjects {
        store
            .append(request(&format!("h-{s}"), *s, ExpectedVersion::Any, vec![bp(120, 80)]))
            .await
            .unwrap();
    }
    let before = store.verify_chain(|_, _| {}).await.unwrap().unwrap();
    let new_key_bytes = [9u8; 32];
    let rotation = store
        .rotate_master(MasterKey::from_bytes(&new_key_bytes).unwrap())
        .await
        .unwrap();
    assert_eq!((rotation.kek_version, rotation.rewrapped), (2, 5));
    // The running store keeps working under the new key.
    store
        .append(request("after", subjects[0], ExpectedVersion::Any, vec![bp(1, 0)]))
        .await
        .unwrap();
    store.close().await;

    let err = db.open_with(db.key(), Upcasters::default()).await.unwrap_err();
    assert!(
        matches!(err, StoreError::WrongMasterKey(ref m) if m.contains("retired")),
        "{err:?}"
    );
    let store = db
        .open_with(MasterKey::from_bytes(&new_key_bytes).unwrap(), Upcasters::default())
        .await
        .unwrap();
    let all = store.read_all(1, 100).await.unwrap();
    assert!(all.iter().all(|e| matches!(e.payload, Payload::Json { .. })));
    let after = store.verify_chain(|_, _| {}).await.unwrap().unwrap();
    assert_eq!(after.events, before.events + 1);
    let err = store
        .rotate_master(MasterKey::from_bytes(&new_key_bytes).unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::InvalidInput { .. }),
        "a used key is refused: {err:?}"
    );
}

pub async fn a_wrong_master_key_is_refused_at_open(db: TestDb) {
    let store = db.open().await;
    store
        .append(request("x", Uuid::now_v7(), ExpectedVersion::Any, vec![bp(1, 0)]))
        .await
        .unwrap();
    store.close().await;
    let err = db
        .open_with(MasterKey::generate().unwrap(), Upcasters::default())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::WrongMasterKey(_)), "{err:?}");
}

pub async fn old_schema_versions_are_upcast_on_read(db: TestDb) {
    let store = db.open().await;
    let s = Uuid::now_v7();
    let old = NewEvent::json("WeightRecorded", 1, &serde_json::json!({"weight": "87.3"})).unwrap();
    let current = NewEvent::json("WeightRecorded", 2, &serde_json::json!({"value": "87.3", "unit": "kg"})).unwrap();
    store
        .append(request("w", s, ExpectedVersion::Any, vec![old, current]))
        .await
        .unwrap();
    store.close().await;

    let mut upcasters = Upcasters::default();
    upcasters.register("WeightRecorded", 1, |v| {
        let weight = v.get("weight").cloned().ok_or("weight missing")?;
        Ok(serde_json::json!({"value": weight, "unit": "kg"}))
    });
    let store = db.open_with(db.key(), upcasters).await.unwrap();
    let events = store.read_stream("w", 1, 10).await.unwrap();
    for e in &events {
        assert!(matches!(e.payload, Payload::Json { schema_version: 2, .. }));
        assert_eq!(
            e.decode::<serde_json::Value>().unwrap().unwrap(),
            serde_json::json!({"value": "87.3", "unit": "kg"})
        );
    }
    assert_eq!(
        events[0].envelope.schema_version, 1,
        "the stored version is still reported"
    );
}
