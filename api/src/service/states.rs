//! Aggregate states remembered between commands, so a command reads only the events appended
//! since its stream was last seen instead of replaying (and decrypting) the whole stream.
//! Replaying a person's health stream was most of the CPU a `recordHealthLog` cost.
//!
//! Why a remembered state is always safe to start from: events are immutable and a stream
//! only grows, so a `(state, version)` pair folded from a stream's first `version` events stays
//! a correct prefix forever. A command reads the tail after `version` (usually nothing) and
//! appends with `Exact(version)`, so a write by another task or another server is caught by
//! the version check exactly as without the cache. The one thing that invalidates a prefix is
//! erasure, and then the store refuses the append anyway.
//!
//! Erasure: an erased person's states are decrypted personal data, so they are dropped the
//! moment this process's projection runner sees the erasure (a hook on the read cache).
//! Bounded: past `capacity` streams, everything is forgotten (the next commands replay).
//! Must not hold anything but folded states, and must not decide what a command does.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use uuid::Uuid;
use vigil_projections::streams::{StreamKind, kind_of};

/// Streams remembered at most.
pub const CAPACITY: usize = 20_000;

/// Remembered `(state, version)` per stream, type-erased because every aggregate has its own
/// state type; a lookup with the wrong type is a miss.
pub struct AggregateStates {
    inner: Mutex<HashMap<String, Entry>>,
    capacity: usize,
}

struct Entry {
    subject: Uuid,
    version: u64,
    state: Box<dyn Any + Send + Sync>,
}

impl Default for AggregateStates {
    fn default() -> Self {
        AggregateStates::with_capacity(CAPACITY)
    }
}

impl AggregateStates {
    /// Remembers at most `capacity` streams.
    pub fn with_capacity(capacity: usize) -> Self {
        AggregateStates {
            inner: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        // Plain map of independent entries: still consistent after a panic elsewhere.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Takes the remembered state of `stream` and its version out, if any: a command owns
    /// the state while it runs (a person's state can be large, and cloning it per command cost
    /// more than it saved) and puts the new one back. Another command on the same stream
    /// meanwhile simply replays.
    pub fn take<S: 'static>(&self, stream: &str) -> Option<(S, u64)> {
        let entry = self.lock().remove(stream)?;
        let state = entry.state.downcast::<S>().ok()?;
        Some((*state, entry.version))
    }

    /// Remembers `state` as `stream`'s state at `version`, unless a newer one is known (two
    /// commands on one stream may finish in either order). Only streams of health data are
    /// remembered: credentials (a password hash) and accounts (an email) change rarely, and
    /// the fewer copies of those the better.
    pub fn put<S: Send + Sync + 'static>(&self, stream: &str, subject: Uuid, state: S, version: u64) {
        if !matches!(
            kind_of(stream),
            StreamKind::Protocol | StreamKind::Doses | StreamKind::Health | StreamKind::Bloodwork
        ) {
            return;
        }
        let mut inner = self.lock();
        if inner.get(stream).is_some_and(|e| e.version > version) {
            return;
        }
        if inner.len() >= self.capacity && !inner.contains_key(stream) {
            inner.clear();
        }
        inner.insert(
            stream.to_owned(),
            Entry {
                subject,
                version,
                state: Box::new(state),
            },
        );
    }

    /// Forgets every stream sealed under `subject`'s key.
    pub fn forget_subject(&self, subject: Uuid) {
        self.lock().retain(|_, e| e.subject != subject);
    }

    /// Streams remembered.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_comes_back_once_with_its_version_and_only_as_its_own_type() {
        let states = AggregateStates::default();
        states.put("health-1", Uuid::nil(), vec![1u8, 2], 2);
        assert_eq!(states.take::<Vec<u8>>("health-1"), Some((vec![1, 2], 2)));
        assert_eq!(states.take::<Vec<u8>>("health-1"), None, "taken means gone");
        states.put("health-1", Uuid::nil(), vec![1u8, 2], 2);
        assert_eq!(states.take::<String>("health-1"), None);
        assert_eq!(states.take::<Vec<u8>>("health-2"), None);
    }

    #[test]
    fn an_older_state_never_replaces_a_newer_one() {
        let states = AggregateStates::default();
        states.put("health-1", Uuid::nil(), 5u32, 5);
        states.put("health-1", Uuid::nil(), 3u32, 3);
        assert_eq!(states.take::<u32>("health-1"), Some((5, 5)));
    }

    #[test]
    fn credentials_and_accounts_are_never_remembered() {
        let states = AggregateStates::default();
        states.put("credentials-1", Uuid::nil(), 1u8, 1);
        states.put("account-1", Uuid::nil(), 1u8, 1);
        assert_eq!(states.len(), 0);
    }

    #[test]
    fn forgetting_a_subject_drops_only_its_streams() {
        let states = AggregateStates::default();
        let (erased, bystander) = (Uuid::from_u128(1), Uuid::from_u128(2));
        states.put("health-a", erased, 1u8, 1);
        states.put("protocol-a", erased, 1u8, 1);
        states.put("health-b", bystander, 1u8, 1);
        states.forget_subject(erased);
        assert_eq!(states.len(), 1);
        assert!(states.take::<u8>("health-b").is_some());
    }

    #[test]
    fn past_capacity_everything_is_forgotten_rather_than_growing() {
        let states = AggregateStates::with_capacity(2);
        states.put("health-a", Uuid::nil(), 1u8, 1);
        states.put("health-b", Uuid::nil(), 1u8, 1);
        states.put("health-a", Uuid::nil(), 2u8, 2);
        assert_eq!(states.len(), 2);
        states.put("health-c", Uuid::nil(), 1u8, 1);
        assert_eq!(states.len(), 1);
    }
}
