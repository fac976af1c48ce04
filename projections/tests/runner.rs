//! The runner and checkpoints moved under it: a projection reset by another writer (say
//! `vigil projections rebuild` from another process) is replayed from its new checkpoint,
//! not continued from where the runner was, which would have left it holding only the
//! events after the reset. Same case on SQLite and Postgres.
#![allow(clippy::expect_used)]

use std::time::Duration;

use time::OffsetDateTime;
use uuid::Uuid;
use vigil_domain::aggregate::DomainEvent;
use vigil_domain::health::{HealthEvent, VitalComponent, VitalKind};
use vigil_domain::values::{Decimal, EntryId};
use vigil_eventstore::{EventStore, ExpectedVersion, Location, MasterKey, Metadata, NewEvent, StoreConfig};
use vigil_projections::read::{self, PageRequest};
use vigil_projections::{INDEX_KEY_CONTEXT, IndexKey, Projection, ProjectionRunner, ReadDb};

fn weight(minutes_ago: i64) -> NewEvent {
    let value = Decimal::from_parts(873, 1);
    let event = HealthEvent::VitalRecorded {
        entry_id: EntryId::from_uuid(Uuid::now_v7()),
        kind: VitalKind::BodyWeight,
        loinc: "29463-7".into(),
        components: vec![VitalComponent {
            loinc: "29463-7".into(),
            value,
            unit: "kg".into(),
            canonical_value: value,
            canonical_unit: "kg".into(),
        }],
        measured_at: OffsetDateTime::now_utc() - time::Duration::minutes(minutes_ago),
        note: None,
        recorded_at: OffsetDateTime::now_utc(),
    };
    NewEvent::json(event.event_type(), event.schema_version(), &event).expect("encode")
}

async fn readings(db: &ReadDb, person: Uuid) -> usize {
    let page = PageRequest {
        first: 100,
        after: None,
    };
    read::health_logs(db, person, None, None, None, &page)
        .await
        .expect("read")
        .items
        .len()
}

async fn a_projection_reset_by_another_writer_is_replayed(location: Location) {
    let store = EventStore::open(StoreConfig::new(location.clone(), MasterKey::generate().expect("key")))
        .await
        .expect("open store");
    let db = ReadDb::open(&location, 4).await.expect("open read db");
    let key = IndexKey::from_bytes(*store.system_secret(INDEX_KEY_CONTEXT).await.expect("secret"));
    let runner = ProjectionRunner::start(store.clone(), db.clone(), key)
        .await
        .expect("runner");
    let person = Uuid::now_v7();
    let stream = vigil_projections::streams::health(person);
    let wait = Duration::from_secs(10);
    let mut version = 0;
    for minutes_ago in [30, 20, 10] {
        let expected = if version == 0 {
            ExpectedVersion::NoStream
        } else {
            ExpectedVersion::Exact(version)
        };
        let outcome = store
            .append_to(
                &stream,
                person,
                expected,
                vec![weight(minutes_ago)],
                Metadata::actor("test"),
            )
            .await
            .expect("append");
        version = outcome.last_version;
        runner.wait_for(outcome.last_position, wait).await.expect("applied");
    }
    assert_eq!(readings(&db, person).await, 3);

    // Another writer empties the projection and puts its checkpoint back to 0, while this
    // runner still remembers it at the head.
    vigil_projections::runner::reset(&db, &[Projection::HealthLogs])
        .await
        .expect("reset");
    let outcome = store
        .append_to(
            &stream,
            person,
            ExpectedVersion::Exact(version),
            vec![weight(0)],
            Metadata::actor("test"),
        )
        .await
        .expect("append");
    runner.wait_for(outcome.last_position, wait).await.expect("applied");
    assert_eq!(
        readings(&db, person).await,
        4,
        "every reading, not only the one after the reset"
    );

    runner.stop_in_place().await;
    store.close().await;
    db.close().await;
}

#[tokio::test]
async fn a_projection_reset_by_another_writer_is_replayed_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    a_projection_reset_by_another_writer_is_replayed(Location::Sqlite(dir.path().join("data"))).await;
}

#[tokio::test]
async fn a_projection_reset_by_another_writer_is_replayed_on_postgres() {
    let Some(url) = vigil_tests::fresh_pg_database().await else {
        return;
    };
    a_projection_reset_by_another_writer_is_replayed(Location::Postgres(url)).await;
}
