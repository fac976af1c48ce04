//! The protocol aggregate: a named, versioned set of items.
//!
//! Owns: item rules (compound, dose, route, schedule), frequency notation, versioning with
//! effective dates ("which protocol was in force on that date?"), pause, resume and end.
//! Must not: record doses (the dose log does) or estimate levels (see [`crate::levels`]).

mod command;
mod decide;
pub mod dose;
mod error;
mod event;
pub mod frequency;
mod item;
mod state;
#[cfg(test)]
mod tests;

pub use command::{ItemOrigin, ItemSpec, ProtocolCommand};
pub use error::{ItemProblem, ProtocolError};
pub use event::ProtocolEvent;
pub use item::ProtocolItem;
pub use state::{ProtocolState, ProtocolStatus, ProtocolVersion, StatusChange};

/// The protocol aggregate.
#[derive(Debug, Clone, Copy, Default)]
pub struct Protocol;

impl crate::aggregate::Aggregate for Protocol {
    const NAME: &'static str = "protocol";
    type State = ProtocolState;
    type Command = ProtocolCommand;
    type Event = ProtocolEvent;
    type Error = ProtocolError;

    fn decide(state: &ProtocolState, command: ProtocolCommand) -> Result<Vec<ProtocolEvent>, ProtocolError> {
        decide::decide(state, command)
    }

    fn evolve(state: ProtocolState, event: &ProtocolEvent) -> ProtocolState {
        state.apply(event)
    }
}
