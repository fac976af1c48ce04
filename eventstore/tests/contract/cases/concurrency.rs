use std::time::Duration;

use futures_util::StreamExt;
use uuid::Uuid;
use vigil_eventstore::{ExpectedVersion, Metadata, StoreError};

use super::{bp, request};
use crate::harness::TestDb;

pub async fn a_subscription_delivers_history_then_live_events_in_order(db: TestDb) {
    let store = db.open().await;
    let s = Uuid::now_v7();
    for i in 0..5 {
        store
            .append(request("sub", s, ExpectedVersion::Any, vec![bp(i, 0)]))
            .await
            .unwrap();
    }
    let mut sub = Box::pin(store.subscribe(3));
    for expected in 3..=5 {
        let e = sub.next().await.unwrap().unwrap();
        assert_eq!(e.envelope.position, expected);
    }
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            store
                .append(request("sub", s, ExpectedVersion::Any, vec![bp(6, 0), bp(7, 0)]))
                .await
                .unwrap();
        })
    };
    for expected in 6..=7 {
        let e = tokio::time::timeout(Duration::from_secs(10), sub.next())
            .await
            .expect("woken by the commit");
        assert_eq!(e.unwrap().unwrap().envelope.position, expected);
    }
    writer.await.unwrap();
}

/// The out-of-order commit pitfall: 64 writers append concurrently while a reader tails the
/// log. The reader must see positions 1..N exactly once, in order, with nothing skipped.
pub async fn a_tailing_reader_sees_every_event_once_while_64_writers_append(db: TestDb) {
    const WRITERS: u64 = 64;
    const APPENDS_EACH: u64 = 15;
    let total = WRITERS * APPENDS_EACH;
    let store = db.open().await;
    let reader = {
        let store = store.clone();
        tokio::spawn(async move {
            // Tail with plain read_all polling, exactly as a projection would.
            let mut seen = Vec::with_capacity(total as usize);
            let mut next = 1;
            let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
            while (seen.len() as u64) < total && tokio::time::Instant::now() < deadline {
                let page = store.read_all(next, 37).await.unwrap();
                for e in &page {
                    seen.push(e.envelope.position);
                }
                next = page.last().map_or(next, |e| e.envelope.position + 1);
                if page.is_empty() {
                    tokio::task::yield_now().await;
                }
            }
            seen
        })
    };
    let subscriber = {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .subscribe(1)
                .take(total as usize)
                .map(|e| e.unwrap().envelope.position)
                .collect::<Vec<_>>()
                .await
        })
    };
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                let subject = Uuid::now_v7();
                for i in 0..APPENDS_EACH {
                    let expected = if i == 0 {
                        ExpectedVersion::NoStream
                    } else {
                        ExpectedVersion::Exact(i)
                    };
                    store
                        .append(request(&format!("w-{w}"), subject, expected, vec![bp(i as u32, 0)]))
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    let expected: Vec<u64> = (1..=total).collect();
    assert_eq!(
        reader.await.unwrap(),
        expected,
        "the tailing reader saw every position once, in order"
    );
    let subscribed = tokio::time::timeout(Duration::from_secs(60), subscriber)
        .await
        .expect("subscriber finished")
        .unwrap();
    assert_eq!(
        subscribed, expected,
        "the subscription saw every position once, in order"
    );
    assert_eq!(store.verify_chain(|_, _| {}).await.unwrap().unwrap().events, total);
    for w in 0..WRITERS {
        let versions: Vec<u64> = store
            .read_stream(&format!("w-{w}"), 1, 100)
            .await
            .unwrap()
            .iter()
            .map(|e| e.envelope.stream_version)
            .collect();
        assert_eq!(versions, (1..=APPENDS_EACH).collect::<Vec<_>>());
    }
}

