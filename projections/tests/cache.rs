//! The runner keeps the read cache fresh: a person's new event drops their cached dashboard
//! sources before the runner announces the position (so read-your-writes holds), and an
//! erasure drops everything held about them. Same cases on SQLite and Postgres.
#![allow(clippy::expect_used)]

mod support;

use std::sync::Arc;

use support::{HealthStream, WAIT, started, stopped};
use time::OffsetDateTime;
use uuid::Uuid;
use vigil_domain::aggregate::DomainEvent;
use vigil_domain::health::{HealthEvent, VitalKind};
use vigil_domain::values::EntryId;
use vigil_eventstore::{ExpectedVersion, Location, Metadata, NewEvent};

fn recorded(kind: VitalKind, loinc: &str, unit: &str, at: OffsetDateTime, tenths: i64) -> (EntryId, NewEvent) {
    support::recorded(kind, loinc, unit, at, tenths, Some("after breakfast"))
}

fn reading(kind: VitalKind, loinc: &str, unit: &str) -> NewEvent {
    recorded(kind, loinc, unit, OffsetDateTime::now_utc(), 873).1
}

/// A weight at `at` (nanoseconds included: read models keep microseconds).
fn weight_at(at: OffsetDateTime, tenths: i64) -> (EntryId, NewEvent) {
    recorded(
        VitalKind::BodyWeight,
        "29463-7",
        "kg",
        at + time::Duration::nanoseconds(789),
        tenths,
    )
}

async fn the_cache_follows_writes_and_erasures(location: Location) {
    let (store, db, runner) = started(&location).await;
    let (person, bystander) = (Uuid::now_v7(), Uuid::now_v7());
    // A subject per read: a subject's read transaction lives as long as it does (on Postgres).
    let mint = db.take_subject_mint().expect("mint");
    let wait = WAIT;

    for someone in [person, bystander] {
        let outcome = store
            .append_to(
                &vigil_projections::streams::health(someone),
                someone,
                ExpectedVersion::NoStream,
                vec![reading(VitalKind::BodyWeight, "29463-7", "kg")],
                Metadata::actor("test"),
            )
            .await
            .expect("append");
        runner.wait_for(outcome.last_position, wait).await.expect("applied");
    }
    let first = runner
        .cache()
        .dashboard(&db, &mint.vouch(person))
        .await
        .expect("dashboard");
    assert_eq!(first.vitals.len(), 1);
    let again = runner
        .cache()
        .dashboard(&db, &mint.vouch(person))
        .await
        .expect("dashboard");
    assert!(
        Arc::ptr_eq(&first.vitals, &again.vitals)
            && Arc::ptr_eq(&first.protocols, &again.protocols)
            && Arc::ptr_eq(&first.doses, &again.doses)
            && Arc::ptr_eq(&first.panel, &again.panel),
        "an unchanged person is served from memory"
    );
    runner
        .cache()
        .dashboard(&db, &mint.vouch(bystander))
        .await
        .expect("dashboard");

    // A new reading: once the runner announces its position, the cache must not serve the
    // old sources.
    let outcome = store
        .append_to(
            &vigil_projections::streams::health(person),
            person,
            ExpectedVersion::Exact(1),
            vec![reading(VitalKind::HeartRate, "8867-4", "/min")],
            Metadata::actor("test"),
        )
        .await
        .expect("append");
    runner.wait_for(outcome.last_position, wait).await.expect("applied");
    let after = runner
        .cache()
        .dashboard(&db, &mint.vouch(person))
        .await
        .expect("dashboard");
    assert_eq!(after.vitals.len(), 2, "read-your-writes through the cache");
    assert!(
        Arc::ptr_eq(&first.protocols, &after.protocols) && Arc::ptr_eq(&first.panel, &after.panel),
        "a reading refreshes only the vitals"
    );
    assert_eq!(runner.cache().len(), 2);

    // Erasure: the person's entry goes; the bystander's stays.
    store.shred(person, Metadata::actor("test")).await.expect("shred");
    let head = store.head_position().await.expect("head");
    runner.wait_for(head, wait).await.expect("applied");
    assert_eq!(runner.cache().len(), 1, "nothing about the erased person is held");
    let erased = runner
        .cache()
        .dashboard(&db, &mint.vouch(person))
        .await
        .expect("dashboard");
    assert!(erased.vitals.is_empty() && erased.protocols.is_empty() && erased.panel.is_none());
    let bystander_view = runner
        .cache()
        .dashboard(&db, &mint.vouch(bystander))
        .await
        .expect("dashboard");
    assert_eq!(bystander_view.vitals.len(), 1);

    stopped(store, db, runner).await;
}

