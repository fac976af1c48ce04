//! SQLite only: after an erasure, `read.db` and its WAL hold nothing the erased person wrote.
//! Deleting their rows is not enough on its own: SQLite leaves deleted bytes in a page's free
//! space (which `secure_delete` zeroes) and keeps images of the pages from before the delete
//! in the WAL (which the runner truncates after a batch that erased someone).
#![allow(clippy::expect_used)]

use std::time::Duration;

use time::OffsetDateTime;
use uuid::Uuid;
use vigil_domain::aggregate::DomainEvent;
use vigil_domain::health::{HealthEvent, VitalComponent, VitalKind};
use vigil_domain::values::{Decimal, EntryId};
use vigil_eventstore::{EventStore, ExpectedVersion, Location, MasterKey, Metadata, NewEvent, StoreConfig};
use vigil_projections::{INDEX_KEY_CONTEXT, IndexKey, ProjectionRunner, ReadDb};

/// A weight reading whose note is `note`: a value that can only come from this person.
fn weight_noted(note: &str) -> NewEvent {
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
        measured_at: OffsetDateTime::now_utc(),
        note: Some(note.into()),
        recorded_at: OffsetDateTime::now_utc(),
    };
    NewEvent::json(event.event_type(), event.schema_version(), &event).expect("encode")
}

/// Whether `needle` is anywhere in `read.db` or its WAL.
fn in_read_files(dir: &std::path::Path, needle: &str) -> bool {
    vigil_tests::in_sqlite_files(dir, "read.db", needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erased_persons_read_models_leave_no_bytes_in_the_read_files() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("data");
    let location = Location::Sqlite(dir.clone());
    let store = EventStore::open(StoreConfig::new(location.clone(), MasterKey::generate().expect("key")))
        .await
        .expect("open store");
    let db = ReadDb::open(&location, 4).await.expect("open read db");
    let key = IndexKey::from_bytes(*store.system_secret(INDEX_KEY_CONTEXT).await.expect("secret"));
    let runner = ProjectionRunner::start(store.clone(), db.clone(), key)
        .await
        .expect("runner");
    let wait = Duration::from_secs(10);

    let (person, bystander) = (Uuid::now_v7(), Uuid::now_v7());
    let notes = [person, bystander].map(|who| format!("note-{}", who.simple()));
    for (who, note) in [person, bystander].iter().zip(&notes) {
        let outcome = store
            .append_to(
                &vigil_projections::streams::health(*who),
                *who,
                ExpectedVersion::NoStream,
                vec![weight_noted(note)],
                Metadata::actor("test"),
            )
            .await
            .expect("append");
        runner.wait_for(outcome.last_position, wait).await.expect("applied");
    }
    assert!(
        notes.iter().all(|n| in_read_files(&dir, n)),
        "both notes are in the read model"
    );

    store.shred(person, Metadata::actor("test")).await.expect("shred");
    runner
        .wait_for(store.head_position().await.expect("head"), wait)
        .await
        .expect("applied");
    assert!(
        !in_read_files(&dir, &notes[0]),
        "the erased person's note is still on disk"
    );
    assert!(in_read_files(&dir, &notes[1]), "the bystander's note stays");

    runner.stop_in_place().await;
    store.close().await;
    db.close().await;
}
