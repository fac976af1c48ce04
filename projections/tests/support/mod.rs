//! What the projections' integration tests share: a running store, read database and runner,
//! and recorded readings as the health stream holds them.

// Each test file compiles this module on its own and uses part of it.
#![allow(dead_code)]

use std::time::Duration;

use time::OffsetDateTime;
use uuid::Uuid;
use vigil_domain::aggregate::DomainEvent;
use vigil_domain::health::{HealthEvent, VitalComponent, VitalKind};
use vigil_domain::values::{Decimal, EntryId};
use vigil_eventstore::{EventStore, ExpectedVersion, Location, MasterKey, Metadata, NewEvent, StoreConfig};
use vigil_projections::{INDEX_KEY_CONTEXT, IndexKey, ProjectionRunner, ReadDb};

/// How long a test waits for the runner.
pub const WAIT: Duration = Duration::from_secs(10);

/// A recorded reading of `kind` (one component) measured at `at`, worth `tenths` tenths of
/// `unit`, and its entry id.
pub fn recorded(
    kind: VitalKind,
    loinc: &str,
    unit: &str,
    at: OffsetDateTime,
    tenths: i64,
    note: Option<&str>,
) -> (EntryId, NewEvent) {
    let value = Decimal::from_parts(tenths, 1);
    let entry_id = EntryId::from_uuid(Uuid::now_v7());
    let event = HealthEvent::VitalRecorded {
        entry_id,
        kind,
        loinc: loinc.into(),
        components: vec![VitalComponent {
            loinc: loinc.into(),
            value,
            unit: unit.into(),
            canonical_value: value,
            canonical_unit: unit.into(),
        }],
        measured_at: at,
        note: note.map(str::to_owned),
        recorded_at: OffsetDateTime::now_utc(),
    };
    let encoded = NewEvent::json(event.event_type(), event.schema_version(), &event);
    (entry_id, encoded.expect("encode"))
}

/// A body weight of 87.3 kg measured at `at`.
pub fn weight_at(at: OffsetDateTime, note: Option<&str>) -> NewEvent {
    recorded(VitalKind::BodyWeight, "29463-7", "kg", at, 873, note).1
}

/// A store, its read database and a running runner on `location`.
pub async fn started(location: &Location) -> (EventStore, ReadDb, ProjectionRunner) {
    let store = EventStore::open(StoreConfig::new(location.clone(), MasterKey::generate().expect("key")))
        .await
        .expect("open store");
    let db = ReadDb::open(location, 4).await.expect("open read db");
    let key = IndexKey::from_bytes(*store.system_secret(INDEX_KEY_CONTEXT).await.expect("secret"));
    let runner = ProjectionRunner::start(store.clone(), db.clone(), key)
        .await
        .expect("runner");
    (store, db, runner)
}

/// One person's health stream, appended to one event at a time with the expected version.
pub struct HealthStream {
    person: Uuid,
    version: u64,
}

impl HealthStream {
    pub fn new(person: Uuid) -> HealthStream {
        HealthStream { person, version: 0 }
    }

    /// Appends `event` and waits until the runner applied it.
    pub async fn record(&mut self, store: &EventStore, runner: &ProjectionRunner, event: NewEvent) {
        let expected = if self.version == 0 {
            ExpectedVersion::NoStream
        } else {
            ExpectedVersion::Exact(self.version)
        };
        let stream = vigil_projections::streams::health(self.person);
        let outcome = store
            .append_to(&stream, self.person, expected, vec![event], Metadata::actor("test"))
            .await
            .expect("append");
        self.version = outcome.last_version;
        runner.wait_for(outcome.last_position, WAIT).await.expect("applied");
    }
}

/// Stops what [`started`] started.
pub async fn stopped(store: EventStore, db: ReadDb, runner: ProjectionRunner) {
    runner.stop_in_place().await;
    store.close().await;
    db.close().await;
}
