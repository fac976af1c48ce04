//! The runner and checkpoints moved under it: a projection reset by another writer (say
//! `vigil projections rebuild` from another process) is replayed from its new checkpoint,
//! not continued from where the runner was, which would have left it holding only the
//! events after the reset. Same case on SQLite and Postgres.
#![allow(clippy::expect_used)]

mod support;

use support::{HealthStream, started, stopped, weight_at};
use time::OffsetDateTime;
use uuid::Uuid;
use vigil_eventstore::{Location, NewEvent};
use vigil_projections::read::{self, PageRequest, Subject};
use vigil_projections::{Projection, ReadDb};

fn weight(minutes_ago: i64) -> NewEvent {
    weight_at(OffsetDateTime::now_utc() - time::Duration::minutes(minutes_ago), None)
}

async fn readings(db: &ReadDb, person: &Subject) -> usize {
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
    let (store, db, runner) = started(&location).await;
    let person = Uuid::now_v7();
    // A subject per read: a subject's read transaction lives as long as it does (on Postgres).
    let mint = db.take_subject_mint().expect("mint");
    let mut health = HealthStream::new(person);
    for minutes_ago in [30, 20, 10] {
        health.record(&store, &runner, weight(minutes_ago)).await;
    }
    assert_eq!(readings(&db, &mint.vouch(person)).await, 3);

    // Another writer empties the projection and puts its checkpoint back to 0, while this
    // runner still remembers it at the head.
    vigil_projections::runner::reset(&db, &[Projection::HealthLogs])
        .await
        .expect("reset");
    health.record(&store, &runner, weight(0)).await;
    assert_eq!(
        readings(&db, &mint.vouch(person)).await,
        4,
        "every reading, not only the one after the reset"
    );

    stopped(store, db, runner).await;
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
