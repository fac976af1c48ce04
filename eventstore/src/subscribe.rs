//! `subscribe(from)`: an endless, ordered stream of committed events. It pages through the
//! log and, once caught up, sleeps until the head moves (in-process commits, or Postgres
//! NOTIFY from other processes), with a periodic re-poll as a safety net: after a second
//! without the head passing it, it reads the log once whatever the head says.

use std::collections::VecDeque;
use std::time::Duration;

use futures_util::Stream;

use crate::error::Result;
use crate::model::RecordedEvent;
use crate::store::EventStore;

const PAGE: u64 = 1_000;
/// A re-poll interval, in case a notification was lost (for example across a reconnect).
const REPOLL: Duration = Duration::from_secs(1);

struct Cursor {
    store: EventStore,
    head: tokio::sync::watch::Receiver<u64>,
    next: u64,
    buffer: VecDeque<RecordedEvent>,
    /// The head watch stayed below `next` for a whole [`REPOLL`]: read the log once anyway.
    repoll: bool,
}

impl EventStore {
    /// Streams every committed event from position `from` (inclusive) in order, then waits
    /// for new commits. Each event is yielded exactly once. An `Err` item reports a failed
    /// read; the stream can be polled again to retry from the same position.
    pub fn subscribe(&self, from: u64) -> impl Stream<Item = Result<RecordedEvent>> + Send + 'static + use<> {
        let cursor = Cursor {
            store: self.clone(),
            head: self.head_watch(),
            next: from.max(1),
            buffer: VecDeque::new(),
            repoll: true,
        };
        futures_util::stream::unfold(cursor, |mut c| async move {
            loop {
                if let Some(event) = c.buffer.pop_front() {
                    return Some((Ok(event), c));
                }
                let next = c.next;
                // Caught up to the head this process knows: wait for it to move rather than
                // ask the log for nothing. That empty read followed every commit, a round trip
                // on the projection runner's path to the next write's read models.
                if *c.head.borrow() < next && !c.repoll {
                    // A timeout just means re-poll; a closed watch means the store is gone.
                    match tokio::time::timeout(REPOLL, c.head.wait_for(|h| *h >= next)).await {
                        Ok(Ok(_)) => {}
                        Ok(Err(_closed)) => return None,
                        Err(_elapsed) => c.repoll = true,
                    }
                    continue;
                }
                c.repoll = false;
                match c.store.read_all_recent_first(c.next, PAGE).await {
                    Ok(events) if !events.is_empty() => {
                        c.next = events.last().map_or(c.next, |e| e.envelope.position + 1);
                        c.buffer.extend(events);
                    }
                    // Nothing past the head after all: the wait above, until it moves.
                    Ok(_) => {}
                    Err(e) => {
                        // Polled again, it retries the read at once.
                        c.repoll = true;
                        return Some((Err(e), c));
                    }
                }
            }
        })
    }
}
