//! The bloodwork aggregate: lab panels, one stream per user.
//!
//! Owns: the marker catalog, LOINC checks, conversion to canonical and SI units, H/L/HH/LL
//! flags, and the record / correct / retract lifecycle of panels. Must not: give medical
//! advice; flags compare against printed or typical ranges only.

pub mod catalog;
mod command;
mod decide;
mod error;
mod event;
pub mod flag;
mod interpret;
pub mod loinc;
mod state;
#[cfg(test)]
mod tests;

pub use catalog::{Marker, MarkerDef};
pub use command::{BloodworkCommand, ResultInput};
pub use error::BloodworkError;
pub use event::{BloodworkEvent, MarkerRef, Quantity, RecordedResult};
pub use flag::{Flag, LabRange, RangeBasis};
pub use state::{BloodworkState, Panel};

/// The bloodwork aggregate.
#[derive(Debug, Clone, Copy, Default)]
pub struct Bloodwork;

impl crate::aggregate::Aggregate for Bloodwork {
    const NAME: &'static str = "bloodwork";
    type State = BloodworkState;
    type Command = BloodworkCommand;
    type Event = BloodworkEvent;
    type Error = BloodworkError;

    fn decide(state: &BloodworkState, command: BloodworkCommand) -> Result<Vec<BloodworkEvent>, BloodworkError> {
        decide::decide(state, command)
    }

    fn evolve(state: BloodworkState, event: &BloodworkEvent) -> BloodworkState {
        state.apply(event)
    }
}
