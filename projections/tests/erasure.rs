//! SQLite only: after an erasure, `read.db` and its WAL hold nothing the erased person wrote.
//! Deleting their rows is not enough on its own: SQLite leaves deleted bytes in a page's free
//! space (which `secure_delete` zeroes) and keeps images of the pages from before the delete
//! in the WAL (which the runner truncates after a batch that erased someone).
#![allow(clippy::expect_used)]

mod support;

use support::{WAIT, started, stopped, weight_at};
use time::OffsetDateTime;
use uuid::Uuid;
use vigil_eventstore::{ExpectedVersion, Location, Metadata};

/// Whether `needle` is anywhere in `read.db` or its WAL.
fn in_read_files(dir: &std::path::Path, needle: &str) -> bool {
    vigil_tests::in_sqlite_files(dir, "read.db", needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erased_persons_read_models_leave_no_bytes_in_the_read_files() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("data");
    let location = Location::Sqlite(dir.clone());
    let (store, db, runner) = started(&location).await;
    let wait = WAIT;

    let (person, bystander) = (Uuid::now_v7(), Uuid::now_v7());
    let notes = [person, bystander].map(|who| format!("note-{}", who.simple()));
    for (who, note) in [person, bystander].iter().zip(&notes) {
        let outcome = store
            .append_to(
                &vigil_projections::streams::health(*who),
                *who,
                ExpectedVersion::NoStream,
                vec![weight_at(OffsetDateTime::now_utc(), Some(note))],
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

    stopped(store, db, runner).await;
}
