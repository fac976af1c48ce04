//! Shared fixtures and checks for this crate's own tests.

use std::collections::BTreeSet;
use std::fmt::Debug;

use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::aggregate::{Aggregate, DomainEvent, replay};

/// A deterministic UUID for fixtures.
pub fn uuid(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

/// Asserts every event survives a JSON round trip, that the serialized `type` tag is the
/// event's stable type name, and that `expected_variants` distinct variants were covered.
#[track_caller]
pub fn assert_events_round_trip<E>(events: &[E], expected_variants: usize)
where
    E: DomainEvent + Serialize + DeserializeOwned + PartialEq + Debug,
{
    let mut seen = BTreeSet::new();
    for event in events {
        let json = serde_json::to_value(event).unwrap();
        assert_eq!(
            json.get("type").and_then(|t| t.as_str()),
            Some(event.event_type()),
            "type tag of {event:?}"
        );
        assert!(event.schema_version() >= 1);
        let back: E = serde_json::from_value(json).unwrap();
        assert_eq!(&back, event);
        seen.insert(event.event_type());
    }
    assert_eq!(seen.len(), expected_variants, "variants covered: {seen:?}");
}

/// Runs `commands` one by one, keeping accepted events, then checks that replaying the
/// accepted history from scratch gives the same state, twice over.
#[track_caller]
pub fn assert_replay_is_deterministic<A: Aggregate>(commands: Vec<A::Command>) -> Vec<A::Event> {
    let mut state = A::State::default();
    let mut history = Vec::new();
    for command in commands {
        if let Ok(events) = A::decide(&state, command) {
            state = events.iter().fold(state, A::evolve);
            history.extend(events);
        }
    }
    let first = replay::<A>(&history);
    let second = replay::<A>(&history);
    assert_eq!(first, state);
    assert_eq!(second, state);
    history
}
