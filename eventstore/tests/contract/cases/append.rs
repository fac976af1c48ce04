use uuid::Uuid;
use vigil_eventstore::{ExpectedVersion, Metadata, Payload, StoreError};

use super::{bp, event, request};
use crate::harness::TestDb;

pub async fn appended_events_read_back_with_their_envelopes(db: TestDb) {
    let store = db.open().await;
    let subject = Uuid::now_v7();
    let mut req = request(
        "health-a",
        subject,
        ExpectedVersion::NoStream,
        vec![bp(128, 82), bp(131, 85)],
    );
    req.metadata.correlation_id = Some(Uuid::now_v7());
    let out = store.append(req.clone()).await.unwrap();
    assert_eq!(
        (
            out.first_version,
            out.last_version,
            out.first_position,
            out.last_position
        ),
        (1, 2, 1, 2)
    );

    let events = store.read_stream("health-a", 1, 100).await.unwrap();
    assert_eq!(events.len(), 2);
    let first = &events[0];
    assert_eq!(first.envelope.stream_version, 1);
    assert_eq!(first.envelope.subject, subject);
    assert_eq!(first.envelope.event_type, "HealthLogRecorded");
    assert_eq!(first.envelope.schema_version, 1);
    assert_eq!(first.envelope.actor, "system:test");
    assert_eq!(first.envelope.correlation_id, req.metadata.correlation_id);
    assert_eq!(first.envelope.event_id.get_version_num(), 7);
    let body: serde_json::Value = first.decode().unwrap().unwrap();
    assert_eq!(body["systolic"], 128);
    assert!(matches!(events[1].payload, Payload::Json { schema_version: 1, .. }));
    assert_eq!(
        store.read_all(2, 10).await.unwrap().len(),
        1,
        "read_all starts at `from`, inclusive"
    );
    assert_eq!(store.read_subject(subject, 1, 10).await.unwrap().len(), 2);
    assert!(store.read_subject(Uuid::now_v7(), 1, 10).await.unwrap().is_empty());
}

pub async fn a_wrong_expected_version_is_a_typed_conflict(db: TestDb) {
    let store = db.open().await;
    let s = Uuid::now_v7();
    store
        .append(request("p-1", s, ExpectedVersion::NoStream, vec![bp(120, 80)]))
        .await
        .unwrap();
    let err = store
        .append(request("p-1", s, ExpectedVersion::NoStream, vec![bp(120, 80)]))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict { stream, expected: ExpectedVersion::NoStream, actual: 1 } if stream == "p-1"),
        "{err:?}"
    );
    let err = store
        .append(request("p-1", s, ExpectedVersion::Exact(3), vec![bp(120, 80)]))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                actual: 1,
                expected: ExpectedVersion::Exact(3),
                ..
            }
        ),
        "{err:?}"
    );
    let err = store
        .append(request("p-2", s, ExpectedVersion::Exact(1), vec![bp(120, 80)]))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { actual: 0, .. }), "{err:?}");
    store
        .append(request("p-1", s, ExpectedVersion::Exact(1), vec![bp(120, 80)]))
        .await
        .unwrap();
    let out = store
        .append(request("p-1", s, ExpectedVersion::Any, vec![bp(120, 80)]))
        .await
        .unwrap();
    assert_eq!(out.last_version, 3);
    assert_eq!(store.head_position().await.unwrap(), 3, "refused appends wrote nothing");
}

pub async fn retrying_a_command_id_writes_nothing_twice(db: TestDb) {
    let store = db.open().await;
    let s = Uuid::now_v7();
    let command = Uuid::now_v7();
    let mut req = request("dose-1", s, ExpectedVersion::NoStream, vec![bp(120, 80), bp(121, 81)]);
    req.metadata = Metadata::actor("user:x").with_command_id(command);
    let first = store.append(req.clone()).await.unwrap();
    store
        .append(request("other", s, ExpectedVersion::Any, vec![bp(1, 0)]))
        .await
        .unwrap();
    // Same command again, even with an expectation that would now conflict: the original result.
    let again = store.append(req.clone()).await.unwrap();
    assert_eq!(first, again);
    // A caller can ask where a command landed before deciding it again.
    assert_eq!(
        store.command_outcome(command).await.unwrap(),
        Some(("dose-1".to_owned(), first))
    );
    assert_eq!(store.command_outcome(Uuid::now_v7()).await.unwrap(), None);
    // Concurrent retries of one command land once.
    let retries = (0..8).map(|_| {
        let store = store.clone();
        let mut req = req.clone();
        req.expected = ExpectedVersion::Any;
        req.metadata.command_id = Some(Uuid::from_u128(42));
        tokio::spawn(async move { store.append(req).await })
    });
    let results: Vec<_> = futures_util::future::join_all(retries).await;
    let outcomes: Vec<_> = results.into_iter().map(|r| r.unwrap()).collect();
    let ok: Vec<_> = outcomes.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert!(!ok.is_empty(), "{outcomes:?}");
    assert!(
        ok.iter().all(|o| *o == ok[0]),
        "every retry sees the one original result"
    );
    assert_eq!(store.read_stream("dose-1", 1, 100).await.unwrap().len(), 4);
    assert_eq!(store.head_position().await.unwrap(), 5);
}

