//! Long scans: `read_all` and `verify_chain` over pages big enough that the store reads them
//! in parallel parts (on SQLite, see `scan`). Whatever the store does inside, a long read must
//! answer exactly what short sequential pages answer, also when the log has a hole or a
//! subject was erased, and verify must still name the first bad position.

use uuid::Uuid;
use vigil_eventstore::chain::ChainFault;
use vigil_eventstore::{EventStore, ExpectedVersion, Metadata, Payload, RecordedEvent};

use super::{bp, request};
use crate::harness::TestDb;

/// Longer than one split page (4,096), with rows left over after a 6,000-row page.
const EVENTS: u32 = 7_000;
const LONG: u64 = 6_000;

fn subject(i: u32) -> Uuid {
    Uuid::from_u128(u128::from(i % 3) + 1)
}

async fn seed(db: &TestDb) -> EventStore {
    let store = db.open().await;
    for batch in 0..EVENTS / 100 {
        let s = batch % 3;
        let events = (0..100).map(|i| bp(batch * 100 + i, 70)).collect();
        store
            .append(request(&format!("s-{s}"), subject(s), ExpectedVersion::Any, events))
            .await
            .unwrap();
    }
    store
}

/// `want` events from `from` read in short pages, each well below the parallel threshold.
async fn in_short_pages(store: &EventStore, from: u64, want: u64) -> Vec<RecordedEvent> {
    let mut out = Vec::new();
    let mut next = from;
    while (out.len() as u64) < want {
        let page = store.read_all(next, 700.min(want - out.len() as u64)).await.unwrap();
        let Some(last) = page.last() else { break };
        next = last.envelope.position + 1;
        out.extend(page);
    }
    out
}

fn positions(events: &[RecordedEvent]) -> Vec<u64> {
    events.iter().map(|e| e.envelope.position).collect()
}

pub async fn a_long_read_answers_exactly_what_short_pages_answer(db: TestDb) {
    let store = seed(&db).await;
    let long = store.read_all(1, LONG).await.unwrap();
    assert_eq!(positions(&long), (1..=LONG).collect::<Vec<_>>());
    assert_eq!(long, in_short_pages(&store, 1, LONG).await);
    // From an odd start, the parts meet at an odd position.
    assert_eq!(
        store.read_all(777, LONG).await.unwrap(),
        in_short_pages(&store, 777, LONG).await
    );

    // Reopened, no key is in memory yet: rows are opened after their keys are fetched.
    store.close().await;
    let store = db.open().await;
    assert_eq!(store.read_all(1, LONG).await.unwrap(), long);

    // An erased subject's events read as erased in a long scan too; the others still open.
    store.shred(subject(1), Metadata::actor("user:admin")).await.unwrap();
    let after = store.read_all(1, LONG).await.unwrap();
    assert_eq!(positions(&after), positions(&long));
    for (event, before) in after.iter().zip(&long) {
        if event.envelope.subject == subject(1) {
            assert_eq!(event.payload, Payload::Erased);
        } else {
            assert_eq!(event, before);
        }
    }

    // An edited byte in the second part of a long page is named.
    let report = store.verify_chain(|_, _| {}).await.unwrap().unwrap();
    assert_eq!(
        report.events,
        u64::from(EVENTS) + 1,
        "the shred's ledger event is chained too"
    );
    db.flip_ciphertext_byte(4500).await;
    let broken = store.verify_chain(|_, _| {}).await.unwrap().unwrap_err();
    assert_eq!((broken.position, broken.fault), (4500, ChainFault::HashMismatch));
}

pub async fn a_hole_in_the_log_reads_like_a_sequential_read_and_verify_names_it(db: TestDb) {
    let store = seed(&db).await;
    // A hole in the first part of a long page: the long read skips it and still returns LONG
    // rows in order, continuing past where the second part would have started.
    db.tamper("delete from events where position = 1200").await;
    let long = store.read_all(1, LONG).await.unwrap();
    let expected: Vec<u64> = (1..=LONG + 1).filter(|p| *p != 1200).collect();
    assert_eq!(positions(&long), expected);
    assert_eq!(long, in_short_pages(&store, 1, LONG).await);
    let broken = store.verify_chain(|_, _| {}).await.unwrap().unwrap_err();
    assert_eq!(
        (broken.position, broken.fault),
        (1201, ChainFault::Gap { expected: 1200 })
    );
}

pub async fn every_event_gets_its_own_nonce_and_a_v7_id_of_its_recorded_time(db: TestDb) {
    let store = db.open().await;
    // Identical payloads, in one request and across requests of one subject (one key).
    for _ in 0..3 {
        let events = (0..200).map(|_| bp(120, 80)).collect();
        store
            .append(request("same", subject(0), ExpectedVersion::Any, events))
            .await
            .unwrap();
    }
    assert_eq!(db.scalar("select count(distinct nonce) from events").await, 600);
    assert_eq!(db.scalar("select count(distinct event_id) from events").await, 600);
    assert_eq!(db.scalar("select count(distinct ciphertext) from events").await, 600);
    for event in store.read_all(1, 600).await.unwrap() {
        let id = event.envelope.event_id;
        assert_eq!(id.get_version_num(), 7);
        let (secs, nanos) = id.get_timestamp().unwrap().to_unix();
        let millis = i64::try_from(secs).unwrap() * 1_000 + i64::from(nanos / 1_000_000);
        assert_eq!(millis, event.envelope.recorded_at_micros / 1_000);
    }
}