#[tokio::test]
async fn the_read_cache_follows_writes_and_erasures_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    the_cache_follows_writes_and_erasures(Location::Sqlite(dir.path().join("data"))).await;
}

#[tokio::test]
async fn the_read_cache_follows_writes_and_erasures_on_postgres() {
    let Some(url) = vigil_tests::fresh_pg_database().await else {
        return;
    };
    the_cache_follows_writes_and_erasures(Location::Postgres(url)).await;
}

fn retraction(entry_id: EntryId) -> NewEvent {
    let event = HealthEvent::VitalRetracted {
        entry_id,
        reason: None,
        retracted_at: OffsetDateTime::now_utc(),
    };
    NewEvent::json(event.event_type(), event.schema_version(), &event).expect("encode")
}

async fn cached_vitals_stay_what_a_fresh_read_returns(location: Location) {
    let (store, db, runner) = started(&location).await;
    let person = Uuid::now_v7();
    let mint = db.take_subject_mint().expect("mint");
    let now = OffsetDateTime::now_utc();
    let mut health = HealthStream::new(person);
    let mut append = async |event: NewEvent| health.record(&store, &runner, event).await;
    let (first, event) = weight_at(now - time::Duration::hours(2), 871);
    append(event).await;
    let cached = runner
        .cache()
        .dashboard(&db, &mint.vouch(person))
        .await
        .expect("dashboard");
    assert_eq!(cached.vitals.len(), 1);

    let (newer, event) = weight_at(now - time::Duration::hours(1), 872);
    let (older, older_event) = weight_at(now - time::Duration::hours(3), 870);
    let (pulse, pulse_event) = recorded(VitalKind::HeartRate, "8867-4", "/min", now, 680);
    let steps: Vec<(&str, NewEvent)> = vec![
        ("a newer reading", event),
        ("an older reading", older_event),
        ("a new kind", pulse_event),
        ("the latest withdrawn", retraction(newer)),
        ("the one before withdrawn too", retraction(first)),
    ];
    // What a mutation may answer from memory after each step (and the dashboard read that
    // follows it): the latest live reading of each kind, and nothing else.
    let from_memory: [&[EntryId]; 5] = [&[newer], &[newer], &[newer, pulse], &[first, pulse], &[older, pulse]];
    for (i, (what, event)) in steps.into_iter().enumerate() {
        let merged = runner.cache().vitals_merged();
        append(event).await;
        // The three readings merge into the cached part; a withdrawal makes it read again.
        let merges = u64::from(i < 3);
        assert_eq!(runner.cache().vitals_merged(), merged + merges, "{what} merged");
        let cached = runner
            .cache()
            .dashboard(&db, &mint.vouch(person))
            .await
            .expect("dashboard");
        let fresh = vigil_projections::DashboardSource::load(&db, &mint.vouch(person))
            .await
            .expect("load");
        assert_eq!(cached.vitals, fresh.vitals, "after {what}");
        for id in [first, newer, older, pulse] {
            let remembered = runner.cache().latest_reading(person, id.as_uuid());
            let stored = vigil_projections::read::health_log(&db, &mint.vouch(person), id.as_uuid())
                .await
                .expect("read");
            if from_memory[i].contains(&id) {
                assert_eq!(remembered, stored, "after {what}, the row of {id:?}");
            } else {
                assert!(remembered.is_none(), "after {what}, {id:?} must be read");
            }
        }
    }
    let last = runner
        .cache()
        .dashboard(&db, &mint.vouch(person))
        .await
        .expect("dashboard");
    assert_eq!(last.vitals.len(), 2, "the oldest weight and the heart rate remain");

    stopped(store, db, runner).await;
}

#[tokio::test]
async fn cached_vitals_stay_what_a_fresh_read_returns_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    cached_vitals_stay_what_a_fresh_read_returns(Location::Sqlite(dir.path().join("data"))).await;
}

#[tokio::test]
async fn cached_vitals_stay_what_a_fresh_read_returns_on_postgres() {
    let Some(url) = vigil_tests::fresh_pg_database().await else {
        return;
    };
    cached_vitals_stay_what_a_fresh_read_returns(Location::Postgres(url)).await;
}
