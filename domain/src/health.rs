//! The health log aggregate: LOINC-coded vital signs, one stream per user.
//!
//! Owns: the vital-sign catalog (codes, units, plausibility), exact value handling and the
//! record / correct / retract lifecycle of entries. Must not: interpret readings clinically
//! (no diagnoses, no alerts); it only refuses physically implausible input.

mod command;
mod decide;
mod error;
mod event;
mod state;
#[cfg(test)]
mod tests;
pub mod vitals;

pub use command::{HealthCommand, VitalReading};
pub use error::HealthError;
pub use event::{HealthEvent, VitalComponent};
pub use state::{HealthEntry, HealthLogState};
pub use vitals::{VITALS, VitalKind};

/// The health log aggregate.
#[derive(Debug, Clone, Copy, Default)]
pub struct HealthLog;

impl crate::aggregate::Aggregate for HealthLog {
    const NAME: &'static str = "health_log";
    type State = HealthLogState;
    type Command = HealthCommand;
    type Event = HealthEvent;
    type Error = HealthError;

    fn decide(state: &HealthLogState, command: HealthCommand) -> Result<Vec<HealthEvent>, HealthError> {
        decide::decide(state, command)
    }

    fn evolve(state: HealthLogState, event: &HealthEvent) -> HealthLogState {
        state.apply(event)
    }
}