/// Two stores on one database stand for two processes: on Postgres the chain-head row lock,
/// on SQLite the write lock, keeps one gapless chain between them.
pub async fn two_store_instances_on_one_database_keep_one_gapless_chain(db: TestDb) {
    let a = db.open().await;
    let b = db.open().await;
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move {
                let s = Uuid::now_v7();
                for k in 0..10 {
                    store
                        .append(request(
                            &format!("p-{i}"),
                            s,
                            ExpectedVersion::Any,
                            vec![bp(k, 0), bp(k, 1)],
                        ))
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let all = a.read_all(1, 10_000).await.unwrap();
    assert_eq!(all.len(), 320);
    assert!(all.iter().enumerate().all(|(i, e)| e.envelope.position == i as u64 + 1));
    assert_eq!(b.verify_chain(|_, _| {}).await.unwrap().unwrap().events, 320);
}

/// Each instance remembers stream tips from its own commits; a write by another instance must
/// make that memory void (conflicts, versions and command-id retries see the other's write).
pub async fn an_instance_sees_what_another_instance_wrote_to_its_streams(db: TestDb) {
    let a = db.open().await;
    let b = db.open().await;
    let s = Uuid::now_v7();
    a.append(request("shared", s, ExpectedVersion::NoStream, vec![bp(1, 0)]))
        .await
        .unwrap();
    b.append(request("shared", s, ExpectedVersion::Exact(1), vec![bp(2, 0)]))
        .await
        .unwrap();
    let err = a
        .append(request("shared", s, ExpectedVersion::Exact(1), vec![bp(3, 0)]))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { actual: 2, .. }),
        "a stale tip must not admit the append: {err:?}"
    );
    let out = a
        .append(request("shared", s, ExpectedVersion::Any, vec![bp(3, 0)]))
        .await
        .unwrap();
    assert_eq!((out.first_version, out.first_position), (3, 3));

    // A command first written through b, retried through a (which appended to that stream
    // since): the original outcome, nothing written twice.
    let mut req = request("shared", s, ExpectedVersion::Exact(3), vec![bp(4, 0)]);
    req.metadata = Metadata::actor("user:x").with_command_id(Uuid::now_v7());
    let first = b.append(req.clone()).await.unwrap();
    let again = a.append(req).await.unwrap();
    assert_eq!(first, again);
    assert_eq!(a.head_position().await.unwrap(), 4);
    assert_eq!(a.verify_chain(|_, _| {}).await.unwrap().unwrap().events, 4);
}

/// A subscriber takes the rows its own process committed last from memory: it must receive
/// exactly what reading the log gives, also for a subject shredded since (its events open as
/// erased either way) and across rows another instance wrote in between (read from the log).
pub async fn a_subscription_delivers_exactly_what_the_log_holds(db: TestDb) {
    let store = db.open().await;
    let other = db.open().await;
    let (kept, shredded, elsewhere) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    for i in 0..4 {
        store
            .append(request("kept", kept, ExpectedVersion::Any, vec![bp(i, 0), bp(i, 1)]))
            .await
            .unwrap();
        store
            .append(request("shredded", shredded, ExpectedVersion::Any, vec![bp(i, 2)]))
            .await
            .unwrap();
        other
            .append(request("elsewhere", elsewhere, ExpectedVersion::Any, vec![bp(i, 3)]))
            .await
            .unwrap();
    }
    store.shred(shredded, Metadata::actor("test")).await.unwrap();
    let head = store.head_position().await.unwrap();
    let subscribed: Vec<_> = tokio::time::timeout(
        Duration::from_secs(30),
        store
            .subscribe(1)
            .take(usize::try_from(head).unwrap())
            .map(|e| e.unwrap())
            .collect::<Vec<_>>(),
    )
    .await
    .expect("every event delivered");
    let logged = store.read_all(1, head).await.unwrap();
    assert_eq!(subscribed.len(), logged.len());
    assert_eq!(subscribed, logged);
    let erased = subscribed
        .iter()
        .filter(|e| matches!(e.payload, vigil_eventstore::Payload::Erased))
        .count();
    assert_eq!(erased, 4, "the shredded subject's events open as erased");
}
