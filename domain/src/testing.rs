//! Given/when/then helper for aggregate tests.
//!
//! Owns: a tiny, runtime-free test harness (`given(events).when(command).then_…`).
//! Must not: be used by production code; it is compiled only for tests or with the
//! `testing` feature, for other crates' test suites.

// A failed expectation must fail the calling test, and panicking is how a test fails.
#![allow(clippy::panic)]

use crate::aggregate::{Aggregate, replay};

/// Starts a scenario from already-accepted history.
pub fn given<A: Aggregate>(history: impl IntoIterator<Item = A::Event>) -> Given<A> {
    let history: Vec<A::Event> = history.into_iter().collect();
    Given {
        state: replay::<A>(&history),
    }
}

/// A scenario with its history applied.
pub struct Given<A: Aggregate> {
    state: A::State,
}

impl<A: Aggregate> Given<A> {
    /// Runs `command` against the history.
    pub fn when(self, command: A::Command) -> Then<A> {
        Then {
            result: A::decide(&self.state, command),
            state: self.state,
        }
    }

    /// The replayed state, for assertions on queries.
    pub fn state(&self) -> &A::State {
        &self.state
    }
}

/// The outcome of a scenario, to be asserted.
pub struct Then<A: Aggregate> {
    state: A::State,
    result: Result<Vec<A::Event>, A::Error>,
}

impl<A: Aggregate> Then<A> {
    /// Asserts the command was accepted with exactly `expected`; returns the new state.
    #[track_caller]
    pub fn then_events(self, expected: impl IntoIterator<Item = A::Event>) -> A::State {
        let expected: Vec<A::Event> = expected.into_iter().collect();
        match self.result {
            Ok(events) => {
                assert_eq!(events, expected, "unexpected events");
                events.iter().fold(self.state, A::evolve)
            }
            Err(error) => {
                panic!("expected {expected:?}, command was rejected with {error:?}")
            }
        }
    }

    /// Asserts the command was accepted and returns the events for closer inspection.
    #[track_caller]
    pub fn then_accepted(self) -> Vec<A::Event> {
        match self.result {
            Ok(events) => events,
            Err(error) => {
                panic!("expected acceptance, command was rejected with {error:?}")
            }
        }
    }

    /// The raw outcome, for pattern-matching assertions.
    pub fn into_result(self) -> Result<Vec<A::Event>, A::Error> {
        self.result
    }

    /// Asserts the command was rejected with exactly `expected`.
    #[track_caller]
    pub fn then_rejected(self, expected: A::Error) {
        match self.result {
            Ok(events) => panic!("expected rejection {expected:?}, got events {events:?}"),
            Err(error) => assert_eq!(error, expected, "unexpected rejection"),
        }
    }
}