pub async fn reusing_a_command_id_for_another_stream_is_refused(db: TestDb) {
    let store = db.open().await;
    let s = Uuid::now_v7();
    let command = Uuid::now_v7();
    let mut req = request("a", s, ExpectedVersion::Any, vec![bp(1, 0)]);
    req.metadata.command_id = Some(command);
    store.append(req.clone()).await.unwrap();
    req.stream = "b".into();
    let err = store.append(req).await.unwrap_err();
    assert!(
        matches!(err, StoreError::CommandIdReused { command_id } if command_id == command),
        "{err:?}"
    );
}

pub async fn a_stream_belongs_to_one_subject(db: TestDb) {
    let store = db.open().await;
    store
        .append(request("s", Uuid::now_v7(), ExpectedVersion::Any, vec![bp(1, 0)]))
        .await
        .unwrap();
    let err = store
        .append(request("s", Uuid::now_v7(), ExpectedVersion::Any, vec![bp(1, 0)]))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::StreamSubjectMismatch { .. }), "{err:?}");
}

pub async fn invalid_input_is_refused_before_anything_is_written(db: TestDb) {
    let store = db.open().await;
    let s = Uuid::now_v7();
    let cases = [
        request("", s, ExpectedVersion::Any, vec![bp(1, 0)]),
        request("bad stream", s, ExpectedVersion::Any, vec![bp(1, 0)]),
        request(&"x".repeat(201), s, ExpectedVersion::Any, vec![bp(1, 0)]),
        request("ok", s, ExpectedVersion::Any, vec![]),
        request(
            "ok",
            s,
            ExpectedVersion::Any,
            vec![event("bad type!", serde_json::json!({}))],
        ),
        request(
            "ok",
            s,
            ExpectedVersion::Any,
            vec![vigil_eventstore::NewEvent {
                event_type: "Big".into(),
                schema_version: 1,
                payload: vec![b' '; vigil_eventstore::MAX_PAYLOAD_BYTES + 1],
            }],
        ),
        request(
            "ok",
            s,
            ExpectedVersion::Any,
            vec![vigil_eventstore::NewEvent {
                event_type: "V0".into(),
                schema_version: 0,
                payload: b"{}".to_vec(),
            }],
        ),
    ];
    for req in cases {
        let err = store.append(req).await.unwrap_err();
        assert!(matches!(err, StoreError::InvalidInput { .. }), "{err:?}");
    }
    let mut bad_actor = request("ok", s, ExpectedVersion::Any, vec![bp(1, 0)]);
    bad_actor.metadata.actor = "user with spaces".into();
    assert!(matches!(
        store.append(bad_actor).await.unwrap_err(),
        StoreError::InvalidInput { field: "actor", .. }
    ));
    assert_eq!(store.head_position().await.unwrap(), 0);
}

pub async fn positions_are_gapless_and_recorded_at_is_monotonic(db: TestDb) {
    let store = db.open().await;
    let subjects: Vec<Uuid> = (0..4).map(|_| Uuid::now_v7()).collect();
    for round in 0..10u32 {
        for (i, s) in subjects.iter().enumerate() {
            let events = (0..=(round % 3)).map(|k| bp(100 + k, 70)).collect();
            store
                .append(request(&format!("st-{i}"), *s, ExpectedVersion::Any, events))
                .await
                .unwrap();
        }
        // A refused append in between must not burn a position.
        let _ = store
            .append(request("st-0", subjects[0], ExpectedVersion::NoStream, vec![bp(1, 0)]))
            .await;
    }
    let all = store.read_all(1, 10_000).await.unwrap();
    for (i, e) in all.iter().enumerate() {
        assert_eq!(e.envelope.position, i as u64 + 1);
        if i > 0 {
            assert!(e.envelope.recorded_at_micros >= all[i - 1].envelope.recorded_at_micros);
        }
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp() * 1_000_000;
    let last = all.last().unwrap().envelope.recorded_at_micros;
    assert!((now - last).abs() < 60_000_000, "stamped by the store's clock");
}
