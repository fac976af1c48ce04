//! The dose log aggregate: doses taken or skipped against protocol items, one stream per
//! user.
//!
//! Owns: the taken / skipped / corrected / retracted lifecycle, injection sites, and the
//! pure adherence and next-due functions. Must not: look up protocols. The caller reads
//! the protocol in force and puts the item's compound in the command, so each dose event
//! is self-contained for level estimates.

pub mod adherence;
mod command;
mod decide;
mod error;
mod event;
mod site;
mod state;
#[cfg(test)]
mod tests;

pub use adherence::{AdherencePolicy, AdherenceReport, SlotOutcome, SlotStatus, adherence, next_due};
pub use command::DoseCommand;
pub use error::DoseLogError;
pub use event::{ActiveAmount, DoseEvent};
pub use site::{BodySide, InjectionSite, SiteArea};
pub use state::{DoseEntry, DoseLogState, DoseOutcome};

/// The dose log aggregate.
#[derive(Debug, Clone, Copy, Default)]
pub struct DoseLog;

impl crate::aggregate::Aggregate for DoseLog {
    const NAME: &'static str = "dose_log";
    type State = DoseLogState;
    type Command = DoseCommand;
    type Event = DoseEvent;
    type Error = DoseLogError;

    fn decide(state: &DoseLogState, command: DoseCommand) -> Result<Vec<DoseEvent>, DoseLogError> {
        decide::decide(state, command)
    }

    fn evolve(state: DoseLogState, event: &DoseEvent) -> DoseLogState {
        state.apply(event)
    }
}
