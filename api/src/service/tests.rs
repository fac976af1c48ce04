//! The command path against a real SQLite store, read database and runner: remembered
//! aggregate states and what erasure does to them.

use std::time::Duration;

use time::OffsetDateTime;
use uuid::Uuid;
use vigil_domain::aggregate::{Aggregate, DomainEvent};
use vigil_domain::health::{HealthCommand, HealthLog, HealthLogState, VitalKind, VitalReading};
use vigil_domain::values::{Decimal, EntryId};
use vigil_eventstore::{EventStore, ExpectedVersion, Location, MasterKey, Metadata, NewEvent, StoreConfig};
use vigil_projections::{INDEX_KEY_CONTEXT, IndexKey, ProjectionRunner, ReadDb, streams};

use super::{ApiError, Service};
use crate::auth::TokenKey;

/// A service over a fresh SQLite store in `dir` (also used by other modules' tests).
pub(crate) async fn service(dir: &std::path::Path) -> (EventStore, Service) {
    let location = Location::Sqlite(dir.to_path_buf());
    vigil_eventstore::migrate(&location).await.expect("migrate");
    let store = EventStore::open(StoreConfig::new(location.clone(), MasterKey::generate().expect("key")))
        .await
        .expect("open store");
    let db = ReadDb::open(&location, 4).await.expect("open read db");
    let key = IndexKey::from_bytes(*store.system_secret(INDEX_KEY_CONTEXT).await.expect("secret"));
    let runner = ProjectionRunner::start(store.clone(), db.clone(), key.clone())
        .await
        .expect("runner");
    let tokens = TokenKey::generate().expect("token key");
    let service = Service::new(
        store.clone(),
        db,
        runner,
        key,
        tokens,
        Duration::from_secs(10),
        crate::cluster::Cluster {
            revocations: crate::cluster::revocations::Revocations::Process,
            maintenance: crate::maintenance::ReadOnlySwitch::follow(&store).await.unwrap(),
        },
    )
    .unwrap();
    (store, service)
}

fn weight(kg: i64) -> HealthCommand {
    let now = OffsetDateTime::now_utc();
    HealthCommand::RecordVital {
        entry_id: EntryId::from_uuid(Uuid::now_v7()),
        reading: VitalReading::Quantity {
            kind: VitalKind::BodyWeight,
            value: Decimal::from_int(kg),
            unit: "kg".into(),
        },
        measured_at: now,
        note: None,
        recorded_at: now,
    }
}

async fn record_weight(service: &Service, person: Uuid, kg: i64) -> Result<u64, ApiError> {
    service
        .execute::<HealthLog>(&streams::health(person), person, Metadata::actor("test"), |_| {
            Ok(weight(kg))
        })
        .await
}

/// Appends `command`'s events behind the service's back, as another server would.
async fn append_elsewhere(store: &EventStore, person: Uuid, version: u64, command: HealthCommand) {
    let events = HealthLog::decide(&Default::default(), command).expect("decided");
    let events = events
        .iter()
        .map(|e| NewEvent::json(e.event_type(), e.schema_version(), e).expect("encode"))
        .collect();
    store
        .append_to(
            &streams::health(person),
            person,
            ExpectedVersion::Exact(version),
            events,
            Metadata::actor("elsewhere"),
        )
        .await
        .expect("appended behind the service's back");
}

#[tokio::test]
async fn commands_continue_from_the_remembered_state_until_the_person_is_erased() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, service) = service(dir.path()).await;
    let (person, bystander) = (Uuid::now_v7(), Uuid::now_v7());

    for kg in [80, 81, 82] {
        record_weight(&service, person, kg).await.expect("recorded");
    }
    record_weight(&service, bystander, 70).await.expect("recorded");
    assert_eq!(service.inner.states.len(), 2, "one remembered state per stream");
    let remembered = service.inner.states.take::<HealthLogState>(&streams::health(person));
    let (state, version) = remembered.expect("the person's state is remembered");
    assert_eq!(version, 3);
    let (replayed, replayed_version) = service
        .catch_up::<HealthLog>(&streams::health(person), None)
        .await
        .expect("replay");
    assert_eq!(
        (state, version),
        (replayed, replayed_version),
        "remembered equals replayed"
    );
    record_weight(&service, person, 83)
        .await
        .expect("recorded after a replay");

    // A write this service did not make (another server, say): the remembered state is behind.
    // A command that only makes sense with that write (correcting the entry it added) is
    // first refused on the remembered state, then decided again on the stream's tail.
    let outside = weight(84);
    let HealthCommand::RecordVital { entry_id, .. } = &outside else {
        unreachable!("weight() records")
    };
    let entry_id = *entry_id;
    append_elsewhere(&store, person, 4, outside).await;
    let now = OffsetDateTime::now_utc();
    service
        .execute::<HealthLog>(&streams::health(person), person, Metadata::actor("test"), |_| {
            Ok(HealthCommand::CorrectVital {
                entry_id,
                reading: VitalReading::Quantity {
                    kind: VitalKind::BodyWeight,
                    value: Decimal::from_int(85),
                    unit: "kg".into(),
                },
                measured_at: now,
                reason: None,
                corrected_at: now,
            })
        })
        .await
        .expect("the outside entry is corrected, not refused as unknown");
    // And an append decided on a state that is behind is refused by the version check and
    // decided again after the tail.
    append_elsewhere(&store, person, 6, weight(86)).await;
    record_weight(&service, person, 87)
        .await
        .expect("recorded after the version check caught the stale state");
    let stream = streams::health(person);
    let (state, version) = service
        .inner
        .states
        .take::<HealthLogState>(&stream)
        .expect("remembered");
    assert_eq!(
        version, 8,
        "the outside events and the commands after them are folded in"
    );
    service.inner.states.put(&stream, person, state, version);

    assert_eq!(service.inner.states.len(), 2, "before the erasure");
    store.shred(person, Metadata::actor("test")).await.expect("shred");
    let head = store.head_position().await.expect("head");
    service.settle(head).await.expect("runner saw the erasure");
    assert!(
        service
            .inner
            .states
            .take::<HealthLogState>(&streams::health(person))
            .is_none(),
        "an erased person's state is dropped"
    );
    assert_eq!(service.inner.states.len(), 1, "the bystander's stays");
    let refused = record_weight(&service, person, 88).await;
    assert!(matches!(refused, Err(ApiError::Forbidden(_))), "got {refused:?}");
    record_weight(&service, bystander, 71)
        .await
        .expect("the bystander still records");
    service.shutdown().await;
}
