//! The subscriptions' feed: ONE follower of the log per process, routing each new event to
//! the subscriptions of the person it belongs to, once the read models include it (so a
//! client that refetches on a notice sees the change).
//!
//! Owns: the routing table (person → their open subscriptions), the follower task and each
//! subscription's bounded queue. Must not: open payloads (it routes by envelope: subject,
//! stream and type, so nobody's health data is decrypted to serve someone else's socket),
//! read the log while nobody subscribes, or let one slow subscription hold up the others: a
//! full queue ends that subscription with `SUBSCRIPTION_OVERFLOW`, and its client
//! resubscribes and refetches.
//!
//! Why one follower: a subscription that tailed the log itself held a reader, a page buffer
//! and (under load) a database connection each, and decrypted every person's events to find
//! its own; 600 of them took the server from 88 MB to 1.5 GB. Here a subscription costs a
//! routing entry and a queue of at most [`QUEUE`] small notices.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use futures_util::Stream;
use tokio::sync::{mpsc, watch};
use uuid::Uuid;
use vigil_eventstore::{Envelope, EventStore};

#[cfg(test)]
mod tests;

/// Notices a subscription may hold unread before it is ended.
pub const QUEUE: usize = 256;
/// Envelopes read per page while catching up to the read models.
const PAGE: u64 = 1_000;

/// One new event of a person's, as a subscription tells it.
#[derive(Debug, Clone)]
pub struct Notice {
    /// Global position.
    pub position: u64,
    /// The stream it was appended to.
    pub stream_id: String,
    /// Its type, e.g. `VitalRecorded`.
    pub event_type: String,
}

/// What a subscription stream yields: a notice, or the end because its queue overflowed.
#[derive(Debug, Clone)]
pub enum Delivery {
    /// The next event.
    Event(Notice),
    /// The subscription fell [`QUEUE`] notices behind and was ended.
    Overflowed,
}

/// The process's feed; cheap to clone.
#[derive(Clone)]
pub struct Feed {
    shared: Arc<Shared>,
    head: watch::Receiver<u64>,
}

struct Shared {
    routes: Mutex<Routes>,
}

#[derive(Default)]
struct Routes {
    next_id: u64,
    by_subject: HashMap<Uuid, Vec<Route>>,
}

struct Route {
    id: u64,
    /// First position this subscription wants (events committed before it opened are not
    /// news to it).
    from: u64,
    queue: mpsc::Sender<Notice>,
    overflowed: Arc<AtomicBool>,
}

impl Shared {
    fn routes(&self) -> std::sync::MutexGuard<'_, Routes> {
        // Plain maps: a panic elsewhere leaves them usable.
        self.routes.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn route(&self, envelope: &Envelope) {
        let mut routes = self.routes();
        let Some(list) = routes.by_subject.get_mut(&envelope.subject) else {
            return;
        };
        list.retain(|route| {
            if envelope.position < route.from {
                return true;
            }
            let notice = Notice {
                position: envelope.position,
                stream_id: envelope.stream_id.clone(),
                event_type: envelope.event_type.clone(),
            };
            match route.queue.try_send(notice) {
                Ok(()) => true,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    route.overflowed.store(true, Ordering::Release);
                    false
                }
                Err(mpsc::error::TrySendError::Closed(_)) => false,
            }
        });
        if list.is_empty() {
            routes.by_subject.remove(&envelope.subject);
        }
    }
}

impl Feed {
    /// Starts the follower: it wakes when the read models (`reached`) move and, while anyone
    /// subscribes, reads the envelopes in between and routes them. It stops with the last
    /// clone of the feed, or when the projection runner is gone.
    pub fn start(store: EventStore, reached: watch::Receiver<u64>) -> Feed {
        let shared = Arc::new(Shared {
            routes: Mutex::new(Routes::default()),
        });
        let head = store.head_watch();
        tokio::spawn(follow(Arc::downgrade(&shared), store, reached));
        Feed { shared, head }
    }

    /// Opens a subscription to `subject`'s events committed from now on.
    pub fn follow(&self, subject: Uuid) -> impl Stream<Item = Delivery> + Send + 'static + use<> {
        let (queue, receiver) = mpsc::channel(QUEUE);
        let overflowed = Arc::new(AtomicBool::new(false));
        let from = *self.head.borrow() + 1;
        let id = {
            let mut routes = self.shared.routes();
            routes.next_id += 1;
            let id = routes.next_id;
            routes.by_subject.entry(subject).or_default().push(Route {
                id,
                from,
                queue,
                overflowed: overflowed.clone(),
            });
            id
        };
        let ticket = Ticket {
            shared: Arc::downgrade(&self.shared),
            subject,
            id,
        };
        futures_util::stream::unfold(
            (receiver, overflowed, Some(ticket)),
            |(mut receiver, overflowed, ticket)| async move {
                let ticket = ticket?;
                match receiver.recv().await {
                    Some(notice) => Some((Delivery::Event(notice), (receiver, overflowed, Some(ticket)))),
                    None if overflowed.load(Ordering::Acquire) => {
                        Some((Delivery::Overflowed, (receiver, overflowed, None)))
                    }
                    None => None,
                }
            },
        )
    }
}

/// Removes a subscription's route when its stream is dropped (the client stopped it, or the
/// socket closed), so nothing is kept for a subscriber that left.
struct Ticket {
    shared: Weak<Shared>,
    subject: Uuid,
    id: u64,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let Some(shared) = self.shared.upgrade() else {
            return;
        };
        let mut routes = shared.routes();
        if let Some(list) = routes.by_subject.get_mut(&self.subject) {
            list.retain(|route| route.id != self.id);
            if list.is_empty() {
                routes.by_subject.remove(&self.subject);
            }
        }
    }
}

async fn follow(shared: Weak<Shared>, store: EventStore, mut reached: watch::Receiver<u64>) {
    let mut published = *reached.borrow_and_update();
    let mut backoff = Duration::from_millis(100);
    loop {
        if reached.changed().await.is_err() {
            return;
        }
        let target = *reached.borrow_and_update();
        let Some(feed) = shared.upgrade() else {
            return;
        };
        // Nobody listens: skip ahead without reading. (A rebuild moves `reached` back; what
        // was published stays published.)
        if target <= published || feed.routes().by_subject.is_empty() {
            published = published.max(target);
            continue;
        }
        while published < target {
            match store.read_envelopes(published + 1, PAGE.min(target - published)).await {
                Ok(envelopes) if envelopes.is_empty() => break,
                Ok(envelopes) => {
                    backoff = Duration::from_millis(100);
                    for envelope in envelopes.iter().take_while(|e| e.position <= target) {
                        feed.route(envelope);
                        published = envelope.position;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the subscriptions' feed cannot read the log; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
    }
}
