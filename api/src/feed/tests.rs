//! The feed against a real SQLite store: routing by person, nothing before the subscription,
//! delivery only up to what the read models reached, overflow, and no route left behind.

use futures_util::{Stream, StreamExt};
use tokio::sync::watch;
use uuid::Uuid;
use vigil_eventstore::{EventStore, ExpectedVersion, Location, MasterKey, Metadata, NewEvent, StoreConfig};

use super::{Delivery, Feed, QUEUE};

async fn store(dir: &std::path::Path) -> EventStore {
    let location = Location::Sqlite(dir.to_path_buf());
    vigil_eventstore::migrate(&location).await.expect("migrate");
    EventStore::open(StoreConfig::new(location, MasterKey::generate().expect("key")))
        .await
        .expect("open store")
}

/// Appends `n` events to `person`'s health stream; the last position.
async fn append(store: &EventStore, person: Uuid, n: usize) -> u64 {
    let events = (0..n)
        .map(|i| NewEvent::json("VitalRecorded", 1, &serde_json::json!({ "i": i })).expect("event"))
        .collect();
    store
        .append_to(
            format!("health-{person}"),
            person,
            ExpectedVersion::Any,
            events,
            Metadata::actor("test"),
        )
        .await
        .expect("append")
        .last_position
}

async fn next(stream: &mut (impl Stream<Item = Delivery> + Unpin)) -> Option<Delivery> {
    tokio::time::timeout(std::time::Duration::from_secs(5), stream.next())
        .await
        .expect("a delivery in time")
}

fn routes(feed: &Feed) -> usize {
    feed.shared.routes().by_subject.values().map(Vec::len).sum()
}

#[tokio::test]
async fn each_person_gets_their_own_events_once_the_read_models_reach_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store(dir.path()).await;
    let (ann, bob) = (Uuid::now_v7(), Uuid::now_v7());
    let before = append(&store, ann, 1).await;
    let (reached, watch) = watch::channel(before);
    let feed = Feed::start(store.clone(), watch);
    let mut ann_events = Box::pin(feed.follow(ann));
    let mut bob_events = Box::pin(feed.follow(bob));
    assert_eq!(routes(&feed), 2);

    let bob_at = append(&store, bob, 1).await;
    let ann_at = append(&store, ann, 1).await;
    // Not yet in the read models: nothing is delivered.
    reached.send_replace(bob_at);
    match next(&mut bob_events).await {
        Some(Delivery::Event(n)) => assert_eq!((n.position, n.stream_id), (bob_at, format!("health-{bob}"))),
        other => panic!("expected bob's event, got {other:?}"),
    }
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(200), ann_events.next())
            .await
            .is_err(),
        "ann's event was delivered before the read models reached it"
    );
    reached.send_replace(ann_at);
    match next(&mut ann_events).await {
        // Her event from before the subscription is not news; only the new one arrives.
        Some(Delivery::Event(n)) => assert_eq!(n.position, ann_at),
        other => panic!("expected ann's event, got {other:?}"),
    }

    drop(ann_events);
    assert_eq!(routes(&feed), 1, "a dropped subscription leaves its route behind");
    drop(bob_events);
    assert_eq!(routes(&feed), 0);
}

#[tokio::test]
async fn a_subscription_that_falls_a_queue_behind_is_ended_and_a_new_one_hears_what_comes_next() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store(dir.path()).await;
    let person = Uuid::now_v7();
    let (reached, watch) = watch::channel(0);
    let feed = Feed::start(store.clone(), watch);
    let mut slow = Box::pin(feed.follow(person));
    let mut first = 0;
    let mut last = 0;
    for _ in 0..3 {
        // 3 × 100 events in appends of 100 (the store's per-append cap is not the point).
        last = append(&store, person, 100).await;
        if first == 0 {
            first = last - 99;
        }
    }
    reached.send_replace(last);
    let mut positions = Vec::new();
    loop {
        match next(&mut slow).await {
            Some(Delivery::Event(n)) => positions.push(n.position),
            Some(Delivery::Overflowed) => break,
            None => panic!("ended without saying it overflowed, after {} events", positions.len()),
        }
    }
    assert_eq!(positions, (first..first + QUEUE as u64).collect::<Vec<_>>());
    assert!(next(&mut slow).await.is_none(), "an overflowed subscription goes on");
    assert_eq!(routes(&feed), 0, "the overflowed route is still routed to");

    // A new subscription of the same person hears what comes next.
    let mut again = Box::pin(feed.follow(person));
    let at = append(&store, person, 1).await;
    reached.send_replace(at);
    match next(&mut again).await {
        Some(Delivery::Event(n)) => assert_eq!(n.position, at),
        other => panic!("expected the next event, got {other:?}"),
    }
}
