//! Caps on WebSocket use, per server: open connections per person, and subscriptions per
//! connection. A socket's resources (a subscription holds a stream reading the log) must not
//! be multiplied at will by one token.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use uuid::Uuid;

/// Open sockets one person may hold on one server.
pub const CONNECTIONS_PER_PERSON: usize = 10;
/// Subscriptions one socket may run at once.
pub const SUBSCRIPTIONS_PER_CONNECTION: usize = 20;

/// Open sockets per person.
#[derive(Default)]
pub struct Connections {
    open: Mutex<HashMap<Uuid, usize>>,
}

/// One open socket of a person; dropping it closes the slot.
pub struct Slot {
    connections: Arc<Connections>,
    person: Uuid,
}

impl Connections {
    /// Takes a slot for `person`, or `None` when they hold [`CONNECTIONS_PER_PERSON`].
    pub fn enter(self: &Arc<Self>, person: Uuid) -> Option<Slot> {
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = open.entry(person).or_default();
        if *n >= CONNECTIONS_PER_PERSON {
            return None;
        }
        *n += 1;
        Some(Slot {
            connections: Arc::clone(self),
            person,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self
            .connections
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.person) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.person);
            }
        }
    }
}

/// Running subscriptions of one socket.
#[derive(Default, Clone)]
pub struct Subscriptions(Arc<AtomicUsize>);

/// One running subscription; dropping it (the stream ended or was stopped) frees the place.
pub struct Running(Arc<AtomicUsize>);

impl Subscriptions {
    /// A place for one more, or `None` at [`SUBSCRIPTIONS_PER_CONNECTION`].
    pub fn start(&self) -> Option<Running> {
        self.0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < SUBSCRIPTIONS_PER_CONNECTION).then_some(n + 1)
            })
            .ok()
            .map(|_| Running(Arc::clone(&self.0)))
    }

    /// How many run now.
    pub fn active(&self) -> usize {
        self.0.load(Ordering::Acquire)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_capped_and_come_back() {
        let connections = Arc::new(Connections::default());
        let person = Uuid::new_v4();
        let slots: Vec<Slot> = (0..CONNECTIONS_PER_PERSON)
            .filter_map(|_| connections.enter(person))
            .collect();
        assert_eq!(slots.len(), CONNECTIONS_PER_PERSON);
        assert!(connections.enter(person).is_none());
        assert!(connections.enter(Uuid::new_v4()).is_some(), "per person");
        drop(slots);
        assert!(connections.enter(person).is_some());
        let subs = Subscriptions::default();
        let running: Vec<Running> = (0..SUBSCRIPTIONS_PER_CONNECTION).filter_map(|_| subs.start()).collect();
        assert!(subs.start().is_none());
        drop(running);
        assert!(subs.start().is_some());
    }
}
